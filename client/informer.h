/* informer.h — a client-go-style informer: keeps a local cache of one
 * resource collection in sync with the API server (list, then watch from the
 * list's resourceVersion, re-watch or relist when the stream breaks) and
 * tells the caller about every change through callbacks.
 *
 * Everything happens on the loop of the http_client; callbacks fire on it,
 * never from inside informer_start or informer_stop. */
#ifndef ORC_CLIENT_INFORMER_H
#define ORC_CLIENT_INFORMER_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "client/http.h"

typedef struct informer informer;

/* Any may be NULL. Objects are the cached ones, borrowed for the call (take a
 * json_incref to keep one). A callback may call informer_get, informer_each,
 * informer_synced and informer_stop on this informer; after informer_stop no
 * further callback fires, not even for the rest of a list being delivered. */
struct informer_cbs {
    /* A key not in the cache appeared (from a list or an ADDED/MODIFIED event). */
    void (*on_add)(void *arg, const json_t *obj);
    /* A cached key changed resourceVersion; `old` is the previous state. */
    void (*on_update)(void *arg, const json_t *old, const json_t *obj);
    /* A cached key went away: the DELETED event's object, or the last cached
     * state when a relist no longer shows it. The key is already out of the
     * cache (informer_get returns NULL for it). */
    void (*on_delete)(void *arg, const json_t *obj);
    /* Once, after the first list was delivered. */
    void (*on_synced)(void *arg);
};

struct informer_config {
    const char *path;              /* collection, e.g. "/api/v1/pods" or
                                      "/api/v1/namespaces/x/configmaps" (copied) */
    const char *field_selector;    /* "spec.nodeName=node1", or NULL (copied) */
    const char *label_selector;    /* "app=web", or NULL (copied) */
    unsigned resync_backoff_max_ms; /* cap of the retry back-off; 0 = 5000 */
};

/* Starts listing `cfg->path` through `c` (borrowed: it must outlive the
 * informer, and stays the caller's to close). On success *out is the
 * informer, owned by the caller until informer_stop. Returns ORC_EINVAL for
 * a missing argument or a path not starting with '/', ORC_ENOMEM, or the
 * error of http_request (ORC_ESHUTDOWN for a closing client); then nothing
 * is called back. Failures after start are retried forever with exponential
 * back-off (200 ms doubling to the cap) and logged once per change of
 * cause, never with the token. */
int informer_start(uv_loop_t *loop, http_client *c, const struct informer_config *cfg,
                   const struct informer_cbs *cbs, void *arg, informer **out);

/* The cached object with this namespace ("" for cluster-scoped) and name, or
 * NULL. Borrowed: valid until the loop next runs informer code (take a
 * json_incref to keep it longer). */
const json_t *informer_get(const informer *inf, const char *ns, const char *name);

/* True once the first list was delivered (on_synced has fired). */
bool informer_synced(const informer *inf);

/* Number of cached objects. */
size_t informer_size(const informer *inf);

/* Calls fn(arg, obj) for each cached object (borrowed), in no set order. fn
 * must not change the cache's objects; it may call informer_stop. */
void informer_each(const informer *inf, void (*fn)(void *arg, const json_t *obj), void *arg);

/* Stops the informer: cancels its call in flight and its timer. No callback
 * fires after it returns. May be called from inside a callback. The memory is
 * released once the loop has run the cancellation (as with uv_close), so run
 * the loop after stopping before closing it; the cache is gone at once for
 * the caller (`inf` must not be used again). The http_client stays the
 * caller's; it may be closed right after. NULL is ignored. */
void informer_stop(informer *inf);

/* ---- several handlers, indexes (shared informers) ---- */

/* Adds another set of callbacks; every set hears every change, in the order
 * added (the one given to informer_start first). When the informer has
 * already synced, the new set first gets on_add for each cached object and
 * then on_synced, from the loop (never inside this call). 0, ORC_ENOMEM. */
int informer_add_handler(informer *inf, const struct informer_cbs *cbs, void *arg);
/* Silences every set of callbacks added with `arg` (by informer_start or
 * informer_add_handler): none of them is called after it returns, also when
 * called from inside a callback. For a component stopping while the shared
 * informer goes on. NULL inf ignored. */
void informer_remove_handlers(informer *inf, void *arg);

/* An index maps an object to up to `max` values (borrowed from the object),
 * returning how many it wrote. */
typedef size_t (*informer_index_fn)(const json_t *obj, const char **values, size_t max);

/* Ready-made index functions: metadata.namespace; the uid of each
 * ownerReference; spec.nodeName (pods; none when unbound). */
size_t informer_index_namespace(const json_t *obj, const char **values, size_t max);
size_t informer_index_owner_uid(const json_t *obj, const char **values, size_t max);
size_t informer_index_node_name(const json_t *obj, const char **values, size_t max);

/* Adds index `name` (copied); the cache is indexed at once and kept indexed
 * through every change, before handlers are called. Adding a name twice is a
 * no-op. 0, ORC_ENOMEM. */
int informer_add_index(informer *inf, const char *name, informer_index_fn fn);

/* Calls fn(arg, obj) for each cached object whose index `name` holds `value`
 * (no set order); nothing for an unknown index. Same rules as informer_each. */
void informer_by_index(const informer *inf, const char *name, const char *value,
                       void (*fn)(void *arg, const json_t *obj), void *arg);
/* How many cached objects index `name` maps to `value`. */
size_t informer_index_count(const informer *inf, const char *name, const char *value);

/* ---- transforms (client-go's SetTransform) ---- */

/* Edits an object in place before it is cached or any handler or index sees
 * it (listed, watched, or the last state of a deleted one), to keep the
 * cache smaller. It must keep metadata.name, namespace and resourceVersion. */
typedef void (*informer_transform_fn)(json_t *obj);

/* Sets inf's transform (NULL: none). Call it right after informer_start,
 * before the loop runs: objects cached earlier are not transformed. */
void informer_set_transform(informer *inf, informer_transform_fn fn);

/* The shared set's transform: drops metadata.managedFields and the
 * kubectl.kubernetes.io/last-applied-configuration annotation (an empty
 * annotations object goes too), which no controller reads. */
void informer_strip_unused(json_t *obj);

/* ---- one informer per kind, shared by every component on a loop ---- */

typedef struct informer_set informer_set;
struct orc_kind;

/* A set over client `c` (borrowed; it must outlive the set). 0, ORC_ENOMEM. */
int informer_set_new(uv_loop_t *loop, http_client *c, informer_set **out);
/* The informer of kind k's collection across all namespaces, started on the
 * first call and the same informer after; it carries the three indexes
 * above as "namespace", "owner" and "node", and informer_strip_unused as its
 * transform. NULL on ENOMEM (logged). The
 * informer belongs to the set (never informer_stop it). */
informer *informer_set_get(informer_set *set, const struct orc_kind *k);
/* True once every informer got so far has synced. */
bool informer_set_synced(const informer_set *set);
/* Stops every informer (same rules as informer_stop). NULL ignored. */
void informer_set_free(informer_set *set);

#endif
