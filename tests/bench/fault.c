/* fault.c — fault benchmark: kill -9 of the leader under 8 concurrent
 * writers, FAULT_ROUNDS times (default 10), on a 3-member orc cluster and
 * a 3-member etcd cluster (Debian's etcd-server, its JSON gateway) with the
 * same writers (tests/harness/writers.h); prints one markdown table on
 * stdout: acknowledged writes lost and duplicated, and seconds from the
 * kill until a write succeeds again. Run alone:
 * `O=build ./build/tests/bench/fault` (FAULT_ROUNDS=3 for a quick look;
 * FAULT_ONLY=orc or etcd to run one system). */
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/fault/fault.h"

#define MAX_ROUNDS 50
#define WRITERS 8

struct result {
    const char *system;
    int rounds;
    unsigned recovery[MAX_ROUNDS];
    size_t acked, lost, duplicated, unknown;
};

static int rounds(void)
{
    const char *e = getenv("FAULT_ROUNDS");
    int n = e ? atoi(e) : 10;
    return n < 1 ? 1 : n > MAX_ROUNDS ? MAX_ROUNDS : n;
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

static double median_s(const unsigned *v, int n)
{
    unsigned s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_uint);
    return (n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0) / 1000.0;
}

static void finish(struct result *r, struct writers *w, int ep, int n_rounds)
{
    struct writers_stored *s = NULL;
    size_t n = 0;

    r->rounds = n_rounds;
    r->acked = w->n_acks;
    r->duplicated = w->duplicated;
    r->unknown = w->st.unknown;
    CHECKF(writers_fetch(w, ep, &s, &n) == 0, "%s: cannot list what was written", r->system);
    r->lost = writers_lost(w, s, n);
    free(s);
    fault_print_ms(r->system, r->recovery, n_rounds);
    fprintf(stderr, "# %s: %zu attempts, %zu created, %zu unknown (500: %zu, 503: %zu, 504: %zu), "
            "%zu refused, %zu other; probes %zu of %zu\n", r->system, w->st.attempts, w->st.created,
            w->st.unknown, w->st.status_500, w->st.status_503, w->st.status_504, w->st.refused,
            w->st.other, w->st.probes_acked, w->st.probes);
}

/* ---- orc ---- */

static void bench_orc(struct result *r, int n_rounds)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    static struct writers w;

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    fault_writers(&w, &c);
    writers_start(&w, WRITERS);
    test_sleep_ms(1000);
    for (int i = 0; i < n_rounds; i++) r->recovery[i] = fault_kill_leader(&c, &w, 30000);
    writers_stop(&w);
    finish(r, &w, cluster_leader(&c, 10000), n_rounds);
    writers_free(&w);
    for (int i = 0; i < c.n; i++) member_stop(&c, i);
}

/* ---- etcd ---- */

struct etcd {
    char name[3][8], ip[3][32], dir[3][512], log[3][512], cluster[512];
    pid_t pid[3];
};

static void etcd_kill_all(void *arg)
{
    struct etcd *e = arg;
    for (int i = 0; i < 3; i++)
        if (e->pid[i] > 0) {
            kill(e->pid[i], SIGKILL);
            waitpid(e->pid[i], NULL, 0);
            e->pid[i] = 0;
        }
}

