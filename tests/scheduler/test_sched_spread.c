/* test_sched_spread.c — topologySpreadConstraints on the scheduler's pure
 * core: DoNotSchedule as a filter (maxSkew, topology keys, minDomains,
 * nodeAffinityPolicy, nodeTaintsPolicy, matchLabelKeys, Kubernetes'
 * messages), ScheduleAnyway as a score, the cache's counters kept by pod
 * changes, and the cost of a decision with a constraint. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched_int.h"
#include "tests/scheduler/schedfx.h"

#define WEB ",\"labels\":{\"app\":\"web\"}"
#define SEL_WEB "\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}}"
#define HOST "kubernetes.io/hostname"
#define ZONE "topology.kubernetes.io/zone"

static sched_cache *new_cache(void)
{
    static sched_cache c;
    CHECK_INT(sched_cache_init(&c), ==, 0);
    return &c;
}

/* ",\"topologySpreadConstraints\":[{...}]" for one constraint; `more` adds
 * members (",\"minDomains\":3" style, may be ""). */
static const char *tsc(char *buf, size_t n, const char *key, int skew, const char *when,
                       const char *more)
{
    snprintf(buf, n,
             ",\"topologySpreadConstraints\":[{\"maxSkew\":%d,\"topologyKey\":\"%s\","
             "\"whenUnsatisfiable\":\"%s\"," SEL_WEB "%s}]",
             skew, key, when, more);
    return buf;
}

/* Places and assumes the pod as the scheduler does while its bind is in
 * flight; the node's name, or NULL (then *msg, if given, gets the message). */
static const char *place(sched_cache *c, json_t *obj, char **msg)
{
    sched_pod *p = fx_parse(obj);
    struct sched_result r;
    const char *where = NULL;
    CHECK_INT(sched_schedule(c, p, NULL, NULL, &r), ==, 0);
    if (msg) *msg = NULL;
    if (r.node) {
        where = r.node->name;
        CHECK_INT(sched_cache_assume(c, p, r.node, false, 0), ==, 0);
    } else {
        if (msg) *msg = sched_result_message(&r);
        sched_pod_free(p);
    }
    sched_result_fini(&r);
    return where;
}

#define HARD "DoNotSchedule"
#define SOFT "ScheduleAnyway"

/* place() of a pod of 100m with one constraint (see tsc) and metadata. */
static const char *place_spread(sched_cache *c, const char *name, const char *key, int skew,
                                const char *when, const char *more, const char *meta, char **msg)
{
    char t[512];
    return place(c, fx_pod(name, "100m", "", tsc(t, sizeof t, key, skew, when, more), meta), msg);
}

static void add_host(sched_cache *c, const char *name, const char *zone, const char *spec)
{
    char labels[256];
    if (zone)
        snprintf(labels, sizeof labels, "{\"" HOST "\":\"%s\",\"" ZONE "\":\"%s\"}", name, zone);
    else
        snprintf(labels, sizeof labels, "{\"" HOST "\":\"%s\"}", name);
    fx_add_node(c, name, "8", "32Gi", labels, spec);
}

static int on(sched_cache *c, const char *node)
{
    return (int)sched_cache_node(c, node)->npods;
}

TEST(hostname_do_not_schedule_spreads_evenly)
{
    sched_cache *c = new_cache();
    char name[32];
    add_host(c, "a", NULL, NULL);
    add_host(c, "b", NULL, NULL);
    add_host(c, "c", NULL, NULL);
    /* Bin-packing alone would stack them; the constraint forbids a skew
     * above 1 at every step. */
    for (int i = 0; i < 9; i++) {
        snprintf(name, sizeof name, "web-%d", i);
        CHECK(place_spread(c, name, HOST, 1, HARD, "", WEB, NULL) != NULL);
        int lo = 99, hi = 0;
        for (int k = 0; k < 3; k++) {
            int here = on(c, (const char *[]){"a", "b", "c"}[k]);
            lo = here < lo ? here : lo;
            hi = here > hi ? here : hi;
        }
        CHECK_INT(hi - lo, <=, 1);
    }
    CHECK_INT(on(c, "a"), ==, 3);
    CHECK_INT(on(c, "b"), ==, 3);
    CHECK_INT(on(c, "c"), ==, 3);
    /* Pods the selector does not pick count for nothing. */
    CHECK(place(c, fx_pod("other", "100m", "", "", ",\"labels\":{\"app\":\"db\"}"), NULL) != NULL);
    sched_cache_fini(c);
}

