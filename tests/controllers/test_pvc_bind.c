/* test_pvc_bind.c — the volume binder's decisions: the default class,
 * matching claims to volumes, the local-path provisioner's volume, phases. */
#include <string.h>

#include "controllers/pvc.h"
#include "lib/json.h"
#include "lib/storageclass.h"
#include "tests/harness/test.h"

static void put(void *arg) { json_decref(arg); }

static json_t *keep(json_t *obj)
{
    CHECK(obj != NULL);
    test_defer(put, obj);
    return obj;
}

static json_t *claim(const char *name, const char *size, const char *cls)
{
    json_t *c = keep(json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:[s], s:{s:{s:s}}}}", "kind",
                               "PersistentVolumeClaim", "metadata", "name", name, "namespace",
                               "default", "uid", "c-uid", "spec", "accessModes", "ReadWriteOnce",
                               "resources", "requests", "storage", size));
    if (cls) CHECK(orc_json_set(c, "spec.storageClassName", json_string(cls)) == 0);
    return c;
}

static json_t *pv(const char *name, const char *size, const char *cls)
{
    json_t *v = keep(json_pack("{s:s, s:{s:s, s:{s:s}}, s:{s:{s:s}, s:[s, s], s:{s:s}}}", "kind",
                               "PersistentVolume", "metadata", "name", name, "labels", "disk",
                               "ssd", "spec", "capacity", "storage", size, "accessModes",
                               "ReadWriteOnce", "ReadOnlyMany", "hostPath", "path", "/srv/v"));
    if (cls) CHECK(orc_json_set(v, "spec.storageClassName", json_string(cls)) == 0);
    return v;
}

TEST(default_class_is_local_path)
{
    json_t *sc = keep(orc_storage_class_default_new());
    json_t *other = keep(json_pack("{s:{s:s, s:s}}", "metadata", "name", "slow",
                                   "creationTimestamp", "2026-01-01T00:00:00Z"));
    const json_t *list[] = {other, sc};

    CHECK_STR(orc_json_str(sc, "metadata.name"), "local-path");
    CHECK_STR(orc_json_str(sc, "provisioner"), "rancher.io/local-path");
    CHECK_STR(orc_json_str(sc, "volumeBindingMode"), "WaitForFirstConsumer");
    CHECK_STR(orc_json_str(sc, "reclaimPolicy"), "Delete");
    CHECK(pvc_default_class(list, 2) == sc);
    CHECK(pvc_default_class(list, 1) == NULL);
    CHECK_STR(pvc_class_of(claim("a", "1Gi", NULL), sc), "local-path");
    CHECK_STR(pvc_class_of(claim("b", "1Gi", ""), sc), "");
    CHECK_STR(pvc_class_of(claim("c", "1Gi", NULL), NULL), "");
}

TEST(static_volume_matching)
{
    json_t *c = claim("data", "1Gi", "");
    json_t *small = pv("small", "512Mi", NULL), *big = pv("big", "10Gi", NULL);
    json_t *mid = pv("mid", "2Gi", NULL), *other_cls = pv("fast", "2Gi", "fast");
    const json_t *list[] = {small, big, mid, other_cls};

    CHECK(!pvc_pv_fits(c, small, ""));
    CHECK(pvc_pv_fits(c, big, ""));
    CHECK(!pvc_pv_fits(c, other_cls, ""));
    CHECK(pvc_pick(c, list, 4, "") == mid); /* the smallest that fits */
    /* access modes the volume lacks */
    CHECK(orc_json_set(c, "spec.accessModes", json_pack("[s]", "ReadWriteMany")) == 0);
    CHECK(pvc_pick(c, list, 4, "") == NULL);
    CHECK(orc_json_set(c, "spec.accessModes", json_pack("[s]", "ReadWriteOnce")) == 0);
    /* a selector */
    CHECK(orc_json_set(c, "spec.selector", json_pack("{s:{s:s}}", "matchLabels", "disk", "hdd")) == 0);
    CHECK(pvc_pick(c, list, 4, "") == NULL);
    CHECK(orc_json_set(c, "spec.selector", json_pack("{s:{s:s}}", "matchLabels", "disk", "ssd")) == 0);
    CHECK(pvc_pick(c, list, 4, "") == mid);
    /* a volume claimed by another claim is taken; one pre-bound to ours wins */
    CHECK(orc_json_set(mid, "spec.claimRef", json_pack("{s:s, s:s}", "namespace", "default",
                                                       "name", "other")) == 0);
    CHECK(pvc_pick(c, list, 4, "") == big);
    CHECK(orc_json_set(big, "spec.claimRef", json_pack("{s:s, s:s}", "namespace", "default",
                                                       "name", "data")) == 0);
    CHECK(orc_json_set(small, "spec.capacity.storage", json_string("5Gi")) == 0);
    CHECK(pvc_pick(c, list, 4, "") == big);
    /* a Released volume without claimRef is not reused */
    CHECK(orc_json_set(small, "status.phase", json_string("Released")) == 0);
    CHECK(!pvc_pv_fits(c, small, ""));
}

