/* authn_bootstrap.c — bootstrap tokens, as Kubernetes stores them: a Secret
 * bootstrap-token-<id> in kube-system of type bootstrap.kubernetes.io/token
 * whose token "<id>.<secret>" ([a-z0-9]{6}.[a-z0-9]{16}) authenticates as
 * system:bootstrap:<id> in system:bootstrappers until its expiration. The
 * agent token a cluster is created with is one of them. What such a user
 * may do is RBAC's system:node-bootstrapper role: have its node's
 * certificate issued (rbac_policy.c). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

#define PREFIX "bootstrap-token-"
#define GROUP "system:bootstrappers"
#define MAX_EXTRA 8

bool api_bootstrap_token_split(const char *tok, char id[7], char secret[17])
{
    size_t n = strlen(tok);

    /* orc's form carries the CA's fingerprint first: orc1.<64 hex>.<id>.<secret> */
    if (n == 5 + 64 + 1 + 23 && strncmp(tok, "orc1.", 5) == 0 && tok[69] == '.') tok += 70;
    else if (n != 23) return false;
    for (int i = 0; i < 23; i++) {
        char ch = tok[i];
        bool ok = i == 6 ? ch == '.' : ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'));
        if (!ok) return false;
    }
    memcpy(id, tok, 6);
    id[6] = '\0';
    memcpy(secret, tok + 7, 16);
    secret[16] = '\0';
    return true;
}

/* data[key] decoded, or NULL. */
static char *data_value(const json_t *data, const char *key)
{
    const char *v = orc_json_str(data, key);
    struct orc_buf b = ORC_BUF_INIT;

    if (v == NULL || orc_base64_decode(v, strlen(v), false, &b) != 0 || b.data == NULL) {
        orc_buf_free(&b);
        return NULL;
    }
    if (memchr(b.data, '\0', b.len)) {
        orc_buf_free(&b);
        return NULL;
    }
    return orc_buf_steal(&b, NULL);
}

bool api_bootstrap_secret_expired(const json_t *secret)
{
    char *exp = data_value(json_object_get(secret, "data"), "expiration");
    int64_t at = 0;
    bool expired = exp && (orc_time_parse(exp, &at) != 0 || at <= (int64_t)time(NULL));

    free(exp);
    return expired;
}

static bool secret_matches(const json_t *sec, const char *id, const char *want)
{
    const json_t *data = json_object_get(sec, "data");
    char *tid = data_value(data, "token-id"), *tsec = data_value(data, "token-secret");
    char *usage = data_value(data, "usage-bootstrap-authentication");
    bool ok = tid && tsec && usage && strcmp(tid, id) == 0 && strcmp(usage, "true") == 0
              && strlen(tsec) == 16 && CRYPTO_memcmp(tsec, want, 16) == 0;

    free(tid);
    if (tsec) explicit_bzero(tsec, strlen(tsec));
    free(tsec);
    free(usage);
    return ok;
}

/* auth-extra-groups: comma-separated, each system:bootstrappers:*. */
static void extra_groups(const json_t *sec, char *buf, size_t n, const char **groups, size_t *ng)
{
    char *v = data_value(json_object_get(sec, "data"), "auth-extra-groups"), *save = NULL, *g;

    if (v == NULL) return;
    snprintf(buf, n, "%s", v);
    free(v);
    for (g = strtok_r(buf, ",", &save); g && *ng < MAX_EXTRA; g = strtok_r(NULL, ",", &save))
        if (strncmp(g, GROUP ":", strlen(GROUP) + 1) == 0) groups[(*ng)++] = g;
}

static json_t *load_secret(struct api_server *s, const char *id)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    char name[32];
    json_t *sec = NULL;

    snprintf(name, sizeof name, PREFIX "%s", id);
    if (api_key(orc_kind_by_resource("", "secrets"), "kube-system", name, &key) == 0
        && store_get(s->st, key.data, &kv) == 0)
        sec = orc_json_loadb(kv.value, kv.value_len, 0, NULL);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return sec;
}

