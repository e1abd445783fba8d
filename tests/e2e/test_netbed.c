/* test_netbed.c — the multi-node network bed (tests/harness/netbed.h) and
 * the host-gw routes between its nodes: real `orcd server` in a lab
 * namespace, real `orcd agent`s each in a node namespace. Nodes register;
 * every node gets a route to every other node's pod CIDR via its address
 * (a node joining or leaving updates the others within a second); a node
 * cut off goes NotReady after the grace period and comes back when healed;
 * the teardown, and the sweep after a killed run, leave nothing behind and
 * the host's own links, addresses and routes unchanged. Root only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

static struct netbed B;

static const char *const SERVER_FLAGS[] = {"--node-monitor-grace-period", "3s", NULL};

static json_t *get_node(struct netbed *b, int i)
{
    char path[256];
    int st;
    json_t *n;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", b->node[i].name);
    n = t_json(&b->c, 0, "GET", path, NULL, &st);
    if (st != 200) {
        json_decref(n);
        return NULL;
    }
    return n;
}

/* Node i's spec.podCIDR into out ("" when none). */
static void pod_cidr(struct netbed *b, int i, char *out, size_t n)
{
    json_t *node = get_node(b, i);
    const char *c = orc_json_str(node, "spec.podCIDR");

    snprintf(out, n, "%s", c ? c : "");
    json_decref(node);
}

/* Whether node `on` has our route to node `to`'s pods via its address. */
static bool has_route(struct netbed *b, int on, const char *cidr, int to)
{
    char *argv[] = {"ip", "route", "show", "proto", "79", NULL}, *out = NULL, want[128];
    bool ok;

    netbed_run(b, on, argv, &out);
    snprintf(want, sizeof want, "%s via %s dev eth0", cidr, b->node[to].ip);
    ok = out && strstr(out, want) != NULL;
    free(out);
    return ok;
}

/* Milliseconds until has_route(on, cidr, to) == want; fails after limit. */
static unsigned wait_route(struct netbed *b, int on, const char *cidr, int to, bool want,
                           unsigned limit_ms)
{
    uint64_t start = test_now_ms();

    while (has_route(b, on, cidr, to) != want) {
        CHECKF(test_now_ms() - start < limit_ms, "node %d: route to %s via node %d %s after %u ms "
               "(log %s)", on, cidr, to, want ? "missing" : "still there", limit_ms, b->node[on].log);
        test_sleep_ms(20);
    }
    return (unsigned)(test_now_ms() - start);
}

static const char *ready_status(const json_t *node)
{
    const json_t *c;
    size_t i;

    json_array_foreach(orc_json_get(node, "status.conditions"), i, c)
        if (orc_json_str(c, "type") && strcmp(orc_json_str(c, "type"), "Ready") == 0)
            return orc_json_str(c, "status");
    return NULL;
}

static unsigned wait_ready(struct netbed *b, int i, bool want, unsigned limit_ms)
{
    uint64_t start = test_now_ms();

    for (;;) {
        json_t *n = get_node(b, i);
        const char *s = ready_status(n);
        bool ready = s && strcmp(s, "True") == 0;
        json_decref(n);
        if (ready == want) return (unsigned)(test_now_ms() - start);
        CHECKF(test_now_ms() - start < limit_ms, "node %d not %s after %u ms", i,
               want ? "Ready" : "NotReady", limit_ms);
        test_sleep_ms(100);
    }
}

/* Lines of a host snapshot that name anything a bed makes. */
static void check_host_clean(const char *snap)
{
    CHECKF(strstr(snap, "orcbed") == NULL, "a bed's name in the host's namespace:\n%s", snap);
    CHECKF(strstr(snap, "10.99.0.") == NULL, "a bed's address in the host's namespace:\n%s", snap);
    CHECKF(strstr(snap, " proto 79 ") == NULL, "an orc route in the host's namespace:\n%s", snap);
}

/* The host's lines before and after: none ours, none of ours added. */
static void check_same_lines(const char *before, const char *after)
{
    const char *p = after;
    char line[1024];

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        /* other tests share the host: only lines about our kinds of things count */
        if ((strstr(line, "orcbed") || strstr(line, "10.99.") || strstr(line, "proto 79"))
            && strstr(before, line) == NULL)
            test_fail(__FILE__, __LINE__, "the host's namespace gained: %s", line);
        p += len + (nl ? 1 : 0);
    }
}

