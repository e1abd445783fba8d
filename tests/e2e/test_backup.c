/* test_backup.c — backups as a user makes them: `orctl cluster backup`,
 * then `orcd server --restore` into a fresh data dir brings back every
 * object with its uid and resourceVersion, writes and watches go on, and
 * members joining the restored cluster hold them all; damaged backups and used
 * data dirs are refused without creating anything; scheduled snapshots
 * appear, rotate and restore; a backup needs the token; a large backup
 * downloads whole with curl and orctl, and one cut short by the member
 * stopping is an error for curl, never a complete-looking file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "store/backup.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static void post(struct cluster *c, const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(c, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST %s: HTTP %d: %s", path, st, resp ? resp : "");
    free(resp);
}

/* Namespaces, configmaps, secrets and deployments: a few hundred objects,
 * some updated and some deleted so versions differ. */
static void fill(struct cluster *c)
{
    char path[256], body[1024];

    for (int n = 0; n < 5; n++) {
        snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
                                    "{\"name\":\"team%d\",\"labels\":{\"n\":\"%d\"}}}", n, n);
        post(c, "/api/v1/namespaces", body);
        for (int i = 0; i < 30; i++) {
            snprintf(path, sizeof path, "/api/v1/namespaces/team%d/configmaps", n);
            snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                                        "{\"name\":\"cm%d\"},\"data\":{\"k\":\"v%d\"}}", i, i);
            post(c, path, body);
            snprintf(path, sizeof path, "/api/v1/namespaces/team%d/secrets", n);
            snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
                                        "{\"name\":\"s%d\"},\"stringData\":{\"password\":\"p%d\"}}", i, i);
            post(c, path, body);
        }
        for (int i = 0; i < 10; i++) {
            snprintf(path, sizeof path, "/apis/apps/v1/namespaces/team%d/deployments", n);
            snprintf(body, sizeof body,
                     "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                     "\"web%d\"},\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{\"app\":"
                     "\"web%d\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web%d\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
                     i, i % 3 + 1, i, i);
            post(c, path, body);
        }
        snprintf(path, sizeof path, "/api/v1/namespaces/team%d/configmaps/cm3", n);
        CHECK_INT(t_http(c, 0, "PATCH", path, "application/merge-patch+json",
                         "{\"data\":{\"k\":\"changed\"}}", NULL, NULL), ==, 200);
        snprintf(path, sizeof path, "/api/v1/namespaces/team%d/secrets/s4", n);
        CHECK_INT(t_http(c, 0, "DELETE", path, NULL, NULL, NULL, NULL), ==, 200);
    }
}

static const char *const kinds[] = {"/api/v1/namespaces", "/api/v1/configmaps", "/api/v1/secrets",
                                    "/apis/apps/v1/deployments"};

/* Every object of those kinds as "path name uid resourceVersion created
 * generation", in list order; *n counts them. */
static char *fingerprint(struct cluster *c, int member, size_t *n)
{
    struct orc_buf b = ORC_BUF_INIT;
    size_t i;
    json_t *it;

    *n = 0;
    for (size_t k = 0; k < ORC_ARRAY_LEN(kinds); k++) {
        int st;
        json_t *l = t_json(c, member, "GET", kinds[k], NULL, &st);
        CHECKF(st == 200, "list %s: HTTP %d", kinds[k], st);
        json_array_foreach(json_object_get(l, "items"), i, it)
        {
            int64_t gen = 0;
            orc_json_int(it, "metadata.generation", &gen);
            orc_buf_printf(&b, "%s %s/%s %s %s %s %lld\n", kinds[k],
                           orc_json_str(it, "metadata.namespace") ?: "",
                           orc_json_str(it, "metadata.name"), orc_json_str(it, "metadata.uid"),
                           orc_json_str(it, "metadata.resourceVersion"),
                           orc_json_str(it, "metadata.creationTimestamp"), (long long)gen);
            (*n)++;
        }
        json_decref(l);
    }
    return b.data;
}

/* A second cluster in the same case: its own data dirs (same addresses;
 * the first is stopped by then). */
