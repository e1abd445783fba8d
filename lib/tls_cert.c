/* tls_cert.c — the cluster's small PKI on OpenSSL 3: a CA, the certificates
 * it signs (with a subject of CN and optional O), fingerprints, and the
 * checks a member runs on its files at start; plus the helpers tls.c shares
 * (errors, PEM readers). */
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/orc.h"
#include "lib/tls.h"
#include "lib/tls_int.h"

/* ---- errors ---- */

int orc_tls__failf(char *errmsg, int code, const char *fmt, ...)
{
    va_list ap;

    if (errmsg) {
        va_start(ap, fmt);
        vsnprintf(errmsg, ORC_TLS_ERRLEN, fmt, ap);
        va_end(ap);
    }
    ERR_clear_error();
    return code;
}

/* `what` plus OpenSSL's reason for the newest error on this thread's queue. */
int orc_tls__ossl_fail(char *errmsg, int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    return orc_tls__failf(errmsg, code, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
}

/* PEM readers never prompt for a passphrase: orc's keys are unencrypted. */
int orc_tls__no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

X509 *orc_tls__read_cert(const char *pem)
{
    BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    X509 *x = b ? PEM_read_bio_X509(b, NULL, orc_tls__no_passphrase, NULL) : NULL;

    BIO_free(b);
    return x;
}

EVP_PKEY *orc_tls__read_key(const char *pem)
{
    BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, orc_tls__no_passphrase, NULL) : NULL;

    BIO_free(b);
    return k;
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

int orc_tls__fingerprint(X509 *x, char out[ORC_TLS_FP_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;

    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n * 2 != ORC_TLS_FP_HEX) return ORC_ENOMEM;
    hex(md, n, out);
    return 0;
}

bool orc_tls__is_ip(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}


/* ---- certificates ---- */

static char *bio_text(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);

    return n > 0 ? strndup(p, (size_t)n) : NULL;
}

static int set_serial(X509 *x)
{
    unsigned char b[16];
    BIGNUM *bn;
    ASN1_INTEGER *ai = NULL;
    int ok;

    if (RAND_bytes(b, sizeof b) != 1) return 0;
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40); /* positive, and 16 bytes long */
    bn = BN_bin2bn(b, sizeof b, NULL);
    if (bn) ai = BN_to_ASN1_INTEGER(bn, NULL);
    ok = ai && X509_set_serialNumber(x, ai) == 1;
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return ok;
}

struct cert_ext {
    int nid;
    const char *value;
};

static const struct cert_ext ca_exts[] = {
    {NID_basic_constraints, "critical,CA:TRUE"},
    {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
    {NID_subject_key_identifier, "hash"},
};

/* A member's certificate serves and dials alike. */
static const struct cert_ext leaf_exts[] = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_ext_key_usage, "serverAuth,clientAuth"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid"},
};

/* Adds exts to x, issued by issuer (x itself when self-signed). */
static bool add_exts(X509 *x, X509 *issuer, const struct cert_ext *exts, size_t n)
{
    X509V3_CTX v;

    X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, exts[i].nid, exts[i].value);
        bool ok = e && X509_add_ext(x, e, -1) == 1;

        X509_EXTENSION_free(e);
        if (!ok) return false;
    }
    return true;
}

static bool valid_dns_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-') return false;
    if (s[0] == '*' && s[1] != '.') return false;
    for (size_t i = s[0] == '*' ? 1 : 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static GENERAL_NAME *san_entry(const char *s)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING *ip = orc_tls__is_ip(s) ? a2i_IPADDRESS(s) : NULL;
    ASN1_IA5STRING *dns = NULL;

    if (gn == NULL) return NULL;
    if (ip) {
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        return gn;
    }
    dns = ASN1_IA5STRING_new();
    if (dns && ASN1_STRING_set(dns, s, -1) == 1) {
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        return gn;
    }
    ASN1_IA5STRING_free(dns);
    GENERAL_NAME_free(gn);
    return NULL;
}

