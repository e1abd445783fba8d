/* openapi_pb.c — the v2 document in protobuf (gnostic's openapi.v2
 * Document), the only form client-go asks /openapi/v2 for: kubectl falls
 * back to it to validate what the v3 documents cannot vouch for (a
 * `kind: List` manifest). Encoded from the JSON document, so both say the
 * same; only what kubectl reads is carried (definitions, paths,
 * operations, parameters, responses, vendor extensions). */
#include "apiserver/openapi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

enum pb_kind {
    PB_STR,       /* string */
    PB_BOOL,      /* bool (false is not written) */
    PB_STRS,      /* repeated string, from an array (or one string) */
    PB_MSG,       /* a message */
    PB_MSGS,      /* repeated message, from an array */
    PB_WRAP,      /* a message holding the value as its field `inner` */
    PB_NAMED,     /* a message of repeated {name, value} from an object's members */
    PB_ADDPROPS,  /* AdditionalPropertiesItem: a schema or a bool */
    PB_PARAM,     /* ParametersItem from a Swagger parameter */
    PB_RESPONSES, /* Responses from {"200": {...}} */
};

struct pb_msg;

struct pb_field {
    const char *json; /* the member's name in the JSON document */
    unsigned num;
    enum pb_kind kind;
    const struct pb_msg *msg;    /* PB_MSG, PB_MSGS, PB_NAMED values */
    const struct pb_field *inner; /* PB_WRAP */
    unsigned named_num;          /* PB_NAMED: field number of the entries */
};

struct pb_msg {
    const struct pb_field *fields; /* ends with json NULL */
    unsigned ext;                  /* field of vendor extensions (x-...), 0: none */
};

/* ---- wire format ---- */

static int put_varint(struct orc_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return orc_buf_append(b, tmp, n);
}

static int put_len(struct orc_buf *b, unsigned num, const void *data, size_t len)
{
    int rv = put_varint(b, (uint64_t)num << 3 | 2);
    if (rv == 0) rv = put_varint(b, len);
    if (rv == 0 && len) rv = orc_buf_append(b, data, len);
    return rv;
}

static int put_str(struct orc_buf *b, unsigned num, const char *s)
{
    return put_len(b, num, s, strlen(s));
}

/* ---- gnostic's messages (OpenAPIv2.proto), the parts orc fills ---- */

static const struct pb_msg schema_msg;
static const struct pb_msg response_msg;

static const struct pb_field type_item = {"", 1, PB_STRS, NULL, NULL, 0};
static const struct pb_field schema_item = {"", 1, PB_MSG, &schema_msg, NULL, 0};
static const struct pb_field response_item = {"", 1, PB_MSG, &response_msg, NULL, 0};

