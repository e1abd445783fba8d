/* encrypt_config.c — reads an EncryptionConfiguration file (Kubernetes'
 * apiserver.config.k8s.io/v1 format) for Secrets encrypted at rest: which
 * resources, and the providers (aesgcm, aescbc, identity) in order. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apiserver/encrypt.h"
#include "lib/base64.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/yaml.h"

#define CONFIG_MAX (1 << 20)
#define ERRLEN 256

void api_encryption_free(api_encryption *e)
{
    if (e == NULL) return;
    api_enc_release(e);
    OPENSSL_cleanse(e, sizeof *e); /* the keys */
    free(e);
}

static int parse_key(const json_t *k, const char *where, struct api_enc_key *out, char *err)
{
    const char *name = orc_json_str(k, "name"), *secret = orc_json_str(k, "secret");
    struct orc_buf raw = ORC_BUF_INIT;
    int rv = 0;

    if (name == NULL || *name == '\0')
        return orc_errf(err, ERRLEN, ORC_EINVAL, "%s: a key has no name", where);
    if (strlen(name) >= sizeof out->name || strchr(name, ':') != NULL)
        return orc_errf(err, ERRLEN, ORC_EINVAL,
                        "%s: key name \"%.64s\" must be under %zu characters, without ':'", where,
                        name, sizeof out->name);
    snprintf(out->name, sizeof out->name, "%s", name);
    /* never echo the secret, not even a bad one */
    if (secret == NULL || orc_base64_decode(secret, strlen(secret), false, &raw) != 0
        || (raw.len != 16 && raw.len != 24 && raw.len != 32))
        rv = orc_errf(err, ERRLEN, ORC_EINVAL,
                      "%s: key \"%s\": secret must be the base64 of 16, 24 or 32 bytes", where,
                      name);
    else memcpy(out->secret, raw.data, raw.len), out->len = raw.len;
    if (raw.data) OPENSSL_cleanse(raw.data, raw.len);
    orc_buf_free(&raw);
    return rv;
}

static int parse_keys(const json_t *keys, const char *where, struct api_enc_provider *p, char *err)
{
    size_t i;
    json_t *k;
    int rv;

    if (!json_is_array(keys) || json_array_size(keys) == 0)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "%s: keys must list at least one key", where);
    if (json_array_size(keys) > API_ENC_MAX_KEYS)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "%s: at most %d keys", where, API_ENC_MAX_KEYS);
    json_array_foreach(keys, i, k) {
        if ((rv = parse_key(k, where, &p->keys[i], err)) != 0) return rv;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->keys[j].name, p->keys[i].name) == 0)
                return orc_errf(err, ERRLEN, ORC_EINVAL, "%s: key name \"%s\" is used twice",
                                where, p->keys[i].name);
        p->n_keys++;
    }
    return 0;
}

static int parse_provider(const json_t *pj, const char *where, struct api_enc_provider *p,
                          char *err)
{
    const char *type;
    json_t *body;

    if (!json_is_object(pj) || json_object_size(pj) != 1)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "%s: each provider names exactly one type",
                        where);
    json_object_foreach((json_t *)pj, type, body) {
        if (strcmp(type, "identity") == 0) {
            p->type = API_ENC_IDENTITY;
            return 0;
        }
        if (strcmp(type, "aesgcm") == 0 || strcmp(type, "aescbc") == 0) {
            p->type = strcmp(type, "aesgcm") == 0 ? API_ENC_AESGCM : API_ENC_AESCBC;
            return parse_keys(json_object_get(body, "keys"), where, p, err);
        }
        return orc_errf(err, ERRLEN, ORC_EINVAL,
                        "%s: provider type \"%.32s\" is not supported (aesgcm, aescbc, identity)",
                        where, type);
    }
    return ORC_EINVAL;
}

/* "secrets" or "deployments.apps" to the store's key prefix. */
static int resource_prefix(const char *name, char *out, size_t n, char *err)
{
    char res[128];
    const char *dot = strchr(name, '.');
    const struct orc_kind *k;

    if (strchr(name, '*'))
        return orc_errf(err, ERRLEN, ORC_EINVAL,
                        "resource \"%.64s\": wildcards are not supported; name each resource",
                        name);
    snprintf(res, sizeof res, "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
    k = orc_kind_by_resource(dot ? dot + 1 : "", res);
    if (k) k = orc_kind_stored(k); /* events.events.k8s.io: the core Events' keys */
    if (k == NULL)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "resource \"%.64s\" is not served by orc", name);
    /* their creates allocate addresses in the store (STORE_PUT_ALLOC) */
    if (!k->group[0] && (!strcmp(res, "nodes") || !strcmp(res, "services")))
        return orc_errf(err, ERRLEN, ORC_EINVAL, "resource \"%s\" cannot be encrypted by orc",
                        name);
    snprintf(out, n, "/registry/%s/%s/", k->group[0] ? k->group : "core", k->resource);
    return 0;
}

