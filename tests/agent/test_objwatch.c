/* test_objwatch.c — the agent's per-object watch references
 * (agent/objwatch.c) without an API client: each Secret, ConfigMap and
 * claim a pod names is held once per use, shared between pods, dropped
 * with the last; ServiceAccounts are not watched; a pod's update that
 * keeps an object keeps its watch. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/json.h"
#include "tests/harness/test.h"

static json_t *pod(const char *ns, const char *spec)
{
    json_t *p = json_pack("{s:{s:s,s:s}}", "metadata", "namespace", ns, "name", "p");
    json_t *s = json_loads(spec, 0, NULL);

    CHECK(p != NULL && s != NULL);
    json_object_set_new(p, "spec", s);
    return p;
}

static const char spec_a[] =
    "{\"serviceAccountName\":\"sa\",\"imagePullSecrets\":[{\"name\":\"pull\"}],"
    "\"containers\":[{\"name\":\"c\",\"envFrom\":[{\"secretRef\":{\"name\":\"s1\"}}],"
    "\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"k\"}}}]}],"
    "\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"s1\"}},"
    "{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}}]}";

TEST(references_are_counted_per_use_and_shared)
{
    struct agent *a = calloc(1, sizeof *a);
    json_t *p1 = pod("ns", spec_a), *p2 = pod("ns", "{\"containers\":[{\"name\":\"c\",\"envFrom\":"
                                                    "[{\"configMapRef\":{\"name\":\"cm\"}}]}]}");
    json_t *p3 = pod("other", spec_a);

    CHECK(a != NULL);
    agent_objwatch_pod(a, p1, true);
    CHECK_INT(agent_objwatch_count(a), ==, 4); /* pull, s1, cm, data; no ServiceAccount */
    agent_objwatch_pod(a, p2, true);
    agent_objwatch_pod(a, p3, true);
    CHECK_INT(agent_objwatch_count(a), ==, 8);
    CHECK(agent_objwatch_pod_synced(a, p1)); /* nothing to wait for without a client */
    agent_objwatch_pod(a, p1, false);
    CHECK_INT(agent_objwatch_count(a), ==, 5); /* cm stays for p2 */
    agent_objwatch_pod(a, p2, false);
    CHECK_INT(agent_objwatch_count(a), ==, 4);
    /* An update that keeps the objects: new references first, then the old. */
    json_t *p3b = pod("other", spec_a);
    agent_objwatch_pod(a, p3b, true);
    agent_objwatch_pod(a, p3, false);
    CHECK_INT(agent_objwatch_count(a), ==, 4);
    agent_objwatch_pod(a, p3b, false);
    CHECK_INT(agent_objwatch_count(a), ==, 0);
    agent_objwatch_unref(a, ORC_REF_SECRET, "ns", "never"); /* ignored */
    CHECK_INT(agent_objwatch_ref(a, ORC_REF_SECRET, "ns", "tls"), ==, 0);
    CHECK(agent_objwatch_get(a, ORC_REF_SECRET, "ns", "tls") == NULL); /* not listed */
    agent_objwatch_stop_all(a);
    CHECK_INT(agent_objwatch_count(a), ==, 0);
    json_decref(p1);
    json_decref(p2);
    json_decref(p3);
    json_decref(p3b);
    free(a);
}
