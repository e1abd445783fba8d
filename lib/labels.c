/* labels.c — label selectors: parsing the string and object forms into one
 * list of requirements, matching them against labels, and printing them back
 * in the canonical (key-sorted) form. */
#include "lib/labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "lib/orc.h"

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS, OP_GT, OP_LT };

struct req {
    char *key;
    enum op op;
    char **values; /* sorted, unique */
    size_t nvalues;
};

struct orc_selector {
    struct req *reqs;
    size_t n, cap;
};

static void req_free(struct req *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvalues; i++) free(r->values[i]);
    free(r->values);
}

void orc_selector_free(orc_selector *sel)
{
    if (!sel) return;
    for (size_t i = 0; i < sel->n; i++) req_free(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

static struct req *add_req(orc_selector *sel, const char *key, size_t klen, enum op op)
{
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? sel->cap * 2 : 4;
        struct req *r = realloc(sel->reqs, cap * sizeof *r);
        if (!r) return NULL;
        sel->reqs = r;
        sel->cap = cap;
    }
    struct req *r = &sel->reqs[sel->n];
    memset(r, 0, sizeof *r);
    r->key = strndup(key, klen);
    if (!r->key) return NULL;
    r->op = op;
    sel->n++;
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds a value keeping the list sorted and without duplicates. */
static int add_value(struct req *r, const char *v, size_t len)
{
    char *s = strndup(v, len);
    if (!s) return ORC_ENOMEM;
    for (size_t i = 0; i < r->nvalues; i++) {
        if (strcmp(r->values[i], s) == 0) {
            free(s);
            return 0;
        }
    }
    char **vals = realloc(r->values, (r->nvalues + 1) * sizeof *vals);
    if (!vals) {
        free(s);
        return ORC_ENOMEM;
    }
    r->values = vals;
    r->values[r->nvalues++] = s;
    qsort(r->values, r->nvalues, sizeof *r->values, cmp_str);
    return 0;
}

/* Stable sort by key, as Kubernetes orders requirements. */
static void sort_reqs(orc_selector *sel)
{
    for (size_t i = 1; i < sel->n; i++) {
        struct req tmp = sel->reqs[i];
        size_t j = i;
        while (j > 0 && strcmp(sel->reqs[j - 1].key, tmp.key) > 0) {
            sel->reqs[j] = sel->reqs[j - 1];
            j--;
        }
        sel->reqs[j] = tmp;
    }
}

/* ---- string form ---- */

struct lexer {
    const char *s;   /* whole input */
    const char *p;   /* cursor */
    const char *term; /* start of the current term, for messages */
    char *msg;
    size_t n;
};

static void skip_ws(struct lexer *lx)
{
    while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r') lx->p++;
}

static int is_special(char c)
{
    return c == '\0' || strchr(" \t\r\n,=!()<>", c) != NULL;
}

/* An identifier: a run of non-special characters; *len may be 0. */
static const char *ident(struct lexer *lx, size_t *len)
{
    skip_ws(lx);
    const char *start = lx->p;
    while (!is_special(*lx->p)) lx->p++;
    *len = (size_t)(lx->p - start);
    return start;
}

static int term_fail(struct lexer *lx, const char *why)
{
    const char *end = lx->p;
    while (*end && *end != ',') end++;
    return orc_errf(lx->msg, lx->n, ORC_EINVAL, "invalid label selector term \"%.*s\": %s",
                (int)(end - lx->term), lx->term, why);
}

static int check_key(struct lexer *lx, const char *key, size_t len)
{
    char why[512];
    if (len == 0) return term_fail(lx, "missing key");
    if (orc_label_key(key, len, why, sizeof why) != 0) return term_fail(lx, why);
    return 0;
}

static int check_value(struct lexer *lx, const char *v, size_t len)
{
    char why[512];
    if (orc_label_value(v, len, why, sizeof why) != 0) return term_fail(lx, why);
    return 0;
}

static int parse_set(struct lexer *lx, struct req *r)
{
    skip_ws(lx);
    if (*lx->p != '(') return term_fail(lx, "expected '(' after in/notin");
    lx->p++;
    for (;;) {
        size_t len;
        const char *v = ident(lx, &len);
        if (check_value(lx, v, len) != 0) return ORC_EINVAL;
        if (add_value(r, v, len) != 0) return ORC_ENOMEM;
        skip_ws(lx);
        if (*lx->p == ')') {
            lx->p++;
            return 0;
        }
        if (*lx->p != ',') return term_fail(lx, "expected ',' or ')' in value list");
        lx->p++;
    }
}

static int parse_number_value(struct lexer *lx, struct req *r)
{
    size_t len;
    const char *v = ident(lx, &len);
    char buf[32], *end;
    if (len == 0 || len >= sizeof buf) return term_fail(lx, "expected an integer value");
    memcpy(buf, v, len);
    buf[len] = '\0';
    errno = 0;
    (void)strtoll(buf, &end, 10);
    if (errno || *end) return term_fail(lx, "expected an integer value");
    return add_value(r, v, len) == 0 ? 0 : ORC_ENOMEM;
}

static int parse_op_and_values(struct lexer *lx, struct req *r)
{
    const char *p = lx->p;
    size_t len;

    if (p[0] == '!' && p[1] == '=') { r->op = OP_NE; lx->p += 2; }
    else if (p[0] == '=' && p[1] == '=') { r->op = OP_EQ; lx->p += 2; }
    else if (p[0] == '=') { r->op = OP_EQ; lx->p += 1; }
    else if (p[0] == '>' || p[0] == '<') {
        r->op = p[0] == '>' ? OP_GT : OP_LT;
        lx->p += 1;
        return parse_number_value(lx, r);
    } else {
        const char *kw = ident(lx, &len);
        if (len == 2 && strncmp(kw, "in", 2) == 0) r->op = OP_IN;
        else if (len == 5 && strncmp(kw, "notin", 5) == 0) r->op = OP_NOTIN;
        else return term_fail(lx, "expected one of '=', '==', '!=', 'in', 'notin', '<', '>'");
        return parse_set(lx, r);
    }
    const char *v = ident(lx, &len);
    if (check_value(lx, v, len) != 0) return ORC_EINVAL;
    return add_value(r, v, len) == 0 ? 0 : ORC_ENOMEM;
}

static int parse_term(struct lexer *lx, orc_selector *sel)
{
    size_t klen;
    skip_ws(lx);
    lx->term = lx->p;
    if (*lx->p == '!') {
        lx->p++;
        const char *key = ident(lx, &klen);
        if (check_key(lx, key, klen) != 0) return ORC_EINVAL;
        return add_req(sel, key, klen, OP_NOTEXISTS) ? 0 : ORC_ENOMEM;
    }
    const char *key = ident(lx, &klen);
    if (check_key(lx, key, klen) != 0) return ORC_EINVAL;
    skip_ws(lx);
    if (*lx->p == '\0' || *lx->p == ',') return add_req(sel, key, klen, OP_EXISTS) ? 0 : ORC_ENOMEM;
    struct req *r = add_req(sel, key, klen, OP_EXISTS);
    if (!r) return ORC_ENOMEM;
    return parse_op_and_values(lx, r);
}

int orc_selector_parse(const char *s, orc_selector **out, char *msg, size_t n)
{
    struct lexer lx = {s, s, s, msg, n};
    orc_selector *sel = calloc(1, sizeof *sel);
    int rv = 0;

    *out = NULL;
    if (!sel) return ORC_ENOMEM;
    skip_ws(&lx);
    while (rv == 0 && *lx.p) {
        rv = parse_term(&lx, sel);
        if (rv != 0) break;
        skip_ws(&lx);
        if (*lx.p == ',') {
            lx.p++;
            skip_ws(&lx);
            if (*lx.p == '\0') rv = orc_errf(msg, n, ORC_EINVAL, "invalid label selector: trailing ','");
        } else if (*lx.p) {
            rv = term_fail(&lx, "expected ',' between terms");
        }
    }
    if (rv != 0) {
        if (rv == ORC_ENOMEM) orc_errf(msg, n, ORC_EINVAL, "out of memory");
        orc_selector_free(sel);
        return rv;
    }
    sort_reqs(sel);
    *out = sel;
    return 0;
}

/* ---- object form ---- */

static int from_match_labels(orc_selector *sel, const json_t *ml, char *msg, size_t n)
{
    const char *key;
    json_t *val;
    char why[512];

    if (!json_is_object(ml)) return orc_errf(msg, n, ORC_EINVAL, "matchLabels: must be an object");
    json_object_foreach((json_t *)ml, key, val) {
        if (orc_label_key(key, strlen(key), why, sizeof why) != 0)
            return orc_errf(msg, n, ORC_EINVAL, "matchLabels: Invalid value: \"%s\": %s", key, why);
        if (!json_is_string(val))
            return orc_errf(msg, n, ORC_EINVAL, "matchLabels[%s]: must be a string", key);
        const char *v = json_string_value(val);
        if (orc_label_value(v, json_string_length(val), why, sizeof why) != 0)
            return orc_errf(msg, n, ORC_EINVAL, "matchLabels: Invalid value: \"%s\": %s", v, why);
        struct req *r = add_req(sel, key, strlen(key), OP_EQ);
        if (!r || add_value(r, v, strlen(v)) != 0) return ORC_ENOMEM;
    }
    return 0;
}

static int parse_operator(const char *s, enum op *op)
{
    static const struct { const char *name; enum op op; } ops[] = {
        {"In", OP_IN}, {"NotIn", OP_NOTIN}, {"Exists", OP_EXISTS}, {"DoesNotExist", OP_NOTEXISTS},
    };
    for (size_t i = 0; s && i < ORC_ARRAY_LEN(ops); i++) {
        if (strcmp(s, ops[i].name) == 0) {
            *op = ops[i].op;
            return 0;
        }
    }
    return ORC_EINVAL;
}

static int from_expression(orc_selector *sel, const json_t *e, size_t i, char *msg, size_t n)
{
    const char *key = json_string_value(json_object_get(e, "key"));
    const char *opname = json_string_value(json_object_get(e, "operator"));
    const json_t *vals = json_object_get(e, "values");
    size_t nvals = json_is_array(vals) ? json_array_size(vals) : 0;
    enum op op;
    char why[512];

    if (!key) return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].key: Required value", i);
    if (orc_label_key(key, json_string_length(json_object_get(e, "key")), why, sizeof why) != 0)
        return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].key: Invalid value: \"%s\": %s", i, key, why);
    if (parse_operator(opname, &op) != 0)
        return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].operator: Unsupported value: \"%s\": supported "
                    "values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"", i,
                    opname ? opname : "");
    if (vals && !json_is_array(vals))
        return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].values: must be an array", i);
    if ((op == OP_IN || op == OP_NOTIN) && nvals == 0)
        return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].values: Required value: must be specified "
                    "when `operator` is 'In' or 'NotIn'", i);
    if ((op == OP_EXISTS || op == OP_NOTEXISTS) && nvals > 0)
        return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].values: Forbidden: may not be specified when "
                    "`operator` is 'Exists' or 'DoesNotExist'", i);

    struct req *r = add_req(sel, key, strlen(key), op);
    if (!r) return ORC_ENOMEM;
    for (size_t j = 0; j < nvals; j++) {
        const json_t *jv = json_array_get(vals, j);
        const char *v = json_string_value(jv);
        if (!v) return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].values[%zu]: must be a string", i, j);
        if (orc_label_value(v, json_string_length(jv), why, sizeof why) != 0)
            return orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu].values[%zu]: Invalid value: \"%s\": %s",
                        i, j, v, why);
        if (add_value(r, v, strlen(v)) != 0) return ORC_ENOMEM;
    }
    return 0;
}

