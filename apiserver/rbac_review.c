/* rbac_review.c — authorization.k8s.io/v1 reviews, answered from the RBAC
 * cache and stored nowhere: SelfSubjectAccessReview (`kubectl auth can-i`),
 * SubjectAccessReview and LocalSubjectAccessReview (asking for someone
 * else), SelfSubjectRulesReview (`kubectl auth can-i --list`). Each is a
 * create; the request itself was authorized (verb create on the review
 * resource) before it got here. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/orc.h"

#define AUTHZ_PREFIX "/apis/authorization.k8s.io/v1/"

enum review { R_NONE, R_SELF, R_SUBJECT, R_LOCAL, R_RULES };

static enum review review_of(const char *target, char *ns, size_t nn)
{
    size_t plen = strcspn(target, "?");
    const char *p = target + strlen(AUTHZ_PREFIX);
    static const struct {
        const char *res;
        enum review r;
    } tab[] = {{"selfsubjectaccessreviews", R_SELF},
               {"subjectaccessreviews", R_SUBJECT},
               {"selfsubjectrulesreviews", R_RULES}};

    if (plen <= strlen(AUTHZ_PREFIX) || strncmp(target, AUTHZ_PREFIX, strlen(AUTHZ_PREFIX)) != 0)
        return R_NONE;
    size_t rest = plen - strlen(AUTHZ_PREFIX);
    for (size_t i = 0; i < ORC_ARRAY_LEN(tab); i++)
        if (rest == strlen(tab[i].res) && strncmp(p, tab[i].res, rest) == 0) return tab[i].r;
    static const char lsar[] = "/localsubjectaccessreviews";
    if (strncmp(p, "namespaces/", 11) == 0 && rest > 11 + sizeof lsar - 1
        && strncmp(p + rest - (sizeof lsar - 1), lsar, sizeof lsar - 1) == 0) {
        size_t l = rest - 11 - (sizeof lsar - 1);
        if (l == 0 || l >= nn || memchr(p + 11, '/', l)) return R_NONE;
        snprintf(ns, nn, "%.*s", (int)l, p + 11);
        return R_LOCAL;
    }
    return R_NONE;
}

bool api_review_route(const char *target)
{
    char ns[256];
    return review_of(target, ns, sizeof ns) != R_NONE;
}

static const char *str(const json_t *o, const char *path)
{
    const char *v = orc_json_str(o, path);
    return v ? v : "";
}

static void invalid(struct orc_httpd_req *r, const char *kind, const char *msg)
{
    api_respond_status(r, 422, "Invalid", NULL, NULL, NULL, "%s.authorization.k8s.io \"\" is invalid: %s",
                       kind, msg);
}

/* The attributes a review's spec asks about; false (answered 422) when
 * it names both or neither kind of attributes. */
static bool spec_attrs(struct orc_httpd_req *r, const char *kind, const json_t *spec,
                       struct rbac_attrs *a)
{
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    const json_t *na = json_object_get(spec, "nonResourceAttributes");

