/* csr.c — CertificateSigningRequest's strategy and admission (see csr.h),
 * as Kubernetes' registry/certificates and its three certificate
 * admission plugins behave. */
#include "apiserver/csr.h"

#include <stdio.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/write.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/tls.h"

#define CSR_GROUP "certificates.k8s.io"

/* ---- create and update ---- */

void api_csr_set_requestor(json_t *obj, const struct api_user *u)
{
    json_t *spec = json_object_get(obj, "spec"), *groups;

    if (!json_is_object(spec)) return; /* validation refuses it */
    json_object_del(spec, "extra");
    json_object_del(spec, "uid");
    json_object_del(spec, "groups");
    json_object_set_new(spec, "username", json_string(u ? u->name : ""));
    if (u == NULL) return;
    if (u->uid) json_object_set_new(spec, "uid", json_string(u->uid));
    if ((groups = json_array()) == NULL) return;
    for (size_t i = 0; i < u->n_groups; i++) json_array_append_new(groups, json_string(u->groups[i]));
    json_object_set_new(spec, "groups", groups);
}

void api_prepare_update_csr(const json_t *cur, json_t *next)
{
    json_t *spec = json_object_get(cur, "spec");

    if (spec) json_object_set(next, "spec", spec);
    else json_object_del(next, "spec");
}

/* ---- conditions ---- */

static bool approval_type(const char *t)
{
    return t && (strcmp(t, "Approved") == 0 || strcmp(t, "Denied") == 0);
}

static const json_t *find_cond(const json_t *obj, const char *type)
{
    size_t i;
    json_t *c;

    json_array_foreach(orc_json_get(obj, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type");
        if (t && type && strcmp(t, type) == 0) return c;
    }
    return NULL;
}

/* The conditions of `keep_from` whose approval-ness is `approval`, then
 * those of `take_from` whose approval-ness is not. */
static json_t *merge_conds(const json_t *keep_from, bool approval, const json_t *take_from)
{
    json_t *out = json_array(), *c;
    size_t i;

    if (out == NULL) return NULL;
    json_array_foreach(orc_json_get(keep_from, "status.conditions"), i, c)
        if (approval_type(orc_json_str(c, "type")) == approval) json_array_append(out, c);
    json_array_foreach(orc_json_get(take_from, "status.conditions"), i, c)
        if (approval_type(orc_json_str(c, "type")) != approval) json_array_append_new(out, json_deep_copy(c));
    return out;
}

/* Kubernetes' populateConditionTimestamps: an update time always, a
 * transition time when the condition is new or changed status. */
static void stamp_conditions(json_t *next, const json_t *cur)
{
    char now[ORC_TIME_LEN];
    size_t i;
    json_t *c;

    orc_time_now(now);
    json_array_foreach(orc_json_get(next, "status.conditions"), i, c) {
        const json_t *was = find_cond(cur, orc_json_str(c, "type"));
        const char *ws = was ? orc_json_str(was, "status") : NULL, *s = orc_json_str(c, "status");
        if (!json_is_object(c)) continue;
        if (!json_object_get(c, "lastUpdateTime")) json_object_set_new(c, "lastUpdateTime", json_string(now));
        if (json_object_get(c, "lastTransitionTime")) continue;
        if (was && ws && s && strcmp(ws, s) == 0 && json_object_get(was, "lastTransitionTime"))
            json_object_set(c, "lastTransitionTime", json_object_get(was, "lastTransitionTime"));
        else json_object_set_new(c, "lastTransitionTime", json_string(now));
    }
}

static json_t *finish(struct write_op *op, const json_t *cur, json_t *next, json_t *conds)
{
    if (conds == NULL || orc_json_set(next, "status.conditions", conds) != 0) {
        json_decref(next);
        api_respond_error(op->r, ORC_ENOMEM, "updating the request");
        return NULL;
    }
    stamp_conditions(next, cur);
    if (write_admit(op, next, cur) != 0) {
        json_decref(next);
        return NULL;
    }
    return next;
}

json_t *api_csr_status(struct write_op *op, const json_t *cur, json_t *next)
{
    return finish(op, cur, next, merge_conds(cur, true, next));
}

json_t *mut_approval(struct write_op *op, const json_t *cur)
{
    json_t *src = op->input, *next, *conds;

    if (op->verb == W_APPROVAL_PATCH) {
        if ((src = write_apply_patch(op, cur)) == NULL) return NULL;
    } else if (!json_is_object(src)) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "the request body must be a JSON object");
        return NULL;
    } else if (write_check_rv(op, src, cur) != 0) {
        return NULL;
    }
    /* what the approval owns comes from the request, the rest stays */
    conds = merge_conds(cur, false, src);
    if (op->verb == W_APPROVAL_PATCH) json_decref(src);
    if ((next = json_deep_copy(cur)) == NULL) {
        json_decref(conds);
        api_respond_error(op->r, ORC_ENOMEM, "updating the request");
        return NULL;
    }
    return finish(op, cur, next, conds);
}

