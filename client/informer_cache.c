/* informer_cache.c — the informer's cache (one record per object in a hash
 * map), its indexes (value -> list of entries pointing at records) and the
 * handler sets every change is told to. Indexes are updated before any
 * handler hears of a change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/informer_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

/* ---- keys ---- */

int inf__make_key(const char *ns, const char *name, char *key, size_t n)
{
    int len = snprintf(key, n, "%s/%s", ns ? ns : "", name);

    return len < 0 || (size_t)len >= n ? ORC_EINVAL : 0;
}

int inf__key(const json_t *obj, char *key, size_t n)
{
    const char *name = orc_json_str(obj, "metadata.name");

    if (name == NULL || *name == '\0') return ORC_EINVAL;
    return inf__make_key(orc_json_str(obj, "metadata.namespace"), name, key, n);
}

struct inf_item *inf__find(const informer *inf, const char *key)
{
    struct orc_hnode *n = orc_hmap_get(&inf->cache, key);

    return n ? ORC_CONTAINER(n, struct inf_item, node) : NULL;
}

/* ---- indexes ---- */

static struct inf_bucket *bucket_get(struct inf_index *ix, const char *value)
{
    struct orc_hnode *n = orc_hmap_get(&ix->values, value);
    struct inf_bucket *b;
    size_t len;

