/* test_agent_cli.c — `orctl logs` and `orctl exec` end to end, run as a user
 * runs them, against a real server, a real `orcd agent` and real containers. */
#include "tests/agent/agentfx.h"
#include "tests/cli/run.h"

#define pod_cmd(name, policy, cmd) afx_pod_cmd(name, policy, 2, cmd)

/* orctl as the cluster's admin (HOME holds the config the server wrote);
 * fails the case unless it exits with want_rc. Returns stdout; *err (may be
 * NULL) gets stderr. */
static char *orctl_v(int want_rc, char **err, const char *arg, va_list ap)
{
    char *out = NULL, *e = NULL;
    int rc = run_orctl_v(AC.home, NULL, &out, &e, arg, ap);

    if (rc != want_rc) afx_dump_log();
    CHECKF(rc == want_rc, "orctl %s ...: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", arg, rc, want_rc,
           out, e);
    if (err) *err = e;
    else free(e);
    return out;
}

static char *orctl_expect(int want_rc, char **err, const char *arg, ...)
{
    va_list ap;
    char *out;

    va_start(ap, arg);
    out = orctl_v(want_rc, err, arg, ap);
    va_end(ap);
    return out;
}

static char *orctl_ok(const char *arg, ...)
{
    va_list ap;
    char *out;

    va_start(ap, arg);
    out = orctl_v(0, NULL, arg, ap);
    va_end(ap);
    return out;
}

#define CHECK_OUT(got, want)                                                                 \
    do { char *g_ = (got); const char *w_ = (want);                                          \
         CHECKF(strcmp(g_, w_) == 0, "stdout:\n%s---- want:\n%s", g_, w_);                  \
         free(g_); } while (0)

TEST_T(logs_prints_output_and_tail, 120)
{
    afx_setup();
    pod_cmd("five", "Never", "for i in 1 2 3 4 5; do echo line $i; done");
    json_decref(afx_wait_phase("five", "Succeeded", 30000));
    CHECK_OUT(orctl_ok("logs", "five", NULL), "line 1\nline 2\nline 3\nline 4\nline 5\n");
    CHECK_OUT(orctl_ok("logs", "five", "--tail", "2", NULL), "line 4\nline 5\n");
    CHECK_OUT(orctl_ok("logs", "pod/five", "--tail=1", NULL), "line 5\n");
    CHECK_OUT(orctl_ok("logs", "-c", "c", "five", "--tail", "0", NULL), "");
}

TEST_T(logs_picks_the_container_of_a_two_container_pod, 120)
{
    char spec[2048], *err;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"containers\":["
             "{\"name\":\"web\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo from web\"]},"
             "{\"name\":\"side\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo from side; echo side 2\"]}]}",
             F.image, F.image);
    afx_pod("two", spec);
    json_decref(afx_wait_phase("two", "Succeeded", 30000));
    CHECK_OUT(orctl_ok("logs", "two", "-c", "web", NULL), "from web\n");
    CHECK_OUT(orctl_ok("logs", "two", "--container", "side", NULL), "from side\nside 2\n");
    CHECK_OUT(orctl_ok("logs", "two", "-c", "side", "--tail", "1", NULL), "side 2\n");
    /* without -c the first container, and the user is told which there are
     * (kubectl's default since 1.21; the API still refuses a bare request) */
    CHECK_OUT(orctl_expect(0, &err, "logs", "two", NULL), "from web\n");
    CHECK_HAS(err, "Defaulted container \"web\" out of: web, side\n");
    free(err);
    CHECK_OUT(orctl_expect(1, &err, "logs", "two", "-c", "nope", NULL), "");
    CHECK_HAS(err, "container nope is not valid for pod two");
    free(err);
}

/* Waits until the container has run `runs` times and is back off. */
static bool backed_off_after(const json_t *pod, void *arg)
{
    int64_t n = -1;
    const char *why = orc_json_str(afx_cs(pod, 0), "state.waiting.reason");

    orc_json_int(afx_cs(pod, 0), "restartCount", &n);
    return n == (int64_t)(intptr_t)arg && why && strcmp(why, "CrashLoopBackOff") == 0;
}

