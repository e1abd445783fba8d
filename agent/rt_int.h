/* rt_int.h — internals shared by the OCI runtime (agent/rt_*.c) and its
 * shim (agent/shim*.c): the runtime object, child processes, on-disk state
 * files, cgroups, references, registries, images, containers, logs. */
#ifndef ORC_AGENT_RT_INT_H
#define ORC_AGENT_RT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "agent/runtime.h"
#include "lib/buf.h"

#define RT_LOG "rt"
#define RT_ERRLEN 256
#define RT_PATH 1024

/* ---- time (rt_time.c) ---- */

#define RT_TIME_LEN 40
int64_t rt_now_ns(void);
/* RFC 3339 with nanoseconds, always 9 digits: "2026-11-23T16:44:05.123456789Z". */
void rt_time_fmt(int64_t ns, char out[RT_TIME_LEN]);
/* Parses RFC 3339 (fraction optional, Z or +hh:mm) of len bytes to Unix ns. */
int rt_time_parse(const char *s, size_t len, int64_t *ns);

/* ---- files and processes (rt_file.c) ---- */

/* Replaces path atomically (temp + rename) without fsync: these files
 * describe containers that do not survive a machine crash anyway. */
int rt_write_file(const char *path, const void *data, size_t len);
int rt_write_json(const char *path, const json_t *v);
/* The JSON object in path, or NULL (missing or unreadable). New reference. */
json_t *rt_read_json(const char *path);
/* rm -rf that never crosses into another file system (a mount left inside
 * a container directory is not emptied). 0 or ORC_EIO. */
int rt_rm_rf(const char *path);
/* Start time of a process (field 22 of /proc/PID/stat), 0 when it is gone:
 * a pid plus its start time names a process even after pid reuse. */
