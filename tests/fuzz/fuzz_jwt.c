/* fuzz_jwt.c — libFuzzer target for lib/jwt: the input is a bearer token as
 * it reaches the API before anyone is authenticated. Shape check and
 * verification never crash nor leak; anything verified was signed by the
 * key (the fuzzer cannot forge one), and a token the key signs verifies. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jwt.h"

static EVP_PKEY *key;

static void setup(void)
{
    char *pem = NULL;

    if (orc_jwt_key_new(&pem) != 0 || orc_jwt_key_load(pem, &key) != 0) abort();
    free(pem);
}

/* The fuzzer's bytes as claims of a token we sign: it must verify. */
static void sign_and_verify(const uint8_t *data, size_t size)
{
    json_t *claims = json_object(), *back = NULL;
    struct orc_buf tok = ORC_BUF_INIT;
    char err[128];

    json_object_set_new(claims, "sub", json_stringn((const char *)data, size));
    /* not UTF-8, or with a NUL (which no claim the API signs holds) */
    if (json_object_get(claims, "sub") == NULL || memchr(data, 0, size)) {
        json_decref(claims);
        return;
    }
    if (orc_jwt_sign(key, claims, &tok) != 0) abort();
    if (orc_jwt_verify(key, tok.data, tok.len, &back, err, sizeof err) != 0) abort();
    if (!json_equal(json_object_get(back, "sub"), json_object_get(claims, "sub"))) abort();
    json_decref(back);
    json_decref(claims);
    orc_buf_free(&tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *claims = NULL;
    char err[128];

    if (key == NULL) setup();
    (void)orc_jwt_shaped((const char *)data, size);
    if (orc_jwt_verify(key, (const char *)data, size, &claims, err, sizeof err) == 0) abort();
    if (size < 256) sign_and_verify(data, size);
    return 0;
}
