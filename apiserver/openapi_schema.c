/* openapi_schema.c — OpenAPI schemas from the field tables: each api_struct
 * becomes a named component, each api_field a property typed as
 * Kubernetes types it, with its patch strategy and merge key. Statuses,
 * which the tables leave unchecked, are free objects. */
#include "apiserver/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/schema.h"
#include "lib/orc.h"

#define META "io.k8s.apimachinery.pkg.apis.meta.v1."
#define NAME_MAX_LEN 160

struct oa_named {
    const struct api_struct *st;
    char name[NAME_MAX_LEN];
    const struct orc_kind *kind; /* set on a kind's root type */
};

struct api_oa_types {
    struct oa_named *v;
    size_t n, cap;
};

/* Types Kubernetes keeps in apimachinery's meta/v1 package. */
static const char *const meta_types[] = {"ObjectMeta", "OwnerReference", "LabelSelector",
                                         "LabelSelectorRequirement", NULL};

/* ---- naming ---- */

static const struct oa_named *find_named(const struct api_oa_types *t, const struct api_struct *st)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].st == st) return &t->v[i];
    return NULL;
}

static const struct oa_named *find_name(const struct api_oa_types *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0) return &t->v[i];
    return NULL;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Twins: file-local tables of one Kubernetes type (each file declares its
 * own), equal field by field, share one component. */
static bool same_struct(const struct api_struct *a, const struct api_struct *b, int depth)
{
    const struct api_field *fa = a->fields, *fb = b->fields;

    if (a == b) return true;
    if (depth > 16 || strcmp(a->name, b->name) != 0) return false;
    for (; fa->name && fb->name; fa++, fb++) {
        if (strcmp(fa->name, fb->name) != 0 || fa->type != fb->type || fa->item != fb->item
            || fa->flags != fb->flags || fa->patch != fb->patch
            || !same_str(fa->merge_key, fb->merge_key))
            return false;
        if ((fa->obj == NULL) != (fb->obj == NULL)) return false;
        if (fa->obj && !same_struct(fa->obj, fb->obj, depth + 1)) return false;
    }
    return fa->name == NULL && fb->name == NULL;
}

/* "apps" for apps, "networking" for networking.k8s.io, "core" for "". */
static void group_package(const char *group, char *out, size_t n)
{
    size_t len = strcspn(group, ".");
    if (len == 0) snprintf(out, n, "core");
    else snprintf(out, n, "%.*s", (int)len, group);
}

static bool is_meta(const char *name)
{
    for (int i = 0; meta_types[i]; i++)
        if (strcmp(meta_types[i], name) == 0) return true;
    return false;
}

static int add_named(struct api_oa_types *t, const struct api_struct *st, const char *name,
                     const struct orc_kind *k)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 128;
        struct oa_named *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL) return ORC_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n].st = st;
    t->v[t->n].kind = k;
    snprintf(t->v[t->n].name, NAME_MAX_LEN, "%s", name);
    t->n++;
    return 0;
}

/* Names st (once) in package pkg; a different type with the same name gets
 * a number after it. */
static int name_struct(struct api_oa_types *t, const struct api_struct *st, const char *pkg,
                       const struct orc_kind *k)
{
    char name[NAME_MAX_LEN];
    const struct oa_named *twin;

    if (find_named(t, st)) return 0;
    /* A twin named already in another package (a StatefulSet's claim
     * template is a core PersistentVolumeClaim). */
    for (size_t i = 0; i < t->n; i++) {
        const char *dot = strrchr(t->v[i].name, '.');
        if (dot && strcmp(dot + 1, st->name) == 0 && same_struct(t->v[i].st, st, 0))
            return add_named(t, st, t->v[i].name, NULL);
    }
    if (is_meta(st->name)) snprintf(name, sizeof name, META "%s", st->name);
    else snprintf(name, sizeof name, "io.k8s.api.%s.v1.%s", pkg, st->name);
    for (int i = 2; (twin = find_name(t, name)) != NULL; i++) {
        if (same_struct(twin->st, st, 0)) break;
        snprintf(name, sizeof name, "io.k8s.api.%s.v1.%s%d", pkg, st->name, i);
    }
    return add_named(t, st, name, k);
}

/* The fields whose object type is a component of its own; the free ones
 * (statuses) are described in place. */