static int add_resources(api_encryption *e, const json_t *names, size_t first, char *err)
{
    size_t i;
    json_t *nj;
    int rv;

    if (!json_is_array(names) || json_array_size(names) == 0)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "resources[%zu].resources is empty", first);
    json_array_foreach(names, i, nj) {
        struct api_enc_resource *r = &e->res[e->n_res];
        if (!json_is_string(nj))
            return orc_errf(err, ERRLEN, ORC_EINVAL, "resources[%zu].resources[%zu] is not a name",
                            first, i);
        if (e->n_res == API_ENC_MAX_RESOURCES)
            return orc_errf(err, ERRLEN, ORC_EINVAL, "at most %d resources", API_ENC_MAX_RESOURCES);
        if ((rv = resource_prefix(json_string_value(nj), r->prefix, sizeof r->prefix, err)) != 0)
            return rv;
        for (size_t j = 0; j < e->n_res; j++)
            if (strcmp(e->res[j].prefix, r->prefix) == 0)
                return orc_errf(err, ERRLEN, ORC_EINVAL, "resource \"%.64s\" is listed twice",
                                json_string_value(nj));
        r->group = first;
        e->n_res++;
    }
    return 0;
}

static int parse_group(api_encryption *e, const json_t *g, size_t gi, char *err)
{
    const json_t *provs = json_object_get(g, "providers");
    struct api_enc_group *grp = &e->groups[gi];
    char where[64];
    size_t i;
    json_t *pj;
    int rv;

    if ((rv = add_resources(e, json_object_get(g, "resources"), gi, err)) != 0) return rv;
    if (!json_is_array(provs) || json_array_size(provs) == 0)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "resources[%zu].providers is empty", gi);
    if (json_array_size(provs) > API_ENC_MAX_PROVIDERS)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "resources[%zu]: at most %d providers", gi,
                        API_ENC_MAX_PROVIDERS);
    json_array_foreach(provs, i, pj) {
        snprintf(where, sizeof where, "resources[%zu].providers[%zu]", gi, i);
        if ((rv = parse_provider(pj, where, &grp->prov[i], err)) != 0) return rv;
        grp->n_prov++;
    }
    return 0;
}

static int parse_config(api_encryption *e, const json_t *doc, char *err)
{
    const json_t *groups = json_object_get(doc, "resources");
    const char *kind = orc_json_str(doc, "kind"), *av = orc_json_str(doc, "apiVersion");
    size_t i;
    json_t *g;
    int rv;

    if (kind == NULL || strcmp(kind, "EncryptionConfiguration") != 0 || av == NULL
        || strcmp(av, "apiserver.config.k8s.io/v1") != 0)
        return orc_errf(err, ERRLEN, ORC_EINVAL,
                        "not an apiserver.config.k8s.io/v1 EncryptionConfiguration");
    if (!json_is_array(groups) || json_array_size(groups) == 0)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "resources is empty");
    if (json_array_size(groups) > API_ENC_MAX_RESOURCES)
        return orc_errf(err, ERRLEN, ORC_EINVAL, "at most %d resources entries",
                        API_ENC_MAX_RESOURCES);
    json_array_foreach(groups, i, g) {
        if ((rv = parse_group(e, g, i, err)) != 0) return rv;
    }
    return 0;
}

/* The file holds keys: only its owner may read it. */
static int check_mode(const char *path, char *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return orc_errf(err, ERRLEN, ORC_ENOENT, "%.200s: cannot read it", path);
    if ((st.st_mode & 077) != 0)
        return orc_errf(err, ERRLEN, ORC_EPERM,
                        "%.160s holds keys: its mode is %04o, make it 0600 (chmod 600)", path,
                        (unsigned)(st.st_mode & 07777));
    return 0;
}

int api_encryption_load(const char *path, api_encryption **out, char *errmsg)
{
    struct orc_buf text = ORC_BUF_INIT;
    char err[ERRLEN] = "", perr[200] = "";
    api_encryption *e = NULL;
    json_t *doc = NULL;
    int rv;

    *out = NULL;
    if ((rv = check_mode(path, err)) != 0) goto done;
    if ((rv = orc_file_read(path, CONFIG_MAX, &text)) != 0) {
        orc_errf(err, sizeof err, rv, "%.200s: cannot read it", path);
        goto done;
    }
    doc = orc_yaml_parse(text.data ? text.data : "", text.len, perr, sizeof perr);
    if (doc == NULL) {
        rv = orc_errf(err, sizeof err, ORC_EINVAL, "%.160s: not YAML: %.80s", path, perr);
        goto done;
    }
    if (json_array_size(doc) != 1)
        rv = orc_errf(err, sizeof err, ORC_EINVAL, "%.160s: want one YAML document", path);
    else if ((e = calloc(1, sizeof *e)) == NULL) rv = ORC_ENOMEM;
    else if ((rv = parse_config(e, json_array_get(doc, 0), err)) == 0 && api_enc_prepare(e) != 0)
        rv = orc_errf(err, sizeof err, ORC_EIO, "OpenSSL has no AES-GCM or AES-CBC here");
done:
    if (text.data) OPENSSL_cleanse(text.data, text.len);
    orc_buf_free(&text);
    json_decref(doc);
    if (rv != 0) {
        snprintf(errmsg, ERRLEN, "--encryption-config: %s", err[0] ? err : orc_strerror(rv));
        api_encryption_free(e);
        return rv;
    }
    *out = e;
    return 0;
}
