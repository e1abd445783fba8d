/* proto.c — decodes Kubernetes' protobuf bodies (proto.h) into JSON, driven
 * by the field-number tables of proto_*.c. Every field number the tables do
 * not know is refused (415) rather than dropped; malformed wire data is a
 * 400. Nesting is bounded by API_PB_MAX_DEPTH. */
#include "apiserver/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/pb.h"
#include "lib/timeutil.h"

struct dec {
    int status;
    char *msg;
    size_t n;
    int depth;
};

static int decode_into(struct dec *d, const struct api_pb_msg *m, const uint8_t *p, size_t len,
                       json_t *obj);

static int failf(struct dec *d, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(struct dec *d, int status, int code, const char *fmt, ...)
{
    va_list ap;

    d->status = status;
    if (d->msg != NULL && d->n > 0) {
        va_start(ap, fmt);
        vsnprintf(d->msg, d->n, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const struct api_pb_field *find_field(const struct api_pb_msg *m, uint32_t num)
{
    for (const struct api_pb_field *f = m->fields; f->num != 0; f++)
        if (f->num == num) return f;
    return NULL;
}

static const char *field_name(const struct api_pb_field *f)
{
    return f->name ? f->name : f->msg->name;
}

/* The wire type a kind arrives in; numbers may also come packed (LEN). */
static int wire_of(int kind)
{
    return kind == PB_INT || kind == PB_BOOL ? ORC_PB_VARINT : ORC_PB_LEN;
}

static int next_field(struct dec *d, const struct api_pb_msg *m, struct orc_pb_reader *r,
                      struct orc_pb_field *pf)
{
    char why[128];

    if (orc_pb_next(r, pf, why, sizeof why) != 0)
        return failf(d, 400, ORC_EPROTO, "the protobuf body is malformed in message %s: %s",
                     m->name, why);
    return 0;
}

/* ---- the special messages: Quantity, Time, IntOrString, FieldsV1 ---- */

static int quantity(struct dec *d, const uint8_t *p, size_t len, json_t **out)
{
    static const struct api_pb_msg qty = {"Quantity", NULL};
    struct orc_pb_reader r;
    struct orc_pb_field pf;
    const uint8_t *s = (const uint8_t *)"0";
    size_t slen = 1; /* an empty Quantity is zero, as Go reads it */

    orc_pb_init(&r, p, len);
    while (!orc_pb_done(&r)) {
        if (next_field(d, &qty, &r, &pf) != 0) return ORC_EPROTO;
        if (pf.num != 1 || pf.wire != ORC_PB_LEN)
            return failf(d, 415, ORC_EINVAL,
                         "orc cannot decode field %u of protobuf message Quantity", pf.num);
        s = pf.data;
        slen = pf.len;
    }
    *out = json_stringn((const char *)s, slen);
    return *out ? 0 : failf(d, 400, ORC_EINVAL, "a Quantity in the protobuf body is not UTF-8");
}

static int timestamp(struct dec *d, const uint8_t *p, size_t len, bool micro, json_t **out)
{
    static const struct api_pb_msg tm = {"Time", NULL};
    struct orc_pb_reader r;
    struct orc_pb_field pf;
    int64_t secs = 0, nanos = 0;
    char text[ORC_TIME_LEN + 8];

    *out = NULL;
    if (len == 0) return 0; /* the zero time: Go writes nothing, JSON null */
    orc_pb_init(&r, p, len);
    while (!orc_pb_done(&r)) {
        if (next_field(d, &tm, &r, &pf) != 0) return ORC_EPROTO;
        if ((pf.num != 1 && pf.num != 2) || pf.wire != ORC_PB_VARINT)
            return failf(d, 415, ORC_EINVAL, "orc cannot decode field %u of protobuf message Time",
                         pf.num);
        if (pf.num == 1) secs = (int64_t)pf.u;
        else nanos = (int64_t)pf.u;
    }
    if (nanos < 0 || nanos > 999999999)
        return failf(d, 400, ORC_EINVAL, "a Time in the protobuf body has nanos %lld",
                     (long long)nanos);
    orc_time_format(secs, text);
    if (micro && strlen(text) > 1) { /* "...05Z" -> "...05.123456Z" */
        size_t at = strlen(text) - 1;
        snprintf(text + at, sizeof text - at, ".%06lldZ", (long long)(nanos / 1000));
    }
    *out = json_string(text);
    return *out ? 0 : failf(d, 500, ORC_ENOMEM, "out of memory");
}

static int intstr(struct dec *d, const uint8_t *p, size_t len, json_t **out)
{
    static const struct api_pb_msg is = {"IntOrString", NULL};
    struct orc_pb_reader r;
    struct orc_pb_field pf;
    uint64_t type = 0;
    int64_t ival = 0;
    const uint8_t *s = NULL;
    size_t slen = 0;

    orc_pb_init(&r, p, len);
    while (!orc_pb_done(&r)) {
        if (next_field(d, &is, &r, &pf) != 0) return ORC_EPROTO;
        if (pf.num < 1 || pf.num > 3 || pf.wire != (pf.num == 3 ? ORC_PB_LEN : ORC_PB_VARINT))
            return failf(d, 415, ORC_EINVAL,
                         "orc cannot decode field %u of protobuf message IntOrString", pf.num);
        if (pf.num == 1) type = pf.u;
        else if (pf.num == 2) ival = (int64_t)pf.u;
        else s = pf.data, slen = pf.len;
    }
    if (type > 1)
        return failf(d, 400, ORC_EINVAL, "an IntOrString in the protobuf body has type %llu",
                     (unsigned long long)type);
    *out = type == 1 ? json_stringn(s ? (const char *)s : "", slen) : json_integer((int32_t)ival);
    return *out ? 0 : failf(d, 400, ORC_EINVAL, "an IntOrString in the protobuf body is not UTF-8");
}

static int fields_v1(struct dec *d, const uint8_t *p, size_t len, json_t **out)
{
    static const struct api_pb_msg fv = {"FieldsV1/RawExtension", NULL};
    struct orc_pb_reader r;
    struct orc_pb_field pf;
    json_t *doc = NULL;
    char err[128];
    int rc = 0;

    *out = NULL;
    orc_pb_init(&r, p, len);
    while (rc == 0 && !orc_pb_done(&r)) {
        if ((rc = next_field(d, &fv, &r, &pf)) != 0) break;
        if (pf.num != 1 || pf.wire != ORC_PB_LEN) {
            rc = failf(d, 415, ORC_EINVAL, "orc cannot decode field %u of protobuf message %s",
                       pf.num, fv.name);
            break;
        }
        json_decref(doc); /* the last occurrence wins */
        if ((doc = orc_json_parse((const char *)pf.data, pf.len, err, sizeof err)) == NULL)
            rc = failf(d, 400, ORC_EINVAL,
                       "a FieldsV1 or RawExtension in the protobuf body is not JSON: %s", err);
    }
    if (rc == 0 && doc == NULL && (doc = json_object()) == NULL)
        rc = failf(d, 500, ORC_ENOMEM, "out of memory");
    if (rc != 0) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* ---- one value ---- */

static int text_value(struct dec *d, const struct api_pb_msg *m, const struct api_pb_field *f,
                      int kind, const struct orc_pb_field *pf, json_t **out)
{
    struct orc_buf b = {0};

    if (kind == PB_STR) {
        *out = json_stringn((const char *)pf->data, pf->len);
        if (*out == NULL)
            return failf(d, 400, ORC_EINVAL,
                         "field %u (%s) of protobuf message %s is not valid UTF-8", f->num,
                         field_name(f), m->name);
        return 0;
    }
    if (orc_base64_encode(pf->data, pf->len, false, &b) != 0
        || (*out = json_stringn(b.data ? b.data : "", b.len)) == NULL) {
        orc_buf_free(&b);
        return failf(d, 500, ORC_ENOMEM, "out of memory");
    }
    orc_buf_free(&b);
    return 0;
}

/* The JSON value of one occurrence (*out NULL: nothing to write, the zero
 * time). `kind` is f->kind, or f->item for a map's value. */
static int value_of(struct dec *d, const struct api_pb_msg *m, const struct api_pb_field *f,
                    int kind, const struct orc_pb_field *pf, json_t **out)
{
    *out = NULL;
    switch (kind) {
    case PB_STR:
    case PB_BYTES: return text_value(d, m, f, kind, pf, out);
    case PB_INT: *out = json_integer((json_int_t)(int64_t)pf->u); break;
    case PB_BOOL: *out = json_boolean(pf->u != 0); break;
    case PB_QTY: return quantity(d, pf->data, pf->len, out);
    case PB_TIME: return timestamp(d, pf->data, pf->len, false, out);
    case PB_MTIME: return timestamp(d, pf->data, pf->len, true, out);
    case PB_INTSTR: return intstr(d, pf->data, pf->len, out);
    case PB_FIELDS: return fields_v1(d, pf->data, pf->len, out);
    case PB_MSG: {
        json_t *o = json_object();
        int rc;
        if (o == NULL) return failf(d, 500, ORC_ENOMEM, "out of memory");
        if ((rc = decode_into(d, f->msg, pf->data, pf->len, o)) != 0) {
            json_decref(o);
            return rc;
        }
        *out = o;
        return 0;
    }
    default: return failf(d, 500, ORC_EINVAL, "bad protobuf table entry %s.%u", m->name, f->num);
    }
    return *out ? 0 : failf(d, 500, ORC_ENOMEM, "out of memory");
}

/* A scalar Go would have left out of JSON (omitempty, not a pointer). */
static bool omitted_zero(const struct api_pb_field *f, const struct orc_pb_field *pf)
{
    if (f->flags & (PB_KEEP | PB_REP)) return false;
    switch (f->kind) {
    case PB_STR:
    case PB_BYTES: return pf->len == 0;
    case PB_INT:
    case PB_BOOL: return pf->u == 0;
    default: return false;
    }
}

/* ---- maps and repeated fields ---- */

static int map_entry(struct dec *d, const struct api_pb_msg *m, const struct api_pb_field *f,
                     const struct orc_pb_field *pf, json_t *obj)
{
    const struct api_pb_msg entry = {m->name, NULL};
    struct orc_pb_reader r;
    struct orc_pb_field ef, val = {.wire = ORC_PB_LEN, .data = (const uint8_t *)"", .len = 0};
    const uint8_t *key = (const uint8_t *)"";
    size_t klen = 0;
    json_t *map = json_object_get(obj, f->name), *v;
    char *k;

    orc_pb_init(&r, pf->data, pf->len);
    while (!orc_pb_done(&r)) {
        if (next_field(d, &entry, &r, &ef) != 0) return ORC_EPROTO;
        if (ef.num == 1 && ef.wire == ORC_PB_LEN) key = ef.data, klen = ef.len;
        else if (ef.num == 2 && ef.wire == wire_of(f->item)) val = ef;
        else
            return failf(d, 415, ORC_EINVAL,
                         "orc cannot decode field %u of an entry of map %s in protobuf message %s",
                         ef.num, f->name, m->name);
    }
    if (memchr(key, '\0', klen) != NULL || (k = strndup((const char *)key, klen)) == NULL)
        return failf(d, 400, ORC_EINVAL, "a key of map %s in protobuf message %s holds a NUL",
                     f->name, m->name);
    int rc = value_of(d, m, f, f->item, &val, &v);
    if (rc == 0 && v == NULL) v = json_null();
    if (rc == 0 && !json_is_object(map)) {
        map = json_object();
        if (map == NULL || json_object_set_new(obj, f->name, map) != 0)
            rc = failf(d, 500, ORC_ENOMEM, "out of memory");
    }
    if (rc == 0 && json_object_set_new(map, k, v) != 0)
        rc = failf(d, 400, ORC_EINVAL, "a key of map %s in protobuf message %s is not UTF-8",
                   f->name, m->name);
    else if (rc != 0) json_decref(v);
    free(k);
    return rc;
}

static int append(struct dec *d, json_t *obj, const char *name, json_t *v)
{
    json_t *arr = json_object_get(obj, name);

    if (!json_is_array(arr)) {
        arr = json_array();
        if (arr == NULL || json_object_set_new(obj, name, arr) != 0) {
            json_decref(v);
            return failf(d, 500, ORC_ENOMEM, "out of memory");
        }
    }
    return json_array_append_new(arr, v) == 0 ? 0 : failf(d, 500, ORC_ENOMEM, "out of memory");
}

/* Repeated numbers may come packed: one LEN field of varints. */
static int packed(struct dec *d, const struct api_pb_msg *m, const struct api_pb_field *f,
                  const struct orc_pb_field *pf, json_t *obj)
{
    const uint8_t *p = pf->data, *end = pf->data + pf->len;
    struct orc_pb_field one = {.num = pf->num, .wire = ORC_PB_VARINT};
    json_t *v;

    while (p < end) {
        if (orc_pb_varint(&p, end, &one.u) != 0)
            return failf(d, 400, ORC_EPROTO,
                         "the protobuf body is malformed in message %s: field %u: bad packed "
                         "varint", m->name, f->num);
        if (value_of(d, m, f, f->kind, &one, &v) != 0) return ORC_EINVAL;
        if (append(d, obj, f->name, v) != 0) return ORC_ENOMEM;
    }
    return 0;
}

/* ---- one field ---- */

static int set_field(struct dec *d, const struct api_pb_msg *m, const struct api_pb_field *f,
                     const struct orc_pb_field *pf, json_t *obj)
{
    json_t *v;
    int rc;

    if (f->kind == PB_INLINE) return decode_into(d, f->msg, pf->data, pf->len, obj);
    if (f->kind == PB_MAP) return map_entry(d, m, f, pf, obj);
    if (f->kind == PB_MSG && !(f->flags & PB_REP) && json_is_object(json_object_get(obj, f->name)))
        return decode_into(d, f->msg, pf->data, pf->len, json_object_get(obj, f->name));
    if (omitted_zero(f, pf)) {
        json_object_del(obj, f->name); /* the last occurrence wins */
        return 0;
    }
    if ((rc = value_of(d, m, f, f->kind, pf, &v)) != 0) return rc;
    if (v == NULL) return 0;
    if (f->flags & PB_REP) return append(d, obj, f->name, v);
    return json_object_set_new(obj, f->name, v) == 0 ? 0
                                                      : failf(d, 500, ORC_ENOMEM, "out of memory");
}

static int decode_into(struct dec *d, const struct api_pb_msg *m, const uint8_t *p, size_t len,
                       json_t *obj)
{
    struct orc_pb_reader r;
    struct orc_pb_field pf;
    int rc = 0;

    if (++d->depth > API_PB_MAX_DEPTH) {
        d->depth--;
        return failf(d, 400, ORC_ETOOBIG,
                     "the protobuf body nests messages deeper than %d (in message %s)",
                     API_PB_MAX_DEPTH, m->name);
    }
    orc_pb_init(&r, p, len);
    while (rc == 0 && !orc_pb_done(&r)) {
        const struct api_pb_field *f;
        if ((rc = next_field(d, m, &r, &pf)) != 0) break;
        if ((f = find_field(m, pf.num)) == NULL) {
            rc = failf(d, 415, ORC_EINVAL,
                       "orc cannot decode field number %u of protobuf message %s: send the "
                       "object as application/json",
                       pf.num, m->name);
        } else if (pf.wire == ORC_PB_LEN && (f->flags & PB_REP) && wire_of(f->kind) != ORC_PB_LEN) {
            rc = packed(d, m, f, &pf, obj);
        } else if (pf.wire != wire_of(f->kind)) {
            rc = failf(d, 400, ORC_EPROTO,
                       "field %u (%s) of protobuf message %s has wire type %d, not %d", pf.num,
                       field_name(f), m->name, pf.wire, wire_of(f->kind));
        } else {
            rc = set_field(d, m, f, &pf, obj);
        }
    }
    d->depth--;
    return rc;
}

int api_pb_decode_msg(const struct api_pb_msg *m, const void *data, size_t len, json_t *into,
                      int *status, char *msg, size_t n)
{
    struct dec d = {.status = 0, .msg = msg, .n = n, .depth = 0};
    int rc = decode_into(&d, m, data, len, into);

    if (status) *status = rc == 0 ? 0 : d.status;
    return rc;
}

/* ---- the envelope ---- */

static const uint8_t magic[4] = {'k', '8', 's', 0};

struct envelope {
    char api_version[128], kind[128], encoding[64];
    const uint8_t *raw;
    size_t raw_len;
};

static int copy_str(struct dec *d, const struct orc_pb_field *pf, char *out, size_t n,
                    const char *what)
{
    json_t *utf8;

    if (pf->wire != ORC_PB_LEN || pf->len >= n || memchr(pf->data, '\0', pf->len)
        || (utf8 = json_stringn((const char *)pf->data, pf->len)) == NULL)
        return failf(d, 400, ORC_EINVAL, "the protobuf envelope's %s is malformed", what);
    json_decref(utf8);
    memcpy(out, pf->data, pf->len);
    out[pf->len] = '\0';
    return 0;
}

static int type_meta(struct dec *d, const struct orc_pb_field *tm, struct envelope *e)
{
    static const struct api_pb_msg m = {"TypeMeta", NULL};
    struct orc_pb_reader r;
    struct orc_pb_field pf;

    orc_pb_init(&r, tm->data, tm->len);
    while (!orc_pb_done(&r)) {
        if (next_field(d, &m, &r, &pf) != 0) return ORC_EPROTO;
        if (pf.num == 1 && copy_str(d, &pf, e->api_version, sizeof e->api_version, "apiVersion"))
            return ORC_EINVAL;
        if (pf.num == 2 && copy_str(d, &pf, e->kind, sizeof e->kind, "kind")) return ORC_EINVAL;
        if (pf.num > 2)
            return failf(d, 415, ORC_EINVAL,
                         "orc cannot decode field number %u of protobuf message TypeMeta", pf.num);
    }
    return 0;
}

static int envelope(struct dec *d, const uint8_t *p, size_t len, struct envelope *e)
{
    static const struct api_pb_msg m = {"Unknown", NULL};
    struct orc_pb_reader r;
    struct orc_pb_field pf;
    char ctype[64];

    if (len < sizeof magic || memcmp(p, magic, sizeof magic) != 0)
        return failf(d, 400, ORC_EPROTO,
                     "the protobuf body does not start with the Kubernetes magic \"k8s\\x00\"");
    orc_pb_init(&r, p + sizeof magic, len - sizeof magic);
    while (!orc_pb_done(&r)) {
        if (next_field(d, &m, &r, &pf) != 0) return ORC_EPROTO;
        if (pf.num == 1 && pf.wire == ORC_PB_LEN) {
            if (type_meta(d, &pf, e) != 0) return ORC_EINVAL;
        } else if (pf.num == 2 && pf.wire == ORC_PB_LEN) {
            e->raw = pf.data;
            e->raw_len = pf.len;
        } else if (pf.num == 3) {
            if (copy_str(d, &pf, e->encoding, sizeof e->encoding, "contentEncoding"))
                return ORC_EINVAL;
        } else if (pf.num == 4) {
            if (copy_str(d, &pf, ctype, sizeof ctype, "contentType")) return ORC_EINVAL;
        } else {
            return failf(d, 415, ORC_EINVAL,
                         "orc cannot decode field number %u of protobuf message Unknown", pf.num);
        }
    }
    if (e->encoding[0] != '\0')
        return failf(d, 415, ORC_EINVAL,
                     "orc does not read protobuf bodies with contentEncoding %s", e->encoding);
    if (e->kind[0] == '\0' || e->api_version[0] == '\0')
        return failf(d, 400, ORC_EINVAL, "the protobuf envelope names no apiVersion and kind");
    return 0;
}

int api_pb_decode_body(const void *body, size_t len, json_t **out, int *status, char *msg,
                       size_t n)
{
    struct dec d = {.status = 0, .msg = msg, .n = n, .depth = 0};
    struct envelope e = {0};
    const struct api_pb_msg *m;
    json_t *obj;
    int rc;

    *out = NULL;
    if ((rc = envelope(&d, body, len, &e)) != 0) goto fail;
    if ((m = api_pb_root_msg(e.api_version, e.kind)) == NULL) {
        rc = failf(&d, 415, ORC_EINVAL,
                   "orc cannot decode %s %s from protobuf: send it as application/json",
                   e.api_version, e.kind);
        goto fail;
    }
    obj = json_object();
    if (obj == NULL || json_object_set_new(obj, "apiVersion", json_string(e.api_version)) != 0
        || json_object_set_new(obj, "kind", json_string(e.kind)) != 0) {
        json_decref(obj);
        rc = failf(&d, 500, ORC_ENOMEM, "out of memory");
        goto fail;
    }
    if (e.raw != NULL && (rc = decode_into(&d, m, e.raw, e.raw_len, obj)) != 0) {
        json_decref(obj);
        goto fail;
    }
    *out = obj;
    if (status) *status = 0;
    return 0;
fail:
    if (status) *status = d.status;
    return rc;
}

const struct api_pb_msg *api_pb_root_msg(const char *api_version, const char *kind)
{
    for (const struct api_pb_root *r = api_pb_roots; r->kind != NULL; r++)
        if (strcmp(r->kind, kind) == 0
            && (r->api_version == NULL || strcmp(r->api_version, api_version) == 0))
            return r->msg;
    return NULL;
}