/* "run <uuid>\n": one run's marker, checked and returned (malloc'd). */
static char *one_marker(char *log)
{
    CHECKF(strncmp(log, "run ", 4) == 0 && strlen(log) > 20 && strchr(log, '\n') == log + strlen(log) - 1,
           "not one run marker: \"%s\"", log);
    return log;
}

TEST_T(logs_previous_shows_the_run_before, 120)
{
    char *cur1, *prev1, *cur2, *prev2, *err;

    afx_setup();
    /* each run prints its own marker (the root filesystem is fresh each run) */
    pod_cmd("crash", "Always", "read u < /proc/sys/kernel/random/uuid; echo run $u; exit 1");
    /* runs 1 and 2 (restarted at once), then 10 s of back-off */
    json_decref(afx_wait_pod("crash", backed_off_after, (void *)(intptr_t)1, 40000, "back-off after 2 runs"));
    cur1 = one_marker(orctl_ok("logs", "crash", NULL));
    prev1 = one_marker(orctl_ok("logs", "crash", "--previous", NULL));
    CHECKF(strcmp(cur1, prev1) != 0, "--previous shows the current run: %s", cur1);
    /* run 3 after the back-off: the run that was current is now the previous */
    json_decref(afx_wait_pod("crash", backed_off_after, (void *)(intptr_t)2, 40000, "back-off after 3 runs"));
    cur2 = one_marker(orctl_ok("logs", "crash", NULL));
    prev2 = one_marker(orctl_ok("logs", "crash", "-p", NULL));
    CHECK_STR(prev2, cur1);
    CHECKF(strcmp(cur2, cur1) != 0 && strcmp(cur2, prev1) != 0, "run 3 printed an old marker: %s", cur2);
    free(cur1);
    free(prev1);
    free(cur2);
    free(prev2);
    /* a container that never restarted has no previous run */
    pod_cmd("once", "Never", "echo only run");
    json_decref(afx_wait_phase("once", "Succeeded", 30000));
    CHECK_OUT(orctl_expect(1, &err, "logs", "once", "--previous", NULL), "");
    CHECK_HAS(err, "Error from server (BadRequest): previous terminated container \"c\" in pod \"once\" not found");
    free(err);
}

static pid_t follower;

static void kill_follower(void *arg)
{
    (void)arg;
    if (follower > 0) {
        kill(follower, SIGKILL);
        waitpid(follower, NULL, 0);
        follower = 0;
    }
}

