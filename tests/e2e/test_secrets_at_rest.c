/* test_secrets_at_rest.c — Secrets encrypted at rest (--encryption-config)
 * with real members and stock kubectl: after creating, updating and
 * snapshotting, no file of any member's data dir (Raft segments, snapshots,
 * state.db and its WAL, anything) holds a Secret's value, raw or base64;
 * the Secret reads back through every member, after a restart and on a
 * member that joined from a snapshot, and through a watch; a member without
 * the key refuses it clearly; keys rotate as Kubernetes documents
 * (`kubectl get secrets -A -o json | kubectl replace -f -`, and `orctl
 * secrets reencrypt`); a backup holds ciphertext and restores with the key. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define KEY1 "wybaYV5kB487QVjBD/IWuJ/2mECTvQU1M6Ea9I5lMEs="
#define KEY2 "MTIzNDU2Nzg5MDEyMzQ1Ng=="

static char *config_file(const char *name, const char *providers)
{
    char *path = NULL, *text = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(asprintf(&text,
                   "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
                   "resources:\n- resources: [secrets]\n  providers:\n%s",
                   providers) > 0);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    free(text);
    return path;
}

static char *b64(const char *s)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECK(orc_base64_encode(s, strlen(s), false, &b) == 0);
    return orc_buf_steal(&b, NULL);
}

/* Every regular file under dir, searched for needle; the first path holding
 * it (malloc'd) or NULL. `files` counts the files read. */
static char *find_in_dir(const char *dir, const char *needle, size_t *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *hit = NULL;

    CHECKF(d != NULL, "cannot open %s", dir);
    while (hit == NULL && (e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            hit = find_in_dir(path, needle, files);
        } else if (S_ISREG(st.st_mode)) {
            struct orc_buf b = ORC_BUF_INIT;
            if (orc_file_read(path, 1u << 30, &b) == 0) {
                (*files)++;
                if (b.len && memmem(b.data, b.len, needle, strlen(needle))) hit = strdup(path);
            }
            orc_buf_free(&b);
        }
    }
    closedir(d);
    return hit;
}

/* No file of member i's data dir holds any of values, raw or in base64;
 * and (so the search is known to look at the right bytes) some file holds
 * the encrypted form. */
static void check_dir_clean(struct cluster *c, int i, const char *const *values)
{
    size_t files = 0;
    char *hit;

    for (const char *const *v = values; *v; v++) {
        char *enc = b64(*v);
        hit = find_in_dir(c->m[i].dir, *v, &files);
        CHECKF(hit == NULL, "\"%s\" in clear in %s", *v, hit);
        hit = find_in_dir(c->m[i].dir, enc, &files);
        CHECKF(hit == NULL, "\"%s\" (base64 of \"%s\") in %s", enc, *v, hit);
        free(enc);
    }
    hit = find_in_dir(c->m[i].dir, "k8s:enc:aesgcm:v1:key1:", &files);
    CHECKF(hit != NULL, "no encrypted Secret in %s", c->m[i].dir);
    free(hit);
    CHECK(files > 5);
}

static bool has_snapshot(const char *dir)
{
    char path[600];
    struct dirent *e;
    bool found = false;
    DIR *d;

    snprintf(path, sizeof path, "%s/raft", dir);
    d = opendir(path);
    while (d && (e = readdir(d)) != NULL) found |= strncmp(e->d_name, "snapshot-", 9) == 0;
    if (d) closedir(d);
    return found;
}

/* The Secret's data.password through member i's API. */
static char *password_via(struct cluster *c, int i, const char *ns, const char *name)
{
    char path[256];
    int st = 0;
    json_t *s;
    char *v;

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", ns, name);
    s = t_json(c, i, "GET", path, NULL, &st);
    CHECKF(st == 200, "GET %s on member %d: HTTP %d", path, i, st);
    v = strdup(orc_json_str(s, "data.password") ? orc_json_str(s, "data.password") : "");
    json_decref(s);
    return v;
}

static void check_password(struct cluster *c, int i, const char *name, const char *want)
{
    char *got = password_via(c, i, "default", name), *enc = b64(want);
    CHECKF(strcmp(got, enc) == 0, "member %d: %s holds %s, want %s", i, name, got, enc);
    free(got);
    free(enc);
}

static void write_configmaps(struct cluster *c, int n)
{
    for (int k = 0; k < n; k++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%d\"},"
                 "\"data\":{\"k\":\"v\"}}",
                 k);
        int st = t_http(c, 0, "POST", "/api/v1/namespaces/default/configmaps", "application/json",
                        body, NULL, NULL);
        CHECKF(st == 201, "configmap %d: HTTP %d", k, st);
    }
}

#define V1 "atrest-first-Zq8wX3pLm"
#define V2 "atrest-second-Kc4nR7tVy"

