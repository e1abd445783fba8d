/* sa_key.c — the cluster's ServiceAccount signing key (ES256, P-256), kept
 * in the replicated store so every member signs and verifies with the same
 * one, and the issuer discovery documents that publish its public half
 * (/.well-known/openid-configuration, /openid/v1/jwks), as Kubernetes'
 * ServiceAccountIssuerDiscovery serves them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/sa.h"
#include "lib/json.h"
#include "lib/jwt.h"
#include "lib/log.h"
#include "lib/orc.h"

static int add_audience(struct api_sa *sa, const char *a, size_t n, char *errmsg)
{
    if (n == 0) return 0;
    if (sa->n_audiences == API_SA_MAX_AUDIENCES) {
        snprintf(errmsg, 256, "--api-audiences: at most %d audiences", API_SA_MAX_AUDIENCES);
        return ORC_EINVAL;
    }
    if (!(sa->audiences[sa->n_audiences] = strndup(a, n))) return ORC_ENOMEM;
    sa->n_audiences++;
    return 0;
}

int api_sa_start(struct api_server *s, const struct api_config *cfg, char *errmsg)
{
    const char *list = cfg->api_audiences ? cfg->api_audiences : API_SA_ISSUER;
    struct api_sa *sa = calloc(1, sizeof *sa);
    int rv = 0;

    if (sa == NULL) return ORC_ENOMEM;
    s->sa = sa;
    sa->min_expiration = cfg->sa_min_expiration ? cfg->sa_min_expiration : API_SA_MIN_EXPIRATION;
    for (const char *p = list; rv == 0;) {
        size_t n = strcspn(p, ",");
        rv = add_audience(sa, p, n, errmsg);
        if (p[n] == '\0') break;
        p += n + 1;
    }
    if (rv == 0 && sa->n_audiences == 0) {
        snprintf(errmsg, 256, "--api-audiences: no audience given");
        rv = ORC_EINVAL;
    }
    return rv;
}

void api_sa_stop(struct api_server *s)
{
    if (s->sa == NULL) return;
    for (size_t i = 0; i < s->sa->n_audiences; i++) free(s->sa->audiences[i]);
    EVP_PKEY_free(s->sa->key);
    free(s->sa);
    s->sa = NULL;
}

bool api_sa_audience_ok(const struct api_server *s, const char *aud)
{
    for (size_t i = 0; i < s->sa->n_audiences; i++)
        if (strcmp(s->sa->audiences[i], aud) == 0) return true;
    return false;
}

EVP_PKEY *api_sa_key(struct api_server *s)
{
    struct store_kv kv = {0};

    /* The key is written once and never changes: read it until found. */
    if (s->sa->key || store_get(s->st, API_SA_KEY, &kv) != 0) return s->sa->key;
    if (orc_jwt_key_load(kv.value, &s->sa->key) != 0)
        log_error("apiserver", "%s in the store is not a P-256 private key", API_SA_KEY);
    explicit_bzero(kv.value, kv.value_len);
    store_kv_clear(&kv);
    return s->sa->key;
}

struct key_put {
    struct api_server *s;
    char *pem;
};

static void on_key_put(void *arg, int status, const struct store_txn_result *res)
{
    struct key_put *k = arg;

    if (status == 0 && res->succeeded)
        log_info("apiserver", "made the cluster's service account signing key (ES256)");
    else if (status != 0 && !k->s->stopping)
        log_warn("apiserver", "storing the service account signing key: %s", orc_strerror(status));
    explicit_bzero(k->pem, strlen(k->pem));
    free(k->pem);
    api_release(k->s);
    free(k);
}

void api_sa_ensure_key(struct api_server *s)
{
    struct store_kv kv = {0};
    struct key_put *k;
    int rv;

    if (store_get(s->st, API_SA_KEY, &kv) == 0) {
        store_kv_clear(&kv);
        return;
    }
    if (!(k = calloc(1, sizeof *k)) || orc_jwt_key_new(&k->pem) != 0) {
        log_warn("apiserver", "making the service account signing key: out of memory");
        free(k);
        return;
    }
    k->s = s;
    api_hold(s);
    struct store_guard g = {STORE_GUARD_ABSENT, API_SA_KEY, 0};
    struct store_op op = {STORE_PUT, API_SA_KEY, k->pem, strlen(k->pem)};
    struct store_txn txn = {&g, 1, &op, 1};
    if ((rv = store_txn(s->st, &txn, on_key_put, k)) != 0) {
        struct store_txn_result none = {0};
        on_key_put(k, rv, &none);
    }
}

json_t *api_sa_local_get(struct api_server *s, enum orc_kind_id kind, const char *ns,
                         const char *name)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *obj = NULL;

    if (api_key(orc_kind_table + kind, ns, name, &key) == 0 && store_get(s->st, key.data, &kv) == 0)
        obj = api_obj_decode(kv.value, kv.value_len, kv.mod_rev);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return obj;
}

/* ---- issuer discovery ---- */

static void respond(struct orc_httpd_req *r, const char *type, json_t *doc)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (doc == NULL || orc_json_dump(doc, &b) != 0) {
        api_respond_error(r, ORC_ENOMEM, "the discovery document");
    } else {
        orc_httpd_respond(r, 200, type, b.data, b.len, "Cache-Control: public, max-age=3600\r\n");
    }
    json_decref(doc);
    orc_buf_free(&b);
}

void api_handle_oidc(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    EVP_PKEY *key = api_sa_key(s);
    char uri[1024];

    if (r->method != HTTP_GET) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    if (key == NULL) {
        api_respond_error(r, ORC_EUNAVAIL, "the service account signing key (not made yet)");
        return;
    }
    if (strcmp(rt->internal, "jwks") == 0) {
        json_t *jwk = orc_jwt_jwk(key);
        respond(r, "application/jwk-set+json", jwk ? json_pack("{s:[o]}", "keys", jwk) : NULL);
        return;
    }
    snprintf(uri, sizeof uri, "%s/openid/v1/jwks", s->url);
    respond(r, "application/json",
            json_pack("{s:s, s:s, s:[s], s:[s], s:[s]}", "issuer", API_SA_ISSUER, "jwks_uri", uri,
                      "response_types_supported", "id_token", "subject_types_supported", "public",
                      "id_token_signing_alg_values_supported", "ES256"));
}
