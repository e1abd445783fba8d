/* test_kubectl_create.c — stock kubectl's `create` verbs against a real
 * `orcd server`. client-go's typed clients send these bodies as
 * application/vnd.kubernetes.protobuf (with no discovery first); orc decodes
 * them (apiserver/proto*.c) and answers JSON, which the Accept header
 * allows. Each object is read back with `kubectl get -o json`. Also:
 * --dry-run=server, `kubectl drain` of a Node with no agent behind it, and a
 * protobuf body with a field number orc does not know, refused with 415. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/http.h"
#include "lib/json.h"
#include "tests/apiserver/pbw.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static bool have_kubectl(void) { return run_have_kubectl(); }

static void start_one(void) { run_start_one(&c); }

/* kubectl with the member's admin.conf; checks the exit status, returns
 * stdout (free it); *errp (may be NULL) gets stderr. */
static char *kubectl_e(int want_rc, char **errp, const char *const *words)
{
    return run_kubectl_rc(&c, want_rc, errp, words);
}

#define KUBECTL(rc, ...) kubectl_e(rc, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, __VA_ARGS__))

/* `kubectl get KIND NAME -o json`, parsed. */
static json_t *get_json(const char *kind, const char *name)
{
    char *out = KUBECTL(0, "get", kind, name, "-o", "json");
    json_t *v = json_loads(out ? out : "", 0, NULL);
    CHECKF(v != NULL, "kubectl get %s %s: not JSON:\n%s", kind, name, out);
    free(out);
    return v;
}

static long long num(const json_t *v, const char *path)
{
    int64_t n = -12345;
    CHECKF(orc_json_int(v, path, &n) == 0, "%s is not a number", path);
    return n;
}

static const char *str(const json_t *v, const char *path)
{
    const char *s = orc_json_str(v, path);
    return s ? s : "(absent)";
}

static json_t *first(const json_t *v, const char *path)
{
    return json_array_get(orc_json_get(v, path), 0);
}

TEST_T(kubectl_create_core_kinds, 60)
{
    if (!have_kubectl()) return;
    start_one();

    KUBECTL_OK("create", "configmap", "cm1", "--from-literal=a=b", "--from-literal=empty=");
    json_t *v = get_json("configmap", "cm1");
    CHECK_STR(str(v, "data.a"), "b");
    CHECK_STR(str(v, "data.empty"), "");
    CHECK(orc_json_get(v, "metadata.creationTimestamp") != NULL);
    json_decref(v);

    KUBECTL_OK("create", "secret", "generic", "s1", "--from-literal=pw=hunter2");
    v = get_json("secret", "s1");
    CHECK_STR(str(v, "data.pw"), "aHVudGVyMg=="); /* base64 of the bytes field */
    CHECK_STR(str(v, "type"), "Opaque");
    json_decref(v);

    KUBECTL_OK("create", "namespace", "team-a");
    v = get_json("namespace", "team-a");
    CHECK_STR(str(v, "status.phase"), "Active");
    json_decref(v);

    KUBECTL_OK("create", "service", "clusterip", "svc1", "--tcp=80:8080");
    v = get_json("service", "svc1");
    json_t *p = first(v, "spec.ports");
    CHECK_INT(num(p, "port"), ==, 80);
    CHECK_INT(num(p, "targetPort"), ==, 8080);
    CHECK_STR(str(v, "spec.selector.app"), "svc1");
    json_decref(v);

    KUBECTL_OK("create", "service", "nodeport", "np1", "--tcp=80:8080", "--node-port=30080");
    v = get_json("service", "np1");
    CHECK_STR(str(v, "spec.type"), "NodePort");
    CHECK_INT(num(first(v, "spec.ports"), "nodePort"), ==, 30080);
    json_decref(v);

    KUBECTL_OK("create", "service", "externalname", "ext1", "--external-name=example.com");
    v = get_json("service", "ext1");
    CHECK_STR(str(v, "spec.externalName"), "example.com");
    json_decref(v);
}

