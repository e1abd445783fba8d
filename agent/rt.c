/* rt.c — the runtime object: open (directories, OCI runtime detection,
 * cgroups, registries, what an earlier agent left running), close, and
 * the small loop plumbing every rt_*.c file shares. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"

extern char **environ;

struct rt_later {
    void (*fn)(void *arg);
    void *arg;
    struct rt_later *next;
};

/* ---- loop plumbing ---- */

void rt_ref_hold(rt *r) { r->pending++; }

static void finish_close(rt *r);

void rt_unref(rt *r)
{
    if (--r->pending == 0 && r->closing) finish_close(r);
}

static void run_later(rt *r)
{
    struct rt_later *l = r->later;

    r->later = NULL;
    r->later_tail = &r->later;
    while (l) {
        struct rt_later *next = l->next;
        l->fn(l->arg);
        free(l);
        l = next;
    }
}

static void on_idle(uv_idle_t *h)
{
    rt *r = h->data;

    uv_idle_stop(h);
    rt_ref_hold(r); /* a callback may close the runtime */
    run_later(r);
    rt_unref(r);
}

int rt_later(rt *r, void (*fn)(void *arg), void *arg)
{
    struct rt_later *l = malloc(sizeof *l);

    if (l == NULL) return ORC_ENOMEM;
    l->fn = fn;
    l->arg = arg;
    l->next = NULL;
    *r->later_tail = l;
    r->later_tail = &l->next;
    if (!uv_is_closing((uv_handle_t *)&r->later_idle)) uv_idle_start(&r->later_idle, on_idle);
    return 0;
}

int rt_queue_work(rt *r, uv_work_t *w, uv_work_cb work, uv_after_work_cb after)
{
    int rv = uv_queue_work(r->loop, w, work, after);

    if (rv != 0) return ORC_EIO;
    rt_ref_hold(r);
    return 0;
}

struct trash {
    uv_work_t work;
    rt *r;
    char path[];
};

static void trash_work(uv_work_t *w)
{
    rt_rm_rf(((struct trash *)w->data)->path);
}

static void trash_done(uv_work_t *w, int status)
{
    struct trash *t = w->data;
    rt *r = t->r;

    (void)status;
    free(t);
    rt_unref(r);
}

void rt_trash(rt *r, const char *path, const char *name)
{
    char dst[RT_PATH];
    struct trash *t;

    if (rt_path(dst, "%s/%s.%d.%u", r->dir_trash, name, (int)getpid(), ++r->seq) != 0
        || rename(path, dst) != 0)
        return;
    if ((t = malloc(sizeof *t + strlen(dst) + 1)) == NULL) return; /* the next rt_open empties it */
    t->r = r;
    strcpy(t->path, dst);
    t->work.data = t;
    if (rt_queue_work(r, &t->work, trash_work, trash_done) != 0) free(t);
}

/* ---- OCI runtime detection (synchronous: it runs once, at open) ---- */

