/* authz_node.c — Kubernetes' Node authorizer and the NodeRestriction rules
 * that can be checked from a request's path: a node (system:node:NAME in
 * system:nodes) reads only the Secrets, ConfigMaps and
 * PersistentVolumeClaims its pods use and creates tokens only for its
 * pods' ServiceAccounts; it writes only its own Node and Lease, and the
 * status of, deletes and evicts only the pods bound to it. The pods are
 * kept in memory from one store watch (as rbac_cache.c keeps RBAC), each
 * reference counted in one map keyed by node, so a decision is two hash
 * lookups and reads no store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/podrefs.h"

#define POD_PREFIX "/registry/core/pods/"
#define INGRESS_PREFIX "/registry/networking.k8s.io/ingresses/"
#define NODE_USER_PREFIX "system:node:"
#define SEP '\x1f'

/* One reference from a pod on a node to an object: "NODE SEP T SEP NS SEP
 * NAME" with T one of S (Secret), C (ConfigMap), P (claim), A
 * (ServiceAccount); counted, since many pods share one object. */
struct nz_ref {
    struct orc_hnode node;
    char *key;
    size_t count;
};

struct nz_pod { /* a pod or an Ingress, by "NS/NAME" */
    struct orc_hnode node;
    char *key;
    char *node_name; /* "" when not bound */
    char **refs;     /* the keys this pod added */
    size_t n_refs;
};

/* The objects whose references make the graph: pods, and Ingresses for
 * their TLS Secrets. */
enum { NZ_PODS, NZ_INGRESSES, NZ_SOURCES };

struct nz_source {
    struct api_nodeauthz *z;
    const char *prefix;
    store_watch *w;
};

struct api_nodeauthz {
    struct api_server *s;
    struct orc_hmap objs[NZ_SOURCES]; /* struct nz_pod by "NS/NAME" */
    struct orc_hmap refs;
    struct nz_source src[NZ_SOURCES];
};

/* ---- the index ---- */

#define REF_KEY_EXTRA 6 /* three separators, the type, the NUL, one spare */

/* "node|t|ns|name" into k, which holds strlen of the three + REF_KEY_EXTRA. */
static void ref_key_fill(char *k, const char *node, char t, const char *ns, const char *name)
{
    size_t ln = strlen(node), lns = strlen(ns), lm = strlen(name);

    memcpy(k, node, ln);
    k[ln] = SEP;
    k[ln + 1] = t;
    k[ln + 2] = SEP;
    memcpy(k + ln + 3, ns, lns);
    k[ln + 3 + lns] = SEP;
    memcpy(k + ln + 4 + lns, name, lm + 1);
}

static size_t ref_key_size(const char *node, const char *ns, const char *name)
{
    return strlen(node) + strlen(ns) + strlen(name) + REF_KEY_EXTRA;
}

static char *ref_key(const char *node, char t, const char *ns, const char *name)
{
    char *k = malloc(ref_key_size(node, ns, name));

    if (k != NULL) ref_key_fill(k, node, t, ns, name);
    return k;
}

static void ref_drop(struct api_nodeauthz *z, const char *key)
{
    struct orc_hnode *n = orc_hmap_get(&z->refs, key);
    struct nz_ref *r = (struct nz_ref *)n;

    if (r == NULL || --r->count > 0) return;
    orc_hmap_del(&z->refs, n);
    free(r->key);
    free(r);
}

static int ref_add(struct api_nodeauthz *z, const char *key)
{
    struct nz_ref *r = (struct nz_ref *)orc_hmap_get(&z->refs, key);

    if (r) {
        r->count++;
        return 0;
    }
    if ((r = calloc(1, sizeof *r)) == NULL || (r->key = strdup(key)) == NULL) {
        free(r);
        return ORC_ENOMEM;
    }
    r->count = 1;
    r->node.key = r->key;
    if (orc_hmap_put(&z->refs, &r->node) != 0) {
        free(r->key);
        free(r);
        return ORC_ENOMEM;
    }
    return 0;
}

/* Frees p, dropping the first `added` of its references from the counts
 * (all of them once it is in the index). */
static void pod_release(struct api_nodeauthz *z, struct nz_pod *p, size_t added)
{
    for (size_t i = 0; i < p->n_refs; i++) {
        if (i < added) ref_drop(z, p->refs[i]);
        free(p->refs[i]);
    }
    free(p->refs);
    free(p->node_name);
    free(p->key);
    free(p);
}

static void pod_free(struct api_nodeauthz *z, struct nz_pod *p)
{
    pod_release(z, p, p->n_refs);
}

