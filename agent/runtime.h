/* runtime.h — how the node agent runs containers: one small interface, so
 * another runtime can be swapped in. The implementation here
 * (agent/rt*.c) pulls images with skopeo into one content-addressed OCI
 * layout, unpacks each image once with umoci, gives every container an
 * overlay root filesystem on top, and runs it with runc (crun when runc is
 * missing and crun works on the host) under a small per-container shim
 * process (`orc-shim` beside orcd, else `orcd shim`; agent/shim.c) that outlives agent restarts, writes
 * the container's output to its log file and records how it exited.
 *
 * On disk (DATA = state_dir): images/oci (the layout; index.json tags one
 * manifest per normalized reference), images/rootfs/<digest hex> (unpacked
 * once, the containers' read-only lower layer), containers/<id>/
 * (config.json, meta.json, state.json, exit.json, the overlay's upper and
 * work dirs and its rootfs mount point, shim.log), runc/ (the OCI
 * runtime's state), trash/. On the host: cgroups /orc-<tag>/pod-<pod_uid>/<id>
 * in every hierarchy, v1 or v2 (tag: 8 hex of the node name's hash, as in
 * net.h).
 *
 * Threading: every call happens on the agent's loop; callbacks fire on it.
 * As in libuv, a callback is never called when the call that took it
 * returned an error. Slow steps (pull, unpack, runc) run as child
 * processes or on the thread pool: nothing blocks the loop. The exceptions
 * are rt_open (asks the OCI runtime for its version, once) and the calls
 * documented as synchronous (rt_status, rt_remove: a few syscalls each). */
#ifndef ORC_AGENT_RUNTIME_H
#define ORC_AGENT_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct rt rt;

struct rt_config {
    const char *state_dir;      /* DIR: images/, containers/, ... (created) */
    const char *node_name;      /* names host objects (cgroups, runc root) so
                                   several agents can share one machine */
    const char *registries;     /* k3s registries.yaml path, or NULL */
    const char *orcd_path;      /* path of the orcd binary: orc-shim in its directory
                                   runs the shims, else `orcd shim` */
    size_t log_max_bytes;       /* rotate a container log past this; 0 = 10 MiB */
    unsigned log_max_files;     /* files kept, the live one too; 0 = 5 */
};

/* errmsg: 256 bytes. Detects the OCI runtime (runc, or crun where it can
 * run) and cgroup v1/v2; reads registries (ORC_EINVAL naming the file and
 * the field at fault); adopts the containers an earlier process left.
 * *out is owned by the caller until rt_close; call rt_on_exit before the
 * loop runs again so no exit of an adopted container is missed. */
int rt_open(uv_loop_t *loop, const struct rt_config *cfg, rt **out, char *errmsg);
/* Cancels pending pulls/execs (callbacks fire with ORC_ECANCELED) and frees
 * the runtime; running containers keep running. cb may be NULL. */
void rt_close(rt *r, void (*cb)(void *arg), void *arg);
/* "runc 1.1.5" style name+version for Node status.nodeInfo.containerRuntimeVersion. */
const char *rt_version(const rt *r);

/* ---- images ---- */

enum rt_pull_policy { RT_PULL_IF_NOT_PRESENT, RT_PULL_ALWAYS, RT_PULL_NEVER };

struct rt_auth { /* from imagePullSecrets (.dockerconfigjson), or NULL fields */
    const char *username;
    const char *password;
};

struct rt_image {
    char *ref;       /* normalized reference: "docker.io/library/nginx:1.14.2" */
    char *digest;    /* "sha256:..." of the manifest: Kubernetes' imageID */
    json_t *config;  /* the image config's "config" object (Entrypoint, Cmd,
                        Env, WorkingDir, User, ExposedPorts) */
};

/* err: 0, or ORC_ENOENT (no such image/tag: ErrImagePull), ORC_EUNAVAIL
 * (registry unreachable), ORC_EPERM (auth refused), ORC_EINVAL (bad
 * reference: InvalidImageName), ORC_EIO (anything else), ORC_ECANCELED
 * (rt_close) — msg says what happened in words fit for a pod's status
 * message (never credentials). `img` is valid during the call: keep copies.
 * When every endpoint fails, the most telling error is reported (not found
 * or refused over unreachable). */
