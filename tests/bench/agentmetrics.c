/* agentmetrics.c — what metrics collection costs the node agent: one
 * `orcd agent` with 50 sleeping pods, its CPU time and memory over a window
 * with nobody scraping, with the default 15 s resolution, and with 1 s;
 * then the latency of /stats/summary and /metrics/cadvisor. Markdown on
 * stdout. */
#include "client/http.h"
#include "tests/agent/agentfx.h"

#include <math.h>
#include "tests/bench/bench.h"

enum { NPODS = 50, NLAT = 50, SETTLE_MS = 5000 };

/* The scrapes of one period: the member's collector (/metrics/resource,
 * every --metric-resolution, a connection each time) and a Prometheus
 * scraping the agent's own /metrics and its cAdvisor series (kept alive). */
static const char *const SCRAPES[] = {"/metrics/resource", "/metrics", "/metrics/cadvisor"};
enum { NSCRAPES = 3 };

struct mode {
    const char *name;
    unsigned every_ms; /* 0: nobody scrapes */
    double cpu_s, rss_mib, hwm_mib;
    int scrapes;
    double sum_ms[NLAT], cad_ms[NLAT];
};

static struct {
    http_client *c;       /* kept alive, as Prometheus' */
    char url[96], *ca, *token;
    size_t bytes[NSCRAPES + 1]; /* the last body of each path; [NSCRAPES]: /stats/summary */
} B;

struct call {
    bool done;
    int err, status;
    size_t len;
};

static void call_done(void *arg, int err, const struct http_response *r)
{
    struct call *c = arg;

    c->done = true;
    c->err = err;
    c->status = r ? r->status : 0;
    c->len = r ? r->body_len : 0;
}

static bool is_done(void *arg) { return ((struct call *)arg)->done; }

static http_client *client_new(void)
{
    http_client *c = NULL;

    CHECK_INT(http_client_new_tls(&F.loop, B.url, B.token, &(struct http_tls){.ca_pem = B.ca}, &c), ==, 0);
    return c;
}

static void client_closed(void *arg) { *(bool *)arg = true; }

static void client_close(http_client *c)
{
    bool closed = false;

    http_client_close(c, client_closed, &closed);
    if (!fx_run_until(fx_flag, &closed, 10000)) test_fail_later("a client of the agent's port did not close");
}

/* One GET of the agent's port through B.c, or through a connection of its
 * own when fresh (the member's collector: agentcall.c's one-shot GET, a
 * TLS handshake each time); its ms, the body's size into *len. */
static double agent_get(const char *path, bool fresh, size_t *len)
{
    struct call c = {0};
    struct http_request req = {.method = "GET", .path = path, .timeout_ms = 20000};
    http_client *via = fresh ? client_new() : B.c;
    double t = bench_now_ms();

    CHECK_INT(http_request(via, &req, call_done, &c, NULL), ==, 0);
    CHECKF(fx_run_until(is_done, &c, 25000), "GET %s: no answer", path);
    t = bench_now_ms() - t;
    if (fresh) client_close(via);
    CHECKF(c.err == 0 && c.status == 200, "GET %s: %s %d", path, orc_strerror(c.err), c.status);
    if (len) *len = c.len;
    return t;
}

static void clients_close(void *arg)
{
    (void)arg;
    if (B.c) client_close(B.c);
    B.c = NULL;
    free(B.ca);
    free(B.token);
}

/* Clients of the agent's port as the API servers are: its CA, the port
 * token the agent keeps in its data dir. */
static void clients_open(void)
{
    char path[800];

    snprintf(path, sizeof path, "%s/ca.crt", A.dir);
    CHECK((B.ca = fx_read(path)) != NULL);
    snprintf(path, sizeof path, "%s/port-token", A.dir);
    CHECK((B.token = fx_read(path)) != NULL);
    B.token[strcspn(B.token, "\n")] = '\0';
    snprintf(B.url, sizeof B.url, "https://%s", A.listen);
    B.c = client_new();
    test_defer(clients_close, NULL);
}

