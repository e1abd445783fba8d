/* encrypt.h — values encrypted at rest (Kubernetes' EncryptionConfiguration):
 * the parsed configuration (encrypt_config.c) and the transforms between
 * an object's JSON and its stored form (encrypt.c). Internal to the API
 * server; api.h has the load/free pair orcd uses. */
#ifndef ORC_API_ENCRYPT_H
#define ORC_API_ENCRYPT_H

#include <stdbool.h>
#include <stddef.h>

#include "apiserver/api.h"
#include "lib/buf.h"

#define API_ENC_MAX_RESOURCES 32
#define API_ENC_MAX_PROVIDERS 8
#define API_ENC_MAX_KEYS 16
/* Stored values that are encrypted begin with this (then "aesgcm:v1:NAME:"). */
#define API_ENC_MAGIC "k8s:enc:"

enum api_enc_type { API_ENC_IDENTITY = 1, API_ENC_AESGCM, API_ENC_AESCBC };

struct api_enc_key {
    char name[64];
    unsigned char secret[32];
    size_t len; /* 16, 24 or 32 */
};

struct api_enc_provider {
    enum api_enc_type type;
    struct api_enc_key keys[API_ENC_MAX_KEYS]; /* the first encrypts */
    size_t n_keys;
};

/* One entry of `resources`: its providers, the first writes, all read. */
struct api_enc_group {
    struct api_enc_provider prov[API_ENC_MAX_PROVIDERS];
    size_t n_prov;
};

struct api_enc_resource {
    char prefix[128]; /* the store keys of the resource: "/registry/core/secrets/" */
    size_t group;     /* index in groups */
};

struct api_encryption {
    struct api_enc_resource res[API_ENC_MAX_RESOURCES];
    size_t n_res;
    struct api_enc_group groups[API_ENC_MAX_RESOURCES];
    /* OpenSSL state made once (api_enc_prepare): a cipher fetch and a new
     * context per value cost ten times the AES itself. The context is
     * reused by every call, so calls come from one thread (the loop). */
    void *cipher[2][3]; /* EVP_CIPHER *: [GCM, CBC][16, 24, 32-byte keys] */
    void *ctx;          /* EVP_CIPHER_CTX * */
};

/* Fetches the ciphers and makes the context; api_enc_release frees them. */
int api_enc_prepare(api_encryption *e);
void api_enc_release(api_encryption *e);

/* The stored form of `value` at store key `key` (appended to out, which is
 * left empty when the value is stored as it is: no group covers the key,
 * or its first provider is identity). e may be NULL. The key is the
 * AES-GCM additional data, so a value moved to another key fails to
 * decrypt. */
int api_enc_seal(const api_encryption *e, const char *key, const void *value, size_t len,
                 struct orc_buf *out);

/* A store_decode_fn (store/store.h) with arg the api_encryption. */
int api_enc_open(void *arg, const char *key, const char *value, size_t len, char **out,
                 size_t *out_len, bool *stale);

/* As api_enc_open, with a message saying why a value cannot be read
 * (naming the key, never showing the bytes). e may be NULL. */
int api_enc_open_msg(const api_encryption *e, const char *key, const char *value, size_t len,
                     char **out, size_t *out_len, bool *stale, char *msg, size_t msg_len);

/* Whether a value read from the store is still in its stored, encrypted
 * form (no provider here could open it): it must never be served. */
bool api_enc_sealed(const char *value, size_t len, bool sealed);

/* Why such a value cannot be read, from its stored prefix alone (n bytes). */
void api_enc_describe(const char *value, size_t len, char *msg, size_t n);

#endif
