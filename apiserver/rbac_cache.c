/* rbac_cache.c — Roles, ClusterRoles and their bindings in memory, kept
 * current from one store watch of the RBAC group (as nscache.c keeps
 * namespaces), so that authorizing a request reads no store and parses
 * nothing: the objects are parsed once per change. Bindings are grouped by
 * namespace ("" for ClusterRoleBindings): a request looks at the cluster's
 * bindings and its own namespace's only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define RBAC_PREFIX "/registry/rbac.authorization.k8s.io/"

struct rb_role { /* a Role ("NS/NAME") or ClusterRole ("/NAME") */
    struct orc_hnode node;
    char *key;
    char *store_key;
    json_t *obj;
    long long rev;
    bool cluster;
};

struct rb_binding {
    struct orc_hnode node; /* by store key */
    char *store_key;
    char *ns;              /* "" for a ClusterRoleBinding */
    char *name;
    json_t *obj;
    bool ref_cluster;      /* roleRef.kind ClusterRole */
    const char *ref_name;  /* in obj */
};

struct rb_ns { /* the bindings of one namespace */
    struct orc_hnode node;
    char *ns;
    struct rb_binding **v;
    size_t n, cap;
};

struct api_rbac {
    struct api_server *s;
    struct orc_hmap roles, bindings, nss;
    store_watch *w;
    void (*on_cr)(struct api_server *s);
    bool cr_pending;
};

/* ---- the maps ---- */

static void role_free(struct rb_role *r)
{
    free(r->key);
    free(r->store_key);
    json_decref(r->obj);
    free(r);
}

static struct rb_ns *ns_bucket(struct api_rbac *c, const char *ns, bool make)
{
    struct orc_hnode *n = orc_hmap_get(&c->nss, ns);
    struct rb_ns *b;

    if (n) return (struct rb_ns *)n;
    if (!make || !(b = calloc(1, sizeof *b))) return NULL;
    if (!(b->ns = strdup(ns))) {
        free(b);
        return NULL;
    }
    b->node.key = b->ns;
    if (orc_hmap_put(&c->nss, &b->node) != 0) {
        free(b->ns);
        free(b);
        return NULL;
    }
    return b;
}

static void binding_drop(struct api_rbac *c, struct rb_binding *b)
{
    struct rb_ns *bucket = ns_bucket(c, b->ns, false);

    for (size_t i = 0; bucket && i < bucket->n; i++)
        if (bucket->v[i] == b) {
            memmove(bucket->v + i, bucket->v + i + 1, (bucket->n - i - 1) * sizeof *bucket->v);
            bucket->n--;
            break;
        }
    orc_hmap_del(&c->bindings, &b->node);
    free(b->store_key);
    free(b->ns);
    free(b->name);
    json_decref(b->obj);
    free(b);
}

static int binding_add(struct api_rbac *c, struct rb_binding *b)
{
    struct rb_ns *bucket = ns_bucket(c, b->ns, true);

    if (bucket == NULL) return ORC_ENOMEM;
    if (bucket->n == bucket->cap) {
        size_t cap = bucket->cap ? bucket->cap * 2 : 8;
        struct rb_binding **v = realloc(bucket->v, cap * sizeof *v);
        if (v == NULL) return ORC_ENOMEM;
        bucket->v = v;
        bucket->cap = cap;
    }
    if (orc_hmap_put(&c->bindings, &b->node) != 0) return ORC_ENOMEM;
    bucket->v[bucket->n++] = b;
    return 0;
}

/* Splits "/registry/rbac.authorization.k8s.io/RES/[NS/]NAME". */
static int parse_key(const char *key, char *res, size_t rn, char *ns, size_t nn, const char **name)
{
    const char *p = key + strlen(RBAC_PREFIX), *slash = strchr(p, '/'), *last;

    if (slash == NULL || (size_t)(slash - p) >= rn) return ORC_EINVAL;
    snprintf(res, rn, "%.*s", (int)(slash - p), p);
    last = strrchr(slash + 1, '/');
    ns[0] = '\0';
    if (last) {
        if ((size_t)(last - slash - 1) >= nn) return ORC_EINVAL;
        snprintf(ns, nn, "%.*s", (int)(last - slash - 1), slash + 1);
    }
    *name = last ? last + 1 : slash + 1;
    return 0;
}

static void forget(struct api_rbac *c, const char *key, bool *cr_changed)
{
    char res[64], ns[256], rkey[600];
    const char *name;
    struct orc_hnode *n;

    if (parse_key(key, res, sizeof res, ns, sizeof ns, &name) != 0) return;
    if (strcmp(res, "roles") == 0 || strcmp(res, "clusterroles") == 0) {
        snprintf(rkey, sizeof rkey, "%s/%s", ns, name);
        if ((n = orc_hmap_get(&c->roles, rkey))) {
            struct rb_role *r = (struct rb_role *)n;
            *cr_changed |= r->cluster;
            orc_hmap_del(&c->roles, n);
            role_free(r);
        }
    } else if ((n = orc_hmap_get(&c->bindings, key))) {
        binding_drop(c, (struct rb_binding *)n);
    }
}

