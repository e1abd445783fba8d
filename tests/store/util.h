/* util.h — helpers shared by the store tests: one libuv loop per case,
 * members on loopback addresses (127.0.0.1x, port from the pid), running the
 * loop until a condition holds, and synchronous wrappers over the async API. */
#ifndef ORC_TESTS_STORE_UTIL_H
#define ORC_TESTS_STORE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/orc.h"
#include "lib/tls.h"
#include "store/store.h"
#include "tests/harness/test.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

static uv_loop_t test_loop;
static uv_timer_t test_poke; /* wakes UV_RUN_ONCE so conditions get re-checked */

static inline void poke_cb(uv_timer_t *t) { (void)t; }

static inline void loop_setup(void)
{
    CHECK_INT(uv_loop_init(&test_loop), ==, 0);
    uv_timer_init(&test_loop, &test_poke);
    uv_timer_start(&test_poke, poke_cb, 5, 5);
    uv_unref((uv_handle_t *)&test_poke);
}

typedef bool (*cond_fn)(void *arg);

/* Runs the loop until cond(arg) or timeout; returns cond(arg). */
static inline bool run_until(cond_fn cond, void *arg, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    while (!cond(arg) && test_now_ms() < end) uv_run(&test_loop, UV_RUN_ONCE);
    return cond(arg);
}

static inline bool never(void *arg) { (void)arg; return false; }

static inline void run_for(unsigned ms) { run_until(never, NULL, ms); }

static inline bool flag_set(void *arg) { return *(bool *)arg; }

/* Closes the poke timer and checks every handle of the case was closed. */
static inline void loop_teardown(void)
{
    uv_close((uv_handle_t *)&test_poke, NULL);
    for (int i = 0; i < 1000 && uv_loop_alive(&test_loop); i++) uv_run(&test_loop, UV_RUN_ONCE);
    uv_run(&test_loop, UV_RUN_NOWAIT);
    CHECK_INT(uv_loop_close(&test_loop), ==, 0);
}

/* The outcome of a call whose callback takes (arg, status): adding or
 * removing a member, waiting for a revision. */
struct done {
    bool done;
    int status;
};

static inline void done_cb(void *arg, int status)
{
    struct done *d = arg;
    d->done = true;
    d->status = status;
}

static inline bool done_cond(void *arg) { return ((struct done *)arg)->done; }

/* ---- members ---- */

struct member {
    store *s;
    uint64_t id;
    char dir[512];
    char addr[64];
    struct store_config cfg;
    struct store_raft_tls tls; /* points into test_pki */
};

/* One cluster CA per test process and a member certificate per id, made
 * once (the harness forks each case after they exist or not: either way
 * they are plain memory). */
#define TEST_PKI_MAX 8
static struct {
    char *ca, *ca_key;
    char *cert[TEST_PKI_MAX + 1], *key[TEST_PKI_MAX + 1];
} test_pki;

static inline void test_member_tls(struct member *m)
{
    char err[ORC_TLS_ERRLEN] = "", cn[64];
    int i = (int)m->id;

    CHECK(i >= 1 && i <= TEST_PKI_MAX);
    if (test_pki.ca == NULL)
        CHECKF(orc_tls_make_ca("test-ca", 10, &test_pki.ca, &test_pki.ca_key, err) == 0, "%s", err);
    if (test_pki.cert[i] == NULL) {
        snprintf(cn, sizeof cn, STORE_MEMBER_CN "%d", i);
        CHECKF(orc_tls_make_cert_o(test_pki.ca, test_pki.ca_key, STORE_MEMBER_ORG, cn, NULL, 0, 10,
                                   &test_pki.cert[i], &test_pki.key[i], err) == 0, "%s", err);
    }
    m->tls.ca_pem = test_pki.ca;
    m->tls.cert_pem = test_pki.cert[i];
    m->tls.key_pem = test_pki.key[i];
    m->cfg.raft_tls = &m->tls;
}

static inline unsigned test_port(void)
{
    return 20000 + (unsigned)(getpid() % 12000);
}

