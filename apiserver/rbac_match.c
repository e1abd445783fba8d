/* rbac_match.c — the pure half of authorization: a request's attributes as
 * Kubernetes' RequestInfoFactory reads them, PolicyRule and Subject
 * matching as the RBAC authorizer does, and the denial's wording. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/rbac.h"
#include "lib/names.h"
#include "lib/orc.h"
#include "lib/url.h"

#define MAX_PARTS 12

static void set(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static const char *method_verb(int method)
{
    switch (method) {
    case HTTP_POST: return "create";
    case HTTP_GET:
    case HTTP_HEAD: return "get";
    case HTTP_PUT: return "update";
    case HTTP_PATCH: return "patch";
    case HTTP_DELETE: return "delete";
    default: return "";
    }
}

/* The raw value of query parameter key (decoded, malloc'd), or NULL. */
static char *query_value(const char *q, const char *key)
{
    size_t kl = strlen(key);

    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > kl && strncmp(q, key, kl) == 0 && q[kl] == '=')
            return orc_url_decode(q + kl + 1, len - kl - 1, true);
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static bool query_bool(const char *q, const char *key)
{
    char *v = query_value(q, key);
    bool on = v && strcasecmp(v, "false") != 0 && strcmp(v, "0") != 0;
    free(v);
    return on;
}

