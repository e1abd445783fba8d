/* csrsigning.c — ctl_csrsigning: CertificateSigningRequests from the shared
 * informer -> keys (the request's name) -> reconcile: the cleaner's
 * deadline first (a delete), then csr_sign_decide: one status write (the
 * certificate, or a Failed condition). */
#include "controllers/csrsigning.h"

#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
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

struct csrsigning {
    struct ctl_base b;
    const struct orc_kind *k;
    informer *csrs;
};

static void on_csr(void *arg, const json_t *csr)
{
    struct csrsigning *c = arg;
    ctl_base_enqueue(&c->b, csr);
}

static void on_csr_update(void *arg, const json_t *old, const json_t *csr)
{
    (void)old;
    on_csr(arg, csr);
}

static void base_put(void *arg)
{
    ctl_base_put(arg);
}

static void deleted(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;
    if (!ctl_status_ok(status, 404, 409)) ctl_op_fail(&s->op, rest_message(status, body));
    ctl_step_put(s);
}

static void collect(struct csrsigning *c, const char *key, const json_t *csr)
{
    struct rest_delete_opts o = {.uid = orc_json_str(csr, "metadata.uid"), .grace_seconds = -1};
    struct ctl_step *s = ctl_step_new(c->b.q, key, NULL, base_put, &c->b);

    if (s == NULL) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    log_info("csrsigning", "removing CertificateSigningRequest %s: finished an hour ago or pending for a day", key);
    ctl_base_hold(&c->b);
    ctl_step_hold(s);
    if (rest_delete(c->b.ctx->api, c->k, NULL, key, &o, deleted, s) != 0) {
        ctl_op_fail(&s->op, "cannot send the delete");
        ctl_step_put(s);
    }
    ctl_step_put(s);
}

static void fail(struct csrsigning *c, const char *key, const json_t *csr, const char *why)
{
    json_t *conds = json_deep_copy(orc_json_get(csr, "status.conditions"));
    char now[ORC_TIME_LEN];

    orc_time_now(now);
    if (conds == NULL) conds = json_array();
    log_warn("csrsigning", "not signing CertificateSigningRequest %s: %s", key, why);
    if (conds == NULL
        || json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Failed", "status",
                                                  "True", "reason", "SignerValidationFailure", "message", why,
                                                  "lastUpdateTime", now, "lastTransitionTime", now))
               != 0) {
        json_decref(conds);
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    ctl_base_write_status(&c->b, c->k, key, csr, "status.conditions", conds);
}

static void sign(struct csrsigning *c, const char *key, const json_t *csr, char *pem, long secs)
{
    struct orc_buf b64 = ORC_BUF_INIT;
    struct orc_tls_identity who;
    char err[ORC_TLS_ERRLEN] = "", *cert = NULL;

    if (orc_tls_sign_csr(c->b.ctx->ca_pem, c->b.ctx->ca_key_pem, pem, secs, &cert, &who, err) != 0
        || orc_base64_encode(cert, strlen(cert), false, &b64) != 0) {
        fail(c, key, csr, err[0] ? err : "out of memory");
    } else {
        log_info("csrsigning", "signed CertificateSigningRequest %s for \"%s\" (%ld s)", key, who.cn, secs);
        ctl_base_write_status(&c->b, c->k, key, csr, "status.certificate", json_string(b64.data));
    }
    orc_buf_free(&b64);
    free(cert);
}

static void reconcile(void *arg, const char *key)
{
    struct csrsigning *c = arg;
    const json_t *csr;
    char why[300], *pem = NULL;
    int64_t due, now;
    long secs = 0;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if ((csr = informer_get(c->csrs, NULL, key)) == NULL) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    now = orc_clock_wall(c->b.ctx->clock) / 1000;
    due = csr_gc_time(csr);
    if (due >= 0 && due <= now) {
        collect(c, key, csr);
        return;
    }
    switch (csr_sign_decide(csr, (long)c->b.ctx->opts->node_cert_ttl_s, &pem, &secs, why, sizeof why)) {
    case CSR_SIGN: sign(c, key, csr, pem, secs); break;
    case CSR_FAIL: fail(c, key, csr, why); break;
    case CSR_WAIT: workqueue_done(c->b.q, key, due >= 0 ? (due - now) * 1000 + 1000 : WQ_DONE); break;
    }
    free(pem);
}

static int csrsigning_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "csrsigning",
                                              .component = "certificate-controller",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs cbs = {on_csr, on_csr_update, NULL, NULL};
    struct csrsigning *c;
    int rv;

    if (ctx->ca_pem == NULL || ctx->ca_key_pem == NULL) return 0; /* no CA key here: nothing to sign with */
    if ((c = calloc(1, sizeof *c)) == NULL) return ORC_ENOMEM;
    c->k = &orc_kind_table[ORC_K_CSR];
    const struct ctl_watch w[] = {{c->k, &cbs, &c->csrs}};
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_csrsigning = {"csrsigning", csrsigning_start, ctl_base_stop_state};
