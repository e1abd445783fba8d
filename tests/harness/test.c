/* test.c — the runner behind test.h: forks one child per case, enforces the
 * timeout, prints one ok/not-ok line per case and exits with the failure count. */
#include "tests/harness/test.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 512
#define MAX_DEFERS 64

struct test_case { const char *name; test_fn fn; unsigned timeout_s; };

static struct test_case cases[MAX_TESTS];
static int n_cases;
static struct { void (*fn)(void *); void *arg; } defers[MAX_DEFERS];
static int n_defers;
static char tmpdir_path[256];
static int failed_late; /* a deferred check failed after the body passed */

void test_fail_later(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "# FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    failed_late = 1;
}

void test_register(const char *name, test_fn fn, unsigned timeout_s)
{
    if (n_cases == MAX_TESTS) { fprintf(stderr, "too many tests\n"); abort(); }
    cases[n_cases].name = name;
    cases[n_cases].fn = fn;
    cases[n_cases].timeout_s = timeout_s;
    n_cases++;
}

void test_defer(void (*fn)(void *), void *arg)
{
    if (n_defers == MAX_DEFERS) test_fail(__FILE__, __LINE__, "too many test_defer calls");
    defers[n_defers].fn = fn;
    defers[n_defers].arg = arg;
    n_defers++;
}

static void run_defers(void)
{
    while (n_defers > 0) {
        n_defers--;
        defers[n_defers].fn(defers[n_defers].arg);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tmpdir(void *arg)
{
    (void)arg;
    if (getenv("TEST_KEEP_TMP") == NULL)
        nftw(tmpdir_path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir_path[0] = '\0';
}

const char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    if (tmpdir_path[0] != '\0') return tmpdir_path;
    snprintf(tmpdir_path, sizeof tmpdir_path, "%s/orc-test-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(tmpdir_path) == NULL) test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    test_defer(remove_tmpdir, NULL);
    return tmpdir_path;
}

uint64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "# FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    run_defers();
    _exit(1);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "# FAIL: timeout\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* ignore */ }
    run_defers();
    _exit(2);
}

static int run_case(const char *prog, const struct test_case *tc)
{
    uint64_t start = test_now_ms();
    int status = 0;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        signal(SIGALRM, on_alarm);
        alarm(tc->timeout_s);
        tc->fn();
        run_defers();
        fflush(NULL);
        exit(failed_late); /* not _exit: lets LeakSanitizer check the case at exit */
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "# %s/%s killed by signal %d\n", prog, tc->name, WTERMSIG(status));
    printf("%s - %s/%s (%llu ms)\n", ok ? "ok" : "not ok", prog, tc->name,
           (unsigned long long)(test_now_ms() - start));
    fflush(stdout);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/');
    const char *filter = argc > 1 ? argv[1] : getenv("TEST_FILTER");
    char progname[256];
    int failed = 0;

    prog = prog ? prog + 1 : argv[0];
    /* Name cases "dir/prog" so output says where they live. */
    {
        const char *p = argv[0] + strlen(argv[0]) - strlen(prog);
        const char *dir = p;
        if (dir > argv[0]) { dir--; while (dir > argv[0] && dir[-1] != '/') dir--; }
        snprintf(progname, sizeof progname, "%.*s", (int)(argv[0] + strlen(argv[0]) - dir), dir);
    }
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < n_cases; i++) {
        if (filter && *filter && strstr(cases[i].name, filter) == NULL
            && strstr(progname, filter) == NULL)
            continue;
        failed += run_case(progname, &cases[i]);
    }
    return failed > 0 ? 1 : 0;
}
