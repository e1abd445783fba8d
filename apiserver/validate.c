/* validate.c — the api_diag findings list, Kubernetes-worded field errors,
 * checks shared by every kind (names, labels, selectors, ports, quantities),
 * ObjectMeta rules, and api_validate's dispatch to the per-kind rules. */
#include "apiserver/kind.h"
#include "apiserver/schema.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/orc.h"
#include "lib/quantity.h"

#define ANNOTATIONS_MAX (256 * 1024)
#define MSG_MAX 1024

/* ---- the diag ---- */

int api_diag_init(struct api_diag *d)
{
    d->causes = json_array();
    d->warnings = json_array();
    d->unknown = json_array();
    d->unknown_fields = API_UNKNOWN_WARN;
    if (!d->causes || !d->warnings || !d->unknown) {
        api_diag_clear(d);
        return ORC_ENOMEM;
    }
    return 0;
}

void api_diag_clear(struct api_diag *d)
{
    json_decref(d->causes);
    json_decref(d->warnings);
    json_decref(d->unknown);
    d->causes = d->warnings = d->unknown = NULL;
}

bool api_diag_failed(const struct api_diag *d)
{
    return json_array_size(d->causes) > 0;
}

/* Never lose a cause to an allocation failure: a bare null still fails the
 * request (api_diag_failed counts it). */
static void add_cause(struct api_diag *d, const char *reason, const char *field, const char *msg)
{
    json_t *c = json_pack("{s:s, s:s, s:s}", "reason", reason, "message", msg, "field",
                          field ? field : "");
    if (c && json_array_append_new(d->causes, c) == 0) return;
    if (json_array_append_new(d->causes, json_null()) != 0)
        log_error("api", "out of memory recording a validation error for %s", field);
}

void api_diag_add(struct api_diag *d, const char *reason, const char *field, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    add_cause(d, reason, field, msg);
}

void api_warn(struct api_diag *d, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (json_array_append_new(d->warnings, json_string(msg)) != 0)
        log_warn("api", "out of memory recording warning: %s", msg);
}

void api_pathf(char out[API_PATH_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, API_PATH_MAX, fmt, ap);
    va_end(ap);
}

/* Joins run for every field of every object written: plain copies, not
 * printf (a third of a pod's validation went to formatting paths). */
static size_t path_put(char *out, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n >= API_PATH_MAX) n = at < API_PATH_MAX - 1 ? API_PATH_MAX - 1 - at : 0;
    memcpy(out + at, s, n);
    out[at + n] = '\0';
    return at + n;
}

void api_path_join(char out[API_PATH_MAX], const char *base, const char *key)
{
    size_t at = path_put(out, 0, base);
    if (base[0]) at = path_put(out, at, ".");
    path_put(out, at, key);
}

void api_path_index(char out[API_PATH_MAX], const char *base, size_t i)
{
    char num[24], *p = num + sizeof num;
    *--p = '\0';
    *--p = ']';
    do *--p = (char)('0' + i % 10); while ((i /= 10) != 0);
    *--p = '[';
    path_put(out, path_put(out, 0, base), p);
}

/* ---- values printed as Kubernetes prints them (Go's %q / %v) ---- */

/* s holds len bytes, NULs included (Go's %q shows one as \x00). */
static void quote(const char *s, size_t len, char *out, size_t n)
{
    struct orc_buf b = ORC_BUF_INIT;
    int rv = orc_buf_puts(&b, "\"");
    const unsigned char *end = (const unsigned char *)s + len;
    for (const unsigned char *p = (const unsigned char *)s; rv == 0 && p < end; p++) {
        if (*p == '"' || *p == '\\') rv = orc_buf_printf(&b, "\\%c", *p);
        else if (*p == '\n') rv = orc_buf_puts(&b, "\\n");
        else if (*p == '\t') rv = orc_buf_puts(&b, "\\t");
        else if (*p == '\r') rv = orc_buf_puts(&b, "\\r");
        else if (*p < 0x20 || *p == 0x7f) rv = orc_buf_printf(&b, "\\x%02x", *p);
        else rv = orc_buf_append(&b, p, 1);
    }
    if (rv == 0) rv = orc_buf_puts(&b, "\"");
    snprintf(out, n, "%s", rv == 0 ? b.data : "\"\"");
    orc_buf_free(&b);
}

