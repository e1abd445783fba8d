/* test_kubectl_exec.c — stock kubectl's streaming commands against one
 * `orcd server` with its embedded agent and a real container: `kubectl
 * exec` over a WebSocket relayed API server → agent (output, stderr, exit
 * codes, stdin, a TTY with resizes) and `kubectl cp` both ways (tar over
 * exec). */
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>

#include "tests/e2e/ptyfx.h"
#include "tests/e2e/wlfx.h"

#define KUBECTL "/usr/bin/kubectl"

static char conf[700];

static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

static int kubectl_in(const char *input, char **out, char **err, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {KUBECTL, "--kubeconfig", conf};
    int n = 3;

    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    return run_prog(C.home, input, out, err, argv);
}

#define KUBECTL_RUN(input, out, err, ...) kubectl_in(input, out, err, (const char *const[]){__VA_ARGS__, NULL})

static void start_box(void)
{
    const char *extra[] = {"--node-name", node, NULL};
    char body[1024], *resp = NULL;
    int status;

    fx_setup(true, false);
    wl_init("kx", delete_pods_at_end);
    cluster_start(&C, extra);
    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    wl_wait_node(node, 20000);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"box\"},"
             "\"spec\":{\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"trap 'exit 0' TERM; "
             "while true; do sleep 0.1; done\"]}]}}",
             F.image);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);
    CHECKF(status == 201, "create pod: %d %s", status, resp ? resp : "");
    free(resp);
    wl_wait_running("box", 30000);
}

static void exec_plain(void)
{
    char *out, *err;
    int rc;

    rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "--", "echo", "hi");
    CHECKF(rc == 0, "kubectl exec: %d, %s", rc, err);
    CHECK_STR(out, "hi\n");
    free(out);
    free(err);

    rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "-c", "c", "--", "sh", "-c", "echo out; echo oops >&2");
    CHECKF(rc == 0, "kubectl exec: %d, %s", rc, err);
    CHECK_STR(out, "out\n");
    CHECKF(strstr(err, "oops\n") != NULL, "stderr: %s", err);
    free(out);
    free(err);
}

static void exec_exit_code(void)
{
    char *out, *err;
    int rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "--", "sh", "-c", "exit 3");

    CHECKF(rc == 3, "kubectl exec of `exit 3` exited %d: %s", rc, err);
    CHECKF(strstr(err, "command terminated with exit code 3") != NULL, "stderr: %s", err);
    free(out);
    free(err);
}

static void exec_stdin(void)
{
    char *out, *err, *big = malloc(300001);
    int rc = KUBECTL_RUN("x\ny\n", &out, &err, "exec", "-i", "box", "--", "cat");

    CHECKF(rc == 0, "kubectl exec -i: %d, %s", rc, err);
    CHECK_STR(out, "x\ny\n");
    free(out);
    free(err);
    /* more than one message of stdin and of output */
    for (int i = 0; i < 300000; i++) big[i] = (char)('a' + i % 26);
    big[300000] = '\0';
    rc = kubectl_in(big, &out, &err, (const char *const[]){"exec", "-i", "box", "--", "wc", "-c", NULL});
    CHECKF(rc == 0, "kubectl exec -i wc: %d, %s", rc, err);
    CHECKF(out && atoi(out) == 300000, "wc -c said %s", out);
    free(out);
    free(err);
    free(big);
    /* output far over every bound on the way (agent, API server, TLS):
     * paused and resumed, none lost */
    rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "--", "seq", "1", "3000000");
    CHECKF(rc == 0, "kubectl exec seq: %d, %s", rc, err);
    {
        size_t want = 0;
        char num[16];
        for (int i = 1; i <= 3000000; i++) want += (size_t)snprintf(num, sizeof num, "%d\n", i);
        CHECKF(strlen(out) == want && strcmp(out + want - 8, "3000000\n") == 0, "seq printed %zu bytes, want %zu",
               strlen(out), want);
    }
    free(out);
    free(err);
}

