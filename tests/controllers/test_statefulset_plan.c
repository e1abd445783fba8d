/* test_statefulset_plan.c — the StatefulSet controller's decisions on plain
 * objects and a fake wall time: ordinals, OrderedReady and Parallel, scale
 * down from the highest ordinal, partitioned rolling updates, OnDelete,
 * minReadySeconds, the objects it creates and revision pruning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/statefulset.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/harness/test.h"

#define NOW_MS 1800000000000LL

static json_t *set_new(int replicas, const char *policy, const char *strategy, int partition)
{
    json_t *s = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:I}, s:{s:i, s:s, s:s, s:{s:{s:s}},"
                          " s:{s:{s:{s:s}}, s:{s:[{s:s, s:s}]}}}}",
                          "apiVersion", "apps/v1", "kind", "StatefulSet", "metadata", "name",
                          "web", "namespace", "default", "uid", "u-web", "generation",
                          (json_int_t)3, "spec", "replicas", replicas, "serviceName", "nginx",
                          "podManagementPolicy", policy, "selector", "matchLabels", "app", "web",
                          "template", "metadata", "labels", "app", "web", "spec", "containers",
                          "name", "c", "image", "busybox");
    CHECK(s != NULL);
    CHECK(orc_json_set(s, "spec.updateStrategy.type", json_string(strategy)) == 0);
    if (partition >= 0)
        CHECK(orc_json_set(s, "spec.updateStrategy.rollingUpdate.partition",
                           json_integer(partition)) == 0);
    return s;
}

/* A pod of "web" at `ordinal` and revision `rev`: "ready", "pending",
 * "failed" or "terminating". */
static json_t *pod_new(int ordinal, const char *rev, const char *state)
{
    char name[32], since[ORC_TIME_LEN];
    bool ready = strcmp(state, "ready") == 0;
    json_t *p;

    snprintf(name, sizeof name, "web-%d", ordinal);
    orc_time_format(NOW_MS / 1000 - 5, since);
    p = json_pack("{s:{s:s, s:s, s:{s:s}}, s:{s:s, s:[{s:s, s:s, s:s}]}}", "metadata", "name",
                  name, "namespace", "default", "labels", STS_LABEL_REVISION, rev, "status",
                  "phase",
                  strcmp(state, "failed") == 0 ? "Failed"
                  : strcmp(state, "pending") == 0 ? "Pending"
                                                   : "Running",
                  "conditions", "type", "Ready", "status", ready ? "True" : "False",
                  "lastTransitionTime", since);
    CHECK(p != NULL);
    if (strcmp(state, "terminating") == 0)
        CHECK(orc_json_set(p, "metadata.deletionTimestamp", json_string(since)) == 0);
    return p;
}

struct world {
    json_t *set;
    json_t *pods[16];
    size_t n;
    struct sts_plan plan;
};

static void world_free(void *arg)
{
    struct world *w = arg;
    json_decref(w->set);
    for (size_t i = 0; i < w->n; i++) json_decref(w->pods[i]);
    sts_plan_free(&w->plan);
}

static void plan(struct world *w, const char *cur, const char *upd)
{
    struct sts_input in = {w->set, (const json_t *const *)w->pods, w->n, cur, upd, NOW_MS};
    sts_plan_free(&w->plan);
    CHECK(sts_plan_make(&in, &w->plan) == 0);
}

static void add(struct world *w, int ordinal, const char *rev, const char *state)
{
    w->pods[w->n++] = pod_new(ordinal, rev, state);
}

static void check_op(struct world *w, size_t i, enum sts_op_kind kind, int ordinal)
{
    CHECKF(i < w->plan.n_ops, "op %zu of %zu", i, w->plan.n_ops);
    CHECK_INT(w->plan.ops[i].kind, ==, kind);
    CHECK_INT(w->plan.ops[i].ordinal, ==, ordinal);
}

static struct world *world(int replicas, const char *policy, const char *strategy, int partition)
{
    static struct world w;
    memset(&w, 0, sizeof w);
    w.set = set_new(replicas, policy, strategy, partition);
    test_defer(world_free, &w);
    return &w;
}

TEST(ordinals_from_names)
{
    CHECK_INT(sts_ordinal("web", "web-0"), ==, 0);
    CHECK_INT(sts_ordinal("web", "web-12"), ==, 12);
    CHECK_INT(sts_ordinal("web", "web-012"), ==, -1);
    CHECK_INT(sts_ordinal("web", "web-"), ==, -1);
    CHECK_INT(sts_ordinal("web", "web-x"), ==, -1);
    CHECK_INT(sts_ordinal("web", "webb-1"), ==, -1);
    CHECK_INT(sts_ordinal("web", "web-1-2"), ==, -1);
    CHECK_INT(sts_ordinal("web-1", "web-1-2"), ==, 2);

    char set[STS_NAME_MAX];
    CHECK(sts_set_of("web-3", set));
    CHECK_STR(set, "web");
    CHECK(sts_set_of("db-main-10", set));
    CHECK_STR(set, "db-main");
    CHECK(!sts_set_of("web", set));
    CHECK(!sts_set_of("web-x", set));
    CHECK(!sts_set_of("-1", set));
}

