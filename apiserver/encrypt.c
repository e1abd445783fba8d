/* encrypt.c — encryption at rest of the resources an EncryptionConfiguration
 * names, in Kubernetes' stored forms: "k8s:enc:aesgcm:v1:NAME:" + 12-byte
 * random nonce + ciphertext + 16-byte tag (the store key as additional
 * data), and "k8s:enc:aescbc:v1:NAME:" + 16-byte IV + PKCS#7-padded
 * ciphertext. The first provider writes; every provider reads. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/encrypt.h"
#include "lib/orc.h"
#include "lib/rand.h"

#define GCM_NONCE 12
#define GCM_TAG 16
#define CBC_IV 16

static const char *type_name(enum api_enc_type t)
{
    return t == API_ENC_AESGCM ? "aesgcm" : t == API_ENC_AESCBC ? "aescbc" : "identity";
}

static const struct api_enc_group *group_for(const api_encryption *e, const char *key)
{
    if (e == NULL) return NULL;
    for (size_t i = 0; i < e->n_res; i++)
        if (strncmp(key, e->res[i].prefix, strlen(e->res[i].prefix)) == 0)
            return &e->groups[e->res[i].group];
    return NULL;
}

static size_t size_index(size_t key_len) { return key_len == 16 ? 0 : key_len == 24 ? 1 : 2; }

static const EVP_CIPHER *cipher(const api_encryption *e, enum api_enc_type t, size_t key_len)
{
    return e->cipher[t == API_ENC_AESGCM ? 0 : 1][size_index(key_len)];
}

int api_enc_prepare(api_encryption *e)
{
    static const char *const names[2][3] = {{"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"},
                                            {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"}};

    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 3; k++)
            if ((e->cipher[t][k] = EVP_CIPHER_fetch(NULL, names[t][k], NULL)) == NULL)
                return ORC_EIO;
    return (e->ctx = EVP_CIPHER_CTX_new()) ? 0 : ORC_ENOMEM;
}

void api_enc_release(api_encryption *e)
{
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 3; k++) {
            EVP_CIPHER_free(e->cipher[t][k]);
            e->cipher[t][k] = NULL;
        }
    EVP_CIPHER_CTX_free(e->ctx);
    e->ctx = NULL;
}

/* ---- writing ---- */

static int gcm_seal(const api_encryption *e, const struct api_enc_key *k, const char *aad,
                    const unsigned char *in, size_t len, unsigned char *out, size_t *out_len)
{
    EVP_CIPHER_CTX *c = e->ctx;
    int n = 0, m = 0, ok;

    /* a random 96-bit nonce per write, as Kubernetes: see README on the
     * number of writes a key may take */
    if (orc_rand_bytes(out, GCM_NONCE) != 0) return ORC_EIO;
    ok = EVP_EncryptInit_ex2(c, cipher(e, API_ENC_AESGCM, k->len), k->secret, out, NULL)
         && EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad))
         && EVP_EncryptUpdate(c, out + GCM_NONCE, &n, in, (int)len)
         && EVP_EncryptFinal_ex(c, out + GCM_NONCE + n, &m)
         && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, out + GCM_NONCE + n + m);
    *out_len = GCM_NONCE + (size_t)n + (size_t)m + GCM_TAG;
    return ok ? 0 : ORC_EIO;
}

static int cbc_seal(const api_encryption *e, const struct api_enc_key *k,
                    const unsigned char *in, size_t len, unsigned char *out, size_t *out_len)
{
    EVP_CIPHER_CTX *c = e->ctx;
    int n = 0, m = 0, ok;

    if (orc_rand_bytes(out, CBC_IV) != 0) return ORC_EIO;
    ok = EVP_EncryptInit_ex2(c, cipher(e, API_ENC_AESCBC, k->len), k->secret, out, NULL)
         && EVP_EncryptUpdate(c, out + CBC_IV, &n, in, (int)len)
         && EVP_EncryptFinal_ex(c, out + CBC_IV + n, &m);
    *out_len = CBC_IV + (size_t)n + (size_t)m;
    return ok ? 0 : ORC_EIO;
}

