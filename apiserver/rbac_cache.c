/* rbac_cache.c — Roles, ClusterRoles and their bindings in memory, kept
 * current from one store watch of the RBAC group (as nscache.c keeps
 * namespaces), so that authorizing a request reads no store and parses
 * nothing: the objects are parsed once per change. Bindings are indexed by
 * namespace and subject (struct rb_subj): a request looks up its user and
 * groups in the cluster's bindings and its own namespace's only. */
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
    struct rbac_rule *rules; /* obj's rules, compiled */
    size_t n_rules;
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

/* The bindings that name one subject in one namespace ("" for
 * ClusterRoleBindings): "NS\x1fU\x1fNAME" for a user (a ServiceAccount is
 * its user name), "NS\x1fG\x1fNAME" for a group. A request looks up its
 * user and each of its groups, so the cost grows with the user's groups,
 * not with the number of bindings. */
struct rb_subj {
    struct orc_hnode node;
    char *key;
    struct rb_binding **v;
    size_t n, cap;
    /* The distinct roles those bindings grant (a binding each, the first
     * of its role), rebuilt on every change: a user bound 1,000 times to
     * the same few roles costs a request a few role lookups, not 1,000. */
    const struct rb_binding **roles;
    size_t n_roles;
};

struct api_rbac {
    struct api_server *s;
    struct orc_hmap roles, bindings, subjects;
    store_watch *w;
    void (*on_cr)(struct api_server *s);
    bool cr_pending;
};

/* ---- the maps ---- */

static void role_free(struct rb_role *r)
{
    for (size_t i = 0; i < r->n_rules; i++) rbac_rule_release(&r->rules[i]);
    free(r->rules);
    free(r->key);
    free(r->store_key);
    json_decref(r->obj);
    free(r);
}

#define SUBJ_KEY_MAX 600

/* a SEP b [SEP c] into out (no printf: this is on every request's path). */
static bool join(char *out, size_t n, const char *a, char sep, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;

    if (la + lb + lc + 3 > n) return false;
    memcpy(out, a, la);
    out[la] = sep;
    memcpy(out + la + 1, b, lb);
    if (c) {
        out[la + 1 + lb] = sep;
        memcpy(out + la + 2 + lb, c, lc);
        out[la + 2 + lb + lc] = '\0';
    } else {
        out[la + 1 + lb] = '\0';
    }
    return true;
}

static bool subject_key(char *out, size_t n, const char *ns, const char *kind_char, const char *name)
{
    return join(out, n, ns, '\x1f', kind_char, name);
}

/* The index key of a Subject (JSON) of a binding in ns; false when the
 * subject names nobody orc can authenticate. */
static bool subject_of(const json_t *sub, const char *ns, char *out, size_t n)
{
    const char *kind = orc_json_str(sub, "kind"), *name = orc_json_str(sub, "name");
    char sa[SUBJ_KEY_MAX];

    if (kind == NULL || name == NULL) return false;
    if (strcmp(kind, "User") == 0) return subject_key(out, n, ns, "U", name);
    if (strcmp(kind, "Group") == 0) return subject_key(out, n, ns, "G", name);
    if (strcmp(kind, "ServiceAccount") != 0) return false;
    const char *sa_ns = orc_json_str(sub, "namespace");
    if (sa_ns == NULL || *sa_ns == '\0') sa_ns = ns;
    int w = snprintf(sa, sizeof sa, "system:serviceaccount:%s:%s", sa_ns, name);
    return w > 0 && (size_t)w < sizeof sa && subject_key(out, n, ns, "U", sa);
}

static bool same_role(const struct rb_binding *a, const struct rb_binding *b)
{
    return a->ref_cluster == b->ref_cluster && strcmp(a->ref_name, b->ref_name) == 0;
}

static int subj_roles_rebuild(struct rb_subj *e)
{
    const struct rb_binding **r = realloc(e->roles, (e->n ? e->n : 1) * sizeof *r);

    if (r == NULL) return ORC_ENOMEM;
    e->roles = r;
    e->n_roles = 0;
    for (size_t i = 0; i < e->n; i++) {
        size_t j = 0;
        while (j < e->n_roles && !same_role(e->roles[j], e->v[i])) j++;
        if (j == e->n_roles) e->roles[e->n_roles++] = e->v[i];
    }
    return 0;
}

