/* pods.c — node agent benchmark: pod start latency on one node (50 pods, one
 * after another and all at once) beside a bare `runc run -d`, and the resident
 * memory of `orcd agent` and its shims; prints markdown tables on stdout. */
#include "client/http.h"
#include "tests/agent/agentfx.h"

#include <math.h>

enum { NPODS = 50, SPACING_MS = 200, SETTLE_MS = 3000, WAIT_MS = 60000 };

/* One round of pods: names PREFIX-NN, send and Running times in ms. */
struct round {
    const char *prefix;
    int n;                /* pods in the round */
    double sent[NPODS];
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
    int bare_started;     /* bare containers to clean: ids 0..n-1 */
} B;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

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
    } else if (i >= 0 && B.cur->running[i] == 0 && pod_running(obj)) {
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
    double t = now_ms();
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
    (void)arg;
    if (err != 0 || r->status != 201) {
        B.post_errors++;
        fprintf(stderr, "# create: %s %d %.300s\n", orc_strerror(err), err ? 0 : r->status,
                err ? "" : r->body);
    }
}

static void pod_create(const char *name)
{
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},\"spec\":{"
                     "\"nodeName\":\"%s\",\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":1,"
                     "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}}",
                     name, A.node, F.image);
    struct http_request req = {.method = "POST", .path = "/api/v1/namespaces/default/pods",
                               .content_type = "application/json", .body = body,
                               .body_len = (size_t)n, .timeout_ms = 30000};

    CHECK(n > 0 && (size_t)n < sizeof body);
    CHECK_INT(http_request(B.api, &req, post_done, NULL, NULL), ==, 0);
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

/* Creates the round's pods spacing_ms apart (0: all at once); waits until
 * every one of them has reported Running. */
