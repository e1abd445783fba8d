/* test_rt_logs.c — the log reader as `kubectl logs` uses it: all, tail,
 * since, timestamps, limit, across rotated files; following a file as it
 * grows and rotates, ending when the container exited; and the shim's
 * rotation of a real container's output. */
#include "agent/podlogs.h"
#include "tests/agent/rtfx.h"

#define T0 1795452245LL /* 2026-11-23T16:44:05Z */

struct rd {
    struct orc_buf out;
    bool ended;
    int err;
    int chunks;
};

static void rd_data(void *arg, const char *data, size_t len)
{
    struct rd *r = arg;
    orc_buf_append(&r->out, data, len);
    r->chunks++;
}

static void rd_end(void *arg, int err)
{
    struct rd *r = arg;
    CHECK(!r->ended); /* once */
    r->ended = true;
    r->err = err;
}

static bool rd_ended(void *arg) { return ((struct rd *)arg)->ended; }

static const char *rd_text(struct rd *r) { return r->out.data ? r->out.data : ""; }

/* Reads to the end (not following); returns on_end's error. */
static int read_log(const char *path, struct rt_log_opts o, struct rd *r)
{
    memset(r, 0, sizeof *r);
    CHECK_INT(rt_log_open(F.r, path, &o, rd_data, rd_end, r, NULL), ==, 0);
    CHECK(fx_run_until(rd_ended, r, 10000));
    return r->err;
}

static void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Records "line<i>" for i in [from, to) at T0 + i seconds; every 5th is
 * split in two (a P record, then its F). */
static void write_records(const char *path, int from, int to)
{
    char ts[RT_TIME_LEN], line[128];

    for (int i = from; i < to; i++) {
        rt_time_fmt((T0 + i) * 1000000000LL, ts);
        if (i % 5 == 0) {
            snprintf(line, sizeof line, "%s stdout P li\n%s stdout F ne%d\n", ts, ts, i);
        } else {
            snprintf(line, sizeof line, "%s %s F line%d\n", ts, i % 2 ? "stderr" : "stdout", i);
        }
        append(path, line);
    }
}

static char *expect_lines(int from, int to, bool timestamps)
{
    struct orc_buf b = ORC_BUF_INIT;
    char ts[RT_TIME_LEN];

    for (int i = from; i < to; i++) {
        rt_time_fmt((T0 + i) * 1000000000LL, ts);
        if (timestamps) orc_buf_printf(&b, "%s ", ts);
        orc_buf_printf(&b, "line%d\n", i);
    }
    return b.data ? b.data : strdup("");
}

static void check_lines(struct rd *r, int from, int to, bool timestamps)
{
    char *want = expect_lines(from, to, timestamps);
    CHECKF(strcmp(rd_text(r), want) == 0, "got:\n%s\nwant:\n%s", rd_text(r), want);
    free(want);
}

/* Rotated as the kubelet names them: LOG.<stamp> (the older with a
 * second file that stamp: -1 sorts after), lines 0-9, 10-19; LOG: 20-29. */
static void three_files(char *path, size_t n)
{
    char p[700];

    snprintf(path, n, "%s/pod/c.log", F.logs);
    CHECK_INT(orc_mkdirs(path, 0755), ==, 0);
    rmdir(path);
    snprintf(p, sizeof p, "%s.20261207-000009", path);
    write_records(p, 0, 10);
    snprintf(p, sizeof p, "%s.20261207-000009-1", path);
    write_records(p, 10, 20);
    snprintf(p, sizeof p, "%s.20261207-000001.gz", path); /* compressed: not read */
    CHECK_INT(orc_file_write(p, "\x1f\x8b junk", 7, 0644), ==, 0);
    write_records(path, 20, 30);
}

