/* test_daemonset_plan.c — the DaemonSet controller's decisions without a
 * server: which nodes fit, the pod made for a node, one reconcile step
 * (creates, deletes, rolling updates with maxUnavailable and maxSurge,
 * OnDelete) and the status counts. */
#include <jansson.h>
#include <stdio.h>

#include "controllers/daemonset.h"
#include "lib/json.h"
#include "tests/harness/test.h"

#define NOW 1796551200000LL /* 2026-12-06T10:00:00Z */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CHECKF(v != NULL, "bad JSON in test: %s: %s", text, e.text);
    return v;
}

static json_t *ds_with(const char *strategy, const char *spec_extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\","
             "\"namespace\":\"default\",\"uid\":\"u-ds\",\"generation\":3},"
             "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"a\"}},%s"
             "\"updateStrategy\":%s,"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\"}},"
             "\"spec\":{%s\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
             "", strategy, spec_extra);
    return J(text);
}

static json_t *ds_default(void)
{
    return ds_with("{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":1,\"maxSurge\":0}}", "");
}

static json_t *node(const char *name, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"role\":\"w\"}}%s%s}",
             name, extra ? "," : "", extra ? extra : "");
    return J(text);
}

/* A pod of the DaemonSet on `node`, with the template hash `hash` (NULL:
 * the current one), ready or not. */
static json_t *pod(const json_t *ds, const char *name, const char *node_name, const char *hash,
                   bool ready, const char *created)
{
    char h[DS_HASH_LEN];
    json_t *p;

    ds_template_hash(ds, h);
    p = ds_new_pod(ds, node_name, hash ? hash : h, true);
    CHECK(p != NULL);
    orc_json_set(p, "metadata.name", json_string(name));
    orc_json_set(p, "metadata.creationTimestamp", json_string(created ? created : "2026-12-06T09:00:00Z"));
    orc_json_set(p, "status", json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "phase", "Running", "conditions",
                                        "type", "Ready", "status", ready ? "True" : "False",
                                        "lastTransitionTime", "2026-12-06T09:00:00Z"));
    return p;
}

static void fit(const json_t *ds, const char *node_extra, bool run, bool cont)
{
    json_t *n = node("n1", node_extra);
    bool r, c;
    ds_node_fit(ds, n, &r, &c);
    CHECKF(r == run && c == cont, "node %s: run %d continue %d, want %d %d",
           node_extra ? node_extra : "{}", r, c, run, cont);
    json_decref(n);
}

TEST(node_fit)
{
    json_t *ds = ds_default();
    json_t *sel = ds_with("{\"type\":\"OnDelete\"}", "\"nodeSelector\":{\"role\":\"db\"},");
    json_t *hostnet = ds_with("{\"type\":\"OnDelete\"}", "\"hostNetwork\":true,");

    fit(ds, NULL, true, true);
    fit(sel, NULL, false, false);
    /* The tolerations every DaemonSet pod carries. */
    fit(ds, "\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]}", true, true);
    fit(ds, "\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]}", true, true);
    fit(ds, "\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/disk-pressure\",\"effect\":\"NoSchedule\"}]}", true, true);
    /* network-unavailable only for hostNetwork pods. */
    const char *netun = "\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/network-unavailable\",\"effect\":\"NoSchedule\"}]}";
    fit(ds, netun, false, true);
    fit(hostnet, netun, true, true);
    /* Other taints: NoSchedule keeps pods there, NoExecute removes them. */
    fit(ds, "\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]}", false, true);
    fit(ds, "\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoExecute\"}]}", false, false);
    json_decref(ds);
    json_decref(sel);
    json_decref(hostnet);
}

TEST(new_pod)
{
    json_t *ds = ds_default(), *p;
    char h[DS_HASH_LEN];

    ds_template_hash(ds, h);
    CHECK_INT(strlen(h), ==, 8);
    p = ds_new_pod(ds, "n2", h, false);
    CHECK(p != NULL);
    CHECK_STR(orc_json_str(p, "metadata.generateName"), "agent-");
    CHECK_STR(orc_json_str(p, "metadata.labels.app"), "a");
    CHECK_STR(orc_json_str(p, "metadata.labels.controller-revision-hash"), h);
    json_t *ref = json_array_get(orc_json_get(p, "metadata.ownerReferences"), 0);
    CHECK_STR(orc_json_str(ref, "kind"), "DaemonSet");
    CHECK_STR(orc_json_str(ref, "uid"), "u-ds");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    CHECK(orc_json_get(p, "spec.nodeName") == NULL);
    CHECK_STR(ds_pod_node(p), "n2");
    CHECK_INT(json_array_size(orc_json_get(p, "spec.tolerations")), ==, 6);
    json_decref(p);
    p = ds_new_pod(ds, "n2", h, true);
    CHECK_STR(orc_json_str(p, "spec.nodeName"), "n2");
    json_decref(p);
    /* A changed template changes the hash. */
    orc_json_set(ds, "spec.template.spec.containers", json_pack("[{s:s, s:s}]", "name", "c", "image", "nginx"));
    char h2[DS_HASH_LEN];
    ds_template_hash(ds, h2);
    CHECK(strcmp(h, h2) != 0);
    json_decref(ds);
}

