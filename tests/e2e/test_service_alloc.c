/* test_service_alloc.c — Services' clusterIPs and nodePorts decided inside
 * the replicated txn: 50 concurrent creates through every member of a
 * 3-member cluster (followers forward) get 50 distinct addresses, and
 * NodePort Services distinct ports; a chosen value that is taken or out of
 * range is a 422 naming the field in Kubernetes' words; deleting a Service
 * or turning it back into ClusterIP frees its values at once; headless and
 * ExternalName Services hold nothing; a full range is a 500. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CREATORS 10
#define PER_CREATOR 5
#define SVCS "/api/v1/namespaces/default/services"

static struct cluster c;

struct creator {
    int idx, member, failures;
    bool node_port;
    char last_error[512];
};

static void *create_services(void *arg)
{
    struct creator *cr = arg;
    for (int j = 0; j < PER_CREATOR; j++) {
        char body[256], *resp = NULL;
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"s-%d-%d\"},\"spec\":{\"type\":\"%s\",\"ports\":"
                 "[{\"name\":\"a\",\"port\":80},{\"name\":\"b\",\"port\":81}]}}",
                 cr->idx, j, cr->node_port ? "NodePort" : "ClusterIP");
        int st = t_http(&c, cr->member, "POST", SVCS, NULL, body, &resp, NULL);
        if (st != 201) {
            cr->failures++;
            snprintf(cr->last_error, sizeof cr->last_error, "HTTP %d: %s", st, resp ? resp : "");
        }
        free(resp);
    }
    return NULL;
}

static void run_creators(bool node_port)
{
    pthread_t th[CREATORS];
    struct creator cr[CREATORS];
    int failures = 0;

    for (int i = 0; i < CREATORS; i++) {
        cr[i] = (struct creator){.idx = i + (node_port ? CREATORS : 0), .member = i % 3,
                                 .node_port = node_port};
        CHECK(pthread_create(&th[i], NULL, create_services, &cr[i]) == 0);
    }
    for (int i = 0; i < CREATORS; i++) {
        pthread_join(th[i], NULL);
        failures += cr[i].failures;
        if (cr[i].failures) fprintf(stderr, "creator %d: %s\n", i, cr[i].last_error);
    }
    CHECK_INT(failures, ==, 0);
}

TEST_T(concurrent_creates_get_distinct_values, 90)
{
    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    run_creators(false);
    run_creators(true);

    int leader = cluster_leader(&c, 5000), st;
    CHECK(leader >= 0);
    json_t *list = t_json(&c, leader, "GET", SVCS, NULL, &st), *s, *ips = json_object(),
           *ports = json_object();
    json_t *items = json_object_get(list, "items");
    size_t i, n = 0;
    CHECK_INT(st, ==, 200);
    json_array_foreach(items, i, s) {
        const char *name = orc_json_str(s, "metadata.name"), *ip = orc_json_str(s, "spec.clusterIP");
        if (strncmp(name, "s-", 2) != 0) continue;
        n++;
        CHECKF(ip && strncmp(ip, "10.43.", 6) == 0, "%s: clusterIP %s", name, ip ? ip : "-");
        if (!ip) continue;
        CHECKF(json_object_get(ips, ip) == NULL, "%s handed out twice", ip);
        json_object_set_new(ips, ip, json_true());
        CHECK_STR(json_string_value(json_array_get(orc_json_get(s, "spec.clusterIPs"), 0)), ip);
        CHECK_STR(json_string_value(json_array_get(orc_json_get(s, "spec.ipFamilies"), 0)), "IPv4");
        CHECK_STR(orc_json_str(s, "spec.ipFamilyPolicy"), "SingleStack");
        bool np = strcmp(orc_json_str(s, "spec.type"), "NodePort") == 0;
        json_t *p;
        size_t k;
        json_array_foreach(orc_json_get(s, "spec.ports"), k, p) {
            json_t *v = json_object_get(p, "nodePort");
            if (!np) {
                CHECK(v == NULL);
                continue;
            }
            CHECKF(json_is_integer(v), "%s: nodePort not a number", name);
            char key[24];
            snprintf(key, sizeof key, "%lld", (long long)json_integer_value(v));
            CHECK(json_integer_value(v) >= 30000 && json_integer_value(v) <= 32767);
            CHECKF(json_object_get(ports, key) == NULL, "nodePort %s handed out twice", key);
            json_object_set_new(ports, key, json_true());
        }
    }
    CHECK_INT(n, ==, 2 * CREATORS * PER_CREATOR);
    CHECK_INT(json_object_size(ips), ==, 2 * CREATORS * PER_CREATOR);
    CHECK_INT(json_object_size(ports), ==, 2 * CREATORS * PER_CREATOR);
    json_decref(ips);
    json_decref(ports);
    json_decref(list);

    /* default/kubernetes lists the members' API addresses. */
    size_t addrs = 0;
    for (int tries = 0; tries < 100 && addrs < 3; tries++) {
        json_t *ep = t_json(&c, leader, "GET", "/api/v1/namespaces/default/endpoints/kubernetes",
                            NULL, &st);
        addrs = json_array_size(json_object_get(json_array_get(orc_json_get(ep, "subsets"), 0),
                                                "addresses"));
        json_decref(ep);
        if (addrs < 3) test_sleep_ms(100);
    }
    CHECK_INT(addrs, ==, 3);
    json_t *sl = t_json(&c, leader, "GET",
                        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
                        NULL, &st);
    CHECK_INT(st, ==, 200);
    CHECK_INT(json_array_size(json_object_get(sl, "endpoints")), ==, 3);
    json_decref(sl);
    for (int m = 0; m < 3; m++) member_stop(&c, m);
}

