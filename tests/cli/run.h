/* run.h — running the real orctl binary (and kubectl) as a user would:
 * a child process with $HOME pointing into the test's tmpdir, stdout and
 * stderr captured, the exit status returned. A sanitizer report from the
 * child fails the case, so SAN builds check orctl itself too. */
#ifndef ORC_TEST_CLI_RUN_H
#define ORC_TEST_CLI_RUN_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define RUN_MAX_ARGS 64

static inline char *run_read_file(const char *path)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECKF(orc_file_read(path, 64u << 20, &b) == 0, "cannot read %s", path);
    if (b.len == 0) {
        orc_buf_free(&b);
        return strdup("");
    }
    return orc_buf_steal(&b, NULL);
}

static inline void run_check_clean(const char *what, const char *err)
{
    CHECKF(strstr(err, "AddressSanitizer") == NULL && strstr(err, "LeakSanitizer") == NULL
               && strstr(err, "runtime error:") == NULL,
           "sanitizer report from %s:\n%s", what, err);
}

/* A fresh path under the tmpdir for captured output. */
static inline void run_temp_path(const char *tag, char *out, size_t n)
{
    static int seq;
    snprintf(out, n, "%s/%s-%d-%d", test_tmpdir(), tag, (int)getpid(), ++seq);
}

static inline void run_child_setup(const char *home, const char *in, const char *out, const char *err)
{
    int fi = open(in ? in : "/dev/null", O_RDONLY);
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = err ? open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600) : fo;

    if (fi < 0 || fo < 0 || fe < 0) _exit(126);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    setenv("HOME", home, 1);
    unsetenv("ORC_CONFIG");
    unsetenv("KUBECONFIG");
}

/* Runs argv[0] (a path) with HOME=home and stdin from `input` text (NULL:
 * empty). *out and *err (malloc'd) get what it printed. Returns its exit
 * status, or 128 + signal. */