static void plan(const json_t *ds, json_t *nodes, json_t *pods, struct ds_plan *p)
{
    CHECK_INT(ds_plan(ds, nodes, pods, NOW, p), ==, 0);
}

static bool created_on(const struct ds_plan *p, const char *node_name)
{
    size_t i;
    json_t *v;
    json_array_foreach(p->create, i, v) if (strcmp(json_string_value(v), node_name) == 0) return true;
    return false;
}

static bool removed(const struct ds_plan *p, const char *pod_name)
{
    size_t i;
    json_t *v;
    json_array_foreach(p->remove, i, v) if (strcmp(orc_json_str(v, "metadata.name"), pod_name) == 0) return true;
    return false;
}

static long st(const struct ds_plan *p, const char *field)
{
    int64_t v = -1;
    orc_json_int(p->status, field, &v);
    return (long)v;
}

TEST(one_pod_per_node)
{
    json_t *ds = ds_default();
    json_t *nodes = json_pack("[o, o, o]", node("n1", NULL), node("n2", NULL),
                              node("n3", "\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":\"NoExecute\"}]}"));
    json_t *pods = json_pack("[o, o, o, o]", pod(ds, "p1", "n1", NULL, true, NULL),
                             pod(ds, "p1b", "n1", NULL, true, "2026-12-06T09:30:00Z"),
                             pod(ds, "p3", "n3", NULL, true, NULL),
                             pod(ds, "gone", "n9", NULL, true, NULL));
    struct ds_plan p;

    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.create), ==, 1);
    CHECK(created_on(&p, "n2"));
    CHECK_INT(json_array_size(p.remove), ==, 3);
    CHECK(removed(&p, "p1b")); /* the younger duplicate */
    CHECK(removed(&p, "p3"));  /* its node stopped matching (NoExecute) */
    CHECK(removed(&p, "gone")); /* its node left */
    CHECK_INT(st(&p, "desiredNumberScheduled"), ==, 2);
    CHECK_INT(st(&p, "currentNumberScheduled"), ==, 1);
    CHECK_INT(st(&p, "numberMisscheduled"), ==, 1);
    CHECK_INT(st(&p, "numberReady"), ==, 1);
    CHECK_INT(st(&p, "numberAvailable"), ==, 1);
    CHECK_INT(st(&p, "numberUnavailable"), ==, 1);
    CHECK_INT(st(&p, "updatedNumberScheduled"), ==, 1);
    CHECK_INT(st(&p, "observedGeneration"), ==, 3);
    ds_plan_clear(&p);
    json_decref(ds);
    json_decref(nodes);
    json_decref(pods);
}

TEST(failed_and_terminating_pods)
{
    json_t *ds = ds_default();
    json_t *nodes = json_pack("[o, o]", node("n1", NULL), node("n2", NULL));
    json_t *failed = pod(ds, "f", "n1", NULL, false, NULL), *term = pod(ds, "t", "n2", NULL, true, NULL);
    orc_json_set(failed, "status.phase", json_string("Failed"));
    orc_json_set(term, "metadata.deletionTimestamp", json_string("2026-12-06T09:59:00Z"));
    json_t *pods = json_pack("[o, o]", failed, term);
    struct ds_plan p;

    plan(ds, nodes, pods, &p);
    /* The failed pod goes (a new one follows once it is gone); the
     * terminating one holds its node until it is gone. */
    CHECK_INT(json_array_size(p.create), ==, 0);
    CHECK_INT(json_array_size(p.remove), ==, 1);
    CHECK(removed(&p, "f"));
    ds_plan_clear(&p);
    json_decref(ds);
    json_decref(nodes);
    json_decref(pods);
}

static json_t *three_nodes(void)
{
    return json_pack("[o, o, o]", node("n1", NULL), node("n2", NULL), node("n3", NULL));
}

