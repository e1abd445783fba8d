/* test_kind_table.c — the per-kind rows (apiserver/kind.c) agree with
 * lib/kinds: one row per kind, each with a schema, scale paths exactly where
 * a scale subresource is served, and the subresources discovery lists. */
#include "apiserver/kind.h"
#include "tests/harness/test.h"

TEST(kind_table_every_kind_has_its_row)
{
    size_t n;
    const struct orc_kind *all = orc_kinds(&n);
    CHECK_INT(n, ==, ORC_K_COUNT);
    for (size_t i = 0; i < n; i++) {
        const struct api_kind *ak = api_kind_of(&all[i]);
        CHECKF(ak->k == &all[i], "row of %s points elsewhere", all[i].kind);
        CHECKF(ak->schema != NULL, "%s has no schema", all[i].kind);
        CHECKF((ak->scale != NULL) == all[i].has_scale, "%s: scale paths vs has_scale",
               all[i].kind);
        CHECK(api_kind_serves(ak, "status") == all[i].has_status);
        CHECK(api_kind_serves(ak, "scale") == all[i].has_scale);
        CHECK(!api_kind_serves(ak, "nosuch"));
    }
}

TEST(kind_table_subresources)
{
    const struct api_kind *pod = api_kind_of(orc_kind_lookup("pods"));
    const struct api_kind *ns = api_kind_of(orc_kind_lookup("namespaces"));
    const struct api_kind *cm = api_kind_of(orc_kind_lookup("configmaps"));
    struct api_subresource subs[8];

    CHECK(api_kind_serves(pod, "binding") && api_kind_serves(pod, "log")
          && api_kind_serves(pod, "exec") && api_kind_serves(pod, "attach") && api_kind_serves(pod, "portforward"));
    CHECK(!api_kind_serves(pod, "finalize") && api_kind_serves(ns, "finalize"));
    CHECK_INT(api_kind_subresources(cm, subs, 8), ==, 0);
    CHECK_INT(api_kind_subresources(pod, subs, 8), ==, 7);
    CHECK_STR(subs[0].name, "status");
    CHECK_STR(subs[1].name, "binding");
    CHECK_STR(subs[1].kind, "Binding");
    CHECK_INT(api_kind_subresources(pod, subs, 2), ==, 2);
}

TEST(kind_table_name_rules)
{
    CHECK(api_kind_of(orc_kind_lookup("svc"))->name_rule == orc_dns1035_label);
    CHECK(api_kind_of(orc_kind_lookup("ns"))->name_rule == orc_dns1123_label);
    CHECK(api_kind_of(orc_kind_lookup("deploy"))->tracks_generation);
    CHECK(!api_kind_of(orc_kind_lookup("cm"))->tracks_generation);
}
