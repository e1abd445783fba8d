/* test_deployment_plan.c — the Deployment controller's planning on a fake
 * world: ReplicaSets simulated in memory (their pods appear and become
 * available a step after they are asked for), the clock moved by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/deployment.h"
#include "tests/harness/test.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define T0 1800000000

struct world {
    json_t *d;
    json_t *rs[32];
    size_t n;
    int64_t now;
    int64_t max_total, min_avail; /* seen while rolling */
    char events[64][128];
    size_t n_events;
};

static json_t *deployment(int64_t replicas, const char *image, const char *surge,
                          const char *unavail)
{
    json_t *d =
        json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:i,s:{}},s:{s:I,s:{s:{s:s}},"
                  "s:{s:{s:{s:s}},s:{s:[{s:s,s:s}]}},s:i,s:i,s:{s:s,s:{}}}}",
                  "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", "web",
                  "namespace", "default", "uid", "d-uid", "generation", 1, "annotations", "spec",
                  "replicas", (json_int_t)replicas, "selector", "matchLabels", "app", "web",
                  "template", "metadata", "labels", "app", "web", "spec", "containers", "name", "c",
                  "image", image, "revisionHistoryLimit", 10, "progressDeadlineSeconds", 600,
                  "strategy", "type", "RollingUpdate", "rollingUpdate");
    CHECK(d != NULL);
    json_t *ru = orc_json_get(d, "spec.strategy.rollingUpdate");
    if (surge)
        json_object_set_new(ru, "maxSurge",
                            surge[0] >= '0' && surge[strlen(surge) - 1] != '%'
                                ? json_integer(atoi(surge))
                                : json_string(surge));
    if (unavail)
        json_object_set_new(ru, "maxUnavailable",
                            unavail[strlen(unavail) - 1] != '%' ? json_integer(atoi(unavail))
                                                                : json_string(unavail));
    return d;
}

static void set_image(struct world *w, const char *image)
{
    json_t *c = json_array_get(orc_json_get(w->d, "spec.template.spec.containers"), 0);
    json_object_set_new(c, "image", json_string(image));
    json_object_set_new(json_object_get(w->d, "metadata"), "generation",
                        json_integer(ctl_int(w->d, "metadata.generation", 0) + 1));
}

static void apply_patch(json_t *obj, const json_t *patch)
{
    json_t *p = json_deep_copy(patch);
    json_object_del(json_object_get(p, "metadata"), "resourceVersion");
    CHECK(json_object_update_recursive(obj, p) == 0);
    json_decref(p);
}

/* One plan carried out, then the ReplicaSets' pods catch up: every set gets
 * status.replicas = spec.replicas; with pods_ready, pods asked for become
 * available one step later, else none does. Returns the plan with its json
 * released (requeue_ms is what is left to look at). */
static struct dep_plan step(struct world *w, bool pods_ready)
{
    struct dep_rs rs[32];
    struct dep_plan p;
    char ts[ORC_TIME_LEN];

    size_t n = w->n;

    for (size_t i = 0; i < n; i++) dep_rs_init(&rs[i], w->rs[i]);
    CHECK(dep_plan(w->d, rs, n, w->now, &p) == 0);
    for (size_t i = 0; i < n; i++) {
        if (rs[i].patch) apply_patch(w->rs[i], rs[i].patch);
        if (rs[i].scaled && w->n_events < 64)
            snprintf(w->events[w->n_events++], 128, "Scaled %s replica set %s to %lld",
                     rs[i].replicas > rs[i].old_replicas ? "up" : "down",
                     orc_json_str(w->rs[i], "metadata.name"), (long long)rs[i].replicas);
    }
    if (p.dep_patch) apply_patch(w->d, p.dep_patch);
    if (p.create) {
        CHECK(w->n < 32);
        json_t *r = json_deep_copy(p.create);
        orc_time_format(w->now, ts);
        orc_json_set(r, "metadata.creationTimestamp", json_string(ts));
        orc_json_set(r, "metadata.generation", json_integer(1));
        w->rs[w->n++] = r;
        if (p.create_replicas > 0 && w->n_events < 64)
            snprintf(w->events[w->n_events++], 128, "Scaled up replica set %s to %lld",
                     orc_json_str(r, "metadata.name"), (long long)p.create_replicas);
    }
    if (p.status) json_object_set(w->d, "status", p.status);
    /* What the ReplicaSet controller and the nodes do next. */
    int64_t total = 0, avail = 0;
    for (size_t i = 0; i < w->n; i++) {
        json_t *r = w->rs[i];
        int64_t spec = ctl_int(r, "spec.replicas", 1), had = ctl_int(r, "status.replicas", 0);
        int64_t a = ctl_int(r, "status.availableReplicas", 0);
        if (pods_ready)
            a = had < spec ? had : spec;
        else if (a > spec)
            a = spec;
        orc_json_set(r, "status.replicas", json_integer(spec));
        orc_json_set(r, "status.readyReplicas", json_integer(a));
        orc_json_set(r, "status.availableReplicas", json_integer(a));
        orc_json_set(r, "status.observedGeneration",
                     json_integer(ctl_int(r, "metadata.generation", 1)));
        total += spec;
        avail += a;
    }
    if (total > w->max_total) w->max_total = total;
    if (avail < w->min_avail) w->min_avail = avail;
    w->now += 1;
    for (size_t i = 0; i < n; i++) json_decref(rs[i].patch);
    json_decref(p.create);
    json_decref(p.dep_patch);
    json_decref(p.status);
    return p;
}

