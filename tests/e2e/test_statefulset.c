/* test_statefulset.c — a StatefulSet on a real cluster with a real node
 * agent and containers: ordinals come up in order, each with its own claim
 * provisioned by local-path; a pod deleted comes back with the same name and
 * finds its volume's data; scale down removes the highest ordinal and keeps
 * its claim; a rolling update with a partition updates only the ordinals at
 * or above it. Claims released after their set is gone lose their data
 * (reclaimPolicy Delete). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "tests/agent/agentfx.h"

#define NS_PATH "/apis/apps/v1/namespaces/default/statefulsets"
#define PVC_PATH "/api/v1/namespaces/default/persistentvolumeclaims"

/* Pods the scheduler has not placed yet are bound to the node by the test
 * after a while, so the test also runs where no scheduler runs (it never
 * races one that does: a pod it binds twice is refused with 409). */
static void bind_pending(void)
{
    json_t *list = afx_get("/api/v1/namespaces/default/pods"), *p;
    size_t i;

    json_array_foreach (orc_json_get(list, "items"), i, p) {
        const char *name = orc_json_str(p, "metadata.name");
        const char *created = orc_json_str(p, "metadata.creationTimestamp");
        int64_t t = 0;
        char path[256], body[512];

        if (name == NULL || orc_json_str(p, "spec.nodeName") || orc_json_get(p, "metadata.deletionTimestamp"))
            continue;
        if (created && orc_time_parse(created, &t) == 0 && orc_time_unix() - t < 1) continue;
        snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/binding", name);
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"%s\"},"
                 "\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"%s\"}}",
                 name, A.node);
        t_http(&AC, 0, "POST", path, "application/json", body, NULL, NULL);
    }
    json_decref(list);
}

/* The end of the server's log (its controllers') on stderr. */
static void dump_server_log(void)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_file_read(AC.m[0].log, 8u << 20, &b) != 0 || b.data == NULL) return;
    fprintf(stderr, "--- server log (end)\n%s\n---\n", b.len > 6000 ? b.data + b.len - 6000 : b.data);
    orc_buf_free(&b);
}

static json_t *sts_get(void)
{
    return afx_get(NS_PATH "/web");
}

static void sts_patch(const char *patch)
{
    char *resp = NULL;
    int status = t_http(&AC, 0, "PATCH", NS_PATH "/web", "application/merge-patch+json", patch,
                        &resp, NULL);
    CHECKF(status == 200, "patch: %d %s", status, resp ? resp : "");
    free(resp);
}

static bool ready(const json_t *pod) { return pod && afx_running_ready(pod, NULL); }

static bool gone(const char *name)
{
    json_t *p = afx_pod_get(name);
    json_decref(p);
    return p == NULL;
}

/* The OrderedReady invariant seen from outside: web-i exists only once
 * web-(i-1) is Running and Ready. */
static void check_order(int replicas)
{
    json_t *prev = NULL;

    for (int i = 0; i < replicas; i++) {
        char name[16];
        json_t *p;

        snprintf(name, sizeof name, "web-%d", i);
        p = afx_pod_get(name);
        if (i > 0 && p)
            CHECKF(prev && ready(prev), "web-%d exists while web-%d is not ready", i, i - 1);
        json_decref(prev);
        prev = p;
    }
    json_decref(prev);
}

/* Waits until web-0..n-1 are Running and Ready (and web-n does not exist),
 * checking the order on the way. */
static void wait_ready_set(int n, unsigned timeout_ms, bool ordered)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        int ok = 0;
        char name[16];

        bind_pending();
        if (ordered) check_order(n);
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "web-%d", i);
            json_t *p = afx_pod_get(name);
            ok += ready(p) && !orc_json_get(p, "metadata.deletionTimestamp");
            json_decref(p);
        }
        snprintf(name, sizeof name, "web-%d", n);
        if (ok == n && gone(name)) return;
        if (test_now_ms() >= end) {
            json_t *s = sts_get();
            char *st = s ? orc_json_dumps(orc_json_get(s, "status")) : NULL;
            afx_dump_log();
            dump_server_log();
            test_fail(__FILE__, __LINE__, "%d of %d pods ready after %u ms; status %s", ok, n,
                      timeout_ms, st ? st : "(no set)");
        }
        usleep(100 * 1000);
    }
}

/* Waits until the pod's log is `want` (a container Ready may not have
 * written it yet). */
