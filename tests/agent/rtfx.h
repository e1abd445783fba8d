/* rtfx.h — the fixture of the runtime tests: one libuv loop and one runtime
 * per case (state in the case's tmpdir, a node name of its own), a real
 * registry holding the test image, synchronous wrappers over the async
 * calls, and a cleanup that leaves nothing behind whatever happened: shims
 * and containers killed, runc state deleted, overlays unmounted, cgroups
 * removed. */
#ifndef ORC_TESTS_AGENT_RTFX_H
#define ORC_TESTS_AGENT_RTFX_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "agent/rt_int.h"
#include "agent/runtime.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/registry.h"
#include "tests/harness/test.h"

struct fx_pull {
    bool done;
    int err;
    char msg[RT_ERRLEN];
    char ref[720];
    char digest[80];
    json_t *config;
};

static struct fx {
    uv_loop_t loop;
    uv_timer_t poke;
    rt *r;
    char state[512];
    char logs[512];
    char node[64];
    char tag[9];
    char pod[64];
    struct registry reg;
    char image[128];           /* HOST/orc/busybox:1 */
    struct rt_image img;       /* the pulled test image (fields owned here) */
    struct fx_pull pulled;
    int exits;                 /* rt_on_exit calls */
    char last_exit[128];
} F;

static inline void fx_poke_cb(uv_timer_t *t) { (void)t; }

typedef bool (*fx_cond)(void *arg);

static inline bool fx_run_until(fx_cond cond, void *arg, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    while (!cond(arg) && test_now_ms() < end) uv_run(&F.loop, UV_RUN_ONCE);
    return cond(arg);
}

static inline bool fx_flag(void *arg) { return *(bool *)arg; }
static inline bool fx_never(void *arg) { (void)arg; return false; }
static inline void fx_run_for(unsigned ms) { fx_run_until(fx_never, NULL, ms); }

/* ---- cleanup: works even when the runtime under test is broken ---- */

static inline void fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fx_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *argv[] = {"sh", "-c", cmd, NULL};
    t_run(argv, NULL);
}

static inline void fx_kill_from_state(const char *cdir)
{
    char path[2048];
    json_t *s;

    if (rt_path(path, "%s/state.json", cdir) != 0 || (s = rt_read_json(path)) == NULL) return;
    int shim = (int)json_integer_value(json_object_get(s, "shimPid"));
    int pid = (int)json_integer_value(json_object_get(s, "pid"));
    if (shim > 0 && rt_pid_alive(shim, (uint64_t)json_integer_value(json_object_get(s, "shimStart"))))
        kill(shim, SIGKILL);
    if (pid > 0 && rt_pid_alive(pid, (uint64_t)json_integer_value(json_object_get(s, "pidStart"))))
        kill(pid, SIGKILL);
    json_decref(s);
}

static inline void fx_nuke(void)
{
    char dir[1024], path[2048];
    struct dirent *e;
    DIR *d;

    if (!F.state[0]) return;
    snprintf(dir, sizeof dir, "%s/containers", F.state);
    if ((d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            if (rt_path(path, "%s/%s", dir, e->d_name) != 0) continue;
            fx_kill_from_state(path);
            fx_sh("runc --root '%s/runc' kill --all '%s' KILL; runc --root '%s/runc' delete --force '%s'",
                  F.state, e->d_name, F.state, e->d_name);
            if (rt_path(path, "%s/%s/rootfs", dir, e->d_name) == 0) umount2(path, MNT_DETACH);
        }
        closedir(d);
    }
    /* every hierarchy: leaf cgroups first */
    fx_sh("for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/mounts); do "
          "[ -d $m/orc-%s ] && find $m/orc-%s -depth -type d -exec rmdir {} + 2>/dev/null; done; true",
          F.tag, F.tag);
}

static inline void fx_closed(void *arg) { *(bool *)arg = true; }

static inline void fx_close(void)
{
    bool closed = false;

    if (F.r == NULL) return;
    rt_close(F.r, fx_closed, &closed);
    F.r = NULL;
    if (!fx_run_until(fx_flag, &closed, 20000)) test_fail_later("rt_close did not finish");
}