/* Member i (1-based) on 127.0.0.(10+i), data in TMPDIR/m<i>. */
static inline void member_init(struct member *m, int i)
{
    memset(m, 0, sizeof *m);
    m->id = (uint64_t)i;
    snprintf(m->dir, sizeof m->dir, "%s/m%d", test_tmpdir(), i);
    snprintf(m->addr, sizeof m->addr, "127.0.0.%d:%u", 10 + i, test_port());
    m->cfg.data_dir = m->dir;
    m->cfg.id = m->id;
    m->cfg.raft_address = m->addr;
    m->cfg.election_timeout_ms = 300;
    m->cfg.heartbeat_timeout_ms = 30;
    test_member_tls(m);
}

static inline void member_open(struct member *m)
{
    char err[256];
    int rc = store_open(&test_loop, &m->cfg, &m->s, err);
    CHECKF(rc == 0, "store_open %s: %s (%s)", m->dir, orc_strerror(rc), err);
}

static inline void member_start(struct member *m)
{
    char err[256];
    int rc = store_start(m->s, err);
    CHECKF(rc == 0, "store_start %s: %s (%s)", m->dir, orc_strerror(rc), err);
}

static inline void member_bootstrap(struct member *m)
{
    char err[256];
    int rc = store_bootstrap(m->s, err);
    CHECKF(rc == 0, "store_bootstrap: %s (%s)", orc_strerror(rc), err);
}

static inline void closed_cb(void *arg) { *(bool *)arg = true; }

static inline void member_close(struct member *m)
{
    bool closed = false;

    if (m->s == NULL) return;
    store_close(m->s, closed_cb, &closed);
    CHECK(run_until(flag_set, &closed, 10000));
    m->s = NULL;
}

static inline bool is_leader_cond(void *arg)
{
    return store_is_leader(((struct member *)arg)->s);
}

/* Index of the member that leads, waiting up to timeout_ms; -1 if none. */
static inline int wait_leader(struct member *ms, int n, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    while (test_now_ms() < end) {
        for (int i = 0; i < n; i++)
            if (ms[i].s && store_is_leader(ms[i].s)) return i;
        uv_run(&test_loop, UV_RUN_ONCE);
    }
    return -1;
}

/* Adds m (open and started) as a voter through leader, within timeout_ms. */
static inline void add_member(struct member *leader, struct member *m, unsigned timeout_ms)
{
    struct done d = {0};

    CHECK_INT(store_add_member(leader->s, m->id, m->addr, done_cb, &d), ==, 0);
    CHECK(run_until(done_cond, &d, timeout_ms));
    CHECKF(d.status == 0, "add member %llu: %s", (unsigned long long)m->id, orc_strerror(d.status));
}

/* Members ms[0..n) already open: the first bootstrapped and leading within
 * leader_ms, every one started, the others added as voters. */
static inline void members_up(struct member *ms, int n, unsigned leader_ms)
{
    member_bootstrap(&ms[0]);
    for (int i = 0; i < n; i++) member_start(&ms[i]);
    CHECK(run_until(is_leader_cond, &ms[0], leader_ms));
    for (int i = 1; i < n; i++) add_member(&ms[0], &ms[i], 20000);
}

/* A one-member cluster, bootstrapped, started, leading. */
static inline void single_up(struct member *m)
{
    member_open(m);
    member_bootstrap(m);
    member_start(m);
    CHECK(run_until(is_leader_cond, m, 5000));
}

/* ---- synchronous wrappers ---- */

struct txn_wait {
    bool done;
    int status;
    struct store_txn_result res;
};

static inline void txn_wait_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct txn_wait *w = arg;
    w->done = true;
    w->status = status;
    if (res) w->res = *res;
}

static inline bool txn_done_cond(void *arg) { return ((struct txn_wait *)arg)->done; }

