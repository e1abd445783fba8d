/* schema.h — private to apiserver/: the field tables behind validate.h, the
 * NOT_IMPLEMENTED list, and the helpers the per-kind rule files share. */
#ifndef ORC_API_SCHEMA_H
#define ORC_API_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "apiserver/validate.h"
#include "lib/kinds.h"
#include "lib/smp.h"
#include "lib/names.h"

/* ---- field tables ---- */

enum api_type {
    API_T_STRING = 1,
    API_T_INT,      /* int64 */
    API_T_INT32,    /* int32: a value past its range is refused, as Go's decoder refuses it */
    API_T_BOOL,
    API_T_NUMBER,
    API_T_OBJECT,   /* fields from `obj`; free-form when obj is NULL */
    API_T_ARRAY,    /* elements of type `item` */
    API_T_MAP,      /* object with any keys, values of type `item` */
    API_T_INTSTR,   /* IntOrString: 80 or "http"; the integer is an int32 */
    API_T_QUANTITY, /* "500m", "1Gi"; a JSON number is accepted and turned into text */
    API_T_TIME,     /* RFC 3339 string */
    API_T_FREE,     /* anything, not looked into */
};

#define API_F_REQUIRED 1u /* absent, null, "" or [] is "Required value" */

struct api_struct;

struct api_field {
    const char *name;
    unsigned char type;  /* API_T_* */
    unsigned char item;  /* element type of API_T_ARRAY / value type of API_T_MAP */
    unsigned char flags; /* API_F_* */
    const struct api_struct *obj; /* fields of the object (or of each element/value) */
    /* Strategic merge patch: Kubernetes' patchStrategy (ORC_SMP_* bits,
     * lib/smp.h) and patchMergeKey tags of this field; 0/NULL: objects
     * merge, lists are replaced whole. */
    unsigned char patch;
    const char *merge_key;
};

/* A named object type; the name keys the NOT_IMPLEMENTED table. */
struct api_struct {
    const char *name;
    const struct api_field *fields; /* ends with an entry whose name is NULL */
};

#define API_FP(n, t, i, fl, o, strat, key) \
    {.name = n, .type = t, .item = i, .flags = fl, .obj = o, .patch = strat, .merge_key = key}
#define API_F(n, t, i, fl, o) API_FP(n, t, i, fl, o, 0, NULL)
#define F_STR(n) API_F(n, API_T_STRING, 0, 0, NULL)
#define F_STR_R(n) API_F(n, API_T_STRING, 0, API_F_REQUIRED, NULL)
#define F_INT(n) API_F(n, API_T_INT, 0, 0, NULL)
#define F_INT_R(n) API_F(n, API_T_INT, 0, API_F_REQUIRED, NULL)
#define F_INT32(n) API_F(n, API_T_INT32, 0, 0, NULL)
#define F_BOOL(n) API_F(n, API_T_BOOL, 0, 0, NULL)
#define F_NUM(n) API_F(n, API_T_NUMBER, 0, 0, NULL)
#define F_INTSTR(n) API_F(n, API_T_INTSTR, 0, 0, NULL)
#define F_INTSTR_R(n) API_F(n, API_T_INTSTR, 0, API_F_REQUIRED, NULL)
#define F_QTY(n) API_F(n, API_T_QUANTITY, 0, 0, NULL)
#define F_TIME(n) API_F(n, API_T_TIME, 0, 0, NULL)
#define F_FREE(n) API_F(n, API_T_FREE, 0, 0, NULL)
#define F_OBJ(n, s) API_F(n, API_T_OBJECT, 0, 0, &(s))
#define F_OBJ_R(n, s) API_F(n, API_T_OBJECT, 0, API_F_REQUIRED, &(s))
#define F_AOBJ(n, s) API_F(n, API_T_ARRAY, API_T_OBJECT, 0, &(s))
#define F_AOBJ_R(n, s) API_F(n, API_T_ARRAY, API_T_OBJECT, API_F_REQUIRED, &(s))
#define F_ASTR(n) API_F(n, API_T_ARRAY, API_T_STRING, 0, NULL)
#define F_ASTR_R(n) API_F(n, API_T_ARRAY, API_T_STRING, API_F_REQUIRED, NULL)
#define F_AINT(n) API_F(n, API_T_ARRAY, API_T_INT, 0, NULL)
#define F_AFREE(n) API_F(n, API_T_ARRAY, API_T_FREE, 0, NULL)
#define F_MSTR(n) API_F(n, API_T_MAP, API_T_STRING, 0, NULL)
#define F_MQTY(n) API_F(n, API_T_MAP, API_T_QUANTITY, 0, NULL)
#define F_FREEOBJ(n) API_F(n, API_T_OBJECT, 0, 0, NULL)
#define F_END {.name = NULL}