TEST(ordered_ready_creates_one_at_a_time_in_order)
{
    struct world *w = world(3, "OrderedReady", "RollingUpdate", 0);

    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_CREATE, 0);
    add(w, 0, "web-a", "pending");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 0); /* waits for web-0 to be Running and Ready */
    json_decref(w->pods[0]);
    w->pods[0] = pod_new(0, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_CREATE, 1);
    CHECK(w->plan.ops[0].update);
    add(w, 1, "web-a", "ready");
    add(w, 2, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 0);
    CHECK_INT(w->plan.counts.replicas, ==, 3);
    CHECK_INT(w->plan.counts.ready, ==, 3);
    CHECK(w->plan.rollout_done);
}

TEST(ordered_ready_fills_a_gap_first)
{
    struct world *w = world(3, "OrderedReady", "RollingUpdate", 0);

    add(w, 0, "web-a", "ready");
    add(w, 2, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_CREATE, 1);
}

TEST(parallel_creates_every_missing_ordinal_at_once)
{
    struct world *w = world(4, "Parallel", "RollingUpdate", 0);

    add(w, 1, "web-a", "pending");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 3);
    check_op(w, 0, STS_CREATE, 0);
    check_op(w, 1, STS_CREATE, 2);
    check_op(w, 2, STS_CREATE, 3);
}

TEST(failed_pod_is_deleted_to_be_recreated)
{
    struct world *w = world(2, "OrderedReady", "RollingUpdate", 0);

    add(w, 0, "web-a", "failed");
    add(w, 1, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_DELETE, 0);
    CHECK(w->plan.ops[0].pod == w->pods[0]);
}

TEST(scale_down_removes_highest_ordinal_first_one_at_a_time)
{
    struct world *w = world(1, "OrderedReady", "RollingUpdate", 0);

    add(w, 0, "web-a", "ready");
    add(w, 1, "web-a", "ready");
    add(w, 2, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_DELETE, 2);
    json_decref(w->pods[2]);
    w->pods[2] = pod_new(2, "web-a", "terminating");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 0); /* waits until web-2 is gone */
    json_decref(w->pods[2]);
    w->n = 2;
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_DELETE, 1);
}

TEST(scale_down_waits_while_a_replica_is_unready)
{
    struct world *w = world(1, "OrderedReady", "RollingUpdate", 0);

    add(w, 0, "web-a", "pending");
    add(w, 1, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 0);
}

TEST(parallel_scale_down_removes_all_at_once)
{
    struct world *w = world(1, "Parallel", "RollingUpdate", 0);

    add(w, 0, "web-a", "ready");
    add(w, 1, "web-a", "pending");
    add(w, 2, "web-a", "ready");
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 2);
    check_op(w, 0, STS_DELETE, 2);
    check_op(w, 1, STS_DELETE, 1);
}

TEST(rolling_update_goes_down_from_the_highest_ordinal)
{
    struct world *w = world(3, "OrderedReady", "RollingUpdate", 0);

    for (int i = 0; i < 3; i++) add(w, i, "web-a", "ready");
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_DELETE, 2);
    CHECK_INT(w->plan.counts.current, ==, 3);
    CHECK_INT(w->plan.counts.updated, ==, 0);
    CHECK(!w->plan.rollout_done);
    /* web-2 gone: it comes back at the update revision */
    json_decref(w->pods[2]);
    w->n = 2;
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_CREATE, 2);
    CHECK(w->plan.ops[0].update);
    /* web-2 updated but not ready: nothing moves */
    add(w, 2, "web-b", "pending");
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 0);
    json_decref(w->pods[2]);
    w->pods[2] = pod_new(2, "web-b", "ready");
    plan(w, "web-a", "web-b");
    check_op(w, 0, STS_DELETE, 1);
}

TEST(rolling_update_respects_the_partition)
{
    struct world *w = world(4, "OrderedReady", "RollingUpdate", 2);

    add(w, 0, "web-a", "ready");
    add(w, 1, "web-a", "ready");
    add(w, 2, "web-b", "ready");
    add(w, 3, "web-b", "ready");
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 0); /* ordinals >= 2 done; 0 and 1 stay */
    CHECK_INT(w->plan.counts.updated, ==, 2);
    CHECK_INT(w->plan.counts.current, ==, 2);
    CHECK(!w->plan.rollout_done);
    /* a pod below the partition comes back at the current revision */
    json_decref(w->pods[1]);
    w->pods[1] = w->pods[2];
    w->pods[2] = w->pods[3];
    w->n = 3;
    /* pods: web-0 (a), web-2 (b), web-3 (b); web-1 missing */
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_CREATE, 1);
    CHECK(!w->plan.ops[0].update);
}

