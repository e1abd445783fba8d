/* kind.h — what the API server does differently for each kind, one row per
 * kind (Kubernetes' per-resource "strategy": defaults, validation,
 * PrepareForCreate / PrepareForUpdate, subresources). Every apiserver path
 * asks the row instead of comparing resource names; adding a kind is a row
 * here (apiserver/kind.c), its lib/kinds entry and its schema. Internal to
 * apiserver/. The rows are static and never freed. */
#ifndef ORC_API_KIND_H
#define ORC_API_KIND_H

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/validate.h"
#include "lib/kinds.h"
#include "lib/names.h"

struct api_struct;
struct api_user;

/* Subresources beyond status and scale (which lib/kinds states, since
 * clients need them too). */
enum api_sub {
    API_SUB_BINDING = 1u << 0,  /* POST pods/binding */
    API_SUB_LOG = 1u << 1,      /* GET pods/log (proxied to the agent) */
    API_SUB_EXEC = 1u << 2,     /* POST pods/exec (proxied to the agent) */
    API_SUB_FINALIZE = 1u << 3, /* PUT namespaces/finalize */
    API_SUB_EVICTION = 1u << 4, /* POST pods/eviction (policy/v1 Eviction) */
    API_SUB_ATTACH = 1u << 5,   /* GET pods/attach with a WebSocket (proxied to the agent) */
    API_SUB_PORTFORWARD = 1u << 6, /* GET|POST pods/portforward upgraded to SPDY/3.1 (relayed to the agent) */
    API_SUB_TOKEN = 1u << 7, /* POST serviceaccounts/token (authentication.k8s.io/v1 TokenRequest) */
    API_SUB_APPROVAL = 1u << 8, /* PUT|PATCH certificatesigningrequests/approval */
    API_SUB_PROXY = 1u << 9, /* nodes/{name}/proxy/{path}: GETs relayed to the node's agent */
};

/* Where the scale subresource reads and writes. */
struct api_scale_paths {
    const char *spec_replicas;   /* "spec.replicas" */
    const char *status_replicas; /* "status.replicas" */
    const char *selector;        /* a LabelSelector, shown as text in status.selector */
    bool selector_map;           /* selector is a plain label map (ReplicationController) */
};

struct api_kind {
    const struct orc_kind *k;            /* its lib/kinds entry */
    const struct api_struct *schema;     /* root type of the schema pass; NULL: none */
    orc_name_rule name_rule;             /* metadata.name (NULL: DNS-1123 subdomain) */
    unsigned subresources;               /* API_SUB_* bits */
    const struct api_scale_paths *scale; /* set when k->has_scale */
    bool tracks_generation;              /* metadata.generation counts spec changes */
    /* Field selectors Kubernetes indexes for the kind, beyond metadata.name
     * and metadata.namespace; NULL-terminated, or NULL. */
    const char *const *field_labels;
    /* A served_only row's field selectors, beyond metadata.name and
     * metadata.namespace: the stored row's path a label of this version
     * matches ("regarding.name" -> "involvedObject.name"), NULL when not
     * supported. Used instead of field_labels when set. */
    const char *(*field_label)(const char *label);

    /* Kubernetes' defaults (before validation). May be NULL. */
    void (*defaults)(json_t *obj);
    /* The kind's semantic rules; old is the stored object on update, NULL
     * on create. May be NULL. A served_only row's rules run after its
     * stored row's, on the stored form, for writes through that version
     * (events.k8s.io/v1's strict Event rules, which Kubernetes also words
     * in the core Event's field names). */
    void (*validate)(struct api_diag *d, const json_t *obj, const json_t *old);
    /* A new object's server-owned fields beyond metadata, before
     * admission. NULL: a kind with a status subresource starts with an
     * empty status. */
    void (*prepare_create)(json_t *obj);
    /* An update (`next` from the client) keeps what the server owns from
     * `cur`, besides metadata and status (carried generically). May be NULL. */
    void (*prepare_update)(const json_t *cur, json_t *next);
    /* A new object records who asked for it (a CertificateSigningRequest's
     * spec.username...), from the request's user (NULL: none). May be NULL. */
    void (*set_requestor)(json_t *obj, const struct api_user *u);