static void cluster_init_named(struct cluster *c, int n, const char *tag)
{
    cluster_init(c, n);
    for (int i = 0; i < n; i++) {
        snprintf(c->m[i].dir, sizeof c->m[i].dir, "%s/%s%d", test_tmpdir(), tag, i);
        snprintf(c->m[i].log, sizeof c->m[i].log, "%s/%s%d.log", test_tmpdir(), tag, i);
    }
}

static void backup_with_orctl(struct cluster *c, const char *file)
{
    char *out = NULL, *err = NULL, tmp[600];
    struct stat st;

    int rc = run_orctl(c, &out, &err, "cluster", "backup", file, NULL);
    CHECKF(rc == 0, "orctl cluster backup: %d\n%s%s", rc, out, err);
    CHECK_HAS(out, "written to ");
    CHECK_INT(stat(file, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    CHECK(stat(tmp, &st) != 0);
    free(out);
    free(err);
}

static char *read_log(const struct member *m)
{
    struct orc_buf b = ORC_BUF_INIT;
    orc_file_read(m->log, 64u << 20, &b);
    return b.data ? b.data : strdup("");
}

TEST_T(restore_brings_back_every_object_and_members_join, 120)
{
    static struct cluster c, r;
    char file[600], path[300], body[600], *resp = NULL;
    size_t n_before, n_after, n_joined;
    int st;

    cluster_init(&c, 1);
    c.no_controllers = true; /* the objects are compared as written */
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    fill(&c);
    char *before = fingerprint(&c, 0, &n_before);
    CHECKF(n_before >= 300, "only %zu objects", n_before);
    long long rev = member_revision(&c, 0);
    snprintf(file, sizeof file, "%s/cluster.backup", test_tmpdir());
    backup_with_orctl(&c, file);
    /* To stdout too; the verdict goes to stderr. */
    char *out = NULL, *err = NULL;
    CHECK_INT(run_orctl(&c, &out, &err, "cluster", "backup", "-", NULL), ==, 0);
    CHECK_HAS(err, "written to stdout");
    free(out);
    free(err);
    member_stop(&c, 0);

    /* A fresh data dir: a new one-member cluster with the backup's state. */
    cluster_init_named(&r, 3, "r");
    r.no_controllers = true;
    const char *restore[] = {"--restore", file, NULL};
    member_start(&r, 0, false, restore);
    member_wait_ready(&r, 0, 20000);
    char *after = fingerprint(&r, 0, &n_after);
    CHECK_INT(n_after, ==, n_before);
    CHECKF(strcmp(before, after) == 0, "restored objects differ:\n%s\nvs\n%s", before, after);
    CHECK_INT(member_revision(&r, 0), >=, rev);
    char *log = read_log(&r.m[0]);
    CHECK_HAS(log, "restored ");
    free(log);

    /* Writes go on: a new object gets a later resourceVersion; an update
     * naming a restored resourceVersion works, a stale one conflicts. */
    json_t *cm = t_json(&r, 0, "POST", "/api/v1/namespaces/team1/configmaps",
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"new\"}}", &st);
    CHECK_INT(st, ==, 201);
    CHECK(atoll(orc_json_str(cm, "metadata.resourceVersion")) > rev);
    json_decref(cm);
    /* A watch from the backup's revision sees that write; one from before
     * it is told to re-list (410), as after any compaction. */
    snprintf(path, sizeof path, "/api/v1/namespaces/team1/configmaps?watch=1&resourceVersion=%lld"
                                "&timeoutSeconds=1", rev);
    CHECK_INT(t_http(&r, 0, "GET", path, NULL, NULL, &resp, NULL), ==, 200);
    CHECK_HAS(resp, "\"ADDED\"");
    CHECK_HAS(resp, "\"name\":\"new\"");
    free(resp);
    snprintf(path, sizeof path, "/api/v1/namespaces/team1/configmaps?watch=1&resourceVersion=%lld"
                                "&timeoutSeconds=1", rev - 5);
    CHECK_INT(t_http(&r, 0, "GET", path, NULL, NULL, &resp, NULL), ==, 200);
    CHECK_HAS(resp, "\"code\":410");
    free(resp);
    resp = NULL;
    json_t *old = t_json(&r, 0, "GET", "/api/v1/namespaces/team2/configmaps/cm7", NULL, &st);
    CHECK_INT(st, ==, 200);
    const char *rv = orc_json_str(old, "metadata.resourceVersion");
    snprintf(path, sizeof path, "/api/v1/namespaces/team2/configmaps/cm7");
    snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                                "\"cm7\",\"resourceVersion\":\"%lld\"},\"data\":{\"k\":\"x\"}}",
             atoll(rv) - 1);
    CHECK_INT(t_http(&r, 0, "PUT", path, NULL, body, NULL, NULL), ==, 409);
    snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                                "\"cm7\",\"resourceVersion\":\"%s\"},\"data\":{\"k\":\"x\"}}", rv);
    st = t_http(&r, 0, "PUT", path, NULL, body, &resp, NULL);
    CHECKF(st == 200, "update with the restored resourceVersion: HTTP %d: %s", st, resp ? resp : "");
    free(resp);
    json_decref(old);

    /* A second and a third member join the restored cluster and hold
     * every object. */
    char *leader = fingerprint(&r, 0, &n_after), *joined = NULL;
    for (int i = 1; i <= 2; i++) {
        member_start(&r, i, true, NULL);
        member_wait_ready(&r, i, 30000);
        member_wait_revision(&r, i, member_revision(&r, 0), 15000);
        free(joined);
        joined = fingerprint(&r, i, &n_joined);
        CHECK_INT(n_joined, ==, n_before + 1);
        CHECKF(strcmp(leader, joined) == 0, "member %d differs:\n%s\nvs\n%s", i, leader, joined);
    }
    /* The restored member restarts as any other (no --restore). */
    member_stop(&r, 0);
    member_start(&r, 0, false, NULL);
    member_wait_ready(&r, 0, 20000);
    member_wait_revision(&r, 0, member_revision(&r, 1), 15000);
    free(joined);
    joined = fingerprint(&r, 0, &n_joined);
    CHECKF(strcmp(leader, joined) == 0, "differs after a restart:\n%s\nvs\n%s", leader, joined);
    free(before);
    free(after);
    free(leader);
    free(joined);
}

