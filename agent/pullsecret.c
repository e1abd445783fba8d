/* pullsecret.c — credentials for an image from the pod's imagePullSecrets
 * (kubernetes.io/dockerconfigjson Secrets), matched by registry host as
 * the kubelet does. */
#include <stdlib.h>
#include <string.h>

#include "agent/pullsecret.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

/* The registry host of an image reference ("docker.io" for short names). */
static void image_host(const char *image, char *out, size_t n)
{
    const char *slash = strchr(image, '/');
    size_t len = slash ? (size_t)(slash - image) : 0;

    if (slash == NULL || (memchr(image, '.', len) == NULL && memchr(image, ':', len) == NULL
                          && !(len == 9 && strncmp(image, "localhost", 9) == 0)))
        snprintf(out, n, "docker.io");
    else snprintf(out, n, "%.*s", (int)len, image);
}

/* "https://index.docker.io/v1/" -> "index.docker.io" */
static void key_host(const char *key, char *out, size_t n)
{
    const char *p = strstr(key, "://");
    size_t len;

    p = p ? p + 3 : key;
    len = strcspn(p, "/");
    snprintf(out, n, "%.*s", (int)len, p);
    if (strcmp(out, "index.docker.io") == 0 || strcmp(out, "registry-1.docker.io") == 0)
        snprintf(out, n, "docker.io");
}

static int decode(const char *b64, struct orc_buf *out)
{
    return b64 ? orc_base64_decode(b64, strlen(b64), false, out) : ORC_ENOENT;
}

static int entry_auth(const json_t *e, char **user, char **pass)
{
    const char *u = orc_json_str(e, "username"), *p = orc_json_str(e, "password");
    struct orc_buf raw = ORC_BUF_INIT;
    char *colon;

    if (u && p) {
        *user = strdup(u);
        *pass = strdup(p);
    } else if (decode(orc_json_str(e, "auth"), &raw) == 0 && raw.data
               && (colon = strchr(raw.data, ':')) != NULL) {
        *colon = '\0';
        *user = strdup(raw.data);
        *pass = strdup(colon + 1);
        explicit_bzero(raw.data, raw.len);
    } else {
        orc_buf_free(&raw);
        return ORC_ENOENT;
    }
    orc_buf_free(&raw);
    if (*user == NULL || *pass == NULL) {
        pull_auth_free(*user, *pass);
        *user = *pass = NULL;
        return ORC_ENOMEM;
    }
    return 0;
}

static int from_secret(const json_t *secret, const char *host, char **user, char **pass)
{
    struct orc_buf raw = ORC_BUF_INIT;
    const char *k;
    json_t *cfg, *auths, *e;
    char kh[256];
    int rv = ORC_ENOENT;

    json_t *data = orc_json_get(secret, "data");

    if (decode(json_string_value(json_object_get(data, ".dockerconfigjson")), &raw) != 0
        || raw.data == NULL) {
        orc_buf_free(&raw);
        return ORC_ENOENT;
    }
    cfg = orc_json_loadb(raw.data, raw.len, 0, NULL);
    explicit_bzero(raw.data, raw.len);
    orc_buf_free(&raw);
    auths = json_object_get(cfg, "auths");
    json_object_foreach(auths, k, e) {
        key_host(k, kh, sizeof kh);
        if (strcmp(kh, host) == 0 && (rv = entry_auth(e, user, pass)) == 0) break;
    }
    json_decref(cfg);
    return rv;
}

int pull_auth_find(const json_t *pod, const char *image, const struct podspec_lookup *lk,
                   char **user, char **pass)
{
    const char *ns = orc_json_str(pod, "metadata.namespace");
    char host[256];
    size_t i;
    json_t *ref;

    *user = *pass = NULL;
    image_host(image, host, sizeof host);
    json_array_foreach(orc_json_get(pod, "spec.imagePullSecrets"), i, ref) {
        const char *name = orc_json_str(ref, "name");
        const json_t *s = name ? lk->get(lk->arg, "secrets", ns ? ns : "default", name) : NULL;
        if (s && from_secret(s, host, user, pass) == 0) return 0;
    }
    return ORC_ENOENT;
}

void pull_auth_free(char *user, char *pass)
{
    if (pass) explicit_bzero(pass, strlen(pass));
    free(user);
    free(pass);
}
