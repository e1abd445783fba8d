/* openapi_paths.c — the paths of each kind and their operations, in v2 and
 * v3 form, with the extensions kubectl looks for: x-kubernetes-action and
 * x-kubernetes-group-version-kind on every operation, fieldValidation
 * among a PATCH's parameters (kubectl then leaves validation to the
 * server), the patch content types a PATCH takes. */
#include "apiserver/openapi.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/kind.h"
#include "lib/orc.h"

#define META "io.k8s.apimachinery.pkg.apis.meta.v1."

struct oa_param {
    const char *name;
    const char *type; /* "string", "boolean", "integer" */
    const char *doc;
};

static const struct oa_param query_params[] = {
    {"pretty", "string", "If 'true', the output is indented."},
    {"allowWatchBookmarks", "boolean", "With watch: ask for BOOKMARK events."},
    {"continue", "string", "The token of a previous page of a list, to get the next one."},
    {"fieldSelector", "string", "Only objects whose fields match (metadata.name=web)."},
    {"labelSelector", "string", "Only objects whose labels match (app=web,tier!=db)."},
    {"limit", "integer", "At most this many objects; the list then carries a continue token."},
    {"resourceVersion", "string", "Where a list or watch starts."},
    {"resourceVersionMatch", "string", "How resourceVersion applies to a list."},
    {"sendInitialEvents", "boolean", "With watch: start with the current objects."},
    {"timeoutSeconds", "integer", "Ends a list or watch after this many seconds."},
    {"watch", "boolean", "Stream changes (ADDED, MODIFIED, DELETED) instead of listing."},
    {"dryRun", "string", "All: run every check and answer, storing nothing."},
    {"fieldManager", "string", "The name of the actor making the change."},
    {"fieldValidation", "string",
     "What the server does with unknown or duplicate fields: Ignore drops them, Warn drops "
     "them with a warning, Strict refuses the request."},
    {"force", "boolean", "Apply requests only: take over fields others manage."},
    {"gracePeriodSeconds", "integer", "Seconds before the object is deleted; 0: at once."},
    {"orphanDependents", "boolean", "Deprecated: use propagationPolicy."},
    {"propagationPolicy", "string", "Orphan, Background or Foreground: what becomes of dependents."},
};

static const char *const list_params[] = {"allowWatchBookmarks", "continue", "fieldSelector",
                                          "labelSelector", "limit", "resourceVersion",
                                          "resourceVersionMatch", "sendInitialEvents",
                                          "timeoutSeconds", "watch", NULL};
static const char *const write_params[] = {"dryRun", "fieldManager", "fieldValidation", NULL};
static const char *const patch_params[] = {"dryRun", "fieldManager", "fieldValidation", "force",
                                           NULL};
static const char *const delete_params[] = {"dryRun", "gracePeriodSeconds", "orphanDependents",
                                            "propagationPolicy", NULL};
static const char *const delcoll_params[] = {"continue", "dryRun", "fieldSelector",
                                             "gracePeriodSeconds", "labelSelector", "limit",
                                             "orphanDependents", "propagationPolicy",
                                             "resourceVersion", "resourceVersionMatch",
                                             "sendInitialEvents", "timeoutSeconds", NULL};

static const char *const patch_types[] = {"application/json-patch+json",
                                          "application/merge-patch+json",
                                          "application/strategic-merge-patch+json",
                                          "application/apply-patch+yaml", NULL};

static json_t *param(enum api_oa_version v, const char *name, const char *in, const char *type,
                     const char *doc, bool required)
{
    json_t *p = json_pack("{s:s, s:s, s:s}", "name", name, "in", in, "description", doc);
    if (p == NULL) return NULL;
    if (required) json_object_set_new(p, "required", json_true());
    if (v == API_OA_V3) {
        json_object_set_new(p, "schema", json_pack("{s:s, s:b}", "type", type, "uniqueItems", 1));
    } else {
        json_object_set_new(p, "type", json_string(type));
        json_object_set_new(p, "uniqueItems", json_true());
    }
    return p;
}

