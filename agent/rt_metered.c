/* rt_metered.c — the runtime wrapper that meters every operation (see
 * rt_metered.h). Asynchronous operations carry a small context to their
 * callback, which records the outcome before handing it on. */
#include "agent/rt_metered.h"

#include <stdlib.h>
#include <string.h>

#include "lib/metrics.h"
#include "lib/orc.h"

enum op { OP_PULL, OP_START, OP_STATUS, OP_STOP, OP_REMOVE, OP_REMOVE_POD, OP_LIST, OP_EXEC, OP__N };

static const char *const op_names[OP__N] = {
    [OP_PULL] = "pull_image",       [OP_START] = "start_container",
    [OP_STATUS] = "container_status", [OP_STOP] = "stop_container",
    [OP_REMOVE] = "remove_container", [OP_REMOVE_POD] = "remove_pod_sandbox",
    [OP_LIST] = "list_containers",  [OP_EXEC] = "exec_sync",
};

/* The kubelet's: exponential from 5 ms by 2.5, 14 buckets. */
static const double op_buckets[] = {0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125,
                                    3.0517578125, 7.62939453125, 19.073486328125, 47.6837158203125,
                                    119.20928955078125, 298.0232238769531, 745.0580596923828};
static const double pull_buckets[] = {0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 45, 60, 120, 180, 300, 600};

struct rt_metered {
    struct rt_handle inner;
    struct rt_ops ops;
    struct orc_series *total[OP__N], *errors[OP__N], *duration[OP__N];
    struct orc_series *pulls_ok, *pulls_failed, *pull_seconds;
    void (*close_cb)(void *arg);
    void *close_arg;
};

struct op_ctx {
    struct rt_metered *w;
    enum op op;
    uint64_t start;
    void *cb;
    void *arg;
};

static struct rt_metered *W(void *self) { return self; }

static void record(struct rt_metered *w, enum op op, uint64_t start, int err)
{
    double secs = (double)(uv_hrtime() - start) / 1e9;

    orc_series_inc(w->total[op]);
    orc_series_observe(w->duration[op], secs);
    if (err != 0) orc_series_inc(w->errors[op]);
    if (op == OP_PULL) {
        orc_series_inc(err ? w->pulls_failed : w->pulls_ok);
        if (err == 0) orc_series_observe(w->pull_seconds, secs);
    }
}

static struct op_ctx *ctx_new(struct rt_metered *w, enum op op, void *cb, void *arg)
{
    struct op_ctx *c = malloc(sizeof *c);
    if (c) *c = (struct op_ctx){w, op, uv_hrtime(), cb, arg};
    return c;
}

/* An operation refused at once: counted, and its callback never fires. */
static int refused(struct op_ctx *c, int rv)
{
    if (rv != 0) {
        record(c->w, c->op, c->start, rv);
        free(c);
    }
    return rv;
}

static const char *m_version(void *self) { return rth_version(&W(self)->inner); }

static void pull_done(void *arg, int err, const struct rt_image *img, const char *msg)
{
    struct op_ctx *c = arg;
    rt_pull_cb cb = (rt_pull_cb)c->cb;
    record(c->w, c->op, c->start, err);
    cb(c->arg, err, img, msg);
    free(c);
}

static int m_pull(void *self, const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
                  rt_pull_cb cb, void *arg)
{
    struct op_ctx *c = ctx_new(W(self), OP_PULL, (void *)cb, arg);
    if (c == NULL) return ORC_ENOMEM;
    return refused(c, rth_pull(&W(self)->inner, image, policy, auth, pull_done, c));
}

static void start_done(void *arg, int err, const char *msg)
{
    struct op_ctx *c = arg;
    rt_start_cb cb = (rt_start_cb)c->cb;
    record(c->w, c->op, c->start, err);
    cb(c->arg, err, msg);
    free(c);
}

static int m_start(void *self, const struct rt_spec *spec, rt_start_cb cb, void *arg)
{
    struct op_ctx *c = ctx_new(W(self), OP_START, (void *)cb, arg);
    if (c == NULL) return ORC_ENOMEM;
    return refused(c, rth_start(&W(self)->inner, spec, start_done, c));
}

