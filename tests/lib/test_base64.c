/* test_base64.c — RFC 4648 vectors, strict padding, URL-safe form. */
#include "lib/base64.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static void enc(const char *in, bool url, const char *want)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(orc_base64_encode(in, strlen(in), url, &b), ==, 0);
    CHECK_STR(b.data ? b.data : "", want);
    orc_buf_free(&b);
}

static int dec(const char *in, bool url, struct orc_buf *b)
{
    orc_buf_reset(b);
    return orc_base64_decode(in, strlen(in), url, b);
}

TEST(base64_rfc4648_vectors)
{
    static const char *const vec[][2] = {{"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},   {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    struct orc_buf b = ORC_BUF_INIT;

    for (size_t i = 0; i < ORC_ARRAY_LEN(vec); i++) {
        enc(vec[i][0], false, vec[i][1]);
        CHECK_INT(dec(vec[i][1], false, &b), ==, 0);
        CHECK_INT(b.len, ==, strlen(vec[i][0]));
        CHECK(b.len == 0 || memcmp(b.data, vec[i][0], b.len) == 0);
    }
    orc_buf_free(&b);
}

TEST(base64_binary_and_url)
{
    unsigned char bin[256];
    struct orc_buf e = ORC_BUF_INIT, d = ORC_BUF_INIT;

    for (int i = 0; i < 256; i++) bin[i] = (unsigned char)(255 - i);
    for (bool url = false; ; url = true) {
        orc_buf_reset(&e);
        CHECK_INT(orc_base64_encode(bin, sizeof bin, url, &e), ==, 0);
        CHECK(strchr(e.data, url ? '+' : '-') == NULL);
        CHECK_INT(dec(e.data, url, &d), ==, 0);
        CHECK_INT(d.len, ==, sizeof bin);
        CHECK(memcmp(d.data, bin, sizeof bin) == 0);
        if (url) break;
    }
    enc("\xfb\xff", true, "-_8");
    CHECK_INT(dec("-_8", true, &d), ==, 0);
    CHECK_INT(dec("-_8=", true, &d), ==, 0);
    CHECK_INT(d.len, ==, 2);
    orc_buf_free(&e);
    orc_buf_free(&d);
}

TEST(base64_rejects_bad_input)
{
    static const char *const bad[] = {"Zg", "Zg=", "Zm9v=", "Z===", "Zm9v YmFy", "Zm9v\n",
                                      "Zh==", "====", "Zm8=Zm8=", "-_8=", "A"};
    struct orc_buf b = ORC_BUF_INIT;

    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++)
        CHECKF(dec(bad[i], false, &b) == ORC_EINVAL, "accepted \"%s\"", bad[i]);
    CHECK_INT(dec("Zm+v", true, &b), ==, ORC_EINVAL);
    CHECK_INT(dec("A", true, &b), ==, ORC_EINVAL);
    /* A failed decode leaves what was already in the buffer. */
    orc_buf_reset(&b);
    orc_buf_puts(&b, "keep");
    CHECK_INT(orc_base64_decode("Zm9v!!!!", 8, false, &b), ==, ORC_EINVAL);
    CHECK_STR(b.data, "keep");
    orc_buf_free(&b);
}
