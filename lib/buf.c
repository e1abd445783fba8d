/* buf.c — growable byte buffer. */
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

int orc_buf_reserve(struct orc_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t cap;
    char *p;

    if (need <= b->cap) return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) return ORC_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int orc_buf_append(struct orc_buf *b, const void *data, size_t len)
{
    if (orc_buf_reserve(b, len) != 0) return ORC_ENOMEM;
    if (len > 0) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int orc_buf_puts(struct orc_buf *b, const char *s) { return orc_buf_append(b, s, strlen(s)); }

int orc_buf_vprintf(struct orc_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return ORC_EINVAL;
    if (orc_buf_reserve(b, (size_t)n) != 0) return ORC_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int orc_buf_printf(struct orc_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rv;

    va_start(ap, fmt);
    rv = orc_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rv;
}

void orc_buf_reset(struct orc_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void orc_buf_free(struct orc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *orc_buf_steal(struct orc_buf *b, size_t *len)
{
    char *p = b->data;

    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
