/* spdy.h — SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 and the 3.1
 * errata), the subset Kubernetes' port-forward speaks: frame parse and
 * encode, and the header block codec (zlib with SPDY/3's fixed dictionary;
 * one zlib stream per direction for the whole connection, so a codec is
 * per connection and frames go through it in order). Pure: no I/O, no
 * loop. Every length read from the wire is bounded by the caller's limits
 * before anything is allocated. */
#ifndef ORC_LIB_SPDY_H
#define ORC_LIB_SPDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define ORC_SPDY_VERSION 3
#define ORC_SPDY_HEAD 8 /* bytes of every frame's header */

enum orc_spdy_type {
    ORC_SPDY_DATA = 0, /* not a control frame: a data frame */
    ORC_SPDY_SYN_STREAM = 1,
    ORC_SPDY_SYN_REPLY = 2,
    ORC_SPDY_RST_STREAM = 3,
    ORC_SPDY_SETTINGS = 4,
    ORC_SPDY_PING = 6,
    ORC_SPDY_GOAWAY = 7,
    ORC_SPDY_HEADERS = 8,
    ORC_SPDY_WINDOW_UPDATE = 9,
};

#define ORC_SPDY_FLAG_FIN 0x01
#define ORC_SPDY_FLAG_UNIDIRECTIONAL 0x02

/* RST_STREAM status codes used here. */
#define ORC_SPDY_PROTOCOL_ERROR 1
#define ORC_SPDY_INVALID_STREAM 2
#define ORC_SPDY_REFUSED_STREAM 3
#define ORC_SPDY_CANCEL 5
#define ORC_SPDY_INTERNAL_ERROR 6

/* One frame, pointing into the buffer it was parsed from. */
struct orc_spdy_frame {
    uint16_t type;      /* enum orc_spdy_type; another control type is passed on as read */
    uint8_t flags;
    uint32_t stream_id; /* data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE;
                           GOAWAY: the last good stream */
    uint32_t value;     /* RST_STREAM / GOAWAY status, PING id, WINDOW_UPDATE delta,
                           SYN_STREAM associated stream */
    const uint8_t *data; /* data: the payload; SYN_STREAM, SYN_REPLY, HEADERS: the
                            compressed header block; otherwise the raw payload */
    size_t len;
};

/* Parses the frame at buf[0..len): 0 and *used > 0 for a whole frame; 0 and
 * *used == 0 when more bytes are needed; ORC_ETOOBIG when its payload is over
 * max_payload; ORC_EPROTO when it is malformed (a control frame of another
 * version, a payload too short for its type, a zero stream id where one is
 * needed). */
int orc_spdy_parse(const uint8_t *buf, size_t len, size_t max_payload, struct orc_spdy_frame *f, size_t *used);

/* Encoders: append one frame to out (0 or ORC_ENOMEM; ORC_ETOOBIG over
 * 2^24-1 payload bytes). */
int orc_spdy_put_data(struct orc_buf *out, uint32_t stream_id, uint8_t flags, const void *data, size_t len);
int orc_spdy_put_rst(struct orc_buf *out, uint32_t stream_id, uint32_t status);
int orc_spdy_put_ping(struct orc_buf *out, uint32_t id);
int orc_spdy_put_goaway(struct orc_buf *out, uint32_t last_good, uint32_t status);
int orc_spdy_put_window_update(struct orc_buf *out, uint32_t stream_id, uint32_t delta);

/* ---- header blocks ---- */

/* Bounds on one decoded block. */
#define ORC_SPDY_MAX_HEADERS 64
#define ORC_SPDY_MAX_HEADER_BYTES (64u * 1024) /* the decompressed block */

/* A decoded block: names (lower case on the wire) and values (several
 * values of one name are NUL-separated, len says where the value ends).
 * Strings are owned by the struct: orc_spdy_headers_clear frees them. */
struct orc_spdy_header {
    char *name, *value;
    size_t value_len;
};
struct orc_spdy_headers {
    size_t n;
    struct orc_spdy_header h[ORC_SPDY_MAX_HEADERS];
};

/* SPDY/3's fixed zlib dictionary (protocol data; *len its length). */
const char *orc_spdy_dictionary(size_t *len);

/* The zlib state of one connection, both directions. */
typedef struct orc_spdy_zlib orc_spdy_zlib;

/* 0, or ORC_ENOMEM. *out is the caller's until orc_spdy_zlib_free. */
int orc_spdy_zlib_new(orc_spdy_zlib **out);
void orc_spdy_zlib_free(orc_spdy_zlib *z);

/* Decompresses one block with the receiving stream: 0 (out filled; clear it
 * after), ORC_ETOOBIG over the bounds above, ORC_EPROTO when it is not a
 * valid block. After an error the receiving stream is unusable: the
 * connection must end (as SPDY says). */
int orc_spdy_headers_decode(orc_spdy_zlib *z, const uint8_t *block, size_t len, struct orc_spdy_headers *out);
void orc_spdy_headers_clear(struct orc_spdy_headers *h);
/* The value of `name` (exact, lower case), or NULL. */
const char *orc_spdy_header(const struct orc_spdy_headers *h, const char *name);

/* Appends a SYN_STREAM (stream_id, no association, priority 0), a
 * SYN_REPLY or a HEADERS frame whose block holds the n name/value pairs
 * (names[i], values[i]: NUL-terminated), compressed with the sending
 * stream: 0, ORC_ENOMEM, ORC_EINVAL (more than ORC_SPDY_MAX_HEADERS). */
int orc_spdy_put_headers(orc_spdy_zlib *z, struct orc_buf *out, uint16_t type, uint32_t stream_id,
                         uint8_t flags, const char *const *names, const char *const *values, size_t n);

#endif
