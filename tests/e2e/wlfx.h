/* wlfx.h — the fixture shared by the workload e2e tests (Deployments,
 * Jobs, the tour, the embedded agent) and the Deployment benchmark: one
 * `orcd server` whose embedded agent runs real containers from the local
 * registry (tests/agent/rtfx.h), API reads, waiting for a node, deleting
 * workloads until their pods are gone, and removing what the agent left
 * on the host. orctl runs through tests/cli/run.h.
 *
 * Use: fx_setup(...); wl_init("prefix", cleanup); cluster_start(&C, extra)
 * with "--node-name", node; wl_wait_node(node, ms). The cleanup deferred by
 * wl_init runs before the server stops, the node's removal after. */
#ifndef ORC_TESTS_E2E_WLFX_H
#define ORC_TESTS_E2E_WLFX_H

#include "lib/json.h"
#include "tests/agent/rtfx.h"
#include "tests/cli/run.h"

static struct cluster C;
static char node[64];      /* the embedded agent's node */
static char agent_dir[600]; /* MEMBERDIR/agent: the embedded agent's data */

/* The end of the server's log on stderr (a failing case's context). */
static inline void wl_dump_log(void)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_file_read(C.m[0].log, 8u << 20, &b) != 0 || b.data == NULL) return;
    fprintf(stderr, "--- server log (end)\n%s\n---\n", b.len > 6000 ? b.data + b.len - 6000 : b.data);
    orc_buf_free(&b);
}

/* False (saying why) unless the test may run containers: root. */
static inline bool root_or_skip(void)
{
    if (geteuid() == 0) return true;
    printf("# SKIPPED: the test runs containers: needs root\n");
    return false;
}

/* GET path as the admin: the object (a new reference) on 200, else NULL. */
static inline json_t *wl_get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&C, 0, "GET", path, NULL, &status);

    if (status == 200) return j;
    json_decref(j);
    return NULL;
}

static inline void wl_del(const char *path)
{
    t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
}

/* Creates pod default/NAME labelled app=APP on the node: one container of
 * the test image running `sh -c SCRIPT`, a second's grace to stop. */
static inline void wl_make_pod(const char *name, const char *app, const char *script)
{
    char body[2048], *reply = NULL;
    int status;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"main\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"]}]}}",
             name, app, node, F.image, script);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &reply, NULL);
    CHECKF(status == 201, "create pod %s: %d %s", name, status, reply ? reply : "");
    free(reply);
}

/* Node `name` is Ready and has its pod CIDR. */
static inline bool wl_node_ready(const char *name)
{
    char path[256];
    json_t *n;
    const char *ready;
    bool ok;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
    n = wl_get(path);
    ready = orc_json_str(json_array_get(orc_json_get(n, "status.conditions"), 0), "status");
    ok = ready && strcmp(ready, "True") == 0 && orc_json_str(n, "spec.podCIDR");
    json_decref(n);
    return ok;
}

/* Waits until node `name` is ready; fails the case (the log dumped) after
 * timeout_ms. */
static inline void wl_wait_node(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    while (!wl_node_ready(name)) {
        if (test_now_ms() >= end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "node %s did not register in %u ms (log %s)", name,
                      timeout_ms, C.m[0].log);
        }
        usleep(100 * 1000);
    }
}

/* Deletes every object listed at each of paths (a NULL-terminated list of
 * collection paths with "%s" for the namespace; owners before what they
 * make) in ns; pods lose their finalizers first so that nothing is held.
 * Returns how many pods were still listed. */
/* Waits until pod default/NAME is Running; fails the test (with the log) after timeout_ms. */
static inline void wl_wait_running(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    char path[256];

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    for (;;) {
        json_t *p = wl_get(path);
        const char *ph = orc_json_str(p, "status.phase");
        bool ok = ph && strcmp(ph, "Running") == 0;
        json_decref(p);
        if (ok) return;
        if (test_now_ms() >= end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s not running after %u ms", name, timeout_ms);
        }
        usleep(100 * 1000);
    }
}

