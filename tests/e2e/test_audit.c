/* test_audit.c — the audit log of a real `orcd server` driven by stock
 * kubectl: one audit.k8s.io/v1 Event line per request with the user,
 * Kubernetes' verb, objectRef and response code; a 401 logged with no
 * user, a 403 with its reason; a watch's ResponseStarted and ResponseComplete; a policy's None
 * and Metadata rules; no Secret value in the file; the file 0600. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;
static char log_path[600];

#define KUBECTL(rc, ...) run_kubectl_rc(&c, rc, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, __VA_ARGS__))

static void start(const char *policy)
{
    char policy_path[600];
    const char *extra[6] = {"--audit-log-path", log_path, NULL};

    snprintf(log_path, sizeof log_path, "%s/audit.log", test_tmpdir());
    if (policy) {
        snprintf(policy_path, sizeof policy_path, "%s/policy.yaml", test_tmpdir());
        CHECK(orc_file_write(policy_path, policy, strlen(policy), 0600) == 0);
        extra[2] = "--audit-policy-file";
        extra[3] = policy_path;
    }
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
}

static json_t *read_events(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    json_t *all = json_array();
    char *line, *save = NULL;

    if (orc_file_read(log_path, 64u << 20, &b) != 0 || b.data == NULL) return all;
    for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL);
        CHECKF(json_is_object(ev), "not a JSON object: %s", line);
        if (ev) json_array_append_new(all, ev);
    }
    orc_buf_free(&b);
    return all;
}

static bool is(const json_t *ev, const char *path, const char *want)
{
    const char *v = orc_json_str(ev, path);
    return want == NULL ? v == NULL : v && strcmp(v, want) == 0;
}

/* The first event with this verb, stage and resource (NULL: none) whose
 * requestURI contains `uri`; polls: the writer is asynchronous. */
static json_t *find_event(const char *verb, const char *stage, const char *resource, const char *uri)
{
    for (int tries = 0; tries < 100; tries++) {
        json_t *all = read_events(), *ev, *hit = NULL;
        size_t i;
        json_array_foreach(all, i, ev) {
            if (is(ev, "verb", verb) && is(ev, "stage", stage)
                && (resource == NULL || is(ev, "objectRef.resource", resource))
                && strstr(orc_json_str(ev, "requestURI") ? orc_json_str(ev, "requestURI") : "", uri)) {
                hit = json_incref(ev);
                break;
            }
        }
        json_decref(all);
        if (hit) return hit;
        usleep(50000);
    }
    return NULL;
}

static long long code_of(const json_t *ev)
{
    int64_t n = -1;
    orc_json_int(ev, "responseStatus.code", &n);
    return n;
}

