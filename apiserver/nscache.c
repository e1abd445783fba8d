/* nscache.c — which namespaces are being deleted, kept current from a store
 * watch, so that creating an object needs no read (and parse) of its
 * namespace on every request. Namespaces are few: a small array will do. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define NS_PREFIX "/registry/core/namespaces/"

struct api_nscache {
    struct api_server *s;
    char **terminating; /* names, owned */
    size_t n, cap;
    store_watch *w;
};

static void set_terminating(struct api_nscache *c, const char *name, bool on)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->terminating[i], name) != 0) continue;
        if (!on) {
            free(c->terminating[i]);
            c->terminating[i] = c->terminating[--c->n];
        }
        return;
    }
    if (!on) return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **p = realloc(c->terminating, cap * sizeof *p);
        if (p == NULL) return;
        c->terminating = p;
        c->cap = cap;
    }
    if ((c->terminating[c->n] = strdup(name)) != NULL) c->n++;
}

static void note(struct api_nscache *c, const struct store_kv *kv, bool deleted)
{
    const char *name = kv->key + strlen(NS_PREFIX);
    json_t *ns = deleted ? NULL : orc_json_loadb(kv->value, kv->value_len, JSON_ALLOW_NUL, NULL);

    set_terminating(c, name, orc_json_get(ns, "metadata.deletionTimestamp") != NULL);
    json_decref(ns);
}

static void resync(void *arg);

static void on_ns_event(void *arg, const struct store_event *ev, int err)
{
    struct api_nscache *c = arg;

    if (ev == NULL) {
        c->w = NULL; /* ended by the store; after a snapshot install, start over */
        if (err == ORC_ECOMPACTED && !c->s->stopping) api_later(c->s, 0, resync, c);
        return;
    }
    note(c, ev->kv, ev->type == STORE_EVENT_DELETE);
}

static void resync(void *arg)
{
    struct api_nscache *c = arg;
    struct store_list l = {0};
    int rv;

    if (c->s->stopping) return;
    for (size_t i = 0; i < c->n; i++) free(c->terminating[i]);
    c->n = 0;
    rv = store_range(c->s->st, NS_PREFIX, NULL, 0, 0, &l);
    for (size_t i = 0; rv == 0 && i < l.n; i++) note(c, &l.kvs[i], false);
    if (rv == 0) rv = store_watch_start(c->s->st, NS_PREFIX, l.revision, on_ns_event, c, &c->w);
    store_list_clear(&l);
    if (rv != 0) log_error("apiserver", "watching namespaces: %s", orc_strerror(rv));
}

int api_nscache_start(struct api_server *s)
{
    struct api_nscache *c = calloc(1, sizeof *c);

    if (c == NULL) return ORC_ENOMEM;
    c->s = s;
    s->nscache = c;
    resync(c);
    return 0;
}

bool api_ns_terminating(const struct api_server *s, const char *ns)
{
    const struct api_nscache *c = s->nscache;
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->terminating[i], ns) == 0) return true;
    return false;
}

bool api_ns_any_terminating(const struct api_server *s)
{
    return s->nscache && s->nscache->n > 0;
}

void api_nscache_stop(struct api_server *s)
{
    struct api_nscache *c = s->nscache;

    if (c == NULL) return;
    if (c->w) store_watch_stop(c->w);
    for (size_t i = 0; i < c->n; i++) free(c->terminating[i]);
    free(c->terminating);
    free(c);
    s->nscache = NULL;
}
