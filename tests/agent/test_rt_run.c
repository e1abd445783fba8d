/* test_rt_run.c — containers for real: the test image pulled from a local
 * registry, run with runc under the shim; output, exit codes, start
 * errors, stop, OOM, user/env/cwd/mounts, exec, re-adoption, cleanup. */
#include <sys/wait.h>

#include "tests/agent/rtfx.h"

/* The shim's own log (its stderr) must hold no sanitizer report: wait for
 * it to exit first. */
static void check_shim(const char *id)
{
    char path[1024], *text;
    json_t *s;
    uint64_t end = test_now_ms() + 3000;

    snprintf(path, sizeof path, "%s/containers/%s/state.json", F.state, id);
    s = rt_read_json(path);
    CHECKF(s != NULL, "%s missing", path);
    int pid = (int)json_integer_value(json_object_get(s, "shimPid"));
    uint64_t start = (uint64_t)json_integer_value(json_object_get(s, "shimStart"));
    json_decref(s);
    while (rt_pid_alive(pid, start) && test_now_ms() < end) usleep(10000);
    CHECKF(!rt_pid_alive(pid, start), "shim %d still runs", pid);
    snprintf(path, sizeof path, "%s/containers/%s/shim.log", F.state, id);
    text = fx_read(path);
    CHECKF(strstr(text, "Sanitizer") == NULL && strstr(text, "runtime error") == NULL, "shim: %s", text);
    free(text);
}

static void setup_image(void)
{
    fx_setup(true, false);
    fx_open();
    fx_image();
}

TEST_T(start_and_log, 60)
{
    char log[600], *text;
    char *argv[] = {"sh", "-c", "echo hello; echo oops >&2; printf 'no newline'; exit 3", NULL};
    struct rt_spec s;
    struct rt_status st;

    setup_image();
    s = fx_spec("c1", argv, log, sizeof log);
    fx_start_ok(&s);
    CHECK_INT(rt_status(F.r, "c1", &st), ==, 0);
    CHECK(st.state == RT_RUNNING || st.state == RT_EXITED);
    st = fx_wait_exit("c1", 10000);
    CHECK_INT(st.exit_code, ==, 3);
    CHECK(!st.oom_killed);
    CHECK(st.started_ns > 0 && st.finished_ns >= st.started_ns);
    text = fx_log_text(log);
    CHECKF(strstr(text, "hello\n") && strstr(text, "oops\n") && strstr(text, "no newline\n"), "log: %s", text);
    free(text);
    text = fx_read(log);
    CHECKF(strstr(text, " stdout F hello\n") && strstr(text, " stderr F oops\n"), "raw log: %s", text);
    free(text);
    fx_run_for(150);
    CHECK_INT(F.exits, ==, 1);
    CHECK_STR(F.last_exit, "c1");
    check_shim("c1");
    CHECK_INT(rt_remove(F.r, "c1"), ==, 0);
    CHECK_INT(rt_remove(F.r, "c1"), ==, ORC_ENOENT);
    CHECK_INT(rt_remove_pod(F.r, F.pod), ==, 0);
    fx_check_clean("c1");
}

TEST_T(exit_codes_and_long_lines, 60)
{
    char log1[600], log2[600], *text;
    char *killed[] = {"sleep", "1000", NULL};
    char *longline[] = {"sh", "-c", "printf '%040000d\\n' 7", NULL};
    struct rt_spec s;
    struct rt_status st;

    setup_image();
    s = fx_spec("sig", killed, log1, sizeof log1);
    fx_start_ok(&s);
    CHECK_INT(rt_status(F.r, "sig", &st), ==, 0);
    /* only an ancestor namespace can kill a pid namespace's init */
    CHECK_INT(kill(st.pid, SIGKILL), ==, 0);
    st = fx_wait_exit("sig", 10000);
    CHECK_INT(st.exit_code, ==, 137); /* 128 + SIGKILL */

    s = fx_spec("long", longline, log2, sizeof log2);
    fx_start_ok(&s);
    st = fx_wait_exit("long", 10000);
    CHECK_INT(st.exit_code, ==, 0);
    text = fx_read(log2);
    CHECKF(strstr(text, " stdout P 0000") && strstr(text, "7\n"), "raw: %.200s", text);
    free(text);
    text = fx_log_text(log2);
    CHECK_INT(strlen(text), ==, 40001); /* the P records joined again */
    CHECK(text[39999] == '7' && text[40000] == '\n');
    free(text);
}

