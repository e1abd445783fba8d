/* json_load.c — a faster json_loadb for the hot paths (watch events, stored
 * objects, request bodies). It builds the same jansson tree jansson would and
 * hands anything unusual (errors included) to json_loadb, so results and
 * error messages are jansson's. */
#include "lib/json.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

/* jansson refuses nesting past JSON_PARSER_MAX_DEPTH (2048); stopping well
 * before it leaves the exact limit and its message to jansson. */
#define MAX_DEPTH 1024
#define FAST_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

struct parser {
    const unsigned char *s, *end;
    size_t flags;
    int depth;
    struct orc_buf scratch; /* unescaped strings */
};

static json_t *parse_value(struct parser *p);

static void skip_ws(struct parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
        p->s++;
}

size_t orc_utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t n;
    uint32_t v;

    if (c >= 0xC2 && c <= 0xDF) n = 2, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, v = c & 0x07;
    else return 0;
    if ((size_t)(end - s) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF
        || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const unsigned char *s, const unsigned char *end, uint32_t *out)
{
    uint32_t v = 0;
    if (end - s < 4) return -1;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    *out = v;
    return 0;
}

static int put_utf8(struct orc_buf *b, uint32_t v)
{
    char u[4];
    size_t n;
    if (v < 0x80) u[0] = (char)v, n = 1;
    else if (v < 0x800) u[0] = (char)(0xC0 | (v >> 6)), u[1] = (char)(0x80 | (v & 0x3F)), n = 2;
    else if (v < 0x10000)
        u[0] = (char)(0xE0 | (v >> 12)), u[1] = (char)(0x80 | ((v >> 6) & 0x3F)),
        u[2] = (char)(0x80 | (v & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | (v >> 18)), u[1] = (char)(0x80 | ((v >> 12) & 0x3F)),
        u[2] = (char)(0x80 | ((v >> 6) & 0x3F)), u[3] = (char)(0x80 | (v & 0x3F)), n = 4;
    return orc_buf_append(b, u, n);
}

/* One escape after the backslash at p->s; appends its text to scratch. */
static int unescape(struct parser *p)
{
    const unsigned char *s = p->s + 1;
    uint32_t v, lo;
    char c;

    if (s >= p->end) return -1;
    switch (*s) {
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case '/': c = '/'; break;
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u':
        if (hex4(s + 1, p->end, &v) != 0) return -1;
        p->s = s + 5;
        if (v >= 0xDC00 && v <= 0xDFFF) return -1; /* a lone low surrogate */
        if (v >= 0xD800 && v <= 0xDBFF) {
            if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u'
                || hex4(p->s + 2, p->end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            v = ((v - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
            p->s += 6;
        }
        return put_utf8(&p->scratch, v);
    default: return -1;
    }
    p->s = s + 1;
    return orc_buf_append(&p->scratch, &c, 1);
}

/* The string whose opening quote is at p->s: *out points into the input
 * when it has no escapes, else into p->scratch (valid until the next
 * string). */
static int parse_string(struct parser *p, const char **out, size_t *len)
{
    const unsigned char *start = ++p->s;
    bool escaped = false;

    while (p->s < p->end) {
        unsigned c = *p->s;
        if (c == '"') {
            if (escaped) {
                if (orc_buf_append(&p->scratch, (const char *)start, (size_t)(p->s - start)) != 0)
                    return -1;
                *out = p->scratch.data;
                *len = p->scratch.len;
            } else {
                *out = (const char *)start;
                *len = (size_t)(p->s - start);
            }
            p->s++;
            return 0;
        }
        if (c < 0x20) return -1;
        if (c == '\\') {
            if (!escaped) orc_buf_reset(&p->scratch);
            escaped = true;
            if (orc_buf_append(&p->scratch, (const char *)start, (size_t)(p->s - start)) != 0
                || unescape(p) != 0)
                return -1;
            start = p->s;
        } else if (c < 0x80) {
            p->s++;
        } else {
            size_t n = orc_utf8_len(p->s, p->end);
            if (n == 0) return -1;
            p->s += n;
        }
    }
    return -1;
}

static bool is_digit(const unsigned char *s, const unsigned char *end)
{
    return s < end && *s >= '0' && *s <= '9';
}

static const unsigned char *digits(const unsigned char *s, const unsigned char *end)
{
    while (is_digit(s, end)) s++;
    return s;
}

/* JSON's number grammar exactly; integers that fit json_int_t become
 * integers, the rest reals (jansson refuses an integer that overflows and a
 * real that overflows to infinity: left to it). */
static json_t *parse_number(struct parser *p)
{
    const unsigned char *s = p->s, *start = s;
    bool real = false;
    char text[64];
    size_t len;

    if (*s == '-') s++;
    if (is_digit(s, p->end) && *s == '0') s++;
    else if (is_digit(s, p->end)) s = digits(s, p->end);
    else return NULL;
    if (s < p->end && *s == '.') {
        if (!is_digit(++s, p->end)) return NULL;
        s = digits(s, p->end);
        real = true;
    }
    if (s < p->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < p->end && (*s == '+' || *s == '-')) s++;
        if (!is_digit(s, p->end)) return NULL;
        s = digits(s, p->end);
        real = true;
    }
    len = (size_t)(s - start);
    p->s = s;
    if (!real && len <= 18) { /* cannot overflow */
        const unsigned char *d = start + (*start == '-');
        json_int_t v = 0;
        while (d < s) v = v * 10 + (*d++ - '0');
        return json_integer(*start == '-' ? -v : v);
    }
    if (len >= sizeof text) return NULL;
    memcpy(text, start, len);
    text[len] = '\0';
    errno = 0;
    if (!real) {
        long long v = strtoll(text, NULL, 10);
        return errno == ERANGE ? NULL : json_integer(v);
    }
    double d = strtod(text, NULL);
    if (errno == ERANGE && isinf(d)) return NULL;
    return json_real(d);
}

static json_t *parse_literal(struct parser *p, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0) return NULL;
    p->s += n;
    return v;
}

static json_t *parse_array(struct parser *p)
{
    json_t *arr = json_array();

    p->s++;
    skip_ws(p);
    if (arr && p->s < p->end && *p->s == ']') {
        p->s++;
        return arr;
    }
    while (arr) {
        json_t *v = parse_value(p);
        if (v == NULL || json_array_append_new(arr, v) != 0) break;
        skip_ws(p);
        if (p->s >= p->end) break;
        if (*p->s == ']') {
            p->s++;
            return arr;
        }
        if (*p->s++ != ',') break;
        skip_ws(p);
    }
    json_decref(arr);
    return NULL;
}

/* One "key": value member; *p->s is the key's opening quote. */
static int parse_member(struct parser *p, json_t *obj)
{
    const char *key;
    char *copy = NULL;
    size_t len;
    json_t *v;
    int rv = -1;

    if (parse_string(p, &key, &len) != 0 || memchr(key, '\0', len)) return -1;
    if (key == p->scratch.data) { /* the value's strings reuse scratch */
        if ((copy = malloc(len ? len : 1)) == NULL) return -1;
        memcpy(copy, key, len);
        key = copy;
    }
    skip_ws(p);
    if (p->s < p->end && *p->s == ':') {
        p->s++;
        skip_ws(p);
        if ((p->flags & JSON_REJECT_DUPLICATES) && json_object_getn(obj, key, len)) v = NULL;
        else v = parse_value(p);
        if (v) rv = json_object_setn_new_nocheck(obj, key, len, v);
    }
    free(copy);
    return rv;
}

static json_t *parse_object(struct parser *p)
{
    json_t *obj = json_object();

    p->s++;
    skip_ws(p);
    if (obj && p->s < p->end && *p->s == '}') {
        p->s++;
        return obj;
    }
    while (obj && p->s < p->end && *p->s == '"') {
        if (parse_member(p, obj) != 0) break;
        skip_ws(p);
        if (p->s >= p->end) break;
        if (*p->s == '}') {
            p->s++;
            return obj;
        }
        if (*p->s++ != ',') break;
        skip_ws(p);
    }
    json_decref(obj);
    return NULL;
}

static json_t *parse_value(struct parser *p)
{
    json_t *v = NULL;
    const char *str;
    size_t len;

    if (p->s >= p->end || ++p->depth > MAX_DEPTH) return NULL;
    switch (*p->s) {
    case '{': v = parse_object(p); break;
    case '[': v = parse_array(p); break;
    case '"':
        if (parse_string(p, &str, &len) == 0
            && ((p->flags & JSON_ALLOW_NUL) || memchr(str, '\0', len) == NULL))
            v = json_stringn_nocheck(str, len);
        break;
    case 't': v = parse_literal(p, "true", json_true()); break;
    case 'f': v = parse_literal(p, "false", json_false()); break;
    case 'n': v = parse_literal(p, "null", json_null()); break;
    default:
        if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9')) v = parse_number(p);
    }
    p->depth--;
    /* What follows a value must end it (jansson reads "truex" or "1x" as
     * one bad token). */
    if (v && p->s < p->end && ((*p->s >= 'a' && *p->s <= 'z') || (*p->s >= 'A' && *p->s <= 'Z')
                               || (*p->s >= '0' && *p->s <= '9') || *p->s == '.' || *p->s == '-'
                               || *p->s == '+')) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

json_t *orc_json_loadb_fast(const char *buf, size_t len, size_t flags)
{
    struct parser p = {(const unsigned char *)buf, (const unsigned char *)buf + len, flags, 0,
                       ORC_BUF_INIT};
    json_t *v = NULL;

    if (buf == NULL || (flags & ~(size_t)FAST_FLAGS)) return NULL;
    skip_ws(&p);
    if (p.s < p.end && ((flags & JSON_DECODE_ANY) || *p.s == '{' || *p.s == '[')) {
        v = parse_value(&p);
        skip_ws(&p);
        if (v && p.s != p.end) {
            json_decref(v);
            v = NULL;
        }
    }
    orc_buf_free(&p.scratch);
    return v;
}

json_t *orc_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
    json_t *v = orc_json_loadb_fast(buf, len, flags);
    if (v == NULL) return json_loadb(buf, len, flags, err);
    if (err) memset(err, 0, sizeof *err);
    return v;
}
