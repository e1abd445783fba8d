/* test_sched_e2e.c — the scheduler inside a real `orcd server --no-agent`
 * (its controller manager runs it on the Raft leader):
 * Node objects made Ready by the test, pods bound through the binding
 * subresource with a Scheduled event; a pod that fits nowhere gets
 * PodScheduled=False/Unschedulable, Kubernetes' message and a
 * FailedScheduling event, and is bound once a node that fits joins; pods of
 * another scheduler are left alone; a high-priority pod preempts. */
#include "tests/scheduler/schede2e.h"

TEST_T(binds_pods_and_records_events, 60)
{
    start();
    add_node("n1", "2", "4Gi", NULL);
    add_node("n2", "2", "4Gi", NULL);
    add_pod("a", "1", NULL);
    add_pod("b", "1", NULL);
    add_pod("d", "1", NULL);
    char *na = wait_bound("a", 10000), *nb = wait_bound("b", 10000), *nd = wait_bound("d", 10000);
    CHECK(*na && *nb && *nd);
    /* Bin-packing: two of them share a node (2 cpu each). */
    CHECK(!strcmp(na, nb) || !strcmp(na, nd) || !strcmp(nb, nd));
    CHECK(has_event("a", "Scheduled", "Successfully assigned default/a to "));
    json_t *p = get_pod("a");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "status.conditions"), 0), "type"), "PodScheduled");
    json_decref(p);
    free(na);
    free(nb);
    free(nd);
    /* The member stops cleanly with the scheduler running in it (under
     * SAN=1: no leak or error report in its log). */
    member_stop(&c, 0);
}

TEST_T(unschedulable_then_bound_when_a_node_fits, 60)
{
    start();
    add_node("small1", "1", "4Gi", NULL);
    add_node("small2", "1", "4Gi", NULL);
    add_node("tainted", "8", "4Gi", "{\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}");
    add_pod("big", "4", NULL);
    char *msg = wait_unschedulable("big");
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.");
    free(msg);
    CHECK(has_event("big", "FailedScheduling", "0/3 nodes are available"));
    /* A node that fits joins: the pod is retried and bound there. */
    add_node("large", "8", "16Gi", NULL);
    char *n = wait_bound("big", 15000);
    CHECK_STR(n, "large");
    free(n);
}

/* The scheduler's PodScheduled=False touches that condition only: a Ready
 * condition written just before (by an agent, here by the test) survives
 * even when the scheduler's cache had not seen it yet. Main used to send
 * the whole conditions array from its cache as a JSON merge patch. */
TEST_T(unschedulable_keeps_other_conditions, 60)
{
    enum { N = 20 };
    char name[32], path[128];
    start();
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "racer-%d", i);
        add_pod(name, "64", NULL); /* fits nowhere: there is no node */
        snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/status", name);
        /* As the agent writes it: conditions merged by type. */
        CHECK_INT(t_http(&c, at, "PATCH", path, "application/strategic-merge-patch+json",
                         "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                         NULL, NULL), ==, 200);
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "racer-%d", i);
        free(wait_unschedulable(name));
        json_t *pod = get_pod(name);
        const json_t *cond;
        size_t k;
        bool ready = false;
        json_array_foreach(orc_json_get(pod, "status.conditions"), k, cond)
            if (!strcmp(orc_json_str(cond, "type") ?: "", "Ready"))
                ready = !strcmp(orc_json_str(cond, "status") ?: "", "True");
        CHECKF(ready, "%s lost its Ready condition", name);
        json_decref(pod);
    }
}

TEST_T(other_schedulers_pods_left_alone, 60)
{
    start();
    add_node("n1", "2", "4Gi", NULL);
    add_pod("mine", "100m", NULL);
    add_pod("theirs", "100m", ",\"schedulerName\":\"other\"");
    char *n = wait_bound("mine", 10000);
    CHECK_STR(n, "n1");
    free(n);
    n = wait_bound("theirs", 1000);
    CHECK_STR(n, "");
    free(n);
}

