/* test_api.c — a real single-member `orcd server`: what a client sees of
 * objects (server fields, defaults, versions, conflicts, patches,
 * subresources, deletion), lists (selectors, paging) and discovery. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define DEPLOY_PATH "/apis/apps/v1/namespaces/default/deployments"

/* The Deployment from the Kubernetes documentation, as a user applies it. */
static const char nginx[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"nginx-deployment\","
    "\"labels\":{\"app\":\"nginx\"}},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":"
    "\"nginx\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"nginx\"}},\"spec\":{\"containers\":"
    "[{\"name\":\"nginx\",\"image\":\"nginx:1.14.2\",\"ports\":[{\"containerPort\":80}]}]}}}}";

static struct cluster c;

/* The API alone: controllers (a Deployment's status, its ReplicaSets)
 * would write between a case's steps. */
static void start_one(void)
{
    cluster_init(&c, 1);
    c.no_controllers = true;
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
}

/* One request; fails the case unless the status is `want`. Returns the
 * parsed reply (new reference, may be NULL when not JSON). */
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

static const char *str(const json_t *j, const char *path)
{
    const char *s = orc_json_str(j, path);
    CHECKF(s != NULL, "no string at %s", path);
    return s;
}

static long long num(const json_t *j, const char *path)
{
    int64_t v = -1;
    CHECKF(orc_json_int(j, path, &v) == 0, "no integer at %s", path);
    return v;
}

static char *dump(const json_t *j) { return json_dumps(j, JSON_COMPACT); }

static size_t count_items(const char *path)
{
    json_t *l = req("GET", path, NULL, 200);
    size_t n = json_array_size(json_object_get(l, "items"));
    json_decref(l);
    return n;
}

TEST(create_sets_server_fields_and_defaults)
{
    start_one();
    json_t *d = req("POST", DEPLOY_PATH, nginx, 201);
    CHECK(strlen(str(d, "metadata.uid")) == 36);
    CHECK(atoll(str(d, "metadata.resourceVersion")) > 0);
    CHECK(num(d, "metadata.generation") == 1);
    CHECK(strlen(str(d, "metadata.creationTimestamp")) == 20);
    CHECK_STR(str(d, "metadata.namespace"), "default");
    CHECK_STR(str(d, "spec.strategy.type"), "RollingUpdate");
    CHECK_STR(str(d, "spec.template.spec.restartPolicy"), "Always");
    json_t *g = req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 200);
    CHECK(json_equal(d, g));
    json_decref(g);
    /* The same name again is refused and changes nothing. */
    json_t *e = req("POST", DEPLOY_PATH, nginx, 409);
    CHECK_STR(str(e, "reason"), "AlreadyExists");
    g = req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 200);
    CHECK_STR(str(g, "metadata.resourceVersion"), str(d, "metadata.resourceVersion"));
    json_decref(g);
    json_decref(e);
    json_decref(d);
}

TEST(yaml_bodies_and_generate_name)
{
    start_one();
    json_t *cm = req_ct("POST", "/api/v1/namespaces/default/configmaps", "application/yaml",
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: cfg-\n"
                        "data:\n  key: \"value\"\n",
                        201);
    const char *name = str(cm, "metadata.name");
    CHECK(strncmp(name, "cfg-", 4) == 0 && strlen(name) == 9);
    CHECK_STR(str(cm, "data.key"), "value");
    json_decref(cm);
}

TEST(default_namespaces_exist)
{
    start_one();
    const char *names[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    for (int i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/namespaces/%s", names[i]);
        json_t *ns = req("GET", path, NULL, 200);
        CHECK_STR(str(ns, "status.phase"), "Active");
        json_decref(ns);
    }
    json_decref(req("DELETE", "/api/v1/namespaces/default", NULL, 403));
}

TEST(auth_required_except_health)
{
    start_one();
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/api/v1/namespaces", NULL, NULL, NULL, NULL), ==, 401);
    CHECK_INT(t_http_as(&c, 0, "wrong", "GET", "/api/v1/namespaces", NULL, NULL, NULL, NULL), ==, 401);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/internal/v1/status", NULL, NULL, NULL, NULL), ==, 401);
    CHECK_INT(t_http_as(&c, 0, NULL, "POST", "/api/v1/namespaces", NULL, "{}", NULL, NULL), ==, 401);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/readyz", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/version", NULL, NULL, NULL, NULL), ==, 200);
}

