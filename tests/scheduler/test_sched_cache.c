/* test_sched_cache.c — the assumed-pod cache, the scores (bin-packing,
 * owner spread) and preemption. */
#include <stdlib.h>
#include <string.h>

#include "tests/scheduler/schedfx.h"

static sched_cache *new_cache(void)
{
    static sched_cache c;
    CHECK_INT(sched_cache_init(&c), ==, 0);
    return &c;
}

/* Places and assumes the pod as the scheduler does before its bind returns;
 * returns the node's name or NULL. */
static const char *place_assume(sched_cache *c, json_t *obj, uint64_t now)
{
    sched_pod *p = fx_parse(obj);
    struct sched_result r;
    const char *where = NULL;
    CHECK_INT(sched_schedule(c, p, NULL, NULL, &r), ==, 0);
    if (r.node) {
        where = r.node->name;
        CHECK_INT(sched_cache_assume(c, p, r.node, false, now), ==, 0);
    } else {
        sched_pod_free(p);
    }
    sched_result_fini(&r);
    return where;
}

TEST(burst_never_overcommits)
{
    sched_cache *c = new_cache();
    char name[32];
    unsigned on_a = 0, on_b = 0, none = 0;
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    fx_add_node(c, "b", "4", "8Gi", NULL, NULL);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "p%d", i);
        const char *w = place_assume(c, fx_pod(name, "1", "1Gi", "", ""), 0);
        if (w == NULL) none++;
        else if (strcmp(w, "a") == 0) on_a++;
        else on_b++;
    }
    CHECK_INT(on_a, ==, 4);
    CHECK_INT(on_b, ==, 4);
    CHECK_INT(none, ==, 12);
    /* Bin-packing filled one node before the other. */
    CHECK_INT(sched_cache_pod(c, "default/p3")->node == sched_cache_node(c, "a"), ==, 1);
    sched_cache_fini(c);
}

TEST(assumption_confirmed_forgotten_or_expired)
{
    sched_cache *c = new_cache();
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    fx_add_node(c, "b", "4", "8Gi", NULL, NULL);
    CHECK_STR(place_assume(c, fx_pod("p", "3", "", "", ""), 1000), "a");
    CHECK_STR(place_assume(c, fx_pod("q", "3", "", "", ""), 1000), "b");
    CHECK_STR(place_assume(c, fx_pod("r", "1", "", "", ""), 1000), "a");
    /* The informer shows q still unbound (an older event): kept. */
    json_t *q = fx_pod("q", "3", "", "", "");
    CHECK_INT(sched_cache_observe_pod(c, q, NULL, NULL), ==, 0);
    json_decref(q);
    CHECK(sched_cache_pod(c, "default/q")->assumed);
    /* The informer confirms p: no longer an assumption. */
    fx_bind(c, fx_pod("p", "3", "", "", ""), "a");
    CHECK(!sched_cache_pod(c, "default/p")->assumed);
    /* q's bind failed: forgotten. */
    sched_cache_forget(c, "default/q");
    CHECK(sched_cache_pod(c, "default/q") == NULL);
    CHECK_INT(sched_cache_node(c, "b")->req_cpu, ==, 0);
    /* r's bind was never seen: it expires after the TTL, p stays. */
    CHECK_INT(sched_cache_expire(c, 1000 + c->assume_ttl_ms - 1), ==, 0);
    CHECK_INT(sched_cache_expire(c, 1000 + c->assume_ttl_ms), ==, 1);
    CHECK(sched_cache_pod(c, "default/r") == NULL);
    CHECK(sched_cache_pod(c, "default/p") != NULL);
    CHECK_INT(sched_cache_node(c, "a")->req_cpu, ==, 3000);
    sched_cache_fini(c);
}

