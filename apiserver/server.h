/* server.h — internals shared by the API server's files: the server struct,
 * routes, responses, object encoding, and the write/read paths that hide
 * whether this member is the leader. Not a public contract. */
#ifndef ORC_API_SERVER_H
#define ORC_API_SERVER_H

#include <jansson.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stdint.h>

#include "apiserver/api.h"
#include "lib/httpd.h"
#include "apiserver/kind.h"
#include "apiserver/validate.h"
#include "client/http.h"
#include "lib/buf.h"
#include "lib/kinds.h"
#include "lib/list.h"
#include "lib/table.h"
#include "lib/tls.h"
#include "store/store.h"

#define API_RESERVED_PREFIX "/orc/podcidrs/" /* a Node's pod CIDR, held by its name */
#define API_SERVICEIP_PREFIX "/orc/serviceips/" /* a Service's clusterIP (svcalloc.c) */
#define API_NODEPORT_PREFIX "/orc/nodeports/"   /* a Service's nodePort */
#define API_MAX_QUERY 32

struct api_server {
    uv_loop_t *loop;
    store *st;
    char cluster_cidr[64];
    unsigned node_cidr_mask;
    char service_cidr[64];    /* "10.43.0.0/16" */
    char node_port_range[32]; /* "30000-32767" */
    unsigned pod_toleration_seconds;
    unsigned watch_bookmark_ms;
    unsigned event_ttl_s; /* housekeep.c expires Events past it */
    struct orc_httpd *http;
    char *token;
    /* What the API servers show agents' logs/exec ports (and agents learn
     * with their certificate): derived from the cluster token, so that an
     * agent holds no credential of the API. */
    char agent_port_token[ORC_TLS_FP_HEX + 1];
    char agent_token[24]; /* "<id>.<secret>" a new cluster's agent token, until stored */
    char *url;
    char *ca_pem;     /* NULL: plain HTTP between members */
    char *ca_key_pem; /* handed to joining members; NULL: not */
    long node_cert_ttl_s; /* an agent's certificate at registration */
    struct orc_tls_ctx *peer_tls; /* trust for calls to other members */
    struct api_watch_hub *watch_hub;
    /* Client to the current leader's API, for forwarded writes and
     * read-index requests. Replaced when the leader changes. */
    http_client *leader_client;
    uint64_t leader_client_id;
    struct leader_closing *closing_clients;
    bool is_leader;
    bool bootstrapped; /* default namespaces, the kubernetes Service and its
                          endpoints ensured in this term (readiness) */
    uv_timer_t retry_timer; /* drives delayed retries (api_later) */
    struct orc_link later; /* pending api_later calls (txn.c) */
    bool stopping;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    int stop_pending;
    int inflight; /* operations that will call back into the server */
    api_encryption *enc; /* --encryption-config; NULL: values stored as written */
    struct api_nscache *nscache;
    struct api_rbac *rbac; /* Roles and bindings (rbac_cache.c) */
    struct api_nodeauthz *nodeauthz; /* pods' references by node (authz_node.c) */
    struct api_housekeep *housekeep;
    struct api_openapi *openapi; /* the OpenAPI documents, built at the first request */
    struct api_oa_build *openapi_build; /* that build, on a worker thread, while it runs */
    struct api_sa *sa; /* ServiceAccount tokens: signing key, audiences (sa.h) */
    struct api_audit *audit; /* NULL: no audit log */
    struct api_metrics *metrics; /* metrics.c */
    struct api_mx *mx; /* metrics.k8s.io's collector (resmetrics.h); NULL: off */
};

/* Pod CIDRs for Nodes (podcidr.c). A preview, for dry runs: the lowest
 * block of the cluster CIDR not reserved now, as "10.42.3.0/24";
 * ORC_ETOOBIG when the cluster CIDR is exhausted, ORC_EINVAL when it is
 * malformed. */
int api_podcidr_pick(struct api_server *s, char *out, size_t n);
/* The value of the STORE_PUT_ALLOC op that stores a new Node (appended to
 * out): `value` is the Node with `marker` where its block goes,
 * `value_none` the Node without podCIDR, stored if no block is left. */