static void world_free(void *arg)
{
    struct world *w = arg;
    json_decref(w->d);
    for (size_t i = 0; i < w->n; i++) json_decref(w->rs[i]);
    free(w);
}

static struct world *world_new(json_t *d)
{
    struct world *w = calloc(1, sizeof *w);
    CHECK(w != NULL);
    w->d = d;
    w->now = T0;
    w->min_avail = 1 << 30;
    test_defer(world_free, w);
    return w;
}

static const json_t *cond(const json_t *d, const char *type)
{
    return ctl_cond_get(json_object_get(d, "status"), type);
}

static const char *reason(const json_t *d, const char *type)
{
    const json_t *c = cond(d, type);
    return c ? orc_json_str(c, "reason") : "(none)";
}

static void settle(struct world *w, int max_steps)
{
    char msg[256];
    for (int i = 0; i < max_steps; i++) {
        step(w, true);
        if (dep_rollout_status(w->d, msg, sizeof msg) == 1 &&
            !strcmp(reason(w->d, "Progressing"), "NewReplicaSetAvailable"))
            return;
    }
    test_fail(__FILE__, __LINE__, "did not settle: %s", msg);
}

static json_t *rs_named_rev(struct world *w, int64_t rev)
{
    for (size_t i = 0; i < w->n; i++)
        if (dep_revision_of(w->rs[i]) == rev) return w->rs[i];
    return NULL;
}

TEST(fenceposts_round_surge_up_and_unavailable_down)
{
    json_t *d = deployment(10, "a", NULL, NULL);
    int64_t s, u;
    dep_fenceposts(d, &s, &u);
    CHECK_INT(s, ==, 3); /* 25% of 10 = 2.5 up */
    CHECK_INT(u, ==, 2); /* down */
    json_object_set_new(orc_json_get(d, "spec.strategy.rollingUpdate"), "maxSurge",
                        json_integer(0));
    json_object_set_new(orc_json_get(d, "spec.strategy.rollingUpdate"), "maxUnavailable",
                        json_string("0%"));
    dep_fenceposts(d, &s, &u);
    CHECK_INT(s, ==, 0);
    CHECK_INT(u, ==, 1); /* both zero: one may be unavailable */
    json_object_set_new(json_object_get(d, "spec"), "replicas", json_integer(1));
    json_object_set_new(orc_json_get(d, "spec.strategy.rollingUpdate"), "maxUnavailable",
                        json_string("50%"));
    CHECK_INT(dep_max_unavailable(d), ==, 1); /* 50% of 1 rounds to 0, and surge is 0 */
    json_object_set_new(json_object_get(d, "spec"), "strategy",
                        json_pack("{s:s}", "type", "Recreate"));
    dep_fenceposts(d, &s, &u);
    CHECK_INT(s + u, ==, 0);
    json_decref(d);
}