int orc_selector_from_json(const json_t *js, orc_selector **out, char *msg, size_t n)
{
    orc_selector *sel = calloc(1, sizeof *sel);
    int rv = 0;

    *out = NULL;
    if (!sel) return ORC_ENOMEM;
    if (js && !json_is_null(js) && !json_is_object(js)) rv = orc_errf(msg, n, ORC_EINVAL, "must be an object");
    const json_t *ml = json_object_get(js, "matchLabels");
    const json_t *me = json_object_get(js, "matchExpressions");
    if (rv == 0 && ml && !json_is_null(ml)) rv = from_match_labels(sel, ml, msg, n);
    if (rv == 0 && me && !json_is_null(me) && !json_is_array(me))
        rv = orc_errf(msg, n, ORC_EINVAL, "matchExpressions: must be an array");
    for (size_t i = 0; rv == 0 && json_is_array(me) && i < json_array_size(me); i++) {
        const json_t *e = json_array_get(me, i);
        rv = json_is_object(e) ? from_expression(sel, e, i, msg, n)
                               : orc_errf(msg, n, ORC_EINVAL, "matchExpressions[%zu]: must be an object", i);
    }
    if (rv != 0) {
        if (rv == ORC_ENOMEM) orc_errf(msg, n, ORC_EINVAL, "out of memory");
        orc_selector_free(sel);
        return rv;
    }
    sort_reqs(sel);
    *out = sel;
    return 0;
}

