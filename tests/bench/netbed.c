/* netbed.c — routes between nodes on the network test bed
 * (tests/harness/netbed.h): NETBED_NODES (default 4, at most 6) real
 * agents, each in its own network namespace, one `orcd server`. Prints a
 * markdown table: the first N-1 nodes registered, their full mesh of
 * host-gw routes, then a node joining (ms from its Node getting a pod CIDR
 * until every other node routes to it, and until it routes to all of
 * them) and leaving (ms from the Node's DELETE until no node routes to it).
 * Needs root. Run: `O=build ./build/tests/bench/netbed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

static struct netbed B;
static char CIDR[NETBED_MAX_NODES + 1][32];

static int nodes(void)
{
    const char *e = getenv("NETBED_NODES");
    int n = e ? atoi(e) : 4;
    return n < 2 ? 2 : n > NETBED_MAX_NODES ? NETBED_MAX_NODES : n;
}

static bool registered(int i)
{
    char path[256];
    int st;
    json_t *n;
    const char *c;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[i].name);
    n = t_json(&B.c, 0, "GET", path, NULL, &st);
    c = st == 200 ? orc_json_str(n, "spec.podCIDR") : NULL;
    if (c) snprintf(CIDR[i], sizeof CIDR[i], "%s", c);
    json_decref(n);
    return c != NULL;
}

static bool has_route(int on, int to)
{
    char *argv[] = {"ip", "route", "show", "proto", "79", NULL}, *out = NULL, want[96];
    bool ok;

    netbed_run(&B, on, argv, &out);
    snprintf(want, sizeof want, "%s via %s ", CIDR[to], B.node[to].ip);
    ok = out && strstr(out, want);
    free(out);
    return ok;
}

/* ms from start until every node 1..n but dst has (want) a route to node
 * dst, or (dst_side) node dst has one to each of them. */
static double wait_routes(uint64_t start, int n, int dst, bool want, bool dst_side)
{
    for (;;) {
        bool all = true;
        for (int i = 1; i <= n && all; i++)
            if (i != dst) all = dst_side ? has_route(dst, i) == want : has_route(i, dst) == want;
        if (all) return (double)(test_now_ms() - start);
        if (test_now_ms() - start >= 30000) {
            for (int i = 1; i <= n; i++) {
                char *argv[] = {"ip", "route", NULL}, *out = NULL;
                netbed_run(&B, i, argv, &out);
                fprintf(stderr, "# node %d (%s, %s):\n%s", i, B.node[i].ip, CIDR[i], out ? out : "");
                free(out);
                char *grep[] = {"sh", "-c", NULL, NULL}, cmd[800];
                snprintf(cmd, sizeof cmd, "grep -E 'WARN|ERROR|route' '%s' | tail -20", B.node[i].log);
                grep[2] = cmd;
                netbed_run(&B, 0, grep, &out);
                fprintf(stderr, "%s", out ? out : "");
                free(out);
            }
            test_fail(__FILE__, __LINE__, "routes to/from node %d (%s) did not converge in 30 s", dst,
                      want ? "present" : "gone");
        }
        test_sleep_ms(5);
    }
}

TEST_T(routes_between_nodes, 240)
{
    int n = nodes();
    uint64_t t0 = test_now_ms(), tj;
    double reg, mesh, join_others, join_self, leave;
    char path[256], *resp = NULL;

    netbed_up(&B);
    netbed_servers(&B, 1, NULL);
    t0 = test_now_ms();
    for (int i = 1; i < n; i++) netbed_node_add(&B, NULL);
    for (int i = 1; i < n; i++) {
        while (!registered(i)) {
            CHECKF(test_now_ms() - t0 < 60000, "node %d did not register (log %s)", i, B.node[i].log);
            test_sleep_ms(10);
        }
    }
    reg = (double)(test_now_ms() - t0);
    for (int d = 1; d < n; d++) wait_routes(t0, n - 1, d, true, false);
    mesh = (double)(test_now_ms() - t0);

    netbed_node_add(&B, NULL);
    while (!registered(n)) {
        CHECKF(test_now_ms() - t0 < 90000, "the joining node did not register");
        test_sleep_ms(2);
    }
    tj = test_now_ms();
    join_others = wait_routes(tj, n, n, true, false);
    join_self = wait_routes(tj, n, n, true, true);

    netbed_agent_stop(&B, n);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[n].name);
    CHECK_INT(t_http(&B.c, 0, "DELETE", path, NULL, NULL, &resp, NULL), ==, 200);
    free(resp);
    leave = wait_routes(test_now_ms(), n - 1, n, false, false);

    printf("\n| network test bed, %d nodes (host-gw) | ms |\n|---|---|\n", n);
    printf("| %d agents started to all registered | %.0f |\n", n - 1, reg);
    printf("| ... to a full mesh of routes | %.0f |\n", mesh);
    printf("| node joins: Node has its pod CIDR -> every other node routes to it | %.0f |\n", join_others);
    printf("| node joins: ... -> it routes to every other node | %.0f |\n", join_self);
    printf("| node leaves: Node deleted -> no node routes to it | %.0f |\n", leave);
}