TEST(pods_before_their_node)
{
    sched_cache *c = new_cache();
    char *msg;
    /* The pod informer ran first: the pod counts once the node shows up. */
    fx_bind(c, fx_pod("x", "3", "", "", ""), "a");
    CHECK(fx_place(c, fx_pod("p", "1", "", "", ""), &msg) == NULL);
    CHECK_STR(msg, "0/0 nodes are available.");
    free(msg);
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    CHECK_INT(sched_cache_node(c, "a")->req_cpu, ==, 3000);
    CHECK(fx_place(c, fx_pod("p", "2", "", "", ""), NULL) == NULL);
    /* Deleted with pods left: a placeholder until they are gone. */
    sched_cache_remove_node(c, "a");
    CHECK(sched_cache_node(c, "a") != NULL);
    sched_cache_pod_gone(c, "default", "x");
    CHECK(sched_cache_node(c, "a") == NULL);
    sched_cache_fini(c);
}

#define OWNER(uid) ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"" uid "\",\"controller\":true}]"

TEST(owner_spread_breaks_ties)
{
    sched_cache *c = new_cache();
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    fx_add_node(c, "b", "4", "8Gi", NULL, NULL);
    /* Same use on both nodes, one of the owner's pods on a. */
    fx_bind(c, fx_pod("x", "1", "1Gi", "", OWNER("u1")), "a");
    fx_bind(c, fx_pod("y", "1", "1Gi", "", ""), "b");
    CHECK_STR(fx_place(c, fx_pod("p", "1", "1Gi", "", OWNER("u1")), NULL), "b");
    /* Bin-packing outweighs it when the nodes differ. */
    fx_bind(c, fx_pod("z", "1", "1Gi", "", ""), "a");
    CHECK_STR(fx_place(c, fx_pod("p", "1", "1Gi", "", OWNER("u1")), NULL), "a");
    sched_cache_fini(c);
}

TEST(weights_choose_the_resource)
{
    sched_cache *c = new_cache();
    struct sched_weights cpu_only = {.cpu = 100, .memory = 1}, mem_only = {.cpu = 1, .memory = 100};
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    fx_add_node(c, "b", "4", "8Gi", NULL, NULL);
    fx_bind(c, fx_pod("x", "3", "1Gi", "", ""), "a");
    fx_bind(c, fx_pod("y", "1", "6Gi", "", ""), "b");
    sched_pod *p = fx_parse(fx_pod("p", "500m", "512Mi", "", ""));
    CHECK_INT(sched_score_node(sched_cache_node(c, "a"), p, &cpu_only), >, sched_score_node(sched_cache_node(c, "b"), p, &cpu_only));
    CHECK_INT(sched_score_node(sched_cache_node(c, "b"), p, &mem_only), >, sched_score_node(sched_cache_node(c, "a"), p, &mem_only));
    sched_pod_free(p);
    sched_cache_fini(c);
}

#define PRIO(n) ",\"priority\":" #n

static struct sched_preemption preempt_for(sched_cache *c, json_t *obj, const char **node)
{
    sched_pod *p = fx_parse(obj);
    struct sched_result r;
    struct sched_preemption pr;
    CHECK_INT(sched_schedule(c, p, NULL, NULL, &r), ==, 0);
    CHECK(r.node == NULL);
    CHECK_INT(sched_preempt(c, p, &r, &pr), ==, 0);
    *node = pr.node ? pr.node->name : NULL;
    sched_result_fini(&r);
    sched_pod_free(p);
    return pr;
}

static bool victim(const struct sched_preemption *pr, const char *name)
{
    for (size_t i = 0; i < pr->nvictims; i++)
        if (strcmp(pr->victims[i]->name, name) == 0) return true;
    return false;
}

