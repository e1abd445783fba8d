/* leakcheck.h — include once in a test program to fail any case that leaks.
 * The harness ends each case with _exit(), which skips LeakSanitizer's exit
 * check, so in sanitizer builds (make SAN=1) every case runs LSan itself
 * from a deferred hook registered before the cases fork. */
#ifndef ORC_TEST_LEAKCHECK_H
#define ORC_TEST_LEAKCHECK_H

#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

static void leakcheck_run(void *arg)
{
    (void)arg;
    if (__lsan_do_recoverable_leak_check() != 0)
        test_fail(__FILE__, __LINE__, "memory leaked (LeakSanitizer report above)");
}

__attribute__((constructor(200))) static void leakcheck_register(void)
{
    test_defer(leakcheck_run, NULL);
}
#endif

#endif
