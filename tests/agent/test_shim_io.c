/* test_shim_io.c — the shim's attach input without containers: the stdin
 * FIFO relayed to a terminal (a pty pair stands in for the container's)
 * or to a pipe, stdinOnce (EOF character / closed pipe when the first
 * writer leaves, later input dropped), writers coming and going without
 * stdinOnce, and resize records (TIOCSWINSZ, bad records ignored). */
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent/shim_int.h"
#include "tests/harness/test.h"

/* Runs the relay until it has had nothing to do for 100 ms. */
static void relay(struct shim_in *in)
{
    for (int i = 0; i < 100; i++) {
        struct pollfd fds[3];
        shim_in_pollfds(in, fds);
        if (poll(fds, 3, 100) <= 0) return;
        shim_in_handle(in, fds);
    }
}

static int open_writer(const char *name)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

/* What fd has to read within 2 s ("" at EOF), into buf. */
static const char *read_some(int fd, char *buf, size_t n)
{
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t k = 0;

    buf[0] = '\0';
    if (poll(&p, 1, 2000) == 1 && (k = read(fd, buf, n - 1)) < 0) k = 0;
    buf[k] = '\0';
    return buf;
}

static void pty_pair(int *master, int *slave)
{
    struct termios t;

    CHECK(openpty(master, slave, NULL, NULL, NULL) == 0);
    CHECK(tcgetattr(*slave, &t) == 0);
    t.c_lflag &= ~(tcflag_t)ECHO; /* only what the relay wrote comes back */
    CHECK(tcsetattr(*slave, TCSANOW, &t) == 0);
}

TEST(terminal_stdin_once_gets_eof_char)
{
    struct shim_in in;
    char buf[256];
    int master, slave, w;

    pty_pair(&master, &slave);
    CHECK(shim_in_open(&in, test_tmpdir(), true, true, master) == 0);
    relay(&in); /* no writer yet: nothing happens, no EOF */
    CHECK(!in.closed);
    CHECK((w = open_writer("stdin")) >= 0);
    CHECK(write(w, "hello\n", 6) == 6);
    relay(&in);
    CHECK_STR(read_some(slave, buf, sizeof buf), "hello\n");
    close(w);
    relay(&in);
    CHECK(in.closed);
    CHECK_STR(read_some(slave, buf, sizeof buf), ""); /* ^D on an empty line: EOF */
    /* a later attach's input goes nowhere */
    CHECK((w = open_writer("stdin")) >= 0);
    CHECK(write(w, "late\n", 5) == 5);
    relay(&in);
    close(w);
    relay(&in);
    {
        struct pollfd p = {slave, POLLIN, 0};
        CHECK(poll(&p, 1, 200) == 0);
    }
    shim_in_close(&in);
    close(master);
    close(slave);
}

TEST(terminal_writers_come_and_go)
{
    struct shim_in in;
    char buf[256];
    int master, slave, w;

    pty_pair(&master, &slave);
    CHECK(shim_in_open(&in, test_tmpdir(), true, false, master) == 0);
    for (int round = 0; round < 3; round++) {
        CHECK((w = open_writer("stdin")) >= 0);
        CHECK(write(w, "again\n", 6) == 6);
        relay(&in);
        close(w);
        relay(&in);
        CHECK(!in.closed);
        CHECK_STR(read_some(slave, buf, sizeof buf), "again\n");
    }
    shim_in_close(&in);
    close(master);
    close(slave);
}

TEST(resize_records_size_the_terminal)
{
    struct shim_in in;
    struct winsize ws = {0};
    int master, slave, w;

    pty_pair(&master, &slave);
    CHECK(shim_in_open(&in, test_tmpdir(), false, false, master) == 0);
    CHECK(in.fifo < 0);
    CHECK((w = open_writer("resize")) >= 0);
    CHECK(write(w, "120 40\n", 7) == 7);
    relay(&in);
    CHECK(ioctl(slave, TIOCGWINSZ, &ws) == 0);
    CHECK_INT(ws.ws_col, ==, 120);
    CHECK_INT(ws.ws_row, ==, 40);
    /* bad records change nothing; a record split over writes is whole */
    CHECK(write(w, "x y\n0 5\n70000 3\n9", 17) == 17);
    relay(&in);
    CHECK(write(w, "0 33\n", 5) == 5);
    relay(&in);
    CHECK(ioctl(slave, TIOCGWINSZ, &ws) == 0);
    CHECK_INT(ws.ws_col, ==, 90);
    CHECK_INT(ws.ws_row, ==, 33);
    close(w);
    shim_in_close(&in);
    close(master);
    close(slave);
}

TEST(pipe_stdin_once_closes)
{
    struct shim_in in;
    char buf[256];
    int proc = -1, w;

    CHECK(shim_in_open(&in, test_tmpdir(), true, true, -1) == 0);
    CHECK(shim_in_pipe(&in, &proc) == 0);
    CHECK((w = open_writer("stdin")) >= 0);
    CHECK(write(w, "data", 4) == 4);
    relay(&in);
    CHECK_STR(read_some(proc, buf, sizeof buf), "data");
    close(w);
    relay(&in);
    CHECK(in.closed && in.target < 0);
    CHECK_STR(read_some(proc, buf, sizeof buf), ""); /* EOF */
    shim_in_close(&in);
    close(proc);
}
