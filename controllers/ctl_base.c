/* ctl_base.c — the start/stop/reference shape shared by the controllers
 * (ctl_base.h). */
#include "controllers/ctl_base.h"

#include "client/rest.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/buf.h"
#include "lib/orc.h"

static int watch(struct ctl_base *b, const struct ctl_watch *w)
{
    informer *inf;
    int rv;

    if (!w->kind) return ORC_EINVAL;
    if (b->n_watched == CTL_BASE_MAX_WATCH || !(inf = informer_set_get(b->ctx->informers, w->kind)))
        return ORC_ENOMEM;
    if (w->cbs && (rv = informer_add_handler(inf, w->cbs, b->self)) != 0) return rv;
    b->watched[b->n_watched++] = inf;
    if (w->out) *w->out = inf;
    return 0;
}

int ctl_base_start(struct ctl_base *b, struct ctl_ctx *ctx, void *self,
                   const struct ctl_base_config *cfg, const struct ctl_watch *w, size_t n)
{
    struct workqueue_config qc = {.name = cfg->name, .workers = cfg->workers};
    int rv;

    b->ctx = ctx;
    b->self = self;
    b->free_self = cfg->free_self;
    b->refs = 1;
    if ((rv = workqueue_new(ctx->clock, &qc, cfg->reconcile, self, &b->q)) != 0
        || (rv = events_new(ctx->api, ctx->clock, cfg->component, ctx->opts ? ctx->opts->host : NULL,
                            &b->rec)) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rv = watch(b, &w[i])) != 0) goto fail;
    return 0;
fail:
    ctl_base_stop(b);
    return rv;
}

void ctl_base_stop(struct ctl_base *b)
{
    if (!b) return;
    b->stopped = true;
    for (size_t i = 0; i < b->n_watched; i++) informer_remove_handlers(b->watched[i], b->self);
    workqueue_free(b->q);
    events_free(b->rec);
    b->rec = NULL;
    ctl_base_put(b);
}

void ctl_base_stop_state(void *state)
{
    ctl_base_stop(state);
}

void ctl_base_hold(struct ctl_base *b)
{
    b->refs++;
}

void ctl_base_put(struct ctl_base *b)
{
    if (--b->refs == 0 && b->free_self) b->free_self(b->self);
}

bool ctl_base_ready(struct ctl_base *b, const char *key, int64_t not_synced_ms)
{
    if (b->stopped) {
        workqueue_done(b->q, key, WQ_DONE);
        return false;
    }
    for (size_t i = 0; i < b->n_watched; i++) {
        if (!informer_synced(b->watched[i])) {
            workqueue_done(b->q, key, not_synced_ms);
            return false;
        }
    }
    return true;
}

void ctl_base_enqueue(struct ctl_base *b, const json_t *obj)
{
    struct orc_buf key = ORC_BUF_INIT;
    if (!b->stopped && ctl_key_of(obj, &key) == 0) workqueue_add(b->q, key.data);
    orc_buf_free(&key);
}

static void status_written(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;
    if (!ctl_status_ok(status, 409, 404)) ctl_op_fail(&s->op, rest_message(status, body));
    ctl_step_put(s);
}

static void base_put(void *arg)
{
    ctl_base_put(arg);
}

void ctl_base_write_status(struct ctl_base *b, const struct orc_kind *k, const char *key,
                           const json_t *cached, const char *field, json_t *value)
{
    json_t *obj = json_deep_copy(cached);
    struct ctl_step *s = NULL;

    if (!obj) json_decref(value);
    if (!obj || orc_json_set(obj, field, value) != 0 || !(s = ctl_step_new(b->q, key, cached, base_put, b))) {
        json_decref(obj);
        workqueue_done(b->q, key, WQ_RETRY);
        return;
    }
    ctl_base_hold(b);
    ctl_step_hold(s);
    if (rest_update_status(b->ctx->api, k, obj, status_written, s) != 0) {
        ctl_op_fail(&s->op, "cannot send the status");
        ctl_step_put(s);
    }
    json_decref(obj);
    ctl_step_put(s);
}
