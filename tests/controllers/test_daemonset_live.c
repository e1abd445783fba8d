/* test_daemonset_live.c — ctl_daemonset (and the scheduler, which binds its
 * pods) in the test process against a real `orcd server`
 * (tests/controllers/live.h): Nodes written through the API stand for
 * agents. One pod per node, bound to it; a node joining gets one,
 * a node leaving or stopping to match loses it; the status counts; a
 * template change rolls one node at a time (maxUnavailable 1), the test
 * playing the agents (pods Ready, graceful deletions confirmed). */
#include "controllers/daemonset.h"
#include "tests/controllers/live.h"

#define DS_PATH "/apis/apps/v1/namespaces/default/daemonsets"
#define PODS "/api/v1/namespaces/default/pods"

static struct live l;

static void node(const char *name, const char *role)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
             "\"labels\":{\"role\":\"%s\"}},\"status\":{\"allocatable\":{\"cpu\":\"4\","
             "\"memory\":\"8Gi\",\"pods\":\"110\"},\"conditions\":[{\"type\":\"Ready\","
             "\"status\":\"True\"}]}}", name, role);
    live_do(&l, "POST", "/api/v1/nodes", NULL, body, 201);
}

static void daemonset(const char *image, const char *selector)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\"},"
             "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
             "\"spec\":{%s\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}}}",
             selector ? selector : "", image);
    live_do(&l, "POST", DS_PATH, NULL, body, 201);
}

/* Live pods (not terminating) of the DaemonSet, by node: "n1 n2 " sorted. */
static void pods_by_node(char *out, size_t n, const char *image)
{
    json_t *items = live_items(&l, PODS), *p;
    const char *names[16];
    size_t i, k = 0;

    json_array_foreach(items, i, p) {
        const char *img = orc_json_str(json_array_get(orc_json_get(p, "spec.containers"), 0), "image");
        if (orc_json_get(p, "metadata.deletionTimestamp") || k == 16) continue;
        if (image && (!img || strcmp(img, image) != 0)) continue;
        names[k++] = orc_json_str(p, "spec.nodeName") ?: "?";
    }
    for (size_t a = 1; a < k; a++)
        for (size_t b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
            const char *t = names[b];
            names[b] = names[b - 1];
            names[b - 1] = t;
        }
    out[0] = '\0';
    for (i = 0; i < k; i++) snprintf(out + strlen(out), n - strlen(out), "%s ", names[i]);
    json_decref(items);
}

static bool pods_are(struct live *lv, const void *want)
{
    char have[256];
    (void)lv;
    pods_by_node(have, sizeof have, NULL);
    return strcmp(have, want) == 0;
}

static void wait_pods(const char *want)
{
    char have[256];
    uint64_t end = test_now_ms() + 10000;
    while (!pods_are(&l, want)) {
        if (test_now_ms() > end) {
            pods_by_node(have, sizeof have, NULL);
            CHECKF(false, "pods on \"%s\", want \"%s\"", have, want);
        }
        live_run(&l, 50);
    }
}

static long status_field(const char *field)
{
    json_t *ds = live_call(&l, "GET", DS_PATH "/agent", NULL, NULL, 200);
    char path[128];
    int64_t v = -1;
    snprintf(path, sizeof path, "status.%s", field);
    orc_json_int(ds, path, &v);
    json_decref(ds);
    return (long)v;
}

struct field_is {
    const char *field;
    long want;
};

static bool status_is(struct live *lv, const void *arg)
{
    const struct field_is *f = arg;
    (void)lv;
    return status_field(f->field) == f->want;
}

static void wait_status(const char *field, long want)
{
    struct field_is f = {field, want};
    char what[128];
    snprintf(what, sizeof what, "status.%s == %ld (it is %ld)", field, want, status_field(field));
    live_until(&l, status_is, &f, 10000, what);
}

TEST(one_pod_per_node_follows_nodes)
{
    live_start(&l, &ctl_daemonset, NULL);
    node("n1", "w");
    node("n2", "w");
    daemonset("busybox:1", NULL);
    wait_pods("n1 n2 ");
    wait_status("desiredNumberScheduled", 2);
    wait_status("currentNumberScheduled", 2);
    wait_status("numberReady", 0);
    wait_status("observedGeneration", 1);

    /* The pods: owned by the DaemonSet, hashed, tolerating what it needs. */
    json_t *items = live_items(&l, PODS), *p = json_array_get(items, 0);
    json_t *ref = json_array_get(orc_json_get(p, "metadata.ownerReferences"), 0);
    CHECK_STR(orc_json_str(ref, "kind"), "DaemonSet");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK(orc_json_str(p, "metadata.labels.controller-revision-hash") != NULL);
    CHECK(json_array_size(orc_json_get(p, "spec.tolerations")) >= 6);
    json_decref(items);

    node("n3", "w");
    wait_pods("n1 n2 n3 ");
    wait_status("desiredNumberScheduled", 3);

    /* A node leaving: its pod goes (graceful: it stays Terminating without
     * an agent, which is not counted). */
    live_do(&l, "DELETE", "/api/v1/nodes/n2", NULL, NULL, 200);
    wait_pods("n1 n3 ");
    wait_status("desiredNumberScheduled", 2);

    /* A node no longer matching (an untolerated NoExecute taint). */
    live_do(&l, "PATCH", "/api/v1/nodes/n3", "application/merge-patch+json",
            "{\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoExecute\"}]}}", 200);
    wait_pods("n1 ");
    wait_status("desiredNumberScheduled", 1);
    live_stop(&l);
}

