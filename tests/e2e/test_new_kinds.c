/* test_new_kinds.c — a real `orcd server` serves the kinds issue 8 adds:
 * PriorityClass, ControllerRevision, PersistentVolume(Claim), StorageClass,
 * PodDisruptionBudget (discovery, scope, defaults, status subresources,
 * validation) and pods/eviction honouring a disruption budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define MERGE "application/merge-patch+json"
#define PODS "/api/v1/namespaces/default/pods"
#define PDBS "/apis/policy/v1/namespaces/default/poddisruptionbudgets"

static struct cluster c;

static void start_one(void)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
}

static json_t *req_ct(const char *method, const char *path, const char *ctype, const char *body,
                      int want)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, ctype, body, &resp, NULL);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    free(resp);
    return j;
}

static json_t *req(const char *method, const char *path, const char *body, int want)
{
    return req_ct(method, path, NULL, body, want);
}

static void req_drop(const char *method, const char *path, const char *body, int want)
{
    json_decref(req(method, path, body, want));
}

/* The resource `name` in an APIResourceList; NULL when absent. */
static const json_t *resource(const json_t *list, const char *name)
{
    const json_t *r;
    size_t i;
    json_array_foreach(json_object_get(list, "resources"), i, r)
        if (strcmp(orc_json_str(r, "name"), name) == 0) return r;
    return NULL;
}

TEST(discovery_lists_the_new_kinds)
{
    start_one();
    json_t *groups = req("GET", "/apis", NULL, 200);
    char *text = json_dumps(groups, JSON_COMPACT);
    CHECK(strstr(text, "\"scheduling.k8s.io/v1\"") && strstr(text, "\"storage.k8s.io/v1\"")
          && strstr(text, "\"policy/v1\""));
    free(text);
    json_decref(groups);

    json_t *core = req("GET", "/api/v1", NULL, 200);
    const json_t *pv = resource(core, "persistentvolumes");
    CHECK(pv && json_is_false(json_object_get(pv, "namespaced")));
    CHECK_STR(json_string_value(json_array_get(json_object_get(pv, "shortNames"), 0)), "pv");
    CHECK(resource(core, "persistentvolumes/status") && resource(core, "persistentvolumeclaims/status"));
    CHECK_STR(orc_json_str(resource(core, "pods/eviction"), "kind"), "Eviction");
    CHECK_STR(orc_json_str(resource(core, "pods/eviction"), "group"), "policy"); /* kubectl drain */
    CHECK_STR(orc_json_str(resource(core, "pods/eviction"), "version"), "v1");
    json_decref(core);

    json_t *sys = req("GET", "/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical",
                      NULL, 200);
    CHECK(orc_json_get(sys, "value") && json_integer_value(orc_json_get(sys, "value")) == 2000001000);
    json_decref(sys);
    json_t *sched = req("GET", "/apis/scheduling.k8s.io/v1", NULL, 200);
    CHECK(resource(sched, "priorityclasses") != NULL);
    json_decref(sched);
    json_t *apps = req("GET", "/apis/apps/v1", NULL, 200);
    CHECK(json_is_true(json_object_get(resource(apps, "controllerrevisions"), "namespaced")));
    json_decref(apps);
    json_t *pol = req("GET", "/apis/policy/v1", NULL, 200);
    CHECK(resource(pol, "poddisruptionbudgets/status") != NULL);
    json_decref(pol);
}