    memset(a, 0, sizeof *a);
    if ((ra && na) || (!ra && !na)) {
        invalid(r, kind, "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                         "nonResourceAttributes or resourceAttributes must be specified");
        return false;
    }
    if (na) {
        snprintf(a->verb, sizeof a->verb, "%s", str(na, "verb"));
        snprintf(a->path, sizeof a->path, "%s", str(na, "path"));
        return true;
    }
    a->resource_request = true;
    snprintf(a->verb, sizeof a->verb, "%s", str(ra, "verb"));
    snprintf(a->group, sizeof a->group, "%s", str(ra, "group"));
    snprintf(a->version, sizeof a->version, "%s", str(ra, "version"));
    snprintf(a->resource, sizeof a->resource, "%s", str(ra, "resource"));
    snprintf(a->sub, sizeof a->sub, "%s", str(ra, "subresource"));
    snprintf(a->ns, sizeof a->ns, "%s", str(ra, "namespace"));
    snprintf(a->name, sizeof a->name, "%s", str(ra, "name"));
    return true;
}

/* The user a SubjectAccessReview names (strings borrowed from spec). */
struct spec_user {
    struct api_user u;
    char *groups[64];
};

static void user_from_spec(const json_t *spec, struct spec_user *su)
{
    size_t i;
    json_t *g;

    memset(su, 0, sizeof *su);
    su->u.name = (char *)str(spec, "user");
    su->u.groups = su->groups;
    json_array_foreach(json_object_get(spec, "groups"), i, g)
        if (json_string_value(g) && su->u.n_groups < ORC_ARRAY_LEN(su->groups))
            su->groups[su->u.n_groups++] = (char *)json_string_value(g);
}

static void answer(struct orc_httpd_req *r, json_t *body, json_t *status)
{
    json_object_set_new(body, "status", status);
    if (!json_is_object(json_object_get(body, "metadata")))
        json_object_set_new(body, "metadata", json_object());
    json_object_set_new(json_object_get(body, "metadata"), "creationTimestamp", json_null());
    api_respond_json(r, 201, body);
}

static void access_review(struct api_server *s, struct orc_httpd_req *r, json_t *body,
                          enum review kind, const char *path_ns)
{
    static const char *const names[] = {"", "SelfSubjectAccessReview", "SubjectAccessReview",
                                        "LocalSubjectAccessReview", ""};
    const json_t *spec = json_object_get(body, "spec");
    struct rbac_attrs a;
    struct spec_user su;
    char why[512];

    if (!spec_attrs(r, names[kind], spec, &a)) return;
    if (kind == R_SELF) {
        a.user = api_req_user(r);
    } else {
        user_from_spec(spec, &su);
        if (!su.u.name[0] && su.u.n_groups == 0) {
            invalid(r, names[kind], "spec.user: Invalid value: \"\": at least one of user or group must be specified");
            return;
        }
        a.user = &su.u;
    }
    if (kind == R_LOCAL && (!a.resource_request || strcmp(a.ns, path_ns) != 0)) {
        invalid(r, names[kind], "spec.resourceAttributes.namespace: Invalid value: \"\": must match metadata.namespace");
        return;
    }
    bool ok = rbac_allowed(s, &a, why, sizeof why);
    json_t *st = json_pack("{s:b}", "allowed", ok);
    if (ok && why[0]) json_object_set_new(st, "reason", json_string(why));
    answer(r, body, st);
}

struct rules_acc {
    json_t *res, *nonres;
};

static bool collect(void *arg, const struct rbac_rule *compiled)
{
    const json_t *rule = compiled->json;
    struct rules_acc *acc = arg;
    json_t *copy = json_object();
    static const char *const rf[] = {"verbs", "apiGroups", "resources", "resourceNames"};
    bool nonres = json_array_size(json_object_get(rule, "nonResourceURLs")) > 0;

    if (copy == NULL) return false;
    if (nonres) {
        json_object_set(copy, "verbs", json_object_get(rule, "verbs"));
        json_object_set(copy, "nonResourceURLs", json_object_get(rule, "nonResourceURLs"));
    } else {
        for (size_t i = 0; i < ORC_ARRAY_LEN(rf); i++)
            if (json_object_get(rule, rf[i])) json_object_set(copy, rf[i], json_object_get(rule, rf[i]));
    }
    json_array_append_new(nonres ? acc->nonres : acc->res, copy);
    return false; /* all of them */
}

static void rules_review(struct api_server *s, struct orc_httpd_req *r, json_t *body)
{
    const char *ns = str(body, "spec.namespace");
    struct rules_acc acc = {json_array(), json_array()};

    rbac_visit_rules(s, api_req_user(r), ns, collect, &acc, NULL, 0);
    answer(r, body, json_pack("{s:o, s:o, s:b}", "resourceRules", acc.res, "nonResourceRules",
                              acc.nonres, "incomplete", 0));
}

void api_handle_review(struct api_server *s, struct orc_httpd_req *r)
{
    char ns[256];
    enum review kind = review_of(r->target, ns, sizeof ns);
    json_t *body;

    if (r->method != HTTP_POST) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    if ((body = api_parse_body(r)) == NULL) return;
    if (!json_is_object(body)) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "the request body is not an object");
    } else if (kind == R_RULES) {
        rules_review(s, r, body);
    } else {
        access_review(s, r, body, kind, ns);
    }
    json_decref(body);
}
