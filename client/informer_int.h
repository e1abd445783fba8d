/* informer_int.h — the informer's internals, shared by informer.c (lifetime,
 * back-off, public calls), informer_cache.c (cache, handlers, indexes) and
 * informer_sync.c (list and watch calls). */
#ifndef ORC_CLIENT_INFORMER_INT_H
#define ORC_CLIENT_INFORMER_INT_H

#include <stdint.h>

#include "client/informer.h"
#include "lib/buf.h"
#include "lib/hmap.h"
#include "lib/list.h"

#define INF_KEY_MAX 512 /* "namespace/name" */

#define INF_MAX_VALUES 16 /* index values per object and index */

enum inf_next { INF_LIST, INF_WATCH };

struct inf_index;

/* One cached object. Index entries point at it; nothing copies the object. */
struct inf_item {
    struct orc_hnode node;  /* in informer.cache, keyed by `key` */
    json_t *obj;            /* owned reference */
    struct inf_entry *ents; /* its index entries (all indexes), or NULL */
    size_t nents;
    uint64_t gen;           /* the list that last showed it */
    char key[];             /* "ns/name" */
};

/* An object's membership of one index value. */
struct inf_entry {
    struct orc_link link;      /* in bucket->members */
    struct inf_bucket *bucket;
    struct inf_item *item;
};

/* The objects one index maps to one value. */
struct inf_bucket {
    struct orc_hnode node;   /* in index->values, keyed by `value` */
    struct orc_link members; /* struct inf_entry */
    struct inf_index *index; /* the index it belongs to */
    size_t count;
    char value[];
};

struct inf_index {
    struct orc_link link;     /* in informer.indexes */
    informer_index_fn fn;
    struct orc_hmap values;   /* value -> struct inf_bucket */
    char name[];
};

/* A set of callbacks; `replaying` ones hear nothing until their replay of
 * the cache ran from the loop. */
struct inf_handler {
    struct orc_link link; /* in informer.handlers */
    struct informer_cbs cbs;
    void *arg;
    bool replaying;
};

struct informer {
    uv_loop_t *loop;
    http_client *c;       /* borrowed */
    char *path;           /* collection path (owned) */
    char *query;          /* URL-encoded selectors, "" when none (owned) */
    struct orc_link handlers; /* struct inf_handler, in order added */
    struct orc_link indexes;  /* struct inf_index */
    struct orc_hmap cache;    /* "ns/name" -> struct inf_item */
    informer_transform_fn transform; /* or NULL */
    uint64_t list_gen;        /* bumped by each list delivered */
    uv_timer_t replay;        /* zero-delay: replays the cache to new handlers */
    int64_t rv;           /* last resourceVersion seen */
    int refs;             /* caller (until stop), call in flight, timer, delivery */
    uv_timer_t timer;     /* back-off, or the watch's liveness check */
    enum inf_next next;   /* what the back-off timer starts */
    unsigned backoff;     /* last delay; 0 after a watch delivered events */
    unsigned gone_streak; /* 410s in a row without an event between */
    unsigned backoff_max;
    unsigned failures;    /* in a row */
    int last_cause;       /* ORC_E* or HTTP status last logged; 0 when healthy */
    http_call *call;      /* the one call in flight, or NULL */
    bool canceled;        /* we canceled `call` */
    bool synced;
    bool stopped;
    /* the current watch */
    struct orc_buf pending; /* bytes after the last newline */
    int watch_status;       /* its HTTP status, 0 before the head */
    int error_code;         /* code of an ERROR event other than 410 */
    bool got_events;        /* at least one event line arrived */
    bool want_relist;       /* a 410 said the revision is too old */
    bool idle_cut;          /* canceled for silence: re-watch at once */
    uint64_t last_data;     /* loop time of the last bytes received */
};

void inf__hold(informer *inf);
void inf__release(informer *inf);

void inf__schedule(informer *inf, enum inf_next what, unsigned delay_ms);
void inf__arm_watchdog(informer *inf, unsigned every_ms);
void inf__disarm(informer *inf);
void inf__succeeded(informer *inf, enum inf_next what);
void inf__failed(informer *inf, enum inf_next what, int err, int status);
unsigned inf__backoff_step(informer *inf); /* the next delay */

/* informer_cache.c: cache updates keeping the indexes and firing the
 * handlers (skipped once stopped). */
int inf__make_key(const char *ns, const char *name, char *key, size_t n); /* "ns/name" */
int inf__key(const json_t *obj, char *key, size_t n);
struct inf_item *inf__find(const informer *inf, const char *key);
int inf__upsert(informer *inf, const char *key, json_t *obj);
void inf__remove(informer *inf, const char *key, json_t *last); /* last: NULL = cached */
void inf__drop_unlisted(informer *inf); /* items the last list did not show */
void inf__emit_synced(informer *inf);
void inf__replay(informer *inf);      /* to handlers still replaying */
void inf__cache_free(informer *inf);  /* items, indexes, handlers */
void inf__saw_version(informer *inf, const char *rv);

/* informer_sync.c */
int inf__list_begin(informer *inf); /* 0, or the error of http_request */
void inf__list(informer *inf);      /* like begin; failures go to back-off */
void inf__watch(informer *inf);
void inf__watch_check(informer *inf); /* timer tick while a watch runs */

#endif
