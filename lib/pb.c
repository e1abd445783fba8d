/* pb.c — the protobuf wire reader (see pb.h): every length is checked
 * against the end of its range before anything is read. */
#include "lib/pb.h"

#include "lib/orc.h"

void orc_pb_init(struct orc_pb_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
}

bool orc_pb_done(const struct orc_pb_reader *r)
{
    return r->p >= r->end;
}

int orc_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;

    for (int shift = 0; shift < 70; shift += 7) {
        if (q >= end) return ORC_EPROTO;
        uint8_t b = *q++;
        if (shift == 63 && b > 1) return ORC_EPROTO; /* past 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *p = q;
            *out = v;
            return 0;
        }
    }
    return ORC_EPROTO; /* more than 10 bytes */
}

static int fixed(const uint8_t **p, const uint8_t *end, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if ((size_t)(end - *p) < n) return ORC_EPROTO;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)(*p)[i] << (8 * i);
    *p += n;
    *out = v;
    return 0;
}

int orc_pb_next(struct orc_pb_reader *r, struct orc_pb_field *f, char *msg, size_t n)
{
    const uint8_t *q = r->p;
    uint64_t tag, len;

    if (orc_pb_varint(&q, r->end, &tag) != 0)
        return orc_errf(msg, n, ORC_EPROTO, "truncated or overlong field tag");
    if (tag >> 3 == 0 || tag >> 3 > ORC_PB_MAX_FIELD)
        return orc_errf(msg, n, ORC_EPROTO, "invalid field number %llu",
                        (unsigned long long)(tag >> 3));
    f->num = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    f->u = 0;
    f->data = NULL;
    f->len = 0;
    switch (f->wire) {
    case ORC_PB_VARINT:
        if (orc_pb_varint(&q, r->end, &f->u) != 0)
            return orc_errf(msg, n, ORC_EPROTO, "field %u: truncated or overlong varint", f->num);
        break;
    case ORC_PB_I64:
    case ORC_PB_I32:
        if (fixed(&q, r->end, f->wire == ORC_PB_I64 ? 8 : 4, &f->u) != 0)
            return orc_errf(msg, n, ORC_EPROTO, "field %u: truncated fixed-width value", f->num);
        break;
    case ORC_PB_LEN:
        if (orc_pb_varint(&q, r->end, &len) != 0)
            return orc_errf(msg, n, ORC_EPROTO, "field %u: truncated length", f->num);
        if (len > (uint64_t)(r->end - q))
            return orc_errf(msg, n, ORC_EPROTO,
                            "field %u: length %llu runs past the end of its message", f->num,
                            (unsigned long long)len);
        f->data = q;
        f->len = (size_t)len;
        q += len;
        break;
    default:
        return orc_errf(msg, n, ORC_EPROTO, "field %u: unsupported wire type %d", f->num, f->wire);
    }
    r->p = q;
    return 0;
}
