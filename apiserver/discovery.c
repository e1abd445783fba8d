/* discovery.c — /api, /apis, /apis/{group} and the APIResourceLists, as
 * Kubernetes serves them, so stock clients (kubectl) find every resource. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/resmetrics.h"
#include "apiserver/server.h"
#include "lib/orc.h"

/* metrics.k8s.io/v1beta1 (metrics_api.c): served from memory, outside the
 * kind table, while this member collects. */
#define METRICS_GROUP "metrics.k8s.io"

static json_t *group_version(const char *group, const char *version)
{
    char gv[96];
    snprintf(gv, sizeof gv, "%s/%s", group, version);
    return json_pack("{s:s, s:s}", "groupVersion", gv, "version", version);
}

/* The group's versions, the stored (preferred) one first, then those
 * served_only rows add (autoscaling: v2, v1). */
static json_t *api_group(const char *group)
{
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);
    const char *seen[4], *preferred = "v1";
    size_t n = 0;
    json_t *versions = json_array();

    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nk; i++) {
            bool dup = false;
            if (strcmp(k[i].group, group) != 0 || orc_kind_served_only(&k[i]) != (pass == 1)) continue;
            for (size_t j = 0; j < n; j++) dup |= strcmp(seen[j], k[i].version) == 0;
            if (dup || n == ORC_ARRAY_LEN(seen)) continue;
            if (n == 0) preferred = k[i].version;
            seen[n++] = k[i].version;
            json_array_append_new(versions, group_version(group, k[i].version));
        }
    if (n == 0 && strcmp(group, METRICS_GROUP) == 0) preferred = "v1beta1";
    if (n == 0) json_array_append_new(versions, group_version(group, preferred)); /* reviews' and metrics' groups */
    return json_pack("{s:s, s:o, s:o}", "name", group, "versions", versions, "preferredVersion",
                     group_version(group, preferred));
}

/* authorization.k8s.io/v1: reviews, created and answered, never stored
 * (rbac_review.c), so outside the kind table. */
#define AUTHZ_GROUP "authorization.k8s.io"
static const struct {
    const char *resource, *singular, *kind;
    bool namespaced;
} reviews[] = {
    {"localsubjectaccessreviews", "localsubjectaccessreview", "LocalSubjectAccessReview", true},
    {"selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", false},
    {"selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview", false},
    {"subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", false},
};

static bool serves_version(const char *group, const char *version)
{
    size_t nk;
    if (strcmp(group, AUTHZ_GROUP) == 0) return strcmp(version, "v1") == 0;
    if (strcmp(group, METRICS_GROUP) == 0) return strcmp(version, "v1beta1") == 0;
    const struct orc_kind *k = orc_kinds(&nk);
    for (size_t i = 0; i < nk; i++)
        if (strcmp(k[i].group, group) == 0 && strcmp(k[i].version, version) == 0) return true;
    return false;
}

/* kube-apiserver's group priority (its /apis order), which kubectl follows
 * when it expands a category: `get all` lists apps' kinds, then
 * autoscaling's, then batch's. A group not named comes last. */
static size_t group_rank(const char *group)
{
    static const char *const order[] = {
        "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
        "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io",
        "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
        "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
        "discovery.k8s.io", "flowcontrol.apiserver.k8s.io", METRICS_GROUP,
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(order); i++)
        if (strcmp(order[i], group) == 0) return i;
    return ORC_ARRAY_LEN(order);
}

static int by_group_rank(const void *a, const void *b)
{
    size_t ra = group_rank(*(const char *const *)a), rb = group_rank(*(const char *const *)b);
    return ra < rb ? -1 : ra > rb;
}

/* Distinct non-core groups, in Kubernetes' order. */
static size_t groups(const struct api_server *s, const char **out, size_t max)
{
    size_t nk, n = 0;
    const struct orc_kind *k = orc_kinds(&nk);

    for (size_t i = 0; i < nk; i++) {
        bool seen = k[i].group[0] == '\0';
        for (size_t j = 0; j < n && !seen; j++) seen = strcmp(out[j], k[i].group) == 0;
        if (!seen && n < max) out[n++] = k[i].group;
    }
    if (n < max) out[n++] = AUTHZ_GROUP;
    if (n < max && api_mx_enabled(s)) out[n++] = METRICS_GROUP;
    qsort(out, n, sizeof *out, by_group_rank);
    return n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* The list's resources sorted by name (subresources after their
 * resource), as kube-apiserver lists them: kubectl's `get all` prints
 * pods, replicationcontrollers, services in that order. */