static int add_sans(X509 *x, const char *const *sans, size_t n, char *errmsg)
{
    GENERAL_NAMES *gens;
    int rv = 0;

    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (sans[i] == NULL || (!orc_tls__is_ip(sans[i]) && !valid_dns_name(sans[i])))
            return orc_tls__failf(errmsg, ORC_EINVAL, "\"%s\" is neither an IP address nor a DNS name",
                         sans[i] ? sans[i] : "(null)");
    if ((gens = sk_GENERAL_NAME_new_null()) == NULL) return orc_tls__failf(errmsg, ORC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rv == 0; i++) {
        GENERAL_NAME *gn = san_entry(sans[i]);
        if (gn == NULL || sk_GENERAL_NAME_push(gens, gn) <= 0) {
            GENERAL_NAME_free(gn);
            rv = orc_tls__failf(errmsg, ORC_ENOMEM, "out of memory");
        }
    }
    if (rv == 0 && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "subjectAltName");
    GENERAL_NAMES_free(gens);
    return rv;
}

/* The parts every certificate shares; issuer NULL means self-signed, org
 * NULL means no O in the subject. */
/* How far back a certificate's life starts, for clocks slightly behind: an
 * hour, or a tenth of a short life (a renewal at 70-90 % of it must come
 * before the end). */
static long backdate(long seconds)
{
    return seconds / 10 < 3600 ? seconds / 10 : 3600;
}

static X509 *cert_base(const char *org, const char *cn, EVP_PKEY *pub, X509 *issuer, long seconds)
{
    X509 *x = X509_new();
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;

    if (x == NULL || X509_set_version(x, 2) != 1 || !set_serial(x)
        || (org && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org,
                                              -1, -1, 0) != 1)
        || X509_gmtime_adj(X509_getm_notBefore(x), -backdate(seconds)) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(x), seconds) == NULL
        || X509_set_pubkey(x, pub) != 1
        || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1
        || X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int pem_out(X509 *x, EVP_PKEY *key, char **cert_pem, char **key_pem, char *errmsg)
{
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    int rv = 0;

    *cert_pem = *key_pem = NULL;
    if (cb == NULL || kb == NULL || PEM_write_bio_X509(cb, x) != 1
        || PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1
        || (*cert_pem = bio_text(cb)) == NULL || (*key_pem = bio_text(kb)) == NULL) {
        free(*cert_pem);
        if (*key_pem) explicit_bzero(*key_pem, strlen(*key_pem));
        free(*key_pem);
        *cert_pem = *key_pem = NULL;
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "writing PEM");
    }
    BIO_free(cb);
    BIO_free(kb); /* a memory BIO wipes its buffer when freed */
    return rv;
}

int orc_tls_make_ca(const char *cn, unsigned days, char **cert_pem, char **key_pem, char *errmsg)
{
    EVP_PKEY *key;
    X509 *x = NULL;
    int rv;

    ERR_clear_error();
    if ((key = EVP_EC_gen("P-256")) == NULL) return orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "CA key");
    x = cert_base(NULL, cn, key, NULL, (long)days * 86400);
    if (x == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "CA certificate");
        goto out;
    }
    if (!add_exts(x, x, ca_exts, ORC_ARRAY_LEN(ca_exts))
        || X509_sign(x, key, EVP_sha256()) <= 0) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "CA certificate");
        goto out;
    }
    rv = pem_out(x, key, cert_pem, key_pem, errmsg);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rv;
}

int orc_tls_make_cert(const char *ca_cert_pem, const char *ca_key_pem, const char *cn,
                      const char *const *sans, size_t n_sans, unsigned days, char **cert_pem,
                      char **key_pem, char *errmsg)
{
    return orc_tls_make_cert_o(ca_cert_pem, ca_key_pem, NULL, cn, sans, n_sans, days, cert_pem,
                               key_pem, errmsg);
}

int orc_tls_make_cert_o(const char *ca_cert_pem, const char *ca_key_pem, const char *org,
                        const char *cn, const char *const *sans, size_t n_sans, unsigned days,
                        char **cert_pem, char **key_pem, char *errmsg)
{
    return orc_tls_make_cert_secs(ca_cert_pem, ca_key_pem, org, cn, sans, n_sans, (long)days * 86400,
                                  cert_pem, key_pem, errmsg);
}