TEST(template_hash_is_stable_and_counts_collisions)
{
    json_t *d = deployment(3, "a", NULL, NULL), *d2 = deployment(3, "a", NULL, NULL);
    char h1[DEP_HASH_LEN], h2[DEP_HASH_LEN], h3[DEP_HASH_LEN];
    dep_template_hash(orc_json_get(d, "spec.template"), 0, h1);
    dep_template_hash(orc_json_get(d2, "spec.template"), 0, h2);
    CHECK_STR(h1, h2);
    CHECK(strlen(h1) >= 6);
    CHECK(strspn(h1, "bcdfghjklmnpqrstvwxz2456789") == strlen(h1));
    dep_template_hash(orc_json_get(d, "spec.template"), 1, h3);
    CHECK(strcmp(h1, h3) != 0);
    json_t *rs = dep_new_rs(d, 0, 1, 3);
    char name[64];
    snprintf(name, sizeof name, "web-%s", h1);
    CHECK_STR(orc_json_str(rs, "metadata.name"), name);
    CHECK_STR(orc_json_str(rs, "spec.selector.matchLabels.pod-template-hash"), h1);
    CHECK_STR(orc_json_str(rs, "spec.template.metadata.labels.pod-template-hash"), h1);
    CHECK(dep_templates_equal(orc_json_get(rs, "spec.template"), orc_json_get(d, "spec.template")));
    /* kubectl rollout undo sends the ReplicaSet's template as Go wrote it,
     * with `resources: {}`: still that ReplicaSet's template */
    json_object_set_new(json_array_get(orc_json_get(rs, "spec.template.spec.containers"), 0), "resources",
                        json_object());
    CHECK(dep_templates_equal(orc_json_get(rs, "spec.template"), orc_json_get(d, "spec.template")));
    CHECK_INT(dep_revision_of(rs), ==, 1);
    CHECK(json_is_true(json_object_get(
        json_array_get(orc_json_get(rs, "metadata.ownerReferences"), 0), "blockOwnerDeletion")));
    json_decref(rs);
    json_decref(d);
    json_decref(d2);
}

TEST(first_rollout_creates_the_set_and_completes)
{
    struct world *w = world_new(deployment(3, "a", NULL, NULL));
    step(w, true);
    CHECK_INT(w->n, ==, 1);
    CHECK_INT(ctl_int(w->rs[0], "spec.replicas", 0), ==, 3);
    CHECK_STR(reason(w->d, "Progressing"), "NewReplicaSetCreated");
    CHECK_INT(dep_revision_of(w->d), ==, 1);
    CHECK(strncmp(w->events[0], "Scaled up replica set web-", 26) == 0);
    settle(w, 10);
    CHECK_STR(orc_json_str(cond(w->d, "Available"), "reason"), "MinimumReplicasAvailable");
    CHECK_INT(ctl_int(w->d, "status.updatedReplicas", 0), ==, 3);
    CHECK_INT(ctl_int(w->d, "status.availableReplicas", 0), ==, 3);
    CHECK_INT(ctl_int(w->d, "status.unavailableReplicas", -1), ==, 0);
}

static void rolling_bounds(int64_t replicas, const char *surge, const char *unavail,
                           int64_t want_max, int64_t want_min)
{
    struct world *w = world_new(deployment(replicas, "a", surge, unavail));
    settle(w, 20);
    set_image(w, "b");
    w->max_total = 0;
    w->min_avail = 1 << 30;
    settle(w, 60);
    CHECKF(w->max_total <= want_max, "total %lld > %lld", (long long)w->max_total,
           (long long)want_max);
    CHECKF(w->min_avail >= want_min, "available %lld < %lld", (long long)w->min_avail,
           (long long)want_min);
    CHECK_INT(w->n, ==, 2);
    CHECK_INT(ctl_int(rs_named_rev(w, 1), "spec.replicas", -1), ==, 0);
    CHECK_INT(ctl_int(rs_named_rev(w, 2), "spec.replicas", -1), ==, replicas);
    CHECK_INT(dep_revision_of(w->d), ==, 2);
}

TEST(rolling_update_stays_within_surge_and_unavailable)
{
    rolling_bounds(10, NULL, NULL, 13, 8); /* 25%: surge 3 up, unavailable 2 down */
    rolling_bounds(4, "1", "0", 5, 4);
    rolling_bounds(4, "0", "1", 4, 3);
    rolling_bounds(5, "100%", "0", 10, 5);
}

