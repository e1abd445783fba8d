/* rt_image.c — rt_pull: pull policy, one pull per reference however many
 * pods wait for it, skopeo tried against each endpoint registries.yaml
 * gives (mirrors first), its errors turned into ORC_E* codes and a short
 * message, then the tag committed and the image unpacked once (umoci). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/orc.h"

#define PULL_TIMEOUT_MS (30u * 60 * 1000)
#define UNPACK_TIMEOUT_MS (30u * 60 * 1000)
#define CAPTURE 16384

extern char **environ;

struct waiter {
    rt_pull_cb cb;
    void *arg;
    struct waiter *next;
};

struct rt_pull_op {
    rt *r;
    struct rt_ref ref;
    enum rt_pull_policy policy;
    char *user, *pass;          /* imagePullSecrets credentials, wiped on free */
    struct rt_endpoint *eps;
    size_t n_eps, cur;
    char layout[RT_PATH];       /* the one-image layout skopeo writes */
    char authfile[RT_PATH];
    char unpack_tmp[RT_PATH];
    char *digest;
    json_t *config;
    bool unpacked;
    struct rt_proc *proc;
    uv_work_t work;
    int err;
    char msg[RT_ERRLEN];
    int best_err;               /* the most telling error across endpoints */
    char best_msg[RT_ERRLEN];
    struct waiter *waiters;
    struct rt_pull_op *next;
    bool listed;
};

static void start_attempt(struct rt_pull_op *op);
static void start_unpack(struct rt_pull_op *op);

/* ---- completion ---- */