TEST_T(bad_command_fails_to_start, 60)
{
    char log[600], msg[RT_ERRLEN];
    char *argv[] = {"nope", NULL};
    struct rt_spec s;
    struct rt_status st;
    int rc;

    setup_image();
    s = fx_spec("bad", argv, log, sizeof log);
    rc = fx_start(&s, msg);
    CHECK(rc != 0);
    CHECKF(strstr(msg, "exec: \"nope\": executable file not found in $PATH"), "message: %s", msg);
    CHECK_INT(rt_status(F.r, "bad", &st), ==, ORC_ENOENT);
    fx_check_clean("bad");
    /* the id is free again, and a good command runs */
    {
        char *ok[] = {"true", NULL};
        s = fx_spec("bad", ok, log, sizeof log);
        fx_start_ok(&s);
        st = fx_wait_exit("bad", 10000);
        CHECK_INT(st.exit_code, ==, 0);
    }
    /* a bind mount whose source does not exist */
    {
        char *ok[] = {"true", NULL};
        struct rt_mount m = {"/nonexistent/orc-test", "/data", false};
        s = fx_spec("badmount", ok, log, sizeof log);
        s.mounts = &m;
        s.n_mounts = 1;
        rc = fx_start(&s, msg);
        CHECK(rc != 0);
        CHECKF(strstr(msg, "/nonexistent/orc-test"), "message: %s", msg);
    }
}

/* A directory a failed run of the same id left behind (an unmount that
 * lagged its removal) is cleared by the next start; it used to fail every
 * retry with "creating ...: File exists", leaving the pod in
 * CreateContainerError for good. */
TEST_T(leftover_directory_of_the_same_id_is_cleared, 60)
{
    char log[600];
    char *argv[] = {"true", NULL};
    struct rt_spec s;

    setup_image();
    fx_sh("mkdir -p %s/containers/again/rootfs %s/containers/again/upper && "
          "echo stale > %s/containers/again/config.json", F.state, F.state, F.state);
    s = fx_spec("again", argv, log, sizeof log);
    fx_start_ok(&s);
    CHECK_INT(fx_wait_exit("again", 10000).exit_code, ==, 0);
}

TEST_T(stop_with_term_then_kill, 60)
{
    char log1[600], log2[600], *text;
    char *polite[] = {"sh", "-c", "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.1; done", NULL};
    char *stubborn[] = {"sh", "-c", "trap '' TERM; echo up; while true; do sleep 0.1; done", NULL};
    struct rt_spec s;
    struct rt_status st;
    uint64_t t0;
    int done = 0;

    setup_image();
    s = fx_spec("polite", polite, log1, sizeof log1);
    fx_start_ok(&s);
    s = fx_spec("stubborn", stubborn, log2, sizeof log2);
    fx_start_ok(&s);
    fx_run_for(300); /* let the traps be set */

    t0 = test_now_ms();
    CHECK_INT(rt_stop(F.r, "polite", 10, fx_stop_cb, &done), ==, 0);
    CHECK(fx_run_until(fx_int_set, &done, 5000));
    CHECK_INT(done, ==, 1);
    CHECKF(test_now_ms() - t0 < 3000, "SIGTERM took %llu ms", (unsigned long long)(test_now_ms() - t0));
    CHECK_INT(rt_status(F.r, "polite", &st), ==, 0);
    CHECK(st.state == RT_EXITED && st.exit_code == 0);
    text = fx_log_text(log1);
    CHECKF(strstr(text, "bye\n"), "%s", text);
    free(text);

    done = 0;
    t0 = test_now_ms();
    CHECK_INT(rt_stop(F.r, "stubborn", 1, fx_stop_cb, &done), ==, 0);
    CHECK(fx_run_until(fx_int_set, &done, 5000));
    CHECK_INT(test_now_ms() - t0, >=, 900);
    CHECK_INT(rt_status(F.r, "stubborn", &st), ==, 0);
    CHECK(st.state == RT_EXITED && st.exit_code == 137);

    /* stopping what already stopped calls back at once */
    done = 0;
    CHECK_INT(rt_stop(F.r, "stubborn", 1, fx_stop_cb, &done), ==, 0);
    CHECK(fx_run_until(fx_int_set, &done, 500));
    CHECK_INT(rt_stop(F.r, "unknown", 1, fx_stop_cb, &done), ==, ORC_ENOENT);
}

