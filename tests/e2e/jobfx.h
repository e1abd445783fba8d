/* jobfx.h — the Job and CronJob e2e tests' part of the workload fixture
 * (wlfx.h: one `orcd server` with its embedded agent): Job helpers, and a
 * cleanup that deletes every CronJob, Job and pod. */
#ifndef ORC_TESTS_E2E_JOBFX_H
#define ORC_TESTS_E2E_JOBFX_H

#include "controllers/job.h"
#include "lib/timeutil.h"
#include "tests/e2e/wlfx.h"

static inline json_t *job_get(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/apis/batch/v1/namespaces/default/jobs/%s", name);
    return wl_get(path);
}

/* The pods whose controller is Job `name` (a new reference: an array). */
static inline json_t *pods_of(const char *name)
{
    json_t *list = wl_get("/api/v1/namespaces/default/pods"), *out = json_array(), *p;
    size_t i;
    json_array_foreach (orc_json_get(list, "items"), i, p) {
        json_t *ref = json_array_get(orc_json_get(p, "metadata.ownerReferences"), 0);
        if (ref && !strcmp(orc_json_str(ref, "name") ?: "", name)) json_array_append(out, p);
    }
    json_decref(list);
    return out;
}

static inline const char *condition_reason(const json_t *job, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach (orc_json_get(job, "status.conditions"), i, c)
        if (!strcmp(orc_json_str(c, "type") ?: "", type)
            && !strcmp(orc_json_str(c, "status") ?: "", "True"))
            return orc_json_str(c, "reason") ?: "";
    return NULL;
}

/* Runs the controllers until Job `name` has condition `type` and its
 * counts settled (no pod left uncounted). A new reference. */
static inline json_t *wait_job(const char *name, const char *type, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    for (;;) {
        json_t *j = job_get(name);
        const json_t *unc = orc_json_get(j, "status.uncountedTerminatedPods");
        if (condition_reason(j, type) && json_object_size(unc) == 0) return j;
        if (test_now_ms() >= end) {
            char *s = j ? orc_json_dumps(orc_json_get(j, "status")) : NULL;
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "job %s not %s after %u ms; status %s", name, type,
                      timeout_ms, s ? s : "(no job)");
        }
        json_decref(j);
        test_sleep_ms(200);
    }
}

static inline void create_job(const char *name, const char *spec_extra, const char *cmd)
{
    char body[2048], *log = NULL;
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{%s\"template\":{\"spec\":{\"nodeName\":\"%s\",\"restartPolicy\":\"Never\","
             "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"%s\"]}]}}}}",
             name, spec_extra, node, F.image, cmd);
    int status = t_http(&C, 0, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, body, &log, NULL);
    CHECKF(status == 201, "create job %s: %d %s", name, status, log ? log : "");
    free(log);
}

static inline bool has_tracking_finalizer(const json_t *pod)
{
    size_t i;
    json_t *f;
    json_array_foreach (orc_json_get(pod, "metadata.finalizers"), i, f)
        if (!strcmp(json_string_value(f) ?: "", JOB_TRACKING_FINALIZER)) return true;
    return false;
}

static inline bool has_event(const char *name, const char *reason)
{
    json_t *l = wl_get("/api/v1/namespaces/default/events"), *ev;
    size_t i;
    bool found = false;
    json_array_foreach (orc_json_get(l, "items"), i, ev)
        found = found || (!strcmp(orc_json_str(ev, "involvedObject.name") ?: "", name)
                          && !strcmp(orc_json_str(ev, "reason") ?: "", reason));
    json_decref(l);
    return found;
}

/* ---- setup and cleanup ---- */

/* Before the server stops: every CronJob and Job, then every pod
 * (finalizers dropped first, so a failed case leaves nothing held). */
static inline void stop_all(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/apis/batch/v1/namespaces/%s/cronjobs",
                                        "/apis/batch/v1/namespaces/%s/jobs",
                                        "/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

/* Starts the cluster and waits for its node. */
static inline void start_cluster(void)
{
    static const char *extra[] = {"--node-name", node, NULL};

    fx_setup(true, false);
    wl_init("jobs", stop_all);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
}

#endif
