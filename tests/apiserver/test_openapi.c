/* test_openapi.c — the OpenAPI documents built from the schema tables:
 * every document parses and references only schemas it defines, every
 * kind is described with its group-version-kind, its PATCH operation
 * takes fieldValidation and strategic merge patches (what kubectl checks
 * before leaving validation to the server), and the fields carry the
 * types, required lists and patch strategies of the tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/openapi.h"
#include "apiserver/server.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static void free_docs(void *o) { api_openapi_free(o); }
static void free_json(void *j) { json_decref(j); }

static struct api_openapi *docs(void)
{
    struct api_openapi *o = NULL;
    CHECK_INT(api_openapi_build(&o), ==, 0);
    test_defer(free_docs, o);
    return o;
}

static json_t *load(const struct api_openapi *o, enum api_oa_version v, const char *gv)
{
    const char *data, *etag;
    size_t len;
    json_error_t e;

    CHECKF(api_openapi_doc(o, v, gv, false, &data, &len, &etag) == 0, "no document %s", gv ? gv : "(root)");
    CHECK_INT(strlen(etag), ==, 128);
    json_t *j = json_loadb(data, len, 0, &e);
    CHECKF(j != NULL, "%s: %s", gv ? gv : "(root)", e.text);
    test_defer(free_json, j);
    return j;
}

/* Every "$ref" under v names a key of defs; counts them. */
static size_t check_refs(const json_t *v, const json_t *defs, const char *prefix)
{
    const char *key;
    json_t *val;
    size_t i, n = 0;

    if (json_is_array(v)) {
        json_array_foreach(v, i, val) n += check_refs(val, defs, prefix);
        return n;
    }
    if (!json_is_object(v)) return 0;
    json_object_foreach((json_t *)v, key, val) {
        if (strcmp(key, "$ref") == 0) {
            const char *ref = json_string_value(val);
            CHECKF(ref && strncmp(ref, prefix, strlen(prefix)) == 0, "bad $ref %s", ref ? ref : "?");
            CHECKF(json_object_get(defs, ref + strlen(prefix)) != NULL, "undefined $ref %s", ref);
            n++;
        } else {
            n += check_refs(val, defs, prefix);
        }
    }
    return n;
}

static const json_t *schemas(const json_t *doc)
{
    return json_object_get(json_object_get(doc, "components"), "schemas");
}

/* A property's schema seen through allOf and $ref, as kubectl resolves it. */
static const json_t *resolve(const json_t *doc, const json_t *s)
{
    const json_t *all = json_object_get(s, "allOf");
    if (json_array_size(all) > 0) s = json_array_get(all, 0);
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref) s = json_object_get(schemas(doc), ref + strlen("#/components/schemas/"));
    CHECKF(s != NULL, "unresolved %s", ref ? ref : "schema");
    return s;
}

/* The schema of the field at a dotted path below a component, walking
 * into list elements; returns the unresolved property schema. */
static const json_t *field(const json_t *doc, const char *type, const char *path)
{
    const json_t *s = json_object_get(schemas(doc), type), *p = NULL;
    char buf[256], *save = NULL;

    CHECKF(s != NULL, "no schema %s", type);
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        if (p) {
            s = resolve(doc, p);
            if (json_object_get(s, "items")) s = resolve(doc, json_object_get(s, "items"));
        }
        p = json_object_get(json_object_get(s, "properties"), k);
        CHECKF(p != NULL, "%s: no field %s in %s", type, k, path);
    }
    return p;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

TEST(v3_documents_parse_and_reference_only_defined_schemas)
{
    struct api_openapi *o = docs();
    json_t *root = load(o, API_OA_V3, NULL), *item;
    const char *gv;
    size_t n = 0;

    json_object_foreach(json_object_get(root, "paths"), gv, item) {
        char want[300];
        const char *data, *etag;
        size_t len;
        CHECK_INT(api_openapi_doc(o, API_OA_V3, gv, false, &data, &len, &etag), ==, 0);
        snprintf(want, sizeof want, "/openapi/v3/%s?hash=%s", gv, etag);
        CHECK_STR(str(item, "serverRelativeURL"), want);
        json_t *doc = load(o, API_OA_V3, gv);
        CHECK_STR(str(doc, "openapi"), "3.0.0");
        CHECKF(check_refs(doc, schemas(doc), "#/components/schemas/") > 10, "%s: few refs", gv);
        n++;
    }
    /* One document per group-version of the kind table. */
    size_t nk, gvs = 0;
    const struct orc_kind *k = orc_kinds(&nk);
    for (size_t i = 0; i < nk; i++) {
        size_t j = 0;
        while (j < i && !(strcmp(k[j].group, k[i].group) == 0 && strcmp(k[j].version, k[i].version) == 0)) j++;
        gvs += j == i;
    }
    CHECK_INT(n, ==, gvs);
    CHECK_INT(api_openapi_doc(o, API_OA_V3, "apis/nosuch/v1", false, &gv, &n, &gv), ==, ORC_ENOENT);
}