TEST_T(logs_follow_streams_until_the_container_ends, 120)
{
    char path[600], *text;
    const char *words[] = {"logs", "-f", "ticker", NULL};
    uint64_t t0, end;
    int status = 0;
    pid_t done;

    afx_setup();
    test_defer(kill_follower, NULL);
    pod_cmd("ticker", "Never", "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 0.2; done");
    json_decref(afx_wait_phase("ticker", "Running", 30000));
    run_temp_path("follow", path, sizeof path);
    t0 = test_now_ms();
    follower = spawn_orctl(AC.home, path, words);
    /* lines arrive while the container still runs, and orctl keeps going */
    free(wait_for_output(path, "tick 3\n", 5000));
    CHECKF(waitpid(follower, &status, WNOHANG) == 0, "orctl logs -f ended early (status %d)", status);
    /* and ends by itself when the container does */
    end = test_now_ms() + 15000;
    while ((done = waitpid(follower, &status, WNOHANG)) == 0 && test_now_ms() < end) usleep(20 * 1000);
    if (done == 0) afx_dump_log();
    CHECKF(done == follower, "orctl logs -f still running 15 s after it started");
    follower = 0;
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orctl logs -f: status %d", status);
    CHECKF(test_now_ms() - t0 >= 800, "orctl logs -f returned after %llu ms, before the container ended",
           (unsigned long long)(test_now_ms() - t0));
    text = run_read_file(path);
    run_check_clean("orctl logs -f", text);
    CHECK_OUT(text, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\ntick 7\ntick 8\ntick 9\ntick 10\n");
    json_decref(afx_wait_phase("ticker", "Succeeded", 10000));
}

TEST_T(exec_prints_output_and_exits_with_the_code, 120)
{
    char *err;

    afx_setup();
    pod_cmd("box", "Always", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done");
    json_decref(afx_wait_ready("box", 30000));
    CHECK_OUT(orctl_expect(4, &err, "exec", "box", "--", "sh", "-c", "echo out; echo err >&2; exit 4", NULL),
              "out\n");
    CHECK_HAS(err, "err\n");
    CHECK_HAS(err, "command terminated with exit code 4");
    free(err);
    /* a clean run: exit 0, nothing on stderr */
    CHECK_OUT(orctl_expect(0, &err, "exec", "box", "--", "echo", "hello", "world", NULL), "hello world\n");
    CHECK_OUT(err, "");
    /* it runs in the container: the image's files */
    CHECK_OUT(orctl_ok("exec", "box", "-c", "c", "--", "cat", "/etc/group", NULL),
              "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n");
    /* the command's own arguments are passed through untouched */
    CHECK_OUT(orctl_ok("exec", "box", "--", "printf", "%s|", "a b", "-c", "&x=1", NULL), "a b|-c|&x=1|");
}

static bool pull_failed(const json_t *pod, void *arg)
{
    const char *why = orc_json_str(afx_cs(pod, 0), "state.waiting.reason");
    (void)arg;
    return why && strstr(why, "ImagePull") != NULL;
}

TEST_T(exec_in_a_pod_that_is_not_running_fails_clearly, 120)
{
    char *err;

    afx_setup();
    pod_cmd("finished", "Never", "echo bye");
    json_decref(afx_wait_phase("finished", "Succeeded", 30000));
    CHECK_OUT(orctl_expect(1, &err, "exec", "finished", "--", "echo", "hi", NULL), "");
    CHECK_HAS(err, "container \"c\" in pod \"finished\" is not running");
    free(err);
    /* an image that cannot be pulled: the container never started */
    {
        char spec[1024];
        snprintf(spec, sizeof spec,
                 "{\"containers\":[{\"name\":\"c\",\"image\":\"%s/orc/missing:1\",\"command\":[\"sleep\",\"100\"]}]}",
                 F.reg.host);
        afx_pod("nopull", spec);
    }
    json_decref(afx_wait_pod("nopull", pull_failed, NULL, 30000, "ErrImagePull"));
    CHECK_OUT(orctl_expect(1, &err, "exec", "nopull", "--", "echo", "hi", NULL), "");
    CHECK_HAS(err, "Error from server (BadRequest): container \"c\" in pod \"nopull\" is waiting to start");
    free(err);
}

/* kubectl's habit: delete waits until the pod's agent has stopped it. */
TEST_T(delete_waits_for_the_pod_to_be_gone, 120)
{
    json_t *p;
    uint64_t t0;

    afx_setup();
    pod_cmd("waited", "Always", "trap 'sleep 1; exit 0' TERM; while true; do sleep 0.1; done");
    pod_cmd("notwaited", "Always", "trap 'sleep 1; exit 0' TERM; while true; do sleep 0.1; done");
    json_decref(afx_wait_ready("waited", 30000));
    json_decref(afx_wait_ready("notwaited", 30000));
    t0 = test_now_ms();
    CHECK_OUT(orctl_ok("delete", "pod", "waited", NULL), "pod \"waited\" deleted\n");
    CHECKF(test_now_ms() - t0 >= 900, "returned after %llu ms, before the pod stopped",
           (unsigned long long)(test_now_ms() - t0));
    CHECK((p = afx_pod_get("waited")) == NULL);
    CHECK_OUT(orctl_ok("delete", "pod", "notwaited", "--wait=false", NULL), "pod \"notwaited\" deleted\n");
    p = afx_pod_get("notwaited");
    CHECKF(p != NULL && orc_json_get(p, "metadata.deletionTimestamp"), "--wait=false waited");
    json_decref(p);
    CHECK(afx_pod_gone("notwaited", 10000));
}