TEST(read_across_rotated_files)
{
    char path[600];
    struct rd r;
    struct rt_log_opts o = {.tail_lines = -1};

    fx_setup(false, false);
    fx_open();
    three_files(path, sizeof path);
    CHECK_INT(read_log(path, o, &r), ==, 0);
    check_lines(&r, 0, 30, false);
    orc_buf_free(&r.out);

    o.tail_lines = 12;
    CHECK_INT(read_log(path, o, &r), ==, 0);
    check_lines(&r, 18, 30, false);
    orc_buf_free(&r.out);

    o.tail_lines = 0;
    CHECK_INT(read_log(path, o, &r), ==, 0);
    CHECK_STR(rd_text(&r), "");
    orc_buf_free(&r.out);

    o.tail_lines = -1;
    o.since_ns = (T0 + 15) * 1000000000LL;
    o.timestamps = true;
    CHECK_INT(read_log(path, o, &r), ==, 0);
    check_lines(&r, 15, 30, true);
    orc_buf_free(&r.out);

    o.since_ns = (T0 + 15) * 1000000000LL;
    o.tail_lines = 3;
    o.timestamps = false;
    CHECK_INT(read_log(path, o, &r), ==, 0);
    check_lines(&r, 27, 30, false);
    orc_buf_free(&r.out);

    o.tail_lines = -1;
    o.since_ns = 0;
    o.limit_bytes = 20;
    CHECK_INT(read_log(path, o, &r), ==, 0);
    CHECK_STR(rd_text(&r), "line0\nline1\nline2\nli");
    orc_buf_free(&r.out);
}

TEST(missing_log)
{
    char path[600];
    struct rd r;
    struct rt_log_opts o = {.tail_lines = -1};

    fx_setup(false, false);
    fx_open();
    snprintf(path, sizeof path, "%s/none.log", F.logs);
    CHECK_INT(read_log(path, o, &r), ==, ORC_ENOENT);
    orc_buf_free(&r.out);
    CHECK_INT(rt_log_open(F.r, "relative.log", &o, rd_data, rd_end, &r, NULL), ==, ORC_EINVAL);
}

static bool has_text(void *arg)
{
    struct rd *r = ((void **)arg)[0];
    const char *want = ((void **)arg)[1];
    return strstr(rd_text(r), want) != NULL;
}

static void wait_text(struct rd *r, const char *want)
{
    void *args[2] = {r, (void *)want};
    CHECKF(fx_run_until(has_text, args, 5000), "never saw \"%s\" in:\n%s", want, rd_text(r));
}

TEST(follow_through_rotation)
{
    char path[600], p1[700];
    struct rd r = {0};
    struct rt_log_opts o = {.follow = true, .tail_lines = 2};
    rt_log_reader *lr;

    fx_setup(false, false);
    fx_open();
    three_files(path, sizeof path);
    CHECK_INT(rt_log_open(F.r, path, &o, rd_data, rd_end, &r, &lr), ==, 0);
    wait_text(&r, "line29\n");
    check_lines(&r, 28, 30, false);
    write_records(path, 30, 33);
    wait_text(&r, "line32\n");
    /* the shim's rotation: the live file renamed, a new one started */
    snprintf(p1, sizeof p1, "%s.20261207-000010", path);
    write_records(path, 33, 35);
    CHECK_INT(rename(path, p1), ==, 0);
    write_records(path, 35, 37);
    wait_text(&r, "line36\n");
    check_lines(&r, 28, 37, false);
    CHECK(!r.ended);
    /* the container exited: what is there is delivered, then the end */
    write_records(path, 37, 38);
    rt_log_eof(F.r, path);
    CHECK(fx_run_until(rd_ended, &r, 5000));
    CHECK_INT(r.err, ==, 0);
    check_lines(&r, 28, 38, false);
    orc_buf_free(&r.out);

    /* a following reader that is canceled ends with ORC_ECANCELED */
    memset(&r, 0, sizeof r);
    o.tail_lines = 0;
    CHECK_INT(rt_log_open(F.r, path, &o, rd_data, rd_end, &r, &lr), ==, 0);
    fx_run_for(100);
    rt_log_cancel(lr);
    CHECK(r.ended);
    CHECK_INT(r.err, ==, ORC_ECANCELED);
    orc_buf_free(&r.out);

    /* readers still open when the runtime closes end the same way */
    memset(&r, 0, sizeof r);
    CHECK_INT(rt_log_open(F.r, path, &o, rd_data, rd_end, &r, &lr), ==, 0);
    fx_close();
    CHECK(r.ended);
    CHECK_INT(r.err, ==, ORC_ECANCELED);
    orc_buf_free(&r.out);
}