static const struct api_struct *component_of(const struct api_field *f)
{
    if (f->obj == NULL) return NULL;
    if (f->type == API_T_OBJECT) return f->obj;
    if ((f->type == API_T_ARRAY || f->type == API_T_MAP) && f->item == API_T_OBJECT) return f->obj;
    return NULL;
}

/* Walks every type reachable from st, naming it in its parent's package
 * (the free-form parts are walked too: their typed fields are components). */
static int name_children(struct api_oa_types *t, const struct api_struct *st, const char *pkg,
                         int depth)
{
    int rv = 0;

    if (depth > 32) return 0; /* the tables are trees; a bound all the same */
    for (const struct api_field *f = st->fields; f->name && rv == 0; f++) {
        const struct api_struct *c = component_of(f);
        if (c && find_named(t, c) == NULL) {
            rv = name_struct(t, c, pkg, NULL);
            if (rv == 0) rv = name_children(t, c, pkg, depth + 1);
        } else if (c == NULL && f->obj) {
            rv = name_children(t, f->obj, pkg, depth + 1);
        }
    }
    return rv;
}

int api_oa_types_new(struct api_oa_types **out)
{
    struct api_oa_types *t = calloc(1, sizeof *t);
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);
    char pkg[64];
    int rv = 0;

    if (t == NULL) return ORC_ENOMEM;
    /* Roots first: a kind's own type is named in the kind's group. */
    for (size_t i = 0; i < nk && rv == 0; i++) {
        const struct api_struct *root = api_schema_root(&k[i]);
        group_package(k[i].group, pkg, sizeof pkg);
        if (root) rv = name_struct(t, root, pkg, &k[i]);
    }
    for (size_t i = 0; i < nk && rv == 0; i++) {
        const struct api_struct *root = api_schema_root(&k[i]);
        const struct oa_named *rn = root ? find_named(t, root) : NULL;
        group_package(k[i].group, pkg, sizeof pkg);
        if (rn) rv = name_children(t, root, pkg, 0);
    }
    if (rv != 0) {
        api_oa_types_free(t);
        return rv;
    }
    *out = t;
    return 0;
}

void api_oa_types_free(struct api_oa_types *t)
{
    if (t == NULL) return;
    free(t->v);
    free(t);
}

/* ---- fixed types ---- */

/* Kubernetes' own types, as JSON text; "$ref":"@X" names another of them. */
struct fixed_type {
    const char *name;
    const char *v3;
    const char *v2; /* NULL: as v3 */
};

