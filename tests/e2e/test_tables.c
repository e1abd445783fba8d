/* test_tables.c — server-side printing on a real `orcd server`: what a
 * GET, list or watch whose Accept asks for a meta.k8s.io Table gets (the
 * columns, the rows, the object as includeObject says, paging, one
 * column header per watch), and that other requests are unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define TABLE_V1 "application/json;as=Table;v=v1;g=meta.k8s.io"
#define KUBECTL_ACCEPT \
    TABLE_V1 ",application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
#define PODS "/api/v1/namespaces/default/pods"

static struct cluster c;

static void start_one(void)
{
    cluster_init(&c, 1);
    c.no_controllers = true;
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
}

/* GET path with Accept; fails unless the status is want. Returns the body. */
static char *get_raw(const char *path, const char *accept, int want)
{
    struct http_header h = {"Accept", accept};
    struct http_request req = {.method = "GET", .path = path, .headers = &h,
                               .n_headers = accept ? 1 : 0, .timeout_ms = 15000};
    struct http_response r = {0};
    char *body;

    CHECK(cluster_tls(&c) != NULL);
    CHECK_INT(http_sync_request_tls(c.m[0].url, c.token, cluster_tls(&c), &req, &r, NULL), ==, 0);
    body = strndup(r.body ? r.body : "", r.body_len);
    CHECKF(r.status == want, "GET %s: HTTP %d, want %d: %s", path, r.status, want, body);
    http_response_free(&r);
    return body;
}

static json_t *get(const char *path, const char *accept)
{
    char *body = get_raw(path, accept, 200);
    json_t *j = json_loads(body, 0, NULL);
    CHECKF(j != NULL, "not JSON: %s", body);
    free(body);
    return j;
}

static void make_pod(const char *name)
{
    char body[512];
    int st = 0;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
             "\"labels\":{\"app\":\"t\"}},\"spec\":{\"containers\":[{\"name\":\"a\","
             "\"image\":\"busybox\"}]}}", name);
    json_decref(t_json(&c, 0, "POST", PODS, body, &st));
    CHECK_INT(st, ==, 201);
}

static const json_t *row(const json_t *t, size_t i)
{
    return json_array_get(json_object_get(t, "rows"), i);
}

TEST(list_as_table_has_kubectls_columns_and_partial_metadata)
{
    start_one();
    make_pod("p1");
    make_pod("p2");
    json_t *t = get(PODS, KUBECTL_ACCEPT);
    CHECK_STR(orc_json_str(t, "kind"), "Table");
    CHECK_STR(orc_json_str(t, "apiVersion"), "meta.k8s.io/v1");
    CHECK(orc_json_str(t, "metadata.resourceVersion") != NULL);
    json_t *cols = json_object_get(t, "columnDefinitions");
    static const char *const names[] = {"Name", "Ready", "Status", "Restarts", "Age",
                                        "IP", "Node", "Nominated Node", "Readiness Gates"};
    CHECK_INT(json_array_size(cols), ==, ORC_ARRAY_LEN(names));
    for (size_t i = 0; i < ORC_ARRAY_LEN(names); i++) {
        json_t *col = json_array_get(cols, i);
        CHECK_STR(orc_json_str(col, "name"), names[i]);
        CHECK_INT(json_integer_value(json_object_get(col, "priority")), ==, i < 5 ? 0 : 1);
        CHECK(orc_json_str(col, "type") && orc_json_str(col, "description"));
    }
    CHECK_STR(orc_json_str(json_array_get(cols, 0), "format"), "name");
    CHECK_INT(json_array_size(json_object_get(t, "rows")), ==, 2);
    const json_t *r0 = row(t, 0);
    CHECK_STR(json_string_value(json_array_get(json_object_get(r0, "cells"), 0)), "p1");
    CHECK_STR(json_string_value(json_array_get(json_object_get(r0, "cells"), 2)), "Pending");
    CHECK_STR(orc_json_str(r0, "object.kind"), "PartialObjectMetadata");
    CHECK_STR(orc_json_str(r0, "object.apiVersion"), "meta.k8s.io/v1");
    CHECK_STR(orc_json_str(r0, "object.metadata.namespace"), "default");
    CHECK_STR(orc_json_str(r0, "object.metadata.labels.app"), "t");
    CHECK(orc_json_str(r0, "object.metadata.resourceVersion") != NULL);
    CHECK(orc_json_get(r0, "object.spec") == NULL);
    json_decref(t);

    /* includeObject: the whole object, or none. */
    t = get(PODS "?includeObject=Object", TABLE_V1);
    CHECK_STR(orc_json_str(row(t, 1), "object.kind"), "Pod");
    CHECK(orc_json_get(row(t, 1), "object.spec") != NULL);
    json_decref(t);
    t = get(PODS "?includeObject=None", TABLE_V1);
    CHECK(json_is_null(json_object_get(row(t, 0), "object")));
    json_decref(t);
    free(get_raw(PODS "?includeObject=Everything", TABLE_V1, 400));

    /* v1beta1 when asked first; plain objects without a Table in Accept. */
    t = get(PODS, "application/json;as=Table;v=v1beta1;g=meta.k8s.io");
    CHECK_STR(orc_json_str(t, "apiVersion"), "meta.k8s.io/v1beta1");
    CHECK_STR(orc_json_str(row(t, 0), "object.apiVersion"), "meta.k8s.io/v1beta1");
    json_decref(t);
    t = get(PODS, "application/json");
    CHECK_STR(orc_json_str(t, "kind"), "PodList");
    json_decref(t);
    t = get(PODS, NULL);
    CHECK_STR(orc_json_str(t, "kind"), "PodList");
    json_decref(t);
    t = get(PODS, "application/json, " TABLE_V1);
    CHECK_STR(orc_json_str(t, "kind"), "PodList");
    json_decref(t);
}