int orc_tls_make_cert_secs(const char *ca_cert_pem, const char *ca_key_pem, const char *org,
                           const char *cn, const char *const *sans, size_t n_sans, long seconds,
                           char **cert_pem, char **key_pem, char *errmsg)
{
    X509 *ca = orc_tls__read_cert(ca_cert_pem), *x = NULL;
    EVP_PKEY *ca_key = orc_tls__read_key(ca_key_pem), *key = NULL;
    int rv;

    if (ca == NULL || ca_key == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, ca ? "CA key" : "CA certificate");
        goto out;
    }
    if ((key = EVP_EC_gen("P-256")) == NULL || (x = cert_base(org, cn, key, ca, seconds)) == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate");
        goto out;
    }
    if (!add_exts(x, ca, leaf_exts, ORC_ARRAY_LEN(leaf_exts))) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate extensions");
        goto out;
    }
    if ((rv = add_sans(x, sans, n_sans, errmsg)) != 0) goto out;
    if (X509_sign(x, ca_key, EVP_sha256()) <= 0) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "signing with the CA key");
        goto out;
    }
    rv = pem_out(x, key, cert_pem, key_pem, errmsg);
out:
    X509_free(ca);
    X509_free(x);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rv;
}

/* A user's or node's certificate authenticates; it serves nothing. */
static const struct cert_ext client_exts[] = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_ext_key_usage, "clientAuth"},
    {NID_authority_key_identifier, "keyid"},
};

/* Signs a client certificate for `pub` with `subject` (copied). */
static int sign_client(const char *ca_cert_pem, const char *ca_key_pem, const X509_NAME *subject,
                       EVP_PKEY *pub, long seconds, char **cert_pem, char *errmsg)
{
    X509 *ca = orc_tls__read_cert(ca_cert_pem), *x = NULL;
    EVP_PKEY *ca_key = orc_tls__read_key(ca_key_pem);
    BIO *b = NULL;
    int rv = 0;

    *cert_pem = NULL;
    if (ca == NULL || ca_key == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, ca ? "CA key" : "CA certificate");
        goto out;
    }
    if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 || !set_serial(x)
        || X509_set_subject_name(x, subject) != 1 || X509_set_pubkey(x, pub) != 1
        || X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1
        || X509_gmtime_adj(X509_getm_notBefore(x), -backdate(seconds)) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(x), seconds) == NULL
        || !add_exts(x, ca, client_exts, ORC_ARRAY_LEN(client_exts))) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate");
        goto out;
    }
    if (X509_sign(x, ca_key, EVP_sha256()) <= 0) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "signing with the CA key");
        goto out;
    }
    if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) != 1
        || (*cert_pem = bio_text(b)) == NULL)
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "writing PEM");
out:
    BIO_free(b);
    X509_free(ca);
    X509_free(x);
    EVP_PKEY_free(ca_key);
    return rv;
}

/* A subject of O entries (in order) and the CN, checked as Kubernetes
 * would read it back. */
static X509_NAME *client_subject(const char *cn, const char *const *orgs, size_t n, char *errmsg)
{
    X509_NAME *name;

    if (cn == NULL || cn[0] == '\0' || strlen(cn) >= ORC_TLS_NAME_MAX) {
        orc_tls__failf(errmsg, ORC_EINVAL, "a user name is 1 to %d bytes", ORC_TLS_NAME_MAX - 1);
        return NULL;
    }
    if (n > ORC_TLS_MAX_ORGS) {
        orc_tls__failf(errmsg, ORC_EINVAL, "at most %d groups", ORC_TLS_MAX_ORGS);
        return NULL;
    }
    if ((name = X509_NAME_new()) == NULL) goto oom;
    for (size_t i = 0; i < n; i++) {
        if (orgs[i][0] == '\0' || strlen(orgs[i]) >= ORC_TLS_NAME_MAX) {
            orc_tls__failf(errmsg, ORC_EINVAL, "a group name is 1 to %d bytes", ORC_TLS_NAME_MAX - 1);
            X509_NAME_free(name);
            return NULL;
        }
        if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)orgs[i], -1, -1, 0) != 1)
            goto oom;
    }
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1)
        goto oom;
    return name;
oom:
    X509_NAME_free(name);
    orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate subject");
    return NULL;
}

static int key_pem_out(EVP_PKEY *key, char **key_pem, char *errmsg)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rv = 0;

    if (b == NULL || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1
        || (*key_pem = bio_text(b)) == NULL)
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "writing PEM");
    BIO_free(b); /* a memory BIO wipes its buffer when freed */
    return rv;
}

