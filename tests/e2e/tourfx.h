/* tourfx.h — the fixtures of README's "A 5-minute tour" shared by its orctl
 * (test_tour.c) and stock kubectl (test_tour_kubectl.c) runs: the docs'
 * manifests, a registry with the stand-in images of scripts/dev-images.sh,
 * one `orcd server` with its embedded agent pulling through it, and waits
 * on pods and Jobs read through the API. The client under test is the
 * including file's. */
#ifndef ORC_TESTS_E2E_TOURFX_H
#define ORC_TESTS_E2E_TOURFX_H

#include <stdarg.h>

#include "controllers/ctl.h"
#include "tests/e2e/wlfx.h"

#define DEP_YAML "manifests/examples/nginx-deployment.yaml"
#define WEB_YAML "manifests/examples/web.yaml"
#define DS_YAML "manifests/examples/daemonset.yaml"
#define JOB_YAML "manifests/examples/job.yaml"
#define CRON_YAML "manifests/examples/cronjob.yaml"
#define MY_NGINX_YAML "manifests/examples/run-my-nginx.yaml"
#define NGINX_SVC_YAML "manifests/examples/nginx-svc.yaml"
#define CURL_YAML "manifests/examples/curl.yaml"

/* What the docs print for bpi(2000): 2,000 significant digits. */
#define PI_HEAD "3.14159265358979323846264338327950288419716939937510"
#define PI_TAIL "33904780275901\n"

static char regfile[700]; /* the registries.yaml dev-images.sh wrote, copied */

/* ---- which parts can run ---- */

static inline bool registered(const char *name)
{
    for (size_t i = 0; ctl_all[i]; i++)
        if (strcmp(ctl_all[i]->name, name) == 0) return true;
    return false;
}

/* True when every controller named (NULL-terminated) runs in orcd; else
 * says what the part waits for. */
static inline bool needs(const char *part, ...)
{
    char missing[256] = "";
    const char *name;
    va_list ap;

    va_start(ap, part);
    while ((name = va_arg(ap, const char *)) != NULL)
        if (!registered(name))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %s", name);
    va_end(ap);
    if (!missing[0]) return true;
    printf("# WAITING: the tour's %s part needs controller(s)%s in ctl_all[]; not checked yet\n", part,
           missing);
    return false;
}


/* ---- the cluster ---- */

static inline json_t *get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline json_t *get(const char *fmt, ...)
{
    char path[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return wl_get(path);
}

/* Before the server stops: controllers first (they would recreate pods),
 * then pods and claims, until the agent has stopped every container. */
static inline void cleanup_workloads(void *arg)
{
    static const char *const nss[] = {"default", "kube-system", NULL};
    static const char *const paths[] = {
        "/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers",
        "/apis/batch/v1/namespaces/%s/cronjobs",     "/apis/batch/v1/namespaces/%s/jobs",
        "/apis/apps/v1/namespaces/%s/deployments",   "/apis/apps/v1/namespaces/%s/replicasets",
        "/apis/apps/v1/namespaces/%s/statefulsets",  "/apis/apps/v1/namespaces/%s/daemonsets",
        "/api/v1/namespaces/%s/pods",                "/api/v1/namespaces/%s/persistentvolumeclaims",
        NULL,
    };
    (void)arg;
    wl_delete_all_at_end(nss, paths, 45000);
}

/* Runs scripts/dev-images.sh as `make dev` does, against the test's own
 * registry (it reuses a registry that answers); the built layout is kept
 * in $O/testdata between runs. */
static inline void push_stand_ins(void)
{
    char cmd[4096], log[700], out[700];
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(log, sizeof log, "%s/dev-images.log", test_tmpdir());
    snprintf(out, sizeof out, "%s/dev-images.out", test_tmpdir());
    snprintf(cmd, sizeof cmd,
             "ORC_DEV_REGISTRY='%s' ORC_DEV_IMAGES_DIR='%s/dev-images' sh scripts/dev-images.sh >'%s' "
             "2>'%s' && cp \"$(tail -n 1 '%s')\" '%s/registries.yaml'",
             F.reg.host, t_bin("testdata"), out, log, out, test_tmpdir());
    char *argv[] = {"sh", "-c", cmd, NULL};
    if (t_run(argv, NULL) != 0) {
        orc_file_read(log, 1u << 20, &b);
        test_fail(__FILE__, __LINE__, "scripts/dev-images.sh failed:\n%s", b.data ? b.data : "");
    }
    snprintf(regfile, sizeof regfile, "%s/registries.yaml", test_tmpdir());
    CHECK(orc_file_read(regfile, 1u << 20, &b) == 0 && b.data);
    CHECKF(strstr(b.data, "registry.k8s.io:") && strstr(b.data, F.reg.url), "registries.yaml:\n%s", b.data);
    orc_buf_free(&b);
}

/* A registry with the stand-ins, and a one-member cluster with its
 * embedded agent pulling through it; `more` (NULL-terminated, up to 8,
 * may be NULL): more flags for `orcd server`. */
static inline void tour_start_with(const char *const *more)
{
    static char cidr[32];
    const char *extra[16] = {"--node-name", node, "--registries", regfile, "--cluster-cidr", cidr};
    size_t n = 6;

    for (size_t i = 0; more && more[i] && n < 14; i++) extra[n++] = more[i];
    extra[n] = NULL;
    /* a pod CIDR of its own (as agentfx.h): parallel runs never share routes */
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));

    fx_setup(false, false);
    registry_start(&F.reg, false);
    push_stand_ins();
    wl_init("tour", cleanup_workloads);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
}

