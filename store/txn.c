/* txn.c — the write pipeline. Txns and barriers reach Raft in batches, with
 * at most one request whose local append is still pending: raft 0.15
 * crashes when two leader appends fail together (disk full, or close with
 * writes in flight), and raft_uv would group those writes anyway. Every
 * entry carries this member's (nonce, seq), so the FSM hands each txn its
 * own result even when many share one raft_apply. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/orc.h"
#include "store/store_int.h"

#define BATCH_MAX_ENTRIES 512
#define BATCH_MAX_BYTES (8u << 20)

struct txn_item {
    struct orc_link link; /* in txq, then txn_pending */
    uint64_t seq;
    uint64_t req_id; /* raft request carrying it; 0 while queued */
    raft_term term;  /* leader term it was handed to raft in */
    uint64_t queued_ns; /* uv_hrtime when queued: commit latency */
    struct raft_buffer buf; /* owned until handed to raft */
    store_txn_cb cb;
    void *arg;
};

struct barrier_waiter {
    struct orc_link link;
    void (*cb)(void *arg, int status, int64_t revision);
    void *arg;
};

/* One raft request: a batch of txn entries, or a barrier. */
struct pipe_req {
    struct store_req req; /* first: store__req_free frees through it */
    uint64_t id;
    struct raft_apply apply;
    struct raft_barrier barrier;
    struct orc_link waiters; /* barrier only */
};

static void pump(store *s);

static void on_pump(uv_prepare_t *p) { pump(p->data); }

/* Submission waits for the next loop iteration, so every txn issued by the
 * callbacks of this one (typically a whole batch of results) goes together. */
static void kick(store *s)
{
    if (!s->closing) uv_prepare_start(&s->pump_prepare, on_pump);
}

static void new_nonce(store *s)
{
    if (getrandom(&s->nonce, sizeof s->nonce, 0) != sizeof s->nonce)
        s->nonce = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ s->id;
}

void store__pipeline_init(store *s)
{
    orc_list_init(&s->txq);
    orc_list_init(&s->txn_pending);
    orc_list_init(&s->barrier_queue);
    new_nonce(s);
    s->next_seq = 1;
    s->next_req_id = 1;
    uv_prepare_init(s->loop, &s->pump_prepare);
    s->pump_prepare.data = s;
}

void store__pipeline_reset(store *s)
{
    new_nonce(s); /* entries from before never resolve a later txn */
    s->gate_id = 0;
    s->barrier_inflight = false;
    s->pumping = false;
}

static void item_finish(store *s, struct txn_item *it, int status,
                        const struct store_txn_result *res)
{
    struct store_txn_result fallback = {false, s->revision, -1, 0, ""};

    orc_list_remove(&it->link);
    raft_free(it->buf.base);
    if (status == 0 && res) store__metric_commit(it->queued_ns);
    if (it->cb) it->cb(it->arg, status, res ? res : &fallback);
    free(it);
}

static void fire_waiters(struct orc_link *waiters, int status, int64_t rev)
{
    while (!orc_list_empty(waiters)) {
        struct barrier_waiter *w = ORC_CONTAINER(waiters->next, struct barrier_waiter, link);
        orc_list_remove(&w->link);
        w->cb(w->arg, status, rev);
        free(w);
    }
}

static struct pipe_req *req_new(store *s, enum store_req_kind kind)
{
    struct pipe_req *r = calloc(1, sizeof *r);

    if (r == NULL) return NULL;
    r->req.s = s;
    r->req.kind = kind;
    r->id = s->next_req_id++;
    r->apply.data = r->barrier.data = r;
    orc_list_init(&r->waiters);
    orc_list_push(&s->reqs, &r->req.link);
    return r;
}

void store__req_free(struct store_req *req) { free(req); }

/* The request's local append is done (or failed): the next may go. */
static void gate_release(store *s, uint64_t id)
{
    if (s->gate_id == id) s->gate_id = 0;
}

static void gate_hold(store *s, uint64_t id)
{
    s->gate_id = id;
    s->gate_index = raft_last_index(&s->raft);
}

static bool gate_busy(store *s)
{
    if (s->gate_id != 0 && s->raft.last_stored >= s->gate_index) s->gate_id = 0;
    return s->gate_id != 0;
}

/* ---- txn batches ---- */

static struct txn_item *pending_of(store *s, uint64_t req_id)
{
    struct orc_link *l;

    for (l = s->txn_pending.next; l != &s->txn_pending; l = l->next) {
        struct txn_item *it = ORC_CONTAINER(l, struct txn_item, link);
        if (it->req_id == req_id) return it;
    }
    return NULL;
}

