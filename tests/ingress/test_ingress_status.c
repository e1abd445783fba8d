/* test_ingress_status.c — the ingress controller's decision
 * (ingress_lb_status): the InternalIPs of the Ready nodes that run the
 * proxy, sorted and distinct; nothing written when the status says it. */
#include <string.h>

#include "controllers/ingress.h"
#include "tests/harness/test.h"

static json_t *node(const char *ip, const char *ready, bool proxy)
{
    json_t *n = json_pack("{s:{s:s}, s:{s:[{s:s, s:s}], s:[{s:s, s:s}]}}", "metadata", "name", ip,
                          "status", "addresses", "type", "InternalIP", "address", ip,
                          "conditions", "type", "Ready", "status", ready);
    if (proxy)
        json_object_set_new(json_object_get(n, "metadata"), "annotations",
                            json_pack("{s:s}", "orc.dev/ingress-proxy", "http=80,https=443"));
    return n;
}

TEST(status_lists_ready_proxy_nodes_sorted)
{
    json_t *ns[5] = {node("10.0.0.3", "True", true), node("10.0.0.1", "True", true),
                     node("10.0.0.2", "False", true), node("10.0.0.4", "True", false),
                     node("10.0.0.1", "True", true)};
    json_t *ing = json_pack("{s:{s:s}}", "metadata", "name", "web");
    json_t *st = ingress_lb_status(ing, (const json_t *const *)ns, 5);
    CHECK(st != NULL);
    char *s = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s, "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.3\"}]}}");
    free(s);
    /* Written: the same again is no change. */
    json_object_set_new(ing, "status", st);
    CHECK(ingress_lb_status(ing, (const json_t *const *)ns, 5) == NULL);
    /* The last proxy node goes: an empty loadBalancer, as Kubernetes shows it. */
    st = ingress_lb_status(ing, NULL, 0);
    CHECK(st != NULL);
    s = json_dumps(st, JSON_COMPACT);
    CHECK_STR(s, "{\"loadBalancer\":{}}");
    free(s);
    json_decref(st);
    /* Never had one, none to give: nothing to write. */
    json_t *fresh = json_pack("{s:{s:s}}", "metadata", "name", "new");
    CHECK(ingress_lb_status(fresh, NULL, 0) == NULL);
    json_decref(fresh);
    json_decref(ing);
    for (int i = 0; i < 5; i++) json_decref(ns[i]);
}
