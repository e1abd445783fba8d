/* options.c — the options of a write, read where Kubernetes reads them:
 * CreateOptions, UpdateOptions and PatchOptions in the query (dryRun,
 * fieldManager, fieldValidation; force belongs to server-side apply), and
 * DeleteOptions in the query and in the body, where kubectl sends them
 * ({"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"],...}).
 * Values Kubernetes refuses are refused the same way (422 naming the
 * option) before anything is read or written. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/write.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

#define FIELD_MANAGER_MAX 128

/* Causes gathered for one 422 answer. */
struct opt_check {
    struct write_op *op;
    json_t *causes;
};

#define cause(c, reason, field, ...) api_cause_append((c)->causes, reason, field, __VA_ARGS__)

/* s as Go's %q writes it, for the ASCII that option values hold. */
static void quoted(const char *s, char *out, size_t n)
{
    json_t *v = json_string(s);
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

    snprintf(out, n, "%s", t ? t : "\"\"");
    free(t);
    json_decref(v);
}

static const char *options_kind(enum write_verb v)
{
    switch (v) {
    case W_CREATE:
    case W_BINDING: return "CreateOptions";
    case W_PATCH:
    case W_STATUS_PATCH:
    case W_SCALE_PATCH: return "PatchOptions";
    case W_DELETE:
    case W_EVICT: return "DeleteOptions";
    default: return "UpdateOptions";
    }
}

static void bad_request(struct write_op *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bad_request(struct write_op *op, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
}

/* 422 as Kubernetes words it: `DeleteOptions.meta.k8s.io "" is invalid: ...`. */
static void respond_invalid(struct opt_check *c)
{
    const char *kind = options_kind(c->op->verb);
    struct orc_buf msg = ORC_BUF_INIT;
    size_t i, n = json_array_size(c->causes);
    json_t *e, *st;
    int rv = orc_buf_printf(&msg, "%s.meta.k8s.io \"\" is invalid: %s", kind, n > 1 ? "[" : "");

    json_array_foreach(c->causes, i, e) {
        const char *field = orc_json_str(e, "field"), *text = orc_json_str(e, "message");
        if (rv == 0)
            rv = orc_buf_printf(&msg, "%s%s: %s", i ? ", " : "", field ? field : "",
                                text ? text : "out of memory");
    }
    if (rv == 0 && n > 1) rv = orc_buf_puts(&msg, "]");
    st = rv ? NULL
            : json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:s, s:s, s:O}, s:i}", "kind",
                        "Status", "apiVersion", "v1", "metadata", "status", "Failure", "message",
                        msg.data, "reason", "Invalid", "details", "group", "meta.k8s.io", "kind",
                        kind, "causes", c->causes, "code", 422);
    if (st) api_respond_json(c->op->r, 422, st);
    else api_respond_error(c->op->r, ORC_ENOMEM, "checking the options");
    json_decref(st);
    orc_buf_free(&msg);
}

/* ---- dryRun ---- */

/* One dryRun value ("All" is the only one Kubernetes knows), appended to
 * `seen` as Go prints a []string for the message. */
static bool dry_value(struct write_op *op, const char *v, struct orc_buf *seen)
{
    char q[300];

    quoted(v, q, sizeof q);
    orc_buf_printf(seen, "%s%s", seen->len > strlen("[]string{") ? ", " : "", q);
    op->opts.dry_run = true;
    return strcmp(v, "All") == 0;
}

static void dry_run_verdict(struct opt_check *c, bool all_known, struct orc_buf *seen)
{
    if (all_known) return;
    if (orc_buf_puts(seen, "}") != 0) {
        cause(c, "FieldValueNotSupported", "dryRun", "Unsupported value");
        return;
    }
    cause(c, "FieldValueNotSupported", "dryRun", "Unsupported value: %s: supported values: \"All\"",
          seen->data);
}

static void dry_run_query(struct opt_check *c)
{
    struct orc_buf seen = ORC_BUF_INIT;
    const struct api_route *rt = c->op->rt;
    bool known = true;

    orc_buf_puts(&seen, "[]string{");
    for (int i = 0; i < rt->n_query; i++)
        if (strcmp(rt->query[i].key, "dryRun") == 0 && !dry_value(c->op, rt->query[i].value, &seen))
            known = false;
    dry_run_verdict(c, known, &seen);
    orc_buf_free(&seen);
}

/* ---- Create/Update/PatchOptions ---- */