struct refs_acc {
    struct nz_pod *p;
    const char *ns;
    size_t cap;
    int err;
};

static void acc_add(void *arg, enum orc_pod_ref t, const char *name)
{
    struct refs_acc *a = arg;
    char *k;

    if (a->err || name == NULL || *name == '\0') return;
    if (a->p->n_refs == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        char **v = realloc(a->p->refs, cap * sizeof *v);
        if (v == NULL) {
            a->err = ORC_ENOMEM;
            return;
        }
        a->p->refs = v;
        a->cap = cap;
    }
    if ((k = ref_key(a->p->node_name, (char)t, a->ns, name)) == NULL) {
        a->err = ORC_ENOMEM;
        return;
    }
    a->p->refs[a->p->n_refs++] = k;
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);

    if (b) v = json_object_get(v, b);
    return json_string_value(v);
}

static int pod_refs(struct nz_pod *p, const char *ns, const json_t *spec)
{
    struct refs_acc a = {p, ns, 0, 0};

    orc_pod_refs(spec, acc_add, &a);
    return a.err;
}

/* Every node serves Ingress (the agent is the Ingress proxy), so an
 * Ingress's TLS Secrets are every node's: references under node "". */
static int ingress_refs(struct nz_pod *p, const char *ns, const json_t *spec)
{
    struct refs_acc a = {p, ns, 0, 0};
    size_t i;
    const json_t *t;

    json_array_foreach(json_object_get(spec, "tls"), i, t) acc_add(&a, ORC_REF_SECRET, str_at(t, "secretName", NULL));
    return a.err;
}

/* Which source a store key is of, and its "NS/NAME"; -1 for neither. */
static int source_of(const char *key, const char **id)
{
    static const char *const prefixes[NZ_SOURCES] = {POD_PREFIX, INGRESS_PREFIX};

    for (int i = 0; i < NZ_SOURCES; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(key, prefixes[i], n) == 0) {
            *id = key + n;
            return i;
        }
    }
    return -1;
}

static void forget(struct api_nodeauthz *z, struct orc_hmap *map, const char *id)
{
    struct orc_hnode *n = orc_hmap_get(map, id);

    if (n == NULL) return;
    orc_hmap_del(map, n);
    pod_free(z, (struct nz_pod *)n);
}

/* Indexes one pod (src NZ_PODS: references under its node, none while
 * unbound) or Ingress (NZ_INGRESSES: its TLS Secrets, under node ""). */
static int learn(struct api_nodeauthz *z, int src, const char *id, const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const char *node = src == NZ_PODS ? str_at(spec, "nodeName", NULL) : "", *slash = strchr(id, '/');
    struct orc_hmap *map = &z->objs[src];
    struct nz_pod *p = calloc(1, sizeof *p);
    char ns[256];
    size_t added = 0;
    int rv = ORC_ENOMEM;

    if (p == NULL) return ORC_ENOMEM;
    snprintf(ns, sizeof ns, "%.*s", slash ? (int)(slash - id) : 0, id);
    if (!(p->key = strdup(id)) || !(p->node_name = strdup(node ? node : ""))) goto fail;
    if (src == NZ_INGRESSES) rv = ingress_refs(p, ns, spec);
    else rv = node && *node ? pod_refs(p, ns, spec) : 0;
    if (rv != 0) goto fail;
    for (; added < p->n_refs; added++)
        if ((rv = ref_add(z, p->refs[added])) != 0) goto fail;
    p->node.key = p->key;
    if ((rv = orc_hmap_put(map, &p->node)) != 0) goto fail;
    return 0;
fail:
    pod_release(z, p, added);
    return rv;
}

static void note(struct api_nodeauthz *z, const struct store_kv *kv, bool deleted)
{
    const char *id = NULL;
    int src = source_of(kv->key, &id);
    json_t *obj;
    int rv;

    if (src < 0 || strchr(id, '/') == NULL) return;
    forget(z, &z->objs[src], id);
    if (deleted) return;
    if ((obj = orc_json_loadb(kv->value, kv->value_len, 0, NULL)) == NULL) return;
    rv = learn(z, src, id, obj);
    json_decref(obj);
    if (rv != 0) log_error("apiserver", "node authorizer: indexing %s: %s", kv->key, orc_strerror(rv));
}

static void clear_source(struct api_nodeauthz *z, int src)
{
    struct orc_hmap *map = &z->objs[src];
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(map); n; n = next) {
        next = orc_hmap_next(map, n);
        orc_hmap_del(map, n);
        pod_free(z, (struct nz_pod *)n);
    }
}

static void resync(void *arg);