int api_enc_seal(const api_encryption *e, const char *key, const void *value, size_t len,
                 struct orc_buf *out)
{
    const struct api_enc_group *g = group_for(e, key);
    const struct api_enc_provider *p;
    size_t head, body = 0;
    int rv;

    orc_buf_reset(out);
    if (g == NULL || g->prov[0].type == API_ENC_IDENTITY) return 0;
    if (len > (1u << 30)) return ORC_ETOOBIG;
    p = &g->prov[0];
    if (orc_buf_printf(out, API_ENC_MAGIC "%s:v1:%s:", type_name(p->type), p->keys[0].name) != 0
        || orc_buf_reserve(out, len + 64) != 0)
        return ORC_ENOMEM;
    head = out->len;
    rv = p->type == API_ENC_AESGCM
             ? gcm_seal(e, &p->keys[0], key, value, len, (unsigned char *)out->data + head, &body)
             : cbc_seal(e, &p->keys[0], value, len, (unsigned char *)out->data + head, &body);
    if (rv != 0) {
        orc_buf_reset(out);
        return rv;
    }
    out->len = head + body;
    out->data[out->len] = '\0';
    return 0;
}

/* ---- reading ---- */

static int gcm_open(const api_encryption *e, const struct api_enc_key *k, const char *aad,
                    const unsigned char *in, size_t len, unsigned char *out, size_t *out_len)
{
    EVP_CIPHER_CTX *c = e->ctx;
    int n = 0, m = 0, ok;

    if (len < GCM_NONCE + GCM_TAG) return ORC_ECORRUPT;
    ok = EVP_DecryptInit_ex2(c, cipher(e, API_ENC_AESGCM, k->len), k->secret, in, NULL)
         && EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad))
         && EVP_DecryptUpdate(c, out, &n, in + GCM_NONCE, (int)(len - GCM_NONCE - GCM_TAG))
         && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG,
                                (void *)(in + len - GCM_TAG))
         && EVP_DecryptFinal_ex(c, out + n, &m) > 0;
    *out_len = (size_t)n + (size_t)m;
    return ok ? 0 : ORC_ECORRUPT;
}

static int cbc_open(const api_encryption *e, const struct api_enc_key *k, const unsigned char *in,
                    size_t len, unsigned char *out, size_t *out_len)
{
    EVP_CIPHER_CTX *c = e->ctx;
    int n = 0, m = 0, ok;

    if (len < 2 * CBC_IV || len % CBC_IV) return ORC_ECORRUPT;
    ok = EVP_DecryptInit_ex2(c, cipher(e, API_ENC_AESCBC, k->len), k->secret, in, NULL)
         && EVP_DecryptUpdate(c, out, &n, in + CBC_IV, (int)(len - CBC_IV))
         && EVP_DecryptFinal_ex(c, out + n, &m) > 0;
    *out_len = (size_t)n + (size_t)m;
    return ok ? 0 : ORC_ECORRUPT;
}

/* The stored form's provider type and key name ("aesgcm", "key1"); returns
 * the offset of the encrypted bytes, or 0 when the prefix is malformed. */
static size_t parse_head(const char *v, size_t len, char *type, size_t tn, char *name, size_t nn)
{
    size_t i = strlen(API_ENC_MAGIC), t0 = i, n0;

    while (i < len && v[i] != ':') i++;
    if (i >= len || i - t0 >= tn) return 0;
    snprintf(type, tn, "%.*s", (int)(i - t0), v + t0);
    if (len - i < 5 || memcmp(v + i, ":v1:", 4) != 0) return 0;
    n0 = i += 4;
    while (i < len && v[i] != ':' && i - n0 < nn) i++;
    if (i >= len || v[i] != ':' || i - n0 >= nn) return 0;
    snprintf(name, nn, "%.*s", (int)(i - n0), v + n0);
    return i + 1;
}

