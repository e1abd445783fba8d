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

#define POD_PREFIX "/registry/core/pods/"
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

struct nz_pod { /* by "NS/NAME" */
    struct orc_hnode node;
    char *key;
    char *node_name; /* "" when not bound */
    char **refs;     /* the keys this pod added */
    size_t n_refs;
};

struct api_nodeauthz {
    struct api_server *s;
    struct orc_hmap pods, refs;
    store_watch *w;
};

/* ---- the index ---- */

static char *ref_key(const char *node, char t, const char *ns, const char *name)
{
    size_t ln = strlen(node), lns = strlen(ns), lm = strlen(name);
    char *k = malloc(ln + lns + lm + 6);

    if (k == NULL) return NULL;
    memcpy(k, node, ln);
    k[ln] = SEP;
    k[ln + 1] = t;
    k[ln + 2] = SEP;
    memcpy(k + ln + 3, ns, lns);
    k[ln + 3 + lns] = SEP;
    memcpy(k + ln + 4 + lns, name, lm + 1);
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

static void acc_add(struct refs_acc *a, char t, const char *name)
{
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
    if ((k = ref_key(a->p->node_name, t, a->ns, name)) == NULL) {
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

/* env[].valueFrom and envFrom[] of one container list. */
static void containers_refs(struct refs_acc *a, const json_t *list)
{
    size_t i, j;
    const json_t *c, *e;

    json_array_foreach(list, i, c) {
        json_array_foreach(json_object_get(c, "env"), j, e) {
            const json_t *vf = json_object_get(e, "valueFrom");
            acc_add(a, 'S', str_at(vf, "secretKeyRef", "name"));
            acc_add(a, 'C', str_at(vf, "configMapKeyRef", "name"));
        }
        json_array_foreach(json_object_get(c, "envFrom"), j, e) {
            acc_add(a, 'S', str_at(e, "secretRef", "name"));
            acc_add(a, 'C', str_at(e, "configMapRef", "name"));
        }
    }
}

static void volumes_refs(struct refs_acc *a, const json_t *vols)
{
    size_t i, j;
    const json_t *v, *src;

    json_array_foreach(vols, i, v) {
        acc_add(a, 'S', str_at(v, "secret", "secretName"));
        acc_add(a, 'C', str_at(v, "configMap", "name"));
        acc_add(a, 'P', str_at(v, "persistentVolumeClaim", "claimName"));
        json_array_foreach(json_object_get(json_object_get(v, "projected"), "sources"), j, src) {
            acc_add(a, 'S', str_at(src, "secret", "name"));
            acc_add(a, 'C', str_at(src, "configMap", "name"));
        }
    }
}

static int pod_refs(struct nz_pod *p, const char *ns, const json_t *spec)
{
    struct refs_acc a = {p, ns, 0, 0};
    const char *sa = str_at(spec, "serviceAccountName", NULL);
    size_t i;
    const json_t *e;

    containers_refs(&a, json_object_get(spec, "containers"));
    containers_refs(&a, json_object_get(spec, "initContainers"));
    containers_refs(&a, json_object_get(spec, "ephemeralContainers"));
    volumes_refs(&a, json_object_get(spec, "volumes"));
    json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, e) acc_add(&a, 'S', str_at(e, "name", NULL));
    acc_add(&a, 'A', sa && *sa ? sa : "default");
    return a.err;
}

/* "/registry/core/pods/NS/NAME" -> "NS/NAME", ns. */
static const char *pod_id(const char *key)
{
    return strncmp(key, POD_PREFIX, sizeof POD_PREFIX - 1) == 0 ? key + sizeof POD_PREFIX - 1 : NULL;
}

static void forget(struct api_nodeauthz *z, const char *id)
{
    struct orc_hnode *n = orc_hmap_get(&z->pods, id);

    if (n == NULL) return;
    orc_hmap_del(&z->pods, n);
    pod_free(z, (struct nz_pod *)n);
}

static int learn(struct api_nodeauthz *z, const char *id, const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const char *node = str_at(spec, "nodeName", NULL), *slash = strchr(id, '/');
    struct nz_pod *p = calloc(1, sizeof *p);
    char ns[256];
    size_t added = 0;
    int rv = ORC_ENOMEM;

    if (p == NULL) return ORC_ENOMEM;
    snprintf(ns, sizeof ns, "%.*s", slash ? (int)(slash - id) : 0, id);
    if (!(p->key = strdup(id)) || !(p->node_name = strdup(node ? node : ""))) goto fail;
    if (node && *node && (rv = pod_refs(p, ns, spec)) != 0) goto fail;
    for (; added < p->n_refs; added++)
        if ((rv = ref_add(z, p->refs[added])) != 0) goto fail;
    p->node.key = p->key;
    if ((rv = orc_hmap_put(&z->pods, &p->node)) != 0) goto fail;
    return 0;
fail:
    pod_release(z, p, added);
    return rv;
}

static void note(struct api_nodeauthz *z, const struct store_kv *kv, bool deleted)
{
    const char *id = pod_id(kv->key);
    json_t *obj;
    int rv;

    if (id == NULL || strchr(id, '/') == NULL) return;
    forget(z, id);
    if (deleted) return;
    if ((obj = orc_json_loadb(kv->value, kv->value_len, 0, NULL)) == NULL) return;
    rv = learn(z, id, obj);
    json_decref(obj);
    if (rv != 0) log_error("apiserver", "node authorizer: indexing pod %s: %s", id, orc_strerror(rv));
}

static void clear_all(struct api_nodeauthz *z)
{
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(&z->pods); n; n = next) {
        next = orc_hmap_next(&z->pods, n);
        orc_hmap_del(&z->pods, n);
        pod_free(z, (struct nz_pod *)n);
    }
}

static void resync(void *arg);

static void on_event(void *arg, const struct store_event *ev, int err)
{
    struct api_nodeauthz *z = arg;

    if (ev == NULL) {
        z->w = NULL;
        if (err == ORC_ECOMPACTED && !z->s->stopping) api_later(z->s, 0, resync, z);
        return;
    }
    note(z, ev->kv, ev->type == STORE_EVENT_DELETE);
}

static void resync(void *arg)
{
    struct api_nodeauthz *z = arg;
    struct store_list l = {0};
    int rv;

    if (z->s->stopping) return;
    clear_all(z);
    rv = store_range(z->s->st, POD_PREFIX, NULL, 0, 0, &l);
    for (size_t i = 0; rv == 0 && i < l.n; i++) note(z, &l.kvs[i], false);
    if (rv == 0) rv = store_watch_start(z->s->st, POD_PREFIX, l.revision, on_event, z, &z->w);
    store_list_clear(&l);
    if (rv != 0) log_error("apiserver", "node authorizer: watching pods: %s", orc_strerror(rv));
}

struct api_nodeauthz *nodeauthz_new(void)
{
    return calloc(1, sizeof(struct api_nodeauthz));
}

void nodeauthz_note(struct api_nodeauthz *z, const struct store_kv *kv, bool deleted)
{
    note(z, kv, deleted);
}

void nodeauthz_free(struct api_nodeauthz *z)
{
    if (z == NULL) return;
    clear_all(z);
    orc_hmap_free(&z->pods);
    orc_hmap_free(&z->refs);
    free(z);
}

int api_nodeauthz_start(struct api_server *s)
{
    struct api_nodeauthz *z = nodeauthz_new();

    if (z == NULL) return ORC_ENOMEM;
    z->s = s;
    s->nodeauthz = z;
    resync(z);
    return 0;
}

void api_nodeauthz_stop(struct api_server *s)
{
    struct api_nodeauthz *z = s->nodeauthz;

    if (z == NULL) return;
    if (z->w) store_watch_stop(z->w);
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
    size_t ln = strlen(node), lns = strlen(ns), lm = strlen(name);

    if (ln + lns + lm + 6 > sizeof key) return false;
    memcpy(key, node, ln);
    key[ln] = SEP;
    key[ln + 1] = t;
    key[ln + 2] = SEP;
    memcpy(key + ln + 3, ns, lns);
    key[ln + 3 + lns] = SEP;
    memcpy(key + ln + 4 + lns, name, lm + 1);
    return orc_hmap_get(&z->refs, key) != NULL;
}

/* The node a pod is bound to: "" when unbound, NULL when unknown. */
static const char *pod_node(const struct api_nodeauthz *z, const char *ns, const char *name)
{
    char id[520];
    const struct nz_pod *p;

    if (snprintf(id, sizeof id, "%s/%s", ns, name) >= (int)sizeof id) return NULL;
    p = (const struct nz_pod *)orc_hmap_get(&z->pods, id);
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
    if (strcmp(a->verb, "get") == 0 && a->sub[0] == '\0' && a->name[0]) {
        char t = strcmp(r, "secrets") == 0 ? 'S' : strcmp(r, "configmaps") == 0 ? 'C'
               : strcmp(r, "persistentvolumeclaims") == 0 ? 'P' : 0;
        if (t && has_ref(z, node, t, a->ns, a->name)) return API_NODE_ALLOW;
        if (t) snprintf(why, why_n, "no relationship found between node '%s' and this object", node);
        return API_NODE_NO_OPINION;
    }
    if (strcmp(r, "serviceaccounts") == 0 && strcmp(a->sub, "token") == 0 && strcmp(a->verb, "create") == 0) {
        if (has_ref(z, node, 'A', a->ns, a->name)) return API_NODE_ALLOW;
        snprintf(why, why_n, "no relationship found between node '%s' and this object", node);
    }
    return API_NODE_NO_OPINION;
}
