/* json_dump.c — compact JSON text of a jansson tree, byte for byte what
 * json_dump_callback(JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)
 * writes, without its per-node loop check (a printf of every container's
 * address) and per-piece callbacks: every stored object, watch event and
 * answer goes through here. */
#include "lib/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/orc.h"

/* Deeper trees (or a cycle) are left to jansson, which detects loops. */
#define MAX_DEPTH 512

static int put_value(struct orc_buf *b, const json_t *v, int depth);

/* jansson escapes '"', '\\' and control characters, writes the rest as is
 * (no JSON_ENSURE_ASCII) and refuses invalid UTF-8: so do we. */
static int put_string(struct orc_buf *b, const char *str, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str, *end = s + len, *run;

    if (orc_buf_reserve(b, len + 2) != 0) return ORC_ENOMEM;
    b->data[b->len++] = '"';
    while (s < end) {
        for (run = s; s < end && *s >= 0x20 && *s != '"' && *s != '\\' && *s < 0x80; s++) {}
        if (s > run && orc_buf_append(b, run, (size_t)(s - run)) != 0) return ORC_ENOMEM;
        if (s == end) break;
        if (*s >= 0x80) {
            size_t n = orc_utf8_len(s, end);
            if (n == 0 || orc_buf_append(b, s, n) != 0) return ORC_EINVAL;
            s += n;
            continue;
        }
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t n = 2;
        switch (*s) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[4] = hex[*s >> 4];
            esc[5] = hex[*s & 0xF];
            n = 6;
        }
        if (orc_buf_append(b, esc, n) != 0) return ORC_ENOMEM;
        s++;
    }
    return orc_buf_append(b, "\"", 1);
}

static int put_integer(struct orc_buf *b, json_int_t i)
{
    char text[24], *p = text + sizeof text;
    unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;

    do *--p = (char)('0' + u % 10); while ((u /= 10) != 0);
    if (i < 0) *--p = '-';
    return orc_buf_append(b, p, (size_t)(text + sizeof text - p));
}

/* Reals are rare in objects; jansson's own text for them keeps its exact
 * formatting ("%.17g", ".0" added, exponent trimmed). */
static int put_real(struct orc_buf *b, const json_t *v)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    int rv = text ? orc_buf_puts(b, text) : ORC_EINVAL;
    free(text);
    return rv;
}

static int put_object(struct orc_buf *b, const json_t *v, int depth)
{
    bool first = true;

    if (orc_buf_append(b, "{", 1) != 0) return ORC_ENOMEM;
    for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
        const char *key = json_object_iter_key(it);
        if ((!first && orc_buf_append(b, ",", 1) != 0)
            || put_string(b, key, json_object_iter_key_len(it)) != 0
            || orc_buf_append(b, ":", 1) != 0)
            return ORC_EINVAL;
        int rv = put_value(b, json_object_iter_value(it), depth + 1);
        if (rv != 0) return rv;
        first = false;
    }
    return orc_buf_append(b, "}", 1);
}

static int put_array(struct orc_buf *b, const json_t *v, int depth)
{
    if (orc_buf_append(b, "[", 1) != 0) return ORC_ENOMEM;
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (i && orc_buf_append(b, ",", 1) != 0) return ORC_ENOMEM;
        int rv = put_value(b, json_array_get(v, i), depth + 1);
        if (rv != 0) return rv;
    }
    return orc_buf_append(b, "]", 1);
}

static int put_value(struct orc_buf *b, const json_t *v, int depth)
{
    if (depth > MAX_DEPTH) return ORC_EINVAL;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return put_object(b, v, depth);
    case JSON_ARRAY: return put_array(b, v, depth);
    case JSON_STRING: return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return put_integer(b, json_integer_value(v));
    case JSON_REAL: return put_real(b, v);
    case JSON_TRUE: return orc_buf_append(b, "true", 4);
    case JSON_FALSE: return orc_buf_append(b, "false", 5);
    case JSON_NULL: return orc_buf_append(b, "null", 4);
    }
    return ORC_EINVAL;
}

int orc_json_dump_fast(const json_t *v, struct orc_buf *out)
{
    size_t mark = out->len;
    int rv = v ? put_value(out, v, 0) : ORC_EINVAL;

    if (rv != 0) {
        out->len = mark;
        if (out->data) out->data[mark] = '\0';
    }
    return rv;
}
