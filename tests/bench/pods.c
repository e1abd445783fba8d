/* pods.c — node agent benchmark: pod start latency on one node (50 pods, one
 * after another and all at once) beside a bare `runc run -d`, and the resident
 * memory of `orcd agent` and its shims; prints markdown tables on stdout. */
#include "client/http.h"
#include "tests/agent/agentfx.h"

#include <math.h>
#include "tests/bench/bench.h"

enum { NPODS = 50, SPACING_MS = 200, SETTLE_MS = 3000, WAIT_MS = 60000 };

/* One round of pods: names PREFIX-NN, send and Running times in ms. */
struct round {
    const char *prefix;
    int n;                /* pods in the round */
    double sent[NPODS];
    double acked[NPODS];    /* the API answered the create */
    double running[NPODS];
    int n_running;
    int n_gone;
};

static struct bench {
    http_client *api;
    http_call *watch;
    bool watch_up, watch_ended, closing, closed;
    struct orc_buf line;  /* the watch stream's unfinished line */
    struct round *cur;    /* the round the watch events are matched to */
    int post_errors, delete_errors;
    char bare_root[700], bare_bundle[700];
    char own_bundle[700];   /* the agent's own bundle of the first pod (config.json, overlay root) */
    bool own_mounted;
    int bare_started;     /* bare containers to clean: ids 0..n-1 */
    pid_t bare_pid;       /* in their ids: the case's pid (not a child's) */
} B;

/* ---- the watch on the node's pods ---- */

static bool pod_running(const json_t *pod)
{
    const char *ph = orc_json_str(pod, "status.phase");
    return ph && strcmp(ph, "Running") == 0 && orc_json_get(afx_cs(pod, 0), "state.running") != NULL;
}

/* Index of a pod of the current round from its name, or -1. */
static int round_index(const char *name)
{
    size_t n = B.cur ? strlen(B.cur->prefix) : 0;
    char *end;
    long i;

    if (!B.cur || !name || strncmp(name, B.cur->prefix, n) != 0 || name[n] != '-') return -1;
    i = strtol(name + n + 1, &end, 10);
    return *end == '\0' && i >= 0 && i < B.cur->n ? (int)i : -1;
}

static void on_event(const char *text, size_t len, double t)
{
    json_t *ev = orc_json_parse(text, len, NULL, 0);
    const json_t *obj = ev ? json_object_get(ev, "object") : NULL;
    const char *type = ev ? orc_json_str(ev, "type") : NULL;
    int i = obj ? round_index(orc_json_str(obj, "metadata.name")) : -1;

    if (i >= 0 && type && strcmp(type, "DELETED") == 0) {
        B.cur->n_gone++;
        json_decref(ev);
        return;
    }
    if (i >= 0 && B.cur->running[i] == 0 && pod_running(obj)) {
        B.cur->running[i] = t;
        B.cur->n_running++;
    }
    json_decref(ev);
}

static void watch_head(void *arg, const struct http_response *r)
{
    (void)arg;
    if (r->status == 200) B.watch_up = true;
    else fprintf(stderr, "# watch: status %d\n", r->status);
}

static void watch_data(void *arg, const char *data, size_t len)
{
    double t = bench_now_ms();
    char *nl;
    size_t used = 0;

    (void)arg;
    if (orc_buf_append(&B.line, data, len) != 0) {
        test_fail_later("watch: out of memory");
        return;
    }
    while ((nl = memchr(B.line.data + used, '\n', B.line.len - used)) != NULL) {
        on_event(B.line.data + used, (size_t)(nl - (B.line.data + used)), t);
        used = (size_t)(nl - B.line.data) + 1;
    }
    memmove(B.line.data, B.line.data + used, B.line.len - used);
    B.line.len -= used;
}

static void watch_end(void *arg, int err)
{
    (void)arg;
    B.watch = NULL;
    B.watch_ended = true;
    if (!B.closing) fprintf(stderr, "# watch ended: %s\n", orc_strerror(err));
}

static bool watch_ready(void *arg) { (void)arg; return B.watch_up || B.watch_ended; }

