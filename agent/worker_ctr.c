/* worker_ctr.c — one container of a pod: its image pull (with the
 * kubelet's ErrImagePull / ImagePullBackOff), each run (env, process,
 * mounts, limits, user), exits with restart back-off, probes (a failing
 * liveness or startup probe restarts it) and stops with preStop hooks.
 * Run N of container C of pod U is the runtime container "U-C-N"; the
 * current and the previous run are kept (logs --previous, lastState). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/podlogs.h"
#include "agent/pullsecret.h"
#include "agent/volume.h"
#include "agent/worker_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define CONFIG_RETRY_MS 10000

void ctr_id(const struct ctr *c, int run, char *out, size_t n)
{
    snprintf(out, n, "%s-%s-%d", c->w->uid, c->name, run);
}

void ctr_log_path(const struct ctr *c, int run, char *out, size_t n)
{
    /* never the root directory: an agent without its log dir runs nothing */
    if (c->w->a->pod_log_dir[0] == '\0'
        || podlogs_file(c->w->a->pod_log_dir, c->w->ns, c->w->name, c->w->uid, c->name, run, out, n) != 0)
        out[0] = '\0';
}

void ctr_log_link(const struct ctr *c, int run, char *out, size_t n)
{
    char id[CTR_ID_LEN];

    ctr_id(c, run, id, sizeof id);
    if (c->w->a->ctr_log_dir[0] == '\0'
        || podlogs_link_path(c->w->a->ctr_log_dir, c->w->ns, c->w->name, c->name, id, out, n) != 0)
        out[0] = '\0';
}

void ctr_old_log_path(const struct ctr *c, int run, char *out, size_t n)
{
    snprintf(out, n, "%s/logs/%s/%d.log", c->w->dir, c->name, run);
}

static void set_reason(struct ctr *c, const char *reason, const char *msg)
{
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    snprintf(c->message, sizeof c->message, "%s", msg ? msg : "");
}

static uint64_t now_ms(const struct ctr *c) { return worker_now(c->w); }

static void set_run_image(struct ctr *c, const char *image)
{
    free(c->run_image);
    c->run_image = image ? strdup(image) : NULL;
}

/* ---- back-off ---- */

static uint64_t next_backoff(uint64_t cur)
{
    if (cur == 0) return BACKOFF_BASE_MS;
    return cur * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : cur * 2;
}

/* The first restart is immediate, then 10 s doubling to 5 min, forgotten
 * after 10 min of running (the kubelet's rules). */
static void arm_backoff(struct ctr *c)
{
    uint64_t now = now_ms(c);

    if (c->run_since_ms && now - c->run_since_ms >= BACKOFF_RESET_MS) c->backoff_ms = 0;
    c->backoff_until = now + c->backoff_ms;
    c->backoff_shown_ms = c->backoff_ms;
    c->backoff_ms = next_backoff(c->backoff_ms);
}

bool ctr_should_restart(const struct ctr *c)
{
    const char *p = worker_restart_policy(c->w);

    if (strcmp(p, "Never") == 0) return false;
    if (strcmp(p, "OnFailure") == 0) return c->exited.exit_code != 0;
    return true;
}

/* ---- probes ---- */

static void restart_for_probe(struct ctr *c, const char *which, const char *msg)
{
    int64_t g = 30;

    log_info(AGENT_LOG, "pod %s/%s container %s failed its %s probe (%s): restarting", c->w->ns,
             c->w->name, c->name, which, msg ? msg : "");
    worker_event(c->w, c, false, "Killing", "Container %s failed %s probe, will be restarted", c->name, which);
    orc_json_int(c->w->pod, "spec.terminationGracePeriodSeconds", &g);
    if (c->st == CS_RUNNING && !c->killing) ctr_kill(c, g < 0 ? 0 : (unsigned)g, false);
}