int orc_tls_make_client_cert(const char *ca_cert_pem, const char *ca_key_pem, const char *cn,
                             const char *const *orgs, size_t n_orgs, long seconds,
                             char **cert_pem, char **key_pem, char *errmsg)
{
    X509_NAME *name = client_subject(cn, orgs, n_orgs, errmsg);
    EVP_PKEY *key = NULL;
    int rv;

    *cert_pem = *key_pem = NULL;
    if (name == NULL) return ORC_EINVAL;
    if (seconds <= 0) {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "a certificate's lifetime must be positive");
        goto out;
    }
    if ((key = EVP_EC_gen("P-256")) == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "key");
        goto out;
    }
    rv = sign_client(ca_cert_pem, ca_key_pem, name, key, seconds, cert_pem, errmsg);
    if (rv == 0 && (rv = key_pem_out(key, key_pem, errmsg)) != 0) {
        free(*cert_pem);
        *cert_pem = NULL;
    }
out:
    X509_NAME_free(name);
    EVP_PKEY_free(key);
    return rv;
}

int orc_tls_make_csr(const char *cn, const char *const *orgs, size_t n_orgs, char **csr_pem,
                     char **key_pem, char *errmsg)
{
    X509_NAME *name = client_subject(cn, orgs, n_orgs, errmsg);
    X509_REQ *req = NULL;
    EVP_PKEY *key = NULL;
    BIO *b = NULL;
    int rv = 0;

    *csr_pem = *key_pem = NULL;
    if (name == NULL) return ORC_EINVAL;
    if ((key = EVP_EC_gen("P-256")) == NULL || (req = X509_REQ_new()) == NULL
        || X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, name) != 1
        || X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0
        || (b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_REQ(b, req) != 1
        || (*csr_pem = bio_text(b)) == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate request");
        goto out;
    }
    if ((rv = key_pem_out(key, key_pem, errmsg)) != 0) {
        free(*csr_pem);
        *csr_pem = NULL;
    }
out:
    BIO_free(b);
    X509_REQ_free(req);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
    return rv;
}

int orc_tls_sign_csr(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem, long seconds,
                     char **cert_pem, struct orc_tls_identity *who, char *errmsg)
{
    BIO *b = BIO_new_mem_buf(csr_pem, -1);
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, orc_tls__no_passphrase, NULL) : NULL;
    EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    X509 *probe = NULL;
    int rv;

    *cert_pem = NULL;
    if (req == NULL || pub == NULL) {
        rv = orc_tls__ossl_fail(errmsg, ORC_EINVAL, "not a PEM certificate request");
        goto out;
    }
    if (X509_REQ_verify(req, pub) != 1) {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "the request's signature does not match its key");
        goto out;
    }
    if (seconds <= 0) {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "a certificate's lifetime must be positive");
        goto out;
    }
    /* Its subject read as a certificate's will be: one CN, plain names. */
    if ((probe = X509_new()) == NULL || X509_set_subject_name(probe, X509_REQ_get_subject_name(req)) != 1) {
        rv = orc_tls__ossl_fail(errmsg, ORC_ENOMEM, "certificate request");
        goto out;
    }
    if (orc_tls__identity(probe, who) != 0 || who->cn[0] == '\0') {
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "the request's subject needs one common name (the user) "
                            "and at most %d organizations (groups)", ORC_TLS_MAX_ORGS);
        goto out;
    }
    rv = sign_client(ca_cert_pem, ca_key_pem, X509_REQ_get_subject_name(req), pub, seconds, cert_pem, errmsg);
out:
    X509_free(probe);
    X509_REQ_free(req);
    BIO_free(b);
    ERR_clear_error();
    return rv;
}

int orc_tls_derive_token(const char *secret, const char *label, char out[ORC_TLS_FP_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)label, strlen(label), md,
             &n) == NULL || n != 32)
        return ORC_ENOMEM;
    hex(md, n, out);
    explicit_bzero(md, sizeof md);
    return 0;
}

int orc_tls_fingerprint(const char *cert_pem, char out[ORC_TLS_FP_HEX + 1], char *errmsg)
{
    X509 *x;
    int rv;

    ERR_clear_error();
    if ((x = orc_tls__read_cert(cert_pem)) == NULL)
        return orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "not a PEM certificate");
    rv = orc_tls__fingerprint(x, out);
    X509_free(x);
    return rv ? orc_tls__failf(errmsg, rv, "fingerprint: out of memory") : 0;
}

int orc_tls_cert_check(const char *cert_pem, char *errmsg)
{
    X509 *x;

    ERR_clear_error();
    if ((x = orc_tls__read_cert(cert_pem)) == NULL)
        return orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "not a PEM certificate");
    X509_free(x);
    return 0;
}