/* ---- admission ---- */

/* Kubernetes' IsAuthorizedForSignerName: the verb on resource "signers"
 * named for the signer, or for every signer of its domain ("example.com" then
 * a slash and a star). */
static bool may_for_signer(struct write_op *op, const char *verb, const char *signer)
{
    struct rbac_attrs a;
    const char *slash = strchr(signer, '/');

    memset(&a, 0, sizeof a);
    a.user = api_req_user(op->r);
    a.resource_request = true;
    snprintf(a.verb, sizeof a.verb, "%s", verb);
    snprintf(a.group, sizeof a.group, CSR_GROUP);
    snprintf(a.version, sizeof a.version, "*");
    snprintf(a.resource, sizeof a.resource, "signers");
    snprintf(a.name, sizeof a.name, "%s", signer);
    if (rbac_allowed(op->s, &a, NULL, 0)) return true;
    if (slash == NULL) return false;
    snprintf(a.name, sizeof a.name, "%.*s/*", (int)(slash - signer), signer);
    return rbac_allowed(op->s, &a, NULL, 0);
}

static int forbid(struct write_op *op, const json_t *obj, const char *fmt, const char *arg)
{
    const char *name = orc_json_str(obj, "metadata.name");
    char res[128], why[700];

    if (name == NULL) name = "";
    api_resource_name(op->k, res, sizeof res);
    snprintf(why, sizeof why, fmt, arg);
    api_respond_status(op->r, 403, "Forbidden", op->k, name, NULL, "%s \"%s\" is forbidden: %s", res,
                       name, why);
    return ORC_EPERM;
}

static bool same(const json_t *a, const json_t *b)
{
    return a == b || (a && b && json_equal(a, b));
}

static bool approval_changed(const json_t *obj, const json_t *old)
{
    static const char *const types[] = {"Approved", "Denied"};

    for (size_t i = 0; i < ORC_ARRAY_LEN(types); i++) {
        const json_t *a = find_cond(obj, types[i]), *b = find_cond(old, types[i]);
        if (!same(a, b)) return true;
    }
    return false;
}

/* Whether the request's subject names the group system:masters. */
static bool asks_masters(const json_t *obj)
{
    const char *req = orc_json_str(obj, "spec.request");
    struct orc_buf pem = ORC_BUF_INIT;
    struct orc_tls_csr_info info;
    bool masters = false;

    if (req && orc_base64_decode(req, strlen(req), false, &pem) == 0
        && orc_tls_csr_read(pem.data, pem.len, &info, NULL) == 0)
        for (int i = 0; i < info.who.n_org; i++) masters |= strcmp(info.who.orgs[i], "system:masters") == 0;
    orc_buf_free(&pem);
    return masters;
}

int api_csr_admit(struct write_op *op, const json_t *obj, const json_t *old)
{
    const char *signer = orc_json_str(obj, "spec.signerName");

    if (signer == NULL) return 0; /* validation refused it */
    if (old == NULL) {
        if (strcmp(signer, CSR_SIGNER_CLIENT) == 0 && asks_masters(obj))
            return forbid(op, obj, "use of %s signer with system:masters group is not allowed", CSR_SIGNER_CLIENT);
        return 0;
    }
    if ((op->verb == W_APPROVAL_UPDATE || op->verb == W_APPROVAL_PATCH) && approval_changed(obj, old)
        && !may_for_signer(op, "approve", signer))
        return forbid(op, obj, "user not permitted to approve requests with signerName \"%s\"", signer);
    if ((op->verb == W_STATUS_UPDATE || op->verb == W_STATUS_PATCH)
        && !same(orc_json_get(obj, "status.certificate"), orc_json_get(old, "status.certificate"))
        && !may_for_signer(op, "sign", signer))
        return forbid(op, obj, "user not permitted to sign requests with signerName \"%s\"", signer);
    return 0;
}
