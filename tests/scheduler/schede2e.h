/* schede2e.h — a real `orcd server --no-agent` running only the scheduler,
 * and the Node and Pod objects the scheduler's end-to-end tests make through
 * its API (nodes made Ready by the test; no containers). One per test
 * program: it holds the program's cluster. */
#ifndef ORC_TESTS_SCHEDE2E_H
#define ORC_TESTS_SCHEDE2E_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c; /* static: the harness's end-of-case cleanups use it */
static int at; /* the member the test talks to */

static inline void start(void)
{
    /* The member's own scheduler, alone (no node lifecycle: these nodes
     * keep no Lease). */
    static const char *const only[] = {"--controllers", "scheduler", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, only);
    member_wait_ready(&c, 0, 10000);
}

static inline void post(const char *path, const char *body)
{
    int st;
    json_t *r = t_json(&c, at, "POST", path, body, &st);
    CHECKF(st == 201 || st == 200, "POST %s: %d %s", path, st, r ? orc_json_str(r, "message") : "");
    json_decref(r);
}

/* A Ready node labelled kubernetes.io/hostname=name (and `labels`, more
 * members: ",\"zone\":\"a\"" style, may be NULL) holding up to `pods`. */
static inline void add_node_with(const char *name, const char *cpu, const char *mem, const char *spec,
                          const char *labels, int pods)
{
    char body[2048], path[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":"
             "{\"kubernetes.io/hostname\":\"%s\"%s}},\"spec\":%s}",
             name, name, labels ? labels : "", spec ? spec : "{}");
    post("/api/v1/nodes", body);
    snprintf(body, sizeof body,
             "{\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%d\"},"
             "\"capacity\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%d\"},"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}",
             cpu, mem, pods, cpu, mem, pods);
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", name);
    CHECK_INT(t_http(&c, at, "PATCH", path, "application/merge-patch+json", body, NULL, NULL), ==, 200);
}

static inline void add_node(const char *name, const char *cpu, const char *mem, const char *spec)
{
    add_node_with(name, cpu, mem, spec, NULL, 110);
}

/* A pod asking for cpu; extra_spec more PodSpec members, meta_extra more
 * metadata members (",\"labels\":{...}" style; both may be NULL). */
static inline void add_pod_with(const char *name, const char *cpu, const char *extra_spec,
                         const char *meta_extra)
{
    char body[4096];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"%s},\"spec\":{"
             "\"terminationGracePeriodSeconds\":0,\"containers\":[{\"name\":\"c\",\"image\":\"x\","
             "\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]%s}}",
             name, meta_extra ? meta_extra : "", cpu, extra_spec ? extra_spec : "");
    post("/api/v1/namespaces/default/pods", body);
}

static inline void add_pod(const char *name, const char *cpu, const char *extra_spec)
{
    add_pod_with(name, cpu, extra_spec, NULL);
}

static inline json_t *get_pod(const char *name)
{
    char path[256];
    int st;
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    json_t *p = t_json(&c, at, "GET", path, NULL, &st);
    if (st != 200) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* The pod's node once bound within timeout_ms, else "" (malloc'd). */
static inline char *wait_bound(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    for (;;) {
        json_t *p = get_pod(name);
        const char *n = p ? orc_json_str(p, "spec.nodeName") : NULL;
        if (n && *n) {
            char *s = strdup(n);
            json_decref(p);
            return s;
        }
        json_decref(p);
        if (test_now_ms() > end) return strdup("");
        test_sleep_ms(50);
    }
}

/* The PodScheduled condition's message once it is False with `reason`,
 * within 10 s. */
static inline char *wait_not_scheduled(const char *name, const char *reason)
{
    uint64_t end = test_now_ms() + 10000;
    while (test_now_ms() < end) {
        json_t *p = get_pod(name), *cond;
        size_t i;
        json_array_foreach(orc_json_get(p, "status.conditions"), i, cond) {
            const char *t = orc_json_str(cond, "type"), *s = orc_json_str(cond, "status");
            if (t && s && !strcmp(t, "PodScheduled") && !strcmp(s, "False")) {
                CHECK_STR(orc_json_str(cond, "reason"), reason);
                char *m = strdup(orc_json_str(cond, "message"));
                json_decref(p);
                return m;
            }
        }
        json_decref(p);
        test_sleep_ms(50);
    }
    test_fail(__FILE__, __LINE__, "pod %s never marked %s", name, reason);
}

static inline char *wait_unschedulable(const char *name)
{
    return wait_not_scheduled(name, "Unschedulable");
}

/* An event with this reason about the pod, whose message contains `text`. */
static inline bool has_event(const char *pod, const char *reason, const char *text)
{
    uint64_t end = test_now_ms() + 10000;
    while (test_now_ms() < end) {
        int st;
        json_t *list = t_json(&c, at, "GET", "/api/v1/namespaces/default/events", NULL, &st), *e;
        size_t i;
        bool found = false;
        json_array_foreach(json_object_get(list, "items"), i, e) {
            const char *n = orc_json_str(e, "involvedObject.name"), *r = orc_json_str(e, "reason");
            const char *m = orc_json_str(e, "message");
            if (n && r && m && !strcmp(n, pod) && !strcmp(r, reason) && strstr(m, text)) found = true;
        }
        json_decref(list);
        if (found) return true;
        test_sleep_ms(100);
    }
    return false;
}

#endif