TEST_T(oom_killed, 60)
{
    char log[600];
    char *argv[] = {"sh", "-c", "head -c 200m /dev/zero | tail", NULL};
    struct rt_spec s;
    struct rt_status st;

    setup_image();
    s = fx_spec("oom", argv, log, sizeof log);
    s.memory_limit = 20 << 20;
    fx_start_ok(&s);
    st = fx_wait_exit("oom", 30000);
    CHECK_INT(st.exit_code, ==, 137);
    CHECK(st.oom_killed);
}

TEST_T(process_settings, 60)
{
    char log[600], data[600], file[700], *text;
    char *argv[] = {"sh", "-c",
                    "echo foo=$FOO; echo path=$PATH; pwd; id -u; id -g; id -G; hostname; "
                    "cat /data/hello.txt; touch /data/x 2>/dev/null || echo data-ro; "
                    "touch /tmp/x 2>/dev/null || echo root-ro; "
                    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; "
                    "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null",
                    NULL};
    char *env[] = {"FOO=bar", NULL};
    struct rt_mount m;
    struct rt_spec s;
    struct rt_status st;

    setup_image();
    snprintf(data, sizeof data, "%s/data", test_tmpdir());
    CHECK_INT(orc_mkdirs(data, 0755), ==, 0);
    snprintf(file, sizeof file, "%s/hello.txt", data);
    CHECK_INT(orc_file_write(file, "from the host\n", 14, 0644), ==, 0);
    m.source = data;
    m.destination = "/data";
    m.readonly = true;
    s = fx_spec("settings", argv, log, sizeof log);
    s.env = env;
    s.cwd = "/home/app";
    s.uid = 1000;
    s.readonly_rootfs = true;
    s.mounts = &m;
    s.n_mounts = 1;
    s.memory_limit = 64 << 20;
    s.cpu_quota_us = 50000;
    s.cpu_shares = 512;
    fx_start_ok(&s);
    st = fx_wait_exit("settings", 10000);
    text = fx_log_text(log);
    CHECKF(st.exit_code == 0, "exit %d: %s", st.exit_code, text);
    CHECKF(strstr(text, "foo=bar\npath=/bin\n/home/app\n1000\n1000\n"), "%s", text);
    CHECKF(strstr(text, "2000"), "supplementary group from /etc/group: %s", text);
    CHECKF(strstr(text, "testpod\nfrom the host\ndata-ro\nroot-ro\n"), "%s", text);
    if (!F.r->cg.v2) CHECKF(strstr(text, "67108864\n50000\n"), "cgroup limits: %s", text);
    free(text);

    /* its own pid namespace makes the shell pid 1; the host's does not */
    {
        char *pid1[] = {"sh", "-c", "echo pid=$$", NULL};
        char log2[600];
        s = fx_spec("ownpid", pid1, log, sizeof log);
        fx_start_ok(&s);
        fx_wait_exit("ownpid", 10000);
        text = fx_log_text(log);
        CHECKF(strcmp(text, "pid=1\n") == 0, "%s", text);
        free(text);
        s = fx_spec("hostpid", pid1, log2, sizeof log2);
        s.host_pid = s.host_ipc = true;
        fx_start_ok(&s);
        fx_wait_exit("hostpid", 10000);
        text = fx_log_text(log2);
        CHECKF(strncmp(text, "pid=", 4) == 0 && atoi(text + 4) > 1, "%s", text);
        free(text);
    }
}

struct exec_res {
    bool done;
    int err, code;
    char out[256], errout[256];
};

static void exec_cb(void *arg, int err, int code, const char *out, size_t out_len, const char *eo,
                    size_t err_len)
{
    struct exec_res *x = arg;

    x->done = true;
    x->err = err;
    x->code = code;
    snprintf(x->out, sizeof x->out, "%.*s", (int)out_len, out ? out : "");
    snprintf(x->errout, sizeof x->errout, "%.*s", (int)err_len, eo ? eo : "");
}

static bool exec_done(void *arg) { return ((struct exec_res *)arg)->done; }