static void check_log(const char *name, const char *want)
{
    uint64_t end = test_now_ms() + 10000;
    char *log;

    while ((log = afx_logs(name, NULL)) == NULL || strcmp(log, want) != 0) {
        if (test_now_ms() >= end) break;
        free(log);
        usleep(100 * 1000);
    }
    CHECK_STR(log, want);
    free(log);
}

/* The set's pods, claims and volumes go before the agent is stopped. */
static void cleanup(void *arg)
{
    (void)arg;
    if (AC.m[0].pid <= 0) return;
    t_http(&AC, 0, "DELETE", NS_PATH "/web", NULL, NULL, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/web-%d", i);
        t_http(&AC, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        snprintf(path, sizeof path, PVC_PATH "/data-web-%d", i);
        t_http(&AC, 0, "DELETE", path, NULL, NULL, NULL, NULL);
    }
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "web-%d", i);
        afx_pod_gone(name, 10000);
    }
}

static const char *set_json(char *buf, size_t n, int replicas, const char *policy)
{
    snprintf(buf, n,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\"},"
             "\"spec\":{\"replicas\":%d,\"serviceName\":\"web\",\"podManagementPolicy\":\"%s\","
             "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
             "\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"n=$(cat /data/boots 2>/dev/null || echo 0); n=$((n+1)); "
             "echo $n > /data/boots; echo boots=$n host=$(hostname); trap 'exit 0' TERM; "
             "while true; do sleep 0.1; done\"],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}},"
             "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},\"spec\":{"
             "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"16Mi\"}}}}]}}",
             replicas, policy, F.image);
    return buf;
}

static json_t *wait_claim_bound(const char *name, unsigned timeout_ms)
{
    char path[256];
    uint64_t end = test_now_ms() + timeout_ms;

    snprintf(path, sizeof path, PVC_PATH "/%s", name);
    for (;;) {
        json_t *c = afx_get(path);
        const char *ph = orc_json_str(c, "status.phase");
        if (ph && strcmp(ph, "Bound") == 0) return c;
        CHECKF(test_now_ms() < end, "claim %s not bound (phase %s)", name, ph ? ph : "none");
        json_decref(c);
        usleep(100 * 1000);
    }
}

static const char *label(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(orc_json_get(obj, "metadata.labels"), key));
}