static const struct fixed_type fixed_types[] = {
    {META "Time",
     "{\"description\":\"Time is a date and time in RFC 3339 form (2006-01-02T15:04:05Z).\","
     "\"type\":\"string\",\"format\":\"date-time\"}", NULL},
    {"io.k8s.apimachinery.pkg.api.resource.Quantity",
     "{\"description\":\"Quantity is a number with an optional SI or binary suffix: \\\"500m\\\", "
     "\\\"1Gi\\\", 2.\",\"oneOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}",
     "{\"description\":\"Quantity is a number with an optional SI or binary suffix: \\\"500m\\\", "
     "\\\"1Gi\\\", 2.\",\"type\":\"string\",\"format\":\"quantity\"}"},
    {"io.k8s.apimachinery.pkg.util.intstr.IntOrString",
     "{\"description\":\"IntOrString is an int32 or a string (a port number or name, a count or "
     "a percentage).\",\"format\":\"int-or-string\",\"x-kubernetes-int-or-string\":true,"
     "\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}",
     "{\"description\":\"IntOrString is an int32 or a string (a port number or name, a count or "
     "a percentage).\",\"type\":\"string\",\"format\":\"int-or-string\"}"},
    {META "ListMeta",
     "{\"description\":\"ListMeta is the metadata of a list: its resourceVersion and the token "
     "that continues it.\",\"type\":\"object\",\"properties\":{\"continue\":{\"type\":\"string\"},"
     "\"remainingItemCount\":{\"type\":\"integer\",\"format\":\"int64\"},"
     "\"resourceVersion\":{\"type\":\"string\"},\"selfLink\":{\"type\":\"string\"}}}", NULL},
    {META "StatusCause",
     "{\"description\":\"StatusCause names one thing wrong with a request.\",\"type\":\"object\","
     "\"properties\":{\"field\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},"
     "\"reason\":{\"type\":\"string\"}}}", NULL},
    {META "StatusDetails",
     "{\"description\":\"StatusDetails says which object a failure is about, and why.\","
     "\"type\":\"object\",\"properties\":{\"causes\":{\"type\":\"array\",\"items\":{\"$ref\":"
     "\"@" META "StatusCause\"}},\"group\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
     "\"name\":{\"type\":\"string\"},\"retryAfterSeconds\":{\"type\":\"integer\",\"format\":"
     "\"int32\"},\"uid\":{\"type\":\"string\"}}}", NULL},
    {META "Status",
     "{\"description\":\"Status is the result of a call that returns no object, and of every "
     "failure.\",\"type\":\"object\",\"properties\":{\"apiVersion\":{\"type\":\"string\"},"
     "\"code\":{\"type\":\"integer\",\"format\":\"int32\"},\"details\":{\"$ref\":\"@" META
     "StatusDetails\"},\"kind\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},"
     "\"metadata\":{\"$ref\":\"@" META "ListMeta\"},\"reason\":{\"type\":\"string\"},"
     "\"status\":{\"type\":\"string\"}},\"x-kubernetes-group-version-kind\":[{\"group\":\"\","
     "\"kind\":\"Status\",\"version\":\"v1\"}]}", NULL},
    {META "Preconditions",
     "{\"description\":\"Preconditions must hold for a delete to go ahead.\",\"type\":\"object\","
     "\"properties\":{\"resourceVersion\":{\"type\":\"string\"},\"uid\":{\"type\":\"string\"}}}",
     NULL},
    {META "DeleteOptions",
     "{\"description\":\"DeleteOptions may be sent with a delete.\",\"type\":\"object\","
     "\"properties\":{\"apiVersion\":{\"type\":\"string\"},\"dryRun\":{\"type\":\"array\","
     "\"items\":{\"type\":\"string\"}},\"gracePeriodSeconds\":{\"type\":\"integer\",\"format\":"
     "\"int64\"},\"kind\":{\"type\":\"string\"},\"orphanDependents\":{\"type\":\"boolean\"},"
     "\"preconditions\":{\"$ref\":\"@" META "Preconditions\"},\"propagationPolicy\":{\"type\":"
     "\"string\"}},\"x-kubernetes-group-version-kind\":[{\"group\":\"\",\"kind\":"
     "\"DeleteOptions\",\"version\":\"v1\"}]}", NULL},
    {META "Patch",
     "{\"description\":\"Patch is the body of a PATCH request, in the form its Content-Type "
     "names.\",\"type\":\"object\"}", NULL},
    {META "WatchEvent",
     "{\"description\":\"WatchEvent is one change seen by a watch.\",\"type\":\"object\","
     "\"required\":[\"type\",\"object\"],\"properties\":{\"object\":{\"type\":\"object\","
     "\"x-kubernetes-preserve-unknown-fields\":true},\"type\":{\"type\":\"string\"}},"
     "\"x-kubernetes-group-version-kind\":[{\"group\":\"\",\"kind\":\"WatchEvent\","
     "\"version\":\"v1\"}]}", NULL},
    {"io.k8s.api.autoscaling.v1.ScaleSpec",
     "{\"description\":\"ScaleSpec is the desired size of a scalable object.\",\"type\":"
     "\"object\",\"properties\":{\"replicas\":{\"type\":\"integer\",\"format\":\"int32\"}}}", NULL},
    {"io.k8s.api.autoscaling.v1.ScaleStatus",
     "{\"description\":\"ScaleStatus is the observed size of a scalable object.\",\"type\":"
     "\"object\",\"required\":[\"replicas\"],\"properties\":{\"replicas\":{\"type\":\"integer\","
     "\"format\":\"int32\"},\"selector\":{\"type\":\"string\"}}}", NULL},
    {"io.k8s.api.autoscaling.v1.Scale",
     "{\"description\":\"Scale is the scale subresource of a workload.\",\"type\":\"object\","
     "\"properties\":{\"apiVersion\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
     "\"metadata\":{\"$ref\":\"@" META "ObjectMeta\"},\"spec\":{\"$ref\":"
     "\"@io.k8s.api.autoscaling.v1.ScaleSpec\"},\"status\":{\"$ref\":"
     "\"@io.k8s.api.autoscaling.v1.ScaleStatus\"}},\"x-kubernetes-group-version-kind\":"
     "[{\"group\":\"autoscaling\",\"kind\":\"Scale\",\"version\":\"v1\"}]}", NULL},
};