/* A list's fieldSelector that requires metadata.name=X names the object. */
static void name_from_field_selector(const char *q, struct rbac_attrs *a)
{
    char *fs = query_value(q, "fieldSelector");
    char *save = NULL;

    for (char *t = fs ? strtok_r(fs, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        const char *v = NULL;
        if (strncmp(t, "metadata.name==", 15) == 0) v = t + 15;
        else if (strncmp(t, "metadata.name=", 14) == 0) v = t + 14;
        if (v && *v && orc_path_segment(v, strlen(v), NULL, 0) == 0) set(a->name, sizeof a->name, v);
    }
    free(fs);
}

static void nonresource(int method, const char *path, size_t plen, struct rbac_attrs *a)
{
    const char *m = llhttp_method_name((llhttp_method_t)method);

    a->resource_request = false;
    snprintf(a->path, sizeof a->path, "%.*s", (int)plen, path);
    for (size_t i = 0; m[i] && i + 1 < sizeof a->verb; i++) {
        a->verb[i] = (char)(m[i] >= 'A' && m[i] <= 'Z' ? m[i] + 32 : m[i]);
        a->verb[i + 1] = '\0';
    }
}

static void resource_parts(int method, const char *q, char **p, int n, struct rbac_attrs *a)
{
    a->resource_request = true;
    set(a->verb, sizeof a->verb, method_verb(method));
    if (strcmp(p[0], "namespaces") == 0) {
        if (n > 1) {
            set(a->ns, sizeof a->ns, p[1]);
            if (n > 2 && strcmp(p[2], "status") != 0 && strcmp(p[2], "finalize") != 0) {
                p += 2;
                n -= 2;
            }
        }
    }
    if (n >= 3) set(a->sub, sizeof a->sub, p[2]);
    if (n >= 2) set(a->name, sizeof a->name, p[1]);
    if (n >= 1) set(a->resource, sizeof a->resource, p[0]);
    if (!a->name[0] && strcmp(a->verb, "get") == 0) {
        set(a->verb, sizeof a->verb, query_bool(q, "watch") ? "watch" : "list");
        name_from_field_selector(q, a);
    } else if (strcmp(a->verb, "get") == 0 && query_bool(q, "watch")) {
        set(a->verb, sizeof a->verb, "watch");
    }
    if (!a->name[0] && strcmp(a->verb, "delete") == 0) set(a->verb, sizeof a->verb, "deletecollection");
    /* Streams need create, as Kubernetes asks of a WebSocket upgrade since
     * 1.31 (AuthorizePodWebsocketUpgradeCreatePermission). */
    if (strcmp(a->resource, "pods") == 0 && strcmp(a->verb, "get") == 0
        && (strcmp(a->sub, "exec") == 0 || strcmp(a->sub, "attach") == 0
            || strcmp(a->sub, "portforward") == 0))
        set(a->verb, sizeof a->verb, "create");
}

int rbac_attrs_from_request(int method, const char *target, struct rbac_attrs *a)
{
    const char *qm = strchr(target, '?');
    size_t plen = qm ? (size_t)(qm - target) : strlen(target);
    const char *q = qm ? qm + 1 : "";
    char *parts[MAX_PARTS];
    int n = 0, rv = 0;

    memset(a, 0, sizeof *a);
    for (const char *p = target; p < target + plen;) {
        const char *start = ++p;
        while (p < target + plen && *p != '/') p++;
        if (p == start) continue;
        if (n == MAX_PARTS) break;
        if ((parts[n] = orc_url_decode(start, (size_t)(p - start), false)) == NULL) {
            rv = ORC_EINVAL;
            goto out;
        }
        n++;
    }
    /* /api/V/..., /apis/G/V/...: at least a resource after the version. */
    if (n >= 3 && strcmp(parts[0], "api") == 0) {
        set(a->version, sizeof a->version, parts[1]);
        resource_parts(method, q, parts + 2, n - 2, a);
    } else if (n >= 4 && strcmp(parts[0], "apis") == 0) {
        set(a->group, sizeof a->group, parts[1]);
        set(a->version, sizeof a->version, parts[2]);
        resource_parts(method, q, parts + 3, n - 3, a);
    } else {
        nonresource(method, target, plen ? plen : 1, a);
    }
out:
    for (int i = 0; i < n; i++) free(parts[i]);
    return rv;
}

/* ---- rules ---- */

static const char *const *strings(const json_t *list, const char **slot, size_t *n)
{
    size_t i;
    json_t *v;

    *n = 0;
    json_array_foreach(list, i, v) if (json_string_value(v)) slot[(*n)++] = json_string_value(v);
    return slot;
}

int rbac_rule_compile(const json_t *rule, struct rbac_rule *out)
{
    static const char *const fields[] = {"verbs", "apiGroups", "resources", "resourceNames",
                                         "nonResourceURLs"};
    size_t total = 0, n[5];
    const char **all;

    memset(out, 0, sizeof *out);
    for (size_t f = 0; f < 5; f++) total += json_array_size(json_object_get(rule, fields[f]));
    if ((all = malloc((total ? total : 1) * sizeof *all)) == NULL) return ORC_ENOMEM;
    out->mem = all;
    out->json = rule;
    out->verbs = strings(json_object_get(rule, fields[0]), all, &n[0]);
    out->groups = strings(json_object_get(rule, fields[1]), all + n[0], &n[1]);
    out->resources = strings(json_object_get(rule, fields[2]), all + n[0] + n[1], &n[2]);
    out->names = strings(json_object_get(rule, fields[3]), all + n[0] + n[1] + n[2], &n[3]);
    out->urls = strings(json_object_get(rule, fields[4]), all + n[0] + n[1] + n[2] + n[3], &n[4]);
    out->n_verbs = n[0];
    out->n_groups = n[1];
    out->n_resources = n[2];
    out->n_names = n[3];
    out->n_urls = n[4];
    return 0;
}

void rbac_rule_release(struct rbac_rule *r)
{
    free(r->mem);
    r->mem = NULL;
}

static bool has(const char *const *list, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], "*") == 0 || strcmp(list[i], want) == 0) return true;
    return false;
}

/* "pods", "pods/log", "*", or "*\/log" for any resource's log. */
static bool resource_matches(const struct rbac_rule *r, const char *resource, const char *sub)
{
    size_t rl = strlen(resource), sl = strlen(sub);

    for (size_t i = 0; i < r->n_resources; i++) {
        const char *s = r->resources[i];
        if (strcmp(s, "*") == 0) return true;
        if (strncmp(s, resource, rl) == 0
            && (sl ? s[rl] == '/' && strcmp(s + rl + 1, sub) == 0 : s[rl] == '\0'))
            return true;
        if (sl && strncmp(s, "*/", 2) == 0 && strcmp(s + 2, sub) == 0) return true;
    }
    return false;
}

static bool name_matches(const struct rbac_rule *r, const char *name)
{
    if (r->n_names == 0) return true;
    for (size_t i = 0; i < r->n_names; i++)
        if (*name && strcmp(r->names[i], name) == 0) return true;
    return false;
}