TEST_T(audit_kubectl_requests_metadata, 60)
{
    json_t *ev;
    struct stat st;

    if (!run_have_kubectl()) return;
    start(NULL);
    KUBECTL_OK("create", "namespace", "team");
    KUBECTL_OK("create", "configmap", "cm1", "-n", "team", "--from-literal=k=v");
    KUBECTL_OK("get", "configmap", "cm1", "-n", "team");
    KUBECTL_OK("create", "secret", "generic", "s1", "-n", "team", "--from-literal=pw=hunter2-audit");
    KUBECTL_OK("delete", "configmap", "cm1", "-n", "team");
    free(KUBECTL(1, "get", "configmap", "nope", "-n", "team"));

    ev = find_event("create", "ResponseComplete", "configmaps", "/namespaces/team/configmaps");
    CHECKF(ev != NULL, "no create event for the ConfigMap");
    CHECK(is(ev, "kind", "Event") && is(ev, "apiVersion", "audit.k8s.io/v1"));
    CHECK(is(ev, "level", "Metadata"));
    CHECK(is(ev, "user.username", "system:admin"));
    CHECK(strcmp(json_string_value(json_array_get(orc_json_get(ev, "user.groups"), 0)), "system:masters") == 0);
    CHECK(is(ev, "objectRef.namespace", "team") && is(ev, "objectRef.apiVersion", "v1"));
    CHECK(is(ev, "objectRef.apiGroup", NULL));
    CHECK_INT(code_of(ev), ==, 201);
    CHECK(strlen(orc_json_str(ev, "auditID") ? orc_json_str(ev, "auditID") : "") >= 32);
    CHECK(strncmp(orc_json_str(ev, "userAgent") ? orc_json_str(ev, "userAgent") : "", "kubectl/", 8) == 0);
    CHECK(json_string_value(json_array_get(orc_json_get(ev, "sourceIPs"), 0)) != NULL);
    /* microseconds, and the latency is their difference */
    CHECK(strlen(orc_json_str(ev, "requestReceivedTimestamp")) == strlen("2026-01-01T00:00:00.000000Z"));
    CHECK(strlen(orc_json_str(ev, "stageTimestamp")) == strlen("2026-01-01T00:00:00.000000Z"));
    CHECK(orc_json_str(ev, "requestObject") == NULL && orc_json_get(ev, "requestObject") == NULL);
    json_decref(ev);

    ev = find_event("get", "ResponseComplete", "configmaps", "/namespaces/team/configmaps/cm1");
    CHECK(ev && is(ev, "objectRef.name", "cm1") && code_of(ev) == 200);
    json_decref(ev);
    ev = find_event("delete", "ResponseComplete", "configmaps", "/configmaps/cm1");
    CHECK(ev && code_of(ev) == 200);
    json_decref(ev);
    ev = find_event("get", "ResponseComplete", "configmaps", "/configmaps/nope");
    CHECK(ev && code_of(ev) == 404 && is(ev, "responseStatus.reason", "NotFound"));
    json_decref(ev);
    ev = find_event("create", "ResponseComplete", "namespaces", "/api/v1/namespaces");
    CHECK(ev && code_of(ev) == 201);
    json_decref(ev);
    ev = find_event("create", "ResponseComplete", "secrets", "/namespaces/team/secrets");
    CHECK(ev != NULL);
    json_decref(ev);

    /* 403 (a quota refuses): logged with its reason */
    KUBECTL_OK("create", "quota", "none", "-n", "team", "--hard=count/services=0");
    free(KUBECTL(1, "create", "service", "clusterip", "web", "--tcp=80", "-n", "team"));
    ev = find_event("create", "ResponseComplete", "services", "/namespaces/team/services");
    CHECKF(ev != NULL, "no event for the 403");
    CHECK(ev && code_of(ev) == 403 && is(ev, "responseStatus.reason", "Forbidden"));
    CHECK(ev && is(ev, "user.username", "system:admin"));
    json_decref(ev);

    /* 401: logged, with no user */
    CHECK_INT(t_http_as(&c, 0, "not-the-token", "GET", "/api/v1/namespaces/team/pods", NULL, NULL, NULL, NULL),
              ==, 401);
    ev = find_event("list", "ResponseComplete", "pods", "/namespaces/team/pods");
    CHECKF(ev != NULL, "no event for the 401");
    CHECK(ev && code_of(ev) == 401 && orc_json_get(ev, "user.username") == NULL);
    json_decref(ev);

    /* a watch: ResponseStarted, then ResponseComplete at its end */
    free(KUBECTL(0, "get", "configmaps", "-n", "team", "--watch-only", "--request-timeout=1s"));
    ev = find_event("watch", "ResponseStarted", "configmaps", "watch=true");
    CHECKF(ev != NULL, "no ResponseStarted for the watch");
    CHECK(ev && code_of(ev) == 200);
    json_decref(ev);
    ev = find_event("watch", "ResponseComplete", "configmaps", "watch=true");
    CHECKF(ev != NULL, "no ResponseComplete for the watch");
    json_decref(ev);

    /* never a Secret's value; the file is private */
    char *text = run_read_file(log_path);
    CHECK_LACKS(text, "hunter2-audit");
    CHECK_LACKS(text, "aHVudGVyMi1hdWRpdA"); /* its base64 */
    CHECK_LACKS(text, c.token);
    free(text);
    CHECK(stat(log_path, &st) == 0 && (st.st_mode & 0777) == 0600);
}

/* An annotation's value (its key has dots: no dotted path). */
static const char *annotation(const json_t *ev, const char *key)
{
    return json_string_value(json_object_get(json_object_get(ev, "annotations"), key));
}

/* Pod Security's audit mode: a pod or workload template breaking the
 * namespace's audit level is let in, and its request's event says so in
 * Kubernetes' annotation; every pod evaluated names its enforce level. */
TEST_T(audit_pod_security_violations_annotate_the_event, 60)
{
    json_t *ev;
    const char *want = "would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false "
                       "(container \"plain\" must set securityContext.allowPrivilegeEscalation=false)";

    if (!run_have_kubectl()) return;
    start(NULL);
    KUBECTL_OK("create", "namespace", "psa");
    KUBECTL_OK("label", "namespace", "psa", "pod-security.kubernetes.io/audit=restricted");
    KUBECTL_OK("run", "plain", "-n", "psa", "--image=busybox");
    KUBECTL_OK("create", "deployment", "web", "-n", "psa", "--image=busybox");
    KUBECTL_OK("run", "free", "-n", "default", "--image=busybox");

    ev = find_event("create", "ResponseComplete", "pods", "/namespaces/psa/pods");
    CHECKF(ev != NULL, "no create event for the pod");
    const char *v = annotation(ev, "pod-security.kubernetes.io/audit-violations");
    CHECKF(v && strncmp(v, want, strlen(want)) == 0, "audit-violations: %s", v ? v : "(none)");
    CHECK(v && strstr(v, "runAsNonRoot != true") && strstr(v, "seccompProfile"));
    CHECK_STR(annotation(ev, "pod-security.kubernetes.io/enforce-policy"), "privileged:latest");
    CHECK(code_of(ev) == 201);
    json_decref(ev);
    ev = find_event("create", "ResponseComplete", "deployments", "/namespaces/psa/deployments");
    CHECKF(ev != NULL, "no create event for the deployment");
    v = annotation(ev, "pod-security.kubernetes.io/audit-violations");
    CHECKF(v && strstr(v, "would violate PodSecurity \"restricted:latest\": "), "%s", v ? v : "(none)");
    json_decref(ev);
    ev = find_event("create", "ResponseComplete", "pods", "/namespaces/default/pods");
    CHECKF(ev != NULL, "no create event for the pod in default");
    CHECK(annotation(ev, "pod-security.kubernetes.io/audit-violations") == NULL);
    json_decref(ev);
}