TEST(update_conflicts_and_generation)
{
    start_one();
    json_t *d = req("POST", DEPLOY_PATH, nginx, 201);
    json_t *edit = json_deep_copy(d);
    char *text;

    /* A stale resourceVersion is a conflict and changes nothing. */
    orc_json_set(edit, "metadata.resourceVersion", json_string("1"));
    orc_json_set(edit, "spec.replicas", json_integer(5));
    text = dump(edit);
    json_t *e = req("PUT", DEPLOY_PATH "/nginx-deployment", text, 409);
    CHECK_STR(str(e, "reason"), "Conflict");
    free(text);
    json_decref(e);
    /* The current one works; a spec change bumps generation. */
    orc_json_set(edit, "metadata.resourceVersion", json_string(str(d, "metadata.resourceVersion")));
    text = dump(edit);
    json_t *u = req("PUT", DEPLOY_PATH "/nginx-deployment", text, 200);
    free(text);
    CHECK(num(u, "spec.replicas") == 5);
    CHECK(num(u, "metadata.generation") == 2);
    CHECK(atoll(str(u, "metadata.resourceVersion")) > atoll(str(d, "metadata.resourceVersion")));
    CHECK_STR(str(u, "metadata.uid"), str(d, "metadata.uid"));
    /* A label change does not; a PUT without resourceVersion is allowed. */
    json_t *p = req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/merge-patch+json",
                       "{\"metadata\":{\"labels\":{\"tier\":\"web\"}}}", 200);
    CHECK(num(p, "metadata.generation") == 2);
    CHECK_STR(str(p, "metadata.labels.tier"), "web");
    /* Status sent to the main resource is ignored. */
    orc_json_del(edit, "metadata.resourceVersion");
    orc_json_set(edit, "status", json_pack("{s:i}", "replicas", 42));
    text = dump(edit);
    json_t *u2 = req("PUT", DEPLOY_PATH "/nginx-deployment", text, 200);
    free(text);
    CHECK(orc_json_get(u2, "status.replicas") == NULL);
    json_decref(u2);
    json_decref(p);
    json_decref(edit);
    json_decref(u);
    json_decref(d);
}

TEST(patches_and_noop_writes)
{
    start_one();
    json_t *d = req("POST", DEPLOY_PATH, nginx, 201);
    json_t *m = req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/merge-patch+json",
                       "{\"spec\":{\"replicas\":2}}", 200);
    CHECK(num(m, "spec.replicas") == 2);
    json_t *j = req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/json-patch+json",
                       "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":7},"
                       "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"a\":\"b\"}}]",
                       200);
    CHECK(num(j, "spec.replicas") == 7);
    CHECK_STR(str(j, "metadata.annotations.a"), "b");
    /* A patch that changes nothing writes nothing: same resourceVersion. */
    json_t *n = req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/merge-patch+json",
                       "{\"spec\":{\"replicas\":7}}", 200);
    CHECK_STR(str(n, "metadata.resourceVersion"), str(j, "metadata.resourceVersion"));
    /* A failing test op changes nothing. */
    json_decref(req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/json-patch+json",
                       "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":1},"
                       "{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":9}]",
                       422));
    json_t *g = req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 200);
    CHECK(num(g, "spec.replicas") == 7);
    /* Server-side apply needs a field manager (422, as Kubernetes). */
    json_decref(req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/apply-patch+yaml",
                       "{}", 422));
    json_decref(g);
    json_decref(n);
    json_decref(j);
    json_decref(m);
    json_decref(d);
}

