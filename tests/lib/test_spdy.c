/* test_spdy.c — lib/spdy: frames parsed and encoded, header blocks round
 * trip through the SPDY/3 dictionary, blocks made by another zlib (Python's,
 * the vectors below) decode, zlib state carries across frames, and every
 * bound holds. */
#include <stdlib.h>
#include <zlib.h>

#include "lib/orc.h"
#include "lib/spdy.h"
#include "tests/harness/test.h"

/* Two consecutive blocks of one zlib stream made by Python's zlib with the
 * SPDY/3 dictionary, as kubectl sends them: the error then the data stream. */
static const uint8_t block1[] = "\x78\xf9\xe3\xc6\xa7\xc2\x02\x25\x3a\x48\xf9\x5b\x04\x4e\xea\x16\x06\x16\x06\x40\x9a\xb3\x08\x12\x5f\x99\xa0\x74\xcc\x68\x00\x4e\x89\x25\x45\xa9\x89\xb9\xd0\xc2\x86\x35\x15\x14\x15\x00\x00\x00\x00\xff\xff";
static const uint8_t block2[] = "\x22\x53\x33\xa8\xa4\x4a\x04\x00\x00\x00\xff\xff";

static int parse(const struct orc_buf *b, struct orc_spdy_frame *f, size_t *used)
{
    return orc_spdy_parse((const uint8_t *)b->data, b->len, 1u << 20, f, used);
}

TEST(spdy_foreign_blocks_decode_in_order)
{
    orc_spdy_zlib *z = NULL;
    struct orc_spdy_headers h;

    CHECK_INT(orc_spdy_zlib_new(&z), ==, 0);
    CHECK_INT(orc_spdy_headers_decode(z, block1, sizeof block1 - 1, &h), ==, 0);
    CHECK_INT(h.n, ==, 3);
    CHECK_STR(orc_spdy_header(&h, "streamtype"), "error");
    CHECK_STR(orc_spdy_header(&h, "port"), "8080");
    CHECK_STR(orc_spdy_header(&h, "requestid"), "0");
    orc_spdy_headers_clear(&h);
    /* the second block refers back to the first: only the same stream decodes it */
    CHECK_INT(orc_spdy_headers_decode(z, block2, sizeof block2 - 1, &h), ==, 0);
    CHECK_STR(orc_spdy_header(&h, "streamtype"), "data");
    CHECK(orc_spdy_header(&h, "missing") == NULL);
    orc_spdy_headers_clear(&h);
    orc_spdy_zlib_free(z);

    CHECK_INT(orc_spdy_zlib_new(&z), ==, 0);
    CHECK_INT(orc_spdy_headers_decode(z, block2, sizeof block2 - 1, &h), !=, 0);
    orc_spdy_zlib_free(z);
}

TEST(spdy_headers_round_trip)
{
    static const char *const names[] = {"streamtype", "port", "requestid"};
    static const char *const values[] = {"data", "80", "7"};
    orc_spdy_zlib *tx = NULL, *rx = NULL;
    struct orc_buf b = ORC_BUF_INIT;
    struct orc_spdy_frame f;
    struct orc_spdy_headers h;
    size_t used, off = 0;

    CHECK_INT(orc_spdy_zlib_new(&tx), ==, 0);
    CHECK_INT(orc_spdy_zlib_new(&rx), ==, 0);
    CHECK_INT(orc_spdy_put_headers(tx, &b, ORC_SPDY_SYN_STREAM, 5, 0, names, values, 3), ==, 0);
    CHECK_INT(orc_spdy_put_headers(tx, &b, ORC_SPDY_SYN_REPLY, 5, ORC_SPDY_FLAG_FIN, names, values, 0), ==, 0);
    CHECK_INT(orc_spdy_put_headers(tx, &b, ORC_SPDY_HEADERS, 7, 0, names, values, 2), ==, 0);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(orc_spdy_parse((const uint8_t *)b.data + off, b.len - off, 4096, &f, &used), ==, 0);
        CHECK(used > 0);
        off += used;
        CHECK_INT(f.type, ==, i == 0 ? ORC_SPDY_SYN_STREAM : i == 1 ? ORC_SPDY_SYN_REPLY : ORC_SPDY_HEADERS);
        CHECK_INT(f.stream_id, ==, i == 2 ? 7 : 5);
        CHECK_INT(f.flags, ==, i == 1 ? ORC_SPDY_FLAG_FIN : 0);
        CHECK_INT(orc_spdy_headers_decode(rx, f.data, f.len, &h), ==, 0);
        CHECK_INT(h.n, ==, i == 0 ? 3 : i == 1 ? 0 : 2);
        if (i != 1) CHECK_STR(orc_spdy_header(&h, "port"), "80");
        orc_spdy_headers_clear(&h);
    }
    CHECK_INT(off, ==, b.len);
    orc_buf_free(&b);
    orc_spdy_zlib_free(tx);
    orc_spdy_zlib_free(rx);
}

