/* test_podlogs.c — the kubelet log layout's pure parts: paths and link
 * names, rotated-file names (several in one second, after pruning), their
 * order, compression of all but the newest, and a pod's removal taking its
 * links and no one else's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/podlogs.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#define T0 1796604312 /* 2026-12-07T00:45:12Z */

TEST(paths_and_links)
{
    char p[512];

    CHECK_INT(podlogs_pod_dir("/var/log/pods", "default", "web-0", "u-1", p, sizeof p), ==, 0);
    CHECK_STR(p, "/var/log/pods/default_web-0_u-1");
    CHECK_INT(podlogs_file("/var/log/pods", "default", "web-0", "u-1", "app", 3, p, sizeof p), ==, 0);
    CHECK_STR(p, "/var/log/pods/default_web-0_u-1/app/3.log");
    CHECK_INT(podlogs_link_path("/var/log/containers", "default", "web-0", "app", "u-1-app-3", p, sizeof p), ==, 0);
    CHECK_STR(p, "/var/log/containers/web-0_default_app-u-1-app-3.log");
    CHECK_INT(podlogs_file("/d", "ns", "pod", "uid", "c", 0, p, 10), ==, ORC_EINVAL);
}

TEST(rotated_names_in_order)
{
    char dir[600], log[700], p[800], **v;
    size_t n;
    bool gz;

    snprintf(dir, sizeof dir, "%s/c", test_tmpdir());
    CHECK_INT(orc_mkdirs(dir, 0755), ==, 0);
    snprintf(log, sizeof log, "%s/0.log", dir);
    CHECK(podlogs_is_rotated("0.log", "0.log.20261207-004512", &gz) && !gz);
    CHECK(podlogs_is_rotated("0.log", "0.log.20261207-004512-3.gz", &gz) && gz);
    CHECK(!podlogs_is_rotated("0.log", "10.log.20261207-004512", &gz));
    CHECK(!podlogs_is_rotated("0.log", "0.log.1", &gz));
    CHECK(!podlogs_is_rotated("0.log", "0.log.20261207-004512.gz.tmp", &gz));

    /* three rotations in one second, the first pruned meanwhile */
    CHECK_INT(podlogs_rotate_name(log, T0, p, sizeof p), ==, 0);
    CHECK(strstr(p, "/0.log.20261207-004512") && p[strlen(p) - 1] == '2');
    CHECK_INT(orc_file_write(p, "a", 1, 0644), ==, 0);
    CHECK_INT(podlogs_rotate_name(log, T0, p, sizeof p), ==, 0);
    CHECK(strstr(p, "/0.log.20261207-004512-1"));
    CHECK_INT(orc_file_write(p, "b", 1, 0644), ==, 0);
    snprintf(p, sizeof p, "%s.20261207-004512", log);
    CHECK_INT(unlink(p), ==, 0);
    CHECK_INT(podlogs_rotate_name(log, T0, p, sizeof p), ==, 0);
    CHECK(strstr(p, "/0.log.20261207-004512-2"));
    CHECK_INT(orc_file_write(p, "c", 1, 0644), ==, 0);
    snprintf(p, sizeof p, "%s.20261207-004509", log); /* older */
    CHECK_INT(orc_file_write(p, "z", 1, 0644), ==, 0);
    snprintf(p, sizeof p, "%s.20261207-004512-10", log); /* k sorts as a number */
    CHECK_INT(orc_file_write(p, "d", 1, 0644), ==, 0);

    CHECK_INT(podlogs_rotated(log, true, &v, &n), ==, 0);
    CHECK_INT(n, ==, 4);
    CHECK(strstr(v[0], "004509") && strstr(v[1], "004512-1") && strstr(v[2], "004512-2") && strstr(v[3], "004512-10"));
    podlogs_strv_free(v, n);

    /* all but the newest gzipped; then the plain list has only that one */
    CHECK_INT(podlogs_compress(log), ==, 0);
    CHECK_INT(podlogs_rotated(log, false, &v, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK(strstr(v[0], "004512-10"));
    podlogs_strv_free(v, n);
    CHECK_INT(podlogs_rotated(log, true, &v, &n), ==, 0);
    CHECK_INT(n, ==, 4);
    CHECK(strstr(v[0], "004509.gz") && strstr(v[2], "004512-2.gz"));
    podlogs_strv_free(v, n);

    podlogs_remove_log(log);
    CHECK_INT(podlogs_rotated(log, true, &v, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    podlogs_strv_free(v, n);
}

TEST(removing_a_pod_takes_its_links_only)
{
    char pods[600], ctrs[600], p[900], l[900];
    struct stat st;

    snprintf(pods, sizeof pods, "%s/pods", test_tmpdir());
    snprintf(ctrs, sizeof ctrs, "%s/containers", test_tmpdir());
    CHECK_INT(orc_mkdirs(ctrs, 0755), ==, 0);
    for (int i = 0; i < 2; i++) {
        const char *uid = i ? "uid-b" : "uid-a";
        CHECK_INT(podlogs_file(pods, "default", "web", uid, "app", 0, p, sizeof p), ==, 0);
        *strrchr(p, '/') = '\0';
        CHECK_INT(orc_mkdirs(p, 0755), ==, 0);
        strcat(p, "/0.log");
        CHECK_INT(orc_file_write(p, "x\n", 2, 0644), ==, 0);
        CHECK_INT(podlogs_link_path(ctrs, "default", "web", "app", uid, l, sizeof l), ==, 0);
        CHECK_INT(podlogs_link(l, p), ==, 0);
        CHECK_INT(podlogs_link(l, p), ==, 0); /* again: replaced */
    }
    podlogs_remove_pod(pods, ctrs, "default", "web", "uid-a");
    snprintf(p, sizeof p, "%s/default_web_uid-a", pods);
    CHECK(stat(p, &st) != 0);
    snprintf(l, sizeof l, "%s/web_default_app-uid-a.log", ctrs);
    CHECK(lstat(l, &st) != 0);
    snprintf(l, sizeof l, "%s/web_default_app-uid-b.log", ctrs);
    CHECK(stat(l, &st) == 0);
    podlogs_remove_uid(pods, ctrs, "uid-b");
    CHECK(lstat(l, &st) != 0);
    snprintf(p, sizeof p, "%s/default_web_uid-b", pods);
    CHECK(stat(p, &st) != 0);
}
