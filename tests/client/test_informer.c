/* test_informer.c — the informer against a real `orcd server`: initial list,
 * changes in order, selectors, reconnecting across member restarts (changes
 * made while it was cut off arrive by re-watch or relist), and stopping it
 * from inside its own callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define CMS "/api/v1/namespaces/default/configmaps"
#define PODS "/api/v1/namespaces/default/pods"

static struct cluster c; /* static: the harness's end-of-case cleanups use it */

/* ---- fixture: one loop, one client, one informer recording its callbacks ---- */

struct fx {
    uv_loop_t loop;
    uv_timer_t tick; /* bounds each UV_RUN_ONCE wait */
    http_client *cl;
    informer *inf;
    struct orc_buf log; /* "A:a U:a D:a S " */
    int adds, updates, deletes, synced;
    int stop_after; /* informer_stop from inside the n-th callback (0: never) */
    int calls;
    int bad; /* a callback saw an inconsistent cache */
};

static void note(struct fx *f, const char *what, const json_t *obj)
{
    const char *name = obj ? orc_json_str(obj, "metadata.name") : NULL;

    orc_buf_printf(&f->log, "%s%s%s ", what, name ? ":" : "", name ? name : "");
    if (f->stop_after && ++f->calls == f->stop_after) {
        informer_stop(f->inf);
        f->inf = NULL;
    }
}

static const json_t *cached(struct fx *f, const json_t *obj)
{
    const char *ns = orc_json_str(obj, "metadata.namespace");
    return f->inf ? informer_get(f->inf, ns ? ns : "", orc_json_str(obj, "metadata.name")) : NULL;
}

static void cb_add(void *arg, const json_t *obj)
{
    struct fx *f = arg;

    f->adds++;
    if (cached(f, obj) != obj) f->bad++;
    note(f, "A", obj);
}

static void cb_update(void *arg, const json_t *old, const json_t *obj)
{
    struct fx *f = arg;
    const char *r1 = orc_json_str(old, "metadata.resourceVersion");
    const char *r2 = orc_json_str(obj, "metadata.resourceVersion");

    f->updates++;
    if (cached(f, obj) != obj || !r1 || !r2 || strcmp(r1, r2) == 0) f->bad++;
    note(f, "U", obj);
}

static void cb_delete(void *arg, const json_t *obj)
{
    struct fx *f = arg;

    f->deletes++;
    if (cached(f, obj) != NULL) f->bad++;
    note(f, "D", obj);
}

static void cb_synced(void *arg)
{
    struct fx *f = arg;

    f->synced++;
    if (!informer_synced(f->inf)) f->bad++;
    note(f, "S", NULL);
}

static const struct informer_cbs all_cbs = {cb_add, cb_update, cb_delete, cb_synced};

static void on_tick(uv_timer_t *t) { (void)t; }

static void fx_start(struct fx *f, const char *path, const char *fields, const char *labels)
{
    struct informer_config cfg = {.path = path, .field_selector = fields,
                                  .label_selector = labels, .resync_backoff_max_ms = 400};

    CHECK(uv_loop_init(&f->loop) == 0);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, on_tick, 10, 10);
    CHECK_INT(http_client_new_tls(&f->loop, c.m[0].url, c.token, cluster_tls(&c), &f->cl), ==, 0);
    CHECK_INT(informer_start(&f->loop, f->cl, &cfg, &all_cbs, f, &f->inf), ==, 0);
}

/* Stops everything, runs the loop dry and checks for leaks. */
static void fx_done(struct fx *f)
{
    if (f->inf) informer_stop(f->inf);
    f->inf = NULL;
    http_client_close(f->cl, NULL, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&f->loop), ==, 0);
    orc_buf_free(&f->log);
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

static const char *logged(struct fx *f) { return f->log.data ? f->log.data : ""; }