static int run_sync(char *const argv[], char *out, size_t n)
{
    posix_spawn_file_actions_t fa;
    int p[2], st = 0;
    size_t len = 0;
    ssize_t k;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    while (pid > 0 && len + 1 < n && (k = read(p[0], out + len, n - len - 1)) > 0) len += (size_t)k;
    out[len] = '\0';
    close(p[0]);
    if (pid < 0) return -1;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *rt_find_exe(const char *name)
{
    const char *path = getenv("PATH");
    char buf[RT_PATH], dirs[4096];
    char *save = NULL;

    snprintf(dirs, sizeof dirs, "%s:/usr/local/sbin:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (*d && rt_path(buf, "%s/%s", d, name) == 0 && access(buf, X_OK) == 0)
            return strdup(buf);
    }
    return NULL;
}

/* "runc version 1.1.5+ds1" / "crun version 1.8.1" -> "runc 1.1.5". */
static void read_version(rt *r, const char *name)
{
    char out[1024], ver[32] = "unknown";
    char *argv[] = {r->runtime, "--version", NULL};
    const char *p;

    if (run_sync(argv, out, sizeof out) == 0 && (p = strstr(out, "version ")) != NULL)
        sscanf(p + 8, "%31[0-9.]", ver);
    snprintf(r->version, sizeof r->version, "%s %s", name, ver);
}

/* crun refuses some hosts (hybrid cgroups): trust it only after a run. */
static bool crun_works(rt *r, const char *crun)
{
    char dir[RT_PATH], cfg[RT_PATH], bundle[RT_PATH + 16], root[RT_PATH + 16], id[64], out[512];
    const char *spec = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\","
                       "\"env\":[\"PATH=/usr/bin:/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
                       "\"root\":{\"path\":\"/\",\"readonly\":true},\"linux\":{\"namespaces\":"
                       "[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}";
    int rv;

    snprintf(id, sizeof id, "orc-probe-%d", (int)getpid());
    if (rt_path(dir, "%s/crun-probe", r->dir_tmp) || rt_path(cfg, "%s/config.json", dir)) return false;
    if (orc_mkdirs(dir, 0700) != 0 || rt_write_file(cfg, spec, strlen(spec)) != 0) return false;
    snprintf(bundle, sizeof bundle, "--bundle=%s", dir);
    snprintf(root, sizeof root, "--root=%s", r->dir_runc);
    {
        char *argv[] = {(char *)crun, root, "run", bundle, id, NULL};
        rv = run_sync(argv, out, sizeof out);
    }
    rt_rm_rf(dir);
    return rv == 0;
}

static int detect_runtime(rt *r, char *errmsg)
{
    char *crun;

    if ((r->runtime = rt_find_exe("runc")) != NULL) {
        read_version(r, "runc");
        return 0;
    }
    crun = rt_find_exe("crun");
    if (crun && crun_works(r, crun)) {
        r->runtime = crun;
        read_version(r, "crun");
        return 0;
    }
    free(crun);
    return orc_errf(errmsg, RT_ERRLEN, ORC_ENOENT,
                    "no OCI runtime: runc is not installed%s", crun ? " and crun cannot run here" : "");
}

/* ---- open ---- */

static int make_dirs(rt *r, char *errmsg)
{
    const char *d = r->state_dir;
    char layout[RT_PATH], blobs[RT_PATH];

    if (rt_path(r->dir_images, "%s/images", d) || rt_path(r->dir_oci, "%s/images/oci", d)
        || rt_path(r->dir_rootfs, "%s/images/rootfs", d) || rt_path(r->dir_tmp, "%s/images/tmp", d)
        || rt_path(r->dir_ctrs, "%s/containers", d) || rt_path(r->dir_runc, "%s/runc", d)
        || rt_path(r->dir_trash, "%s/trash", d)
        || rt_path(r->regs_conf, "%s/images/registries.conf", d)
        || rt_path(blobs, "%s/blobs/sha256", r->dir_oci) || rt_path(layout, "%s/oci-layout", r->dir_oci))
        return orc_errf(errmsg, RT_ERRLEN, ORC_EINVAL, "state dir path too long: %s", d);
    const char *dirs[] = {blobs, r->dir_rootfs, r->dir_tmp, r->dir_ctrs, r->dir_runc, r->dir_trash};
    for (size_t i = 0; i < ORC_ARRAY_LEN(dirs); i++) {
        if (orc_mkdirs(dirs[i], 0700) != 0)
            return orc_errf(errmsg, RT_ERRLEN, ORC_EIO, "creating %s: %s", dirs[i], strerror(errno));
    }
    if (access(layout, F_OK) != 0) {
        const char *v = "{\"imageLayoutVersion\":\"1.0.0\"}";
        if (rt_write_file(layout, v, strlen(v)) != 0)
            return orc_errf(errmsg, RT_ERRLEN, ORC_EIO, "writing %s", layout);
    }
    /* skopeo must not apply the host's registries.conf: registries.yaml rules */
    if (rt_write_file(r->regs_conf, "", 0) != 0)
        return orc_errf(errmsg, RT_ERRLEN, ORC_EIO, "writing %s", r->regs_conf);
    return 0;
}

/* orc-shim in orcd's directory, when it is there and runnable. */
static char *find_shim(const char *orcd_path)
{
    const char *slash = strrchr(orcd_path, '/');
    char path[RT_PATH];

    if (slash == NULL || rt_path(path, "%.*s/orc-shim", (int)(slash - orcd_path), orcd_path) != 0
        || access(path, X_OK) != 0)
        return NULL;
    return strdup(path);
}

static int copy_config(rt *r, const struct rt_config *cfg, char *errmsg)
{
    if (cfg->state_dir == NULL || cfg->node_name == NULL || cfg->orcd_path == NULL
        || !*cfg->state_dir || !*cfg->node_name)
        return orc_errf(errmsg, RT_ERRLEN, ORC_EINVAL, "state_dir, node_name and orcd_path are required");
    /* overlayfs mount options cannot carry these */
    if (strpbrk(cfg->state_dir, ":,") != NULL)
        return orc_errf(errmsg, RT_ERRLEN, ORC_EINVAL, "state dir %s: ':' and ',' are not allowed",
                        cfg->state_dir);
    if (orc_mkdirs(cfg->state_dir, 0700) != 0)
        return orc_errf(errmsg, RT_ERRLEN, ORC_EIO, "creating %s: %s", cfg->state_dir, strerror(errno));
    r->state_dir = realpath(cfg->state_dir, NULL);
    r->orcd_path = realpath(cfg->orcd_path, NULL);
    r->node_name = strdup(cfg->node_name);
    if (r->orcd_path == NULL)
        return orc_errf(errmsg, RT_ERRLEN, ORC_EINVAL, "orcd binary %s: %s", cfg->orcd_path, strerror(errno));
    if (r->state_dir == NULL || r->node_name == NULL) return orc_errf(errmsg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
    r->shim_path = find_shim(r->orcd_path);
    rt_node_tag(r->node_name, r->node_tag);
    r->log_max_bytes = cfg->log_max_bytes ? cfg->log_max_bytes : 10 << 20;
    r->log_max_files = cfg->log_max_files ? cfg->log_max_files : 5;
    return 0;
}

static void free_rt(rt *r)
{
    rt_images_free(r);
    while (r->ctrs) rt_ctr_free(r, r->ctrs);
    rt_regs_free(r->regs);
    rt_cg_free(&r->cg);
    uv_mutex_destroy(&r->index_lock);
    free(r->state_dir);
    free(r->node_name);
    free(r->orcd_path);
    free(r->shim_path);
    free(r->runtime);
    free(r->skopeo);
    free(r->umoci);
    free(r->slab);
    free(r);
}

/* Empties DATA/trash: what rt_trash could not finish before an earlier
 * process ended, and the temporary files set aside at open. */
static void clean_work(uv_work_t *w)
{
    rt *r = w->data;
    char path[RT_PATH];
    struct dirent *e;
    DIR *d = opendir(r->dir_trash);

    if (d == NULL) return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (rt_path(path, "%s/%s", r->dir_trash, e->d_name) == 0) rt_rm_rf(path);
    }
    closedir(d);
}

static void clean_done(uv_work_t *w, int status)
{
    rt *r = w->data;
    (void)status;
    free(w);
    rt_unref(r);
}

/* Half-done pulls and unpacks of an earlier process go to the trash now
 * (renames), so this process starts with empty temporary directories. */
static void start_cleanup(rt *r)
{
    char path[RT_PATH], dst[RT_PATH];
    struct dirent *e;
    uv_work_t *w;
    DIR *d;

    if (rt_path(dst, "%s/tmp.%d", r->dir_trash, (int)getpid()) == 0 && rename(r->dir_tmp, dst) == 0)
        mkdir(r->dir_tmp, 0700);
    if ((d = opendir(r->dir_rootfs)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, ".unpack-", 8) != 0 || rt_path(path, "%s/%s", r->dir_rootfs, e->d_name)
                || rt_path(dst, "%s/%s.%d", r->dir_trash, e->d_name, (int)getpid()))
                continue;
            rename(path, dst);
        }
        closedir(d);
    }
    if ((w = malloc(sizeof *w)) == NULL) return;
    w->data = r;
    if (rt_queue_work(r, w, clean_work, clean_done) != 0) free(w);
}

