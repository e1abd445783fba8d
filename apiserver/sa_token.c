/* sa_token.c — the TokenRequest API (POST serviceaccounts/NAME/token,
 * authentication.k8s.io/v1): a signed, expiring JWT for a ServiceAccount,
 * optionally bound to a Pod or Secret, with Kubernetes' claims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/rbac.h"
#include "apiserver/sa.h"
#include "lib/json.h"
#include "lib/jwt.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

#define MAX_EXPIRATION 4294967296LL /* 2^32 s, as Kubernetes caps it */

struct token_ask {
    json_t *audiences; /* array of strings */
    long long seconds;
    const char *bound_kind, *bound_name, *bound_uid;
};

static bool bad_audiences(const json_t *a)
{
    size_t i;
    json_t *v;

    if (a == NULL || json_is_null(a)) return false;
    if (!json_is_array(a) || json_array_size(a) > API_SA_MAX_AUDIENCES) return true;
    json_array_foreach (a, i, v)
        if (!json_is_string(v) || json_string_length(v) == 0) return true;
    return false;
}

/* 0, or answered 400/422 naming the field. */
static int read_spec(struct api_server *s, struct orc_httpd_req *r, const json_t *body,
                     struct token_ask *ask)
{
    const char *kind = orc_json_str(body, "kind");
    json_t *spec = json_object_get(body, "spec"), *exp, *aud;
    json_t *ref = spec ? json_object_get(spec, "boundObjectRef") : NULL;

    if (!json_is_object(body) || (kind && *kind && strcmp(kind, "TokenRequest") != 0)) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "the body of a token request must be an authentication.k8s.io/v1 "
                           "TokenRequest");
        return ORC_EINVAL;
    }
    exp = spec ? json_object_get(spec, "expirationSeconds") : NULL;
    aud = spec ? json_object_get(spec, "audiences") : NULL;
    ask->seconds = json_is_integer(exp) ? json_integer_value(exp) : API_SA_DEFAULT_EXPIRATION;
    const char *why = NULL, *field = NULL;
    if (exp && !json_is_null(exp) && !json_is_integer(exp))
        why = "must be a number of seconds", field = "spec.expirationSeconds";
    else if (ask->seconds < (long long)s->sa->min_expiration)
        why = "may not specify a duration less than 10 minutes", field = "spec.expirationSeconds";
    else if (ask->seconds > MAX_EXPIRATION)
        why = "may not specify a duration larger than 2^32 seconds",
        field = "spec.expirationSeconds";
    else if (bad_audiences(aud))
        why = "must be a list of non-empty audiences", field = "spec.audiences";
    else if (ref && !json_is_null(ref) && !json_is_object(ref))
        why = "must be an object", field = "spec.boundObjectRef";
    if (why) {
        json_t *causes = json_array();
        char val[32] = "";
        if (strcmp(field, "spec.expirationSeconds") == 0 && json_is_integer(exp))
            snprintf(val, sizeof val, "%lld: ", ask->seconds);
        api_cause_append(causes, "FieldValueInvalid", field, "Invalid value: %s%s", val, why);
        api_respond_status(r, 422, "Invalid", NULL, NULL, causes,
                           "TokenRequest.authentication.k8s.io is invalid: %s: Invalid value: "
                           "%s%s",
                           field, val, why);
        return ORC_EINVAL;
    }
    ask->audiences = json_array_size(aud) > 0 ? json_incref(aud) : json_array();
    for (size_t i = 0; json_array_size(aud) == 0 && i < s->sa->n_audiences; i++)
        json_array_append_new(ask->audiences, json_string(s->sa->audiences[i]));
    if (json_is_object(ref)) {
        ask->bound_kind = orc_json_str(ref, "kind");
        ask->bound_name = orc_json_str(ref, "name");
        ask->bound_uid = orc_json_str(ref, "uid");
    }
    return 0;
}

/* The bound Pod or Secret, checked against the ask; NULL when answered. */
static json_t *bound_object(struct api_server *s, struct orc_httpd_req *r, const char *ns,
                            const char *sa, const struct token_ask *ask)
{
    enum orc_kind_id id = ORC_K_POD;
    json_t *obj;

    if (ask->bound_kind && strcmp(ask->bound_kind, "Secret") == 0)
        id = ORC_K_SECRET;
    else if (!ask->bound_kind || strcmp(ask->bound_kind, "Pod") != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "cannot bind token to object of type %s",
                           ask->bound_kind ? ask->bound_kind : "(none)");
        return NULL;
    }
    if (!ask->bound_name || !*ask->bound_name) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "spec.boundObjectRef.name: Required value");
        return NULL;
    }
    if (!(obj = api_sa_local_get(s, id, ns, ask->bound_name))) {
        api_respond_not_found(r, orc_kind_table + id, ask->bound_name);
        return NULL;
    }
    const char *uid = orc_json_str(obj, "metadata.uid");
    const char *podsa = orc_json_str(obj, "spec.serviceAccountName");
    if (ask->bound_uid && *ask->bound_uid && (!uid || strcmp(uid, ask->bound_uid) != 0)) {
        api_respond_status(r, 409, "Conflict", NULL, NULL, NULL,
                           "the UID in the bound object reference (%s) does not match the UID in "
                           "record. The object might have been deleted and then recreated",
                           ask->bound_uid);
    } else if (id == ORC_K_POD && strcmp(podsa ? podsa : "default", sa) != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "cannot bind token for serviceaccount \"%s\" to pod running with "
                           "different serviceaccount name.",
                           sa);
    } else {
        return obj;
    }
    json_decref(obj);
    return NULL;
}