static int note_role(struct api_rbac *c, const char *key, const char *ns, const char *name,
                     json_t *obj, long long rev, bool cluster)
{
    struct rb_role *r = calloc(1, sizeof *r);
    char rkey[600];

    snprintf(rkey, sizeof rkey, "%s/%s", ns, name);
    if (!r || !(r->key = strdup(rkey)) || !(r->store_key = strdup(key))) goto fail;
    r->node.key = r->key;
    r->obj = json_incref(obj);
    r->rev = rev;
    r->cluster = cluster;
    if (orc_hmap_put(&c->roles, &r->node) != 0) goto fail;
    return 0;
fail:
    if (r) role_free(r);
    return ORC_ENOMEM;
}

static int note_binding(struct api_rbac *c, const char *key, const char *ns, const char *name,
                        json_t *obj)
{
    struct rb_binding *b = calloc(1, sizeof *b);
    const char *kind = orc_json_str(obj, "roleRef.kind");

    if (!b || !(b->store_key = strdup(key)) || !(b->ns = strdup(ns)) || !(b->name = strdup(name))) {
        if (b) {
            free(b->store_key);
            free(b->ns);
            free(b);
        }
        return ORC_ENOMEM;
    }
    b->node.key = b->store_key;
    b->obj = json_incref(obj);
    b->ref_cluster = kind && strcmp(kind, "ClusterRole") == 0;
    b->ref_name = orc_json_str(obj, "roleRef.name");
    if (b->ref_name == NULL) b->ref_name = "";
    if (binding_add(c, b) != 0) {
        free(b->store_key);
        free(b->ns);
        free(b->name);
        json_decref(b->obj);
        free(b);
        return ORC_ENOMEM;
    }
    return 0;
}

static void note(struct api_rbac *c, const struct store_kv *kv, bool deleted, bool *cr_changed)
{
    char res[64], ns[256];
    const char *name;
    json_t *obj;

    forget(c, kv->key, cr_changed);
    if (deleted || parse_key(kv->key, res, sizeof res, ns, sizeof ns, &name) != 0) return;
    obj = orc_json_loadb(kv->value, kv->value_len, JSON_ALLOW_NUL, NULL);
    if (obj == NULL) {
        log_warn("apiserver", "RBAC cache: %s does not parse; ignored", kv->key);
        return;
    }
    if (strcmp(res, "roles") == 0 || strcmp(res, "clusterroles") == 0) {
        bool cluster = res[0] == 'c';
        *cr_changed |= cluster;
        note_role(c, kv->key, ns, name, obj, (long long)kv->mod_rev, cluster);
    } else if (strcmp(res, "rolebindings") == 0 || strcmp(res, "clusterrolebindings") == 0) {
        note_binding(c, kv->key, ns, name, obj);
    }
    json_decref(obj);
}

static void fire_cr(void *arg)
{
    struct api_rbac *c = arg;

    c->cr_pending = false;
    if (c->on_cr && !c->s->stopping) c->on_cr(c->s);
}

static void cr_changed(struct api_rbac *c)
{
    if (c->on_cr == NULL || c->cr_pending || c->s->stopping) return;
    if (api_later(c->s, 0, fire_cr, c) == 0) c->cr_pending = true;
}

static void clear_all(struct api_rbac *c)
{
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(&c->bindings); n; n = next) {
        next = orc_hmap_next(&c->bindings, n);
        binding_drop(c, (struct rb_binding *)n);
    }
    for (n = orc_hmap_first(&c->roles); n; n = next) {
        next = orc_hmap_next(&c->roles, n);
        orc_hmap_del(&c->roles, n);
        role_free((struct rb_role *)n);
    }
    for (n = orc_hmap_first(&c->nss); n; n = next) {
        struct rb_ns *b = (struct rb_ns *)n;
        next = orc_hmap_next(&c->nss, n);
        orc_hmap_del(&c->nss, n);
        free(b->v);
        free(b->ns);
        free(b);
    }
}

static void resync(void *arg);

static void on_event(void *arg, const struct store_event *ev, int err)
{
    struct api_rbac *c = arg;
    bool crc = false;

    if (ev == NULL) {
        c->w = NULL;
        if (err == ORC_ECOMPACTED && !c->s->stopping) api_later(c->s, 0, resync, c);
        return;
    }
    note(c, ev->kv, ev->type == STORE_EVENT_DELETE, &crc);
    if (crc) cr_changed(c);
}

