/* test_agent_cascade.c — a running pod deleted in the foreground: the
 * garbage collector (in orcd) drops its foregroundDeletion finalizer at
 * once, yet the pod stays until its real node agent has stopped it within
 * its grace period, as Kubernetes keeps a pod whose deletion grace period
 * has not run out. */
#include "tests/agent/agentfx.h"

TEST_T(foreground_delete_of_a_running_pod_waits_for_its_node, 120)
{
    char *resp = NULL;
    json_t *p;
    int status;
    uint64_t t0;

    afx_setup();
    /* ignores SIGTERM: only the SIGKILL at the end of 4 s stops it */
    afx_pod_cmd("fg", "Always", 4, "trap '' TERM; while true; do sleep 1; done");
    json_decref(afx_wait_ready("fg", 60000));
    t0 = test_now_ms();
    status = t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/fg?propagationPolicy=Foreground",
                    NULL, NULL, &resp, NULL);
    CHECKF(status == 200, "DELETE: %d %s", status, resp ? resp : "");
    free(resp);
    usleep(1500 * 1000);
    p = afx_pod_get("fg");
    CHECKF(p != NULL, "the pod went before its node stopped it");
    CHECK(orc_json_get(p, "metadata.deletionTimestamp") != NULL);
    CHECKF(json_array_size(orc_json_get(p, "metadata.finalizers")) == 0,
           "the collector did not drop foregroundDeletion");
    json_decref(p);
    CHECK(afx_pod_gone("fg", 20000));
    CHECKF(test_now_ms() - t0 >= 3000, "gone after %llu ms, before its grace period ended",
           (unsigned long long)(test_now_ms() - t0));
}
