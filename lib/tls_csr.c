/* tls_csr.c — reading PKCS#10 requests (what the CertificateSigningRequest
 * API validates and its signers check) and a certificate's validity
 * window (when an agent renews). */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "lib/orc.h"
#include "lib/tls.h"
#include "lib/tls_int.h"

int orc_tls_csr_read(const char *csr_pem, size_t len, struct orc_tls_csr_info *out, char *errmsg)
{
    BIO *b = BIO_new_mem_buf(csr_pem, (int)len);
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, orc_tls__no_passphrase, NULL) : NULL;
    EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509 *probe = NULL;
    int rv = 0;

    memset(out, 0, sizeof *out);
    if (len > INT32_MAX || req == NULL || pub == NULL) {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "PEM block type must be CERTIFICATE REQUEST");
        goto out;
    }
    if (X509_REQ_verify(req, pub) != 1) {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "x509: ECDSA verification failure");
        goto out;
    }
    /* Its subject read as a certificate's will be: one CN, plain names. */
    if ((probe = X509_new()) == NULL || X509_set_subject_name(probe, X509_REQ_get_subject_name(req)) != 1) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate request");
        goto out;
    }
    if (orc_tls__identity(probe, &out->who) != 0) {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "the subject has several common names, more than %d "
                            "organizations or names that are not plain text", ORC_TLS_MAX_ORGS);
        goto out;
    }
    exts = X509_REQ_get_extensions(req);
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++)
        if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) == NID_subject_alt_name)
            out->has_sans = true;
out:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_free(probe);
    X509_REQ_free(req);
    BIO_free(b);
    ERR_clear_error();
    return rv;
}

int orc_tls_cert_times(const char *cert_pem, int64_t *not_before, int64_t *not_after, char *errmsg)
{
    X509 *x = orc_tls__read_cert(cert_pem);
    ASN1_TIME *epoch = NULL;
    int days = 0, secs = 0, rv = 0;

    if (x == NULL) return orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "certificate");
    if ((epoch = ASN1_TIME_set(NULL, 0)) == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "time");
        goto out;
    }
    if (ASN1_TIME_diff(&days, &secs, epoch, X509_get0_notBefore(x)) != 1) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "notBefore");
        goto out;
    }
    *not_before = (int64_t)days * 86400 + secs;
    if (ASN1_TIME_diff(&days, &secs, epoch, X509_get0_notAfter(x)) != 1) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "notAfter");
        goto out;
    }
    *not_after = (int64_t)days * 86400 + secs;
out:
    ASN1_TIME_free(epoch);
    X509_free(x);
    ERR_clear_error();
    return rv;
}
