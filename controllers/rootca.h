/* rootca.h — the root CA publisher, as Kubernetes' root-ca-cert-publisher:
 * every namespace has a ConfigMap "kube-root-ca.crt" whose data is exactly
 * {"ca.crt": the cluster CA's PEM}, so pods can trust the API server. It is
 * created with the namespace, made again when deleted and put back when
 * edited. Nothing is published when the manager has no CA (plain HTTP). */
#ifndef ORC_CONTROLLERS_ROOTCA_H
#define ORC_CONTROLLERS_ROOTCA_H

#include <jansson.h>

#include "controllers/ctl.h"

#define ROOTCA_CONFIGMAP "kube-root-ca.crt"

extern const struct ctl_controller ctl_rootca;

/* The ConfigMap namespace `ns` should hold, given the current one (NULL:
 * none) and the CA's PEM: a new object to create (no resourceVersion) or
 * update (the current one's), or NULL when `cur` already says it (or on
 * ENOMEM, with *fail set). */
json_t *rootca_desired(const json_t *cur, const char *ns, const char *pem, bool *fail);

#endif