/* orcd server --restore as a one-shot command that must fail. */
static void restore_refused(struct cluster *c, const char *file, const char *dir, const char *words)
{
    const char *argv[] = {t_bin("orcd"), "server", "--data-dir", dir, "--listen", c->m[0].listen,
                          "--no-agent", "--restore", file, NULL};
    char *out = NULL, *err = NULL;
    int rc = run_prog(c->home, NULL, &out, &err, argv);

    CHECKF(rc == 1, "orcd --restore %s: exit %d\n%s%s", file, rc, out, err);
    CHECKF(strstr(err, words) != NULL, "no \"%s\" in:\n%s", words, err);
    free(out);
    free(err);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    CHECK_INT(orc_file_write(path, data, len, 0600), ==, 0);
}

TEST_T(damaged_backups_and_used_data_dirs_are_refused, 60)
{
    static struct cluster c;
    struct orc_buf b = ORC_BUF_INIT;
    char file[600], bad[600], fresh[600];
    struct stat st;

    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    fill(&c);
    snprintf(file, sizeof file, "%s/good.backup", test_tmpdir());
    backup_with_orctl(&c, file);
    member_stop(&c, 0);
    CHECK_INT(orc_file_read(file, 64u << 20, &b), ==, 0);
    snprintf(bad, sizeof bad, "%s/bad.backup", test_tmpdir());
    snprintf(fresh, sizeof fresh, "%s/fresh", test_tmpdir());

    b.data[b.len / 2] ^= 0x01; /* one byte flipped */
    write_bytes(bad, b.data, b.len);
    restore_refused(&c, bad, fresh, "checksum mismatch");
    CHECKF(stat(fresh, &st) != 0, "%s was created", fresh);
    b.data[b.len / 2] ^= 0x01;

    write_bytes(bad, b.data, b.len - 1000); /* truncated */
    restore_refused(&c, bad, fresh, "truncated");
    write_bytes(bad, b.data, 40);
    restore_refused(&c, bad, fresh, "shorter than the 96-byte header");
    char text[200];
    memset(text, 'x', sizeof text); /* not a backup, and longer than a header */
    write_bytes(bad, text, sizeof text);
    restore_refused(&c, bad, fresh, "not an orc backup");
    restore_refused(&c, "/nonexistent/backup", fresh, "No such file");
    CHECKF(stat(fresh, &st) != 0, "%s was created", fresh);

    /* The data dir of a cluster (it has Raft state) is refused, untouched. */
    restore_refused(&c, file, c.m[0].dir, "already holds a cluster's state");
    char marker[700];
    snprintf(marker, sizeof marker, "%s/restore-incomplete", c.m[0].dir);
    CHECK(stat(marker, &st) != 0);
    /* ...and the cluster still starts from it as before. */
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    orc_buf_free(&b);
}

