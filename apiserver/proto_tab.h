/* proto_tab.h — private to the proto_*.c tables: the macros that spell a
 * message's fields (numbers from k8s.io/api's generated.proto) and the
 * messages the table files share. */
#ifndef ORC_API_PROTO_TAB_H
#define ORC_API_PROTO_TAB_H

#include "apiserver/proto.h"

#define PB_DEF(n, nm, k, fl, it, m) {.num = n, .name = nm, .kind = k, .flags = fl, .item = it, .msg = m}

/* Scalars: value fields (a zero is left out, as omitempty does)... */
#define P_STR(n, nm) PB_DEF(n, nm, PB_STR, 0, 0, NULL)
#define P_INT(n, nm) PB_DEF(n, nm, PB_INT, 0, 0, NULL)
#define P_BYTES(n, nm) PB_DEF(n, nm, PB_BYTES, 0, 0, NULL)
#define P_BOOL(n, nm) PB_DEF(n, nm, PB_BOOL, 0, 0, NULL)
/* ...and pointers or fields JSON always carries (a zero is kept). */
#define P_STRK(n, nm) PB_DEF(n, nm, PB_STR, PB_KEEP, 0, NULL)
#define P_INTK(n, nm) PB_DEF(n, nm, PB_INT, PB_KEEP, 0, NULL)
#define P_BOOLK(n, nm) PB_DEF(n, nm, PB_BOOL, PB_KEEP, 0, NULL)
#define P_ASTR(n, nm) PB_DEF(n, nm, PB_STR, PB_REP, 0, NULL)
#define P_AINT(n, nm) PB_DEF(n, nm, PB_INT, PB_REP, 0, NULL)
#define P_QTY(n, nm) PB_DEF(n, nm, PB_QTY, 0, 0, NULL)
#define P_TIME(n, nm) PB_DEF(n, nm, PB_TIME, 0, 0, NULL)
#define P_MTIME(n, nm) PB_DEF(n, nm, PB_MTIME, 0, 0, NULL)
#define P_INTSTR(n, nm) PB_DEF(n, nm, PB_INTSTR, 0, 0, NULL)
#define P_FIELDS(n, nm) PB_DEF(n, nm, PB_FIELDS, 0, 0, NULL)
#define P_MSTR(n, nm) PB_DEF(n, nm, PB_MAP, 0, PB_STR, NULL)
#define P_MBYTES(n, nm) PB_DEF(n, nm, PB_MAP, 0, PB_BYTES, NULL)
#define P_MQTY(n, nm) PB_DEF(n, nm, PB_MAP, 0, PB_QTY, NULL)
#define P_MTIMEMAP(n, nm) PB_DEF(n, nm, PB_MAP, 0, PB_TIME, NULL)
#define P_OBJ(n, nm, m) PB_DEF(n, nm, PB_MSG, 0, 0, &(m))
#define P_AOBJ(n, nm, m) PB_DEF(n, nm, PB_MSG, PB_REP, 0, &(m))
#define P_INLINE(n, m) PB_DEF(n, NULL, PB_INLINE, 0, 0, &(m))
#define P_END {.num = 0}

#define PB_MESSAGE(var, tname, ...)                                          \
    static const struct api_pb_field var##_pbf[] = {__VA_ARGS__, P_END}; \
    static const struct api_pb_msg var = {tname, var##_pbf}
#define PB_MESSAGE_SHARED(var, tname, ...)                                   \
    static const struct api_pb_field var##_pbf[] = {__VA_ARGS__, P_END}; \
    const struct api_pb_msg var = {tname, var##_pbf}

/* meta/v1 (proto_meta.c) */
extern const struct api_pb_msg api_pb_objectmeta, api_pb_labelselector, api_pb_condition,
    api_pb_deleteoptions, api_pb_objectref, api_pb_localref;
/* core/v1 pods (proto_pod.c) */
extern const struct api_pb_msg api_pb_podtemplatespec, api_pb_podspec, api_pb_pod;
/* core/v1 kinds (proto_core.c) */
extern const struct api_pb_msg api_pb_configmap, api_pb_secret, api_pb_namespace, api_pb_service,
    api_pb_serviceaccount, api_pb_resourcequota, api_pb_event, api_pb_event_v1, api_pb_lease,
    api_pb_binding, api_pb_endpoints, api_pb_node;
/* apps/v1 sets and core/v1 claims (proto_apps.c) */
extern const struct api_pb_msg api_pb_pvc, api_pb_replicaset, api_pb_statefulset,
    api_pb_daemonset, api_pb_storageclass, api_pb_controllerrevision;
/* the other groups (proto_groups.c) */
extern const struct api_pb_msg api_pb_deployment, api_pb_job, api_pb_cronjob, api_pb_ingress,
    api_pb_pdb, api_pb_eviction, api_pb_priorityclass, api_pb_scale, api_pb_hpa_v1, api_pb_role,
    api_pb_clusterrole, api_pb_rolebinding, api_pb_clusterrolebinding, api_pb_ingressclass, api_pb_csr,
    api_pb_endpointslice, api_pb_tokenrequest;

#endif