static json_t *query_param(enum api_oa_version v, const char *name)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(query_params); i++)
        if (strcmp(query_params[i].name, name) == 0)
            return param(v, name, "query", query_params[i].type, query_params[i].doc, false);
    return NULL;
}

static json_t *query_params_of(enum api_oa_version v, const char *const *names)
{
    json_t *a = json_array();
    for (; a && names && *names; names++) json_array_append_new(a, query_param(v, *names));
    return a;
}

/* ---- what an operation is about ---- */

enum oa_body { BODY_NONE, BODY_OBJECT, BODY_PATCH, BODY_DELETE };
enum oa_resp { RESP_OBJECT, RESP_LIST, RESP_STATUS };

struct oa_target {
    const struct orc_kind *k;
    bool scale;            /* the autoscaling/v1 Scale of k */
    const char *id_suffix; /* "Status", "Scale", "ForAllNamespaces" */
    bool namespaced_path;
};

struct oa_op {
    const char *method; /* "get" */
    const char *action; /* x-kubernetes-action */
    const char *verb;   /* operationId's first word */
    const char *doc;    /* "%s" is the kind */
    const char *const *params;
    enum oa_body body;
    enum oa_resp resp;
    const char *codes;  /* "200,201" */
};

static void operation_id(const struct oa_target *t, const char *verb, char *out, size_t n)
{
    char group[64];
    size_t len = strcspn(t->k->group, ".");

    if (len == 0) snprintf(group, sizeof group, "Core");
    else snprintf(group, sizeof group, "%.*s", (int)len, t->k->group);
    group[0] = (char)toupper((unsigned char)group[0]);
    snprintf(out, n, "%s%s%c%s%s%s%s", verb, group, toupper((unsigned char)t->k->version[0]),
             t->k->version + 1, t->namespaced_path ? "Namespaced" : "", t->k->kind,
             t->id_suffix ? t->id_suffix : "");
}

static json_t *target_ref(struct api_oa_ctx *ctx, const struct oa_target *t, bool list)
{
    if (t->scale) return api_oa_fixed_ref(ctx, "io.k8s.api.autoscaling.v1.Scale");
    return api_oa_kind_ref(ctx, t->k, list);
}

static json_t *target_gvk(const struct oa_target *t)
{
    if (t->scale)
        return json_pack("{s:s, s:s, s:s}", "group", "autoscaling", "kind", "Scale", "version", "v1");
    return json_pack("{s:s, s:s, s:s}", "group", t->k->group, "kind", t->k->kind, "version",
                     t->k->version);
}

/* {"application/json": {"schema": ref}, ...} (v3). */
static json_t *content(const char *const *types, json_t *ref)
{
    json_t *c = json_object();
    for (; c && ref && *types; types++)
        json_object_set_new(c, *types, json_pack("{s:O}", "schema", ref));
    json_decref(ref);
    return c;
}

static const char *const json_yaml[] = {"application/json", "application/yaml", NULL};

static json_t *body_ref(struct api_oa_ctx *ctx, const struct oa_target *t, enum oa_body b)
{
    if (b == BODY_PATCH) return api_oa_fixed_ref(ctx, META "Patch");
    if (b == BODY_DELETE) return api_oa_fixed_ref(ctx, META "DeleteOptions");
    return target_ref(ctx, t, false);
}

static json_t *response_ref(struct api_oa_ctx *ctx, const struct oa_target *t, enum oa_resp r)
{
    if (r == RESP_STATUS) return api_oa_fixed_ref(ctx, META "Status");
    return target_ref(ctx, t, r == RESP_LIST);
}

static const char *code_text(const char *code)
{
    if (strcmp(code, "201") == 0) return "Created";
    if (strcmp(code, "202") == 0) return "Accepted";
    return "OK";
}