static void watch_start(void)
{
    static const struct http_stream_cbs cbs = {watch_head, watch_data, watch_end};
    char path[256];
    struct http_request req = {.method = "GET", .path = path, .timeout_ms = 10000};

    snprintf(path, sizeof path, "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%%3D%s", A.node);
    CHECK_INT(http_stream(B.api, &req, &cbs, NULL, &B.watch), ==, 0);
    CHECKF(fx_run_until(watch_ready, NULL, 10000) && B.watch_up, "the watch on pods did not start");
}

/* ---- API calls (async, on the loop) ---- */

static void post_done(void *arg, int err, const struct http_response *r)
{
    *(double *)arg = bench_now_ms();
    if (err != 0 || r->status != 201) {
        B.post_errors++;
        fprintf(stderr, "# create: %s %d %.300s\n", orc_strerror(err), err ? 0 : r->status,
                err ? "" : r->body);
    }
}

/* The container's securityContext in the pods made now ("" for none). */
static const char *sec_ctx = "";

static void pod_create(const char *name, double *acked)
{
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},\"spec\":{"
                     "\"nodeName\":\"%s\",\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":1,"
                     "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]%s}]}}",
                     name, A.node, F.image, sec_ctx);
    struct http_request req = {.method = "POST", .path = "/api/v1/namespaces/default/pods",
                               .content_type = "application/json", .body = body,
                               .body_len = (size_t)n, .timeout_ms = 30000};

    CHECK(n > 0 && (size_t)n < sizeof body);
    CHECK_INT(http_request(B.api, &req, post_done, acked, NULL), ==, 0);
}

static void delete_done(void *arg, int err, const struct http_response *r)
{
    (void)arg;
    if (err != 0 || (r->status != 200 && r->status != 202 && r->status != 404)) B.delete_errors++;
}

static void pod_delete(const char *name)
{
    char path[256];
    struct http_request req = {.method = "DELETE", .path = path, .timeout_ms = 30000};

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    CHECK_INT(http_request(B.api, &req, delete_done, NULL, NULL), ==, 0);
}

static void client_closed(void *arg) { (void)arg; B.closed = true; }
static bool is_closed(void *arg) { (void)arg; return B.closed; }

static void client_open(void)
{
    CHECK_INT(http_client_new_tls(&F.loop, AC.m[0].url, AC.token, cluster_tls(&AC), &B.api), ==, 0);
}

/* ---- rounds ---- */

static bool round_running(void *arg) { return ((struct round *)arg)->n_running == ((struct round *)arg)->n; }
static bool round_gone(void *arg) { return ((struct round *)arg)->n_gone == ((struct round *)arg)->n; }

static void round_name(const struct round *r, int i, char *out, size_t n)
{
    snprintf(out, n, "%s-%02d", r->prefix, i);
}

/* Waits until cond holds for the round; fails with the agent's log. */
static void round_wait(struct round *r, fx_cond cond, const char *what)
{
    if (fx_run_until(cond, r, WAIT_MS)) return;
    afx_dump_log();
    test_fail(__FILE__, __LINE__, "%s pods: %s not reached (%d running, %d gone, watch %s); agent log %s",
              r->prefix, what, r->n_running, r->n_gone, B.watch_ended ? "ended" : "up", A.log);
}

static double bare_run(int i, const char *bundle);
static void bare_remove(int i);
static void own_bundle(const struct round *r);

/* Creates the round's pods at once; waits until all report Running. */
static void round_run(struct round *r)
{
    char name[64];

    B.cur = r;
    for (int i = 0; i < r->n; i++) {
        round_name(r, i, name, sizeof name);
        r->sent[i] = bench_now_ms();
        pod_create(name, &r->acked[i]);
    }
    round_wait(r, round_running, "Running");
    CHECKF(B.post_errors == 0, "%d pod creations failed", B.post_errors);
}

struct one { struct round *r; int i; };

static bool pod_i_running(void *arg)
{
    const struct one *o = arg;
    return o->r->running[o->i] != 0;
}

/* One pod every SPACING_MS; in each gap, once the pod runs, one timed bare
 * `runc run -d` (then removed): both measured in the same moments of this
 * shared machine. bare[i] gets its time. */