    if (n) return ORC_CONTAINER(n, struct inf_bucket, node);
    len = strlen(value);
    b = malloc(sizeof *b + len + 1);
    if (b == NULL) return NULL;
    memcpy(b->value, value, len + 1);
    b->node.key = b->value;
    b->count = 0;
    b->index = ix;
    orc_list_init(&b->members);
    if (orc_hmap_put(&ix->values, &b->node) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

static void bucket_free(struct inf_bucket *b)
{
    orc_hmap_del(&b->index->values, &b->node);
    free(b);
}

/* Takes `it` out of every index (empty buckets go). */
static void unindex(struct inf_item *it)
{
    for (size_t i = 0; i < it->nents; i++) {
        struct inf_bucket *b = it->ents[i].bucket;
        orc_list_remove(&it->ents[i].link);
        if (--b->count == 0) bucket_free(b);
    }
    free(it->ents);
    it->ents = NULL;
    it->nents = 0;
}

/* The values of every index for it->obj, then one entry per value (a value
 * listed twice by one object counts once). */
static int reindex(informer *inf, struct inf_item *it)
{
    const char *vals[INF_MAX_VALUES];
    size_t total = 0, k = 0;
    struct orc_link *l;

    unindex(it);
    for (l = inf->indexes.next; l != &inf->indexes; l = l->next)
        total += ORC_CONTAINER(l, struct inf_index, link)->fn(it->obj, vals, INF_MAX_VALUES);
    if (total == 0) return 0;
    it->ents = calloc(total, sizeof *it->ents);
    if (it->ents == NULL) return ORC_ENOMEM;
    for (l = inf->indexes.next; l != &inf->indexes; l = l->next) {
        struct inf_index *ix = ORC_CONTAINER(l, struct inf_index, link);
        size_t n = ix->fn(it->obj, vals, INF_MAX_VALUES);
        for (size_t i = 0; i < n && k < total; i++) {
            struct inf_bucket *b = vals[i] ? bucket_get(ix, vals[i]) : NULL;
            if (b == NULL) continue; /* ENOMEM: the lookup misses it */
            if (b->members.prev != &b->members &&
                ORC_CONTAINER(b->members.prev, struct inf_entry, link)->item == it)
                continue;
            it->ents[k] = (struct inf_entry){.bucket = b, .item = it};
            orc_list_push(&b->members, &it->ents[k].link);
            b->count++;
            it->nents = ++k;
        }
    }
    return 0;
}

static void item_free(struct inf_item *it)
{
    unindex(it);
    json_decref(it->obj);
    free(it);
}

/* ---- handlers ---- */

static struct inf_handler *handler_of(struct orc_link *l)
{
    return ORC_CONTAINER(l, struct inf_handler, link);
}

/* Each handler in turn, skipping those still replaying, until one stops the
 * informer. */
#define FOR_LIVE(inf, h)                                                                     \
    for (struct orc_link *l_ = (inf)->handlers.next;                                        \
         l_ != &(inf)->handlers && !(inf)->stopped && ((h) = handler_of(l_)); l_ = l_->next) \
        if (!(h)->replaying)

static void emit_add(informer *inf, const json_t *obj)
{
    struct inf_handler *h;

    FOR_LIVE(inf, h) if (h->cbs.on_add) h->cbs.on_add(h->arg, obj);
}

static void emit_update(informer *inf, const json_t *old, const json_t *obj)
{
    struct inf_handler *h;

    FOR_LIVE(inf, h) if (h->cbs.on_update) h->cbs.on_update(h->arg, old, obj);
}

static void emit_delete(informer *inf, const json_t *obj)
{
    struct inf_handler *h;

    FOR_LIVE(inf, h) if (h->cbs.on_delete) h->cbs.on_delete(h->arg, obj);
}

void inf__emit_synced(informer *inf)
{
    struct inf_handler *h;

    FOR_LIVE(inf, h) if (h->cbs.on_synced) h->cbs.on_synced(h->arg);
}

/* One handler hears the whole cache, then (when synced) on_synced. */
static void replay_one(informer *inf, struct inf_handler *h)
{
    struct orc_hnode *n, *next;

    h->replaying = false;
    for (n = orc_hmap_first(&inf->cache); n && !inf->stopped; n = next) {
        next = orc_hmap_next(&inf->cache, n);
        if (h->cbs.on_add) h->cbs.on_add(h->arg, ORC_CONTAINER(n, struct inf_item, node)->obj);
    }
    if (!inf->stopped && inf->synced && h->cbs.on_synced) h->cbs.on_synced(h->arg);
}

void inf__replay(informer *inf)
{
    for (struct orc_link *l = inf->handlers.next; l != &inf->handlers && !inf->stopped;
         l = l->next) {
        struct inf_handler *h = handler_of(l);
        if (h->replaying) replay_one(inf, h);
    }
}

static void on_replay(uv_timer_t *t)
{
    informer *inf = t->data;

    if (!inf->stopped) inf__replay(inf);
}

int informer_add_handler(informer *inf, const struct informer_cbs *cbs, void *arg)
{
    struct inf_handler *h;

    if (inf == NULL || cbs == NULL || inf->stopped) return ORC_EINVAL;
    h = calloc(1, sizeof *h);
    if (h == NULL) return ORC_ENOMEM;
    h->cbs = *cbs;
    h->arg = arg;
    /* A late handler first hears what is cached (Kubernetes' shared
     * informers do the same), from the loop: until then it hears nothing. */
    h->replaying = true;
    orc_list_push(&inf->handlers, &h->link);
    uv_timer_start(&inf->replay, on_replay, 0, 0);
    return 0;
}

/* Zeroed callbacks are never called; the record stays until the informer is
 * freed, so a dispatch walking the list is not disturbed. */
void informer_remove_handlers(informer *inf, void *arg)
{
    if (inf == NULL) return;
    for (struct orc_link *l = inf->handlers.next; l != &inf->handlers; l = l->next) {
        struct inf_handler *h = handler_of(l);
        if (h->arg == arg) memset(&h->cbs, 0, sizeof h->cbs);
    }
}

/* ---- cache changes ---- */

static bool same_version(const json_t *a, const json_t *b)
{
    const char *ra = orc_json_str(a, "metadata.resourceVersion");
    const char *rb = orc_json_str(b, "metadata.resourceVersion");

    return ra && rb && strcmp(ra, rb) == 0;
}

static int insert(informer *inf, const char *key, json_t *obj)
{
    size_t len = strlen(key);
    struct inf_item *it = calloc(1, sizeof *it + len + 1);

    if (it == NULL) return ORC_ENOMEM;
    memcpy(it->key, key, len + 1);
    it->node.key = it->key;
    it->obj = json_incref(obj);
    it->gen = inf->list_gen;
    if (reindex(inf, it) != 0 || orc_hmap_put(&inf->cache, &it->node) != 0) {
        item_free(it);
        return ORC_ENOMEM;
    }
    emit_add(inf, obj);
    return 0;
}

void informer_set_transform(informer *inf, informer_transform_fn fn)
{
    if (inf) inf->transform = fn;
}

void informer_strip_unused(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *ann = json_object_get(meta, "annotations");

    json_object_del(meta, "managedFields");
    json_object_del(ann, "kubectl.kubernetes.io/last-applied-configuration");
    if (json_is_object(ann) && json_object_size(ann) == 0) json_object_del(meta, "annotations");
}

int inf__upsert(informer *inf, const char *key, json_t *obj)
{
    struct inf_item *it = inf__find(inf, key);
    json_t *old;
    int rv;

    if (inf->transform) inf->transform(obj);
    if (it == NULL) return insert(inf, key, obj);
    it->gen = inf->list_gen;
    if (same_version(it->obj, obj)) return 0;
    old = it->obj;
    it->obj = json_incref(obj);
    rv = reindex(inf, it); /* values may have changed (a pod bound to a node) */
    emit_update(inf, old, obj);
    json_decref(old);
    return rv;
}

void inf__remove(informer *inf, const char *key, json_t *last)
{
    struct inf_item *it = inf__find(inf, key);

    if (it == NULL) return;
    if (last && inf->transform) inf->transform(last);
    orc_hmap_del(&inf->cache, &it->node);
    unindex(it);
    emit_delete(inf, last ? last : it->obj);
    item_free(it);
}

void inf__drop_unlisted(informer *inf)
{
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(&inf->cache); n && !inf->stopped; n = next) {
        struct inf_item *it = ORC_CONTAINER(n, struct inf_item, node);
        next = orc_hmap_next(&inf->cache, n);
        if (it->gen != inf->list_gen) inf__remove(inf, it->key, NULL);
    }
}

void inf__cache_free(informer *inf)
{
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(&inf->cache); n; n = next) {
        next = orc_hmap_next(&inf->cache, n);
        item_free(ORC_CONTAINER(n, struct inf_item, node));
    }
    orc_hmap_free(&inf->cache);
    while (!orc_list_empty(&inf->indexes)) {
        struct inf_index *ix = ORC_CONTAINER(inf->indexes.next, struct inf_index, link);
        orc_list_remove(&ix->link);
        orc_hmap_free(&ix->values); /* empty: every item left its buckets */
        free(ix);
    }
    while (!orc_list_empty(&inf->handlers)) {
        struct orc_link *l = inf->handlers.next;
        orc_list_remove(l);
        free(handler_of(l));
    }
}

