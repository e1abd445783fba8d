/* test_events.c — the event recorder against a real `orcd server`: an Event
 * as Kubernetes writes one, repeats within ten minutes counted on the stored
 * one (also when they come while its POST is in flight), a repeat after the
 * window as a new Event; a recorder whose writes all fail stays bounded and
 * frees cleanly with writes in flight. The window runs on a fake clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/events.h"
#include "client/http.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

static struct cluster c; /* static: the harness's end-of-case cleanups use it */

static uv_loop_t loop;
static uv_timer_t tick;

static void on_tick(uv_timer_t *t) { (void)t; }

static void run_for(unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) uv_run(&loop, UV_RUN_ONCE);
}

/* The Events in "default" about `name` (a new reference). */
static json_t *events_about(const char *name)
{
    int st = 0;
    json_t *l = t_json(&c, 0, "GET", "/api/v1/namespaces/default/events", NULL, &st);
    json_t *out = json_array(), *ev;
    size_t i;

    CHECK_INT(st, ==, 200);
    json_array_foreach(json_object_get(l, "items"), i, ev) {
        const char *n = orc_json_str(ev, "involvedObject.name");
        if (n && strcmp(n, name) == 0) json_array_append(out, ev);
    }
    json_decref(l);
    return out;
}

/* Waits until the Events about `name` number `n` and the counts sum to `sum`. */
static json_t *wait_events(const char *name, size_t n, long long sum)
{
    uint64_t end = test_now_ms() + 10000;
    json_t *l = NULL;

    for (;;) {
        long long s = 0;
        json_t *ev;
        size_t i;
        json_decref(l);
        l = events_about(name);
        json_array_foreach(l, i, ev) s += json_integer_value(json_object_get(ev, "count"));
        if ((json_array_size(l) == n && s == sum) || test_now_ms() > end) break;
        run_for(50);
    }
    CHECKF(json_array_size(l) == n, "%zu events about %s, want %zu", json_array_size(l), name, n);
    return l;
}

static void start(http_client **cl)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    CHECK(uv_loop_init(&loop) == 0);
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    CHECK_INT(http_client_new_tls(&loop, c.m[0].url, c.token, cluster_tls(&c), cl), ==, 0);
}