static void round_paced(struct round *r, double *bare, double *own)
{
    char name[64];

    B.cur = r;
    for (int i = 0; i < r->n; i++) {
        struct one o = {r, i};
        round_name(r, i, name, sizeof name);
        r->sent[i] = bench_now_ms();
        pod_create(name, &r->acked[i]);
        if (!fx_run_until(pod_i_running, &o, WAIT_MS)) round_wait(r, round_running, "Running");
        if (i == 0) own_bundle(r);
        B.bare_started = i + 1;
        /* the two anchors take turns going first */
        bare[i] = bare_run(i, i % 2 ? B.own_bundle : B.bare_bundle);
        bare_remove(i);
        own[i] = bare_run(i, i % 2 ? B.bare_bundle : B.own_bundle);
        bare_remove(i);
        if (i % 2) {
            double t = bare[i];
            bare[i] = own[i];
            own[i] = t;
        }
        CHECKF(bare[i] >= 0 && own[i] >= 0, "bare runc run -d failed");
        double left = r->sent[i] + SPACING_MS - bench_now_ms();
        if (left > 0) fx_run_for((unsigned)left);
    }
    B.bare_started = 0;
    round_wait(r, round_running, "Running");
    CHECKF(B.post_errors == 0, "%d pod creations failed", B.post_errors);
}

/* The security defaults' cost: pods one every SPACING_MS, taking turns
 * between confined (the default capabilities, masked /proc paths and the
 * RuntimeDefault seccomp filter) and privileged (all capabilities, nothing
 * masked, no filter), so both meet the same moments of the machine. */
#define CONFINED ",\"securityContext\":{\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}"
#define PRIVILEGED ",\"securityContext\":{\"privileged\":true}"

static void round_security(struct round *r)
{
    char name[64];

    B.cur = r;
    for (int i = 0; i < r->n; i++) {
        struct one o = {r, i};
        round_name(r, i, name, sizeof name);
        sec_ctx = i % 2 ? PRIVILEGED : CONFINED;
        r->sent[i] = bench_now_ms();
        pod_create(name, &r->acked[i]);
        if (!fx_run_until(pod_i_running, &o, WAIT_MS)) round_wait(r, round_running, "Running");
        double left = r->sent[i] + SPACING_MS - bench_now_ms();
        if (left > 0) fx_run_for((unsigned)left);
    }
    sec_ctx = "";
    round_wait(r, round_running, "Running");
    CHECKF(B.post_errors == 0, "%d pod creations failed", B.post_errors);
}

/* Deletes the round's pods through the API; waits until the agent removed
 * them (the API drops each pod once its containers are gone). */
static void round_delete(struct round *r)
{
    char name[64];

    B.cur = r;
    for (int i = 0; i < r->n; i++) {
        round_name(r, i, name, sizeof name);
        pod_delete(name);
    }
    round_wait(r, round_gone, "deletion");
    CHECKF(B.delete_errors == 0, "%d pod deletions failed", B.delete_errors);
}

/* One pod run and removed first, so the image is in the node's store. */
static void warm_up(void)
{
    static struct round w = {.prefix = "warm", .n = 1};

    round_run(&w);
    round_delete(&w);
}

/* ---- statistics ---- */

struct stats { double median, p99, min; };

/* Median and p99 (nearest rank: with 50 samples, the maximum). */
static struct stats stats_of(const double *v, int n)
{
    double *s = malloc(sizeof *s * (size_t)n);
    struct stats st;

    CHECK(s != NULL);
    memcpy(s, v, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    st.p99 = s[(int)ceil(0.99 * n) - 1];
    st.min = s[0];
    free(s);
    return st;
}

/* Statistics of (to[i] - r->sent[i]) over the round. */
static struct stats round_stats(const struct round *r, const double *to)
{
    double lat[NPODS];

