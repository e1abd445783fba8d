/* test_audit_log.c — the audit log's writer: lines reach the file (mode
 * 0600) off the caller's thread, the file rotates by size into
 * NAME-<time>.EXT backups of which max_backup are kept, and a full buffer
 * refuses lines instead of waiting. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apiserver/audit_int.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static int count_backups(const char *dir, size_t *bytes_max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "audit-", 6) != 0) continue;
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        CHECK(stat(p, &st) == 0);
        CHECKF(strlen(e->d_name) == strlen("audit-2026-01-01T00-00-00.000.log")
                   && strcmp(e->d_name + strlen(e->d_name) - 4, ".log") == 0,
               "backup name %s", e->d_name);
        CHECKF((st.st_mode & 0777) == 0600, "%s mode %o", e->d_name, st.st_mode & 0777);
        if ((size_t)st.st_size > *bytes_max) *bytes_max = (size_t)st.st_size;
        n++;
    }
    if (d) closedir(d);
    return n;
}

TEST(audit_log_rotates_by_size_keeping_max_backup)
{
    char dir[600], path[700], line[128];
    struct audit_log *l = NULL;
    char err[256] = "";
    struct stat st;
    size_t biggest = 0;

    snprintf(dir, sizeof dir, "%s/logs", test_tmpdir());
    CHECK(orc_mkdirs(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/audit.log", dir);
    struct audit_log_config cfg = {.path = path, .max_bytes = 4096, .max_backup = 3, .bound = 1 << 20};
    CHECKF(audit_log_open(&cfg, &l, err) == 0, "%s", err);
    for (int i = 0; i < 400; i++) {
        int n = snprintf(line, sizeof line, "{\"n\":%04d,\"pad\":\"%060d\"}\n", i, 0);
        CHECK(audit_log_put(l, line, (size_t)n) == 0);
    }
    audit_log_close(l); /* writes what is queued */
    CHECK(stat(path, &st) == 0);
    CHECKF((st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
    CHECK_INT(st.st_size, <=, 4096);
    CHECK_INT(count_backups(dir, &biggest), ==, 3);
    CHECK_INT(biggest, <=, 4096);
    CHECK_INT(biggest, >, 4000); /* filled to the size, in whole lines */
    /* the newest line is in the current file, whole */
    char *text = NULL;
    struct orc_buf b = ORC_BUF_INIT;
    CHECK(orc_file_read(path, 1 << 20, &b) == 0);
    text = b.data;
    CHECK(text && strstr(text, "{\"n\":0399,") != NULL);
    CHECK(text && text[b.len - 1] == '\n');
    orc_buf_free(&b);
}

TEST(audit_log_full_buffer_refuses)
{
    char path[700], err[256] = "";
    struct audit_log *l = NULL;

    snprintf(path, sizeof path, "%s/full.log", test_tmpdir());
    struct audit_log_config cfg = {.path = path, .bound = 16};
    CHECKF(audit_log_open(&cfg, &l, err) == 0, "%s", err);
    CHECK_INT(audit_log_put(l, "this line is longer than the bound\n", 35), ==, ORC_ETOOBIG);
    CHECK_INT(audit_log_put(l, "short\n", 6), ==, 0);
    audit_log_close(l);
}

TEST(audit_log_open_fails_clearly)
{
    struct audit_log *l = NULL;
    char err[256] = "";
    struct audit_log_config cfg = {.path = "/nonexistent-dir/x/audit.log", .bound = 1024};

    CHECK(audit_log_open(&cfg, &l, err) != 0);
    CHECKF(strstr(err, "/nonexistent-dir/x/audit.log") != NULL, "%s", err);
}