/* Fields with a patch strategy (Kubernetes' patchStrategy/patchMergeKey
 * tags, as in k8s.io/api): lists of objects merged by a key, lists of
 * strings merged as sets, objects whose fields kubectl retains. */
#define API_P_MERGE ORC_SMP_MERGE
#define API_P_RETAIN ORC_SMP_RETAIN_KEYS
#define F_AOBJ_MERGE(n, s, key) API_FP(n, API_T_ARRAY, API_T_OBJECT, 0, &(s), API_P_MERGE, key)
#define F_AOBJ_MERGE_R(n, s, key) \
    API_FP(n, API_T_ARRAY, API_T_OBJECT, API_F_REQUIRED, &(s), API_P_MERGE, key)
#define F_AOBJ_MERGE_RETAIN(n, s, key) \
    API_FP(n, API_T_ARRAY, API_T_OBJECT, 0, &(s), API_P_MERGE | API_P_RETAIN, key)
#define F_ASTR_MERGE(n) API_FP(n, API_T_ARRAY, API_T_STRING, 0, NULL, API_P_MERGE, NULL)
#define F_OBJ_RETAIN(n, s) API_FP(n, API_T_OBJECT, 0, 0, &(s), API_P_RETAIN, NULL)
/* Not checked by the schema pass (like F_FREE / F_AFREE), but patched as
 * `s` says: statuses, whose lists Kubernetes merges (conditions by type). */
#define F_FREE_PATCHED(n, s) API_FP(n, API_T_FREE, 0, 0, &(s), 0, NULL)
#define F_AFREE_MERGE(n, key) API_FP(n, API_T_ARRAY, API_T_FREE, 0, NULL, API_P_MERGE, key)
#define F_AFREE_MERGE_RETAIN(n, key) \
    API_FP(n, API_T_ARRAY, API_T_FREE, 0, NULL, API_P_MERGE | API_P_RETAIN, key)
#define F_AFREE_MERGE_AS(n, s, key) API_FP(n, API_T_ARRAY, API_T_FREE, 0, &(s), API_P_MERGE, key)

/* Declares an object type and its field list (a file-local one, or one
 * other schema files refer to). */
