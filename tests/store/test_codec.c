/* test_codec.c — txn and result wire forms: round trip, caller mistakes
 * refused, and malformed bytes (truncations, bit flips) rejected. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/orc.h"
#include "store/store.h"
#include "store/store_int.h"
#include "tests/harness/test.h"

static const struct store_guard guards[] = {
    {STORE_GUARD_ABSENT, "/a", 0},
    {STORE_GUARD_MODREV, "/b", 42},
    {STORE_GUARD_EXISTS, "/c", 0},
};
static const struct store_op ops[] = {
    {STORE_PUT, "/a", "hello", 5},
    {STORE_DELETE, "/b", NULL, 0},
    {STORE_PUT, "/empty", "", 0},
};

TEST(txn_round_trip)
{
    struct store_txn t = {guards, 3, ops, 3};
    struct orc_buf b = ORC_BUF_INIT;
    struct store_txn_reader r;
    struct store_guard g;
    struct store_op op;

    CHECK_INT(store_txn_encode(&t, &b), ==, 0);
    CHECK_INT(store__txn_check(b.data, b.len), ==, 0);
    store__txn_reader_init(&r, b.data, b.len);
    CHECK_INT(r.n_guards, ==, 3);
    CHECK_INT(r.n_ops, ==, 3);
    for (int i = 0; i < 3; i++) {
        store__txn_next_guard(&r, &g);
        CHECK_INT(g.type, ==, guards[i].type);
        CHECK_STR(g.key, guards[i].key);
        CHECK_INT(g.mod_rev, ==, guards[i].mod_rev);
    }
    for (int i = 0; i < 3; i++) {
        store__txn_next_op(&r, &op);
        CHECK_INT(op.type, ==, ops[i].type);
        CHECK_STR(op.key, ops[i].key);
        CHECK_INT(op.value_len, ==, ops[i].value_len);
        if (op.value_len) CHECK(memcmp(op.value, ops[i].value, op.value_len) == 0);
    }
    CHECK(r.p == r.end);
    orc_buf_free(&b);
}

TEST(txn_every_truncation_and_flip_is_handled)
{
    struct store_txn t = {guards, 3, ops, 3};
    struct orc_buf b = ORC_BUF_INIT;

    CHECK_INT(store_txn_encode(&t, &b), ==, 0);
    for (size_t n = 0; n < b.len; n++) CHECK_INT(store__txn_check(b.data, n), ==, ORC_EPROTO);
    /* Any single-byte change is either rejected or still decodes in bounds. */
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (char)(1 << bit);
            if (store__txn_check(b.data, b.len) == 0) {
                struct store_txn_reader r;
                struct store_guard g;
                struct store_op op;
                store__txn_reader_init(&r, b.data, b.len);
                while (r.guards_left) store__txn_next_guard(&r, &g);
                while (r.ops_left) store__txn_next_op(&r, &op);
                CHECK(r.p == r.end);
            }
            b.data[i] ^= (char)(1 << bit);
        }
    }
    CHECK_INT(store__txn_check(NULL, 0), ==, ORC_EPROTO);
    orc_buf_free(&b);
}

TEST(txn_bad_input_refused)
{
    struct orc_buf b = ORC_BUF_INIT;
    struct store_op bad_key = {STORE_PUT, "", "x", 1};
    struct store_op null_key = {STORE_DELETE, NULL, NULL, 0};
    struct store_op bad_type = {(enum store_op_type)7, "/k", NULL, 0};
    struct store_guard bad_guard = {(enum store_guard_type)0, "/k", 0};
    struct store_op null_value = {STORE_PUT, "/k", NULL, 3};
    struct store_txn t;

    t = (struct store_txn){NULL, 0, &bad_key, 1};
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    t = (struct store_txn){NULL, 0, &null_key, 1};
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    t = (struct store_txn){NULL, 0, &bad_type, 1};
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    t = (struct store_txn){&bad_guard, 1, NULL, 0};
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    t = (struct store_txn){NULL, 0, &null_value, 1};
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    CHECK_INT(b.len, ==, 0);
    orc_buf_free(&b);
}

TEST(txn_over_4mib_too_big)
{
    size_t len = (4u << 20) + 1;
    char *big = calloc(1, len);
    struct store_op op = {STORE_PUT, "/big", big, len};
    struct store_txn t = {NULL, 0, &op, 1};
    struct orc_buf b = ORC_BUF_INIT;

    CHECK(big != NULL);
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_ETOOBIG);
    op.value_len = 3u << 20;
    CHECK_INT(store_txn_encode(&t, &b), ==, 0);
    CHECK_INT(store__txn_check(b.data, b.len), ==, 0);
    orc_buf_free(&b);
    free(big);
}

