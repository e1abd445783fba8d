/* rt_start.c — rt_start: the container's directory, config.json and
 * overlay root are made on a worker thread, then the shim is started and
 * its one-line report ("ok PID NS" or "error MESSAGE") read; a failed start
 * is undone completely. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"

#define SHIM_REPORT_WAIT_MS (5u * 60 * 1000)

struct start_op {
    rt *r;
    struct rt_ctr *c;
    struct rt_spec spec;       /* deep copy */
    struct rt_mount *mounts;
    json_t *image_config;
    char lower[RT_PATH];
    char cgroup[RT_PATH];
    bool mounted;
    uv_work_t work;
    int err;
    char msg[RT_ERRLEN];
    struct rt_proc *proc;
    int64_t t_call, t_prep0, t_prep1, t_shim; /* for the debug log: where a start's time goes */
    void (*cb)(void *arg, int err, const char *msg);
    void *arg;
};

static char **copy_strv(char *const *v)
{
    size_t n = 0;
    char **out;

    while (v && v[n]) n++;
    if ((out = calloc(n + 1, sizeof *out)) == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((out[i] = strdup(v[i])) == NULL) {
            for (size_t j = 0; j < i; j++) free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

static char *dup_or_null(const char *s, bool *fail)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d) *fail = true;
    return d;
}

static void free_op(struct start_op *op)
{
    struct rt_spec *s = &op->spec;

    free((char *)s->id);
    free((char *)s->pod_uid);
    free_strv((char **)s->argv);
    free_strv((char **)s->env);
    free((char *)s->cwd);
    free((char *)s->netns_path);
    free((char *)s->hostname);
    free((char *)s->log_path);
    for (size_t i = 0; i < s->n_mounts; i++) {
        free((char *)op->mounts[i].source);
        free((char *)op->mounts[i].destination);
    }
    free(op->mounts);
    json_decref(op->image_config);
    free(op);
}

static int copy_spec(struct start_op *op, const struct rt_spec *in)
{
    struct rt_spec *s = &op->spec;
    bool fail = false;

    *s = *in;
    s->image = NULL;
    s->id = dup_or_null(in->id, &fail);
    s->pod_uid = dup_or_null(in->pod_uid, &fail);
    s->cwd = dup_or_null(in->cwd, &fail);
    s->netns_path = dup_or_null(in->netns_path, &fail);
    s->hostname = dup_or_null(in->hostname, &fail);
    s->log_path = dup_or_null(in->log_path, &fail);
    s->argv = copy_strv(in->argv);
    s->env = copy_strv(in->env);
    s->n_mounts = 0;
    op->mounts = calloc(in->n_mounts + 1, sizeof *op->mounts);
    if (fail || !s->argv || !s->env || !op->mounts) return ORC_ENOMEM;
    for (size_t i = 0; i < in->n_mounts; i++) {
        op->mounts[i].source = dup_or_null(in->mounts[i].source, &fail);
        op->mounts[i].destination = dup_or_null(in->mounts[i].destination, &fail);
        op->mounts[i].readonly = in->mounts[i].readonly;
        s->n_mounts++;
    }
    s->mounts = op->mounts;
    return fail ? ORC_ENOMEM : 0;
}

static int write_meta(struct start_op *op)
{
    char path[RT_PATH];
    json_t *m;
    int rv;

    m = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", op->spec.id, "podUid", op->spec.pod_uid,
                  "logPath", op->spec.log_path, "cgroup", op->cgroup, "createdNs", (json_int_t)rt_now_ns());
    if (m == NULL) return ORC_ENOMEM;
    rv = rt_path(path, "%s/meta.json", op->c->dir) ? ORC_EINVAL : rt_write_json(path, m);
    json_decref(m);
    return rv;
}

static int mount_root(struct start_op *op)
{
    char opts[RT_PATH * 3 + 64], root[RT_PATH];
    const char *d = op->c->dir;

    if (snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", op->lower, d, d)
            >= (int)sizeof opts
        || rt_path(root, "%s/rootfs", d) != 0)
        return orc_errf(op->msg, RT_ERRLEN, ORC_EINVAL, "paths too long for an overlay mount");
    if (mount("overlay", root, "overlay", 0, opts) != 0)
        return orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "mounting the root filesystem: %s", strerror(errno));
    op->mounted = true;
    return 0;
}

/* rt_start refuses an id it knows, so a directory already there is what a
 * failed run of the same id left (an unmount that lagged its removal):
 * cleared, or every retry failed the same way and the pod stayed in
 * CreateContainerError. */