int api_podcidr_alloc(struct api_server *s, const struct orc_buf *value,
                      const struct orc_buf *value_none, const char *marker, struct orc_buf *out);
/* Records the Warning Event CIDRNotAvailable for a Node registered
 * without a block (fire and forget; failures are logged). */
void api_podcidr_warn_exhausted(struct api_server *s, const char *node, const char *uid);

/* Namespaces being deleted (nscache.c), from a watch of the store. */
int api_nscache_start(struct api_server *s);
bool api_ns_terminating(const struct api_server *s, const char *ns);
bool api_ns_any_terminating(const struct api_server *s);

/* Leader-only upkeep (housekeep.c): emptying and removing deleted
 * namespaces, expiring Events after an hour. */
int api_housekeep_start(struct api_server *s);
void api_housekeep_stop(struct api_server *s);
void api_nscache_stop(struct api_server *s);

/* Every asynchronous operation holds the server while it runs, so that
 * stopping waits for it (see api_server_stop). */
void api_hold(struct api_server *s);
void api_release(struct api_server *s);
/* Fires every pending api_later callback now (s->stopping is set), and
 * closes the leader client; used by api_server_stop. */
void api_later_stop_all(struct api_server *s);
void api_leader_client_drop(struct api_server *s, void (*cb)(void *arg), void *arg);
/* A client for another member's API URL, trusting the cluster CA and
 * carrying the cluster token. */
int api_peer_client(struct api_server *s, const char *url, http_client **out);

/* ---- routes ---- */

enum api_route_type {
    ROUTE_NONE,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_VERSION,
    ROUTE_API_VERSIONS,  /* /api */
    ROUTE_API_GROUPS,    /* /apis */
    ROUTE_API_GROUP,     /* /apis/{group} */
    ROUTE_RESOURCE_LIST, /* /api/v1, /apis/{group}/{version} */
    ROUTE_COLLECTION,    /* .../{resource} */
    ROUTE_OBJECT,        /* .../{resource}/{name}[/{sub}] */
    ROUTE_INTERNAL,      /* /internal/v1/... */
    ROUTE_OPENAPI_V2,    /* /openapi/v2 */
    ROUTE_OPENAPI_V3,    /* /openapi/v3 (version empty), /openapi/v3/api/v1, /openapi/v3/apis/{group}/{version} */
    ROUTE_OIDC,          /* /.well-known/openid-configuration, /openid/v1/jwks (internal: "jwks") */
    ROUTE_SELF_REVIEW,   /* /apis/authentication.k8s.io/v1/selfsubjectreviews */
    ROUTE_METRICS,       /* /metrics */
    ROUTE_METRICS_API,   /* /apis/metrics.k8s.io/v1beta1/[namespaces/NS/]{nodes,pods}[/NAME] (internal: the resource) */
};

struct api_query {
    char *key;
    char *value;
};

struct api_route {
    enum api_route_type type;
    const struct orc_kind *kind;
    const struct api_kind *api; /* kind's row, set with kind */
    char group[64];
    char version[16];
    char ns[256];  /* empty: none given */
    char name[256];
    char sub[32];  /* subresource, empty if none */
    char internal[128]; /* path below /internal/v1/ */
    char proxy_path[256]; /* nodes/{name}/proxy/{path}: "/" + path, decoded */
    struct api_query query[API_MAX_QUERY];
    int n_query;
    char err[192]; /* why the target was refused (ORC_EINVAL), when known */
    /* How metrics.c counts the request, fixed when it begins. */
    bool m_counted;
    uint64_t m_start_ns;
    const char *m_verb, *m_scope; /* static strings */
    struct orc_series *m_gauge;    /* in flight or long-running, held until the end */
    struct orc_series *m_watchers; /* a watch's kind */
};

/* Parses the request target. Returns 0, or ORC_EINVAL for a malformed
 * target (bad escapes, an encoded NUL, too long, a namespace or name that
 * breaks Kubernetes' path segment rule: rt->err says which), or ORC_ENOENT
 * for an unknown path. */
/* ---- authn.c ---- */

