/* cli.h — orctl's internal contract: command-line flags, the connection to
 * the API server, manifests, and the commands themselves. Everything here
 * runs in one short-lived process; output goes to ctx->out / ctx->err. */
#ifndef ORC_CLI_CLI_H
#define ORC_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "client/http.h"
#include "lib/buf.h"
#include "lib/kinds.h"

#define CLI_CLIENT_VERSION "v0.1.0"

/* Process exit statuses. */
typedef struct cli_ctx cli_ctx;

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* ---- flags (args.c) ---------------------------------------------------- */

/* A list of strings; the array and each string are owned (cli_strv_free). */
struct cli_strv {
    char **v;
    size_t n;
};

int cli_strv_push(struct cli_strv *s, const char *str, size_t len);
void cli_strv_free(struct cli_strv *s);

enum cli_flag_type {
    CLI_FLAG_BOOL,   /* bool *;  --x, --x=true|false */
    CLI_FLAG_STRING, /* const char **; points into argv, the last one wins */
    CLI_FLAG_INT,    /* long long * */
    CLI_FLAG_LIST,   /* struct cli_strv *; repeatable, comma-separated values split */
    CLI_FLAG_ARRAY,  /* struct cli_strv *; repeatable, each value whole ("k=a,b") */
};

struct cli_flag {
    const char *name; /* long name without "--" */
    char shorthand;   /* 0 for none */
    enum cli_flag_type type;
    void *dest;
    const char *metavar; /* "FILE" in the help, NULL for booleans */
    const char *help;    /* one line; NULL hides the flag (aliases) */
};

/* Flags every command accepts (--config, -n, --server, ...). */
struct cli_globals {
    const char *config;
    const char *server;
    const char *token;
    const char *ca_file;    /* --certificate-authority */
    bool insecure;          /* --insecure-skip-tls-verify */
    const char *ns;
    const char *timeout; /* --request-timeout: "30", "30s", "2m", "0" (none) */
    const char *as;          /* --as: the user to impersonate (Impersonate-User) */
    struct cli_strv as_groups; /* --as-group: Impersonate-Group, each */
    bool help;
};

struct cli_command {
    const char *name;
    const char *summary; /* one line for `orctl --help` */
    const char *usage;   /* "get KIND [NAME...] [flags]" */
    const char *help;    /* longer text with examples, or NULL */
    int (*run)(cli_ctx *x, int argc, char **argv);
};

/* Per-invocation state. `out`/`err` are stdout/stderr (tests may swap them). */
struct cli_ctx {
    struct cli_globals g;
    const struct cli_command *cmd;
    FILE *out, *err;
    /* Set by cli_connect; owned. The token is never printed. */
    char *server;
    char **servers; /* every API server the config lists (failover), or NULL */
    size_t n_servers;
    char *config_path; /* the config file read, or NULL */
    char *token;
    char *ca_pem;  /* CA to trust for https (NULL: the system's store) */
    bool insecure; /* trust any certificate */
    char tls_err[256]; /* why the last TLS handshake failed */
    const char *ns;   /* effective namespace: -n, else "default" */
    bool ns_explicit; /* -n was given */
};

/* Index in argv[1..] of the command word, skipping global flags and their
 * values; 0 when there is none. */
int cli_find_command(int argc, char **argv);

/* Parses argv[0..argc) (the command word already removed) against the
 * global flags plus `flags`. Positional arguments go to `pos` (owned by the
 * caller). Returns 0 to go on, or CLI_STOP_HELP after printing --help, or
 * CLI_STOP_USAGE after printing a usage error with a hint; a command then
 * ends with cli_stop_status(rv). Flags may appear anywhere; "--" ends them. */
enum { CLI_STOP_HELP = 1, CLI_STOP_USAGE = 2 };
#define cli_stop_status(rv) ((rv) == CLI_STOP_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE)
int cli_parse(cli_ctx *x, const struct cli_flag *flags, size_t n, int argc, char **argv,
              struct cli_strv *pos);

