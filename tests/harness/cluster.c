/* cluster.c — starting, stopping and talking to real orcd processes. */
#include "tests/harness/cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/http.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/tls.h"
#include "tests/harness/test.h"

const char *t_bin(const char *name)
{
    static char path[4][512];
    static int next;
    const char *o = getenv("O");
    char *p = path[next++ % 4];

    snprintf(p, 512, "%s/%s", o && *o ? o : "build", name);
    return p;
}

static void kill_member(void *arg)
{
    struct member *m = arg;
    if (m->pid > 0) {
        kill(m->pid, SIGKILL);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

/* Sanitizer reports a member wrote to its log, if any (checked at stop). */
static bool log_dirty(const struct member *m)
{
    struct orc_buf b = ORC_BUF_INIT;
    bool dirty = false;

    if (orc_file_read(m->log, 64u << 20, &b) == 0 && b.data)
        dirty = strstr(b.data, "AddressSanitizer") || strstr(b.data, "LeakSanitizer")
                || strstr(b.data, "runtime error:");
    orc_buf_free(&b);
    return dirty;
}

/* A failed case's CI output is often all there is to go on: the last
 * warnings and errors of each member's log say what the servers saw. */
static void print_log_warnings(const struct member *m)
{
    enum { KEEP = 20 };
    struct orc_buf b = ORC_BUF_INIT;
    const char *kept[KEEP];
    size_t lens[KEEP], n = 0;

    if (orc_file_read(m->log, 64u << 20, &b) != 0 || b.data == NULL) {
        orc_buf_free(&b);
        return;
    }
    for (const char *l = b.data; *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        const char *lvl = memchr(l, 'Z', len < 40 ? len : 40);
        if (lvl && (strncmp(lvl, "Z WARN", 6) == 0 || strncmp(lvl, "Z ERROR", 7) == 0)) {
            kept[n % KEEP] = l;
            lens[n % KEEP] = len;
            n++;
        }
        l += len + (end != NULL);
    }
    for (size_t i = n > KEEP ? n - KEEP : 0; i < n; i++)
        fprintf(stderr, "# m%d: %.*s\n", m->idx, (int)lens[i % KEEP], kept[i % KEEP]);
    orc_buf_free(&b);
}

/* At the end of a case: members still running are stopped as an operator
 * would (SIGTERM) and must exit cleanly, with no sanitizer report. */
static void stop_member_at_end(void *arg)
{
    struct member *m = arg;
    uint64_t start = test_now_ms();
    int status = 0;

    if (test_failing()) print_log_warnings(m);
    if (m->pid <= 0) return;
    kill(m->pid, SIGTERM);
    while (waitpid(m->pid, &status, WNOHANG) == 0) {
        if (test_now_ms() - start > 10000) {
            kill_member(m);
            test_fail_later("member %d ignored SIGTERM for 10 s (log %s)", m->idx, m->log);
            return;
        }
        test_sleep_ms(10);
    }
    m->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        test_fail_later("member %d exited with status %d at the end (log %s)", m->idx, status, m->log);
    if (log_dirty(m)) test_fail_later("sanitizer report in %s", m->log);
}

void cluster_init(struct cluster *c, int n)
{
    const char *tmp = test_tmpdir();
    int a = 20 + (int)(getpid() % 200), b = (int)((getpid() / 200) % 250) + 1;

    memset(c, 0, sizeof *c);
    c->n = n;
    snprintf(c->home, sizeof c->home, "%s/home", tmp);
    mkdir(c->home, 0700);
    for (int i = 0; i < n; i++) {
        struct member *m = &c->m[i];
        m->idx = i;
        snprintf(m->ip, sizeof m->ip, "127.%d.%d.%d", a, b, 10 + i);
        snprintf(m->listen, sizeof m->listen, "%s:6443", m->ip);
        snprintf(m->url, sizeof m->url, "https://%s", m->listen);
        snprintf(m->dir, sizeof m->dir, "%s/m%d", tmp, i);
        snprintf(m->log, sizeof m->log, "%s/m%d.log", tmp, i);
        test_defer(stop_member_at_end, m);
    }
}

static void read_token(struct cluster *c, int i)
{
    char path[600];
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(path, sizeof path, "%s/token", c->m[i].dir);
    CHECKF(orc_file_read(path, 255, &b) == 0, "no token file in %s", c->m[i].dir);
    snprintf(c->token, sizeof c->token, "%s", b.data);
    orc_buf_free(&b);
}

void member_start(struct cluster *c, int i, bool join, const char *const *extra)
{
    struct member *m = &c->m[i];
    const char *argv[44];
    char pod_logs[600], ctr_logs[600];
    int n = 0, joiner = -1;
    pid_t pid;

    CHECK(m->pid == 0);
    for (int j = 0; join && j < c->n && joiner < 0; j++)
        if (j != i && c->m[j].pid > 0) joiner = j;
    CHECKF(!join || joiner >= 0, "no running member to join through");
    argv[n++] = t_bin("orcd");
    argv[n++] = "server";
    argv[n++] = "--data-dir";
    argv[n++] = m->dir;
    argv[n++] = "--listen";
    argv[n++] = m->listen;
    /* never the node's /var/log: many agents share this machine */
    snprintf(pod_logs, sizeof pod_logs, "%s/log/pods", m->dir);
    snprintf(ctr_logs, sizeof ctr_logs, "%s/log/containers", m->dir);
    argv[n++] = "--pod-log-dir";
    argv[n++] = pod_logs;
    argv[n++] = "--container-log-dir";
    argv[n++] = ctr_logs;
    if (!c->with_agent || (c->agents > 0 && i >= c->agents)) argv[n++] = "--no-agent";
    if (c->no_controllers) {
        argv[n++] = "--controllers";
        argv[n++] = "-*";
    } else if (!c->root_ca || !c->service_accounts) {
        argv[n++] = "--controllers";
        argv[n++] = !c->root_ca && !c->service_accounts ? "*,-rootca,-serviceaccount"
                    : !c->root_ca                       ? "*,-rootca"
                                                        : "*,-serviceaccount";
    }
    if (join) {
        argv[n++] = "--join";
        argv[n++] = c->m[joiner].url;
        argv[n++] = "--token";
        argv[n++] = c->token;
    }
    for (; extra && *extra && n < 42; extra++) argv[n++] = *extra;
    argv[n] = NULL;
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(m->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setenv("HOME", c->home, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    m->pid = pid;
}

unsigned member_wait_ready(struct cluster *c, int i, unsigned timeout_ms)
{
    uint64_t start = test_now_ms();

    for (;;) {
        int st = t_http(c, i, "GET", "/readyz", NULL, NULL, NULL, NULL);
        if (st == 200) break;
        int status;
        CHECKF(waitpid(c->m[i].pid, &status, WNOHANG) == 0, "member %d exited (log %s)", i,
               c->m[i].log);
        CHECKF(test_now_ms() - start < timeout_ms, "member %d not ready after %u ms (log %s)", i,
               timeout_ms, c->m[i].log);
        test_sleep_ms(5);
    }
    if (c->token[0] == '\0') read_token(c, i);
    return (unsigned)(test_now_ms() - start);
}

void member_kill(struct cluster *c, int i) { kill_member(&c->m[i]); }

static void check_log_clean(struct member *m)
{
    CHECKF(!log_dirty(m), "sanitizer report in %s", m->log);
}

void member_stop(struct cluster *c, int i)
{
    struct member *m = &c->m[i];
    uint64_t start = test_now_ms();
    int status = 0;

    CHECK(m->pid > 0);
    kill(m->pid, SIGTERM);
    while (waitpid(m->pid, &status, WNOHANG) == 0) {
        if (test_now_ms() - start > 10000) {
            kill_member(m);
            test_fail(__FILE__, __LINE__, "member %d did not exit 10 s after SIGTERM (log %s)", i, m->log);
        }
        test_sleep_ms(10);
    }
    m->pid = 0;
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "member %d exit status %d (log %s)", i,
           status, m->log);
    check_log_clean(m);
}

void cluster_start(struct cluster *c, const char *const *extra)
{
    member_start(c, 0, false, extra);
    member_wait_ready(c, 0, 5000);
    for (int i = 1; i < c->n; i++) {
        member_start(c, i, true, extra);
        member_wait_ready(c, i, 20000);
    }
    for (int i = 1; i < c->n; i++) member_wait_revision(c, i, member_revision(c, 0), 10000);
}

void member_role(struct cluster *c, int i, char *out, size_t n)
{
    struct http_request req = {.method = "GET", .path = "/internal/v1/status", .timeout_ms = 1000};
    struct http_response r = {0};

    out[0] = '\0';
    if (c->m[i].pid == 0 || cluster_tls(c) == NULL ||
        http_sync_request_tls(c->m[i].url, c->token[0] ? c->token : NULL, cluster_tls(c), &req, &r,
                              NULL) != 0)
        return;
    json_t *s = r.status == 200 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
    const char *role = json_string_value(json_object_get(s, "role"));
    snprintf(out, n, "%s", role ? role : "");
    json_decref(s);
    http_response_free(&r);
}

int cluster_leader_except(struct cluster *c, int skip, unsigned timeout_ms)
{
    uint64_t start = test_now_ms();
    char role[32];

    do {
        for (int i = 0; i < c->n; i++) {
            if (i == skip) continue;
            member_role(c, i, role, sizeof role);
            if (strcmp(role, "leader") == 0) return i;
        }
        test_sleep_ms(20);
    } while (test_now_ms() - start < timeout_ms);
    return -1;
}

int cluster_leader(struct cluster *c, unsigned timeout_ms)
{
    return cluster_leader_except(c, -1, timeout_ms);
}

long long member_revision(struct cluster *c, int i)
{
    int st;
    json_t *s = t_json(c, i, "GET", "/internal/v1/status", NULL, &st);
    long long rev = s ? (long long)json_integer_value(json_object_get(s, "revision")) : -1;
    json_decref(s);
    return rev;
}

long long member_wait_quiet(struct cluster *c, int i, unsigned quiet_ms)
{
    uint64_t start = test_now_ms(), since = start;
    long long rev = member_revision(c, i), now;

    while (test_now_ms() - since < quiet_ms) {
        CHECKF(test_now_ms() - start < 10000, "member %d still writing after 10 s", i);
        test_sleep_ms(50);
        if ((now = member_revision(c, i)) != rev) {
            rev = now;
            since = test_now_ms();
        }
    }
    return rev;
}

void member_wait_revision(struct cluster *c, int i, long long revision, unsigned timeout_ms)
{
    uint64_t start = test_now_ms();
    long long have;

    while ((have = member_revision(c, i)) < revision) {
        CHECKF(test_now_ms() - start < timeout_ms, "member %d at revision %lld, want %lld", i, have,
               revision);
        test_sleep_ms(10);
    }
}

/* One context per test process, shared by every client it makes (a static,
 * so no leak report while a case keeps its cluster on its stack); remade
 * when a case starts a cluster with another CA. */
static struct orc_tls_ctx *shared_ctx;
static struct orc_buf shared_ca;

const struct http_tls *cluster_tls(struct cluster *c)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[600];

    for (int i = 0; c->tls.ctx == NULL && i < c->n; i++) {
        snprintf(path, sizeof path, "%s/ca.crt", c->m[i].dir);
        if (orc_file_read(path, 65536, &b) != 0 || b.len == 0) continue;
        if (shared_ctx == NULL || shared_ca.data == NULL || strcmp(shared_ca.data, b.data) != 0) {
            struct orc_tls_ctx *ctx = NULL;
            if (orc_tls_client_ctx(&(struct orc_tls_trust){.ca_pem = b.data}, &ctx, NULL) != 0) continue;
            orc_tls_ctx_unref(shared_ctx);
            shared_ctx = ctx;
            orc_buf_reset(&shared_ca);
            orc_buf_append(&shared_ca, b.data, b.len);
        }
        c->tls.ctx = shared_ctx;
    }
    orc_buf_free(&b);
    return c->tls.ctx ? &c->tls : NULL;
}

int t_http(struct cluster *c, int i, const char *method, const char *path, const char *ctype,
           const char *body, char **resp, char **warning)
{
    return t_http_as(c, i, c->token[0] ? c->token : NULL, method, path, ctype, body, resp, warning);
}

int t_http_as(struct cluster *c, int i, const char *token, const char *method, const char *path,
              const char *ctype, const char *body, char **resp, char **warning)
{
    struct http_request req = {0};
    struct http_response r = {0};
    int status;

    req.method = method;
    req.path = path;
    req.content_type = body ? (ctype ? ctype : "application/json") : NULL;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = 15000;
    if (resp) *resp = NULL;
    if (warning) *warning = NULL;
    if (cluster_tls(c) == NULL) return 0; /* no member has its CA yet */
    if (http_sync_request_tls(c->m[i].url, token, cluster_tls(c), &req, &r, NULL) != 0) return 0;
    status = r.status;
    if (resp) *resp = r.body ? strndup(r.body, r.body_len) : strdup("");
    if (warning) {
        const char *w = http_header_get(&r, "warning");
        *warning = w ? strdup(w) : NULL;
    }
    http_response_free(&r);
    return status;
}

json_t *t_expect(struct cluster *c, const char *method, const char *path, const char *ctype,
                 const char *body, int want)
{
    char *resp = NULL;
    int st = t_http(c, 0, method, path, ctype, body, &resp, NULL);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;

    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    free(resp);
    return j;
}

json_t *t_json(struct cluster *c, int i, const char *method, const char *path, const char *body,
               int *status)
{
    char *resp = NULL;
    json_t *j;

    *status = t_http(c, i, method, path, NULL, body, &resp, NULL);
    j = resp ? json_loads(resp, 0, NULL) : NULL;
    free(resp);
    return j;
}