static void on_live(void *arg, enum probe_result res, const char *msg)
{
    struct ctr *c = arg;

    if (res != PROBE_FAILURE) return;
    worker_event(c->w, c, true, "Unhealthy", "Liveness probe failed: %s", msg ? msg : "");
    restart_for_probe(c, "liveness", msg);
}

static void on_ready(void *arg, enum probe_result res, const char *msg)
{
    struct ctr *c = arg;
    c->is_ready = res == PROBE_SUCCESS;
    if (res == PROBE_FAILURE)
        worker_event(c->w, c, true, "Unhealthy", "Readiness probe failed: %s", msg ? msg : "");
    worker_sync_soon(c->w);
}

static int start_probe(struct ctr *c, const char *field, probe **out,
                       void (*cb)(void *, enum probe_result, const char *))
{
    const json_t *spec = json_object_get(c->spec, field);
    struct probe_target t = {&c->w->a->rt, c->id, c->w->pod_ip, c->spec};
    char err[256] = "";

    if (!json_is_object(spec)) return 0;
    if (probe_start(c->w->a->loop, c->w->a->clock, spec, &t, cb, c, out, err) != 0) {
        log_warn(AGENT_LOG, "pod %s/%s container %s: %s: %s", c->w->ns, c->w->name, c->name, field, err);
        return ORC_EINVAL;
    }
    return 1;
}

static void start_live_ready(struct ctr *c)
{
    c->started = true;
    start_probe(c, "livenessProbe", &c->live, on_live);
    if (start_probe(c, "readinessProbe", &c->ready, on_ready) != 1) c->is_ready = true;
}

static void on_startup(void *arg, enum probe_result res, const char *msg)
{
    struct ctr *c = arg;

    if (res == PROBE_FAILURE) {
        worker_event(c->w, c, true, "Unhealthy", "Startup probe failed: %s", msg ? msg : "");
        restart_for_probe(c, "startup", msg);
        return;
    }
    if (res != PROBE_SUCCESS) return;
    probe_stop(c->startup);
    c->startup = NULL;
    start_live_ready(c);
    worker_sync_soon(c->w);
}

void ctr_start_probes(struct ctr *c)
{
    if (c->probes_on || c->st != CS_RUNNING || c->init) return;
    c->probes_on = true;
    if (start_probe(c, "startupProbe", &c->startup, on_startup) != 1) start_live_ready(c);
}

void ctr_stop_probes(struct ctr *c)
{
    probe **ps[] = {&c->live, &c->ready, &c->startup};

    for (size_t i = 0; i < ORC_ARRAY_LEN(ps); i++) {
        if (*ps[i]) probe_stop(*ps[i]);
        *ps[i] = NULL;
    }
    c->probes_on = false;
}

/* ---- exits ---- */

static void read_exit(struct ctr *c, const char *id, struct ctr_exit *e)
{
    struct rt_status st;

    memset(e, 0, sizeof *e);
    e->set = true;
    e->exit_code = 255;
    snprintf(e->id, sizeof e->id, "%s", id);
    if (rth_status(&c->w->a->rt, id, &st) != 0) return;
    e->exit_code = st.state == RT_EXITED ? st.exit_code : 255;
    e->oom = st.oom_killed;
    e->started_ns = st.started_ns;
    e->finished_ns = st.finished_ns;
}

void ctr_exited(struct ctr *c, const char *id)
{
    if (strcmp(id, c->id) != 0 || c->st != CS_RUNNING) return;
    read_exit(c, id, &c->exited);
    c->st = CS_EXITED;
    c->is_ready = c->started = false;
    ctr_stop_probes(c);
    arm_backoff(c);
    if (c->respawn) c->backoff_ms = c->backoff_until = 0;
    log_info(AGENT_LOG, "pod %s/%s container %s exited with %d%s", c->w->ns, c->w->name, c->name,
             c->exited.exit_code, c->exited.oom ? " (OOM-killed)" : "");
    worker_sync_soon(c->w);
}

