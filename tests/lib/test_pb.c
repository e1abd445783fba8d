/* test_pb.c — the protobuf wire reader (lib/pb.c): each wire type, and the
 * edges a hostile body may hold (truncated varints and values, an overlong
 * varint, a length past the end, field number 0, groups). */
#include <string.h>

#include "lib/orc.h"
#include "lib/pb.h"
#include "tests/harness/test.h"

static int one(const void *data, size_t len, struct orc_pb_field *f, char *msg)
{
    struct orc_pb_reader r;
    orc_pb_init(&r, data, len);
    return orc_pb_next(&r, f, msg, 128);
}

TEST(pb_reads_each_wire_type)
{
    /* 1: varint 300; 2: "hi"; 3: fixed64 1; 4: fixed32 0x01020304 */
    static const unsigned char b[] = {0x08, 0xac, 0x02, 0x12, 0x02, 'h', 'i', 0x19, 1, 0, 0, 0,
                                      0,    0,    0,    0,    0x25, 4,    3,   2,   1};
    struct orc_pb_reader r;
    struct orc_pb_field f;
    char msg[128];

    orc_pb_init(&r, b, sizeof b);
    CHECK_INT(orc_pb_next(&r, &f, msg, sizeof msg), ==, 0);
    CHECK(f.num == 1 && f.wire == ORC_PB_VARINT && f.u == 300);
    CHECK_INT(orc_pb_next(&r, &f, msg, sizeof msg), ==, 0);
    CHECK(f.num == 2 && f.wire == ORC_PB_LEN && f.len == 2 && memcmp(f.data, "hi", 2) == 0);
    CHECK_INT(orc_pb_next(&r, &f, msg, sizeof msg), ==, 0);
    CHECK(f.num == 3 && f.wire == ORC_PB_I64 && f.u == 1);
    CHECK_INT(orc_pb_next(&r, &f, msg, sizeof msg), ==, 0);
    CHECK(f.num == 4 && f.wire == ORC_PB_I32 && f.u == 0x01020304);
    CHECK(orc_pb_done(&r));
}

TEST(pb_negative_int_is_ten_bytes)
{
    static const unsigned char b[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0x01};
    struct orc_pb_field f;
    char msg[128];
    CHECK_INT(one(b, sizeof b, &f, msg), ==, 0);
    CHECK((int64_t)f.u == -1);
}

TEST(pb_truncated_varint)
{
    static const unsigned char b[] = {0x08, 0xac};
    struct orc_pb_field f;
    char msg[128];
    CHECK_INT(one(b, sizeof b, &f, msg), ==, ORC_EPROTO);
    CHECKF(strstr(msg, "field 1") != NULL, "%s", msg);
    CHECK_INT(one(b, 1, &f, msg), ==, ORC_EPROTO); /* the tag alone */
    static const unsigned char tag[] = {0x80};
    CHECK_INT(one(tag, sizeof tag, &f, msg), ==, ORC_EPROTO);
}

TEST(pb_overlong_varint)
{
    /* eleven continuation bytes, and ten whose last one sets bits past 64 */
    static const unsigned char eleven[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x80, 0x80, 0x80, 0x80, 0x01};
    static const unsigned char past64[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0x02};
    struct orc_pb_field f;
    char msg[128];
    CHECK_INT(one(eleven, sizeof eleven, &f, msg), ==, ORC_EPROTO);
    CHECK_INT(one(past64, sizeof past64, &f, msg), ==, ORC_EPROTO);
}

TEST(pb_length_past_the_end)
{
    static const unsigned char b[] = {0x12, 0x05, 'a', 'b'};
    /* a length near 2^64 must not wrap the pointer */
    static const unsigned char huge[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x01, 'a'};
    struct orc_pb_reader r;
    struct orc_pb_field f;
    char msg[128];

    orc_pb_init(&r, b, sizeof b);
    CHECK_INT(orc_pb_next(&r, &f, msg, sizeof msg), ==, ORC_EPROTO);
    CHECKF(strstr(msg, "past the end") != NULL, "%s", msg);
    CHECK(r.p == b); /* left where it was */
    CHECK_INT(one(huge, sizeof huge, &f, msg), ==, ORC_EPROTO);
}

TEST(pb_truncated_fixed)
{
    static const unsigned char b64[] = {0x09, 1, 2, 3};
    static const unsigned char b32[] = {0x0d, 1, 2, 3};
    struct orc_pb_field f;
    char msg[128];
    CHECK_INT(one(b64, sizeof b64, &f, msg), ==, ORC_EPROTO);
    CHECK_INT(one(b32, sizeof b32, &f, msg), ==, ORC_EPROTO);
}

TEST(pb_bad_field_numbers_and_groups)
{
    static const unsigned char zero[] = {0x00, 0x01};
    static const unsigned char group[] = {0x0b};  /* field 1, start group */
    static const unsigned char wire7[] = {0x0f};
    /* field number 2^29: one past the largest */
    static const unsigned char big[] = {0x80, 0x80, 0x80, 0x80, 0x20, 0x00};
    struct orc_pb_field f;
    char msg[128];
    CHECK_INT(one(zero, sizeof zero, &f, msg), ==, ORC_EPROTO);
    CHECK_INT(one(group, sizeof group, &f, msg), ==, ORC_EPROTO);
    CHECKF(strstr(msg, "wire type 3") != NULL, "%s", msg);
    CHECK_INT(one(wire7, sizeof wire7, &f, msg), ==, ORC_EPROTO);
    CHECK_INT(one(big, sizeof big, &f, msg), ==, ORC_EPROTO);
}

TEST(pb_empty_input_is_done)
{
    struct orc_pb_reader r;
    orc_pb_init(&r, "", 0);
    CHECK(orc_pb_done(&r));
}
