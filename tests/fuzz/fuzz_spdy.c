/* fuzz_spdy.c — libFuzzer target for lib/spdy: the input is what a client
 * sends on a port-forward connection, frame after frame, header blocks
 * decoded through one zlib stream as the agent does. A frame parses whole
 * or asks for more; a decoded block's pairs re-encode and decode back the
 * same; a data frame re-encodes to the bytes it was read from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spdy.h"

static void round_trip(const struct orc_spdy_headers *h)
{
    const char *names[ORC_SPDY_MAX_HEADERS], *values[ORC_SPDY_MAX_HEADERS];
    orc_spdy_zlib *tx = NULL, *rx = NULL;
    struct orc_buf b = ORC_BUF_INIT;
    struct orc_spdy_headers back;
    struct orc_spdy_frame f;
    size_t used;

    for (size_t i = 0; i < h->n; i++) {
        names[i] = h->h[i].name;
        values[i] = h->h[i].value;
    }
    if (orc_spdy_zlib_new(&tx) != 0 || orc_spdy_zlib_new(&rx) != 0) abort();
    if (orc_spdy_put_headers(tx, &b, ORC_SPDY_HEADERS, 1, 0, names, values, h->n) != 0) abort();
    if (orc_spdy_parse((const uint8_t *)b.data, b.len, 1u << 24, &f, &used) != 0 || used != b.len) abort();
    if (orc_spdy_headers_decode(rx, f.data, f.len, &back) == 0) {
        if (back.n != h->n) abort();
        for (size_t i = 0; i < h->n; i++)
            if (strcmp(back.h[i].name, names[i]) != 0 || strcmp(back.h[i].value, values[i]) != 0) abort();
        orc_spdy_headers_clear(&back);
    }
    orc_buf_free(&b);
    orc_spdy_zlib_free(tx);
    orc_spdy_zlib_free(rx);
}

static void data_again(const struct orc_spdy_frame *f, const uint8_t *at, size_t used)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_spdy_put_data(&b, f->stream_id, f->flags, f->data, f->len) != 0) abort();
    if (b.len != used || memcmp(b.data, at, used) != 0) abort();
    orc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    orc_spdy_zlib *z = NULL;
    struct orc_spdy_frame f;
    size_t used;

    if (orc_spdy_zlib_new(&z) != 0) abort();
    while (size > 0 && orc_spdy_parse(data, size, 1u << 16, &f, &used) == 0 && used > 0) {
        if (used > size || used < ORC_SPDY_HEAD) abort();
        if (f.type == ORC_SPDY_DATA) data_again(&f, data, used);
        if (f.type == ORC_SPDY_SYN_STREAM || f.type == ORC_SPDY_SYN_REPLY || f.type == ORC_SPDY_HEADERS) {
            struct orc_spdy_headers h;
            if (orc_spdy_headers_decode(z, f.data, f.len, &h) != 0) break; /* the stream is spent */
            round_trip(&h);
            orc_spdy_headers_clear(&h);
        }
        data += used;
        size -= used;
    }
    orc_spdy_zlib_free(z);
    return 0;
}