/* POSTs a Service; returns the answer (a Service or a Status). */
static json_t *post(const char *body, int want)
{
    char *resp = NULL;
    int st = t_http(&c, 0, "POST", SVCS, NULL, body, &resp, NULL);
    CHECKF(st == want, "POST %s: HTTP %d: %s", body, st, resp ? resp : "");
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    free(resp);
    return j;
}

static void check_cause(json_t *status, const char *field, const char *msg)
{
    json_t *cause = json_array_get(orc_json_get(status, "details.causes"), 0);
    CHECK_STR(orc_json_str(cause, "field"), field);
    CHECKF(strstr(orc_json_str(cause, "message") ? orc_json_str(cause, "message") : "", msg),
           "message: %s", orc_json_str(cause, "message"));
}

static long long port_np(const json_t *svc, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(orc_json_get(svc, "spec.ports"), i),
                                              "nodePort"));
}

static json_t *patch(const char *name, const char *body, int *st)
{
    char path[160], *resp = NULL;
    snprintf(path, sizeof path, SVCS "/%s", name);
    *st = t_http(&c, 0, "PATCH", path, "application/merge-patch+json", body, &resp, NULL);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    free(resp);
    return j;
}

static void del(const char *name)
{
    char path[160];
    int st;
    snprintf(path, sizeof path, SVCS "/%s", name);
    json_decref(t_json(&c, 0, "DELETE", path, NULL, &st));
    CHECK_INT(st, ==, 200);
}

