/* csrapproving.c — ctl_csrapproving (see csrapproving.h): CSRs from the
 * shared informer -> keys -> reconcile: csr_is_self_node_client decides,
 * a SubjectAccessReview for the requestor asks RBAC, and a PUT to the
 * approval subresource adds Approved. */
#include "controllers/csrapproving.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/csrsigning.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/tls.h"

#define NOT_SYNCED_RETRY_MS 200
#define SAR_PATH "/apis/authorization.k8s.io/v1/subjectaccessreviews"
#define APPROVED_MSG "Auto approving self kubelet client certificate after SubjectAccessReview."

struct csrapproving {
    struct ctl_base b; /* first: the step's owner is the controller */
    const struct orc_kind *k;
    informer *csrs;
};

/* ---- the decision ---- */

static bool usages_fit(const json_t *csr)
{
    const json_t *v;
    bool sig = false, client = false;
    size_t i;

    json_array_foreach(orc_json_get(csr, "spec.usages"), i, v) {
        const char *u = json_string_value(v);
        if (u == NULL) return false;
        if (strcmp(u, "digital signature") == 0) sig = true;
        else if (strcmp(u, "client auth") == 0) client = true;
        else if (strcmp(u, "key encipherment") != 0) return false;
    }
    return sig && client;
}

bool csr_is_self_node_client(const json_t *csr)
{
    const char *signer = orc_json_str(csr, "spec.signerName"), *req = orc_json_str(csr, "spec.request");
    const char *user = orc_json_str(csr, "spec.username");
    struct orc_buf pem = ORC_BUF_INIT;
    struct orc_tls_csr_info info;
    bool ok;

    if (!signer || strcmp(signer, CSR_KUBELET_SIGNER) != 0 || !req || !user
        || strncmp(user, "system:node:", 12) != 0 || csr_has_condition(csr, "Approved")
        || csr_has_condition(csr, "Denied") || !usages_fit(csr))
        return false;
    ok = orc_base64_decode(req, strlen(req), false, &pem) == 0
         && orc_tls_csr_read(pem.data, pem.len, &info, NULL) == 0 && !info.has_sans
         && info.who.n_org == 1 && strcmp(info.who.orgs[0], "system:nodes") == 0
         && strcmp(info.who.cn, user) == 0;
    orc_buf_free(&pem);
    return ok;
}

/* ---- reconcile: review, then approve ---- */

static void base_put(void *arg)
{
    ctl_base_put(arg);
}

static void approved(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;
    /* 409: changed meanwhile; its update queues it again */
    if (!ctl_status_ok(status, 409, 404)) ctl_op_fail(&s->op, rest_message(status, body));
    else if (status < 300) log_info("csrapproving", "approved %s's client certificate request %s",
                                    orc_json_str(s->obj, "spec.username"), s->key);
    ctl_step_put(s);
}

static void approve(struct ctl_step *s)
{
    struct csrapproving *c = s->owner;
    json_t *obj = json_deep_copy(s->obj), *conds;
    char now[ORC_TIME_LEN], path[400];

    orc_time_now(now);
    if (obj && !json_is_array(orc_json_get(obj, "status.conditions")))
        orc_json_set(obj, "status.conditions", json_array());
    conds = obj ? orc_json_get(obj, "status.conditions") : NULL;
    if (conds == NULL
        || json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Approved", "status",
                                                  "True", "reason", "AutoApproved", "message", APPROVED_MSG,
                                                  "lastUpdateTime", now, "lastTransitionTime", now))
               != 0) {
        json_decref(obj);
        ctl_op_fail(&s->op, "out of memory");
        return;
    }
    snprintf(path, sizeof path, "/apis/certificates.k8s.io/v1/certificatesigningrequests/%s/approval", s->key);
    ctl_step_hold(s);
    if (rest_call(c->b.ctx->api, "PUT", path, NULL, obj, 0, approved, s) != 0) {
        ctl_op_fail(&s->op, "cannot send the approval");
        ctl_step_put(s);
    }
    json_decref(obj);
}

static void reviewed(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;

    if (status != 201 && status != 200) ctl_op_fail(&s->op, rest_message(status, body));
    else if (json_is_true(orc_json_get(body, "status.allowed"))) approve(s);
    /* not allowed: it waits for a person, as in Kubernetes */
    ctl_step_put(s);
}

static json_t *review_of(const json_t *csr)
{
    json_t *groups = orc_json_get(csr, "spec.groups");

    return json_pack("{s:s, s:s, s:{s:s?, s:s?, s:O?, s:{s:s, s:s, s:s, s:s, s:s}}}", "apiVersion",
                     "authorization.k8s.io/v1", "kind", "SubjectAccessReview", "spec", "user",
                     orc_json_str(csr, "spec.username"), "uid", orc_json_str(csr, "spec.uid"), "groups",
                     groups, "resourceAttributes", "group", "certificates.k8s.io", "version", "*",
                     "resource", "certificatesigningrequests", "subresource", "selfnodeclient", "verb",
                     "create");
}

static void reconcile(void *arg, const char *key)
{
    struct csrapproving *c = arg;
    const json_t *csr;
    struct ctl_step *s;
    json_t *sar;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    csr = informer_get(c->csrs, NULL, key);
    if (csr == NULL || !csr_is_self_node_client(csr)) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if ((sar = review_of(csr)) == NULL || (s = ctl_step_new(c->b.q, key, csr, base_put, &c->b)) == NULL) {
        json_decref(sar);
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    ctl_base_hold(&c->b);
    ctl_step_hold(s);
    if (rest_call(c->b.ctx->api, "POST", SAR_PATH, NULL, sar, 0, reviewed, s) != 0) {
        ctl_op_fail(&s->op, "cannot send the SubjectAccessReview");
        ctl_step_put(s);
    }
    json_decref(sar);
    ctl_step_put(s);
}

static void on_csr(void *arg, const json_t *csr)
{
    struct csrapproving *c = arg;
    ctl_base_enqueue(&c->b, csr);
}

static void on_csr_update(void *arg, const json_t *old, const json_t *csr)
{
    (void)old;
    on_csr(arg, csr);
}

static int csrapproving_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "csrapproving",
                                              .component = "certificate-controller",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs cbs = {on_csr, on_csr_update, NULL, NULL};
    struct csrapproving *c;
    int rv;

    if ((c = calloc(1, sizeof *c)) == NULL) return ORC_ENOMEM;
    c->k = &orc_kind_table[ORC_K_CSR];
    const struct ctl_watch w[] = {{c->k, &cbs, &c->csrs}};
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_csrapproving = {"csrapproving", csrapproving_start, ctl_base_stop_state};