static size_t list_snapshots(const char *dir, char names[][128], size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "orc-snapshot-", 13) == 0 && n < max)
            snprintf(names[n++], 128, "%.127s", e->d_name);
    if (d) closedir(d);
    return n;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

static bool seen_has(char seen[][128], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(seen[i], name) == 0) return true;
    return false;
}

TEST_T(scheduled_snapshots_rotate_and_each_restores, 90)
{
    static struct cluster c, r;
    static char seen[64][128], now[8][128];
    char dir[600], path[800];
    size_t n_seen = 0, n_now = 0;
    struct stat st;

    snprintf(dir, sizeof dir, "%s/snaps", test_tmpdir());
    const char *extra[] = {"--snapshot-schedule", "@every 1s", "--snapshot-retention", "2",
                           "--snapshot-dir", dir, NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
    /* Writes between snapshots; wait for four files in all. */
    uint64_t start = test_now_ms();
    for (int i = 0; n_seen < 4; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                                    "{\"name\":\"tick%d\"}}", i);
        post(&c, "/api/v1/namespaces/default/configmaps", body);
        n_now = list_snapshots(dir, now, 8);
        CHECKF(n_now <= 2 + 1, "retention 2, yet %zu files", n_now); /* one may be mid-rename */
        for (size_t j = 0; j < n_now; j++)
            if (!seen_has(seen, n_seen, now[j]) && strstr(now[j], ".tmp") == NULL && n_seen < 64)
                memcpy(seen[n_seen++], now[j], sizeof now[j]);
        CHECKF(test_now_ms() - start < 20000, "only %zu snapshots after 20 s", n_seen);
        test_sleep_ms(100);
    }
    member_stop(&c, 0); /* no slot fires meanwhile: the files stay */
    n_now = list_snapshots(dir, now, 8);
    CHECK_INT(n_now, ==, 2);
    /* The two newest are kept (names sort by time). */
    qsort(seen, n_seen, sizeof seen[0], cmp_name);
    for (size_t j = 0; j < n_now; j++) {
        CHECKF(seen_has(seen + n_seen - 2, 2, now[j]), "kept %s, not among the newest", now[j]);
        snprintf(path, sizeof path, "%s/%.127s", dir, now[j]);
        CHECK_INT(stat(path, &st), ==, 0);
        CHECK_INT(st.st_mode & 0777, ==, 0600);
    }
    char *log = read_log(&c.m[0]);
    CHECK_HAS(log, "older removed");
    free(log);

    /* Each one restores. */
    for (size_t j = 0; j < n_now; j++) {
        char tag[8];
        snprintf(tag, sizeof tag, "s%zu-", j);
        cluster_init_named(&r, 1, tag);
        snprintf(path, sizeof path, "%s/%.127s", dir, now[j]);
        const char *restore[] = {"--restore", path, "--snapshot-schedule", "off", NULL};
        member_start(&r, 0, false, restore);
        member_wait_ready(&r, 0, 20000);
        int stt;
        json_t *l = t_json(&r, 0, "GET", "/api/v1/namespaces/default/configmaps", NULL, &stt);
        CHECK_INT(stt, ==, 200);
        CHECKF(json_array_size(json_object_get(l, "items")) >= 1, "snapshot %s restored no configmap",
               now[j]);
        json_decref(l);
        member_stop(&r, 0);
    }
}

