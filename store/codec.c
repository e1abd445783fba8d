/* codec.c — wire form of transactions (the Raft entry payload, also used to
 * forward writes to the leader) and of their results. Little-endian, with a
 * leading format version; every decode is bounds-checked.
 *
 * txn:    u8 version=1, u32 n_guards, u32 n_ops, guards, ops
 * guard:  u8 type, u32 key_len, key, NUL, [i64 mod_rev if MODREV]
 * op:     u8 type, u32 key_len, key, NUL, [u32 value_len, value if PUT or
 *         PUT_ALLOC]
 * alloc:  the value of a PUT_ALLOC: u32 len, value, u32 len, value_none,
 *         slot, [u8 n_more, n_more slots] (the count and the slots after
 *         it only when there are more than one)
 * slot:   range, prefix and marker each as a key (u32 len, text, NUL), u8 bits
 * result: u8 version=2, u8 succeeded, i64 revision, i32 failed_guard,
 *         i64 failed_mod_rev, u8 block_len, block (version 1: without the
 *         block, still read)
 * entry:  u8 kind, u8 pad, u64 nonce, u64 seq, body, pad zero bytes —
 *         the Raft entry: the submitting member's (nonce, seq) lets its FSM
 *         find the request; raft_uv needs entries in multiples of 8 bytes
 *         (it pads on write but not on read). Kind 1: the body is a txn;
 *         kind 2: rows of a backup being loaded (backup_load.c).
 * Keys carry their NUL so a decoded txn can be applied in place. */
#include <string.h>

#include "lib/orc.h"
#include "store/le.h"
#include "store/store_int.h"

#define TXN_VERSION 1
#define RESULT_VERSION 2
#define RESULT_SIZE_V1 22

static int check_key(const char *key)
{
    if (key == NULL || key[0] == '\0') return ORC_EINVAL;
    if (strlen(key) > STORE_TXN_MAX) return ORC_ETOOBIG;
    return 0;
}

static bool has_value(enum store_op_type t)
{
    return t == STORE_PUT || t == STORE_PUT_ALLOC;
}

int store__txn_measure(const struct store_txn *txn, size_t *size)
{
    size_t n = 9, allocs = 0;
    int rc;

    if (txn == NULL || (txn->n_guards && !txn->guards) || (txn->n_ops && !txn->ops))
        return ORC_EINVAL;
    if (txn->n_guards > STORE_TXN_MAX || txn->n_ops > STORE_TXN_MAX) return ORC_ETOOBIG;
    for (size_t i = 0; i < txn->n_guards; i++) {
        const struct store_guard *g = &txn->guards[i];
        if (g->type < STORE_GUARD_ABSENT || g->type > STORE_GUARD_MODREV) return ORC_EINVAL;
        if ((rc = check_key(g->key)) != 0) return rc;
        n += 6 + strlen(g->key) + (g->type == STORE_GUARD_MODREV ? 8 : 0);
        if (n > STORE_TXN_MAX) return ORC_ETOOBIG;
    }
    for (size_t i = 0; i < txn->n_ops; i++) {
        const struct store_op *op = &txn->ops[i];
        if (op->type < STORE_PUT || op->type > STORE_PUT_ALLOC) return ORC_EINVAL;
        if ((rc = check_key(op->key)) != 0) return rc;
        if (has_value(op->type) && op->value == NULL && op->value_len > 0) return ORC_EINVAL;
        if (has_value(op->type) && op->value_len > STORE_TXN_MAX) return ORC_ETOOBIG;
        n += 6 + strlen(op->key) + (has_value(op->type) ? 4 + op->value_len : 0);
        if (op->type == STORE_PUT_ALLOC) {
            struct store_alloc a;
            if (++allocs > 1 || store__alloc_parse(op->value, op->value_len, &a) != 0)
                return ORC_EINVAL;
        }
        if (n > STORE_TXN_MAX) return ORC_ETOOBIG;
    }
    *size = n;
    return 0;
}

static unsigned char *put_key(unsigned char *p, const char *key)
{
    size_t len = strlen(key);
    p = store__put_u32(p, (uint32_t)len);
    memcpy(p, key, len + 1);
    return p + len + 1;
}