/* ---- adoption after an agent restart ---- */

static int run_of(const struct ctr *c, const char *id)
{
    size_t ul = strlen(c->w->uid), nl = strlen(c->name);
    char *end;
    long r;

    if (strncmp(id, c->w->uid, ul) != 0 || id[ul] != '-' || strncmp(id + ul + 1, c->name, nl) != 0
        || id[ul + 1 + nl] != '-')
        return -1;
    r = strtol(id + ul + nl + 2, &end, 10);
    return *end || r < 0 || r > 1000000 ? -1 : (int)r;
}

void ctr_adopt(struct ctr *c, char **ids, size_t n)
{
    struct rt_status st;
    int max = -1;

    for (size_t i = 0; i < n; i++) {
        int r = run_of(c, ids[i]);
        if (r > max) max = r;
    }
    if (max < 0) return;
    for (size_t i = 0; i < n; i++) { /* only the last two runs are kept */
        int r = run_of(c, ids[i]);
        if (r >= 0 && r < max - 1) rth_remove(&c->w->a->rt, ids[i]);
    }
    c->run = max;
    c->ever_ran = true;
    set_run_image(c, orc_json_str(c->spec, "image"));
    ctr_id(c, max, c->id, sizeof c->id);
    if (max > 0) {
        char prev[CTR_ID_LEN];
        ctr_id(c, max - 1, prev, sizeof prev);
        read_exit(c, prev, &c->previous);
    }
    if (rth_status(&c->w->a->rt, c->id, &st) == 0 && st.state == RT_RUNNING) {
        c->st = CS_RUNNING;
        c->started_ns = st.started_ns;
        c->run_since_ms = now_ms(c);
        log_info(AGENT_LOG, "pod %s/%s container %s: adopted the running %s", c->w->ns, c->w->name,
                 c->name, c->id);
    } else {
        read_exit(c, c->id, &c->exited);
        c->st = CS_EXITED;
    }
}

void ctr_remove_runs(struct ctr *c)
{
    char id[CTR_ID_LEN];

    if (!c->ever_ran) return;
    rth_remove(&c->w->a->rt, c->id);
    if (c->run > 0) {
        ctr_id(c, c->run - 1, id, sizeof id);
        rth_remove(&c->w->a->rt, id);
    }
}

/* ---- stopping ---- */

static void on_stopped(void *arg, int err)
{
    struct ctr *c = arg;
    struct worker *w = c->w;

    c->killing = false;
    if (err != ORC_ECANCELED && !w->shut && c->st == CS_RUNNING) ctr_exited(c, c->id);
    worker_put(w);
}

static void stop_now(struct ctr *c, unsigned grace_s)
{
    worker_hold(c->w);
    if (rth_stop(&c->w->a->rt, c->id, grace_s, on_stopped, c) != 0) on_stopped(c, ORC_ENOENT);
}

struct hook_op {
    struct ctr *c;
    unsigned grace_s;
    uint64_t began;
};

static void on_prestop(void *arg, int err, int code, const char *out, size_t out_len,
                       const char *errout, size_t err_len)
{
    struct hook_op *h = arg;
    struct ctr *c = h->c;
    uint64_t spent = (now_ms(c) - h->began) / 1000;

    (void)out, (void)out_len, (void)errout, (void)err_len;
    if (err != 0 || code != 0)
        log_info(AGENT_LOG, "pod %s/%s container %s: preStop hook %s %d", c->w->ns, c->w->name,
                 c->name, err ? "failed:" : "exited with", err ? err : code);
    if (err != ORC_ECANCELED && !c->w->shut)
        stop_now(c, spent >= h->grace_s ? 0 : h->grace_s - (unsigned)spent);
    else c->killing = false;
    worker_put(c->w);
    free(h);
}