TEST(unknown_field_is_warned_and_dropped)
{
    char *resp = NULL, *warn = NULL;
    start_one();
    int st = t_http(&c, 0, "POST", "/api/v1/namespaces/default/configmaps", NULL,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"w\"},"
                    "\"dta\":{\"a\":\"b\"}}",
                    &resp, &warn);
    CHECK_INT(st, ==, 201);
    CHECKF(warn && strstr(warn, "dta"), "warning was: %s", warn ? warn : "(none)");
    CHECK(strstr(resp, "dta") == NULL);
    free(resp);
    free(warn);
}

TEST(scale_and_status_subresources)
{
    start_one();
    json_decref(req("POST", DEPLOY_PATH, nginx, 201));
    json_t *s = req("GET", DEPLOY_PATH "/nginx-deployment/scale", NULL, 200);
    CHECK_STR(str(s, "kind"), "Scale");
    CHECK(num(s, "spec.replicas") == 3);
    CHECK_STR(str(s, "status.selector"), "app=nginx");
    orc_json_set(s, "spec.replicas", json_integer(6));
    char *text = dump(s);
    json_t *s2 = req("PUT", DEPLOY_PATH "/nginx-deployment/scale", text, 200);
    free(text);
    CHECK(num(s2, "spec.replicas") == 6);
    json_decref(req_ct("PATCH", DEPLOY_PATH "/nginx-deployment/scale", "application/merge-patch+json",
                       "{\"spec\":{\"replicas\":-1}}", 422));
    json_t *st = req_ct("PATCH", DEPLOY_PATH "/nginx-deployment/status", "application/merge-patch+json",
                        "{\"status\":{\"replicas\":6,\"readyReplicas\":2},\"spec\":{\"replicas\":1}}",
                        200);
    CHECK(num(st, "status.readyReplicas") == 2);
    CHECK(num(st, "spec.replicas") == 6); /* status writes leave spec alone */
    CHECK(num(st, "metadata.generation") == 2);
    json_decref(st);
    json_decref(s2);
    json_decref(s);
}

static const char pod[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"labels\":{\"app\":\"a\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";

TEST(pod_binding_and_graceful_delete)
{
    start_one();
    json_t *p = req("POST", "/api/v1/namespaces/default/pods", pod, 201);
    CHECK_STR(str(p, "status.phase"), "Pending");
    CHECK_STR(str(p, "status.qosClass"), "BestEffort");
    json_decref(req("POST", "/api/v1/namespaces/default/pods/p1/binding",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"p1\"},"
                    "\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}",
                    201));
    json_t *b = req("GET", "/api/v1/namespaces/default/pods/p1", NULL, 200);
    CHECK_STR(str(b, "spec.nodeName"), "n1");
    json_decref(req("POST", "/api/v1/namespaces/default/pods/p1/binding",
                    "{\"target\":{\"kind\":\"Node\",\"name\":\"n2\"}}", 409));
    /* A bound pod is deleted gracefully: marked, left for its node. */
    json_t *d = req("DELETE", "/api/v1/namespaces/default/pods/p1", NULL, 200);
    CHECK(orc_json_get(d, "metadata.deletionTimestamp") != NULL);
    CHECK(num(d, "metadata.deletionGracePeriodSeconds") == 30);
    json_decref(req("GET", "/api/v1/namespaces/default/pods/p1", NULL, 200));
    /* ... and gone at once with gracePeriodSeconds=0. */
    json_decref(req("DELETE", "/api/v1/namespaces/default/pods/p1?gracePeriodSeconds=0", NULL, 200));
    json_decref(req("GET", "/api/v1/namespaces/default/pods/p1", NULL, 404));
    json_decref(d);
    json_decref(b);
    json_decref(p);
}

/* What the API does with finalizers, without the garbage collector that
 * processes them (test_gc covers that). */
TEST(delete_policies_and_finalizers)
{
    static const char *const no_gc[] = {"--controllers", "*,-garbagecollector", NULL};

    cluster_init(&c, 1);
    member_start(&c, 0, false, no_gc);
    member_wait_ready(&c, 0, 5000);
    json_decref(req("POST", DEPLOY_PATH, nginx, 201));
    json_t *d = req("DELETE", DEPLOY_PATH "/nginx-deployment?propagationPolicy=Orphan", NULL, 200);
    json_t *g = req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 200);
    CHECK(orc_json_get(g, "metadata.deletionTimestamp") != NULL);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(g, "metadata.finalizers"), 0)), "orphan");
    /* Removing the last finalizer finishes the deletion. */
    json_decref(req_ct("PATCH", DEPLOY_PATH "/nginx-deployment", "application/merge-patch+json",
                       "{\"metadata\":{\"finalizers\":null}}", 200));
    json_decref(req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 404));
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment", NULL, 404));
    json_decref(req("DELETE", DEPLOY_PATH "/x?propagationPolicy=Sometimes", NULL, 422)); /* options first, as Kubernetes */
    json_decref(req("POST", DEPLOY_PATH, nginx, 201));
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment?propagationPolicy=Sometimes", NULL, 422));
    /* A second delete replaces the collector's finalizer as Kubernetes
     * does (Foreground swaps orphan for foregroundDeletion; none given
     * keeps it; Background drops it, which ends the deletion). */
    json_decref(g);
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment?propagationPolicy=Orphan", NULL, 200));
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment?propagationPolicy=Foreground", NULL, 200));
    g = req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 200);
    CHECK_INT(json_array_size(orc_json_get(g, "metadata.finalizers")), ==, 1);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(g, "metadata.finalizers"), 0)),
              "foregroundDeletion");
    json_decref(g);
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment", NULL, 200));
    g = req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 200);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(g, "metadata.finalizers"), 0)),
              "foregroundDeletion");
    json_decref(g);
    g = NULL;
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment?propagationPolicy=Background", NULL, 200));
    json_decref(req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 404));
    json_decref(req("POST", DEPLOY_PATH, nginx, 201));
    json_decref(req("DELETE", DEPLOY_PATH "/nginx-deployment?propagationPolicy=Background", NULL, 200));
    json_decref(req("GET", DEPLOY_PATH "/nginx-deployment", NULL, 404));
    json_decref(g);
    json_decref(d);
}

