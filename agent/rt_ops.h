/* rt_ops.h — the container runtime as the agent reaches it: a table of the
 * runtime.h calls it makes and the state they act on, chosen at
 * agent_start (the real one: rt_open's runtime through rt_real_ops). A
 * test passes another table (tests/agent/fakert.h: containers as records)
 * to run the pod worker unprivileged on a fake clock.
 *
 * Every entry keeps the contract of the runtime.h call of the same name
 * (threading, ownership, errors, when callbacks fire); `self` is the
 * handle's state. list's arrays are freed with rt_free_list, so another
 * runtime allocates them the same way (malloc'd array of malloc'd strings). */
#ifndef ORC_AGENT_RT_OPS_H
#define ORC_AGENT_RT_OPS_H

#include "agent/runtime.h"
#include "lib/orc.h"

typedef void (*rt_start_cb)(void *arg, int err, const char *msg);
typedef void (*rt_exit_cb)(void *arg, const char *id);
typedef void (*rt_stop_cb)(void *arg, int err);

struct rt_ops {
    const char *(*version)(void *self);
    int (*pull)(void *self, const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
                rt_pull_cb cb, void *arg);
    int (*start)(void *self, const struct rt_spec *spec, rt_start_cb cb, void *arg);
    int (*status)(void *self, const char *id, struct rt_status *out);
    void (*on_exit)(void *self, rt_exit_cb cb, void *arg);
    int (*stop)(void *self, const char *id, unsigned grace_s, rt_stop_cb cb, void *arg);
    int (*remove)(void *self, const char *id);
    int (*remove_pod)(void *self, const char *pod_uid);
    int (*list)(void *self, char ***ids, size_t *n);
    int (*exec)(void *self, const char *id, char *const *argv, unsigned timeout_ms, rt_exec_cb cb,
                void *arg);
    /* NULL in a runtime without interactive commands. */
    int (*exec_stream)(void *self, const char *id, const struct rt_stream_opts *o,
                       const struct rt_stream_cbs *cbs, void *arg, rt_stream **out);
    /* NULL: no attach stdin. */
    int (*stdin_path)(void *self, const char *id, char *out, size_t n);
    /* NULL: no terminal to size. */
    int (*resize_path)(void *self, const char *id, char *out, size_t n);
    int (*log_open)(void *self, const char *log_path, const struct rt_log_opts *o,
                    void (*on_data)(void *arg, const char *data, size_t len),
                    void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out);
    void (*log_cancel)(void *self, rt_log_reader *lr);
    void (*log_eof)(void *self, const char *log_path);
    void (*close)(void *self, void (*cb)(void *arg), void *arg);
    /* NULL: no usage to report (the pods still listed, without readings). */
    int (*stats)(void *self, const char *pod_uid, const char *id, struct agent_cstats *out);
};

/* A runtime: its table and its state (borrowed: owned by whoever opened it). */
struct rt_handle {
    const struct rt_ops *ops;
    void *self;
};

/* runtime.h's rt_* calls; self is the rt * rt_open gave. */
extern const struct rt_ops rt_real_ops;

static inline struct rt_handle rt_handle_real(rt *r) { return (struct rt_handle){&rt_real_ops, r}; }

/* The calls through a handle, named as runtime.h's with rth_. */
static inline const char *rth_version(const struct rt_handle *h) { return h->ops->version(h->self); }
static inline int rth_pull(const struct rt_handle *h, const char *image, enum rt_pull_policy policy,
                           const struct rt_auth *auth, rt_pull_cb cb, void *arg)
{
    return h->ops->pull(h->self, image, policy, auth, cb, arg);
}
static inline int rth_start(const struct rt_handle *h, const struct rt_spec *spec, rt_start_cb cb, void *arg)
{
    return h->ops->start(h->self, spec, cb, arg);
}
static inline int rth_stats(const struct rt_handle *h, const char *pod_uid, const char *id,
                            struct agent_cstats *out)
{
    return h->ops->stats ? h->ops->stats(h->self, pod_uid, id, out) : ORC_EUNAVAIL;
}
static inline int rth_status(const struct rt_handle *h, const char *id, struct rt_status *out)
{
    return h->ops->status(h->self, id, out);
}
static inline void rth_on_exit(const struct rt_handle *h, rt_exit_cb cb, void *arg)
{
    h->ops->on_exit(h->self, cb, arg);
}
static inline int rth_stop(const struct rt_handle *h, const char *id, unsigned grace_s, rt_stop_cb cb, void *arg)
{
    return h->ops->stop(h->self, id, grace_s, cb, arg);
}
static inline int rth_remove(const struct rt_handle *h, const char *id) { return h->ops->remove(h->self, id); }
static inline int rth_remove_pod(const struct rt_handle *h, const char *pod_uid)
{
    return h->ops->remove_pod(h->self, pod_uid);
}
static inline int rth_list(const struct rt_handle *h, char ***ids, size_t *n) { return h->ops->list(h->self, ids, n); }
static inline int rth_exec(const struct rt_handle *h, const char *id, char *const *argv, unsigned timeout_ms,
                           rt_exec_cb cb, void *arg)
{
    return h->ops->exec(h->self, id, argv, timeout_ms, cb, arg);
}
static inline int rth_log_open(const struct rt_handle *h, const char *log_path, const struct rt_log_opts *o,
                               void (*on_data)(void *arg, const char *data, size_t len),
                               void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out)
{
    return h->ops->log_open(h->self, log_path, o, on_data, on_end, arg, out);
}
static inline void rth_log_cancel(const struct rt_handle *h, rt_log_reader *lr) { h->ops->log_cancel(h->self, lr); }
static inline void rth_log_eof(const struct rt_handle *h, const char *log_path) { h->ops->log_eof(h->self, log_path); }
static inline void rth_close(const struct rt_handle *h, void (*cb)(void *arg), void *arg)
{
    h->ops->close(h->self, cb, arg);
}

#endif