static int run_prestop(struct ctr *c, unsigned grace_s)
{
    const json_t *cmd = orc_json_get(c->spec, "lifecycle.preStop.exec.command");
    size_t n = json_array_size(cmd), i;
    char **argv;
    struct hook_op *h;
    int rv;

    if (n == 0 || (argv = calloc(n + 1, sizeof *argv)) == NULL) return ORC_ENOENT;
    if ((h = calloc(1, sizeof *h)) == NULL) {
        free(argv);
        return ORC_ENOMEM;
    }
    for (i = 0; i < n; i++) argv[i] = (char *)json_string_value(json_array_get(cmd, i));
    *h = (struct hook_op){c, grace_s, now_ms(c)};
    worker_hold(c->w);
    rv = rth_exec(&c->w->a->rt, c->id, argv, (grace_s ? grace_s : 1) * 1000, on_prestop, h);
    free(argv);
    if (rv != 0) {
        worker_put(c->w);
        free(h);
    }
    return rv;
}

void ctr_kill(struct ctr *c, unsigned grace_s, bool hooks)
{
    if (c->killing || c->st != CS_RUNNING) return;
    c->killing = true;
    ctr_stop_probes(c);
    if (hooks && run_prestop(c, grace_s) == 0) return;
    stop_now(c, grace_s);
}

/* ---- starting a run ---- */

struct start_op {
    struct ctr *c;
    int run;
    char id[CTR_ID_LEN];
};

static void on_started(void *arg, int err, const char *msg)
{
    struct start_op *s = arg;
    struct ctr *c = s->c;
    struct worker *w = c->w;

    if (err == ORC_ECANCELED || w->shut) goto out;
    if (err != 0) {
        c->st = c->ever_ran ? CS_EXITED : CS_IDLE;
        set_reason(c, err == ORC_EINVAL ? "RunContainerError" : "CreateContainerError", msg);
        c->start_failed = true;
        worker_event(w, c, true, "Failed", "Error: %s", msg);
        log_warn(AGENT_LOG, "pod %s/%s container %s did not start: %s", w->ns, w->name, c->name, msg);
        c->run_since_ms = 0;
        arm_backoff(c);
    } else {
        log_debug(AGENT_LOG, "pod %s/%s container %s: running", w->ns, w->name, c->name);
        c->st = CS_RUNNING;
        c->ever_ran = true;
        c->run = s->run;
        memcpy(c->id, s->id, sizeof c->id);
        c->started_ns = orc_clock_wall(w->a->clock) * 1000000LL;
        c->run_since_ms = now_ms(c);
        c->reason[0] = c->message[0] = '\0';
        c->start_failed = false;
        c->started = c->is_ready = false;
        c->respawn = false;
        set_run_image(c, c->image_name);
        c->announce = true; /* its Started event goes after the status write */
        memset(&c->exited, 0, sizeof c->exited);
    }
    worker_sync_soon(w);
out:
    worker_put(w);
    free(s);
}

/* Keeps the run before this one; forgets the one before that. */
static void retire_runs(struct ctr *c, int new_run)
{
    char id[CTR_ID_LEN], log[1200];

    if (!c->ever_ran) return;
    if (c->exited.set) c->previous = c->exited;
    if (new_run >= 2) {
        ctr_id(c, new_run - 2, id, sizeof id);
        rth_remove(&c->w->a->rt, id);
        ctr_log_path(c, new_run - 2, log, sizeof log);
        if (log[0]) podlogs_remove_log(log);
        ctr_log_link(c, new_run - 2, log, sizeof log);
        if (log[0]) unlink(log);
    }
}

struct run_parts {
    char **env, **argv;
    struct rt_mount *mounts;
    size_t n_mounts;
    struct podspec_resources res;
    struct podspec_security sec;
};

static void parts_free(struct run_parts *p)
{
    podspec_strv_free(p->env);
    podspec_strv_free(p->argv);
    volume_mounts_free(p->mounts, p->n_mounts);
}

/* A probe the agent cannot run keeps the container from starting, with
 * the reason shown, rather than running it unwatched. */