uint64_t rt_pid_start(int pid);
bool rt_pid_alive(int pid, uint64_t start);
/* snprintf into a RT_PATH buffer; ORC_EINVAL when it does not fit. */
int rt_path(char out[RT_PATH], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- container state files (rt_file.c), in DATA/containers/<id>/ ----
 * meta.json   written by rt_start: id, podUid, logPath, image, cgroup
 * state.json  written by the shim: shimPid/shimStart, then pid/pidStart/startedAt
 * exit.json   written by the shim last: exitCode, oomKilled, finishedAt */
struct rt_disk_state {
    bool has_state, has_exit;
    int shim_pid, pid;
    uint64_t shim_start, pid_start;
    int64_t started_ns, finished_ns;
    int exit_code;
    bool oom_killed;
};
void rt_disk_state_read(const char *cdir, struct rt_disk_state *st);

/* ---- cgroups (rt_cgroup.c) ---- */

struct rt_cg {
    char **mounts; /* every cgroup hierarchy's mount point (v1 and v2) */
    size_t n;
    char *memory;  /* where memory accounting lives: v1 memory mount or v2 root */
    char *cpu;     /* where CPU time is counted: v1 cpuacct mount or v2 root */
    bool v2;       /* memory is on cgroup v2 */
};
int rt_cg_load(struct rt_cg *cg);
void rt_cg_free(struct rt_cg *cg);
/* rmdir `rel` ("/orc-x/pod-y/z") in every hierarchy; missing is fine.
 * ORC_EIO when one is still busy. */
int rt_cg_rmdir(const struct rt_cg *cg, const char *rel);
/* The kernel's OOM-kill count of cgroup rel (v1 memory.oom_control or v2
 * memory.events "oom_kill N"); -1 when unreadable. */
int64_t rt_cg_oom_kills(const struct rt_cg *cg, const char *rel);
/* The node's tag: 8 hex of the node name's hash (the same as net.h's). */
void rt_node_tag(const char *node_name, char out[9]);

/* ---- references (rt_ref.c) ---- */

struct rt_ref {
    char domain[256]; /* "docker.io", "127.0.0.1:5000" */
    char path[256];   /* "library/nginx" */
    char tag[129];    /* "1.14.2", or "" with a digest */
    char digest[72];  /* "sha256:<64 hex>" or "" */
    char full[720];   /* normalized: domain/path:tag or domain/path@digest */
};
/* Docker's normalization: "nginx:1.14.2" -> docker.io/library/nginx:1.14.2,
 * "busybox" -> :latest. ORC_EINVAL with a message naming the problem. */
int rt_ref_parse(const char *s, struct rt_ref *out, char *msg, size_t n);

/* ---- registries.yaml (rt_registries.c) ---- */

struct rt_regs;
/* One place to try a pull from, in order. Strings live in the rt_regs (or
 * the endpoint array). */
struct rt_endpoint {
    char host[256];      /* host[:port] to contact */
    char path[512];      /* repository path there (rewrites applied) */
    bool plain_ok;       /* http:// or insecure_skip_verify: no TLS verification */
    const char *cert_dir;/* skopeo --src-cert-dir, or NULL */
    const char *auth_b64;/* base64("user:pass") from the config, or NULL */
    const char *token;   /* identitytoken, or NULL */
    bool is_mirror;
};
/* Parses the file (NULL path: no configuration). Client certificates and
 * CAs are linked into cert dirs under certs_dir. Errors name the file. */
int rt_regs_load(const char *path, const char *certs_dir, struct rt_regs **out, char *msg,
                 size_t n);
void rt_regs_free(struct rt_regs *g);
/* The endpoints for ref: mirrors in order, then the registry itself.
 * *out is malloc'd (free()). */
int rt_regs_endpoints(const struct rt_regs *g, const struct rt_ref *ref,
                      struct rt_endpoint **out, size_t *n);

/* ---- child processes (rt_proc.c) ---- */

struct rt_proc_res {
    int64_t status;   /* exit status, or -1 when killed or not started */
    int signal;       /* terminating signal, or 0 */
    bool timed_out;
    bool canceled;    /* rt_proc_cancel or rt_close */
    int spawn_err;    /* uv error when it could not be started */
    const char *out;  /* captured stdout/stderr, NUL-terminated, valid during the cb */
    size_t out_len;
    const char *err;
    size_t err_len;
};
typedef void (*rt_proc_cb)(void *arg, const struct rt_proc_res *res);
struct rt_proc_opts {
    char *const *argv;
    char *const *env;    /* NULL: inherit */
    unsigned timeout_ms; /* 0: none; SIGKILL when passed */
    size_t max_capture;  /* per stream; more is read and dropped */
    bool detached;       /* own session: survives the agent (the shim) */
    unsigned eof_wait_ms;/* after exit, how long output may stay open; 0 = 500 */
};
struct rt_proc;
/* Runs a child; cb once it exited and both streams ended (or after a
 * short grace when a grandchild keeps them open). When the spawn itself
 * fails, cb still fires (spawn_err), from the loop. */
int rt_proc_start(rt *r, const struct rt_proc_opts *o, rt_proc_cb cb, void *arg,
                  struct rt_proc **out);
void rt_proc_kill(struct rt_proc *p, int sig);
/* SIGKILL; cb fires with canceled set. */
void rt_proc_cancel(struct rt_proc *p);
/* Kills every child (rt_close). */
void rt_proc_cancel_all(rt *r);

/* ---- the runtime object (rt.c) ---- */

struct rt_ctr;
struct rt_pull_op;
struct rt_img;

struct rt {
    uv_loop_t *loop;
    char *state_dir;
    char *node_name;
    char node_tag[9];
    char *orcd_path;
    char *shim_path;      /* orc-shim beside orcd, or NULL: `orcd shim` */
    char *runtime;          /* absolute path of runc (or crun) */
    char *skopeo, *umoci;   /* NULL when not installed: pulls fail saying so */
    char version[64];
    size_t log_max_bytes;
    unsigned log_max_files;
    struct rt_cg cg;
    struct rt_regs *regs;
    char dir_images[RT_PATH], dir_oci[RT_PATH], dir_rootfs[RT_PATH], dir_tmp[RT_PATH];
    char dir_ctrs[RT_PATH], dir_runc[RT_PATH], dir_trash[RT_PATH], regs_conf[RT_PATH];

    struct rt_img *images;  /* known tags */
    struct rt_pull_op *pulls;
    uv_mutex_t index_lock;  /* DATA/images/oci/index.json, written by workers */
    unsigned seq;           /* unique temporary names */

    struct rt_ctr *ctrs;
    void (*exit_cb)(void *arg, const char *id);
    void *exit_arg;
    uv_timer_t poll;        /* exit detection fallback */

    struct rt_proc *procs;
#define RT_SLAB 65536
    char *slab;             /* read buffer of child output */
    struct rt_log_reader *readers;
    struct rt_later *later, **later_tail;
    uv_idle_t later_idle;

    unsigned pending;       /* open handles and queued works */
    bool closing;
    void (*close_cb)(void *arg);
    void *close_arg;
};

/* The executable name in $PATH (and the sbin directories), malloc'd, or NULL. */
char *rt_find_exe(const char *name);
/* Counts a handle or work in flight; rt_unref may finish rt_close. */
void rt_ref_hold(rt *r);
void rt_unref(rt *r);
/* Calls fn(arg) from the loop soon (never from inside the caller). */
int rt_later(rt *r, void (*fn)(void *arg), void *arg);
/* Moves path (on the state dir's file system) into DATA/trash now, one
 * rename, and deletes it on a worker: a container's upper directory or a
 * failed unpack can be large. Missing paths are fine. */
void rt_trash(rt *r, const char *path, const char *name);
/* uv_queue_work counted in pending: the after callback must rt_unref. */
int rt_queue_work(rt *r, uv_work_t *w, uv_work_cb work, uv_after_work_cb after);

/* ---- images (rt_image.c, rt_imgstore.c) ---- */

struct rt_img {
    char *ref;
    char *digest;          /* "sha256:..." of the manifest */
    json_t *config;        /* NULL until loaded */
    bool unpacked;
    struct rt_img *next;
};
int rt_images_load(rt *r, char *msg);
void rt_images_free(rt *r);
void rt_pulls_cancel(rt *r);
/* DATA/images/rootfs/<hex>. */
int rt_image_rootfs(const rt *r, const char *digest, char out[RT_PATH]);

/* Worker-side image store steps (rt_imgstore.c), run on the thread pool. */
/* Tags `ref` in the shared layout with the manifest that the pull wrote to
 * the one-image layout `tmp_layout`; *digest malloc'd. */
int rt_store_commit(rt *r, const char *tmp_layout, const char *ref, char **digest, char *msg);
/* The image config's "config" object (new reference) of a manifest. */
int rt_store_config(rt *r, const char *digest, json_t **config, char *msg);

/* ---- containers (rt_container.c, rt_spec.c, rt_watch.c, rt_stop.c) ---- */

struct rt_stop_op;

struct rt_ctr {
    char *id;
    char *pod_uid;
    char *log_path;
    char dir[RT_PATH];
    enum rt_state state;
    struct rt_disk_state disk;
    bool starting;           /* rt_start in progress: exits wait for its cb */
    bool exit_pending;       /* exited before the start cb fired */
    bool notified;           /* rt_on_exit called */
    uv_fs_event_t *watch;    /* on dir while running */
    struct rt_stop_op *stops;
    struct rt_ctr *next;
};
/* Container ids and pod uids become file and cgroup names:
 * [A-Za-z0-9._-], 1..200, not starting with '.' or '-'. */
bool rt_name_ok(const char *s);
struct rt_ctr *rt_ctr_find(rt *r, const char *id);
struct rt_ctr *rt_ctr_add(rt *r, const char *id, const char *pod_uid, const char *log_path);
void rt_ctr_free(rt *r, struct rt_ctr *c);
int rt_ctrs_load(rt *r);
void rt_cgroup_path(const rt *r, const char *pod_uid, const char *id, char out[RT_PATH]);

/* What rt_spec needs from the image, copied so it can run on a worker. */
struct rt_spec_in {
    const struct rt_spec *spec; /* deep copy owned by the start op */
    json_t *image_config;       /* image "config" object (borrowed) */
    const char *rootfs;         /* image rootfs (lower dir), to resolve users */
    const char *cgroups_path;
};
/* The OCI runtime spec (config.json) for a container. */
int rt_spec_build(const struct rt_spec_in *in, json_t **out, char *msg, size_t n);
/* The security parts (rt_security.c): the capability set of sec
 * (containerd's order: defaults, ALL added, ALL dropped, adds, drops), as
 * "CAP_X" names; linux.seccomp (*out NULL: unconfined; ORC_EINVAL with msg
 * for a bad Localhost file); a privileged container's host devices. */
uint64_t rt_sec_caps(const struct rt_security *sec);
json_t *rt_sec_cap_names(uint64_t caps);
int rt_sec_seccomp(const struct rt_security *sec, uint64_t caps, json_t **out, char *msg, size_t n);
json_t *rt_sec_devices(void);
#define RT_MAX_GIDS 32
/* Resolves an image User ("name", "uid", "name:group", "uid:gid") and the
 * groups it belongs to through the rootfs's /etc/passwd and /etc/group.
 * gids holds RT_MAX_GIDS. */
int rt_user_resolve(const char *rootfs, const char *user, int64_t uid_override,
                    int64_t gid_override, uint32_t *uid, uint32_t *gid, uint32_t *gids,
                    size_t *n_gids, char *msg, size_t n);

/* Exit detection (rt_watch.c). */
int rt_watch_start(rt *r, struct rt_ctr *c);
void rt_watch_stop(rt *r, struct rt_ctr *c);
/* Re-reads c's state from disk; fires exit notifications when it ended. */
void rt_watch_check(rt *r, struct rt_ctr *c);
int rt_poll_start(rt *r);
/* Start finished (cb delivered): deliver an exit that came first. */
void rt_watch_started(rt *r, struct rt_ctr *c);

/* Stops (rt_stop.c). */
void rt_stops_exited(rt *r, struct rt_ctr *c);
void rt_stops_cancel(rt *r, struct rt_ctr *c);

/* ---- logs (rt_logs.c, rt_logscan.c) ---- */

struct rt_log_reader;
void rt_logs_cancel_all(rt *r);
void rt_logs_exited(rt *r, const char *log_path);

/* Scanning CRI log files (rt_logscan.c, worker side). */
struct rt_cri {
    const char *ts;   /* timestamp text */
    size_t ts_len;
    bool partial;     /* "P" */
    const char *text; /* the line without its newline */
    size_t len;
};
/* Splits one record (without its '\n'); false for a line that is not CRI. */
bool rt_cri_parse(const char *line, size_t len, struct rt_cri *out);
/* Where output starts, over files fds[0..nf) (oldest first), for the last
 * `tail` lines (-1: all) written at or after since_ns (0: any). */
struct rt_logpos {
    int file;
    off_t off;
};
int rt_logscan_start(const int *fds, int nf, int64_t tail, int64_t since_ns, struct rt_logpos *out);
/* Appends one record (without '\n') as `kubectl logs` prints it: the CRI
 * prefix stripped (the time kept with timestamps), "P" records joined.
 * *in_line: the previous record left a line open. Records before since_ns
 * are skipped. */
int rt_logfmt(struct orc_buf *out, const char *rec, size_t len, bool timestamps, int64_t since_ns,
              bool *in_line);

/* ---- the shim's log writer (shim_log.c) ---- */

#define RT_LOG_LINE_MAX (16 * 1024) /* longer lines become "P" records */

struct shim_log {
    const char *path;
    int fd;             /* -1: could not open; output is dropped */
    size_t size;
    size_t max_bytes;
    unsigned max_files;
    int64_t retry_ns;   /* when to try opening again */
    bool torn;          /* a short write left half a record */
    struct orc_buf rec;
};
void shim_log_open(struct shim_log *l, const char *path, size_t max_bytes, unsigned max_files);
/* One record: "TIME STREAM F|P TEXT\n"; never fails (drops when it must). */
void shim_log_write(struct shim_log *l, const char *stream, bool partial, const char *text,
                    size_t len);
void shim_log_close(struct shim_log *l);

#endif