static json_t *claims_of(const char *ns, const json_t *sa, const char *bkind, const json_t *bound,
                         const json_t *audiences, long long iat, long long exp)
{
    char sub[600], jti[37];
    const char *name = orc_json_str(sa, "metadata.name");
    json_t *k8s, *c;

    orc_uuid(jti);
    snprintf(sub, sizeof sub, "system:serviceaccount:%s:%s", ns, name);
    k8s = json_pack("{s:s, s:{s:s, s:s}}", "namespace", ns, "serviceaccount", "name", name, "uid",
                    orc_json_str(sa, "metadata.uid") ? orc_json_str(sa, "metadata.uid") : "");
    if (k8s && bound)
        json_object_set_new(k8s, strcmp(bkind, "Secret") == 0 ? "secret" : "pod",
                            json_pack("{s:s, s:s}", "name", orc_json_str(bound, "metadata.name"),
                                      "uid", orc_json_str(bound, "metadata.uid")));
    c = json_pack("{s:O, s:I, s:I, s:s, s:s, s:o, s:I, s:s}", "aud", audiences, "exp",
                  (json_int_t)exp, "iat", (json_int_t)iat, "iss", API_SA_ISSUER, "jti", jti,
                  "kubernetes.io", k8s, "nbf", (json_int_t)iat, "sub", sub);
    return c;
}

static json_t *token_response(const char *ns, const char *name, const struct token_ask *ask,
                              const json_t *bound, const char *token, long long exp)
{
    char when[ORC_TIME_LEN];
    json_t *spec = json_pack("{s:O, s:I, s:n}", "audiences", ask->audiences, "expirationSeconds",
                             (json_int_t)ask->seconds, "boundObjectRef");

    orc_time_format(exp, when);
    if (spec && bound)
        json_object_set_new(spec, "boundObjectRef",
                            json_pack("{s:s, s:s, s:s, s:s}", "kind",
                                      ask->bound_kind ? ask->bound_kind : "Pod", "apiVersion", "v1",
                                      "name", orc_json_str(bound, "metadata.name"), "uid",
                                      orc_json_str(bound, "metadata.uid")));
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:n}, s:o, s:{s:s, s:s}}", "kind", "TokenRequest",
                     "apiVersion", "authentication.k8s.io/v1", "metadata", "name", name,
                     "namespace", ns, "creationTimestamp", "spec", spec, "status", "token", token,
                     "expirationTimestamp", when);
}

static void mint(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt,
                 const struct token_ask *ask, const json_t *sa, const json_t *bound)
{
    EVP_PKEY *key = api_sa_key(s);
    long long now = (long long)time(NULL), exp = now + ask->seconds;
    struct orc_buf tok = ORC_BUF_INIT;
    json_t *claims, *resp = NULL;

    if (key == NULL) {
        api_respond_error(r, ORC_EUNAVAIL, "the service account signing key (not made yet)");
        return;
    }
    claims = claims_of(rt->ns, sa, ask->bound_kind ? ask->bound_kind : "Pod", bound, ask->audiences,
                       now, exp);
    if (claims && orc_jwt_sign(key, claims, &tok) == 0)
        resp = token_response(rt->ns, rt->name, ask, bound, tok.data, exp);
    if (resp)
        api_respond_json(r, 201, resp);
    else
        api_respond_error(r, ORC_ENOMEM, "signing the token");
    if (tok.data) explicit_bzero(tok.data, tok.len);
    orc_buf_free(&tok);
    json_decref(claims);
    json_decref(resp);
}

/* NodeRestriction: a node's token is bound to a pod of its own (by uid),
 * so a node cannot mint a token that outlives its pods. True when
 * refused (answered). */
static bool node_refuses(struct orc_httpd_req *r, const struct api_route *rt, const struct token_ask *ask,
                         const json_t *bound)
{
    const char *node = api_node_of_user(api_req_user(r)), *on, *why = NULL;

    if (node == NULL) return false;
    on = bound ? orc_json_str(bound, "spec.nodeName") : NULL;
    if (bound == NULL || !ask->bound_kind || strcmp(ask->bound_kind, "Pod") != 0)
        why = "node requested token not bound to a pod";
    else if (!ask->bound_uid || !*ask->bound_uid)
        why = "node requested token with a pod binding without a uid";
    else if (on == NULL || strcmp(on, node) != 0)
        why = "node requested token bound to a pod scheduled on a different node";
    if (why == NULL) return false;
    api_respond_status(r, 403, "Forbidden", NULL, NULL, NULL, "serviceaccounts \"%s\" is forbidden: %s",
                       rt->name, why);
    return true;
}

void api_handle_token_request(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    struct token_ask ask = {0};
    json_t *body, *sa = NULL, *bound = NULL;

    if (r->method != HTTP_POST) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    if (!(body = api_parse_body(r))) return;
    if (read_spec(s, r, body, &ask) != 0) goto out;
    if (!(sa = api_sa_local_get(s, ORC_K_SERVICEACCOUNT, rt->ns, rt->name))) {
        api_respond_not_found(r, rt->kind, rt->name);
        goto out;
    }
    if (ask.bound_kind || ask.bound_name) {
        if (!(bound = bound_object(s, r, rt->ns, rt->name, &ask))) goto out;
    }
    if (node_refuses(r, rt, &ask, bound)) goto out;
    mint(s, r, rt, &ask, sa, bound);
out:
    json_decref(ask.audiences);
    json_decref(bound);
    json_decref(sa);
    json_decref(body);
}
