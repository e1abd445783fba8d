/* url.c — percent-encoding and -decoding (RFC 3986), with '+' as a space in queries. */
#include <stdlib.h>
#include <string.h>

#include "lib/url.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *orc_url_decode(const char *s, size_t len, bool query)
{
    char *out = malloc(len + 1), *o = out;

    if (out == NULL) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) { /* an encoded NUL too */
                free(out);
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = query && s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return out;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
           || c == '.' || c == '_' || c == '~';
}

int orc_url_escape(const char *s, struct orc_buf *out)
{
    int rv = orc_buf_reserve(out, strlen(s) + 1);

    for (const unsigned char *p = (const unsigned char *)s; *p && rv == 0; p++)
        rv = unreserved(*p) ? orc_buf_append(out, p, 1) : orc_buf_printf(out, "%%%02X", *p);
    return rv ? rv : orc_buf_append(out, "", 0);
}
