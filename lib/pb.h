/* pb.h — a bounded reader for the protobuf wire format: one field at a time
 * from a byte range, never reading past it. No allocation; the caller's
 * buffer must outlive the reader and the fields it hands out. */
#ifndef ORC_PB_H
#define ORC_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum orc_pb_wire {
    ORC_PB_VARINT = 0,
    ORC_PB_I64 = 1,
    ORC_PB_LEN = 2,
    ORC_PB_I32 = 5,
};

/* The largest field number the format allows (29 bits). */
#define ORC_PB_MAX_FIELD 536870911u

struct orc_pb_reader {
    const uint8_t *p, *end;
};

struct orc_pb_field {
    uint32_t num;        /* 1..ORC_PB_MAX_FIELD */
    int wire;            /* ORC_PB_* */
    uint64_t u;          /* VARINT, I64, I32 values */
    const uint8_t *data; /* LEN: the bytes, inside the reader's range */
    size_t len;
};

void orc_pb_init(struct orc_pb_reader *r, const void *data, size_t len);
bool orc_pb_done(const struct orc_pb_reader *r);

/* Reads the next field into *f. 0, or ORC_EPROTO with a message in msg
 * (truncated varint or value, a varint over 10 bytes, a length past the
 * end, field number 0 or too large, groups and unknown wire types). On
 * failure the reader is left where it was. */
int orc_pb_next(struct orc_pb_reader *r, struct orc_pb_field *f, char *msg, size_t n);

/* One varint from [*p, end); advances *p. 0 or ORC_EPROTO. */
int orc_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

#endif
