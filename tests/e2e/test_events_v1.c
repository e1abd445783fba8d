/* test_events_v1.c — events.k8s.io/v1 Event against a real `orcd server`:
 * the core Events under another name (one object, two shapes); a watch
 * through it sees core writes; its strict create rules refuse with 422;
 * stock kubectl lists both; --event-ttl expires what it wrote too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CORE "/api/v1/namespaces/default/events"
#define V1 "/apis/events.k8s.io/v1/namespaces/default/events"
#define MERGE "application/merge-patch+json"

static struct cluster c;

static json_t *req(const char *method, const char *path, const char *ctype, const char *body,
                   int want)
{
    return t_expect(&c, method, path, ctype, body, want);
}

/* A core/v1 Event as orc's recorder writes it. */
static void post_core(const char *name, const char *pod, const char *reason)
{
    char body[1024], now[ORC_TIME_LEN];
    orc_time_format(orc_time_unix(), now);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"%s\"},"
             "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"%s\",\"namespace\":\"default\"},"
             "\"type\":\"Warning\",\"reason\":\"%s\",\"message\":\"Back-off restarting\","
             "\"count\":4,\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\","
             "\"source\":{\"component\":\"kubelet\",\"host\":\"n1\"},"
             "\"reportingComponent\":\"kubelet\",\"reportingInstance\":\"n1\"}",
             name, pod, reason, now, now);
    json_decref(req("POST", CORE, NULL, body, 201));
}

/* An events.k8s.io/v1 Event as client-go's events/v1 recorder writes it;
 * extra: more members ("" for none). */
static json_t *v1_body(const char *name, const char *extra)
{
    char body[2048], now[40];
    orc_time_format(orc_time_unix(), now);
    memcpy(now + 19, ".123456Z", 9); /* a MicroTime */
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"%s\"},"
             "\"eventTime\":\"%s\",\"reportingController\":\"example.com/sched\","
             "\"reportingInstance\":\"sched-1\",\"action\":\"Binding\",\"reason\":\"Scheduled\","
             "\"regarding\":{\"kind\":\"Pod\",\"name\":\"web-1\",\"namespace\":\"default\"},"
             "\"note\":\"Successfully assigned default/web-1 to n1\",\"type\":\"Normal\"%s}",
             name, now, extra);
    return json_loads(body, 0, NULL);
}

static void post_v1(const char *name, const char *extra, int want)
{
    json_t *b = v1_body(name, extra);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(req("POST", V1, NULL, text, want));
    free(text);
    json_decref(b);
}

static const char *item_named(const json_t *list, const char *name)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(list, "items"), i, it)
        if (strcmp(orc_json_str(it, "metadata.name"), name) == 0) return name;
    return NULL;
}

/* The list at path holds the one Event named name. */
static void only(const char *path, const char *name)
{
    json_t *l = req("GET", path, NULL, NULL, 200);
    CHECKF(json_array_size(json_object_get(l, "items")) == 1 && item_named(l, name),
           "%s: want only %s", path, name);
    json_decref(l);
}

