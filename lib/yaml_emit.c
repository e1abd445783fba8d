/* yaml_emit.c — jansson value -> YAML block text shaped like `kubectl -o
 * yaml`: 2-space indent, sequences flush with their key, strings quoted
 * only when they would read back as something else, "|" literal blocks. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "lib/yaml.h"
#include "lib/yaml_scalar.h"

enum style { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL };
enum ctx { CTX_TOP, CTX_KEY, CTX_DASH };

static int emit_value(struct orc_buf *out, const json_t *v, int indent, enum ctx ctx);

/* Decodes one UTF-8 sequence (input is valid UTF-8: jansson checks it). */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    uint32_t cp = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;

    (*i)++;
    for (int k = 0; k < n && *i < len; k++) cp = cp << 6 | (s[(*i)++] & 0x3f);
    return cp;
}

/* Characters a YAML reader would not take literally inside a plain or
 * single-quoted scalar: controls (tab too, it is trimmed at the edges),
 * C1 controls, and the YAML 1.1 line breaks NEL, LS, PS, plus a BOM. */
static bool needs_escape(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029
           || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

static bool any_escape(const char *s, size_t len, bool allow_newline)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp = utf8_next((const unsigned char *)s, len, &i);
        if (cp == '\n' && allow_newline) continue;
        if (needs_escape(cp)) return true;
    }
    return false;
}

static bool has(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0) return true;
    return false;
}

/* Text a plain scalar cannot hold: indicators at the start, ": " and " #"
 * inside, edge spaces, document markers. */
static bool plain_unsafe(const char *s, size_t len)
{
    char c = s[0];

    if (s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':') return true;
    if (strchr(",[]{}#&*!|>'\"%@`?:", c)) return true;
    if (c == '-' && (len == 1 || s[1] == ' ')) return true;
    if (len >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0)) return true;
    return has(s, len, ": ") || has(s, len, " #");
}

/* A literal block keeps the text exactly when its first line sets the
 * indentation (no leading space or newline) and nothing needs escaping. */
static bool literal_ok(const char *s, size_t len)
{
    if (s[0] == ' ' || s[0] == '\n') return false;
    return !any_escape(s, len, true);
}

static enum style choose_style(const char *s, size_t len, bool is_key)
{
    if (len == 0) return STYLE_DOUBLE;
    if (memchr(s, '\n', len)) return !is_key && literal_ok(s, len) ? STYLE_LITERAL : STYLE_DOUBLE;
    if (any_escape(s, len, false)) return STYLE_DOUBLE;
    /* kubectl double-quotes strings that look like numbers, booleans, null. */
    if (orc_yaml_plain_is_typed(s, len)) return STYLE_DOUBLE;
    if (plain_unsafe(s, len)) return STYLE_SINGLE;
    return STYLE_PLAIN;
}

static int put_indent(struct orc_buf *out, int n)
{
    static const char spaces[] = "                                ";
    int rv = 0;

    while (n > 0 && rv == 0) {
        int k = n < 32 ? n : 32;
        rv = orc_buf_append(out, spaces, (size_t)k);
        n -= k;
    }
    return rv;
}

static int put_single(struct orc_buf *out, const char *s, size_t len)
{
    int rv = orc_buf_puts(out, "'");

    for (size_t i = 0; i < len && rv == 0; i++)
        rv = s[i] == '\'' ? orc_buf_puts(out, "''") : orc_buf_append(out, &s[i], 1);
    return rv ? rv : orc_buf_puts(out, "'");
}

static int put_escaped(struct orc_buf *out, uint32_t cp)
{
    switch (cp) {
    case '"': return orc_buf_puts(out, "\\\"");
    case '\\': return orc_buf_puts(out, "\\\\");
    case '\n': return orc_buf_puts(out, "\\n");
    case '\t': return orc_buf_puts(out, "\\t");
    case '\r': return orc_buf_puts(out, "\\r");
    case 0: return orc_buf_puts(out, "\\0");
    default: break;
    }
    if (cp <= 0xff) return orc_buf_printf(out, "\\x%02X", (unsigned)cp);
    return orc_buf_printf(out, "\\u%04X", (unsigned)cp);
}

static int put_double(struct orc_buf *out, const char *s, size_t len)
{
    int rv = orc_buf_puts(out, "\"");

    for (size_t i = 0; i < len && rv == 0;) {
        size_t start = i;
        uint32_t cp = utf8_next((const unsigned char *)s, len, &i);
        if (cp == '"' || cp == '\\' || needs_escape(cp)) rv = put_escaped(out, cp);
        else rv = orc_buf_append(out, s + start, i - start);
    }
    return rv ? rv : orc_buf_puts(out, "\"");
}

/* "|" block: clip ("|") for one final newline, strip ("|-") for none, keep
 * ("|+") for more. Empty lines carry no indentation, as kubectl prints. */