static void exec_tty(void)
{
    struct winsize ws = {.ws_row = 30, .ws_col = 100};
    struct orc_buf acc = ORC_BUF_INIT;
    int master, st = 0;
    pid_t pid;

    /* The command sleeps first: runc sizes the container's TTY just after
     * starting it, as kubectl's first resize comes just after the upgrade. */
    pid = pty_spawn(&master, 30, 100, C.home,
                    (const char *const[]){KUBECTL, "--kubeconfig", conf, "exec", "-it", "box", "--", "sh", "-c",
                                          "sleep 1; tty; echo size $(stty size); read x; echo size $(stty size); "
                                          "read y; exit 7", NULL});
    CHECKF(pty_wait(master, &acc, "size 30 100", 20000), "no TTY size 30 100 from the command: %s",
           acc.data ? acc.data : "");
    CHECKF(strstr(acc.data, "/dev/pts/") != NULL, "tty said: %s", acc.data);
    ws.ws_row = 40;
    ws.ws_col = 120;
    CHECK(ioctl(master, TIOCSWINSZ, &ws) == 0); /* kubectl gets SIGWINCH and sends the size */
    usleep(500 * 1000);
    CHECK(write(master, "\n", 1) == 1);
    CHECKF(pty_wait(master, &acc, "size 40 120", 20000), "no TTY size 40 120 after the resize: %s", acc.data);
    CHECK(write(master, "\n", 1) == 1);
    pty_wait(master, &acc, "\x01never", 5000); /* to EOF */
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 7, "kubectl exec -it exited %d: %s", st, acc.data);
    close(master);
    orc_buf_free(&acc);
}

static void cp_both_ways(void)
{
    char src[700], back[700], dst[800], *out, *err, *a, *b;
    size_t n = 200000;
    struct orc_buf data = ORC_BUF_INIT;
    int rc;

    for (size_t i = 0; i < n; i++) {
        char ch = (char)((i * 7919u) >> 3);
        orc_buf_append(&data, &ch, 1);
    }
    snprintf(src, sizeof src, "%s/cp-src.bin", C.home);
    snprintf(back, sizeof back, "%s/cp-back.bin", C.home);
    CHECK(orc_file_write(src, data.data, n, 0644) == 0);
    rc = KUBECTL_RUN(NULL, &out, &err, "cp", src, "box:/tmp/f.bin");
    CHECKF(rc == 0, "kubectl cp in: %d, %s", rc, err);
    free(out);
    free(err);
    rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "--", "wc", "-c", "/tmp/f.bin");
    CHECKF(rc == 0 && atoi(out) == (int)n, "in the container: %s %s", out, err);
    free(out);
    free(err);
    snprintf(dst, sizeof dst, "box:/tmp/f.bin");
    rc = KUBECTL_RUN(NULL, &out, &err, "cp", dst, back);
    CHECKF(rc == 0, "kubectl cp out: %d, %s", rc, err);
    free(out);
    free(err);
    a = run_read_file(src);
    b = run_read_file(back);
    CHECK(a && b);
    {
        struct orc_buf got = ORC_BUF_INIT;
        CHECK(orc_file_read(back, 1u << 20, &got) == 0);
        CHECKF(got.len == n && memcmp(got.data, data.data, n) == 0, "copied back %zu bytes, want %zu the same",
               got.len, n);
        orc_buf_free(&got);
    }
    free(a);
    free(b);
    /* orctl's own: the same bytes through `cat` in the container */
    unlink(back);
    rc = run_orctl(&C, &out, &err, "cp", src, "box:/tmp/o.bin", NULL);
    CHECKF(rc == 0, "orctl cp in: %d %s", rc, err);
    free(out);
    free(err);
    rc = run_orctl(&C, &out, &err, "cp", "box:/tmp/o.bin", back, NULL);
    CHECKF(rc == 0, "orctl cp out: %d %s", rc, err);
    free(out);
    free(err);
    {
        struct orc_buf got = ORC_BUF_INIT;
        CHECK(orc_file_read(back, 1u << 20, &got) == 0);
        CHECKF(got.len == n && memcmp(got.data, data.data, n) == 0, "orctl copied back %zu bytes, want %zu the same",
               got.len, n);
        orc_buf_free(&got);
    }
    rc = run_orctl(&C, &out, &err, "cp", "box:/tmp/missing", back, NULL);
    CHECKF(rc != 0 && strstr(err, "missing"), "orctl cp of a missing file: %d %s", rc, err);
    CHECK(access(back, F_OK) != 0);
    free(out);
    free(err);
    unlink(src);
    unlink(back);
    orc_buf_free(&data);
}