static inline void fx_teardown(void *arg)
{
    (void)arg;
    fx_close();
    fx_nuke();
    free((char *)F.img.ref);
    free((char *)F.img.digest);
    json_decref(F.img.config);
    json_decref(F.pulled.config);
    memset(&F.img, 0, sizeof F.img);
    F.pulled.config = NULL;
    uv_close((uv_handle_t *)&F.poke, NULL);
    for (int i = 0; i < 1000 && uv_loop_alive(&F.loop); i++) uv_run(&F.loop, UV_RUN_ONCE);
    if (uv_loop_close(&F.loop) != 0) test_fail_later("handles left open on the loop");
}

/* ---- setup ---- */

static inline void fx_on_exit(void *arg, const char *id)
{
    (void)arg;
    F.exits++;
    snprintf(F.last_exit, sizeof F.last_exit, "%s", id);
}

static inline void fx_open_full(const char *registries, size_t log_max_bytes, unsigned log_max_files)
{
    struct rt_config cfg = {.state_dir = F.state, .node_name = F.node, .registries = registries,
                            .orcd_path = t_bin("orcd"), .log_max_bytes = log_max_bytes,
                            .log_max_files = log_max_files};
    char err[RT_ERRLEN] = "";
    int rc = rt_open(&F.loop, &cfg, &F.r, err);

    CHECKF(rc == 0, "rt_open: %s (%s)", orc_strerror(rc), err);
    rt_on_exit(F.r, fx_on_exit, NULL);
}

static inline void fx_open_with(const char *registries) { fx_open_full(registries, 0, 0); }
static inline void fx_open(void) { fx_open_with(NULL); }

/* A loop, a state dir, a node name; a registry with the test image when
 * registry is set. */
static inline void fx_setup(bool registry, bool auth)
{
    memset(&F, 0, sizeof F);
    CHECK_INT(uv_loop_init(&F.loop), ==, 0);
    uv_timer_init(&F.loop, &F.poke);
    uv_timer_start(&F.poke, fx_poke_cb, 10, 10);
    uv_unref((uv_handle_t *)&F.poke);
    snprintf(F.state, sizeof F.state, "%s/state", test_tmpdir());
    snprintf(F.logs, sizeof F.logs, "%s/logs", test_tmpdir());
    snprintf(F.node, sizeof F.node, "rt-test-%d", (int)getpid());
    snprintf(F.pod, sizeof F.pod, "pod%d", (int)getpid());
    rt_node_tag(F.node, F.tag);
    test_defer(fx_teardown, NULL);
    if (registry) {
        registry_start(&F.reg, auth);
        registry_push_busybox(&F.reg, "orc/busybox:1");
        snprintf(F.image, sizeof F.image, "%s/orc/busybox:1", F.reg.host);
    }
}

/* ---- pulls ---- */

static inline void fx_pull_cb(void *arg, int err, const struct rt_image *img, const char *msg)
{
    struct fx_pull *p = arg;

    p->done = true;
    p->err = err;
    snprintf(p->msg, sizeof p->msg, "%s", msg ? msg : "");
    if (err == 0) {
        snprintf(p->ref, sizeof p->ref, "%s", img->ref);
        snprintf(p->digest, sizeof p->digest, "%s", img->digest);
        json_decref(p->config);
        p->config = json_incref(img->config);
    }
}

static inline bool fx_pull_done(void *arg) { return ((struct fx_pull *)arg)->done; }

static inline int fx_pull_auth(const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
                               struct fx_pull *p)
{
    int rc;

    json_decref(p->config);
    memset(p, 0, sizeof *p);
    rc = rt_pull(F.r, image, policy, auth, fx_pull_cb, p);
    CHECKF(rc == 0, "rt_pull %s: %s", image, orc_strerror(rc));
    CHECKF(fx_run_until(fx_pull_done, p, 60000), "pull of %s did not finish", image);
    return p->err;
}

static inline int fx_pull(const char *image, enum rt_pull_policy policy, struct fx_pull *p)
{
    return fx_pull_auth(image, policy, NULL, p);
}

/* Pulls the test image into F.img. */
static inline void fx_image(void)
{
    int rc = fx_pull(F.image, RT_PULL_IF_NOT_PRESENT, &F.pulled);

    CHECKF(rc == 0, "pull %s: %s (%s)", F.image, orc_strerror(rc), F.pulled.msg);
    F.img.ref = strdup(F.pulled.ref);
    F.img.digest = strdup(F.pulled.digest);
    F.img.config = json_incref(F.pulled.config);
}

/* ---- containers ---- */

struct fx_start {
    bool done;
    int err;
    char msg[RT_ERRLEN];
};