#define WAIT_FOR(f, cond, ms)                                                             \
    do {                                                                                  \
        uint64_t end_ = test_now_ms() + (ms);                                             \
        while (!(cond) && test_now_ms() < end_) uv_run(&(f)->loop, UV_RUN_ONCE);          \
        CHECKF(cond, "timed out waiting for %s; callbacks: %s", #cond, logged(f));        \
    } while (0)

static void run_for(struct fx *f, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) uv_run(&f->loop, UV_RUN_ONCE);
}

/* ---- requests ---- */

static void api(const char *method, const char *path, const char *body, int want)
{
    int st = 0;
    json_t *r = t_json(&c, 0, method, path, body, &st);
    char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;

    CHECKF(st == want, "%s %s: %d (want %d): %s", method, path, st, want, text ? text : "");
    free(text);
    json_decref(r);
}

static void cm_create(const char *name, const char *labels)
{
    char body[256];
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s}}}", name,
             labels ? labels : "");
    api("POST", CMS, body, 201);
}

static void cm_patch(const char *name, const char *value)
{
    char path[128], body[128], *r = NULL;
    snprintf(path, sizeof path, CMS "/%s", name);
    snprintf(body, sizeof body, "{\"data\":{\"k\":\"%s\"}}", value);
    int st = t_http(&c, 0, "PATCH", path, "application/merge-patch+json", body, &r, NULL);
    free(r);
    CHECK_INT(st, ==, 200);
}

static void cm_delete(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, CMS "/%s", name);
    api("DELETE", path, NULL, 200);
}

static void pod_create(const char *name, const char *node)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"nodeName\":\"%s\","
             "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
             name, node);
    api("POST", PODS, body, 201);
}

static void start_member(const char *const *extra)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
}

static void count_one(void *arg, const json_t *obj)
{
    (void)obj;
    ++*(int *)arg;
}

/* ---- cases ---- */

TEST(initial_list_delivers_adds_then_synced)
{
    static struct fx f;

    start_member(NULL);
    cm_create("a", NULL);
    cm_create("b", NULL);
    cm_create("c", NULL);
    fx_start(&f, CMS, NULL, NULL);
    CHECK(!informer_synced(f.inf));
    WAIT_FOR(&f, f.synced == 1, 10000);
    CHECK_STR(logged(&f), "A:a A:b A:c S ");
    CHECK_INT(f.bad, ==, 0);
    CHECK(informer_get(f.inf, "default", "b") != NULL);
    CHECK_STR(orc_json_str(informer_get(f.inf, "default", "b"), "metadata.name"), "b");
    CHECK(informer_get(f.inf, "default", "zz") == NULL);
    CHECK(informer_get(f.inf, "other", "b") == NULL);
    CHECK_INT(informer_size(f.inf), ==, 3);
    int n = 0;
    informer_each(f.inf, count_one, &n);
    CHECK_INT(n, ==, 3);
    run_for(&f, 300); /* nothing more, and synced only once */
    CHECK_STR(logged(&f), "A:a A:b A:c S ");
    fx_done(&f);

    /* A cluster-scoped collection is keyed by "" namespace. */
    static struct fx g;
    fx_start(&g, "/api/v1/namespaces", NULL, NULL);
    WAIT_FOR(&g, g.synced == 1, 10000);
    CHECK(informer_get(g.inf, "", "default") != NULL);
    fx_done(&g);
}

TEST(changes_after_sync_arrive_in_order)
{
    static struct fx f;

    start_member(NULL);
    fx_start(&f, CMS, NULL, NULL);
    WAIT_FOR(&f, f.synced == 1, 10000);
    cm_create("a", NULL);
    cm_patch("a", "1");
    cm_create("b", NULL);
    cm_patch("a", "2");
    cm_delete("a");
    WAIT_FOR(&f, f.deletes == 1, 10000);
    CHECK_STR(logged(&f), "S A:a U:a A:b U:a D:a ");
    CHECK_INT(f.bad, ==, 0);
    CHECK(informer_get(f.inf, "default", "a") == NULL);
    const json_t *b = informer_get(f.inf, "default", "b");
    CHECK(b != NULL);
    /* the cache holds the server's latest state */
    cm_patch("b", "x");
    WAIT_FOR(&f, f.updates == 3, 10000);
    CHECK_STR(orc_json_str(informer_get(f.inf, "default", "b"), "data.k"), "x");
    fx_done(&f);
}