static inline int txn_sync(store *s, const struct store_txn *t, struct store_txn_result *res)
{
    struct txn_wait w = {0};
    int rc = store_txn(s, t, txn_wait_cb, &w);

    if (rc != 0) return rc;
    CHECK(run_until(txn_done_cond, &w, 10000));
    if (res) *res = w.res;
    return w.status;
}

static inline int64_t put_ok(store *s, const char *key, const char *value)
{
    struct store_op op = {STORE_PUT, key, value, strlen(value)};
    struct store_txn t = {NULL, 0, &op, 1};
    struct store_txn_result res;
    int rc = txn_sync(s, &t, &res);

    CHECKF(rc == 0, "put %s: %s", key, orc_strerror(rc));
    CHECK(res.succeeded);
    return res.revision;
}

static inline int64_t del_ok(store *s, const char *key)
{
    struct store_op op = {STORE_DELETE, key, NULL, 0};
    struct store_txn t = {NULL, 0, &op, 1};
    struct store_txn_result res;
    int rc = txn_sync(s, &t, &res);

    CHECKF(rc == 0, "delete %s: %s", key, orc_strerror(rc));
    CHECK(res.succeeded);
    return res.revision;
}

/* Value of key, or NULL when absent; caller frees. */
static inline char *get_value(store *s, const char *key)
{
    struct store_kv kv;
    char *v;

    if (store_get(s, key, &kv) != 0) return NULL;
    v = kv.value;
    kv.value = NULL;
    store_kv_clear(&kv);
    return v;
}

static inline int wait_rev(store *s, int64_t rev, unsigned timeout_ms)
{
    struct done w = {0};
    int rc = store_wait_revision(s, rev, timeout_ms, done_cb, &w);

    if (rc != 0) return rc;
    CHECK(run_until(done_cond, &w, timeout_ms + 5000));
    return w.status;
}

/* Everything observable about s's data at rev (0: now), as text to compare:
 * the revision, then a line per key (those under skip left out, when not
 * NULL) with its value, revisions and version; a value longer than 64
 * bytes shows as its start, length and hash. Caller frees. */
static inline char *dump_at(store *s, const char *skip, int64_t rev)
{
    struct store_list l;
    struct orc_buf b = ORC_BUF_INIT;

    CHECK_INT(store_range(s, "", NULL, rev, 0, &l), ==, 0);
    orc_buf_printf(&b, "rev=%lld\n", (long long)l.revision);
    for (size_t i = 0; i < l.n; i++) {
        const struct store_kv *kv = &l.kvs[i];
        if (skip && strncmp(kv->key, skip, strlen(skip)) == 0) continue;
        if (kv->value_len <= 64)
            orc_buf_printf(&b, "%s=%.*s", kv->key, (int)kv->value_len, kv->value);
        else
            orc_buf_printf(&b, "%s=%.40s...(%zu bytes, fnv %016llx)", kv->key, kv->value,
                           kv->value_len,
                           (unsigned long long)orc_fnv1a(ORC_FNV_OFFSET, kv->value, kv->value_len));
        orc_buf_printf(&b, " %lld/%lld/%lld\n", (long long)kv->create_rev, (long long)kv->mod_rev,
                       (long long)kv->version);
    }
    store_list_clear(&l);
    CHECK(b.data != NULL);
    return b.data;
}

static inline char *dump(store *s) { return dump_at(s, NULL, 0); }

/* Fails the case unless a and b hold the same data. */
static inline void check_same(store *a, store *b, const char *what)
{
    char *x = dump(a), *y = dump(b);

    CHECKF(strcmp(x, y) == 0, "%s differ:\n%s\nvs\n%s", what, x, y);
    free(x);
    free(y);
}

/* Bytes used under path (like du). */
static inline unsigned long long du_bytes(const char *path)
{
    char cmd[700];
    unsigned long long kb = 0;
    FILE *f;

    snprintf(cmd, sizeof cmd, "du -sk '%s'", path);
    if ((f = popen(cmd, "r")) == NULL) return 0;
    if (fscanf(f, "%llu", &kb) != 1) kb = 0;
    pclose(f);
    return kb * 1024;
}

#endif
