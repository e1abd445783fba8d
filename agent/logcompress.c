/* logcompress.c — the agent's share of container log rotation (the shim
 * rotates and prunes as it writes, shim_log.c): every 10 s, off the loop,
 * it compresses the rotated files but the newest of every log under the
 * pod log directory, as the kubelet's log manager does. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/podlogs.h"
#include "lib/log.h"

#define COMPRESS_EVERY_MS 10000

static bool is_live_log(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".log") == 0;
}

/* DIR/<ns>_<pod>_<uid>/<container>/<n>.log */
static void compress_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4200];

    if (d == NULL) return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (depth < 2) compress_dir(path, depth + 1);
        else if (is_live_log(e->d_name) && podlogs_compress(path) != 0)
            log_warn(AGENT_LOG, "compressing the rotated logs of %s failed", path);
    }
    closedir(d);
}

static void compress_work(uv_work_t *w)
{
    struct agent *a = w->data;
    compress_dir(a->pod_log_dir, 0);
}

static void on_timer(uv_timer_t *t);

static void after_compress(uv_work_t *w, int status)
{
    struct agent *a = w->data;

    (void)status;
    a->logs_working = false;
    if (!a->stopping) uv_timer_start(&a->logs_timer, on_timer, COMPRESS_EVERY_MS, 0);
    agent_release(a);
}

static void on_timer(uv_timer_t *t)
{
    struct agent *a = t->data;

    if (a->stopping || a->logs_working) return;
    a->logs_work.data = a;
    agent_hold(a);
    if (uv_queue_work(a->loop, &a->logs_work, compress_work, after_compress) != 0) {
        agent_release(a);
        uv_timer_start(&a->logs_timer, on_timer, COMPRESS_EVERY_MS, 0);
        return;
    }
    a->logs_working = true;
}

void agent_logs_start(struct agent *a)
{
    uv_timer_init(a->loop, &a->logs_timer);
    a->logs_timer.data = a;
    a->logs_started = true;
    uv_timer_start(&a->logs_timer, on_timer, COMPRESS_EVERY_MS, 0);
}

static void timer_closed(uv_handle_t *h) { agent_release(h->data); }

void agent_logs_stop(struct agent *a)
{
    if (!a->logs_started) return;
    a->logs_started = false;
    uv_timer_stop(&a->logs_timer);
    agent_hold(a);
    uv_close((uv_handle_t *)&a->logs_timer, timer_closed);
}