/* Prints "error: <msg>" and "See 'orctl CMD --help' for usage." and returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(cli_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `orctl CMD --help` text: summary, usage, command help, flags, globals. */
void cli_print_help(cli_ctx *x, const struct cli_flag *flags, size_t n);

/* ---- talking to the server (conn.c) ------------------------------------ */

/* Resolves server and token from --server/--token, --config, $ORC_CONFIG
 * or ~/.orc/config. Prints why and returns ORC_E* when there is none. */
int cli_connect(cli_ctx *x);
void cli_ctx_clear(cli_ctx *x);
/* How to trust the server, from cli_connect's result; `buf` is filled. */
const struct http_tls *cli_tls(const cli_ctx *x, struct http_tls *buf);

/* One request. Prints every Warning header as "Warning: <text>". On a
 * transport failure prints kubectl's message (connection refused, ...) and
 * returns the ORC_E* code; otherwise 0 with *resp set (any HTTP status; free
 * with http_response_free). body may be NULL. */
int cli_request(cli_ctx *x, const char *method, const char *path, const char *ctype,
                const char *body, size_t len, struct http_response *resp);

/* The same with a JSON body (may be NULL), returning the parsed reply in
 * *reply (new reference; a failure whose body is not JSON comes back as a
 * Status built from its text; NULL for an empty or non-JSON success) and
 * the HTTP status in *status. Prints nothing for HTTP failures. */
int cli_request_json(cli_ctx *x, const char *method, const char *path, const char *ctype,
                     const json_t *body, int *status, json_t **reply);

/* ---- streaming exec (exec_stream.c) ---- */

struct cli_stream_io {
    int in_fd;  /* the command's stdin, or -1 for none */
    int out_fd; /* its stdout (and, with tty, the terminal whose size is sent) */
    int err_fd;
    bool tty;
};

/* Runs the exec at `path` (pods/NAME/exec with its query) over a WebSocket
 * until the command ends; returns its exit code (messages printed), or
 * CLI_EXIT_FAIL when it could not run. */
int cli_exec_stream(cli_ctx *x, const char *path, const struct cli_stream_io *io);
/* Attaches to pod `pod`'s container (NULL: its only one) in x->ns: its
 * output, stdin (in) from fd 0, a terminal (tty, when fd 0 is one); the
 * exit status as cli_exec_stream's. */
int cli_attach(cli_ctx *x, const char *pod, const char *container, bool in, bool tty);
/* x->server as an IP URL (https://IP:PORT, for client/tunnel.h) and the
 * name its certificate carries; prints why and returns ORC_E* when it
 * cannot. */
int cli_stream_target(cli_ctx *x, char *url, size_t n, char *name, size_t nn);

/* ---- port-forward (portforward.c, pf_stream.c) ---- */

struct cli_pf_port {
    int local;  /* 0: any free port */
    int remote; /* the pod's port */
};
/* Listens on address:local for each port and forwards every connection
 * over SPDY/3.1 to pods/NAME/portforward at `path` until SIGINT/SIGTERM or
 * the server ends the stream: CLI_EXIT_OK, or CLI_EXIT_FAIL (printed). */
int cli_port_forward(cli_ctx *x, const char *path, const char *address, const struct cli_pf_port *ports,
                     size_t n);
int cli_cmd_port_forward(cli_ctx *x, int argc, char **argv);
/* `orctl top nodes|pods` (top.c). */
int cli_cmd_top(cli_ctx *x, int argc, char **argv);

/* Prints a failed reply: "Error from server (Reason): message". */
void cli_print_failure(cli_ctx *x, int status, const json_t *reply);

/* Prints kubectl's message for a request that never got an answer. */
void cli_print_transport_error(cli_ctx *x, int err);

/* Follows a watch (path includes ?watch=1) until the server ends it, SIGINT
 * or SIGTERM, or timeout_ms (0 = none). cb gets each ADDED/MODIFIED/DELETED
 * event (obj borrowed); a non-zero return stops with failure. ERROR events
 * are printed and end the watch. Returns the exit status. */
