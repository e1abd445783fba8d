/* authn_sa.c — the ServiceAccount token authenticator: a bearer JWT signed
 * by the cluster's key, unexpired, for an audience this API accepts, whose
 * ServiceAccount (and bound Pod or Secret) still exists with the same uid,
 * is that account's user. As Kubernetes does, any other bearer token shaped
 * like a JWT is refused rather than passed on. Objects are read from this
 * member's store (no Raft round trip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apiserver/sa.h"
#include "lib/json.h"
#include "lib/jwt.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define SKEW_SECONDS 60 /* members' clocks may differ a little: iat and nbf only */
#define DELETED_GRACE_SECONDS 60

/* The bearer token of the request, or NULL. */
static const char *bearer(struct orc_httpd_req *r, size_t *len)
{
    const char *h = orc_httpd_req_header(r, "authorization");

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
    h += 7;
    while (*h == ' ') h++;
    *len = strcspn(h, " \t\r\n");
    return *len ? h : NULL;
}

static bool aud_ok(struct api_server *s, const json_t *aud)
{
    size_t i;
    json_t *v;

    if (json_is_string(aud)) return api_sa_audience_ok(s, json_string_value(aud));
    json_array_foreach (aud, i, v)
        if (json_is_string(v) && api_sa_audience_ok(s, json_string_value(v))) return true;
    return false;
}

static const char *times_wrong(const json_t *c)
{
    long long now = (long long)time(NULL);
    json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");

    if (!json_is_integer(exp)) return "it has no expiry";
    if (json_integer_value(exp) <= now) return "it has expired";
    if (json_is_integer(nbf) && json_integer_value(nbf) > now + SKEW_SECONDS)
        return "it is not valid yet";
    return NULL;
}

/* As Kubernetes: an object being deleted still vouches for its tokens
 * until a minute past its deletionTimestamp (a terminating pod's
 * containers may still call the API). */
static bool deleted_long_ago(const json_t *obj)
{
    const char *ts = orc_json_str(obj, "metadata.deletionTimestamp");
    int64_t when;

    return ts
           && (orc_time_parse(ts, &when) != 0
               || when < (int64_t)time(NULL) - DELETED_GRACE_SECONDS);
}

/* The object the claim {name, uid} names still exists with that uid. */
static bool still_there(struct api_server *s, enum orc_kind_id id, const char *ns,
                        const json_t *ref)
{
    const char *name = orc_json_str(ref, "name"), *uid = orc_json_str(ref, "uid");
    json_t *obj = name && uid ? api_sa_local_get(s, id, ns, name) : NULL;
    const char *have = obj ? orc_json_str(obj, "metadata.uid") : NULL;
    bool ok = have && strcmp(have, uid) == 0 && !deleted_long_ago(obj);

    json_decref(obj);
    return ok;
}

static const char *objects_wrong(struct api_server *s, const json_t *c, const char **ns,
                                 const char **sa, const char **uid)
{
    const json_t *k8s = json_object_get(c, "kubernetes.io");
    const json_t *acct = k8s ? json_object_get(k8s, "serviceaccount") : NULL;
    const json_t *pod = k8s ? json_object_get(k8s, "pod") : NULL;
    const json_t *secret = k8s ? json_object_get(k8s, "secret") : NULL;
    char want[600];

    *ns = k8s ? orc_json_str(k8s, "namespace") : NULL;
    *sa = acct ? orc_json_str(acct, "name") : NULL;
    *uid = acct ? orc_json_str(acct, "uid") : NULL;
    if (!*ns || !*sa || !*uid) return "it names no service account";
    snprintf(want, sizeof want, "system:serviceaccount:%s:%s", *ns, *sa);
    if (!orc_json_str(c, "sub") || strcmp(orc_json_str(c, "sub"), want) != 0)
        return "its subject is not its service account";
    if (!still_there(s, ORC_K_SERVICEACCOUNT, *ns, acct))
        return "its service account no longer exists";
    if (pod && !still_there(s, ORC_K_POD, *ns, pod))
        return "the pod it is bound to no longer exists";
    if (secret && !still_there(s, ORC_K_SECRET, *ns, secret))
        return "the secret it is bound to no longer exists";
    return NULL;
}

static const char *claims_wrong(struct api_server *s, const json_t *c)
{
    const char *iss = orc_json_str(c, "iss");

    if (!iss || strcmp(iss, API_SA_ISSUER) != 0) return "it is from another issuer";
    if (!aud_ok(s, json_object_get(c, "aud"))) return "it is for another audience";
    return times_wrong(c);
}

static struct api_user *user_of(const char *ns, const char *sa, const char *uid)
{
    char name[600], nsgroup[300];
    const char *groups[] = {"system:serviceaccounts", nsgroup, NULL};
    struct api_user *u;

    snprintf(name, sizeof name, "system:serviceaccount:%s:%s", ns, sa);
    snprintf(nsgroup, sizeof nsgroup, "system:serviceaccounts:%s", ns);
    if (!(u = api_user_new(name, groups))) return NULL;
    if (!(u->uid = strdup(uid))) {
        api_user_free(u);
        return NULL;
    }
    return u;
}

int api_authn_sa_token(struct api_server *s, struct orc_httpd_req *r, struct api_user **out)
{
    size_t len = 0;
    const char *tok = bearer(r, &len), *why, *ns = NULL, *sa = NULL, *uid = NULL;
    EVP_PKEY *key;
    json_t *claims = NULL;
    char err[128];
    int rv = API_AUTHN_REFUSED;

    if (tok == NULL || !orc_jwt_shaped(tok, len)) return API_AUTHN_PASS;
    if ((key = api_sa_key(s)) == NULL)
        why = "the cluster has no signing key yet";
    else if (orc_jwt_verify(key, tok, len, &claims, err, sizeof err) != 0)
        why = err;
    else if (!(why = claims_wrong(s, claims)))
        why = objects_wrong(s, claims, &ns, &sa, &uid);
    if (why == NULL && (*out = user_of(ns, sa, uid)) != NULL) {
        log_debug("apiserver", "authenticated %s by a service account token", (*out)->name);
        rv = API_AUTHN_OK;
    } else {
        log_info("apiserver", "refused a service account token: %s", why ? why : "out of memory");
    }
    json_decref(claims);
    return rv;
}
