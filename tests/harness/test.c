/* test.c — the runner behind test.h: forks one child per case, prints one
 * ok/not-ok line per case and exits with the failure count. The runner owns
 * each case's timeout: once it passes, the case is a timeout whatever
 * happens next, and the child is told (a byte on a pipe) to run its
 * cleanups on a thread that waits for just that, in ordinary code rather
 * than a signal handler (which may have interrupted malloc, a lock or a
 * cleanup), then exit. A child whose cleanups do not end in CLEANUP_GRACE_MS
 * is killed, and the runner removes the tmpdir it left. */
#include "tests/harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 512
#define MAX_DEFERS 64
#define TMPDIR_LEN 256
/* A timed-out case's cleanups (members stopped with SIGTERM, up to 10 s
 * each) may take this long before the child is killed. */
#define CLEANUP_GRACE_MS 60000

struct test_case { const char *name; test_fn fn; unsigned timeout_s; };
struct defer { void (*fn)(void *); void *arg; };

static struct test_case cases[MAX_TESTS];
static int n_cases;
/* Cleanups: pushed by the case, run (last first) by whichever thread ends
 * it — the case's own, or the cleanup thread after a timeout. */
static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct defer defers[MAX_DEFERS];
static int n_defers;
static pthread_t cleaner;
static _Thread_local bool is_cleaner;
static bool timed_out; /* __atomic; set by the cleanup thread */
/* The case's tmpdir: in memory shared with the runner, which removes it if
 * the child could not. */
static char *tmpdir_path;
static int failed_late; /* a deferred check failed after the body passed */
static bool failing;    /* the case failed: cleanups may say more about why */

bool test_failing(void) { return failing || failed_late || __atomic_load_n(&timed_out, __ATOMIC_ACQUIRE); }

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
    pthread_mutex_lock(&defer_lock);
    if (n_defers == MAX_DEFERS) {
        pthread_mutex_unlock(&defer_lock);
        test_fail(__FILE__, __LINE__, "too many test_defer calls");
    }
    defers[n_defers++] = (struct defer){fn, arg};
    pthread_mutex_unlock(&defer_lock);
}

static bool take_defer(struct defer *d)
{
    bool got;

    pthread_mutex_lock(&defer_lock);
    got = n_defers > 0;
    if (got) *d = defers[--n_defers];
    pthread_mutex_unlock(&defer_lock);
    return got;
}

/* After a timeout only the cleanup thread goes on (it ends the process);
 * any other thread reaching the cleanups stops here. */
static void yield_to_cleaner(void)
{
    if (!__atomic_load_n(&timed_out, __ATOMIC_ACQUIRE) || is_cleaner) return;
    for (;;) pause();
}

/* Each cleanup runs once, by whichever thread takes it. */
static void run_defers(void)
{
    struct defer d;

    for (;;) {
        yield_to_cleaner();
        if (!take_defer(&d)) return;
        d.fn(d.arg);
    }
}

/* Within the tree, never crossing into a file system mounted in it (one a
 * cleanup could not unmount keeps what it holds). */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    if (getenv("TEST_KEEP_TMP") == NULL) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void remove_tmpdir(void *arg)
{
    (void)arg;
    remove_tree(tmpdir_path);
    tmpdir_path[0] = '\0';
}

const char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    if (tmpdir_path[0] != '\0') return tmpdir_path;
    snprintf(tmpdir_path, TMPDIR_LEN, "%s/orc-test-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(tmpdir_path) == NULL) {
        tmpdir_path[0] = '\0';
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    }
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
    failing = true;
    run_defers();
    _exit(1);
}

/* ---- in the child ---- */

/* Waits for the runner's word (or its end: the runner is gone), then runs
 * the cleanups and ends the process, whatever the case's threads are doing. */
static void *cleaner_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char b;

    while (read(fd, &b, 1) < 0 && errno == EINTR) {}
    is_cleaner = true;
    __atomic_store_n(&timed_out, true, __ATOMIC_RELEASE);
    run_defers();
    fflush(NULL);
    _exit(2);
}