static const struct pb_field schema_fields[] = {
    {"$ref", 1, PB_STR, NULL, NULL, 0},
    {"format", 2, PB_STR, NULL, NULL, 0},
    {"description", 4, PB_STR, NULL, NULL, 0},
    {"uniqueItems", 16, PB_BOOL, NULL, NULL, 0},
    {"required", 19, PB_STRS, NULL, NULL, 0},
    {"additionalProperties", 21, PB_ADDPROPS, NULL, NULL, 0},
    {"type", 22, PB_WRAP, NULL, &type_item, 0},
    {"items", 23, PB_WRAP, NULL, &schema_item, 0},
    {"allOf", 24, PB_MSGS, &schema_msg, NULL, 0},
    {"properties", 25, PB_NAMED, &schema_msg, NULL, 1},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg schema_msg = {schema_fields, 31};

static const struct pb_field response_fields[] = {
    {"description", 1, PB_STR, NULL, NULL, 0},
    {"schema", 2, PB_WRAP, NULL, &schema_item, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg response_msg = {response_fields, 5};

static const struct pb_field body_param_fields[] = {
    {"description", 1, PB_STR, NULL, NULL, 0},
    {"name", 2, PB_STR, NULL, NULL, 0},
    {"in", 3, PB_STR, NULL, NULL, 0},
    {"required", 4, PB_BOOL, NULL, NULL, 0},
    {"schema", 5, PB_MSG, &schema_msg, NULL, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg body_param_msg = {body_param_fields, 6};

static const struct pb_field query_param_fields[] = {
    {"required", 1, PB_BOOL, NULL, NULL, 0},
    {"in", 2, PB_STR, NULL, NULL, 0},
    {"description", 3, PB_STR, NULL, NULL, 0},
    {"name", 4, PB_STR, NULL, NULL, 0},
    {"type", 6, PB_STR, NULL, NULL, 0},
    {"uniqueItems", 20, PB_BOOL, NULL, NULL, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg query_param_msg = {query_param_fields, 23};

static const struct pb_field path_param_fields[] = {
    {"required", 1, PB_BOOL, NULL, NULL, 0},
    {"in", 2, PB_STR, NULL, NULL, 0},
    {"description", 3, PB_STR, NULL, NULL, 0},
    {"name", 4, PB_STR, NULL, NULL, 0},
    {"type", 5, PB_STR, NULL, NULL, 0},
    {"uniqueItems", 19, PB_BOOL, NULL, NULL, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg path_param_msg = {path_param_fields, 22};

static const struct pb_field operation_fields[] = {
    {"tags", 1, PB_STRS, NULL, NULL, 0},
    {"description", 3, PB_STR, NULL, NULL, 0},
    {"operationId", 5, PB_STR, NULL, NULL, 0},
    {"produces", 6, PB_STRS, NULL, NULL, 0},
    {"consumes", 7, PB_STRS, NULL, NULL, 0},
    {"parameters", 8, PB_PARAM, NULL, NULL, 0},
    {"responses", 9, PB_RESPONSES, NULL, NULL, 0},
    {"schemes", 10, PB_STRS, NULL, NULL, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg operation_msg = {operation_fields, 13};

static const struct pb_field path_item_fields[] = {
    {"get", 2, PB_MSG, &operation_msg, NULL, 0},
    {"put", 3, PB_MSG, &operation_msg, NULL, 0},
    {"post", 4, PB_MSG, &operation_msg, NULL, 0},
    {"delete", 5, PB_MSG, &operation_msg, NULL, 0},
    {"patch", 8, PB_MSG, &operation_msg, NULL, 0},
    {"parameters", 9, PB_PARAM, NULL, NULL, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg path_item_msg = {path_item_fields, 10};

static const struct pb_field info_fields[] = {
    {"title", 1, PB_STR, NULL, NULL, 0},
    {"version", 2, PB_STR, NULL, NULL, 0},
    {"description", 3, PB_STR, NULL, NULL, 0},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg info_msg = {info_fields, 7};

static const struct pb_field document_fields[] = {
    {"swagger", 1, PB_STR, NULL, NULL, 0},
    {"info", 2, PB_MSG, &info_msg, NULL, 0},
    {"paths", 8, PB_NAMED, &path_item_msg, NULL, 2},
    {"definitions", 9, PB_NAMED, &schema_msg, NULL, 1},
    {NULL, 0, 0, NULL, NULL, 0},
};
static const struct pb_msg document_msg = {document_fields, 16};

/* ---- encoding ---- */

static int encode_msg(const struct pb_msg *m, const json_t *obj, struct orc_buf *out, int depth);
static int encode_value(const struct pb_field *f, const json_t *v, struct orc_buf *out, int depth);

/* Encodes into a scratch buffer, then appends it as field num. */
static int nested(unsigned num, int (*fn)(const void *, const json_t *, struct orc_buf *, int),
                  const void *what, const json_t *v, struct orc_buf *out, int depth)
{
    struct orc_buf tmp = ORC_BUF_INIT;
    int rv = fn(what, v, &tmp, depth + 1);
    if (rv == 0) rv = put_len(out, num, tmp.data, tmp.len);
    orc_buf_free(&tmp);
    return rv;
}

static int msg_fn(const void *m, const json_t *v, struct orc_buf *out, int depth)
{
    return encode_msg(m, v, out, depth);
}

static int field_fn(const void *f, const json_t *v, struct orc_buf *out, int depth)
{
    return encode_value(f, v, out, depth);
}

/* NamedAny {name, Any {yaml}}: the value as JSON text, which is YAML. */
static int encode_ext(unsigned num, const char *key, const json_t *v, struct orc_buf *out)
{
    struct orc_buf any = ORC_BUF_INIT, named = ORC_BUF_INIT;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rv = text ? put_str(&any, 2, text) : ORC_ENOMEM;

    if (rv == 0) rv = put_str(&named, 1, key);
    if (rv == 0) rv = put_len(&named, 2, any.data, any.len);
    if (rv == 0) rv = put_len(out, num, named.data, named.len);
    free(text);
    orc_buf_free(&any);
    orc_buf_free(&named);
    return rv;
}

static int encode_named(const struct pb_field *f, const json_t *obj, struct orc_buf *out, int depth)
{
    const char *key;
    json_t *val;
    int rv = 0;

    json_object_foreach((json_t *)obj, key, val) {
        struct orc_buf entry = ORC_BUF_INIT;
        rv = put_str(&entry, 1, key);
        if (rv == 0) rv = nested(2, msg_fn, f->msg, val, &entry, depth);
        if (rv == 0) rv = put_len(out, f->named_num, entry.data, entry.len);
        orc_buf_free(&entry);
        if (rv != 0) break;
    }
    return rv;
}

static int named_fn(const void *f, const json_t *v, struct orc_buf *out, int depth)
{
    return encode_named(f, v, out, depth);
}

/* Parameter {body_parameter | non_body_parameter {query | path}}, inside
 * a ParametersItem. */
static int param_fn(const void *unused, const json_t *p, struct orc_buf *out, int depth)
{
    const char *in = json_string_value(json_object_get(p, "in"));
    struct orc_buf param = ORC_BUF_INIT, sub = ORC_BUF_INIT;
    int rv;

    (void)unused;
    if (in && strcmp(in, "body") == 0) {
        rv = nested(1, msg_fn, &body_param_msg, p, &param, depth);
    } else {
        bool path = in && strcmp(in, "path") == 0;
        rv = nested(path ? 4 : 3, msg_fn, path ? &path_param_msg : &query_param_msg, p, &sub, depth);
        if (rv == 0) rv = put_len(&param, 2, sub.data, sub.len);
    }
    if (rv == 0) rv = put_len(out, 1, param.data, param.len);
    orc_buf_free(&param);
    orc_buf_free(&sub);
    return rv;
}

/* Responses {response_code: NamedResponseValue {name, ResponseValue {response}}}. */
static int responses_fn(const void *unused, const json_t *obj, struct orc_buf *out, int depth)
{
    static const struct pb_field value = {"", 2, PB_WRAP, NULL, &response_item, 0};
    const char *code;
    json_t *r;
    int rv = 0;

    (void)unused;
    json_object_foreach((json_t *)obj, code, r) {
        struct orc_buf entry = ORC_BUF_INIT;
        rv = put_str(&entry, 1, code);
        if (rv == 0) rv = encode_value(&value, r, &entry, depth);
        if (rv == 0) rv = put_len(out, 1, entry.data, entry.len);
        orc_buf_free(&entry);
        if (rv != 0) break;
    }
    return rv;
}

static int encode_value(const struct pb_field *f, const json_t *v, struct orc_buf *out, int depth)
{
    size_t i;
    json_t *e;
    int rv = 0;

    if (depth > 64) return ORC_EINVAL;
    switch (f->kind) {
    case PB_STR:
        return json_is_string(v) ? put_str(out, f->num, json_string_value(v)) : 0;
    case PB_BOOL:
        if (!json_is_true(v)) return 0;
        rv = put_varint(out, (uint64_t)f->num << 3);
        return rv ? rv : put_varint(out, 1);
    case PB_STRS:
        if (json_is_string(v)) return put_str(out, f->num, json_string_value(v));
        json_array_foreach(v, i, e) if (rv == 0 && json_is_string(e)) rv = put_str(out, f->num, json_string_value(e));
        return rv;
    case PB_MSG:
        return json_is_object(v) ? nested(f->num, msg_fn, f->msg, v, out, depth) : 0;
    case PB_MSGS:
        json_array_foreach(v, i, e) if (rv == 0 && json_is_object(e)) rv = nested(f->num, msg_fn, f->msg, e, out, depth);
        return rv;
    case PB_WRAP:
        return nested(f->num, field_fn, f->inner, v, out, depth);
    case PB_NAMED:
        return json_is_object(v) ? nested(f->num, named_fn, f, v, out, depth) : 0;
    case PB_ADDPROPS:
        if (json_is_boolean(v)) {
            struct orc_buf b = ORC_BUF_INIT;
            rv = put_varint(&b, 2 << 3);
            if (rv == 0) rv = put_varint(&b, json_is_true(v) ? 1 : 0);
            if (rv == 0) rv = put_len(out, f->num, b.data, b.len);
            orc_buf_free(&b);
            return rv;
        }
        return nested(f->num, field_fn, &schema_item, v, out, depth);
    case PB_PARAM:
        json_array_foreach(v, i, e) if (rv == 0) rv = nested(f->num, param_fn, NULL, e, out, depth);
        return rv;
    case PB_RESPONSES:
        return nested(f->num, responses_fn, NULL, v, out, depth);
    }
    return 0;
}

static int encode_msg(const struct pb_msg *m, const json_t *obj, struct orc_buf *out, int depth)
{
    const char *key;
    json_t *v;
    int rv = 0;

    json_object_foreach((json_t *)obj, key, v) {
        if (m->ext && strncmp(key, "x-", 2) == 0) {
            rv = encode_ext(m->ext, key, v, out);
        } else {
            for (const struct pb_field *f = m->fields; f->json && rv == 0; f++)
                if (strcmp(f->json, key) == 0) rv = encode_value(f, v, out, depth);
        }
        if (rv != 0) return rv;
    }
    return 0;
}

int api_oa_v2_protobuf(const json_t *doc, struct orc_buf *out)
{
    return encode_msg(&document_msg, doc, out, 0);
}