typedef int (*cli_watch_cb)(void *arg, const char *type, json_t *obj);
int cli_watch(cli_ctx *x, const char *path, unsigned timeout_ms, cli_watch_cb cb, void *arg);
/* The same for a raw body (a followed log): cb gets the bytes as they come. */
typedef void (*cli_bytes_cb)(void *arg, const char *data, size_t len);
int cli_stream(cli_ctx *x, const char *path, unsigned timeout_ms, cli_bytes_cb cb, void *arg);
/* Several raw streams at once (logs -f of several containers), each on its
 * own connection, until all ended, SIGINT/SIGTERM or timeout_ms: cb gets
 * stream i's bytes as they come. CLI_EXIT_FAIL when any failed. */
typedef void (*cli_bytes_n_cb)(void *arg, size_t i, const char *data, size_t len);
int cli_stream_many(cli_ctx *x, const char *const *paths, size_t n, unsigned timeout_ms, cli_bytes_n_cb cb,
                    void *arg);
/* --request-timeout in milliseconds (0 when unset). */
unsigned cli_timeout_ms(const cli_ctx *x);

/* "299 - \"text\"" -> "text" (kubectl's display of a Warning header). */
void cli_warning_text(const char *header, struct orc_buf *out);

/* ---- paths (path.c) ------------------------------------------------------ */

/* REST path of kind k (ns and name escaped; both may be NULL), plus sub. */
int cli_object_path(const struct orc_kind *k, const char *ns, const char *name, const char *sub,
                    struct orc_buf *out);
/* Appends "?key=value" or "&key=value" (value escaped) to a path. */
int cli_query_add(struct orc_buf *path, const char *key, const char *value);

/* ---- what the user names (target.c) ------------------------------------ */

struct cli_target {
    const struct orc_kind *kind;
    char *name; /* owned; NULL = every object of the kind */
};

struct cli_targets {
    struct cli_target *v;
    size_t n;
    size_t n_kinds; /* distinct kinds named */
};

/* Turns "KIND [NAME...]", "KIND/NAME...", "k1,k2 [NAME...]" and "all" into
 * targets. Prints the error (unknown resource type, mixed forms) and returns
 * ORC_EINVAL, or ORC_ENOENT when args is empty. */
int cli_targets_parse(cli_ctx *x, char **args, size_t n, struct cli_targets *out);
void cli_targets_free(struct cli_targets *t);
/* Refuses names mixed with a label selector, or named namespaced objects
 * with -A (printed, ORC_EINVAL). */
int cli_targets_check(cli_ctx *x, const struct cli_targets *t, const char *selector, bool all_ns);

/* ---- manifests (manifest.c) -------------------------------------------- */

struct cli_doc {
    char *source; /* file name, or "STDIN"; owned */
    int index;    /* 1-based document number in its source */
    json_t *obj;  /* the object (owned), or NULL when err is set */
    char *err;    /* why this document is unusable; owned */
    const struct orc_kind *kind; /* set when obj is usable */
};

struct cli_docs {
    struct cli_doc *v;
    size_t n;
};

/* Reads every -f source (file, directory of .yaml, .yml and .json files sorted by
 * name, or "-" for stdin), splitting multi-document YAML, JSON streams and
 * `kind: List` items. A document that cannot be used is kept with `err`
 * set so the caller reports it and goes on. Returns ORC_ENOENT (message in
 * errmsg) when a source cannot be read at all. */
int cli_docs_read(const struct cli_strv *files, FILE *in, struct cli_docs *out, char *errmsg,
                  size_t n);
void cli_docs_free(struct cli_docs *d);
/* How many documents can be sent (err == NULL). */
size_t cli_docs_usable(const struct cli_docs *d);

/* Loads -f sources and prints "error: FILE: document N: why" for each bad
 * document. Returns ORC_E* when nothing could be read (printed). *bad is
 * set when at least one document was unusable. */
int cli_docs_load(cli_ctx *x, const struct cli_strv *files, struct cli_docs *out, bool *bad);

