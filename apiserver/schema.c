/* schema.c — the schema pass: walks an object along its kind's field tables,
 * turning wrong JSON types into causes, pruning unknown fields and warning
 * about known-but-unimplemented ones; plus the table-driven required pass. */
#include "apiserver/kind.h"
#include "apiserver/schema.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/orc.h"

const struct api_struct *api_schema_root(const struct orc_kind *k)
{
    return api_kind_of(k)->schema;
}

static const struct api_field *find_field(const struct api_struct *st, const char *name)
{
    for (const struct api_field *f = st->fields; f->name; f++)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

static void join(char out[API_PATH_MAX], const char *base, const char *key)
{
    api_path_join(out, base, key);
}

/* ---- scalar types ---- */

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* RFC 3339: 2006-01-02T15:04:05[.frac](Z|+07:00). */
static bool is_rfc3339(const char *s)
{
    if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-'
        || !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2)
        || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    int mon = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    int hour = (s[11] - '0') * 10 + (s[12] - '0'), min = (s[14] - '0') * 10 + (s[15] - '0');
    int sec = (s[17] - '0') * 10 + (s[18] - '0');
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') return true;
    return (*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2)
           && p[6] == '\0';
}

/* A whole-number real (YAML may give 3.0) as an integer; NULL otherwise. */
static json_t *integral(const json_t *v)
{
    if (!json_is_real(v)) return NULL;
    double x = json_real_value(v);
    if (x != floor(x) || x < -9.2e18 || x > 9.2e18) return NULL;
    return json_integer((json_int_t)x);
}

static bool fits_int32(const json_t *v)
{
    json_int_t x = json_integer_value(v);
    return x >= INT32_MIN && x <= INT32_MAX;
}

/* An integer field: 0 with *rep set when a whole real was converted, or
 * ORC_EINVAL after recording why not (wrong type, or past int32's range). */
static int check_integer(const json_t *v, bool int32, json_t **rep, const char *path,
                         const char *expected, struct api_diag *d)
{
    json_t *i = json_is_integer(v) ? NULL : integral(v);
    if (!json_is_integer(v) && i == NULL) {
        api_type_invalid(d, path, v, expected);
        return ORC_EINVAL;
    }
    if (int32 && !fits_int32(i ? i : v)) {
        api_type_invalid(d, path, i ? i : v, "int32");
        json_decref(i);
        return ORC_EINVAL;
    }
    *rep = i;
    return 0;
}

/* Quantities may be written as JSON numbers (cpu: 1, cpu: 0.5); store text. */
static json_t *quantity_text(const json_t *v)
{
    char buf[64];
    if (json_is_integer(v)) snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
    return json_string(buf);
}

static void check_fields(const struct api_struct *st, json_t *obj, const char *base,
                         struct api_diag *d);

/* Checks v against `type`; returns a replacement value (new reference) when
 * the value is converted, else NULL. */
static json_t *check_value(const struct api_field *f, unsigned type, json_t *v, const char *path,
                           struct api_diag *d)
{
    json_t *rep = NULL;
    switch (type) {
    case API_T_STRING:
        if (!json_is_string(v)) api_type_invalid(d, path, v, "string");
        break;
    case API_T_INT:
    case API_T_INT32:
        check_integer(v, type == API_T_INT32, &rep, path, "integer", d);
        break;
    case API_T_BOOL:
        if (!json_is_boolean(v)) api_type_invalid(d, path, v, "boolean");
        break;
    case API_T_NUMBER:
        if (!json_is_number(v)) api_type_invalid(d, path, v, "number");
        break;
    case API_T_INTSTR:
        if (!json_is_string(v)) check_integer(v, true, &rep, path, "integer or string", d);
        break;
    case API_T_QUANTITY:
        if (json_is_number(v)) rep = quantity_text(v);
        else if (!json_is_string(v)) api_type_invalid(d, path, v, "string or number");
        break;
    case API_T_TIME:
        if (!json_is_string(v)) api_type_invalid(d, path, v, "string");
        else if (!is_rfc3339(json_string_value(v)))
            api_type_invalid(d, path, v, "date-time (RFC 3339)");
        break;
    case API_T_OBJECT:
        if (!json_is_object(v)) api_type_invalid(d, path, v, "object");
        else if (f->obj) check_fields(f->obj, v, path, d);
        break;
    case API_T_ARRAY:
        if (!json_is_array(v)) {
            api_type_invalid(d, path, v, "array");
            break;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            char ip[API_PATH_MAX];
            api_path_index(ip, path, i);
            json_t *r = check_value(f, f->item, json_array_get(v, i), ip, d);
            if (r) json_array_set_new(v, i, r);
        }
        break;
    case API_T_MAP: {
        const char *key;
        json_t *val;
        if (!json_is_object(v)) {
            api_type_invalid(d, path, v, "object");
            break;
        }
        json_object_foreach(v, key, val) {
            char kp[API_PATH_MAX];
            api_pathf(kp, "%s[%s]", path, key);
            json_t *r = check_value(f, f->item, val, kp, d);
            if (r) json_object_set_new(v, key, r);
        }
        break;
    }
    default: /* API_T_FREE */
        break;
    }
    return rep;
}