/* What one authenticator says of a request's credentials. */
enum { API_AUTHN_OK, API_AUTHN_PASS, API_AUTHN_REFUSED };

/* The httpd authorize hook (arg: the api_server): true when a credential
 * names a user, who is then on the request (api_req_user, user.h). */
bool api_authn_request(void *arg, struct orc_httpd_req *r);

/* POST /internal/v1/usercerts (usercert.c): an administrator has a user's
 * certificate request signed by the cluster CA. */
void api_handle_user_cert(struct api_server *s, struct orc_httpd_req *r);

/* POST selfsubjectreviews (whoami.c): the request's own user. */
void api_handle_self_review(struct api_server *s, struct orc_httpd_req *r);

/* ---- authn_bootstrap.c: bootstrap tokens ---- */

struct api_user;
#define API_BOOTSTRAP_TOKEN_TYPE "bootstrap.kubernetes.io/token"
/* "<id>.<secret>" or orc's "orc1.<CA fingerprint>.<id>.<secret>" into its
 * parts; false when it is neither. */
bool api_bootstrap_token_split(const char *tok, char id[7], char secret[17]);
bool api_bootstrap_secret_expired(const json_t *secret);
int api_authn_bootstrap_token(struct api_server *s, struct orc_httpd_req *r, struct api_user **out);
/* How long a node's certificate lasts; its agent renews it at start once
 * less than a third is left. */
#define API_NODE_CERT_DAYS 365

/* The leader writes the agent token's Secret unless it exists (then
 * forgets the token). */
void api_agent_token_ensure(struct api_server *s);

int api_route_parse(const char *target, struct api_route *out);
void api_route_clear(struct api_route *r);
/* api_route_clear, then free: a request's state_free for a calloc'd route. */
void api_route_free(void *r);
const char *api_query_get(const struct api_route *r, const char *key);
bool api_query_bool(const struct api_route *r, const char *key);

/* ---- responses (each ends the request) ---- */

void api_respond_json(struct orc_httpd_req *r, int code, const json_t *obj);
/* `body` is a JSON text; the buffer is freed. */
void api_respond_buf(struct orc_httpd_req *r, int code, struct orc_buf *body);
/* Appends a StatusCause {reason, message, field} to causes (a JSON array);
 * one lost to an allocation failure is a null, so the request is still
 * refused. */
