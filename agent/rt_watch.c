/* rt_watch.c — noticing that a container exited: the shim renames exit.json
 * into the container's directory, which an inotify watch (uv_fs_event)
 * reports at once; a timer polls too, for hosts out of inotify watches and
 * for shims that died without writing it. Works the same for containers
 * an earlier agent process started. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define POLL_MS 1000      /* every container has a watch: a safety net */
#define POLL_FAST_MS 100  /* some container has none */

struct watch {
    uv_fs_event_t h;
    rt *r;
    struct rt_ctr *c; /* NULL once stopped */
};

/* ---- notification ---- */

static void notify(void *arg)
{
    char *id = arg;
    struct rt_ctr *c = NULL;
    rt *r;

    memcpy(&r, id, sizeof r);
    c = rt_ctr_find(r, id + sizeof r);
    if (c && !c->notified && c->state == RT_EXITED) {
        /* any callback may rt_remove the container: look it up again */
        c->notified = true;
        rt_logs_exited(r, c->log_path);
        if (r->exit_cb) r->exit_cb(r->exit_arg, id + sizeof r);
        if ((c = rt_ctr_find(r, id + sizeof r)) != NULL) rt_stops_exited(r, c);
    }
    free(id);
}

/* From the loop, never inside the caller (rt_status may have found it):
 * by id, since the container may be removed meanwhile. */
static void schedule_notify(rt *r, struct rt_ctr *c)
{
    char *box = malloc(sizeof r + strlen(c->id) + 1);

    if (box == NULL) return; /* the poll finds it again: c->notified stays false */
    memcpy(box, &r, sizeof r);
    strcpy(box + sizeof r, c->id);
    if (rt_later(r, notify, box) != 0) free(box);
}

/* A shim that died without exit.json: its container's exit status is lost. */
static void shim_lost(rt *r, struct rt_ctr *c)
{
    char path[RT_PATH], ts[RT_TIME_LEN];
    int64_t now = rt_now_ns();
    json_t *e;

    if (c->disk.pid > 0 && rt_pid_alive(c->disk.pid, c->disk.pid_start)) return; /* still runs */
    rt_time_fmt(now, ts);
    e = json_pack("{s:i, s:b, s:s, s:I, s:I, s:s}", "exitCode", 255, "oomKilled", 0, "finishedAt", ts,
                  "finishedNs", (json_int_t)now, "startedNs", (json_int_t)c->disk.started_ns, "reason",
                  "the container's shim died");
    if (e && rt_path(path, "%s/exit.json", c->dir) == 0 && rt_write_json(path, e) == 0)
        log_warn(RT_LOG, "container %s: its shim died; recorded exit code 255", c->id);
    json_decref(e);
    rt_disk_state_read(c->dir, &c->disk);
    (void)r;
}

void rt_watch_check(rt *r, struct rt_ctr *c)
{
    if (c->state == RT_EXITED) return;
    rt_disk_state_read(c->dir, &c->disk);
    if (!c->disk.has_exit && !c->starting && c->disk.shim_pid > 0
        && !rt_pid_alive(c->disk.shim_pid, c->disk.shim_start)) {
        rt_disk_state_read(c->dir, &c->disk); /* it may have finished just now */
        if (!c->disk.has_exit) shim_lost(r, c);
    }
    if (!c->disk.has_exit) {
        if (c->disk.pid > 0 && !c->starting) c->state = RT_RUNNING;
        return;
    }
    c->state = RT_EXITED;
    rt_watch_stop(r, c);
    if (c->starting) c->exit_pending = true;
    else schedule_notify(r, c);
}

void rt_watch_started(rt *r, struct rt_ctr *c)
{
    if (c->exit_pending) {
        c->exit_pending = false;
        schedule_notify(r, c);
    } else {
        rt_watch_check(r, c);
    }
}

/* ---- inotify ---- */

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct watch *w = h->data;

    (void)events;
    if (w->c == NULL || status < 0) return;
    if (filename == NULL || strcmp(filename, "exit.json") == 0) rt_watch_check(w->r, w->c);
}

static void on_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    rt *r = w->r;

    free(w);
    rt_unref(r);
}

int rt_watch_start(rt *r, struct rt_ctr *c)
{
    struct watch *w;

    if (c->watch) return 0;
    if ((w = calloc(1, sizeof *w)) == NULL) return ORC_ENOMEM; /* the poll covers it */
    w->r = r;
    w->c = c;
    w->h.data = w;
    uv_fs_event_init(r->loop, &w->h);
    rt_ref_hold(r);
    if (uv_fs_event_start(&w->h, on_event, c->dir, 0) != 0) {
        log_debug(RT_LOG, "no inotify watch for %s: polling", c->dir);
        uv_close((uv_handle_t *)&w->h, on_closed);
        return 0;
    }
    c->watch = &w->h;
    return 0;
}

void rt_watch_stop(rt *r, struct rt_ctr *c)
{
    struct watch *w;

    (void)r;
    if (c->watch == NULL) return;
    w = c->watch->data;
    w->c = NULL;
    c->watch = NULL;
    uv_close((uv_handle_t *)&w->h, on_closed);
}

/* ---- the poll ---- */

/* Cheap enough for every container every second: a stat and a /proc read. */
static bool worth_a_look(struct rt_ctr *c)
{
    char path[RT_PATH];

    if (c->disk.shim_pid <= 0) return true; /* not known yet: read state.json */
    if (rt_path(path, "%s/exit.json", c->dir) == 0 && access(path, F_OK) == 0) return true;
    return !rt_pid_alive(c->disk.shim_pid, c->disk.shim_start);
}

static void on_poll(uv_timer_t *t)
{
    rt *r = t->data;
    bool unwatched = false;

    for (struct rt_ctr *c = r->ctrs; c; c = c->next) {
        if (c->state == RT_EXITED || c->starting) continue;
        if (worth_a_look(c)) rt_watch_check(r, c);
        unwatched |= c->state != RT_EXITED && c->watch == NULL;
    }
    uv_timer_start(t, on_poll, unwatched ? POLL_FAST_MS : POLL_MS, 0);
}

int rt_poll_start(rt *r)
{
    return uv_timer_start(&r->poll, on_poll, POLL_FAST_MS, 0) == 0 ? 0 : ORC_EIO;
}

void rt_on_exit(rt *r, void (*cb)(void *arg, const char *id), void *arg)
{
    r->exit_cb = cb;
    r->exit_arg = arg;
}