static int put_literal(struct orc_buf *out, const char *s, size_t len, int indent)
{
    size_t trail = 0;
    int rv;

    while (trail < len && s[len - 1 - trail] == '\n') trail++;
    rv = orc_buf_puts(out, trail == 0 ? "|-\n" : trail == 1 ? "|\n" : "|+\n");
    len -= trail;
    for (size_t i = 0; i < len && rv == 0;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len;
        if (end > i) {
            rv = put_indent(out, indent);
            if (rv == 0) rv = orc_buf_append(out, s + i, end - i);
        }
        if (rv == 0) rv = orc_buf_puts(out, "\n");
        i = end + 1;
    }
    for (size_t k = 1; k < trail && rv == 0; k++) rv = orc_buf_puts(out, "\n");
    return rv;
}

static int put_string(struct orc_buf *out, const char *s, size_t len, bool is_key, int indent)
{
    switch (choose_style(s, len, is_key)) {
    case STYLE_PLAIN: return orc_buf_append(out, s, len);
    case STYLE_SINGLE: return put_single(out, s, len);
    case STYLE_DOUBLE: return put_double(out, s, len);
    case STYLE_LITERAL: return put_literal(out, s, len, indent);
    }
    return ORC_EINVAL;
}

/* Shortest text that reads back as the same double, always with a "." or
 * exponent so it stays a float rather than becoming an integer. */
static int put_real(struct orc_buf *out, double d)
{
    char tmp[40];

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    if (strpbrk(tmp, ".eEn") == NULL) strcat(tmp, ".0");
    return orc_buf_puts(out, tmp);
}

/* Scalars and empty containers; literal blocks end with their own newline,
 * everything else gets one here. */
static int put_scalar(struct orc_buf *out, const json_t *v, int indent)
{
    int rv;

    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (choose_style(s, len, false) == STYLE_LITERAL) return put_literal(out, s, len, indent);
        rv = put_string(out, s, len, false, indent);
        break;
    }
    case JSON_INTEGER:
        rv = orc_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: rv = put_real(out, json_real_value(v)); break;
    case JSON_TRUE: rv = orc_buf_puts(out, "true"); break;
    case JSON_FALSE: rv = orc_buf_puts(out, "false"); break;
    case JSON_NULL: rv = orc_buf_puts(out, "null"); break;
    case JSON_OBJECT: rv = orc_buf_puts(out, "{}"); break;
    case JSON_ARRAY: rv = orc_buf_puts(out, "[]"); break;
    default: rv = ORC_EINVAL; break;
    }
    return rv ? rv : orc_buf_puts(out, "\n");
}

static int emit_mapping(struct orc_buf *out, const json_t *obj, int indent, bool inline_first)
{
    const char *k;
    size_t klen;
    json_t *v;
    bool first = true;
    int rv = 0;

    json_object_keylen_foreach ((json_t *)obj, k, klen, v) {
        if (!(first && inline_first)) rv = put_indent(out, indent);
        first = false;
        if (rv == 0) rv = put_string(out, k, klen, true, indent);
        if (rv == 0) rv = orc_buf_puts(out, ":");
        if (rv == 0) rv = emit_value(out, v, indent, CTX_KEY);
        if (rv != 0) return rv;
    }
    return 0;
}

static int emit_sequence(struct orc_buf *out, const json_t *arr, int indent, bool inline_first)
{
    size_t i;
    json_t *v;
    int rv = 0;

    json_array_foreach (arr, i, v) {
        if (!(i == 0 && inline_first)) rv = put_indent(out, indent);
        if (rv == 0) rv = orc_buf_puts(out, "- ");
        if (rv == 0) rv = emit_value(out, v, indent, CTX_DASH);
        if (rv != 0) return rv;
    }
    return 0;
}

static bool is_block(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) > 0)
           || (json_is_array(v) && json_array_size(v) > 0);
}

/* `indent` is the column of the key or dash that introduces v. */
static int emit_value(struct orc_buf *out, const json_t *v, int indent, enum ctx ctx)
{
    int rv;

    if (!is_block(v)) {
        if (ctx == CTX_KEY && (rv = orc_buf_puts(out, " ")) != 0) return rv;
        return put_scalar(out, v, ctx == CTX_TOP ? 2 : indent + 2);
    }
    if (ctx == CTX_TOP) {
        return json_is_object(v) ? emit_mapping(out, v, 0, false) : emit_sequence(out, v, 0, false);
    }
    if (ctx == CTX_DASH) {
        return json_is_object(v) ? emit_mapping(out, v, indent + 2, true)
                                 : emit_sequence(out, v, indent + 2, true);
    }
    if ((rv = orc_buf_puts(out, "\n")) != 0) return rv;
    /* kubectl does not indent a sequence under its key. */
    return json_is_object(v) ? emit_mapping(out, v, indent + 2, false)
                             : emit_sequence(out, v, indent, false);
}

int orc_yaml_emit(const json_t *v, struct orc_buf *out)
{
    size_t start = out->len;
    int rv;

    if (v == NULL) return ORC_EINVAL;
    rv = emit_value(out, v, 0, CTX_TOP);
    if (rv != 0 && out->data) {
        out->len = start; /* no half document */
        out->data[start] = '\0';
    }
    return rv;
}