static inline int run_prog(const char *home, const char *input, char **out, char **err,
                           const char *const *argv)
{
    char in_path[600] = "", out_path[600], err_path[600];
    int status = 0;
    pid_t pid;

    if (input) {
        run_temp_path("stdin", in_path, sizeof in_path);
        CHECK(orc_file_write(in_path, input, strlen(input), 0600) == 0);
    }
    run_temp_path("stdout", out_path, sizeof out_path);
    run_temp_path("stderr", err_path, sizeof err_path);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(home, input ? in_path : NULL, out_path, err_path);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    *out = run_read_file(out_path);
    *err = run_read_file(err_path);
    run_check_clean(argv[0], *err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* orctl with the words after it (NULL-terminated varargs). */
static inline int run_orctl_v(const char *home, const char *input, char **out, char **err,
                              const char *first, va_list ap)
{
    const char *argv[RUN_MAX_ARGS];
    int n = 0;

    argv[n++] = t_bin("orctl");
    for (const char *a = first; a && n < RUN_MAX_ARGS - 1; a = va_arg(ap, const char *)) argv[n++] = a;
    argv[n] = NULL;
    return run_prog(home, input, out, err, argv);
}

/* orctl as the user of cluster c (HOME = c->home, where ~/.orc/config is). */
static inline int run_orctl(struct cluster *c, char **out, char **err, const char *arg, ...)
{
    va_list ap;
    int rv;

    va_start(ap, arg);
    rv = run_orctl_v(c->home, NULL, out, err, arg, ap);
    va_end(ap);
    return rv;
}

/* The same with `input` on stdin. */
static inline int run_orctl_in(struct cluster *c, const char *input, char **out, char **err,
                               const char *arg, ...)
{
    va_list ap;
    int rv;

    va_start(ap, arg);
    rv = run_orctl_v(c->home, input, out, err, arg, ap);
    va_end(ap);
    return rv;
}

/* A long-running orctl (get -w): output of both streams goes to out_path. */
static inline pid_t spawn_orctl(const char *home, const char *out_path, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS];
    int n = 0;
    pid_t pid;

    argv[n++] = t_bin("orctl");
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(home, NULL, out_path, NULL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits until the file holds `needle` (fails the case after timeout_ms). */
static inline char *wait_for_output(const char *path, const char *needle, unsigned timeout_ms)
{
    uint64_t start = test_now_ms();

    for (;;) {
        struct orc_buf b = ORC_BUF_INIT;
        orc_file_read(path, 64u << 20, &b);
        if (b.len && strstr(b.data, needle)) return orc_buf_steal(&b, NULL);
        if (test_now_ms() - start > timeout_ms) {
            test_fail(__FILE__, __LINE__, "no \"%s\" in %s after %u ms:\n%s", needle, path,
                      timeout_ms, b.data ? b.data : "");
        }
        orc_buf_free(&b);
        test_sleep_ms(20);
    }
}

/* Sends sig and returns the exit status (128 + signal when killed by it). */
static inline int stop_orctl(pid_t pid, int sig)
{
    int status = 0;
    uint64_t start = test_now_ms();

    kill(pid, sig);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (test_now_ms() - start > 10000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            test_fail(__FILE__, __LINE__, "orctl did not exit 10 s after signal %d", sig);
        }
        test_sleep_ms(10);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- stock kubectl, as tests of issue 10 run it ---- */

/* Whether /usr/bin/kubectl is here; false with a SKIP line otherwise. */
static inline bool run_have_kubectl(void)
{
    if (access("/usr/bin/kubectl", X_OK) == 0) return true;
    fprintf(stderr, "# SKIP: /usr/bin/kubectl is not installed on this machine\n");
    return false;
}

/* One member of c, started (no agent) and ready. */
static inline void run_start_one(struct cluster *c)
{
    cluster_init(c, 1);
    member_start(c, 0, false, NULL);
    member_wait_ready(c, 0, 10000);
}

/* kubectl --kubeconfig <member 0's admin.conf> WORDS (NULL-terminated):
 * its exit status; stdout and stderr in *out and *err (free them). */
static inline int run_kubectl(struct cluster *c, char **out, char **err, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig"};
    char conf[700];
    int n = 2;

    snprintf(conf, sizeof conf, "%s/admin.conf", c->m[0].dir);
    argv[n++] = conf;
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    return run_prog(c->home, NULL, out, err, argv);
}

/* kubectl with only a client certificate, no kubeconfig and no token:
 * <tmpdir>/<tag>.crt and .key against member 0's CA. Its exit status;
 * stdout and stderr in *out and *err (free them). */
static inline int run_kubectl_cert(struct cluster *c, const char *tag, char **out, char **err,
                                   const char *const *words)
{
    char ca[700], crt[700], key[700];
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig", "/dev/null", "--server",
                                      c->m[0].url, "--certificate-authority", ca,
                                      "--client-certificate", crt, "--client-key", key};
    int n = 11;

    snprintf(ca, sizeof ca, "%s/ca.crt", c->m[0].dir);
    snprintf(crt, sizeof crt, "%s/%s.crt", test_tmpdir(), tag);
    snprintf(key, sizeof key, "%s/%s.key", test_tmpdir(), tag);
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    return run_prog(c->home, NULL, out, err, argv);
}

/* The same, failing the case unless it exits want_rc (naming the words and
 * both outputs); returns stdout (free it); *err_out (may be NULL) gets
 * stderr. */
static inline char *run_kubectl_rc(struct cluster *c, int want_rc, char **err_out,
                                   const char *const *words)
{
    char *out, *err;
    int rc = run_kubectl(c, &out, &err, words);

    CHECKF(rc == want_rc, "kubectl %s %s %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", words[0],
           words[0] && words[1] ? words[1] : "", words[0] && words[1] && words[2] ? words[2] : "",
           rc, want_rc, out, err);
    if (err_out) *err_out = err;
    else free(err);
    return out;
}

#define CHECK_HAS(hay, needle)                                                              \
    do { const char *h_ = (hay), *n_ = (needle);                                            \
         CHECKF(h_ && strstr(h_, n_), "expected \"%s\" in:\n%s", n_, h_ ? h_ : "(null)"); } \
    while (0)
#define CHECK_LACKS(hay, needle)                                                             \
    do { const char *h_ = (hay), *n_ = (needle);                                             \
         CHECKF(h_ && !strstr(h_, n_), "unexpected \"%s\" in:\n%s", n_, h_ ? h_ : "(null)"); } \
    while (0)

#endif
