/* csr.h — certificates.k8s.io/v1 CertificateSigningRequest's strategy
 * (csr.c): the requestor set by the server, a spec that never changes,
 * the status and approval subresources each owning its part of status,
 * and the admission checks Kubernetes' CertificateApproval,
 * CertificateSigning and CertificateSubjectRestriction plugins make.
 * Internal to apiserver/. */
#ifndef ORC_API_CSR_H
#define ORC_API_CSR_H

#include <jansson.h>

#include "apiserver/user.h"

struct write_op;

#define CSR_SIGNER_CLIENT "kubernetes.io/kube-apiserver-client"
#define CSR_SIGNER_KUBELET "kubernetes.io/kube-apiserver-client-kubelet"

/* spec.username, uid, groups from the requesting user; extra removed (orc's
 * users carry none). */
void api_csr_set_requestor(json_t *obj, const struct api_user *u);
/* An update keeps the stored spec, as Kubernetes' strategy does. */
void api_prepare_update_csr(const json_t *cur, json_t *next);

/* The status subresource's object (next, built by mut_status) keeps the
 * stored Approved and Denied conditions; the approval subresource's keeps
 * everything but them. Both then pass validation and admission. Return
 * next, or NULL after answering (next is then released). */
json_t *api_csr_status(struct write_op *op, const json_t *cur, json_t *next);
json_t *mut_approval(struct write_op *op, const json_t *cur);

/* Admission of a CSR write (from write_admit): 0, or answers 403 and
 * returns ORC_EPERM. */
int api_csr_admit(struct write_op *op, const json_t *obj, const json_t *old);

#endif
