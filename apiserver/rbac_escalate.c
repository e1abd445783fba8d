/* rbac_escalate.c — escalation prevention, as Kubernetes' RBAC storage:
 * nobody writes a Role or ClusterRole with rules they do not hold (unless
 * allowed `escalate` on it), nor a binding to a role whose rules they do
 * not hold (unless allowed `bind` on it). Rules are held when each atom of
 * them (one group, resource, verb, name) is covered by one rule the writer
 * has where the object lives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/write.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"
#define MAX_MISSING 256

struct missing {
    json_t *atoms; /* [{g, r, n, u, verbs: []}] */
};

static bool covers(void *arg, const struct rbac_rule *rule)
{
    return rbac_compiled_allows(rule, arg);
}

/* Adds an atom not held, merging the verbs of plain resource atoms
 * (CompactRules). */
static void add_missing(struct missing *m, const char *g, const char *r, const char *n,
                        const char *u, const char *verb)
{
    size_t i;
    json_t *a;

    if (!n && !u) {
        json_array_foreach(m->atoms, i, a) {
            if (!json_object_get(a, "n") && !json_object_get(a, "u") && orc_json_str(a, "g")
                && strcmp(orc_json_str(a, "g"), g) == 0 && strcmp(orc_json_str(a, "r"), r) == 0) {
                json_array_append_new(json_object_get(a, "verbs"), json_string(verb));
                return;
            }
        }
    }
    if (json_array_size(m->atoms) >= MAX_MISSING) return;
    a = u ? json_pack("{s:s, s:[s]}", "u", u, "verbs", verb)
          : json_pack("{s:s, s:s, s:[s]}", "g", g, "r", r, "verbs", verb);
    if (a && n) json_object_set_new(a, "n", json_string(n));
    if (a) json_array_append_new(m->atoms, a);
}

static void check_atom(const struct api_server *s, const struct api_user *u, const char *ns,
                       struct rbac_attrs *at, struct missing *m, const char *res, const char *n,
                       const char *url)
{
    if (!rbac_visit_rules(s, u, ns, covers, at, NULL, 0))
        add_missing(m, at->group, res, n, url, at->verb);
}

/* The atoms of one rule the user does not hold, into m. */
static void rule_missing(const struct api_server *s, const struct api_user *u, const char *ns,
                         const json_t *rule, struct missing *m)
{
    size_t iv, ig, ir, in;
    json_t *v, *g, *r, *n;
    struct rbac_attrs at = {.user = u};

    json_array_foreach(json_object_get(rule, "verbs"), iv, v) {
        snprintf(at.verb, sizeof at.verb, "%s", json_string_value(v) ? json_string_value(v) : "");
        at.resource_request = false;
        json_array_foreach(json_object_get(rule, "nonResourceURLs"), ig, g) {
            snprintf(at.path, sizeof at.path, "%s", json_string_value(g) ? json_string_value(g) : "");
            check_atom(s, u, ns, &at, m, NULL, NULL, at.path);
        }
        at.resource_request = true;
        json_array_foreach(json_object_get(rule, "apiGroups"), ig, g) {
            snprintf(at.group, sizeof at.group, "%s", json_string_value(g) ? json_string_value(g) : "");
            json_array_foreach(json_object_get(rule, "resources"), ir, r) {
                const char *res = json_string_value(r) ? json_string_value(r) : "";
                const char *slash = strchr(res, '/');
                snprintf(at.resource, sizeof at.resource, "%.*s",
                         (int)(slash ? (size_t)(slash - res) : strlen(res)), res);
                snprintf(at.sub, sizeof at.sub, "%s", slash ? slash + 1 : "");
                const json_t *names = json_object_get(rule, "resourceNames");
                if (json_array_size(names) == 0) {
                    at.name[0] = '\0';
                    check_atom(s, u, ns, &at, m, res, NULL, NULL);
                }
                json_array_foreach(names, in, n) {
                    snprintf(at.name, sizeof at.name, "%s", json_string_value(n) ? json_string_value(n) : "");
                    check_atom(s, u, ns, &at, m, res, at.name, NULL);
                }
            }
        }
    }
}

