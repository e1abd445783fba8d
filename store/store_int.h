/* store_int.h — the store's private structures and the functions its files
 * share (prefix store__). Nothing outside store/ includes this. */
#ifndef ORC_STORE_INT_H
#define ORC_STORE_INT_H

#include <sqlite3.h>
#include <raft.h>
#include <raft/uv.h>

#include "lib/list.h"
#include "store/store.h"

#define STORE_TXN_MAX (4u << 20) /* encoded txn limit: ORC_ETOOBIG beyond */

/* ---- codec.c ---- */

/* A decoded txn is read in place: keys and values point into the entry. */
struct store_txn_reader {
    const unsigned char *p, *end;
    uint32_t n_guards, n_ops;
    uint32_t guards_left, ops_left;
};

/* Validates a caller's txn (ORC_EINVAL, ORC_ETOOBIG) and sizes its encoding. */
/* Runs the read decoder on kv (whose value it does not free): returns the
 * decoded value (malloc'd, now kv's value, the caller frees it) or NULL
 * when kv is unchanged; sets kv's stale and sealed. */
char *store__decode(store *s, struct store_kv *kv);
int store__txn_measure(const struct store_txn *txn, size_t *size);
/* Writes exactly the measured number of bytes into out. */
void store__txn_write(const struct store_txn *txn, void *out);
/* Validates the whole buffer; ORC_EPROTO when malformed. */
int store__txn_check(const void *buf, size_t len);
/* A Raft entry is a header naming its kind and the submitter's request,
 * the body (a txn, or rows of a backup being loaded), and zero padding to a
 * multiple of 8 bytes. */
#define STORE_ENTRY_HEADER 18
#define STORE_ENTRY_TXN 1
#define STORE_ENTRY_LOAD 2
size_t store__entry_size(size_t body_len);
/* Writes header and padding around a body already at out + STORE_ENTRY_HEADER;
 * store__entry_header for a txn. */
void store__entry_header_kind(void *out, size_t body_len, unsigned kind, uint64_t nonce,
                              uint64_t seq);
void store__entry_header(void *out, size_t txn_len, uint64_t nonce, uint64_t seq);
/* Reads the header only (ORC_EPROTO when malformed). */
int store__entry_split(const void *buf, size_t len, unsigned *kind, uint64_t *nonce,
                       uint64_t *seq, const void **body, size_t *body_len);
/* A txn entry: validates header and txn; ORC_EPROTO when malformed. */
int store__entry_parse(const void *buf, size_t len, uint64_t *nonce, uint64_t *seq,
                       const void **txn, size_t *txn_len);
/* Reader over a buffer already validated by store__txn_check. */
void store__txn_reader_init(struct store_txn_reader *r, const void *buf, size_t len);
void store__txn_next_guard(struct store_txn_reader *r, struct store_guard *g);
void store__txn_next_op(struct store_txn_reader *r, struct store_op *op);
/* Reads the value of a STORE_PUT_ALLOC (pointers into buf). ORC_EPROTO
 * when malformed. */
int store__alloc_parse(const void *buf, size_t len, struct store_alloc *a);

/* ---- db.c: SQLite FSM ---- */

enum store_stmt {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_LOOKUP,     /* id, create_rev, mod_rev, version by key */
    STMT_GET,        /* value, create_rev, mod_rev, version by key */
    STMT_VALUE,      /* value by id */
    STMT_INSERT,
    STMT_UPDATE,
    STMT_DELETE,
    STMT_SET_REV,
    STMT_GET_REV,
    STMT_RANGE,      /* ?1 lower, ?2 upper, ?3 start_after, ?4 limit */
    STMT_COUNT,
    STMT__N
};

struct store_db {
    sqlite3 *conn;
    sqlite3 *reader; /* holds a snapshot's read transaction */
    sqlite3 *ckpt;   /* runs WAL checkpoints on a worker thread */
    int wal_frames;  /* WAL length after the last commit */
    sqlite3_stmt *stmt[STMT__N];
    char path[4096];
};

struct store_row {
    bool exists;
    int64_t id, create_rev, mod_rev, version;
};