static bool sleeper_running(void)
{
    char *out, *err;
    bool found;
    int rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "--", "ps");

    CHECKF(rc == 0, "ps: %d %s", rc, err);
    found = strstr(out, "sleep 1234") != NULL;
    free(out);
    free(err);
    return found;
}

/* A kubectl killed mid-command ends the command in the container. */
static void exec_killed_client(void)
{
    char log[700];
    uint64_t end;
    pid_t pid;
    int st;

    snprintf(log, sizeof log, "%s/kx-killed.log", C.home);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(C.home, NULL, log, log);
        execl(KUBECTL, KUBECTL, "--kubeconfig", conf, "exec", "box", "--", "sleep", "1234", (char *)NULL);
        _exit(127);
    }
    end = test_now_ms() + 15000;
    while (!sleeper_running() && test_now_ms() < end) usleep(200 * 1000);
    CHECKF(sleeper_running(), "the command did not start");
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    end = test_now_ms() + 10000;
    while (sleeper_running() && test_now_ms() < end) usleep(200 * 1000);
    CHECKF(!sleeper_running(), "the command still runs after its kubectl was killed");
    unlink(log);
}

/* orctl's streaming exec: stdin, exit codes, a terminal. */
static void orctl_exec_stream(void)
{
    struct orc_buf acc = ORC_BUF_INIT;
    char *out, *err;
    int rc, master, st = 0;
    pid_t pid;

    rc = run_orctl_in(&C, "one\ntwo\n", &out, &err, "exec", "-i", "box", "--", "cat", NULL);
    CHECKF(rc == 0, "orctl exec -i: %d %s", rc, err);
    CHECK_STR(out, "one\ntwo\n");
    free(out);
    free(err);
    rc = run_orctl_in(&C, "", &out, &err, "exec", "-i", "box", "--", "sh", "-c", "echo e >&2; exit 5", NULL);
    CHECKF(rc == 5, "orctl exec -i exit 5: %d %s", rc, err);
    CHECKF(strstr(err, "e\n") && strstr(err, "command terminated with exit code 5"), "stderr: %s", err);
    free(out);
    free(err);
    pid = pty_spawn(&master, 25, 90, C.home,
                    (const char *const[]){t_bin("orctl"), "exec", "-it", "box", "--", "sh", "-c",
                                          "sleep 1; tty; echo size $(stty size); read x; echo got $x; exit 4", NULL});
    CHECKF(pty_wait(master, &acc, "size 25 90", 20000), "orctl exec -it: %s", acc.data ? acc.data : "");
    CHECK(write(master, "abc\r", 4) == 4);
    CHECKF(pty_wait(master, &acc, "got abc", 20000), "orctl exec -it input: %s", acc.data);
    pty_wait(master, &acc, "\x01never", 5000);
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 4, "orctl exec -it exited %d: %s", st, acc.data);
    close(master);
    orc_buf_free(&acc);
}

/* kubectl attach -i reader fed `input`, killed once the log shows `want`:
 * the process's stdin stays open, so attach lasts as long as the process. */
