/* test_worker_fake.c — the pod worker's state machine on a fake clock and a
 * fake runtime (tests/agent/workerfx.h): restart policies, the
 * CrashLoopBackOff back-off (10 s doubling to 5 min, forgotten after 10 min
 * of running), a restart for a new image, graceful stops within the grace
 * period, image pull failures (ErrImagePull, ImagePullBackOff), start
 * failures and re-adoption. No root, no server: each case runs in
 * milliseconds however many minutes it spans. */
#include <stdio.h>
#include <string.h>

#include "lib/file.h"
#include "tests/agent/workerfx.h"

#define IMG "registry.test/app:1"
#define IMG2 "registry.test/app:2"

/* Ends the running "app" with `code` and lets the worker hear it. */
static void app_exits(int code)
{
    char id[160];

    snprintf(id, sizeof id, "%s", wfx_running("app"));
    CHECKF(id[0], "app is not running");
    CHECK(fakert_exit(X.rt, id, code));
    wfx_settle();
}

static void check_running(int restarts)
{
    CHECKF(wfx_running("app")[0], "app should run (t=%llu ms)", (unsigned long long)wfx_now());
    CHECK_STR(wfx_state("app"), "running");
    CHECK_INT(wfx_restarts("app"), ==, restarts);
}

TEST(starts_and_reports_running)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    check_running(0);
    CHECK_STR(wfx_phase(), "Running");
    CHECK_INT(X.rt->pulls, ==, 1);
    CHECK_INT(X.rt->starts, ==, 1);
    CHECK_INT(wfx_events("Started"), ==, 1);
    /* one status write for the start: it was held while the container came up */
    for (size_t i = 0; i < json_array_size(X.calls); i++) {
        const json_t *patch = json_array_get(json_object_get(json_array_get(X.calls, i), "body"), 0);
        CHECK(strcmp(orc_json_str(patch, "value.phase") ?: "", "Failed") != 0);
    }
    CHECK_STR(orc_json_str(wfx_status(), "startTime"), "2026-09-21T14:13:20Z"); /* the fake wall clock */
}

TEST(always_backoff_doubles_to_five_minutes)
{
    static const unsigned waits_s[] = {10, 20, 40, 80, 160, 300, 300};
    char want[64];

    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    app_exits(1); /* the first restart is immediate */
    check_running(1);
    for (size_t i = 0; i < ORC_ARRAY_LEN(waits_s); i++) {
        app_exits(1);
        CHECK_STR(wfx_state("app"), "waiting:CrashLoopBackOff");
        snprintf(want, sizeof want, "back-off %us restarting failed container=app", waits_s[i]);
        CHECKF(strstr(orc_json_str(wfx_ctr_status("app"), "state.waiting.message") ?: "", want),
               "restart %zu: want \"%s\" in %s", i, want, orc_json_str(wfx_ctr_status("app"), "state.waiting.message"));
        CHECK_STR(orc_json_str(wfx_ctr_status("app"), "lastState.terminated.reason"), "Error");
        wfx_advance(waits_s[i] * 1000ull - 1);
        CHECKF(!wfx_running("app")[0], "restart %zu came before %us", i, waits_s[i]);
        wfx_advance(1);
        check_running((int)i + 2);
    }
    CHECK_INT(wfx_events("BackOff"), >=, 1);
}

TEST(backoff_forgotten_after_ten_minutes_running)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    app_exits(1);
    app_exits(1);
    wfx_advance(10000);
    check_running(2);
    wfx_advance(10 * 60 * 1000);
    app_exits(1); /* ran 10 min: starts afresh, at once */
    check_running(3);
}

TEST(on_failure_restarts_failures_only)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "OnFailure", NULL);
    wfx_start(pod);
    json_decref(pod);
    app_exits(2);
    check_running(1);
    app_exits(0);
    wfx_advance(10 * 60 * 1000);
    CHECK(!wfx_running("app")[0]);
    CHECK_INT(X.rt->starts, ==, 2);
    CHECK_STR(wfx_phase(), "Succeeded");
    CHECK_STR(wfx_state("app"), "terminated:Completed");
}

TEST(never_does_not_restart)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Never", NULL);
    wfx_start(pod);
    json_decref(pod);
    app_exits(3);
    wfx_advance(10 * 60 * 1000);
    CHECK_INT(X.rt->starts, ==, 1);
    CHECK_STR(wfx_phase(), "Failed");
    CHECK_STR(wfx_state("app"), "terminated:Error");
    CHECK_INT(orc_json_get(wfx_ctr_status("app"), "state.terminated.exitCode") ?
              json_integer_value(orc_json_get(wfx_ctr_status("app"), "state.terminated.exitCode")) : -1, ==, 3);
}

/* A new image restarts the container whatever the restart policy, without
 * the old spec's back-off. */