static void stop_done(void *arg, int err)
{
    struct op_ctx *c = arg;
    rt_stop_cb cb = (rt_stop_cb)c->cb;
    record(c->w, c->op, c->start, err);
    if (cb) cb(c->arg, err);
    free(c);
}

static int m_stop(void *self, const char *id, unsigned grace_s, rt_stop_cb cb, void *arg)
{
    struct op_ctx *c = ctx_new(W(self), OP_STOP, (void *)cb, arg);
    if (c == NULL) return ORC_ENOMEM;
    return refused(c, rth_stop(&W(self)->inner, id, grace_s, stop_done, c));
}

static void exec_done(void *arg, int err, int code, const char *out, size_t out_len, const char *errout,
                      size_t err_len)
{
    struct op_ctx *c = arg;
    rt_exec_cb cb = (rt_exec_cb)c->cb;
    record(c->w, c->op, c->start, err);
    cb(c->arg, err, code, out, out_len, errout, err_len);
    free(c);
}

static int m_exec(void *self, const char *id, char *const *argv, unsigned timeout_ms, rt_exec_cb cb,
                  void *arg)
{
    struct op_ctx *c = ctx_new(W(self), OP_EXEC, (void *)cb, arg);
    if (c == NULL) return ORC_ENOMEM;
    return refused(c, rth_exec(&W(self)->inner, id, argv, timeout_ms, exec_done, c));
}

/* Synchronous operations: timed around the call. */
static int m_status(void *self, const char *id, struct rt_status *out)
{
    uint64_t t = uv_hrtime();
    int rv = rth_status(&W(self)->inner, id, out);
    record(W(self), OP_STATUS, t, rv == ORC_ENOENT ? 0 : rv); /* gone is an answer */
    return rv;
}

static int m_remove(void *self, const char *id)
{
    uint64_t t = uv_hrtime();
    int rv = rth_remove(&W(self)->inner, id);
    record(W(self), OP_REMOVE, t, rv);
    return rv;
}

static int m_remove_pod(void *self, const char *pod_uid)
{
    uint64_t t = uv_hrtime();
    int rv = rth_remove_pod(&W(self)->inner, pod_uid);
    record(W(self), OP_REMOVE_POD, t, rv);
    return rv;
}

static int m_list(void *self, char ***ids, size_t *n)
{
    uint64_t t = uv_hrtime();
    int rv = rth_list(&W(self)->inner, ids, n);
    record(W(self), OP_LIST, t, rv);
    return rv;
}

/* ---- passed through ---- */

static void m_on_exit(void *self, rt_exit_cb cb, void *arg) { rth_on_exit(&W(self)->inner, cb, arg); }

static int m_exec_stream(void *self, const char *id, const struct rt_stream_opts *o,
                         const struct rt_stream_cbs *cbs, void *arg, rt_stream **out)
{
    struct rt_handle *h = &W(self)->inner;
    return h->ops->exec_stream(h->self, id, o, cbs, arg, out);
}

static int m_stdin_path(void *self, const char *id, char *out, size_t n)
{
    struct rt_handle *h = &W(self)->inner;
    return h->ops->stdin_path(h->self, id, out, n);
}

static int m_resize_path(void *self, const char *id, char *out, size_t n)
{
    struct rt_handle *h = &W(self)->inner;
    return h->ops->resize_path(h->self, id, out, n);
}

static int m_log_open(void *self, const char *log_path, const struct rt_log_opts *o,
                      void (*on_data)(void *arg, const char *data, size_t len),
                      void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out)
{
    struct rt_handle *h = &W(self)->inner;
    return h->ops->log_open(h->self, log_path, o, on_data, on_end, arg, out);
}

static void m_log_cancel(void *self, rt_log_reader *lr)
{
    struct rt_handle *h = &W(self)->inner;
    h->ops->log_cancel(h->self, lr);
}

static void m_log_eof(void *self, const char *log_path)
{
    struct rt_handle *h = &W(self)->inner;
    h->ops->log_eof(h->self, log_path);
}

