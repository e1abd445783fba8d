/* podrefs.h — the objects a pod spec names in its own namespace: Secrets
 * and ConfigMaps (env valueFrom, envFrom, secret/configMap volumes and
 * projected sources, imagePullSecrets), PersistentVolumeClaims, and its
 * ServiceAccount. One walk, shared by the Node authorizer's graph
 * (apiserver/authz_node.c) and the agent's per-object watches
 * (agent/objwatch.c), so both agree on what a pod uses. */
#ifndef ORC_PODREFS_H
#define ORC_PODREFS_H

#include <jansson.h>

enum orc_pod_ref {
    ORC_REF_SECRET = 'S',
    ORC_REF_CONFIGMAP = 'C',
    ORC_REF_CLAIM = 'P',
    ORC_REF_SERVICEACCOUNT = 'A',
};

/* Calls fn(arg, type, name) for each name spec (a pod's spec, borrowed)
 * uses, names borrowed from spec, empty ones skipped; a name may come more
 * than once. The ServiceAccount ("default" when unset) comes last. */
void orc_pod_refs(const json_t *spec, void (*fn)(void *arg, enum orc_pod_ref type, const char *name),
                  void *arg);

/* The resource of a reference type ("secrets", ...), or NULL. */
const char *orc_pod_ref_resource(enum orc_pod_ref type);

#endif