/* The namespace an object from a manifest goes to: its own, else -n's;
 * NULL for cluster-scoped kinds. Prints and returns NULL with *err set when
 * it contradicts an explicit -n. */
const char *cli_doc_namespace(cli_ctx *x, const struct cli_doc *d, bool *err);

/* Loads the -f sources, connects, and calls fn for each usable document
 * with the namespace it goes to (NULL for cluster-scoped kinds). Returns
 * CLI_EXIT_FAIL when a document was unusable or a call failed; an
 * unreachable server ends the walk at once. */
typedef int (*cli_doc_fn)(cli_ctx *x, const struct cli_doc *d, const char *ns, const void *arg);
int cli_each_doc(cli_ctx *x, const struct cli_strv *files, cli_doc_fn fn, const void *arg);

/* ---- apply (lastapplied.c) ----------------------------------------------- */

#define CLI_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* The object apply sends: a copy of `manifest` with the last-applied
 * annotation set to the manifest itself as compact JSON (keys sorted, as
 * kubectl writes it). New reference, NULL on allocation failure. */
json_t *cli_apply_modified(const json_t *manifest);
/* The merge patch from the live object to the applied manifest, using the
 * live object's last-applied annotation to find removed fields. */
json_t *cli_apply_patch(const json_t *modified, const json_t *live);

/* ---- set image (set.c) --------------------------------------------------- */

/* The dotted path of the pod spec in an object of `kind` ("spec" for a
 * Pod, "spec.template.spec" for the workloads, the job template's for a
 * CronJob), or NULL for a kind without one. */
const char *cli_pod_spec_path(const char *kind);
/* kubectl set image's change to `obj` (its "kind" set) for the pairs
 * "CONTAINER=IMAGE" ("*=IMAGE": every container; init containers
 * included): a strategic merge patch naming only the containers whose image
 * changes, in *patch (new reference), or NULL when none does. ORC_EINVAL
 * with err ("unable to find container named \"x\"", a malformed pair, no
 * pod template); ORC_ENOMEM. */
int cli_set_image_patch(const json_t *obj, char *const *pairs, size_t n, json_t **patch,
                        char *err, size_t errlen);

/* kubectl expose's flags (strings point into argv; 0/NULL: not given). */
struct cli_expose {
    long long port;
    const char *target_port, *name, *type, *protocol;
};
/* The Service kubectl expose makes for `obj` (its "kind" set: Deployment,
 * ReplicaSet, ReplicationController, Pod or Service): its selector (a
 * pod's labels), its labels, --port/--target-port or else every container
 * port (named port-N when several). New reference in *svc; ORC_EINVAL with
 * err in kubectl's words (no selector, selector with expressions, no port);
 * ORC_ENOMEM. */
int cli_expose_service(const json_t *obj, const struct cli_expose *o, json_t **svc, char *err, size_t n);

/* ---- output ------------------------------------------------------------ */

/* Writes buffer text to x->out and flushes. */
void cli_write(cli_ctx *x, const struct orc_buf *b);
/* "deployment.apps/web" into out. */
int cli_ref_name(const struct orc_kind *k, const char *name, struct orc_buf *out);

/* ---- commands ------------------------------------------------------------ */

/* argv: the words after the command name, global flags included. Each
 * returns the process exit status (CLI_EXIT_*). */