int api_authn_bootstrap_token(struct api_server *s, struct orc_httpd_req *r, struct api_user **out)
{
    const char *h = orc_httpd_req_header(r, "authorization"), *groups[MAX_EXTRA + 2] = {GROUP};
    char id[7], secret[17], extra[512], name[64];
    size_t ng = 1;
    json_t *sec;
    int rv = API_AUTHN_PASS;

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) return API_AUTHN_PASS;
    for (h += 7; *h == ' ';) h++;
    if (!api_bootstrap_token_split(h, id, secret)) return API_AUTHN_PASS;
    sec = load_secret(s, id);
    if (sec && strcmp(orc_json_str(sec, "type") ?: "", API_BOOTSTRAP_TOKEN_TYPE) == 0
        && secret_matches(sec, id, secret)) {
        if (api_bootstrap_secret_expired(sec)) {
            log_info("apiserver", "bootstrap token %s from %s has expired", id, orc_httpd_req_peer(r));
        } else {
            extra_groups(sec, extra, sizeof extra, groups, &ng);
            groups[ng] = NULL;
            snprintf(name, sizeof name, "system:bootstrap:%s", id);
            *out = api_user_new(name, groups);
            rv = *out ? API_AUTHN_OK : API_AUTHN_REFUSED;
        }
    }
    explicit_bzero(secret, sizeof secret);
    json_decref(sec);
    return rv;
}

/* ---- the agent token: a bootstrap token the cluster is created with ---- */

struct agent_token_write {
    struct api_server *s;
    struct orc_buf key, val;
};

static void agent_token_written(void *arg, int status, const struct store_txn_result *res)
{
    struct agent_token_write *w = arg;

    if (status == 0 && res->succeeded) log_info("apiserver", "created the agent token (a bootstrap token)");
    if (status == 0 || status == ORC_EEXIST) explicit_bzero(w->s->agent_token, sizeof w->s->agent_token);
    else if (!w->s->stopping) log_warn("apiserver", "creating the agent token: %s", orc_strerror(status));
    explicit_bzero(w->val.data, w->val.cap);
    orc_buf_free(&w->val);
    orc_buf_free(&w->key);
    api_release(w->s);
    free(w);
}

static json_t *agent_token_secret(const char *id, const char *secret)
{
    struct orc_buf a = ORC_BUF_INIT, b = ORC_BUF_INIT;
    char name[32], uid[37], now[ORC_TIME_LEN];
    json_t *sec = NULL;

    snprintf(name, sizeof name, PREFIX "%s", id);
    orc_uuid(uid);
    orc_time_now(now);
    if (orc_base64_encode(id, 6, false, &a) == 0 && orc_base64_encode(secret, 16, false, &b) == 0)
        sec = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion",
                        "v1", "kind", "Secret", "metadata", "name", name, "namespace", "kube-system", "uid",
                        uid, "creationTimestamp", now, "type", API_BOOTSTRAP_TOKEN_TYPE, "data", "token-id",
                        a.data, "token-secret", b.data, "usage-bootstrap-authentication", "dHJ1ZQ==",
                        "description", "b3JjIGFnZW50IHRva2Vu" /* "orc agent token" */);
    if (b.data) explicit_bzero(b.data, b.cap);
    orc_buf_free(&a);
    orc_buf_free(&b);
    return sec;
}

void api_agent_token_ensure(struct api_server *s)
{
    struct agent_token_write *w;
    struct store_kv kv = {0};
    struct store_guard g;
    struct store_op op;
    char id[7], secret[17];
    json_t *sec;

    if (s->agent_token[0] == '\0' || !api_bootstrap_token_split(s->agent_token, id, secret)) return;
    if ((w = calloc(1, sizeof *w)) == NULL) return;
    w->s = s;
    api_hold(s);
    snprintf(id, sizeof id, "%.6s", s->agent_token);
    {
        char name[32];
        snprintf(name, sizeof name, PREFIX "%s", id);
        api_key(orc_kind_by_resource("", "secrets"), "kube-system", name, &w->key);
    }
    sec = store_get(s->st, w->key.data, &kv) == 0 ? NULL : agent_token_secret(id, secret);
    store_kv_clear(&kv);
    explicit_bzero(secret, sizeof secret);
    if (sec == NULL || api_obj_encode(sec, &w->val) != 0) {
        json_decref(sec);
        agent_token_written(w, ORC_EEXIST, NULL); /* there already (or no memory) */
        return;
    }
    json_decref(sec);
    g = (struct store_guard){STORE_GUARD_ABSENT, w->key.data, 0};
    op = (struct store_op){STORE_PUT, w->key.data, w->val.data, w->val.len};
    if (api_txn(s, &(struct store_txn){&g, 1, &op, 1}, agent_token_written, w) != 0)
        agent_token_written(w, ORC_EIO, NULL);
}