TEST_T(ordered_identity_storage_scale_and_partitioned_update, 150)
{
    char body[4096], path[512], want[64];
    json_t *p, *s, *c, *pv;
    char uid[64];

    afx_setup();
    test_defer(cleanup, NULL);
    uint64_t t0 = test_now_ms();
    afx_create(NS_PATH, set_json(body, sizeof body, 3, "OrderedReady"));

    /* ordinals in order, each with its identity and its claim */
    wait_ready_set(3, 60000, true);
    fprintf(stderr, "# 3 ordered replicas with provisioned claims ready in %llu ms\n",
           (unsigned long long)(test_now_ms() - t0));
    for (int i = 0; i < 3; i++) {
        char name[16], claim[32], idx[8];
        snprintf(name, sizeof name, "web-%d", i);
        snprintf(claim, sizeof claim, "data-web-%d", i);
        snprintf(idx, sizeof idx, "%d", i);
        p = afx_pod_get(name);
        CHECK_STR(orc_json_str(p, "spec.hostname"), name);
        CHECK_STR(orc_json_str(p, "spec.subdomain"), "web");
        CHECK_STR(label(p, "statefulset.kubernetes.io/pod-name"), name);
        CHECK_STR(label(p, "apps.kubernetes.io/pod-index"), idx);
        CHECK(label(p, "controller-revision-hash") != NULL);
        json_decref(p);
        c = wait_claim_bound(claim, 10000);
        snprintf(path, sizeof path, "/api/v1/persistentvolumes/%s", orc_json_str(c, "spec.volumeName"));
        pv = afx_get(path);
        CHECK(pv != NULL);
        CHECK_STR(orc_json_str(pv, "status.phase"), "Bound");
        CHECK(strncmp(orc_json_str(pv, "spec.hostPath.path"), A.dir, strlen(A.dir)) == 0);
        json_decref(pv);
        json_decref(c);
        snprintf(want, sizeof want, "boots=1 host=%s\n", name);
        check_log(name, want);
    }
    s = sts_get();
    int64_t v = -1;
    CHECK(orc_json_int(s, "status.readyReplicas", &v) == 0 && v == 3);
    CHECK_STR(orc_json_str(s, "status.currentRevision"), orc_json_str(s, "status.updateRevision"));
    json_decref(s);

    /* a pod deleted comes back with its name and finds its data */
    p = afx_pod_get("web-1");
    snprintf(uid, sizeof uid, "%s", orc_json_str(p, "metadata.uid"));
    json_decref(p);
    t0 = test_now_ms();
    CHECK_INT(t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/web-1", NULL, NULL, NULL, NULL), ==, 200);
    uint64_t end = test_now_ms() + 40000;
    for (;;) {
        bind_pending();
        p = afx_pod_get("web-1");
        if (p && strcmp(orc_json_str(p, "metadata.uid"), uid) != 0 && ready(p)) break;
        json_decref(p);
        CHECKF(test_now_ms() < end, "web-1 not back");
        usleep(100 * 1000);
    }
    json_decref(p);
    fprintf(stderr, "# web-1 deleted and back ready in %llu ms\n", (unsigned long long)(test_now_ms() - t0));
    check_log("web-1", "boots=2 host=web-1\n");

    /* scale down: the highest ordinal goes, its claim stays */
    sts_patch("{\"spec\":{\"replicas\":2}}");
    wait_ready_set(2, 30000, false);
    c = wait_claim_bound("data-web-2", 1000);
    json_decref(c);

    /* a rolling update with partition 1: web-1 updated, web-0 kept */
    t0 = test_now_ms();
    sts_patch("{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
              "{\"partition\":1}},\"template\":{\"metadata\":{\"annotations\":{\"v\":\"2\"}}}}}");
    end = test_now_ms() + 40000;
    for (;;) {
        const char *upd, *cur;
        json_t *p0, *p1;
        bool done;

        bind_pending();
        s = sts_get();
        upd = orc_json_str(s, "status.updateRevision");
        cur = orc_json_str(s, "status.currentRevision");
        p0 = afx_pod_get("web-0");
        p1 = afx_pod_get("web-1");
        done = upd && cur && strcmp(upd, cur) != 0 && ready(p1) && ready(p0)
               && label(p1, "controller-revision-hash")
               && strcmp(label(p1, "controller-revision-hash"), upd) == 0;
        if (done) {
            CHECK_STR(label(p0, "controller-revision-hash"), cur);
            CHECK_STR(json_string_value(json_object_get(orc_json_get(p1, "metadata.annotations"), "v")), "2");
            CHECK(json_object_get(orc_json_get(p0, "metadata.annotations"), "v") == NULL);
        }
        json_decref(p0);
        json_decref(p1);
        json_decref(s);
        if (done) break;
        CHECKF(test_now_ms() < end, "web-1 not updated");
        usleep(100 * 1000);
    }
    fprintf(stderr, "# partitioned update of web-1 done in %llu ms\n", (unsigned long long)(test_now_ms() - t0));
    check_log("web-1", "boots=3 host=web-1\n");
}

static json_t *wait_get(const char *path, const char *field, const char *value, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *o = afx_get(path);
        const char *v = orc_json_str(o, field);
        if (o && (value == NULL || (v && strcmp(v, value) == 0))) return o;
        if (test_now_ms() >= end) {
            dump_server_log();
            test_fail(__FILE__, __LINE__, "%s: %s is %s, not %s", path, field, v ? v : "(none)",
                      value ? value : "(any)");
        }
        json_decref(o);
        usleep(100 * 1000);
    }
}

static bool wait_gone(const char *path, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    json_t *o;

    while ((o = afx_get(path)) != NULL && test_now_ms() < end) {
        json_decref(o);
        usleep(100 * 1000);
    }
    json_decref(o);
    return o == NULL;
}

static void storage_cleanup(void *arg)
{
    (void)arg;
    if (AC.m[0].pid <= 0) return;
    t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/user", NULL, NULL, NULL, NULL);
    afx_pod_gone("user", 10000);
    t_http(&AC, 0, "DELETE", PVC_PATH "/dyn", NULL, NULL, NULL, NULL);
    t_http(&AC, 0, "DELETE", PVC_PATH "/fixed", NULL, NULL, NULL, NULL);
    t_http(&AC, 0, "DELETE", "/api/v1/persistentvolumes/static-pv", NULL, NULL, NULL, NULL);
}