static void etcd_start(struct etcd *e, int i)
{
    char client[64], peer[64];
    pid_t pid;

    snprintf(client, sizeof client, "http://%s:2379", e->ip[i]);
    snprintf(peer, sizeof peer, "http://%s:2380", e->ip[i]);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(e->log[i], O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl("/usr/bin/etcd", "etcd", "--name", e->name[i], "--data-dir", e->dir[i],
              "--listen-client-urls", client, "--advertise-client-urls", client,
              "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
              "--initial-cluster", e->cluster, "--initial-cluster-state", "new",
              "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    e->pid[i] = pid;
}

/* GET-like POST to member i's gateway; the parsed reply or NULL. */
static json_t *etcd_call(struct etcd *e, int i, const char *path, const char *body)
{
    char url[64];
    struct http_request req = {.method = "POST", .path = path, .content_type = "application/json",
                               .body = body, .body_len = strlen(body), .timeout_ms = 1000};
    struct http_response resp = {0};
    json_t *j = NULL;

    snprintf(url, sizeof url, "http://%s:2379", e->ip[i]);
    if (e->pid[i] > 0 && http_sync_request(url, NULL, &req, &resp) == 0 && resp.status == 200)
        j = json_loadb(resp.body, resp.body_len, 0, NULL);
    http_response_free(&resp);
    return j;
}

static int etcd_leader(struct etcd *e, unsigned timeout_ms)
{
    uint64_t start = test_now_ms();

    do {
        for (int i = 0; i < 3; i++) {
            json_t *s = etcd_call(e, i, "/v3/maintenance/status", "{}");
            const char *id = orc_json_str(s, "header.member_id"), *lead = orc_json_str(s, "leader");
            bool is = id && lead && strcmp(id, lead) == 0;
            json_decref(s);
            if (is) return i;
        }
        test_sleep_ms(20);
    } while (test_now_ms() - start < timeout_ms);
    return -1;
}

static void etcd_wait_ready(struct etcd *e, int i)
{
    uint64_t start = test_now_ms();
    json_t *s;

    while ((s = etcd_call(e, i, "/v3/kv/range", "{\"key\":\"aGVhbHRo\"}")) == NULL) {
        CHECKF(test_now_ms() - start < 20000, "etcd member %d not serving after 20 s (log %s)", i,
               e->log[i]);
        test_sleep_ms(10);
    }
    json_decref(s);
}

static void bench_etcd(struct result *r, int n_rounds)
{
    static struct etcd e;
    static struct writers w;
    const char *tmp = test_tmpdir();
    int a = 20 + (int)(getpid() % 200), b = (int)((getpid() / 200) % 250) + 1;
    size_t off = 0;

    memset(&e, 0, sizeof e);
    test_defer(etcd_kill_all, &e);
    for (int i = 0; i < 3; i++) {
        snprintf(e.name[i], sizeof e.name[i], "e%d", i);
        snprintf(e.ip[i], sizeof e.ip[i], "127.%d.%d.%d", a, b, 40 + i);
        snprintf(e.dir[i], sizeof e.dir[i], "%s/e%d", tmp, i);
        snprintf(e.log[i], sizeof e.log[i], "%s/e%d.log", tmp, i);
        off += (size_t)snprintf(e.cluster + off, sizeof e.cluster - off, "%se%d=http://%s:2380",
                                i ? "," : "", i, e.ip[i]);
    }
    for (int i = 0; i < 3; i++) etcd_start(&e, i);
    for (int i = 0; i < 3; i++) etcd_wait_ready(&e, i);
    memset(&w, 0, sizeof w);
    w.dialect = WRITERS_ETCD;
    w.n_ep = 3;
    for (int i = 0; i < 3; i++) snprintf(w.url[i], sizeof w.url[i], "http://%s:2379", e.ip[i]);
    writers_start(&w, WRITERS);
    test_sleep_ms(1000);
    for (int i = 0; i < n_rounds; i++) {
        int lead = etcd_leader(&e, 10000);
        CHECKF(lead >= 0, "etcd: no leader");
        uint64_t t = test_now_ms();
        kill(e.pid[lead], SIGKILL);
        waitpid(e.pid[lead], NULL, 0);
        e.pid[lead] = 0;
        r->recovery[i] = fault_wait_writable(&w, t, 30000);
        test_sleep_ms(500);
        etcd_start(&e, lead);
        etcd_wait_ready(&e, lead);
        test_sleep_ms(1000);
    }
    writers_stop(&w);
    finish(r, &w, etcd_leader(&e, 10000), n_rounds);
    writers_free(&w);
    etcd_kill_all(&e);
}

static void print_row(const struct result *r)
{
    unsigned lo = r->recovery[0], hi = r->recovery[0];
    for (int i = 1; i < r->rounds; i++) {
        if (r->recovery[i] < lo) lo = r->recovery[i];
        if (r->recovery[i] > hi) hi = r->recovery[i];
    }
    printf("| %s | %d | %zu | %zu | %zu | %zu | %.2f | %.2f | %.2f |\n", r->system, r->rounds,
           r->acked, r->lost, r->duplicated, r->unknown, median_s(r->recovery, r->rounds),
           lo / 1000.0, hi / 1000.0);
}

TEST_T(kill_leader_under_8_writers, 1800)
{
    static struct result orc = {.system = "orc"}, etcd = {.system = "etcd"};
    int n = rounds();

    const char *only = getenv("FAULT_ONLY");
    bool with_orc = !only || strcmp(only, "etcd") != 0, with_etcd = !only || strcmp(only, "orc") != 0;

    CHECKF(!with_etcd || access("/usr/bin/etcd", X_OK) == 0, "no /usr/bin/etcd (make deps)");
    if (with_orc) bench_orc(&orc, n);
    if (with_etcd) bench_etcd(&etcd, n);
    printf("\n| kill -9 of the leader, 3 members, %d writers | rounds | acknowledged | lost | "
           "duplicated | unknown outcomes retried | writes again after, median s | min s | max s |\n",
           WRITERS);
    printf("|---|---|---|---|---|---|---|---|---|\n");
    if (with_orc) print_row(&orc);
    if (with_etcd) print_row(&etcd);
    fflush(stdout);
    CHECKF(orc.lost == 0 && orc.duplicated == 0, "orc lost %zu and duplicated %zu writes", orc.lost,
           orc.duplicated);
}
