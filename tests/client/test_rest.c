/* test_rest.c — client/rest against a real `orcd server`: create (also by
 * generateName), get, update with a stale resourceVersion (409), merge
 * patch, the status subresource, delete with a uid precondition, and
 * rest_message on Status bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "client/rest.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

static struct cluster c; /* static: the harness's end-of-case cleanups use it */

struct fx {
    uv_loop_t loop;
    http_client *cl;
    int status;   /* 0 while waiting */
    json_t *body; /* the last answer (owned) */
    char msg[256];
};

static void on_answer(void *arg, int status, const json_t *body)
{
    struct fx *f = arg;

    json_decref(f->body);
    f->body = body ? json_deep_copy(body) : NULL;
    snprintf(f->msg, sizeof f->msg, "%s", rest_message(status, body));
    f->status = status ? status : -1;
}

/* Runs the loop until the call started by `rv`'s expression answers. */
static int wait_answer(struct fx *f, int rv)
{
    uint64_t end = test_now_ms() + 15000;

    CHECK_INT(rv, ==, 0);
    while (f->status == 0 && test_now_ms() < end) uv_run(&f->loop, UV_RUN_ONCE);
    CHECK(f->status != 0);
    rv = f->status;
    f->status = 0;
    return rv;
}

static void fx_start(struct fx *f)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    CHECK(uv_loop_init(&f->loop) == 0);
    CHECK_INT(http_client_new_tls(&f->loop, c.m[0].url, c.token, cluster_tls(&c), &f->cl), ==, 0);
}

static void fx_done(struct fx *f)
{
    http_client_close(f->cl, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&f->loop), ==, 0);
    json_decref(f->body);
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

TEST(rest_object_verbs)
{
    static struct fx f;
    const struct orc_kind *cm = orc_kind_lookup("configmaps");
    json_t *obj, *stale, *patch;
    char rv1[32], uid[64];

    fx_start(&f);
    CHECK(cm != NULL);
    obj = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                    "metadata", "name", "one", "data", "k", "v1");
    CHECK_INT(wait_answer(&f, rest_create(f.cl, cm, "default", obj, on_answer, &f)), ==, 201);
    snprintf(rv1, sizeof rv1, "%s", orc_json_str(f.body, "metadata.resourceVersion"));
    snprintf(uid, sizeof uid, "%s", orc_json_str(f.body, "metadata.uid"));
    CHECK(rv1[0] && uid[0]);
    CHECK_INT(wait_answer(&f, rest_create(f.cl, cm, "default", obj, on_answer, &f)), ==, 409);
    CHECK(strstr(f.msg, "already exists") != NULL);
    json_decref(obj);

    /* get through rest_call */
    CHECK_INT(wait_answer(&f, rest_call(f.cl, "GET", "/api/v1/namespaces/default/configmaps/one",
                                        NULL, NULL, 0, on_answer, &f)), ==, 200);
    CHECK_STR(orc_json_str(f.body, "data.k"), "v1");
    stale = json_deep_copy(f.body);

    /* update, then the same update again with the now stale version */
    obj = json_deep_copy(f.body);
    json_object_set_new(json_object_get(obj, "data"), "k", json_string("v2"));
    CHECK_INT(wait_answer(&f, rest_update(f.cl, cm, obj, on_answer, &f)), ==, 200);
    CHECK(strcmp(orc_json_str(f.body, "metadata.resourceVersion"), rv1) != 0);
    json_object_set_new(json_object_get(stale, "data"), "k", json_string("v3"));
    CHECK_INT(wait_answer(&f, rest_update(f.cl, cm, stale, on_answer, &f)), ==, 409);
    CHECK(strlen(f.msg) > 0);
    json_decref(obj);
    json_decref(stale);

    /* merge patch */
    patch = json_pack("{s:{s:s}}", "data", "p", "x");
    CHECK_INT(wait_answer(&f, rest_patch(f.cl, cm, "default", "one", NULL,
                                         "application/merge-patch+json", patch, on_answer, &f)),
              ==, 200);
    CHECK_STR(orc_json_str(f.body, "data.p"), "x");
    CHECK_STR(orc_json_str(f.body, "data.k"), "v2");
    json_decref(patch);

    /* delete: a wrong uid precondition is a conflict, the right one deletes */
    struct rest_delete_opts bad = {.uid = "not-the-uid", .grace_seconds = -1};
    struct rest_delete_opts good = {.uid = uid, .propagation = "Background", .grace_seconds = 0};
    CHECK_INT(wait_answer(&f, rest_delete(f.cl, cm, "default", "one", &bad, on_answer, &f)), ==,
              409);
    CHECK_INT(wait_answer(&f, rest_delete(f.cl, cm, "default", "one", &good, on_answer, &f)), ==,
              200);
    CHECK_INT(wait_answer(&f, rest_delete(f.cl, cm, "default", "one", NULL, on_answer, &f)), ==,
              404);
    CHECK(strstr(f.msg, "not found") != NULL);
    fx_done(&f);
}

TEST(rest_generate_name_and_status)
{
    static struct fx f;
    const struct orc_kind *pods = orc_kind_lookup("pods");
    json_t *obj;
    const char *name;

    fx_start(&f);
    obj = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "apiVersion", "v1", "kind", "Pod",
                    "metadata", "generateName", "gen-", "spec", "containers", "name", "c",
                    "image", "busybox");
    CHECK_INT(wait_answer(&f, rest_create(f.cl, pods, NULL, obj, on_answer, &f)), ==, 201);
    json_decref(obj);
    name = orc_json_str(f.body, "metadata.name");
    CHECK(name && strncmp(name, "gen-", 4) == 0 && strlen(name) > 4);
    CHECK_STR(orc_json_str(f.body, "metadata.namespace"), "default");

    obj = json_deep_copy(f.body);
    orc_json_set(obj, "status.message", json_string("from rest"));
    CHECK_INT(wait_answer(&f, rest_update_status(f.cl, pods, obj, on_answer, &f)), ==, 200);
    CHECK_STR(orc_json_str(f.body, "status.message"), "from rest");
    json_decref(obj);

    /* a status patch */
    obj = json_pack("{s:{s:s}}", "status", "reason", "Patched");
    CHECK_INT(wait_answer(&f, rest_patch(f.cl, pods, "default", orc_json_str(f.body,
                                         "metadata.name"), "status", NULL, obj, on_answer, &f)),
              ==, 200);
    CHECK_STR(orc_json_str(f.body, "status.reason"), "Patched");
    json_decref(obj);
    fx_done(&f);
}

TEST(rest_errors_without_server)
{
    static struct fx f;
    http_client *cl;
    const struct orc_kind *cm = orc_kind_lookup("configmaps");
    json_t *empty = json_object();

    CHECK(uv_loop_init(&f.loop) == 0);
    CHECK_INT(http_client_new(&f.loop, "http://127.0.0.1:1", NULL, &cl), ==, 0);
    CHECK_INT(rest_delete(cl, cm, "default", "", NULL, on_answer, &f), ==, ORC_EINVAL);
    CHECK_INT(rest_update(cl, cm, empty, on_answer, &f), ==, ORC_EINVAL);
    CHECK_INT(wait_answer(&f, rest_call(cl, "GET", "/api/v1/namespaces", NULL, NULL, 2000,
                                        on_answer, &f)), ==, ORC_EUNAVAIL);
    CHECK(strlen(f.msg) > 0);
    CHECK_STR(rest_message(404, NULL), "not found");
    json_decref(empty);
    json_decref(f.body);
    http_client_close(cl, NULL, NULL);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&f.loop), ==, 0);
}
