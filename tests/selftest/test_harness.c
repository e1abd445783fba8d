/* test_harness.c — the test runner itself (tests/harness/test.c): a case
 * that outlives its timeout is reported as a timeout, whatever it was doing
 * (allocating memory, sleeping, stuck in one of its cleanups), and its
 * cleanups still run: the process it started is stopped, its tmpdir
 * removed. The cases that time out on purpose are registered only in a copy
 * of this program that the cases below run (ORC_HARNESS_SELFTEST set), so
 * they never count in a normal run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/harness/test.h"

#define HIDDEN_ENV "ORC_HARNESS_SELFTEST" /* the directory the hidden cases report to */

static const char *const hidden[] = {"hidden_timeout_while_allocating",
                                     "hidden_timeout_while_allocating_threaded",
                                     "hidden_timeout_while_sleeping", "hidden_timeout_in_a_cleanup"};

/* ---- the hidden cases (in the copy) ---- */

static void write_note(const char *name, const char *what, const char *text)
{
    char path[700];

    snprintf(path, sizeof path, "%s/%s.%s", getenv(HIDDEN_ENV), name, what);
    if (orc_file_write(path, text, strlen(text), 0600) != 0) _exit(99);
}

static void kill_child(void *arg)
{
    pid_t pid = (pid_t)(intptr_t)arg;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void note_cleaned(void *arg) { write_note(arg, "cleaned", "yes"); }

/* What every hidden case holds: a tmpdir with files in it, a process it
 * started, and a cleanup that says it ran. */
static void hold_things(const char *name)
{
    const char *dir = test_tmpdir();
    char path[600], pid_text[32];
    pid_t pid;

    for (int i = 0; i < 200; i++) {
        snprintf(path, sizeof path, "%s/file%d", dir, i);
        CHECK(orc_file_write(path, "x", 1, 0600) == 0);
    }
    write_note(name, "tmpdir", dir);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        execlp("sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    test_defer(kill_child, (void *)(intptr_t)pid);
    snprintf(pid_text, sizeof pid_text, "%d", (int)pid);
    write_note(name, "pid", pid_text);
    test_defer(note_cleaned, (void *)name);
}

/* Busy in malloc and free when the time is up. */
static void allocate_forever(void)
{
    static void *ring[64];

    for (size_t i = 0;; i++) {
        size_t k = i % 64, n = 16 + (i * 7919) % 100000;
        free(ring[k]);
        ring[k] = malloc(n);
        if (ring[k]) memset(ring[k], (int)i, n < 64 ? n : 64);
    }
}

static void timeout_while_allocating(void)
{
    hold_things(hidden[0]);
    allocate_forever();
}

static void *idle_main(void *arg)
{
    (void)arg;
    for (;;) pause();
    return NULL;
}

/* The same with a second thread, so malloc takes its locks. */
static void timeout_while_allocating_threaded(void)
{
    pthread_t th;

    hold_things(hidden[1]);
    CHECK(pthread_create(&th, NULL, idle_main, NULL) == 0);
    allocate_forever();
}

static void timeout_while_sleeping(void)
{
    hold_things(hidden[2]);
    test_sleep_ms(60000);
}

static void sleep_forever(void *arg)
{
    (void)arg;
    test_sleep_ms(60000);
}

/* The body passes; a cleanup hangs; the others must still run. */
static void timeout_in_a_cleanup(void)
{
    hold_things(hidden[3]);
    test_defer(sleep_forever, NULL);
}

__attribute__((constructor)) static void register_hidden(void)
{
    if (getenv(HIDDEN_ENV) == NULL) return;
    test_register(hidden[0], timeout_while_allocating, 1);
    test_register(hidden[1], timeout_while_allocating_threaded, 1);
    test_register(hidden[2], timeout_while_sleeping, 1);
    test_register(hidden[3], timeout_in_a_cleanup, 1);
}

/* ---- the cases that run the copy ---- */

static char *read_note(const char *dir, const char *name, const char *what)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[700];

    snprintf(path, sizeof path, "%s/%s.%s", dir, name, what);
    if (orc_file_read(path, 1 << 20, &b) != 0 || b.data == NULL) return NULL;
    return orc_buf_steal(&b, NULL);
}

static bool running(pid_t pid)
{
    char path[64], stat[256] = "";
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL) return false;
    if (fgets(stat, sizeof stat, f) == NULL) stat[0] = '\0';
    fclose(f);
    const char *state = strrchr(stat, ')');
    return state && state[1] == ' ' && state[2] != 'Z';
}

static pid_t copy_pid;
static char copy_dir[600];

/* Whatever the copy left running when this case ends early: the copy
 * runs in a process group of its own, with the cases it forked. */
