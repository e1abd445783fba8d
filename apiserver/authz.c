/* authz.c — authorization of every authenticated request, after routing and
 * before any handler: impersonation (Impersonate-User, -Group, -Uid,
 * -Extra-*, each allowed by the `impersonate` verb), then RBAC on the
 * request's attributes; a denial answers 403 with Kubernetes' Status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MAX_IMP_GROUPS 64

static void respond_forbidden(struct orc_httpd_req *r, const struct rbac_attrs *a, const char *extra)
{
    json_t *st = rbac_forbidden_status(a, extra);

    if (st == NULL) {
        api_respond_error(r, ORC_ENOMEM, "authorizing");
        return;
    }
    api_respond_json(r, 403, st);
    json_decref(st);
}

/* NodeRestriction's refusals read as Kubernetes' admission plugin words
 * them: `pods "x" is forbidden: node "a" can only ...`. */
static void respond_node_forbidden(struct orc_httpd_req *r, const struct rbac_attrs *a, const char *why)
{
    char qual[140];

    snprintf(qual, sizeof qual, "%s%s%s", a->resource, a->group[0] ? "." : "", a->group);
    api_respond_status(r, 403, "Forbidden", NULL, NULL, NULL, "%s \"%s\" is forbidden: %s", qual, a->name, why);
}

struct imp_ctx {
    bool (*allowed)(void *arg, const struct rbac_attrs *a);
    void *arg;
    const struct api_user *requester;
    struct rbac_attrs *denied;
};

/* May the requester impersonate this (resource, namespace, name)? When
 * not, the attributes refused are in ctx->denied. */
static bool may_impersonate(struct imp_ctx *c, const char *group, const char *resource,
                            const char *sub, const char *ns, const char *name)
{
    struct rbac_attrs *a = c->denied;

    memset(a, 0, sizeof *a);
    a->user = c->requester;
    a->resource_request = true;
    snprintf(a->verb, sizeof a->verb, "impersonate");
    snprintf(a->group, sizeof a->group, "%s", group);
    snprintf(a->resource, sizeof a->resource, "%s", resource);
    snprintf(a->sub, sizeof a->sub, "%s", sub);
    snprintf(a->ns, sizeof a->ns, "%s", ns);
    snprintf(a->name, sizeof a->name, "%s", name);
    return c->allowed(c->arg, a);
}

/* "system:serviceaccount:NS:NAME" -> ns, name. */
static bool split_sa(const char *user, char *ns, size_t nn, char *name, size_t n)
{
    static const char pre[] = "system:serviceaccount:";
    const char *p, *colon;

    if (strncmp(user, pre, sizeof pre - 1) != 0) return false;
    p = user + sizeof pre - 1;
    colon = strchr(p, ':');
    if (colon == NULL || colon == p || colon[1] == '\0' || strchr(colon + 1, ':')) return false;
    snprintf(ns, nn, "%.*s", (int)(colon - p), p);
    snprintf(name, n, "%s", colon + 1);
    return true;
}

static bool check_user(struct imp_ctx *c, const char *user, char *sa_ns, size_t nn)
{
    char name[256];

    sa_ns[0] = '\0';
    if (split_sa(user, sa_ns, nn, name, sizeof name))
        return may_impersonate(c, "", "serviceaccounts", "", sa_ns, name);
    return may_impersonate(c, "", "users", "", "", user);
}

int rbac_impersonate(const struct orc_httpd_req *r, const struct api_user *requester,
                     bool (*allowed)(void *arg, const struct rbac_attrs *a), void *arg,
                     struct rbac_attrs *denied, struct api_user **out)
{
    const char *user = NULL, *uid = NULL, *groups[MAX_IMP_GROUPS + 3];
    char sa_ns[256], g1[300], g2[300];
    struct imp_ctx c = {allowed, arg, requester, denied};
    size_t ng = 0;
    bool extras = false;