TEST(image_change_restarts_with_the_new_image)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    fakert_add_image(X.rt, IMG2);
    json_t *pod = wfx_pod(IMG, "Never", "{\"terminationGracePeriodSeconds\": 5}");
    wfx_start(pod);
    json_object_set_new(json_array_get(orc_json_get(pod, "spec.containers"), 0), "image", json_string(IMG2));
    worker_update(X.w, pod);
    json_decref(pod);
    wfx_settle();
    CHECK_INT(X.rt->stops, ==, 1);
    CHECK_INT(X.rt->last_grace, ==, 5);
    CHECK_INT(wfx_events("Killing"), ==, 1);
    CHECK_STR(X.rt->last_pull, IMG2);
    check_running(1);
    CHECK_STR(orc_json_str(wfx_ctr_status("app"), "image"), IMG2);
    CHECK_INT(X.rt->starts, ==, 2);
    CHECK_STR(wfx_phase(), "Running"); /* never Failed on the way, though restartPolicy is Never */
    for (size_t i = 0; i < json_array_size(X.calls); i++) {
        const json_t *patch = json_array_get(json_object_get(json_array_get(X.calls, i), "body"), 0);
        CHECK(strcmp(orc_json_str(patch, "value.phase") ?: "", "Failed") != 0);
    }
}

/* Deletion: preStop, SIGTERM, SIGKILL at the end of the grace period, then
 * the pod's files go and the deletion is finished through the API. */
TEST(graceful_stop_waits_for_the_grace_period)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    X.rt->term_ignored = true;
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    json_object_set_new(json_array_get(orc_json_get(pod, "spec.containers"), 0), "lifecycle",
                        json_pack("{s:{s:{s:[s]}}}", "preStop", "exec", "command", "/bin/drain"));
    wfx_start(pod);
    json_object_set_new(json_object_get(pod, "metadata"), "deletionTimestamp", json_string("2026-09-21T13:46:41Z"));
    json_object_set_new(json_object_get(pod, "metadata"), "deletionGracePeriodSeconds", json_integer(20));
    worker_update(X.w, pod);
    json_decref(pod);
    wfx_settle();
    CHECK_INT(X.rt->execs, ==, 1);
    CHECK_INT(X.rt->stops, ==, 1);
    CHECK_INT(X.rt->last_grace, ==, 20);
    wfx_advance(19999);
    CHECK(wfx_running("app")[0]);
    CHECK_INT(wfx_calls("DELETE", "/pods/p"), ==, 0);
    wfx_advance(1);
    CHECK(!wfx_running("app")[0]);
    CHECK_INT(wfx_calls("DELETE", "/pods/p"), ==, 1);
    CHECK_INT(X.rt->starts, ==, 1); /* not restarted while terminating */
    CHECK(X.w->cleaned && X.w->finalized);
}

TEST(stop_ends_at_once_when_the_container_obeys)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_object_set_new(json_object_get(pod, "metadata"), "deletionTimestamp", json_string("2026-09-21T13:46:41Z"));
    worker_update(X.w, pod);
    json_decref(pod);
    wfx_settle();
    CHECK_INT(X.rt->last_grace, ==, 30);
    CHECK_INT(wfx_calls("DELETE", "/pods/p"), ==, 1);
}

TEST(pull_failure_err_image_pull_then_backoff)
{
    wfx_init();
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    CHECK_STR(wfx_state("app"), "waiting:ErrImagePull");
    CHECK_STR(wfx_phase(), "Pending");
    CHECK_INT(wfx_events("Failed"), ==, 1);
    wfx_advance(2000);
    CHECK_STR(wfx_state("app"), "waiting:ImagePullBackOff");
    CHECK_STR(orc_json_str(wfx_ctr_status("app"), "state.waiting.message"), "Back-off pulling image \"" IMG "\"");
    CHECK_INT(X.rt->pulls, ==, 1);
    wfx_advance(8000 - 1);
    CHECK_INT(X.rt->pulls, ==, 1);
    wfx_advance(1); /* 10 s after the failure */
    CHECK_INT(X.rt->pulls, ==, 2);
    CHECK_STR(wfx_state("app"), "waiting:ErrImagePull");
    wfx_advance(20000 - 1); /* then 20 s */
    CHECK_INT(X.rt->pulls, ==, 2);
    wfx_advance(1);
    CHECK_INT(X.rt->pulls, ==, 3);
    fakert_add_image(X.rt, IMG);
    wfx_advance(40000);
    CHECK_INT(X.rt->pulls, ==, 4);
    check_running(0);
}