static const char *ref_prefix(const struct api_oa_ctx *ctx)
{
    return ctx->version == API_OA_V3 ? "#/components/schemas/" : "#/definitions/";
}

static json_t *ref_to(struct api_oa_ctx *ctx, const char *name)
{
    char ref[NAME_MAX_LEN + 32];
    snprintf(ref, sizeof ref, "%s%s", ref_prefix(ctx), name);
    return json_pack("{s:s}", "$ref", ref);
}

static void fail(struct api_oa_ctx *ctx)
{
    if (ctx->err == 0) ctx->err = ORC_ENOMEM;
}

static void ensure_struct(struct api_oa_ctx *ctx, const struct oa_named *nm);

/* Rewrites "@X" references of a fixed type into the document's form,
 * adding X too. */
static void fix_refs(struct api_oa_ctx *ctx, json_t *v)
{
    const char *key;
    json_t *val;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, val) fix_refs(ctx, val);
        return;
    }
    if (!json_is_object(v)) return;
    json_object_foreach(v, key, val) {
        const char *s = json_string_value(val);
        if (strcmp(key, "$ref") == 0 && s && s[0] == '@') {
            json_t *r = api_oa_fixed_ref(ctx, s + 1);
            if (r == NULL) return;
            json_object_set(v, "$ref", json_object_get(r, "$ref"));
            json_decref(r);
        } else {
            fix_refs(ctx, val);
        }
    }
}

json_t *api_oa_fixed_ref(struct api_oa_ctx *ctx, const char *name)
{
    const struct oa_named *nm;

    if (ctx->err) return NULL;
    if (json_object_get(ctx->defs, name) == NULL) {
        for (size_t i = 0; i < ORC_ARRAY_LEN(fixed_types); i++) {
            const struct fixed_type *ft = &fixed_types[i];
            if (strcmp(ft->name, name) != 0) continue;
            json_t *s = json_loads(ctx->version == API_OA_V2 && ft->v2 ? ft->v2 : ft->v3, 0, NULL);
            if (s == NULL || json_object_set_new(ctx->defs, name, s) != 0) {
                fail(ctx);
                return NULL;
            }
            fix_refs(ctx, s);
            break;
        }
        /* A table type named like a Kubernetes one (ObjectMeta). */
        for (size_t i = 0; i < ctx->types->n && json_object_get(ctx->defs, name) == NULL; i++) {
            nm = &ctx->types->v[i];
            if (strcmp(nm->name, name) == 0) ensure_struct(ctx, nm);
        }
    }
    json_t *r = ref_to(ctx, name);
    if (r == NULL) fail(ctx);
    return ctx->err ? (json_decref(r), NULL) : r;
}

/* ---- fields ---- */

static const char *patch_strategy(unsigned patch)
{
    if ((patch & API_P_MERGE) && (patch & API_P_RETAIN)) return "merge,retainKeys";
    if (patch & API_P_MERGE) return "merge";
    if (patch & API_P_RETAIN) return "retainKeys";
    if (patch & ORC_SMP_REPLACE) return "replace";
    return NULL;
}

static json_t *free_schema(struct api_oa_ctx *ctx, const struct api_struct *patched, bool object);

static json_t *struct_ref(struct api_oa_ctx *ctx, const struct api_struct *st)
{
    const struct oa_named *nm = find_named(ctx->types, st);
    if (nm == NULL) return free_schema(ctx, st, true); /* not reachable from a kind */
    ensure_struct(ctx, nm);
    return ref_to(ctx, nm->name);
}