static void unlist(struct rt_pull_op *op)
{
    if (!op->listed) return;
    for (struct rt_pull_op **pp = &op->r->pulls; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
    op->listed = false;
}

static void wipe(char *s)
{
    if (s) memset(s, 0, strlen(s));
    free(s);
}

static void free_op(struct rt_pull_op *op)
{
    while (op->waiters) {
        struct waiter *w = op->waiters;
        op->waiters = w->next;
        free(w);
    }
    wipe(op->user);
    wipe(op->pass);
    free(op->eps);
    free(op->digest);
    json_decref(op->config);
    free(op);
}

static struct rt_img *find_img(rt *r, const char *ref)
{
    for (struct rt_img *i = r->images; i; i = i->next)
        if (strcmp(i->ref, ref) == 0) return i;
    return NULL;
}

/* Records what the pull learned in the image table. */
static struct rt_img *remember(struct rt_pull_op *op)
{
    struct rt_img *i = find_img(op->r, op->ref.full);

    if (i == NULL) {
        if ((i = calloc(1, sizeof *i)) == NULL || (i->ref = strdup(op->ref.full)) == NULL) {
            free(i);
            return NULL;
        }
        i->next = op->r->images;
        op->r->images = i;
    }
    if (op->digest && (!i->digest || strcmp(i->digest, op->digest) != 0)) {
        char *d = strdup(op->digest);
        if (d == NULL) return NULL;
        free(i->digest);
        i->digest = d;
        json_decref(i->config);
        i->config = NULL;
    }
    if (op->config && i->config != op->config) {
        json_decref(i->config);
        i->config = json_incref(op->config);
    }
    i->unpacked = op->unpacked;
    return i;
}

static void complete(struct rt_pull_op *op)
{
    struct rt_image img = {0};
    struct rt_img *i = NULL;

    unlist(op);
    if (op->layout[0] && op->err != 0) rt_trash(op->r, op->layout, "pull");
    if (op->err == 0 && op->r->closing) op->err = orc_errf(op->msg, RT_ERRLEN, ORC_ECANCELED, "runtime closing");
    if (op->err == 0 && (i = remember(op)) == NULL) op->err = orc_errf(op->msg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
    if (i) {
        img.ref = i->ref;
        img.digest = i->digest;
        img.config = i->config;
    }
    for (struct waiter *w = op->waiters; w; w = w->next)
        w->cb(w->arg, op->err, op->err ? NULL : &img, op->err ? op->msg : "");
    free_op(op);
}

static void complete_later(void *arg) { complete(arg); }

static void fail(struct rt_pull_op *op, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct rt_pull_op *op, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(op->msg, sizeof op->msg, fmt, ap);
    va_end(ap);
    op->err = err;
    complete(op);
}

/* ---- skopeo's errors ---- */

static bool has(const char *s, const char *word) { return strstr(s, word) != NULL; }

/* Connection trouble first: a host:port in the message may hold "404". */
static int classify(const char *e)
{
    if (has(e, "connection refused") || has(e, "no such host") || has(e, "unreachable")
        || has(e, "timeout") || has(e, "no route to host") || has(e, "dial tcp")
        || has(e, "x509") || has(e, "certificate") || has(e, "HTTP response to HTTPS")
        || has(e, "connection reset") || has(e, "EOF") || has(e, "TLS handshake"))
        return ORC_EUNAVAIL;
    if (has(e, "unauthorized") || has(e, "authentication required") || has(e, "denied")
        || has(e, "forbidden") || has(e, "(Unauthorized)") || has(e, "(Forbidden)")
        || has(e, "401 Unauthorized") || has(e, "403 Forbidden"))
        return ORC_EPERM;
    if (has(e, "manifest unknown") || has(e, "name unknown") || has(e, "not found")
        || has(e, "(Not Found)") || has(e, "404 Not Found") || has(e, "NAME_UNKNOWN")
        || has(e, "MANIFEST_UNKNOWN"))
        return ORC_ENOENT;
    if (has(e, "invalid reference") || has(e, "Invalid image name")) return ORC_EINVAL;
    return ORC_EIO;
}

/* The fatal line's msg="..." without skopeo's "initializing source
 * docker://...: " preamble and the registry's repeated last words. */
static void short_message(const char *stderr_text, char *out, size_t n)
{
    const char *m = strstr(stderr_text, "msg=\""), *p;
    size_t len = 0;
    char buf[RT_ERRLEN * 2];

    if (m == NULL) {
        snprintf(buf, sizeof buf, "%s", stderr_text);
    } else {
        m += 5;
        for (p = m; *p && !(*p == '"' && p[-1] != '\\') && len + 1 < sizeof buf; p++)
            if (*p != '\\' || p[1] != '"') buf[len++] = *p;
        buf[len] = '\0';
    }
    p = buf;
    if (strncmp(p, "initializing source ", 20) == 0 && (m = strstr(p, ": ")) != NULL) p = m + 2;
    len = strcspn(p, "\n");
    /* "manifest unknown: manifest unknown" -> "manifest unknown" */
    for (size_t half = len / 2; half > 0; half--) {
        if (len >= 2 * half + 2 && memcmp(p + len - half, p + len - 2 * half - 2, half) == 0
            && memcmp(p + len - half - 2, ": ", 2) == 0) {
            len -= half + 2;
            break;
        }
    }
    snprintf(out, n, "%.*s", (int)len, p);
}

/* ENOENT and EPERM say more than "unreachable": a mirror that has no copy
 * should not hide that the registry refused us, and the reverse. */
static void note_error(struct rt_pull_op *op, int err, const char *msg)
{
    if (op->best_err == 0 || op->best_err == ORC_EUNAVAIL || op->best_err == ORC_EIO) {
        op->best_err = err;
        snprintf(op->best_msg, sizeof op->best_msg, "%.*s", (int)sizeof op->best_msg - 1, msg);
    }
}

/* ---- the pull ---- */

static int write_authfile(struct rt_pull_op *op, const struct rt_endpoint *e)
{
    struct orc_buf up = ORC_BUF_INIT, b64 = ORC_BUF_INIT;
    const char *auth = e->auth_b64;
    int fd, rv = 0;

    op->authfile[0] = '\0';
    if (auth == NULL && e->token == NULL && op->user && !e->is_mirror) {
        if (orc_buf_printf(&up, "%s:%s", op->user, op->pass ? op->pass : "") != 0
            || orc_base64_encode(up.data, up.len, false, &b64) != 0)
            rv = ORC_ENOMEM;
        auth = b64.data;
    }
    if (rv == 0 && (auth || e->token)) {
        json_t *entry = json_object(), *j;
        if (auth) json_object_set_new(entry, "auth", json_string(auth));
        if (e->token) json_object_set_new(entry, "identitytoken", json_string(e->token));
        j = json_pack("{s:{s:o}}", "auths", e->host, entry);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (text == NULL || rt_path(op->authfile, "%s/auth-%u.json", op->r->dir_tmp, ++op->r->seq)) {
            rv = ORC_ENOMEM;
        } else if ((fd = open(op->authfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0
                   || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
            rv = ORC_EIO;
            if (fd >= 0) close(fd);
        } else {
            close(fd);
        }
        if (text) memset(text, 0, strlen(text));
        free(text);
        if (rv != 0) op->authfile[0] = '\0';
    }
    if (up.data) memset(up.data, 0, up.len);
    if (b64.data) memset(b64.data, 0, b64.len);
    orc_buf_free(&up);
    orc_buf_free(&b64);
    return rv;
}

static void drop_authfile(struct rt_pull_op *op)
{
    if (op->authfile[0]) unlink(op->authfile);
    op->authfile[0] = '\0';
}

static void commit_work(uv_work_t *w)
{
    struct rt_pull_op *op = w->data;
    char path[RT_PATH];

    op->err = rt_store_commit(op->r, op->layout, op->ref.full, &op->digest, op->msg);
    rt_rm_rf(op->layout);
    if (op->err == 0) op->err = rt_store_config(op->r, op->digest, &op->config, op->msg);
    if (op->err == 0) op->unpacked = rt_image_rootfs(op->r, op->digest, path) == 0 && access(path, F_OK) == 0;
}

static void after_store(uv_work_t *w, int status)
{
    struct rt_pull_op *op = w->data;
    rt *r = op->r;

    (void)status;
    if (op->err == 0 && !op->unpacked && !r->closing) start_unpack(op);
    else complete(op);
    rt_unref(r);
}

static void on_skopeo(void *arg, const struct rt_proc_res *res)
{
    struct rt_pull_op *op = arg;
    const struct rt_endpoint *e = &op->eps[op->cur];
    char msg[RT_ERRLEN * 8], why[RT_ERRLEN];

    op->proc = NULL;
    drop_authfile(op);
    if (res->canceled) {
        fail(op, ORC_ECANCELED, "pull of %s canceled", op->ref.full);
        return;
    }
    if (res->status == 0) {
        op->work.data = op;
        if (rt_queue_work(op->r, &op->work, commit_work, after_store) != 0)
            fail(op, ORC_EIO, "cannot queue work");
        return;
    }
    if (res->spawn_err) snprintf(why, sizeof why, "running skopeo: %s", uv_strerror(res->spawn_err));
    else if (res->timed_out) snprintf(why, sizeof why, "timed out after %u s", PULL_TIMEOUT_MS / 1000);
    else short_message(res->err, why, sizeof why);
    snprintf(msg, sizeof msg, "pulling %s from %s: %s", op->ref.full, e->host, why);
    log_info(RT_LOG, "%s", msg);
    note_error(op, res->spawn_err ? ORC_EIO : res->timed_out ? ORC_EUNAVAIL : classify(res->err), msg);
    op->cur++;
    start_attempt(op);
}

static int skopeo_argv(struct rt_pull_op *op, const struct rt_endpoint *e, char *src, char *dst,
                       char *blobs, char *conf, char *certs, char **argv)
{
    const struct rt_ref *ref = &op->ref;
    int n = 0;

    if (snprintf(src, RT_PATH, "docker://%s/%s%s%s", e->host, e->path, ref->digest[0] ? "@" : ":",
                 ref->digest[0] ? ref->digest : ref->tag) >= RT_PATH
        || rt_path(dst, "oci:%s:x", op->layout) || rt_path(blobs, "--dest-shared-blob-dir=%s/blobs", op->r->dir_oci)
        || rt_path(conf, "--registries-conf=%s", op->r->regs_conf))
        return ORC_EINVAL;
    argv[n++] = op->r->skopeo;
    argv[n++] = "--insecure-policy"; /* signatures are not checked, as in the kubelet */
    argv[n++] = conf;
    argv[n++] = "copy";
    argv[n++] = "--quiet";
    argv[n++] = "--retry-times=0";
    if (e->plain_ok) argv[n++] = "--src-tls-verify=false";
    if (e->cert_dir) {
        if (rt_path(certs, "--src-cert-dir=%s", e->cert_dir) != 0) return ORC_EINVAL;
        argv[n++] = certs;
    }
    if (op->authfile[0]) {
        argv[n++] = "--src-authfile";
        argv[n++] = op->authfile;
    } else {
        argv[n++] = "--src-no-creds";
    }
    argv[n++] = blobs;
    argv[n++] = src;
    argv[n++] = dst;
    argv[n] = NULL;
    return 0;
}

static void start_attempt(struct rt_pull_op *op)
{
    char src[RT_PATH], dst[RT_PATH], blobs[RT_PATH], conf[RT_PATH], certs[RT_PATH];
    char *argv[20];
    struct rt_proc_opts o = {.argv = argv, .timeout_ms = PULL_TIMEOUT_MS, .max_capture = CAPTURE};
    const struct rt_endpoint *e;
    int rv;

    if (op->cur >= op->n_eps) {
        op->err = op->best_err ? op->best_err : ORC_EIO;
        snprintf(op->msg, sizeof op->msg, "%s", op->best_msg);
        complete(op);
        return;
    }
    if (op->r->skopeo == NULL) {
        fail(op, ORC_EIO, "cannot pull %s: skopeo is not installed", op->ref.full);
        return;
    }
    e = &op->eps[op->cur];
    rt_trash(op->r, op->layout, "pull"); /* what a failed attempt left */
    if ((rv = write_authfile(op, e)) != 0) {
        fail(op, rv, "writing registry credentials: %s", orc_strerror(rv));
        return;
    }
    if (skopeo_argv(op, e, src, dst, blobs, conf, certs, argv) != 0) {
        fail(op, ORC_EINVAL, "image reference %s too long", op->ref.full);
        return;
    }
    log_debug(RT_LOG, "pulling %s from %s", op->ref.full, src);
    if ((rv = rt_proc_start(op->r, &o, on_skopeo, op, &op->proc)) != 0) {
        drop_authfile(op);
        fail(op, rv, "starting skopeo: %s", orc_strerror(rv));
    }
}

/* ---- unpack ---- */

static void rename_work(uv_work_t *w)
{
    struct rt_pull_op *op = w->data;
    char final[RT_PATH];

    if (rt_image_rootfs(op->r, op->digest, final) != 0) return;
    if (rename(op->unpack_tmp, final) != 0) {
        /* another pull of the same content got there first */
        if (errno != EEXIST && errno != ENOTEMPTY) {
            op->err = orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "renaming unpacked image: %s", strerror(errno));
            rt_rm_rf(op->unpack_tmp);
            return;
        }
        rt_rm_rf(op->unpack_tmp);
    }
    op->unpacked = true;
}

static void drop_tmp_work(uv_work_t *w)
{
    struct rt_pull_op *op = w->data;
    rt_rm_rf(op->unpack_tmp);
}

static void after_unpack(uv_work_t *w, int status)
{
    struct rt_pull_op *op = w->data;
    rt *r = op->r;

    (void)status;
    complete(op);
    rt_unref(r);
}

static void on_umoci(void *arg, const struct rt_proc_res *res)
{
    struct rt_pull_op *op = arg;
    char why[RT_ERRLEN];

    op->proc = NULL;
    if (res->status == 0 && !res->canceled) {
        if (rt_queue_work(op->r, &op->work, rename_work, after_unpack) != 0)
            fail(op, ORC_EIO, "cannot queue work");
        return;
    }
    if (res->canceled) op->err = orc_errf(op->msg, RT_ERRLEN, ORC_ECANCELED, "unpack of %s canceled", op->ref.full);
    else {
        short_message(res->err_len ? res->err : res->out, why, sizeof why);
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_EIO, "unpacking %s: %s", op->ref.full, why);
    }
    if (rt_queue_work(op->r, &op->work, drop_tmp_work, after_unpack) != 0) complete(op);
}

static void start_unpack(struct rt_pull_op *op)
{
    char image[RT_PATH];
    char *argv[] = {op->r->umoci, "--log=error", "raw", "unpack", "--image", image, op->unpack_tmp, NULL};
    struct rt_proc_opts o = {.argv = argv, .timeout_ms = UNPACK_TIMEOUT_MS, .max_capture = CAPTURE};
    int rv;

    if (op->r->umoci == NULL) {
        fail(op, ORC_EIO, "cannot unpack %s: umoci is not installed", op->ref.full);
        return;
    }
    if (rt_path(image, "%s:%s", op->r->dir_oci, op->ref.full)
        || rt_path(op->unpack_tmp, "%s/.unpack-%u", op->r->dir_rootfs, ++op->r->seq)) {
        fail(op, ORC_EINVAL, "path too long");
        return;
    }
    if ((rv = rt_proc_start(op->r, &o, on_umoci, op, &op->proc)) != 0)
        fail(op, rv, "starting umoci: %s", orc_strerror(rv));
}

/* ---- a present image whose config is not in memory yet ---- */

static void prepare_work(uv_work_t *w)
{
    struct rt_pull_op *op = w->data;
    char path[RT_PATH];

    op->err = rt_store_config(op->r, op->digest, &op->config, op->msg);
    op->unpacked = rt_image_rootfs(op->r, op->digest, path) == 0 && access(path, F_OK) == 0;
}

/* ---- rt_pull ---- */

static void start_later(void *arg)
{
    struct rt_pull_op *op = arg;

    if (op->r->closing) fail(op, ORC_ECANCELED, "pull of %s canceled", op->ref.full);
    else start_attempt(op);
}

static struct rt_pull_op *find_op(rt *r, const char *ref)
{
    for (struct rt_pull_op *op = r->pulls; op; op = op->next)
        if (strcmp(op->ref.full, ref) == 0) return op;
    return NULL;
}

static int add_waiter(struct rt_pull_op *op, rt_pull_cb cb, void *arg)
{
    struct waiter *w = calloc(1, sizeof *w), **tail = &op->waiters;

    if (w == NULL) return ORC_ENOMEM;
    w->cb = cb;
    w->arg = arg;
    while (*tail) tail = &(*tail)->next;
    *tail = w;
    return 0;
}

static struct rt_pull_op *new_op(rt *r, enum rt_pull_policy policy, const struct rt_auth *auth)
{
    struct rt_pull_op *op = calloc(1, sizeof *op);

    if (op == NULL) return NULL;
    op->r = r;
    op->policy = policy;
    if (auth && auth->username) {
        op->user = strdup(auth->username);
        op->pass = strdup(auth->password ? auth->password : "");
        if (op->user == NULL || op->pass == NULL) {
            free_op(op);
            return NULL;
        }
    }
    return op;
}

/* Decides what op must do: nothing, load the config, unpack, or pull. */
static int begin(rt *r, struct rt_pull_op *op)
{
    struct rt_img *img = find_img(r, op->ref.full);
    int rv;

    if (img && op->policy != RT_PULL_ALWAYS) {
        if (img->config && img->unpacked) {
            op->config = json_incref(img->config);
            op->digest = strdup(img->digest);
            op->unpacked = true;
            return op->digest ? rt_later(r, complete_later, op) : ORC_ENOMEM;
        }
        if ((op->digest = strdup(img->digest)) == NULL) return ORC_ENOMEM;
        op->work.data = op;
        return rt_queue_work(r, &op->work, prepare_work, after_store);
    }
    if (op->policy == RT_PULL_NEVER) {
        op->err = orc_errf(op->msg, RT_ERRLEN, ORC_ENOENT,
                           "image %s not present and imagePullPolicy is Never", op->ref.full);
        return rt_later(r, complete_later, op);
    }
    if ((rv = rt_regs_endpoints(r->regs, &op->ref, &op->eps, &op->n_eps)) != 0) return rv;
    if (rt_path(op->layout, "%s/pull-%u", r->dir_tmp, ++r->seq) != 0) return ORC_EINVAL;
    return rt_later(r, start_later, op); /* callbacks never fire inside rt_pull */
}

int rt_pull(rt *r, const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
            rt_pull_cb cb, void *arg)
{
    struct rt_pull_op *op;
    struct rt_ref ref;
    char msg[RT_ERRLEN];
    int rv, perr;

    if (r->closing) return ORC_ESHUTDOWN;
    perr = rt_ref_parse(image, &ref, msg, sizeof msg);
    if (perr == 0 && (op = find_op(r, ref.full)) != NULL) return add_waiter(op, cb, arg);
    if ((op = new_op(r, policy, auth)) == NULL) return ORC_ENOMEM;
    op->ref = ref;
    if (add_waiter(op, cb, arg) != 0) {
        free_op(op);
        return ORC_ENOMEM;
    }
    if (perr != 0) { /* InvalidImageName, reported like every other pull error */
        op->err = perr;
        snprintf(op->msg, sizeof op->msg, "%s", msg);
        rv = rt_later(r, complete_later, op);
    } else {
        op->listed = true;
        op->next = r->pulls;
        r->pulls = op;
        rv = begin(r, op);
    }
    if (rv != 0) {
        unlist(op);
        free_op(op);
    }
    return rv;
}

void rt_pulls_cancel(rt *r)
{
    for (struct rt_pull_op *op = r->pulls; op; op = op->next)
        if (op->proc) rt_proc_cancel(op->proc);
}