int store__db_open(struct store_db *db, const char *dir, char *errmsg);
void store__db_close(struct store_db *db);
int store__db_exec(struct store_db *db, enum store_stmt which);
int store__db_lookup(struct store_db *db, const char *key, struct store_row *row);
/* Current value of row id into *value (sqlite-owned, valid until next db call). */
int store__db_value(struct store_db *db, int64_t id, const void **value, size_t *len);
int store__db_insert(struct store_db *db, const char *key, const void *v, size_t vlen, int64_t rev);
int store__db_update(struct store_db *db, int64_t id, const void *v, size_t vlen, int64_t rev,
                     int64_t version);
int store__db_delete(struct store_db *db, int64_t id);
int store__db_set_revision(struct store_db *db, int64_t rev);
int store__db_get_revision(struct store_db *db, int64_t *rev);
/* Binds the key range [prefix, successor(prefix)) minus keys <= start_after. */
sqlite3_stmt *store__db_range_stmt(struct store_db *db, enum store_stmt which, const char *prefix,
                                   const char *start_after);
/* Snapshots in three steps (see db.c): begin and end on the loop, take on
 * a worker thread while the loop goes on applying. */
int store__db_snapshot_begin(struct store_db *db);
int store__db_snapshot_take(struct store_db *db, struct raft_buffer out[2]);
/* A snapshot's bytes end with a checksummed trailer (db.c): ORC_ECORRUPT
 * when it does not match; *image_len is the image's length without it
 * (all of len for an older snapshot without one). */
int store__db_image_check(const void *data, size_t len, size_t *image_len);
void store__db_snapshot_end(struct store_db *db, struct raft_buffer *buf);
int64_t store__db_bytes(struct store_db *db);
int store__db_checkpoint(struct store_db *db); /* worker thread */
void store__db_checkpoint_finish(struct store_db *db); /* loop, after it */
/* Runs fn(arg) on the calling worker thread at the lowest CPU priority,
 * then restores it: background work proportional to the data (snapshot
 * images, WAL checkpoints) must not take the cores from the loop and from
 * Raft's own writes, which share libuv's thread pool (store.c). */
int store__background(int (*fn)(void *arg), void *arg);

/* Commits the open apply batch, if any (fsm.c). */
void store__batch_commit(store *s);
/* Opens the apply batch, if not open yet (fsm.c). */
int store__batch_begin(store *s);
void store__batch_init(store *s);

/* Starts a background WAL checkpoint when the WAL has grown (store.c). */
void store__checkpoint_maybe(store *s);
int store__db_restore(struct store_db *db, const void *data, size_t len);
void store__db_maintain(struct store_db *db);

/* ---- history.c: in-memory event ring ---- */

/* One version of a key, shared by the event that made it and the event
 * that replaced it (as prev), so the ring holds each value about once. */
struct store_blob {
    unsigned refs;
    int64_t create_rev, mod_rev, version;
    size_t value_len;
    char *key;
    char *value; /* NUL-terminated */
    char data[];
};

struct store_hist_ev {
    int64_t rev;
    enum store_event_type type;
    struct store_blob *kv;   /* PUT: the new entry; DELETE: NULL (derived from prev) */
    struct store_blob *prev; /* NULL when the key did not exist */
};

struct store_history {
    struct store_hist_ev *ring;
    size_t cap, head, n; /* head: slot of the oldest event */
    uint64_t next_seq;   /* sequence number the next pushed event gets */
    int64_t compact_rev;
};

struct store_blob *store__blob_new(const char *key, const void *value, size_t len,
                                   int64_t create_rev, int64_t mod_rev, int64_t version);
void store__blob_unref(struct store_blob *b);
static inline struct store_blob *store__blob_ref(struct store_blob *b)
{
    if (b) b->refs++;
    return b;
}

int store__hist_init(struct store_history *h, size_t cap);
void store__hist_free(struct store_history *h);
void store__hist_reset(struct store_history *h, int64_t compact_rev);
/* Takes over the references held by ev. */
void store__hist_push(struct store_history *h, const struct store_hist_ev *ev);
static inline uint64_t store__hist_first_seq(const struct store_history *h)
{
    return h->next_seq - h->n;
}
const struct store_hist_ev *store__hist_at(const struct store_history *h, uint64_t seq);
/* Sequence number of the first retained event with revision > rev. */
uint64_t store__hist_seek(const struct store_history *h, int64_t rev);
/* The blob of the PUT at mod_rev that wrote key, when still retained. */
struct store_blob *store__hist_find_put(const struct store_history *h, const char *key,
                                        int64_t mod_rev);
/* Fills the public view of ev; kv and prev are caller storage. */
void store__hist_view(const struct store_hist_ev *ev, struct store_event *out, struct store_kv *kv,
                      struct store_kv *prev);