static void show_value(const json_t *v, char *out, size_t n)
{
    if (json_is_string(v)) {
        quote(json_string_value(v), json_string_length(v), out, n);
    } else if (json_is_integer(v)) {
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, n, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
    } else if (json_is_object(v) || json_is_array(v)) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(out, n, "%s", s ? s : "{}");
        if (s && strlen(s) >= n && n > 4) memcpy(out + n - 4, "...", 4);
        free(s);
    } else {
        snprintf(out, n, "null");
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

/* ---- field errors ---- */

void api_required(struct api_diag *d, const char *field, const char *detail)
{
    if (detail) api_diag_add(d, "FieldValueRequired", field, "Required value: %s", detail);
    else add_cause(d, "FieldValueRequired", field, "Required value");
}

void api_forbidden(struct api_diag *d, const char *field, const char *detail)
{
    api_diag_add(d, "FieldValueForbidden", field, "Forbidden: %s", detail);
}

void api_toolong(struct api_diag *d, const char *field, long max)
{
    api_diag_add(d, "FieldValueTooLong", field, "Too long: may not be more than %ld bytes", max);
}

static void invalid_v(struct api_diag *d, const char *field, const char *shown, const char *fmt,
                      va_list ap)
{
    char detail[MSG_MAX];
    vsnprintf(detail, sizeof detail, fmt, ap);
    if (detail[0])
        api_diag_add(d, "FieldValueInvalid", field, "Invalid value: %s: %s", shown, detail);
    else
        api_diag_add(d, "FieldValueInvalid", field, "Invalid value: %s", shown);
}

void api_invalid(struct api_diag *d, const char *field, const json_t *value, const char *fmt, ...)
{
    char shown[512];
    va_list ap;
    show_value(value, shown, sizeof shown);
    va_start(ap, fmt);
    invalid_v(d, field, shown, fmt, ap);
    va_end(ap);
}

void api_invalid_str(struct api_diag *d, const char *field, const char *value, const char *fmt,
                     ...)
{
    char shown[512];
    va_list ap;
    quote(value, strlen(value), shown, sizeof shown);
    va_start(ap, fmt);
    invalid_v(d, field, shown, fmt, ap);
    va_end(ap);
}

void api_invalid_int(struct api_diag *d, const char *field, long long value, const char *fmt, ...)
{
    char shown[32];
    va_list ap;
    snprintf(shown, sizeof shown, "%lld", value);
    va_start(ap, fmt);
    invalid_v(d, field, shown, fmt, ap);
    va_end(ap);
}

void api_unsupported(struct api_diag *d, const char *field, const json_t *value,
                     const char *const *supported)
{
    char shown[512];
    struct orc_buf b = ORC_BUF_INIT;
    int rv = orc_buf_puts(&b, "");
    show_value(value, shown, sizeof shown);
    for (size_t i = 0; rv == 0 && supported[i]; i++)
        rv = orc_buf_printf(&b, "%s\"%s\"", i ? ", " : "", supported[i]);
    api_diag_add(d, "FieldValueNotSupported", field, "Unsupported value: %s: supported values: %s",
                 shown, rv == 0 ? b.data : "");
    orc_buf_free(&b);
}

void api_duplicate(struct api_diag *d, const char *field, const json_t *value)
{
    char shown[512];
    show_value(value, shown, sizeof shown);
    api_diag_add(d, "FieldValueDuplicate", field, "Duplicate value: %s", shown);
}

void api_notfound(struct api_diag *d, const char *field, const json_t *value)
{
    char shown[512];
    show_value(value, shown, sizeof shown);
    api_diag_add(d, "FieldValueNotFound", field, "Not found: %s", shown);
}

void api_type_invalid(struct api_diag *d, const char *field, const json_t *value,
                      const char *expected)
{
    char shown[512];
    if (json_is_object(value) || json_is_array(value))
        quote(type_name(value), strlen(type_name(value)), shown, sizeof shown);
    else show_value(value, shown, sizeof shown);
    api_diag_add(d, "FieldValueTypeInvalid", field,
                 "Invalid value: %s: %s%sbody must be of type %s: \"%s\"", shown, field,
                 field[0] ? " in " : "", expected, type_name(value));
}

/* ---- accessors ---- */

const char *api_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

bool api_int(const json_t *o, const char *key, long long *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return false;
    *out = (long long)json_integer_value(v);
    return true;
}

const json_t *api_obj(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_object(v) ? v : NULL;
}

const json_t *api_arr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_array(v) ? v : NULL;
}

