/* test_endpointslice_live.c — ctl_endpointslice in the test process
 * against a real `orcd server` (tests/controllers/live.h). The test plays
 * the agents: pods are created bound to a node and their status (podIP,
 * Ready) is written through the API. The Service's slice and Endpoints
 * follow each readiness change and deletion within a second; a selector
 * matching nothing gives an empty slice; the Service's deletion takes its
 * slices and Endpoints along. */
#include "controllers/endpointslice.h"
#include "tests/controllers/live.h"

#define SVCS "/api/v1/namespaces/default/services"
#define PODS "/api/v1/namespaces/default/pods"
#define SLICES "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
/* The Service web's slices only (default also holds the kubernetes one). */
#define WEB_SLICES SLICES "?labelSelector=kubernetes.io%2Fservice-name%3Dweb"
#define EPS "/api/v1/namespaces/default/endpoints"
#define MERGE "application/merge-patch+json"

static struct live l;

static void pod(const char *name, const char *port_name)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":"
             "\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"ports\":[{\"name\":"
             "\"%s\",\"containerPort\":8080}]}]}}",
             name, port_name);
    live_do(&l, "POST", PODS, NULL, body, 201);
}

/* A pod of app web with 20 more labels: more values than the controller's
 * label index keeps per object (it must still be found). */
static void pod_many_labels(const char *name)
{
    char body[2048], labels[1024] = "\"app\":\"web\"";
    for (int i = 0; i < 20; i++)
        snprintf(labels + strlen(labels), sizeof labels - strlen(labels), ",\"l%d\":\"v%d\"", i, i);
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{\"nodeName\":\"n1\",\"containers\":"
             "[{\"name\":\"c\",\"image\":\"busybox\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]}}",
             name, labels);
    live_do(&l, "POST", PODS, NULL, body, 201);
}

static void pod_status(const char *name, const char *ip, bool ready)
{
    char path[256], body[512];
    snprintf(path, sizeof path, PODS "/%s/status", name);
    snprintf(body, sizeof body,
             "{\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"%s\"}]}}",
             ip, ready ? "True" : "False");
    live_do(&l, "PATCH", path, MERGE, body, 200);
}

/* The Service's slices' endpoints as "name:R name:- " (R ready), sorted
 * by slice then endpoint order; "" when none; "none" when no slice. */
static void slice_view(const char *svc, char *out, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, SLICES "?labelSelector=kubernetes.io%%2Fservice-name%%3D%s", svc);
    json_t *items = live_items(&l, path), *s, *ep;
    size_t i, j;
    snprintf(out, n, "%s", json_array_size(items) ? "" : "none");
    json_array_foreach(items, i, s) {
        json_array_foreach(json_object_get(s, "endpoints"), j, ep) {
            snprintf(out + strlen(out), n - strlen(out), "%s:%s ",
                     orc_json_str(ep, "targetRef.name"),
                     json_is_true(orc_json_get(ep, "conditions.ready")) ? "R" : "-");
        }
    }
    json_decref(items);
}

static bool slices_are(struct live *lv, const void *want)
{
    char have[512];
    (void)lv;
    slice_view("web", have, sizeof have);
    return strcmp(have, want) == 0;
}

/* Runs until the slices read `want`; returns how long it took (ms). */
static uint64_t wait_slices(const char *want, unsigned ms)
{
    uint64_t t0 = test_now_ms();
    char have[512];
    while (!slices_are(&l, want)) {
        if (test_now_ms() - t0 > ms) {
            slice_view("web", have, sizeof have);
            CHECKF(false, "slices read \"%s\", want \"%s\"", have, want);
            return ms;
        }
        live_run(&l, 20);
    }
    return test_now_ms() - t0;
}

static bool endpoints_ready(struct live *lv, const void *want)
{
    json_t *e = live_call(lv, "GET", EPS "/web", NULL, NULL, 0);
    const json_t *sub = json_array_get(orc_json_get(e, "subsets"), 0);
    size_t n = json_array_size(json_object_get(sub, "addresses"));
    json_decref(e);
    return n == *(const size_t *)want;
}

static bool slice_count_is(struct live *lv, const void *want)
{
    json_t *items = live_items(lv, WEB_SLICES);
    size_t n = json_array_size(items);
    json_decref(items);
    return n == *(const size_t *)want;
}

