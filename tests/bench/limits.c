/* limits.c — the API port under load and abuse (part of `make bench`):
 *   - watch fan-out: creates/s, create p50/p99 and delivery p50/p99 (from a
 *     create's reply to its event at a watcher) with 0 and 1,000 reading
 *     watchers on ConfigMaps, side by side, and the member's CPU per create;
 *   - memory: the member's RSS before, during and after each abuse: N
 *     unauthenticated connections sending big bodies, N watchers that never
 *     read while writes flow, idle connections up to the cap.
 * Prints markdown tables on stdout. BENCH_SECONDS sets each load's length
 * (default 10), BENCH_WATCHERS the crowd (default 1000). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "client/http.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/bench/bench.h"

#define MAX_SEQ 400000
#define HIST_MS 10000 /* latency histogram: 1 ms buckets up to 10 s */
#define WRITERS 16
#define VALUE_BYTES 1024
#define STREAMS_PER_CLIENT 50

static struct cluster c;

static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? (unsigned)atoi(v) : dflt;
}

/* CPU time of a process (user + system), ms. */
static double proc_cpu_ms(pid_t pid)
{
    char path[64];
    unsigned long ut = 0, st = 0;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL) return 0;
    if (fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) ut = st = 0;
    fclose(f);
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

struct hist {
    unsigned long long n;
    unsigned long long b[HIST_MS + 1];
};

static void hist_add(struct hist *h, double ms)
{
    long i = ms < 0 ? 0 : (long)ms;
    h->b[i > HIST_MS ? HIST_MS : i]++;
    h->n++;
}

static double hist_q(const struct hist *h, double q)
{
    unsigned long long want = (unsigned long long)ceil(q * (double)h->n), seen = 0;
    for (int i = 0; i <= HIST_MS; i++)
        if ((seen += h->b[i]) >= want && want > 0) return i + 0.5;
    return 0;
}

/* ---- the crowd of reading watchers, on a thread of its own ---- */

static const char needle[] = "\"name\":\"bw-";

/* The name is in the first bytes of each event line: keep those, skip the
 * rest of the line with memchr. */
#define HEAD 192

struct watcher {
    struct crowd *cr;
    char head[HEAD];
    size_t head_len;
    bool in_body; /* past the head of the current line */
};

struct crowd {
    int n;
    uv_loop_t loop;
    uv_async_t stop;
    http_client **clients;
    struct watcher *w;
    int heads;
    unsigned long long got;
    struct hist delivery;
    _Atomic double *replied; /* per seq: when its create was answered (0: not yet) */
    pthread_t thread;
};

static void on_event_seq(struct crowd *cr, long seq)
{
    double t = seq >= 0 && seq < MAX_SEQ ? atomic_load_explicit(&cr->replied[seq], memory_order_relaxed) : 0;
    cr->got++;
    hist_add(&cr->delivery, t > 0 ? bench_now_ms() - t : 0);
}

static void head_done(struct watcher *w)
{
    const char *p = memmem(w->head, w->head_len, needle, sizeof needle - 1);
    long seq = 0;

    if (p == NULL) return; /* a BOOKMARK or ERROR */
    for (p += sizeof needle - 1; p < w->head + w->head_len && *p >= '0' && *p <= '9'; p++) seq = seq * 10 + (*p - '0');
    on_event_seq(w->cr, seq);
}

static void w_data(void *arg, const char *d, size_t n)
{
    struct watcher *w = arg;

    while (n > 0) {
        const char *nl;
        if (w->in_body) {
            if ((nl = memchr(d, '\n', n)) == NULL) return;
            n -= (size_t)(nl + 1 - d);
            d = nl + 1;
            w->in_body = false;
            continue;
        }
        size_t room = HEAD - w->head_len, take = n < room ? n : room;
        nl = memchr(d, '\n', take);
        if (nl) take = (size_t)(nl - d);
        memcpy(w->head + w->head_len, d, take);
        w->head_len += take;
        d += take;
        n -= take;
        if (nl || w->head_len == HEAD) {
            head_done(w);
            w->head_len = 0;
            w->in_body = nl == NULL;
            if (nl) {
                d++;
                n--;
            }
        }
    }
}