TEST_T(audit_policy_levels, 60)
{
    json_t *ev;

    if (!run_have_kubectl()) return;
    start("apiVersion: audit.k8s.io/v1\n"
          "kind: Policy\n"
          "rules:\n"
          "- level: None\n"
          "  nonResourceURLs: [\"/healthz*\", /readyz, /version, \"/openapi*\", /api, /apis, \"/apis/*\"]\n"
          "- level: None\n"
          "  resources:\n"
          "  - group: \"\"\n"
          "    resources: [configmaps]\n"
          "    resourceNames: [quiet]\n"
          "- level: Request\n"
          "  resources:\n"
          "  - group: \"\"\n"
          "    resources: [configmaps, secrets]\n"
          "- level: None\n"
          "  users: [system:admin]\n"
          "  verbs: [list, watch, get]\n"
          "- level: Metadata\n");
    KUBECTL_OK("create", "configmap", "loud", "--from-literal=k=visible-value");
    KUBECTL_OK("create", "configmap", "quiet", "--from-literal=k=v");
    KUBECTL_OK("get", "configmap", "quiet");
    KUBECTL_OK("create", "secret", "generic", "s2", "--from-literal=pw=secret-in-request");
    KUBECTL_OK("get", "pods");
    KUBECTL_OK("create", "serviceaccount", "sa1");

    /* Request level: the body, but never a Secret's */
    ev = find_event("create", "ResponseComplete", "configmaps", "/configmaps");
    CHECK(ev && is(ev, "level", "Request") && is(ev, "requestObject.data.k", "visible-value"));
    json_decref(ev);
    ev = find_event("create", "ResponseComplete", "secrets", "/secrets");
    CHECK(ev && is(ev, "level", "Request") && orc_json_get(ev, "requestObject") == NULL);
    json_decref(ev);
    ev = find_event("create", "ResponseComplete", "serviceaccounts", "/serviceaccounts");
    CHECK(ev && is(ev, "level", "Metadata"));
    json_decref(ev);

    /* the None rules keep these out */
    json_t *all = read_events(), *e;
    size_t i;
    json_array_foreach(all, i, e) {
        const char *uri = orc_json_str(e, "requestURI");
        CHECKF(!strstr(uri, "/configmaps/quiet") && !strstr(uri, "/readyz") && !strstr(uri, "/version")
                   && !(is(e, "verb", "list") && is(e, "user.username", "system:admin")
                        && !is(e, "objectRef.resource", "configmaps") && !is(e, "objectRef.resource", "secrets")),
               "event that the policy says None: %s", uri);
    }
    json_decref(all);
    char *text = run_read_file(log_path);
    CHECK_LACKS(text, "secret-in-request");
    CHECK_LACKS(text, "c2VjcmV0LWluLXJlcXVlc3Q"); /* its base64 */
    free(text);
}

TEST_T(audit_bad_policy_refused_at_start, 30)
{
    char policy_path[600], out_path[700];
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(policy_path, sizeof policy_path, "%s/bad.yaml", test_tmpdir());
    snprintf(out_path, sizeof out_path, "%s/orcd.out", test_tmpdir());
    const char *bad = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n";
    CHECK(orc_file_write(policy_path, bad, strlen(bad), 0600) == 0);
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "%s server --data-dir %s/d --listen 127.0.0.77:17778 --no-agent "
             "--audit-log-path %s/a.log --audit-policy-file %s > %s 2>&1",
             t_bin("orcd"), test_tmpdir(), test_tmpdir(), policy_path, out_path);
    CHECK(system(cmd) != 0);
    CHECK(orc_file_read(out_path, 1 << 20, &b) == 0);
    CHECKF(b.data && strstr(b.data, "rules[0].level"), "orcd said:\n%s", b.data ? b.data : "");
    orc_buf_free(&b);
}
