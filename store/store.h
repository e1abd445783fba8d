/* store.h — the replicated key-value store: a canonical/raft log whose
 * committed transactions are applied, in order, into a SQLite database.
 *
 * Everything here runs on the single libuv loop given to store_open(); no
 * function may be called from another thread. Callbacks fire on that loop.
 * As in libuv: a callback is never called when the function that took it
 * returned an error.
 *
 * Data dir layout (one per member):
 *   DIR/raft/      canonical/raft segments, metadata and snapshots (raft_uv)
 *   DIR/state.db   SQLite FSM. Derived data: removed and rebuilt at every
 *                  start from the latest snapshot plus the log, so the FSM
 *                  can run without fsync (Raft's log is the durability).
 *
 * Revisions are etcd's: each committed transaction whose guards hold makes
 * exactly one new global revision (a failed guard makes none). Every key
 * keeps create_rev (revision that created it), mod_rev (revision of its last
 * put) and version (puts since creation, 1 after create). */
#ifndef ORC_STORE_H
#define ORC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "lib/buf.h"

typedef struct store store;

/* Raft between members runs over mutual TLS (store/transport.h): each
 * member presents a certificate of the cluster CA whose subject is
 * O=STORE_MEMBER_ORG, CN=STORE_MEMBER_CN<member id>, and accepts only
 * peers presenting one (the CA's other certificates, for servers, nodes or
 * users, never reach Raft). */
#define STORE_MEMBER_ORG "system:orc-members"
#define STORE_MEMBER_CN "orc-member:"

struct store_raft_tls {
    const char *ca_pem;   /* the cluster CA */
    const char *cert_pem; /* this member's Raft certificate */
    const char *key_pem;  /* its key */
};

struct store_config {
    const char *data_dir;        /* copied */
    uint64_t id;                 /* this member's Raft id, > 0 */
    const char *raft_address;    /* "HOST:PORT" Raft listens on and peers dial; copied */
    unsigned snapshot_threshold; /* fewest entries between snapshots; 0 = 8192 (more as the data grows) */
    unsigned snapshot_trailing;  /* entries kept after a snapshot; 0 = 512 */
    unsigned watch_history;      /* events kept for watchers; 0 = 10000 */
    unsigned election_timeout_ms;  /* 0 = 700 */
    unsigned heartbeat_timeout_ms; /* 0 = 100 */
    size_t segment_size;         /* raft_uv open segment size; 0 = 8 MiB */
    /* A damaged Raft log on a member with no other voter to heal from:
     * false refuses to start (ORC_ECORRUPT, the damage logged); true moves
     * the damaged files aside and starts without their entries. */
    bool discard_corrupt_log;
    /* Free space the data dir must keep; under it the member is degraded
     * (store_health). 0 = 3 segments + 8 MiB (raft_uv allocates segments
     * ahead). */
    uint64_t min_free_bytes;
    const struct store_raft_tls *raft_tls; /* copied; required unless raft_plaintext */
    bool raft_plaintext; /* BENCHMARK ONLY: raft's own TCP transport, unauthenticated and
                          * unencrypted (raft_tls is then ignored) */
};

/* Opens (creating if needed) the data dir and the Raft instance, without
 * starting it. ORC_EINVAL without raft_tls (unless raft_plaintext), or when
 * its certificate is not this member's (another id, not a member
 * certificate, not from the CA, or the key does not match). On error returns a negative ORC_E* code and writes a message
 * naming the file or problem into errmsg (256 bytes). *out is owned by the
 * caller until store_close(). */
int store_open(uv_loop_t *loop, const struct store_config *cfg, store **out, char *errmsg);

/* True when DIR/raft holds no Raft state yet (a fresh member). */
bool store_is_fresh(const store *s);

/* Fresh member only: writes a one-voter configuration (this member) so that
 * store_start() makes it a one-member cluster that elects itself at once. */
int store_bootstrap(store *s, char *errmsg);

/* Quorum loss (`orcd server --reset-cluster`): forces the configuration to
 * this member alone, keeping all its data. Call before store_start(). */
int store_reset_cluster(store *s, char *errmsg);

/* Starts Raft: checks the log and the snapshot (see discard_corrupt_log;
 * a member with other voters moves a damaged log aside and catches up from
 * the leader), loads snapshot + log into the FSM, then joins elections.
 * A member that is neither bootstrapped nor recovered waits to be added by a
 * leader (store_add_member on the leader). */
int store_start(store *s, char *errmsg);

/* Stops Raft and frees everything; every pending txn/barrier/wait callback
 * fires with ORC_ESHUTDOWN, and every watch with ORC_ESHUTDOWN, before `cb`.
 * `s` is invalid once cb runs. cb may be NULL. */