TEST(on_delete_never_deletes_for_an_update)
{
    struct world *w = world(2, "OrderedReady", "OnDelete", -1);

    add(w, 0, "web-a", "ready");
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 1);
    check_op(w, 0, STS_CREATE, 1);
    CHECK(w->plan.ops[0].update); /* a pod made anew takes the new template */
    add(w, 1, "web-b", "ready");
    plan(w, "web-a", "web-b");
    CHECK_INT(w->plan.n_ops, ==, 0);
    CHECK(!w->plan.rollout_done);
}

TEST(min_ready_seconds_holds_the_next_ordinal)
{
    struct world *w = world(2, "OrderedReady", "RollingUpdate", 0);

    CHECK(orc_json_set(w->set, "spec.minReadySeconds", json_integer(30)) == 0);
    add(w, 0, "web-a", "ready"); /* ready for 5 s */
    plan(w, "web-a", "web-a");
    CHECK_INT(w->plan.n_ops, ==, 0);
    CHECK_INT(w->plan.requeue_ms, ==, 25000);
    CHECK_INT(w->plan.counts.ready, ==, 1);
    CHECK_INT(w->plan.counts.available, ==, 0);
}

TEST(pod_and_claim_objects)
{
    struct world *w = world(2, "OrderedReady", "RollingUpdate", 0);
    json_t *vct = json_pack("{s:{s:s, s:{s:s}}, s:{s:[s], s:{s:{s:s}}}}", "metadata", "name",
                            "data", "labels", "tier", "db", "spec", "accessModes",
                            "ReadWriteOnce", "resources", "requests", "storage", "1Gi");
    json_t *pod, *claim;

    CHECK(orc_json_set(w->set, "spec.volumeClaimTemplates", json_pack("[O]", vct)) == 0);
    pod = sts_pod_new(w->set, orc_json_get(w->set, "spec.template"), "web-a", 1);
    claim = sts_claim_new(w->set, vct, 1);
    json_decref(vct);
    CHECK(pod != NULL && claim != NULL);
    CHECK_STR(orc_json_str(pod, "metadata.name"), "web-1");
    CHECK_STR(orc_json_str(pod, "spec.hostname"), "web-1");
    CHECK_STR(orc_json_str(pod, "spec.subdomain"), "nginx");
    json_t *labels = orc_json_get(pod, "metadata.labels");
    CHECK_STR(json_string_value(json_object_get(labels, STS_LABEL_POD_NAME)), "web-1");
    CHECK_STR(json_string_value(json_object_get(labels, STS_LABEL_POD_INDEX)), "1");
    CHECK_STR(json_string_value(json_object_get(labels, STS_LABEL_REVISION)), "web-a");
    CHECK_STR(json_string_value(json_object_get(labels, "app")), "web");
    json_t *ref = json_array_get(orc_json_get(pod, "metadata.ownerReferences"), 0);
    CHECK_STR(orc_json_str(ref, "uid"), "u-web");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    json_t *vol = json_array_get(orc_json_get(pod, "spec.volumes"), 0);
    CHECK_STR(orc_json_str(vol, "name"), "data");
    CHECK_STR(orc_json_str(vol, "persistentVolumeClaim.claimName"), "data-web-1");
    CHECK_STR(orc_json_str(claim, "metadata.name"), "data-web-1");
    CHECK_STR(orc_json_str(claim, "kind"), "PersistentVolumeClaim");
    CHECK_STR(orc_json_str(claim, "metadata.labels.tier"), "db");
    CHECK_STR(orc_json_str(claim, "metadata.labels.app"), "web");
    CHECK(orc_json_get(claim, "metadata.ownerReferences") == NULL); /* Retain */
    CHECK_STR(orc_json_str(claim, "spec.resources.requests.storage"), "1Gi");
    /* the template itself is untouched */
    CHECK(orc_json_get(w->set, "spec.template.spec.volumes") == NULL);
    json_decref(pod);
    json_decref(claim);
}