TEST(spdy_control_and_data_frames)
{
    struct orc_buf b = ORC_BUF_INIT;
    struct orc_spdy_frame f;
    size_t used;

    CHECK_INT(orc_spdy_put_data(&b, 3, ORC_SPDY_FLAG_FIN, "hello", 5), ==, 0);
    CHECK_INT(b.len, ==, 13);
    CHECK_INT(memcmp(b.data, "\x00\x00\x00\x03\x01\x00\x00\x05hello", 13), ==, 0);
    CHECK_INT(parse(&b, &f, &used), ==, 0);
    CHECK_INT(used, ==, 13);
    CHECK_INT(f.type, ==, ORC_SPDY_DATA);
    CHECK_INT(f.stream_id, ==, 3);
    CHECK_INT(f.flags, ==, ORC_SPDY_FLAG_FIN);
    CHECK_INT(f.len, ==, 5);
    CHECK_INT(memcmp(f.data, "hello", 5), ==, 0);
    /* incomplete: asks for more, at any cut */
    for (size_t cut = 0; cut < b.len; cut++) {
        CHECK_INT(orc_spdy_parse((const uint8_t *)b.data, cut, 1024, &f, &used), ==, 0);
        CHECK_INT(used, ==, 0);
    }
    orc_buf_reset(&b);
    CHECK_INT(orc_spdy_put_rst(&b, 9, ORC_SPDY_CANCEL), ==, 0);
    CHECK_INT(memcmp(b.data, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x09\x00\x00\x00\x05", 16), ==, 0);
    CHECK_INT(parse(&b, &f, &used), ==, 0);
    CHECK_INT(f.type, ==, ORC_SPDY_RST_STREAM);
    CHECK_INT(f.stream_id, ==, 9);
    CHECK_INT(f.value, ==, ORC_SPDY_CANCEL);
    orc_buf_reset(&b);
    CHECK_INT(orc_spdy_put_ping(&b, 42), ==, 0);
    CHECK_INT(parse(&b, &f, &used), ==, 0);
    CHECK_INT(f.type, ==, ORC_SPDY_PING);
    CHECK_INT(f.value, ==, 42);
    orc_buf_reset(&b);
    CHECK_INT(orc_spdy_put_goaway(&b, 11, 0), ==, 0);
    CHECK_INT(parse(&b, &f, &used), ==, 0);
    CHECK_INT(f.type, ==, ORC_SPDY_GOAWAY);
    CHECK_INT(f.stream_id, ==, 11);
    orc_buf_reset(&b);
    CHECK_INT(orc_spdy_put_window_update(&b, 1, 65536), ==, 0);
    CHECK_INT(parse(&b, &f, &used), ==, 0);
    CHECK_INT(f.type, ==, ORC_SPDY_WINDOW_UPDATE);
    CHECK_INT(f.value, ==, 65536);
    orc_buf_free(&b);
}

TEST(spdy_malformed_frames_refused)
{
    static const struct {
        const char *bytes;
        size_t len;
        int want;
    } bad[] = {
        {"\x80\x02\x00\x01\x00\x00\x00\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 18, ORC_EPROTO}, /* SPDY/2 */
        {"\x80\x03\x00\x01\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 18, ORC_EPROTO}, /* stream 0 */
        {"\x80\x03\x00\x01\x00\x00\x00\x02\x00\x01", 10, ORC_EPROTO},             /* short SYN_STREAM */
        {"\x80\x03\x00\x06\x00\x00\x00\x03\x00\x00\x01", 11, ORC_EPROTO},         /* short PING */
        {"\x80\x03\x00\x03\x00\x00\x00\x04\x00\x00\x00\x01", 12, ORC_EPROTO},     /* short RST */
        {"\x80\x03\x00\x04\x00\x00\x00\x04\x00\x00\x00\x02", 12, ORC_EPROTO},     /* SETTINGS count */
        {"\x80\x03\x00\x00\x00\x00\x00\x00", 8, ORC_EPROTO},                       /* control type 0 */
        {"\x00\x00\x00\x00\x00\x00\x00\x00", 8, ORC_EPROTO},                       /* data on stream 0 */
        {"\x00\x00\x00\x01\x00\x10\x00\x00", 8, ORC_ETOOBIG},                      /* over the bound */
    };
    struct orc_spdy_frame f;
    size_t used;

    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
        CHECK_INT(orc_spdy_parse((const uint8_t *)bad[i].bytes, bad[i].len, 4096, &f, &used), ==, bad[i].want);
        CHECK_INT(used, ==, 0);
    }
    /* an unknown control type is skipped whole */
    CHECK_INT(orc_spdy_parse((const uint8_t *)"\x80\x03\x00\x0a\x00\x00\x00\x01\x00", 9, 4096, &f, &used), ==, 0);
    CHECK_INT(used, ==, 9);
    CHECK_INT(f.type, ==, 10);
}

/* A block deflated here from raw bytes, to try the decoder's bounds. */
static void raw_to_block(const struct orc_buf *raw, struct orc_buf *out)
{
    size_t dlen;
    const char *dict = orc_spdy_dictionary(&dlen);
    z_stream z = {0};

    CHECK_INT(deflateInit(&z, Z_DEFAULT_COMPRESSION), ==, Z_OK);
    CHECK_INT(deflateSetDictionary(&z, (const Bytef *)dict, (uInt)dlen), ==, Z_OK);
    CHECK_INT(orc_buf_reserve(out, 4096), ==, 0);
    z.next_in = (Bytef *)raw->data;
    z.avail_in = (uInt)raw->len;
    z.next_out = (Bytef *)out->data;
    z.avail_out = 4096;
    CHECK_INT(deflate(&z, Z_SYNC_FLUSH), ==, Z_OK);
    out->len = 4096 - z.avail_out;
    deflateEnd(&z);
}

TEST(spdy_header_block_bounds)
{
    orc_spdy_zlib *rx = NULL;
    struct orc_spdy_headers h;
    const char *names[ORC_SPDY_MAX_HEADERS + 1], *values[ORC_SPDY_MAX_HEADERS + 1];
    struct orc_buf b = ORC_BUF_INIT;
    orc_spdy_zlib *tx = NULL;
    struct orc_spdy_frame f;
    size_t used;
    char *big = malloc(ORC_SPDY_MAX_HEADER_BYTES + 1);

    CHECK(big != NULL);
    memset(big, 'a', ORC_SPDY_MAX_HEADER_BYTES);
    big[ORC_SPDY_MAX_HEADER_BYTES] = '\0';
    for (int i = 0; i <= ORC_SPDY_MAX_HEADERS; i++) names[i] = values[i] = "x";
    CHECK_INT(orc_spdy_zlib_new(&tx), ==, 0);
    CHECK_INT(orc_spdy_put_headers(tx, &b, ORC_SPDY_HEADERS, 1, 0, names, values, ORC_SPDY_MAX_HEADERS + 1), ==,
              ORC_EINVAL);
    CHECK_INT(b.len, ==, 0);
    /* a value that decompresses past the bound */
    names[0] = "k";
    values[0] = big;
    CHECK_INT(orc_spdy_put_headers(tx, &b, ORC_SPDY_HEADERS, 1, 0, names, values, 1), ==, 0);
    CHECK_INT(parse(&b, &f, &used), ==, 0);
    CHECK_INT(orc_spdy_zlib_new(&rx), ==, 0);
    CHECK_INT(orc_spdy_headers_decode(rx, f.data, f.len, &h), ==, ORC_ETOOBIG);
    CHECK_INT(h.n, ==, 0);
    orc_spdy_zlib_free(rx);
    orc_spdy_zlib_free(tx);
    /* garbage is not a block */
    CHECK_INT(orc_spdy_zlib_new(&rx), ==, 0);
    CHECK_INT(orc_spdy_headers_decode(rx, (const uint8_t *)"\x01\x02\x03\x04", 4, &h), ==, ORC_EPROTO);
    orc_spdy_zlib_free(rx);
    /* a count over the bound, and lengths past the end */
    {
        static const struct {
            const char *raw;
            size_t len;
            int want;
        } bad[] = {
            {"\x00\x00\x00\x41", 4, ORC_ETOOBIG},
            {"\x00\x00\x00\x01\x00\x00\x00\x09" "ab", 10, ORC_EPROTO},
            {"\x00\x00\x00\x01\x00\x00\x00\x01" "a\x00\x00\x00\x05" "b", 14, ORC_EPROTO},
            {"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00", 12, ORC_EPROTO}, /* empty name */
            {"\x00\x00\x00\x00zz", 6, ORC_EPROTO},                                /* bytes after */
            {"\x00\x00", 2, ORC_EPROTO},
        };
        for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
            struct orc_buf raw = ORC_BUF_INIT, blk = ORC_BUF_INIT;
            CHECK_INT(orc_spdy_zlib_new(&rx), ==, 0);
            CHECK_INT(orc_buf_append(&raw, bad[i].raw, bad[i].len), ==, 0);
            raw_to_block(&raw, &blk);
            CHECK_INT(orc_spdy_headers_decode(rx, (const uint8_t *)blk.data, blk.len, &h), ==, bad[i].want);
            CHECK_INT(h.n, ==, 0);
            orc_buf_free(&raw);
            orc_buf_free(&blk);
            orc_spdy_zlib_free(rx);
        }
    }
    orc_buf_free(&b);
    free(big);
}