static bool url_matches(const struct rbac_rule *r, const char *path)
{
    for (size_t i = 0; i < r->n_urls; i++) {
        const char *s = r->urls[i];
        size_t l = strlen(s);
        if (strcmp(s, "*") == 0 || strcmp(s, path) == 0) return true;
        if (l > 0 && s[l - 1] == '*' && strncmp(s, path, l - 1) == 0) return true;
    }
    return false;
}

bool rbac_compiled_allows(const struct rbac_rule *r, const struct rbac_attrs *a)
{
    if (!has(r->verbs, r->n_verbs, a->verb)) return false;
    if (!a->resource_request) return url_matches(r, a->path);
    return has(r->groups, r->n_groups, a->group) && resource_matches(r, a->resource, a->sub)
           && name_matches(r, a->name);
}

bool rbac_rule_allows(const json_t *rule, const struct rbac_attrs *a)
{
    struct rbac_rule r;
    bool ok;

    if (rbac_rule_compile(rule, &r) != 0) return false;
    ok = rbac_compiled_allows(&r, a);
    rbac_rule_release(&r);
    return ok;
}

bool rbac_subject_matches(const json_t *subject, const struct api_user *user, const char *binding_ns)
{
    const char *kind = json_string_value(json_object_get(subject, "kind"));
    const char *name = json_string_value(json_object_get(subject, "name"));

    if (kind == NULL || name == NULL || user == NULL) return false;
    if (strcmp(kind, "User") == 0) return strcmp(name, user->name) == 0;
    if (strcmp(kind, "Group") == 0) return api_user_in_group(user, name);
    if (strcmp(kind, "ServiceAccount") == 0) {
        const char *ns = json_string_value(json_object_get(subject, "namespace"));
        char want[600];
        if (ns == NULL || *ns == '\0') ns = binding_ns;
        snprintf(want, sizeof want, "system:serviceaccount:%s:%s", ns, name);
        return strcmp(want, user->name) == 0;
    }
    return false;
}

/* ---- denials ---- */

void rbac_forbidden_reason(const struct rbac_attrs *a, char *out, size_t n)
{
    const char *user = a->user ? a->user->name : "";
    char res[100];

    if (!a->resource_request) {
        snprintf(out, n, "User \"%s\" cannot %s path \"%s\"", user, a->verb, a->path);
        return;
    }
    snprintf(res, sizeof res, "%s%s%s", a->resource, a->sub[0] ? "/" : "", a->sub);
    if (a->ns[0])
        snprintf(out, n, "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" in the namespace \"%s\"",
                 user, a->verb, res, a->group, a->ns);
    else
        snprintf(out, n, "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" at the cluster scope",
                 user, a->verb, res, a->group);
}

/* As apierrors.NewForbidden words it: "pods is forbidden: ...",
 * "deployments.apps \"web\" is forbidden: ...", "forbidden: ...". */
json_t *rbac_forbidden_status(const struct rbac_attrs *a, const char *extra)
{
    char why[1400], msg[2200], qual[140];
    json_t *details = json_object();

    rbac_forbidden_reason(a, why, sizeof why);
    if (extra && *extra) snprintf(why + strlen(why), sizeof why - strlen(why), ": %s", extra);
    snprintf(qual, sizeof qual, "%s%s%s", a->resource, a->group[0] ? "." : "", a->group);
    if (!a->resource_request || !a->resource[0]) snprintf(msg, sizeof msg, "forbidden: %s", why);
    else if (!a->name[0]) snprintf(msg, sizeof msg, "%s is forbidden: %s", qual, why);
    else snprintf(msg, sizeof msg, "%s \"%s\" is forbidden: %s", qual, a->name, why);
    if (details && a->resource_request) {
        if (a->name[0]) json_object_set_new(details, "name", json_string(a->name));
        if (a->group[0]) json_object_set_new(details, "group", json_string(a->group));
        if (a->resource[0]) json_object_set_new(details, "kind", json_string(a->resource));
    }
    return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:o?, s:i}", "kind", "Status", "apiVersion",
                     "v1", "metadata", "status", "Failure", "message", msg, "reason", "Forbidden",
                     "details", details, "code", 403);
}