TEST_T(chosen_values_and_release, 60)
{
    static const char *const flags[] = {"--service-cidr", "10.96.0.0/29",
                                        "--service-node-port-range", "30100-30102", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, flags);
    member_wait_ready(&c, 0, 5000);

    json_t *a = post("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"clusterIP\":\"10.96.0.5\","
                     "\"ports\":[{\"port\":80}]}}", 201);
    CHECK_STR(orc_json_str(a, "spec.clusterIP"), "10.96.0.5");
    json_t *taken = post("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"clusterIP\":\"10.96.0.5\","
                         "\"ports\":[{\"port\":80}]}}", 422);
    check_cause(taken, "spec.clusterIP", "provided IP is already allocated");
    json_t *out = post("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"clusterIP\":\"10.0.0.1\","
                       "\"ports\":[{\"port\":80}]}}", 422);
    check_cause(out, "spec.clusterIP", "provided IP is not in the valid range");
    json_t *headless = post("{\"metadata\":{\"name\":\"h\"},\"spec\":{\"clusterIP\":\"None\"}}",
                            201);
    CHECK_STR(orc_json_str(headless, "spec.clusterIP"), "None");
    json_t *ext = post("{\"metadata\":{\"name\":\"e\"},\"spec\":{\"type\":\"ExternalName\","
                       "\"externalName\":\"example.com\"}}", 201);
    CHECK(orc_json_get(ext, "spec.clusterIP") == NULL);

    /* The kubernetes Service holds the first address, 443 to the API. */
    int st;
    json_t *kube = t_json(&c, 0, "GET", SVCS "/kubernetes", NULL, &st);
    CHECK_INT(st, ==, 200);
    CHECK_STR(orc_json_str(kube, "spec.clusterIP"), "10.96.0.1");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(orc_json_get(kube, "spec.ports"), 0),
                                                 "port")), ==, 443);
    json_decref(kube);

    /* The lowest free addresses of 10.96.0.2-6 go first, 5 is skipped. */
    static const char *const want[] = {"10.96.0.2", "10.96.0.3", "10.96.0.4", "10.96.0.6"};
    for (int i = 0; i < 4; i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"x%d\"},\"spec\":{\"ports\":"
                 "[{\"port\":80}]}}", i);
        json_t *x = post(body, 201);
        CHECK_STR(orc_json_str(x, "spec.clusterIP"), want[i]);
        json_decref(x);
    }
    json_t *full = post("{\"metadata\":{\"name\":\"full\"},\"spec\":{\"ports\":[{\"port\":80}]}}",
                        500);
    CHECK(strstr(orc_json_str(full, "message"), "range is full") != NULL);
    del("x1"); /* frees 10.96.0.3 at once */
    json_t *again = post("{\"metadata\":{\"name\":\"again\"},\"spec\":{\"ports\":[{\"port\":80}]}}",
                         201);
    CHECK_STR(orc_json_str(again, "spec.clusterIP"), "10.96.0.3");
    del("a");
    del("x2");
    del("x3");

    /* NodePorts: chosen, taken, out of range, released by a type change. */
    json_t *np = post("{\"metadata\":{\"name\":\"np\"},\"spec\":{\"type\":\"NodePort\",\"ports\":"
                      "[{\"name\":\"a\",\"port\":80,\"nodePort\":30101},{\"name\":\"b\",\"port\":81}]}}",
                      201);
    CHECK_INT(port_np(np, 0), ==, 30101);
    CHECK_INT(port_np(np, 1), ==, 30100);
    json_t *ptaken = post("{\"metadata\":{\"name\":\"np2\"},\"spec\":{\"type\":\"NodePort\","
                          "\"ports\":[{\"port\":80,\"nodePort\":30101}]}}", 422);
    check_cause(ptaken, "spec.ports[0].nodePort", "provided port is already allocated");
    json_t *pout = post("{\"metadata\":{\"name\":\"np2\"},\"spec\":{\"type\":\"NodePort\","
                        "\"ports\":[{\"port\":80,\"nodePort\":31000}]}}", 422);
    check_cause(pout, "spec.ports[0].nodePort", "provided port is not in the valid range");
    json_t *cip = post("{\"metadata\":{\"name\":\"np3\"},\"spec\":{\"type\":\"ClusterIP\","
                       "\"ports\":[{\"port\":80,\"nodePort\":30102}]}}", 422);
    check_cause(cip, "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'");

    json_t *back = patch("np", "{\"spec\":{\"type\":\"ClusterIP\"}}", &st);
    CHECKF(st == 200, "HTTP %d: %s", st, orc_json_str(back, "message"));
    CHECK(json_object_get(json_array_get(orc_json_get(back, "spec.ports"), 0), "nodePort") == NULL);
    CHECK(orc_json_get(back, "spec.externalTrafficPolicy") == NULL);
    json_decref(back);
    json_t *lb = post("{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\","
                      "\"allocateLoadBalancerNodePorts\":false,\"ports\":[{\"port\":80}]}}", 201);
    CHECK(json_object_get(json_array_get(orc_json_get(lb, "spec.ports"), 0), "nodePort") == NULL);
    json_decref(lb);
    del("lb");
    json_t *np4 = post("{\"metadata\":{\"name\":\"np4\"},\"spec\":{\"type\":\"NodePort\",\"ports\":"
                       "[{\"port\":80,\"nodePort\":30101}]}}", 201);
    del("np4");

    /* An update cannot move the clusterIP. */
    json_t *moved = patch("again", "{\"spec\":{\"clusterIP\":\"10.96.0.4\"}}", &st);
    CHECK_INT(st, ==, 422);
    CHECK(strstr(orc_json_str(moved, "message"), "spec.clusterIP: Invalid value") != NULL);
    CHECK(strstr(orc_json_str(moved, "message"), "field is immutable") != NULL);
    member_stop(&c, 0);
    json_t *all[] = {a, taken, out, headless, ext, full, again, np, ptaken, pout, cip, np4, moved};
    for (size_t i = 0; i < ORC_ARRAY_LEN(all); i++) json_decref(all[i]);
}