TEST_T(bed_routes_follow_nodes, 90)
{
    char cidr[4][32], *before = netbed_host_snapshot(NULL), *after, path[256], *resp = NULL;
    unsigned ms;

    netbed_up(&B);
    netbed_servers(&B, 1, SERVER_FLAGS);
    netbed_node_add(&B, NULL);
    netbed_node_add(&B, NULL);
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);
    pod_cidr(&B, 1, cidr[1], sizeof cidr[1]);
    pod_cidr(&B, 2, cidr[2], sizeof cidr[2]);
    CHECK(cidr[1][0] && cidr[2][0] && strcmp(cidr[1], cidr[2]) != 0);
    wait_route(&B, 1, cidr[2], 2, true, 5000);
    wait_route(&B, 2, cidr[1], 1, true, 5000);
    CHECK(!has_route(&B, 1, cidr[1], 1)); /* never a route to its own pods */

    /* A third node joins: the others route to it within a second of its
     * Node getting its pod CIDR. */
    netbed_node_add(&B, NULL);
    netbed_node_wait(&B, 3, 20000);
    pod_cidr(&B, 3, cidr[3], sizeof cidr[3]);
    ms = wait_route(&B, 1, cidr[3], 3, true, 2000);
    fprintf(stderr, "# node 1 routes to the new node's pods %u ms after its registration\n", ms);
    wait_route(&B, 2, cidr[3], 3, true, 2000);
    wait_route(&B, 3, cidr[1], 1, true, 2000);

    /* It leaves: its Node deleted, the routes to it go within a second. */
    netbed_agent_stop(&B, 3);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[3].name);
    CHECK_INT(t_http(&B.c, 0, "DELETE", path, NULL, NULL, &resp, NULL), ==, 200);
    free(resp);
    ms = wait_route(&B, 1, cidr[3], 3, false, 2000);
    fprintf(stderr, "# the route to the deleted node's pods gone after %u ms\n", ms);
    wait_route(&B, 2, cidr[3], 3, false, 2000);

    /* Cut off: NotReady after the grace period; healed: Ready again. */
    netbed_cut(&B, 2);
    ms = wait_ready(&B, 2, false, 30000);
    fprintf(stderr, "# node 2 NotReady %u ms after it was cut off\n", ms);
    netbed_heal(&B, 2);
    wait_ready(&B, 2, true, 30000);
    wait_route(&B, 1, cidr[2], 2, true, 7000);

    netbed_down(&B);
    after = netbed_host_snapshot(NULL);
    check_host_clean(after);
    check_same_lines(before, after);
    char *left = netbed_list(), mine[32];
    snprintf(mine, sizeof mine, "orcbed-%d-", B.pid);
    CHECKF(strstr(left, mine) == NULL, "namespaces left: %s", left);
    free(left);
    free(before);
    free(after);
}

/* A run killed before its cleanups: the next bed's sweep removes its
 * namespaces (the router's too), processes and records. */
TEST_T(bed_killed_run_swept, 60)
{
    char *before = netbed_host_snapshot(NULL), *after, *left, mine[64], rec[128];
    int p[2];
    pid_t child, agent = 0;

    CHECK(pipe(p) == 0);
    child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(p[0]);
        netbed_up(&B);
        netbed_router(&B);
        netbed_servers(&B, 1, NULL);
        netbed_node_add_on(&B, 1, NULL);
        netbed_node_wait(&B, 1, 20000);
        if (write(p[1], &B.node[1].pid, sizeof(pid_t)) != sizeof(pid_t)) _exit(3);
        pause();
        _exit(0);
    }
    close(p[1]);
    bool got = read(p[0], &agent, sizeof agent) == sizeof agent;
    close(p[0]);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECKF(got, "the child's bed did not come up");
    snprintf(mine, sizeof mine, "orcbed-%d-", (int)child);
    left = netbed_list();
    CHECKF(strstr(left, mine) != NULL, "the killed run's namespaces are not there: %s", left);
    free(left);

    CHECK(netbed_sweep() >= 3);
    left = netbed_list();
    CHECKF(strstr(left, mine) == NULL, "namespaces left after the sweep: %s", left);
    free(left);
    snprintf(rec, sizeof rec, NETBED_RUN_DIR "/orcbed-%d-n1", (int)child);
    CHECK(access(rec, F_OK) != 0);
    snprintf(rec, sizeof rec, NETBED_RUN_DIR "/orcbed-%d-rt", (int)child);
    CHECK(access(rec, F_OK) != 0);
    char stat_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%d/ns/net", (int)agent);
    CHECKF(access(stat_path, F_OK) != 0, "the killed run's agent %d still lives", (int)agent);
    after = netbed_host_snapshot(NULL);
    check_host_clean(after);
    check_same_lines(before, after);
    free(before);
    free(after);
}
