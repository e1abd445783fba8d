/* spdy_zlib.c — SPDY/3 header blocks: a count and length-prefixed
 * name/value pairs, compressed with zlib over a dictionary fixed by the
 * protocol; each direction of a connection is one zlib stream flushed
 * (Z_SYNC_FLUSH) after every block. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/orc.h"
#include "lib/spdy.h"

/* SPDY/3's header dictionary (draft 3, section 2.6.10.1): protocol data,
 * 1423 bytes, with no terminating NUL. */
static const char dictionary[] =
    "\000\000\000\007options\000\000\000\004head\000\000\000\004post\000\000\000\003put\000\000\000\006delete"
    "\000\000\000\005trace\000\000\000\006accept\000\000\000\016accept-charset\000\000\000\017accept-encoding"
    "\000\000\000\017accept-language\000\000\000\015accept-ranges\000\000\000\003age\000\000\000\005allow\000"
    "\000\000\015authorization\000\000\000\015cache-control\000\000\000\012connection\000\000\000\014content-b"
    "ase\000\000\000\020content-encoding\000\000\000\020content-language\000\000\000\016content-length\000\000"
    "\000\020content-location\000\000\000\013content-md5\000\000\000\015content-range\000\000\000\014content-t"
    "ype\000\000\000\004date\000\000\000\004etag\000\000\000\006expect\000\000\000\007expires\000\000\000\004f"
    "rom\000\000\000\004host\000\000\000\010if-match\000\000\000\021if-modified-since\000\000\000\015if-none-m"
    "atch\000\000\000\010if-range\000\000\000\023if-unmodified-since\000\000\000\015last-modified\000\000\000"
    "\010location\000\000\000\014max-forwards\000\000\000\006pragma\000\000\000\022proxy-authenticate\000\000"
    "\000\023proxy-authorization\000\000\000\005range\000\000\000\007referer\000\000\000\013retry-after\000"
    "\000\000\006server\000\000\000\002te\000\000\000\007trailer\000\000\000\021transfer-encoding\000\000\000"
    "\007upgrade\000\000\000\012user-agent\000\000\000\004vary\000\000\000\003via\000\000\000\007warning\000"
    "\000\000\020www-authenticate\000\000\000\006method\000\000\000\003get\000\000\000\006status\000\000\000"
    "\006200 OK\000\000\000\007version\000\000\000\010HTTP/1.1\000\000\000\003url\000\000\000\006public\000"
    "\000\000\012set-cookie\000\000\000\012keep-alive\000\000\000\006origin10010120120220520630030230330430530"
    "6307402405406407408409410411412413414415416417502504505203 Non-Authoritative Information204 No Content301"
    " Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 N"
    "ot Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
    "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,application/x"
    "html+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1"
    ",utf-,*,enq=0.";
#define DICT_LEN (sizeof dictionary - 1)

const char *orc_spdy_dictionary(size_t *len)
{
    *len = DICT_LEN;
    return dictionary;
}

struct orc_spdy_zlib {
    z_stream in, out;
    bool in_ok, out_ok;
    unsigned char *scratch; /* ORC_SPDY_MAX_HEADER_BYTES + 1, for decoding */
};

int orc_spdy_zlib_new(orc_spdy_zlib **out)
{
    orc_spdy_zlib *z = calloc(1, sizeof *z);

    if (z == NULL || (z->scratch = malloc(ORC_SPDY_MAX_HEADER_BYTES + 1)) == NULL) goto fail;
    if (inflateInit(&z->in) != Z_OK) goto fail;
    z->in_ok = true;
    if (deflateInit(&z->out, Z_DEFAULT_COMPRESSION) != Z_OK) goto fail;
    z->out_ok = true;
    if (deflateSetDictionary(&z->out, (const Bytef *)dictionary, DICT_LEN) != Z_OK) goto fail;
    *out = z;
    return 0;
fail:
    orc_spdy_zlib_free(z);
    return ORC_ENOMEM;
}

void orc_spdy_zlib_free(orc_spdy_zlib *z)
{
    if (z == NULL) return;
    if (z->in_ok) inflateEnd(&z->in);
    if (z->out_ok) deflateEnd(&z->out);
    free(z->scratch);
    free(z);
}

/* ---- decoding ---- */