static int check_probes(const struct ctr *c, char *err)
{
    static const char *const fields[] = {"startupProbe", "livenessProbe", "readinessProbe"};
    char why[256];

    for (size_t i = 0; i < ORC_ARRAY_LEN(fields); i++) {
        const json_t *spec = json_object_get(c->spec, fields[i]);
        if (spec && probe_check(spec, c->spec, why) != 0) {
            snprintf(err, 256, "%s: %.200s", fields[i], why);
            return ORC_EINVAL;
        }
    }
    return 0;
}

/* Everything the pod asks of this run; reason + message when it cannot. */
static int gather(struct ctr *c, struct run_parts *p)
{
    struct worker *w = c->w;
    char err[256] = "";

    memset(p, 0, sizeof *p);
    if (podspec_env(w->pod, c->spec, w->pod_ip, w->a->node_ip, &w->a->lookup, &p->env, err) != 0
        || volume_mounts(w->dir, w->a->claims_dir, w->pod, c->spec, &w->a->lookup, &p->mounts, &p->n_mounts, err) != 0
        || agent_dns_pod_mount(w->a, w->dir, w->pod, w->pod_ip, &p->mounts, &p->n_mounts, err) != 0) {
        set_reason(c, "CreateContainerConfigError", err);
        return ORC_EINVAL;
    }
    if (podspec_argv(c->spec, c->image_config, p->env, &p->argv, err) != 0) {
        set_reason(c, "CreateContainerError", err);
        return ORC_EINVAL;
    }
    if (check_probes(c, err) != 0) {
        set_reason(c, "CreateContainerConfigError", err);
        return ORC_EINVAL;
    }
    podspec_resources(c->spec, &p->res);
    if (podspec_security(w->pod, c->spec, &w->a->sec_opts, &p->sec, err) != 0
        || podspec_check_non_root(&p->sec, c->image_config, w->pod, c->name, err) != 0) {
        set_reason(c, "CreateContainerConfigError", err);
        return ORC_EINVAL;
    }
    return 0;
}

static void start_run(struct ctr *c)
{
    struct worker *w = c->w;
    struct run_parts p;
    struct rt_image img = {c->image_ref, c->image_digest, c->image_config};
    struct rt_spec spec = {0};
    struct start_op *s;
    char log[1200], dir[1200], link[1200];
    char *slash;
    int new_run = c->ever_ran ? c->run + 1 : 0, rv;

    if (gather(c, &p) != 0 || (s = calloc(1, sizeof *s)) == NULL) {
        if (c->reason[0]) worker_event(w, c, true, "Failed", "Error: %s", c->message);
        parts_free(&p);
        c->st = c->ever_ran ? CS_EXITED : CS_IDLE;
        c->retry_at = now_ms(c) + CONFIG_RETRY_MS;
        return;
    }
    retire_runs(c, new_run);
    s->c = c;
    s->run = new_run;
    ctr_id(c, new_run, s->id, sizeof s->id);
    ctr_log_path(c, new_run, log, sizeof log);
    snprintf(dir, sizeof dir, "%s", log);
    if ((slash = strrchr(dir, '/')) != NULL) *slash = '\0';
    if (log[0]) orc_mkdirs(dir, 0755);
    ctr_log_link(c, new_run, link, sizeof link);
    if (link[0] && log[0] && podlogs_link(link, log) != 0)
        log_warn(AGENT_LOG, "pod %s/%s container %s: linking %s: %s", w->ns, w->name, c->name, link, strerror(errno));
    rth_remove(&w->a->rt, s->id); /* a leftover of a run that never reported */
    spec.id = s->id;
    spec.pod_uid = w->uid;
    spec.image = &img;
    spec.argv = p.argv;
    spec.env = p.env;
    spec.cwd = orc_json_str(c->spec, "workingDir") ?: "";
    spec.uid = p.sec.uid;
    spec.gid = p.sec.gid;
    spec.readonly_rootfs = p.sec.readonly_rootfs;
    spec.sec = p.sec.rt;
    spec.mounts = p.mounts;
    spec.n_mounts = p.n_mounts;
    spec.netns_path = w->host_network ? NULL : w->netns;
    spec.hostname = w->host_network ? NULL : (orc_json_str(w->pod, "spec.hostname") ?: w->name);
    spec.host_pid = json_is_true(orc_json_get(w->pod, "spec.hostPID"));
    spec.host_ipc = json_is_true(orc_json_get(w->pod, "spec.hostIPC"));
    spec.memory_limit = p.res.memory_limit;
    spec.cpu_quota_us = p.res.cpu_quota_us;
    spec.cpu_period_us = p.res.cpu_period_us;
    spec.cpu_shares = p.res.cpu_shares;
    spec.log_path = log;
    spec.stdin = json_is_true(json_object_get(c->spec, "stdin"));
    spec.stdin_once = json_is_true(json_object_get(c->spec, "stdinOnce"));
    spec.tty = json_is_true(json_object_get(c->spec, "tty"));
    c->st = CS_STARTING;
    log_debug(AGENT_LOG, "pod %s/%s container %s: starting %s", w->ns, w->name, c->name, s->id);
    worker_hold(w);
    rv = rth_start(&w->a->rt, &spec, on_started, s);
    parts_free(&p);
    if (rv != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "the runtime refused the container: %s", orc_strerror(rv));
        on_started(s, rv == ORC_ECANCELED ? ORC_EIO : rv, msg);
    }
}

