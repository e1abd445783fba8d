/* test_csr_logic.c — the certificate controllers' decisions on requests
 * made here with lib/tls: which the signer signs, for how long, which it
 * fails and with what message; when the cleaner removes one; which the
 * approver takes for a node's own renewal. */
#include <stdlib.h>
#include <string.h>

#include "controllers/csrapproving.h"
#include "controllers/csrsigning.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "lib/tls.h"
#include "tests/harness/test.h"

/* A CSR object for CN/O (orgs NULL-terminated), from `user` in `group`. */
static json_t *csr(const char *signer, const char *cn, const char *org, const char *user, const char *group,
                   const char *usages_json)
{
    const char *orgs[] = {org};
    char *pem, *key, err[ORC_TLS_ERRLEN];
    struct orc_buf b64 = ORC_BUF_INIT;
    json_t *o;

    CHECKF(orc_tls_make_csr(cn, orgs, org ? 1 : 0, &pem, &key, err) == 0, "%s", err);
    CHECK(orc_base64_encode(pem, strlen(pem), false, &b64) == 0);
    o = json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:s, s:[s, s], s:o}}", "metadata", "name", "x",
                  "creationTimestamp", "2026-12-07T00:00:00Z", "spec", "request", b64.data, "signerName", signer,
                  "username", user, "groups", group, "system:authenticated", "usages",
                  json_loads(usages_json, 0, NULL));
    CHECK(o != NULL);
    free(pem);
    free(key);
    orc_buf_free(&b64);
    return o;
}

static void add_condition(json_t *o, const char *type, const char *when)
{
    if (!orc_json_get(o, "status.conditions")) orc_json_set(o, "status.conditions", json_array());
    json_array_append_new(orc_json_get(o, "status.conditions"),
                          json_pack("{s:s, s:s, s:s}", "type", type, "status", "True", "lastUpdateTime", when));
}

#define KUBELET "kubernetes.io/kube-apiserver-client-kubelet"
#define CLIENT "kubernetes.io/kube-apiserver-client"
#define NODE_USAGES "[\"digital signature\", \"client auth\"]"

TEST(csr_signer_waits_for_approval_and_signs_once)
{
    json_t *o = csr(CLIENT, "alice", "devs", "system:admin", "system:masters", "[\"client auth\"]");
    char why[300], *pem = NULL;
    long secs = 0;

    CHECK_INT(csr_sign_decide(o, 0, &pem, &secs, why, sizeof why), ==, CSR_WAIT);
    add_condition(o, "Approved", "2026-12-07T00:00:01Z");
    CHECK_INT(csr_sign_decide(o, 90, &pem, &secs, why, sizeof why), ==, CSR_SIGN);
    CHECK(pem && strstr(pem, "CERTIFICATE REQUEST"));
    CHECK_INT(secs, ==, 365L * 86400); /* the node TTL is the kubelet signer's only */
    free(pem);
    orc_json_set(o, "spec.expirationSeconds", json_integer(3600));
    CHECK_INT(csr_sign_decide(o, 0, &pem, &secs, why, sizeof why), ==, CSR_SIGN);
    CHECK_INT(secs, ==, 3600);
    free(pem);
    orc_json_set(o, "status.certificate", json_string("aXNzdWVk"));
    CHECK_INT(csr_sign_decide(o, 0, &pem, &secs, why, sizeof why), ==, CSR_WAIT);
    json_decref(o);
}