int orc_tls_key_check(const char *cert_pem, const char *key_pem, char *errmsg)
{
    X509 *x;
    EVP_PKEY *k;
    int rv = 0;

    ERR_clear_error();
    x = orc_tls__read_cert(cert_pem);
    k = orc_tls__read_key(key_pem);
    if (k == NULL) rv = orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "not a PEM private key");
    else if (x == NULL) rv = orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "its certificate is unreadable");
    else if (X509_check_private_key(x, k) != 1)
        rv = orc_tls__failf(errmsg, ORC_ECORRUPT, "the key does not belong to its certificate");
    X509_free(x);
    EVP_PKEY_free(k);
    ERR_clear_error();
    return rv;
}

static bool cert_names(X509 *x, const char *name)
{
    if (orc_tls__is_ip(name)) return X509_check_ip_asc(x, name, 0) == 1;
    return X509_check_host(x, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

int orc_tls_cert_fits(const char *cert_pem, const char *ca_pem, const char *const *names,
                      size_t n_names, unsigned min_days, char *errmsg)
{
    X509 *x = orc_tls__read_cert(cert_pem), *ca = orc_tls__read_cert(ca_pem);
    time_t horizon = time(NULL) + (time_t)min_days * 86400;
    int rv = 0;

    if (x == NULL || ca == NULL)
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "%s is unreadable", x ? "the CA certificate" : "the certificate");
    else if (X509_verify(x, X509_get0_pubkey(ca)) != 1)
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "it was not signed by the cluster CA");
    else if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "it is not valid yet");
    else if (X509_cmp_time(X509_get0_notAfter(x), &horizon) <= 0)
        rv = orc_tls__failf(errmsg, ORC_EINVAL, "it expires within %u days", min_days);
    for (size_t i = 0; rv == 0 && i < n_names; i++)
        if (!cert_names(x, names[i])) rv = orc_tls__failf(errmsg, ORC_EINVAL, "it does not name %s", names[i]);
    X509_free(x);
    X509_free(ca);
    ERR_clear_error();
    return rv;
}

/* ---- subjects ---- */

/* The value of one name entry as UTF-8, refused when it holds a NUL or does
 * not fit: a truncated name must never match another. */
static int entry_text(X509_NAME_ENTRY *e, char *out, size_t n)
{
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    int rv = 0;

    if (len < 0) return ORC_EINVAL;
    if ((size_t)len >= n || memchr(utf8, '\0', (size_t)len) != NULL) rv = ORC_EINVAL;
    else memcpy(out, utf8, (size_t)len + 1);
    OPENSSL_free(utf8);
    return rv;
}

int orc_tls__subject(X509 *x, struct orc_tls_subject *out)
{
    X509_NAME *name = X509_get_subject_name(x);
    int i = -1, n_cn = 0;

    memset(out, 0, sizeof *out);
    while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
        if (n_cn++ > 0 || entry_text(X509_NAME_get_entry(name, i), out->cn, sizeof out->cn) != 0)
            return ORC_EINVAL; /* one CN, readable: anything else names nobody */
    }
    i = -1;
    while ((i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0) {
        if (out->n_org++ == 0 && entry_text(X509_NAME_get_entry(name, i), out->org, sizeof out->org) != 0)
            return ORC_EINVAL;
    }
    return 0;
}

int orc_tls__identity(X509 *x, struct orc_tls_identity *out)
{
    X509_NAME *name = X509_get_subject_name(x);
    struct orc_tls_subject sub;
    int i = -1, rv;

    memset(out, 0, sizeof *out);
    if ((rv = orc_tls__subject(x, &sub)) != 0) return rv;
    memcpy(out->cn, sub.cn, sizeof out->cn);
    while ((i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0) {
        if (out->n_org == ORC_TLS_MAX_ORGS) return ORC_EINVAL;
        if (entry_text(X509_NAME_get_entry(name, i), out->orgs[out->n_org], ORC_TLS_NAME_MAX) != 0)
            return ORC_EINVAL;
        out->n_org++;
    }
    return 0;
}

int orc_tls_cert_subject(const char *cert_pem, struct orc_tls_subject *out, char *errmsg)
{
    X509 *x = orc_tls__read_cert(cert_pem);
    int rv;

    if (x == NULL) return orc_tls__ossl_fail(errmsg, ORC_ECORRUPT, "not a PEM certificate");
    rv = orc_tls__subject(x, out);
    X509_free(x);
    return rv ? orc_tls__failf(errmsg, rv, "its subject has several or unreadable names") : 0;
}