/* ---- the image ---- */

/* Whether the image pulled last is the one the spec names now. */
static bool have_spec_image(const struct ctr *c)
{
    const char *img = orc_json_str(c->spec, "image");
    return c->have_image && c->image_name && img && strcmp(c->image_name, img) == 0;
}

static enum rt_pull_policy pull_policy(const struct ctr *c)
{
    const char *p = orc_json_str(c->spec, "imagePullPolicy"), *img = orc_json_str(c->spec, "image");
    const char *last = img ? strrchr(img, '/') : NULL;
    bool have = have_spec_image(c);

    if (p && strcmp(p, "Always") == 0) return have ? RT_PULL_IF_NOT_PRESENT : RT_PULL_ALWAYS;
    if (p && strcmp(p, "Never") == 0) return RT_PULL_NEVER;
    if (p && strcmp(p, "IfNotPresent") == 0) return RT_PULL_IF_NOT_PRESENT;
    last = last ? last : img;
    if (img && !strchr(img, '@') && (!last || !strchr(last, ':') || strstr(last, ":latest")))
        return have ? RT_PULL_IF_NOT_PRESENT : RT_PULL_ALWAYS;
    return RT_PULL_IF_NOT_PRESENT;
}

static void keep_image(struct ctr *c, const char *name, const struct rt_image *img)
{
    free(c->image_ref);
    free(c->image_digest);
    free(c->image_name);
    json_decref(c->image_config);
    c->image_ref = strdup(img->ref);
    c->image_digest = strdup(img->digest);
    c->image_name = strdup(name);
    c->image_config = img->config ? json_deep_copy(img->config) : NULL;
    c->have_image = c->image_ref && c->image_digest && c->image_name;
}

struct pull_op {
    struct ctr *c;
    char image[]; /* what was asked for: the spec may change meanwhile */
};

