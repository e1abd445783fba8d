/* test_kubectl_attach_tty.c — stock kubectl attaching to containers with a
 * terminal (the shim holds the pty master the OCI runtime sent over its
 * console socket) against one `orcd server` with its embedded agent:
 * `kubectl run -it --rm --restart=Never` (input, output, the pod deleted
 * after), `kubectl attach -it` with a resize, the terminal's output in
 * `kubectl logs`, and stdinOnce (the process sees EOF when the first
 * attach leaves) without a terminal; `orctl run` the same. kubectl runs
 * under a real pty. */
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>

#include "tests/e2e/ptyfx.h"
#include "tests/e2e/wlfx.h"

#define KUBECTL "/usr/bin/kubectl"

static char conf[700];
static pid_t kid;

static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

/* A kubectl still running at the end (a failed case) is stopped. */
static void kill_kid(void *arg)
{
    (void)arg;
    if (kid > 0) {
        kill(kid, SIGKILL);
        waitpid(kid, NULL, 0);
        kid = 0;
    }
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

/* kubectl (or orctl: orctl true) WORDS... on a new pty of size 30x100;
 * its master in *master. */
static pid_t prog_pty(int *master, bool orctl, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {KUBECTL, "--kubeconfig", conf};
    int n = 3;
    pid_t pid;

    if (orctl) {
        argv[0] = t_bin("orctl");
        n = 1;
    }
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    pid = pty_spawn(master, 30, 100, C.home, argv);
    kid = pid;
    return pid;
}

/* Types `line` (with a carriage return, as a terminal sends Enter) until
 * `want` shows: the first keys may come before the attach is complete. */
static bool type_until(int fd, struct orc_buf *acc, const char *line, const char *want, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    while (test_now_ms() < end) {
        if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || write(fd, "\r", 1) != 1) return false;
        if (pty_wait(fd, acc, want, 2000)) return true;
    }
    return false;
}

static int reap_kid(void)
{
    int st = -1;

    CHECK(waitpid(kid, &st, 0) == kid);
    kid = 0;
    return st;
}

static void create_pod(const char *body)
{
    char *resp = NULL;
    int status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);

    CHECKF(status == 201, "create pod: %d %s", status, resp ? resp : "");
    free(resp);
}

static bool pod_exists(const char *name)
{
    char path[256];
    json_t *p;
    bool there;

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    p = wl_get(path);
    there = p != NULL;
    json_decref(p);
    return there;
}

static void start_cluster(void)
{
    const char *extra[] = {"--node-name", node, NULL};

    fx_setup(true, false);
    wl_init("kt", delete_pods_at_end);
    test_defer(kill_kid, NULL);
    cluster_start(&C, extra);
    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    wl_wait_node(node, 20000);
}

/* kubectl run -it --rm: a shell on a terminal, fed from ours; the pod is
 * deleted when the session ends. */
static void run_it_rm(void)
{
    struct orc_buf acc = ORC_BUF_INIT;
    uint64_t end;
    int master, st;

    prog_pty(&master, false, (const char *const[]){"run", "-it", "--rm", "--restart=Never", "--image", F.image,
                                                "shell", "--", "sh", NULL});
    CHECKF(type_until(master, &acc, "echo run-$((6*7)) on $(tty)", "run-42 on /dev/pts/", 40000),
           "kubectl run -it: no answer from the shell: %s", acc.data ? acc.data : "");
    CHECK(write(master, "exit 3\r", 7) == 7);
    pty_wait(master, &acc, "\x01never", 20000); /* to kubectl's end */
    st = reap_kid();
    close(master);
    CHECKF(strstr(acc.data, "pod \"shell\" deleted") != NULL, "kubectl run --rm said: %s", acc.data);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 3, "kubectl run -it exited %d: %s", st, acc.data);
    end = test_now_ms() + 20000;
    while (pod_exists("shell") && test_now_ms() < end) usleep(100 * 1000);
    CHECKF(!pod_exists("shell"), "the pod of kubectl run --rm is still there");
    orc_buf_free(&acc);
}

