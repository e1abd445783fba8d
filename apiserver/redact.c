/* redact.c — a failure answering a write to Secrets never repeats what the
 * request carried in data or stringData, nor a patch's values: validation
 * messages quote the value they refuse (Kubernetes' "Invalid value: ..."),
 * which for a Secret is the secret itself. Every such value (at least
 * REDACT_MIN bytes; also its base64, or its decoded text) found in the
 * message becomes "[redacted]". */
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/yaml.h"

#define REDACT_MIN 4     /* shorter values would blank out ordinary words */
#define REDACT_MAX 64    /* values kept to look for; a request rarely has more */
#define REDACT_SHOWN 500 /* messages show at most this much of a value */

struct redact {
    char *v[REDACT_MAX];
    size_t n;
};

static void add(struct redact *rd, const char *s, size_t len)
{
    if (len < REDACT_MIN || rd->n == REDACT_MAX) return;
    if (len > REDACT_SHOWN) len = REDACT_SHOWN; /* a long value shows truncated */
    rd->v[rd->n] = strndup(s, len);
    if (rd->v[rd->n]) rd->n++;
}

/* A string value, its base64 and what it decodes to (data holds base64,
 * stringData text: either may be shown in the other form). */
static void add_string(struct redact *rd, const char *s, size_t len)
{
    struct orc_buf b = ORC_BUF_INIT;

    add(rd, s, len);
    if (orc_base64_encode(s, len, false, &b) == 0 && b.data) add(rd, b.data, b.len);
    orc_buf_reset(&b);
    if (orc_base64_decode(s, len, false, &b) == 0 && b.data && memchr(b.data, 0, b.len) == NULL)
        add(rd, b.data, b.len);
    orc_buf_free(&b);
}

static void add_leaves(struct redact *rd, const json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;

    if (json_is_string(v)) add_string(rd, json_string_value(v), json_string_length(v));
    else if (json_is_object(v)) json_object_foreach((json_t *)v, key, x) add_leaves(rd, x);
    else if (json_is_array(v)) json_array_foreach(v, i, x) add_leaves(rd, x);
}

/* An object (a Secret, a merge or apply patch) or a JSON patch. */
static void add_document(struct redact *rd, const json_t *doc)
{
    size_t i;
    json_t *op;

    if (json_is_object(doc)) {
        add_leaves(rd, json_object_get(doc, "data"));
        add_leaves(rd, json_object_get(doc, "stringData"));
    } else if (json_is_array(doc)) {
        json_array_foreach(doc, i, op) add_leaves(rd, json_object_get(op, "value"));
    }
}

static bool about_secrets(const char *target)
{
    const char *p = target ? strstr(target, "/secrets") : NULL;
    return p && (p[8] == '\0' || p[8] == '/' || p[8] == '?');
}

static void collect(const struct orc_httpd_req *r, struct redact *rd)
{
    json_t *doc, *d;
    size_t i;

    if (r->body.len == 0 || !about_secrets(r->target)) return;
    doc = orc_json_loadb(r->body.data, r->body.len, 0, NULL);
    if (doc) {
        add_document(rd, doc);
    } else if ((doc = orc_yaml_parse(r->body.data, r->body.len, NULL, 0)) != NULL) {
        json_array_foreach(doc, i, d) add_document(rd, d);
    }
    json_decref(doc);
}

/* Replaces every occurrence of each value in s (NUL-terminated, cap bytes). */
static void scrub(const struct redact *rd, char *s, size_t cap)
{
    static const char mark[] = "[redacted]";

    for (size_t i = 0; i < rd->n; i++) {
        size_t vl = strlen(rd->v[i]);
        char *from = s, *at;
        while ((at = strstr(from, rd->v[i])) != NULL) {
            size_t tail = strlen(at + vl);
            if (sizeof mark - 1 > vl && strlen(s) + sizeof mark - vl >= cap) {
                *at = '\0'; /* no room: cut the message there */
                break;
            }
            memmove(at + sizeof mark - 1, at + vl, tail + 1);
            memcpy(at, mark, sizeof mark - 1);
            from = at + sizeof mark - 1;
        }
    }
}

static void scrub_causes(const struct redact *rd, json_t *causes)
{
    size_t i;
    json_t *c;

    json_array_foreach(causes, i, c) {
        const char *m = orc_json_str(c, "message");
        char buf[2048];
        if (m == NULL || strlen(m) >= sizeof buf) {
            if (m) json_object_set_new(c, "message", json_string("[redacted]"));
            continue;
        }
        strcpy(buf, m);
        scrub(rd, buf, sizeof buf);
        json_object_set_new(c, "message", json_string(buf));
    }
}

void api_redact_secret_values(const struct orc_httpd_req *r, char *msg, size_t cap, json_t *causes)
{
    struct redact rd = {.n = 0};

    collect(r, &rd);
    if (rd.n == 0) return;
    scrub(&rd, msg, cap);
    if (causes) scrub_causes(&rd, causes);
    for (size_t i = 0; i < rd.n; i++) free(rd.v[i]);
}