TEST_T(snapshot_failures_are_logged_and_retried, 60)
{
    static struct cluster c;
    char dir[600];
    struct stat st;

    /* A regular file where the directory should be: every slot fails. */
    snprintf(dir, sizeof dir, "%s/snaps", test_tmpdir());
    write_bytes(dir, "x", 1);
    const char *extra[] = {"--snapshot-schedule", "@every 1s", "--snapshot-dir", dir, NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
    uint64_t start = test_now_ms();
    for (;;) {
        char *log = read_log(&c.m[0]);
        char *first = strstr(log, "scheduled snapshot failed");
        bool twice = first && strstr(first + 1, "scheduled snapshot failed");
        free(log);
        if (twice) break;
        CHECKF(test_now_ms() - start < 15000, "no failures logged (log %s)", c.m[0].log);
        test_sleep_ms(100);
    }
    CHECK_INT(t_http(&c, 0, "GET", "/readyz", NULL, NULL, NULL, NULL), ==, 200);
    /* Once the directory can be made, the next slot writes a snapshot. */
    CHECK_INT(unlink(dir), ==, 0);
    start = test_now_ms();
    char names[4][128];
    while (list_snapshots(dir, names, 4) == 0) {
        CHECKF(test_now_ms() - start < 15000, "no snapshot after the directory was freed");
        test_sleep_ms(100);
    }
    CHECK_INT(stat(dir, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0700);
}

TEST_T(backup_needs_the_token, 60)
{
    static struct cluster c;
    char file[600], *out = NULL, *err = NULL;
    struct stat st;

    cluster_init(&c, 1);
    const char *off[] = {"--snapshot-schedule", "off", NULL};
    member_start(&c, 0, false, off);
    member_wait_ready(&c, 0, 10000);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/internal/v1/backup", NULL, NULL, NULL, NULL), ==, 401);
    CHECK_INT(t_http_as(&c, 0, "wrong", "GET", "/internal/v1/backup", NULL, NULL, NULL, NULL), ==, 401);
    snprintf(file, sizeof file, "%s/b", test_tmpdir());
    int rc = run_orctl(&c, &out, &err, "--token", "wrong", "cluster", "backup", file, NULL);
    CHECK_INT(rc, ==, 1);
    CHECK_HAS(err, "Unauthorized");
    CHECK(stat(file, &st) != 0);
    snprintf(file, sizeof file, "%s/b.tmp", test_tmpdir());
    CHECK(stat(file, &st) != 0);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "cluster", "backup", NULL), ==, 2);
    CHECK_HAS(err, "backup takes one FILE");
    free(out);
    free(err);
    char *log = read_log(&c.m[0]);
    CHECK_HAS(log, "scheduled snapshots are off");
    free(log);
    snprintf(file, sizeof file, "%s/snapshots", c.m[0].dir);
    CHECK(stat(file, &st) != 0);

    /* A schedule that cannot be read stops the start. */
    const char *argv[] = {t_bin("orcd"), "server", "--data-dir", c.m[0].dir, "--snapshot-schedule",
                          "every day", NULL};
    rc = run_prog(c.home, NULL, &out, &err, argv);
    CHECK_INT(rc, ==, 2);
    CHECK_HAS(err, "invalid --snapshot-schedule");
    free(out);
    free(err);
}

/* ---- large backups over the API ---- */

#define BIG_VALUE (512u << 10)

/* n ConfigMaps of 512 KiB each: a database of n/2 MiB. */
static void fill_big(struct cluster *c, int n)
{
    size_t cap = BIG_VALUE + 256;
    char *body = malloc(cap);

    CHECK(body != NULL);
    for (int i = 0; i < n; i++) {
        int h = snprintf(body, cap, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                                    "{\"name\":\"big%d\"},\"data\":{\"v\":\"", i);
        memset(body + h, 'a' + i % 26, BIG_VALUE);
        snprintf(body + h + BIG_VALUE, cap - h - BIG_VALUE, "\"}}");
        post(c, "/api/v1/namespaces/default/configmaps", body);
    }
    free(body);
}

