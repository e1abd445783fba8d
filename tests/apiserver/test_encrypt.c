/* test_encrypt.c — the EncryptionConfiguration reader and the at-rest
 * transforms (apiserver/encrypt*.c): Kubernetes' stored forms, the key as
 * additional data, stale values after a rotation, clear refusals that never
 * show a key, and files other users can read refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apiserver/encrypt.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#define K1 "wybaYV5kB487QVjBD/IWuJ/2mECTvQU1M6Ea9I5lMEs=" /* 32 bytes */
#define K2 "MTIzNDU2Nzg5MDEyMzQ1Ng=="                     /* 16 bytes */
#define SKEY "/registry/core/secrets/default/db"
#define OBJ "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"p\":\"aHVudGVyMg==\"}}"

static char *config_file(const char *name, const char *text, mode_t mode)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(orc_file_write(path, text, strlen(text), mode) == 0);
    CHECK(chmod(path, mode) == 0);
    return path;
}

static char *providers_config(const char *name, const char *providers)
{
    char *text = NULL, *path;

    CHECK(asprintf(&text,
                   "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
                   "resources:\n- resources: [secrets]\n  providers:\n%s",
                   providers) > 0);
    path = config_file(name, text, 0600);
    free(text);
    return path;
}

static api_encryption *load_ok(const char *path)
{
    api_encryption *e = NULL;
    char err[256] = "";

    CHECKF(api_encryption_load(path, &e, err) == 0, "load %s: %s", path, err);
    return e;
}

static void load_fails(const char *providers, const char *want)
{
    char *path = providers_config("bad.yaml", providers);
    api_encryption *e = NULL;
    char err[256] = "";

    CHECK(api_encryption_load(path, &e, err) != 0);
    CHECK(e == NULL);
    CHECKF(strstr(err, want) != NULL, "want \"%s\" in \"%s\"", want, err);
    CHECKF(strstr(err, K1) == NULL && strstr(err, K2) == NULL, "a key in \"%s\"", err);
    free(path);
}

static void seal(api_encryption *e, const char *key, struct orc_buf *out)
{
    CHECK(api_enc_seal(e, key, OBJ, strlen(OBJ), out) == 0);
}

/* Opens v; returns the code, *plain (malloc'd or NULL), *stale. */
static int open_v(api_encryption *e, const char *key, const struct orc_buf *v, char **plain,
                  bool *stale, char *msg)
{
    size_t len = 0;
    return api_enc_open_msg(e, key, v->data, v->len, plain, &len, stale, msg, 256);
}