TEST(one_object_pages_and_subresources)
{
    start_one();
    make_pod("a1");
    make_pod("a2");
    make_pod("a3");
    json_t *t = get(PODS "/a2", KUBECTL_ACCEPT);
    CHECK_STR(orc_json_str(t, "kind"), "Table");
    CHECK_INT(json_array_size(json_object_get(t, "rows")), ==, 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(row(t, 0), "cells"), 0)), "a2");
    CHECK_STR(orc_json_str(t, "metadata.resourceVersion"),
              orc_json_str(row(t, 0), "object.metadata.resourceVersion"));
    json_decref(t);
    /* A subresource is never printed. */
    t = get(PODS "/a2/status", KUBECTL_ACCEPT);
    CHECK_STR(orc_json_str(t, "kind"), "Pod");
    json_decref(t);
    /* Paging: limit and continue, as for lists. */
    t = get(PODS "?limit=2", KUBECTL_ACCEPT);
    CHECK_INT(json_array_size(json_object_get(t, "rows")), ==, 2);
    const char *cont = orc_json_str(t, "metadata.continue");
    CHECK(cont != NULL);
    CHECK_INT(json_integer_value(orc_json_get(t, "metadata.remainingItemCount")), ==, 1);
    char path[512];
    snprintf(path, sizeof path, PODS "?limit=2&continue=%s", cont);
    json_t *t2 = get(path, KUBECTL_ACCEPT);
    CHECK_INT(json_array_size(json_object_get(t2, "rows")), ==, 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(row(t2, 0), "cells"), 0)), "a3");
    CHECK(json_array_size(json_object_get(t2, "columnDefinitions")) > 0);
    json_decref(t2);
    json_decref(t);
    /* Cluster-scoped kinds print too. */
    t = get("/api/v1/namespaces", KUBECTL_ACCEPT);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(t, "columnDefinitions"), 1), "name"),
              "Status");
    json_decref(t);
}

TEST(watch_events_carry_tables_the_first_with_columns)
{
    start_one();
    make_pod("w1");
    make_pod("w2");
    char *body = get_raw(PODS "?watch=1&timeoutSeconds=1", KUBECTL_ACCEPT, 200);
    char *save = NULL, *line = strtok_r(body, "\n", &save);
    int n = 0;

    for (; line; line = strtok_r(NULL, "\n", &save), n++) {
        json_t *ev = json_loads(line, 0, NULL);
        CHECKF(ev != NULL, "not JSON: %s", line);
        CHECK_STR(orc_json_str(ev, "type"), "ADDED");
        CHECK_STR(orc_json_str(ev, "object.kind"), "Table");
        json_t *cols = orc_json_get(ev, "object.columnDefinitions");
        if (n == 0) CHECK_INT(json_array_size(cols), ==, 9);
        else CHECK(json_is_null(cols));
        json_t *rows = orc_json_get(ev, "object.rows");
        CHECK_INT(json_array_size(rows), ==, 1);
        CHECK_STR(orc_json_str(json_array_get(rows, 0), "object.kind"), "PartialObjectMetadata");
        CHECK_STR(orc_json_str(ev, "object.metadata.resourceVersion"),
                  orc_json_str(json_array_get(rows, 0), "object.metadata.resourceVersion"));
        json_decref(ev);
    }
    CHECK_INT(n, ==, 2);
    free(body);
}

/* A Table of events.k8s.io/v1 Events: the core columns, and the object
 * (includeObject=Object) in the route's version. */
TEST(event_v1_table_rows_carry_v1_objects)
{
    json_t *t, *obj;

    start_one();
    json_decref(t_expect(&c, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", NULL,
                         "{\"metadata\":{\"name\":\"e1\"},\"eventTime\":\"2026-01-01T00:00:00.000000Z\","
                         "\"reportingController\":\"test\",\"reportingInstance\":\"t1\","
                         "\"action\":\"Check\",\"reason\":\"Checked\",\"type\":\"Normal\","
                         "\"regarding\":{\"kind\":\"Pod\",\"name\":\"p1\",\"namespace\":\"default\"},"
                         "\"note\":\"all good\"}", 201));
    t = get("/apis/events.k8s.io/v1/namespaces/default/events?includeObject=Object", TABLE_V1);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(t, "columnDefinitions"), 3), "name"), "Object");
    obj = orc_json_get(json_array_get(orc_json_get(t, "rows"), 0), "object");
    CHECK_STR(orc_json_str(obj, "apiVersion"), "events.k8s.io/v1");
    CHECK_STR(orc_json_str(obj, "note"), "all good");
    CHECK_STR(json_string_value(json_array_get(orc_json_get(json_array_get(orc_json_get(t, "rows"), 0),
                                                            "cells"), 3)), "pod/p1");
    json_decref(t);
}
