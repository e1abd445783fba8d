/* test.h — tiny test framework: TEST(name) registers a case; each case runs in
 * its own forked child with a timeout, so one crash or hang fails one case.
 * Output is one "ok - prog/name" or "not ok - prog/name" line per case, which
 * tests/run.sh counts. */
#ifndef ORC_TEST_H
#define ORC_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <string.h>
#include <time.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, unsigned timeout_s);

#define TEST_T(name, secs)                                                   \
    static void test_##name(void);                                           \
    __attribute__((constructor)) static void test_reg_##name(void)           \
    { test_register(#name, test_##name, secs); }                             \
    static void test_##name(void)
#define TEST(name) TEST_T(name, 60)

/* Report a failure and end the current case (runs cleanups first). */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define CHECK(c) do { if (!(c)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #c); } while (0)
#define CHECKF(c, ...) do { if (!(c)) test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_INT(a, op, b)                                                    \
    do { long long a_ = (long long)(a), b_ = (long long)(b);                   \
         if (!(a_ op b_)) test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", \
                                    #a, #op, #b, a_, b_); } while (0)
#define CHECK_STR(a, b)                                                        \
    do { const char *a_ = (a), *b_ = (b);                                      \
         if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                  \
             test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

/* For deferred checks (they cannot end the case): report a failure and
 * make the case fail once its cleanups have run. */
void test_fail_later(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True once the case failed (or timed out): a cleanup may then print what
 * helps to tell why, such as the warnings of the processes it stops. */
bool test_failing(void);

/* Run `fn(arg)` when the case ends, pass or fail (last registered runs first).
 * For killing processes and removing directories the case created. After a
 * timeout they run on a thread of their own while the case's threads may
 * still be running; each runs once. */
void test_defer(void (*fn)(void *), void *arg);

/* A fresh directory under $TMPDIR (or /tmp), removed when the case ends.
 * The returned string is owned by the harness. */
const char *test_tmpdir(void);

/* Monotonic milliseconds. */
uint64_t test_now_ms(void);

/* Starts argv[0] (a path) with argv, its stdout and stderr appended to the
 * file `log` (made 0600); returns its pid (the caller stops it), fails the
 * case when it cannot fork. */
pid_t test_spawn_logged(const char *const *argv, const char *log);

/* Sleeps ms milliseconds, a signal notwithstanding. */
static inline void test_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

#endif