/* ---- the pods ---- */

static int pods_running(void)
{
    int st = 0, n = 0;
    json_t *l = t_json(&AC, 0, "GET", "/api/v1/namespaces/default/pods", NULL, &st);
    const json_t *items = orc_json_get(l, "items");

    for (size_t i = 0; st == 200 && i < json_array_size(items); i++) {
        const char *ph = orc_json_str(json_array_get(items, i), "status.phase");
        n += ph && strcmp(ph, "Running") == 0;
    }
    json_decref(l);
    return n;
}

static void pods_start(void)
{
    char name[32], spec[512];
    uint64_t end;

    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}",
             F.image);
    for (int i = 0; i < NPODS; i++) {
        snprintf(name, sizeof name, "p-%02d", i);
        afx_pod(name, spec);
    }
    for (end = test_now_ms() + 120000; pods_running() < NPODS && test_now_ms() < end;) usleep(500 * 1000);
    if (pods_running() < NPODS) afx_dump_log();
    CHECKF(pods_running() == NPODS, "%d of %d pods Running", pods_running(), NPODS);
}

/* ---- the agent process ---- */

/* utime+stime+cutime+cstime of /proc/PID/stat, in seconds: the agent and
 * the children it waited for (it forks none to read usage). */
static double cpu_s(pid_t pid)
{
    char path[64], buf[2048], *p;
    unsigned long long f[4];
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    CHECK((fp = fopen(path, "r")) != NULL);
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime... */
    CHECK((p = strrchr(buf, ')')) != NULL);
    CHECK(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &f[0], &f[1], &f[2],
                 &f[3]) == 4);
    return (double)(f[0] + f[1] + f[2] + f[3]) / (double)sysconf(_SC_CLK_TCK);
}

static double status_mib(pid_t pid, const char *field)
{
    long kib = bench_proc_kib(pid, "status", field);

    CHECKF(kib >= 0, "%s of the agent: not readable", field);
    return kib / 1024.0;
}

/* VmHWM from now on (clear_refs 5: the peak reset to the current RSS). */
static void hwm_reset(pid_t pid)
{
    char path[64];

    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    fx_sh("echo 5 > %s", path);
}

/* ---- the window ---- */

static void woke(uv_timer_t *t) { *(bool *)t->data = true; }
static void timer_closed(uv_handle_t *h) { *(bool *)h->data = true; }

/* ms on the loop, blocked in it (the client sees its connections close),
 * not spinning: the machine's two cores are what is measured. */
static void sleep_ms(double ms)
{
    uv_timer_t t;
    bool fired = false, closed = false;

    if (ms <= 0) return;
    CHECK_INT(uv_timer_init(&F.loop, &t), ==, 0);
    t.data = &fired;
    CHECK_INT(uv_timer_start(&t, woke, (uint64_t)ms, 0), ==, 0);
    fx_run_until(fx_flag, &fired, (unsigned)ms + 5000);
    t.data = &closed;
    uv_close((uv_handle_t *)&t, timer_closed);
    fx_run_until(fx_flag, &closed, 5000);
}

/* W ms of the agent's life, scraped every m->every_ms (the first set at
 * once, as a scraper does when it starts), nobody between scrapes. */
static void window(struct mode *m, unsigned w_ms)
{
    double start, c0;

    hwm_reset(A.pid);
    c0 = cpu_s(A.pid);
    start = bench_now_ms();
    for (double next = start; next < start + w_ms; next += m->every_ms ? m->every_ms : w_ms) {
        sleep_ms(next - bench_now_ms());
        if (m->every_ms == 0) continue;
        for (int i = 0; i < NSCRAPES; i++) agent_get(SCRAPES[i], i == 0, &B.bytes[i]);
        m->scrapes++;
    }
    sleep_ms(start + w_ms - bench_now_ms());
    m->cpu_s += cpu_s(A.pid) - c0;
    m->rss_mib = status_mib(A.pid, "VmRSS");
    m->hwm_mib = fmax(m->hwm_mib, status_mib(A.pid, "VmHWM"));
}

