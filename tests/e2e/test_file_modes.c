/* test_file_modes.c — the data dir holds Secrets (state.db, the Raft log)
 * and the cluster's keys: whatever it was before, a started member keeps it
 * 0700 and every file in it 0600. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

/* Fails the case for a directory not 0700 or a file in it not 0600;
 * returns how many files were looked at. */
static int check_private(const char *dir)
{
    char path[1024];
    struct dirent *e;
    struct stat st;
    int n = 0;
    DIR *d;

    CHECK_INT(stat(dir, &st), ==, 0);
    CHECKF((st.st_mode & 07777) == 0700, "%s is %o", dir, st.st_mode & 07777);
    CHECK((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        CHECKF((st.st_mode & 07777) == 0600, "%s is %o", path, st.st_mode & 07777);
        n++;
    }
    closedir(d);
    return n;
}

static void write_file(const char *path, mode_t mode)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("stale\n", f);
    fclose(f);
    CHECK_INT(chmod(path, mode), ==, 0);
}

TEST_T(data_dir_and_files_private_whatever_existed, 60)
{
    static struct cluster c;
    char path[1024], raft[1024];
    struct stat st;

    cluster_init(&c, 1);
    /* An operator made the dir beforehand, world-readable, with old files. */
    CHECK_INT(mkdir(c.m[0].dir, 0755), ==, 0);
    CHECK_INT(chmod(c.m[0].dir, 0755), ==, 0);
    snprintf(path, sizeof path, "%s/notes.txt", c.m[0].dir);
    write_file(path, 0644);
    snprintf(raft, sizeof raft, "%s/raft", c.m[0].dir);
    CHECK_INT(mkdir(raft, 0755), ==, 0);
    CHECK_INT(chmod(raft, 0755), ==, 0);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 20000);
    /* something in the database, so the WAL exists */
    int status = 0;
    json_t *o = t_json(&c, 0, "POST", "/api/v1/namespaces/default/secrets",
                       "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},"
                       "\"stringData\":{\"password\":\"hunter2\"}}", &status);
    json_decref(o);
    CHECK_INT(status, ==, 201);
    const char *db_files[] = {"state.db", "state.db-wal", "state.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", c.m[0].dir, db_files[i]);
        CHECKF(stat(path, &st) == 0, "%s missing", path);
    }
    int n = check_private(c.m[0].dir);
    int nr = check_private(raft);
    printf("# %d files in the data dir, %d in raft/, all 0600\n", n, nr);
    CHECK(n >= 8 && nr >= 2);
    member_stop(&c, 0);
    /* A restart after someone loosened them again tightens them again. */
    CHECK_INT(chmod(c.m[0].dir, 0755), ==, 0);
    snprintf(path, sizeof path, "%s/token", c.m[0].dir);
    CHECK_INT(chmod(path, 0644), ==, 0);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 20000);
    check_private(c.m[0].dir);
    check_private(raft);
    member_stop(&c, 0);
}