TEST(rolling_update_waits_for_new_pods_to_be_available)
{
    struct world *w = world_new(deployment(4, "a", "1", "0"));
    settle(w, 20);
    set_image(w, "b");
    for (int i = 0; i < 10; i++) step(w, false); /* new pods never become ready */
    json_t *old = rs_named_rev(w, 1), *nw = rs_named_rev(w, 2);
    CHECK_INT(ctl_int(old, "spec.replicas", -1), ==, 4);
    CHECK_INT(ctl_int(nw, "spec.replicas", -1), ==, 1);
    CHECK_STR(reason(w->d, "Progressing"), "ReplicaSetUpdated");
    CHECK_STR(reason(w->d, "Available"), "MinimumReplicasAvailable");
}

TEST(progress_deadline_exceeded_and_requeue)
{
    struct world *w = world_new(deployment(2, "a", "1", "0"));
    json_object_set_new(json_object_get(w->d, "spec"), "progressDeadlineSeconds", json_integer(30));
    settle(w, 20);
    set_image(w, "b");
    struct dep_plan p = step(w, false);
    (void)p;
    step(w, false);
    p = step(w, false);
    CHECK(p.requeue_ms > 0 && p.requeue_ms <= 31000);
    w->now += 40;
    step(w, false);
    CHECK_STR(reason(w->d, "Progressing"), "ProgressDeadlineExceeded");
    CHECK_STR(orc_json_str(cond(w->d, "Progressing"), "status"), "False");
    char msg[256];
    CHECK_INT(dep_rollout_status(w->d, msg, sizeof msg), ==, ORC_ETIMEDOUT);
    CHECK_STR(msg, "deployment \"web\" exceeded its progress deadline");
    p = step(w, false);
    CHECK_INT(p.requeue_ms, ==, 0);
}

TEST(rollback_reuses_the_old_set_with_a_new_revision)
{
    struct world *w = world_new(deployment(3, "a", NULL, NULL));
    settle(w, 20);
    set_image(w, "b");
    settle(w, 40);
    json_t *first = rs_named_rev(w, 1);
    CHECK(first != NULL);
    /* kubectl rollout undo: the old set's template, less its hash label. */
    json_t *tmpl = json_deep_copy(orc_json_get(first, "spec.template"));
    orc_json_del(orc_json_get(tmpl, "metadata.labels"), "pod-template-hash");
    json_object_set_new(json_object_get(w->d, "spec"), "template", tmpl);
    json_object_set_new(json_object_get(w->d, "metadata"), "generation", json_integer(3));
    settle(w, 40);
    CHECK_INT(w->n, ==, 2);                   /* no third set */
    CHECK_INT(dep_revision_of(first), ==, 3); /* revision bumped */
    CHECK_STR(json_string_value(json_object_get(orc_json_get(first, "metadata.annotations"),
                                                DEP_REVISION_HISTORY)),
              "1");
    CHECK_INT(dep_revision_of(w->d), ==, 3);
    CHECK_INT(ctl_int(first, "spec.replicas", -1), ==, 3);
    CHECK_STR(
        json_string_value(json_object_get(
            json_array_get(orc_json_get(first, "spec.template.spec.containers"), 0), "image")),
        "a");
}

TEST(paused_deployment_scales_but_does_not_roll)
{
    struct world *w = world_new(deployment(3, "a", NULL, NULL));
    settle(w, 20);
    json_object_set_new(json_object_get(w->d, "spec"), "paused", json_true());
    set_image(w, "b");
    step(w, true);
    CHECK_STR(reason(w->d, "Progressing"), "DeploymentPaused");
    CHECK_STR(orc_json_str(cond(w->d, "Progressing"), "status"), "Unknown");
    CHECK_INT(w->n, ==, 1);
    json_object_set_new(json_object_get(w->d, "spec"), "replicas", json_integer(5));
    step(w, true);
    CHECK_INT(ctl_int(w->rs[0], "spec.replicas", -1), ==, 5);
    json_object_set_new(json_object_get(w->d, "spec"), "paused", json_false());
    step(w, true);
    CHECK_INT(w->n, ==, 2);
    settle(w, 40);
    CHECK_INT(ctl_int(rs_named_rev(w, 2), "spec.replicas", -1), ==, 5);
}

