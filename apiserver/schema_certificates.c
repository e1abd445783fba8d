/* schema_certificates.c — field tables for certificates.k8s.io/v1
 * CertificateSigningRequest. request and certificate are []byte in
 * Kubernetes: base64 text in JSON, decoded by the rules. */
#include "apiserver/schema.h"

API_STRUCT(csrspec, "CertificateSigningRequestSpec",
    F_STR_R("request"), F_STR("signerName"), F_INT32("expirationSeconds"), F_ASTR("usages"),
    F_STR("username"), F_STR("uid"), F_ASTR("groups"), F_FREEOBJ("extra"));
API_STRUCT(csrcond, "CertificateSigningRequestCondition",
    F_STR_R("type"), F_STR_R("status"), F_STR("reason"), F_STR("message"),
    F_TIME("lastUpdateTime"), F_TIME("lastTransitionTime"));
API_STRUCT(csrstatus, "CertificateSigningRequestStatus",
    F_AOBJ_MERGE("conditions", csrcond, "type"), F_STR("certificate"));

API_STRUCT_SHARED(api_s_csr, "CertificateSigningRequest",
    F_TYPEMETA, F_OBJ_R("spec", csrspec), F_OBJ("status", csrstatus));