/* kubectl attach -it to a running terminal: output, input, a resize; the
 * container carries on after the attach leaves (stdinOnce false), and its
 * terminal's output is its log. */
static void attach_it(void)
{
    struct winsize ws = {.ws_row = 40, .ws_col = 120};
    struct orc_buf acc = ORC_BUF_INIT;
    char body[1024], *out, *err;
    int master, rc;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"term\"},"
             "\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"tty\":true,\"stdin\":true,\"command\":[\"sh\",\"-c\",\"while read l; do "
             "echo \\\"got:$l size:$(stty size)\\\"; done\"]}]}}",
             F.image);
    create_pod(body);
    wl_wait_running("term", 30000);
    prog_pty(&master, false, (const char *const[]){"attach", "-it", "term", NULL});
    CHECKF(type_until(master, &acc, "one", "got:one size:30 100", 30000), "kubectl attach -it: %s",
           acc.data ? acc.data : "");
    CHECK(ioctl(master, TIOCSWINSZ, &ws) == 0); /* kubectl gets SIGWINCH and sends the size */
    CHECKF(type_until(master, &acc, "two", "got:two size:40 120", 20000), "no resize to 40x120: %s", acc.data);
    kill(kid, SIGTERM);
    reap_kid();
    close(master);
    orc_buf_free(&acc);
    usleep(300 * 1000);
    CHECKF(pod_exists("term"), "the pod went with the attach");
    rc = KUBECTL_RUN(NULL, &out, &err, "logs", "term");
    CHECKF(rc == 0 && strstr(out, "got:one size:30 100\r\n") && strstr(out, "got:two size:40 120\r\n"),
           "logs of the terminal: %d %s %s", rc, out, err);
    free(out);
    free(err);
}

/* stdinOnce on a terminal: when the first attach leaves, the terminal
 * gets its EOF character (cat on a fresh line ends). */
static void tty_stdin_once(void)
{
    struct orc_buf acc = ORC_BUF_INIT;
    char body[1024], *out = NULL, *err = NULL;
    uint64_t end;
    int master, rc = -1;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"tonce\"},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"tty\":true,\"stdin\":true,\"stdinOnce\":true,"
             "\"command\":[\"sh\",\"-c\",\"cat; echo eof-seen; sleep 5\"]}]}}",
             F.image);
    create_pod(body);
    wl_wait_running("tonce", 30000);
    prog_pty(&master, false, (const char *const[]){"attach", "-it", "tonce", NULL});
    CHECKF(type_until(master, &acc, "abc", "abc\r\nabc\r\n", 30000), "kubectl attach -it (stdinOnce): %s",
           acc.data ? acc.data : "");
    kill(kid, SIGTERM);
    reap_kid();
    close(master);
    orc_buf_free(&acc);
    end = test_now_ms() + 15000;
    while (test_now_ms() < end) {
        free(out);
        free(err);
        rc = KUBECTL_RUN(NULL, &out, &err, "logs", "tonce");
        if (rc == 0 && strstr(out, "eof-seen")) break;
        usleep(200 * 1000);
    }
    CHECKF(rc == 0 && strstr(out, "eof-seen"), "the terminal saw no EOF after the attach: %d %s %s", rc, out, err);
    free(out);
    free(err);
}

/* A command that ends before the attach: the attach is refused (as
 * containerd's) and kubectl run prints the log instead; orctl run too. */
static void run_quick(void)
{
    char *out, *err;
    int rc = KUBECTL_RUN(NULL, &out, &err, "run", "quick", "--image", F.image, "--restart=Never", "--attach",
                         "--command", "--", "echo", "quick-42");

    CHECKF(rc == 0 && strstr(out, "quick-42\n"), "kubectl run --attach (quick): %d %s %s", rc, out, err);
    free(out);
    free(err);
    rc = run_orctl(&C, &out, &err, "run", "oquick", "--image", F.image, "--restart=Never", "--attach", "--rm",
                   "--command", "--", "echo", "oquick-42", NULL);
    CHECKF(rc == 0 && strstr(out, "oquick-42\n") && strstr(out, "pod \"oquick\" deleted"),
           "orctl run --attach (quick): %d %s %s", rc, out, err);
    free(out);
    free(err);
}