TEST_T(secret_values_never_in_any_data_dir_and_read_back_everywhere, 120)
{
    static struct cluster c;
    char *conf = config_file("enc.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                         "        secret: " KEY1 "\n  - identity: {}\n");
    const char *const extra[] = {"--encryption-config", conf, "--snapshot-threshold", "64",
                                 "--snapshot-trailing", "16", NULL};
    const char *const values[] = {V1, V2, NULL};
    char *resp = NULL;

    if (!run_have_kubectl()) return;
    cluster_init(&c, 4);
    c.n = 3;
    cluster_start(&c, extra);
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "secret", "generic", "db",
                                              "--from-literal=password=" V1, NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"patch", "secret", "db", "-p",
                                              "{\"stringData\":{\"password\":\"" V2 "\"}}", NULL}));
    check_password(&c, 0, "db", V2);
    write_configmaps(&c, 150); /* past --snapshot-threshold: every member snapshots */
    for (int i = 0; i < 3; i++) {
        member_wait_revision(&c, i, member_revision(&c, 0), 10000);
        CHECKF(has_snapshot(c.m[i].dir), "member %d took no snapshot", i);
        check_password(&c, i, "db", V2);
        check_dir_clean(&c, i, values);
    }
    /* a watch through a follower shows the object decrypted */
    int lead = cluster_leader(&c, 5000), f = (lead + 1) % 3;
    CHECK_INT(t_http(&c, f, "GET", "/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1",
                     NULL, NULL, &resp, NULL), ==, 200);
    char *enc2 = b64(V2);
    CHECK_HAS(resp, enc2);
    CHECK_LACKS(resp, "k8s:enc:");
    free(resp);
    /* after a restart */
    member_stop(&c, f);
    member_start(&c, f, false, extra);
    member_wait_ready(&c, f, 20000);
    check_password(&c, f, "db", V2);
    /* a member that joins gets a snapshot, and reads the Secret */
    c.n = 4;
    member_start(&c, 3, true, extra);
    member_wait_ready(&c, 3, 30000);
    CHECKF(has_snapshot(c.m[3].dir), "the new member has no snapshot");
    check_password(&c, 3, "db", V2);
    check_dir_clean(&c, 3, values);
    free(enc2);
    free(conf);
}

/* kubectl's exit status and stderr for WORDS. */
static int kubectl_err(struct cluster *c, char **err, const char *const *words)
{
    char *out;
    int rc = run_kubectl(c, &out, err, words);
    CHECK_LACKS(out, "k8s:enc:");
    free(out);
    return rc;
}

static void restart_with(struct cluster *c, const char *conf)
{
    const char *const extra[] = {"--encryption-config", conf, NULL};

    member_stop(c, 0);
    member_start(c, 0, false, extra);
    member_wait_ready(c, 0, 20000);
}

static char *rv_of(struct cluster *c, const char *ns, const char *name)
{
    char path[256];
    int st = 0;
    json_t *s;
    char *v;

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", ns, name);
    s = t_json(c, 0, "GET", path, NULL, &st);
    CHECKF(st == 200, "GET %s: HTTP %d", path, st);
    v = strdup(orc_json_str(s, "metadata.resourceVersion"));
    json_decref(s);
    return v;
}

static void replace_all_secrets(struct cluster *c)
{
    char *list = run_kubectl_rc(c, 0, NULL,
                                (const char *const[]){"get", "secrets", "-A", "-o", "json", NULL});
    char *path = NULL;

    CHECK(asprintf(&path, "%s/all-secrets.json", test_tmpdir()) > 0);
    CHECK(orc_file_write(path, list, strlen(list), 0600) == 0);
    free(run_kubectl_rc(c, 0, NULL, (const char *const[]){"replace", "-f", path, NULL}));
    free(path);
    free(list);
}