static int make_ctr_dir(struct start_op *op)
{
    char root[RT_PATH];

    if (mkdir(op->c->dir, 0700) == 0) return 0;
    if (errno == EEXIST) {
        if (rt_path(root, "%s/rootfs", op->c->dir) == 0) umount2(root, MNT_DETACH);
        rt_rm_rf(op->c->dir);
        if (mkdir(op->c->dir, 0700) == 0) return 0;
    }
    return orc_errf(op->msg, RT_ERRLEN, errno == EEXIST ? ORC_EEXIST : ORC_EIO, "creating %s: %s",
                    op->c->dir, strerror(errno));
}

static int make_dirs(struct start_op *op)
{
    const char *sub[] = {"upper", "work", "rootfs"};
    char path[RT_PATH], logdir[RT_PATH];
    char *slash;
    int rv;

    if ((rv = make_ctr_dir(op)) != 0) return rv;
    for (size_t i = 0; i < ORC_ARRAY_LEN(sub); i++) {
        if (rt_path(path, "%s/%s", op->c->dir, sub[i]) != 0 || mkdir(path, 0755) != 0)
            return orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "creating %s: %s", path, strerror(errno));
    }
    snprintf(logdir, sizeof logdir, "%s", op->spec.log_path);
    if ((slash = strrchr(logdir, '/')) != NULL && slash != logdir) {
        *slash = '\0';
        if (orc_mkdirs(logdir, 0755) != 0 && access(logdir, W_OK) != 0)
            return orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "log directory %s: %s", logdir, strerror(errno));
    }
    return 0;
}

static void prepare_work(uv_work_t *w)
{
    struct start_op *op = w->data;
    struct rt_spec_in in = {&op->spec, op->image_config, op->lower, op->cgroup};
    char path[RT_PATH];
    json_t *spec = NULL;

    op->t_prep0 = rt_now_ns();
    if (access(op->lower, F_OK) != 0) {
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_ENOENT, "image root filesystem %s is missing: pull it again",
                           op->lower);
        return;
    }
    if ((op->err = make_dirs(op)) != 0) return;
    if ((op->err = rt_spec_build(&in, &spec, op->msg, RT_ERRLEN)) != 0) return;
    op->err = rt_path(path, "%s/config.json", op->c->dir) ? ORC_EINVAL : rt_write_json(path, spec);
    json_decref(spec);
    if (op->err == 0) op->err = write_meta(op);
    if (op->err != 0 && !op->msg[0]) orc_errf(op->msg, RT_ERRLEN, op->err, "writing %s", path);
    if (op->err == 0) op->err = mount_root(op);
    op->t_prep1 = rt_now_ns();
}

/* Undoes a start that failed: mount, directory, cgroup. */
static void cleanup_work(uv_work_t *w)
{
    struct start_op *op = w->data;
    char root[RT_PATH];

    if (rt_path(root, "%s/rootfs", op->c->dir) == 0) umount2(root, MNT_DETACH);
    if (op->err != ORC_EEXIST) rt_rm_rf(op->c->dir);
    rt_cg_rmdir(&op->r->cg, op->cgroup);
}

static void finish_failed(uv_work_t *w, int status)
{
    struct start_op *op = w->data;
    rt *r = op->r;

    (void)status;
    rt_ctr_free(r, op->c);
    op->cb(op->arg, op->err, op->msg);
    free_op(op);
    rt_unref(r);
}

static void fail_start(struct start_op *op)
{
    op->c->starting = false;
    rt_watch_stop(op->r, op->c);
    op->work.data = op;
    if (rt_queue_work(op->r, &op->work, cleanup_work, finish_failed) != 0) {
        rt_ref_hold(op->r);
        finish_failed(&op->work, 0);
    }
}

static void on_deleted(void *arg, const struct rt_proc_res *res)
{
    (void)res;
    fail_start(arg);
}

static void delete_then_fail(struct start_op *op)
{
    char root[RT_PATH];
    char *argv[] = {op->r->runtime, root, "delete", "--force", (char *)op->spec.id, NULL};
    struct rt_proc_opts o = {.argv = argv, .timeout_ms = 30000, .max_capture = 1024};

    if (rt_path(root, "--root=%s", op->r->dir_runc) != 0 || rt_proc_start(op->r, &o, on_deleted, op, NULL) != 0)
        fail_start(op);
}

