/* jobfx.h — the fixture of the Job and CronJob e2e tests: one `orcd
 * server` (its controller manager runs the Job and CronJob controllers)
 * with its embedded agent (real containers from the local registry), API
 * helpers, and a cleanup that releases and deletes every pod and removes
 * what the agent left on the host. */
#ifndef ORC_TESTS_E2E_JOBFX_H
#define ORC_TESTS_E2E_JOBFX_H

#include "controllers/job.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/agent/rtfx.h"
#include "tests/cli/run.h"

static struct cluster C;
static char node[64];
static char agent_dir[600];

static inline void dump_member_log(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    if (orc_file_read(C.m[0].log, 8u << 20, &b) != 0 || b.data == NULL) return;
    fprintf(stderr, "--- server log (end)\n%s\n---\n", b.len > 6000 ? b.data + b.len - 6000 : b.data);
    orc_buf_free(&b);
}

static inline json_t *get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&C, 0, "GET", path, NULL, &status);
    if (status == 200) return j;
    json_decref(j);
    return NULL;
}

static inline json_t *job_get(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/apis/batch/v1/namespaces/default/jobs/%s", name);
    return get(path);
}

/* The pods whose controller is Job `name` (a new reference: an array). */
static inline json_t *pods_of(const char *name)
{
    json_t *list = get("/api/v1/namespaces/default/pods"), *out = json_array(), *p;
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
            dump_member_log();
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
    json_t *l = get("/api/v1/namespaces/default/events"), *ev;
    size_t i;
    bool found = false;
    json_array_foreach (orc_json_get(l, "items"), i, ev)
        found = found || (!strcmp(orc_json_str(ev, "involvedObject.name") ?: "", name)
                          && !strcmp(orc_json_str(ev, "reason") ?: "", reason));
    json_decref(l);
    return found;
}

/* ---- setup and cleanup ---- */

static inline bool wait_node(unsigned timeout_ms)
{
    char path[256];
    uint64_t end = test_now_ms() + timeout_ms;
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    for (;;) {
        json_t *n = get(path);
        const char *ready = orc_json_str(json_array_get(orc_json_get(n, "status.conditions"), 0), "status");
        bool ok = ready && strcmp(ready, "True") == 0;
        json_decref(n);
        if (ok) return true;
        if (test_now_ms() >= end) return false;
        usleep(100 * 1000);
    }
}

/* Before the server stops: every CronJob and Job, then every pod
 * (finalizers dropped first, so a failed case leaves nothing held). */
static inline void stop_all(void *arg)
{
    (void)arg;
    if (C.m[0].pid <= 0) return;
    /* CronJobs and Jobs first, so that nothing makes pods again. */
    static const char *const owners[] = {"cronjobs", "jobs"};
    for (size_t k = 0; k < 2; k++) {
        char path[512];
        snprintf(path, sizeof path, "/apis/batch/v1/namespaces/default/%s", owners[k]);
        json_t *list = get(path), *o;
        size_t i;
        json_array_foreach (orc_json_get(list, "items"), i, o) {
            snprintf(path, sizeof path, "/apis/batch/v1/namespaces/default/%s/%s", owners[k],
                     orc_json_str(o, "metadata.name"));
            t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        json_decref(list);
    }
    uint64_t end = test_now_ms() + 20000;
    for (;;) {
        json_t *list = get("/api/v1/namespaces/default/pods"), *p;
        size_t i, left = json_array_size(orc_json_get(list, "items"));
        json_array_foreach (orc_json_get(list, "items"), i, p) {
            char path[512];
            snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s",
                     orc_json_str(p, "metadata.name"));
            if (json_array_size(orc_json_get(p, "metadata.finalizers")))
                t_http(&C, 0, "PATCH", path, "application/merge-patch+json",
                       "{\"metadata\":{\"finalizers\":null}}", NULL, NULL);
            if (!orc_json_get(p, "metadata.deletionTimestamp"))
                t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        json_decref(list);
        if (left == 0) return;
        if (test_now_ms() > end) {
            test_fail_later("pods not gone 20 s after delete (log %s)", C.m[0].log);
            return;
        }
        usleep(200 * 1000);
    }
}

static inline void nuke_node(void *arg)
{
    (void)arg;
    if (!node[0]) return;
    fx_nuke();
    fx_sh("'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; "
          "grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
          "xargs -r umount -l; true",
          t_bin("orcd"), node, agent_dir, agent_dir, agent_dir);
}

/* Starts the cluster and waits for its node. */
static inline void start_cluster(void)
{
    static const char *extra[] = {"--node-name", node, NULL};

    fx_setup(true, false);
    snprintf(node, sizeof node, "jobs-%d", (int)getpid());
    test_defer(nuke_node, NULL);
    cluster_init(&C, 1);
    C.with_agent = true;
    snprintf(agent_dir, sizeof agent_dir, "%.500s/agent", C.m[0].dir);
    snprintf(F.state, sizeof F.state, "%.500s/rt", agent_dir);
    snprintf(F.node, sizeof F.node, "%s", node);
    rt_node_tag(F.node, F.tag);
    cluster_start(&C, extra);
    test_defer(stop_all, NULL);
    CHECKF(wait_node(20000), "node %s did not register (log %s)", node, C.m[0].log);
}

#endif
