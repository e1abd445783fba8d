/* proto_meta.c — field numbers of meta/v1 messages (ObjectMeta,
 * LabelSelector, Condition, DeleteOptions) and the small core/v1 references
 * every group uses, from k8s.io/apimachinery's and k8s.io/api's
 * generated.proto. */
#include "apiserver/proto_tab.h"

PB_MESSAGE(ownerref, "OwnerReference",
    P_STR(1, "kind"), P_STR(3, "name"), P_STR(4, "uid"), P_STR(5, "apiVersion"),
    P_BOOLK(6, "controller"), P_BOOLK(7, "blockOwnerDeletion"));

PB_MESSAGE(managedfields, "ManagedFieldsEntry",
    P_STR(1, "manager"), P_STR(2, "operation"), P_STR(3, "apiVersion"), P_TIME(4, "time"),
    P_STR(6, "fieldsType"), P_FIELDS(7, "fieldsV1"), P_STR(8, "subresource"));

PB_MESSAGE_SHARED(api_pb_objectmeta, "ObjectMeta",
    P_STR(1, "name"), P_STR(2, "generateName"), P_STR(3, "namespace"), P_STR(4, "selfLink"),
    P_STR(5, "uid"), P_STR(6, "resourceVersion"), P_INT(7, "generation"),
    P_TIME(8, "creationTimestamp"), P_TIME(9, "deletionTimestamp"),
    P_INTK(10, "deletionGracePeriodSeconds"), P_MSTR(11, "labels"), P_MSTR(12, "annotations"),
    P_AOBJ(13, "ownerReferences", ownerref), P_ASTR(14, "finalizers"),
    P_AOBJ(17, "managedFields", managedfields));

PB_MESSAGE(selreq, "LabelSelectorRequirement",
    P_STR(1, "key"), P_STR(2, "operator"), P_ASTR(3, "values"));

PB_MESSAGE_SHARED(api_pb_labelselector, "LabelSelector",
    P_MSTR(1, "matchLabels"), P_AOBJ(2, "matchExpressions", selreq));

PB_MESSAGE_SHARED(api_pb_condition, "Condition",
    P_STR(1, "type"), P_STR(2, "status"), P_INT(3, "observedGeneration"),
    P_TIME(4, "lastTransitionTime"), P_STR(5, "reason"), P_STR(6, "message"));

PB_MESSAGE(preconditions, "Preconditions", P_STRK(1, "uid"), P_STRK(2, "resourceVersion"));

PB_MESSAGE_SHARED(api_pb_deleteoptions, "DeleteOptions",
    P_INTK(1, "gracePeriodSeconds"), P_OBJ(2, "preconditions", preconditions),
    P_BOOLK(3, "orphanDependents"), P_STRK(4, "propagationPolicy"), P_ASTR(5, "dryRun"),
    P_BOOLK(6, "ignoreStoreReadErrorWithClusterBreakingPotential"));

/* core/v1 references */

PB_MESSAGE_SHARED(api_pb_objectref, "ObjectReference",
    P_STR(1, "kind"), P_STR(2, "namespace"), P_STR(3, "name"), P_STR(4, "uid"),
    P_STR(5, "apiVersion"), P_STR(6, "resourceVersion"), P_STR(7, "fieldPath"));

PB_MESSAGE_SHARED(api_pb_localref, "LocalObjectReference", P_STR(1, "name"));