/* ---- public: indexes ---- */

static struct inf_index *index_find(const informer *inf, const char *name)
{
    for (struct orc_link *l = inf->indexes.next; l != &inf->indexes; l = l->next) {
        struct inf_index *ix = ORC_CONTAINER(l, struct inf_index, link);
        if (strcmp(ix->name, name) == 0) return ix;
    }
    return NULL;
}

int informer_add_index(informer *inf, const char *name, informer_index_fn fn)
{
    struct inf_index *ix;
    size_t len;
    int rv = 0;

    if (inf == NULL || name == NULL || fn == NULL) return ORC_EINVAL;
    if (index_find(inf, name)) return 0;
    len = strlen(name);
    ix = calloc(1, sizeof *ix + len + 1);
    if (ix == NULL) return ORC_ENOMEM;
    memcpy(ix->name, name, len + 1);
    ix->fn = fn;
    orc_list_push(&inf->indexes, &ix->link);
    for (struct orc_hnode *n = orc_hmap_first(&inf->cache); n; n = orc_hmap_next(&inf->cache, n))
        if (reindex(inf, ORC_CONTAINER(n, struct inf_item, node)) != 0) rv = ORC_ENOMEM;
    if (rv != 0) log_error("informer", "%s: index %s is incomplete (out of memory)", inf->path, name);
    return rv;
}

static const struct inf_bucket *bucket_find(const informer *inf, const char *name,
                                            const char *value)
{
    const struct inf_index *ix;
    const struct orc_hnode *n;

    if (inf == NULL || inf->stopped || name == NULL || value == NULL) return NULL;
    ix = index_find(inf, name);
    n = ix ? orc_hmap_get(&ix->values, value) : NULL;
    return n ? ORC_CONTAINER(n, const struct inf_bucket, node) : NULL;
}

void informer_by_index(const informer *inf, const char *name, const char *value,
                       void (*fn)(void *arg, const json_t *obj), void *arg)
{
    const struct inf_bucket *b = bucket_find(inf, name, value);

    if (b == NULL || fn == NULL) return;
    for (const struct orc_link *l = b->members.next; l != &b->members && !inf->stopped;
         l = l->next)
        fn(arg, ORC_CONTAINER(l, const struct inf_entry, link)->item->obj);
}

size_t informer_index_count(const informer *inf, const char *name, const char *value)
{
    const struct inf_bucket *b = bucket_find(inf, name, value);

    return b ? b->count : 0;
}

/* ---- ready-made index functions ---- */

static size_t one_value(const char *v, const char **values, size_t max)
{
    if (v == NULL || *v == '\0' || max == 0) return 0;
    values[0] = v;
    return 1;
}

size_t informer_index_namespace(const json_t *obj, const char **values, size_t max)
{
    return one_value(orc_json_str(obj, "metadata.namespace"), values, max);
}

size_t informer_index_node_name(const json_t *obj, const char **values, size_t max)
{
    return one_value(orc_json_str(obj, "spec.nodeName"), values, max);
}

size_t informer_index_owner_uid(const json_t *obj, const char **values, size_t max)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    json_t *ref;
    size_t i, n = 0;

    json_array_foreach(refs, i, ref) {
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        if (n < max && uid && *uid) values[n++] = uid;
    }
    return n;
}