static json_t *responses(struct api_oa_ctx *ctx, const struct oa_target *t, const struct oa_op *op)
{
    json_t *rs = json_object();
    char codes[32];
    char *save = NULL;

    snprintf(codes, sizeof codes, "%s", op->codes);
    for (char *c = strtok_r(codes, ",", &save); rs && c; c = strtok_r(NULL, ",", &save)) {
        json_t *ref = response_ref(ctx, t, op->resp), *r;
        if (ctx->version == API_OA_V3)
            r = json_pack("{s:s, s:o}", "description", code_text(c), "content", content(json_yaml, ref));
        else
            r = json_pack("{s:s, s:o}", "description", code_text(c), "schema", ref);
        json_object_set_new(rs, c, r);
    }
    json_object_set_new(rs, "401", json_pack("{s:s}", "description", "Unauthorized"));
    return rs;
}

/* The request body: requestBody (v3) or a body parameter (v2). */
static void add_body(struct api_oa_ctx *ctx, const struct oa_target *t, const struct oa_op *op,
                     json_t *o, json_t *params)
{
    json_t *ref = body_ref(ctx, t, op->body);
    const char *const *types = op->body == BODY_PATCH ? patch_types : json_yaml;

    if (ctx->version == API_OA_V3) {
        json_t *rb = json_pack("{s:o}", "content", content(types, ref));
        if (rb && op->body != BODY_DELETE) json_object_set_new(rb, "required", json_true());
        json_object_set_new(o, "requestBody", rb);
        return;
    }
    json_t *p = json_pack("{s:s, s:s, s:o}", "name", "body", "in", "body", "schema", ref);
    if (p && op->body != BODY_DELETE) json_object_set_new(p, "required", json_true());
    json_array_insert_new(params, 0, p);
    json_t *consumes = json_array();
    for (; consumes && *types; types++) json_array_append_new(consumes, json_string(*types));
    json_object_set_new(o, "consumes", consumes);
}

static json_t *operation(struct api_oa_ctx *ctx, const struct oa_target *t, const struct oa_op *op)
{
    char id[160], doc[200], tag[64];
    size_t len = strcspn(t->k->group, ".");
    json_t *o, *params = query_params_of(ctx->version, op->params);

    operation_id(t, op->verb, id, sizeof id);
    snprintf(doc, sizeof doc, op->doc, t->scale ? "Scale" : t->k->kind);
    if (len == 0) snprintf(tag, sizeof tag, "core_%s", t->k->version);
    else snprintf(tag, sizeof tag, "%.*s_%s", (int)len, t->k->group, t->k->version);
    o = json_pack("{s:s, s:s, s:[s]}", "description", doc, "operationId", id, "tags", tag);
    if (o == NULL || params == NULL) {
        json_decref(o);
        json_decref(params);
        return NULL;
    }
    if (op->body != BODY_NONE) add_body(ctx, t, op, o, params);
    if (ctx->version == API_OA_V2) {
        json_object_set_new(o, "produces", json_pack("[s, s]", "application/json", "application/yaml"));
        json_object_set_new(o, "schemes", json_pack("[s]", "https"));
        if (op->body == BODY_NONE) json_object_set_new(o, "consumes", json_pack("[s]", "*/*"));
    }
    json_object_set_new(o, "parameters", params);
    json_object_set_new(o, "responses", responses(ctx, t, op));
    json_object_set_new(o, "x-kubernetes-action", json_string(op->action));
    json_object_set_new(o, "x-kubernetes-group-version-kind", target_gvk(t));
    return o;
}

/* ---- paths ---- */

