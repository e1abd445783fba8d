/* base64.c — RFC 4648 base64 for Secret data (standard alphabet, strict
 * padding, as the Kubernetes API decodes it) and URL-safe tokens. */
#include "lib/base64.h"

#include <stdint.h>

#include "lib/orc.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int orc_base64_encode(const void *data, size_t len, bool url, struct orc_buf *out)
{
    const unsigned char *p = data;
    const char *a = url ? url_alpha : std_alpha;
    size_t i;

    if (orc_buf_reserve(out, (len + 2) / 3 * 4) != 0) return ORC_ENOMEM;
    for (i = 0; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
        orc_buf_append(out, q, 4);
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        char q[4] = {a[v >> 18], a[(v >> 12) & 63], i + 1 < len ? a[(v >> 6) & 63] : '=', '='};
        /* URL-safe output is for tokens and names: no padding. */
        size_t n = url ? (i + 1 < len ? 3 : 2) : 4;
        orc_buf_append(out, q, n);
    }
    return orc_buf_append(out, "", 0);
}

static int sextet(char c, bool url)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

/* Strips the '=' padding, checking that there is the right amount of it:
 * required for the standard alphabet, optional but exact for URL-safe. */
static int unpad(const char *text, size_t *len, bool url)
{
    size_t n = *len, pad = 0;

    while (n > 0 && text[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n > 0 && text[n - 1] == '=') return ORC_EINVAL;
    if (pad > 0 || !url) {
        if ((n + pad) % 4 != 0) return ORC_EINVAL;
    }
    if (n % 4 == 1) return ORC_EINVAL;
    if (pad > 0 && n % 4 == 0) return ORC_EINVAL;
    *len = n;
    return 0;
}

int orc_base64_decode(const char *text, size_t len, bool url, struct orc_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t start = out->len;

    if (unpad(text, &len, url) != 0) return ORC_EINVAL;
    if (orc_buf_reserve(out, len / 4 * 3 + 3) != 0) return ORC_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int s = sextet(text[i], url);
        if (s < 0) goto bad;
        acc = acc << 6 | (uint32_t)s;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (char)(acc >> bits & 0xff);
        }
    }
    /* Leftover bits must be zero (canonical encoding, as Go's strict mode). */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) goto bad;
    out->data[out->len] = '\0';
    return 0;
bad:
    /* Leave no half-decoded bytes behind. */
    out->len = start;
    out->data[start] = '\0';
    return ORC_EINVAL;
}
