/* csrsigning.h — the CertificateSigningRequest signer and cleaner, as
 * kube-controller-manager's csrsigning and csrcleaner: an approved request
 * of kubernetes.io/kube-apiserver-client or -client-kubelet gets
 * status.certificate signed by the cluster CA, or a Failed condition
 * saying why not; finished requests are deleted an hour after, pending
 * ones after a day. Runs only where the manager holds the CA key. */
#ifndef ORC_CONTROLLERS_CSRSIGNING_H
#define ORC_CONTROLLERS_CSRSIGNING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_csrsigning;

#define CSR_CLIENT_SIGNER "kubernetes.io/kube-apiserver-client"
#define CSR_KUBELET_SIGNER "kubernetes.io/kube-apiserver-client-kubelet"
#define CSR_DEFAULT_SECONDS (365L * 86400)

/* What the signer does with a request now. */
enum csr_action {
    CSR_WAIT,  /* not approved yet, denied, failed, issued or not ours */
    CSR_SIGN,  /* *pem (malloc'd) is the request to sign for *seconds */
    CSR_FAIL,  /* refused: why holds the Failed condition's message */
};

/* The decision for `csr` given the longest lifetime of the kubelet
 * signer's certificates (node_ttl_s; 0: a year). *pem is set only for
 * CSR_SIGN; why (n bytes) only for CSR_FAIL. */
enum csr_action csr_sign_decide(const json_t *csr, long node_ttl_s, char **pem, long *seconds,
                                char *why, size_t n);

/* When the cleaner deletes `csr` (Unix seconds): an hour after it was
 * approved, denied or failed (the condition's lastUpdateTime), a day after
 * it was created while pending; -1 when unreadable. */
int64_t csr_gc_time(const json_t *csr);

/* Whether csr holds a condition of `type` (status True). */
bool csr_has_condition(const json_t *csr, const char *type);

#endif