/* A namespace's deletion empties it without the write path: its Services'
 * addresses are freed all the same. A dry run previews the address. */
TEST_T(namespace_deletion_frees_and_dry_run_previews, 60)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    int st;
    json_decref(t_json(&c, 0, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"ns1\"}}",
                       &st));
    CHECK_INT(st, ==, 201);
    json_decref(t_json(&c, 0, "POST", "/api/v1/namespaces/ns1/services",
                       "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":\"10.43.0.77\","
                       "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30077}]}}",
                       &st));
    CHECK_INT(st, ==, 201);
    json_decref(t_json(&c, 0, "DELETE", "/api/v1/namespaces/ns1", NULL, &st));
    CHECK_INT(st, ==, 200);
    for (int i = 0; i < 100; i++) {
        json_decref(t_json(&c, 0, "GET", "/api/v1/namespaces/ns1", NULL, &st));
        if (st == 404) break;
        test_sleep_ms(100);
    }
    CHECK_INT(st, ==, 404);
    json_t *s = post("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":\"10.43.0.77\","
                     "\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30077}]}}", 201);

    char *resp = NULL;
    st = t_http(&c, 0, "POST", SVCS "?dryRun=All", NULL,
                "{\"metadata\":{\"name\":\"dry\"},\"spec\":{\"type\":\"NodePort\",\"ports\":"
                "[{\"port\":80}]}}", &resp, NULL);
    CHECK_INT(st, ==, 201);
    json_t *dry = resp ? json_loads(resp, 0, NULL) : NULL;
    free(resp);
    CHECK_STR(orc_json_str(dry, "spec.clusterIP"), "10.43.0.2");
    CHECK_INT(port_np(dry, 0), ==, 30000);
    json_decref(t_json(&c, 0, "GET", SVCS "/dry", NULL, &st));
    CHECK_INT(st, ==, 404);
    json_decref(dry);
    json_decref(s);
    member_stop(&c, 0);
}

/* The leader's controller manager runs the endpointslice controller: a
 * pod turning Ready shows in its Service's slice (the controller's own
 * test is tests/controllers/test_endpointslice_live.c). */
TEST_T(leader_runs_the_endpointslice_controller, 60)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    json_decref(post("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{\"app\":\"web\"},"
                     "\"ports\":[{\"port\":80,\"targetPort\":8080}]}}", 201));
    int st;
    json_decref(t_json(&c, 0, "POST", "/api/v1/namespaces/default/pods",
                       "{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}},\"spec\":"
                       "{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                       &st));
    CHECK_INT(st, ==, 201);
    char *resp = NULL;
    st = t_http(&c, 0, "PATCH", "/api/v1/namespaces/default/pods/p/status",
                "application/merge-patch+json",
                "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.9\",\"conditions\":"
                "[{\"type\":\"Ready\",\"status\":\"True\"}]}}", &resp, NULL);
    free(resp);
    CHECK_INT(st, ==, 200);
    const char *ip = NULL;
    json_t *l = NULL;
    for (int i = 0; i < 100 && !ip; i++) {
        json_decref(l);
        l = t_json(&c, 0, "GET",
                   "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                   "?labelSelector=kubernetes.io%2Fservice-name%3Dweb", NULL, &st);
        json_t *ep = json_array_get(json_object_get(json_array_get(json_object_get(l, "items"), 0),
                                                    "endpoints"), 0);
        ip = json_string_value(json_array_get(json_object_get(ep, "addresses"), 0));
        if (!ip) test_sleep_ms(100);
    }
    CHECK_STR(ip, "10.42.0.9");
    json_decref(l);
    member_stop(&c, 0);
}
