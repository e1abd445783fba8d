/* rt_ops.c — the real runtime (agent/rt*.c) as an rt_ops table: each entry
 * passes its call on to the runtime.h function of the same name. */
#include "agent/rt_ops.h"

static const char *real_version(void *self) { return rt_version(self); }

static int real_pull(void *self, const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
                     rt_pull_cb cb, void *arg)
{
    return rt_pull(self, image, policy, auth, cb, arg);
}

static int real_start(void *self, const struct rt_spec *spec, rt_start_cb cb, void *arg)
{
    return rt_start(self, spec, cb, arg);
}

static int real_status(void *self, const char *id, struct rt_status *out) { return rt_status(self, id, out); }
static void real_on_exit(void *self, rt_exit_cb cb, void *arg) { rt_on_exit(self, cb, arg); }

static int real_stop(void *self, const char *id, unsigned grace_s, rt_stop_cb cb, void *arg)
{
    return rt_stop(self, id, grace_s, cb, arg);
}

static int real_remove(void *self, const char *id) { return rt_remove(self, id); }
static int real_remove_pod(void *self, const char *pod_uid) { return rt_remove_pod(self, pod_uid); }
static int real_list(void *self, char ***ids, size_t *n) { return rt_list(self, ids, n); }

static int real_exec(void *self, const char *id, char *const *argv, unsigned timeout_ms, rt_exec_cb cb,
                     void *arg)
{
    return rt_exec(self, id, argv, timeout_ms, cb, arg);
}

static int real_exec_stream(void *self, const char *id, const struct rt_stream_opts *o,
                            const struct rt_stream_cbs *cbs, void *arg, rt_stream **out)
{
    return rt_stream_start(self, id, o, cbs, arg, out);
}

static int real_stdin_path(void *self, const char *id, char *out, size_t n)
{
    return rt_stdin_path(self, id, out, n);
}

static int real_resize_path(void *self, const char *id, char *out, size_t n)
{
    return rt_resize_path(self, id, out, n);
}

static int real_log_open(void *self, const char *log_path, const struct rt_log_opts *o,
                         void (*on_data)(void *arg, const char *data, size_t len),
                         void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out)
{
    return rt_log_open(self, log_path, o, on_data, on_end, arg, out);
}

static void real_log_cancel(void *self, rt_log_reader *lr)
{
    (void)self;
    rt_log_cancel(lr);
}

static void real_log_eof(void *self, const char *log_path) { rt_log_eof(self, log_path); }
static void real_close(void *self, void (*cb)(void *arg), void *arg) { rt_close(self, cb, arg); }

static int real_stats(void *self, const char *pod_uid, const char *id, struct agent_cstats *out)
{
    return rt_stats(self, pod_uid, id, out);
}

const struct rt_ops rt_real_ops = {
    .stats = real_stats,
    .version = real_version,
    .pull = real_pull,
    .start = real_start,
    .status = real_status,
    .on_exit = real_on_exit,
    .stop = real_stop,
    .remove = real_remove,
    .remove_pod = real_remove_pod,
    .list = real_list,
    .exec = real_exec,
    .exec_stream = real_exec_stream,
    .stdin_path = real_stdin_path,
    .resize_path = real_resize_path,
    .log_open = real_log_open,
    .log_cancel = real_log_cancel,
    .log_eof = real_log_eof,
    .close = real_close,
};
