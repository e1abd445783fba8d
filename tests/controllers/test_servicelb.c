/* test_servicelb.c — the service load-balancer controller: the node
 * addresses a LoadBalancer Service is given (Ready nodes only, ExternalIP
 * before InternalIP, sorted, no repeats), nothing written when nothing
 * changed, another implementation's Services left alone; and live against a
 * real orcd, following the Nodes. */
#include <stdlib.h>
#include <string.h>

#include "controllers/servicelb.h"
#include "tests/controllers/live.h"

static json_t *node(const char *name, bool ready, const char *internal, const char *external)
{
    json_t *n = json_pack("{s:{s:s}, s:{s:[{s:s, s:s}], s:[{s:s, s:s}]}}", "metadata", "name", name,
                          "status", "conditions", "type", "Ready", "status", ready ? "True" : "False",
                          "addresses", "type", "Hostname", "address", name);
    json_t *addrs = (json_t *)orc_json_get(n, "status.addresses");
    if (internal) json_array_append_new(addrs, json_pack("{s:s, s:s}", "type", "InternalIP", "address", internal));
    if (external) json_array_append_new(addrs, json_pack("{s:s, s:s}", "type", "ExternalIP", "address", external));
    return n;
}

static json_t *svc(const char *type, const char *extra)
{
    char text[512];
    snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"type\":\"%s\"%s}}", type,
             extra ? extra : "");
    return json_loads(text, 0, NULL);
}

TEST(ingress_lists_ready_nodes_addresses)
{
    json_t *nodes[] = {
        node("b", true, "127.0.9.2", NULL),
        node("a", true, "127.0.9.3", "127.0.9.1"), /* ExternalIP first */
        node("c", false, "127.0.9.4", NULL),       /* not Ready */
        node("d", true, NULL, NULL),               /* no address */
        node("e", true, "127.0.9.2", NULL),        /* the same address again */
    };
    size_t n = sizeof nodes / sizeof *nodes;
    json_t *ing = servicelb_node_ingress((const json_t *const *)nodes, n);
    CHECK_INT(json_array_size(ing), ==, 2);
    CHECK_STR(orc_json_str(json_array_get(ing, 0), "ip"), "127.0.9.1");
    CHECK_STR(orc_json_str(json_array_get(ing, 1), "ip"), "127.0.9.2");

    json_t *lb = svc("LoadBalancer", NULL), *st = servicelb_status(lb, ing);
    CHECK(st != NULL);
    CHECK_INT(json_array_size(json_object_get(st, "ingress")), ==, 2);
    /* written back, the same nodes change nothing */
    orc_json_set(lb, "status.loadBalancer", st);
    CHECK(servicelb_status(lb, ing) == NULL);
    /* no Ready node left: the ingress goes */
    json_t *none = json_array();
    json_t *empty = servicelb_status(lb, none);
    CHECK(empty != NULL && json_object_size(empty) == 0);
    json_decref(empty);

    /* another implementation's Service, and a ClusterIP one, are left as
     * they are; a former LoadBalancer keeps no ingress */
    json_t *other = svc("LoadBalancer", ",\"loadBalancerClass\":\"example.com/lb\"");
    CHECK(servicelb_status(other, ing) == NULL);
    json_t *plain = svc("ClusterIP", NULL);
    CHECK(servicelb_status(plain, ing) == NULL);
    orc_json_set(lb, "spec.type", json_string("ClusterIP"));
    empty = servicelb_status(lb, ing);
    CHECK(empty != NULL && json_object_size(empty) == 0);
    json_decref(empty);
    json_decref(other);
    json_decref(plain);
    json_decref(none);
    json_decref(lb);
    json_decref(ing);
    for (size_t i = 0; i < n; i++) json_decref(nodes[i]);
}

static struct live l;
#define SVCS "/api/v1/namespaces/default/services"

static void put_node(const char *name, const char *ip, bool ready)
{
    char body[512], path[128];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
    json_t *old = live_call(&l, "GET", path, NULL, NULL, 0);
    if (!orc_json_str(old, "metadata.name")) {
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"}}", name);
        live_do(&l, "POST", "/api/v1/nodes", NULL, body, 201);
    }
    json_decref(old);
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", name);
    snprintf(body, sizeof body,
             "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}],"
             "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"%s\"}]}}", ready ? "True" : "False", ip);
    live_do(&l, "PATCH", path, "application/merge-patch+json", body, 200);
}

static bool ingress_is(struct live *lv, const void *arg)
{
    json_t *s = live_call(lv, "GET", SVCS "/web", NULL, NULL, 200);
    json_t *ing = (json_t *)orc_json_get(s, "status.loadBalancer.ingress"), *e;
    char got[256] = "";
    size_t i;
    json_array_foreach (ing, i, e) {
        if (i) strcat(got, ",");
        strncat(got, orc_json_str(e, "ip") ?: "?", 64);
    }
    json_decref(s);
    return strcmp(got, arg) == 0;
}

TEST_T(status_follows_nodes_live, 60)
{
    live_start(&l, &ctl_servicelb, NULL);
    put_node("n1", "127.0.9.11", true);
    live_do(&l, "POST", SVCS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80}]}}", 201);
    live_until(&l, ingress_is, "127.0.9.11", 5000, "the first node's address");
    put_node("n2", "127.0.9.12", true);
    live_until(&l, ingress_is, "127.0.9.11,127.0.9.12", 5000, "both nodes' addresses");
    put_node("n1", "127.0.9.11", false);
    live_until(&l, ingress_is, "127.0.9.12", 5000, "the Ready node's address");
    live_do(&l, "PATCH", SVCS "/web", "application/merge-patch+json", "{\"spec\":{\"type\":\"NodePort\"}}", 200);
    live_until(&l, ingress_is, "", 5000, "no ingress once no longer a LoadBalancer");
    live_stop(&l);
}