/* ---- segment.c: raft_uv's files, read without raft ---- */

uint32_t store__crc32(const void *buf, size_t n, uint32_t crc);

enum store_seg_stop {
    STORE_SEG_END,      /* read to the end of the file */
    STORE_SEG_ZERO_END, /* an open segment's unwritten (zeroed) rest */
    STORE_SEG_BAD,      /* a batch failed: see why, bad_offset, torn */
};

struct store_seg_scan {
    const unsigned char *data; /* in: the whole file */
    size_t len;
    uint64_t format;
    size_t n_entries;  /* entries in the good batches */
    size_t good_end;   /* offset just past the last good batch */
    enum store_seg_stop stop;
    const char *why;   /* BAD: what failed (static text) */
    size_t bad_offset; /* BAD: where the failed batch starts */
    unsigned bad_n;    /* BAD: its entry count when its header was readable, else 0 */
    size_t bad_end;    /* BAD: where it ends when its header was readable, else 0 */
    bool torn;         /* BAD: the failed batch looks like a write that never reached the disk */
};

typedef void (*store_seg_entry_cb)(void *arg, uint64_t term, unsigned type, const void *data,
                                   size_t len);
/* Walks the segment's batches in order from byte `from` (0: the first
 * batch), calling cb (may be NULL) for each entry of each good batch;
 * stops at the first failure. Always 0. */
int store__seg_scan(struct store_seg_scan *sc, size_t from, store_seg_entry_cb cb, void *arg);

typedef void (*store_conf_server_cb)(void *arg, uint64_t id, const char *address, int role);
/* Decodes an encoded raft configuration, calling cb (may be NULL) per
 * server; ORC_ECORRUPT when malformed. */
int store__conf_scan(const void *buf, size_t len, store_conf_server_cb cb, void *arg);
/* Checks a snapshot's .meta file; *conf points into buf. On ORC_ECORRUPT,
 * *why says what failed. */
int store__snapshot_meta_check(const void *buf, size_t len, const void **conf, size_t *conf_len,
                               const char **why);

/* ---- verify.c: the Raft dir checked before raft loads it ---- */

/* Checks every segment and the newest snapshot's metadata. A torn tail is
 * cut as raft would. Corruption of entries that may have been
 * acknowledged: when `alone` (this member will be the only voter) or the
 * log's own configuration says no other voter holds them, refuses with
 * ORC_ECORRUPT and an error naming the file and what would be lost, unless
 * discard; otherwise moves the damaged file and everything newer to
 * DIR/raft-corrupt-<time>/ and sets s->catchup_index to the last index the
 * log held, so the member reports itself catching up until it has it
 * again. errmsg: 256 bytes. */
int store__verify(store *s, bool alone, char *errmsg);

/* ---- requests handed to raft ---- */

enum store_req_kind { REQ_BATCH, REQ_BARRIER, REQ_CHANGE };

/* Every request raft holds, so close can fail its callers at once and free
 * what raft never called back. */
struct store_req {
    struct orc_link link; /* in store.reqs */
    store *s;
    enum store_req_kind kind;
    bool done; /* user callbacks already fired (store closing) */
};

struct store_rev_waiter {
    struct orc_link link; /* in store.rev_waiters, sorted by rev */
    int64_t rev;
    uint64_t deadline;
    void (*cb)(void *arg, int status);
    void *arg;
};

/* ---- the store ---- */

/* Where an allocation's search may start (alloc_hint.c): every value of
 * the pool below `from` is reserved. */
#define STORE_ALLOC_HINTS 8
struct store_alloc_hint {
    bool used;
    unsigned bits;
    char prefix[96], range[64];
    uint64_t from;
};

/* Keys counted by prefix (stats.c). */
#define STORE_COUNT_SLOTS 256
#define STORE_COUNT_PREFIX 96
struct store_prefix_count {
    char prefix[STORE_COUNT_PREFIX]; /* "" : a free slot */
    int64_t n;
};