    /* Deletion. */
    bool graceful_delete; /* a pod on a node ends after its grace period */
    /* Namespace lifecycle: a delete marks it Terminating, spec.finalizers
     * hold the removal (the finalize subresource clears them). */
    bool spec_finalizers;
    const char *const *undeletable; /* names a delete refuses (403), or NULL */
    bool pod_cidr;                  /* a Node: holds a block of the cluster CIDR */

    /* A Warning header on every create and update: what orc does not do
     * with the kind yet (RBAC is not enforced...). NULL: none. */
    const char *warning;
    /* A served_only version (lib/kinds.h): turns an object of this version
     * into the stored version's, and back, in place; 0 or ORC_EINVAL with
     * a message in err (a round-trip annotation that does not parse). */
    int (*to_stored)(json_t *obj, char *err, size_t n);
    int (*from_stored)(json_t *obj, char *err, size_t n);
};

/* The row of a kind (k from lib/kinds). Never NULL. */
const struct api_kind *api_kind_of(const struct orc_kind *k);

/* Whether the kind serves subresource `sub` ("status", "scale", "binding",
 * "log", "exec", "finalize"). */
bool api_kind_serves(const struct api_kind *ak, const char *sub);

/* Subresources as discovery lists them. */
struct api_subresource {
    const char *name;        /* "status" */
    const char *kind;        /* its kind in discovery; NULL: the resource's own */
    const char *const *verbs;
    /* The group and version of that kind when not the resource's
     * ("policy", "v1" for an Eviction: kubectl drain looks for them). */
    const char *group, *version;
};

/* The subresources the kind serves, in discovery order: fills up to max
 * entries of out and returns how many. */
size_t api_kind_subresources(const struct api_kind *ak, struct api_subresource *out, size_t max);

/* ---- the per-kind functions the rows name (defaults.c, prepare.c) ---- */

void api_defaults_pod(json_t *obj);
void api_defaults_deployment(json_t *obj);
void api_defaults_replicaset(json_t *obj);
void api_defaults_statefulset(json_t *obj);
void api_defaults_daemonset(json_t *obj);
void api_defaults_job(json_t *obj);
void api_defaults_cronjob(json_t *obj);
void api_defaults_service(json_t *obj);
void api_defaults_secret(json_t *obj);
void api_defaults_priorityclass(json_t *obj);
void api_defaults_persistentvolume(json_t *obj);
void api_defaults_persistentvolumeclaim(json_t *obj);
void api_defaults_storageclass(json_t *obj);
void api_defaults_replicationcontroller(json_t *obj);
void api_defaults_binding(json_t *obj);
void api_defaults_networkpolicy(json_t *obj);
void api_defaults_hpa(json_t *obj);

/* autoscaling/v1 <-> v2 HorizontalPodAutoscaler (convert_hpa.c). */
int api_hpa_v1_to_v2(json_t *obj, char *err, size_t n);
int api_hpa_v2_to_v1(json_t *obj, char *err, size_t n);

/* events.k8s.io/v1 <-> core/v1 Event (convert_event.c), and the core
 * field selector label an events.k8s.io/v1 one names (NULL: none). */
int api_event_v1_to_core(json_t *obj, char *err, size_t n);
int api_event_core_to_v1(json_t *obj, char *err, size_t n);
const char *api_event_v1_field_label(const char *label);

void api_prepare_create_pod(json_t *obj);
void api_prepare_create_namespace(json_t *obj);
void api_prepare_create_node(json_t *obj);
void api_prepare_create_pending(json_t *obj);
void api_prepare_update_service(const json_t *cur, json_t *next);

#endif