void store_close(store *s, void (*cb)(void *arg), void *arg);

/* ---- state ---- */

uint64_t store_id(const store *s);
bool store_is_leader(const store *s);
/* Leader's id and Raft address, or ORC_EUNAVAIL when none is known.
 * *address points into the store; valid until the next loop iteration. */
int store_leader(const store *s, uint64_t *id, const char **address);
int64_t store_revision(const store *s);       /* last applied revision */
uint64_t store_applied_index(const store *s); /* last applied Raft index */
/* Lowest revision R such that a watch or paged read "after R" is still
 * served; older gets ORC_ECOMPACTED. */
int64_t store_compact_revision(const store *s);

/* ---- figures for metrics (stats.c) ---- */

struct store_stats {
    uint64_t applied_index;
    uint64_t term;
    int64_t revision;
    int64_t db_bytes; /* the SQLite database: pages in use times page size */
    bool is_leader;
    bool has_leader;
};
/* Cheap: no walk over stored keys (one PRAGMA for the size). Loop only. */
void store_stats(store *s, struct store_stats *out);
/* fn(arg, prefix, n) for each prefix made of a key's first four
 * '/'-separated segments ("/registry/core/pods/"), with the number of
 * keys under it now: counts kept as entries apply, never a walk, so
 * callable at every scrape. Keys with fewer segments are not counted.
 * Loop only. */
void store_prefix_counts(const store *s, void (*fn)(void *arg, const char *prefix, int64_t n),
                         void *arg);

/* ---- health ---- */

enum store_health { STORE_HEALTHY = 0, STORE_DEGRADED = 1 };

/* Whether this member's state may be served. DEGRADED: it may differ from
 * the log or lag it — the disk is nearly full, a Raft write or a database
 * apply failed, or it is catching up after its log was damaged — so reads,
 * watches and writes must be refused (or sent to the leader) and /readyz
 * must fail. *reason (may be NULL) says why in a sentence; it points into
 * the store, valid until the next call. When entering DEGRADED the store
 * ends every watch (ORC_ECOMPACTED: list again), fails pending txns whose
 * outcome it cannot know (ORC_ENOTLEADER), hands leadership to a healthy
 * voter, and logs once; it rebuilds itself from its log (snapshot + log
 * into a new state.db, in process) once the disk has room, and reports
 * HEALTHY again when caught up. */
enum store_health store_health(store *s, const char **reason);

/* cb(arg, leader) is called on the loop whenever this member gains or loses
 * leadership (gaining is reported once a barrier of the new term applied).
 * Up to STORE_ROLE_WATCHERS pairs, called in the order added; 0, or
 * ORC_ENOSPC when all are taken. Removing a pair not added is a no-op; a
 * callback may remove itself or others. */
#define STORE_ROLE_WATCHERS 4
int store_role_watch(store *s, void (*cb)(void *arg, bool leader), void *arg);
void store_role_unwatch(store *s, void (*cb)(void *arg, bool leader), void *arg);

/* ---- transactions ---- */

enum store_op_type {
    STORE_PUT = 1,
    STORE_DELETE = 2,
    /* A PUT that first allocates a block (see struct store_alloc); at most
     * one per txn. Evaluated when the txn is applied, so concurrent txns
     * never get the same block. */
    STORE_PUT_ALLOC = 3,
};
enum store_guard_type {
    STORE_GUARD_ABSENT = 1, /* key does not exist */
    STORE_GUARD_EXISTS = 2, /* key exists */
    STORE_GUARD_MODREV = 3, /* key exists and its mod_rev == mod_rev */
};

struct store_op {
    enum store_op_type type;
    const char *key;   /* NUL-terminated */
    const void *value; /* PUT; for PUT_ALLOC, made by store_alloc_value() */
    size_t value_len;
};

/* STORE_PUT_ALLOC: the first /bits block of `range` (an IPv4 CIDR, in
 * address order) whose reservation key prefix+BLOCK ("/orc/podcidrs/" +
 * "10.42.3.0/24") does not exist is taken: the reservation key is put (its
 * value: the op's key) and `value` is put at the op's key with every
 * occurrence of `marker` replaced by the block's text. When no block is
 * free, value_none is put instead and nothing is reserved; an empty
 * value_none instead fails the txn (result: not succeeded, failed_guard
 * -1). The result's `block` says which happened.
 *
 * A range may also be "ip:10.43.0.0/16" (each address but the network and
 * broadcast ones, text "10.43.0.1"; bits unused) or "port:30000-32767"
 * (each number, text "30000"). Up to STORE_ALLOC_SLOTS slots are filled in
 * one op (a Service's clusterIP and its nodePorts): the first is range,
 * bits, prefix, marker; the others are `more`. Slots drawing on the same
 * prefix get distinct values; the result's block lists the values in slot
 * order, joined by ','. */
