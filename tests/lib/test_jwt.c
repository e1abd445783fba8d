/* test_jwt.c — ES256 tokens: sign and verify, tampering, another key, shape. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/jwt.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static EVP_PKEY *new_key(void)
{
    char *pem = NULL;
    EVP_PKEY *k = NULL;

    CHECK_INT(orc_jwt_key_new(&pem), ==, 0);
    CHECK_INT(orc_jwt_key_load(pem, &k), ==, 0);
    free(pem);
    return k;
}

TEST(jwt_sign_verify_roundtrip)
{
    EVP_PKEY *k = new_key();
    json_t *claims = json_pack("{s:s, s:I}", "sub", "system:serviceaccount:ns:sa", "exp", (json_int_t)42);
    json_t *got = NULL;
    struct orc_buf t = ORC_BUF_INIT;
    char err[128];

    CHECK_INT(orc_jwt_sign(k, claims, &t), ==, 0);
    CHECK(orc_jwt_shaped(t.data, t.len));
    CHECK_INT(orc_jwt_verify(k, t.data, t.len, &got, err, sizeof err), ==, 0);
    CHECK_STR(orc_json_str(got, "sub"), "system:serviceaccount:ns:sa");
    json_decref(got);
    /* A changed signature byte, claim byte, or a cut token is refused. */
    for (size_t i = 0; i < t.len; i += 7) {
        char *bad = strdup(t.data);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (bad[i] != t.data[i] && t.data[i] != '.')
            CHECK_INT(orc_jwt_verify(k, bad, t.len, &got, err, sizeof err), !=, 0);
        free(bad);
    }
    CHECK_INT(orc_jwt_verify(k, t.data, t.len - 1, &got, err, sizeof err), !=, 0);
    json_decref(claims);
    orc_buf_free(&t);
    EVP_PKEY_free(k);
}

TEST(jwt_other_key_refused)
{
    EVP_PKEY *a = new_key(), *b = new_key();
    json_t *claims = json_pack("{s:s}", "sub", "x"), *got = NULL;
    struct orc_buf t = ORC_BUF_INIT;
    char err[128];

    CHECK_INT(orc_jwt_sign(a, claims, &t), ==, 0);
    CHECK_INT(orc_jwt_verify(b, t.data, t.len, &got, err, sizeof err), ==, ORC_EINVAL);
    CHECK(got == NULL);
    json_decref(claims);
    orc_buf_free(&t);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

TEST(jwt_jwk_and_shape)
{
    EVP_PKEY *k = new_key();
    json_t *jwk = orc_jwt_jwk(k);
    char kid[ORC_JWT_KID_LEN + 1];

    CHECK(jwk != NULL);
    CHECK_INT(orc_jwt_key_id(k, kid), ==, 0);
    CHECK_STR(orc_json_str(jwk, "kid"), kid);
    CHECK_STR(orc_json_str(jwk, "crv"), "P-256");
    CHECK_INT(strlen(orc_json_str(jwk, "x")), ==, 43);
    CHECK_INT(strlen(orc_json_str(jwk, "y")), ==, 43);
    CHECK(!orc_jwt_shaped("orc1.abc.def", 12)); /* the cluster token: not JSON */
    CHECK(!orc_jwt_shaped("abc", 3));
    CHECK(!orc_jwt_shaped("eyJhbGciOiJFUzI1NiJ9..x", 23));
    CHECK(orc_jwt_shaped("eyJhbGciOiJFUzI1NiJ9.e30.x", 26));
    CHECK_INT(orc_jwt_key_load("not a key", &k), ==, ORC_EINVAL);
    json_decref(jwk);
    EVP_PKEY_free(k);
}