static void attach_and_leave(const char *input, const char *want)
{
    char in_path[700], log[700], *out, *err;
    uint64_t end = test_now_ms() + 15000;
    bool seen = false;
    pid_t pid;
    int st;

    snprintf(in_path, sizeof in_path, "%s/attach-in", C.home);
    snprintf(log, sizeof log, "%s/attach-out", C.home);
    CHECK(orc_file_write(in_path, input, strlen(input), 0600) == 0);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(C.home, in_path, log, log);
        execl(KUBECTL, KUBECTL, "--kubeconfig", conf, "attach", "-i", "reader", (char *)NULL);
        _exit(127);
    }
    while (!seen && test_now_ms() < end) {
        usleep(200 * 1000);
        if (KUBECTL_RUN(NULL, &out, &err, "logs", "reader") == 0) seen = strstr(out, want) != NULL;
        free(out);
        free(err);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    CHECKF(seen, "attach -i: the process did not print %s", want);
    unlink(in_path);
    unlink(log);
}

/* attach: the container's own output from then on, until it ends. */
static void attach_output(void)
{
    char body[1024], *resp = NULL, *out, *err;
    int status, rc;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"talker\"},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"echo before; sleep 4; echo one; echo two >&2; sleep 0.5\"]}]}}",
             F.image);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);
    CHECKF(status == 201, "create pod: %d %s", status, resp ? resp : "");
    free(resp);
    wl_wait_running("talker", 30000);
    rc = KUBECTL_RUN(NULL, &out, &err, "attach", "talker");
    CHECKF(rc == 0, "kubectl attach: %d %s", rc, err);
    CHECKF(strstr(out, "one\ntwo\n") != NULL && strstr(out, "before") == NULL, "attach printed: %s", out);
    free(out);
    free(err);

    /* stdin: true keeps the process's stdin open; attach -i feeds it */
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"reader\"},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"stdin\":true,\"command\":[\"sh\",\"-c\",\"read a; echo got $a; read b; echo then $b; sleep 0.5\"]}]}}",
             F.image);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);
    CHECKF(status == 201, "create pod: %d %s", status, resp ? resp : "");
    free(resp);
    wl_wait_running("reader", 30000);
    attach_and_leave("hello\n", "got hello");
    rc = KUBECTL_RUN("world\n", &out, &err, "attach", "-i", "reader");
    CHECKF(rc == 0 && strstr(out, "then world"), "kubectl attach -i again: %d %s %s", rc, out, err);
    free(out);
    free(err);
    rc = KUBECTL_RUN(NULL, &out, &err, "logs", "reader");
    CHECKF(rc == 0 && strstr(out, "got hello\nthen world\n"), "logs: %s %s", out, err);
    free(out);
    free(err);
}

/* orctl attach, with stdin, until the process ends. */
static void orctl_attach(void)
{
    char body[1024], *resp = NULL, *out, *err;
    int status, rc;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"oreader\"},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"stdin\":true,\"command\":[\"sh\",\"-c\",\"read a; echo orctl said $a; sleep 0.5\"]}]}}",
             F.image);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);
    CHECKF(status == 201, "create pod: %d %s", status, resp ? resp : "");
    free(resp);
    wl_wait_running("oreader", 30000);
    rc = run_orctl_in(&C, "hi\n", &out, &err, "attach", "-i", "oreader", NULL);
    CHECKF(rc == 0 && strstr(out, "orctl said hi\n"), "orctl attach -i: %d %s %s", rc, out, err);
    free(out);
    free(err);
}

static void exec_errors(void)
{
    char *out, *err;
    int rc = KUBECTL_RUN(NULL, &out, &err, "exec", "box", "-c", "nope", "--", "true");

    CHECKF(rc != 0 && strstr(err, "container nope is not valid for pod box") != NULL, "%d %s", rc, err);
    free(out);
    free(err);
}

TEST_T(kubectl_exec_and_cp, 150)
{
    if (access(KUBECTL, X_OK) != 0) {
        fprintf(stderr, "# SKIP: %s is not installed on this machine\n", KUBECTL);
        return;
    }
    start_box();
    exec_plain();
    exec_exit_code();
    exec_stdin();
    exec_tty();
    cp_both_ways();
    exec_killed_client();
    orctl_exec_stream();
    attach_output();
    orctl_attach();
    exec_errors();
}