static void on_event(void *arg, const struct store_event *ev, int err)
{
    struct nz_source *src = arg;
    struct api_nodeauthz *z = src->z;

    if (ev == NULL) {
        src->w = NULL;
        if (err == ORC_ECOMPACTED && !z->s->stopping) api_later(z->s, 0, resync, src);
        return;
    }
    note(z, ev->kv, ev->type == STORE_EVENT_DELETE);
}

static void resync(void *arg)
{
    struct nz_source *src = arg;
    struct api_nodeauthz *z = src->z;
    struct store_list l = {0};
    int i = (int)(src - z->src), rv;

    if (z->s->stopping) return;
    clear_source(z, i);
    rv = store_range(z->s->st, src->prefix, NULL, 0, 0, &l);
    for (size_t j = 0; rv == 0 && j < l.n; j++) note(z, &l.kvs[j], false);
    if (rv == 0) rv = store_watch_start(z->s->st, src->prefix, l.revision, on_event, src, &src->w);
    store_list_clear(&l);
    if (rv != 0) log_error("apiserver", "node authorizer: watching %s: %s", src->prefix, orc_strerror(rv));
}

struct api_nodeauthz *nodeauthz_new(void)
{
    static const char *const prefixes[NZ_SOURCES] = {POD_PREFIX, INGRESS_PREFIX};
    struct api_nodeauthz *z = calloc(1, sizeof *z);

    for (int i = 0; z && i < NZ_SOURCES; i++) z->src[i] = (struct nz_source){z, prefixes[i], NULL};
    return z;
}

void nodeauthz_note(struct api_nodeauthz *z, const struct store_kv *kv, bool deleted)
{
    note(z, kv, deleted);
}

void nodeauthz_free(struct api_nodeauthz *z)
{
    if (z == NULL) return;
    for (int i = 0; i < NZ_SOURCES; i++) {
        clear_source(z, i);
        orc_hmap_free(&z->objs[i]);
    }
    orc_hmap_free(&z->refs);
    free(z);
}

int api_nodeauthz_start(struct api_server *s)
{
    struct api_nodeauthz *z = nodeauthz_new();

    if (z == NULL) return ORC_ENOMEM;
    z->s = s;
    s->nodeauthz = z;
    for (int i = 0; i < NZ_SOURCES; i++) resync(&z->src[i]);
    return 0;
}

void api_nodeauthz_stop(struct api_server *s)
{
    struct api_nodeauthz *z = s->nodeauthz;

    if (z == NULL) return;
    for (int i = 0; i < NZ_SOURCES; i++)
        if (z->src[i].w) store_watch_stop(z->src[i].w);
    nodeauthz_free(z);
    s->nodeauthz = NULL;
}

/* ---- decisions ---- */

/* The node a user is, or NULL when it is not a node. */
const char *api_node_of_user(const struct api_user *u)
{
    const char *n = u ? u->name : NULL;

    if (n == NULL || strncmp(n, NODE_USER_PREFIX, sizeof NODE_USER_PREFIX - 1) != 0) return NULL;
    n += sizeof NODE_USER_PREFIX - 1;
    if (*n == '\0' || !api_user_in_group(u, "system:nodes")) return NULL;
    return n;
}

static bool has_ref(const struct api_nodeauthz *z, const char *node, char t, const char *ns, const char *name)
{
    char key[1024];

    if (ref_key_size(node, ns, name) > sizeof key) return false;
    ref_key_fill(key, node, t, ns, name);
    return orc_hmap_get(&z->refs, key) != NULL;
}

/* The node a pod is bound to: "" when unbound, NULL when unknown. */
static const char *pod_node(const struct api_nodeauthz *z, const char *ns, const char *name)
{
    char id[520];
    const struct nz_pod *p;

    if (snprintf(id, sizeof id, "%s/%s", ns, name) >= (int)sizeof id) return NULL;
    p = (const struct nz_pod *)orc_hmap_get(&z->objs[NZ_PODS], id);
    return p ? p->node_name : NULL;
}

static bool is_write(const char *verb)
{
    return strcmp(verb, "update") == 0 || strcmp(verb, "patch") == 0 || strcmp(verb, "delete") == 0;
}

static enum api_node_decision deny(char *why, size_t n, const char *fmt, const char *node)
{
    snprintf(why, n, fmt, node);
    return API_NODE_DENY;
}

/* NodeRestriction's rules on pods: status, delete and eviction only of
 * pods bound to this node. */