#define STORE_ALLOC_SLOTS 17
struct store_alloc_slot {
    const char *range;
    unsigned bits;
    const char *prefix;
    const char *marker;
};
struct store_alloc {
    const void *value;
    size_t value_len;
    const void *value_none;
    size_t value_none_len;
    const char *range;  /* "10.42.0.0/16" */
    unsigned bits;      /* 24 */
    const char *prefix; /* reservation keys' prefix */
    const char *marker; /* non-empty text in value that stands for the block */
    struct store_alloc_slot more[STORE_ALLOC_SLOTS - 1];
    size_t n_more;
};

/* Packs an allocation into the value of a STORE_PUT_ALLOC op (appended to
 * out; the strings are copied). ORC_EINVAL on a bad field. */
int store_alloc_value(const struct store_alloc *a, struct orc_buf *out);

struct store_guard {
    enum store_guard_type type;
    const char *key;
    int64_t mod_rev; /* MODREV only */
};

struct store_txn {
    const struct store_guard *guards;
    size_t n_guards;
    const struct store_op *ops; /* applied in order; DELETE of a missing key is a no-op */
    size_t n_ops;
};

struct store_txn_result {
    bool succeeded;       /* all guards held and the ops were applied */
    int64_t revision;     /* new revision if succeeded, else the current one */
    int failed_guard;     /* index of the first failing guard, or -1 */
    int64_t failed_mod_rev; /* that key's mod_rev now (0 when absent) */
    /* A STORE_PUT_ALLOC's block ("10.42.3.0/24"; several slots'
     * "10.43.0.9,30001"), "" when none was free or the txn had no such op. */
    char block[256];
};

/* status: 0 when the txn was committed and applied (look at res->succeeded),
 * or ORC_ENOTLEADER (leadership lost before commit: it may or may not have
 * been applied), ORC_ESHUTDOWN, ORC_EIO. `res` is valid during the call. */
typedef void (*store_txn_cb)(void *arg, int status, const struct store_txn_result *res);

/* Leader only, else returns ORC_ENOTLEADER at once. The txn is encoded
 * before return: the caller may free it. Results in ORC_ETOOBIG beyond 4 MiB. */
int store_txn(store *s, const struct store_txn *txn, store_txn_cb cb, void *arg);

/* Wire form of a txn, for forwarding from a follower to the leader. */
int store_txn_encode(const struct store_txn *txn, struct orc_buf *out);
/* As store_txn, with bytes made by store_txn_encode (validated; bad bytes
 * give ORC_EPROTO). The bytes are copied. */
int store_txn_encoded(store *s, const void *buf, size_t len, store_txn_cb cb, void *arg);
/* Wire form of a result (for the forwarding reply) and back. */
int store_txn_result_encode(const struct store_txn_result *res, struct orc_buf *out);
int store_txn_result_decode(const void *buf, size_t len, struct store_txn_result *res);

/* ---- reads (serializable: this member's applied state) ---- */

struct store_kv {
    char *key;     /* owned by the containing result */
    char *value;   /* owned; NUL-terminated for convenience */
    size_t value_len;
    int64_t create_rev;
    int64_t mod_rev;
    int64_t version;
    /* Set by the read decoder (store_set_decoder): `stale` when the value
     * was decoded with what is no longer the current encoding (a rewrite
     * would change the stored bytes); `sealed` when it could not be
     * decoded and value holds the stored bytes. */
    bool stale;
    bool sealed;
};

/* Copies the key's current entry into *out (free with store_kv_clear).
 * Returns ORC_ENOENT when absent. */
int store_get(store *s, const char *key, struct store_kv *out);
void store_kv_clear(struct store_kv *kv);

struct store_list {
    struct store_kv *kvs; /* owned; sorted by key */
    size_t n;
    int64_t revision;     /* the revision this list shows (one consistent snapshot) */
    bool more;            /* more keys follow in the range */
    size_t remaining;     /* keys after this page (valid when more) */
};

/* Keys beginning with `prefix`, strictly after `start_after` (NULL: from the
 * start), at most `limit` (0: no limit).
 * at_revision 0: the current state (out->revision = store_revision()).
 * at_revision R > 0: the state as of revision R, rebuilt from the retained
 * event history, so a paged list stays one snapshot; R below
 * store_compact_revision() gives ORC_ECOMPACTED, R above the current
 * revision gives ORC_EINVAL. Free with store_list_clear. */
