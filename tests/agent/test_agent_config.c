/* test_agent_config.c — what a pod gets from the API, end to end: env and
 * files from ConfigMaps and Secrets (files follow updates), a missing key
 * reported as CreateContainerConfigError until it appears, init containers
 * in order sharing an emptyDir, a readiness probe driving Ready. */
#include "lib/base64.h"
#include "tests/agent/agentfx.h"

static void configmap(const char *name, const char *k, const char *v)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
             "\"data\":{\"%s\":\"%s\"}}", name, k, v);
    afx_create("/api/v1/namespaces/default/configmaps", body);
}

static bool log_has(const char *pod, const char *text, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    for (;;) {
        char *log = afx_logs(pod, NULL);
        bool ok = log && strstr(log, text);
        free(log);
        if (ok) return true;
        if (test_now_ms() >= end) return false;
        usleep(100 * 1000);
    }
}

TEST_T(env_and_files_from_configmaps_and_secrets, 120)
{
    char spec[4096], *log;
    int status;

    afx_setup();
    configmap("cfg", "greeting", "hello");
    /* "s3cret" in base64 */
    afx_create("/api/v1/namespaces/default/secrets",
               "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"sec\"},"
               "\"data\":{\"password\":\"czNjcmV0\"}}");
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
             "\"echo env=$GREETING/$PASSWORD/$POD/$NODE/$(cat /etc/cfg/greeting)/$(cat /etc/sec/password); "
             "while true; do echo file=$(cat /etc/cfg/greeting)/$(cat /etc/sec/password); sleep 0.3; done\"],"
             "\"env\":[{\"name\":\"GREETING\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"greeting\"}}},"
             "{\"name\":\"PASSWORD\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"password\"}}},"
             "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
             "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}}],"
             "\"volumeMounts\":[{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\"},"
             "{\"name\":\"sec\",\"mountPath\":\"/etc/sec\"}]}],"
             "\"volumes\":[{\"name\":\"cfg\",\"configMap\":{\"name\":\"cfg\"}},"
             "{\"name\":\"sec\",\"secret\":{\"secretName\":\"sec\"}}]}", F.image);
    afx_pod("cm", spec);
    json_decref(afx_wait_phase("cm", "Running", 30000));
    char want[256];
    snprintf(want, sizeof want, "env=hello/s3cret/cm/%s/hello/s3cret\n", A.node);
    CHECKF(log_has("cm", want, 10000), "wanted %s", want);
    /* The file follows the ConfigMap; the env does not (as in Kubernetes). */
    status = t_http(&AC, 0, "PATCH", "/api/v1/namespaces/default/configmaps/cfg",
                    "application/merge-patch+json", "{\"data\":{\"greeting\":\"bonjour\"}}", NULL, NULL);
    CHECK_INT(status, ==, 200);
    CHECKF(log_has("cm", "file=bonjour/s3cret\n", 15000), "the configMap file was not updated");
    /* The Secret's file too: the agent watches that one Secret by name. */
    status = t_http(&AC, 0, "PATCH", "/api/v1/namespaces/default/secrets/sec", "application/merge-patch+json",
                    "{\"stringData\":{\"password\":\"n3w\"}}", NULL, NULL);
    CHECK_INT(status, ==, 200);
    CHECKF(log_has("cm", "file=bonjour/n3w\n", 15000), "the secret file was not updated");
    log = afx_logs("cm", NULL);
    CHECK(log && !strstr(log, "env=bonjour"));
    free(log);
}

static bool config_error(const json_t *pod, void *arg)
{
    const char *r = orc_json_str(afx_cs(pod, 0), "state.waiting.reason");
    (void)arg;
    return r && strcmp(r, "CreateContainerConfigError") == 0;
}

TEST_T(missing_configmap_key_waits_until_it_exists, 120)
{
    char spec[2048];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo got=$V; sleep 100\"],"
             "\"env\":[{\"name\":\"V\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"late\",\"key\":\"v\"}}}]}]}",
             F.image);
    afx_pod("waiter", spec);
    /* every other pod is served meanwhile */
    snprintf(spec, sizeof spec, "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"true\"]}]}", F.image);
    afx_pod("other", spec);
    json_decref(afx_wait_phase("other", "Succeeded", 30000));
    p = afx_wait_pod("waiter", config_error, NULL, 30000, "CreateContainerConfigError");
    CHECKF(strstr(orc_json_str(afx_cs(p, 0), "state.waiting.message") ?: "", "late"),
           "message does not name the ConfigMap");
    CHECK_STR(orc_json_str(p, "status.phase"), "Pending");
    json_decref(p);
    configmap("late", "v", "here");
    json_decref(afx_wait_phase("waiter", "Running", 20000));
    CHECK(log_has("waiter", "got=here\n", 10000));
}