TEST_T(higher_priority_preempts, 60)
{
    start();
    add_node("n1", "2", "4Gi", NULL);
    add_pod("low1", "1", ",\"priority\":1");
    add_pod("low2", "1", ",\"priority\":1");
    char *n = wait_bound("low1", 10000);
    CHECK_STR(n, "n1");
    free(n);
    n = wait_bound("low2", 10000);
    CHECK_STR(n, "n1");
    free(n);
    add_pod("high", "1", ",\"priority\":1000");
    n = wait_bound("high", 20000);
    CHECK_STR(n, "n1");
    free(n);
    /* Exactly one of the low pods made room. */
    json_t *l1 = get_pod("low1"), *l2 = get_pod("low2");
    CHECK((l1 == NULL) != (l2 == NULL));
    json_decref(l1);
    json_decref(l2);
    CHECK(has_event(l1 ? "low2" : "low1", "Preempted", "Preempted by default/high on node n1"));
}

TEST_T(priority_class_name_preempts, 60)
{
    start();
    post("/apis/scheduling.k8s.io/v1/priorityclasses",
         "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\",\"metadata\":{\"name\":\"high\"},"
         "\"value\":1000}");
    add_node("n1", "1", "4Gi", NULL);
    add_pod("low", "1", NULL);
    char *n = wait_bound("low", 10000);
    CHECK_STR(n, "n1");
    free(n);
    add_pod("urgent", "1", ",\"priorityClassName\":\"high\"");
    n = wait_bound("urgent", 20000);
    CHECK_STR(n, "n1");
    free(n);
    json_t *low = get_pod("low");
    CHECK(low == NULL);
    /* An unknown class counts as no class (priority 0): nothing to preempt. */
    add_pod("nobody", "1", ",\"priorityClassName\":\"missing\"");
    char *msg = wait_unschedulable("nobody");
    CHECK_STR(msg, "0/1 nodes are available: 1 Insufficient cpu.");
    free(msg);
    json_t *urgent = get_pod("urgent");
    CHECK(urgent != NULL);
    json_decref(urgent);
}

/* Pods bound to each of nodes a and b, and those still unbound. */
static void count_burst(int n, int *on_a, int *on_b, int *pending)
{
    char name[32];
    *on_a = *on_b = *pending = 0;
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "burst-%d", i);
        char *node = wait_bound(name, 0);
        if (!strcmp(node, "a")) (*on_a)++;
        else if (!strcmp(node, "b")) (*on_b)++;
        else (*pending)++;
        free(node);
    }
}

TEST_T(burst_never_overcommits, 60)
{
    char name[32];
    int on_a, on_b, pending;
    uint64_t end;
    start();
    add_node("a", "4", "8Gi", NULL);
    add_node("b", "4", "8Gi", NULL);
    /* 12 pods of 1 cpu at once for 8 cpus: 8 bound, 4 wait, none over. */
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "burst-%d", i);
        add_pod(name, "1", NULL);
    }
    end = test_now_ms() + 15000;
    do {
        test_sleep_ms(200);
        count_burst(12, &on_a, &on_b, &pending);
    } while (on_a + on_b < 8 && test_now_ms() < end);
    test_sleep_ms(500); /* a ninth bind, if any, would show by now */
    count_burst(12, &on_a, &on_b, &pending);
    CHECK_INT(on_a, ==, 4);
    CHECK_INT(on_b, ==, 4);
    CHECK_INT(pending, ==, 4);
}

TEST_T(leader_killed_mid_burst, 90)
{
    static const char *const only[] = {"--controllers", "scheduler", NULL};
    char name[32];
    int on_a, on_b, pending, old;
    uint64_t end;

    cluster_init(&c, 3);
    cluster_start(&c, only);
    at = cluster_leader(&c, 10000);
    CHECK(at >= 0);
    add_node("a", "4", "8Gi", NULL);
    add_node("b", "4", "8Gi", NULL);
    for (int i = 0; i < 12; i++) {
        if (i == 6) {
            /* The member running the scheduler dies; another takes over. */
            old = at;
            member_kill(&c, old);
            at = cluster_leader_except(&c, old, 15000);
            CHECK(at >= 0);
        }
        snprintf(name, sizeof name, "burst-%d", i);
        add_pod(name, "1", NULL);
    }
    /* 8 cpus for 12 pods of 1: exactly 8 bound, 4 per node, whoever bound them. */
    end = test_now_ms() + 30000;
    do {
        test_sleep_ms(200);
        count_burst(12, &on_a, &on_b, &pending);
    } while (on_a + on_b < 8 && test_now_ms() < end);
    test_sleep_ms(500);
    count_burst(12, &on_a, &on_b, &pending);
    CHECK_INT(on_a, ==, 4);
    CHECK_INT(on_b, ==, 4);
    CHECK_INT(pending, ==, 4);
}