void api_cause_append(json_t *causes, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A Status failure. `k` and `name` fill details (may be NULL); `causes`
 * (stolen, may be NULL) is a StatusCause array. */
void api_respond_status(struct orc_httpd_req *r, int code, const char *reason, const struct orc_kind *k,
                        const char *name, json_t *causes, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void api_respond_not_found(struct orc_httpd_req *r, const struct orc_kind *k, const char *name);
void api_respond_exists(struct orc_httpd_req *r, const struct orc_kind *k, const char *name);
void api_respond_conflict(struct orc_httpd_req *r, const struct orc_kind *k, const char *name);
/* Maps an internal error code to 500/503/504 with a message. */
void api_respond_error(struct orc_httpd_req *r, int err, const char *what);
/* A value read from the store that stayed encrypted (encrypt.c: no key
 * here opens it) is never served: true after answering 500 with a message
 * naming the object and the key it needs. */
bool api_respond_if_sealed(struct api_server *s, struct orc_httpd_req *r,
                           const struct store_kv *kv);
/* The message for such a value (n bytes). */
void api_sealed_msg(struct api_server *s, const struct store_kv *kv, char *msg, size_t n);
/* For a request about Secrets: the values its body carried in data or
 * stringData (or a patch's values) become "[redacted]" in msg (cap bytes)
 * and in the causes' messages (redact.c). */
void api_redact_secret_values(const struct orc_httpd_req *r, char *msg, size_t cap, json_t *causes);
/* "deployments.apps" or "pods", as Kubernetes names resources in messages. */
void api_resource_name(const struct orc_kind *k, char *out, size_t n);

/* ---- objects in the store ---- */

/* /registry/<group or "core">/<resource>/[<ns>/]<name> */
int api_key(const struct orc_kind *k, const char *ns, const char *name, struct orc_buf *out);
/* Prefix of every key of a kind, in one namespace or (ns NULL) all. */
int api_prefix(const struct orc_kind *k, const char *ns, struct orc_buf *out);
/* Stored form: compact JSON with apiVersion, kind, metadata first and no
 * metadata.resourceVersion (the store's mod revision is the version). */
int api_obj_encode(json_t *obj, struct orc_buf *out);
/* Appends a stored value with metadata.resourceVersion = rev spliced in. */
int api_obj_append(struct orc_buf *out, const char *value, size_t len, int64_t rev);
/* Parses a stored value and sets metadata.resourceVersion. New reference. */
json_t *api_obj_decode(const char *value, size_t len, int64_t rev);

/* A served_only version (lib/kinds.h), `view`: an object of it becomes the
 * stored version's in place (0, or ORC_EINVAL with err saying why), and
 * back; both do nothing for a stored kind. */
int api_view_to_stored(const struct orc_kind *view, json_t *obj, char *err, size_t n);
int api_view_from_stored(const struct orc_kind *view, json_t *obj);
/* api_obj_append in view's version (a plain splice for a stored kind). */
int api_obj_append_as(const struct orc_kind *view, struct orc_buf *out, const char *value,
                      size_t len, int64_t rev);

/* ---- selectors of list/watch requests ---- */

struct orc_selector;
struct orc_fieldsel;
struct api_filter {
    struct orc_selector *labels; /* NULL: everything */
    struct orc_fieldsel *fields; /* NULL: everything */
};

/* Parses ?labelSelector= and ?fieldSelector=; on a bad one answers 400
 * (ending the request) and returns ORC_EINVAL. */
int api_filter_parse(struct orc_httpd_req *r, const struct api_route *rt, struct api_filter *f);
bool api_filter_match(const struct api_filter *f, const json_t *obj);
bool api_filter_match_kv(const struct api_filter *f, const struct store_kv *kv);
bool api_filter_empty(const struct api_filter *f);
void api_filter_clear(struct api_filter *f);

/* autoscaling/v1 Scale view of a workload of a kind with a scale
 * subresource (new reference, NULL on error). */
json_t *api_scale_from(const struct api_kind *ak, const json_t *obj);

/* ---- the write path (leader or forwarded) ---- */

/* Runs a txn on the leader: locally when this member leads, else through
 * the leader's /internal/v1/txn, waiting afterwards until this member has
 * applied the result so the caller reads its own write. Retries while
 * there is no leader for up to 5 s, but never once a leader may have
 * applied it. cb as store_txn_cb, except for its statuses: ORC_EUNAVAIL
 * when no leader could be reached (not applied), ORC_ETIMEDOUT when the
 * outcome is unknown (the leader lost its leadership, stopped or could not
 * be heard from after the txn reached it: it may or may not be applied). */
int api_txn(struct api_server *s, const struct store_txn *txn, store_txn_cb cb, void *arg);

/* Client to the leader's API (owned by the server), or NULL when this
 * member leads or no leader is known. */
http_client *api_leader_client(struct api_server *s);

/* Linearizable read point: cb(arg, 0) once this member has applied every
 * write committed before the call (leader: Raft barrier; follower: the
 * leader's read index, then a local wait). */
int api_read_barrier(struct api_server *s, void (*cb)(void *arg, int status), void *arg);

/* Calls fn(arg) after `ms` on the loop (retries, back-off). */
int api_later(struct api_server *s, unsigned ms, void (*fn)(void *arg), void *arg);

/* ---- watch fan-out (watch_hub.c) ---- */

enum api_watch_type { API_WATCH_ADDED, API_WATCH_MODIFIED, API_WATCH_DELETED };

/* What a change is for a watcher with filter f: an api_watch_type, or -1
 * when the selectors keep it out before and after; match(ctx, prev) says
 * whether the new (prev false) or previous object matches, and is asked
 * only when f has selectors. */
int api_watch_type(const struct api_filter *f, const struct store_event *ev,
                   bool (*match)(void *ctx, bool prev), void *ctx);
const char *api_watch_type_name(int type);
/* One event line, {"type":T,"object":...}\n, with resourceVersion rev. */
int api_watch_encode(const char *type, const struct store_kv *kv, int64_t rev, struct orc_buf *out);
/* The same with the object in view's version (lib/kinds.h served_only). */
int api_watch_encode_as(const struct orc_kind *view, const char *type, const struct store_kv *kv,
                        int64_t rev, struct orc_buf *out);

struct api_watch_group;
struct api_watch_bucket;
struct api_watcher {
    struct orc_link link;
    struct api_watch_group *group;   /* NULL when in none */
    struct api_watch_bucket *bucket; /* the watchers with the same selectors */
    const struct api_filter *filter; /* owned by the watcher */
    const char *filter_key;          /* the selectors as text: equal keys, equal filters */
    int64_t after_rev;               /* events at or below it were already sent */
    /* The version the watcher reads: a served_only row gets its own group,
     * whose events are converted; NULL or a stored row: as stored. */
    const struct orc_kind *view;
    /* An event for this watcher, framed and encoded (shared: queue it to
     * take a reference), or NULL when out of memory. May leave. */
    void (*on_event)(struct api_watcher *w, struct orc_httpd_chunk *ch);
    /* Set instead by a watcher that encodes each event itself (a Table
     * watch): the event's type (api_watch_type), stored value and
     * revision, borrowed for the call. May leave. */
    void (*on_kv)(struct api_watcher *w, int type, const struct store_kv *kv, int64_t rev);
    /* The group's store watch ended (ORC_ECOMPACTED, ORC_ESHUTDOWN); w has
     * already left. */
    void (*on_end)(struct api_watcher *w, int err);
};

int api_watch_hub_start(struct api_server *s);
void api_watch_hub_stop(struct api_server *s);
/* Joins the group of prefix (starting its store watch if it has none): w
 * gets every event applied from now on that its filter lets through. Call
 * outside store callbacks, once w has seen every event applied so far
 * that it needs. */
int api_watch_join(struct api_server *s, const char *prefix, struct api_watcher *w);
void api_watch_leave(struct api_watcher *w);

/* ---- server-side printing (table.c) ---- */

enum api_table_include { API_TABLE_METADATA, API_TABLE_OBJECT, API_TABLE_NONE };

/* A request answered with meta.k8s.io Tables. */
struct api_table {
    char api_version[24];                    /* "meta.k8s.io/v1" or ".../v1beta1" */
    enum api_table_include include;          /* ?includeObject= */
    const struct orc_table_printer *printer; /* the kind's columns (static) */
    const struct orc_kind *view;             /* the route's row: includeObject=Object's shape */
    int64_t now;                             /* Unix seconds, for ages */
};

/* Whether the request's Accept asks for a Table (first acceptable
 * alternative wins; GET and watch of a collection or an object without
 * subresource): 1 and t filled, 0 for plain objects, -1 when the request
 * was answered (400 for a bad includeObject). */
int api_table_negotiate(struct orc_httpd_req *r, const struct api_route *rt,
                        struct api_table *t);
/* A Table is built as head, the metadata's fields, middle (columns, or
 * null when `columns` is false, as every watch event after the first
 * carries), rows separated by commas, then "]}". */
int api_table_head(const struct api_table *t, struct orc_buf *out);
int api_table_middle(const struct api_table *t, bool columns, struct orc_buf *out);
/* Appends the row of a stored value (resourceVersion rev). ORC_ECORRUPT
 * for a value that is not JSON. */
int api_table_row(const struct api_table *t, const char *value, size_t len, int64_t rev,
                  struct orc_buf *out);
/* A whole Table of one object (a GET, a watch event's object). */
int api_table_single(const struct api_table *t, const struct store_kv *kv, int64_t rev,
                     bool columns, struct orc_buf *out);

/* ---- request handlers ---- */

void api_handle_discovery(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* ListOptions of a list or watch (listopts.c). */
enum api_rv_match { API_RV_MATCH_NONE, API_RV_MATCH_EXACT, API_RV_MATCH_NOT_OLDER, API_RV_MATCH_UNKNOWN };
struct api_list_opts {
    bool rv_given; /* resourceVersion given and not "" */
    int64_t rv;
    enum api_rv_match match;
    int send_initial; /* sendInitialEvents: -1 not given, 0, 1 */
    bool bookmarks;   /* allowWatchBookmarks */
};
/* Reads rt's ListOptions into o; on a value or combination Kubernetes
 * refuses, answers 400 or 422 (as Kubernetes words it) and returns
 * ORC_EINVAL. An object route (GetOptions) is not checked for the list-only
 * options. */
int api_list_opts_parse(struct orc_httpd_req *r, const struct api_route *rt, bool watch,
                        struct api_list_opts *o);
/* 504 Timeout "Too large resource version: want, current: current", with
 * the ResourceVersionTooLarge cause client-go retries on. */
void api_respond_rv_too_large(struct orc_httpd_req *r, int64_t want, int64_t current);

/* /openapi/v2 and /openapi/v3[/...] (openapi.c). */
void api_handle_openapi(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* Frees the documents (server teardown). */
void api_openapi_release(struct api_server *s);
void api_handle_read(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
void api_handle_watch(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* GET /internal/v1/backup (backup.c). */
void api_handle_backup(struct api_server *s, struct orc_httpd_req *r);
void api_handle_write(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* DELETE of a collection (delcol.c), from api_handle_write (which has
 * answered 404 for a namespaced kind without a namespace). */
void api_handle_delete_collection(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
void api_handle_internal(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* pods/{name}/log and pods/{name}/exec, relayed to the node's agent. */
void api_handle_pod_proxy(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* ---- the node agents' port (agentcall.c) ---- */

/* "https://IP:PORT" of the agent on `node`, from its Node object (the
 * InternalIP and daemonEndpoints.kubeletEndpoint.Port, as Kubernetes finds
 * a kubelet). ORC_ENOENT when the Node or its endpoint is unknown. */
int api_agent_url(struct api_server *s, const char *node, char *out, size_t n);

/* One GET to a node's agent, trusting the cluster CA and sending the
 * agent-port token; the answer read whole. Returns 0 and cb fires once
 * later (err and resp as client/http.h's http_response_cb), or an error
 * (ORC_ENOENT: the node has no agent endpoint) and cb never fires. The
 * server is held while the call runs. *out (may be NULL) is valid until
 * cb. */
struct api_agent_call;
typedef void (*api_agent_cb)(void *arg, int err, const struct http_response *resp);
int api_agent_get(struct api_server *s, const char *node, const char *path, unsigned timeout_ms,
                  api_agent_cb cb, void *arg, struct api_agent_call **out);
/* cb then fires with ORC_ECANCELED (unless it already fired). */
void api_agent_call_cancel(struct api_agent_call *c);

/* nodes/{name}/proxy/{path} (nodeproxy.c): GETs of the agent's metrics,
 * summary and health, relayed. */
void api_handle_node_proxy(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);

/* podstream.c: an exec with a WebSocket upgrade, relayed to the agent at
 * url ("https://IP:PORT") as a GET of path (its query included). */
void api_pod_stream(struct api_server *s, struct orc_httpd_req *r, const char *url, const char *path);

/* Parses a request body as JSON (or YAML when the content type says so).
 * On failure answers 400 and returns NULL. */
json_t *api_parse_body(struct orc_httpd_req *r);

/* Ensures the default namespaces exist (leader, once per term). */
void api_bootstrap(struct api_server *s);

/* The reservation keys a stored Service holds (its clusterIP, its
 * nodePorts; svcalloc.c), for a delete that bypasses the write path
 * (housekeep.c). Returns how many were written to keys (at most max). */
/* The Endpoints and EndpointSlice of default/kubernetes: the members' API
 * addresses (kubesvc.c; the leader's bootstrap and housekeeping call it). */
/* `done` (may be NULL) runs once the writes this look made have ended
 * (at once when it made none), unless the server is stopping. */
void api_kubernetes_endpoints(struct api_server *s, void (*done)(struct api_server *s));
#define API_SVC_HELD_MAX 34
size_t api_svc_held_keys(const json_t *svc, char keys[][64], size_t max);

#endif
