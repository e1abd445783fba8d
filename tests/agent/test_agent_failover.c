/* test_agent_failover.c — an agent given one API server learns the others
 * from default/kubernetes and, when the one it uses dies, carries on
 * through another: its Lease keeps being renewed, so its node stays Ready. */
#include "tests/agent/agentfx.h"

static bool log_has(const char *text)
{
    struct orc_buf b = ORC_BUF_INIT;
    bool yes = orc_file_read(A.log, 64u << 20, &b) == 0 && b.data && strstr(b.data, text);
    orc_buf_free(&b);
    return yes;
}

static char *renew_time(int member)
{
    char path[256];
    int st = 0;
    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
             A.node);
    json_t *l = t_json(&AC, member, "GET", path, NULL, &st);
    const char *t = orc_json_str(l, "spec.renewTime");
    char *out = strdup(st == 200 && t ? t : "");
    json_decref(l);
    return out;
}

TEST_T(agent_fails_over_to_another_member, 120)
{
    AFX_MEMBERS = 3;
    afx_setup();
    uint64_t end = test_now_ms() + 40000;
    while (!log_has("API servers to fail over to:")) {
        if (test_now_ms() >= end) afx_dump_log();
        CHECKF(test_now_ms() < end, "the agent never learnt the other API servers");
        test_sleep_ms(200);
    }
    member_kill(&AC, 0); /* the one it was given */
    CHECKF(cluster_leader(&AC, 15000) > 0, "no leader among the others");
    char *before = renew_time(1);
    end = test_now_ms() + 30000;
    for (;;) {
        char *now = renew_time(1);
        bool moved = now[0] && strcmp(now, before) != 0;
        free(now);
        if (moved) break;
        if (test_now_ms() >= end) afx_dump_log();
        CHECKF(test_now_ms() < end, "the agent's lease was not renewed after member 0 died");
        test_sleep_ms(300);
    }
    free(before);
    CHECK(log_has("cannot be reached; trying"));
    afx_agent_stop(); /* exits cleanly: no sanitizer report */
}
