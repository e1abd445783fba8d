/* test_endpointslice_plan.c — the EndpointSlice controller's decisions
 * (controllers/endpointslice_plan.c) without a server: which pods are
 * listed and with which conditions, named targetPorts resolved per pod,
 * slices of at most 100, the writes that fix existing slices, and the
 * legacy Endpoints' subsets. */
#include "controllers/endpointslice.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#include <stdio.h>
#include <string.h>

static json_t *svc(const char *selector, const char *ports)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u-svc\","
             "\"labels\":{\"tier\":\"front\"}},\"spec\":{\"selector\":%s,\"ports\":%s}}",
             selector, ports);
    json_t *s = json_loads(buf, 0, NULL);
    CHECK(s != NULL);
    return s;
}

/* A pod: ready "True"/"False", ip may be "", extra spec fields. */
static json_t *pod(const char *name, const char *ip, const char *ready, bool deleting,
                   const char *port_name)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"u-%s\","
             "\"labels\":{\"app\":\"web\"}%s},\"spec\":{\"nodeName\":\"n1\",\"containers\":"
             "[{\"name\":\"c\",\"ports\":[{\"name\":\"%s\",\"containerPort\":8080}]}]},"
             "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"%s\"}]}}",
             name, name, deleting ? ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"" : "",
             port_name, ip, ready);
    json_t *p = json_loads(buf, 0, NULL);
    CHECK(p != NULL);
    return p;
}

static bool cond(const json_t *ep, const char *c)
{
    return json_is_true(json_object_get(json_object_get(ep, "conditions"), c));
}

TEST(endpoint_conditions_as_kubernetes_sets_them)
{
    json_t *s = svc("{\"app\":\"web\"}", "[{\"port\":80,\"targetPort\":8080}]");
    json_t *ready = pod("a", "10.42.0.5", "True", false, "http");
    json_t *unready = pod("b", "10.42.0.6", "False", false, "http");
    json_t *term = pod("c", "10.42.0.7", "True", true, "http");
    json_t *noip = pod("d", "", "True", false, "http");

    json_t *e = eps_endpoint(s, ready);
    CHECK(cond(e, "ready") && cond(e, "serving") && !cond(e, "terminating"));
    CHECK_STR(json_string_value(json_array_get(json_object_get(e, "addresses"), 0)), "10.42.0.5");
    CHECK_STR(orc_json_str(e, "nodeName"), "n1");
    CHECK_STR(orc_json_str(e, "targetRef.kind"), "Pod");
    CHECK_STR(orc_json_str(e, "targetRef.name"), "a");
    CHECK_STR(orc_json_str(e, "targetRef.uid"), "u-a");
    json_decref(e);
    e = eps_endpoint(s, unready);
    CHECK(!cond(e, "ready") && !cond(e, "serving") && !cond(e, "terminating"));
    json_decref(e);
    e = eps_endpoint(s, term); /* serving but never ready while terminating */
    CHECK(!cond(e, "ready") && cond(e, "serving") && cond(e, "terminating"));
    json_decref(e);
    CHECK(eps_endpoint(s, noip) == NULL);
    json_object_set_new(json_object_get(s, "spec"), "publishNotReadyAddresses", json_true());
    e = eps_endpoint(s, unready);
    CHECK(cond(e, "ready") && !cond(e, "serving"));
    json_decref(e);
    json_t *all[] = {s, ready, unready, term, noip};
    for (size_t i = 0; i < 5; i++) json_decref(all[i]);
}

TEST(named_target_ports_resolve_per_pod)
{
    json_t *s = svc("{\"app\":\"web\"}", "[{\"name\":\"http\",\"port\":80,\"targetPort\":\"web\"}]");
    json_t *pods = json_pack("[o,o,o]", pod("a", "10.42.0.5", "True", false, "web"),
                             pod("b", "10.42.0.6", "True", false, "other"),
                             pod("c", "10.42.0.7", "True", false, "web"));
    json_t *d = eps_desired(s, pods, 100);
    CHECK_INT(json_array_size(d), ==, 1);
    json_t *g = json_array_get(d, 0), *eps = json_object_get(g, "endpoints");
    CHECK_INT(json_array_size(eps), ==, 2); /* b has no port named web: left out */
    CHECK_STR(orc_json_str(json_array_get(eps, 0), "targetRef.name"), "a");
    CHECK_STR(orc_json_str(json_array_get(eps, 1), "targetRef.name"), "c");
    json_t *p = json_array_get(json_object_get(g, "ports"), 0);
    CHECK_STR(orc_json_str(p, "name"), "http");
    CHECK_INT(json_integer_value(json_object_get(p, "port")), ==, 8080);
    CHECK_STR(orc_json_str(p, "protocol"), "TCP");
    json_decref(d);
    json_decref(pods);
    json_decref(s);
}