/* stdinOnce without a terminal: the first attach's end is the process's EOF. */
static void stdin_once(void)
{
    char body[1024], *out, *err;
    int rc;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"once\"},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"stdin\":true,\"stdinOnce\":true,\"command\":[\"sh\",\"-c\",\"cat; echo eof-seen; sleep 0.5\"]}]}}",
             F.image);
    create_pod(body);
    wl_wait_running("once", 30000);
    rc = KUBECTL_RUN("fed once\n", &out, &err, "attach", "-i", "once");
    CHECKF(rc == 0 && strstr(out, "fed once\neof-seen\n"), "kubectl attach -i (stdinOnce): %d %s %s", rc, out,
           err);
    free(out);
    free(err);
}

/* orctl run: a command's exit code (--restart=Never), stdin piped and
 * closed after (stdinOnce) with --rm, and a terminal under -it. */
static void orctl_run(void)
{
    struct orc_buf acc = ORC_BUF_INIT;
    char *out, *err;
    int rc, master, st;

    rc = run_orctl(&C, &out, &err, "run", "calc", "--image", F.image, "--restart=Never", "--attach", "--command",
                   "--", "sh", "-c", "sleep 2; echo $((6*7)); exit 4", NULL);
    CHECKF(rc == 4 && strstr(out, "42\n") && strstr(err, "pod default/calc terminated (Error)"),
           "orctl run --restart=Never: %d %s %s", rc, out, err);
    free(out);
    free(err);
    rc = run_orctl(&C, &out, &err, "run", "made", "--image", F.image, "-l", "app=x,tier=y", "--env", "A=1", NULL);
    CHECKF(rc == 0 && strcmp(out, "pod/made created\n") == 0, "orctl run: %d %s %s", rc, out, err);
    free(out);
    free(err);
    {
        json_t *p = wl_get("/api/v1/namespaces/default/pods/made");
        CHECKF(p && strcmp(orc_json_str(p, "metadata.labels.app") ?: "", "x") == 0
                   && strcmp(orc_json_str(p, "spec.restartPolicy") ?: "", "Always") == 0
                   && json_object_get(orc_json_get(p, "spec.containers"), "stdin") == NULL,
               "orctl run made the pod");
        json_decref(p);
    }
    rc = run_orctl_in(&C, "piped in\n", &out, &err, "run", "-i", "--rm", "--restart=Never", "piper", "--image",
                      F.image, "--command", "--", "sh", "-c", "cat; echo done", NULL);
    CHECKF(rc == 0 && strstr(out, "piped in\ndone\n") && strstr(out, "pod \"piper\" deleted\n"),
           "orctl run -i --rm: %d %s %s", rc, out, err);
    free(out);
    free(err);
    rc = run_orctl(&C, &out, &err, "run", "bad", "--image", F.image, "-t", NULL);
    CHECKF(rc == 1 && strstr(err, "-i/--stdin is required for containers with -t/--tty=true"), "%d %s", rc, err);
    free(out);
    free(err);

    prog_pty(&master, true, (const char *const[]){"run", "-it", "--rm", "--restart=Never", "--image", F.image,
                                                  "oshell", "--", "sh", NULL});
    CHECKF(type_until(master, &acc, "echo o-$((5*5)) $(stty size)", "o-25 30 100", 40000),
           "orctl run -it: no answer from the shell: %s", acc.data ? acc.data : "");
    CHECK(write(master, "exit\r", 5) == 5);
    pty_wait(master, &acc, "\x01never", 20000);
    st = reap_kid();
    close(master);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(acc.data, "pod \"oshell\" deleted"),
           "orctl run -it --rm exited %d: %s", st, acc.data);
    orc_buf_free(&acc);
}

TEST_T(kubectl_attach_tty, 120)
{
    if (access(KUBECTL, X_OK) != 0) {
        fprintf(stderr, "# SKIP: %s is not installed on this machine\n", KUBECTL);
        return;
    }
    start_cluster();
    run_it_rm();
    attach_it();
    stdin_once();
    tty_stdin_once();
    run_quick();
    orctl_run();
}