static void batch_done(struct raft_apply *a, int status, void *result)
{
    struct pipe_req *r = a->data;
    store *s = r->req.s;
    struct txn_item *it;

    (void)result; /* results come through store__txn_resolve */
    orc_list_remove(&r->req.link);
    gate_release(s, r->id);
    if (status != 0 && !r->req.done) {
        log_warn("store", "txn batch failed: %s", raft_strerror(status));
        while ((it = pending_of(s, r->id)) != NULL) item_finish(s, it, store__raft_err(status), NULL);
    }
    free(r);
    kick(s);
}

static void submit_batch(store *s)
{
    struct raft_buffer bufs[BATCH_MAX_ENTRIES];
    struct orc_link batch;
    struct pipe_req *r;
    size_t bytes = 0;
    unsigned n = 0;
    int rv;

    /* Detached first: callbacks fired below may queue more txns. */
    orc_list_init(&batch);
    while (!orc_list_empty(&s->txq) && n < BATCH_MAX_ENTRIES) {
        struct txn_item *it = ORC_CONTAINER(s->txq.next, struct txn_item, link);
        if (n > 0 && bytes + it->buf.len > BATCH_MAX_BYTES) break;
        bufs[n++] = it->buf;
        bytes += it->buf.len;
        orc_list_remove(&it->link);
        orc_list_push(&batch, &it->link);
    }
    if ((r = req_new(s, REQ_BATCH)) == NULL) {
        rv = RAFT_NOMEM;
    } else if ((rv = raft_apply(&s->raft, &r->apply, bufs, n, batch_done)) != 0) {
        orc_list_remove(&r->req.link);
        free(r);
    } else {
        gate_hold(s, r->id);
    }
    while (!orc_list_empty(&batch)) {
        struct txn_item *it = ORC_CONTAINER(batch.next, struct txn_item, link);
        if (rv != 0) {
            item_finish(s, it, store__raft_err(rv), NULL);
            continue;
        }
        it->buf.base = NULL; /* raft owns it now */
        it->req_id = r->id;
        it->term = s->raft.current_term;
        orc_list_remove(&it->link);
        orc_list_push(&s->txn_pending, &it->link);
    }
}

/* entry: raft_malloc'd, store__entry_size(body_len) bytes, body in place. */
int store__entry_queue(store *s, void *entry, size_t body_len, unsigned kind, store_txn_cb cb,
                       void *arg)
{
    struct txn_item *it = calloc(1, sizeof *it);

    if (it == NULL) {
        raft_free(entry);
        return ORC_ENOMEM;
    }
    it->seq = s->next_seq++;
    it->queued_ns = uv_hrtime();
    store__entry_header_kind(entry, body_len, kind, s->nonce, it->seq);
    it->buf.base = entry;
    it->buf.len = store__entry_size(body_len);
    it->cb = cb;
    it->arg = arg;
    orc_list_push(&s->txq, &it->link);
    kick(s);
    return 0;
}

int store__writable(const store *s)
{
    if (s->closing) return ORC_ESHUTDOWN;
    if (!s->started || raft_state((struct raft *)&s->raft) != RAFT_LEADER) return ORC_ENOTLEADER;
    /* A database that lost entries never resolves a txn; a nearly full
     * disk would soon fail Raft's own writes. */
    if (s->fsm_failed || s->io_failed || s->low_space) return ORC_EUNAVAIL;
    return 0;
}

int store_txn(store *s, const struct store_txn *txn, store_txn_cb cb, void *arg)
{
    void *entry;
    size_t n;
    int rc;

    if ((rc = store__writable(s)) != 0) return rc;
    if ((rc = store__txn_measure(txn, &n)) != 0) return rc;
    if ((entry = raft_malloc(store__entry_size(n))) == NULL) return ORC_ENOMEM;
    store__txn_write(txn, (char *)entry + STORE_ENTRY_HEADER);
    return store__entry_queue(s, entry, n, STORE_ENTRY_TXN, cb, arg);
}

int store_txn_encoded(store *s, const void *buf, size_t len, store_txn_cb cb, void *arg)
{
    void *entry;
    int rc;

    if ((rc = store__writable(s)) != 0) return rc;
    if (len > STORE_TXN_MAX) return ORC_ETOOBIG;
    if (store__txn_check(buf, len) != 0) return ORC_EPROTO;
    if ((entry = raft_malloc(store__entry_size(len))) == NULL) return ORC_ENOMEM;
    memcpy((char *)entry + STORE_ENTRY_HEADER, buf, len);
    return store__entry_queue(s, entry, len, STORE_ENTRY_TXN, cb, arg);
}