/* The thread takes no signal: those meant for the case reach its threads. */
static void start_cleaner(int fd)
{
    sigset_t all, old;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&cleaner, NULL, cleaner_main, (void *)(intptr_t)fd) != 0) {
        fprintf(stderr, "# cannot start the cleanup thread: %s\n", strerror(errno));
        _exit(3);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void run_child(const struct test_case *tc, const sigset_t *mask, int ctl)
{
    sigprocmask(SIG_SETMASK, mask, NULL);
    start_cleaner(ctl);
    tc->fn();
    run_defers();
    fflush(NULL);
    exit(failed_late); /* not _exit: lets LeakSanitizer check the case at exit */
}

/* ---- in the runner ---- */

/* Waits for pid until deadline (test_now_ms); true once reaped. SIGCHLD is
 * blocked in the runner, so its arrival wakes sigtimedwait. */
static bool reap_by(pid_t pid, int *status, uint64_t deadline)
{
    sigset_t chld;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        uint64_t now = test_now_ms(), left;
        if (r == pid || (r < 0 && errno != EINTR)) return true;
        if (now >= deadline) return false;
        left = deadline - now;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        sigtimedwait(&chld, NULL, &ts);
    }
}

/* The case ran past its timeout: its cleanups run now, within a grace
 * period, after which it is killed. */
static void end_timed_out(const char *prog, const struct test_case *tc, pid_t pid, int ctl,
                          int *status)
{
    fprintf(stderr, "# FAIL: timeout: %s/%s still running after %u s; its cleanups run now\n",
            prog, tc->name, tc->timeout_s);
    fflush(stderr);
    if (write(ctl, "t", 1) != 1) { /* the child is gone already: reaped below */ }
    if (reap_by(pid, status, test_now_ms() + CLEANUP_GRACE_MS)) return;
    fprintf(stderr, "# %s/%s: its cleanups did not end within %d s; killed\n", prog, tc->name,
            CLEANUP_GRACE_MS / 1000);
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
}

static int run_case(const char *prog, const struct test_case *tc, const sigset_t *child_mask)
{
    uint64_t start = test_now_ms();
    bool timeout = false;
    int status = 0, ctl[2];
    pid_t pid;

    if (pipe2(ctl, O_CLOEXEC) != 0) { perror("pipe2"); return 1; }
    tmpdir_path[0] = '\0';
    fflush(stdout);
    pid = fork();
    if (pid < 0) { perror("fork"); close(ctl[0]); close(ctl[1]); return 1; }
    if (pid == 0) {
        close(ctl[1]);
        run_child(tc, child_mask, ctl[0]);
    }
    close(ctl[0]);
    if (!reap_by(pid, &status, start + (uint64_t)tc->timeout_s * 1000)) {
        timeout = true;
        end_timed_out(prog, tc, pid, ctl[1], &status);
    }
    close(ctl[1]);
    if (tmpdir_path[0] != '\0') remove_tree(tmpdir_path); /* the child could not */
    int ok = !timeout && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status) && !timeout)
        fprintf(stderr, "# %s/%s killed by signal %d\n", prog, tc->name, WTERMSIG(status));
    else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
        fprintf(stderr, "# %s/%s: its cleanups after the timeout crashed (signal %d)\n", prog,
                tc->name, WTERMSIG(status));
    printf("%s - %s/%s (%llu ms)%s\n", ok ? "ok" : "not ok", prog, tc->name,
           (unsigned long long)(test_now_ms() - start), timeout ? " # timeout" : "");
    fflush(stdout);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/');
    const char *filter = argc > 1 ? argv[1] : getenv("TEST_FILTER");
    char progname[256];
    sigset_t chld, child_mask;
    int failed = 0;

    prog = prog ? prog + 1 : argv[0];
    /* Name cases "dir/prog" so output says where they live. */
    {
        const char *p = argv[0] + strlen(argv[0]) - strlen(prog);
        const char *dir = p;
        if (dir > argv[0]) { dir--; while (dir > argv[0] && dir[-1] != '/') dir--; }
        snprintf(progname, sizeof progname, "%.*s", (int)(argv[0] + strlen(argv[0]) - dir), dir);
    }
    tmpdir_path = mmap(NULL, TMPDIR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tmpdir_path == MAP_FAILED) { perror("mmap"); return 1; }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &child_mask);
    for (int i = 0; i < n_cases; i++) {
        if (filter && *filter && strstr(cases[i].name, filter) == NULL
            && strstr(progname, filter) == NULL)
            continue;
        failed += run_case(progname, &cases[i], &child_mask);
    }
    return failed > 0 ? 1 : 0;
}

pid_t test_spawn_logged(const char *const *argv, const char *log)
{
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) < 0) test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}