TEST(local_path_provisioned_volume)
{
    json_t *c = claim("data-web-0", "1Gi", NULL);
    json_t *sc = keep(orc_storage_class_default_new());
    json_t *v = keep(pvc_provision(c, sc, "node1", "/d/volumes"));
    const json_t *expr;

    CHECK_STR(orc_json_str(v, "metadata.name"), "pvc-c-uid");
    CHECK_STR(pvc_pv_path(v), "/d/volumes/pvc-c-uid_default_data-web-0");
    CHECK_STR(orc_json_str(v, "spec.hostPath.type"), "DirectoryOrCreate");
    CHECK_STR(orc_json_str(v, "spec.capacity.storage"), "1Gi");
    CHECK_STR(orc_json_str(v, "spec.persistentVolumeReclaimPolicy"), "Delete");
    CHECK_STR(orc_json_str(v, "spec.storageClassName"), "local-path");
    CHECK_STR(orc_json_str(v, "spec.claimRef.uid"), "c-uid");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(v, "metadata.annotations"),
                                                PVC_ANN_PROVISIONED_BY)),
              "rancher.io/local-path");
    expr = json_array_get(
        orc_json_get(json_array_get(orc_json_get(v, "spec.nodeAffinity.required.nodeSelectorTerms"), 0),
                     "matchExpressions"),
        0);
    CHECK_STR(orc_json_str(expr, "key"), "kubernetes.io/hostname");
    CHECK_STR(json_string_value(json_array_get(json_object_get(expr, "values"), 0)), "node1");
    CHECK(pvc_claimref_is(v, c));
    CHECK(pvc_pv_fits(c, v, "local-path"));
}

TEST(phases)
{
    json_t *c = claim("data", "1Gi", NULL);
    json_t *v = pv("v", "1Gi", NULL);
    json_t *st;

    CHECK_STR(pvc_pv_phase(v, NULL), "Available");
    CHECK(orc_json_set(v, "spec.claimRef", json_pack("{s:s, s:s}", "namespace", "default",
                                                     "name", "data")) == 0);
    CHECK_STR(pvc_pv_phase(v, NULL), "Available"); /* pre-bound, claim not there yet */
    CHECK_STR(pvc_pv_phase(v, c), "Bound");
    CHECK(orc_json_set(v, "spec.claimRef.uid", json_string("c-uid")) == 0);
    CHECK_STR(pvc_pv_phase(v, c), "Bound");
    CHECK_STR(pvc_pv_phase(v, NULL), "Released");
    CHECK(orc_json_set(c, "metadata.uid", json_string("new-uid")) == 0);
    CHECK_STR(pvc_pv_phase(v, c), "Released"); /* a new claim of the same name */
    st = keep(pvc_claim_status(v));
    CHECK_STR(orc_json_str(st, "phase"), "Bound");
    CHECK_STR(orc_json_str(st, "capacity.storage"), "1Gi");
    st = keep(pvc_claim_status(NULL));
    CHECK_STR(orc_json_str(st, "phase"), "Pending");
}
