/* test_list_watch.c — the read side as client libraries use it, against a
 * real `orcd server`: watch=True and the other spellings Kubernetes takes,
 * sendInitialEvents with its end-of-initial-events BOOKMARK, periodic
 * bookmarks, resourceVersion and resourceVersionMatch on lists (Exact,
 * NotOlderThan, too large, too old) and the 422s Kubernetes gives for
 * combinations it refuses; and limit/continue over 10,000 objects: one
 * snapshot across pages, and an expired token answered 410 with a fresh one
 * that finishes the list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/harness/writers.h"

#define CMS "/api/v1/namespaces/default/configmaps"
#define MERGE "application/merge-patch+json"

static struct cluster c;

static char *get(const char *path, int want)
{
    char *resp = NULL;
    int st = t_http(&c, 0, "GET", path, NULL, NULL, &resp, NULL);
    CHECKF(st == want, "GET %s: HTTP %d, want %d: %s", path, st, want, resp ? resp : "");
    return resp;
}

static json_t *get_json(const char *path, int want)
{
    char *text = get(path, want);
    json_t *j = json_loads(text, 0, NULL);
    CHECKF(j != NULL, "GET %s: not JSON: %s", path, text);
    free(text);
    return j;
}

static void make_cm(const char *name, const char *value)
{
    char body[256], *resp = NULL;
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"},\"data\":{\"v\":\"%s\"}}", name, value);
    int st = t_http(&c, 0, "POST", CMS, NULL, body, &resp, NULL);
    CHECKF(st == 201, "create %s: HTTP %d: %s", name, st, resp ? resp : "");
    free(resp);
}

static void patch_cm(const char *name, const char *value)
{
    char body[128], path[256], *resp = NULL;
    snprintf(body, sizeof body, "{\"data\":{\"v\":\"%s\"}}", value);
    snprintf(path, sizeof path, CMS "/%s", name);
    int st = t_http(&c, 0, "PATCH", path, MERGE, body, &resp, NULL);
    CHECKF(st == 200, "patch %s: HTTP %d: %s", name, st, resp ? resp : "");
    free(resp);
}

static long long list_rv(const json_t *l)
{
    const char *rv = orc_json_str(l, "metadata.resourceVersion");
    CHECK(rv != NULL);
    return atoll(rv);
}

static void start_one(const char *const *extra)
{
    cluster_init(&c, 1);
    c.no_controllers = true; /* only this test writes ConfigMaps */
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
}

static void check_message(const char *path, int code, const char *msg)
{
    json_t *st = get_json(path, code);
    CHECKF(orc_json_str(st, "message") && strcmp(orc_json_str(st, "message"), msg) == 0,
           "GET %s: message %s, want %s", path, orc_json_str(st, "message"), msg);
    json_decref(st);
}

