/* kinds.h — the resources orc serves: names, groups, scope and short names.
 * One table shared by the API server (routing, discovery), the client and
 * orctl (resolving "deploy" or "deployments.apps" to a path). */
#ifndef ORC_KINDS_H
#define ORC_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct orc_kind {
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *kind;     /* "Deployment" */
    const char *resource; /* "deployments" */
    const char *singular; /* "deployment" */
    const char *short_names[4]; /* NULL-terminated */
    bool namespaced;
    bool has_status; /* status subresource */
    bool has_scale;  /* scale subresource */
};

/* Each kind's index in the table: the API server's per-kind rows
 * (apiserver/kind.c) are indexed the same way. */
enum orc_kind_id {
    ORC_K_NAMESPACE,
    ORC_K_NODE,
    ORC_K_POD,
    ORC_K_CONFIGMAP,
    ORC_K_SECRET,
    ORC_K_SERVICE,
    ORC_K_EVENT,
    ORC_K_LEASE,
    ORC_K_DEPLOYMENT,
    ORC_K_REPLICASET,
    ORC_K_STATEFULSET,
    ORC_K_DAEMONSET,
    ORC_K_JOB,
    ORC_K_CRONJOB,
    ORC_K_PRIORITYCLASS,
    ORC_K_CONTROLLERREVISION,
    ORC_K_PERSISTENTVOLUME,
    ORC_K_PERSISTENTVOLUMECLAIM,
    ORC_K_STORAGECLASS,
    ORC_K_PODDISRUPTIONBUDGET,
    ORC_K_ENDPOINTS,
    ORC_K_ENDPOINTSLICE,
    ORC_K_INGRESS,
    ORC_K_INGRESSCLASS,
    ORC_K_SERVICEACCOUNT,
    ORC_K_REPLICATIONCONTROLLER,
    ORC_K_LIMITRANGE,
    ORC_K_RESOURCEQUOTA,
    ORC_K_ROLE,
    ORC_K_CLUSTERROLE,
    ORC_K_ROLEBINDING,
    ORC_K_CLUSTERROLEBINDING,
    ORC_K_NETWORKPOLICY,
    ORC_K_HPA,    /* autoscaling/v2, the stored and preferred version */
    ORC_K_HPA_V1, /* autoscaling/v1, served_only */
    ORC_K_CSR,    /* certificates.k8s.io/v1 CertificateSigningRequest */
    ORC_K_EVENT_V1, /* events.k8s.io/v1 Event, served_only: stored as the core/v1 Event */
    ORC_K_COUNT
};

/* The whole table, indexed by enum orc_kind_id (static storage). */
extern const struct orc_kind orc_kind_table[ORC_K_COUNT];

/* The whole table (static storage; never freed). */
const struct orc_kind *orc_kinds(size_t *n);

/* The kind's index in orc_kind_table. */
enum orc_kind_id orc_kind_id(const struct orc_kind *k);

/* "apps/v1" or "v1" for the core group. Static storage. */
const char *orc_kind_api_version(const struct orc_kind *k);

/* Resolves what a user types: plural, singular, Kind, short name, any of them
 * case-insensitively, optionally qualified ("deployments.apps",
 * "deploy.apps"). NULL when unknown. */
const struct orc_kind *orc_kind_lookup(const char *name);

/* By apiVersion ("apps/v1", "v1") and Kind, as in a manifest. NULL if unknown. */
const struct orc_kind *orc_kind_by_gvk(const char *api_version, const char *kind);

/* By URL group and plural resource: the stored version's row. NULL if unknown. */
const struct orc_kind *orc_kind_by_resource(const char *group, const char *resource);

/* By URL group, version and plural resource (a served_only row too). NULL
 * if that version is not served. */
const struct orc_kind *orc_kind_by_gvr(const char *group, const char *version,
                                       const char *resource);

/* Whether k is another view of an earlier row's objects: another version
 * of the same group and resource (autoscaling/v1 HorizontalPodAutoscaler),
 * or the same objects in another group (events.k8s.io/v1 Event, stored as
 * the core/v1 Event under the same key). Served and in discovery, but
 * stored as that row's version and converted by the API server on the way
 * in and out. (A list in kinds.c rather than a field, so the table's
 * positional rows stay complete for every compiler.) */
bool orc_kind_served_only(const struct orc_kind *k);

/* The row whose version the objects of k are stored in: k itself unless k
 * is served_only. Never NULL. */
const struct orc_kind *orc_kind_stored(const struct orc_kind *k);

/* Whether k is a served_only row of its stored row's own group (an older
 * version: kubectl api-resources lists the preferred version alone). */
bool orc_kind_older_version(const struct orc_kind *k);

/* Appends the REST path: /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]] or
 * /apis/GROUP/VERSION/... ns is ignored for cluster-scoped kinds and may be
 * NULL (all namespaces) for namespaced ones; name and sub may be NULL. */
int orc_kind_path(const struct orc_kind *k, const char *ns, const char *name, const char *sub,
                  struct orc_buf *out);

/* Kubernetes' "all" category, what `kubectl get all` lists: resource
 * names in kubectl's order, NULL-terminated; some (replicationcontrollers,
 * horizontalpodautoscalers) may not be served. Discovery marks the served
 * ones with categories ["all"]. */
extern const char *const orc_category_all[];
bool orc_kind_in_category_all(const struct orc_kind *k);

/* "deployment.apps" / "pod": the prefix kubectl prints ("deployment.apps/web"). */
int orc_kind_qualified(const struct orc_kind *k, struct orc_buf *out);

#endif