TEST_T(init_containers_run_in_order_first, 120)
{
    char spec[4096];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"initContainers\":["
             "{\"name\":\"one\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo one >> /work/order\"],"
             "\"volumeMounts\":[{\"name\":\"w\",\"mountPath\":\"/work\"}]},"
             "{\"name\":\"two\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"sleep 0.5; echo two >> /work/order\"],"
             "\"volumeMounts\":[{\"name\":\"w\",\"mountPath\":\"/work\"}]}],"
             "\"containers\":[{\"name\":\"main\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"cat /work/order\"],"
             "\"volumeMounts\":[{\"name\":\"w\",\"mountPath\":\"/work\"}]}],"
             "\"volumes\":[{\"name\":\"w\",\"emptyDir\":{}}]}", F.image, F.image, F.image);
    afx_pod("init", spec);
    p = afx_wait_phase("init", "Succeeded", 30000);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "status.initContainerStatuses"), 1),
                           "state.terminated.reason"), "Completed");
    json_decref(p);
    CHECK(log_has("init", "one\ntwo\n", 5000));
}

static bool ready_is(const json_t *pod, void *arg)
{
    return json_is_true(orc_json_get(afx_cs(pod, 0), "ready")) == *(bool *)arg;
}

TEST_T(readiness_probe_drives_ready, 120)
{
    char spec[4096];
    bool want = true;
    json_t *p;

    afx_setup();
    /* Serves /index.html only after 2 s; readiness then succeeds. */
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"web\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
             "\"mkdir -p /www; (sleep 2; echo ok > /www/index.html) & httpd -f -p 8080 -h /www\"],"
             "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}],"
             "\"readinessProbe\":{\"httpGet\":{\"path\":\"/index.html\",\"port\":\"http\"},"
             "\"periodSeconds\":1}}]}", F.image);
    afx_pod("web", spec);
    p = afx_wait_phase("web", "Running", 30000);
    CHECK(!json_is_true(orc_json_get(afx_cs(p, 0), "ready")));
    json_decref(p);
    p = afx_wait_pod("web", ready_is, &want, 20000, "ready");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "status.conditions"), 1), "type"), "Ready");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "status.conditions"), 1), "status"), "True");
    json_decref(p);
}

/* The agent watches each object a pod uses alone; a stream holds one of a
 * client's 64 connections, so past that many the watches go to clients of
 * their own (agent/objwatch.c). A pod naming 80 objects (79 optional
 * Secrets, absent) starts, and the last object's file still follows its
 * updates: its watch is not queued behind the others. */
TEST_T(a_pod_naming_many_objects_starts_and_follows_them, 120)
{
    char *spec = malloc(16384);
    size_t len;
    int status;

    CHECK(spec != NULL);
    afx_setup();
    configmap("last", "v", "one");
    len = (size_t)snprintf(spec, 16384,
                           "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
                           "\"while true; do echo last=$(cat /etc/last/v); sleep 0.3; done\"],"
                           "\"volumeMounts\":[{\"name\":\"last\",\"mountPath\":\"/etc/last\"}],\"envFrom\":[",
                           F.image);
    for (int i = 0; i < 79; i++)
        len += (size_t)snprintf(spec + len, 16384 - len, "%s{\"secretRef\":{\"name\":\"absent-%d\",\"optional\":true}}",
                                i ? "," : "", i);
    snprintf(spec + len, 16384 - len, "]}],\"volumes\":[{\"name\":\"last\",\"configMap\":{\"name\":\"last\"}}]}");
    afx_pod("many", spec);
    free(spec);
    json_decref(afx_wait_phase("many", "Running", 60000));
    CHECKF(log_has("many", "last=one\n", 10000), "the ConfigMap's file is missing");
    status = t_http(&AC, 0, "PATCH", "/api/v1/namespaces/default/configmaps/last", "application/merge-patch+json",
                    "{\"data\":{\"v\":\"two\"}}", NULL, NULL);
    CHECK_INT(status, ==, 200);
    CHECKF(log_has("many", "last=two\n", 15000), "the ConfigMap's file did not follow its update");
}