TEST(aesgcm_stores_kubernetes_form_and_reads_back)
{
    char *path = providers_config("c.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                            "        secret: " K1 "\n  - identity: {}\n");
    api_encryption *e = load_ok(path);
    struct orc_buf a = ORC_BUF_INIT, b = ORC_BUF_INIT;
    char *plain = NULL, msg[256] = "";
    bool stale = true;

    seal(e, SKEY, &a);
    seal(e, SKEY, &b);
    CHECK(strncmp(a.data, "k8s:enc:aesgcm:v1:key1:", 23) == 0);
    /* prefix + 12-byte nonce + ciphertext + 16-byte tag */
    CHECK_INT(a.len, ==, 23 + 12 + strlen(OBJ) + 16);
    CHECK(memmem(a.data, a.len, "aHVudGVyMg==", 12) == NULL);
    CHECK(memcmp(a.data, b.data, a.len) != 0); /* a fresh nonce each time */
    CHECK_INT(open_v(e, SKEY, &a, &plain, &stale, msg), ==, 0);
    CHECK_STR(plain, OBJ);
    CHECK(!stale);
    free(plain);
    /* another key's value does not open here: the key is authenticated */
    CHECK(open_v(e, "/registry/core/secrets/default/other", &a, &plain, &stale, msg) != 0);
    CHECK(strstr(msg, "key \"key1\"") != NULL);
    /* other resources are stored as written */
    CHECK(api_enc_seal(e, "/registry/core/configmaps/default/x", OBJ, strlen(OBJ), &b) == 0);
    CHECK_INT(b.len, ==, 0);
    orc_buf_free(&a);
    orc_buf_free(&b);
    api_encryption_free(e);
    free(path);
}

TEST(rotation_marks_values_of_older_keys_stale)
{
    char *p1 = providers_config("r1.yaml", "  - aesgcm:\n      keys:\n      - name: key1\n"
                                           "        secret: " K1 "\n  - identity: {}\n");
    char *p2 = providers_config("r2.yaml", "  - aescbc:\n      keys:\n      - name: key2\n"
                                           "        secret: " K2 "\n  - aesgcm:\n      keys:\n"
                                           "      - name: key1\n        secret: " K1
                                           "\n  - identity: {}\n");
    char *p3 = providers_config("r3.yaml", "  - aescbc:\n      keys:\n      - name: key2\n"
                                           "        secret: " K2 "\n");
    api_encryption *e1 = load_ok(p1), *e2 = load_ok(p2), *e3 = load_ok(p3);
    struct orc_buf old = ORC_BUF_INIT, cur = ORC_BUF_INIT,
                   clear = {.data = (char *)OBJ, .len = strlen(OBJ)};
    char *plain = NULL, msg[256] = "";
    bool stale = false;

    seal(e1, SKEY, &old);
    seal(e2, SKEY, &cur);
    CHECK(strncmp(cur.data, "k8s:enc:aescbc:v1:key2:", 23) == 0);
    CHECK_INT(open_v(e2, SKEY, &old, &plain, &stale, msg), ==, 0);
    CHECK_STR(plain, OBJ);
    CHECK(stale);
    free(plain);
    CHECK_INT(open_v(e2, SKEY, &cur, &plain, &stale, msg), ==, 0);
    CHECK_STR(plain, OBJ);
    CHECK(!stale);
    free(plain);
    CHECK_INT(open_v(e2, SKEY, &clear, &plain, &stale, msg), ==, 0);
    CHECK(plain == NULL && stale); /* identity, not first */
    /* without the old key: a clear refusal naming it */
    CHECK(open_v(e3, SKEY, &old, &plain, &stale, msg) != 0);
    CHECK(plain == NULL);
    CHECKF(strstr(msg, "aesgcm key \"key1\"") && strstr(msg, "does not hold"), "%s", msg);
    CHECK(open_v(e3, SKEY, &clear, &plain, &stale, msg) != 0);
    CHECKF(strstr(msg, "no identity provider"), "%s", msg);
    /* no configuration at all */
    CHECK(open_v(NULL, SKEY, &old, &plain, &stale, msg) != 0);
    CHECKF(strstr(msg, "without --encryption-config"), "%s", msg);
    CHECK(api_enc_sealed(old.data, old.len, false));
    CHECK(!api_enc_sealed(OBJ, strlen(OBJ), false));
    /* a damaged value: refused, never a crash */
    old.data[old.len - 3] ^= 1;
    CHECK(open_v(e1, SKEY, &old, &plain, &stale, msg) != 0);
    CHECKF(strstr(msg, "failed"), "%s", msg);
    old.len = 25;
    CHECK(open_v(e1, SKEY, &old, &plain, &stale, msg) != 0);
    orc_buf_free(&old);
    orc_buf_free(&cur);
    api_encryption_free(e1);
    api_encryption_free(e2);
    api_encryption_free(e3);
    free(p1);
    free(p2);
    free(p3);
}

TEST(bad_configurations_are_refused_without_echoing_keys)
{
    char *path = config_file("open.yaml", "apiVersion: apiserver.config.k8s.io/v1\n"
                                          "kind: EncryptionConfiguration\nresources: []\n", 0644);
    api_encryption *e = NULL;
    char err[256] = "";

    CHECK(api_encryption_load(path, &e, err) == ORC_EPERM);
    CHECKF(strstr(err, "0644") && strstr(err, "0600"), "%s", err);
    free(path);
    load_fails("  - aesgcm:\n      keys:\n      - name: k\n        secret: c2hvcnQ=\n",
               "base64 of 16, 24 or 32 bytes");
    load_fails("  - aesgcm:\n      keys:\n      - name: a:b\n        secret: " K2 "\n", "':'");
    load_fails("  - aesgcm:\n      keys:\n      - name: k\n        secret: " K1
               "\n      - name: k\n        secret: " K2 "\n",
               "used twice");
    load_fails("  - kms:\n      name: x\n", "not supported");
    load_fails("  - aesgcm:\n      keys: []\n", "at least one key");
    load_fails("", "providers is empty");
    path = config_file("wild.yaml", "apiVersion: apiserver.config.k8s.io/v1\n"
                                    "kind: EncryptionConfiguration\nresources:\n"
                                    "- resources: ['*.*']\n  providers: [{identity: {}}]\n", 0600);
    CHECK(api_encryption_load(path, &e, err) != 0);
    CHECKF(strstr(err, "wildcards"), "%s", err);
    free(path);
    path = config_file("kind.yaml", "apiVersion: v1\nkind: ConfigMap\n", 0600);
    CHECK(api_encryption_load(path, &e, err) != 0);
    CHECKF(strstr(err, "EncryptionConfiguration"), "%s", err);
    free(path);
    path = providers_config("ok.yaml", "  - identity: {}\n  - aesgcm:\n      keys:\n"
                                       "      - name: k\n        secret: " K2 "\n");
    e = load_ok(path);
    struct orc_buf v = ORC_BUF_INIT;
    seal(e, SKEY, &v); /* identity first: stored as written */
    CHECK_INT(v.len, ==, 0);
    api_encryption_free(e);
    free(path);
}