TEST(v2_document_parses_and_references_only_defined_definitions)
{
    json_t *doc = load(docs(), API_OA_V2, NULL);
    CHECK_STR(str(doc, "swagger"), "2.0");
    CHECK(check_refs(doc, json_object_get(doc, "definitions"), "#/definitions/") > 100);
    json_t *patch = json_object_get(
        json_object_get(json_object_get(doc, "paths"), "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"),
        "patch");
    CHECK(patch != NULL);
    CHECK_STR(str(json_object_get(patch, "x-kubernetes-group-version-kind"), "kind"), "Deployment");
    char *consumes = json_dumps(json_object_get(patch, "consumes"), 0);
    CHECKF(strstr(consumes, "application/strategic-merge-patch+json") != NULL, "%s", consumes);
    free(consumes);
    json_t *pod = json_object_get(json_object_get(doc, "definitions"), "io.k8s.api.core.v1.Pod");
    CHECK_STR(str(json_object_get(json_object_get(pod, "properties"), "spec"), "$ref"),
              "#/definitions/io.k8s.api.core.v1.PodSpec");
}

/* kubectl (query_param_verifier_v3.go) looks for a PATCH operation with
 * the kind's group-version-kind and a fieldValidation parameter; its
 * apply (patcher.go) for application/strategic-merge-patch+json. */
static void check_patch_op(const json_t *doc, const struct orc_kind *k, const char *path)
{
    const json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), path), "patch");
    const json_t *gvk = json_object_get(op, "x-kubernetes-group-version-kind"), *p;
    bool fv = false;
    size_t i;

    CHECKF(op != NULL, "no PATCH %s", path);
    CHECK_STR(str(gvk, "kind"), k->kind);
    CHECK_STR(str(gvk, "group"), k->group);
    CHECK_STR(str(gvk, "version"), k->version);
    CHECK_STR(str(op, "x-kubernetes-action"), "patch");
    json_array_foreach(json_object_get(op, "parameters"), i, p) fv |= strcmp(str(p, "name"), "fieldValidation") == 0;
    CHECKF(fv, "PATCH %s: no fieldValidation parameter", path);
    CHECK(json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"),
                          "application/strategic-merge-patch+json") != NULL);
}

TEST(every_kind_has_a_schema_and_a_patch_operation_with_field_validation)
{
    struct api_openapi *o = docs();
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);

    for (size_t i = 0; i < nk; i++) {
        char gv[96], path[300], name[200];
        if (k[i].group[0]) snprintf(gv, sizeof gv, "apis/%s/%s", k[i].group, k[i].version);
        else snprintf(gv, sizeof gv, "api/%s", k[i].version);
        json_t *doc = load(o, API_OA_V3, gv);
        snprintf(path, sizeof path, "/%s%s/%s/{name}", gv, k[i].namespaced ? "/namespaces/{namespace}" : "",
                 k[i].resource);
        check_patch_op(doc, &k[i], path);
        if (k[i].has_status) {
            strcat(path, "/status");
            check_patch_op(doc, &k[i], path);
        }
        bool found = false;
        const char *key;
        json_t *s;
        json_object_foreach((json_t *)schemas(doc), key, s) {
            json_t *g = json_array_get(json_object_get(s, "x-kubernetes-group-version-kind"), 0);
            if (strcmp(str(g, "kind"), k[i].kind) != 0 || strcmp(str(g, "group"), k[i].group) != 0)
                continue;
            found = true;
            snprintf(name, sizeof name, "%s", key);
            CHECKF(strlen(str(s, "description")) > 10, "%s: no description", key);
        }
        CHECKF(found, "%s: no schema with its group-version-kind in %s", k[i].kind, gv);
    }
}

