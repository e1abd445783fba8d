/* test_informer_index.c — shared informers against a real `orcd server`:
 * several handler sets (a late one replayed from the loop), the "namespace",
 * "owner" and "node" indexes through creates, binds, updates that change an
 * object's values, deletes and a relist; 10,000 objects indexed in linear
 * time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "client/informer_int.h"
#include "client/rest.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/mem.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

static struct cluster c; /* static: the harness's end-of-case cleanups use it */

struct hlog {
    struct orc_buf log; /* "A:a U:a D:a S " */
    int synced;
};

struct fx {
    uv_loop_t loop;
    uv_timer_t tick;
    http_client *cl;
    informer_set *set;
    struct hlog h[3];
    int inflight, failed;
};

static void note(struct hlog *h, const char *what, const json_t *obj)
{
    const char *name = obj ? orc_json_str(obj, "metadata.name") : NULL;

    orc_buf_printf(&h->log, "%s%s%s ", what, name ? ":" : "", name ? name : "");
}

static void h_add(void *arg, const json_t *obj) { note(arg, "A", obj); }
static void h_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    note(arg, "U", obj);
}
static void h_delete(void *arg, const json_t *obj) { note(arg, "D", obj); }
static void h_synced(void *arg)
{
    struct hlog *h = arg;
    h->synced++;
    note(h, "S", NULL);
}

static const struct informer_cbs hcbs = {h_add, h_update, h_delete, h_synced};

static const char *logged(struct hlog *h) { return h->log.data ? h->log.data : ""; }

static void on_tick(uv_timer_t *t) { (void)t; }

static void fx_start(struct fx *f)
{
    /* no controllers: the garbage collector would delete the pods owned
     * by ReplicaSets that these cases never create */
    static const char *const no_controllers[] = {"--controllers", "-*", NULL};

    cluster_init(&c, 1);
    member_start(&c, 0, false, no_controllers);
    member_wait_ready(&c, 0, 10000);
    CHECK(uv_loop_init(&f->loop) == 0);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, on_tick, 10, 10);
    CHECK_INT(http_client_new_tls(&f->loop, c.m[0].url, c.token, cluster_tls(&c), &f->cl), ==, 0);
    CHECK_INT(informer_set_new(&f->loop, f->cl, &f->set), ==, 0);
}

static void fx_done(struct fx *f)
{
    informer_set_free(f->set);
    http_client_close(f->cl, NULL, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&f->loop), ==, 0);
    for (int i = 0; i < 3; i++) orc_buf_free(&f->h[i].log);
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

#define WAIT_FOR(f, cond, ms)                                                         \
    do {                                                                              \
        uint64_t end_ = test_now_ms() + (ms);                                         \
        while (!(cond) && test_now_ms() < end_) uv_run(&(f)->loop, UV_RUN_ONCE);      \
        CHECKF(cond, "timed out waiting for %s", #cond);                              \
    } while (0)

/* ---- writes through client/rest, many in flight ---- */

static void on_written(void *arg, int status, const json_t *body)
{
    struct fx *f = arg;

    f->inflight--;
    if (status < 200 || status >= 300) {
        if (f->failed++ == 0) fprintf(stderr, "# write: %d %s\n", status, rest_message(status, body));
    }
}

static void drain(struct fx *f, int max_inflight)
{
    WAIT_FOR(f, f->inflight <= max_inflight, 30000);
}

static void write_call(struct fx *f, int rv)
{
    CHECK_INT(rv, ==, 0);
    f->inflight++;
    drain(f, 64);
}

static void pod_create(struct fx *f, const char *name, const char *node, const char *owner_uid)
{
    json_t *pod = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "apiVersion", "v1", "kind",
                            "Pod", "metadata", "name", name, "spec", "containers", "name", "c",
                            "image", "busybox");

    if (node) orc_json_set(pod, "spec.nodeName", json_string(node));
    if (owner_uid)
        orc_json_set(pod, "metadata.ownerReferences",
                     json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1", "kind",
                               "ReplicaSet", "name", "rs", "uid", owner_uid, "controller", 1));
    write_call(f, rest_create(f->cl, orc_kind_lookup("pods"), "default", pod, on_written, f));
    json_decref(pod);
}

static void pod_bind(struct fx *f, const char *name, const char *node)
{
    char path[128];
    json_t *b = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "Binding",
                          "metadata", "name", name, "target", "name", node);

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/binding", name);
    write_call(f, rest_call(f->cl, "POST", path, NULL, b, 0, on_written, f));
    json_decref(b);
}

