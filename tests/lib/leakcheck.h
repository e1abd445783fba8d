/* leakcheck.h — in sanitizer builds, runs LeakSanitizer at the end of every
 * case: the harness ends each forked case with _exit(), which skips LSan's
 * own exit-time check. Include once per test program. */
#ifndef ORC_TEST_LEAKCHECK_H
#define ORC_TEST_LEAKCHECK_H

#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

static void leakcheck_run(void *arg)
{
    (void)arg;
    __lsan_do_leak_check(); /* exits non-zero on a leak, failing the case */
}

/* Registered before main, so every forked case inherits it as its first
 * (thus last-run) deferred call. */
__attribute__((constructor)) static void leakcheck_setup(void)
{
    test_defer(leakcheck_run, NULL);
}
#endif

#endif