static inline void tour_start(void) { tour_start_with(NULL); }

/* The manifest's text with one string replaced (an edited copy, as a user
 * edits the file before `orctl apply -f -`). */
static inline char *manifest_with(const char *path, const char *from, const char *to)
{
    char *text = run_read_file(path), *at = strstr(text, from), *out;
    size_t n;

    CHECKF(at, "%s lacks \"%s\"", path, from);
    n = strlen(text) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    CHECK(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    free(text);
    return out;
}

/* ---- pods ---- */

static inline bool pod_ready(const json_t *p)
{
    const char *phase = orc_json_str(p, "status.phase");
    json_t *cs;
    size_t i;

    if (!phase || strcmp(phase, "Running") != 0 || orc_json_get(p, "metadata.deletionTimestamp")) return false;
    json_array_foreach (orc_json_get(p, "status.containerStatuses"), i, cs)
        if (!json_is_true(json_object_get(cs, "ready"))) return false;
    return json_array_size(orc_json_get(p, "status.containerStatuses")) > 0;
}

/* The pods of ns matching the label selector (URL-encoded). */
static inline json_t *pods(const char *ns, const char *selector)
{
    json_t *l = get("/api/v1/namespaces/%s/pods?labelSelector=%s", ns, selector);
    json_t *items = json_incref(orc_json_get(l, "items"));

    json_decref(l);
    return items ? items : json_array();
}

/* Counts: all listed, not terminating, Running and ready (on our node). */
struct census {
    size_t all, live, ready, elsewhere;
};

static inline struct census count(const char *ns, const char *selector)
{
    struct census c = {0};
    json_t *items = pods(ns, selector), *p;
    size_t i;

    json_array_foreach (items, i, p) {
        const char *on = orc_json_str(p, "spec.nodeName");
        c.all++;
        c.live += orc_json_get(p, "metadata.deletionTimestamp") == NULL;
        c.ready += pod_ready(p);
        c.elsewhere += pod_ready(p) && (!on || strcmp(on, node) != 0);
    }
    json_decref(items);
    return c;
}

/* Waits until exactly `n` pods match, not terminating and all ready on our
 * node (n = 0: until none is listed at all). */
static inline void wait_pods(const char *ns, const char *selector, size_t n, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    struct census c;

    for (;;) {
        c = count(ns, selector);
        if (n == 0 ? c.all == 0 : (c.live == n && c.ready == n && c.elsewhere == 0)) return;
        if (test_now_ms() > end) break;
        usleep(200 * 1000);
    }
    wl_dump_log();
    json_t *items = pods(ns, selector);
    char *s = orc_json_dumps(items);
    test_fail(__FILE__, __LINE__, "%s pods %s: %zu listed, %zu live, %zu ready (%zu elsewhere), want %zu after %u ms:\n%.6000s",
              ns, selector, c.all, c.live, c.ready, c.elsewhere, n, timeout_ms, s ? s : "");
}

/* The name of a live, ready pod matching (malloc'd); fails when none. */
static inline char *a_pod(const char *ns, const char *selector)
{
    json_t *items = pods(ns, selector), *p;
    char *name = NULL;
    size_t i;

    json_array_foreach (items, i, p)
        if (!name && pod_ready(p)) name = strdup(orc_json_str(p, "metadata.name"));
    json_decref(items);
    CHECKF(name, "no ready pod in %s matches %s", ns, selector);
    return name;
}

/* Every live pod matching runs `image` in its first container. */
static inline void check_images(const char *ns, const char *selector, const char *image)
{
    json_t *items = pods(ns, selector), *p;
    size_t i;

    json_array_foreach (items, i, p) {
        if (orc_json_get(p, "metadata.deletionTimestamp")) continue;
        const char *img = orc_json_str(json_array_get(orc_json_get(p, "spec.containers"), 0), "image");
        CHECKF(img && strcmp(img, image) == 0, "pod %s runs %s, not %s", orc_json_str(p, "metadata.name"),
               img ? img : "(none)", image);
    }
    json_decref(items);
}

static inline const char *phase_of(const char *ns, const char *name, char *buf, size_t n)
{
    json_t *p = get("/api/v1/namespaces/%s/pods/%s", ns, name);

    snprintf(buf, n, "%s", orc_json_str(p, "status.phase") ? orc_json_str(p, "status.phase") : "");
    json_decref(p);
    return buf;
}

static inline void wait_phase(const char *ns, const char *name, const char *want, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    char ph[32];

    while (strcmp(phase_of(ns, name, ph, sizeof ph), want) != 0) {
        if (test_now_ms() > end) {
            json_t *p = get("/api/v1/namespaces/%s/pods/%s", ns, name);
            char *s = p ? orc_json_dumps(orc_json_get(p, "status")) : NULL;
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s is %s, not %s, after %u ms: %s", name, ph, want, timeout_ms,
                      s ? s : "(no pod)");
        }
        usleep(200 * 1000);
    }
}