TEST(fields_carry_the_tables_types_and_patch_strategies)
{
    json_t *core = load(docs(), API_OA_V3, "api/v1");
    json_t *apps = load(docs(), API_OA_V3, "apis/apps/v1");
    const char *pod = "io.k8s.api.core.v1.Pod", *dep = "io.k8s.api.apps.v1.Deployment";
    const json_t *f;

    f = field(core, pod, "spec.containers");
    CHECK_STR(str(f, "x-kubernetes-patch-strategy"), "merge");
    CHECK_STR(str(f, "x-kubernetes-patch-merge-key"), "name");
    CHECK_STR(str(f, "type"), "array");
    f = field(core, pod, "spec.containers.ports.containerPort");
    CHECK_STR(str(f, "format"), "int32");
    f = field(core, pod, "metadata.generation");
    CHECK_STR(str(f, "format"), "int64");
    f = field(core, pod, "metadata.creationTimestamp");
    CHECK_STR(str(resolve(core, f), "format"), "date-time");
    f = field(core, pod, "spec.containers.resources.limits");
    CHECK_STR(str(json_object_get(f, "additionalProperties"), "$ref"),
              "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity");
    f = field(core, "io.k8s.api.core.v1.Service", "spec.ports.targetPort");
    CHECK(json_is_true(json_object_get(resolve(core, f), "x-kubernetes-int-or-string")));
    /* An object field: a $ref wrapped in allOf beside its description. */
    f = field(core, pod, "spec");
    CHECK_STR(str(json_array_get(json_object_get(f, "allOf"), 0), "$ref"),
              "#/components/schemas/io.k8s.api.core.v1.PodSpec");
    CHECK(strlen(str(f, "description")) > 0);
    /* Required fields. */
    char *req = json_dumps(json_object_get(resolve(core, json_object_get(field(core, pod, "spec.containers"), "items")), "required"), 0);
    CHECKF(req && strstr(req, "\"name\""), "%s", req ? req : "none");
    free(req);
    /* Statuses are free: nothing claims more than orc checks. */
    f = field(apps, dep, "status");
    CHECK_STR(str(f, "type"), "object");
    CHECK(json_is_true(json_object_get(f, "x-kubernetes-preserve-unknown-fields")));
    f = field(apps, dep, "status.conditions");
    CHECK_STR(str(f, "x-kubernetes-patch-merge-key"), "type");
    f = field(apps, dep, "spec.strategy");
    CHECK_STR(str(f, "x-kubernetes-patch-strategy"), "retainKeys");
    /* The Deployment's scale subresource is an autoscaling/v1 Scale. */
    const json_t *op = json_object_get(
        json_object_get(json_object_get(apps, "paths"),
                        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"), "put");
    CHECK_STR(str(json_object_get(op, "x-kubernetes-group-version-kind"), "kind"), "Scale");
    CHECK(json_object_get(schemas(apps), "io.k8s.api.autoscaling.v1.Scale") != NULL);
    /* The list: GET on the collection. */
    op = json_object_get(json_object_get(json_object_get(apps, "paths"), "/apis/apps/v1/deployments"), "get");
    CHECK_STR(str(op, "x-kubernetes-action"), "list");
    CHECK(json_object_get(schemas(apps), "io.k8s.api.apps.v1.DeploymentList") != NULL);
}

/* The v2 document in protobuf: gnostic's Document, field by field as the
 * JSON says (swagger = 1, definitions = 9 holding Pod's schema). */
TEST(v2_protobuf_carries_the_definitions)
{
    struct api_openapi *o = docs();
    const char *data, *etag, *json, *jetag;
    size_t len, jlen;

    CHECK_INT(api_openapi_doc(o, API_OA_V2, NULL, true, &data, &len, &etag), ==, 0);
    CHECK_INT(api_openapi_doc(o, API_OA_V2, NULL, false, &json, &jlen, &jetag), ==, 0);
    CHECK(len > 10000 && len < jlen);
    CHECK(memcmp(data, "\x0a\x03" "2.0", 5) == 0);
    CHECK(strcmp(etag, jetag) != 0);
    CHECK(memmem(data, len, "io.k8s.api.core.v1.Pod", 22) != NULL);
    CHECK(memmem(data, len, "x-kubernetes-group-version-kind", 31) != NULL);
    CHECK_INT(api_openapi_doc(o, API_OA_V3, "api/v1", true, &data, &len, &etag), ==, ORC_ENOENT);
}

TEST(openapi_paths_route)
{
    struct api_route rt;

    CHECK_INT(api_route_parse("/openapi/v2", &rt), ==, 0);
    CHECK_INT(rt.type, ==, ROUTE_OPENAPI_V2);
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/openapi/v3", &rt), ==, 0);
    CHECK_INT(rt.type, ==, ROUTE_OPENAPI_V3);
    CHECK_STR(rt.version, "");
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/openapi/v3/api/v1", &rt), ==, 0);
    CHECK_STR(rt.group, "");
    CHECK_STR(rt.version, "v1");
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/openapi/v3/apis/apps/v1?hash=AB12", &rt), ==, 0);
    CHECK_INT(rt.type, ==, ROUTE_OPENAPI_V3);
    CHECK_STR(rt.group, "apps");
    CHECK_STR(rt.version, "v1");
    CHECK_STR(api_query_get(&rt, "hash"), "AB12");
    api_route_clear(&rt);
    const char *const unknown[] = {"/openapi/v4", "/openapi/v3/apis/apps", "/openapi/v3/api",
                                   "/openapi/v2/x", "/openapi/v3/apis/apps/v1/x", NULL};
    for (int i = 0; unknown[i]; i++) {
        CHECKF(api_route_parse(unknown[i], &rt) == ORC_ENOENT, "%s", unknown[i]);
        api_route_clear(&rt);
    }
}