#define API_STRUCT(var, tname, ...)                                      \
    static const struct api_field var##_fields[] = {__VA_ARGS__, F_END}; \
    static const struct api_struct var = {tname, var##_fields}
#define API_STRUCT_SHARED(var, tname, ...)                               \
    static const struct api_field var##_fields[] = {__VA_ARGS__, F_END}; \
    const struct api_struct var = {tname, var##_fields}

/* Every kind starts with these. */
#define F_TYPEMETA F_STR("apiVersion"), F_STR("kind"), F_OBJ("metadata", api_s_objectmeta)

/* Shared object types (schema_core.c, schema_pod.c). */
extern const struct api_struct api_s_objectmeta, api_s_labelselector, api_s_podtemplatespec,
    api_s_podspec, api_s_nodeselector, api_s_pvcspec, api_s_objectref;
/* Kind roots. */
extern const struct api_struct api_s_namespace, api_s_node, api_s_pod, api_s_configmap,
    api_s_secret, api_s_service, api_s_event, api_s_lease, api_s_deployment, api_s_replicaset,
    api_s_statefulset, api_s_daemonset, api_s_job, api_s_cronjob, api_s_priorityclass,
    api_s_controllerrevision, api_s_persistentvolume, api_s_persistentvolumeclaim,
    api_s_storageclass, api_s_poddisruptionbudget, api_s_eviction, api_s_endpoints,
    api_s_endpointslice, api_s_ingress, api_s_ingressclass, api_s_serviceaccount,
    api_s_limitrange, api_s_resourcequota, api_s_replicationcontroller, api_s_role,
    api_s_clusterrole, api_s_rolebinding, api_s_clusterrolebinding, api_s_networkpolicy,
    api_s_hpa, api_s_hpa_v1, api_s_csr, api_s_event_v1;

/* The root object type of a kind, or NULL. */
const struct api_struct *api_schema_root(const struct orc_kind *k);

/* Required-value pass over a (type-checked) object, driven by API_F_REQUIRED. */
void api_schema_required(const struct orc_kind *k, const json_t *obj, struct api_diag *d);

/* The kind's patch strategies for lib/smp (schema_patch.c); false when orc
 * has no schema for the kind (no strategic merge patch, as for custom
 * resources in Kubernetes). */
bool api_schema_smp(const struct orc_kind *k, struct orc_smp_schema *out);

/* ---- NOT_IMPLEMENTED (schema_notimpl.c) ---- */

struct api_notimpl {
    const char *type;   /* api_struct name, "PodSpec" */
    const char *field;  /* "topologySpreadConstraints" */
    const char *unless; /* no warning when the value's text is this ("false", "default") */
    const char *only;   /* warn only when the value's text is this ("LoadBalancer") */
};

const struct api_notimpl *api_notimpl_find(const char *type, const char *field);

/* ---- diagnostics helpers (validate.c) ---- */

#define API_PATH_MAX 512

/* snprintf into a path buffer (truncating quietly). */
void api_pathf(char out[API_PATH_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* out = base.key (key alone when base is empty); out = base[i]. Truncated
 * at API_PATH_MAX as api_pathf is. */
void api_path_join(char out[API_PATH_MAX], const char *base, const char *key);
void api_path_index(char out[API_PATH_MAX], const char *base, size_t i);
void api_warn(struct api_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The causes Kubernetes' field.Error constructors make; `detail` may be NULL. */
void api_required(struct api_diag *d, const char *field, const char *detail);
void api_forbidden(struct api_diag *d, const char *field, const char *detail);
void api_toolong(struct api_diag *d, const char *field, long max);
void api_invalid(struct api_diag *d, const char *field, const json_t *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void api_invalid_str(struct api_diag *d, const char *field, const char *value, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
void api_invalid_int(struct api_diag *d, const char *field, long long value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* `supported` is NULL-terminated. */
void api_unsupported(struct api_diag *d, const char *field, const json_t *value,
                     const char *const *supported);
void api_duplicate(struct api_diag *d, const char *field, const json_t *value);
void api_notfound(struct api_diag *d, const char *field, const json_t *value);
void api_type_invalid(struct api_diag *d, const char *field, const json_t *value,
                      const char *expected);

/* ---- JSON accessors for rules: tolerant of wrong types (NULL / false) ---- */

const char *api_str(const json_t *o, const char *key);
bool api_int(const json_t *o, const char *key, long long *out);
const json_t *api_obj(const json_t *o, const char *key);
const json_t *api_arr(const json_t *o, const char *key);
bool api_is_true(const json_t *o, const char *key);

/* ---- shared checks (validate.c) ---- */

/* o[key], when an integer, must be >= min ("must be greater than or equal to N"). */
void api_check_min(struct api_diag *d, const json_t *o, const char *key, const char *base,
                   long long min);
/* o[key], when present, must be one of `values` (NULL-terminated). */
void api_check_enum(struct api_diag *d, const json_t *o, const char *key, const char *base,
                    const char *const *values);
void api_check_labels(struct api_diag *d, const json_t *labels, const char *field);
void api_check_annotations(struct api_diag *d, const json_t *ann, const char *field);
/* A LabelSelector's keys, operators and values. */
void api_check_selector(struct api_diag *d, const json_t *sel, const char *field);
/* A name rule from lib/names.h applied to o[key] when it is a non-empty
 * string, all of it (a NUL inside is refused, never taken as the end). */
void api_check_name(struct api_diag *d, const json_t *o, const char *key, const char *base,
                    orc_name_rule rule);
/* The same for a value at `field`; false when a cause was recorded. */
bool api_check_name_value(struct api_diag *d, const json_t *v, const char *field,
                          orc_name_rule rule);
/* 1..65535 (port numbers). */
void api_check_port(struct api_diag *d, const json_t *o, const char *key, const char *base,
                    bool required);
/* An IntOrString port: 1..65535 or an IANA_SVC_NAME. */
void api_check_port_or_name(struct api_diag *d, const json_t *v, const char *field);
/* IANA_SVC_NAME rules; 0 when valid, else writes the reason. */
int api_port_name(const char *s, char *msg, size_t n);
/* A quantity at `field`; 0 and *milli when valid, else records a cause. */
int api_check_quantity(struct api_diag *d, const json_t *v, const char *field, int64_t *milli);
/* For immutability: records "field is immutable" when a and b differ. */
void api_check_immutable(struct api_diag *d, const json_t *now, const json_t *was,
                         const char *field);
bool api_is_ip(const char *s);
bool api_is_cidr(const char *s);

/* An IntOrString count or percentage ("must be greater than or equal to 0",
 * "must not be greater than 100%" with cap100); *zero: it is 0 or "0%". */
void api_check_int_or_percent(struct api_diag *d, const json_t *v, const char *field,
                              bool cap100, bool *zero);
/* accessModes (required, known values), resources.requests[storage]
 * (required, positive), storageClassName, volumeMode, selector of a
 * PersistentVolumeClaimSpec at base (a claim or a claim template). */
void api_rules_pvc_spec(struct api_diag *d, const json_t *spec, const char *base);

/* ---- pod-spec helpers shared by containers and volumes ---- */

/* How many of `keys` (NULL-terminated) o has; *second: the second found. */
int api_count_present(const json_t *o, const char *const *keys, const char **second);
/* A relative path that stays below its directory (no "..", not absolute). */
void api_check_local_path(struct api_diag *d, const char *s, const char *field);
/* A required object name (ConfigMap, Secret) at base.name. */
void api_check_ref_name(struct api_diag *d, const json_t *ref, const char *base);
/* An ObjectFieldSelector whose fieldPath is one of `paths`. */
void api_check_field_ref(struct api_diag *d, const json_t *ref, const char *base,
                         const char *const *paths);
/* A ResourceFieldSelector; containerName is required in volumes. */
void api_check_resource_ref(struct api_diag *d, const json_t *ref, const char *base,
                            bool need_container);

/* ---- per-kind rules (schema_rules_*.c) ---- */

/* restart: allowed restartPolicy values for a template (NULL: any).
 * claims: a StatefulSet's volumeClaimTemplates, which mounts may name like
 * volumes (NULL elsewhere). */
void api_rules_pod_template(struct api_diag *d, const json_t *tmpl, const char *base,
                            const char *const *restart, const json_t *claims);
void api_rules_podspec(struct api_diag *d, const json_t *spec, const char *base,
                       const json_t *claims);
/* The containers of a pod spec; volume_names: the set mounts may name. */
void api_rules_containers(struct api_diag *d, const json_t *spec, const char *base,
                          const json_t *volume_names);
void api_rules_pod(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_deployment(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_replicaset(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_statefulset(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_daemonset(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_job(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_cronjob(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_service(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_configmap(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_secret(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_namespace(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_node(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_event(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_event_v1(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_lease(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_endpoints(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_endpointslice(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_priorityclass(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_controllerrevision(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_persistentvolume(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_persistentvolumeclaim(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_storageclass(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_poddisruptionbudget(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_ingress(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_ingressclass(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_networkpolicy(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_replicationcontroller(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_limitrange(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_resourcequota(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_role(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_clusterrole(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_rolebinding(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_clusterrolebinding(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_hpa(struct api_diag *d, const json_t *obj, const json_t *old);
void api_rules_csr(struct api_diag *d, const json_t *obj, const json_t *old);

#endif
