/* jwt.h — ES256 JSON Web Tokens (RFC 7519, 7515, 7518) and the JWK of their
 * key (RFC 7517): what ServiceAccount tokens are made of. A key is an
 * OpenSSL EVP_PKEY on the P-256 curve. */
#ifndef ORC_JWT_H
#define ORC_JWT_H

#include <jansson.h>
#include <openssl/evp.h>

#include "lib/buf.h"

#define ORC_JWT_KID_LEN 43 /* base64url of a SHA-256, no padding */
#define ORC_JWT_MAX 8192   /* a longer bearer token is not one of ours */

/* A new P-256 private key as PKCS#8 PEM (caller frees and wipes it). */
int orc_jwt_key_new(char **pem);
/* The private key of PEM text; ORC_EINVAL when it is not a P-256 key.
 * Caller frees with EVP_PKEY_free. */
int orc_jwt_key_load(const char *pem, EVP_PKEY **out);
/* Kubernetes' key id: base64url(SHA-256(DER of the public key)). */
int orc_jwt_key_id(EVP_PKEY *key, char out[ORC_JWT_KID_LEN + 1]);
/* The public key as a JWK {use, kty, kid, crv, alg, x, y}. NULL on failure. */
json_t *orc_jwt_jwk(EVP_PKEY *key);

/* Signs `claims` with header {"alg":"ES256","kid":KID}; the token text is
 * appended to out. */
int orc_jwt_sign(EVP_PKEY *key, const json_t *claims, struct orc_buf *out);

/* True when `token` has the shape of a JWT (three base64url parts, the
 * first a JSON header): such a bearer token is ours to accept or refuse. */
int orc_jwt_shaped(const char *token, size_t len);

/* Checks the signature (ES256, the header's kid matching the key's) and
 * returns the claims (caller decrefs). ORC_EINVAL with a reason in errmsg
 * (never the token) when malformed or not signed by `key`. Times are the
 * caller's to check. */
int orc_jwt_verify(EVP_PKEY *key, const char *token, size_t len, json_t **claims, char *errmsg,
                   size_t errlen);

#endif
