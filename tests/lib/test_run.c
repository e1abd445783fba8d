/* test_run.c — orc_run: exit codes, stdin fed, output captured (large too,
 * without deadlock), a child ignoring its input, a missing program. */
#include <stdlib.h>

#include "lib/orc.h"
#include "lib/run.h"
#include "tests/harness/test.h"

TEST(run_captures_output_and_status)
{
    struct orc_buf out = ORC_BUF_INIT, err = ORC_BUF_INIT;
    struct orc_run_io io = {NULL, 0, &out, &err};
    char *echo[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    char *t[] = {"true", NULL};
    char *killed[] = {"sh", "-c", "kill -9 $$", NULL};
    char line[16];

    CHECK_INT(orc_run(echo, &io), ==, 3);
    CHECK_STR(out.data, "out\n");
    CHECK_STR(err.data, "err\n");
    orc_run_first_line(err.data, line, sizeof line);
    CHECK_STR(line, "err");
    CHECK_INT(orc_run(t, NULL), ==, 0);
    CHECK_INT(orc_run(killed, NULL), ==, 128 + 9);
    orc_buf_free(&out);
    orc_buf_free(&err);
}

TEST(run_feeds_stdin_both_ways_large)
{
    struct orc_buf out = ORC_BUF_INIT;
    size_t len = 4 << 20;
    char *in = malloc(len + 1);
    char *cat[] = {"cat", NULL};
    char *ignore[] = {"true", NULL};

    CHECK(in != NULL);
    for (size_t i = 0; i < len; i++) in[i] = (char)('a' + i % 26);
    in[len] = '\0';
    struct orc_run_io io = {in, len, &out, NULL};
    CHECK_INT(orc_run(cat, &io), ==, 0); /* 4 MiB each way: no pipe deadlock */
    CHECK_INT(out.len, ==, len);
    CHECK(memcmp(out.data, in, len) == 0);
    CHECK_INT(orc_run(ignore, &io), ==, 0); /* never reads: no SIGPIPE here */
    free(in);
    orc_buf_free(&out);
}

TEST(run_missing_program)
{
    char *missing[] = {"orc-no-such-program", NULL};
    char *abs[] = {"/nonexistent/orc-no-such-program", NULL};
    char line[8];

    CHECK_INT(orc_run(missing, NULL), ==, ORC_ENOENT);
    CHECK_INT(orc_run(abs, NULL), ==, ORC_ENOENT);
    orc_run_first_line(NULL, line, sizeof line);
    CHECK_STR(line, "");
    orc_run_first_line("a very long first line\nsecond", line, sizeof line);
    CHECK_STR(line, "a very"); /* cut to fit, trailing blank dropped */
}