    *out = NULL;
    for (int i = 0; i < r->n_headers; i++) {
        const struct orc_httpd_header *h = &r->headers[i];
        if (strcmp(h->name, "impersonate-user") == 0) user = h->value;
        else if (strcmp(h->name, "impersonate-uid") == 0) uid = h->value;
        else if (strcmp(h->name, "impersonate-group") == 0) {
            if (ng == MAX_IMP_GROUPS) return ORC_ETOOBIG;
            groups[ng++] = h->value;
        } else if (strncmp(h->name, "impersonate-extra-", 18) == 0) extras = true;
    }
    if (user == NULL && ng == 0 && uid == NULL && !extras) return 0;
    if (user == NULL || *user == '\0') return ORC_EINVAL;
    if (!check_user(&c, user, sa_ns, sizeof sa_ns)) return ORC_EPERM;
    for (size_t i = 0; i < ng; i++)
        if (!may_impersonate(&c, "", "groups", "", "", groups[i])) return ORC_EPERM;
    if (uid && !may_impersonate(&c, "authentication.k8s.io", "uids", "", "", uid)) return ORC_EPERM;
    for (int i = 0; i < r->n_headers; i++) {
        const struct orc_httpd_header *h = &r->headers[i];
        if (strncmp(h->name, "impersonate-extra-", 18) == 0
            && !may_impersonate(&c, "authentication.k8s.io", "userextras", h->name + 18, "", h->value))
            return ORC_EPERM;
    }
    if (sa_ns[0]) {
        snprintf(g1, sizeof g1, "system:serviceaccounts");
        snprintf(g2, sizeof g2, "system:serviceaccounts:%s", sa_ns);
        groups[ng++] = g1;
        groups[ng++] = g2;
    }
    groups[ng] = NULL;
    struct api_user *u = api_user_new(user, groups);
    if (u && uid && !(u->uid = strdup(uid))) {
        api_user_free(u);
        u = NULL;
    }
    if (u == NULL) return ORC_ENOMEM;
    *out = u;
    return 1;
}

static bool server_allows(void *arg, const struct rbac_attrs *a)
{
    return rbac_allowed(arg, a, NULL, 0);
}

/* Applies the Impersonate-* headers: true to go on (the request's user
 * replaced when there were any), false when it has answered. */
static bool impersonate(struct api_server *s, struct orc_httpd_req *r)
{
    struct rbac_attrs denied;
    struct api_user *u;
    int rv = rbac_impersonate(r, api_req_user(r), server_allows, s, &denied, &u);

    switch (rv) {
    case 0: return true;
    case 1: api_req_set_user(r, u); return true;
    case ORC_EPERM: respond_forbidden(r, &denied, NULL); return false;
    case ORC_ETOOBIG:
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "too many Impersonate-Group headers");
        return false;
    case ORC_EINVAL:
        api_respond_status(r, 500, "InternalError", NULL, NULL, NULL,
                           "Internal error occurred: requested impersonation without impersonating a user");
        return false;
    default: api_respond_error(r, rv, "impersonating"); return false;
    }
}

bool api_authorize(struct api_server *s, struct orc_httpd_req *r)
{
    struct rbac_attrs a;
    char why[600];

    if (!impersonate(s, r)) return false;
    if (api_user_in_group(api_req_user(r), "system:masters")) return true; /* before any parsing */
    if (rbac_attrs_from_request(r->method, r->target, &a) != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "malformed request path");
        return false;
    }
    a.user = api_req_user(r);
    switch (api_node_authorize(s, &a, why, sizeof why)) {
    case API_NODE_ALLOW: return true;
    case API_NODE_DENY: respond_node_forbidden(r, &a, why); return false;
    case API_NODE_NO_OPINION: break;
    }
    if (rbac_allowed(s, &a, NULL, 0)) return true;
    respond_forbidden(r, &a, why[0] ? why : NULL);
    return false;
}