TEST_T(kubectl_create_workloads, 60)
{
    if (!have_kubectl()) return;
    start_one();

    KUBECTL_OK("create", "deployment", "web", "--image=nginx:1.25", "--replicas=3", "--port=80");
    json_t *v = get_json("deployment", "web");
    CHECK_INT(num(v, "spec.replicas"), ==, 3);
    CHECK_STR(str(v, "metadata.labels.app"), "web");
    CHECK_STR(str(v, "spec.selector.matchLabels.app"), "web");
    json_t *ct = first(v, "spec.template.spec.containers");
    CHECK_STR(str(ct, "image"), "nginx:1.25");
    CHECK_INT(num(first(ct, "ports"), "containerPort"), ==, 80);
    json_decref(v);

    /* replicas: 0 is a pointer in Go, present on the wire: kept */
    KUBECTL_OK("create", "deployment", "zero", "--image=nginx", "--replicas=0");
    v = get_json("deployment", "zero");
    CHECK_INT(num(v, "spec.replicas"), ==, 0);
    json_decref(v);

    KUBECTL_OK("create", "job", "j1", "--image=busybox", "--", "echo", "hi");
    v = get_json("job", "j1");
    CHECK_STR(str(v, "spec.template.spec.restartPolicy"), "Never");
    ct = first(v, "spec.template.spec.containers");
    CHECK_STR(json_string_value(json_array_get(json_object_get(ct, "command"), 1)), "hi");
    json_decref(v);

    KUBECTL_OK("create", "cronjob", "cj1", "--image=busybox", "--schedule=*/5 * * * *", "--",
               "date");
    v = get_json("cronjob", "cj1");
    CHECK_STR(str(v, "spec.schedule"), "*/5 * * * *");
    CHECK_STR(str(v, "spec.jobTemplate.spec.template.spec.restartPolicy"), "OnFailure");
    json_decref(v);

    KUBECTL_OK("create", "priorityclass", "pc0", "--value=0", "--description=zero");
    v = get_json("priorityclass", "pc0");
    CHECK_INT(num(v, "value"), ==, 0); /* JSON always carries it */
    CHECK_STR(str(v, "description"), "zero");
    json_decref(v);

    KUBECTL_OK("create", "poddisruptionbudget", "pdb1", "--selector=app=web",
               "--max-unavailable=50%");
    v = get_json("pdb", "pdb1");
    CHECK_STR(str(v, "spec.maxUnavailable"), "50%");
    CHECK_STR(str(v, "spec.selector.matchLabels.app"), "web");
    json_decref(v);

    KUBECTL_OK("create", "ingress", "ing1", "--class=default",
               "--rule=foo.com/bar*=svc1:80,tls=my-cert");
    v = get_json("ingress", "ing1");
    CHECK_STR(str(v, "spec.ingressClassName"), "default");
    json_t *path = first(first(v, "spec.rules"), "http.paths");
    CHECK_STR(str(path, "pathType"), "Prefix");
    CHECK_STR(str(path, "backend.service.name"), "svc1");
    CHECK_INT(num(path, "backend.service.port.number"), ==, 80);
    CHECK_STR(str(first(v, "spec.tls"), "secretName"), "my-cert");
    json_decref(v);
}

/* The kinds another branch serves: they work once served, until then the
 * server answers 404 for the resource (not 415 for the body). */
TEST_T(kubectl_create_rbac_and_accounts_when_served, 60)
{
    if (!have_kubectl()) return;
    start_one();
    static const char *const verbs[][8] = {
        {"create", "serviceaccount", "sa1"},
        {"create", "quota", "q1", "--hard=pods=10"},
        {"create", "role", "r1", "--verb=get", "--resource=pods"},
        {"create", "clusterrole", "cr1", "--verb=get", "--resource=nodes"},
        {"create", "rolebinding", "rb1", "--clusterrole=cr1", "--user=alice"},
        {"create", "clusterrolebinding", "crb1", "--clusterrole=cr1", "--user=alice"},
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig"};
        char conf[700], *out = NULL, *err = NULL;
        int n = 2;
        snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
        argv[n++] = conf;
        for (int w = 0; verbs[i][w]; w++) argv[n++] = verbs[i][w];
        argv[n] = NULL;
        int rc = run_prog(c.home, NULL, &out, &err, argv);
        CHECKF(rc == 0 || strstr(err, "could not find the requested resource") != NULL,
               "kubectl %s %s: exit %d\n%s", verbs[i][1], verbs[i][2], rc, err);
        CHECKF(strstr(err, "unknown format") == NULL && strstr(err, "protobuf") == NULL,
               "kubectl %s: %s", verbs[i][1], err);
        free(out);
        free(err);
    }
}

TEST_T(kubectl_create_dry_run_server_stores_nothing, 60)
{
    if (!have_kubectl()) return;
    start_one();
    char *out = KUBECTL(0, "create", "deployment", "dry", "--image=nginx", "--dry-run=server",
                        "-o", "json");
    json_t *v = json_loads(out, 0, NULL);
    CHECKF(v != NULL, "%s", out);
    /* defaults were applied by the server, yet nothing is stored */
    CHECK_STR(str(v, "spec.strategy.type"), "RollingUpdate");
    json_decref(v);
    free(out);
    char *err = NULL;
    free(kubectl_e(1, &err, (const char *const[]){"get", "deployment", "dry", NULL}));
    CHECKF(strstr(err, "not found") != NULL, "%s", err);
    free(err);
}