static enum api_node_decision pod_write(const struct api_nodeauthz *z, const struct rbac_attrs *a,
                                        const char *node, char *why, size_t n)
{
    const char *bound;

    if (!a->name[0]) return API_NODE_NO_OPINION;
    /* A pod not (or no longer) known is the handler's 404, as Kubernetes
     * answers it: the agent takes a 404 for a pod deleted under it as done,
     * a 403 it would retry for ever. */
    bound = pod_node(z, a->ns, a->name);
    if (bound == NULL || strcmp(bound, node) == 0) return API_NODE_NO_OPINION;
    if (strcmp(a->sub, "status") == 0 && (strcmp(a->verb, "update") == 0 || strcmp(a->verb, "patch") == 0))
        return deny(why, n, "node \"%s\" can only update pod status for pods with spec.nodeName set to itself",
                    node);
    if (strcmp(a->sub, "eviction") == 0 && strcmp(a->verb, "create") == 0)
        return deny(why, n, "node \"%s\" can only evict pods with spec.nodeName set to itself", node);
    if (a->sub[0] == '\0' && strcmp(a->verb, "delete") == 0)
        return deny(why, n, "node \"%s\" can only delete pods with spec.nodeName set to itself", node);
    return API_NODE_NO_OPINION;
}

static char ref_type(const char *resource)
{
    return strcmp(resource, "secrets") == 0                  ? ORC_REF_SECRET
           : strcmp(resource, "configmaps") == 0             ? ORC_REF_CONFIGMAP
           : strcmp(resource, "persistentvolumeclaims") == 0 ? ORC_REF_CLAIM
                                                             : 0;
}

/* get, list and watch of one Secret, ConfigMap or claim by name (a list's
 * name is its fieldSelector metadata.name=X, as rbac_match.c reads it) the
 * node's pods use, or, for a Secret, one an Ingress serves TLS with;
 * anything else is RBAC's, which grants a node none of these. */
static enum api_node_decision read_object(const struct api_nodeauthz *z, const struct rbac_attrs *a,
                                          const char *node, char t, char *why, size_t n)
{
    const char *v = a->verb;

    if (strcmp(v, "get") != 0 && strcmp(v, "list") != 0 && strcmp(v, "watch") != 0)
        snprintf(why, n, "%s", "can only read resources of this type");
    else if (a->sub[0]) snprintf(why, n, "%s", "cannot read subresource");
    else if (!a->ns[0]) snprintf(why, n, "%s", "can only read namespaced object of this type");
    else if (!a->name[0]) snprintf(why, n, "%s", "No Object name found");
    else if (has_ref(z, node, t, a->ns, a->name) || (t == ORC_REF_SECRET && has_ref(z, "", t, a->ns, a->name)))
        return API_NODE_ALLOW;
    else snprintf(why, n, "no relationship found between node '%s' and this object", node);
    return API_NODE_NO_OPINION;
}

enum api_node_decision api_node_authorize(const struct api_server *s, const struct rbac_attrs *a,
                                          char *why, size_t why_n)
{
    return nodeauthz_decide(s->nodeauthz, a, why, why_n);
}

enum api_node_decision nodeauthz_decide(const struct api_nodeauthz *z, const struct rbac_attrs *a,
                                        char *why, size_t why_n)
{
    const char *node = api_node_of_user(a->user), *r = a->resource;

    why[0] = '\0';
    if (node == NULL || z == NULL || !a->resource_request) return API_NODE_NO_OPINION;
    if (strcmp(a->group, "coordination.k8s.io") == 0 && strcmp(r, "leases") == 0) {
        if (strcmp(a->ns, "kube-node-lease") == 0 && a->name[0] && strcmp(a->name, node) != 0
            && is_write(a->verb))
            return deny(why, why_n, "%s", "can only access node lease with the same name as the requesting node");
        return API_NODE_NO_OPINION;
    }
    if (a->group[0]) return API_NODE_NO_OPINION;
    if (strcmp(r, "nodes") == 0) {
        if (a->name[0] && strcmp(a->name, node) != 0 && is_write(a->verb)) {
            snprintf(why, why_n, "node \"%s\" is not allowed to modify node \"%s\"", node, a->name);
            return API_NODE_DENY;
        }
        return API_NODE_NO_OPINION;
    }
    if (strcmp(r, "pods") == 0) return pod_write(z, a, node, why, why_n);
    if (ref_type(r)) return read_object(z, a, node, ref_type(r), why, why_n);
    if (strcmp(r, "serviceaccounts") == 0 && strcmp(a->sub, "token") == 0 && strcmp(a->verb, "create") == 0) {
        if (has_ref(z, node, 'A', a->ns, a->name)) return API_NODE_ALLOW;
        snprintf(why, why_n, "no relationship found between node '%s' and this object", node);
    }
    return API_NODE_NO_OPINION;
}