static void field_validation(struct opt_check *c)
{
    const char *v = api_query_get(c->op->rt, "fieldValidation");
    char q[300];

    if (v == NULL || *v == '\0' || strcmp(v, "Warn") == 0) c->op->opts.unknown = API_UNKNOWN_WARN;
    else if (strcmp(v, "Ignore") == 0) c->op->opts.unknown = API_UNKNOWN_IGNORE;
    else if (strcmp(v, "Strict") == 0) c->op->opts.unknown = API_UNKNOWN_STRICT;
    else {
        quoted(v, q, sizeof q);
        cause(c, "FieldValueNotSupported", "fieldValidation",
              "Unsupported value: %s: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"", q);
    }
}

/* fieldManager names who owns what this write sets (apply.c); checked
 * as Kubernetes checks it, and required for server-side apply. */
static void field_manager(struct opt_check *c)
{
    const char *v = api_query_get(c->op->rt, "fieldManager");
    char q[300];

    if ((v == NULL || *v == '\0') && c->op->ptype == PATCH_APPLY)
        cause(c, "FieldValueRequired", "fieldManager",
              "Required value: is required for apply patch");
    c->op->opts.field_manager = v && *v ? v : NULL;
    if (v == NULL) return;
    if (strlen(v) > FIELD_MANAGER_MAX) {
        cause(c, "FieldValueTooLong", "fieldManager", "Too long: may not be more than %d bytes",
              FIELD_MANAGER_MAX);
        return;
    }
    for (size_t i = 0; v[i]; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch >= 0x20 && ch != 0x7f) continue;
        quoted(v, q, sizeof q);
        cause(c, "FieldValueInvalid", "fieldManager",
              "Invalid value: %s: invalid character U+%04X (at position %zu)", q, ch, i);
        return;
    }
}

static int parse_bool(const char *s, bool *out);

/* force: only server-side apply takes it (PatchOptions.force). */
static int force_option(struct opt_check *c)
{
    const char *v = api_query_get(c->op->rt, "force");
    bool b = false;

    if (v == NULL) return 0;
    if (options_kind(c->op->verb)[0] == 'P' && c->op->ptype != PATCH_APPLY) {
        cause(c, "FieldValueForbidden", "force",
              "Forbidden: may not be specified for non-apply patch");
        return 0;
    }
    if (*v && parse_bool(v, &b) != 0) {
        bad_request(c->op, "force: \"%s\" is not a boolean", v);
        return ORC_EINVAL;
    }
    c->op->opts.force = *v ? b : true;
    return 0;
}

/* ---- DeleteOptions ---- */

static int parse_int(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return *s && !*end && errno == 0 ? 0 : ORC_EINVAL;
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};

    for (size_t i = 0; i < ORC_ARRAY_LEN(yes); i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return ORC_EINVAL;
}

struct delete_in {
    int orphan; /* -1 not given, 0/1 */
};

static int delete_query(struct write_op *op, struct delete_in *in)
{
    const char *g = api_query_get(op->rt, "gracePeriodSeconds");
    const char *o = api_query_get(op->rt, "orphanDependents");
    bool b;

    if (g && parse_int(g, &op->opts.grace) != 0) {
        bad_request(op, "gracePeriodSeconds: \"%s\" is not an integer", g);
        return ORC_EINVAL;
    }
    if (o && parse_bool(o, &b) != 0) {
        bad_request(op, "orphanDependents: \"%s\" is not a boolean", o);
        return ORC_EINVAL;
    }
    if (o) in->orphan = b;
    op->opts.policy = api_query_get(op->rt, "propagationPolicy");
    return 0;
}

/* body[key] when of the JSON type `want` (null counts as absent); answers
 * 400 and sets *bad otherwise. */
static json_t *body_field(struct write_op *op, const json_t *body, const char *key, int want,
                          bool *bad)
{
    static const char *const names[] = {"an object", "an array", "a string", "an integer",
                                        "a number", "a boolean", "a boolean", "null"};
    json_t *v = json_object_get(body, key);
    int t = v ? (int)json_typeof(v) : JSON_NULL;

    if (t == JSON_NULL || *bad) return NULL;
    if (t == want || (want == JSON_TRUE && t == JSON_FALSE)) return v;
    api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                       "DeleteOptions: %s must be %s", key, names[want]);
    *bad = true;
    return NULL;
}

