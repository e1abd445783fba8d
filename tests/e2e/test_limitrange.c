/* test_limitrange.c — LimitRange against a real `orcd server` with stock
 * kubectl: a container without requests or limits is stored with the
 * Container item's defaults (and the kubernetes.io/limit-ranger
 * annotation saying so), violations of min, max, maxLimitRequestRatio and
 * a Pod item are refused with 403 naming the limit, and a quota counts the
 * defaulted requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

#define KUBECTL(rc, err, ...) run_kubectl_rc(&c, rc, err, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, NULL, __VA_ARGS__))

static const char LIMITS[] = "apiVersion: v1\n"
                             "kind: LimitRange\n"
                             "metadata: {name: lr1, namespace: team}\n"
                             "spec:\n"
                             "  limits:\n"
                             "  - type: Container\n"
                             "    default: {cpu: 500m, memory: 256Mi}\n"
                             "    defaultRequest: {cpu: 100m}\n"
                             "    max: {cpu: \"1\", memory: 1Gi}\n"
                             "    min: {cpu: 50m}\n"
                             "    maxLimitRequestRatio: {cpu: \"10\"}\n"
                             "  - type: Pod\n"
                             "    max: {memory: 1536Mi}\n";

static char *run_pod(int want_rc, const char *name, const char *containers)
{
    char *arg = NULL, *err = NULL;

    CHECK(asprintf(&arg, "--overrides={\"spec\":{\"containers\":%s}}", containers) > 0);
    free(KUBECTL(want_rc, &err, "run", name, "-n", "team", "--image=nginx", arg));
    free(arg);
    return err;
}

static const char *s(const json_t *v, const char *path)
{
    const char *r = orc_json_str(v, path);
    return r ? r : "(absent)";
}

TEST_T(limitrange_defaults_and_violations, 60)
{
    char path[600], *err, *out;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL_OK("create", "namespace", "team");
    snprintf(path, sizeof path, "%s/lr.yaml", test_tmpdir());
    CHECK(orc_file_write(path, LIMITS, strlen(LIMITS), 0600) == 0);
    KUBECTL_OK("apply", "-f", path);

    /* defaults, visible in the stored pod */
    KUBECTL_OK("run", "plain", "-n", "team", "--image=nginx");
    out = KUBECTL(0, NULL, "get", "pod", "plain", "-n", "team", "-o", "json");
    json_t *pod = json_loads(out, 0, NULL);
    json_t *ctr = json_array_get(orc_json_get(pod, "spec.containers"), 0);
    CHECK_STR(s(ctr, "resources.limits.cpu"), "500m");
    CHECK_STR(s(ctr, "resources.limits.memory"), "256Mi");
    CHECK_STR(s(ctr, "resources.requests.cpu"), "100m");
    CHECK_STR(s(ctr, "resources.requests.memory"), "256Mi"); /* defaultRequest from default */
    CHECK_STR(s(json_object_get(orc_json_get(pod, "metadata.annotations"), "kubernetes.io/limit-ranger"), ""),
              "LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for "
              "container plain");
    json_decref(pod);
    free(out);

    /* a container's own values are kept */
    free(run_pod(0, "own", "[{\"name\":\"own\",\"image\":\"nginx\",\"resources\":{\"requests\":{\"cpu\":\"200m\"},"
                           "\"limits\":{\"cpu\":\"400m\"}}}]"));
    out = KUBECTL(0, NULL, "get", "pod", "own", "-n", "team", "-o", "jsonpath={.spec.containers[0].resources}");
    CHECK_HAS(out, "\"cpu\":\"400m\"");
    CHECK_HAS(out, "\"cpu\":\"200m\"");
    free(out);

    err = run_pod(1, "big", "[{\"name\":\"big\",\"image\":\"nginx\",\"resources\":{\"limits\":{\"cpu\":\"2\"},"
                            "\"requests\":{\"cpu\":\"10m\"}}}]");
    CHECK_HAS(err, "pods \"big\" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, "
                   "maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per "
                   "Container is 10, but provided ratio is 200.000000]");
    free(err);
    err = run_pod(1, "ratio", "[{\"name\":\"r\",\"image\":\"nginx\",\"resources\":{\"limits\":{\"cpu\":\"1\"},"
                              "\"requests\":{\"cpu\":\"50m\"}}}]");
    CHECK_HAS(err, "pods \"ratio\" is forbidden: cpu max limit to request ratio per Container is 10, but "
                   "provided ratio is 20.000000");
    free(err);
    err = run_pod(1, "pair", "[{\"name\":\"c\",\"image\":\"nginx\",\"resources\":{\"limits\":{\"memory\":\"1Gi\"}}},"
                             "{\"name\":\"d\",\"image\":\"nginx\",\"resources\":{\"limits\":{\"memory\":\"1Gi\"}}}]");
    CHECK_HAS(err, "maximum memory usage per Pod is 1536Mi, but limit is 2Gi");
    free(err);

    /* a quota counts what the defaults requested */
    KUBECTL_OK("create", "quota", "q", "-n", "team", "--hard=requests.cpu=400m");
    KUBECTL_OK("run", "third", "-n", "team", "--image=nginx");
    err = run_pod(1, "fourth", "[{\"name\":\"f\",\"image\":\"nginx\"}]");
    CHECK_HAS(err, "exceeded quota: q, requested: requests.cpu=100m, used: requests.cpu=400m, limited: "
                   "requests.cpu=400m");
    free(err);
}

/* A claim's resize is admitted by the LimitRange as its create is (as
 * Kubernetes' LimitRanger admits claim updates). */
TEST_T(limitrange_checks_a_claim_resize, 60)
{
    static const char claim_limits[] = "apiVersion: v1\n"
                                       "kind: LimitRange\n"
                                       "metadata: {name: storage, namespace: team}\n"
                                       "spec:\n"
                                       "  limits:\n"
                                       "  - type: PersistentVolumeClaim\n"
                                       "    max: {storage: 2Gi}\n";
    static const char claim[] = "apiVersion: v1\n"
                                "kind: PersistentVolumeClaim\n"
                                "metadata: {name: data, namespace: team}\n"
                                "spec:\n"
                                "  accessModes: [ReadWriteOnce]\n"
                                "  resources: {requests: {storage: 1Gi}}\n";
    char path[600], *err = NULL;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL_OK("create", "namespace", "team");
    snprintf(path, sizeof path, "%s/lr.yaml", test_tmpdir());
    CHECK(orc_file_write(path, claim_limits, strlen(claim_limits), 0600) == 0);
    KUBECTL_OK("apply", "-f", path);
    snprintf(path, sizeof path, "%s/claim.yaml", test_tmpdir());
    CHECK(orc_file_write(path, claim, strlen(claim), 0600) == 0);
    KUBECTL_OK("apply", "-f", path);
    free(KUBECTL(1, &err, "patch", "pvc", "data", "-n", "team", "--type=merge", "-p",
                 "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}}"));
    CHECK_HAS(err, "persistentvolumeclaims \"data\" is forbidden: maximum storage usage per PersistentVolumeClaim "
                   "is 2Gi, but request is 5Gi");
    free(err);
    char *out = KUBECTL(0, NULL, "get", "pvc", "data", "-n", "team", "-o",
                        "jsonpath={.spec.resources.requests.storage}");
    CHECK_STR(out, "1Gi");
    free(out);
}