static const struct oa_op collection_ops[] = {
    {"get", "list", "list", "list or watch objects of kind %s", list_params, BODY_NONE, RESP_LIST, "200"},
    {"post", "post", "create", "create a %s", write_params, BODY_OBJECT, RESP_OBJECT, "200,201,202"},
    {"delete", "deletecollection", "deleteCollection", "delete a collection of %s",
     delcoll_params, BODY_DELETE, RESP_STATUS, "200"},
};
static const struct oa_op object_ops[] = {
    {"get", "get", "read", "read the specified %s", NULL, BODY_NONE, RESP_OBJECT, "200"},
    {"put", "put", "replace", "replace the specified %s", write_params, BODY_OBJECT, RESP_OBJECT, "200,201"},
    {"patch", "patch", "patch", "partially update the specified %s", patch_params, BODY_PATCH,
     RESP_OBJECT, "200,201"},
    {"delete", "delete", "delete", "delete a %s", delete_params, BODY_DELETE, RESP_OBJECT, "200,202"},
};
static const struct oa_op sub_ops[] = {
    {"get", "get", "read", "read the subresource of the specified %s", NULL, BODY_NONE, RESP_OBJECT, "200"},
    {"put", "put", "replace", "replace the subresource of the specified %s", write_params,
     BODY_OBJECT, RESP_OBJECT, "200,201"},
    {"patch", "patch", "patch", "partially update the subresource of the specified %s",
     patch_params, BODY_PATCH, RESP_OBJECT, "200,201"},
};
static const struct oa_op all_ns_ops[] = {
    {"get", "list", "list", "list or watch objects of kind %s", list_params, BODY_NONE, RESP_LIST, "200"},
};

static json_t *path_param(enum api_oa_version v, const char *name)
{
    const char *doc = strcmp(name, "namespace") == 0 ? "the object's namespace"
                                                     : "the name of the object";
    return param(v, name, "path", "string", doc, true);
}

static void add_path(struct api_oa_ctx *ctx, json_t *paths, const char *path,
                     const struct oa_target *t, const struct oa_op *ops, size_t n, bool name)
{
    json_t *item = json_object(), *params = json_array();

    if (item == NULL || params == NULL) {
        json_decref(item);
        json_decref(params);
        ctx->err = ORC_ENOMEM;
        return;
    }
    if (name) json_array_append_new(params, path_param(ctx->version, "name"));
    if (t->namespaced_path) json_array_append_new(params, path_param(ctx->version, "namespace"));
    json_array_append_new(params, query_param(ctx->version, "pretty"));
    json_object_set_new(item, "parameters", params);
    for (size_t i = 0; i < n; i++) {
        json_t *o = operation(ctx, t, &ops[i]);
        if (o == NULL) ctx->err = ORC_ENOMEM;
        else json_object_set_new(item, ops[i].method, o);
    }
    if (json_object_set_new(paths, path, item) != 0) ctx->err = ORC_ENOMEM;
}

void api_oa_add_paths(struct api_oa_ctx *ctx, const struct orc_kind *k, json_t *paths)
{
    char base[128], coll[256], obj[300], sub[320];
    struct oa_target t = {.k = k, .namespaced_path = k->namespaced};
    struct api_subresource subs[8];
    size_t ns = api_kind_subresources(api_kind_of(k), subs, ORC_ARRAY_LEN(subs));

    if (k->group[0]) snprintf(base, sizeof base, "/apis/%s/%s", k->group, k->version);
    else snprintf(base, sizeof base, "/api/%s", k->version);
    snprintf(coll, sizeof coll, "%s%s/%s", base, k->namespaced ? "/namespaces/{namespace}" : "",
             k->resource);
    snprintf(obj, sizeof obj, "%s/{name}", coll);
    add_path(ctx, paths, coll, &t, collection_ops, ORC_ARRAY_LEN(collection_ops), false);
    add_path(ctx, paths, obj, &t, object_ops, ORC_ARRAY_LEN(object_ops), true);
    for (size_t i = 0; i < ns; i++) {
        bool status = strcmp(subs[i].name, "status") == 0, scale = strcmp(subs[i].name, "scale") == 0;
        if (!status && !scale) continue; /* connect-like subresources are not described */
        struct oa_target st = t;
        st.scale = scale;
        st.id_suffix = status ? "Status" : "Scale";
        snprintf(sub, sizeof sub, "%s/%s", obj, subs[i].name);
        add_path(ctx, paths, sub, &st, sub_ops, ORC_ARRAY_LEN(sub_ops), true);
    }
    if (k->namespaced) {
        struct oa_target at = {.k = k, .id_suffix = "ForAllNamespaces"};
        snprintf(coll, sizeof coll, "%s/%s", base, k->resource);
        add_path(ctx, paths, coll, &at, all_ns_ops, ORC_ARRAY_LEN(all_ns_ops), false);
    }
}