TEST_T(one_object_two_shapes, 60)
{
    json_t *o, *l;

    run_start_one(&c);
    post_core("web-0.core", "web-0", "BackOff");
    post_v1("web-1.v1", "", 201);

    /* a core write read through events.k8s.io/v1, converted */
    o = req("GET", V1 "/web-0.core", NULL, NULL, 200);
    CHECK_STR(orc_json_str(o, "apiVersion"), "events.k8s.io/v1");
    CHECK_STR(orc_json_str(o, "note"), "Back-off restarting");
    CHECK_STR(orc_json_str(o, "regarding.name"), "web-0");
    CHECK_STR(orc_json_str(o, "reportingController"), "kubelet");
    CHECK_STR(orc_json_str(o, "deprecatedSource.component"), "kubelet");
    CHECK_INT(json_integer_value(orc_json_get(o, "deprecatedCount")), ==, 4);
    CHECK(orc_json_str(o, "deprecatedLastTimestamp") != NULL);
    CHECK(orc_json_get(o, "message") == NULL && orc_json_get(o, "involvedObject") == NULL);
    json_decref(o);

    /* a v1 write read through core/v1 */
    o = req("GET", CORE "/web-1.v1", NULL, NULL, 200);
    CHECK_STR(orc_json_str(o, "apiVersion"), "v1");
    CHECK_STR(orc_json_str(o, "message"), "Successfully assigned default/web-1 to n1");
    CHECK_STR(orc_json_str(o, "involvedObject.name"), "web-1");
    CHECK_STR(orc_json_str(o, "reportingComponent"), "example.com/sched");
    CHECK_STR(orc_json_str(o, "action"), "Binding");
    CHECK(orc_json_str(o, "eventTime") != NULL);
    json_decref(o);

    /* listed in both groups, in a namespace and across them */
    l = req("GET", "/apis/events.k8s.io/v1/events", NULL, NULL, 200);
    CHECK_STR(orc_json_str(l, "kind"), "EventList");
    CHECK_STR(orc_json_str(l, "apiVersion"), "events.k8s.io/v1");
    CHECK(item_named(l, "web-0.core") && item_named(l, "web-1.v1"));
    json_decref(l);
    l = req("GET", CORE, NULL, NULL, 200);
    CHECK(item_named(l, "web-0.core") && item_named(l, "web-1.v1"));
    json_decref(l);

    /* field selectors by the version's own labels */
    only(V1 "?fieldSelector=regarding.name%3Dweb-1", "web-1.v1");
    only("/apis/events.k8s.io/v1/events?fieldSelector=reportingController%3Dkubelet,type%3DWarning",
         "web-0.core");
    json_decref(req("GET", V1 "?fieldSelector=involvedObject.name%3Dweb-1", NULL, NULL, 400));

    /* a series recorded through v1 (a merge patch), seen by core */
    o = req("PATCH", V1 "/web-1.v1", MERGE,
            "{\"series\":{\"count\":2,\"lastObservedTime\":\"2026-01-01T00:00:00.000000Z\"}}", 200);
    CHECK_INT(json_integer_value(orc_json_get(o, "series.count")), ==, 2);
    CHECK_STR(orc_json_str(o, "apiVersion"), "events.k8s.io/v1");
    json_decref(o);
    o = req("GET", CORE "/web-1.v1", NULL, NULL, 200);
    CHECK_INT(json_integer_value(orc_json_get(o, "series.count")), ==, 2);
    json_decref(o);

    /* an update through v1 may not change the note (Kubernetes names it message) */
    o = req("PATCH", V1 "/web-1.v1", MERGE, "{\"note\":\"changed\"}", 422);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(o, "details.causes"), 0), "field"), "message");
    json_decref(o);

    /* deleted through v1: gone from core */
    json_decref(req("DELETE", V1 "/web-1.v1", NULL, NULL, 200));
    json_decref(req("GET", CORE "/web-1.v1", NULL, NULL, 404));
}

/* The first cause's field of a refused v1 create; nothing stored. */
static void refused(const char *name, json_t *body, const char *field)
{
    char *text = json_dumps(body, JSON_COMPACT), path[256];
    json_t *st = req("POST", V1, NULL, text, 422);
    const json_t *causes = orc_json_get(st, "details.causes");
    bool named = false;
    size_t i;
    json_t *cause;

    json_array_foreach(causes, i, cause) named |= strcmp(orc_json_str(cause, "field"), field) == 0;
    CHECKF(named, "%s: no cause names %s: %s", name, field, text);
    snprintf(path, sizeof path, CORE "/%s", name);
    json_decref(req("GET", path, NULL, NULL, 404));
    json_decref(st);
    json_decref(body);
    free(text);
}

TEST_T(strict_v1_creates_and_watch, 60)
{
    json_t *b;
    char note[1100], *w = NULL, path[256];
    pid_t pid;
    int status;

    run_start_one(&c);
    b = v1_body("e1", "");
    json_object_del(b, "eventTime");
    refused("e1", b, "eventTime");
    b = v1_body("e2", "");
    json_object_del(b, "reportingController");
    refused("e2", b, "reportingController");
    b = v1_body("e3", "");
    json_object_del(b, "action");
    refused("e3", b, "action");
    memset(note, 'x', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    b = v1_body("e4", "");
    json_object_set_new(b, "note", json_string(note));
    refused("e4", b, "message");
    refused("e5", v1_body("e5", ",\"deprecatedCount\":3"), "count");
    refused("e6", v1_body("e6", ",\"series\":{\"count\":1}"), "series.count");
    b = v1_body("e7", "");
    json_object_set_new(b, "type", json_string("Error"));
    refused("e7", b, "type");

    /* a watch through v1 sees a core write as it happens, in v1's shape */
    pid = fork();
    if (pid == 0) {
        test_sleep_ms(300);
        post_core("live.core", "web-9", "Unhealthy");
        _exit(0);
    }
    snprintf(path, sizeof path, V1 "?watch=1&timeoutSeconds=2&fieldSelector=regarding.name%%3Dweb-9");
    CHECK_INT(t_http(&c, 0, "GET", path, NULL, NULL, &w, NULL), ==, 200);
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    CHECK_HAS(w, "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"events.k8s.io/v1\"");
    CHECK_HAS(w, "\"note\":\"Back-off restarting\"");
    CHECK_HAS(w, "\"regarding\":{");
    free(w);
}

/* kubectl apply [--server-side] of an events.k8s.io/v1 manifest; extra:
 * more YAML lines. */
static void apply_v1(const char *name, const char *extra, bool server_side)
{
    char path[700];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s.yaml", test_tmpdir(), name);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: %s}\n"
               "eventTime: \"2026-01-01T00:00:00.000000Z\"\nreportingController: example.com/ops\n"
               "reportingInstance: ops-1\naction: Apply\nreason: Applied\ntype: Normal\n"
               "note: note of %s\n%s", name, name, extra);
    fclose(f);
    free(run_kubectl_rc(&c, 0, NULL,
                        server_side ? (const char *const[]){"apply", "--server-side", "-f", path, NULL}
                                    : (const char *const[]){"apply", "-f", path, NULL}));
}

