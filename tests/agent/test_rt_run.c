/* test_rt_run.c — containers for real: the test image pulled from a local
 * registry, run with runc under the shim; output, exit codes, start
 * errors, stop, OOM, user/env/cwd/mounts, exec, re-adoption, cleanup. */
#include "tests/agent/rtfx.h"

TEST_T(start_and_log, 60)
{
    char log[600], *text;
    char *argv[] = {"sh", "-c", "echo hello; echo oops >&2; exit 3", NULL};
    struct rt_spec s;
    struct rt_status st;

    fx_setup(true, false);
    fx_open();
    fx_image();
    s = fx_spec("c1", argv, log, sizeof log);
    fx_start_ok(&s);
    st = fx_wait_exit("c1", 10000);
    CHECK_INT(st.exit_code, ==, 3);
    CHECK(!st.oom_killed);
    CHECK(st.started_ns > 0 && st.finished_ns >= st.started_ns);
    text = fx_log_text(log);
    CHECKF(strstr(text, "hello\n") && strstr(text, "oops\n"), "log: %s", text);
    free(text);
    fx_run_for(200);
    CHECK_INT(F.exits, ==, 1);
    CHECK_STR(F.last_exit, "c1");
    CHECK_INT(rt_remove(F.r, "c1"), ==, 0);
    CHECK_INT(rt_remove_pod(F.r, F.pod), ==, 0);
    fx_check_clean("c1");
}