    for (int i = 0; i < r->n; i++) lat[i] = (to[i] ? to[i] : r->running[i]) - r->sent[i];
    return stats_of(lat, r->n);
}

/* ---- resident memory ---- */

static long rss_kib(pid_t pid) { return bench_proc_kib(pid, "status", "VmRSS"); }

struct shims { long rss, pss; int n; };

/* Sums of the shims' VmRSS and Pss (pids from each container's state.json). */
static struct shims shims_mem(void)
{
    struct shims m = {0, 0, 0};
    char dir[1024], path[2048];
    struct dirent *e;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/containers", F.state);
    if ((d = opendir(dir)) == NULL) return m;
    while ((e = readdir(d)) != NULL) {
        json_t *s;
        if (e->d_name[0] == '.') continue;
        if (rt_path(path, "%s/%s/state.json", dir, e->d_name) != 0 || (s = rt_read_json(path)) == NULL)
            continue;
        pid_t pid = (pid_t)json_integer_value(json_object_get(s, "shimPid"));
        long rss = pid > 0 ? rss_kib(pid) : -1, pss = pid > 0 ? bench_proc_kib(pid, "smaps_rollup", "Pss") : -1;
        json_decref(s);
        if (rss > 0 && pss > 0) {
            m.rss += rss;
            m.pss += pss;
            m.n++;
        }
    }
    closedir(d);
    return m;
}

/* ---- the bare runtime: runc run -d on a umoci-unpacked bundle ---- */

static void bare_id(int i, char *out, size_t n) { snprintf(out, n, "orcbench-%d-%d", (int)B.bare_pid, i); }

static void bare_remove(int i)
{
    char id[64];

    bare_id(i, id, sizeof id);
    /* runc's own removal, then its cgroups (and anything left in them) */
    fx_sh("runc --root '%s' kill '%s' KILL >/dev/null 2>&1; runc --root '%s' delete --force '%s'; "
          "for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/mounts); do [ -d $m/%s ] || continue; "
          "kill -9 $(cat $m/%s/cgroup.procs) 2>/dev/null; rmdir $m/%s 2>/dev/null || "
          "{ sleep 0.2; rmdir $m/%s; }; done; true",
          B.bare_root, id, B.bare_root, id, id, id, id, id);
}

static void bare_cleanup(void *arg)
{
    (void)arg;
    for (int i = 0; i < B.bare_started; i++) bare_remove(i);
    B.bare_started = 0;
    if (B.own_mounted) fx_sh("umount '%s/rootfs'", B.own_bundle);
    B.own_mounted = false;
}

/* The test image unpacked, its process set to `sleep 3600` without a tty. */
static void bare_bundle(void)
{
    char image[1100], cfg[800];
    char *unpack[] = {"umoci", "unpack", "--image", image, B.bare_bundle, NULL};
    json_t *c;

    B.bare_pid = getpid();
    snprintf(B.bare_root, sizeof B.bare_root, "%s/bare-runc", test_tmpdir());
    snprintf(B.bare_bundle, sizeof B.bare_bundle, "%s/bare-bundle", test_tmpdir());
    snprintf(image, sizeof image, "%s:1", registry_busybox_layout());
    CHECKF(t_run(unpack, NULL) == 0, "umoci unpack %s failed", image);
    snprintf(cfg, sizeof cfg, "%s/config.json", B.bare_bundle);
    CHECK((c = rt_read_json(cfg)) != NULL);
    orc_json_set(c, "process.args", json_pack("[ss]", "sleep", "3600"));
    orc_json_set(c, "process.terminal", json_false());
    CHECK_INT(json_dump_file(c, cfg, 0), ==, 0);
    json_decref(c);
}

/* The agent's own bundle of the round's first pod, as the anchor
 * asks ("runc run of the same bundle"): its config.json (namespaces with
 * the pod's network namespace, mounts, capabilities, limits) without its
 * cgroup path (runc then uses /<id>), over an overlay root of the same
 * image layer. */
static void own_bundle(const struct round *r)
{
    char name[64], dir[1200], cfg[1300];
    json_t *pod, *c;
    const char *cid;

    round_name(r, 0, name, sizeof name);
    CHECK((pod = afx_pod_get(name)) != NULL);
    cid = orc_json_str(afx_cs(pod, 0), "containerID");
    CHECK(cid && strncmp(cid, "orc://", 6) == 0);
    snprintf(dir, sizeof dir, "%s/containers/%s", F.state, cid + 6);
    json_decref(pod);
    snprintf(B.own_bundle, sizeof B.own_bundle, "%s/own-bundle", test_tmpdir());
    fx_sh("mkdir -p '%s/rootfs' '%s/upper' '%s/work' && lower=$(awk '$2 == \"%s/rootfs\" {print $4}' /proc/mounts "
          "| tr , '\\n' | sed -n 's/^lowerdir=//p') && mount -t overlay overlay "
          "-o lowerdir=$lower,upperdir='%s/upper',workdir='%s/work' '%s/rootfs'",
          B.own_bundle, B.own_bundle, B.own_bundle, dir, B.own_bundle, B.own_bundle, B.own_bundle);
    B.own_mounted = true;
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    CHECK((c = rt_read_json(cfg)) != NULL);
    orc_json_set(c, "root.path", json_string("rootfs"));
    orc_json_del(c, "linux.cgroupsPath");
    snprintf(cfg, sizeof cfg, "%s/config.json", B.own_bundle);
    CHECK_INT(json_dump_file(c, cfg, 0), ==, 0);
    json_decref(c);
}

/* One timed `runc run -d` of bare container i; ms, or -1 when it failed. */
static double bare_run(int i, const char *bundle)
{
    char rootopt[800], id[64];
    char *run[] = {"runc", rootopt, "run", "-d", "--bundle", (char *)bundle, id, NULL};
    double t = bench_now_ms();

    snprintf(rootopt, sizeof rootopt, "--root=%s", B.bare_root);
    bare_id(i, id, sizeof id);
    return t_run(run, NULL) == 0 ? bench_now_ms() - t : -1;
}

/* NPODS `runc run -d` at once, each timed by a child that writes its
 * figure to a pipe; then all removed. */
static struct stats bare_burst(void)
{
    double ms[NPODS];
    pid_t pids[NPODS];
    int fds[2], failed = 0;