static void owner_patch(struct fx *f, const char *name, const char *uid)
{
    json_t *p = json_pack("{s:{s:[{s:s, s:s, s:s, s:s}]}}", "metadata", "ownerReferences",
                          "apiVersion", "apps/v1", "kind", "ReplicaSet", "name", "other", "uid",
                          uid);

    write_call(f, rest_patch(f->cl, orc_kind_lookup("pods"), "default", name, NULL, NULL, p,
                             on_written, f));
    json_decref(p);
}

/* At once (grace 0): no agent runs here to confirm a bound pod's end. */
static void pod_delete(struct fx *f, const char *name)
{
    struct rest_delete_opts now = {.grace_seconds = 0};

    write_call(f, rest_delete(f->cl, orc_kind_lookup("pods"), "default", name, &now, on_written,
                              f));
}

static size_t count(informer *inf, const char *index, const char *value)
{
    return informer_index_count(inf, index, value);
}

static void count_cb(void *arg, const json_t *obj)
{
    (void)obj;
    ++*(size_t *)arg;
}

static size_t walk(informer *inf, const char *index, const char *value)
{
    size_t n = 0;

    informer_by_index(inf, index, value, count_cb, &n);
    return n;
}

/* ---- cases ---- */

TEST(handlers_all_hear_every_change_late_ones_replayed)
{
    static struct fx f;
    informer *inf;

    fx_start(&f);
    pod_create(&f, "a", NULL, NULL);
    drain(&f, 0);
    inf = informer_set_get(f.set, orc_kind_lookup("pods"));
    CHECK(inf != NULL);
    CHECK(informer_set_get(f.set, orc_kind_lookup("po")) == inf);
    CHECK_INT(informer_add_handler(inf, &hcbs, &f.h[0]), ==, 0);
    CHECK_INT(informer_add_handler(inf, &hcbs, &f.h[1]), ==, 0);
    CHECK(!informer_set_synced(f.set));
    WAIT_FOR(&f, f.h[0].synced && f.h[1].synced, 10000);
    CHECK(informer_set_synced(f.set));
    pod_create(&f, "b", NULL, NULL);
    drain(&f, 0); /* writes run concurrently: bind only what exists */
    pod_bind(&f, "b", "n1");
    pod_delete(&f, "a");
    drain(&f, 0);
    CHECK_INT(f.failed, ==, 0);
    WAIT_FOR(&f, strstr(logged(&f.h[1]), "D:a") != NULL, 10000);
    CHECK_STR(logged(&f.h[0]), "A:a S A:b U:b D:a ");
    CHECK_STR(logged(&f.h[0]), logged(&f.h[1]));
    /* a handler added after the sync hears the cache, then on_synced, from the loop */
    CHECK_INT(informer_add_handler(inf, &hcbs, &f.h[2]), ==, 0);
    CHECK_STR(logged(&f.h[2]), "");
    WAIT_FOR(&f, f.h[2].synced == 1, 5000);
    CHECK_STR(logged(&f.h[2]), "A:b S ");
    /* a removed set hears nothing more; the others go on */
    informer_remove_handlers(inf, &f.h[1]);
    pod_delete(&f, "b");
    drain(&f, 0);
    WAIT_FOR(&f, strstr(logged(&f.h[2]), "D:b") != NULL, 10000);
    CHECK(strstr(logged(&f.h[0]), "D:b") != NULL);
    CHECK(strstr(logged(&f.h[1]), "D:b") == NULL);
    CHECK_INT(f.h[0].synced, ==, 1);
    fx_done(&f);
}