static void round_run(struct round *r, unsigned spacing_ms)
{
    char name[64];

    B.cur = r;
    for (int i = 0; i < r->n; i++) {
        round_name(r, i, name, sizeof name);
        r->sent[i] = now_ms();
        pod_create(name);
        if (spacing_ms) fx_run_for(spacing_ms);
    }
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

    round_run(&w, 0);
    round_delete(&w);
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct stats { double median, p99, min; };

/* Median and p99 (nearest rank: with 50 samples, the maximum). */
static struct stats stats_of(const double *v, int n)
{
    double *s = malloc(sizeof *s * (size_t)n);
    struct stats st;

    CHECK(s != NULL);
    memcpy(s, v, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    st.p99 = s[(int)ceil(0.99 * n) - 1];
    st.min = s[0];
    free(s);
    return st;
}

static struct stats round_stats(const struct round *r)
{
    double lat[NPODS];

    for (int i = 0; i < r->n; i++) lat[i] = r->running[i] - r->sent[i];
    return stats_of(lat, r->n);
}

/* ---- resident memory ---- */

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* Sum of the shims' VmRSS (from each container's state.json); *n shims. */
static long shims_rss_kib(int *n)
{
    char dir[1024], path[2048];
    struct dirent *e;
    long total = 0;
    DIR *d;

    *n = 0;
    snprintf(dir, sizeof dir, "%s/containers", F.state);
    if ((d = opendir(dir)) == NULL) return 0;
    while ((e = readdir(d)) != NULL) {
        json_t *s;
        if (e->d_name[0] == '.') continue;
        if (rt_path(path, "%s/%s/state.json", dir, e->d_name) != 0 || (s = rt_read_json(path)) == NULL)
            continue;
        long k = rss_kib((pid_t)json_integer_value(json_object_get(s, "shimPid")));
        json_decref(s);
        if (k > 0) {
            total += k;
            (*n)++;
        }
    }
    closedir(d);
    return total;
}

/* ---- the bare runtime: runc run -d on a umoci-unpacked bundle ---- */

static void bare_id(int i, char *out, size_t n) { snprintf(out, n, "orcbench-%d-%d", (int)getpid(), i); }

static void bare_remove(int i)
{
    char id[64];

    bare_id(i, id, sizeof id);
    fx_sh("runc --root '%s' kill '%s' KILL >/dev/null 2>&1; runc --root '%s' delete --force '%s'; "
          "for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/mounts); do "
          "[ -d $m/%s ] && rmdir $m/%s 2>/dev/null; done; true",
          B.bare_root, id, B.bare_root, id, id, id);
}

static void bare_cleanup(void *arg)
{
    (void)arg;
    for (int i = 0; i < B.bare_started; i++) bare_remove(i);
    B.bare_started = 0;
}

/* The test image unpacked, its process set to `sleep 3600` without a tty. */
static void bare_bundle(void)
{
    char image[1100], cfg[800];
    char *unpack[] = {"umoci", "unpack", "--image", image, B.bare_bundle, NULL};
    json_t *c;

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

/* Times NPODS `runc run -d` (each container removed after, untimed). */
static struct stats bare_runs(void)
{
    char rootopt[800], id[64];
    double ms[NPODS];

    bare_bundle();
    test_defer(bare_cleanup, NULL);
    snprintf(rootopt, sizeof rootopt, "--root=%s", B.bare_root);
    for (int i = 0; i < NPODS; i++) {
        char *run[] = {"runc", rootopt, "run", "-d", "--bundle", B.bare_bundle, id, NULL};
        bare_id(i, id, sizeof id);
        B.bare_started = i + 1;
        double t = now_ms();
        int rc = t_run(run, NULL);
        ms[i] = now_ms() - t;
        CHECKF(rc == 0, "bare runc run -d failed (%d)", rc);
        bare_remove(i);
    }
    B.bare_started = 0;
    return stats_of(ms, NPODS);
}

/* ---- the report ---- */

static void print_latency(struct stats seq, struct stats burst, struct stats bare)
{
    printf("| pod start (image present) | median ms | p99 ms (= max of %d) | min ms | target |\n", NPODS);
    printf("|---|---|---|---|---|\n");
    printf("| orc: %d pods one after another, %d ms apart | %.1f | %.1f | %.1f | median <= %.1f (1.5x bare), "
           "p99 <= 1000 |\n", NPODS, SPACING_MS, seq.median, seq.p99, seq.min, 1.5 * bare.median);
    printf("| orc: %d pods created at once | %.1f | %.1f | %.1f | |\n", NPODS, burst.median, burst.p99,
           burst.min);
    printf("| bare `runc run -d`, same image and command | %.1f | %.1f | %.1f | (anchor) |\n", bare.median,
           bare.p99, bare.min);
    printf("| orc one after another / bare (median) | %.2fx | | | <= 1.5x |\n", seq.median / bare.median);
}

static void print_memory(long idle, long busy, long shims, int nshims)
{
    printf("| node agent memory (VmRSS) | orc | k3s (anchor) | target |\n");
    printf("|---|---|---|---|\n");
    printf("| `orcd agent`, idle, 0 pods | %.1f MiB | ~275 MB (k3s docs, agent) | <= 15 MiB |\n",
           idle / 1024.0);
    printf("| `orcd agent`, %d pods running | %.1f MiB | | <= 15 MiB |\n", NPODS, busy / 1024.0);
    printf("| its shims, %d pods running (%d processes, total) | %.1f MiB (%.0f KiB each) | | |\n", NPODS,
           nshims, shims / 1024.0, nshims ? (double)shims / nshims : 0.0);
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
                        burst = {.prefix = "burst", .n = NPODS};
    long idle, busy, shims;
    int nshims;

    afx_setup();
    client_open();
    test_defer(bench_close, NULL);
    fx_run_for(SETTLE_MS);
    idle = rss_kib(A.pid);
    watch_start();
    warm_up();
    round_run(&seq, SPACING_MS);
    fx_run_for(SETTLE_MS);
    busy = rss_kib(A.pid);
    shims = shims_rss_kib(&nshims);
    round_delete(&seq);
    round_run(&burst, 0);
    round_delete(&burst);
    struct stats bare = bare_runs();
    printf("\n");
    print_latency(round_stats(&seq), round_stats(&burst), bare);
    printf("\n");
    print_memory(idle, busy, shims, nshims);
    printf("\n");
    fflush(stdout);
}