static int check_body_type(struct write_op *op, const json_t *body)
{
    const char *kind = orc_json_str(body, "kind"), *av = orc_json_str(body, "apiVersion");

    if (!json_is_object(body)) {
        bad_request(op, "%s", "the body of a delete must be a DeleteOptions object");
        return ORC_EINVAL;
    }
    if (kind && strcmp(kind, "DeleteOptions") != 0) {
        bad_request(op, "the body of a delete must be DeleteOptions, not %s", kind);
        return ORC_EINVAL;
    }
    if (av && strcmp(av, "v1") != 0 && strcmp(av, "meta.k8s.io/v1") != 0) {
        bad_request(op, "DeleteOptions of apiVersion %s are not served (v1, meta.k8s.io/v1)", av);
        return ORC_EINVAL;
    }
    return 0;
}

static int delete_body(struct opt_check *c, struct delete_in *in)
{
    struct write_op *op = c->op;
    const json_t *body = op->input;
    json_t *v, *pre, *e;
    bool bad = false;
    size_t i;

    if (body == NULL) return 0;
    if (check_body_type(op, body) != 0) return ORC_EINVAL;
    if ((v = body_field(op, body, "gracePeriodSeconds", JSON_INTEGER, &bad)))
        op->opts.grace = json_integer_value(v);
    if ((v = body_field(op, body, "orphanDependents", JSON_TRUE, &bad))) in->orphan = json_is_true(v);
    if ((v = body_field(op, body, "propagationPolicy", JSON_STRING, &bad)))
        op->opts.policy = json_string_value(v);
    if ((pre = body_field(op, body, "preconditions", JSON_OBJECT, &bad))) {
        if ((v = body_field(op, pre, "uid", JSON_STRING, &bad))) op->opts.pre_uid = json_string_value(v);
        if ((v = body_field(op, pre, "resourceVersion", JSON_STRING, &bad)))
            op->opts.pre_rv = json_string_value(v);
    }
    if ((v = body_field(op, body, "dryRun", JSON_ARRAY, &bad))) {
        struct orc_buf seen = ORC_BUF_INIT;
        bool known = true;
        orc_buf_puts(&seen, "[]string{");
        json_array_foreach(v, i, e) {
            if (!json_is_string(e)) {
                orc_buf_free(&seen);
                bad_request(op, "%s", "DeleteOptions: dryRun must be a list of strings");
                return ORC_EINVAL;
            }
            if (!dry_value(op, json_string_value(e), &seen)) known = false;
        }
        dry_run_verdict(c, known, &seen);
        orc_buf_free(&seen);
    }
    return bad ? ORC_EINVAL : 0;
}

static void delete_verdict(struct opt_check *c, const struct delete_in *in)
{
    const char *p = c->op->opts.policy;
    char q[300];

    if (p) quoted(p, q, sizeof q);
    if (p && in->orphan >= 0)
        cause(c, "FieldValueInvalid", "propagationPolicy",
              "Invalid value: %s: orphanDependents and deletionPropagation cannot be both set", q);
    else if (p && strcmp(p, "Foreground") && strcmp(p, "Background") && strcmp(p, "Orphan"))
        cause(c, "FieldValueNotSupported", "propagationPolicy",
              "Unsupported value: %s: supported values: \"Foreground\", \"Background\", "
              "\"Orphan\", \"nil\"",
              q);
    else if (in->orphan >= 0) /* the deprecated boolean, as Kubernetes reads it */
        c->op->opts.policy = in->orphan ? "Orphan" : "Background";
}

static int delete_options(struct opt_check *c)
{
    struct delete_in in = {-1};
    int rv;

    c->op->opts.grace = -1;
    if ((rv = delete_query(c->op, &in)) != 0) return rv;
    dry_run_query(c);
    if ((rv = delete_body(c, &in)) != 0) return rv;
    delete_verdict(c, &in);
    return 0;
}

int write_read_options(struct write_op *op)
{
    struct opt_check c = {op, json_array()};
    int rv = 0;

    memset(&op->opts, 0, sizeof op->opts);
    op->opts.grace = -1;
    if (c.causes == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "checking the options");
        return ORC_ENOMEM;
    }
    if (op->verb == W_DELETE || op->verb == W_EVICT) {
        rv = delete_options(&c);
    } else {
        dry_run_query(&c);
        field_validation(&c);
        field_manager(&c);
        rv = force_option(&c);
    }
    if (rv == 0 && json_array_size(c.causes) > 0) {
        respond_invalid(&c);
        rv = ORC_EINVAL;
    }
    json_decref(c.causes);
    return rv;
}
