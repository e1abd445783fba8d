/* test_statefulset_live.c — ctl_statefulset in the test process against a
 * real `orcd server` (tests/controllers/live.h), with no pods to run
 * (replicas 0): a ControllerRevision already named after the next
 * template's hash but holding another template makes the set bump
 * status.collisionCount and take a new name for its update revision. */
#include "controllers/statefulset.h"
#include "tests/controllers/live.h"

#define STS_PATH "/apis/apps/v1/namespaces/default/statefulsets"
#define REVS "/apis/apps/v1/namespaces/default/controllerrevisions"

static struct live l;

static bool has_update_revision(struct live *lv, const void *arg)
{
    json_t *s = live_call(lv, "GET", STS_PATH "/db", NULL, NULL, 200);
    const char *u = orc_json_str(s, "status.updateRevision");
    bool ok = u && (arg == NULL || strcmp(u, arg) != 0);
    json_decref(s);
    return ok;
}

static bool collision_count_is_one(struct live *lv, const void *arg)
{
    json_t *s = live_call(lv, "GET", STS_PATH "/db", NULL, NULL, 200);
    int64_t n = 0;
    (void)arg;
    orc_json_int(s, "status.collisionCount", &n);
    json_decref(s);
    return n == 1;
}

TEST(revision_name_collision_bumps_collision_count)
{
    char hash[16], body[1024], first[128] = "";

    live_start(&l, &ctl_statefulset, NULL);
    live_do(&l, "POST", STS_PATH, NULL,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\"},"
            "\"spec\":{\"replicas\":0,\"serviceName\":\"db\",\"selector\":{\"matchLabels\":{\"app\":"
            "\"db\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}},\"spec\":{"
            "\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}}}", 201);
    live_until(&l, has_update_revision, NULL, 10000, "a first update revision");
    json_t *set = live_call(&l, "GET", STS_PATH "/db", NULL, NULL, 200);
    snprintf(first, sizeof first, "%s", orc_json_str(set, "status.updateRevision"));
    /* The hash of the next template, computed on the stored object. */
    orc_json_set(json_array_get(orc_json_get(set, "spec.template.spec.containers"), 0), "image",
                 json_string("busybox:2"));
    CHECK_INT(sts_revision_hash(orc_json_get(set, "spec.template"), 0, hash), ==, 0);
    json_decref(set);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"metadata\":{\"name\":"
             "\"db-%s\"},\"data\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
             "\"x\",\"image\":\"squatter\"}]}}}},\"revision\":1}", hash);
    live_do(&l, "POST", REVS, NULL, body, 201);
    live_do(&l, "PATCH", STS_PATH "/db", "application/merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\"}]}}}}",
            200);
    live_until(&l, collision_count_is_one, NULL, 10000, "status.collisionCount 1");
    live_until(&l, has_update_revision, first, 10000, "a new update revision");

    set = live_call(&l, "GET", STS_PATH "/db", NULL, NULL, 200);
    char want[64], upd[128];
    snprintf(want, sizeof want, "db-%s", hash);
    snprintf(upd, sizeof upd, "%s", orc_json_str(set, "status.updateRevision"));
    CHECK(strcmp(upd, want) != 0);
    json_decref(set);
    /* The new revision is the set's, with the new template. */
    char path[256];
    snprintf(path, sizeof path, REVS "/%s", upd);
    json_t *rev = live_call(&l, "GET", path, NULL, NULL, 200);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(rev, "data.spec.template.spec.containers"), 0),
                           "image"),
              "busybox:2");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(rev, "metadata.ownerReferences"), 0), "kind"),
              "StatefulSet");
    json_decref(rev);
    live_stop(&l);
}

static bool pod_has_controller(struct live *lv, const void *want)
{
    json_t *p = live_call(lv, "GET", "/api/v1/namespaces/default/pods/db-0", NULL, NULL, 0), *r;
    size_t i;
    bool has = false;
    json_array_foreach (orc_json_get(p, "metadata.ownerReferences"), i, r)
        has = has || json_is_true(json_object_get(r, "controller"));
    json_decref(p);
    return has == (want != NULL);
}

/* An owned pod relabelled out of the selector is released (ClaimPods). */
TEST(pod_relabelled_out_of_the_selector_is_released)
{
    live_start(&l, &ctl_statefulset, NULL);
    live_do(&l, "POST", STS_PATH, NULL,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\"},"
            "\"spec\":{\"replicas\":1,\"serviceName\":\"db\",\"selector\":{\"matchLabels\":{\"app\":"
            "\"db\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}},\"spec\":{"
            "\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}}}", 201);
    live_until(&l, pod_has_controller, "yes", 10000, "db-0 created by the set");
    live_do(&l, "PATCH", "/api/v1/namespaces/default/pods/db-0", "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"app\":\"gone\"}}}", 200);
    live_until(&l, pod_has_controller, NULL, 10000, "db-0 released");
    live_stop(&l);
}