static inline void fx_start_cb(void *arg, int err, const char *msg)
{
    struct fx_start *s = arg;
    s->done = true;
    s->err = err;
    snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "");
}

static inline bool fx_start_done(void *arg) { return ((struct fx_start *)arg)->done; }

/* A spec for the test image with the given process; the rest default. */
static inline struct rt_spec fx_spec(const char *id, char *const *argv, char *log, size_t log_n)
{
    struct rt_spec s = {0};

    snprintf(log, log_n, "%s/%s.log", F.logs, id);
    s.id = id;
    s.pod_uid = F.pod;
    s.image = &F.img;
    s.argv = argv;
    s.cwd = "";
    s.uid = s.gid = -1;
    s.log_path = log;
    s.hostname = "testpod";
    return s;
}

static inline int fx_start(const struct rt_spec *s, char *msg)
{
    struct fx_start st = {0};
    int rc = rt_start(F.r, s, fx_start_cb, &st);

    if (rc != 0) return rc;
    CHECKF(fx_run_until(fx_start_done, &st, 30000), "start of %s did not finish", s->id);
    if (msg) snprintf(msg, RT_ERRLEN, "%s", st.msg);
    return st.err;
}

static inline void fx_start_ok(const struct rt_spec *s)
{
    char msg[RT_ERRLEN];
    int rc = fx_start(s, msg);
    CHECKF(rc == 0, "start %s: %s (%s)", s->id, orc_strerror(rc), msg);
}

struct fx_wait { const char *id; };

static inline bool fx_exited(void *arg)
{
    struct rt_status st;
    return rt_status(F.r, (const char *)arg, &st) == 0 && st.state == RT_EXITED;
}

static inline struct rt_status fx_wait_exit(const char *id, unsigned timeout_ms)
{
    struct rt_status st;

    CHECKF(fx_run_until(fx_exited, (void *)id, timeout_ms), "container %s did not exit", id);
    CHECK_INT(rt_status(F.r, id, &st), ==, 0);
    return st;
}

/* The whole file as a string (malloc'd; "" when missing). */
static inline char *fx_read(const char *path)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_file_read(path, 64 << 20, &b) != 0) {
        orc_buf_free(&b);
        return strdup("");
    }
    return b.data ? b.data : strdup("");
}

/* kubectl's view of a CRI log: the prefixes stripped. */
static inline char *fx_log_text(const char *path)
{
    char *raw = fx_read(path), *save = NULL;
    struct orc_buf out = ORC_BUF_INIT;
    bool in_line = false;

    for (char *l = strtok_r(raw, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        rt_logfmt(&out, l, strlen(l), false, 0, &in_line);
    free(raw);
    return out.data ? out.data : strdup("");
}

static inline void fx_stop_cb(void *arg, int err) { *(int *)arg = err == 0 ? 1 : -1; }
static inline bool fx_int_set(void *arg) { return *(int *)arg != 0; }

/* Stops and removes a container (ignores unknown ones). */
static inline void fx_remove(const char *id)
{
    int done = 0;

    if (rt_stop(F.r, id, 0, fx_stop_cb, &done) == 0) fx_run_until(fx_int_set, &done, 10000);
    CHECK_INT(rt_remove(F.r, id), ==, 0);
}

/* True when nothing of the container's or the pod's is left on the host. */
static inline void fx_check_clean(const char *id)
{
    char *mounts = fx_read("/proc/self/mountinfo"), path[1200];
    struct rt_cg cg;

    CHECKF(strstr(mounts, F.state) == NULL, "a mount under %s is left", F.state);
    free(mounts);
    CHECK_INT(rt_cg_load(&cg), ==, 0);
    for (size_t i = 0; i < cg.n; i++) {
        snprintf(path, sizeof path, "%s/orc-%s/pod-%s/%s", cg.mounts[i], F.tag, F.pod, id);
        if (access(path, F_OK) == 0) {
            rt_cg_free(&cg);
            test_fail(__FILE__, __LINE__, "cgroup %s is left", path);
        }
    }
    rt_cg_free(&cg);
    snprintf(path, sizeof path, "%s/containers/%s", F.state, id);
    CHECKF(access(path, F_OK) != 0, "%s is left", path);
    snprintf(path, sizeof path, "%s/runc/%s", F.state, id);
    CHECKF(access(path, F_OK) != 0, "%s is left", path);
}

#endif