TEST(storage_objects_round_trip)
{
    start_one();
    json_t *sc = req("POST", "/apis/storage.k8s.io/v1/storageclasses",
                     "{\"metadata\":{\"name\":\"local\"},\"provisioner\":\"orc.io/hostpath\"}", 201);
    CHECK_STR(orc_json_str(sc, "volumeBindingMode"), "Immediate");
    CHECK_STR(orc_json_str(sc, "apiVersion"), "storage.k8s.io/v1");
    json_decref(sc);

    json_t *pv = req("POST", "/api/v1/persistentvolumes",
                     "{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
                     "\"accessModes\":[\"ReadWriteOnce\"],\"storageClassName\":\"local\","
                     "\"hostPath\":{\"path\":\"/tmp/pv1\"}}}", 201);
    CHECK_STR(orc_json_str(pv, "status.phase"), "Pending");
    CHECK_STR(orc_json_str(pv, "spec.persistentVolumeReclaimPolicy"), "Retain");
    CHECK(orc_json_get(pv, "metadata.namespace") == NULL);
    json_decref(pv);
    json_t *st = req_ct("PATCH", "/api/v1/persistentvolumes/pv1/status", MERGE,
                        "{\"status\":{\"phase\":\"Available\"}}", 200);
    CHECK_STR(orc_json_str(st, "status.phase"), "Available");
    json_decref(st);

    json_t *pvc = req("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                      "{\"metadata\":{\"name\":\"data\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
                      "\"storageClassName\":\"local\",\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}",
                      201);
    CHECK_STR(orc_json_str(pvc, "status.phase"), "Pending");
    json_decref(pvc);
    /* Binding a claim to a volume is allowed once; changing its modes is not. */
    req_drop("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/data",
             "{\"spec\":{\"volumeName\":\"pv1\"}}", 415);
    json_decref(req_ct("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/data", MERGE,
                       "{\"spec\":{\"volumeName\":\"pv1\"}}", 200));
    json_t *bad = req_ct("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/data", MERGE,
                         "{\"spec\":{\"accessModes\":[\"ReadWriteMany\"]}}", 422);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(bad, "details.causes"), 0), "field"), "spec");
    json_decref(bad);
    bad = req("POST", "/api/v1/persistentvolumes",
              "{\"metadata\":{\"name\":\"pv2\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
              "\"accessModes\":[\"ReadWriteOnce\"]}}", 422);
    CHECK(strstr(orc_json_str(bad, "message"), "spec: Required value: must specify a volume type"));
    json_decref(bad);
}

TEST(priorityclass_and_controllerrevision)
{
    start_one();
    json_t *pc = req("POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
                     "{\"metadata\":{\"name\":\"high\"},\"value\":1000}", 201);
    CHECK_STR(orc_json_str(pc, "preemptionPolicy"), "PreemptLowerPriority");
    json_decref(pc);
    json_t *bad = req("POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
                      "{\"metadata\":{\"name\":\"huge\"},\"value\":2000000000}", 422);
    CHECK_STR(orc_json_str(bad, "message"),
              "PriorityClass.scheduling.k8s.io \"huge\" is invalid: value: Forbidden: maximum "
              "allowed value of a user defined priority is 1000000000");
    json_decref(bad);
    req_drop("PUT", "/apis/scheduling.k8s.io/v1/priorityclasses/high",
             "{\"metadata\":{\"name\":\"high\"},\"value\":7}", 422);

    json_t *cr = req("POST", "/apis/apps/v1/namespaces/default/controllerrevisions",
                     "{\"metadata\":{\"name\":\"web-1\"},\"data\":{\"spec\":{}},\"revision\":1}", 201);
    CHECK(json_is_object(orc_json_get(cr, "data.spec")));
    json_decref(cr);
    req_drop("GET", "/apis/apps/v1/namespaces/default/controllerrevisions/web-1/status", NULL, 404);
    member_stop(&c, 0);
}

static void make_ready_pod(const char *name)
{
    char body[512], path[256];
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
             "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}", name);
    req_drop("POST", PODS, body, 201);
    snprintf(path, sizeof path, PODS "/%s/status", name);
    json_decref(req_ct("PATCH", path, MERGE,
                       "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                       "\"status\":\"True\"}]}}", 200));
}

static json_t *evict(const char *name, int want)
{
    char body[256], path[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"%s\"}}",
             name);
    snprintf(path, sizeof path, PODS "/%s/eviction", name);
    return req("POST", path, body, want);
}