TEST(selectors_are_honoured)
{
    static struct fx f, g;

    start_member(NULL);
    pod_create("pa1", "a");
    pod_create("pb1", "b");
    cm_create("x1", "\"tier\":\"x\"");
    cm_create("z1", "\"tier\":\"z\"");
    fx_start(&f, PODS, "spec.nodeName=a", NULL);
    fx_start(&g, CMS, NULL, "tier in (x, y)"); /* spaces, parentheses, comma: encoded */
    WAIT_FOR(&f, f.synced == 1, 10000);
    WAIT_FOR(&g, g.synced == 1, 10000);
    CHECK_STR(logged(&f), "A:pa1 S ");
    CHECK_STR(logged(&g), "A:x1 S ");
    pod_create("pb2", "b");
    pod_create("pa2", "a");
    api("DELETE", PODS "/pb1?gracePeriodSeconds=0", NULL, 200);
    api("DELETE", PODS "/pa1?gracePeriodSeconds=0", NULL, 200);
    cm_create("z2", "\"tier\":\"z\"");
    cm_create("y1", "\"tier\":\"y\"");
    WAIT_FOR(&f, f.deletes == 1, 10000);
    CHECK_STR(logged(&f), "A:pa1 S A:pa2 D:pa1 ");
    CHECK(informer_get(f.inf, "default", "pb2") == NULL);
    WAIT_FOR(&g, g.adds == 2, 10000);
    CHECK_STR(logged(&g), "A:x1 S A:y1 ");
    /* a label change moves an object out of the selection: a delete */
    char *r = NULL;
    CHECK_INT(t_http(&c, 0, "PATCH", CMS "/x1", "application/merge-patch+json",
                     "{\"metadata\":{\"labels\":{\"tier\":\"z\"}}}", &r, NULL), ==, 200);
    free(r);
    WAIT_FOR(&g, g.deletes == 1, 10000);
    CHECK_STR(logged(&g), "A:x1 S A:y1 D:x1 ");
    CHECK_INT(f.bad + g.bad, ==, 0);
    fx_done(&f);
    fx_done(&g);
}

TEST_T(reconnects_across_member_restarts, 120)
{
    static const char *const small[] = {"--watch-history", "10", NULL};
    static struct fx f;

    start_member(small);
    cm_create("a", NULL);
    cm_create("b", NULL);
    cm_create("c", NULL);
    fx_start(&f, CMS, NULL, NULL);
    WAIT_FOR(&f, f.synced == 1, 10000);

    /* Killed: the informer retries with back-off while the member is down. */
    member_kill(&c, 0);
    run_for(&f, 1500);
    member_start(&c, 0, false, small);
    member_wait_ready(&c, 0, 10000);
    cm_delete("b"); /* while the informer is cut off: its loop is not running */
    WAIT_FOR(&f, f.deletes == 1, 15000);
    cm_create("d", NULL); /* after it reconnected */
    WAIT_FOR(&f, f.adds == 4, 10000);
    CHECK_STR(logged(&f), "A:a A:b A:c S D:b A:d ");

    /* Stopped cleanly; while cut off, more changes than the watch history
     * keeps: resuming from the old revision is refused (410) and the
     * informer relists, finding the deletion and the new objects. */
    member_stop(&c, 0);
    member_start(&c, 0, false, small);
    member_wait_ready(&c, 0, 10000);
    for (int i = 0; i < 12; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%02d", i);
        cm_create(name, NULL);
    }
    cm_patch("a", "1");
    cm_delete("c");
    WAIT_FOR(&f, f.deletes == 2 && f.adds == 16 && f.updates == 1, 15000);
    CHECK(strstr(logged(&f), "U:a") && strstr(logged(&f), "D:c"));
    CHECK_INT(informer_size(f.inf), ==, 14);
    CHECK(informer_get(f.inf, "default", "c") == NULL);
    CHECK_STR(orc_json_str(informer_get(f.inf, "default", "a"), "data.k"), "1");

    /* and it keeps watching afterwards */
    cm_delete("d");
    WAIT_FOR(&f, f.deletes == 3, 10000);
    CHECK_INT(f.synced, ==, 1);
    CHECK_INT(f.bad, ==, 0);
    fx_done(&f);
}