static int subj_add(struct api_rbac *c, const char *key, struct rb_binding *b)
{
    struct orc_hnode *n = orc_hmap_get(&c->subjects, key);
    struct rb_subj *e = (struct rb_subj *)n;

    if (e == NULL) {
        if (!(e = calloc(1, sizeof *e)) || !(e->key = strdup(key))) {
            free(e);
            return ORC_ENOMEM;
        }
        e->node.key = e->key;
        if (orc_hmap_put(&c->subjects, &e->node) != 0) {
            free(e->key);
            free(e);
            return ORC_ENOMEM;
        }
    }
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i] == b) return 0; /* the same subject twice */
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        struct rb_binding **v = realloc(e->v, cap * sizeof *v);
        if (v == NULL) return ORC_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = b;
    return subj_roles_rebuild(e);
}

static void subj_del(struct api_rbac *c, const char *key, const struct rb_binding *b)
{
    struct rb_subj *e = (struct rb_subj *)orc_hmap_get(&c->subjects, key);

    for (size_t i = 0; e && i < e->n; i++)
        if (e->v[i] == b) {
            memmove(e->v + i, e->v + i + 1, (e->n - i - 1) * sizeof *e->v);
            e->n--;
            break;
        }
    /* shrinking needs no memory; on failure the list only loses roles */
    if (e && e->n > 0 && subj_roles_rebuild(e) != 0) e->n_roles = 0;
    if (e && e->n == 0) {
        orc_hmap_del(&c->subjects, &e->node);
        free(e->roles);
        free(e->v);
        free(e->key);
        free(e);
    }
}

static void binding_drop(struct api_rbac *c, struct rb_binding *b)
{
    char key[SUBJ_KEY_MAX];
    size_t i;
    json_t *sub;

    json_array_foreach(json_object_get(b->obj, "subjects"), i, sub)
        if (subject_of(sub, b->ns, key, sizeof key)) subj_del(c, key, b);
    orc_hmap_del(&c->bindings, &b->node);
    free(b->store_key);
    free(b->ns);
    free(b->name);
    json_decref(b->obj);
    free(b);
}