static inline size_t wl_delete_round(const char *ns, const char *const *paths)
{
    size_t n = 0;

    for (size_t k = 0; paths[k]; k++) {
        char path[512], one[700];
        bool pods = strstr(paths[k], "/pods") != NULL;
        json_t *list, *item;
        size_t i;

        snprintf(path, sizeof path, paths[k], ns);
        if ((list = wl_get(path)) == NULL) continue;
        json_array_foreach (orc_json_get(list, "items"), i, item) {
            snprintf(one, sizeof one, "%s/%s", path, orc_json_str(item, "metadata.name"));
            if (pods) {
                n++;
                if (json_array_size(orc_json_get(item, "metadata.finalizers")))
                    t_http(&C, 0, "PATCH", one, "application/merge-patch+json",
                           "{\"metadata\":{\"finalizers\":null}}", NULL, NULL);
            }
            /* a pod's grace 1 s: the agent still stops its containers
             * before the pod goes, without 30 s for a pid 1 (sleep) that
             * ignores SIGTERM */
            if (pods) snprintf(one + strlen(one), sizeof one - strlen(one), "?gracePeriodSeconds=1");
            if (!orc_json_get(item, "metadata.deletionTimestamp")) wl_del(one);
        }
        json_decref(list);
    }
    return n;
}

/* Repeats wl_delete_round over the namespaces nss (NULL-terminated) until
 * no pod is listed (the agent stopped their containers). False after
 * timeout_ms. */
static inline bool wl_delete_all(const char *const *nss, const char *const *paths, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        size_t pods = 0;
        for (size_t i = 0; nss[i]; i++) pods += wl_delete_round(nss[i], paths);
        if (pods == 0) return true;
        if (test_now_ms() > end) return false;
        usleep(200 * 1000);
    }
}

/* As a cleanup before the server stops: wl_delete_all, failing the case
 * later (with the log) when pods stay. Nothing once the server is gone. */
static inline void wl_delete_all_at_end(const char *const *nss, const char *const *paths,
                                        unsigned timeout_ms)
{
    if (C.m[0].pid <= 0) return;
    if (!wl_delete_all(nss, paths, timeout_ms)) {
        wl_dump_log();
        test_fail_later("pods left %u ms after delete (log %s)", timeout_ms, C.m[0].log);
    }
}

/* A cleanup for wl_init: the pods of default, deleted within 20 s. */
static inline void wl_delete_default_pods(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

/* After the server stopped: whatever its agent left on the host. */
static inline void wl_nuke_node(void *arg)
{
    (void)arg;
    if (!node[0]) return;
    fx_nuke(); /* containers, overlays, cgroups (F.state, F.tag) */
    fx_sh("'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; "
          "grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
          "xargs -r umount -l; true",
          t_bin("orcd"), node, agent_dir, agent_dir, agent_dir);
}

/* After the member stopped: the end of its log (where a sanitizer reports
 * at exit) when it holds a report, before the harness removes the tmpdir. */
static inline void wl_show_sanitizer_report(void *arg)
{
    static char tail[16384];
    FILE *f = C.m[0].log[0] ? fopen(C.m[0].log, "r") : NULL;
    size_t n;

    (void)arg;
    if (f == NULL) return;
    if (fseek(f, -(long)(sizeof tail - 1), SEEK_END) != 0) rewind(f);
    n = fread(tail, 1, sizeof tail - 1, f);
    fclose(f);
    tail[n] = '\0';
    if (memmem(tail, n, "Sanitizer", 9) || memmem(tail, n, "runtime error:", 14))
        fprintf(stderr, "--- server log (end, with its sanitizer report)\n%s\n---\n", tail);
}

/* Names the node "<prefix>-<pid>", makes the cluster C of `members` whose
 * first member runs the embedded agent and points F (rtfx.h) at that
 * agent's runtime. `cleanup` (may be NULL) is deferred to run before the
 * servers stop; the node's removal and the sanitizer report run after.
 * Then cluster_start. */
static inline void wl_init_members(const char *prefix, void (*cleanup)(void *), int members)
{
    (void)test_tmpdir(); /* its removal, a cleanup too, comes after the others */
    snprintf(node, sizeof node, "%s-%d", prefix, (int)getpid());
    test_defer(wl_nuke_node, NULL);
    test_defer(wl_show_sanitizer_report, NULL);
    cluster_init(&C, members);
    C.with_agent = true;
    C.agents = 1;
    snprintf(agent_dir, sizeof agent_dir, "%.500s/agent", C.m[0].dir);
    snprintf(F.state, sizeof F.state, "%.500s/rt", agent_dir);
    snprintf(F.node, sizeof F.node, "%s", node);
    rt_node_tag(F.node, F.tag);
    if (cleanup) test_defer(cleanup, NULL);
}

/* The same with one member. */
static inline void wl_init(const char *prefix, void (*cleanup)(void *)) { wl_init_members(prefix, cleanup, 1); }

#endif