static void on_pulled(void *arg, int err, const struct rt_image *img, const char *msg)
{
    struct pull_op *op = arg;
    struct ctr *c = op->c;
    struct worker *w = c->w;

    if (err == ORC_ECANCELED || w->shut) goto out;
    if (err != 0) {
        c->st = c->ever_ran ? CS_EXITED : CS_IDLE;
        set_reason(c, err == ORC_EINVAL ? "InvalidImageName" : "ErrImagePull", msg);
        c->pull_failed_ms = now_ms(c);
        c->pull_backoff_ms = next_backoff(c->pull_backoff_ms);
        c->pull_until = c->pull_failed_ms + c->pull_backoff_ms;
        log_warn(AGENT_LOG, "pod %s/%s container %s: pulling %s: %s", w->ns, w->name, c->name,
                 orc_json_str(c->spec, "image"), msg);
        worker_event(w, c, true, "Failed", "Failed to pull image \"%s\": %s", orc_json_str(c->spec, "image") ?: "",
                     msg);
        worker_sync_soon(w);
        goto out;
    }
    log_debug(AGENT_LOG, "pod %s/%s container %s: image ready", w->ns, w->name, c->name);
    keep_image(c, op->image, img);
    c->pull_backoff_ms = c->pull_until = 0;
    if (w->terminating || w->gone) c->st = c->ever_ran ? CS_EXITED : CS_IDLE;
    else start_run(c);
    worker_sync_soon(w);
out:
    worker_put(w);
    free(op);
}

void ctr_launch(struct ctr *c)
{
    struct worker *w = c->w;
    const char *image = orc_json_str(c->spec, "image") ?: "";
    char *user = NULL, *pass = NULL;
    struct rt_auth auth = {0};
    struct pull_op *op;
    int rv;

    if (w->terminating || c->st == CS_PULLING || c->st == CS_STARTING || c->st == CS_RUNNING) return;
    if ((op = malloc(sizeof *op + strlen(image) + 1)) == NULL) {
        worker_sync_at(w, now_ms(c) + CONFIG_RETRY_MS);
        return;
    }
    op->c = c;
    strcpy(op->image, image);
    if (pull_auth_find(w->pod, image, &w->a->lookup, &user, &pass) == 0) {
        auth.username = user;
        auth.password = pass;
    }
    if (c->reason[0] == '\0' || strcmp(c->reason, "CrashLoopBackOff") == 0)
        set_reason(c, "ContainerCreating", "");
    c->st = CS_PULLING;
    c->launched_ms = now_ms(c);
    worker_hold(w);
    rv = rth_pull(&w->a->rt, image, pull_policy(c), user ? &auth : NULL, on_pulled, op);
    pull_auth_free(user, pass);
    if (rv != 0) {
        on_pulled(op, rv, NULL, "the image could not be pulled");
    }
}

/* ---- a changed spec ---- */

bool ctr_outdated(const struct ctr *c)
{
    const char *img = orc_json_str(c->spec, "image");
    return c->st == CS_RUNNING && c->run_image && img && strcmp(c->run_image, img) != 0;
}

/* The kubelet keys its restart and pull back-offs by the container's spec,
 * so a new image starts without the old one's back-off. */
void ctr_respec(struct ctr *c, json_t *spec)
{
    const char *was = orc_json_str(c->spec, "image"), *now = orc_json_str(spec, "image");
    bool changed = !was || !now || strcmp(was, now) != 0;

    json_incref(spec);
    json_decref(c->spec);
    c->spec = spec;
    if (!changed) return;
    log_info(AGENT_LOG, "pod %s/%s container %s: image changed to %s", c->w->ns, c->w->name, c->name,
             now ? now : "");
    c->backoff_ms = c->backoff_until = 0;
    c->pull_backoff_ms = c->pull_until = 0;
    c->retry_at = 0;
    if (strcmp(c->reason, "ErrImagePull") == 0 || strcmp(c->reason, "ImagePullBackOff") == 0
        || strcmp(c->reason, "InvalidImageName") == 0 || strcmp(c->reason, "CrashLoopBackOff") == 0)
        c->reason[0] = c->message[0] = '\0';
}

void ctr_free(struct ctr *c)
{
    ctr_stop_probes(c);
    json_decref(c->spec);
    free(c->image_ref);
    free(c->image_digest);
    free(c->image_name);
    free(c->run_image);
    json_decref(c->image_config);
}