/* On failure the binding is partly indexed: the caller drops it. */
static int binding_add(struct api_rbac *c, struct rb_binding *b)
{
    char key[SUBJ_KEY_MAX];
    size_t i;
    json_t *sub;

    if (orc_hmap_put(&c->bindings, &b->node) != 0) return ORC_ENOMEM;
    json_array_foreach(json_object_get(b->obj, "subjects"), i, sub)
        if (subject_of(sub, b->ns, key, sizeof key) && subj_add(c, key, b) != 0) return ORC_ENOMEM;
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
    const json_t *rules = json_object_get(obj, "rules");
    if (json_array_size(rules) && !(r->rules = calloc(json_array_size(rules), sizeof *r->rules))) goto fail;
    for (size_t i = 0; i < json_array_size(rules); i++, r->n_rules++)
        if (rbac_rule_compile(json_array_get(rules, i), &r->rules[i]) != 0) goto fail;
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
        if (orc_hmap_get(&c->bindings, b->store_key) == &b->node) {
            binding_drop(c, b);
        } else {
            free(b->store_key);
            free(b->ns);
            free(b->name);
            json_decref(b->obj);
            free(b);
        }
        log_warn("apiserver", "RBAC cache: out of memory; a binding is left out");
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

void rbac_cache_free(struct api_rbac *c);

void api_rbac_stop(struct api_server *s)
{
    struct api_rbac *c = s->rbac;

    if (c == NULL) return;
    if (c->w) store_watch_stop(c->w);
    rbac_cache_free(c);
    s->rbac = NULL;
}

void rbac_on_clusterroles(struct api_server *s, void (*fn)(struct api_server *s))
{
    if (s->rbac) s->rbac->on_cr = fn;
}

/* ---- lookups ---- */

static const struct rb_role *role_find(const struct api_rbac *c, const char *ns, bool cluster,
                                       const char *name)
{
    char key[600];

    if (c == NULL || name == NULL || !join(key, sizeof key, cluster ? "" : ns, '/', name, NULL)) return NULL;
    return (const struct rb_role *)orc_hmap_get(&c->roles, key);
}

static const json_t *role_object(const struct api_rbac *c, const char *ns, const char *kind,
                                 const char *name)
{
    const struct rb_role *r = role_find(c, ns, kind && strcmp(kind, "ClusterRole") == 0, name);
    return r ? r->obj : NULL;
}

const json_t *rbac_role_object(const struct api_server *s, const char *ns, const char *kind,
                               const char *name)
{
    return role_object(s->rbac, ns, kind, name);
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

static bool visit_subject(const struct api_rbac *c, const char *key, const struct api_user *user,
                          rbac_rule_fn fn, void *arg, char *why, size_t why_n)
{
    const struct rb_subj *e = (const struct rb_subj *)orc_hmap_get(&c->subjects, key);

    for (size_t i = 0; e && i < e->n_roles; i++) {
        const struct rb_binding *b = e->roles[i];
        const struct rb_role *r = role_find(c, b->ns, b->ref_cluster, b->ref_name);

        for (size_t j = 0; r && j < r->n_rules; j++) {
            if (fn(arg, &r->rules[j])) {
                describe(why, why_n, b, user);
                return true;
            }
        }
    }
    return false;
}

/* The bindings of ns ("" : cluster-wide) naming the user or a group. */
static bool visit_ns(const struct api_rbac *c, const char *ns, const struct api_user *user,
                     rbac_rule_fn fn, void *arg, char *why, size_t why_n)
{
    char key[SUBJ_KEY_MAX];

    if (subject_key(key, sizeof key, ns, "U", user->name)
        && visit_subject(c, key, user, fn, arg, why, why_n))
        return true;
    for (size_t g = 0; g < user->n_groups; g++)
        if (subject_key(key, sizeof key, ns, "G", user->groups[g])
            && visit_subject(c, key, user, fn, arg, why, why_n))
            return true;
    return false;
}

static bool cache_visit(const struct api_rbac *c, const struct api_user *user, const char *ns,
                        rbac_rule_fn fn, void *arg, char *why, size_t why_n)
{
    if (c == NULL || user == NULL) return false;
    if (visit_ns(c, "", user, fn, arg, why, why_n)) return true;
    return ns && ns[0] && visit_ns(c, ns, user, fn, arg, why, why_n);
}

bool rbac_visit_rules(const struct api_server *s, const struct api_user *user, const char *ns,
                      rbac_rule_fn fn, void *arg, char *why, size_t why_n)
{
    return cache_visit(s->rbac, user, ns, fn, arg, why, why_n);
}

static bool allows(void *arg, const struct rbac_rule *rule)
{
    return rbac_compiled_allows(rule, arg);
}

bool rbac_cache_allowed(const struct api_rbac *c, const struct rbac_attrs *a, char *why, size_t why_n)
{
    if (why) why[0] = '\0';
    if (a->user == NULL) return false;
    if (api_user_in_group(a->user, "system:masters")) return true;
    return cache_visit(c, a->user, a->ns, allows, (void *)a, why, why_n);
}

bool rbac_allowed(const struct api_server *s, const struct rbac_attrs *a, char *why, size_t why_n)
{
    return rbac_cache_allowed(s->rbac, a, why, why_n);
}

/* ---- standalone (tests, measurements) ---- */

struct api_rbac *rbac_cache_new(void)
{
    return calloc(1, sizeof(struct api_rbac));
}

void rbac_cache_note(struct api_rbac *c, const struct store_kv *kv, bool deleted)
{
    bool crc = false;
    note(c, kv, deleted, &crc);
}

void rbac_cache_free(struct api_rbac *c)
{
    if (c == NULL) return;
    clear_all(c);
    orc_hmap_free(&c->roles);
    orc_hmap_free(&c->bindings);
    orc_hmap_free(&c->subjects);
    free(c);
}