typedef void (*rt_pull_cb)(void *arg, int err, const struct rt_image *img, const char *msg);

/* Makes the image present locally (pulling per policy; registries.yaml
 * mirrors, endpoints, TLS and auth apply; auth is used for the registry
 * itself, mirrors use their registries.yaml configs) and unpacked.
 * Concurrent pulls of one image share one download. A bad reference is
 * reported through cb like every other pull error. A digest reference
 * ("...@sha256:...") drops any tag. */
int rt_pull(rt *r, const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
            rt_pull_cb cb, void *arg);

/* ---- containers ---- */

/* A container's securityContext as the runtime applies it (containerd's
 * CRI rules). Zero: Kubernetes' default capabilities, runc's masked and
 * read-only paths, no seccomp, privileges may be gained. Plain values
 * only, so rt_spec stays copyable. */
enum rt_seccomp { RT_SECCOMP_UNCONFINED, RT_SECCOMP_RUNTIME_DEFAULT, RT_SECCOMP_LOCALHOST };
#define RT_MAX_EXTRA_GIDS 32
struct rt_security {
    bool privileged;          /* every capability, no masked paths, the host's devices */
    bool add_all, drop_all;   /* capabilities ALL added / dropped (add_all first) */
    uint64_t cap_add, cap_drop; /* then these (bit n = capability n) */
    bool no_new_privs;
    bool unmasked_proc;       /* procMount Unmasked: no masked or read-only paths */
    enum rt_seccomp seccomp;
    char seccomp_file[512];   /* RT_SECCOMP_LOCALHOST: an OCI linux.seccomp (or
                                 Docker profile) JSON file, absolute */
    uint32_t extra_gids[RT_MAX_EXTRA_GIDS]; /* supplementalGroups, fsGroup */
    size_t n_extra_gids;
};

/* The capability number of a name ("NET_ADMIN" or "CAP_NET_ADMIN", any
 * case), or -1. */
int rt_cap_number(const char *name);

struct rt_mount {
    const char *source;      /* host path (bind) */
    const char *destination; /* path in the container */
    bool readonly;
};

struct rt_spec {
    const char *id;             /* unique per container run, [a-z0-9-], e.g.
                                   "<pod-uid>-<name>-<restart#>" */
    const char *pod_uid;        /* groups containers of a pod (cgroup parent) */
    const struct rt_image *image;
    char *const *argv;          /* the process: NULL-terminated, already
                                   resolved from image Entrypoint/Cmd and the
                                   pod's command/args */
    char *const *env;           /* "NAME=value", NULL-terminated: added to the
                                   image's Env (a name given twice: this one
                                   wins); PATH defaults as in Docker */
    const char *cwd;            /* "" = image WorkingDir or "/" */
    int64_t uid, gid;           /* -1: the image's User (or 0), names looked
                                   up in the image's /etc/passwd and group;
                                   supplementary groups from /etc/group */
    bool readonly_rootfs;
    struct rt_security sec;
    const struct rt_mount *mounts;
    size_t n_mounts;
    const char *netns_path;     /* pod network namespace to join; NULL: the host's */
    const char *hostname;       /* in the container's own UTS namespace; NULL: id */
    bool host_pid, host_ipc;    /* share the host's namespaces */
    int64_t memory_limit;       /* bytes; 0 = none */
    int64_t cpu_quota_us;       /* per cpu_period_us; 0 = none */
    int64_t cpu_period_us;      /* 0 = 100000 */
    int64_t cpu_shares;         /* from requests.cpu; 0 = default */
    bool stdin;                 /* the process's stdin stays open for attach: a FIFO
                                   (rt_stdin_path) the shim holds open */
    bool stdin_once;            /* ... closed when the first attach leaves */
    bool tty;                   /* the process gets a terminal, held by the shim
                                   (output: its log as stdout; rt_resize_path) */
    const char *log_path;       /* where the shim writes output (CRI format:
                                   "2026-11-23T16:44:05.123456789Z stdout F text") */
};