/* ---- matching and printing ---- */

static bool has_value(const struct req *r, const char *v)
{
    for (size_t i = 0; i < r->nvalues; i++)
        if (strcmp(r->values[i], v) == 0) return true;
    return false;
}

static bool compare_int(const struct req *r, const char *v)
{
    char *end;
    errno = 0;
    long long have = strtoll(v, &end, 10);
    if (errno || *end || end == v || r->nvalues != 1) return false;
    long long want = strtoll(r->values[0], NULL, 10);
    return r->op == OP_GT ? have > want : have < want;
}

static bool req_matches(const struct req *r, const json_t *labels)
{
    const char *v = json_string_value(json_object_get(labels, r->key));
    switch (r->op) {
    case OP_EQ: return v && has_value(r, v);
    case OP_IN: return v && has_value(r, v);
    case OP_NE: return !v || !has_value(r, v);
    case OP_NOTIN: return !v || !has_value(r, v);
    case OP_EXISTS: return v != NULL;
    case OP_NOTEXISTS: return v == NULL;
    case OP_GT:
    case OP_LT: return v && compare_int(r, v);
    }
    return false;
}

bool orc_selector_matches(const orc_selector *sel, const json_t *labels)
{
    for (size_t i = 0; i < sel->n; i++)
        if (!req_matches(&sel->reqs[i], labels)) return false;
    return true;
}