TEST_T(watch_parameters_as_kubernetes_reads_them, 60)
{
    const char *extra[] = {"--watch-bookmark-interval", "1s", "--watch-history", "50", NULL};
    char *body, *end;

    start_one(extra);
    make_cm("a", "1");
    /* watch=True (the Python client), yes and "" are true; false and 0 are not */
    body = get(CMS "?watch=True&timeoutSeconds=1", 200);
    CHECKF(strstr(body, "{\"type\":\"ADDED\"") == body, "watch=True: %s", body);
    free(body);
    body = get(CMS "?watch=yes&timeoutSeconds=1", 200);
    CHECKF(strstr(body, "{\"type\":\"ADDED\"") == body, "watch=yes: %s", body);
    free(body);
    body = get(CMS "?watch=FALSE", 200);
    CHECKF(strstr(body, "\"kind\":\"ConfigMapList\"") != NULL, "watch=FALSE: %s", body);
    free(body);

    /* sendInitialEvents: the state as ADDED, then the end-of-initial bookmark */
    body = get(CMS "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                   "&allowWatchBookmarks=true&timeoutSeconds=1",
               200);
    end = strstr(body, "\n{\"type\":\"BOOKMARK\"");
    CHECKF(strstr(body, "{\"type\":\"ADDED\"") == body && end
               && strstr(end, "\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}"),
           "sendInitialEvents: %s", body);
    free(body);
    /* sendInitialEvents=false: no initial state, from now on */
    body = get(CMS "?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan"
                   "&timeoutSeconds=1",
               200);
    CHECKF(strstr(body, "ADDED") == NULL, "sendInitialEvents=false: %s", body);
    free(body);
    /* periodic bookmarks while nothing changes */
    body = get(CMS "?watch=1&resourceVersion=0&allowWatchBookmarks=1&timeoutSeconds=3", 200);
    CHECKF(strstr(body, "{\"type\":\"BOOKMARK\"") != NULL && !strstr(body, "initial-events-end"),
           "bookmarks: %s", body);
    free(body);

    check_message(CMS "?watch=1&sendInitialEvents=true", 422,
                  "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                  "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    check_message(CMS "?watch=1&resourceVersionMatch=NotOlderThan", 422,
                  "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                  "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
}

TEST_T(list_resource_versions_as_kubernetes, 60)
{
    const char *extra[] = {"--watch-history", "50", NULL};
    char path[256];
    json_t *l;

    start_one(extra);
    make_cm("a", "1");
    l = get_json(CMS, 200);
    long long r1 = list_rv(l);
    json_decref(l);
    make_cm("b", "1");
    patch_cm("a", "2");

    /* Exact: the state as of r1 */
    snprintf(path, sizeof path, CMS "?resourceVersion=%lld&resourceVersionMatch=Exact", r1);
    l = get_json(path, 200);
    CHECK_INT(json_array_size(orc_json_get(l, "items")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(l, "items"), 0), "data.v"), "1");
    CHECK_INT(list_rv(l), ==, r1);
    json_decref(l);
    /* a number with a limit and no match is Exact too (Kubernetes' older rule) */
    snprintf(path, sizeof path, CMS "?resourceVersion=%lld&limit=5", r1);
    l = get_json(path, 200);
    CHECK_INT(json_array_size(orc_json_get(l, "items")), ==, 1);
    json_decref(l);
    /* NotOlderThan: at least r1, so the latest here */
    snprintf(path, sizeof path, CMS "?resourceVersion=%lld&resourceVersionMatch=NotOlderThan", r1);
    l = get_json(path, 200);
    CHECK_INT(json_array_size(orc_json_get(l, "items")), ==, 2);
    json_decref(l);
    /* a GET with resourceVersion=0 may be served from any member's state */
    l = get_json(CMS "/a?resourceVersion=0", 200);
    CHECK_STR(orc_json_str(l, "data.v"), "2");
    json_decref(l);

    /* refused combinations, worded as Kubernetes */
    check_message(CMS "?resourceVersionMatch=Exact", 422,
                  "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                  "resourceVersionMatch is forbidden unless resourceVersion is provided");
    check_message(CMS "?resourceVersion=0&resourceVersionMatch=Exact", 422,
                  "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
                  "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    check_message(CMS "?resourceVersion=1&resourceVersionMatch=Newest", 422,
                  "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported "
                  "value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"");
    /* too large: 504 after waiting, with the cause client-go retries on */
    long long cur = member_revision(&c, 0);
    snprintf(path, sizeof path, CMS "?resourceVersion=%lld", cur + 1000);
    l = get_json(path, 504);
    char want[128];
    snprintf(want, sizeof want, "Timeout: Too large resource version: %lld, current: %lld",
             cur + 1000, cur);
    CHECK_STR(orc_json_str(l, "message"), want);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(l, "details.causes"), 0), "reason"),
              "ResourceVersionTooLarge");
    json_decref(l);

    /* past the retained history: 410 */
    for (int i = 0; i < 60; i++) patch_cm("b", i % 2 ? "x" : "y");
    snprintf(path, sizeof path, CMS "?resourceVersion=%lld&resourceVersionMatch=Exact", r1);
    check_message(path, 410, "The resourceVersion for the provided list is too old.");
}