/* Starts a container; cb when it runs (err 0) or could not start: err with a
 * message naming the cause (bad command "exec: \"foo\": executable file not
 * found", bad mount...), which the agent reports as reason
 * CreateContainerError / RunContainerError. The spec is copied. Returns
 * ORC_EINVAL for a bad spec (id or pod_uid not [A-Za-z0-9._-], no argv,
 * relative log_path), ORC_EEXIST for a known id. cb's err: ORC_EINVAL when
 * the OCI runtime refused (its message), ORC_ENOENT when the image's root
 * filesystem is gone, ORC_EIO otherwise. A container that failed to start
 * leaves nothing behind (its id can be used again). */
int rt_start(rt *r, const struct rt_spec *spec, void (*cb)(void *arg, int err, const char *msg),
             void *arg);

enum rt_state { RT_UNKNOWN, RT_CREATED, RT_RUNNING, RT_EXITED };

struct rt_status {
    enum rt_state state;
    int pid;               /* while running */
    int exit_code;         /* when exited: 128 + signal for a killed process */
    bool oom_killed;       /* the kernel's OOM killer ended it (memory limit) */
    int64_t started_ns;    /* wall clock, Unix ns; 0 if never started */
    int64_t finished_ns;
};

/* The container's state from disk (synchronous, cheap): works for
 * containers started by an earlier agent process too. ORC_ENOENT when the
 * runtime does not know the id. */
int rt_status(rt *r, const char *id, struct rt_status *out);

/* Called whenever a container exits (the shim recorded it), within ~100 ms;
 * also for containers started before this process (re-adoption). Once per
 * container and process; never for a failed start, nor for exits that
 * happened while no agent ran (rt_status tells those at adoption). A shim
 * that died leaves its container running; when that container ends, its
 * exit is recorded as code 255 (how it ended is lost). */
void rt_on_exit(rt *r, void (*cb)(void *arg, const char *id), void *arg);

/* SIGTERM now, SIGKILL after grace_s seconds if still running (and again
 * every 2 s); cb once it has exited (soon, from the loop, if it already
 * had). ORC_ENOENT for an unknown id; cb gets ORC_ECANCELED on rt_close. */
int rt_stop(rt *r, const char *id, unsigned grace_s, void (*cb)(void *arg, int err), void *arg);

/* Forgets a stopped container: runtime state, root filesystem, cgroup. Its
 * log files stay (the agent removes the pod's log directory). ORC_EINVAL
 * while it runs or starts (stop it first), ORC_ENOENT when unknown. */
int rt_remove(rt *r, const char *id);

/* Removes what a pod's containers shared (its cgroup parent) once all of
 * them were removed, and the node's cgroup parent once no container is
 * left. Unknown pods are fine; ORC_EIO when the cgroup is still busy. */
int rt_remove_pod(rt *r, const char *pod_uid);

struct agent_cstats;
/* CPU and memory usage of container id of pod pod_uid, or (id NULL) of
 * the pod's cgroup, read now from the cgroup files (synchronous: a few
 * small reads). ORC_ENOENT when its cgroup is gone or unreadable. */
int rt_stats(rt *r, const char *pod_uid, const char *id, struct agent_cstats *out);

/* Every container id the runtime knows on this node (running or not):
 * for re-adoption after an agent restart and for garbage collection.
 * *ids is malloc'd, each string too: free with rt_free_list. */
int rt_list(rt *r, char ***ids, size_t *n);
void rt_free_list(char **ids, size_t n);

/* Runs argv in the running container (non-interactive) as its process runs
 * (user, env, cwd); output is captured up to 1 MiB per stream. err: 0 (see
 * exit_code: 128 + signal for a killed command, 255 with the runtime's
 * message in errout when it could not run it), ORC_ETIMEDOUT (the command
 * was killed), ORC_ENOENT (container not running: returned at once, or
 * through cb when it ended meanwhile), ORC_ECANCELED. Buffers valid during
 * the call. Used by exec probes, preStop hooks and `orctl exec`. */
typedef void (*rt_exec_cb)(void *arg, int err, int exit_code, const char *out, size_t out_len,
                           const char *errout, size_t err_len);
int rt_exec(rt *r, const char *id, char *const *argv, unsigned timeout_ms, rt_exec_cb cb, void *arg);