struct store {
    uv_loop_t *loop;
    uint64_t id;
    char *data_dir;
    char *address;
    /* Copies of the caller's Raft TLS material: a rebuild (store__restart)
     * sets the transport up again. The key is wiped when freed. */
    struct store_raft_tls raft_tls;
    char raft_dir[4096];
    int lock_fd; /* flock on DIR/lock */
    struct store_config cfg;

    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    bool io_open;      /* raft_uv and its transport made: freed with the store */
    void (*io_close)(struct raft_io *io, raft_io_close_cb cb); /* raft_uv's (io_close.c) */
    raft_io_close_cb io_close_cb; /* raft's, called once */
    bool io_closed;
    struct raft_fsm fsm;
    struct store_prefix_count counts[STORE_COUNT_SLOTS]; /* stats.c */
    uint64_t seen_leader;     /* the leader the last tick knew (stats.c) */
    uint64_t snapshot_start;  /* uv_hrtime of the snapshot in progress */
    bool started, closing;

    struct store_db db;
    int64_t revision;
    size_t entry_bytes;  /* moving average of applied entry sizes */
    bool snapshotting;   /* a snapshot holds the reader's read transaction */
    struct store_history hist;
    struct store_txn_result apply_result; /* *result of every fsm apply */
    struct store_hist_ev *scratch;        /* events of the txn being applied */
    size_t scratch_n, scratch_cap;
    struct store_alloc_hint hints[STORE_ALLOC_HINTS]; /* alloc_hint.c */

    store_decode_fn decode; /* store_set_decoder */
    void *decode_arg;

    struct orc_link watches;
    unsigned delivering; /* nesting depth of watch callbacks */
    bool watch_garbage;  /* stopped watches wait for the sweep */

    /* write pipeline (txn.c) */
    uint64_t nonce;           /* random per open: marks this member's entries */
    uint64_t next_seq;        /* of the next txn */
    uint64_t next_req_id;
    struct orc_link txq;    /* txns not yet handed to raft */
    struct orc_link txn_pending; /* handed to raft, by seq */
    struct orc_link barrier_queue;
    bool barrier_inflight;
    uint64_t gate_id;         /* request whose local append is pending, 0 = none */
    raft_index gate_index;    /* its last log index */
    bool pumping;
    uv_prepare_t pump_prepare; /* submits queued work, once per loop iteration */

    struct orc_link reqs;
    struct orc_link rev_waiters;
    uint64_t wait_deadline; /* armed deadline of wait_timer, 0 = none */

    struct {
        void (*cb)(void *arg, bool leader);
        void *arg;
    } role_watch[STORE_ROLE_WATCHERS];
    bool leader;          /* as reported to role_cb */
    raft_term leader_term;
    bool catchup_inflight;

    uv_timer_t tick;       /* role polling; then the deferred raft_close */
    uv_timer_t wait_timer; /* store_wait_revision deadlines */
    unsigned handles_open;    /* uv handles, plus a running checkpoint */
    uv_work_t ckpt_work;
    bool checkpointing;
    /* Applies of one loop iteration share one SQLite transaction (hot pages
     * are written once per batch); committed before the loop blocks, before
     * a snapshot or restore, and at close. */
    uv_prepare_t commit_prepare;
    bool batch_open;
    unsigned batch_n;
    bool fsm_failed; /* a batch could not be committed: this member's state is behind */
    unsigned backups;    /* backups being taken (backup_take.c) */
    bool load_trailing;  /* a backup load lowered the snapshot trailing (backup_load.c) */
    bool verified;   /* the Raft dir was checked (store__verify) */
    char snapshot_name[96]; /* the newest snapshot it found, "" = none */
    uint64_t catchup_index; /* not ready until applied up to here (damaged log, rebuild) */
    uint64_t catchup_seen;  /* last_applied when it last moved, and when (ms) */
    uint64_t catchup_moved_at;

    /* health (health.c) */
    bool catchup_heard; /* the leader's commit index was seen since raft started */
    int (*io_start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv);
    raft_io_recv_cb io_recv;
    int (*io_append)(struct raft_io *io, struct raft_io_append *req,
                     const struct raft_entry entries[], unsigned n, raft_io_append_cb cb);
    int (*io_snapshot_put)(struct raft_io *io, unsigned trailing,
                           struct raft_io_snapshot_put *req, const struct raft_snapshot *snapshot,
                           raft_io_snapshot_put_cb cb);
    bool io_failed;       /* a Raft write failed: raft_uv 0.15 is done for good */
    char io_error[320];
    char fsm_error[256];
    bool low_space;
    uint64_t free_bytes, space_polled;
    int degraded;         /* why it was degraded at the last tick (health.c), 0 = it was not */
    uint64_t removed_by;  /* the leader that told this member it was removed (health.c) */
    bool was_member;      /* its configuration has named it (health.c) */
    char health_msg[768];
    uint64_t transfer_at; /* next leadership hand-off attempt (ms) */
    bool restarting;      /* raft closing and reopening (store__restart) */
    enum { RAFT_PHASE_OPEN = 0, RAFT_PHASE_CLOSING, RAFT_PHASE_DOWN } raft_phase;
    bool reopen_pending;  /* reopen once the running checkpoint ends */
    bool restart_failed;  /* raft is being closed after a failed rebuild */
    char restart_why[320];
    uint64_t restart_at, restart_backoff;
    void (*close_cb)(void *arg);
    void *close_arg;
};