static void quoted_list(struct orc_buf *b, const json_t *list)
{
    size_t i;
    json_t *v;

    orc_buf_append(b, "[", 1);
    json_array_foreach(list, i, v) orc_buf_printf(b, "%s\"%s\"", i ? " " : "", json_string_value(v));
    orc_buf_append(b, "]", 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rbacv1helpers.CompactString of each missing rule, sorted, one a line. */
static void describe_missing(const struct missing *m, struct orc_buf *out)
{
    size_t n = json_array_size(m->atoms), i;
    char **lines = calloc(n ? n : 1, sizeof *lines);
    json_t *a;

    if (lines == NULL) return;
    json_array_foreach(m->atoms, i, a) {
        struct orc_buf b = ORC_BUF_INIT;
        json_t *tmp;
        orc_buf_append(&b, "{", 1);
        if (orc_json_str(a, "u")) {
            tmp = json_pack("[s]", orc_json_str(a, "u"));
            orc_buf_puts(&b, "NonResourceURLs:");
            quoted_list(&b, tmp);
            json_decref(tmp);
        } else {
            tmp = json_pack("[s]", orc_json_str(a, "g"));
            orc_buf_puts(&b, "APIGroups:");
            quoted_list(&b, tmp);
            json_decref(tmp);
            tmp = json_pack("[s]", orc_json_str(a, "r"));
            orc_buf_puts(&b, ", Resources:");
            quoted_list(&b, tmp);
            json_decref(tmp);
            if (orc_json_str(a, "n")) {
                tmp = json_pack("[s]", orc_json_str(a, "n"));
                orc_buf_puts(&b, ", ResourceNames:");
                quoted_list(&b, tmp);
                json_decref(tmp);
            }
        }
        orc_buf_puts(&b, ", Verbs:");
        quoted_list(&b, json_object_get(a, "verbs"));
        orc_buf_append(&b, "}", 1);
        lines[i] = b.data ? b.data : strdup("");
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    for (i = 0; i < n; i++) {
        if (lines[i]) orc_buf_printf(out, "%s%s", i ? "\n" : "", lines[i]);
        free(lines[i]);
    }
    free(lines);
}

static void refuse(struct write_op *op, const char *resource, const char *name, const char *why)
{
    char msg[4096];

    snprintf(msg, sizeof msg, "%s." RBAC_GROUP " \"%s\" is forbidden: %s", resource, name, why);
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:i}", "kind",
                           "Status", "apiVersion", "v1", "metadata", "status", "Failure", "message",
                           msg, "reason", "Forbidden", "details", "name", name, "group", RBAC_GROUP,
                           "kind", resource, "code", 403);
    if (st == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "authorizing");
        return;
    }
    api_respond_json(op->r, 403, st);
    json_decref(st);
}

/* The atoms of rules the user does not hold in ns, into m. */
static void find_missing(struct write_op *op, const json_t *rules, const char *ns, struct missing *m)
{
    size_t i;
    json_t *rule;

    json_array_foreach(rules, i, rule) rule_missing(op->s, api_req_user(op->r), ns, rule, m);
}

/* Refuses (and returns false) unless the user holds every rule. */
static bool confirm_no_escalation(struct write_op *op, const json_t *rules, const char *ns,
                                  const char *resource, const char *name)
{
    const struct api_user *u = api_req_user(op->r);
    struct missing m = {json_array()};
    struct orc_buf why = ORC_BUF_INIT;
    bool ok;

    if (m.atoms == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "authorizing");
        return false;
    }
    find_missing(op, rules, ns, &m);
    ok = json_array_size(m.atoms) == 0;
    if (!ok) {
        orc_buf_printf(&why, "user \"%s\" (groups=[", u ? u->name : "");
        for (size_t g = 0; u && g < u->n_groups; g++) orc_buf_printf(&why, "%s\"%s\"", g ? " " : "", u->groups[g]);
        orc_buf_puts(&why, "]) is attempting to grant RBAC permissions not currently held:\n");
        describe_missing(&m, &why);
        refuse(op, resource, name, why.data ? why.data : "");
    }
    orc_buf_free(&why);
    json_decref(m.atoms);
    return ok;
}