TEST(indexes_follow_creates_binds_updates_and_deletes)
{
    static struct fx f;
    informer *inf;

    fx_start(&f);
    inf = informer_set_get(f.set, orc_kind_lookup("pods"));
    CHECK_INT(informer_add_handler(inf, &hcbs, &f.h[0]), ==, 0);
    WAIT_FOR(&f, informer_set_synced(f.set), 10000);
    pod_create(&f, "p1", "n1", "uid-1");
    pod_create(&f, "p2", "n1", "uid-1");
    pod_create(&f, "p3", NULL, "uid-2");
    pod_create(&f, "p4", NULL, NULL);
    drain(&f, 0);
    WAIT_FOR(&f, informer_size(inf) == 4, 10000);
    CHECK_INT(count(inf, "node", "n1"), ==, 2);
    CHECK_INT(walk(inf, "node", "n1"), ==, 2);
    CHECK_INT(count(inf, "owner", "uid-1"), ==, 2);
    CHECK_INT(count(inf, "owner", "uid-2"), ==, 1);
    CHECK_INT(count(inf, "namespace", "default"), ==, 4);
    CHECK_INT(walk(inf, "namespace", "default"), ==, 4);
    CHECK_INT(count(inf, "node", "n2"), ==, 0);
    CHECK_INT(count(inf, "nosuchindex", "n1"), ==, 0);

    /* binds move pods onto nodes; an owner change moves p1 between owners */
    pod_bind(&f, "p3", "n2");
    pod_bind(&f, "p4", "n2");
    owner_patch(&f, "p1", "uid-2");
    drain(&f, 0);
    WAIT_FOR(&f, count(inf, "node", "n2") == 2 && count(inf, "owner", "uid-2") == 2, 10000);
    CHECK_INT(count(inf, "owner", "uid-1"), ==, 1);
    CHECK_INT(count(inf, "node", "n1"), ==, 2);

    pod_delete(&f, "p2");
    pod_delete(&f, "p3");
    drain(&f, 0);
    WAIT_FOR(&f, informer_size(inf) == 2, 10000);
    CHECK_INT(count(inf, "node", "n1"), ==, 1);
    CHECK_INT(count(inf, "node", "n2"), ==, 1);
    CHECK_INT(count(inf, "owner", "uid-1"), ==, 0);
    CHECK_INT(walk(inf, "owner", "uid-1"), ==, 0);
    CHECK_INT(count(inf, "owner", "uid-2"), ==, 1);
    CHECK_INT(f.failed, ==, 0);

    /* a relist (the informer's own list path, as after a 410) keeps them right:
     * p1 went while the informer was not looking, p5 arrived */
    informer *raw = inf;
    struct inf_item *p1 = inf__find(raw, "default/p1");
    CHECK(p1 != NULL);
    raw->list_gen++;
    json_t *p5 = json_pack("{s:{s:s, s:s, s:s, s:[{s:s}]}, s:{s:s}}", "metadata", "name", "p5",
                           "namespace", "default", "resourceVersion", "1", "ownerReferences",
                           "uid", "uid-1", "spec", "nodeName", "n1");
    CHECK_INT(inf__upsert(raw, "default/p5", p5), ==, 0);
    CHECK_INT(inf__upsert(raw, "default/p4", json_incref((json_t *)informer_get(raw, "default",
                                                                                "p4"))), ==, 0);
    json_decref((json_t *)informer_get(raw, "default", "p4"));
    inf__drop_unlisted(raw);
    json_decref(p5);
    CHECK(informer_get(inf, "default", "p1") == NULL);
    CHECK_INT(informer_size(inf), ==, 2);
    CHECK_INT(count(inf, "node", "n1"), ==, 1);
    CHECK_INT(count(inf, "owner", "uid-2"), ==, 0);
    CHECK_INT(count(inf, "owner", "uid-1"), ==, 1);
    CHECK(strstr(logged(&f.h[0]), "D:p1") != NULL);
    fx_done(&f);
}

/* Resident memory of this process, KiB. */
static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return rss * 4;
}

static size_t two_owners(const json_t *obj, const char **values, size_t max)
{
    const char *name = orc_json_str(obj, "metadata.name");

    if (name == NULL || max < 2) return 0;
    values[0] = "all";
    values[1] = name + strlen(name) - 1; /* the last digit */
    return 2;
}