TEST(recreate_scales_old_to_zero_before_creating)
{
    json_t *d = deployment(3, "a", NULL, NULL);
    json_object_set_new(json_object_get(d, "spec"), "strategy",
                        json_pack("{s:s}", "type", "Recreate"));
    struct world *w = world_new(d);
    settle(w, 20);
    set_image(w, "b");
    step(w, true);
    CHECK_INT(w->n, ==, 1);
    CHECK_INT(ctl_int(w->rs[0], "spec.replicas", -1), ==, 0);
    step(w, true);
    CHECK_INT(w->n, ==, 2);
    CHECK_INT(ctl_int(w->rs[1], "spec.replicas", -1), ==, 3);
    settle(w, 20);
    CHECK_INT(w->max_total, <=, 3);
}

TEST(history_limit_deletes_the_oldest_idle_sets)
{
    struct world *w = world_new(deployment(1, "i0", NULL, NULL));
    json_object_set_new(json_object_get(w->d, "spec"), "revisionHistoryLimit", json_integer(2));
    settle(w, 20);
    for (int i = 1; i <= 4; i++) {
        char img[8];
        snprintf(img, sizeof img, "i%d", i);
        set_image(w, img);
        settle(w, 40);
    }
    /* Deletions are marked in the plan; the world keeps them, so plan once
     * more and count what would go. */
    struct dep_rs rs[32];
    struct dep_plan p;
    for (size_t i = 0; i < w->n; i++) dep_rs_init(&rs[i], w->rs[i]);
    CHECK(dep_plan(w->d, rs, w->n, w->now, &p) == 0);
    size_t removed = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (!rs[i].remove) continue;
        removed++;
        CHECK_INT(rs[i].revision, <=, 2);
    }
    CHECK_INT(removed, ==, 2); /* 4 old sets, keep 2 */
    dep_plan_free(&p, rs, w->n);
}

TEST(scaling_mid_rollout_is_proportional)
{
    struct world *w = world_new(deployment(10, "a", "3", "2"));
    settle(w, 20);
    set_image(w, "b");
    step(w, false); /* new set at 3, old down to 8 (10 - maxUnavailable) */
    json_t *old = rs_named_rev(w, 1), *nw = rs_named_rev(w, 2);
    CHECK_INT(ctl_int(old, "spec.replicas", 0), ==, 8);
    CHECK_INT(ctl_int(nw, "spec.replicas", 0), ==, 3);
    step(w, false); /* new up to 5: 13 in all */
    CHECK_INT(ctl_int(old, "spec.replicas", 0) + ctl_int(nw, "spec.replicas", 0), ==, 13);
    int64_t o = ctl_int(old, "spec.replicas", 0), n = ctl_int(nw, "spec.replicas", 0);
    json_object_set_new(json_object_get(w->d, "spec"), "replicas", json_integer(20));
    step(w, false);
    int64_t o2 = ctl_int(old, "spec.replicas", 0), n2 = ctl_int(nw, "spec.replicas", 0);
    CHECK_INT(o2 + n2, ==, 20 + 3); /* 20 + maxSurge */
    CHECK(o2 > o && n2 > n);        /* both grew */
}

TEST(min_ready_seconds_follows_the_deployment)
{
    struct world *w = world_new(deployment(2, "a", NULL, NULL));
    json_object_set_new(json_object_get(w->d, "spec"), "minReadySeconds", json_integer(5));
    step(w, true);
    CHECK_INT(ctl_int(w->rs[0], "spec.minReadySeconds", -1), ==, 5);
    json_object_set_new(json_object_get(w->d, "spec"), "minReadySeconds", json_integer(9));
    step(w, true);
    CHECK_INT(ctl_int(w->rs[0], "spec.minReadySeconds", -1), ==, 9);
    CHECK_INT(w->n, ==, 1);
}

TEST(change_cause_follows_onto_the_new_set)
{
    struct world *w = world_new(deployment(2, "a", NULL, NULL));
    settle(w, 20);
    json_object_set_new(orc_json_get(w->d, "metadata.annotations"), "kubernetes.io/change-cause",
                        json_string("image a"));
    json_object_set_new(orc_json_get(w->d, "metadata.annotations"),
                        "kubectl.kubernetes.io/last-applied-configuration", json_string("{}"));
    step(w, true);
    const json_t *ann = orc_json_get(w->rs[0], "metadata.annotations");
    CHECK_STR(json_string_value(json_object_get(ann, "kubernetes.io/change-cause")), "image a");
    CHECK(json_object_get(ann, "kubectl.kubernetes.io/last-applied-configuration") == NULL);
    CHECK_INT(dep_revision_of(w->rs[0]), ==, 1);
}
