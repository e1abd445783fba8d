/* test_events.c — Events against a real `orcd server`: `orctl events` as
 * kubectl events prints them (columns, oldest first, a repeated one as
 * "(xN over ...)"), --for and --types filter, -w prints what happens, and
 * with a short --event-ttl the leader deletes them once expired. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static void event_post(const char *name, const char *kind, const char *obj, const char *type,
                       const char *reason, int count, int ago_s, const char *msg)
{
    char body[2048], first[ORC_TIME_LEN], last[ORC_TIME_LEN], *resp = NULL;
    int st;

    orc_time_format(orc_time_unix() - ago_s - 60 * (count > 1), first);
    orc_time_format(orc_time_unix() - ago_s, last);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"%s\"},"
             "\"involvedObject\":{\"kind\":\"%s\",\"name\":\"%s\",\"namespace\":\"default\"},"
             "\"type\":\"%s\",\"reason\":\"%s\",\"message\":\"%s\",\"count\":%d,"
             "\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\",\"source\":{\"component\":\"test\"}}",
             name, kind, obj, type, reason, msg, count, first, last);
    st = t_http(&c, 0, "POST", "/api/v1/namespaces/default/events", NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST event %s: %d %s", name, st, resp ? resp : "");
    free(resp);
}

static char *orctl_ok(const char *a, const char *b, const char *d, const char *e)
{
    char *out, *err;
    int rv = run_orctl(&c, &out, &err, "events", a, b, d, e, NULL);
    CHECKF(rv == 0, "orctl events %s %s: %d\n%s%s", a ? a : "", b ? b : "", rv, out, err);
    free(err);
    return out;
}

TEST_T(events_listed_filtered_and_expired, 60)
{
    const char *extra[] = {"--event-ttl", "4s", NULL};
    char *out, *err, *line2;
    uint64_t end;
    int rv;

    cluster_init(&c, 1);
    cluster_start(&c, extra);
    event_post("web-0.a", "Pod", "web-0", "Warning", "BackOff", 1, 2, "Back-off restarting failed container");
    event_post("web-0.b", "Pod", "web-0", "Normal", "Pulled", 1, 1, "Container image pulled");
    event_post("web.c", "Deployment", "web", "Normal", "ScalingReplicaSet", 3, 0, "Scaled up replica set web-1 to 2");

    /* kubectl events' columns, oldest first; the repeated one counted */
    out = orctl_ok(NULL, NULL, NULL, NULL);
    CHECK(strncmp(out, "LAST SEEN   ", 12) == 0);
    CHECK_HAS(out, "   TYPE      REASON              OBJECT           MESSAGE\n");
    line2 = strchr(out, '\n') + 1;
    CHECKF(strstr(line2, "Warning   BackOff") && strstr(line2, "Pod/web-0        Back-off restarting failed container\n"),
           "%s", out);
    CHECK_HAS(out, "Normal    Pulled              Pod/web-0        Container image pulled\n");
    CHECK_HAS(out, "s (x3 over 6"); /* seconds: a loaded machine may be late */
    CHECK_HAS(out, "s)   Normal    ScalingReplicaSet");
    CHECK_HAS(out, "Deployment/web   Scaled up replica set web-1 to 2\n");
    CHECK(strstr(out, "BackOff") < strstr(out, "Pulled") && strstr(out, "Pulled") < strstr(out, "ScalingReplicaSet"));
    free(out);

    /* --for KIND/NAME and --types */
    out = orctl_ok("--for", "deploy/web", NULL, NULL);
    CHECK_HAS(out, "ScalingReplicaSet");
    CHECK_LACKS(out, "Pod/web-0");
    free(out);
    out = orctl_ok("--for", "pod/web-0", "--types", "Warning");
    CHECK_HAS(out, "BackOff");
    CHECK_LACKS(out, "Pulled");
    CHECK_LACKS(out, "ScalingReplicaSet");
    free(out);
    out = orctl_ok("-A", "--types", "warning", NULL);
    CHECK_HAS(out, "NAMESPACE   LAST SEEN");
    CHECK_HAS(out, "default     ");
    free(out);
    rv = run_orctl(&c, &out, &err, "events", "--types", "Error", NULL);
    CHECK_INT(rv, ==, 2);
    CHECK_HAS(err, "valid --types are Normal or Warning");
    free(out);
    free(err);
    rv = run_orctl(&c, &out, &err, "events", "--for", "web", NULL);
    CHECK(rv != 0);
    CHECK_HAS(err, "--for must be in resource/name form");
    free(out);
    free(err);

    /* expired after the TTL (4 s), deleted by the leader */
    end = test_now_ms() + 20000;
    for (;;) {
        rv = run_orctl(&c, &out, &err, "events", NULL);
        if (rv == 0 && strstr(err, "No events found in default namespace.")) break;
        CHECKF(test_now_ms() < end, "events still listed 20 s on:\n%s%s", out, err);
        free(out);
        free(err);
        test_sleep_ms(500);
    }
    CHECK_STR(out, "");
    free(out);
    free(err);
}

TEST_T(watch_prints_new_events, 60)
{
    char path[700], *text = NULL;
    pid_t pid;
    uint64_t end;

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    event_post("old.a", "Pod", "old", "Normal", "Started", 1, 0, "Started container app");
    snprintf(path, sizeof path, "%s/watch.out", test_tmpdir());
    pid = spawn_orctl(c.home, path, (const char *const[]){"events", "-w", "--types", "Warning", NULL});
    test_sleep_ms(500);
    event_post("new.b", "Pod", "new", "Warning", "Unhealthy", 1, 0, "Liveness probe failed");
    event_post("new.c", "Pod", "new", "Normal", "Killing", 1, 0, "Stopping container app");
    text = wait_for_output(path, "Liveness probe failed", 10000);
    end = test_now_ms() + 500;
    while (test_now_ms() < end) test_sleep_ms(50);
    CHECK_INT(stop_orctl(pid, SIGINT), ==, 0);
    free(text);
    text = run_read_file(path);
    CHECK_HAS(text, "LAST SEEN   TYPE      REASON      OBJECT    MESSAGE\n");
    CHECK_HAS(text, "Warning   Unhealthy   Pod/new   Liveness probe failed\n");
    CHECK_LACKS(text, "Killing");
    CHECK_LACKS(text, "Started");
    free(text);
}
