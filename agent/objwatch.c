/* objwatch.c — the Secrets, ConfigMaps and PersistentVolumeClaims this
 * node's pods use, each watched alone, as the kubelet's watch-based
 * Secret/ConfigMap manager does: one small informer per object (list and
 * watch of its namespace's collection with fieldSelector metadata.name=X,
 * all the Node authorizer lets a node read), reference counted by the
 * pods (and Ingresses) using it and stopped with the last. The agent's
 * memory thus follows its pods, not the cluster's Secrets. Each watch
 * holds a connection (HTTP/1.1, where the kubelet multiplexes HTTP/2), so
 * they are spread over API clients of their own, OBJWATCH_PER_CLIENT on
 * each, under the client's cap of 64 connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define SEP '\x1f'
#define OBJWATCH_PER_CLIENT 48
#define SERVERS_MAX 16

struct objwatch {
    struct orc_hnode node;
    char *key; /* "T SEP NS SEP NAME" */
    struct agent *a;
    enum orc_pod_ref type;
    char *ns, *name;
    informer *inf;         /* NULL when it could not start (logged) */
    size_t client;         /* index in a->watch_clients while inf */
    size_t refs;
};

/* "T SEP NS SEP NAME", malloc'd. */
static char *watch_key(enum orc_pod_ref t, const char *ns, const char *name)
{
    size_t lns = strlen(ns), lm = strlen(name);
    char *k = malloc(lns + lm + 4);

    if (k == NULL) return NULL;
    k[0] = (char)t;
    k[1] = SEP;
    memcpy(k + 2, ns, lns);
    k[2 + lns] = SEP;
    memcpy(k + 3 + lns, name, lm + 1);
    return k;
}

static struct objwatch *find(const struct agent *a, enum orc_pod_ref t, const char *ns, const char *name)
{
    char key[600];
    size_t lns = strlen(ns), lm = strlen(name);

    if (lns + lm + 4 > sizeof key) return NULL;
    key[0] = (char)t;
    key[1] = SEP;
    memcpy(key + 2, ns, lns);
    key[2 + lns] = SEP;
    memcpy(key + 3 + lns, name, lm + 1);
    return (struct objwatch *)orc_hmap_get(&a->objwatches, key);
}

/* ---- changes: the pods of the namespace look again ---- */

static void changed(struct objwatch *o, const json_t *old, const json_t *obj)
{
    struct agent *a = o->a;

    for (struct worker *w = a->workers; w; w = worker_next(w))
        if (strcmp(worker_namespace(w), o->ns) == 0) worker_kick(w);
    if (o->type == ORC_REF_SECRET) agent_ingress_secret_changed(a, old, obj);
}

static void on_add(void *arg, const json_t *obj) { changed(arg, NULL, obj); }
static void on_update(void *arg, const json_t *old, const json_t *obj) { changed(arg, old, obj); }
static void on_delete(void *arg, const json_t *obj) { changed(arg, obj, NULL); }

/* The pods waiting for their objects' first lists go on. */
static void on_synced(void *arg)
{
    struct objwatch *o = arg;

    for (struct worker *w = o->a->workers; w; w = worker_next(w))
        if (strcmp(worker_namespace(w), o->ns) == 0) worker_kick(w);
}

/* ---- the clients ---- */

static void set_servers(struct agent *a, http_client *c)
{
    char list[sizeof a->servers_seen], *save = NULL;
    const char *v[SERVERS_MAX];
    size_t n = 0;

    snprintf(list, sizeof list, "%s", a->servers_seen);
    for (char *t = strtok_r(list, " ", &save); t && n < SERVERS_MAX; t = strtok_r(NULL, " ", &save)) v[n++] = t;
    if (n > 0 && http_client_set_servers(c, v, n) != 0)
        log_warn(AGENT_LOG, "the API servers %s: unusable for the object watches", a->servers_seen);
}

void agent_objwatch_servers(struct agent *a)
{
    for (size_t i = 0; i < a->n_watch_clients; i++)
        if (a->watch_clients[i].c) set_servers(a, a->watch_clients[i].c);
}

/* A client with room for one more watch (counted), or NULL (logged). */
static http_client *client_take(struct agent *a, size_t *slot)
{
    struct objwatch_client *wc;
    size_t i;
    int rv;

    for (i = 0; i < a->n_watch_clients; i++)
        if (a->watch_clients[i].c && a->watch_clients[i].n < OBJWATCH_PER_CLIENT) break;
    if (i == a->n_watch_clients) {
        for (i = 0; i < a->n_watch_clients && a->watch_clients[i].c; i++) {}
        if (i == a->n_watch_clients) {
            if ((wc = realloc(a->watch_clients, (i + 1) * sizeof *wc)) == NULL) return NULL;
            a->watch_clients = wc;
            wc[i] = (struct objwatch_client){NULL, 0};
            a->n_watch_clients++;
        }
        if ((rv = agent_api_client_new(a, &a->watch_clients[i].c)) != 0) {
            a->watch_clients[i].c = NULL;
            log_error(AGENT_LOG, "an API client for object watches: %s", orc_strerror(rv));
            return NULL;
        }
        set_servers(a, a->watch_clients[i].c);
    }
    a->watch_clients[i].n++;
    *slot = i;
    return a->watch_clients[i].c;
}

static void client_closed(void *arg) { agent_release(arg); }

static void client_close(struct agent *a, size_t i)
{
    struct objwatch_client *wc = &a->watch_clients[i];

    if (wc->c == NULL) return;
    agent_hold(a);
    http_client_close(wc->c, client_closed, a);
    wc->c = NULL;
    wc->n = 0;
}

