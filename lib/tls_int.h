/* tls_int.h — helpers tls.c and tls_cert.c share (prefix orc_tls__).
 * Nothing outside lib/tls*.c includes this. */
#ifndef ORC_TLS_INT_H
#define ORC_TLS_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "lib/tls.h"

/* Writes the message into errmsg (ORC_TLS_ERRLEN, may be NULL), clears
 * OpenSSL's error queue, returns code. */
int orc_tls__failf(char *errmsg, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* `what` plus OpenSSL's reason for the newest error on this thread's queue. */
int orc_tls__ossl_fail(char *errmsg, int code, const char *what);
/* PEM readers' passphrase callback: orc's keys are never encrypted. */
int orc_tls__no_passphrase(char *buf, int size, int rwflag, void *u);
/* The first certificate / the private key of PEM text, or NULL. */
X509 *orc_tls__read_cert(const char *pem);
EVP_PKEY *orc_tls__read_key(const char *pem);
/* SHA-256 of the certificate's DER in lower-case hex. */
int orc_tls__fingerprint(X509 *x, char out[ORC_TLS_FP_HEX + 1]);
bool orc_tls__is_ip(const char *s);
/* The CN and O of a certificate's subject (ORC_EINVAL when it has more than
 * one CN or a name that is not plain text). */
int orc_tls__subject(X509 *x, struct orc_tls_subject *out);
/* The CN and every O (ORC_EINVAL as above, or for more than ORC_TLS_MAX_ORGS). */
int orc_tls__identity(X509 *x, struct orc_tls_identity *out);

#endif