/* ---- not implemented ---- */

static bool is_empty(const json_t *v)
{
    return (json_is_array(v) && json_array_size(v) == 0)
           || (json_is_object(v) && json_object_size(v) == 0);
}

/* The value as the text NOT_IMPLEMENTED entries compare with. */
static const char *scalar_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_boolean(v)) return json_is_true(v) ? "true" : "false";
    if (json_is_integer(v)) {
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return "";
}

static void warn_notimpl(const struct api_struct *st, const char *key, const json_t *v,
                         const char *path, struct api_diag *d)
{
    const struct api_notimpl *ni = api_notimpl_find(st->name, key);
    char buf[32];
    if (!ni || is_empty(v)) return;
    const char *text = scalar_text(v, buf, sizeof buf);
    if (ni->unless && strcmp(text, ni->unless) == 0) return;
    if (ni->only && strcmp(text, ni->only) != 0) return;
    if (ni->only)
        api_warn(d, "%s: \"%s\" is not implemented by orc yet; stored but has no effect", path,
                 text);
    else
        api_warn(d, "%s: not implemented by orc yet; stored but has no effect", path);
}

static void check_fields(const struct api_struct *st, json_t *obj, const char *base,
                         struct api_diag *d)
{
    const char *key;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(obj, tmp, key, v) {
        char path[API_PATH_MAX];
        const struct api_field *f = find_field(st, key);
        join(path, base, key);
        if (!f) {
            if (d->unknown_fields == API_UNKNOWN_WARN) api_warn(d, "unknown field \"%s\"", path);
            else if (d->unknown_fields == API_UNKNOWN_STRICT
                     && json_array_append_new(d->unknown, json_string(path)) != 0)
                api_diag_add(d, "FieldValueInvalid", path, "unknown field"); /* still refused */
            json_object_del(obj, key);
            continue;
        }
        /* null means "not set", as Kubernetes decodes it. */
        if (json_is_null(v) && f->type != API_T_FREE) {
            json_object_del(obj, key);
            continue;
        }
        warn_notimpl(st, key, v, path, d);
        json_t *rep = check_value(f, f->type, v, path, d);
        if (rep) json_object_set_new(obj, key, rep);
    }
}

void api_schema_check(const struct orc_kind *k, json_t *obj, struct api_diag *d)
{
    const struct api_struct *root = api_schema_root(k);
    if (!json_is_object(obj)) {
        api_type_invalid(d, "", obj, "object");
        return;
    }
    if (root) check_fields(root, obj, "", d);
}

/* ---- required values ---- */

static bool is_missing(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)
           || (json_is_array(v) && json_array_size(v) == 0);
}

static void required_fields(const struct api_struct *st, const json_t *obj, const char *base,
                            struct api_diag *d);

static void required_value(const struct api_field *f, const json_t *v, const char *path,
                           struct api_diag *d)
{
    if (f->type == API_T_OBJECT && json_is_object(v)) {
        required_fields(f->obj, v, path, d);
    } else if (f->type == API_T_ARRAY && f->item == API_T_OBJECT && json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            char ip[API_PATH_MAX];
            const json_t *e = json_array_get(v, i);
            api_path_index(ip, path, i);
            if (json_is_object(e)) required_fields(f->obj, e, ip, d);
        }
    }
}

static void required_fields(const struct api_struct *st, const json_t *obj, const char *base,
                            struct api_diag *d)
{
    for (const struct api_field *f = st->fields; f->name; f++) {
        char path[API_PATH_MAX];
        const json_t *v = json_object_get(obj, f->name);
        bool missing = (f->flags & API_F_REQUIRED) && is_missing(v);
        if (!missing && !(v && f->obj)) continue; /* most fields: no path needed */
        join(path, base, f->name);
        if (missing) api_required(d, path, NULL);
        else required_value(f, v, path, d);
    }
}

void api_schema_required(const struct orc_kind *k, const json_t *obj, struct api_diag *d)
{
    const struct api_struct *root = api_schema_root(k);
    if (root && json_is_object(obj)) required_fields(root, obj, "", d);
}
