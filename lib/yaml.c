/* yaml.c — YAML stream -> jansson values, driven by libyaml's event parser:
 * core-schema scalars, anchors copied at each alias (with a size cap
 * against alias bombs), `<<` merge keys, duplicate keys rejected. */
#include "lib/yaml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/yaml_scalar.h"

#define MAX_DEPTH 512
/* Nodes an input may expand to, beyond one per input byte: generous for any
 * real manifest, far below what a "billion laughs" document asks for. */
#define MAX_EXTRA_NODES (1u << 20)

#define TAG_PREFIX "tag:yaml.org,2002:"

struct anchor {
    char *name;
    json_t *value;
    size_t size; /* nodes in value, charged again at each alias */
};

struct parser {
    yaml_parser_t yp;
    const char *text;
    size_t len;
    int doc;     /* 1-based number of the last document started */
    bool in_doc; /* between its DOCUMENT-START and DOCUMENT-END */
    struct anchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t nodes, max_nodes;
    int depth;
    char *err;
    size_t errlen;
    bool failed;
};

static int parse_node(struct parser *ps, yaml_event_t *ev, json_t **out);

static void fail_at(struct parser *ps, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_at(struct parser *ps, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ps->failed) return; /* keep the first, most precise message */
    ps->failed = true;
    if (ps->err == NULL || ps->errlen == 0) return;
    /* Outside a document, the problem belongs to the next one. */
    n = snprintf(ps->err, ps->errlen,
                 "document %d, line %zu, column %zu: ", ps->in_doc ? ps->doc : ps->doc + 1, line,
                 col);
    if (n < 0 || (size_t)n >= ps->errlen) return;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

#define fail_mark(ps, m, ...) fail_at((ps), (m).line + 1, (m).column + 1, __VA_ARGS__)

/* Reader errors (bad UTF-8, NUL bytes) only carry a byte offset. */
static void offset_to_pos(const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int next_event(struct parser *ps, yaml_event_t *ev)
{
    yaml_parser_t *yp = &ps->yp;
    size_t line, col;

    if (yaml_parser_parse(yp, ev)) return 0;
    if (yp->error == YAML_MEMORY_ERROR) {
        fail_at(ps, 0, 0, "out of memory");
        return ORC_ENOMEM;
    }
    if (yp->error == YAML_READER_ERROR) {
        offset_to_pos(ps->text, ps->len, yp->problem_offset, &line, &col);
        fail_at(ps, line, col, "%s", yp->problem ? yp->problem : "unreadable input");
    } else if (yp->context) {
        fail_mark(ps, yp->problem_mark, "%s (%s)", yp->problem ? yp->problem : "syntax error",
                  yp->context);
    } else {
        fail_mark(ps, yp->problem_mark, "%s", yp->problem ? yp->problem : "syntax error");
    }
    return ORC_EINVAL;
}

static void anchors_clear(struct parser *ps)
{
    for (size_t i = 0; i < ps->n_anchors; i++) {
        free(ps->anchors[i].name);
        json_decref(ps->anchors[i].value);
    }
    ps->n_anchors = 0;
}

static int anchor_add(struct parser *ps, const char *name, json_t *value, size_t size)
{
    struct anchor *a;

    if (ps->n_anchors == ps->cap_anchors) {
        size_t cap = ps->cap_anchors ? ps->cap_anchors * 2 : 8;
        a = realloc(ps->anchors, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        ps->anchors = a;
        ps->cap_anchors = cap;
    }
    a = &ps->anchors[ps->n_anchors];
    a->name = strdup(name);
    if (a->name == NULL) return ORC_ENOMEM;
    a->value = json_incref(value);
    a->size = size;
    ps->n_anchors++;
    return 0;
}

/* The latest definition wins: YAML lets a document redefine an anchor. */
static const struct anchor *anchor_find(const struct parser *ps, const char *name)
{
    for (size_t i = ps->n_anchors; i > 0; i--)
        if (strcmp(ps->anchors[i - 1].name, name) == 0) return &ps->anchors[i - 1];
    return NULL;
}

static int charge(struct parser *ps, size_t n, const yaml_mark_t *m)
{
    if (n > ps->max_nodes - ps->nodes) {
        fail_mark(ps, *m, "document expands to too many nodes (alias bomb?)");
        return ORC_ETOOBIG;
    }
    ps->nodes += n;
    return 0;
}

static int parse_alias(struct parser *ps, yaml_event_t *ev, json_t **out)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const struct anchor *a = anchor_find(ps, name);
    int rv;

    if (a == NULL) {
        fail_mark(ps, ev->start_mark, "unknown anchor \"%s\"", name);
        return ORC_EINVAL;
    }
    if ((rv = charge(ps, a->size, &ev->start_mark)) != 0) return rv;
    *out = json_deep_copy(a->value);
    return *out ? 0 : ORC_ENOMEM;
}

static bool tag_is(const yaml_char_t *tag, const char *name)
{
    size_t n = strlen(TAG_PREFIX);
    return tag && strncmp((const char *)tag, TAG_PREFIX, n) == 0
           && strcmp((const char *)tag + n, name) == 0;
}

/* An explicit core tag (!!int, !!bool, ...) must agree with the text. */
static int check_tag(struct parser *ps, yaml_event_t *ev, json_t *v)
{
    const yaml_char_t *tag = ev->data.scalar.tag;
    bool ok = true;

    if (tag_is(tag, "int")) ok = json_is_integer(v);
    else if (tag_is(tag, "float")) ok = json_is_number(v);
    else if (tag_is(tag, "bool")) ok = json_is_boolean(v);
    else if (tag_is(tag, "null")) ok = json_is_null(v);
    if (ok) return 0;
    fail_mark(ps, ev->start_mark, "cannot read \"%s\" as %s", (const char *)ev->data.scalar.value,
              (const char *)tag);
    return ORC_EINVAL;
}

static int parse_scalar(struct parser *ps, yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const yaml_char_t *tag = ev->data.scalar.tag;
    bool typed_tag =
        tag_is(tag, "int") || tag_is(tag, "float") || tag_is(tag, "bool") || tag_is(tag, "null");
    int rv;

    *out = NULL;
    /* Quoted and block scalars are strings; so is anything tagged !!str or
     * with the non-specific "!" tag. */
    if ((ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == NULL) || typed_tag) {
        rv = orc_yaml_resolve_plain(s, len, out);
        if (rv == ORC_EINVAL) {
            fail_mark(ps, ev->start_mark, "\"%s\" cannot be represented in JSON", s);
            return rv;
        }
        if (rv != 0) return rv;
        if (typed_tag
            && (rv = (*out ? check_tag(ps, ev, *out) : check_tag(ps, ev, json_null()))) != 0) {
            json_decref(*out);
            *out = NULL;
            return rv;
        }
    }
    if (*out == NULL) *out = json_stringn(s, len);
    return *out ? 0 : ORC_ENOMEM;
}

/* Merge keys (`<<: *base` or `<<: [*a, *b]`): keys already in the mapping
 * and earlier sources win; `merged` remembers which keys came this way so
 * a later explicit key may still override them. */
static int merge_one(struct parser *ps, json_t *obj, json_t *merged, json_t *src,
                     const yaml_mark_t *m)
{
    const char *k;
    size_t klen;
    json_t *v;

    if (!json_is_object(src)) {
        fail_mark(ps, *m, "merge key \"<<\" needs a mapping or a list of mappings");
        return ORC_EINVAL;
    }
    json_object_keylen_foreach (src, k, klen, v) {
        if (json_object_getn(obj, k, klen)) continue;
        if (json_object_setn(obj, k, klen, v) != 0
            || json_object_setn_new(merged, k, klen, json_true()) != 0)
            return ORC_ENOMEM;
    }
    return 0;
}

static int apply_merge(struct parser *ps, json_t *obj, json_t *merged, json_t *src,
                       const yaml_mark_t *m)
{
    size_t i;
    json_t *item;
    int rv;

    if (!json_is_array(src)) return merge_one(ps, obj, merged, src, m);
    json_array_foreach (src, i, item)
        if ((rv = merge_one(ps, obj, merged, item, m)) != 0) return rv;
    return 0;
}

/* Reads a mapping key; keys must be scalars (JSON has no other kind). */
static int parse_key(struct parser *ps, yaml_event_t *ev, json_t **key, bool *is_merge)
{
    json_t *v = NULL;
    int rv;

    *is_merge = false;
    if (ev->type == YAML_SCALAR_EVENT) {
        *is_merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.tag == NULL
                    && strcmp((const char *)ev->data.scalar.value, "<<") == 0;
        *key = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
        if (*key == NULL) return ORC_ENOMEM;
        if (ev->data.scalar.anchor)
            return anchor_add(ps, (const char *)ev->data.scalar.anchor, *key, 1);
        return 0;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        if ((rv = parse_alias(ps, ev, &v)) != 0) return rv;
        if (json_is_string(v)) {
            *key = v;
            return 0;
        }
        json_decref(v);
    }
    fail_mark(ps, ev->start_mark, "mapping keys must be strings or plain scalars");
    return ORC_EINVAL;
}

static int mapping_put(struct parser *ps, json_t *obj, json_t **merged, json_t *key, json_t *val,
                       const yaml_mark_t *m)
{
    const char *k = json_string_value(key);
    size_t klen = json_string_length(key);

    if (json_object_getn(obj, k, klen)) {
        if (*merged == NULL || json_object_getn(*merged, k, klen) == NULL) {
            fail_mark(ps, *m, "duplicate key \"%s\"", k);
            json_decref(val);
            return ORC_EINVAL;
        }
        json_object_deln(*merged, k, klen);
    }
    return json_object_setn_new(obj, k, klen, val) == 0 ? 0 : ORC_ENOMEM;
}

static int mapping_entry(struct parser *ps, yaml_event_t *kev, json_t *obj, json_t **merged)
{
    yaml_event_t vev;
    yaml_mark_t kmark = kev->start_mark;
    json_t *key = NULL, *val = NULL;
    bool is_merge;
    int rv;

    rv = parse_key(ps, kev, &key, &is_merge);
    yaml_event_delete(kev);
    if (rv != 0) goto out;
    if ((rv = next_event(ps, &vev)) != 0) goto out;
    if ((rv = parse_node(ps, &vev, &val)) != 0) goto out;
    if (is_merge) {
        if (*merged == NULL && (*merged = json_object()) == NULL) rv = ORC_ENOMEM;
        if (rv == 0) rv = apply_merge(ps, obj, *merged, val, &kmark);
        json_decref(val);
    } else {
        rv = mapping_put(ps, obj, merged, key, val, &kmark);
    }
out:
    json_decref(key);
    return rv;
}

static int parse_mapping(struct parser *ps, json_t *obj)
{
    json_t *merged = NULL;
    yaml_event_t ev;
    int rv;

    for (;;) {
        if ((rv = next_event(ps, &ev)) != 0) break;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if ((rv = mapping_entry(ps, &ev, obj, &merged)) != 0) break;
    }
    json_decref(merged);
    return rv;
}

static int parse_sequence(struct parser *ps, json_t *arr)
{
    yaml_event_t ev;
    json_t *item;
    int rv;

    for (;;) {
        if ((rv = next_event(ps, &ev)) != 0) return rv;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if ((rv = parse_node(ps, &ev, &item)) != 0) return rv;
        if (json_array_append_new(arr, item) != 0) return ORC_ENOMEM;
    }
}

/* Builds the value an event starts; consumes (deletes) the event. */
static int parse_node(struct parser *ps, yaml_event_t *ev, json_t **out)
{
    const yaml_char_t *anchor = NULL;
    size_t before = ps->nodes;
    char *name = NULL;
    int rv;

    *out = NULL;
    if ((rv = charge(ps, 1, &ev->start_mark)) != 0) goto done;
    switch (ev->type) {
    case YAML_ALIAS_EVENT: rv = parse_alias(ps, ev, out); goto done;
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        rv = parse_scalar(ps, ev, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (ps->depth >= MAX_DEPTH) {
            fail_mark(ps, ev->start_mark, "nesting deeper than %d levels", MAX_DEPTH);
            rv = ORC_ETOOBIG;
            goto done;
        }
        anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
                                                      : ev->data.sequence_start.anchor;
        /* The anchor lives in the event, which is gone once children are read. */
        if (anchor && (name = strdup((const char *)anchor)) == NULL) {
            rv = ORC_ENOMEM;
            goto done;
        }
        ps->depth++;
        if (ev->type == YAML_MAPPING_START_EVENT) {
            yaml_event_delete(ev);
            rv = (*out = json_object()) ? parse_mapping(ps, *out) : ORC_ENOMEM;
        } else {
            yaml_event_delete(ev);
            rv = (*out = json_array()) ? parse_sequence(ps, *out) : ORC_ENOMEM;
        }
        ps->depth--;
        if (rv == 0 && name) rv = anchor_add(ps, name, *out, ps->nodes - before);
        free(name);
        goto fail_check;
    default:
        fail_mark(ps, ev->start_mark, "unexpected YAML event");
        rv = ORC_EINVAL;
        goto done;
    }
    if (rv == 0 && anchor) rv = anchor_add(ps, (const char *)anchor, *out, ps->nodes - before);
done:
    yaml_event_delete(ev);
fail_check:
    if (rv != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rv;
}

/* Reads one document's body after its DOCUMENT-START; *root is NULL for an
 * empty document. */
static int parse_document(struct parser *ps, json_t **root)
{
    yaml_event_t ev;
    int rv;

    *root = NULL;
    if ((rv = next_event(ps, &ev)) != 0) return rv;
    if ((rv = parse_node(ps, &ev, root)) != 0) return rv;
    if ((rv = next_event(ps, &ev)) != 0) goto err;
    if (ev.type != YAML_DOCUMENT_END_EVENT) {
        fail_mark(ps, ev.start_mark, "expected the end of the document");
        yaml_event_delete(&ev);
        rv = ORC_EINVAL;
        goto err;
    }
    yaml_event_delete(&ev);
    anchors_clear(ps); /* anchors do not cross documents */
    return 0;
err:
    json_decref(*root);
    *root = NULL;
    return rv;
}

static int parse_stream(struct parser *ps, json_t *docs)
{
    yaml_event_t ev;
    json_t *root;
    int rv;

    for (;;) {
        if ((rv = next_event(ps, &ev)) != 0) return rv;
        yaml_event_type_t type = ev.type;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT) return 0;
        if (type != YAML_DOCUMENT_START_EVENT) continue; /* STREAM-START */
        ps->doc++;
        ps->in_doc = true;
        if ((rv = parse_document(ps, &root)) != 0) return rv;
        ps->in_doc = false;
        /* Empty documents ("---" alone, comments only) are skipped, as
         * kubectl does. */
        if (json_is_null(root)) json_decref(root);
        else if (json_array_append_new(docs, root) != 0) return ORC_ENOMEM;
    }
}

/* Plain JSON is read by jansson directly: faster for big inputs and
 * tolerant of tab indentation, which libyaml rejects. */
static json_t *try_json(const char *text, size_t len)
{
    size_t i = 0;
    json_t *v, *arr;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i == len || (text[i] != '{' && text[i] != '[')) return NULL;
    v = orc_json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (v == NULL) return NULL;
    arr = json_array();
    if (arr == NULL || json_array_append_new(arr, v) != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *orc_yaml_parse(const char *text, size_t len, char *errmsg, size_t errlen)
{
    struct parser ps = {.text = text, .len = len, .err = errmsg, .errlen = errlen};
    json_t *docs;

    if (errmsg && errlen) errmsg[0] = '\0';
    if ((docs = try_json(text, len)) != NULL) return docs;
    ps.max_nodes = len + MAX_EXTRA_NODES;
    docs = json_array();
    if (docs == NULL || !yaml_parser_initialize(&ps.yp)) {
        json_decref(docs);
        if (errmsg && errlen) snprintf(errmsg, errlen, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&ps.yp, (const unsigned char *)text, len);
    if (parse_stream(&ps, docs) != 0) {
        if (!ps.failed) fail_at(&ps, 0, 0, "out of memory");
        json_decref(docs);
        docs = NULL;
    }
    anchors_clear(&ps);
    free(ps.anchors);
    yaml_parser_delete(&ps.yp);
    return docs;
}