/* Inflates one block into z->scratch: its length, or a negative code. */
static long inflate_block(orc_spdy_zlib *z, const uint8_t *block, size_t len)
{
    z_stream *s = &z->in;

    s->next_in = (Bytef *)block;
    s->avail_in = (uInt)len;
    s->next_out = z->scratch;
    s->avail_out = ORC_SPDY_MAX_HEADER_BYTES + 1;
    while (s->avail_in > 0) {
        int rv = inflate(s, Z_SYNC_FLUSH);
        if (rv == Z_NEED_DICT) {
            if (inflateSetDictionary(s, (const Bytef *)dictionary, DICT_LEN) != Z_OK) return ORC_EPROTO;
            continue;
        }
        if (s->avail_out == 0) return ORC_ETOOBIG;
        if (rv != Z_OK) return ORC_EPROTO; /* an error, or the stream ended: SPDY never ends it */
    }
    return (long)(ORC_SPDY_MAX_HEADER_BYTES + 1 - s->avail_out);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A length-prefixed string at *p (before end), copied NUL-terminated. */
static int take_string(const unsigned char **p, const unsigned char *end, char **out, size_t *out_len)
{
    size_t n;

    if (end - *p < 4) return ORC_EPROTO;
    n = be32(*p);
    *p += 4;
    if ((size_t)(end - *p) < n) return ORC_EPROTO;
    if ((*out = malloc(n + 1)) == NULL) return ORC_ENOMEM;
    memcpy(*out, *p, n);
    (*out)[n] = '\0';
    *p += n;
    if (out_len) *out_len = n;
    return 0;
}

int orc_spdy_headers_decode(orc_spdy_zlib *z, const uint8_t *block, size_t len, struct orc_spdy_headers *out)
{
    long got = inflate_block(z, block, len);
    const unsigned char *p = z->scratch, *end;
    uint32_t n;
    int rv = 0;

    memset(out, 0, sizeof *out);
    if (got < 0) return (int)got;
    end = p + got;
    if (got < 4 || (n = be32(p)) > ORC_SPDY_MAX_HEADERS) return got < 4 ? ORC_EPROTO : ORC_ETOOBIG;
    p += 4;
    for (uint32_t i = 0; i < n && rv == 0; i++) {
        struct orc_spdy_header *h = &out->h[out->n];
        rv = take_string(&p, end, &h->name, NULL);
        if (rv == 0 && (rv = take_string(&p, end, &h->value, &h->value_len)) != 0) {
            free(h->name);
            h->name = NULL;
        }
        if (rv == 0) out->n++;
        if (rv == 0 && h->name[0] == '\0') rv = ORC_EPROTO;
    }
    if (rv == 0 && p != end) rv = ORC_EPROTO;
    if (rv != 0) orc_spdy_headers_clear(out);
    return rv;
}

void orc_spdy_headers_clear(struct orc_spdy_headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->h[i].name);
        free(h->h[i].value);
    }
    h->n = 0;
}

const char *orc_spdy_header(const struct orc_spdy_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->h[i].name, name) == 0) return h->h[i].value;
    return NULL;
}

/* ---- encoding ---- */

static int put_string(struct orc_buf *b, const char *s)
{
    size_t n = strlen(s);
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                            (unsigned char)n};
    int rv = orc_buf_append(b, len, sizeof len);
    return rv == 0 ? orc_buf_append(b, s, n) : rv;
}

static int raw_block(struct orc_buf *raw, const char *const *names, const char *const *values, size_t n)
{
    unsigned char count[4] = {0, 0, (unsigned char)(n >> 8), (unsigned char)n};
    int rv = orc_buf_append(raw, count, sizeof count);

    for (size_t i = 0; rv == 0 && i < n; i++)
        if ((rv = put_string(raw, names[i])) == 0) rv = put_string(raw, values[i]);
    return rv;
}

/* Deflates raw onto the end of out with the sending stream. */
static int deflate_block(orc_spdy_zlib *z, const struct orc_buf *raw, struct orc_buf *out)
{
    z_stream *s = &z->out;

    s->next_in = (Bytef *)raw->data;
    s->avail_in = (uInt)raw->len;
    do {
        size_t room = deflateBound(s, raw->len) + 64;
        int rv = orc_buf_reserve(out, room);
        if (rv != 0) return rv;
        s->next_out = (Bytef *)out->data + out->len;
        s->avail_out = (uInt)room;
        if (deflate(s, Z_SYNC_FLUSH) == Z_STREAM_ERROR) return ORC_EINVAL;
        out->len += room - s->avail_out;
    } while (s->avail_out == 0);
    return 0;
}

int orc_spdy_put_headers(orc_spdy_zlib *z, struct orc_buf *out, uint16_t type, uint32_t stream_id,
                         uint8_t flags, const char *const *names, const char *const *values, size_t n)
{
    struct orc_buf raw = ORC_BUF_INIT;
    size_t start = out->len, fixed = type == ORC_SPDY_SYN_STREAM ? 10 : 4, len;
    unsigned char head[18] = {0x80, ORC_SPDY_VERSION, (unsigned char)(type >> 8), (unsigned char)type, flags};
    int rv;

    if (n > ORC_SPDY_MAX_HEADERS) return ORC_EINVAL;
    head[8] = (unsigned char)(stream_id >> 24 & 0x7f);
    head[9] = (unsigned char)(stream_id >> 16);
    head[10] = (unsigned char)(stream_id >> 8);
    head[11] = (unsigned char)stream_id;
    rv = raw_block(&raw, names, values, n);
    if (rv == 0) rv = orc_buf_append(out, head, ORC_SPDY_HEAD + fixed);
    if (rv == 0) rv = deflate_block(z, &raw, out);
    orc_buf_free(&raw);
    if (rv != 0) {
        out->len = start;
        return rv;
    }
    len = out->len - start - ORC_SPDY_HEAD;
    out->data[start + 5] = (char)(len >> 16);
    out->data[start + 6] = (char)(len >> 8);
    out->data[start + 7] = (char)len;
    return 0;
}