TEST_T(ten_thousand_objects_index_in_linear_time, 120)
{
    enum { N = 10000 };
    static struct fx f;
    informer *inf;
    char name[32], uid[32];
    uint64_t t0, t_list, t_index;

    fx_start(&f);
    t0 = test_now_ms();
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "p%05d", i);
        snprintf(uid, sizeof uid, "owner-%d", i % 100);
        pod_create(&f, name, i % 2 ? "n1" : NULL, uid);
    }
    drain(&f, 0);
    CHECK_INT(f.failed, ==, 0);
    fprintf(stderr, "# created %d pods in %llu ms\n", N, (unsigned long long)(test_now_ms() - t0));
    orc_mem_trim();
    long rss0 = rss_kib();
    t0 = test_now_ms();
    inf = informer_set_get(f.set, orc_kind_lookup("pods"));
    WAIT_FOR(&f, informer_set_synced(f.set), 60000);
    t_list = test_now_ms() - t0;
    long rss_peak = rss_kib();
    orc_mem_trim();
    fprintf(stderr, "# RSS of this process grew by %ld KiB with %d pods cached and indexed "
            "(%ld KiB before returning free memory)\n", rss_kib() - rss0, N, rss_peak - rss0);
    CHECK_INT(informer_size(inf), ==, N);
    char *one = json_dumps(informer_get(inf, "default", "p00001"), JSON_COMPACT);
    fprintf(stderr, "# one cached pod is %zu bytes of compact JSON\n", one ? strlen(one) : 0);
    if (getenv("DUMP_POD") && one) fprintf(stderr, "%s\n", one);
    free(one);
    CHECK_INT(count(inf, "namespace", "default"), ==, N);
    CHECK_INT(count(inf, "node", "n1"), ==, N / 2);
    CHECK_INT(count(inf, "owner", "owner-7"), ==, N / 100);
    CHECK_INT(walk(inf, "owner", "owner-7"), ==, N / 100);
    t0 = test_now_ms();
    CHECK_INT(informer_add_index(inf, "digit", two_owners), ==, 0);
    t_index = test_now_ms() - t0;
    CHECK_INT(count(inf, "digit", "all"), ==, N);
    CHECK_INT(count(inf, "digit", "3"), ==, N / 10);
    fprintf(stderr, "# list + 3 indexes of %d pods: %llu ms; a 4th index added on the full cache: "
            "%llu ms\n", N, (unsigned long long)t_list, (unsigned long long)t_index);
    CHECKF(t_index < 2000, "indexing %d objects took %llu ms", N, (unsigned long long)t_index);
    /* deleting every object of one big bucket one by one stays linear too */
    t0 = test_now_ms();
    for (int i = 0; i < N; i += 2) {
        snprintf(name, sizeof name, "default/p%05d", i);
        inf__remove(inf, name, NULL);
    }
    CHECKF(test_now_ms() - t0 < 2000, "removing %d objects took %llu ms", N / 2,
           (unsigned long long)(test_now_ms() - t0));
    CHECK_INT(count(inf, "namespace", "default"), ==, N / 2);
    CHECK_INT(count(inf, "node", "n1"), ==, N / 2);
    CHECK_INT(count(inf, "digit", "all"), ==, N / 2);
    fx_done(&f);
}

/* The shared set's transform: what no controller reads stays out of the
 * cache (from the list and from the watch); every other annotation stays. */
TEST(shared_set_drops_last_applied_from_cached_objects)
{
    static struct fx f;
    informer *inf;
    const json_t *o;
    const char *la = "kubectl.kubernetes.io/last-applied-configuration";
    json_t *cm = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s}}}", "apiVersion", "v1", "kind",
                           "ConfigMap", "metadata", "name", "both", "annotations", la, "{}",
                           "keep", "yes");
    json_t *only = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind",
                             "ConfigMap", "metadata", "name", "only", "annotations", la, "{}");

    fx_start(&f);
    /* one before the informer starts (listed), one after (watched) */
    write_call(&f, rest_create(f.cl, orc_kind_lookup("configmaps"), "default", cm, on_written, &f));
    drain(&f, 0);
    inf = informer_set_get(f.set, orc_kind_lookup("configmaps"));
    CHECK(inf != NULL);
    WAIT_FOR(&f, informer_synced(inf), 10000);
    write_call(&f, rest_create(f.cl, orc_kind_lookup("configmaps"), "default", only, on_written, &f));
    drain(&f, 0);
    CHECK_INT(f.failed, ==, 0);
    WAIT_FOR(&f, informer_get(inf, "default", "only") != NULL, 10000);
    o = informer_get(inf, "default", "both");
    CHECK(o != NULL);
    CHECK(json_object_get(json_object_get(json_object_get(o, "metadata"), "annotations"), la) == NULL);
    CHECK_STR(orc_json_str(o, "metadata.annotations.keep"), "yes");
    o = informer_get(inf, "default", "only");
    CHECK(json_object_get(json_object_get(o, "metadata"), "annotations") == NULL);
    CHECK(orc_json_str(o, "metadata.resourceVersion") != NULL);
    json_decref(cm);
    json_decref(only);
    fx_done(&f);
}
