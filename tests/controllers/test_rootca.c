/* test_rootca.c — rootca_desired: what the root CA publisher writes for a
 * namespace, given its current kube-root-ca.crt. */
#include <string.h>

#include "controllers/rootca.h"
#include "lib/json.h"
#include "tests/harness/test.h"

#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static const char *ca_of(const json_t *cm)
{
    return json_string_value(json_object_get(json_object_get(cm, "data"), "ca.crt"));
}

TEST(missing_configmap_is_created_with_the_ca)
{
    bool fail = true;
    json_t *want = rootca_desired(NULL, "team", PEM, &fail);

    CHECK(!fail && want);
    CHECK_STR(orc_json_str(want, "metadata.name"), ROOTCA_CONFIGMAP);
    CHECK_STR(orc_json_str(want, "metadata.namespace"), "team");
    CHECK_STR(ca_of(want), PEM);
    CHECK(orc_json_get(want, "metadata.resourceVersion") == NULL);

    /* what it wrote is left alone */
    CHECK(rootca_desired(want, "team", PEM, &fail) == NULL && !fail);
    json_decref(want);
}

TEST(edited_configmap_is_put_back_on_its_own_version)
{
    bool fail = true;
    json_t *cur = rootca_desired(NULL, "team", PEM, &fail), *want;

    orc_json_set(cur, "metadata.resourceVersion", json_string("7"));
    json_object_set_new(json_object_get(cur, "data"), "extra", json_string("x"));
    json_object_set_new(cur, "binaryData", json_pack("{s:s}", "b", "AA=="));
    want = rootca_desired(cur, "team", PEM, &fail);
    CHECK(want != NULL);
    CHECK_INT(json_object_size(json_object_get(want, "data")), ==, 1);
    CHECK_STR(ca_of(want), PEM);
    CHECK(json_object_get(want, "binaryData") == NULL);
    CHECK_STR(orc_json_str(want, "metadata.resourceVersion"), "7");
    json_decref(want);

    /* a CA that changed is written too */
    want = rootca_desired(cur, "team", "other", &fail);
    CHECK_STR(ca_of(want), "other");
    json_decref(want);
    json_decref(cur);
}