TEST_T(follow_a_container, 60)
{
    char log[600];
    char *argv[] = {"sh", "-c", "for i in 1 2 3 4; do echo step$i; sleep 0.2; done", NULL};
    struct rt_spec s;
    struct rd r = {0};
    struct rt_log_opts o = {.follow = true, .tail_lines = -1, .timestamps = true};

    fx_setup(true, false);
    fx_open();
    fx_image();
    s = fx_spec("talker", argv, log, sizeof log);
    fx_start_ok(&s);
    CHECK_INT(rt_log_open(F.r, log, &o, rd_data, rd_end, &r, NULL), ==, 0);
    wait_text(&r, "step2\n");
    CHECK(!r.ended);
    /* it ends by itself once the container exited and all was read */
    CHECK(fx_run_until(rd_ended, &r, 10000));
    CHECK_INT(r.err, ==, 0);
    CHECKF(strstr(rd_text(&r), "Z step1\n") && strstr(rd_text(&r), "Z step4\n"), "%s", rd_text(&r));
    orc_buf_free(&r.out);

    /* following an exited container's log ends at its end */
    memset(&r, 0, sizeof r);
    o.timestamps = false;
    CHECK_INT(rt_log_open(F.r, log, &o, rd_data, rd_end, &r, NULL), ==, 0);
    CHECK(fx_run_until(rd_ended, &r, 3000));
    CHECK_STR(rd_text(&r), "step1\nstep2\nstep3\nstep4\n");
    orc_buf_free(&r.out);
}

TEST_T(shim_rotates_a_busy_log, 60)
{
    char log[600], want[32], **rot;
    size_t nrot;
    char *argv[] = {"seq", "1", "3000", NULL};
    struct rt_spec s;
    struct rt_status st;
    struct rd r;
    struct rt_log_opts o = {.tail_lines = -1};
    struct stat sb;
    const char *t;
    int first;

    fx_setup(true, false);
    fx_open_full(NULL, 4096, 3);
    fx_image();
    s = fx_spec("busy", argv, log, sizeof log);
    fx_start_ok(&s);
    st = fx_wait_exit("busy", 10000);
    CHECK_INT(st.exit_code, ==, 0);
    /* the live file and two rotated ones (the kubelet's max files: 3) */
    CHECKF(stat(log, &sb) == 0 && sb.st_size <= 4096, "%s", log);
    CHECK_INT(podlogs_rotated(log, true, &rot, &nrot), ==, 0);
    CHECK_INT(nrot, ==, 2);
    for (size_t i = 0; i < nrot; i++) CHECKF(stat(rot[i], &sb) == 0 && sb.st_size <= 4096, "%s", rot[i]);
    podlogs_strv_free(rot, nrot);
    /* what is kept is the end of the output, in order */
    CHECK_INT(read_log(log, o, &r), ==, 0);
    t = rd_text(&r);
    first = atoi(t);
    CHECKF(first > 1 && first < 3000, "%.100s", t);
    for (int i = first; i <= 3000; i++) {
        snprintf(want, sizeof want, "%d\n", i);
        CHECKF(strncmp(t, want, strlen(want)) == 0, "at %d: %.40s", i, t);
        t += strlen(want);
    }
    CHECK_STR(t, "");
    orc_buf_free(&r.out);
}