static void resync(void *arg)
{
    struct api_rbac *c = arg;
    struct store_list l = {0};
    bool crc = false;
    int rv;

    if (c->s->stopping) return;
    clear_all(c);
    rv = store_range(c->s->st, RBAC_PREFIX, NULL, 0, 0, &l);
    for (size_t i = 0; rv == 0 && i < l.n; i++) note(c, &l.kvs[i], false, &crc);
    if (rv == 0) rv = store_watch_start(c->s->st, RBAC_PREFIX, l.revision, on_event, c, &c->w);
    store_list_clear(&l);
    if (rv != 0) log_error("apiserver", "watching RBAC objects: %s", orc_strerror(rv));
    cr_changed(c);
}

int api_rbac_start(struct api_server *s)
{
    struct api_rbac *c = calloc(1, sizeof *c);

    if (c == NULL) return ORC_ENOMEM;
    c->s = s;
    s->rbac = c;
    resync(c);
    return 0;
}

void api_rbac_stop(struct api_server *s)
{
    struct api_rbac *c = s->rbac;

    if (c == NULL) return;
    if (c->w) store_watch_stop(c->w);
    clear_all(c);
    orc_hmap_free(&c->roles);
    orc_hmap_free(&c->bindings);
    orc_hmap_free(&c->nss);
    free(c);
    s->rbac = NULL;
}

void rbac_on_clusterroles(struct api_server *s, void (*fn)(struct api_server *s))
{
    if (s->rbac) s->rbac->on_cr = fn;
}

/* ---- lookups ---- */

const json_t *rbac_role_object(const struct api_server *s, const char *ns, const char *kind,
                               const char *name)
{
    char key[600];
    bool cluster = kind && strcmp(kind, "ClusterRole") == 0;
    struct orc_hnode *n;

    if (s->rbac == NULL || name == NULL) return NULL;
    snprintf(key, sizeof key, "%s/%s", cluster ? "" : ns, name);
    n = orc_hmap_get(&s->rbac->roles, key);
    return n ? ((struct rb_role *)n)->obj : NULL;
}

void rbac_each_clusterrole(const struct api_server *s,
                           void (*fn)(void *arg, const json_t *obj, const char *key, long long rev),
                           void *arg)
{
    if (s->rbac == NULL) return;
    for (struct orc_hnode *n = orc_hmap_first(&s->rbac->roles); n; n = orc_hmap_next(&s->rbac->roles, n)) {
        struct rb_role *r = (struct rb_role *)n;
        if (r->cluster) fn(arg, r->obj, r->store_key, r->rev);
    }
}

static bool binding_applies(const struct rb_binding *b, const struct api_user *user)
{
    size_t i;
    json_t *sub;

    json_array_foreach(json_object_get(b->obj, "subjects"), i, sub)
        if (rbac_subject_matches(sub, user, b->ns)) return true;
    return false;
}

static void describe(char *why, size_t n, const struct rb_binding *b, const struct api_user *user)
{
    if (why == NULL) return;
    if (b->ns[0])
        snprintf(why, n, "RBAC: allowed by RoleBinding \"%s/%s\" of %s \"%s\" to User \"%s\"", b->name,
                 b->ns, b->ref_cluster ? "ClusterRole" : "Role", b->ref_name, user->name);
    else
        snprintf(why, n, "RBAC: allowed by ClusterRoleBinding \"%s\" of ClusterRole \"%s\" to User \"%s\"",
                 b->name, b->ref_name, user->name);
}

static bool visit_bucket(const struct api_server *s, const struct rb_ns *bucket,
                         const struct api_user *user, rbac_rule_fn fn, void *arg, char *why,
                         size_t why_n)
{
    for (size_t i = 0; bucket && i < bucket->n; i++) {
        const struct rb_binding *b = bucket->v[i];
        const json_t *rules;
        size_t j;
        json_t *rule;

        if (!binding_applies(b, user)) continue;
        rules = json_object_get(
            rbac_role_object(s, b->ns, b->ref_cluster ? "ClusterRole" : "Role", b->ref_name), "rules");
        json_array_foreach(rules, j, rule) {
            if (fn(arg, rule)) {
                describe(why, why_n, b, user);
                return true;
            }
        }
    }
    return false;
}

bool rbac_visit_rules(const struct api_server *s, const struct api_user *user, const char *ns,
                      rbac_rule_fn fn, void *arg, char *why, size_t why_n)
{
    struct api_rbac *c = s->rbac;

    if (c == NULL || user == NULL) return false;
    if (visit_bucket(s, ns_bucket(c, "", false), user, fn, arg, why, why_n)) return true;
    return ns && ns[0] && visit_bucket(s, ns_bucket(c, ns, false), user, fn, arg, why, why_n);
}

static bool allows(void *arg, const json_t *rule)
{
    return rbac_rule_allows(rule, arg);
}

bool rbac_allowed(const struct api_server *s, const struct rbac_attrs *a, char *why, size_t why_n)
{
    if (why) why[0] = '\0';
    if (a->user == NULL) return false;
    if (api_user_in_group(a->user, "system:masters")) return true;
    return rbac_visit_rules(s, a->user, a->ns, allows, (void *)a, why, why_n);
}