static pid_t spawn_curl(struct cluster *c, const char *file, const char *err, const char *rate)
{
    char url[200], auth[300], ca[600];
    pid_t pid;

    snprintf(url, sizeof url, "%s/internal/v1/backup", c->m[0].url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
    snprintf(ca, sizeof ca, "%s/ca.crt", c->m[0].dir);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0) _exit(126);
        if (rate)
            execlp("curl", "curl", "-sS", "--cacert", ca, "-H", auth, "--limit-rate", rate, "-o",
                   file, url, (char *)NULL);
        else
            execlp("curl", "curl", "-sS", "--cacert", ca, "-H", auth, "-o", file, url, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t curl_pid;

static void stop_curl(void *arg)
{
    (void)arg;
    if (curl_pid > 0) {
        kill(curl_pid, SIGKILL);
        waitpid(curl_pid, NULL, 0);
        curl_pid = 0;
    }
}

static int wait_curl(unsigned timeout_ms)
{
    uint64_t start = test_now_ms();
    int status = 0;

    while (waitpid(curl_pid, &status, WNOHANG) == 0) {
        CHECKF(test_now_ms() - start < timeout_ms, "curl still running after %u ms", timeout_ms);
        test_sleep_ms(20);
    }
    curl_pid = 0;
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) != 127, "curl did not run (status %d)", status);
    return WEXITSTATUS(status);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void check_whole(const char *file)
{
    struct orc_buf b = ORC_BUF_INIT;
    struct store_backup_info info;
    char err[STORE_BACKUP_ERRLEN] = "";
    const void *payload;
    size_t objects = 0;

    CHECK(orc_file_read(file, 256u << 20, &b) == 0);
    CHECKF(store_backup_verify(b.data, b.len, &info, &payload, &objects, err) == 0,
           "%s (%zu bytes) is not a whole backup: %s", file, b.len, err);
    CHECK(objects >= 32);
    orc_buf_free(&b);
}

/* A backup larger than what the member queues for its client (2 MiB)
 * arrives whole, through curl and through orctl; a download cut short by
 * the member stopping is an error for curl, not a complete-looking end. */
TEST_T(large_backups_arrive_whole_and_a_cut_download_is_an_error, 90)
{
    static struct cluster c;
    char file[600], err_path[600];

    cluster_init(&c, 1);
    const char *off[] = {"--snapshot-schedule", "off", NULL};
    member_start(&c, 0, false, off);
    member_wait_ready(&c, 0, 10000);
    fill_big(&c, 32);
    test_defer(stop_curl, NULL);

    snprintf(file, sizeof file, "%s/curl.backup", test_tmpdir());
    snprintf(err_path, sizeof err_path, "%s/curl.err", test_tmpdir());
    curl_pid = spawn_curl(&c, file, err_path, NULL);
    int rc = wait_curl(30000);
    char *err = run_read_file(err_path);
    CHECKF(rc == 0, "curl: exit %d: %s", rc, err);
    free(err);
    printf("# curl downloaded %lld bytes\n", (long long)file_size(file));
    check_whole(file);
    snprintf(file, sizeof file, "%s/orctl.backup", test_tmpdir());
    backup_with_orctl(&c, file);
    check_whole(file);

    /* A slow client; the member stops once it has a part. */
    snprintf(file, sizeof file, "%s/cut.backup", test_tmpdir());
    curl_pid = spawn_curl(&c, file, err_path, "256K");
    uint64_t start = test_now_ms();
    while (file_size(file) < (512 << 10)) {
        CHECKF(test_now_ms() - start < 20000, "curl got %lld bytes in 20 s",
               (long long)file_size(file));
        test_sleep_ms(20);
    }
    printf("# stopping the member with %lld bytes downloaded\n", (long long)file_size(file));
    member_stop(&c, 0);
    rc = wait_curl(20000);
    err = run_read_file(err_path);
    printf("# curl after the member stopped, with %lld bytes: exit %d: %s",
           (long long)file_size(file), rc, err);
    CHECKF(rc != 0, "curl took a download cut after %lld bytes for a whole one",
           (long long)file_size(file));
    free(err);
    char *log = read_log(&c.m[0]);
    CHECK_HAS(log, "backup: stopped after ");
    free(log);
}
