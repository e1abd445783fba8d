/* csrapproving.h — the CertificateSigningRequest approver, as
 * kube-controller-manager's csrapproving: a node's request for its own
 * client certificate (requestor system:node:NAME asking for CN
 * system:node:NAME, O system:nodes, signer kube-apiserver-client-kubelet,
 * digital signature and client auth, key encipherment allowed, no
 * subjectAltNames) is approved once a SubjectAccessReview says its
 * requestor may create certificatesigningrequests/selfnodeclient. Any other
 * request waits for a person. */
#ifndef ORC_CONTROLLERS_CSRAPPROVING_H
#define ORC_CONTROLLERS_CSRAPPROVING_H

#include <jansson.h>
#include <stdbool.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_csrapproving;

/* Whether csr is pending (neither Approved nor Denied) and a node's
 * request for its own client certificate, as above. */
bool csr_is_self_node_client(const json_t *csr);

#endif