static void w_head(void *arg, const struct http_response *r)
{
    struct watcher *w = arg;
    if (r->status == 200) w->cr->heads++;
}

static void crowd_stop_cb(uv_async_t *a)
{
    struct crowd *cr = a->data;
    for (int i = 0; i < (cr->n + STREAMS_PER_CLIENT - 1) / STREAMS_PER_CLIENT; i++)
        http_client_close(cr->clients[i], NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *crowd_main(void *arg)
{
    struct crowd *cr = arg;
    uv_run(&cr->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* n watchers from revision rv; the first n_idle with a label selector no
 * create matches (they get nothing), the others get every create. */
static void crowd_start(struct crowd *cr, int n, int n_idle, const char *rv, _Atomic double *replied)
{
    static const struct http_stream_cbs cbs = {w_head, w_data, NULL};
    int nc = (n + STREAMS_PER_CLIENT - 1) / STREAMS_PER_CLIENT;
    char path[200], idle[240];
    struct http_request req = {.method = "GET", .timeout_ms = 30000};

    memset(cr, 0, sizeof *cr);
    cr->n = n;
    cr->replied = replied;
    cr->clients = calloc((size_t)nc + 1, sizeof *cr->clients);
    cr->w = calloc((size_t)n + 1, sizeof *cr->w);
    uv_loop_init(&cr->loop);
    uv_async_init(&cr->loop, &cr->stop, crowd_stop_cb);
    cr->stop.data = cr;
    snprintf(path, sizeof path, "/api/v1/namespaces/bench/configmaps?watch=1&resourceVersion=%s", rv);
    snprintf(idle, sizeof idle, "%s&labelSelector=bench%%3Didle", path);
    for (int i = 0; i < nc; i++)
        CHECK(http_client_new_tls(&cr->loop, c.m[0].url, c.token, cluster_tls(&c), &cr->clients[i]) == 0);
    for (int i = 0; i < n; i++) {
        cr->w[i].cr = cr;
        req.path = i < n_idle ? idle : path;
        CHECK(http_stream(cr->clients[i / STREAMS_PER_CLIENT], &req, &cbs, &cr->w[i], NULL) == 0);
    }
    pthread_create(&cr->thread, NULL, crowd_main, cr);
}

static void crowd_end(struct crowd *cr)
{
    uv_async_send(&cr->stop);
    pthread_join(cr->thread, NULL);
    uv_run(&cr->loop, UV_RUN_DEFAULT);
    uv_loop_close(&cr->loop);
    free(cr->clients);
    free(cr->w);
}

/* ---- writers ---- */

struct writers {
    uv_loop_t loop;
    uv_timer_t end;
    http_client *client;
    _Atomic double *replied;
    long next_seq, done, failed;
    struct hist latency;
    char value[VALUE_BYTES + 1];
    bool stopping;
};

struct wreq {
    struct writers *ws;
    long seq;
    double sent;
};

static void send_one(struct writers *ws);

static void on_reply(void *arg, int err, const struct http_response *r)
{
    struct wreq *q = arg;
    struct writers *ws = q->ws;
    double t = bench_now_ms();

    if (err == 0 && r->status == 201) {
        ws->done++;
        hist_add(&ws->latency, t - q->sent);
        if (q->seq < MAX_SEQ) atomic_store_explicit(&ws->replied[q->seq], t, memory_order_relaxed);
    } else {
        ws->failed++;
    }
    free(q);
    if (!ws->stopping) send_one(ws);
}

static void send_one(struct writers *ws)
{
    struct wreq *q = calloc(1, sizeof *q);
    struct http_request req = {.method = "POST", .path = "/api/v1/namespaces/bench/configmaps",
                               .content_type = "application/json", .timeout_ms = 30000};
    char body[VALUE_BYTES + 200];

    q->ws = ws;
    q->seq = ws->next_seq++;
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"bw-%ld\"},\"data\":{\"v\":\"%s\"}}", q->seq, ws->value);
    req.body = body;
    req.body_len = strlen(body);
    q->sent = bench_now_ms();
    if (http_request(ws->client, &req, on_reply, q, NULL) != 0) free(q);
}

static void on_end(uv_timer_t *t)
{
    struct writers *ws = t->data;
    ws->stopping = true;
    uv_close((uv_handle_t *)t, NULL);
}

/* Creates for `ms` with WRITERS in flight; then waits for the last replies. */
static void write_for(struct writers *ws, unsigned ms, long first_seq, _Atomic double *replied)
{
    memset(ws, 0, sizeof *ws);
    ws->replied = replied;
    ws->next_seq = first_seq;
    memset(ws->value, 'v', VALUE_BYTES);
    uv_loop_init(&ws->loop);
    CHECK(http_client_new_tls(&ws->loop, c.m[0].url, c.token, cluster_tls(&c), &ws->client) == 0);
    uv_timer_init(&ws->loop, &ws->end);
    ws->end.data = ws;
    uv_timer_start(&ws->end, on_end, ms, 0);
    for (int i = 0; i < WRITERS; i++) send_one(ws);
    while (!ws->stopping || ws->done + ws->failed < ws->next_seq - first_seq) uv_run(&ws->loop, UV_RUN_ONCE);
    http_client_close(ws->client, NULL, NULL);
    uv_run(&ws->loop, UV_RUN_DEFAULT);
    uv_loop_close(&ws->loop);
}

/* ---- watch fan-out ---- */

struct fan_row {
    const char *what;
    int receiving, idle;
    double rate, p50, p99, d50, d99, member_cpu, client_cpu, cpu_per_create;
    unsigned long long got, want;
    long failed;
};

static void fan_measure(struct fan_row *row, unsigned ms, long first_seq, _Atomic double *replied)
{
    static struct writers ws;
    static struct crowd cr;
    int st, n = row->receiving + row->idle;
    json_t *l = t_json(&c, 0, "GET", "/api/v1/namespaces/bench/configmaps?limit=1", NULL, &st);

    CHECK_INT(st, ==, 200);
    if (n > 0) {
        crowd_start(&cr, n, row->idle, orc_json_str(l, "metadata.resourceVersion"), replied);
        uint64_t until = test_now_ms() + 60000;
        while (cr.heads < n && test_now_ms() < until) test_sleep_ms(50);
        CHECK_INT(cr.heads, ==, n);
    }
    json_decref(l);
    double cpu0 = proc_cpu_ms(c.m[0].pid), self0 = proc_cpu_ms(getpid()), t0 = bench_now_ms();
    write_for(&ws, ms, first_seq, replied);
    double secs = (bench_now_ms() - t0) / 1000.0, cpu = proc_cpu_ms(c.m[0].pid) - cpu0;
    row->member_cpu = cpu / secs / 10;
    row->client_cpu = (proc_cpu_ms(getpid()) - self0) / secs / 10;
    row->rate = (double)ws.done / secs;
    row->p50 = hist_q(&ws.latency, 0.50);
    row->p99 = hist_q(&ws.latency, 0.99);
    row->cpu_per_create = ws.done ? cpu / (double)ws.done : 0;
    row->failed = ws.failed;
    if (n > 0) {
        row->want = (unsigned long long)ws.done * (unsigned long long)row->receiving;
        uint64_t until = test_now_ms() + 30000;
        while (cr.got < row->want && test_now_ms() < until) test_sleep_ms(20);
        row->got = cr.got;
        row->d50 = hist_q(&cr.delivery, 0.50);
        row->d99 = hist_q(&cr.delivery, 0.99);
        crowd_end(&cr);
    }
}

TEST_T(watch_fanout, 600)
{
    static const char *const extra[] = {"--max-connections-per-client", "4000", NULL};
    unsigned ms = env_uint("BENCH_SECONDS", 10) * 1000;
    int n = (int)env_uint("BENCH_WATCHERS", 1000);
    _Atomic double *replied = calloc(MAX_SEQ, sizeof *replied);
    struct fan_row rows[] = {
        {"none", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"idle: a label selector no create matches, + 10 receiving", 10, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"each receiving every create", n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    };
    int st;

    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 5000);
    json_decref(t_json(&c, 0, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"bench\"}}", &st));
    CHECK_INT(st, ==, 201);
    for (size_t i = 0; i < ORC_ARRAY_LEN(rows); i++)
        if (i == 0 || getenv("BENCH_ROW") == NULL || (size_t)atoi(getenv("BENCH_ROW")) == i)
            fan_measure(&rows[i], ms, (long)i * (MAX_SEQ / 3), replied);
    free(replied);
    printf("| reading watchers | creates/s | vs none | create p50 / p99 ms | delivery p50 / p99 ms | events delivered | member CPU %% | member CPU ms per create | bench client CPU %% |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < ORC_ARRAY_LEN(rows); i++) {
        const struct fan_row *r = &rows[i];
        char who[120], got[64] = "-", del[64] = "-";
        if (r->receiving + r->idle == 0) snprintf(who, sizeof who, "none");
        else snprintf(who, sizeof who, "%d, %s", r->idle ? r->idle : r->receiving, r->what);
        if (r->receiving) {
            snprintf(got, sizeof got, "%llu of %llu", r->got, r->want);
            snprintf(del, sizeof del, "%.1f / %.1f", r->d50, r->d99);
        }
        printf("| %s | %.0f | %.0f %% | %.1f / %.1f | %s | %s | %.0f | %.3f | %.0f |\n", who, r->rate,
               100.0 * r->rate / rows[0].rate, r->p50, r->p99, del, got, r->member_cpu, r->cpu_per_create,
               r->client_cpu);
    }
    if (getenv("BENCH_MEMBER_PID")) fprintf(stderr, "# member %d\n", (int)c.m[0].pid);
    printf("\n1 KiB ConfigMaps, %d creates in flight, %u s per row; targets with %d watchers: creates >= 50 %% of none, delivery p99 <= 100 ms. %ld failed creates.\n\n",
           WRITERS, ms / 1000, n, rows[0].failed + rows[1].failed + rows[2].failed);
}

/* ---- memory under abuse ---- */

static long rss_mib(void) { return proc_rss_kib(c.m[0].pid) / 1024; }


struct mem_row {
    const char *what;
    long before, peak, after;
    const char *main_figure;
};

static void sample(struct mem_row *row)
{
    long now = rss_mib();
    if (now > row->peak) row->peak = now;
}

/* After an abuse ends, the member gives memory back within a sweep. */
static void settle(struct mem_row *row)
{
    test_sleep_ms(2500);
    row->after = rss_mib();
}

#define N_BODIES 400
#define PIECE (256u << 10)

static void abuse_bodies(struct mem_row *row)
{
    static struct rawtls t[N_BODIES];
    static const char head[] = "POST /api/v1/namespaces/bench/configmaps HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\nContent-Length: 3145728\r\n\r\n";
    char *piece = calloc(1, PIECE);

    row->before = row->peak = rss_mib();
    for (int i = 0; i < N_BODIES; i++)
        if (rawtls_open(&t[i], c.m[0].ip, 6443, NULL, 0) == 0) rawtls_send(&t[i], head, sizeof head - 1);
    for (unsigned sent = 0; sent < (3u << 20); sent += PIECE) {
        for (int i = 0; i < N_BODIES; i++) rawtls_send(&t[i], piece, PIECE);
        sample(row);
    }
    for (int i = 0; i < N_BODIES; i++) rawtls_close(&t[i]);
    free(piece);
    settle(row);
}

#define N_STUCK 1000
#define STUCK_VALUE (256u << 10)
#define STUCK_WRITES 40

static void abuse_watchers(struct mem_row *row)
{
    static struct rawtls t[N_STUCK];
    char req[600], *body = malloc(STUCK_VALUE + 200);
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/namespaces/bench/configmaps?watch=1&resourceVersion=%lld HTTP/1.1\r\n"
                     "Host: x\r\nAuthorization: Bearer %s\r\n\r\n", member_revision(&c, 0), c.token);

    row->before = row->peak = rss_mib();
    for (int i = 0; i < N_STUCK; i++)
        if (rawtls_open(&t[i], c.m[0].ip, 6443, NULL, 4096) == 0) rawtls_send(&t[i], req, (size_t)n);
    for (int i = 0; i < STUCK_WRITES; i++) {
        int k = snprintf(body, 200, "{\"metadata\":{\"name\":\"stuck-%d\"},\"data\":{\"k\":\"", i);
        memset(body + k, 'a' + i % 26, STUCK_VALUE);
        strcpy(body + k + STUCK_VALUE, "\"}}");
        t_http(&c, 0, "POST", "/api/v1/namespaces/bench/configmaps", NULL, body, NULL, NULL);
        sample(row);
    }
    test_sleep_ms(3000); /* the member ends them */
    sample(row);
    for (int i = 0; i < N_STUCK; i++) rawtls_close(&t[i]);
    free(body);
    settle(row);
}

#define CAP 2000

static void abuse_idle(struct mem_row *row, int *opened)
{
    static struct rawtls t[CAP + 10];

    row->before = row->peak = rss_mib();
    *opened = 0;
    for (int i = 0; i < CAP + 10; i++) {
        if (rawtls_open(&t[i], c.m[0].ip, 6443, NULL, 0) != 0 || rawtls_wait_closed(&t[i], 0)) break;
        (*opened)++;
    }
    sample(row);
    CHECK_INT(t_http(&c, 0, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 0); /* at the cap: refused */
    for (int i = 0; i < *opened; i++) rawtls_close(&t[i]);
    settle(row);
    CHECK_INT(t_http(&c, 0, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 200);
}

TEST_T(memory_under_abuse, 600)
{
    static const char *const extra[] = {"--max-connections", "2000", "--max-connections-per-client", "2000", NULL};
    struct mem_row rows[3] = {
        {"400 unauthenticated connections, each declaring a 3 MiB body and sending it", 0, 0, 0,
         "1.29 GB in 7 s; 1,500 OOM-killed"},
        {"1,000 watchers that never read, while 10 MiB of objects are written", 0, 0, 0,
         "2,000 took 4.1 GB in 40 s, then OOM; 100 left 3 GB"},
        {"idle TLS connections up to --max-connections 2000", 0, 0, 0,
         "no cap: the API unavailable at the fd limit"},
    };
    struct rlimit rl;
    int st, opened = 0;

    /* This client holds thousands of sockets. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 5000);
    json_decref(t_json(&c, 0, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"bench\"}}", &st));
    CHECK_INT(st, ==, 201);
    long idle = rss_mib();
    abuse_bodies(&rows[0]);
    abuse_watchers(&rows[1]);
    abuse_idle(&rows[2], &opened);
    printf("| abuse of one member (idle RSS %ld MiB) | RSS before, MiB | peak during | 2.5 s after it ends | on main (issue 7) |\n", idle);
    printf("|---|---|---|---|---|\n");
    for (int i = 0; i < 3; i++)
        printf("| %s | %ld | %ld | %ld | %s |\n", rows[i].what, rows[i].before, rows[i].peak, rows[i].after,
               rows[i].main_figure);
    printf("\n%d idle connections were accepted before the cap refused more; a request from another client was refused at the cap and served once they left.\n\n", opened);
}