static bool may(struct write_op *op, const char *verb, const char *resource, const char *ns,
                const char *name)
{
    struct rbac_attrs a = {.user = api_req_user(op->r), .resource_request = true};

    snprintf(a.verb, sizeof a.verb, "%s", verb);
    snprintf(a.group, sizeof a.group, RBAC_GROUP);
    snprintf(a.resource, sizeof a.resource, "%s", resource);
    snprintf(a.ns, sizeof a.ns, "%s", ns);
    snprintf(a.name, sizeof a.name, "%s", name);
    return rbac_allowed(op->s, &a, NULL, 0);
}

/* A wildcard rule set: what setting an aggregationRule needs. */
static json_t *full_authority(void)
{
    return json_pack("[{s:[s], s:[s], s:[s]}, {s:[s], s:[s]}]", "verbs", "*", "apiGroups", "*",
                     "resources", "*", "verbs", "*", "nonResourceURLs", "*");
}

static int admit_role(struct write_op *op, const json_t *obj, const json_t *old, bool cluster)
{
    const char *name = orc_json_str(obj, "metadata.name"), *ns = cluster ? "" : op->rt->ns;
    const char *res = cluster ? "clusterroles" : "roles";
    const json_t *rules = json_object_get(obj, "rules");
    const json_t *agg = json_object_get(obj, "aggregationRule");

    if (name == NULL) name = "";
    if (old && json_equal(json_object_get(old, "rules"), (json_t *)rules)
        && json_equal(json_object_get(old, "aggregationRule"), (json_t *)agg))
        return 0;
    if (may(op, "escalate", res, ns, name)) return 0;
    if (agg && !(old && json_equal(json_object_get(old, "aggregationRule"), (json_t *)agg))) {
        struct missing m = {json_array()};
        json_t *full = full_authority();
        if (full && m.atoms) find_missing(op, full, "", &m);
        bool ok = full && m.atoms && json_array_size(m.atoms) == 0;
        json_decref(full);
        json_decref(m.atoms);
        if (!ok) {
            refuse(op, res, name, "must have cluster-admin privileges to use the aggregationRule");
            return ORC_EPERM;
        }
    }
    return confirm_no_escalation(op, rules, ns, res, name) ? 0 : ORC_EPERM;
}

static int admit_binding(struct write_op *op, const json_t *obj, const json_t *old, bool cluster)
{
    const char *name = orc_json_str(obj, "metadata.name"), *ns = cluster ? "" : op->rt->ns;
    const char *res = cluster ? "clusterrolebindings" : "rolebindings";
    const char *kind = orc_json_str(obj, "roleRef.kind"), *role = orc_json_str(obj, "roleRef.name");
    bool cr = kind && strcmp(kind, "ClusterRole") == 0;
    const json_t *ro;
    char why[700];

    if (name == NULL) name = "";
    if (role == NULL) role = "";
    if (old && json_equal(json_object_get(old, "roleRef"), json_object_get(obj, "roleRef"))) return 0;
    if (may(op, "bind", cr ? "clusterroles" : "roles", ns, role)) return 0;
    if ((ro = rbac_role_object(op->s, ns, kind, role)) == NULL) {
        snprintf(why, sizeof why, "%s." RBAC_GROUP " \"%s\" not found", cr ? "clusterroles" : "roles", role);
        refuse(op, res, name, why);
        return ORC_EPERM;
    }
    return confirm_no_escalation(op, json_object_get(ro, "rules"), ns, res, name) ? 0 : ORC_EPERM;
}

int api_rbac_admit(struct write_op *op, const json_t *obj, const json_t *old)
{
    const struct api_user *u = api_req_user(op->r);

    if (u && api_user_in_group(u, "system:masters")) return 0;
    switch (orc_kind_id(op->k)) {
    case ORC_K_ROLE: return admit_role(op, obj, old, false);
    case ORC_K_CLUSTERROLE: return admit_role(op, obj, old, true);
    case ORC_K_ROLEBINDING: return admit_binding(op, obj, old, false);
    case ORC_K_CLUSTERROLEBINDING: return admit_binding(op, obj, old, true);
    default: return 0;
    }
}