/* "ok PID NS" or "error MESSAGE" from the shim. */
static void on_shim(void *arg, const struct rt_proc_res *res)
{
    struct start_op *op = arg;
    struct rt_ctr *c = op->c;
    long long started = 0;
    int pid = 0;

    op->proc = NULL;
    if (res->out_len > 3 && sscanf(res->out, "ok %d %lld", &pid, &started) == 2) {
        log_debug(RT_LOG, "started %s: queued %.1f ms, prepared %.1f ms, shim %.1f ms", c->id,
                  (op->t_prep0 - op->t_call) / 1e6, (op->t_prep1 - op->t_prep0) / 1e6,
                  (rt_now_ns() - op->t_shim) / 1e6);
        c->starting = false;
        c->state = RT_RUNNING;
        c->disk.pid = pid;
        c->disk.started_ns = started;
        op->cb(op->arg, res->canceled ? ORC_ECANCELED : 0, res->canceled ? "runtime closing" : "");
        rt_watch_started(op->r, c);
        free_op(op);
        return;
    }
    if (strncmp(res->out, "error ", 6) == 0) {
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_EINVAL, "%.*s", (int)strcspn(res->out + 6, "\n"), res->out + 6);
    } else if (res->spawn_err) {
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "starting the shim %s: %s",
                           op->r->shim_path ? op->r->shim_path : op->r->orcd_path,
                           uv_strerror(res->spawn_err));
    } else {
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "the shim ended without reporting (status %lld%s%.*s)",
                           (long long)res->status, res->err_len ? ": " : "",
                           (int)strcspn(res->err, "\n"), res->err);
        delete_then_fail(op); /* it may have died after starting the container */
        return;
    }
    fail_start(op);
}

static void start_shim(struct start_op *op)
{
    char maxb[32], maxf[16];
    char *argv[] = {op->r->orcd_path, "shim", "--id", (char *)op->spec.id, "--dir", op->c->dir,
                    "--runtime", op->r->runtime, "--root", op->r->dir_runc, "--log",
                    (char *)op->spec.log_path, "--cgroup", op->cgroup, "--log-max-bytes", maxb,
                    "--log-max-files", maxf, "--stdin", op->spec.stdin ? "1" : "0", "--stdin-once",
                    op->spec.stdin_once ? "1" : "0", "--tty", op->spec.tty ? "1" : "0", NULL};
    /* orc-shim takes the same arguments without the "shim" word */
    struct rt_proc_opts o = {.argv = op->r->shim_path ? argv + 1 : argv, .max_capture = 4096,
                             .detached = true, .eof_wait_ms = SHIM_REPORT_WAIT_MS};
    int rv;

    snprintf(maxb, sizeof maxb, "%zu", op->r->log_max_bytes);
    snprintf(maxf, sizeof maxf, "%u", op->r->log_max_files);
    rt_watch_start(op->r, op->c); /* before the shim: a quick exit must not be missed */
    op->t_shim = rt_now_ns();
    if (op->r->shim_path) argv[1] = op->r->shim_path;
    if ((rv = rt_proc_start(op->r, &o, on_shim, op, &op->proc)) != 0) {
        op->err = orc_errf(op->msg, RT_ERRLEN, rv, "starting the shim: %s", orc_strerror(rv));
        fail_start(op);
    }
}

static void after_prepare(uv_work_t *w, int status)
{
    struct start_op *op = w->data;
    rt *r = op->r;

    (void)status;
    if (op->err == 0 && r->closing)
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_ECANCELED, "runtime closing");
    if (op->err != 0) fail_start(op);
    else start_shim(op);
    rt_unref(r);
}

static int check_spec(const struct rt_spec *s)
{
    if (!rt_name_ok(s->id) || !rt_name_ok(s->pod_uid) || s->image == NULL || s->image->digest == NULL
        || s->argv == NULL || s->argv[0] == NULL || s->log_path == NULL || s->log_path[0] != '/')
        return ORC_EINVAL;
    return 0;
}

int rt_start(rt *r, const struct rt_spec *spec, void (*cb)(void *arg, int err, const char *msg), void *arg)
{
    struct start_op *op;
    int rv;

    if (r->closing) return ORC_ESHUTDOWN;
    if ((rv = check_spec(spec)) != 0) return rv;
    if (rt_ctr_find(r, spec->id)) return ORC_EEXIST;
    if ((op = calloc(1, sizeof *op)) == NULL) return ORC_ENOMEM;
    op->r = r;
    op->t_call = rt_now_ns();
    op->cb = cb;
    op->arg = arg;
    op->image_config = spec->image->config ? json_incref(spec->image->config) : json_object();
    if (copy_spec(op, spec) != 0 || op->image_config == NULL
        || rt_image_rootfs(r, spec->image->digest, op->lower) != 0
        || (op->c = rt_ctr_add(r, spec->id, spec->pod_uid, spec->log_path)) == NULL) {
        free_op(op);
        return ORC_ENOMEM;
    }
    rt_cgroup_path(r, spec->pod_uid, spec->id, op->cgroup);
    op->c->starting = true;
    op->work.data = op;
    if ((rv = rt_queue_work(r, &op->work, prepare_work, after_prepare)) != 0) {
        rt_ctr_free(r, op->c);
        free_op(op);
    }
    return rv;
}
