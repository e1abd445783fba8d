/* jwt.c — ES256 JSON Web Tokens and the JWK of their key, with OpenSSL. */
#include "lib/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"

#define ES256_HALF 32

static int reason(char *msg, size_t n, const char *why)
{
    if (msg && n) snprintf(msg, n, "%s", why);
    return ORC_EINVAL;
}

int orc_jwt_key_new(char **pem)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    BIO *b = key ? BIO_new(BIO_s_mem()) : NULL;
    char *data;
    long n;
    int rv = ORC_ENOMEM;

    *pem = NULL;
    if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1
        && (n = BIO_get_mem_data(b, &data)) > 0 && (*pem = strndup(data, (size_t)n)) != NULL)
        rv = 0;
    BIO_free(b); /* a memory BIO frees its buffer; the copy is ours */
    EVP_PKEY_free(key);
    return rv;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

static int is_p256(EVP_PKEY *key)
{
    char curve[32];
    size_t n = 0;

    return EVP_PKEY_is_a(key, "EC")
           && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                             &n)
           && strcmp(curve, "prime256v1") == 0;
}

int orc_jwt_key_load(const char *pem, EVP_PKEY **out)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;

    BIO_free(b);
    if (key == NULL || !is_p256(key)) {
        EVP_PKEY_free(key);
        return ORC_EINVAL;
    }
    *out = key;
    return 0;
}

int orc_jwt_key_id(EVP_PKEY *key, char out[ORC_JWT_KID_LEN + 1])
{
    unsigned char *der = NULL, sum[SHA256_DIGEST_LENGTH];
    int n = i2d_PUBKEY(key, &der);
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    if (n <= 0) return ORC_EINVAL;
    SHA256(der, (size_t)n, sum);
    OPENSSL_free(der);
    rv = orc_base64_encode(sum, sizeof sum, true, &b);
    if (rv == 0 && b.len == ORC_JWT_KID_LEN)
        memcpy(out, b.data, ORC_JWT_KID_LEN + 1);
    else if (rv == 0)
        rv = ORC_EINVAL;
    orc_buf_free(&b);
    return rv;
}

static json_t *b64_bn(EVP_PKEY *key, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char raw[ES256_HALF];
    struct orc_buf b = ORC_BUF_INIT;
    json_t *v = NULL;

    if (EVP_PKEY_get_bn_param(key, param, &bn) && BN_bn2binpad(bn, raw, sizeof raw) == sizeof raw
        && orc_base64_encode(raw, sizeof raw, true, &b) == 0)
        v = json_string(b.data);
    BN_free(bn);
    orc_buf_free(&b);
    return v;
}

json_t *orc_jwt_jwk(EVP_PKEY *key)
{
    char kid[ORC_JWT_KID_LEN + 1];
    json_t *x, *y;

    if (orc_jwt_key_id(key, kid) != 0) return NULL;
    x = b64_bn(key, OSSL_PKEY_PARAM_EC_PUB_X);
    y = b64_bn(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) {
        json_decref(x);
        json_decref(y);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "use", "sig", "kty", "EC", "kid", kid,
                     "crv", "P-256", "alg", "ES256", "x", x, "y", y);
}

/* ECDSA gives DER; a JWS carries r and s as two 32-byte numbers. */
static int der_to_raw(const unsigned char *der, size_t n, unsigned char raw[2 * ES256_HALF])
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)n);
    const BIGNUM *r, *s;
    int rv = ORC_EINVAL;

    if (sig == NULL) return rv;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, ES256_HALF) == ES256_HALF
        && BN_bn2binpad(s, raw + ES256_HALF, ES256_HALF) == ES256_HALF)
        rv = 0;
    ECDSA_SIG_free(sig);
    return rv;
}

static int raw_to_der(const unsigned char raw[2 * ES256_HALF], unsigned char **der, int *n)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, ES256_HALF, NULL),
           *s = BN_bin2bn(raw + ES256_HALF, ES256_HALF, NULL);

    *der = NULL;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig */
        *n = i2d_ECDSA_SIG(sig, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return *der && *n > 0 ? 0 : ORC_ENOMEM;
}

static int digest_sign(EVP_PKEY *key, const char *data, size_t len, unsigned char *sig, size_t *n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1
             && EVP_DigestSign(md, sig, n, (const unsigned char *)data, len) == 1;

    EVP_MD_CTX_free(md);
    return ok ? 0 : ORC_EINVAL;
}

static int append_b64_json(const json_t *v, struct orc_buf *out)
{
    struct orc_buf j = ORC_BUF_INIT;
    int rv = orc_json_dump(v, &j);

    if (rv == 0) rv = orc_base64_encode(j.data, j.len, true, out);
    orc_buf_free(&j);
    return rv;
}

