/* test_controllers.c — the scheduler and controllers run on the Raft leader
 * only, and another member takes them over when the leader dies. */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define STARTED "starting the scheduler and controllers"

/* How many times member i logged `what`. */
static int count_in_log(struct cluster *c, int i, const char *what)
{
    struct orc_buf b = ORC_BUF_INIT;
    int n = 0;

    if (orc_file_read(c->m[i].log, 16u << 20, &b) != 0 || b.data == NULL) return 0;
    for (const char *p = b.data; (p = strstr(p, what)) != NULL; p++) n++;
    orc_buf_free(&b);
    return n;
}

static bool wait_logged(struct cluster *c, int i, const char *what, int times, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;

    while (count_in_log(c, i, what) < times) {
        if (test_now_ms() > end) return false;
        test_sleep_ms(50);
    }
    return true;
}

TEST_T(controllers_run_on_the_leader_only_and_move_when_it_dies, 120)
{
    static struct cluster c;
    static const char *const no_agent[] = {"--no-agent", NULL};

    cluster_init(&c, 3);
    cluster_start(&c, no_agent);
    int lead = cluster_leader(&c, 10000);
    CHECKF(lead >= 0, "no leader");
    CHECKF(wait_logged(&c, lead, STARTED, 1, 5000), "the leader did not start the controllers (log %s)",
           c.m[lead].log);
    test_sleep_ms(500);
    for (int i = 0; i < 3; i++)
        if (i != lead) CHECKF(count_in_log(&c, i, STARTED) == 0, "follower %d runs controllers", i);
    uint64_t killed = test_now_ms();
    member_kill(&c, lead);
    int next = cluster_leader_except(&c, lead, 10000);
    CHECKF(next >= 0, "no new leader");
    CHECKF(wait_logged(&c, next, STARTED, 1, 5000), "the new leader did not take over (log %s)",
           c.m[next].log);
    fprintf(stderr, "# controllers running on the new leader %llu ms after the kill\n",
            (unsigned long long)(test_now_ms() - killed));
    for (int i = 0; i < 3; i++)
        if (i != lead && i != next) CHECKF(count_in_log(&c, i, STARTED) == 0, "member %d runs controllers", i);
}

TEST(unknown_controller_is_refused_by_name)
{
    char *out = NULL, *err = NULL;
    const char *argv[] = {t_bin("orcd"), "server", "--controllers", "-nosuch", NULL};
    int rv = run_prog(test_tmpdir(), NULL, &out, &err, argv);
    CHECKF(rv != 0, "orcd accepted --controllers -nosuch");
    CHECKF(strstr(err, "unknown controller \"nosuch\""), "message: %s", err);
    free(out);
    free(err);
}

/* Pods in namespace default not being deleted, as member i lists them
 * (-1 when it does not answer). */
static int count_pods(struct cluster *c, int i)
{
    int st = 0, n = 0;
    json_t *list = t_json(c, i, "GET", "/api/v1/namespaces/default/pods", NULL, &st);
    json_t *items = json_object_get(list, "items"), *p;
    size_t k;

    if (st != 200) {
        json_decref(list);
        return -1;
    }
    json_array_foreach(items, k, p) if (json_object_get(p, "metadata")
                                        && !json_object_get(json_object_get(p, "metadata"),
                                                            "deletionTimestamp")) n++;
    json_decref(list);
    return n;
}

static int wait_count(struct cluster *c, int i, int want, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    int n;

    while ((n = count_pods(c, i)) != want && test_now_ms() < end) test_sleep_ms(200);
    return n;
}

/* The leader dies in the middle of a scale-up: the next leader finishes it,
 * and no pod is created twice (the ReplicaSet controller's informers list
 * before it acts, and it counts what the dead one created). */
TEST_T(leader_killed_under_scale_up_creates_exactly_the_replicas, 150)
{
    static struct cluster c;
    static const char *const no_agent[] = {"--no-agent", NULL};
    static const char deploy[] =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
        "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
        "[{\"name\":\"c\",\"image\":\"127.0.0.1:1/none:1\"}]}}}}";
    int st = 0;

    cluster_init(&c, 3);
    cluster_start(&c, no_agent);
    int lead = cluster_leader(&c, 10000);
    CHECKF(lead >= 0, "no leader");
    int other = (lead + 1) % 3;
    json_decref(t_json(&c, other, "POST", "/apis/apps/v1/namespaces/default/deployments", deploy, &st));
    CHECKF(st == 201, "create deployment: %d", st);
    test_sleep_ms(1000); /* its ReplicaSet exists, with 0 replicas */
    st = t_http(&c, other, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                "application/merge-patch+json", "{\"spec\":{\"replicas\":300}}", NULL, NULL);
    CHECKF(st == 200, "scale: %d", st);
    /* Kill the leader while it creates pods. */
    uint64_t end = test_now_ms() + 10000;
    int n;
    while ((n = count_pods(&c, other)) < 20 && test_now_ms() < end) test_sleep_ms(20);
    fprintf(stderr, "# killing the leader with %d of 300 pods created\n", n);
    member_kill(&c, lead);
    int next = cluster_leader_except(&c, lead, 10000);
    CHECKF(next >= 0, "no new leader");
    n = wait_count(&c, next, 300, 60000);
    CHECKF(n == 300, "%d pods after the takeover, want 300", n);
    test_sleep_ms(3000); /* nothing more comes */
    n = count_pods(&c, next);
    CHECKF(n == 300, "%d pods 3 s later, want 300", n);
    /* The dead member comes back: still 300. */
    member_start(&c, lead, false, no_agent);
    member_wait_ready(&c, lead, 20000);
    test_sleep_ms(2000);
    n = count_pods(&c, cluster_leader(&c, 10000));
    CHECKF(n == 300, "%d pods after the old leader returned, want 300", n);
}