TEST(result_round_trip_and_malformed)
{
    struct store_txn_result in = {false, 1234567890123LL, 2, 77, ""}, out;
    struct orc_buf b = ORC_BUF_INIT;

    CHECK_INT(store_txn_result_encode(&in, &b), ==, 0);
    CHECK_INT(store_txn_result_decode(b.data, b.len, &out), ==, 0);
    CHECK(!out.succeeded);
    CHECK_INT(out.revision, ==, in.revision);
    CHECK_INT(out.failed_guard, ==, 2);
    CHECK_INT(out.failed_mod_rev, ==, 77);
    CHECK_INT(store_txn_result_decode(b.data, b.len - 1, &out), ==, ORC_EPROTO);
    b.data[0] = 9;
    CHECK_INT(store_txn_result_decode(b.data, b.len, &out), ==, ORC_EPROTO);
    orc_buf_reset(&b);
    in = (struct store_txn_result){true, 5, -1, 0, "10.42.3.0/24"};
    CHECK_INT(store_txn_result_encode(&in, &b), ==, 0);
    CHECK_INT(store_txn_result_decode(b.data, b.len, &out), ==, 0);
    CHECK(out.succeeded);
    CHECK_INT(out.failed_guard, ==, -1);
    CHECK_STR(out.block, "10.42.3.0/24");
    CHECK_INT(store_txn_result_decode(b.data, b.len - 1, &out), ==, ORC_EPROTO);
    /* A version-1 result (22 bytes, no block) from an older member still reads. */
    b.data[0] = 1;
    CHECK_INT(store_txn_result_decode(b.data, 22, &out), ==, 0);
    CHECK_STR(out.block, "");
    orc_buf_free(&b);
}

TEST(alloc_op_round_trip_and_malformed)
{
    struct store_alloc a = {"{\"cidr\":\"@M@\"}", 15, "{}", 2, "10.42.0.0/16", 24,
                            "/orc/podcidrs/", "@M@", {{0}}, 0};
    struct orc_buf v = ORC_BUF_INIT, b = ORC_BUF_INIT;
    CHECK_INT(store_alloc_value(&a, &v), ==, 0);
    struct store_op ops[2] = {{STORE_PUT_ALLOC, "/registry/core/nodes/n1", v.data, v.len},
                              {STORE_PUT_ALLOC, "/x", v.data, v.len}};
    struct store_txn t = {NULL, 0, ops, 1};
    CHECK_INT(store_txn_encode(&t, &b), ==, 0);
    CHECK_INT(store__txn_check(b.data, b.len), ==, 0);
    struct store_txn_reader r;
    struct store_op op;
    struct store_alloc got;
    store__txn_reader_init(&r, b.data, b.len);
    store__txn_next_op(&r, &op);
    CHECK_INT(op.type, ==, STORE_PUT_ALLOC);
    CHECK_INT(store__alloc_parse(op.value, op.value_len, &got), ==, 0);
    CHECK_INT(got.value_len, ==, 15);
    CHECK(memcmp(got.value, a.value, 15) == 0);
    CHECK_INT(got.value_none_len, ==, 2);
    CHECK_STR(got.range, "10.42.0.0/16");
    CHECK_STR(got.prefix, "/orc/podcidrs/");
    CHECK_STR(got.marker, "@M@");
    CHECK_INT(got.bits, ==, 24);
    /* Two allocations in one txn, a truncated allocation: refused. */
    t.n_ops = 2;
    orc_buf_reset(&b);
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    ops[0].value_len = v.len - 1;
    t.n_ops = 1;
    CHECK_INT(store_txn_encode(&t, &b), ==, ORC_EINVAL);
    CHECK_INT(store__alloc_parse(v.data, v.len - 1, &got), ==, ORC_EPROTO);
    a.marker = "";
    orc_buf_reset(&v);
    CHECK_INT(store_alloc_value(&a, &v), ==, ORC_EINVAL);
    orc_buf_free(&b);
    orc_buf_free(&v);
}

TEST(entry_padding_and_header)
{
    struct store_op op = {STORE_PUT, "/k", "0123456789abcdef", 0};
    struct store_txn t = {NULL, 0, &op, 1};

    for (size_t vlen = 0; vlen <= 16; vlen++) {
        size_t n, size;
        op.value_len = vlen;
        CHECK_INT(store__txn_measure(&t, &n), ==, 0);
        size = store__entry_size(n);
        CHECK_INT(size % 8, ==, 0); /* raft_uv needs 8-byte multiples */
        CHECK(size >= STORE_ENTRY_HEADER + n && size < STORE_ENTRY_HEADER + n + 8);
        unsigned char *e = malloc(size);
        CHECK(e != NULL);
        store__txn_write(&t, e + STORE_ENTRY_HEADER);
        store__entry_header(e, n, 0x1122334455667788ULL, vlen + 1);
        uint64_t nonce, seq;
        const void *txn;
        size_t len;
        CHECK_INT(store__entry_parse(e, size, &nonce, &seq, &txn, &len), ==, 0);
        CHECK(nonce == 0x1122334455667788ULL);
        CHECK_INT(seq, ==, vlen + 1);
        CHECK_INT(len, ==, n);
        CHECK(txn == e + STORE_ENTRY_HEADER);
        e[1] = 8; /* padding over 7 */
        CHECK_INT(store__entry_parse(e, size, &nonce, &seq, &txn, &len), ==, ORC_EPROTO);
        e[1] = 0;
        e[0] = 2; /* unknown entry version */
        CHECK_INT(store__entry_parse(e, size, &nonce, &seq, &txn, &len), ==, ORC_EPROTO);
        CHECK_INT(store__entry_parse(e, 5, &nonce, &seq, &txn, &len), ==, ORC_EPROTO);
        free(e);
    }
}