TEST(node_selector)
{
    live_start(&l, &ctl_daemonset, NULL);
    node("n1", "w");
    node("n2", "db");
    daemonset("busybox:1", "\"nodeSelector\":{\"role\":\"db\"},");
    wait_pods("n2 ");
    live_do(&l, "PATCH", "/api/v1/nodes/n1", "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"role\":\"db\"}}}", 200);
    wait_pods("n1 n2 ");
    live_stop(&l);
}

/* The test as every node's agent: pods Running and Ready, graceful
 * deletions confirmed at once. */
static void play_agents(void)
{
    json_t *items = live_items(&l, PODS), *p;
    size_t i;
    char path[512], now[ORC_TIME_LEN];

    orc_time_now(now);
    json_array_foreach(items, i, p) {
        const char *name = orc_json_str(p, "metadata.name");
        if (orc_json_get(p, "metadata.deletionTimestamp")) {
            snprintf(path, sizeof path, PODS "/%s", name);
            live_do(&l, "DELETE", path, "application/json", "{\"gracePeriodSeconds\":0}", 0);
        } else if (!orc_json_str(p, "status.phase") || strcmp(orc_json_str(p, "status.phase"), "Running")) {
            char body[512];
            snprintf(path, sizeof path, PODS "/%s/status", name);
            snprintf(body, sizeof body,
                     "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                     "\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]}}", now);
            live_do(&l, "PATCH", path, "application/merge-patch+json", body, 0);
        }
    }
    json_decref(items);
}

static int unavailable_now(void)
{
    json_t *items = live_items(&l, PODS), *p;
    size_t i;
    int ready = 0;
    json_array_foreach(items, i, p) {
        json_t *c = json_array_get(orc_json_get(p, "status.conditions"), 0);
        if (!orc_json_get(p, "metadata.deletionTimestamp") && c
            && strcmp(orc_json_str(c, "status") ?: "", "True") == 0)
            ready++;
    }
    json_decref(items);
    return 3 - ready;
}

TEST(rolling_update_one_node_at_a_time)
{
    char have[256];
    int worst = 0;

    live_start(&l, &ctl_daemonset, NULL);
    node("n1", "w");
    node("n2", "w");
    node("n3", "w");
    daemonset("busybox:1", NULL);
    wait_pods("n1 n2 n3 ");
    play_agents();
    wait_status("numberAvailable", 3);
    live_do(&l, "PATCH", DS_PATH "/agent", "application/merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\"}]}}}}", 200);
    uint64_t end = test_now_ms() + 20000;
    for (;;) {
        pods_by_node(have, sizeof have, "busybox:2");
        if (strcmp(have, "n1 n2 n3 ") == 0 && unavailable_now() == 0) break;
        CHECKF(test_now_ms() < end, "rolling update stuck: new pods on \"%s\"", have);
        int u = unavailable_now();
        if (u > worst) worst = u;
        live_run(&l, 100);
        play_agents();
    }
    /* Never more than maxUnavailable (1) nodes without a ready pod. */
    CHECK_INT(worst, <=, 1);
    wait_status("updatedNumberScheduled", 3);
    wait_status("numberAvailable", 3);
    wait_status("observedGeneration", 2);

    /* Two ControllerRevisions, the pods' hash the newer one's. */
    json_t *revs = live_items(&l, "/apis/apps/v1/namespaces/default/controllerrevisions");
    json_t *pods = live_items(&l, PODS);
    const char *hash = orc_json_str(json_array_get(pods, 0), "metadata.labels." DS_HASH_LABEL);
    size_t i;
    json_t *r;
    int64_t newest = 0, n_of_hash = 0;
    CHECK_INT(json_array_size(revs), ==, 2);
    json_array_foreach(revs, i, r) {
        int64_t n = 0;
        orc_json_int(r, "revision", &n);
        if (strcmp(orc_json_str(r, "metadata.labels." DS_HASH_LABEL) ?: "", hash ?: "") == 0) n_of_hash = n;
        if (n > newest) newest = n;
    }
    CHECK_INT(n_of_hash, ==, 2);
    CHECK_INT(newest, ==, 2);
    json_decref(revs);
    json_decref(pods);
    live_stop(&l);
}