TEST_T(keys_rotate_by_rewriting_every_secret, 90)
{
    static struct cluster c;
    char *k1 = config_file("k1.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                      "        secret: " KEY1 "\n  - identity: {}\n");
    char *k21 = config_file("k21.yaml", "  - aesgcm:\n      keys:\n      - name: key2\n"
                                        "        secret: " KEY2 "\n      - name: key1\n"
                                        "        secret: " KEY1 "\n  - identity: {}\n");
    char *k2 = config_file("k2.yaml", "  - aesgcm:\n      keys:\n      - name: key2\n"
                                      "        secret: " KEY2 "\n");
    const char *const extra[] = {"--encryption-config", k1, NULL};
    char *err = NULL, *rv1, *rv2;

    if (!run_have_kubectl()) return;
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
    free(run_kubectl_rc(&c, 0, NULL, (const char *const[]){"create", "namespace", "team", NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "secret", "generic", "db",
                                              "--from-literal=password=" V1, NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "secret", "generic", "api", "-n", "team",
                                              "--from-literal=password=" V2, NULL}));

    /* a member without key1: a clear refusal, the member keeps serving */
    restart_with(&c, k2);
    CHECK(kubectl_err(&c, &err, (const char *const[]){"get", "secret", "db", NULL}) != 0);
    CHECK_HAS(err, "aesgcm key \"key1\"");
    CHECK_HAS(err, "does not hold");
    free(err);
    CHECK(kubectl_err(&c, &err, (const char *const[]){"get", "secrets", "-A", NULL}) != 0);
    CHECK_HAS(err, "key \"key1\"");
    free(err);
    CHECK_INT(t_http(&c, 0, "GET", "/readyz", NULL, NULL, NULL, NULL), ==, 200);

    /* rotation: the new key first, then rewrite everything */
    restart_with(&c, k21);
    check_password(&c, 0, "db", V1);
    rv1 = rv_of(&c, "default", "db");
    replace_all_secrets(&c);
    rv2 = rv_of(&c, "default", "db");
    CHECKF(strcmp(rv1, rv2) != 0, "an unchanged Secret under an old key was not rewritten");
    free(rv1);
    replace_all_secrets(&c); /* now current: an unchanged replace writes nothing */
    rv1 = rv_of(&c, "default", "db");
    CHECK_STR(rv1, rv2);
    free(rv1);
    free(rv2);

    /* the old key removed: everything still reads */
    restart_with(&c, k2);
    check_password(&c, 0, "db", V1);
    char *p = password_via(&c, 0, "team", "api"), *want = b64(V2);
    CHECK_STR(p, want);
    free(p);

    /* and back to key1, with orctl */
    char *k12 = config_file("k12.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                        "        secret: " KEY1 "\n      - name: key2\n"
                                        "        secret: " KEY2 "\n");
    char *k1only = config_file("k1only.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                              "        secret: " KEY1 "\n");
    char *out, *oerr;
    restart_with(&c, k12);
    CHECK_INT(run_orctl(&c, &out, &oerr, "secrets", "reencrypt", NULL), ==, 0);
    /* the test's two, and the agent token's bootstrap Secret (kube-system) */
    CHECK_HAS(out, "3 secrets rewritten with the current key");
    free(out);
    free(oerr);
    restart_with(&c, k1only);
    check_password(&c, 0, "db", V1);
    p = password_via(&c, 0, "team", "api");
    CHECK_STR(p, want);
    free(p);
    free(want);
    free(k12);
    free(k1only);
    free(k1);
    free(k21);
    free(k2);
}

TEST(a_config_file_others_can_read_is_refused)
{
    static struct cluster c;
    char *conf = config_file("open.yaml", "  - identity: {}\n");
    const char *argv[] = {t_bin("orcd"), "server", "--encryption-config", conf, NULL};
    char *out, *err;

    CHECK(chmod(conf, 0640) == 0);
    cluster_init(&c, 1);
    CHECK(run_prog(c.home, NULL, &out, &err, argv) != 0);
    CHECK_HAS(err, "holds keys: its mode is 0640, make it 0600");
    free(out);
    free(err);
    free(conf);
}

static bool file_has(const char *path, const char *needle)
{
    struct orc_buf b = ORC_BUF_INIT;
    bool found;

    CHECKF(orc_file_read(path, 1u << 30, &b) == 0, "cannot read %s", path);
    found = b.len && memmem(b.data, b.len, needle, strlen(needle)) != NULL;
    orc_buf_free(&b);
    return found;
}

TEST_T(backups_hold_ciphertext_and_restore_with_the_key, 60)
{
    static struct cluster c, r;
    char *conf = config_file("enc.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                         "        secret: " KEY1 "\n");
    const char *const extra[] = {"--encryption-config", conf, NULL};
    char file[600], *out = NULL, *err = NULL, *enc = b64(V1);

    if (!run_have_kubectl()) return;
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "secret", "generic", "db",
                                              "--from-literal=password=" V1, NULL}));
    snprintf(file, sizeof file, "%s/cluster.backup", test_tmpdir());
    CHECK_INT(run_orctl(&c, &out, &err, "cluster", "backup", file, NULL), ==, 0);
    free(out);
    free(err);
    member_stop(&c, 0);
    CHECKF(!file_has(file, V1) && !file_has(file, enc), "the backup holds the Secret in clear");
    CHECK(file_has(file, "k8s:enc:aesgcm:v1:key1:"));

    cluster_init(&r, 1);
    snprintf(r.m[0].dir, sizeof r.m[0].dir, "%s/restored", test_tmpdir());
    snprintf(r.m[0].log, sizeof r.m[0].log, "%s/restored.log", test_tmpdir());
    const char *const restore[] = {"--restore", file, "--encryption-config", conf, NULL};
    member_start(&r, 0, false, restore);
    member_wait_ready(&r, 0, 20000);
    check_password(&r, 0, "db", V1);
    free(enc);
    free(conf);
}