TEST_T(kubectl_lists_and_ttl_expires, 60)
{
    const char *extra[] = {"--event-ttl", "4s", NULL};
    char *out;
    json_t *o;
    uint64_t end;

    if (!run_have_kubectl()) return;
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
    post_core("web-0.core", "web-0", "BackOff");
    post_v1("web-1.v1", "", 201);

    out = run_kubectl_rc(&c, 0, NULL, (const char *const[]){"api-resources", "--api-group=events.k8s.io", NULL});
    CHECK_HAS(out, "events.k8s.io/v1");
    free(out);
    /* kube-apiserver's columns for Events, in either group */
    out = run_kubectl_rc(&c, 0, NULL, (const char *const[]){"get", "events.events.k8s.io", "-A", NULL});
    CHECK_HAS(out, "NAMESPACE   LAST SEEN   TYPE      REASON      OBJECT      MESSAGE\n");
    CHECK_HAS(out, "Warning   BackOff     pod/web-0   Back-off restarting\n");
    CHECK_HAS(out, "Normal    Scheduled   pod/web-1   Successfully assigned default/web-1 to n1\n");
    free(out);
    out = run_kubectl_rc(&c, 0, NULL, (const char *const[]){"get", "events.events.k8s.io", "web-0.core",
                                                            "-o", "jsonpath={.regarding.name} {.note}", NULL});
    CHECK_STR(out, "web-0 Back-off restarting");
    free(out);
    out = run_kubectl_rc(&c, 0, NULL, (const char *const[]){"explain", "events.regarding",
                                                            "--api-version=events.k8s.io/v1", NULL});
    CHECK_HAS(out, "GROUP:      events.k8s.io");
    free(out);
    out = run_kubectl_rc(&c, 0, NULL, (const char *const[]){"events", "-n", "default", NULL});
    CHECK_HAS(out, "Successfully assigned default/web-1 to n1");
    CHECK_HAS(out, "Back-off restarting");
    free(out);

    /* kubectl apply of an events.k8s.io/v1 manifest, client- and server-side */
    apply_v1("applied", "regarding: {kind: Pod, name: web-2, namespace: default}\n", false);
    apply_v1("applied", "regarding: {kind: Pod, name: web-2, namespace: default}\n", true);
    json_decref(req("GET", CORE "/applied", NULL, NULL, 200));
    apply_v1("ssa", "", true); /* created by a server-side apply, through v1's rules */
    o = req("GET", CORE "/ssa", NULL, NULL, 200);
    CHECK_STR(orc_json_str(o, "message"), "note of ssa");
    json_decref(o);

    /* orctl prints either group's Events with the same columns */
    {
        char *err;
        CHECK_INT(run_orctl(&c, &out, &err, "get", "events.events.k8s.io", NULL), ==, 0);
        CHECK_HAS(out, "LAST SEEN   TYPE      REASON      OBJECT      MESSAGE\n");
        CHECK_HAS(out, "Normal    Scheduled   pod/web-1   Successfully assigned default/web-1 to n1\n");
        free(out);
        free(err);
    }

    /* the TTL expires an Event written through v1 too */
    end = test_now_ms() + 20000;
    for (;;) {
        json_t *l = req("GET", V1, NULL, NULL, 200);
        size_t n = json_array_size(json_object_get(l, "items"));
        json_decref(l);
        if (n == 0) break;
        CHECKF(test_now_ms() < end, "%zu events still listed 20 s on", n);
        test_sleep_ms(500);
    }
}