static json_t *sorted_by_name(json_t *list)
{
    size_t n = json_array_size(list);
    json_t **items = n ? malloc(n * sizeof *items) : NULL;

    if (n == 0 || items == NULL) {
        free(items);
        return list;
    }
    for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(list, i));
    qsort(items, n, sizeof *items, by_name);
    json_array_clear(list);
    for (size_t i = 0; i < n; i++) json_array_append_new(list, items[i]);
    free(items);
    return list;
}

static json_t *verbs(const char *const *v)
{
    json_t *a = json_array();
    for (; *v; v++) json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *resource(const char *name, const char *singular, bool namespaced, const char *kind,
                        const char *const *vs)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", singular,
                     "namespaced", namespaced, "kind", kind, "verbs", verbs(vs));
}

static void add_subresource(json_t *list, const struct orc_kind *k,
                            const struct api_subresource *sub)
{
    char name[96];
    snprintf(name, sizeof name, "%s/%s", k->resource, sub->name);
    json_t *r = resource(name, "", k->namespaced, sub->kind ? sub->kind : k->kind, sub->verbs);
    if (r && sub->group) {
        json_object_set_new(r, "group", json_string(sub->group));
        json_object_set_new(r, "version", json_string(sub->version));
    }
    json_array_append_new(list, r);
}

static json_t *resource_list(const char *group, const char *version)
{
    static const char *const all[] = {"create", "delete", "deletecollection", "get", "list",
                                      "patch", "update", "watch", NULL};
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);
    json_t *list = json_array();
    char gv[96];

    for (size_t i = 0; i < nk; i++) {
        if (strcmp(k[i].group, group) != 0 || strcmp(k[i].version, version) != 0) continue;
        json_t *r = resource(k[i].resource, k[i].singular, k[i].namespaced, k[i].kind, all);
        if (k[i].short_names[0]) {
            json_t *sn = json_array();
            for (int j = 0; j < 4 && k[i].short_names[j]; j++)
                json_array_append_new(sn, json_string(k[i].short_names[j]));
            json_object_set_new(r, "shortNames", sn);
        }
        if (orc_kind_in_category_all(&k[i]))
            json_object_set_new(r, "categories", json_pack("[s]", "all"));
        json_array_append_new(list, r);
        struct api_subresource subs[8];
        size_t ns = api_kind_subresources(api_kind_of(&k[i]), subs, ORC_ARRAY_LEN(subs));
        for (size_t j = 0; j < ns; j++)
            add_subresource(list, &k[i], &subs[j]);
    }
    static const char *const create[] = {"create", NULL};
    static const char *const get_list[] = {"get", "list", NULL};
    if (strcmp(group, METRICS_GROUP) == 0) {
        json_array_append_new(list, resource("nodes", "", false, "NodeMetrics", get_list));
        json_array_append_new(list, resource("pods", "", true, "PodMetrics", get_list));
    }
    for (size_t i = 0; strcmp(group, AUTHZ_GROUP) == 0 && i < ORC_ARRAY_LEN(reviews); i++)
        json_array_append_new(list, resource(reviews[i].resource, reviews[i].singular,
                                             reviews[i].namespaced, reviews[i].kind, create));
    if (group[0]) snprintf(gv, sizeof gv, "%s/%s", group, version);
    else snprintf(gv, sizeof gv, "%s", version);
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", sorted_by_name(list));
}

void api_handle_discovery(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    const char *gs[16];
    json_t *out = NULL;
    size_t ng = groups(s, gs, 16);

    if (r->method != HTTP_GET) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    switch (rt->type) {
    case ROUTE_API_VERSIONS:
        out = json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                        "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                        orc_httpd_req_header(r, "host") ? orc_httpd_req_header(r, "host") : "");
        break;
    case ROUTE_API_GROUPS: {
        json_t *list = json_array();
        for (size_t i = 0; i < ng; i++) json_array_append_new(list, api_group(gs[i]));
        out = json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                        list);
        break;
    }
    case ROUTE_API_GROUP:
        for (size_t i = 0; i < ng && out == NULL; i++) {
            if (strcmp(gs[i], rt->group) != 0) continue;
            out = api_group(gs[i]);
            json_object_set_new(out, "kind", json_string("APIGroup"));
            json_object_set_new(out, "apiVersion", json_string("v1"));
        }
        break;
    case ROUTE_RESOURCE_LIST:
        if (serves_version(rt->group, rt->version)
            && (strcmp(rt->group, METRICS_GROUP) != 0 || api_mx_enabled(s)))
            out = resource_list(rt->group, rt->version);
        break;
    default: break;
    }
    if (out == NULL) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                           "the server could not find the requested resource");
        return;
    }
    api_respond_json(r, 200, out);
    json_decref(out);
}