TEST_T(kubectl_drain_a_node_without_agent, 60)
{
    if (!have_kubectl()) return;
    start_one();
    char *resp = NULL;
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/nodes", NULL, "{\"metadata\":{\"name\":\"n1\"}}",
                     &resp, NULL), ==, 201);
    free(resp);
    for (int i = 0; i < 2; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"p%d\"},\"spec\":{\"nodeName\":\"n1\","
                 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}", i);
        CHECK_INT(t_http(&c, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp,
                         NULL), ==, 201);
        free(resp);
    }
    char *out = KUBECTL(0, "drain", "n1", "--force", "--ignore-daemonsets", "--grace-period=0",
                        "--timeout=30s");
    CHECKF(strstr(out, "drained") != NULL, "%s", out);
    free(out);
    json_t *node = get_json("node", "n1");
    CHECK(json_is_true(orc_json_get(node, "spec.unschedulable")));
    json_decref(node);
    out = KUBECTL(0, "get", "pods", "-o", "name");
    CHECKF(out[0] == '\0', "pods left:\n%s", out);
    free(out);
}

/* A protobuf body sent as client-go would, over HTTP. */
static int send_proto(const char *method, const char *path, const struct pbw *body, char **resp,
                      char **ctype)
{
    struct http_request req = {0};
    struct http_response r = {0};
    int status;

    req.method = method;
    req.path = path;
    req.content_type = "application/vnd.kubernetes.protobuf";
    static const struct http_header accept = {"Accept",
                                              "application/vnd.kubernetes.protobuf,application/json"};
    req.headers = &accept;
    req.n_headers = 1;
    req.body = body->b;
    req.body_len = body->n;
    req.timeout_ms = 15000;
    if (http_sync_request_tls(c.m[0].url, c.token, cluster_tls(&c), &req, &r, NULL) != 0) return 0;
    status = r.status;
    *resp = r.body ? strndup(r.body, r.body_len) : strdup("");
    const char *ct = http_header_get(&r, "content-type");
    *ctype = strdup(ct ? ct : "");
    http_response_free(&r);
    return status;
}

TEST_T(protobuf_unknown_field_is_refused_415, 60)
{
    start_one();
    struct pbw raw = {.n = 0}, meta = {.n = 0}, body;
    char *resp = NULL, *ctype = NULL;

    pbw_str(&meta, 1, "odd");
    pbw_msg(&raw, 1, &meta);
    pbw_entry(&raw, 2, "a", "b");
    pbw_str(&raw, 42, "surprise");
    pbw_envelope(&body, "v1", "ConfigMap", &raw);
    int st = send_proto("POST", "/api/v1/namespaces/default/configmaps", &body, &resp, &ctype);
    CHECKF(st == 415, "HTTP %d: %s", st, resp);
    CHECKF(strstr(resp, "field number 42 of protobuf message ConfigMap") != NULL, "%s", resp);
    CHECKF(strstr(resp, "UnsupportedMediaType") != NULL, "%s", resp);
    free(resp);
    free(ctype);
    int s2;
    json_t *got = t_json(&c, 0, "GET", "/api/v1/namespaces/default/configmaps/odd", NULL, &s2);
    CHECK_INT(s2, ==, 404); /* nothing was written */
    json_decref(got);

    /* without the stray field it is created, and the answer is JSON */
    raw.n = 0;
    pbw_msg(&raw, 1, &meta);
    pbw_entry(&raw, 2, "a", "b");
    pbw_envelope(&body, "v1", "ConfigMap", &raw);
    st = send_proto("POST", "/api/v1/namespaces/default/configmaps", &body, &resp, &ctype);
    CHECKF(st == 201, "HTTP %d: %s", st, resp);
    CHECKF(strncmp(ctype, "application/json", 16) == 0, "Content-Type %s", ctype);
    free(resp);
    free(ctype);
}