TEST(slices_hold_at_most_100_and_selector_applies)
{
    json_t *s = svc("{\"app\":\"web\"}", "[{\"port\":80,\"targetPort\":8080}]");
    json_t *pods = json_array();
    for (int i = 0; i < 250; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof name, "p%03d", i);
        snprintf(ip, sizeof ip, "10.42.%d.%d", i / 200, i % 200 + 1);
        json_array_append_new(pods, pod(name, ip, "True", false, "http"));
    }
    json_t *other = pod("zz", "10.42.9.9", "True", false, "http");
    json_object_set_new(orc_json_get(other, "metadata.labels"), "app", json_string("db"));
    json_array_append_new(pods, other);
    json_t *d = eps_desired(s, pods, EPS_MAX_PER_SLICE);
    CHECK_INT(json_array_size(d), ==, 3);
    CHECK_INT(json_array_size(json_object_get(json_array_get(d, 0), "endpoints")), ==, 100);
    CHECK_INT(json_array_size(json_object_get(json_array_get(d, 2), "endpoints")), ==, 50);

    /* Nothing there yet: three creates, labelled and owned. */
    json_t *empty = json_array(), *plan = eps_plan(s, d, empty);
    json_t *creates = json_object_get(plan, "create");
    CHECK_INT(json_array_size(creates), ==, 3);
    json_t *sl = json_array_get(creates, 0);
    CHECK_STR(orc_json_str(sl, "metadata.generateName"), "web-");
    CHECK_STR(orc_json_str(sl, "addressType"), "IPv4");
    json_t *labels = orc_json_get(sl, "metadata.labels");
    CHECK_STR(json_string_value(json_object_get(labels, EPS_LABEL_SERVICE)), "web");
    CHECK_STR(json_string_value(json_object_get(labels, EPS_LABEL_MANAGED_BY)), EPS_MANAGER);
    CHECK_STR(json_string_value(json_object_get(labels, "tier")), "front");
    json_t *own = json_array_get(orc_json_get(sl, "metadata.ownerReferences"), 0);
    CHECK_STR(orc_json_str(own, "kind"), "Service");
    CHECK_STR(orc_json_str(own, "uid"), "u-svc");
    CHECK(json_is_true(json_object_get(own, "controller")));
    CHECK(json_is_true(json_object_get(own, "blockOwnerDeletion")));

    /* Those three stored: nothing to do. One pod gone: one update. */
    json_t *existing = json_array(), *c;
    size_t i;
    json_array_foreach(creates, i, c) {
        json_t *x = json_deep_copy(c);
        char name[32];
        snprintf(name, sizeof name, "web-%zu", i);
        orc_json_set(x, "metadata.name", json_string(name));
        json_array_append_new(existing, x);
    }
    json_t *same = eps_plan(s, d, existing);
    CHECK_INT(json_array_size(json_object_get(same, "create")) +
                  json_array_size(json_object_get(same, "update")) +
                  json_array_size(json_object_get(same, "delete")), ==, 0);
    json_array_remove(pods, 249);
    json_t *d2 = eps_desired(s, pods, EPS_MAX_PER_SLICE);
    json_t *upd = eps_plan(s, d2, existing);
    CHECK_INT(json_array_size(json_object_get(upd, "update")), ==, 1);
    CHECK_INT(json_array_size(json_object_get(upd, "create")), ==, 0);
    CHECK_INT(json_array_size(json_object_get(upd, "delete")), ==, 0);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(upd, "update"), 0), "metadata.name"),
              "web-2");

    /* Selector matching nothing: one empty placeholder, extras deleted. */
    json_t *none = svc("{\"app\":\"nothing\"}", "[{\"port\":80}]");
    json_t *d3 = eps_desired(none, pods, EPS_MAX_PER_SLICE);
    CHECK_INT(json_array_size(d3), ==, 1);
    CHECK_INT(json_array_size(json_object_get(json_array_get(d3, 0), "endpoints")), ==, 0);
    json_t *shrink = eps_plan(none, d3, existing);
    CHECK_INT(json_array_size(json_object_get(shrink, "update")), ==, 1);
    CHECK_INT(json_array_size(json_object_get(shrink, "delete")), ==, 2);
    json_t *all[] = {s, pods, d, empty, plan, existing, same, d2, upd, none, d3, shrink};
    for (size_t k = 0; k < ORC_ARRAY_LEN(all); k++) json_decref(all[k]);
}

TEST(legacy_endpoints_subsets)
{
    json_t *s = svc("{\"app\":\"web\"}", "[{\"port\":80,\"targetPort\":8080}]");
    json_t *pods = json_pack("[o,o,o]", pod("a", "10.42.0.5", "True", false, "http"),
                             pod("b", "10.42.0.6", "False", false, "http"),
                             pod("c", "10.42.0.7", "True", true, "http"));
    json_t *ss = eps_subsets(s, pods);
    CHECK_INT(json_array_size(ss), ==, 1);
    json_t *sub = json_array_get(ss, 0);
    CHECK_INT(json_array_size(json_object_get(sub, "addresses")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(sub, "addresses"), 0), "ip"),
              "10.42.0.5");
    CHECK_INT(json_array_size(json_object_get(sub, "notReadyAddresses")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(sub, "notReadyAddresses"), 0), "ip"),
              "10.42.0.6"); /* the terminating pod is in neither */
    json_t *p = json_array_get(json_object_get(sub, "ports"), 0);
    CHECK_INT(json_integer_value(json_object_get(p, "port")), ==, 8080);
    CHECK(json_object_get(p, "name") == NULL);
    json_decref(ss);
    json_t *empty = json_array();
    ss = eps_subsets(s, empty);
    CHECK_INT(json_array_size(ss), ==, 0);
    json_decref(ss);
    json_decref(empty);
    json_decref(pods);
    json_decref(s);
}