/* The uid of the controller of pod `name`, or "" (a static buffer). */
static const char *controller_of(const char *name)
{
    static char uid[128];
    char path[256];
    snprintf(path, sizeof path, PODS "/%s", name);
    json_t *p = live_call(&l, "GET", path, NULL, NULL, 200), *r;
    size_t i;
    uid[0] = '\0';
    json_array_foreach(orc_json_get(p, "metadata.ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller")))
            snprintf(uid, sizeof uid, "%s", orc_json_str(r, "uid") ?: "");
    json_decref(p);
    return uid;
}

struct owned_by {
    const char *pod, *uid;
};

static bool pod_owned_by(struct live *lv, const void *arg)
{
    const struct owned_by *o = arg;
    (void)lv;
    return strcmp(controller_of(o->pod), o->uid) == 0;
}

/* An orphan pod on a node, matching the selector, is adopted (Kubernetes'
 * ClaimPods); relabelled out of the selector it is released and the node
 * gets a pod of the DaemonSet again. One without a node is left alone. */
TEST(orphan_on_a_node_is_adopted_and_released_when_relabelled)
{
    live_start(&l, &ctl_daemonset, NULL);
    node("n1", "w");
    live_do(&l, "POST", PODS, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"stray\",\"labels\":"
            "{\"app\":\"agent\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\","
            "\"image\":\"busybox:1\"}]}}", 201);
    live_do(&l, "POST", PODS, NULL,
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"nowhere\",\"labels\":"
            "{\"app\":\"agent\"}},\"spec\":{\"schedulerName\":\"none\",\"containers\":[{\"name\":\"c\","
            "\"image\":\"busybox:1\"}]}}", 201);
    /* OnDelete: the adopted pod (no revision hash) is not rolled away. */
    live_do(&l, "POST", DS_PATH, NULL,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\"},"
            "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},\"updateStrategy\":{"
            "\"type\":\"OnDelete\"},\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
            "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}}}", 201);
    json_t *ds = live_call(&l, "GET", DS_PATH "/agent", NULL, NULL, 200);
    char uid[128];
    snprintf(uid, sizeof uid, "%s", orc_json_str(ds, "metadata.uid") ?: "");
    json_decref(ds);

    struct owned_by adopted = {"stray", uid}, released = {"stray", ""};
    live_until(&l, pod_owned_by, &adopted, 10000, "the orphan on n1 adopted");
    live_run(&l, 300);
    wait_pods("? n1 "); /* adopted in place of a new pod */
    CHECK_STR(controller_of("nowhere"), "");
    live_do(&l, "PATCH", PODS "/stray", "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}", 200);
    live_until(&l, pod_owned_by, &released, 10000, "the relabelled pod released");
    /* n1 gets a pod of the DaemonSet again (beside the released one). */
    wait_pods("? n1 n1 ");
    live_stop(&l);
}

/* A ControllerRevision already named after the next template's hash but
 * holding another template: status.collisionCount goes to 1 and the pods
 * roll out under a new hash (Kubernetes' hash collision handling). */
TEST(revision_name_collision_bumps_collision_count)
{
    char hash[DS_HASH_LEN], body[1024], have[256];

    live_start(&l, &ctl_daemonset, NULL);
    node("n1", "w");
    daemonset("busybox:1", NULL);
    wait_pods("n1 ");
    /* The hash the next template will have, computed on the stored object. */
    json_t *ds = live_call(&l, "GET", DS_PATH "/agent", NULL, NULL, 200);
    orc_json_set(json_array_get(orc_json_get(ds, "spec.template.spec.containers"), 0), "image",
                 json_string("busybox:2"));
    ds_template_hash(ds, hash);
    json_decref(ds);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"metadata\":{\"name\":"
             "\"agent-%s\"},\"data\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
             "\"x\",\"image\":\"squatter\"}]}}}},\"revision\":1}", hash);
    live_do(&l, "POST", "/apis/apps/v1/namespaces/default/controllerrevisions", NULL, body, 201);
    live_do(&l, "PATCH", DS_PATH "/agent", "application/merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\"}]}}}}", 200);
    wait_status("collisionCount", 1);
    uint64_t end = test_now_ms() + 15000;
    for (;;) {
        pods_by_node(have, sizeof have, "busybox:2");
        if (strcmp(have, "n1 ") == 0) break;
        CHECKF(test_now_ms() < end, "no busybox:2 pod on n1 (\"%s\")", have);
        live_run(&l, 100);
        play_agents();
    }
    json_t *pods = live_items(&l, PODS), *p;
    size_t i;
    json_array_foreach(pods, i, p) {
        const char *h = orc_json_str(p, "metadata.labels." DS_HASH_LABEL);
        if (!orc_json_get(p, "metadata.deletionTimestamp")) CHECK(h && strcmp(h, hash) != 0);
    }
    json_decref(pods);
    /* The squatter is untouched. */
    snprintf(body, sizeof body, "/apis/apps/v1/namespaces/default/controllerrevisions/agent-%s", hash);
    json_t *sq = live_call(&l, "GET", body, NULL, NULL, 200);
    CHECK(orc_json_get(sq, "metadata.ownerReferences") == NULL);
    json_decref(sq);
    live_stop(&l);
}