/* One watch fewer on client i; an empty client is closed (the first one
 * stays for the next watch). */
static void client_give(struct agent *a, size_t i)
{
    if (i >= a->n_watch_clients || a->watch_clients[i].c == NULL) return;
    if (--a->watch_clients[i].n == 0 && i > 0) client_close(a, i);
}

/* ---- one watch ---- */

static void start(struct objwatch *o)
{
    static const struct informer_cbs cbs = {on_add, on_update, on_delete, on_synced};
    struct agent *a = o->a;
    char path[600], sel[300];
    http_client *c;
    int rv;

    if (a->api == NULL || a->stopping) return; /* a test's agent without a client */
    if ((c = client_take(a, &o->client)) == NULL) return;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s", o->ns, orc_pod_ref_resource(o->type));
    snprintf(sel, sizeof sel, "metadata.name=%s", o->name);
    /* a 403 while the Node authorizer has not yet seen the pod is retried
     * soon: the pod waits for this list */
    struct informer_config ic = {.path = path, .field_selector = sel, .resync_backoff_max_ms = 2000};
    if ((rv = informer_start(a->loop, c, &ic, &cbs, o, &o->inf)) != 0) {
        o->inf = NULL;
        client_give(a, o->client);
        log_error(AGENT_LOG, "cannot watch %s %s/%s: %s", orc_pod_ref_resource(o->type), o->ns, o->name,
                  orc_strerror(rv));
    }
}

/* ---- references ---- */

static void free_watch(struct objwatch *o)
{
    if (o == NULL) return;
    free(o->key);
    free(o->ns);
    free(o->name);
    free(o);
}

int agent_objwatch_ref(struct agent *a, enum orc_pod_ref t, const char *ns, const char *name)
{
    struct objwatch *o = find(a, t, ns, name);

    if (o) {
        o->refs++;
        return 0;
    }
    if ((o = calloc(1, sizeof *o)) == NULL || (o->key = watch_key(t, ns, name)) == NULL
        || (o->ns = strdup(ns)) == NULL || (o->name = strdup(name)) == NULL) {
        free_watch(o);
        return ORC_ENOMEM;
    }
    o->a = a;
    o->type = t;
    o->refs = 1;
    o->node.key = o->key;
    if (orc_hmap_put(&a->objwatches, &o->node) != 0) {
        free_watch(o);
        return ORC_ENOMEM;
    }
    start(o);
    return 0;
}

static void drop(struct agent *a, struct objwatch *o)
{
    orc_hmap_del(&a->objwatches, &o->node);
    if (o->inf) {
        informer_stop(o->inf);
        client_give(a, o->client);
    }
    free_watch(o);
}

void agent_objwatch_unref(struct agent *a, enum orc_pod_ref t, const char *ns, const char *name)
{
    struct objwatch *o = find(a, t, ns, name);

    if (o && --o->refs == 0) drop(a, o);
}

const json_t *agent_objwatch_get(const struct agent *a, enum orc_pod_ref t, const char *ns, const char *name)
{
    const struct objwatch *o = find(a, t, ns, name);

    return o && o->inf ? informer_get(o->inf, ns, name) : NULL;
}

size_t agent_objwatch_count(const struct agent *a) { return a->objwatches.size; }

/* ---- a pod's references ---- */

struct pod_walk {
    struct agent *a;
    const char *ns;
    bool ref; /* agent_objwatch_pod_synced: the answer */
};

static void pod_ref(void *arg, enum orc_pod_ref t, const char *name)
{
    struct pod_walk *pw = arg;

    if (t == ORC_REF_SERVICEACCOUNT) return; /* tokens are asked for, not watched */
    if (!pw->ref) agent_objwatch_unref(pw->a, t, pw->ns, name);
    else if (agent_objwatch_ref(pw->a, t, pw->ns, name) != 0)
        log_error(AGENT_LOG, "out of memory watching %s %s/%s", orc_pod_ref_resource(t), pw->ns, name);
}

/* A pod naming one object twice holds two references, dropped alike. */
void agent_objwatch_pod(struct agent *a, const json_t *pod, bool ref)
{
    struct pod_walk pw = {a, orc_json_str(pod, "metadata.namespace"), ref};

    if (pw.ns == NULL) pw.ns = "default";
    if (pod) orc_pod_refs(orc_json_get(pod, "spec"), pod_ref, &pw);
}

static void pod_synced(void *arg, enum orc_pod_ref t, const char *name)
{
    struct pod_walk *pw = arg;
    const struct objwatch *o = t == ORC_REF_SERVICEACCOUNT ? NULL : find(pw->a, t, pw->ns, name);

    if (o && o->inf && !informer_synced(o->inf)) pw->ref = false;
}

bool agent_objwatch_pod_synced(struct agent *a, const json_t *pod)
{
    struct pod_walk pw = {a, orc_json_str(pod, "metadata.namespace"), true};

    if (pw.ns == NULL) pw.ns = "default";
    if (pod) orc_pod_refs(orc_json_get(pod, "spec"), pod_synced, &pw);
    return pw.ref;
}

void agent_objwatch_stop_all(struct agent *a)
{
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(&a->objwatches); n; n = next) {
        next = orc_hmap_next(&a->objwatches, n);
        drop(a, (struct objwatch *)n);
    }
    orc_hmap_free(&a->objwatches);
    for (size_t i = 0; i < a->n_watch_clients; i++) client_close(a, i);
    free(a->watch_clients);
    a->watch_clients = NULL;
    a->n_watch_clients = 0;
}