TEST(stop_from_inside_callbacks_is_safe)
{
    static struct fx f, g, h;

    start_member(NULL);
    cm_create("a", NULL);
    cm_create("b", NULL);
    cm_create("c", NULL);

    /* in the middle of delivering the initial list */
    f.stop_after = 2;
    fx_start(&f, CMS, NULL, NULL);
    WAIT_FOR(&f, f.inf == NULL, 10000);
    run_for(&f, 200);
    CHECK_STR(logged(&f), "A:a A:b ");
    fx_done(&f);

    /* in on_synced */
    g.stop_after = 4;
    fx_start(&g, CMS, NULL, NULL);
    WAIT_FOR(&g, g.inf == NULL, 10000);
    cm_create("d", NULL);
    run_for(&g, 300);
    CHECK_STR(logged(&g), "A:a A:b A:c S ");
    fx_done(&g);

    /* while a watch event is delivered; the client is closed right after */
    h.stop_after = 6;
    fx_start(&h, CMS, NULL, NULL);
    WAIT_FOR(&h, h.synced == 1, 10000);
    cm_delete("a");
    cm_delete("b");
    WAIT_FOR(&h, h.inf == NULL, 10000);
    run_for(&h, 300);
    CHECK_STR(logged(&h), "A:a A:b A:c A:d S D:a ");
    fx_done(&h);
}

TEST(start_rejects_bad_arguments)
{
    static struct fx f;
    struct informer_config cfg = {.path = "api/v1/pods"};
    informer *inf = NULL;

    start_member(NULL);
    fx_start(&f, CMS, NULL, NULL);
    CHECK_INT(informer_start(&f.loop, f.cl, &cfg, &all_cbs, &f, &inf), ==, ORC_EINVAL);
    CHECK_INT(informer_start(&f.loop, f.cl, NULL, &all_cbs, &f, &inf), ==, ORC_EINVAL);
    CHECK(inf == NULL);
    fx_done(&f);
}

/* A value with a NUL inside (Kubernetes allows it in ConfigMap data) must
 * not stop a list or a watch: the whole collection would go dark for the
 * agent, through one user's ConfigMap. */
TEST(a_nul_in_a_value_lists_and_watches)
{
    static struct fx f;

    start_member(NULL);
    api("POST", CMS, "{\"metadata\":{\"name\":\"n\"},\"data\":{\"k\":\"a\\u0000b\"}}", 201);
    cm_create("a", NULL);
    fx_start(&f, CMS, NULL, NULL);
    WAIT_FOR(&f, f.synced == 1, 10000);
    CHECK_STR(logged(&f), "A:a A:n S ");
    const json_t *k = orc_json_get(informer_get(f.inf, "default", "n"), "data.k");
    CHECK_INT(json_string_length(k), ==, 3);
    api("POST", CMS, "{\"metadata\":{\"name\":\"m\"},\"data\":{\"k\":\"\\u0000\"}}", 201);
    WAIT_FOR(&f, f.adds == 3, 10000);
    fx_done(&f);
}