TEST(eviction_honours_the_disruption_budget)
{
    start_one();
    make_ready_pod("web-1");
    make_ready_pod("web-2");
    json_t *pdb = req("POST", PDBS,
                      "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"minAvailable\":2,"
                      "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}", 201);
    json_decref(pdb);

    json_t *no = evict("web-1", 429);
    CHECK_STR(orc_json_str(no, "reason"), "TooManyRequests");
    CHECK_STR(orc_json_str(no, "message"),
              "Cannot evict pod as it would violate the pod's disruption budget.");
    const json_t *cause = json_array_get(orc_json_get(no, "details.causes"), 0);
    CHECK_STR(orc_json_str(cause, "reason"), "DisruptionBudget");
    CHECK_STR(orc_json_str(cause, "message"),
              "The disruption budget web needs 2 healthy pods and has 2 currently");
    json_decref(no);
    req_drop("GET", PODS "/web-1", NULL, 200);

    json_decref(req_ct("PATCH", PDBS "/web", MERGE, "{\"spec\":{\"minAvailable\":1}}", 200));
    json_t *ok = evict("web-1", 201);
    CHECK_STR(orc_json_str(ok, "status"), "Success");
    json_decref(ok);
    /* The budget's status is written with the eviction, as Kubernetes does. */
    json_t *st = req("GET", PDBS "/web", NULL, 200);
    int64_t v = -1;
    CHECK(orc_json_int(st, "status.disruptionsAllowed", &v) == 0 && v == 0);
    CHECK(orc_json_int(st, "status.currentHealthy", &v) == 0 && v == 1);
    CHECK(orc_json_int(st, "status.desiredHealthy", &v) == 0 && v == 1);
    json_decref(st);
    req_drop("GET", PODS "/web-1", NULL, 404);
    json_decref(evict("web-2", 429)); /* the last healthy one */

    /* A pod no budget selects goes at once; a mismatched body is refused. */
    req_drop("POST", PODS, "{\"metadata\":{\"name\":\"lone\"},\"spec\":{\"containers\":"
                           "[{\"name\":\"c\",\"image\":\"busybox\"}]}}", 201);
    req_drop("POST", PODS "/lone/eviction",
             "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"x\"}}", 400);
    json_decref(evict("lone", 201));
    req_drop("GET", PODS "/lone", NULL, 404);
    req_drop("POST", "/api/v1/namespaces/default/configmaps/x/eviction", "{}", 404);
    member_stop(&c, 0); /* exits cleanly: no sanitizer report */
}

TEST(workload_validation_answers_422_naming_the_field)
{
    start_one();
    json_t *bad = req("POST", "/apis/batch/v1/namespaces/default/cronjobs",
                      "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"schedule\":\"@hourly\","
                      "\"timeZone\":\"Mars/Olympus\",\"jobTemplate\":{\"spec\":{\"template\":{"
                      "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                      "\"image\":\"busybox\"}]}}}}}}", 422);
    CHECK_STR(orc_json_str(bad, "message"),
              "CronJob.batch \"c\" is invalid: spec.timeZone: Invalid value: \"Mars/Olympus\": "
              "unknown time zone Mars/Olympus");
    json_decref(bad);
    bad = req("POST", "/apis/batch/v1/namespaces/default/jobs",
              "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
              "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"restartPolicy\":"
              "\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}", 422);
    CHECK(strstr(orc_json_str(bad, "message"), "spec.selector: Invalid value: "));
    CHECK(strstr(orc_json_str(bad, "message"), "`selector` not auto-generated"));
    json_decref(bad);
    json_t *job = req("POST", "/apis/batch/v1/namespaces/default/jobs",
                      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"template\":{\"spec\":{"
                      "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":"
                      "\"busybox\"}]}}}}", 201);
    CHECK_STR(orc_json_str(job, "spec.template.metadata.labels.job-name"), "j");
    json_decref(job);
    json_decref(req_ct("PATCH", "/apis/batch/v1/namespaces/default/jobs/j", MERGE,
                       "{\"spec\":{\"parallelism\":2}}", 200));
    member_stop(&c, 0);
}