void store__txn_resolve(store *s, uint64_t nonce, uint64_t seq, const struct store_txn_result *res)
{
    if (nonce != s->nonce) return;
    while (!orc_list_empty(&s->txn_pending)) {
        struct txn_item *it = ORC_CONTAINER(s->txn_pending.next, struct txn_item, link);
        if (it->seq > seq) break;
        if (it->seq == seq) {
            item_finish(s, it, 0, res);
            break;
        }
        /* An earlier entry of ours was overwritten by another leader. */
        item_finish(s, it, ORC_ENOTLEADER, NULL);
    }
}

void store__txn_leader_lost(store *s)
{
    bool leader = raft_state(&s->raft) == RAFT_LEADER;
    raft_term term = s->raft.current_term;
    struct orc_link *l;

    for (l = s->txn_pending.next; l != &s->txn_pending;) {
        struct txn_item *it = ORC_CONTAINER(l, struct txn_item, link);
        if (leader && it->term == term) {
            l = l->next;
            continue;
        }
        item_finish(s, it, ORC_ENOTLEADER, NULL);
        l = s->txn_pending.next; /* callbacks may have changed the list */
    }
}

/* ---- barriers: callers arriving while one is in flight share the next ---- */

static void barrier_done(struct raft_barrier *b, int status)
{
    struct pipe_req *r = b->data;
    store *s = r->req.s;

    orc_list_remove(&r->req.link);
    gate_release(s, r->id);
    s->barrier_inflight = false;
    if (!r->req.done) fire_waiters(&r->waiters, store__raft_err(status), s->revision);
    free(r);
    kick(s);
}

static void submit_barrier(store *s)
{
    struct pipe_req *r = req_new(s, REQ_BARRIER);
    int rv = RAFT_NOMEM;

    if (r != NULL && (rv = raft_barrier(&s->raft, &r->barrier, barrier_done)) != 0) {
        orc_list_remove(&r->req.link);
        free(r);
    }
    if (rv != 0) {
        fire_waiters(&s->barrier_queue, store__raft_err(rv), s->revision);
        return;
    }
    while (!orc_list_empty(&s->barrier_queue)) {
        struct orc_link *l = s->barrier_queue.next;
        orc_list_remove(l);
        orc_list_push(&r->waiters, l);
    }
    s->barrier_inflight = true;
    gate_hold(s, r->id);
}

int store_barrier(store *s, void (*cb)(void *arg, int status, int64_t revision), void *arg)
{
    struct barrier_waiter *w;
    int rc;

    if (cb == NULL) return ORC_EINVAL;
    if ((rc = store__writable(s)) != 0) return rc;
    if ((w = malloc(sizeof *w)) == NULL) return ORC_ENOMEM;
    w->cb = cb;
    w->arg = arg;
    orc_list_push(&s->barrier_queue, &w->link);
    kick(s);
    return 0;
}

/* ---- the pump ---- */

static bool has_work(const store *s)
{
    return !orc_list_empty(&s->txq) ||
           (!orc_list_empty(&s->barrier_queue) && !s->barrier_inflight);
}

/* Runs before each poll while work is queued; the gate opens when the
 * pending append is stored, which is I/O that wakes the loop. */
static void pump(store *s)
{
    if (s->pumping || s->closing) return;
    s->pumping = true;
    while (has_work(s) && !gate_busy(s)) {
        if (!orc_list_empty(&s->txq))
            submit_batch(s);
        else
            submit_barrier(s);
    }
    s->pumping = false;
    if (!has_work(s)) uv_prepare_stop(&s->pump_prepare);
}

void store__pipeline_fail_all(store *s, int status)
{
    struct orc_link *l;

    uv_prepare_stop(&s->pump_prepare);
    for (l = s->reqs.next; l != &s->reqs; l = l->next) {
        struct store_req *req = ORC_CONTAINER(l, struct store_req, link);
        if (req->done || req->kind == REQ_CHANGE) continue;
        req->done = true;
        fire_waiters(&ORC_CONTAINER(req, struct pipe_req, req)->waiters, status, s->revision);
    }
    fire_waiters(&s->barrier_queue, status, s->revision);
    while (!orc_list_empty(&s->txq))
        item_finish(s, ORC_CONTAINER(s->txq.next, struct txn_item, link), status, NULL);
    while (!orc_list_empty(&s->txn_pending))
        item_finish(s, ORC_CONTAINER(s->txn_pending.next, struct txn_item, link), status, NULL);
}