TEST_T(protobuf_update_and_scale_subresource, 60)
{
    if (!have_kubectl()) return;
    start_one();
    struct pbw raw = {.n = 0}, meta = {.n = 0}, spec = {.n = 0}, body;
    char *resp = NULL, *ctype = NULL;

    KUBECTL_OK("create", "configmap", "cfg", "--from-literal=a=1");
    KUBECTL_OK("create", "deployment", "web", "--image=nginx", "--replicas=2");

    /* PUT: a typed client's Update */
    pbw_str(&meta, 1, "cfg");
    pbw_str(&meta, 3, "default");
    pbw_msg(&raw, 1, &meta);
    pbw_entry(&raw, 2, "a", "2");
    pbw_envelope(&body, "v1", "ConfigMap", &raw);
    int st = send_proto("PUT", "/api/v1/namespaces/default/configmaps/cfg", &body, &resp, &ctype);
    CHECKF(st == 200, "HTTP %d: %s", st, resp);
    free(resp);
    free(ctype);
    json_t *v = get_json("configmap", "cfg");
    CHECK_STR(str(v, "data.a"), "2");
    json_decref(v);

    /* PUT .../scale with an autoscaling/v1 Scale: to zero */
    raw.n = meta.n = 0;
    pbw_str(&meta, 1, "web");
    pbw_str(&meta, 3, "default");
    pbw_msg(&raw, 1, &meta);
    pbw_int(&spec, 1, 0);
    pbw_msg(&raw, 2, &spec);
    pbw_envelope(&body, "autoscaling/v1", "Scale", &raw);
    st = send_proto("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", &body, &resp,
                    &ctype);
    CHECKF(st == 200, "HTTP %d: %s", st, resp);
    free(resp);
    free(ctype);
    v = get_json("deployment", "web");
    CHECK_INT(num(v, "spec.replicas"), ==, 0);
    json_decref(v);
}

/* client-go asks "application/vnd.kubernetes.protobuf,application/json";
 * orc answers reads in JSON, which client-go decodes by Content-Type. */
TEST_T(protobuf_accept_reads_answer_json, 60)
{
    start_one();
    static const struct http_header accept = {"Accept",
                                              "application/vnd.kubernetes.protobuf,application/json"};
    static const char *const paths[] = {"/api/v1/namespaces/default/configmaps",
                                        "/api/v1/namespaces/default", "/apis/apps/v1/deployments"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct http_request req = {.method = "GET", .path = paths[i], .headers = &accept,
                                   .n_headers = 1, .timeout_ms = 15000};
        struct http_response r = {0};
        CHECK_INT(http_sync_request_tls(c.m[0].url, c.token, cluster_tls(&c), &req, &r, NULL), ==,
                  0);
        CHECKF(r.status == 200, "%s: HTTP %d", paths[i], r.status);
        const char *ct = http_header_get(&r, "content-type");
        CHECKF(ct && strncmp(ct, "application/json", 16) == 0, "%s: Content-Type %s", paths[i],
               ct ? ct : "(none)");
        http_response_free(&r);
    }
}

/* What a scheduler built on client-go posts, a Binding, and what its
 * Evict sends, an Eviction: in protobuf. */
TEST_T(protobuf_pod_binding, 60)
{
    start_one();
    char *resp = NULL, *ctype = NULL;
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/nodes", NULL, "{\"metadata\":{\"name\":\"n1\"}}",
                     &resp, NULL), ==, 201);
    free(resp);
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/namespaces/default/pods", NULL,
                     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"schedulerName\":\"other\","
                     "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                     &resp, NULL), ==, 201);
    free(resp);

    struct pbw raw = {.n = 0}, meta = {.n = 0}, target = {.n = 0}, body;
    pbw_str(&meta, 1, "p");
    pbw_str(&meta, 3, "default");
    pbw_msg(&raw, 1, &meta);
    pbw_str(&target, 1, "Node");
    pbw_str(&target, 3, "n1");
    pbw_msg(&raw, 2, &target);
    pbw_envelope(&body, "v1", "Binding", &raw);
    int st = send_proto("POST", "/api/v1/namespaces/default/pods/p/binding", &body, &resp, &ctype);
    CHECKF(st == 201, "HTTP %d: %s", st, resp);
    free(resp);
    free(ctype);
    int s2;
    json_t *pod = t_json(&c, 0, "GET", "/api/v1/namespaces/default/pods/p", NULL, &s2);
    CHECK_STR(orc_json_str(pod, "spec.nodeName"), "n1");
    json_decref(pod);

    /* and a policy/v1 Eviction, as client-go's Evict sends it */
    struct pbw opts = {.n = 0};
    raw.n = 0;
    pbw_msg(&raw, 1, &meta);
    pbw_int(&opts, 1, 0);
    pbw_msg(&raw, 2, &opts);
    pbw_envelope(&body, "policy/v1", "Eviction", &raw);
    st = send_proto("POST", "/api/v1/namespaces/default/pods/p/eviction", &body, &resp, &ctype);
    CHECKF(st == 201, "HTTP %d: %s", st, resp);
    free(resp);
    free(ctype);
    pod = t_json(&c, 0, "GET", "/api/v1/namespaces/default/pods/p", NULL, &s2);
    CHECKF(s2 == 404 || orc_json_get(pod, "metadata.deletionTimestamp") != NULL,
           "the pod is neither gone nor terminating (HTTP %d)", s2);
    json_decref(pod);
}