TEST(list_selectors_and_paging)
{
    char body[512], path[1024];
    start_one();
    for (int i = 0; i < 25; i++) {
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%02d\","
                 "\"labels\":{\"parity\":\"%s\"}},\"data\":{\"i\":\"%d\"}}",
                 i, i % 2 ? "odd" : "even", i);
        json_decref(req("POST", "/api/v1/namespaces/default/configmaps", body, 201));
    }
    CHECK_INT(count_items("/api/v1/namespaces/default/configmaps"), ==, 25);
    CHECK_INT(count_items("/api/v1/namespaces/default/configmaps?labelSelector=parity%3Dodd"), ==, 12);
    CHECK_INT(count_items("/api/v1/namespaces/default/configmaps?labelSelector=parity+in+(odd,even)"), ==, 25);
    CHECK_INT(count_items("/api/v1/namespaces/default/configmaps?labelSelector=!parity"), ==, 0);
    CHECK_INT(count_items("/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-03"), ==, 1);
    json_decref(req("GET", "/api/v1/configmaps?fieldSelector=data.i%3D3", NULL, 400));
    json_decref(req("GET", "/api/v1/configmaps?labelSelector=a+in+(", NULL, 400));
    /* Paging is one snapshot even while the collection changes. */
    json_t *p1 = req("GET", "/api/v1/namespaces/default/configmaps?limit=10", NULL, 200);
    CHECK_INT(json_array_size(json_object_get(p1, "items")), ==, 10);
    const char *cont = str(p1, "metadata.continue");
    CHECK(num(p1, "metadata.remainingItemCount") == 15);
    json_decref(req("DELETE", "/api/v1/namespaces/default/configmaps/cm-20", NULL, 200));
    json_decref(req("POST", "/api/v1/namespaces/default/configmaps",
                    "{\"metadata\":{\"name\":\"cm-99\"}}", 201));
    int total = 10;
    char tok[512];
    snprintf(tok, sizeof tok, "%s", cont);
    for (;;) {
        snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps?limit=10&continue=%s", tok);
        json_t *p = req("GET", path, NULL, 200);
        CHECK_STR(str(p, "metadata.resourceVersion"), str(p1, "metadata.resourceVersion"));
        total += (int)json_array_size(json_object_get(p, "items"));
        const char *next = orc_json_str(p, "metadata.continue");
        bool more = next != NULL;
        if (more) snprintf(tok, sizeof tok, "%s", next);
        json_decref(p);
        if (!more) break;
    }
    CHECK_INT(total, ==, 25); /* cm-20 still there, cm-99 not yet */
    json_decref(p1);
}