TEST(revisions_hash_name_and_prune)
{
    struct world *w = world(1, "OrderedReady", "RollingUpdate", 0);
    char h1[16], h2[16], h3[16];
    json_t *revs[4];

    CHECK(sts_revision_hash(orc_json_get(w->set, "spec.template"), 0, h1) == 0);
    CHECK(sts_revision_hash(orc_json_get(w->set, "spec.template"), 0, h2) == 0);
    CHECK_STR(h1, h2);
    CHECK(sts_revision_hash(orc_json_get(w->set, "spec.template"), 1, h3) == 0);
    CHECK(strcmp(h1, h3) != 0);
    for (const char *c = h1; *c; c++) CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *c) != NULL);
    json_t *rev = sts_revision_new(w->set, h1, 1);
    CHECK(rev != NULL);
    char want[64];
    snprintf(want, sizeof want, "web-%s", h1);
    CHECK_STR(orc_json_str(rev, "metadata.name"), want);
    CHECK_STR(orc_json_str(rev, "kind"), "ControllerRevision");
    /* kubectl rollout undo applies data as a strategic merge patch: the
     * template replaces the set's, nothing else of its spec changes */
    CHECK(orc_json_get(rev, "data.spec.$patch") == NULL);
    CHECK_STR(orc_json_str(rev, "data.spec.template.$patch"), "replace");
    json_t *t = json_deep_copy(sts_revision_template(rev));
    json_object_del(t, "$patch");
    CHECK(json_equal(t, orc_json_get(w->set, "spec.template")));
    json_decref(t);
    json_decref(rev);

    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "web-r%d", i);
        revs[i] = json_pack("{s:{s:s}, s:i}", "metadata", "name", name, "revision", 4 - i);
    }
    add(w, 0, "web-r1", "ready");
    size_t out[4];
    /* r0 is the update revision, r3 the current one, r1 in use by web-0:
     * only r2 is history; limit 0 deletes it */
    size_t n = sts_revision_prune((const json_t *const *)revs, 4, (const json_t *const *)w->pods,
                                  w->n, "web-r3", "web-r0", 0, out);
    CHECK_INT(n, ==, 1);
    CHECK_INT(out[0], ==, 2);
    n = sts_revision_prune((const json_t *const *)revs, 4, (const json_t *const *)w->pods, w->n,
                           "web-r3", "web-r0", 1, out);
    CHECK_INT(n, ==, 0);
    for (int i = 0; i < 4; i++) json_decref(revs[i]);
}

TEST(status_reports_counts_and_revisions)
{
    struct world *w = world(2, "OrderedReady", "RollingUpdate", 0);

    add(w, 0, "web-b", "ready");
    add(w, 1, "web-b", "ready");
    plan(w, "web-a", "web-b");
    CHECK(w->plan.rollout_done);
    json_t *st = sts_status_new(w->set, &w->plan, "web-a", "web-b");
    CHECK(st != NULL);
    CHECK_STR(orc_json_str(st, "currentRevision"), "web-b");
    CHECK_STR(orc_json_str(st, "updateRevision"), "web-b");
    int64_t v;
    CHECK(orc_json_int(st, "currentReplicas", &v) == 0 && v == 2);
    CHECK(orc_json_int(st, "observedGeneration", &v) == 0 && v == 3);
    CHECK(orc_json_int(st, "availableReplicas", &v) == 0 && v == 2);
    json_decref(st);
}

TEST(claims_of_scaled_away_pods_get_the_pod_as_owner)
{
    struct world *w = world(1, "OrderedReady", "RollingUpdate", 0);
    json_t *claim = json_pack("{s:{s:s, s:[{s:s, s:s}]}}", "metadata", "name", "data-web-1",
                              "ownerReferences", "kind", "Other", "uid", "o-1");
    json_t *pod = pod_new(1, "web-a", "ready"), *patch, *again;

    CHECK(!sts_claims_deleted_on_scale(w->set));
    CHECK(orc_json_set(w->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
                       json_string("Delete")) == 0);
    CHECK(sts_claims_deleted_on_scale(w->set));
    CHECK(orc_json_set(pod, "metadata.uid", json_string("p-1")) == 0);
    patch = sts_claim_owner_patch(claim, pod);
    CHECK(patch != NULL);
    json_t *refs = orc_json_get(patch, "metadata.ownerReferences");
    CHECK_INT(json_array_size(refs), ==, 2); /* the other owner kept */
    CHECK_STR(orc_json_str(json_array_get(refs, 1), "kind"), "Pod");
    CHECK_STR(orc_json_str(json_array_get(refs, 1), "uid"), "p-1");
    CHECK(json_is_false(json_object_get(json_array_get(refs, 1), "controller")));
    CHECK(orc_json_set(claim, "metadata.ownerReferences", json_deep_copy(refs)) == 0);
    again = sts_claim_owner_patch(claim, pod);
    CHECK(again == NULL); /* already owned by the pod */
    json_decref(patch);
    json_decref(claim);
    json_decref(pod);
}