    CHECK_INT(pipe(fds), ==, 0);
    B.bare_started = NPODS;
    for (int i = 0; i < NPODS; i++) {
        pid_t pid = pids[i] = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            double t = bare_run(i, B.bare_bundle);
            _exit(write(fds[1], &t, sizeof t) == sizeof t ? 0 : 1);
        }
    }
    close(fds[1]);
    for (int i = 0; i < NPODS; i++)
        if (read(fds[0], &ms[i], sizeof ms[i]) != sizeof ms[i] || ms[i] < 0) failed++;
    close(fds[0]);
    for (int i = 0; i < NPODS; i++)
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {}
    bare_cleanup(NULL);
    CHECKF(failed == 0, "%d bare runc run -d at once failed", failed);
    return stats_of(ms, NPODS);
}

/* ---- the report ---- */

static void print_row(const char *what, struct stats st, const char *target)
{
    printf("| %s | %.1f | %.1f | %.1f | %s |\n", what, st.median, st.p99, st.min, target);
}

/* The round's rows: to Running, and the steps before it. */
static void print_round(const char *what, const struct round *r, const char *target)
{
    print_row(what, round_stats(r, r->running), target);
    print_row("&nbsp;&nbsp;of which: created (API answered)", round_stats(r, r->acked), "");
}

static void print_latency(const struct round *seq, const struct round *burst, struct stats bare,
                          struct stats own, struct stats bare_all)
{
    char what[128], target[128];
    struct stats s = round_stats(seq, seq->running);

    printf("| pod start, image present (ms from create) | median | p99 (= max of %d) | min | target |\n", NPODS);
    printf("|---|---|---|---|---|\n");
    snprintf(what, sizeof what, "orc: %d pods one after another, one every %d ms, to Running", NPODS, SPACING_MS);
    snprintf(target, sizeof target, "median <= %.1f (1.5x the same bundle), p99 <= 1000", 1.5 * own.median);
    print_round(what, seq, target);
    print_row("bare `runc run -d` of the agent's own bundle (same config.json and image), one in each gap (anchor)",
              own, "");
    print_row("bare `runc run -d` of umoci's bundle of the image, one in each gap", bare, "");
    printf("| orc one after another / bare of the same bundle, median | %.2fx | | | <= 1.5x |\n",
           s.median / own.median);
    printf("| orc one after another / bare of umoci's bundle, median | %.2fx | | | |\n", s.median / bare.median);
    snprintf(what, sizeof what, "orc: %d pods created at once, to Running", NPODS);
    print_round(what, burst, "");
    snprintf(what, sizeof what, "bare `runc run -d`, %d at once (anchor)", NPODS);
    print_row(what, bare_all, "");
}