TEST_T(local_path_provisioning_static_binding_and_reclaim, 90)
{
    char body[2048], path[512], dir[700], hostdir[700];
    json_t *o;
    struct stat st;

    afx_setup();
    test_defer(storage_cleanup, NULL);
    o = afx_get("/apis/storage.k8s.io/v1/storageclasses/local-path");
    CHECK(o != NULL);
    CHECK_STR(orc_json_str(o, "provisioner"), "rancher.io/local-path");
    json_decref(o);

    /* a claim of the default class waits for its first consumer */
    afx_create(PVC_PATH, "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
                         "\"metadata\":{\"name\":\"dyn\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
                         "\"resources\":{\"requests\":{\"storage\":\"8Mi\"}}}}");
    test_sleep_ms(500);
    o = wait_get(PVC_PATH "/dyn", "status.phase", "Pending", 5000);
    json_decref(o);
    /* a static PV (Retain) and a claim of no class that binds it */
    snprintf(hostdir, sizeof hostdir, "%s/static", test_tmpdir());
    CHECK(orc_mkdirs(hostdir, 0777) == 0);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"static-pv\"},"
             "\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"],"
             "\"persistentVolumeReclaimPolicy\":\"Retain\",\"storageClassName\":\"\","
             "\"hostPath\":{\"path\":\"%s\",\"type\":\"Directory\"}}}", hostdir);
    afx_create("/api/v1/persistentvolumes", body);
    afx_create(PVC_PATH, "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
                         "\"metadata\":{\"name\":\"fixed\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
                         "\"storageClassName\":\"\",\"resources\":{\"requests\":{\"storage\":\"100Mi\"}}}}");
    o = wait_get(PVC_PATH "/fixed", "status.phase", "Bound", 10000);
    CHECK_STR(orc_json_str(o, "spec.volumeName"), "static-pv");
    json_decref(o);
    o = wait_get("/api/v1/persistentvolumes/static-pv", "status.phase", "Bound", 5000);
    json_decref(o);

    /* a pod using both: the dynamic claim is provisioned on its node */
    snprintf(body, sizeof body,
             "{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"echo a > /dyn/f; echo b > /fixed/f; trap 'exit 0' TERM; "
             "while true; do sleep 0.1; done\"],\"volumeMounts\":[{\"name\":\"d\",\"mountPath\":\"/dyn\"},"
             "{\"name\":\"f\",\"mountPath\":\"/fixed\"}]}],\"volumes\":["
             "{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"dyn\"}},"
             "{\"name\":\"f\",\"persistentVolumeClaim\":{\"claimName\":\"fixed\"}}]}", F.image);
    afx_pod("user", body);
    json_decref(afx_wait_ready("user", 30000));
    o = wait_get(PVC_PATH "/dyn", "status.phase", "Bound", 5000);
    snprintf(path, sizeof path, "/api/v1/persistentvolumes/%s", orc_json_str(o, "spec.volumeName"));
    json_decref(o);
    o = wait_get(path, "status.phase", "Bound", 5000);
    CHECK_STR(orc_json_str(o, "spec.persistentVolumeReclaimPolicy"), "Delete");
    const json_t *terms = orc_json_get(o, "spec.nodeAffinity.required.nodeSelectorTerms");
    const json_t *expr = json_array_get(json_object_get(json_array_get(terms, 0), "matchExpressions"), 0);
    CHECK_STR(orc_json_str(expr, "key"), "kubernetes.io/hostname");
    CHECK_STR(json_string_value(json_array_get(json_object_get(expr, "values"), 0)), A.node);
    snprintf(dir, sizeof dir, "%s", orc_json_str(o, "spec.hostPath.path"));
    json_decref(o);
    char want[800];
    snprintf(want, sizeof want, "%s/volumes/", A.dir);
    CHECKF(strncmp(dir, want, strlen(want)) == 0, "volume at %s", dir);
    snprintf(want, sizeof want, "%s/f", dir);
    for (int i = 0; i < 50 && stat(want, &st) != 0; i++) usleep(100 * 1000);
    CHECKF(stat(want, &st) == 0, "%s not written", want);
    snprintf(want, sizeof want, "%s/f", hostdir);
    CHECKF(stat(want, &st) == 0, "%s not written", want);

    /* the pod and both claims go: Delete reclaims the local-path volume
     * (directory and PV), Retain keeps the static one Released */
    CHECK_INT(t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/user", NULL, NULL, NULL, NULL), ==, 200);
    CHECK(afx_pod_gone("user", 15000));
    CHECK_INT(t_http(&AC, 0, "DELETE", PVC_PATH "/dyn", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http(&AC, 0, "DELETE", PVC_PATH "/fixed", NULL, NULL, NULL, NULL), ==, 200);
    if (!wait_gone(path, 15000)) dump_server_log();
    CHECKF(wait_gone(path, 0), "%s not reclaimed", path);
    CHECKF(stat(dir, &st) != 0, "%s still there", dir);
    o = wait_get("/api/v1/persistentvolumes/static-pv", "status.phase", "Released", 5000);
    json_decref(o);
    CHECK(stat(want, &st) == 0);
}