TEST(bad_image_name_is_invalid_image_name)
{
    wfx_init();
    X.rt->pull_err = ORC_EINVAL;
    json_t *pod = wfx_pod("Bad//Name", "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    CHECK_STR(wfx_state("app"), "waiting:InvalidImageName");
}

TEST(start_failure_run_container_error_with_backoff)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    X.rt->start_err = ORC_EINVAL;
    X.rt->start_fails = 2;
    snprintf(X.rt->start_msg, sizeof X.rt->start_msg, "exec: \"/bin/app\": executable file not found in $PATH");
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    /* the first failure retries at once, the second waits 10 s */
    CHECK_INT(X.rt->starts, ==, 2);
    CHECK_STR(wfx_state("app"), "waiting:RunContainerError");
    CHECK_STR(orc_json_str(wfx_ctr_status("app"), "state.waiting.message"), X.rt->start_msg);
    CHECK_INT(wfx_events("Failed"), ==, 1); /* the same event again bumps its count */
    wfx_advance(9999);
    CHECK_INT(X.rt->starts, ==, 2);
    wfx_advance(1);
    check_running(0);
}

TEST(adopts_a_running_container)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    fakert_add_running(X.rt, WFX_UID "-app-3", WFX_UID);
    X.a->pods_listed = false; /* the first pods list: runs may be there */
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    CHECK_INT(X.rt->starts, ==, 0);
    CHECK_STR(wfx_running("app"), WFX_UID "-app-3");
    check_running(3);
    app_exits(1);
    CHECK_STR(wfx_running("app"), WFX_UID "-app-4");
}

/* Probes run on the agent's clock too: a liveness probe failing three
 * periods in a row restarts the container; readiness gates Ready. */
TEST(liveness_probe_failure_restarts_on_the_clock)
{
    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    json_t *app = json_array_get(orc_json_get(pod, "spec.containers"), 0);
    json_object_set_new(app, "livenessProbe", json_pack("{s:{s:[s]}, s:i, s:i}", "exec", "command", "/bin/check",
                                                        "periodSeconds", 10, "failureThreshold", 3));
    json_object_set_new(app, "readinessProbe", json_pack("{s:{s:[s]}, s:i, s:i}", "exec", "command", "/bin/check",
                                                         "periodSeconds", 10, "failureThreshold", 1));
    wfx_start(pod);
    json_decref(pod);
    check_running(0);
    CHECK(json_is_true(json_object_get(wfx_ctr_status("app"), "ready")));
    wfx_advance(25000);
    X.rt->exec_code = 1; /* fails from the attempts at 30 s on */
    wfx_advance(30000 - 25000 - 1);
    CHECK(json_is_true(json_object_get(wfx_ctr_status("app"), "ready")));
    wfx_advance(1);
    CHECK(!json_is_true(json_object_get(wfx_ctr_status("app"), "ready")));
    CHECK_INT(X.rt->starts, ==, 1);
    wfx_advance(20000 - 1);
    CHECK_INT(X.rt->starts, ==, 1);
    wfx_advance(1); /* the third failure in a row, at 50 s */
    CHECK_INT(X.rt->stops, ==, 1);
    CHECK_INT(X.rt->starts, ==, 2);
    CHECK_INT(wfx_events("Unhealthy"), >=, 1);
    check_running(1);
}

/* The kubelet's log layout: run N logs to <ns>_<pod>_<uid>/<c>/N.log with
 * its link; a run an agent before that layout started (adopted after an
 * upgrade) is read where it wrote. */
TEST(logs_in_the_kubelet_layout_and_the_old_path_read)
{
    char id[256], log[1200], want[1200], old[1200], link[1400], target[1200];
    ssize_t n;

    wfx_init();
    fakert_add_image(X.rt, IMG);
    json_t *pod = wfx_pod(IMG, "Always", NULL);
    wfx_start(pod);
    json_decref(pod);
    check_running(0);
    CHECK_INT(worker_find(X.w, "app", false, id, sizeof id, log, sizeof log), ==, 0);
    snprintf(want, sizeof want, "%s/log/pods/default_p_%s/app/0.log", test_tmpdir(), WFX_UID);
    CHECK_STR(log, want);
    snprintf(link, sizeof link, "%s/log/containers/p_default_app-%s.log", test_tmpdir(), id);
    n = readlink(link, target, sizeof target - 1);
    CHECKF(n > 0, "no link %s", link);
    target[n] = '\0';
    CHECK_STR(target, want);

    /* no file there, one at the old place: that one is read */
    snprintf(old, sizeof old, "%s/pods/%s/logs/app", test_tmpdir(), WFX_UID);
    CHECK_INT(orc_mkdirs(old, 0755), ==, 0);
    strcat(old, "/0.log");
    CHECK_INT(orc_file_write(old, "", 0, 0644), ==, 0);
    CHECK_INT(worker_find(X.w, "app", false, id, sizeof id, log, sizeof log), ==, 0);
    CHECK_STR(log, old);
    /* once the new file exists it wins */
    *strrchr(want, '/') = '\0';
    CHECK_INT(orc_mkdirs(want, 0755), ==, 0);
    strcat(want, "/0.log");
    CHECK_INT(orc_file_write(want, "", 0, 0644), ==, 0);
    CHECK_INT(worker_find(X.w, "app", false, id, sizeof id, log, sizeof log), ==, 0);
    CHECK_STR(log, want);
}