static void print_security(const struct round *r)
{
    double lat[2][NPODS];
    int n[2] = {0, 0};

    for (int i = 0; i < r->n; i++) lat[i % 2][n[i % 2]++] = r->running[i] - r->sent[i];
    struct stats conf = stats_of(lat[0], n[0]), priv = stats_of(lat[1], n[1]);
    printf("| pod start, confined vs privileged (ms from create, taking turns) | median | p99 (= max) | min | target |\n");
    printf("|---|---|---|---|---|\n");
    print_row("default capabilities + masked /proc paths + RuntimeDefault seccomp", conf, "");
    print_row("privileged: all capabilities, nothing masked, no seccomp (anchor)", priv, "");
    printf("| added by the security defaults, median | %+.1f ms | | | <= 5 ms |\n", conf.median - priv.median);
}

static void print_memory(long idle, long busy, long busy_pss, struct shims sh)
{
    printf("| node agent memory | orc | k3s (anchor) | target |\n");
    printf("|---|---|---|---|\n");
    printf("| `orcd agent` VmRSS, idle, 0 pods | %.1f MiB | ~275 MB (k3s docs: its agent) | <= 15 MiB |\n",
           idle / 1024.0);
    printf("| `orcd agent` VmRSS, %d pods running | %.1f MiB (Pss %.1f MiB) | | <= 15 MiB |\n", NPODS,
           busy / 1024.0, busy_pss / 1024.0);
    printf("| its %d shims, %d pods running: VmRSS summed | %.1f MiB (%.0f KiB each) | | |\n", sh.n, NPODS,
           sh.rss / 1024.0, sh.n ? (double)sh.rss / sh.n : 0.0);
    printf("| its %d shims: Pss summed (shared pages counted once) | %.1f MiB (%.0f KiB each) | | |\n", sh.n,
           sh.pss / 1024.0, sh.n ? (double)sh.pss / sh.n : 0.0);
}

static void bench_close(void *arg)
{
    (void)arg;
    if (B.api == NULL) return;
    B.closing = true;
    http_client_close(B.api, client_closed, NULL);
    B.api = NULL;
    if (!fx_run_until(is_closed, NULL, 10000)) test_fail_later("the API client did not close");
    orc_buf_free(&B.line);
}

TEST_T(node_agent, 900)
{
    static struct round seq = {.prefix = "seq", .n = NPODS},
                        burst = {.prefix = "burst", .n = NPODS}, sec = {.prefix = "sec", .n = NPODS};
    double bare_seq[NPODS], own_seq[NPODS];
    long idle, busy, busy_pss;
    struct shims sh;

    afx_setup();
    client_open();
    test_defer(bench_close, NULL);
    bare_bundle();
    test_defer(bare_cleanup, NULL);
    fx_run_for(SETTLE_MS);
    idle = rss_kib(A.pid);
    watch_start();
    warm_up();
    round_paced(&seq, bare_seq, own_seq);
    fx_run_for(SETTLE_MS);
    busy = rss_kib(A.pid);
    busy_pss = bench_proc_kib(A.pid, "smaps_rollup", "Pss");
    sh = shims_mem();
    round_delete(&seq);
    round_run(&burst);
    round_delete(&burst);
    round_security(&sec);
    round_delete(&sec);
    struct stats bare = stats_of(bare_seq, NPODS), own = stats_of(own_seq, NPODS), bare_all = bare_burst();
    bare_cleanup(NULL);
    print_latency(&seq, &burst, bare, own, bare_all);
    printf("\n");
    print_memory(idle, busy, busy_pss, sh);
    printf("\n");
    print_security(&sec);
    printf("\n");
    fflush(stdout);
}