TEST_T(expired_continue_gets_a_fresh_token_that_finishes_the_list, 60)
{
    const char *extra[] = {"--watch-history", "50", NULL};
    char path[2048];
    json_t *l, *st;
    size_t seen = 0;

    start_one(extra);
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "cm-%d", i);
        make_cm(name, "1");
    }
    l = get_json(CMS "?limit=2", 200);
    seen += json_array_size(orc_json_get(l, "items"));
    snprintf(path, sizeof path, CMS "?limit=2&resourceVersion=5&continue=%s",
             orc_json_str(l, "metadata.continue"));
    check_message(path, 400, "specifying resource version is not allowed when using continue");
    snprintf(path, sizeof path, CMS "?limit=2&continue=%s", orc_json_str(l, "metadata.continue"));
    json_decref(l);
    for (int i = 0; i < 60; i++) patch_cm("cm-0", i % 2 ? "x" : "y");
    st = get_json(path, 410);
    CHECK_STR(orc_json_str(st, "reason"), "Expired");
    CHECK(strstr(orc_json_str(st, "message"), "use the continue token in this response") != NULL);
    const char *fresh = orc_json_str(st, "metadata.continue");
    CHECKF(fresh && *fresh, "410 without a fresh token: %s", orc_json_dumps(st));
    snprintf(path, sizeof path, CMS "?limit=10&continue=%s", fresh);
    json_decref(st);
    l = get_json(path, 200);
    seen += json_array_size(orc_json_get(l, "items"));
    CHECK(orc_json_str(l, "metadata.continue") == NULL);
    json_decref(l);
    CHECK_INT(seen, ==, 6);
}

static void make_many(size_t n)
{
    static struct writers w;

    memset(&w, 0, sizeof w);
    w.dialect = WRITERS_ORC;
    w.n_ep = 1;
    snprintf(w.url[0], sizeof w.url[0], "%s", c.m[0].url);
    w.token = c.token;
    w.tls = cluster_tls(&c);
    writers_start(&w, 8);
    uint64_t end = test_now_ms() + 50000;
    while (writers_acks_after(&w, 0, NULL) < n && test_now_ms() < end) usleep(50 * 1000);
    writers_stop(&w);
    CHECKF(w.n_acks >= n, "made %zu of %zu ConfigMaps", w.n_acks, n);
    writers_free(&w);
}

TEST_T(ten_thousand_objects_page_as_one_snapshot, 120)
{
    char path[2048], cont[1024] = "";
    size_t total = 0, pages = 0;
    long long rv0 = 0;
    bool saw_late = false;

    start_one(NULL);
    make_many(10000);
    json_t *l = get_json(CMS "?limit=0", 200);
    size_t all = json_array_size(orc_json_get(l, "items"));
    json_decref(l);
    CHECK(all >= 10000);
    for (;;) {
        if (cont[0]) snprintf(path, sizeof path, CMS "?limit=500&continue=%s", cont);
        else snprintf(path, sizeof path, CMS "?limit=500");
        l = get_json(path, 200);
        json_t *items = orc_json_get(l, "items"), *it;
        size_t i;
        json_array_foreach(items, i, it) {
            if (strcmp(orc_json_str(it, "metadata.name"), "zz-late") == 0) saw_late = true;
        }
        total += json_array_size(items);
        if (pages++ == 0) {
            rv0 = list_rv(l);
            make_cm("zz-late", "1"); /* after the snapshot: not in it */
        }
        CHECK_INT(list_rv(l), ==, rv0);
        const char *next = orc_json_str(l, "metadata.continue");
        snprintf(cont, sizeof cont, "%s", next ? next : "");
        json_decref(l);
        if (!cont[0]) break;
    }
    CHECK_INT(total, ==, all);
    CHECK(!saw_late);
    CHECK_INT(pages, ==, (all + 499) / 500);
}