static int open_parts(rt *r, const struct rt_config *cfg, char *errmsg)
{
    int rv;

    if ((rv = copy_config(r, cfg, errmsg)) != 0 || (rv = make_dirs(r, errmsg)) != 0) return rv;
    if ((r->slab = malloc(RT_SLAB)) == NULL) return orc_errf(errmsg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
    if ((rv = detect_runtime(r, errmsg)) != 0) return rv;
    r->skopeo = rt_find_exe("skopeo");
    r->umoci = rt_find_exe("umoci");
    if (rt_cg_load(&r->cg) != 0 || r->cg.n == 0)
        return orc_errf(errmsg, RT_ERRLEN, ORC_EIO, "no cgroup hierarchy found in /proc/self/mountinfo");
    {
        char certs[RT_PATH];
        if (rt_path(certs, "%s/certs", r->dir_images) != 0)
            return orc_errf(errmsg, RT_ERRLEN, ORC_EINVAL, "state dir path too long");
        if ((rv = rt_regs_load(cfg->registries, certs, &r->regs, errmsg, RT_ERRLEN)) != 0) return rv;
    }
    if ((rv = rt_images_load(r, errmsg)) != 0) return rv;
    return 0;
}

int rt_open(uv_loop_t *loop, const struct rt_config *cfg, rt **out, char *errmsg)
{
    rt *r = calloc(1, sizeof *r);
    int rv;

    if (r == NULL) return orc_errf(errmsg, RT_ERRLEN, ORC_ENOMEM, "out of memory");
    r->loop = loop;
    r->later_tail = &r->later;
    if (uv_mutex_init(&r->index_lock) != 0) {
        free(r);
        return orc_errf(errmsg, RT_ERRLEN, ORC_EIO, "mutex");
    }
    if ((rv = open_parts(r, cfg, errmsg)) != 0) {
        free_rt(r);
        return rv;
    }
    uv_idle_init(loop, &r->later_idle);
    r->later_idle.data = r;
    uv_timer_init(loop, &r->poll);
    r->poll.data = r;
    rt_ref_hold(r); /* later_idle */
    rt_ref_hold(r); /* poll */
    if ((rv = rt_ctrs_load(r)) != 0 || (rv = rt_poll_start(r)) != 0) {
        orc_errf(errmsg, RT_ERRLEN, rv, "loading containers from %s", r->dir_ctrs);
        rt_close(r, NULL, NULL);
        return rv;
    }
    start_cleanup(r);
    log_info(RT_LOG, "runtime %s, cgroup %s, state in %s", r->version, r->cg.v2 ? "v2" : "v1",
             r->state_dir);
    *out = r;
    return 0;
}

const char *rt_version(const rt *r) { return r->version; }

/* ---- close ---- */

static void on_final_close(uv_handle_t *h)
{
    rt *r = h->data;
    void (*cb)(void *) = r->close_cb;
    void *arg = r->close_arg;

    if (--r->pending > 0) return; /* the other handle is still closing */
    free_rt(r);
    if (cb) cb(arg);
}

static void finish_close(rt *r)
{
    run_later(r); /* queued completions still reach their callers */
    if (r->pending > 0) return;
    r->pending = 2; /* the two handles below; never finish twice */
    uv_close((uv_handle_t *)&r->later_idle, on_final_close);
    uv_close((uv_handle_t *)&r->poll, on_final_close);
}

void rt_close(rt *r, void (*cb)(void *arg), void *arg)
{
    if (r == NULL || r->closing) return;
    r->closing = true;
    r->close_cb = cb;
    r->close_arg = arg;
    rt_ref_hold(r);
    uv_timer_stop(&r->poll);
    rt_pulls_cancel(r);
    rt_proc_cancel_all(r);
    rt_logs_cancel_all(r);
    for (struct rt_ctr *c = r->ctrs; c; c = c->next) {
        rt_stops_cancel(r, c);
        rt_watch_stop(r, c);
    }
    r->pending -= 2; /* later_idle and poll close in finish_close */
    rt_unref(r);
}