bool api_is_true(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

/* ---- shared checks ---- */

static void field_path(char out[API_PATH_MAX], const char *base, const char *key)
{
    if (base[0]) api_pathf(out, "%s.%s", base, key);
    else api_pathf(out, "%s", key);
}

void api_check_min(struct api_diag *d, const json_t *o, const char *key, const char *base,
                   long long min)
{
    long long v;
    char path[API_PATH_MAX];
    if (!api_int(o, key, &v) || v >= min) return;
    field_path(path, base, key);
    api_invalid_int(d, path, v, "must be greater than or equal to %lld", min);
}

void api_check_enum(struct api_diag *d, const json_t *o, const char *key, const char *base,
                    const char *const *values)
{
    const json_t *v = json_object_get(o, key);
    char path[API_PATH_MAX];
    if (!json_is_string(v)) return;
    for (size_t i = 0; values[i]; i++)
        if (strcmp(values[i], json_string_value(v)) == 0) return;
    field_path(path, base, key);
    api_unsupported(d, path, v, values);
}

void api_check_labels(struct api_diag *d, const json_t *labels, const char *field)
{
    const char *key;
    const json_t *v;
    char msg[MSG_MAX];
    if (!json_is_object(labels)) return;
    json_object_foreach((json_t *)labels, key, v) {
        if (orc_label_key(key, strlen(key), msg, sizeof msg) != 0)
            api_invalid_str(d, field, key, "%s", msg);
        const char *s = json_string_value(v);
        if (s && orc_label_value(s, json_string_length(v), msg, sizeof msg) != 0)
            api_invalid(d, field, v, "%s", msg);
    }
}

void api_check_annotations(struct api_diag *d, const json_t *ann, const char *field)
{
    const char *key;
    const json_t *v;
    char msg[MSG_MAX];
    size_t total = 0;
    if (!json_is_object(ann)) return;
    json_object_foreach((json_t *)ann, key, v) {
        /* Kubernetes checks annotation keys case-insensitively. */
        char *lower = strdup(key);
        for (char *p = lower; p && *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        if (orc_label_key(lower ? lower : key, strlen(key), msg, sizeof msg) != 0)
            api_invalid_str(d, field, key, "%s", msg);
        free(lower);
        total += strlen(key) + json_string_length(v);
    }
    if (total > ANNOTATIONS_MAX) api_toolong(d, field, ANNOTATIONS_MAX);
}

static void check_selector_expr(struct api_diag *d, const json_t *e, const char *path)
{
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
    const char *op = api_str(e, "operator");
    const json_t *vals = api_arr(e, "values");
    size_t n = vals ? json_array_size(vals) : 0;
    char p[API_PATH_MAX];

    api_check_enum(d, e, "operator", path, ops);
    api_check_name(d, e, "key", path, orc_label_key);
    api_pathf(p, "%s.values", path);
    if (op && (!strcmp(op, "In") || !strcmp(op, "NotIn")) && n == 0)
        api_required(d, p, "must be specified when `operator` is 'In' or 'NotIn'");
    if (op && (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) && n > 0)
        api_forbidden(d, p, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    for (size_t i = 0; i < n; i++) {
        api_pathf(p, "%s.values[%zu]", path, i);
        api_check_name_value(d, json_array_get(vals, i), p, orc_label_value);
    }
}

void api_check_selector(struct api_diag *d, const json_t *sel, const char *field)
{
    char p[API_PATH_MAX];
    if (!json_is_object(sel)) return;
    api_pathf(p, "%s.matchLabels", field);
    api_check_labels(d, api_obj(sel, "matchLabels"), p);
    const json_t *exprs = api_arr(sel, "matchExpressions");
    for (size_t i = 0; exprs && i < json_array_size(exprs); i++) {
        api_pathf(p, "%s.matchExpressions[%zu]", field, i);
        if (json_is_object(json_array_get(exprs, i)))
            check_selector_expr(d, json_array_get(exprs, i), p);
    }
}

bool api_check_name_value(struct api_diag *d, const json_t *v, const char *field,
                          orc_name_rule rule)
{
    char msg[MSG_MAX];
    size_t len = json_string_length(v);
    if (!json_is_string(v) || len == 0 || rule(json_string_value(v), len, msg, sizeof msg) == 0)
        return true;
    api_invalid(d, field, v, "%s", msg);
    return false;
}

void api_check_name(struct api_diag *d, const json_t *o, const char *key, const char *base,
                    orc_name_rule rule)
{
    char path[API_PATH_MAX];
    field_path(path, base, key);
    api_check_name_value(d, json_object_get(o, key), path, rule);
}

void api_check_port(struct api_diag *d, const json_t *o, const char *key, const char *base,
                    bool required)
{
    long long v;
    char path[API_PATH_MAX];
    field_path(path, base, key);
    if (!api_int(o, key, &v)) {
        if (required && !json_object_get(o, key)) api_required(d, path, NULL);
        return;
    }
    if (v < 1 || v > 65535) api_invalid_int(d, path, v, "must be between 1 and 65535, inclusive");
}

int api_port_name(const char *s, char *msg, size_t n)
{
    size_t len = strlen(s);
    bool letter = false;
    const char *why = NULL;
    for (size_t i = 0; i < len && !why; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z') letter = true;
        else if (!(c >= '0' && c <= '9') && c != '-')
            why = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        else if (c == '-' && i > 0 && s[i - 1] == '-') why = "must not contain consecutive hyphens";
    }
    if (!why && len > 15) why = "must be no more than 15 characters";
    if (!why && !letter) why = "must contain at least one letter (a-z)";
    if (!why && (s[0] == '-' || s[len - 1] == '-')) why = "must not begin or end with a hyphen";
    if (!why) return 0;
    snprintf(msg, n, "%s", why);
    return ORC_EINVAL;
}

void api_check_port_or_name(struct api_diag *d, const json_t *v, const char *field)
{
    char msg[MSG_MAX];
    if (json_is_integer(v)) {
        long long p = (long long)json_integer_value(v);
        if (p < 1 || p > 65535)
            api_invalid_int(d, field, p, "must be between 1 and 65535, inclusive");
    } else if (json_is_string(v) && api_port_name(json_string_value(v), msg, sizeof msg) != 0) {
        api_invalid_str(d, field, json_string_value(v), "%s", msg);
    }
}

int api_check_quantity(struct api_diag *d, const json_t *v, const char *field, int64_t *milli)
{
    const char *s = json_string_value(v);
    if (!s) return ORC_EINVAL; /* the schema pass reported the type */
    if (s[0] == '-') {
        api_invalid_str(d, field, s, "must be greater than or equal to 0");
        return ORC_EINVAL;
    }
    if (orc_quantity_parse(s, milli) != 0) {
        api_invalid_str(d, field, s, "quantities must match the regular expression "
                                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        return ORC_EINVAL;
    }
    return 0;
}

void api_check_immutable(struct api_diag *d, const json_t *now, const json_t *was,
                         const char *field)
{
    if (!now && !was) return;
    if (now && was && json_equal((json_t *)now, (json_t *)was)) return;
    if (now) api_invalid(d, field, now, "field is immutable");
    else api_invalid_str(d, field, "", "field is immutable");
}

bool api_is_ip(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool api_is_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    char ip[64];
    if (!slash || (size_t)(slash - s) >= sizeof ip || !slash[1]) return false;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    unsigned char buf[sizeof(struct in6_addr)];
    int max = inet_pton(AF_INET, ip, buf) == 1 ? 32 : inet_pton(AF_INET6, ip, buf) == 1 ? 128 : -1;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    return max > 0 && !*end && slash[1] >= '0' && slash[1] <= '9' && bits >= 0 && bits <= max;
}

/* ---- ObjectMeta ---- */

static orc_name_rule name_rule_for(const struct orc_kind *k)
{
    orc_name_rule rule = api_kind_of(k)->name_rule;
    return rule ? rule : orc_dns1123_subdomain;
}

static void check_name(const struct orc_kind *k, const json_t *meta, struct api_diag *d)
{
    const json_t *name = json_object_get(meta, "name"), *gen = json_object_get(meta, "generateName");
    size_t glen = json_string_length(gen);
    char msg[MSG_MAX];
    orc_name_rule rule = name_rule_for(k);

    if (json_string_length(name) == 0 && glen == 0)
        api_required(d, "metadata.name", "name or generateName is required");
    else api_check_name_value(d, name, "metadata.name", rule);
    if (glen > 0) {
        /* The server appends a random suffix, so a trailing '-' is fine. */
        char *masked = malloc(glen);
        if (masked == NULL) {
            add_cause(d, "InternalError", "metadata.generateName", "out of memory");
            return;
        }
        memcpy(masked, json_string_value(gen), glen);
        if (masked[glen - 1] == '-') masked[glen - 1] = 'a';
        if (rule(masked, glen, msg, sizeof msg) != 0)
            api_invalid(d, "metadata.generateName", gen, "%s", msg);
        free(masked);
    }
}

static void check_owner_refs(const json_t *refs, struct api_diag *d)
{
    const char *first_controller = NULL;
    for (size_t i = 0; refs && i < json_array_size(refs); i++) {
        const json_t *r = json_array_get(refs, i);
        if (!api_is_true(r, "controller")) continue;
        const char *name = api_str(r, "name");
        if (!first_controller) {
            first_controller = name ? name : "";
            continue;
        }
        char p[API_PATH_MAX];
        api_pathf(p, "metadata.ownerReferences[%zu].controller", i);
        api_diag_add(d, "FieldValueInvalid", p,
                     "Invalid value: true: Only one reference can have Controller set to true. "
                     "Found \"true\" in references for %s and %s",
                     first_controller, name ? name : "");
    }
}

static void check_finalizers(const json_t *fins, struct api_diag *d)
{
    char p[API_PATH_MAX], msg[MSG_MAX];
    for (size_t i = 0; fins && i < json_array_size(fins); i++) {
        const json_t *f = json_array_get(fins, i);
        api_pathf(p, "metadata.finalizers[%zu]", i);
        if (json_is_string(f)
            && orc_label_key(json_string_value(f), json_string_length(f), msg, sizeof msg) != 0)
            api_invalid(d, p, f, "%s", msg);
    }
}

static void check_meta(const struct orc_kind *k, const json_t *obj, struct api_diag *d)
{
    const json_t *meta = api_obj(obj, "metadata");
    const json_t *ns = json_object_get(meta, "namespace");

    check_name(k, meta, d);
    if (json_string_length(ns) > 0 && !k->namespaced)
        api_forbidden(d, "metadata.namespace", "not allowed on this type");
    else api_check_name_value(d, ns, "metadata.namespace", orc_dns1123_label);
    api_check_labels(d, api_obj(meta, "labels"), "metadata.labels");
    api_check_annotations(d, api_obj(meta, "annotations"), "metadata.annotations");
    check_owner_refs(api_arr(meta, "ownerReferences"), d);
    check_finalizers(api_arr(meta, "finalizers"), d);
    api_check_min(d, meta, "deletionGracePeriodSeconds", "metadata", 0);
}

static void check_type_meta(const struct orc_kind *k, const json_t *obj, struct api_diag *d)
{
    const char *av = api_str(obj, "apiVersion"), *kind = api_str(obj, "kind");
    const char *want = orc_kind_api_version(k);
    if (av && av[0] && strcmp(av, want) != 0)
        api_invalid_str(d, "apiVersion", av, "must be %s", want);
    if (kind && kind[0] && strcmp(kind, k->kind) != 0)
        api_invalid_str(d, "kind", kind, "must be %s", k->kind);
}

/* ---- dispatch ---- */

void api_validate(const struct orc_kind *k, const json_t *obj, const json_t *old,
                  struct api_diag *d)
{
    if (!json_is_object(obj)) {
        api_type_invalid(d, "", obj, "object");
        return;
    }
    if (old && !json_is_object(old)) old = NULL;
    check_type_meta(k, obj, d);
    api_schema_required(k, obj, d);
    check_meta(k, obj, d);
    const struct api_kind *ak = api_kind_of(k);
    if (ak->validate) ak->validate(d, obj, old);
}

char *api_diag_message(const struct api_diag *d, const struct orc_kind *k, const char *name)
{
    struct orc_buf b = ORC_BUF_INIT;
    size_t n = json_array_size(d->causes);
    int rv = k->group[0] ? orc_buf_printf(&b, "%s.%s", k->kind, k->group)
                         : orc_buf_puts(&b, k->kind);
    if (rv == 0) rv = orc_buf_printf(&b, " \"%s\" is invalid", name ? name : "");
    if (rv == 0 && n > 0) rv = orc_buf_puts(&b, n > 1 ? ": [" : ": ");
    for (size_t i = 0; rv == 0 && i < n; i++) {
        const json_t *c = json_array_get(d->causes, i);
        const char *field = api_str(c, "field"), *msg = api_str(c, "message");
        if (i) rv = orc_buf_puts(&b, ", ");
        if (rv == 0 && field && field[0]) rv = orc_buf_printf(&b, "%s: ", field);
        if (rv == 0) rv = orc_buf_puts(&b, msg ? msg : "out of memory");
    }
    if (rv == 0 && n > 1) rv = orc_buf_puts(&b, "]");
    if (rv != 0) {
        orc_buf_free(&b);
        return NULL;
    }
    return orc_buf_steal(&b, NULL);
}