int cli_cmd_apply(cli_ctx *x, int argc, char **argv);
int cli_cmd_get(cli_ctx *x, int argc, char **argv);
int cli_cmd_describe(cli_ctx *x, int argc, char **argv);
int cli_cmd_delete(cli_ctx *x, int argc, char **argv);
int cli_cmd_create(cli_ctx *x, int argc, char **argv);
int cli_cmd_scale(cli_ctx *x, int argc, char **argv);
int cli_cmd_expose(cli_ctx *x, int argc, char **argv);
int cli_cmd_autoscale(cli_ctx *x, int argc, char **argv);
/* `orctl set image` (set.c). */
int cli_cmd_set(cli_ctx *x, int argc, char **argv);
int cli_cmd_rollout(cli_ctx *x, int argc, char **argv);
int cli_cmd_version(cli_ctx *x, int argc, char **argv);
/* `orctl auth can-i|whoami` (auth.c, identity.c). */
int cli_cmd_auth(cli_ctx *x, int argc, char **argv);
/* `orctl auth whoami`: output NULL (a table), "json" or "yaml" (identity.c). */
int cli_auth_whoami(cli_ctx *x, const char *output);
int cli_cmd_kubeconfig(cli_ctx *x, int argc, char **argv); /* identity.c */
int cli_cmd_token(cli_ctx *x, int argc, char **argv);      /* token.c */
int cli_cmd_cluster(cli_ctx *x, int argc, char **argv);
/* `orctl secrets reencrypt` (secrets.c). */
int cli_cmd_secrets(cli_ctx *x, int argc, char **argv);
/* `orctl cluster backup FILE` (backup.c); FILE "-" is stdout. */
int cli_cluster_backup(cli_ctx *x, const char *file);
int cli_cmd_logs(cli_ctx *x, int argc, char **argv);
int cli_cmd_events(cli_ctx *x, int argc, char **argv);
/* The pod a `logs`/`exec` argument names: POD or pod/POD (po/, pods/). */
const char *cli_pod_name(const char *arg);
int cli_cmd_exec(cli_ctx *x, int argc, char **argv);
int cli_cmd_cp(cli_ctx *x, int argc, char **argv);
int cli_cmd_attach(cli_ctx *x, int argc, char **argv);
int cli_cmd_run(cli_ctx *x, int argc, char **argv);
/* drain.c */
int cli_cmd_cordon(cli_ctx *x, int argc, char **argv);
int cli_cmd_uncordon(cli_ctx *x, int argc, char **argv);
int cli_cmd_drain(cli_ctx *x, int argc, char **argv);

/* ---- the pod a TYPE/NAME means (podpick.c) ---- */
/* "k=v,k2=v2" from a label map; ORC_EINVAL when it is empty. */
int cli_selector_text(const json_t *map, struct orc_buf *out);
/* Orders pods (borrowed) most active first, as kubectl picks one. */
void cli_sort_active_pods(const json_t **pods, size_t n);
/* NAME or pod/NAME: that pod; deploy/, rs/, sts/, ds/, job/NAME or svc/NAME:
 * the most active pod of its selector (running: Running ones only). A new
 * reference, or NULL with the reason printed. svc (may be NULL) gets the
 * Service when target named one (a new reference). */
json_t *cli_pod_for(cli_ctx *x, const char *target, bool running, json_t **svc);

/* GETs one object. 0 with *obj (new reference); otherwise the failure is
 * printed ("Error from server (NotFound): ...") and the result is ORC_ENOENT
 * for 404, ORC_EINVAL for another HTTP failure, or a transport error. */
int cli_get_object(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *name,
                   json_t **obj);

/* True for failures to reach the server at all (as opposed to an answer
 * saying no): commands stop at the first, since the rest would fail too. */
bool cli_unreachable(int rv);

/* Lists every object of kind k in ns (NULL = all namespaces) with label and
 * field selectors (may be NULL), following `continue` 500 at a time. On
 * success *items is a new array and *rv the list's resourceVersion
 * (malloc'd, may be NULL). Prints failures. */
int cli_list(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *labels,
             const char *fields, json_t **items, char **rv);

/* What a command does to one object named `name` of kind k in ns. */
typedef int (*cli_name_fn)(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *name,
                           const void *arg);
/* Calls fn for every object of kind k in x->ns (cluster-scoped kinds:
 * everywhere) that the label selector picks (NULL or "": all), saying "No
 * resources found" when none unless quiet. *failed is set when a call (or
 * the list) failed; an unreachable server stops it and is returned. */
int cli_each_selected(cli_ctx *x, const struct orc_kind *k, const char *labels, bool quiet,
                      cli_name_fn fn, const void *arg, bool *failed);

#endif