TEST(csr_signer_refuses_what_kubernetes_refuses)
{
    static const struct {
        const char *signer, *cn, *org, *user, *group, *usages, *why;
    } cases[] = {
        {CLIENT, "root", "system:masters", "system:admin", "system:masters", "[\"client auth\"]",
         "use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"},
        {CLIENT, "alice", NULL, "system:admin", "system:masters", "[\"server auth\"]",
         "invalid usage for client certificate: server auth"},
        {CLIENT, "alice", NULL, "system:admin", "system:masters", "[\"digital signature\"]",
         "missing required usage for client certificate: client auth"},
        {KUBELET, "system:node:n1", "devs", "system:node:n1", "system:nodes", NODE_USAGES,
         "subject organization is not system:nodes"},
        {KUBELET, "n1", "system:nodes", "system:admin", "system:masters", NODE_USAGES,
         "subject common name does not begin with system:node:"},
        {KUBELET, "system:node:n2", "system:nodes", "system:node:n1", "system:nodes", NODE_USAGES,
         "node system:node:n1 may not request a certificate for system:node:n2"},
        {KUBELET, "system:node:n1", "system:nodes", "system:node:n1", "system:nodes",
         "[\"client auth\", \"server auth\"]", "usages did not match [digital signature client auth]"},
    };
    char why[300], *pem;
    long secs;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = csr(cases[i].signer, cases[i].cn, cases[i].org, cases[i].user, cases[i].group,
                        cases[i].usages);
        add_condition(o, "Approved", "2026-12-07T00:00:01Z");
        pem = NULL;
        CHECKF(csr_sign_decide(o, 0, &pem, &secs, why, sizeof why) == CSR_FAIL, "case %zu", i);
        CHECKF(strcmp(why, cases[i].why) == 0, "case %zu: %s", i, why);
        CHECK(pem == NULL);
        json_decref(o);
    }
}

TEST(csr_kubelet_signer_caps_at_the_node_ttl_and_admins_may_ask_for_any_node)
{
    json_t *o = csr(KUBELET, "system:node:n2", "system:nodes", "system:admin", "system:masters", NODE_USAGES);
    char why[300], *pem = NULL;
    long secs = 0;

    add_condition(o, "Approved", "2026-12-07T00:00:01Z");
    CHECK_INT(csr_sign_decide(o, 90, &pem, &secs, why, sizeof why), ==, CSR_SIGN);
    CHECK_INT(secs, ==, 90);
    free(pem);
    json_decref(o);
}

TEST(csr_signer_ignores_denied_failed_and_foreign_signers)
{
    json_t *o = csr("example.com/mine", "alice", NULL, "u", "g", "[\"client auth\"]");
    char why[300], *pem = NULL;
    long secs;

    add_condition(o, "Approved", "2026-12-07T00:00:01Z");
    CHECK_INT(csr_sign_decide(o, 0, &pem, &secs, why, sizeof why), ==, CSR_WAIT);
    json_decref(o);
    o = csr(CLIENT, "alice", NULL, "u", "g", "[\"client auth\"]");
    add_condition(o, "Denied", "2026-12-07T00:00:01Z");
    CHECK_INT(csr_sign_decide(o, 0, &pem, &secs, why, sizeof why), ==, CSR_WAIT);
    json_decref(o);
}

TEST(csr_cleaner_hour_after_finishing_day_while_pending)
{
    json_t *o = csr(CLIENT, "alice", NULL, "u", "g", "[\"client auth\"]");
    int64_t created, approved;

    CHECK(orc_time_parse("2026-12-07T00:00:00Z", &created) == 0);
    CHECK(orc_time_parse("2026-12-07T00:10:00Z", &approved) == 0);
    CHECK_INT(csr_gc_time(o), ==, created + 86400);
    add_condition(o, "Approved", "2026-12-07T00:10:00Z");
    CHECK_INT(csr_gc_time(o), ==, approved + 3600);
    json_decref(o);
}

TEST(csr_approver_takes_only_a_nodes_own_renewal)
{
    json_t *own = csr(KUBELET, "system:node:n1", "system:nodes", "system:node:n1", "system:nodes", NODE_USAGES);
    json_t *other = csr(KUBELET, "system:node:n2", "system:nodes", "system:node:n1", "system:nodes", NODE_USAGES);
    json_t *user = csr(KUBELET, "system:node:n1", "system:nodes", "alice", "devs", NODE_USAGES);
    json_t *serving = csr(KUBELET, "system:node:n1", "system:nodes", "system:node:n1", "system:nodes",
                          "[\"digital signature\", \"server auth\"]");
    json_t *client = csr(CLIENT, "system:node:n1", "system:nodes", "system:node:n1", "system:nodes", NODE_USAGES);

    CHECK(csr_is_self_node_client(own));
    CHECK(!csr_is_self_node_client(other));
    CHECK(!csr_is_self_node_client(user));
    CHECK(!csr_is_self_node_client(serving));
    CHECK(!csr_is_self_node_client(client));
    add_condition(own, "Approved", "2026-12-07T00:00:01Z");
    CHECK(!csr_is_self_node_client(own)); /* done already */
    json_decref(own);
    json_decref(other);
    json_decref(user);
    json_decref(serving);
    json_decref(client);
}