static void finish(http_client *cl)
{
    http_client_close(cl, NULL, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

TEST(events_written_counted_and_windowed)
{
    http_client *cl;
    event_recorder *r;
    orc_clock *clk = orc_clock_fake(1800000000000);
    int st = 0;
    json_t *obj, *l, *ev;
    char ts[ORC_TIME_LEN];

    start(&cl);
    obj = t_json(&c, 0, "POST", "/api/v1/namespaces/default/configmaps",
                 "{\"metadata\":{\"name\":\"web\"}}", &st);
    CHECK_INT(st, ==, 201);
    CHECK_INT(events_new(cl, clk, "replicaset-controller", "node-1", &r), ==, 0);

    events_record(r, obj, "Normal", "SuccessfulCreate", "Created pod: %s-%d", "web", 1);
    l = wait_events("web", 1, 1);
    ev = json_array_get(l, 0);
    CHECK(strncmp(orc_json_str(ev, "metadata.name"), "web.", 4) == 0);
    CHECK_STR(orc_json_str(ev, "type"), "Normal");
    CHECK_STR(orc_json_str(ev, "reason"), "SuccessfulCreate");
    CHECK_STR(orc_json_str(ev, "message"), "Created pod: web-1");
    CHECK_STR(orc_json_str(ev, "involvedObject.kind"), "ConfigMap");
    CHECK_STR(orc_json_str(ev, "involvedObject.apiVersion"), "v1");
    CHECK_STR(orc_json_str(ev, "involvedObject.namespace"), "default");
    CHECK_STR(orc_json_str(ev, "involvedObject.uid"), orc_json_str(obj, "metadata.uid"));
    CHECK_STR(orc_json_str(ev, "involvedObject.resourceVersion"),
              orc_json_str(obj, "metadata.resourceVersion"));
    CHECK_STR(orc_json_str(ev, "source.component"), "replicaset-controller");
    CHECK_STR(orc_json_str(ev, "source.host"), "node-1");
    CHECK_STR(orc_json_str(ev, "reportingComponent"), "replicaset-controller");
    orc_time_format(1800000000, ts);
    CHECK_STR(orc_json_str(ev, "firstTimestamp"), ts);
    CHECK_STR(orc_json_str(ev, "lastTimestamp"), ts);
    json_decref(l);

    /* repeats within the window: one Event, counted; two come at once (the
     * second while the first PATCH is in flight) */
    orc_clock_fake_advance(clk, 60000);
    events_record(r, obj, "Normal", "SuccessfulCreate", "Created pod: web-1");
    events_record(r, obj, "Normal", "SuccessfulCreate", "Created pod: web-1");
    l = wait_events("web", 1, 3);
    ev = json_array_get(l, 0);
    CHECK_INT(json_integer_value(json_object_get(ev, "count")), ==, 3);
    orc_time_format(1800000060, ts);
    CHECK_STR(orc_json_str(ev, "lastTimestamp"), ts);
    json_decref(l);

    /* another reason is another Event; a repeat after ten quiet minutes too */
    events_record(r, obj, "Warning", "FailedCreate", "quota");
    l = wait_events("web", 2, 4);
    json_decref(l);
    orc_clock_fake_advance(clk, 11 * 60 * 1000);
    events_record(r, obj, "Normal", "SuccessfulCreate", "Created pod: web-1");
    l = wait_events("web", 3, 5);
    json_decref(l);

    /* repeats while the first POST is still in flight end up counted too */
    events_record(r, obj, "Normal", "Burst", "x");
    events_record(r, obj, "Normal", "Burst", "x");
    events_record(r, obj, "Normal", "Burst", "x");
    l = wait_events("web", 4, 8);
    json_decref(l);

    /* the stored Event deleted (expired): the repeat's PATCH gets 404, and
     * the next repeat writes a new Event */
    const char *evname = NULL;
    json_t *ev2;
    size_t i;
    char path[512];
    l = events_about("web");
    json_array_foreach(l, i, ev2)
        if (strcmp(orc_json_str(ev2, "reason"), "Burst") == 0) evname = orc_json_str(ev2, "metadata.name");
    CHECK(evname != NULL);
    snprintf(path, sizeof path, "/api/v1/namespaces/default/events/%s", evname);
    json_decref(t_json(&c, 0, "DELETE", path, NULL, &st));
    CHECK_INT(st, ==, 200);
    json_decref(l);
    json_decref(wait_events("web", 3, 5));
    events_record(r, obj, "Normal", "Burst", "x");
    run_for(300);
    events_record(r, obj, "Normal", "Burst", "x");
    l = wait_events("web", 4, 6);
    json_decref(l);
    events_free(r);
    json_decref(obj);
    finish(cl);
    orc_clock_free(clk);
}

/* A burst past the writes kept in flight waits in the queue, and every
 * event of it arrives; repeats of a queued event ride on its count. */
TEST(events_burst_queued_all_written)
{
    http_client *cl;
    event_recorder *r;
    orc_clock *clk = orc_clock_fake(1800000000000);
    int st = 0;
    json_t *obj, *l;

    start(&cl);
    obj = t_json(&c, 0, "POST", "/api/v1/namespaces/default/configmaps",
                 "{\"metadata\":{\"name\":\"burst\"}}", &st);
    CHECK_INT(st, ==, 201);
    CHECK_INT(events_new(cl, clk, "default-scheduler", NULL, &r), ==, 0);
    for (int i = 0; i < 100; i++) events_record(r, obj, "Normal", "Scheduled", "pod %d", i);
    events_record(r, obj, "Normal", "Scheduled", "pod %d", 99);
    events_record(r, obj, "Normal", "Scheduled", "pod %d", 99);
    l = wait_events("burst", 100, 102);
    json_decref(l);
    events_free(r);
    json_decref(obj);
    finish(cl);
    orc_clock_free(clk);
}

TEST(events_failing_writes_stay_bounded)
{
    http_client *cl;
    event_recorder *r;
    orc_clock *clk = orc_clock_fake(0);
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "Pod",
                            "metadata", "name", "p", "namespace", "default", "uid", "u1");
    char big[2000];

    CHECK(uv_loop_init(&loop) == 0);
    uv_timer_init(&loop, &tick);
    CHECK_INT(http_client_new(&loop, "http://127.0.0.1:1", NULL, &cl), ==, 0);
    CHECK_INT(events_new(cl, clk, "test", NULL, &r), ==, 0);
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    events_record(r, obj, "Warning", "Big", "%s", big); /* cut at 1 KiB */
    for (int i = 0; i < 5000; i++) { /* more than the LRU holds */
        events_record(r, obj, "Normal", "Many", "message %d", i);
        if (i % 500 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    run_for(200);
    for (int i = 0; i < 50; i++) events_record(r, obj, "Normal", "Many", "message %d", i);
    events_free(r); /* writes still in flight finish without it */
    json_decref(obj);
    finish(cl);
    orc_clock_free(clk);
}

TEST(events_rejects_missing_args)
{
    event_recorder *r;
    orc_clock *clk = orc_clock_fake(0);

    CHECK_INT(events_new(NULL, clk, "x", NULL, &r), ==, ORC_EINVAL);
    events_free(NULL);
    orc_clock_free(clk);
}