bool orc_selector_is_empty(const orc_selector *sel)
{
    return sel->n == 0;
}

static int req_string(const struct req *r, struct orc_buf *out)
{
    static const char *const ops[] = {
        [OP_EQ] = "=", [OP_NE] = "!=", [OP_IN] = " in ", [OP_NOTIN] = " notin ",
        [OP_GT] = ">", [OP_LT] = "<",
    };
    if (r->op == OP_EXISTS) return orc_buf_puts(out, r->key);
    if (r->op == OP_NOTEXISTS) return orc_buf_printf(out, "!%s", r->key);
    int rv = orc_buf_printf(out, "%s%s", r->key, ops[r->op]);
    bool set = r->op == OP_IN || r->op == OP_NOTIN;
    if (rv == 0 && set) rv = orc_buf_puts(out, "(");
    for (size_t i = 0; rv == 0 && i < r->nvalues; i++)
        rv = orc_buf_printf(out, "%s%s", i ? "," : "", r->values[i]);
    if (rv == 0 && set) rv = orc_buf_puts(out, ")");
    return rv;
}

int orc_selector_string(const orc_selector *sel, struct orc_buf *out)
{
    int rv = orc_buf_puts(out, "");
    for (size_t i = 0; rv == 0 && i < sel->n; i++) {
        if (i) rv = orc_buf_puts(out, ",");
        if (rv == 0) rv = req_string(&sel->reqs[i], out);
    }
    return rv;
}
