/* spdy.c — SPDY/3.1 frames: parsing one from a buffer, encoding the
 * control and data frames port-forward needs. Header blocks are in
 * spdy_zlib.c. */
#include <string.h>

#include "lib/orc.h"
#include "lib/spdy.h"

#define MAX_LENGTH 0xffffffu /* a frame's 24-bit length */
#define ID_MASK 0x7fffffffu

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The fields of a control frame's payload, checked against its type. */
static int control_fields(struct orc_spdy_frame *f, const uint8_t *p, size_t n)
{
    switch (f->type) {
    case ORC_SPDY_SYN_STREAM:
        if (n < 10) return ORC_EPROTO;
        f->stream_id = be32(p) & ID_MASK;
        f->value = be32(p + 4) & ID_MASK;
        f->data = p + 10;
        f->len = n - 10;
        return f->stream_id ? 0 : ORC_EPROTO;
    case ORC_SPDY_SYN_REPLY:
    case ORC_SPDY_HEADERS:
        if (n < 4) return ORC_EPROTO;
        f->stream_id = be32(p) & ID_MASK;
        f->data = p + 4;
        f->len = n - 4;
        return f->stream_id ? 0 : ORC_EPROTO;
    case ORC_SPDY_RST_STREAM:
    case ORC_SPDY_GOAWAY:
    case ORC_SPDY_WINDOW_UPDATE:
        if (n != 8) return ORC_EPROTO;
        f->stream_id = be32(p) & ID_MASK;
        f->value = be32(p + 4) & (f->type == ORC_SPDY_WINDOW_UPDATE ? ID_MASK : 0xffffffffu);
        return f->stream_id || f->type == ORC_SPDY_GOAWAY ? 0 : ORC_EPROTO;
    case ORC_SPDY_PING:
        if (n != 4) return ORC_EPROTO;
        f->value = be32(p);
        return 0;
    case ORC_SPDY_SETTINGS:
        if (n < 4 || (n - 4) / 8 < be32(p) || (n - 4) % 8 != 0) return ORC_EPROTO;
        return 0;
    default:
        return 0; /* unknown control frames are ignored by the receiver, as SPDY says */
    }
}

int orc_spdy_parse(const uint8_t *buf, size_t len, size_t max_payload, struct orc_spdy_frame *f, size_t *used)
{
    size_t n;

    *used = 0;
    if (len < ORC_SPDY_HEAD) return 0;
    n = (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
    if (n > max_payload) return ORC_ETOOBIG;
    if (len - ORC_SPDY_HEAD < n) return 0;
    memset(f, 0, sizeof *f);
    f->flags = buf[4];
    f->data = buf + ORC_SPDY_HEAD;
    f->len = n;
    if (buf[0] & 0x80) {
        if (((buf[0] & 0x7f) << 8 | buf[1]) != ORC_SPDY_VERSION) return ORC_EPROTO;
        f->type = (uint16_t)(buf[2] << 8 | buf[3]);
        if (f->type == ORC_SPDY_DATA) return ORC_EPROTO;
        int rv = control_fields(f, buf + ORC_SPDY_HEAD, n);
        if (rv != 0) return rv;
    } else {
        f->type = ORC_SPDY_DATA;
        f->stream_id = be32(buf) & ID_MASK;
        if (f->stream_id == 0) return ORC_EPROTO;
    }
    *used = ORC_SPDY_HEAD + n;
    return 0;
}

/* ---- encoding ---- */

static int put_head(struct orc_buf *out, bool control, uint32_t word, uint8_t flags, size_t len)
{
    uint8_t h[ORC_SPDY_HEAD];

    if (len > MAX_LENGTH) return ORC_ETOOBIG;
    put32(h, control ? 0x80000000u | (uint32_t)ORC_SPDY_VERSION << 16 | word : word & ID_MASK);
    put32(h + 4, (uint32_t)flags << 24 | (uint32_t)len);
    return orc_buf_append(out, h, sizeof h);
}

int orc_spdy_put_data(struct orc_buf *out, uint32_t stream_id, uint8_t flags, const void *data, size_t len)
{
    int rv = put_head(out, false, stream_id, flags, len);
    return rv == 0 && len ? orc_buf_append(out, data, len) : rv;
}

static int put_two(struct orc_buf *out, uint16_t type, uint32_t a, uint32_t b)
{
    uint8_t p[8];
    int rv = put_head(out, true, type, 0, sizeof p);

    put32(p, a);
    put32(p + 4, b);
    return rv == 0 ? orc_buf_append(out, p, sizeof p) : rv;
}

int orc_spdy_put_rst(struct orc_buf *out, uint32_t stream_id, uint32_t status)
{
    return put_two(out, ORC_SPDY_RST_STREAM, stream_id & ID_MASK, status);
}

int orc_spdy_put_goaway(struct orc_buf *out, uint32_t last_good, uint32_t status)
{
    return put_two(out, ORC_SPDY_GOAWAY, last_good & ID_MASK, status);
}

int orc_spdy_put_window_update(struct orc_buf *out, uint32_t stream_id, uint32_t delta)
{
    return put_two(out, ORC_SPDY_WINDOW_UPDATE, stream_id & ID_MASK, delta & ID_MASK);
}

int orc_spdy_put_ping(struct orc_buf *out, uint32_t id)
{
    uint8_t p[4];
    int rv = put_head(out, true, ORC_SPDY_PING, 0, sizeof p);

    put32(p, id);
    return rv == 0 ? orc_buf_append(out, p, sizeof p) : rv;
}