static struct exec_res run_exec(const char *id, char *const *argv, unsigned timeout_ms)
{
    struct exec_res x = {0};
    int rc = rt_exec(F.r, id, argv, timeout_ms, exec_cb, &x);

    if (rc != 0) {
        x.err = rc;
        return x;
    }
    CHECK(fx_run_until(exec_done, &x, 10000));
    return x;
}

TEST_T(exec_in_a_running_container, 60)
{
    char log[600];
    char *argv[] = {"sleep", "1000", NULL};
    char *cmd[] = {"sh", "-c", "echo out; echo err >&2; echo $FOO; exit 7", NULL};
    char *slow[] = {"sleep", "30", NULL};
    char *ps[] = {"ps", NULL};
    char *env[] = {"FOO=from-spec", NULL};
    struct rt_spec s;
    struct exec_res x;
    uint64_t t0;

    setup_image();
    s = fx_spec("ex", argv, log, sizeof log);
    s.env = env;
    fx_start_ok(&s);
    x = run_exec("ex", cmd, 5000);
    CHECK_INT(x.err, ==, 0);
    CHECK_INT(x.code, ==, 7);
    CHECK_STR(x.out, "out\nfrom-spec\n");
    CHECK_STR(x.errout, "err\n");

    t0 = test_now_ms();
    x = run_exec("ex", slow, 300);
    CHECK_INT(x.err, ==, ORC_ETIMEDOUT);
    CHECK_INT(test_now_ms() - t0, <, 3000);
    {
        char *nope[] = {"nope", NULL};
        x = run_exec("ex", nope, 5000);
        CHECK_INT(x.err, ==, 0);
        CHECKF(x.code != 0 && strstr(x.errout, "nope"), "%d: %s", x.code, x.errout);
    }
    x = run_exec("ex", ps, 5000); /* the timed-out command is gone */
    CHECK_INT(x.err, ==, 0);
    CHECKF(strstr(x.out, "sleep 30") == NULL, "%s", x.out);

    t0 = test_now_ms();
    fx_remove("ex");
    CHECKF(test_now_ms() - t0 < 500, "stop took %llu ms", (unsigned long long)(test_now_ms() - t0));
    x = run_exec("ex", cmd, 5000);
    CHECK_INT(x.err, ==, ORC_ENOENT);
}

TEST_T(readoption_after_restart, 60)
{
    char log[600];
    char *argv[] = {"sh", "-c", "sleep 1.5; echo late; exit 4", NULL};
    struct rt_spec s;
    struct rt_status st, st2;
    char **ids;
    size_t n;

    setup_image();
    s = fx_spec("adopt", argv, log, sizeof log);
    fx_start_ok(&s);
    CHECK_INT(rt_status(F.r, "adopt", &st), ==, 0);
    CHECK_INT(st.state, ==, RT_RUNNING);
    fx_close(); /* the agent goes away; the container does not */
    CHECK(rt_pid_alive(st.pid, 0));
    fx_open();
    CHECK_INT(rt_list(F.r, &ids, &n), ==, 0);
    CHECK(n == 1 && strcmp(ids[0], "adopt") == 0);
    rt_free_list(ids, n);
    CHECK_INT(rt_status(F.r, "adopt", &st2), ==, 0);
    CHECK_INT(st2.state, ==, RT_RUNNING);
    CHECK_INT(st2.pid, ==, st.pid);
    CHECK_INT(st2.started_ns, ==, st.started_ns);
    F.exits = 0;
    st2 = fx_wait_exit("adopt", 10000);
    CHECK_INT(st2.exit_code, ==, 4);
    fx_run_for(150);
    CHECK_INT(F.exits, ==, 1);
    CHECK_STR(F.last_exit, "adopt");
    {
        char *text = fx_log_text(log);
        CHECKF(strstr(text, "late\n"), "%s", text);
        free(text);
    }
    /* an exit while no agent ran is read, not announced */
    {
        char *quick[] = {"true", NULL};
        char log2[600];
        s = fx_spec("quick", quick, log2, sizeof log2);
        fx_start_ok(&s);
        fx_close();
        usleep(300000);
        fx_open();
        CHECK_INT(rt_status(F.r, "quick", &st), ==, 0);
        CHECK(st.state == RT_EXITED && st.exit_code == 0);
    }
}