TEST(rolling_update_max_unavailable)
{
    json_t *ds = ds_default(), *nodes = three_nodes();
    json_t *pods = json_pack("[o, o, o]", pod(ds, "a", "n1", "old", true, NULL),
                             pod(ds, "b", "n2", "old", true, NULL), pod(ds, "c", "n3", "old", true, NULL));
    struct ds_plan p;

    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.create), ==, 0);
    CHECK_INT(json_array_size(p.remove), ==, 1);
    CHECK_INT(st(&p, "updatedNumberScheduled"), ==, 0);
    ds_plan_clear(&p);

    /* One replaced and not ready yet: nothing more goes. */
    json_array_set_new(pods, 0, pod(ds, "a2", "n1", NULL, false, NULL));
    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.remove), ==, 0);
    CHECK_INT(st(&p, "updatedNumberScheduled"), ==, 1);
    ds_plan_clear(&p);

    /* An old pod already unready is replaced beside the budget. */
    json_array_set_new(pods, 1, pod(ds, "b", "n2", "old", false, NULL));
    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.remove), ==, 1);
    CHECK(removed(&p, "b"));
    ds_plan_clear(&p);

    /* maxUnavailable 2 of 3 ("50%" rounds up). */
    json_decref(ds);
    ds = ds_with("{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"50%\"}}", "");
    json_decref(pods);
    pods = json_pack("[o, o, o]", pod(ds, "a", "n1", "old", true, NULL),
                     pod(ds, "b", "n2", "old", true, NULL), pod(ds, "c", "n3", "old", true, NULL));
    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.remove), ==, 2);
    ds_plan_clear(&p);
    json_decref(ds);
    json_decref(nodes);
    json_decref(pods);
}

TEST(rolling_update_max_surge)
{
    json_t *ds = ds_with("{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":1}}", "");
    json_t *nodes = three_nodes();
    json_t *pods = json_pack("[o, o, o]", pod(ds, "a", "n1", "old", true, NULL),
                             pod(ds, "b", "n2", "old", true, NULL), pod(ds, "c", "n3", "old", true, NULL));
    struct ds_plan p;

    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.create), ==, 1);
    CHECK_INT(json_array_size(p.remove), ==, 0);
    ds_plan_clear(&p);

    /* The new pod beside the old one is not ready: wait. */
    json_array_append_new(pods, pod(ds, "a2", "n1", NULL, false, NULL));
    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.create), ==, 0);
    CHECK_INT(json_array_size(p.remove), ==, 0);
    ds_plan_clear(&p);

    /* Ready: the old one goes, and the next node surges. */
    json_array_set_new(pods, 3, pod(ds, "a2", "n1", NULL, true, NULL));
    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.remove), ==, 1);
    CHECK(removed(&p, "a"));
    CHECK_INT(json_array_size(p.create), ==, 1);
    ds_plan_clear(&p);
    json_decref(ds);
    json_decref(nodes);
    json_decref(pods);
}

TEST(on_delete_and_min_ready)
{
    json_t *ds = ds_with("{\"type\":\"OnDelete\"}", ""), *nodes = three_nodes();
    json_t *pods = json_pack("[o, o]", pod(ds, "a", "n1", "old", true, NULL),
                             pod(ds, "b", "n2", "old", true, NULL));
    struct ds_plan p;

    plan(ds, nodes, pods, &p);
    CHECK_INT(json_array_size(p.remove), ==, 0);
    CHECK_INT(json_array_size(p.create), ==, 1);
    CHECK(created_on(&p, "n3"));
    ds_plan_clear(&p);

    /* Ready since 09:00; minReadySeconds 7200 makes it available at 11:00. */
    orc_json_set(ds, "spec.minReadySeconds", json_integer(7200));
    plan(ds, nodes, pods, &p);
    CHECK_INT(st(&p, "numberReady"), ==, 2);
    CHECK_INT(st(&p, "numberAvailable"), ==, 0);
    CHECK_INT(p.requeue_ms, ==, 3600 * 1000);
    ds_plan_clear(&p);
    json_decref(ds);
    json_decref(nodes);
    json_decref(pods);
}

static json_t *revision(const json_t *ds, const char *hash, int number)
{
    json_t *r = json_pack("{s:{s:s, s:s, s:{s:s}}, s:i}", "metadata", "name", hash, "uid", hash, "labels",
                          DS_HASH_LABEL, hash, "revision", number);
    (void)ds;
    return r;
}