int orc_jwt_sign(EVP_PKEY *key, const json_t *claims, struct orc_buf *out)
{
    char kid[ORC_JWT_KID_LEN + 1];
    unsigned char der[128], raw[2 * ES256_HALF];
    size_t start = out->len, n = sizeof der;
    json_t *hdr;
    int rv = orc_jwt_key_id(key, kid);

    if (rv != 0) return rv;
    if (!(hdr = json_pack("{s:s, s:s}", "alg", "ES256", "kid", kid))) return ORC_ENOMEM;
    rv = append_b64_json(hdr, out);
    json_decref(hdr);
    if (rv == 0) rv = orc_buf_puts(out, ".");
    if (rv == 0) rv = append_b64_json(claims, out);
    if (rv == 0) rv = digest_sign(key, out->data + start, out->len - start, der, &n);
    if (rv == 0) rv = der_to_raw(der, n, raw);
    if (rv == 0) rv = orc_buf_puts(out, ".");
    if (rv == 0) rv = orc_base64_encode(raw, sizeof raw, true, out);
    return rv;
}

static bool b64url_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
            return false;
    return true;
}

/* Splits into three non-empty base64url parts. */
static int split(const char *t, size_t len, size_t dot[2])
{
    const char *a = memchr(t, '.', len), *b;

    if (len > ORC_JWT_MAX || a == NULL || a == t) return ORC_EINVAL;
    b = memchr(a + 1, '.', len - (size_t)(a + 1 - t));
    if (b == NULL || b == a + 1 || b + 1 == t + len) return ORC_EINVAL;
    dot[0] = (size_t)(a - t);
    dot[1] = (size_t)(b - t);
    if (!b64url_chars(t, dot[0]) || !b64url_chars(a + 1, dot[1] - dot[0] - 1)
        || !b64url_chars(b + 1, len - dot[1] - 1))
        return ORC_EINVAL;
    return 0;
}

static json_t *decode_json(const char *p, size_t n)
{
    struct orc_buf b = ORC_BUF_INIT;
    json_t *v = NULL;

    if (orc_base64_decode(p, n, true, &b) == 0 && b.len > 0)
        v = orc_json_loadb(b.data, b.len, 0, NULL);
    orc_buf_free(&b);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

int orc_jwt_shaped(const char *token, size_t len)
{
    size_t dot[2];
    json_t *h;

    if (split(token, len, dot) != 0 || !(h = decode_json(token, dot[0]))) return 0;
    json_decref(h);
    return 1;
}

static int check_header(EVP_PKEY *key, const char *t, size_t n, char *msg, size_t msglen)
{
    char kid[ORC_JWT_KID_LEN + 1];
    json_t *h = decode_json(t, n);
    const char *alg = h ? orc_json_str(h, "alg") : NULL, *hk = h ? orc_json_str(h, "kid") : NULL;
    int rv = 0;

    if (!alg || strcmp(alg, "ES256") != 0)
        rv = reason(msg, msglen, "not signed with ES256");
    else if (orc_jwt_key_id(key, kid) != 0 || (hk && strcmp(hk, kid) != 0))
        rv = reason(msg, msglen, "signed with another key");
    json_decref(h);
    return rv;
}

static int check_signature(EVP_PKEY *key, const char *t, size_t signed_len, const char *sig,
                           size_t siglen)
{
    struct orc_buf raw = ORC_BUF_INIT;
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    int n = 0, ok = 0;

    if (orc_base64_decode(sig, siglen, true, &raw) == 0 && raw.len == 2 * ES256_HALF
        && raw_to_der((unsigned char *)raw.data, &der, &n) == 0 && (md = EVP_MD_CTX_new()) != NULL
        && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
        ok = EVP_DigestVerify(md, der, (size_t)n, (const unsigned char *)t, signed_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    orc_buf_free(&raw);
    return ok ? 0 : ORC_EINVAL;
}

int orc_jwt_verify(EVP_PKEY *key, const char *token, size_t len, json_t **claims, char *errmsg,
                   size_t errlen)
{
    size_t dot[2];
    json_t *c;
    int rv;

    *claims = NULL;
    if (split(token, len, dot) != 0) return reason(errmsg, errlen, "not a JWT");
    if ((rv = check_header(key, token, dot[0], errmsg, errlen)) != 0) return rv;
    if (check_signature(key, token, dot[1], token + dot[1] + 1, len - dot[1] - 1) != 0)
        return reason(errmsg, errlen, "the signature does not verify");
    if (!(c = decode_json(token + dot[0] + 1, dot[1] - dot[0] - 1)))
        return reason(errmsg, errlen, "the claims are not a JSON object");
    *claims = c;
    return 0;
}