/* fsm.c */
void store__fsm_init(store *s);
/* election.c: orc's election timer randomness (raft_io's random); after raft_uv_init. */
void store__election_init(store *s);
/* io_close.c: raft_io's close reports once (raft 0.15 may report twice); after raft_uv_init. */
void store__io_close_init(store *s);

/* health.c */
/* Wraps raft_uv's append and snapshot_put to see their failures; after
 * raft_uv_init. */
void store__health_watch_io(store *s);
/* Answers other members' hellos "removed" when this member leads and they
 * are not in its committed configuration, and notes it when told so
 * itself (transport.h): a removed member then stops serving. */
void store__health_watch_members(store *s);
/* Every role poll: free space, raft's state, catching up, and the moves a
 * degraded member makes (hand-off, rebuild). */
void store__health_tick(store *s);
/* The database no longer follows the log (apply or commit failed). */
void store__fsm_fail(store *s, const char *why);

/* ---- alloc_hint.c ---- */
/* The hint of the slot's pool (made on first use), or NULL when none can be
 * kept: search from 0. */
uint64_t *store__hint_for(store *s, const struct store_alloc_slot *sl);
/* `key` was deleted: a hint over its prefix comes down to its value. */
void store__hint_deleted(store *s, const char *key);
/* The database changed some other way: every search starts at 0 again. */
void store__hint_reset(store *s);

/* store.c: closes raft and starts it again from the data dir, on a new
 * state.db, failing what was pending (outcome unknown). */
void store__restart(store *s, const char *why);

/* watch.c */
void store__watch_deliver(store *s);
void store__watch_end_all(store *s, int err);

/* store.c */
/* Work that runs past the loop (a checkpoint, a backup) holds the store:
 * it is freed only once every hold is released, after store_close. */
void store__hold(store *s);
void store__release(store *s);
/* Formats into a 256-byte errmsg, truncating. */
void store__errf(char *errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void store__rev_reached(store *s);
int store__raft_err(int rv);

/* txn.c */
void store__pipeline_init(store *s);
/* 0 when this member may submit entries, else ORC_ENOTLEADER/ESHUTDOWN. */
int store__writable(const store *s);
/* Queues an entry (raft_malloc'd, store__entry_size(body_len) bytes, body
 * in place after the header, which this writes); raft takes it over. cb
 * gets the result store__txn_resolve hands over when it is applied. */
int store__entry_queue(store *s, void *entry, size_t body_len, unsigned kind, store_txn_cb cb,
                       void *arg);
/* After raft was closed and opened again (every request already failed). */
void store__pipeline_reset(store *s);
/* Hands the result of an applied entry to its caller, if this member sent it. */
void store__txn_resolve(store *s, uint64_t nonce, uint64_t seq, const struct store_txn_result *res);
/* Fails the txns that leadership loss stranded. */
void store__txn_leader_lost(store *s);
/* Fails every queued or pending txn and barrier (store closing). */
void store__pipeline_fail_all(store *s, int status);
void store__req_free(struct store_req *req);

/* member.c */
void store__change_fail(struct store_req *req, int status);

/* ---- stats.c: counts kept as entries apply, and the store's metrics ---- */

/* A key created (delta 1) or deleted (-1). */
void store__count_key(store *s, const char *key, int delta);
/* Counts again from the database (open, restore, a loaded backup). */
void store__count_rebuild(store *s);
/* Metrics: a txn's time from queued to applied; a snapshot's; the tick's
 * look at the leader. */
void store__metric_commit(uint64_t queued_ns);
void store__metric_snapshot(store *s);
void store__metric_tick(store *s);
/* Every key of the database, in no order (a walk: only at rebuilds). */
int store__db_each_key(struct store_db *db, void (*fn)(void *arg, const char *key), void *arg);

#endif