TEST_T(slices_follow_pods, 60)
{
    live_start(&l, &ctl_endpointslice, NULL);
    live_do(&l, "POST", SVCS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":"
            "[{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\"}]}}",
            201);
    wait_slices("", 5000); /* selects nothing yet: one empty slice */
    pod("a", "http");
    pod("b", "http");
    pod("c", "metrics"); /* no port named http: left out */
    pod_status("a", "10.42.0.5", true);
    pod_status("b", "10.42.0.6", false);
    pod_status("c", "10.42.0.7", true);
    wait_slices("a:R b:- ", 5000);
    /* The empty placeholder goes once a real slice exists (its delete may
     * still be in flight when the endpoints show). */
    size_t just_one = 1;
    live_until(&l, slice_count_is, &just_one, 5000, "one slice");

    json_t *items = live_items(&l, WEB_SLICES), *s = json_array_get(items, 0);
    CHECK_INT(json_array_size(items), ==, 1);
    CHECK_STR(orc_json_str(s, "addressType"), "IPv4");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(s, "metadata.labels"),
                                                EPS_LABEL_MANAGED_BY)), EPS_MANAGER);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(s, "metadata.ownerReferences"), 0), "kind"),
              "Service");
    json_t *port = json_array_get(json_object_get(s, "ports"), 0);
    CHECK_INT(json_integer_value(json_object_get(port, "port")), ==, 8080);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(s, "endpoints"), 0), "nodeName"), "n1");
    json_decref(items);
    size_t one = 1, two = 2;
    live_until(&l, endpoints_ready, &one, 5000, "Endpoints with a's address");

    /* Readiness changes and a deletion show within a second. */
    pod_status("b", "10.42.0.6", true);
    uint64_t took = wait_slices("a:R b:R ", 1000);
    fprintf(stderr, "# readiness reflected in %llu ms\n", (unsigned long long)took);
    live_until(&l, endpoints_ready, &two, 1000, "Endpoints with a and b ready");
    pod_status("a", "10.42.0.5", false);
    wait_slices("a:- b:R ", 1000);
    live_do(&l, "DELETE", PODS "/b", "application/json", "{\"gracePeriodSeconds\":0}", 0);
    took = wait_slices("a:- ", 1000);
    fprintf(stderr, "# deletion reflected in %llu ms\n", (unsigned long long)took);

    /* A pod with many labels is found, and leaves when its app changes. */
    pod_many_labels("m");
    pod_status("m", "10.42.0.9", true);
    wait_slices("a:- m:R ", 2000);
    live_do(&l, "PATCH", PODS "/m", MERGE, "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}", 200);
    wait_slices("a:- ", 2000);

    /* Someone else's edit is undone. */
    items = live_items(&l, WEB_SLICES);
    char path[256];
    snprintf(path, sizeof path, SLICES "/%s",
             orc_json_str(json_array_get(items, 0), "metadata.name"));
    json_decref(items);
    live_do(&l, "PATCH", path, MERGE, "{\"endpoints\":[]}", 200);
    wait_slices("a:- ", 2000);

    /* The Service gone: its slices and Endpoints go too. */
    live_do(&l, "DELETE", SVCS "/web", NULL, NULL, 200);
    wait_slices("none", 5000);
    json_t *e = live_call(&l, "GET", EPS "/web", NULL, NULL, 404);
    json_decref(e);
    live_stop(&l);
    member_stop(&l.own, 0);
}

TEST_T(service_without_selector_is_left_alone, 30)
{
    live_start(&l, &ctl_endpointslice, NULL);
    live_do(&l, "POST", SVCS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"ports\":[{\"port\":80}]}}", 201);
    live_do(&l, "POST", EPS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"192.0.2.1\"}],"
            "\"ports\":[{\"port\":80}]}]}",
            201);
    live_run(&l, 500);
    char have[64];
    slice_view("web", have, sizeof have);
    CHECK_STR(have, "none");
    json_t *e = live_call(&l, "GET", EPS "/web", NULL, NULL, 200);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(json_array_get(orc_json_get(e, "subsets"), 0),
                                                         "addresses"), 0), "ip"),
              "192.0.2.1");
    json_decref(e);
    live_stop(&l);
    member_stop(&l.own, 0);
}
