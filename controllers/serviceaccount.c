/* serviceaccount.c — ctl_serviceaccount: Namespaces and ServiceAccounts from
 * the shared informers -> keys (the namespace's name; a `default`
 * ServiceAccount's deletion queues its namespace) -> reconcile: create the
 * `default` ServiceAccount when the namespace has none. */
#include "controllers/serviceaccount.h"

#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"

#define NOT_SYNCED_RETRY_MS 200

struct sactl {
    struct ctl_base b;
    const struct orc_kind *ksa;
    informer *nss, *sas;
};

static void on_ns(void *arg, const json_t *ns)
{
    struct sactl *c = arg;
    ctl_base_enqueue(&c->b, ns);
}

static void on_ns_update(void *arg, const json_t *old, const json_t *ns)
{
    (void)old;
    on_ns(arg, ns);
}

static void on_sa_gone(void *arg, const json_t *sa)
{
    struct sactl *c = arg;
    const char *name = orc_json_str(sa, "metadata.name"),
               *ns = orc_json_str(sa, "metadata.namespace");

    if (!c->b.stopped && name && ns && strcmp(name, SA_DEFAULT) == 0) workqueue_add(c->b.q, ns);
}

static void written(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;
    /* 409: made meanwhile; 404/403: the namespace went away or is ending */
    if (!ctl_status_ok(status, 409, 404) && status != 403)
        ctl_op_fail(&s->op, rest_message(status, body));
    ctl_step_put(s);
}

static void base_put(void *arg)
{
    ctl_base_put(arg);
}

static void create_sa(struct sactl *c, const char *ns)
{
    json_t *want = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                             "ServiceAccount", "metadata", "name", SA_DEFAULT, "namespace", ns);
    struct ctl_step *s = want ? ctl_step_new(c->b.q, ns, NULL, base_put, &c->b) : NULL;
    int rv;

    if (s == NULL) {
        json_decref(want);
        workqueue_done(c->b.q, ns, WQ_RETRY);
        return;
    }
    ctl_base_hold(&c->b);
    ctl_step_hold(s);
    rv = rest_create(c->b.ctx->api, c->ksa, ns, want, written, s);
    if (rv != 0) {
        ctl_op_fail(&s->op, "cannot send the ServiceAccount");
        ctl_step_put(s);
    }
    ctl_step_put(s);
    json_decref(want);
}

static bool terminating(const json_t *ns)
{
    const char *phase = orc_json_str(ns, "status.phase");
    return orc_json_get(ns, "metadata.deletionTimestamp")
           || (phase && strcmp(phase, "Terminating") == 0);
}

static void reconcile(void *arg, const char *key)
{
    struct sactl *c = arg;
    const json_t *ns;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    ns = informer_get(c->nss, NULL, key);
    if (ns == NULL || terminating(ns) || informer_get(c->sas, key, SA_DEFAULT)) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    create_sa(c, key);
}

static int sactl_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "serviceaccount",
                                              .component = "service-account-controller",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs ns_cbs = {on_ns, on_ns_update, NULL, NULL};
    static const struct informer_cbs sa_cbs = {NULL, NULL, on_sa_gone, NULL};
    struct sactl *c;
    int rv;

    if ((c = calloc(1, sizeof *c)) == NULL) return ORC_ENOMEM;
    c->ksa = orc_kind_lookup("serviceaccounts");
    const struct ctl_watch w[] = {
        {orc_kind_lookup("namespaces"), &ns_cbs, &c->nss},
        {c->ksa, &sa_cbs, &c->sas},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_serviceaccount = {"serviceaccount", sactl_start,
                                                  ctl_base_stop_state};