int store_range(store *s, const char *prefix, const char *start_after, int64_t at_revision,
                size_t limit, struct store_list *out);
void store_list_clear(struct store_list *l);

/* Number of keys beginning with `prefix` (current state). */
int store_count(store *s, const char *prefix, size_t *out);

/* ---- decoding what is read ---- */

/* Every value read out of the store — store_get, store_range, and the kv
 * and prev of watch events — passes through fn when set, so values stored
 * encoded (the API server's Secrets encrypted at rest) are read back
 * decoded on every path. fn returns 0 with *out NULL (serve the value as
 * stored) or *out a malloc'd decoded value of *out_len bytes (the store
 * owns it from then on), and sets *stale when the value should be written
 * again; or a negative code when it cannot decode it: the value is then
 * given as stored, with the kv's `sealed` set. fn runs on the loop and must
 * not call into the store. NULL fn: values as stored. */
typedef int (*store_decode_fn)(void *arg, const char *key, const char *value, size_t len,
                               char **out, size_t *out_len, bool *stale);
void store_set_decoder(store *s, store_decode_fn fn, void *arg);

/* ---- linearizable reads ---- */

/* Leader only (else ORC_ENOTLEADER): confirms leadership through a Raft
 * barrier; cb gets the revision every read may then be served at. Concurrent
 * calls share one barrier. */
int store_barrier(store *s, void (*cb)(void *arg, int status, int64_t revision), void *arg);

/* Calls cb once store_revision() >= rev (at once, inside the call, if already
 * so), or with ORC_ETIMEDOUT after timeout_ms. Used after a forwarded write
 * or a remote read-index so a follower reads its own writes. */
int store_wait_revision(store *s, int64_t rev, unsigned timeout_ms,
                        void (*cb)(void *arg, int status), void *arg);

/* ---- watch ---- */

enum store_event_type { STORE_EVENT_PUT = 1, STORE_EVENT_DELETE = 2 };

struct store_event {
    enum store_event_type type;
    int64_t revision;
    /* PUT: the new entry. DELETE: key, with value/create_rev/version of the
     * entry as it was just before deletion and mod_rev = the delete revision. */
    const struct store_kv *kv;
    /* The entry before this event, or NULL when the key did not exist. */
    const struct store_kv *prev;
};

typedef struct store_watch store_watch;

/* ev != NULL, err == 0: one event; ev and its kvs are valid during the call.
 * ev == NULL, err < 0: the watch has ended (ORC_ECOMPACTED when this member
 * installed a snapshot and history restarted, ORC_ESHUTDOWN on close); the
 * store frees the watch after this call, do not call store_watch_stop. */
typedef void (*store_watch_cb)(void *arg, const struct store_event *ev, int err);

/* Every event on keys beginning with `prefix` with revision > after_revision,
 * in revision order (and op order within a txn), with no gaps or duplicates:
 * first the retained backlog (delivered synchronously inside this call), then
 * live events as they are applied. after_revision below
 * store_compact_revision() gives ORC_ECOMPACTED. */
int store_watch_start(store *s, const char *prefix, int64_t after_revision, store_watch_cb cb,
                      void *arg, store_watch **out);
/* Stops delivery; no callback fires after it returns. Safe inside the cb. */
void store_watch_stop(store_watch *w);
/* Flow control for a subscriber that cannot keep up: after pause (safe
 * inside the cb) no event is delivered until resume, which delivers the
 * retained events missed meanwhile, synchronously, until paused again or
 * caught up. Returns true when caught up and still running: the watch has
 * seen every event applied so far. A paused watch that falls out of the
 * retained history ends with ORC_ECOMPACTED at the next apply. resume must
 * not be called from inside a watch callback. */
void store_watch_pause(store_watch *w);
bool store_watch_resume(store_watch *w);

/* ---- membership ---- */

enum store_member_role { STORE_ROLE_VOTER, STORE_ROLE_STANDBY, STORE_ROLE_SPARE };

struct store_member {
    uint64_t id;
    char address[64];
    enum store_member_role role;
};

/* The current Raft configuration. *out is malloc'd; free() it. */
int store_members(const store *s, struct store_member **out, size_t *n);

/* Leader only: adds the member and promotes it to voter once it has caught
 * up (through snapshot install if needed). cb status 0 or ORC_E*. */
int store_add_member(store *s, uint64_t id, const char *raft_address,
                     void (*cb)(void *arg, int status), void *arg);
/* Leader only: removes the member from the configuration. */
int store_remove_member(store *s, uint64_t id, void (*cb)(void *arg, int status), void *arg);


#endif