TEST(preemption_picks_least_important_victims)
{
    sched_cache *c = new_cache();
    const char *node;
    struct sched_preemption pr;
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    fx_add_node(c, "b", "4", "8Gi", NULL, NULL);
    fx_add_node(c, "t", "4", "8Gi", NULL, "{\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]}");
    fx_bind(c, fx_pod("a1", "2", "", PRIO(10), ""), "a");
    fx_bind(c, fx_pod("a2", "2", "", PRIO(10), ""), "a");
    fx_bind(c, fx_pod("b1", "2", "", PRIO(5), ""), "b");
    fx_bind(c, fx_pod("b2", "1", "", PRIO(1), ""), "b");
    fx_bind(c, fx_pod("b3", "1", "", PRIO(100), ""), "b");
    /* A pod of priority 50 asking 2 cpu: on a, one victim of priority 10;
     * on b, b1 (5) is needed and b2 (1) is given back (b1 alone makes the
     * room). The lower highest victim priority wins: b. */
    pr = preempt_for(c, fx_pod("hi", "2", "", PRIO(50), ""), &node);
    CHECK_STR(node, "b");
    CHECK_INT(pr.nvictims, ==, 1);
    CHECK(victim(&pr, "b1"));
    sched_preemption_fini(&pr);
    /* Asking 3 cpu: on b, b1 and b2 both go (top 5); on a, both a1 and a2
     * (top 10). b again, with two victims; b3 (100) is never touched. */
    pr = preempt_for(c, fx_pod("hi", "3", "", PRIO(50), ""), &node);
    CHECK_STR(node, "b");
    CHECK_INT(pr.nvictims, ==, 2);
    CHECK(victim(&pr, "b1") && victim(&pr, "b2"));
    sched_preemption_fini(&pr);
    /* Priority 8: only b's pods below it can go; 4 cpu cannot be freed
     * there (b3 stays), a's pods are above it: nothing. */
    pr = preempt_for(c, fx_pod("mid", "4", "", PRIO(8), ""), &node);
    CHECK(node == NULL);
    sched_preemption_fini(&pr);
    /* preemptionPolicy Never: never. */
    pr = preempt_for(c, fx_pod("nv", "2", "", PRIO(50) ",\"preemptionPolicy\":\"Never\"", ""), &node);
    CHECK(node == NULL);
    sched_preemption_fini(&pr);
    sched_cache_fini(c);
}

TEST(nominated_reservation_holds_room)
{
    sched_cache *c = new_cache();
    const char *node;
    struct sched_preemption pr;
    fx_add_node(c, "a", "4", "8Gi", NULL, NULL);
    fx_bind(c, fx_pod("low", "4", "", PRIO(1), ""), "a");
    sched_pod *hi = fx_parse(fx_pod("hi", "4", "", PRIO(100), ""));
    /* hi preempted low and holds a reservation on a while low terminates. */
    CHECK_INT(sched_cache_assume(c, hi, sched_cache_node(c, "a"), true, 0), ==, 0);
    sched_cache_pod_gone(c, "default", "low");
    /* A lower pod cannot take the room, nor evict the reservation. */
    CHECK(fx_place(c, fx_pod("mid", "1", "", PRIO(50), ""), NULL) == NULL);
    pr = preempt_for(c, fx_pod("mid", "1", "", PRIO(50), ""), &node);
    CHECK(node == NULL);
    sched_preemption_fini(&pr);
    /* hi itself, its reservation dropped first, fits. */
    sched_cache_forget(c, "default/hi");
    CHECK_STR(fx_place(c, fx_pod("hi", "4", "", PRIO(100), ""), NULL), "a");
    sched_cache_fini(c);
}

/* The decision itself stays far below the API's cost per pod: 10,000 pods
 * on 1,000 nodes, each scheduled and assumed. */
TEST_T(decision_speed, 120)
{
    sched_cache *c = new_cache();
    char name[32];
    static const char *cpus[] = {"100m", "200m", "250m", "500m", "1"};
    static const char *mems[] = {"128Mi", "256Mi", "512Mi", "1Gi", "2Gi"};
    unsigned seed = 8, placed = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "n%04d", i);
        fx_add_node(c, name, "8", "32Gi", NULL, NULL);
    }
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "p%05d", i);
        json_t *obj = fx_pod(name, cpus[rand_r(&seed) % 5], mems[rand_r(&seed) % 5], "", "");
        placed += place_assume(c, obj, 0) != NULL;
    }
    uint64_t ms = test_now_ms() - t0;
    printf("# 10000 pods on 1000 nodes decided in %llu ms (%.1f us/pod)\n", (unsigned long long)ms,
           (double)ms * 1000.0 / 10000);
    CHECK_INT(placed, ==, 10000);
    sched_cache_fini(c);
}