TEST(discovery_serves_every_kind)
{
    char *text;
    start_one();
    json_t *v = req("GET", "/api", NULL, 200);
    CHECK_STR(str(v, "kind"), "APIVersions");
    json_t *g = req("GET", "/apis", NULL, 200);
    CHECK_INT(json_array_size(json_object_get(g, "groups")), ==, 14); /* + rbac, autoscaling, authorization, certificates, metrics.k8s.io, events.k8s.io */
    /* kube-apiserver's order: events.k8s.io right after apps */
    CHECK_STR(orc_json_str(json_array_get(json_object_get(g, "groups"), 1), "name"), "events.k8s.io");
    json_t *ev = req("GET", "/apis/events.k8s.io", NULL, 200);
    CHECK_STR(orc_json_str(ev, "preferredVersion.groupVersion"), "events.k8s.io/v1");
    json_decref(ev);
    ev = req("GET", "/apis/events.k8s.io/v1", NULL, 200);
    text = dump(ev);
    CHECK(strstr(text, "\"name\":\"events\"") && strstr(text, "\"kind\":\"Event\"")
          && strstr(text, "\"ev\"") && strstr(text, "\"deletecollection\""));
    free(text);
    json_decref(ev);
    json_t *core = req("GET", "/api/v1", NULL, 200);
    text = dump(core);
    CHECK(strstr(text, "\"name\":\"pods\"") && strstr(text, "\"po\"") && strstr(text, "pods/binding"));
    free(text);
    json_t *apps = req("GET", "/apis/apps/v1", NULL, 200);
    text = dump(apps);
    CHECK(strstr(text, "deployments/scale") && strstr(text, "\"deploy\""));
    free(text);
    json_t *net = req("GET", "/apis/networking.k8s.io/v1", NULL, 200);
    text = dump(net);
    CHECK(strstr(text, "ingresses/status") && strstr(text, "\"ing\"") && strstr(text, "ingressclasses"));
    free(text);
    json_decref(net);
    json_t *certs = req("GET", "/apis/certificates.k8s.io/v1", NULL, 200);
    text = dump(certs);
    CHECK(strstr(text, "certificatesigningrequests/approval") && strstr(text, "certificatesigningrequests/status")
          && strstr(text, "\"csr\""));
    free(text);
    json_decref(certs);
    json_t *ver = req("GET", "/version", NULL, 200);
    CHECK_STR(str(ver, "major"), "1");
    json_decref(req("GET", "/apis/extensions/v1beta1", NULL, 404));
    json_decref(ver);
    json_decref(apps);
    json_decref(core);
    json_decref(g);
    json_decref(v);
}

static bool gone_within(const char *path, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) {
        if (t_http(&c, 0, "GET", path, NULL, NULL, NULL, NULL) == 404) return true;
        test_sleep_ms(50);
    }
    return false;
}