static void stop_copy(void *arg)
{
    (void)arg;
    if (copy_pid > 0) {
        kill(-copy_pid, SIGKILL);
        waitpid(copy_pid, NULL, 0);
    }
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        char *p = read_note(copy_dir, hidden[i], "pid");
        pid_t pid = p ? (pid_t)atoi(p) : 0;
        if (pid > 0 && running(pid)) kill(pid, SIGKILL);
        free(p);
    }
}

/* The copy's output, each line behind "#   " (run.sh counts only lines
 * that start with ok or not ok). */
static void quote(const char *out)
{
    for (const char *l = out; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0'))
        printf("#   %.*s\n", (int)strcspn(l, "\n"), l);
    fflush(stdout);
}

/* Runs the copy with the hidden cases matching `filter`; returns what it
 * printed (stdout and stderr) and its exit status in *rc. */
static char *run_copy(const char *filter, int *rc)
{
    char out_path[700], tmp[700], exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    uint64_t start = test_now_ms();
    struct orc_buf b = ORC_BUF_INIT;
    int status = 0;

    CHECK(n > 0);
    exe[n] = '\0';
    snprintf(copy_dir, sizeof copy_dir, "%s/notes", test_tmpdir());
    CHECK(mkdir(copy_dir, 0700) == 0);
    snprintf(out_path, sizeof out_path, "%s/output", test_tmpdir());
    /* Its cases' tmpdirs go in ours, so they go with it whatever happens. */
    snprintf(tmp, sizeof tmp, "%s/tmp", test_tmpdir());
    CHECK(mkdir(tmp, 0700) == 0);
    test_defer(stop_copy, NULL);
    fflush(NULL);
    copy_pid = fork();
    CHECK(copy_pid >= 0);
    if (copy_pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (setpgid(0, 0) != 0 || fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
        setenv(HIDDEN_ENV, copy_dir, 1);
        setenv("TMPDIR", tmp, 1);
        execl(exe, exe, filter, (char *)NULL);
        _exit(127);
    }
    while (waitpid(copy_pid, &status, WNOHANG) == 0) {
        if (test_now_ms() - start > 45000) {
            orc_file_read(out_path, 1 << 20, &b);
            quote(b.data ? b.data : "");
            test_fail(__FILE__, __LINE__, "the runner hung past its cases' timeouts");
        }
        test_sleep_ms(20);
    }
    copy_pid = 0;
    *rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    CHECK(orc_file_read(out_path, 1 << 20, &b) == 0 && b.data != NULL);
    return orc_buf_steal(&b, NULL);
}

/* The line of `out` that starts with `prefix` and names case `name`. */
static bool has_line(const char *out, const char *prefix, const char *name)
{
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char *line = strndup(l, len);
        bool hit = strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, name) != NULL;
        free(line);
        if (hit) return true;
    }
    return false;
}

static void check_cleaned(const char *name)
{
    char *cleaned = read_note(copy_dir, name, "cleaned"), *pid = read_note(copy_dir, name, "pid");
    char *dir = read_note(copy_dir, name, "tmpdir");
    struct stat st;

    CHECKF(pid != NULL && dir != NULL, "%s did not start", name);
    CHECKF(cleaned != NULL, "%s: its cleanups did not run", name);
    CHECKF(!running((pid_t)atoi(pid)), "%s: the process it started (%s) still runs", name, pid);
    CHECKF(stat(dir, &st) != 0, "%s: its tmpdir %s is still there", name, dir);
    free(cleaned);
    free(pid);
    free(dir);
}

/* On failure, what the copy printed comes first. */
#define CHECK_OUT(out, c, ...)                                   \
    do {                                                         \
        if (!(c)) {                                              \
            quote(out);                                          \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);          \
        }                                                        \
    } while (0)

TEST_T(cases_past_their_timeout_are_reported_as_timeouts_and_cleaned_up, 60)
{
    int rc = 0;
    char *out = run_copy("hidden_", &rc);
    size_t n = sizeof hidden / sizeof hidden[0];

    CHECK_OUT(out, strstr(out, "killed by signal") == NULL, "a timeout reported as a signal");
    for (size_t i = 0; i < n; i++) {
        CHECK_OUT(out, has_line(out, "not ok - ", hidden[i]), "no \"not ok\" for %s", hidden[i]);
        CHECK_OUT(out, has_line(out, "# FAIL: timeout", hidden[i]), "%s not reported as a timeout",
                  hidden[i]);
        check_cleaned(hidden[i]);
    }
    CHECK_OUT(out, rc == 1, "the copy exited with %d, want 1", rc);
    printf("# %zu cases past their timeout: each reported as a timeout and cleaned up\n", n);
    free(out);
}