/* Usage reads are the scrape's own, not runtime operations: passed on
 * uncounted. */
static int m_stats(void *self, const char *pod_uid, const char *id, struct agent_cstats *out)
{
    struct rt_handle *h = &W(self)->inner;
    return h->ops->stats(h->self, pod_uid, id, out);
}

static void inner_closed(void *arg)
{
    struct rt_metered *w = arg;
    void (*cb)(void *) = w->close_cb;
    void *cb_arg = w->close_arg;

    free(w);
    if (cb) cb(cb_arg);
}

static void m_close(void *self, void (*cb)(void *arg), void *arg)
{
    struct rt_metered *w = self;
    w->close_cb = cb;
    w->close_arg = arg;
    w->inner.ops->close(w->inner.self, inner_closed, w);
}

/* ---- setup ---- */

static struct orc_metric *family(struct orc_metrics *m, const char *name, const char *help,
                                 enum orc_metric_type t, const char *const *labels, const double *b,
                                 size_t nb)
{
    struct orc_metric_opts o = {.name = name, .help = help, .type = t, .labels = labels, .buckets = b,
                                .n_buckets = nb};
    return orc_metric_register(m, &o);
}

static void series_init(struct rt_metered *w, struct orc_metrics *m)
{
    static const char *const op_label[] = {"operation_type", NULL};
    static const char *const result[] = {"result", NULL};
    struct orc_metric *total = family(m, "kubelet_runtime_operations_total",
                                      "Cumulative number of runtime operations by operation type.",
                                      ORC_METRIC_COUNTER, op_label, NULL, 0);
    struct orc_metric *errors = family(m, "kubelet_runtime_operations_errors_total",
                                       "Cumulative number of runtime operation errors by operation type.",
                                       ORC_METRIC_COUNTER, op_label, NULL, 0);
    struct orc_metric *dur = family(m, "kubelet_runtime_operations_duration_seconds",
                                    "Duration in seconds of runtime operations. Broken down by operation type.",
                                    ORC_METRIC_HISTOGRAM, op_label, op_buckets,
                                    sizeof op_buckets / sizeof *op_buckets);
    struct orc_metric *pulls = family(m, "orc_image_pulls_total",
                                      "Image pulls (made present, per pull policy) by result.",
                                      ORC_METRIC_COUNTER, result, NULL, 0);

    for (int i = 0; i < OP__N; i++) {
        w->total[i] = orc_metric_withv(total, op_names[i]);
        w->errors[i] = orc_metric_withv(errors, op_names[i]);
        w->duration[i] = orc_metric_withv(dur, op_names[i]);
    }
    w->pulls_ok = orc_metric_withv(pulls, "success");
    w->pulls_failed = orc_metric_withv(pulls, "error");
    w->pull_seconds = orc_metric_with(
        family(m, "orc_image_pull_duration_seconds",
               "Duration in seconds of successful image pulls (the image made present).",
               ORC_METRIC_HISTOGRAM, NULL, pull_buckets, sizeof pull_buckets / sizeof *pull_buckets),
        NULL);
}

int rt_metered_wrap(const struct rt_handle *inner, struct orc_metrics *m, struct rt_handle *out)
{
    struct rt_metered *w = calloc(1, sizeof *w);
    const struct rt_ops *in = inner->ops;

    if (w == NULL) return ORC_ENOMEM;
    w->inner = *inner;
    w->ops = (struct rt_ops){
        .version = m_version, .pull = m_pull, .start = m_start, .status = m_status,
        .on_exit = m_on_exit, .stop = m_stop, .remove = m_remove, .remove_pod = m_remove_pod,
        .list = m_list, .exec = m_exec,
        .exec_stream = in->exec_stream ? m_exec_stream : NULL,
        .stdin_path = in->stdin_path ? m_stdin_path : NULL,
        .resize_path = in->resize_path ? m_resize_path : NULL,
        .log_open = m_log_open, .log_cancel = m_log_cancel, .log_eof = m_log_eof, .close = m_close,
        .stats = in->stats ? m_stats : NULL,
    };
    series_init(w, m);
    *out = (struct rt_handle){&w->ops, w};
    return 0;
}