TEST(unsatisfiable_messages_name_the_constraint)
{
    sched_cache *c = new_cache();
    char *msg;
    add_host(c, "a", NULL, NULL);
    add_host(c, "b", NULL, NULL);
    fx_add_node(c, "nolabel", "8", "32Gi", "{}", NULL);
    /* "b" is full for cpu: the pods pile on "a" until the skew forbids it. */
    fx_bind(c, fx_pod("w1", "100m", "", "", WEB), "a");
    fx_bind(c, fx_pod("filler", "8", "", "", ""), "b");
    CHECK(place_spread(c, "w2", HOST, 1, HARD, "", WEB, &msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod "
                   "topology spread constraints, 1 node(s) didn't match pod topology spread "
                   "constraints (missing required label).");
    free(msg);
    /* maxSkew 2 allows it. */
    CHECK_STR(place_spread(c, "w3", HOST, 2, HARD, "", WEB, NULL),
              "a");
    sched_cache_fini(c);
}

TEST(zones_and_min_domains)
{
    sched_cache *c = new_cache();
    add_host(c, "a1", "za", NULL);
    add_host(c, "a2", "za", NULL);
    add_host(c, "b1", "zb", NULL);
    /* Two pods in zone za, none in zb: the next must go to zb. */
    fx_bind(c, fx_pod("w1", "100m", "", "", WEB), "a1");
    fx_bind(c, fx_pod("w2", "100m", "", "", WEB), "a2");
    CHECK_STR(place_spread(c, "w3", ZONE, 1, HARD, "", WEB, NULL),
              "b1");
    /* za 2, zb 1. With minDomains 3 and only two zones the global minimum
     * counts as 0: a zone may hold at most maxSkew - 1 before the pod. */
    CHECK(place_spread(c, "w4", ZONE, 1, HARD, ",\"minDomains\":3", WEB, NULL) == NULL);
    CHECK(place_spread(c, "w5", ZONE, 2, HARD, ",\"minDomains\":3", WEB, NULL) != NULL);
    sched_cache_fini(c);
}

static const char *selective(char *buf, size_t n, const char *more)
{
    char t[512];
    snprintf(buf, n, "%s,\"nodeSelector\":{\"disk\":\"ssd\"}",
             tsc(t, sizeof t, ZONE, 1, "DoNotSchedule", more));
    return buf;
}

TEST(node_inclusion_policies)
{
    sched_cache *c = new_cache();
    char spec[1024], *msg;
    fx_add_node(c, "a", "8", "32Gi", "{\"" HOST "\":\"a\",\"" ZONE "\":\"za\",\"disk\":\"ssd\"}", NULL);
    fx_add_node(c, "b", "8", "32Gi", "{\"" HOST "\":\"b\",\"" ZONE "\":\"zb\",\"disk\":\"ssd\"}",
                "{\"taints\":[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]}");
    fx_add_node(c, "c", "8", "32Gi", "{\"" HOST "\":\"c\",\"" ZONE "\":\"zc\"}", NULL);
    fx_bind(c, fx_pod("w1", "100m", "", "", WEB), "a");
    /* Only a takes the pod. By default (nodeAffinityPolicy Honor,
     * nodeTaintsPolicy Ignore) zc is no domain but the tainted zb is, and
     * empty: a (1) is refused. */
    CHECK(place(c, fx_pod("w2", "100m", "", selective(spec, sizeof spec, ""), WEB), &msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                   "1 node(s) didn't match pod topology spread constraints, 1 node(s) had "
                   "untolerated taint {dedicated: x}.");
    free(msg);
    /* nodeTaintsPolicy Honor drops zb: za alone is the minimum. */
    CHECK_STR(place(c, fx_pod("w3", "100m", "", selective(spec, sizeof spec, ",\"nodeTaintsPolicy\":\"Honor\""),
                              WEB), NULL),
              "a");
    CHECK_STR(place(c, fx_pod("w4", "100m", "", selective(spec, sizeof spec, ",\"nodeTaintsPolicy\":\"Honor\""),
                              WEB), NULL),
              "a");
    /* nodeAffinityPolicy Ignore brings the empty zc in: a (3) is refused. */
    CHECK(place(c, fx_pod("w5", "100m", "",
                          selective(spec, sizeof spec,
                                    ",\"nodeTaintsPolicy\":\"Honor\",\"nodeAffinityPolicy\":\"Ignore\""),
                          WEB), NULL) == NULL);
    sched_cache_fini(c);
}

TEST(match_label_keys_count_one_revision)
{
    sched_cache *c = new_cache();
    const char *mlk = ",\"matchLabelKeys\":[\"pod-template-hash\"]";
    add_host(c, "a", NULL, NULL);
    add_host(c, "b", NULL, NULL);
    /* The old revision sits on a; the new one spreads on its own. */
    fx_bind(c, fx_pod("old1", "100m", "", "", ",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"v1\"}"), "a");
    fx_bind(c, fx_pod("old2", "100m", "", "", ",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"v1\"}"), "a");
    const char *v2 = ",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"v2\"}";
    CHECK(place_spread(c, "new1", HOST, 1, HARD, mlk, v2, NULL) != NULL);
    CHECK(place_spread(c, "new2", HOST, 1, HARD, mlk, v2, NULL) != NULL);
    CHECK_INT(on(c, "a"), ==, 3);
    CHECK_INT(on(c, "b"), ==, 1);
    /* Without matchLabelKeys all four count: b is the only choice. */
    CHECK_STR(place_spread(c, "new3", HOST, 1, HARD, "", v2, NULL), "b");
    sched_cache_fini(c);
}

TEST(schedule_anyway_scores_the_emptier_domain)
{
    sched_cache *c = new_cache();
    add_host(c, "a", NULL, NULL);
    add_host(c, "b", NULL, NULL);
    /* Bin-packing prefers the fuller node a ... */
    fx_bind(c, fx_pod("w1", "2", "", "", WEB), "a");
    CHECK_STR(place(c, fx_pod("x", "100m", "", "", WEB), NULL), "a");
    /* ... the soft constraint outweighs it. */
    CHECK_STR(place_spread(c, "w2", HOST, 1, SOFT, "", WEB, NULL),
              "b");
    /* Soft only: a node without the key still fits, at score 0. */
    fx_add_node(c, "nolabel", "1", "1Gi", "{}", NULL);
    CHECK(place_spread(c, "w3", HOST, 1, SOFT, "", WEB, NULL) != NULL);
    sched_cache_fini(c);
}

TEST(counters_follow_pod_changes)
{
    sched_cache *c = new_cache();
    add_host(c, "a", NULL, NULL);
    add_host(c, "b", NULL, NULL);
    fx_bind(c, fx_pod("w1", "100m", "", "", WEB), "a");
    /* The first decision builds the counter: a holds 1, so b. */
    CHECK_STR(place_spread(c, "w2", HOST, 1, HARD, "", WEB, NULL), "b");
    CHECK_INT(c->spread->n, ==, 1);
    /* Later pods update it: two more on a (the counter must see them). */
    fx_bind(c, fx_pod("w3", "100m", "", "", WEB), "a");
    fx_bind(c, fx_pod("w4", "100m", "", "", WEB), "a");
    CHECK_STR(place_spread(c, "w5", HOST, 1, HARD, "", WEB, NULL), "b");
    /* a 3, b 2: deleting two on a makes a the emptier. */
    sched_cache_pod_gone(c, "default", "w3");
    sched_cache_pod_gone(c, "default", "w4");
    CHECK_STR(place_spread(c, "w6", HOST, 1, HARD, "", WEB, NULL), "a");
    /* Terminating pods do not count (a 2 with one terminating, b 2). */
    json_t *w1 = fx_pod("w1", "100m", "", "", WEB ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"");
    fx_bind(c, w1, "a");
    CHECK_STR(place_spread(c, "w7", HOST, 1, HARD, "", WEB, NULL), "a");
    /* Removing an empty node moves the last into its index: its counts
     * move along (a 2, b 2, y 3: y is no choice). */
    add_host(c, "z", NULL, NULL);
    add_host(c, "y", NULL, NULL);
    fx_bind(c, fx_pod("y1", "100m", "", "", WEB), "y");
    fx_bind(c, fx_pod("y2", "100m", "", "", WEB), "y");
    fx_bind(c, fx_pod("y3", "100m", "", "", WEB), "y");
    sched_cache_remove_node(c, "z");
    const char *where = place_spread(c, "w8", HOST, 1, HARD, "", WEB, NULL);
    CHECK(where != NULL && strcmp(where, "y") != 0);
    /* Unused counters go at a sweep, the used ones at the next. */
    sched_cache_expire(c, 10 * 60 * 1000);
    CHECK_INT(c->spread->n, ==, 1);
    sched_cache_expire(c, 20 * 60 * 1000);
    CHECK_INT(c->spread->n, ==, 0);
    sched_cache_fini(c);
}

TEST(node_label_changes_move_domains)
{
    sched_cache *c = new_cache();
    add_host(c, "a", "za", NULL);
    add_host(c, "b", "zb", NULL);
    fx_bind(c, fx_pod("w1", "100m", "", "", WEB), "a");
    fx_bind(c, fx_pod("w2", "100m", "", "", WEB), "a");
    /* za 2, zb 0: b. */
    CHECK_STR(place_spread(c, "w3", ZONE, 1, HARD, "", WEB, NULL), "b");
    CHECK_INT(c->spread->ntopo, ==, 1);
    /* a joins zone zb: one domain of 3, so the fuller a is allowed (with
     * the old domains a would be refused: 2 + 1 - 1 > 1). */
    add_host(c, "a", "zb", NULL);
    CHECK_STR(place_spread(c, "w4", ZONE, 1, HARD, "", WEB, NULL), "a");
    /* A node losing the label is no candidate. */
    fx_add_node(c, "a", "8", "32Gi", "{}", NULL);
    CHECK_STR(place_spread(c, "w5", ZONE, 3, HARD, "", WEB, NULL), "b");
    sched_cache_expire(c, 10 * 60 * 1000);
    sched_cache_expire(c, 20 * 60 * 1000);
    CHECK_INT(c->spread->ntopo, ==, 0);
    sched_cache_fini(c);
}

/* One decision on 1,000 nodes holding 10,000 pods, with and without a
 * hostname constraint. */
TEST_T(decision_speed_with_constraints, 120)
{
    sched_cache *c = new_cache();
    char name[32], t[512], labels[128];
    int placed = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "n%04d", i);
        snprintf(labels, sizeof labels, "{\"" HOST "\":\"%s\",\"" ZONE "\":\"z%d\"}", name, i % 3);
        fx_add_node(c, name, "64", "256Gi", labels, NULL);
    }
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "bg%05d", i);
        snprintf(labels, sizeof labels, "n%04d", i % 1000);
        fx_bind(c, fx_pod(name, "10m", "", "", i % 2 ? WEB : ""), labels);
    }
    const char *spec[3] = {"", tsc(t, sizeof t, HOST, 1, "DoNotSchedule", ""), NULL};
    char soft[512];
    spec[2] = tsc(soft, sizeof soft, ZONE, 1, "ScheduleAnyway", "");
    const char *what[3] = {"no constraint", "hostname DoNotSchedule", "zone ScheduleAnyway"};
    static json_t *pods[1000];
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(name, sizeof name, "p%d-%04d", k, i);
            pods[i] = fx_pod(name, "10m", "", spec[k], WEB);
        }
        /* Timed: parse, decide, assume — as reconcile does. */
        uint64_t t0 = test_now_ms();
        for (int i = 0; i < 1000; i++) placed += place(c, pods[i], NULL) != NULL;
        uint64_t ms = test_now_ms() - t0;
        printf("# %s: 1000 decisions on 1000 nodes / 10000 pods in %llu ms (%.1f us each)\n",
               what[k], (unsigned long long)ms, (double)ms);
    }
    CHECK_INT(placed, ==, 3000);
    sched_cache_fini(c);
}