/* One value of `type`; obj gives an object's (or element's) fields. */
static json_t *value_schema(struct api_oa_ctx *ctx, unsigned type, const struct api_struct *obj)
{
    switch (type) {
    case API_T_STRING: return json_pack("{s:s}", "type", "string");
    case API_T_INT: return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
    case API_T_INT32: return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
    case API_T_BOOL: return json_pack("{s:s}", "type", "boolean");
    case API_T_NUMBER: return json_pack("{s:s, s:s}", "type", "number", "format", "double");
    case API_T_INTSTR: return api_oa_fixed_ref(ctx, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    case API_T_QUANTITY: return api_oa_fixed_ref(ctx, "io.k8s.apimachinery.pkg.api.resource.Quantity");
    case API_T_TIME: return api_oa_fixed_ref(ctx, META "Time");
    case API_T_OBJECT: return obj ? struct_ref(ctx, obj) : free_schema(ctx, NULL, true);
    default: return free_schema(ctx, obj, false); /* API_T_FREE */
    }
}

/* A value orc does not look into: any JSON (object: an object whose
 * fields are kept as sent), with the fields the tables give it a patch
 * strategy for (a status's conditions) described. */
static json_t *free_schema(struct api_oa_ctx *ctx, const struct api_struct *patched, bool object)
{
    json_t *s = json_object(), *props = NULL;

    if (s == NULL) return NULL;
    if (object || patched) json_object_set_new(s, "type", json_string("object"));
    json_object_set_new(s, "x-kubernetes-preserve-unknown-fields", json_true());
    /* v2 readers (kubectl's client-side validation) would take the
     * properties for all there is and refuse the rest of a status. */
    if (patched == NULL || patched->fields[0].name == NULL || ctx->version == API_OA_V2) return s;
    props = json_object();
    json_object_set_new(s, "properties", props);
    for (const struct api_field *f = patched->fields; f->name; f++) {
        json_t *p = NULL;
        if (f->type == API_T_ARRAY && f->item == API_T_FREE) {
            /* Merged lists are lists of objects. */
            json_t *items = free_schema(ctx, f->obj, f->merge_key != NULL);
            p = json_pack("{s:s, s:o}", "type", "array", "items", items);
            const char *ps = patch_strategy(f->patch);
            if (p && ps) json_object_set_new(p, "x-kubernetes-patch-strategy", json_string(ps));
            if (p && f->merge_key)
                json_object_set_new(p, "x-kubernetes-patch-merge-key", json_string(f->merge_key));
        } else {
            p = value_schema(ctx, f->type, f->obj);
        }
        if (p == NULL || json_object_set_new(props, f->name, p) != 0) fail(ctx);
    }
    return s;
}

/* Extensions and a description sit beside a $ref only through allOf in
 * v3 (as Kubernetes writes them); v2 puts them beside it. */
static json_t *decorate(struct api_oa_ctx *ctx, json_t *s, const char *doc, const struct api_field *f)
{
    const char *ps = f ? patch_strategy(f->patch) : NULL;
    const char *key = f ? f->merge_key : NULL;

    if (s == NULL || (!doc && !ps && !key)) return s;
    if (ctx->version == API_OA_V3 && json_object_get(s, "$ref")) {
        json_t *w = json_pack("{s:[o]}", "allOf", s);
        if (w == NULL) return NULL;
        s = w;
    }
    if (doc) json_object_set_new(s, "description", json_string(doc));
    if (ps) json_object_set_new(s, "x-kubernetes-patch-strategy", json_string(ps));
    if (key) json_object_set_new(s, "x-kubernetes-patch-merge-key", json_string(key));
    return s;
}

static json_t *field_schema(struct api_oa_ctx *ctx, const struct api_field *f, bool root)
{
    json_t *s;

    if (f->type == API_T_ARRAY || f->type == API_T_MAP) {
        bool merged_free = f->item == API_T_FREE && f->merge_key;
        json_t *item = merged_free ? free_schema(ctx, f->obj, true)
                                   : value_schema(ctx, f->item, f->obj);
        if (item == NULL) fail(ctx);
        s = f->type == API_T_ARRAY ? json_pack("{s:s, s:o*}", "type", "array", "items", item)
                                   : json_pack("{s:s, s:o*}", "type", "object",
                                               "additionalProperties", item);
    } else if (f->type == API_T_FREE) {
        s = free_schema(ctx, f->obj, f->obj != NULL);
    } else {
        s = value_schema(ctx, f->type, f->obj);
    }
    return decorate(ctx, s, api_oa_field_doc(f->name, root), f);
}

/* ---- object types ---- */

static json_t *gvk(const struct orc_kind *k, const char *suffix)
{
    char kind[96];
    snprintf(kind, sizeof kind, "%s%s", k->kind, suffix);
    return json_pack("[{s:s, s:s, s:s}]", "group", k->group, "kind", kind, "version", k->version);
}

static json_t *struct_schema(struct api_oa_ctx *ctx, const struct api_struct *st,
                             const struct orc_kind *k)
{
    json_t *s = json_pack("{s:s, s:{}}", "type", "object", "properties");
    json_t *props = json_object_get(s, "properties"), *req = json_array();
    const char *doc = api_oa_type_doc(k ? k->kind : st->name);
    char fallback[200];

    if (k && doc == NULL) { /* a kind added without a line above */
        snprintf(fallback, sizeof fallback, "%s is an object of %s.", k->kind,
                 orc_kind_api_version(k));
        doc = fallback;
    }
    if (s == NULL || req == NULL) {
        json_decref(s);
        json_decref(req);
        return NULL;
    }
    if (doc) json_object_set_new(s, "description", json_string(doc));
    for (const struct api_field *f = st->fields; f->name; f++) {
        json_t *p = field_schema(ctx, f, k != NULL);
        if (p == NULL || json_object_set_new(props, f->name, p) != 0) fail(ctx);
        if (f->flags & API_F_REQUIRED) json_array_append_new(req, json_string(f->name));
    }
    if (json_array_size(req) > 0) json_object_set(s, "required", req);
    json_decref(req);
    if (k) json_object_set_new(s, "x-kubernetes-group-version-kind", gvk(k, ""));
    return s;
}

/* Adds nm's schema to the document once (set before its fields are
 * walked, so a type met again is not walked twice). */
static void ensure_struct(struct api_oa_ctx *ctx, const struct oa_named *nm)
{
    if (ctx->err || json_object_get(ctx->defs, nm->name)) return;
    /* Twins share the first one's entry: a kind's root, named first. */
    nm = find_name(ctx->types, nm->name);
    json_t *placeholder = json_object();
    if (placeholder == NULL || json_object_set_new(ctx->defs, nm->name, placeholder) != 0) {
        fail(ctx);
        return;
    }
    json_t *s = struct_schema(ctx, nm->st, nm->kind);
    if (s == NULL || json_object_set_new(ctx->defs, nm->name, s) != 0) fail(ctx);
}

static json_t *list_schema(struct api_oa_ctx *ctx, const struct orc_kind *k, json_t *item_ref)
{
    char doc[160];
    snprintf(doc, sizeof doc, "%sList is a list of %s objects.", k->kind, k->kind);
    return json_pack("{s:s, s:s, s:[s], s:{s:{s:s}, s:{s:s}, s:o, s:{s:s, s:o}}, s:o}",
                     "description", doc, "type", "object", "required", "items", "properties",
                     "apiVersion", "type", "string", "kind", "type", "string", "metadata",
                     api_oa_fixed_ref(ctx, META "ListMeta"), "items", "type", "array", "items",
                     item_ref, "x-kubernetes-group-version-kind", gvk(k, "List"));
}

/* A kind without tables is a free object. */
static json_t *bare_kind_schema(const struct orc_kind *k)
{
    json_t *s = json_pack("{s:s, s:b, s:o}", "type", "object",
                          "x-kubernetes-preserve-unknown-fields", 1,
                          "x-kubernetes-group-version-kind", gvk(k, ""));
    const char *doc = api_oa_type_doc(k->kind);
    if (s) json_object_set_new(s, "description", json_string(doc ? doc : k->kind));
    return s;
}

static void kind_name(const struct orc_kind *k, bool list, char *out, size_t n)
{
    char pkg[64];
    group_package(k->group, pkg, sizeof pkg);
    snprintf(out, n, "io.k8s.api.%s.%s.%s%s", pkg, k->version, k->kind, list ? "List" : "");
}

json_t *api_oa_kind_ref(struct api_oa_ctx *ctx, const struct orc_kind *k, bool list)
{
    const struct api_struct *root = api_schema_root(k);
    const struct oa_named *nm = root ? find_named(ctx->types, root) : NULL;
    char name[NAME_MAX_LEN];

    if (ctx->err) return NULL;
    if (nm) snprintf(name, sizeof name, "%s", nm->name);
    else kind_name(k, false, name, sizeof name);
    if (nm) ensure_struct(ctx, nm);
    else if (json_object_get(ctx->defs, name) == NULL
             && json_object_set_new(ctx->defs, name, bare_kind_schema(k)) != 0)
        fail(ctx);
    if (list) {
        char lname[NAME_MAX_LEN];
        kind_name(k, true, lname, sizeof lname);
        if (json_object_get(ctx->defs, lname) == NULL) {
            json_t *ls = list_schema(ctx, k, ref_to(ctx, name));
            if (ls == NULL || json_object_set_new(ctx->defs, lname, ls) != 0) fail(ctx);
        }
        snprintf(name, sizeof name, "%s", lname);
    }
    json_t *r = ctx->err ? NULL : ref_to(ctx, name);
    if (r == NULL) fail(ctx);
    return r;
}