static inline void wait_ready(const char *ns, const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *p = get("/api/v1/namespaces/%s/pods/%s", ns, name);
        bool ok = p && pod_ready(p);
        char *s = ok || test_now_ms() <= end ? NULL : orc_json_dumps(orc_json_get(p, "status"));
        json_decref(p);
        if (ok) return;
        if (s) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s/%s not ready after %u ms: %s", ns, name, timeout_ms, s);
        }
        usleep(200 * 1000);
    }
}

static inline void check_pi(const char *log)
{
    CHECKF(strlen(log) == 2002 && strncmp(log, PI_HEAD, strlen(PI_HEAD)) == 0
               && strcmp(log + strlen(log) - strlen(PI_TAIL), PI_TAIL) == 0,
           "not pi to 2,000 digits (%zu bytes): %.80s...", strlen(log), log);
}

static inline char *uid_of(const char *ns, const char *pod)
{
    json_t *p = get("/api/v1/namespaces/%s/pods/%s", ns, pod);
    char *uid = orc_json_str(p, "metadata.uid") ? strdup(orc_json_str(p, "metadata.uid")) : NULL;

    json_decref(p);
    return uid;
}

/* Waits until ns/name is a ready pod whose uid is not `old`. */
static inline void wait_replaced(const char *ns, const char *name, const char *old, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *p = get("/api/v1/namespaces/%s/pods/%s", ns, name);
        const char *uid = orc_json_str(p, "metadata.uid");
        bool ok = p && pod_ready(p) && uid && strcmp(uid, old) != 0;
        json_decref(p);
        if (ok) return;
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "%s/%s not back after %u ms", ns, name, timeout_ms);
        }
        usleep(200 * 1000);
    }
}

static inline json_t *wait_job_complete(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *j = get("/apis/batch/v1/namespaces/default/jobs/%s", name), *c;
        size_t i;
        json_array_foreach (orc_json_get(j, "status.conditions"), i, c)
            if (strcmp(orc_json_str(c, "type") ? orc_json_str(c, "type") : "", "Complete") == 0
                && strcmp(orc_json_str(c, "status") ? orc_json_str(c, "status") : "", "True") == 0)
                return j;
        if (test_now_ms() > end) {
            char *s = j ? orc_json_dumps(orc_json_get(j, "status")) : NULL;
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "job %s not Complete after %u ms: %s", name, timeout_ms,
                      s ? s : "(no job)");
        }
        json_decref(j);
        usleep(300 * 1000);
    }
}

#endif