TEST(history)
{
    json_t *ds = ds_default(), *revs = json_array(), *pods = json_array();
    struct ds_history h;
    char hash[DS_HASH_LEN], name[64];

    /* None yet: the current template's, revision 1. */
    ds_template_hash(ds, hash);
    CHECK_INT(ds_history_plan(ds, revs, pods, &h), ==, 0);
    CHECK(h.create != NULL && h.update == NULL);
    snprintf(name, sizeof name, "agent-%s", hash);
    CHECK_STR(orc_json_str(h.create, "metadata.name"), name);
    CHECK_STR(orc_json_str(h.create, "metadata.labels." DS_HASH_LABEL), hash);
    CHECK_STR(orc_json_str(h.create, "data.spec.template.$patch"), "replace");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(h.create, "metadata.ownerReferences"), 0), "kind"),
              "DaemonSet");
    CHECK_INT(json_integer_value(json_object_get(h.create, "revision")), ==, 1);
    ds_history_clear(&h);

    /* Back to an older template: renumbered past the others. */
    json_array_append_new(revs, revision(ds, hash, 1));
    json_array_append_new(revs, revision(ds, "other", 2));
    CHECK_INT(ds_history_plan(ds, revs, pods, &h), ==, 0);
    CHECK(h.create == NULL && h.update != NULL);
    CHECK_INT(json_integer_value(json_object_get(h.update, "revision")), ==, 3);
    CHECK_INT(json_array_size(h.remove), ==, 0);
    ds_history_clear(&h);

    /* Unused ones beyond revisionHistoryLimit go, oldest first; one a pod
     * still uses stays. */
    json_array_clear(revs);
    json_array_append_new(revs, revision(ds, "r1", 1));
    json_array_append_new(revs, revision(ds, "r2", 2));
    json_array_append_new(revs, revision(ds, "r3", 3));
    json_array_append_new(revs, revision(ds, "r4", 4));
    json_array_append_new(revs, revision(ds, hash, 5));
    json_array_append_new(pods, pod(ds, "p", "n1", "r1", true, NULL));
    orc_json_set(ds, "spec.revisionHistoryLimit", json_integer(1));
    CHECK_INT(ds_history_plan(ds, revs, pods, &h), ==, 0);
    CHECK(h.create == NULL && h.update == NULL);
    CHECK_INT(json_array_size(h.remove), ==, 2);
    CHECK_STR(orc_json_str(json_array_get(h.remove, 0), "metadata.name"), "r2");
    CHECK_STR(orc_json_str(json_array_get(h.remove, 1), "metadata.name"), "r3");
    ds_history_clear(&h);
    json_decref(ds);
    json_decref(revs);
    json_decref(pods);
}

TEST(hash_collision_bumps_collision_count)
{
    json_t *ds = ds_default(), *st, *none = json_array();
    char h0[DS_HASH_LEN], h1[DS_HASH_LEN];
    struct ds_history hist;

    ds_template_hash(ds, h0);
    /* Our own revision of this template: no collision. */
    CHECK(ds_history_plan(ds, none, none, &hist) == 0);
    json_decref(none);
    CHECK(hist.create != NULL);
    CHECK(ds_collision_status(ds, NULL) == NULL);
    CHECK(ds_collision_status(ds, hist.create) == NULL);
    /* The name holds another template: collisionCount 1, then a new hash. */
    orc_json_set(hist.create, "data.spec.template.spec.containers",
                 json_pack("[{s:s, s:s}]", "name", "c", "image", "other"));
    st = ds_collision_status(ds, hist.create);
    CHECK(st != NULL);
    CHECK_INT(json_integer_value(json_object_get(st, "collisionCount")), ==, 1);
    orc_json_set(ds, "status", st);
    ds_template_hash(ds, h1);
    CHECK(strcmp(h0, h1) != 0);
    /* Another owner's revision of that name collides too. */
    json_t *foreign = json_deep_copy(hist.create);
    orc_json_set(foreign, "metadata.ownerReferences",
                 json_pack("[{s:s, s:b}]", "uid", "someone-else", "controller", 1));
    orc_json_set(foreign, "data.spec.template", json_deep_copy(orc_json_get(ds, "spec.template")));
    st = ds_collision_status(ds, foreign);
    CHECK_INT(json_integer_value(json_object_get(st, "collisionCount")), ==, 2);
    json_decref(st);
    json_decref(foreign);
    ds_history_clear(&hist);
    json_decref(ds);
}