void store__txn_write(const struct store_txn *txn, void *out)
{
    unsigned char *p = out;

    *p++ = TXN_VERSION;
    p = store__put_u32(p, (uint32_t)txn->n_guards);
    p = store__put_u32(p, (uint32_t)txn->n_ops);
    for (size_t i = 0; i < txn->n_guards; i++) {
        const struct store_guard *g = &txn->guards[i];
        *p++ = (unsigned char)g->type;
        p = put_key(p, g->key);
        if (g->type == STORE_GUARD_MODREV) p = store__put_u64(p, (uint64_t)g->mod_rev);
    }
    for (size_t i = 0; i < txn->n_ops; i++) {
        const struct store_op *op = &txn->ops[i];
        *p++ = (unsigned char)op->type;
        p = put_key(p, op->key);
        if (has_value(op->type)) {
            p = store__put_u32(p, (uint32_t)op->value_len);
            if (op->value_len) memcpy(p, op->value, op->value_len);
            p += op->value_len;
        }
    }
}

int store_txn_encode(const struct store_txn *txn, struct orc_buf *out)
{
    size_t n;
    int rc = store__txn_measure(txn, &n);

    if (rc != 0) return rc;
    if (orc_buf_reserve(out, n) != 0) return ORC_ENOMEM;
    store__txn_write(txn, out->data + out->len);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* ---- decoding ---- */

/* Skips one NUL-terminated key of declared length; NULL when malformed. */
static const unsigned char *skip_key(const unsigned char *p, const unsigned char *end)
{
    uint32_t len;

    if (end - p < 4) return NULL;
    len = store__get_u32(p);
    p += 4;
    if (len == 0 || (size_t)(end - p) < (size_t)len + 1) return NULL;
    if (memchr(p, 0, len) != NULL || p[len] != 0) return NULL;
    return p + len + 1;
}

static const unsigned char *check_guard(const unsigned char *p, const unsigned char *end)
{
    unsigned type;

    if (p >= end) return NULL;
    type = *p++;
    if (type < STORE_GUARD_ABSENT || type > STORE_GUARD_MODREV) return NULL;
    if ((p = skip_key(p, end)) == NULL) return NULL;
    if (type == STORE_GUARD_MODREV) {
        if (end - p < 8) return NULL;
        p += 8;
    }
    return p;
}

static const unsigned char *skip_value(const unsigned char *p, const unsigned char *end)
{
    uint32_t vlen;

    if (end - p < 4) return NULL;
    vlen = store__get_u32(p);
    p += 4;
    if ((size_t)(end - p) < vlen) return NULL;
    return p + vlen;
}

static const unsigned char *check_op(const unsigned char *p, const unsigned char *end,
                                     unsigned *allocs)
{
    unsigned type;

    if (p >= end) return NULL;
    type = *p++;
    if (type < STORE_PUT || type > STORE_PUT_ALLOC) return NULL;
    if ((p = skip_key(p, end)) == NULL) return NULL;
    const unsigned char *v = p + 4;
    if (has_value(type) && (p = skip_value(p, end)) == NULL) return NULL;
    if (type == STORE_PUT_ALLOC) {
        struct store_alloc a;
        if (++*allocs > 1 || store__alloc_parse(v, (size_t)(p - v), &a) != 0) return NULL;
    }
    return p;
}

int store__txn_check(const void *buf, size_t len)
{
    const unsigned char *p = buf, *end = p + len;
    uint32_t ng, no;
    unsigned allocs = 0;

    if (buf == NULL || len < 9 || len > STORE_TXN_MAX || p[0] != TXN_VERSION) return ORC_EPROTO;
    ng = store__get_u32(p + 1);
    no = store__get_u32(p + 5);
    p += 9;
    /* Each record takes at least 7 bytes: reject absurd counts before looping. */
    if ((uint64_t)ng + no > len / 7) return ORC_EPROTO;
    for (uint32_t i = 0; i < ng; i++)
        if ((p = check_guard(p, end)) == NULL) return ORC_EPROTO;
    for (uint32_t i = 0; i < no; i++)
        if ((p = check_op(p, end, &allocs)) == NULL) return ORC_EPROTO;
    return p == end ? 0 : ORC_EPROTO;
}

void store__txn_reader_init(struct store_txn_reader *r, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    r->p = p + 9;
    r->end = p + len;
    r->n_guards = r->guards_left = store__get_u32(p + 1);
    r->n_ops = r->ops_left = store__get_u32(p + 5);
}

static const char *read_key(struct store_txn_reader *r)
{
    uint32_t len = store__get_u32(r->p);
    const char *key = (const char *)r->p + 4;

    r->p += 4 + (size_t)len + 1;
    return key;
}

void store__txn_next_guard(struct store_txn_reader *r, struct store_guard *g)
{
    g->type = (enum store_guard_type)*r->p++;
    g->key = read_key(r);
    g->mod_rev = 0;
    if (g->type == STORE_GUARD_MODREV) {
        g->mod_rev = (int64_t)store__get_u64(r->p);
        r->p += 8;
    }
    r->guards_left--;
}

void store__txn_next_op(struct store_txn_reader *r, struct store_op *op)
{
    op->type = (enum store_op_type)*r->p++;
    op->key = read_key(r);
    op->value = NULL;
    op->value_len = 0;
    if (has_value(op->type)) {
        op->value_len = store__get_u32(r->p);
        op->value = r->p + 4;
        r->p += 4 + op->value_len;
    }
    r->ops_left--;
}

/* ---- Raft entries ---- */

size_t store__entry_size(size_t body_len)
{
    return (STORE_ENTRY_HEADER + body_len + 7) & ~(size_t)7;
}

void store__entry_header_kind(void *out, size_t body_len, unsigned kind, uint64_t nonce,
                              uint64_t seq)
{
    unsigned char *p = out;
    size_t pad = store__entry_size(body_len) - STORE_ENTRY_HEADER - body_len;

    *p++ = (unsigned char)kind;
    *p++ = (unsigned char)pad;
    p = store__put_u64(p, nonce);
    store__put_u64(p, seq);
    memset(p + 8 + body_len, 0, pad);
}

void store__entry_header(void *out, size_t txn_len, uint64_t nonce, uint64_t seq)
{
    store__entry_header_kind(out, txn_len, STORE_ENTRY_TXN, nonce, seq);
}

int store__entry_split(const void *buf, size_t len, unsigned *kind, uint64_t *nonce,
                       uint64_t *seq, const void **body, size_t *body_len)
{
    const unsigned char *p = buf;

    if (buf == NULL || len < STORE_ENTRY_HEADER || p[1] > 7 || len - STORE_ENTRY_HEADER < p[1])
        return ORC_EPROTO;
    *kind = p[0];
    *nonce = store__get_u64(p + 2);
    *seq = store__get_u64(p + 10);
    *body = p + STORE_ENTRY_HEADER;
    *body_len = len - STORE_ENTRY_HEADER - p[1];
    return 0;
}

int store__entry_parse(const void *buf, size_t len, uint64_t *nonce, uint64_t *seq,
                       const void **txn, size_t *txn_len)
{
    unsigned kind;

    if (store__entry_split(buf, len, &kind, nonce, seq, txn, txn_len) != 0
        || kind != STORE_ENTRY_TXN)
        return ORC_EPROTO;
    return store__txn_check(*txn, *txn_len);
}

/* ---- allocations (the value of a STORE_PUT_ALLOC) ---- */

static int alloc_key_ok(const char *k)
{
    return k && k[0] && strlen(k) <= 4096;
}

static int alloc_put_key(struct orc_buf *out, const char *k)
{
    unsigned char len[4];
    store__put_u32(len, (uint32_t)strlen(k));
    int rv = orc_buf_append(out, len, 4);
    return rv ? rv : orc_buf_append(out, k, strlen(k) + 1);
}

static int put_slot(struct orc_buf *out, const struct store_alloc_slot *sl)
{
    unsigned char bits = (unsigned char)sl->bits;
    int rv = alloc_put_key(out, sl->range);
    if (rv == 0) rv = alloc_put_key(out, sl->prefix);
    if (rv == 0) rv = alloc_put_key(out, sl->marker);
    return rv ? rv : orc_buf_append(out, &bits, 1);
}

static bool slot_ok(const struct store_alloc_slot *sl)
{
    return sl->bits <= 32 && alloc_key_ok(sl->range) && alloc_key_ok(sl->prefix)
           && alloc_key_ok(sl->marker);
}

int store_alloc_value(const struct store_alloc *a, struct orc_buf *out)
{
    unsigned char len[4];
    int rv;

    if (a == NULL || (!a->value && a->value_len) || (!a->value_none && a->value_none_len)
        || a->value_len > STORE_TXN_MAX || a->value_none_len > STORE_TXN_MAX
        || a->n_more >= STORE_ALLOC_SLOTS)
        return ORC_EINVAL;
    struct store_alloc_slot first = {a->range, a->bits, a->prefix, a->marker};
    if (!slot_ok(&first)) return ORC_EINVAL;
    for (size_t i = 0; i < a->n_more; i++)
        if (!slot_ok(&a->more[i])) return ORC_EINVAL;
    store__put_u32(len, (uint32_t)a->value_len);
    rv = orc_buf_append(out, len, 4);
    if (rv == 0 && a->value_len) rv = orc_buf_append(out, a->value, a->value_len);
    store__put_u32(len, (uint32_t)a->value_none_len);
    if (rv == 0) rv = orc_buf_append(out, len, 4);
    if (rv == 0 && a->value_none_len) rv = orc_buf_append(out, a->value_none, a->value_none_len);
    if (rv == 0) rv = put_slot(out, &first);
    /* The first format ended here; more slots follow a count. */
    unsigned char n = (unsigned char)a->n_more;
    if (rv == 0 && n) rv = orc_buf_append(out, &n, 1);
    for (size_t i = 0; rv == 0 && i < a->n_more; i++) rv = put_slot(out, &a->more[i]);
    return rv;
}

static const unsigned char *parse_slot(const unsigned char *p, const unsigned char *end,
                                       struct store_alloc_slot *sl)
{
    const char **keys[3] = {&sl->range, &sl->prefix, &sl->marker};
    const unsigned char *q;

    for (int i = 0; i < 3; i++) {
        if ((q = skip_key(p, end)) == NULL) return NULL;
        *keys[i] = (const char *)p + 4;
        p = q;
    }
    if (p >= end || *p > 32) return NULL;
    sl->bits = *p;
    return p + 1;
}

int store__alloc_parse(const void *buf, size_t len, struct store_alloc *a)
{
    const unsigned char *p = buf, *end = p + len, *q;
    struct store_alloc_slot first;

    if (buf == NULL || (q = skip_value(p, end)) == NULL) return ORC_EPROTO;
    a->value = p + 4;
    a->value_len = (size_t)(q - p - 4);
    p = q;
    if ((q = skip_value(p, end)) == NULL) return ORC_EPROTO;
    a->value_none = p + 4;
    a->value_none_len = (size_t)(q - p - 4);
    p = q;
    if ((p = parse_slot(p, end, &first)) == NULL) return ORC_EPROTO;
    a->range = first.range, a->bits = first.bits, a->prefix = first.prefix;
    a->marker = first.marker;
    a->n_more = 0;
    if (p == end) return 0;
    a->n_more = *p++;
    if (a->n_more == 0 || a->n_more >= STORE_ALLOC_SLOTS) return ORC_EPROTO;
    for (size_t i = 0; i < a->n_more; i++)
        if ((p = parse_slot(p, end, &a->more[i])) == NULL) return ORC_EPROTO;
    return p == end ? 0 : ORC_EPROTO;
}

/* ---- results ---- */

int store_txn_result_encode(const struct store_txn_result *res, struct orc_buf *out)
{
    unsigned char b[RESULT_SIZE_V1 + 1 + sizeof res->block], *p = b;
    size_t blen;

    if (res == NULL) return ORC_EINVAL;
    blen = strnlen(res->block, sizeof res->block - 1);
    *p++ = RESULT_VERSION;
    *p++ = res->succeeded ? 1 : 0;
    p = store__put_u64(p, (uint64_t)res->revision);
    p = store__put_u32(p, (uint32_t)(int32_t)res->failed_guard);
    p = store__put_u64(p, (uint64_t)res->failed_mod_rev);
    *p++ = (unsigned char)blen;
    memcpy(p, res->block, blen);
    return orc_buf_append(out, b, RESULT_SIZE_V1 + 1 + blen);
}

int store_txn_result_decode(const void *buf, size_t len, struct store_txn_result *res)
{
    const unsigned char *p = buf;

    if (buf == NULL || res == NULL || len < RESULT_SIZE_V1 || p[1] > 1) return ORC_EPROTO;
    memset(res->block, 0, sizeof res->block);
    if (p[0] == 1 && len != RESULT_SIZE_V1) return ORC_EPROTO;
    if (p[0] == RESULT_VERSION) {
        size_t blen = len > RESULT_SIZE_V1 ? p[RESULT_SIZE_V1] : sizeof res->block;
        if (blen >= sizeof res->block || len != RESULT_SIZE_V1 + 1 + blen) return ORC_EPROTO;
        memcpy(res->block, p + RESULT_SIZE_V1 + 1, blen);
    } else if (p[0] != 1) {
        return ORC_EPROTO;
    }
    res->succeeded = p[1] == 1;
    res->revision = (int64_t)store__get_u64(p + 2);
    res->failed_guard = (int)(int32_t)store__get_u32(p + 10);
    res->failed_mod_rev = (int64_t)store__get_u64(p + 14);
    if (res->revision < 0 || res->failed_guard < -1) return ORC_EPROTO;
    return 0;
}
