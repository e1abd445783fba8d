/* ptyfx.h — a client (kubectl, orctl) on a pseudo-terminal, as a user at a
 * terminal runs it: spawning it with a window size, and reading what it
 * shows until some text appears. Shared by the exec and attach tests. */
#ifndef ORC_TESTS_E2E_PTYFX_H
#define ORC_TESTS_E2E_PTYFX_H

#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/buf.h"
#include "tests/harness/test.h"

/* argv (NULL-terminated, argv[0] a path) on a new pty of rows x cols with
 * HOME=home; its master in *master. */
static inline pid_t pty_spawn(int *master, unsigned short rows, unsigned short cols, const char *home,
                              const char *const *argv)
{
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    pid_t pid;

    fflush(NULL);
    pid = forkpty(master, NULL, NULL, &ws);
    CHECK(pid >= 0);
    if (pid == 0) {
        setenv("HOME", home, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Reads the pty until `needle` appeared (the text so far in *acc). */
static inline bool pty_wait(int fd, struct orc_buf *acc, const char *needle, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    char buf[4096];

    while (acc->data == NULL || strstr(acc->data, needle) == NULL) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;
        if (test_now_ms() >= end) return false;
        if (poll(&p, 1, 200) <= 0) continue;
        if ((n = read(fd, buf, sizeof buf)) <= 0) return false;
        orc_buf_append(acc, buf, (size_t)n);
    }
    return true;
}

#endif