/* An interactive command in the running container (rt_stream.c): the
 * runtime's exec with its stdio piped to the caller, or under a pseudo-TTY
 * (tty: stderr merged into stdout, resizable). Loop thread only. */
struct rt_stream_opts {
    char *const *argv;
    bool tty;
    bool stdin;                  /* false: the command reads /dev/null */
    unsigned short cols, rows;   /* the TTY's first size; 0: the runtime's default */
};
struct rt_stream_cbs {
    /* Output as it comes: fd 1 (stdout, or the TTY) or 2; valid during the call. */
    void (*on_output)(void *arg, int fd, const char *data, size_t len);
    /* stdin's queued bytes were written (after rt_stream_write said more than
     * RT_STREAM_STDIN_HIGH waited). May be NULL. */
    void (*on_stdin_drained)(void *arg);
    /* Once, after the command exited and its output ended: err 0 and its
     * exit code (128 + signal when killed), ORC_ENOENT (the container is not
     * running), ORC_EIO (the runtime could not run it), ORC_ECANCELED. The
     * stream is freed right after. */
    void (*on_exit)(void *arg, int err, int exit_code);
};
#define RT_STREAM_STDIN_HIGH (256u * 1024)
typedef struct rt_stream rt_stream;
/* ORC_ENOENT when the container is not running, ORC_ESHUTDOWN, ORC_EINVAL. */
int rt_stream_start(rt *r, const char *id, const struct rt_stream_opts *o, const struct rt_stream_cbs *cbs,
                    void *arg, rt_stream **out);
/* Queues a copy for the command's stdin: 0, or 1 when more than
 * RT_STREAM_STDIN_HIGH now waits (stop feeding until on_stdin_drained);
 * ORC_ECANCELED when stdin is closed or was not asked for. */
int rt_stream_write(rt_stream *s, const char *data, size_t len);
/* The command sees EOF on stdin once what is queued is written. */
void rt_stream_close_stdin(rt_stream *s);
/* The TTY's size (TIOCSWINSZ, passed on to the container's TTY). */
int rt_stream_resize(rt_stream *s, unsigned cols, unsigned rows);
/* Stops (or resumes) reading the command's output: back-pressure. */
void rt_stream_pause(rt_stream *s, bool paused);
/* Kills the command (its caller left); on_exit still fires (ORC_ECANCELED). */
void rt_stream_kill(rt_stream *s);

/* The FIFO feeding the stdin of container `id`'s process (a container
 * started with spec.stdin): 0, or ORC_ENOENT when it has none. */
int rt_stdin_path(rt *r, const char *id, char *out, size_t n);
/* The FIFO that sizes container `id`'s terminal (a container started with
 * spec.tty): write "COLS ROWS\n". 0, or ORC_ENOENT when it has none. */
int rt_resize_path(rt *r, const char *id, char *out, size_t n);

/* ---- logs ---- */

struct rt_log_opts {
    bool follow;
    int64_t tail_lines;   /* -1: all */
    int64_t since_ns;     /* 0: from the start; wall clock Unix ns */
    bool timestamps;      /* prefix lines with their RFC 3339 time */
    int64_t limit_bytes;  /* 0: no limit */
};

typedef struct rt_log_reader rt_log_reader;

/* Reads a container log (CRI format, across rotated files) and delivers
 * the text as `kubectl logs` shows it: on_data per chunk, on_end once (0
 * at the end of the file when not following; when following, after the
 * container exited and everything was delivered, or ORC_ECANCELED after
 * rt_log_cancel or rt_close; ORC_ENOENT when there is no log and it does
 * not follow). tail_lines counts lines as shown (partial records joined).
 * A following reader of a container this runtime knows ends by itself when
 * it exits; for other files, call rt_log_eof. *out (may be NULL) is valid
 * until on_end. */
int rt_log_open(rt *r, const char *log_path, const struct rt_log_opts *o,
                void (*on_data)(void *arg, const char *data, size_t len),
                void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out);
void rt_log_cancel(rt_log_reader *lr);
/* Tells a following reader that no more output will come (the container
 * exited), so it ends after draining. */
void rt_log_eof(rt *r, const char *log_path);

#endif