TEST(deleting_a_namespace_empties_and_removes_it)
{
    start_one();
    json_decref(req("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"doomed\"}}", 201));
    json_decref(req("POST", "/api/v1/namespaces/doomed/configmaps", "{\"metadata\":{\"name\":\"a\"}}", 201));
    json_decref(req("POST", "/api/v1/namespaces/doomed/configmaps",
                    "{\"metadata\":{\"name\":\"held\",\"finalizers\":[\"example.com/hold\"]}}", 201));
    json_t *d = req("DELETE", "/api/v1/namespaces/doomed", NULL, 200);
    CHECK_STR(str(d, "status.phase"), "Terminating");
    json_decref(d);
    /* No new content while it is being deleted. */
    json_t *f = req("POST", "/api/v1/namespaces/doomed/configmaps", "{\"metadata\":{\"name\":\"b\"}}", 403);
    CHECK(strstr(str(f, "message"), "being terminated") != NULL);
    json_decref(f);
    CHECK(gone_within("/api/v1/namespaces/doomed/configmaps/a", 5000));
    /* The finalizer holds its object, marked, and with it the namespace. */
    json_t *held = req("GET", "/api/v1/namespaces/doomed/configmaps/held", NULL, 200);
    CHECK(orc_json_get(held, "metadata.deletionTimestamp") != NULL);
    json_decref(held);
    json_decref(req("GET", "/api/v1/namespaces/doomed", NULL, 200));
    json_decref(req_ct("PATCH", "/api/v1/namespaces/doomed/configmaps/held",
                       "application/merge-patch+json", "{\"metadata\":{\"finalizers\":null}}", 200));
    CHECK(gone_within("/api/v1/namespaces/doomed/configmaps/held", 5000));
    CHECK(gone_within("/api/v1/namespaces/doomed", 5000));
}

TEST(nodes_get_distinct_pod_cidrs_released_on_delete)
{
    start_one();
    json_t *a = req("POST", "/api/v1/nodes", "{\"metadata\":{\"name\":\"n-a\"}}", 201);
    json_t *b = req("POST", "/api/v1/nodes", "{\"metadata\":{\"name\":\"n-b\"}}", 201);
    CHECK_STR(str(a, "spec.podCIDR"), "10.42.0.0/24");
    CHECK_STR(str(b, "spec.podCIDR"), "10.42.1.0/24");
    /* A node naming a block another holds is refused. */
    json_decref(req("POST", "/api/v1/nodes",
                    "{\"metadata\":{\"name\":\"n-c\"},\"spec\":{\"podCIDR\":\"10.42.1.0/24\"}}", 409));
    json_decref(req("DELETE", "/api/v1/nodes/n-a", NULL, 200));
    json_t *c2 = req("POST", "/api/v1/nodes", "{\"metadata\":{\"name\":\"n-c\"}}", 201);
    CHECK_STR(str(c2, "spec.podCIDR"), "10.42.0.0/24");
    json_decref(c2);
    json_decref(b);
    json_decref(a);
}

TEST(pod_log_and_exec_say_why_they_cannot_run)
{
    start_one();
    json_decref(req("POST", "/api/v1/namespaces/default/pods",
                    "{\"metadata\":{\"name\":\"two\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"},"
                    "{\"name\":\"b\",\"image\":\"i\"}]}}",
                    201));
    json_t *e = req("GET", "/api/v1/namespaces/default/pods/two/log", NULL, 400);
    CHECK(strstr(str(e, "message"), "does not have a host assigned") != NULL);
    json_decref(e);
    json_decref(req("POST", "/api/v1/namespaces/default/pods/two/binding",
                    "{\"target\":{\"kind\":\"Node\",\"name\":\"gone\"}}", 201));
    e = req("GET", "/api/v1/namespaces/default/pods/two/log", NULL, 400);
    CHECK(strstr(str(e, "message"), "choose one of: [a b]") != NULL);
    json_decref(e);
    e = req("GET", "/api/v1/namespaces/default/pods/two/log?container=zz", NULL, 400);
    CHECK(strstr(str(e, "message"), "container zz is not valid") != NULL);
    json_decref(e);
    e = req("GET", "/api/v1/namespaces/default/pods/two/log?container=a", NULL, 503);
    CHECK(strstr(str(e, "message"), "node gone has no agent endpoint") != NULL);
    json_decref(e);
    e = req("POST", "/api/v1/namespaces/default/pods/two/exec?container=a&command=true", NULL, 503);
    json_decref(e);
    json_decref(req("GET", "/api/v1/namespaces/default/pods/nope/log", NULL, 404));
}