static void latencies(struct mode *m)
{
    for (int i = 0; i < NLAT; i++) {
        m->sum_ms[i] = agent_get("/stats/summary", false, &B.bytes[NSCRAPES]);
        m->cad_ms[i] = agent_get("/metrics/cadvisor", false, NULL);
    }
}

/* ---- the report ---- */

/* "p50 / p99" of v (sorted in place; nearest rank). */
static void pcts(double *v, int n, char *out, size_t len)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    snprintf(out, len, "%.1f / %.1f", v[n / 2], v[(int)ceil(0.99 * n) - 1]);
}

static void report(struct mode *modes, int n, unsigned w_ms, int rounds)
{
    double off = modes[0].cpu_s / rounds;

    printf("| agent, %d pods, %u s window x %d | scrape sets | CPU s | CPU %% of a core | vs off | VmRSS MiB | "
           "VmHWM MiB | /stats/summary p50 / p99 ms | /metrics/cadvisor p50 / p99 ms |\n",
           NPODS, w_ms / 1000, rounds);
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        struct mode *m = &modes[i];
        double c = m->cpu_s / rounds;
        char sum[48], cad[48], vs[48];
        pcts(m->sum_ms, NLAT, sum, sizeof sum);
        pcts(m->cad_ms, NLAT, cad, sizeof cad);
        if (i == 0) snprintf(vs, sizeof vs, "(anchor)");
        else snprintf(vs, sizeof vs, "%+.2f points", (c - off) * 100.0 / (w_ms / 1000.0));
        printf("| %s | %d | %.2f | %.2f %% | %s | %.1f | %.1f | %s | %s |\n", m->name, m->scrapes / rounds, c,
               c * 100.0 / (w_ms / 1000.0), vs, m->rss_mib, m->hwm_mib, sum, cad);
    }
    if (modes[n - 1].scrapes > 0)
        printf("\nagent CPU per scrape set (resource + /metrics + cadvisor, 1 s rows beside off): %.1f ms; "
               "bodies: resource %zu KiB, /metrics %zu KiB, cadvisor %zu KiB, summary %zu KiB\n",
               (modes[n - 1].cpu_s - modes[0].cpu_s) * 1000.0 / modes[n - 1].scrapes, B.bytes[0] / 1024,
               B.bytes[1] / 1024, B.bytes[2] / 1024, B.bytes[3] / 1024);
}

TEST_T(agent_metrics_cost, 1800)
{
    /* the member's own collector off: the benchmark plays it, so every
     * mode runs on the same agent and pods, in turns */
    static const char *const server[] = {"--metric-resolution", "0", NULL};
    static struct mode modes[] = {{.name = "off: nobody scraping (`--metric-resolution 0`)", .every_ms = 0},
                                  {.name = "on: every 15 s (the default resolution + Prometheus)", .every_ms = 15000},
                                  {.name = "on: every 1 s", .every_ms = 1000}};
    unsigned w_ms = (unsigned)bench_env_int("BENCH_AGENT_SECONDS", 60) * 1000;
    int rounds = bench_env_int("BENCH_AGENT_ROUNDS", 1);

    AFX_SERVER_EXTRA = server;
    afx_setup();
    clients_open();
    pods_start();
    agent_get("/stats/summary", false, NULL);
    sleep_ms(SETTLE_MS);
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < 3; k++) {
            /* odd rounds backwards: a slow moment of the machine does not land on one mode only */
            struct mode *m = &modes[r % 2 ? 2 - k : k];
            fprintf(stderr, "# round %d: %s, %u s\n", r + 1, m->name, w_ms / 1000);
            window(m, w_ms);
            if (r == rounds - 1) latencies(m);
        }
    report(modes, 3, w_ms, rounds);
    printf("\n");
    fflush(stdout);
}