TEST_T(list_remove_leave_nothing, 60)
{
    char log1[600], log2[600], node_cg[1024];
    char *forever[] = {"sleep", "1000", NULL};
    char *quick[] = {"true", NULL};
    struct rt_spec s;
    char **ids;
    size_t n;

    setup_image();
    s = fx_spec("run1", forever, log1, sizeof log1);
    fx_start_ok(&s);
    s = fx_spec("done1", quick, log2, sizeof log2);
    fx_start_ok(&s);
    fx_wait_exit("done1", 10000);
    CHECK_INT(rt_list(F.r, &ids, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    rt_free_list(ids, n);
    CHECK_INT(rt_remove(F.r, "run1"), ==, ORC_EINVAL); /* running: stop it first */
    CHECK_INT(rt_remove(F.r, "done1"), ==, 0);
    fx_remove("run1");
    CHECK_INT(rt_list(F.r, &ids, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    rt_free_list(ids, n);
    CHECK_INT(rt_remove_pod(F.r, F.pod), ==, 0);
    CHECK_INT(rt_remove_pod(F.r, "never-seen"), ==, 0);
    fx_check_clean("run1");
    fx_check_clean("done1");
    snprintf(node_cg, sizeof node_cg, "%s/orc-%s", F.r->cg.memory, F.tag);
    CHECKF(access(node_cg, F_OK) != 0, "%s is left", node_cg);
    fx_close();
    {
        char trash[700];
        snprintf(trash, sizeof trash, "%s/trash", F.state);
        DIR *d = opendir(trash);
        struct dirent *e;
        int left = 0;
        while (d && (e = readdir(d)) != NULL) left += e->d_name[0] != '.';
        if (d) closedir(d);
        CHECK_INT(left, ==, 0);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* rt_start of a present image (to its callback) beside a bare `runc run`
 * of the same bundle: printed, loosely checked (a shared 2-core machine). */
TEST_T(start_latency, 120)
{
    enum { N = 20 };
    char log[600], id[32], bundle[1024], root[1024], rid[64];
    char *argv[] = {"true", NULL};
    uint64_t ours[N], bare[N];
    struct rt_spec s;

    setup_image();
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "lat%d", i);
        s = fx_spec(id, argv, log, sizeof log);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        fx_start_ok(&s);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ours[i] = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
        fx_wait_exit(id, 10000);
        if (i == 0) { /* keep its bundle for the bare runs: same config, same root */
            snprintf(bundle, sizeof bundle, "%s/bundle", test_tmpdir());
            fx_sh("mkdir -p %s/rootfs %s/upper %s/work && cp %s/containers/lat0/config.json %s/ && "
                  "mount -t overlay overlay -o lowerdir=%s/images/rootfs/%s,upperdir=%s/upper,"
                  "workdir=%s/work %s/rootfs",
                  bundle, bundle, bundle, F.state, bundle, F.state, F.img.digest + 7, bundle, bundle, bundle);
        }
    }
    snprintf(root, sizeof root, "%s/bare-runc", test_tmpdir());
    for (int i = 0; i < N; i++) {
        struct timespec a, b;
        char rootopt[1100], bopt[1100];
        snprintf(rid, sizeof rid, "bare-%d-%d", (int)getpid(), i);
        snprintf(rootopt, sizeof rootopt, "--root=%s", root);
        snprintf(bopt, sizeof bopt, "--bundle=%s", bundle);
        char *run[] = {"runc", rootopt, "run", bopt, rid, NULL};
        clock_gettime(CLOCK_MONOTONIC, &a);
        int rc = t_run(run, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECKF(rc == 0, "bare runc run failed (%d)", rc);
        bare[i] = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
    }
    fx_sh("umount %s/rootfs", bundle);
    fx_sh("for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/mounts); do "
          "[ -d $m/orc-%s ] && find $m/orc-%s -depth -type d -exec rmdir {} + 2>/dev/null; done; true",
          F.tag, F.tag);
    qsort(ours, N, sizeof ours[0], cmp_u64);
    qsort(bare, N, sizeof bare[0], cmp_u64);
    fprintf(stderr, "# start latency: rt_start median %.1f ms (p90 %.1f), bare runc run median %.1f ms (p90 %.1f)\n",
            ours[N / 2] / 1000.0, ours[N * 9 / 10] / 1000.0, bare[N / 2] / 1000.0, bare[N * 9 / 10] / 1000.0);
    CHECK(ours[N / 2] < 1000000);
}


TEST_T(shim_killed, 60)
{
    char log[600], path[1024];
    char *argv[] = {"sleep", "1000", NULL};
    struct rt_spec s;
    struct rt_status st;
    json_t *state;
    int shim;

    setup_image();
    s = fx_spec("orphan", argv, log, sizeof log);
    fx_start_ok(&s);
    snprintf(path, sizeof path, "%s/containers/orphan/state.json", F.state);
    CHECK((state = rt_read_json(path)) != NULL);
    shim = (int)json_integer_value(json_object_get(state, "shimPid"));
    json_decref(state);
    CHECK_INT(kill(shim, SIGKILL), ==, 0);
    fx_run_for(1500);
    /* the container outlives its shim: still running */
    CHECK_INT(rt_status(F.r, "orphan", &st), ==, 0);
    CHECK_INT(st.state, ==, RT_RUNNING);
    F.exits = 0;
    CHECK_INT(kill(st.pid, SIGKILL), ==, 0);
    st = fx_wait_exit("orphan", 5000);
    CHECK_INT(st.exit_code, ==, 255); /* nobody could see how it ended */
    fx_run_for(100);
    CHECK_INT(F.exits, ==, 1);
    CHECK_INT(rt_remove(F.r, "orphan"), ==, 0);
    CHECK_INT(rt_remove_pod(F.r, F.pod), ==, 0);
    fx_check_clean("orphan");
}

static char full_mnt[600];

static void umount_full(void *arg)
{
    (void)arg;
    if (full_mnt[0]) umount2(full_mnt, MNT_DETACH);
}

/* A full disk costs the log, never the container. */
TEST_T(log_on_a_full_disk, 60)
{
    char log[700], *text;
    char *argv[] = {"sh", "-c", "seq 1 200000; echo done >&2", NULL};
    struct rt_spec s;
    struct rt_status st;
    struct stat sb;

    setup_image();
    snprintf(full_mnt, sizeof full_mnt, "%s/small", test_tmpdir());
    CHECK_INT(orc_mkdirs(full_mnt, 0755), ==, 0);
    CHECK_INT(mount("tmpfs", full_mnt, "tmpfs", 0, "size=64k"), ==, 0);
    test_defer(umount_full, NULL);
    s = fx_spec("full", argv, log, sizeof log);
    snprintf(log, sizeof log, "%s/full.log", full_mnt);
    fx_start_ok(&s);
    st = fx_wait_exit("full", 20000);
    CHECK_INT(st.exit_code, ==, 0);
    CHECK(stat(log, &sb) == 0 && sb.st_size <= 64 * 1024);
    text = fx_log_text(log);
    CHECKF(strncmp(text, "1\n2\n3\n", 6) == 0, "%.60s", text);
    free(text);
    check_shim("full");
}

/* orc-shim beside orcd runs the shims; without it, `orcd shim` does. */
TEST_T(shim_binary_or_orcd_shim, 60)
{
    char bin[700], log[600], *text;
    char *argv[] = {"sh", "-c", "echo via fallback", NULL};
    struct rt_config cfg = {0};
    char err[RT_ERRLEN] = "";
    struct rt_spec s;

    setup_image();
    CHECKF(F.r->shim_path != NULL && strstr(F.r->shim_path, "/orc-shim"), "orc-shim not found beside %s",
           t_bin("orcd"));
    fx_close();
    snprintf(bin, sizeof bin, "%s/bin", test_tmpdir());
    fx_sh("mkdir -p %s && cp %s %s/orcd", bin, t_bin("orcd"), bin);
    strcat(bin, "/orcd");
    cfg.state_dir = F.state;
    cfg.node_name = F.node;
    cfg.orcd_path = bin;
    CHECKF(rt_open(&F.loop, &cfg, &F.r, err) == 0, "rt_open: %s", err);
    rt_on_exit(F.r, fx_on_exit, NULL);
    CHECK(F.r->shim_path == NULL);
    s = fx_spec("fb", argv, log, sizeof log);
    fx_start_ok(&s);
    CHECK_INT(fx_wait_exit("fb", 10000).exit_code, ==, 0);
    text = fx_log_text(log);
    CHECKF(strstr(text, "via fallback\n"), "log: %s", text);
    free(text);
}