static int find_key(const struct api_enc_group *g, const char *type, const char *name,
                    size_t *pi, size_t *ki)
{
    for (*pi = 0; g && *pi < g->n_prov; (*pi)++) {
        const struct api_enc_provider *p = &g->prov[*pi];
        if (p->type == API_ENC_IDENTITY || strcmp(type_name(p->type), type) != 0) continue;
        for (*ki = 0; *ki < p->n_keys; (*ki)++)
            if (strcmp(p->keys[*ki].name, name) == 0) return 0;
    }
    return ORC_ENOENT;
}

static int open_encrypted(const api_encryption *e, const struct api_enc_group *g, const char *key,
                          const char *v, size_t len, char **out, size_t *out_len, bool *stale,
                          char *msg, size_t mn)
{
    char type[16], name[64];
    size_t at = parse_head(v, len, type, sizeof type, name, sizeof name), pi, ki;
    const struct api_enc_provider *p;
    unsigned char *plain;
    int rv;

    if (at == 0) return orc_errf(msg, mn, ORC_ECORRUPT, "its stored form is damaged");
    if (e == NULL)
        return orc_errf(msg, mn, ORC_EPERM,
                        "it is stored encrypted (%s key \"%s\") and this member runs without "
                        "--encryption-config", type, name);
    if (find_key(g, type, name, &pi, &ki) != 0)
        return orc_errf(msg, mn, ORC_EPERM,
                        "it is stored encrypted with %s key \"%s\", which this member's "
                        "--encryption-config does not hold", type, name);
    p = &g->prov[pi];
    if ((plain = malloc(len - at + 1)) == NULL) return ORC_ENOMEM;
    rv = p->type == API_ENC_AESGCM
             ? gcm_open(e, &p->keys[ki], key, (const unsigned char *)v + at, len - at, plain,
                        out_len)
             : cbc_open(e, &p->keys[ki], (const unsigned char *)v + at, len - at, plain, out_len);
    if (rv != 0) {
        free(plain);
        return orc_errf(msg, mn, ORC_EPERM,
                        "decrypting it with %s key \"%s\" failed: that key's secret is not the "
                        "one it was written with, or the stored data is damaged", type, name);
    }
    plain[*out_len] = '\0';
    *out = (char *)plain;
    *stale = pi != 0 || ki != 0;
    return 0;
}

int api_enc_open_msg(const api_encryption *e, const char *key, const char *value, size_t len,
                     char **out, size_t *out_len, bool *stale, char *msg, size_t msg_len)
{
    const struct api_enc_group *g = group_for(e, key);
    size_t magic = strlen(API_ENC_MAGIC);

    *out = NULL;
    *stale = false;
    if (len >= magic && memcmp(value, API_ENC_MAGIC, magic) == 0)
        return open_encrypted(e, g, key, value, len, out, out_len, stale, msg, msg_len);
    if (g == NULL) return 0;
    for (size_t i = 0; i < g->n_prov; i++)
        if (g->prov[i].type == API_ENC_IDENTITY) {
            *stale = i != 0;
            return 0;
        }
    return orc_errf(msg, msg_len, ORC_EPERM,
                    "it is stored unencrypted and this member's --encryption-config lists no "
                    "identity provider for it");
}

int api_enc_open(void *arg, const char *key, const char *value, size_t len, char **out,
                 size_t *out_len, bool *stale)
{
    return api_enc_open_msg(arg, key, value, len, out, out_len, stale, NULL, 0);
}

bool api_enc_sealed(const char *value, size_t len, bool sealed)
{
    size_t magic = strlen(API_ENC_MAGIC);
    return sealed || (len >= magic && memcmp(value, API_ENC_MAGIC, magic) == 0);
}

void api_enc_describe(const char *value, size_t len, char *msg, size_t n)
{
    char type[16], name[64];

    if (!api_enc_sealed(value, len, false))
        snprintf(msg, n, "the object is stored unencrypted and this member's "
                         "--encryption-config lists no identity provider for it");
    else if (parse_head(value, len, type, sizeof type, name, sizeof name) == 0)
        snprintf(msg, n, "the object's encrypted form is damaged");
    else
        snprintf(msg, n, "the object is stored encrypted with %s key \"%s\", which this member "
                         "cannot decrypt (see its --encryption-config)", type, name);
}
