/* store.c — lifecycle of a store member (open, start, close), its state,
 * revision waits, and role polling (raft 0.15 has no state-change callback). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/store_int.h"
#include "store/transport.h"

#define ROLE_POLL_MS 50
#define CONNECT_RETRY_MS 500
/* raft resends a snapshot only after this; 0.15 drops an InstallSnapshot
 * that arrives while the follower writes its own snapshot (default 30 s). */
#define INSTALL_SNAPSHOT_TIMEOUT_MS 5000

static void schedule_reopen(store *s);
static void close_handles(store *s);

int store__raft_err(int rv)
{
    switch (rv) {
    case 0: return 0;
    case RAFT_NOMEM: return ORC_ENOMEM;
    case RAFT_NOTLEADER: case RAFT_LEADERSHIPLOST: return ORC_ENOTLEADER;
    case RAFT_SHUTDOWN: return ORC_ESHUTDOWN;
    case RAFT_TOOBIG: return ORC_ETOOBIG;
    case RAFT_CORRUPT: case RAFT_MALFORMED: return ORC_ECORRUPT;
    case RAFT_CANCELED: return ORC_ECANCELED;
    case RAFT_NOCONNECTION: return ORC_EUNAVAIL;
    case RAFT_CANTCHANGE: case RAFT_BUSY: return ORC_ECONFLICT;
    case RAFT_DUPLICATEID: case RAFT_DUPLICATEADDRESS: case RAFT_CANTBOOTSTRAP: return ORC_EEXIST;
    case RAFT_BADID: case RAFT_NOTFOUND: return ORC_ENOENT;
    case RAFT_BADROLE: case RAFT_INVALID: case RAFT_NAMETOOLONG: return ORC_EINVAL;
    default: return ORC_EIO;
    }
}

void store__errf(char *errmsg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errmsg, 256, fmt, ap);
    va_end(ap);
}

/* ---- open ---- */

/* mkdir -p, then checks the result is a usable directory. */
static int make_dir(const char *path, char *errmsg)
{
    char tmp[4096];
    struct stat st;

    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        store__errf(errmsg, "path too long: %s", path);
        return ORC_EINVAL;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            store__errf(errmsg, "create %s: %s", tmp, strerror(errno));
            return ORC_EIO;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        store__errf(errmsg, "create %s: %s", path, strerror(errno));
        return ORC_EIO;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        store__errf(errmsg, "%s is not a directory", path);
        return ORC_EINVAL;
    }
    /* Private whatever it was made with: the log and state.db hold Secrets. */
    if (orc_file_private_dir(path) != 0) {
        store__errf(errmsg, "make %s and its files private (0700/0600): %s", path,
                    strerror(errno));
        return ORC_EPERM;
    }
    if (access(path, R_OK | W_OK | X_OK) != 0) {
        store__errf(errmsg, "%s: %s", path, strerror(errno));
        return ORC_EPERM;
    }
    return 0;
}

/* Two processes on one data dir would corrupt it: hold DIR/lock. */
static int lock_dir(store *s, char *errmsg)
{
    char path[4200];

    snprintf(path, sizeof path, "%s/lock", s->data_dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        store__errf(errmsg, "open %s: %s", path, strerror(errno));
        return ORC_EIO;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        store__errf(errmsg, "%s is in use by another store (%s)", s->data_dir,
                    errno == EWOULDBLOCK ? "locked" : strerror(errno));
        return errno == EWOULDBLOCK ? ORC_EEXIST : ORC_EIO;
    }
    return 0;
}

static void config_defaults(struct store_config *c)
{
    if (c->snapshot_threshold == 0) c->snapshot_threshold = 8192;
    if (c->snapshot_trailing == 0) c->snapshot_trailing = 512;
    if (c->watch_history == 0) c->watch_history = 10000;
    if (c->election_timeout_ms == 0) c->election_timeout_ms = 700;
    if (c->heartbeat_timeout_ms == 0) c->heartbeat_timeout_ms = 100;
    if (c->segment_size == 0) c->segment_size = 8u << 20;
}

static int open_raft(store *s, char *errmsg)
{
    int rv;

    if (s->cfg.raft_plaintext)
        log_warn("store", "BENCHMARK ONLY: Raft runs over plain TCP, unauthenticated and unencrypted: "
                          "anyone who reaches %s can crash or take over this cluster", s->address);
    rv = store__transport_init(&s->transport, s->loop, s->id,
                               s->cfg.raft_plaintext ? NULL : s->cfg.raft_tls, errmsg);
    if (rv != 0) return rv;
    if ((rv = raft_uv_init(&s->io, s->loop, s->raft_dir, &s->transport)) != 0) {
        store__errf(errmsg, "raft io in %s: %s", s->raft_dir, s->io.errmsg);
        goto err_transport;
    }
    store__health_watch_io(s);
    store__health_watch_members(s);
    raft_uv_set_segment_size(&s->io, s->cfg.segment_size);
    raft_uv_set_connect_retry_delay(&s->io, CONNECT_RETRY_MS);
    raft_uv_set_snapshot_compression(&s->io, false);
    store__election_init(s);
    /* Damage is store__verify's to judge: raft's own recovery renames a
     * damaged segment aside and starts without it, silently. */
    raft_uv_set_auto_recovery(&s->io, false);
    store__io_close_init(s);
    /* Debian's raft 0.15 implements async_work (all that io version 2 adds)
     * but still reports version 1; without it snapshots run on the loop. */
    if (s->io.async_work != NULL && s->io.version < 2) s->io.version = 2;
    store__fsm_init(s);
    if ((rv = raft_init(&s->raft, &s->io, &s->fsm, s->id, s->address)) != 0) {
        store__errf(errmsg, "raft init in %s: %s", s->raft_dir, raft_errmsg(&s->raft));
        goto err_io;
    }
    s->raft.data = s;
    raft_set_election_timeout(&s->raft, s->cfg.election_timeout_ms);
    raft_set_heartbeat_timeout(&s->raft, s->cfg.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&s->raft, s->cfg.snapshot_threshold);
    raft_set_snapshot_trailing(&s->raft, s->cfg.snapshot_trailing);
    raft_set_pre_vote(&s->raft, true);
    raft_set_install_snapshot_timeout(&s->raft, INSTALL_SNAPSHOT_TIMEOUT_MS);
    s->io_open = true;
    return 0;
err_io:
    raft_uv_close(&s->io);
err_transport:
    store__transport_free(&s->transport);
    return store__raft_err(rv);
}

/* raft_uv and the transport of a raft that has closed (or never started). */
static void free_io(store *s)
{
    if (!s->io_open) return;
    raft_uv_close(&s->io);
    store__transport_free(&s->transport);
    s->io_open = false;
}

static void free_raft_tls(store *s)
{
    char *key = (char *)s->raft_tls.key_pem;

    if (key != NULL) explicit_bzero(key, strlen(key));
    free(key);
    free((char *)s->raft_tls.cert_pem);
    free((char *)s->raft_tls.ca_pem);
    memset(&s->raft_tls, 0, sizeof s->raft_tls);
}

/* The caller's PEM texts are copied: open_raft reads them again when the
 * store rebuilds itself, long after store_open returned. */
static int copy_raft_tls(store *s, const struct store_raft_tls *t)
{
    s->cfg.raft_tls = &s->raft_tls;
    s->raft_tls.ca_pem = t->ca_pem ? strdup(t->ca_pem) : NULL;
    s->raft_tls.cert_pem = t->cert_pem ? strdup(t->cert_pem) : NULL;
    s->raft_tls.key_pem = t->key_pem ? strdup(t->key_pem) : NULL;
    if ((t->ca_pem && !s->raft_tls.ca_pem) || (t->cert_pem && !s->raft_tls.cert_pem)
        || (t->key_pem && !s->raft_tls.key_pem)) {
        free_raft_tls(s);
        return ORC_ENOMEM;
    }
    return 0;
}

static void store_free(store *s)
{
    struct orc_link *l;

    while (!orc_list_empty(&s->watches)) { /* stopped, awaiting a sweep */
        l = s->watches.next;
        orc_list_remove(l);
        free(l);
    }
    store__db_close(&s->db);
    store__hist_free(&s->hist);
    for (size_t i = 0; i < s->scratch_n; i++) {
        store__blob_unref(s->scratch[i].kv);
        store__blob_unref(s->scratch[i].prev);
    }
    free(s->scratch);
    free_io(s);
    if (s->lock_fd >= 0) close(s->lock_fd);
    free_raft_tls(s);
    free(s->data_dir);
    free(s->address);
    free(s);
}

int store_open(uv_loop_t *loop, const struct store_config *cfg, store **out, char *errmsg)
{
    char local[256];
    store *s;
    int rc;

    if (errmsg == NULL) errmsg = local;
    errmsg[0] = '\0';
    if (loop == NULL || cfg == NULL || out == NULL || cfg->data_dir == NULL || cfg->id == 0 ||
        cfg->raft_address == NULL || cfg->raft_address[0] == '\0') {
        store__errf(errmsg, "store config needs data_dir, id > 0 and raft_address");
        return ORC_EINVAL;
    }
    if (cfg->raft_tls == NULL && !cfg->raft_plaintext) {
        store__errf(errmsg, "store config needs raft_tls: Raft runs over mutual TLS");
        return ORC_EINVAL;
    }
    if ((s = calloc(1, sizeof *s)) == NULL) goto nomem;
    s->loop = loop;
    s->id = cfg->id;
    s->lock_fd = -1;
    s->cfg = *cfg;
    config_defaults(&s->cfg);
    orc_list_init(&s->watches);
    orc_list_init(&s->reqs);
    orc_list_init(&s->rev_waiters);
    s->data_dir = strdup(cfg->data_dir);
    s->address = strdup(cfg->raft_address);
    if (s->data_dir == NULL || s->address == NULL) goto nomem_free;
    s->cfg.data_dir = s->data_dir;
    s->cfg.raft_address = s->address;
    if (cfg->raft_tls != NULL && copy_raft_tls(s, cfg->raft_tls) != 0) goto nomem_free;
    if ((size_t)snprintf(s->raft_dir, sizeof s->raft_dir, "%s/raft", s->data_dir) >=
        sizeof s->raft_dir) {
        store__errf(errmsg, "data dir path too long");
        rc = ORC_EINVAL;
        goto err;
    }
    if ((rc = make_dir(s->data_dir, errmsg)) != 0 || (rc = lock_dir(s, errmsg)) != 0 ||
        (rc = make_dir(s->raft_dir, errmsg)) != 0)
        goto err;
    if (store__hist_init(&s->hist, s->cfg.watch_history) != 0) goto nomem_free;
    if ((rc = store__db_open(&s->db, s->data_dir, errmsg)) != 0) goto err;
    store__count_rebuild(s);
    if ((rc = open_raft(s, errmsg)) != 0) goto err;
    uv_timer_init(loop, &s->tick);
    uv_timer_init(loop, &s->wait_timer);
    s->tick.data = s->wait_timer.data = s;
    store__pipeline_init(s);
    store__batch_init(s);
    s->handles_open = 4;
    *out = s;
    return 0;
nomem_free:
    rc = ORC_ENOMEM;
    store__errf(errmsg, "out of memory");
err:
    store_free(s);
    return rc;
nomem:
    store__errf(errmsg, "out of memory");
    return ORC_ENOMEM;
}

/* ---- role ---- */

static void report_role(store *s, bool leader)
{
    s->leader = leader;
    log_info("store", "member %llu %s leadership (term %llu)", (unsigned long long)s->id,
             leader ? "gained" : "lost", (unsigned long long)s->raft.current_term);
    for (size_t i = 0; i < STORE_ROLE_WATCHERS; i++) {
        void (*cb)(void *, bool) = s->role_watch[i].cb;
        if (cb) cb(s->role_watch[i].arg, leader);
    }
}

/* A new leader reports itself only once a barrier of its own term has been
 * applied: its FSM then holds every committed txn. */
static void catchup_done(void *arg, int status, int64_t revision)
{
    store *s = arg;

    (void)revision;
    s->catchup_inflight = false;
    if (s->closing || status != 0 || raft_state(&s->raft) != RAFT_LEADER) return;
    if (!s->leader) {
        s->leader_term = s->raft.current_term;
        report_role(s, true);
    }
}

static void check_role(store *s)
{
    bool is_leader = raft_state(&s->raft) == RAFT_LEADER;

    if (s->closing) return;
    store__txn_leader_lost(s);
    if (s->leader && (!is_leader || s->raft.current_term != s->leader_term)) report_role(s, false);
    if (is_leader && !s->leader && !s->catchup_inflight) {
        s->catchup_inflight = true;
        if (store_barrier(s, catchup_done, s) != 0) s->catchup_inflight = false;
    }
}

static void on_tick(uv_timer_t *t)
{
    check_role(t->data);
    store__metric_tick(t->data);
    store__health_tick(t->data);
}

int store_role_watch(store *s, void (*cb)(void *arg, bool leader), void *arg)
{
    for (size_t i = 0; i < STORE_ROLE_WATCHERS; i++) {
        if (s->role_watch[i].cb) continue;
        s->role_watch[i].cb = cb;
        s->role_watch[i].arg = arg;
        return 0;
    }
    return ORC_ENOSPC;
}

void store_role_unwatch(store *s, void (*cb)(void *arg, bool leader), void *arg)
{
    for (size_t i = 0; i < STORE_ROLE_WATCHERS; i++) {
        if (s->role_watch[i].cb != cb || s->role_watch[i].arg != arg) continue;
        s->role_watch[i].cb = NULL;
        s->role_watch[i].arg = NULL;
    }
}

/* Checks the Raft dir (once), then starts raft on it. */
static int start_raft(store *s, char *errmsg)
{
    int rv;

    if (!s->verified && (rv = store__verify(s, false, errmsg)) != 0) return rv;
    s->verified = true;
    if ((rv = raft_start(&s->raft)) != 0) {
        /* the snapshot is loaded first: name it, it may be what failed */
        store__errf(errmsg, "start raft in %s%s%s: %s", s->raft_dir,
                    s->snapshot_name[0] ? " from the snapshot " : "", s->snapshot_name,
                    raft_errmsg(&s->raft));
        return store__raft_err(rv);
    }
    return 0;
}

int store_start(store *s, char *errmsg)
{
    char local[256];
    int rv;

    if (errmsg == NULL) errmsg = local;
    errmsg[0] = '\0';
    if (s->closing) return ORC_ESHUTDOWN;
    if (s->started) {
        store__errf(errmsg, "store already started");
        return ORC_EINVAL;
    }
    if ((rv = start_raft(s, errmsg)) != 0) return rv;
    s->started = true;
    uv_timer_start(&s->tick, on_tick, ROLE_POLL_MS, ROLE_POLL_MS);
    check_role(s); /* a one-member cluster is leader already */
    return 0;
}

/* ---- state ---- */

uint64_t store_id(const store *s) { return s->id; }
bool store_is_leader(const store *s) { return s->leader && !s->closing; }
int64_t store_revision(const store *s) { return s->revision; }
uint64_t store_applied_index(const store *s) { return s->raft.last_applied; }
int64_t store_compact_revision(const store *s) { return s->hist.compact_rev; }

int store_leader(const store *s, uint64_t *id, const char **address)
{
    raft_id lid = 0;
    const char *addr = NULL;

    if (s->closing || !s->started) return ORC_EUNAVAIL;
    raft_leader((struct raft *)&s->raft, &lid, &addr);
    if (lid == 0) return ORC_EUNAVAIL;
    if (id) *id = lid;
    if (address) *address = addr;
    return 0;
}

/* ---- waiting for a revision ---- */

static void on_wait_timer(uv_timer_t *t);

static void arm_wait_timer(store *s)
{
    uint64_t min = 0;
    struct orc_link *l;

    for (l = s->rev_waiters.next; l != &s->rev_waiters; l = l->next) {
        struct store_rev_waiter *w = ORC_CONTAINER(l, struct store_rev_waiter, link);
        if (min == 0 || w->deadline < min) min = w->deadline;
    }
    s->wait_deadline = min;
    if (min == 0) {
        uv_timer_stop(&s->wait_timer);
        return;
    }
    uint64_t now = uv_now(s->loop);
    uv_timer_start(&s->wait_timer, on_wait_timer, min > now ? min - now : 0, 0);
}

static void on_wait_timer(uv_timer_t *t)
{
    store *s = t->data;
    uint64_t now = uv_now(s->loop);
    struct orc_link expired, *l, *next;

    orc_list_init(&expired);
    for (l = s->rev_waiters.next; l != &s->rev_waiters; l = next) {
        next = l->next;
        if (ORC_CONTAINER(l, struct store_rev_waiter, link)->deadline <= now) {
            orc_list_remove(l);
            orc_list_push(&expired, l);
        }
    }
    while (!orc_list_empty(&expired)) {
        struct store_rev_waiter *w = ORC_CONTAINER(expired.next, struct store_rev_waiter, link);
        orc_list_remove(&w->link);
        w->cb(w->arg, ORC_ETIMEDOUT);
        free(w);
    }
    if (!s->closing) arm_wait_timer(s);
}

void store__rev_reached(store *s)
{
    bool fired = false;

    while (!orc_list_empty(&s->rev_waiters)) {
        struct store_rev_waiter *w =
            ORC_CONTAINER(s->rev_waiters.next, struct store_rev_waiter, link);
        if (w->rev > s->revision) break;
        orc_list_remove(&w->link);
        w->cb(w->arg, 0);
        free(w);
        fired = true;
    }
    if (fired && !s->closing) arm_wait_timer(s);
}

int store_wait_revision(store *s, int64_t rev, unsigned timeout_ms,
                        void (*cb)(void *arg, int status), void *arg)
{
    struct store_rev_waiter *w;
    struct orc_link *l;

    if (cb == NULL) return ORC_EINVAL;
    if (s->closing) return ORC_ESHUTDOWN;
    if (rev <= s->revision) {
        cb(arg, 0);
        return 0;
    }
    if ((w = malloc(sizeof *w)) == NULL) return ORC_ENOMEM;
    w->rev = rev;
    w->deadline = uv_now(s->loop) + timeout_ms + 1; /* deadline 0 means none */
    w->cb = cb;
    w->arg = arg;
    for (l = s->rev_waiters.prev; l != &s->rev_waiters; l = l->prev)
        if (ORC_CONTAINER(l, struct store_rev_waiter, link)->rev <= rev) break;
    orc_list_push(l->next, &w->link); /* inserts before l->next: stays sorted */
    if (s->wait_deadline == 0 || w->deadline < s->wait_deadline) arm_wait_timer(s);
    return 0;
}

/* ---- close ---- */

static void fail_waiters(store *s)
{
    while (!orc_list_empty(&s->rev_waiters)) {
        struct store_rev_waiter *w =
            ORC_CONTAINER(s->rev_waiters.next, struct store_rev_waiter, link);
        orc_list_remove(&w->link);
        w->cb(w->arg, ORC_ESHUTDOWN);
        free(w);
    }
}

static void fail_changes(store *s, int status)
{
    struct orc_link *l;

    for (l = s->reqs.next; l != &s->reqs; l = l->next) {
        struct store_req *req = ORC_CONTAINER(l, struct store_req, link);
        if (req->kind != REQ_CHANGE || req->done) continue;
        req->done = true;
        store__change_fail(req, status);
    }
}

void store__hold(store *s) { s->handles_open++; }

/* The store is freed once its handles are closed and no checkpoint or
 * backup runs. */
void store__release(store *s)
{
    void (*cb)(void *) = s->close_cb;
    void *arg = s->close_arg;

    if (--s->handles_open > 0) return;
    store_free(s);
    if (cb) cb(arg);
}

static void handle_closed(uv_handle_t *h) { store__release(h->data); }

/* ---- WAL checkpoints, off the loop ---- */

#define CHECKPOINT_FRAMES 1000 /* about 4 MiB of WAL */

int store__background(int (*fn)(void *arg), void *arg)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int before = getpriority(PRIO_PROCESS, (id_t)tid);
    int rv;

    setpriority(PRIO_PROCESS, (id_t)tid, 19);
    rv = fn(arg);
    setpriority(PRIO_PROCESS, (id_t)tid, before);
    return rv;
}

static int checkpoint_db(void *db) { return store__db_checkpoint(db); }

static void checkpoint_work(uv_work_t *w)
{
    store *s = w->data;
    if (store__background(checkpoint_db, &s->db) != 0)
        log_warn("store", "%s: WAL checkpoint failed", s->db.path);
}

static void checkpoint_done(uv_work_t *w, int status)
{
    store *s = w->data;
    (void)status;
    s->checkpointing = false;
    if (!s->closing && !s->restarting) store__db_checkpoint_finish(&s->db);
    if (s->reopen_pending && s->closing) {
        s->reopen_pending = false;
        close_handles(s); /* store_close waited for this checkpoint */
    } else if (s->reopen_pending) {
        schedule_reopen(s);
    }
    store__release(s);
}

void store__checkpoint_maybe(store *s)
{
    if (s->checkpointing || s->closing || s->db.wal_frames < CHECKPOINT_FRAMES) return;
    s->ckpt_work.data = s;
    if (uv_queue_work(s->loop, &s->ckpt_work, checkpoint_work, checkpoint_done) != 0) return;
    s->checkpointing = true;
    s->handles_open++;
}

/* raft closed: whatever it never called back goes. raft_uv's memory and
 * the transport stay until the next loop iteration at least (free_io, from
 * store_free or a rebuild's reopen): raft 0.15's segment writer may still
 * call into them from this iteration's remaining close callbacks
 * (io_close.c). */
static void raft_released(store *s)
{
    /* Raft holds no request any more; free those it never called back. */
    while (!orc_list_empty(&s->reqs)) {
        struct orc_link *l = s->reqs.next;
        orc_list_remove(l);
        store__req_free(ORC_CONTAINER(l, struct store_req, link));
    }
}

static void close_handles(store *s)
{
    uv_close((uv_handle_t *)&s->tick, handle_closed);
    uv_close((uv_handle_t *)&s->wait_timer, handle_closed);
    uv_close((uv_handle_t *)&s->pump_prepare, handle_closed);
    store__batch_commit(s);
    uv_close((uv_handle_t *)&s->commit_prepare, handle_closed);
}

static void raft_closed(struct raft *r)
{
    store *s = r->data;

    raft_released(s);
    s->raft_phase = RAFT_PHASE_DOWN;
    if (s->closing) close_handles(s);
    else if (s->restart_failed) s->restart_failed = false; /* retried from the health tick */
    else if (s->checkpointing) s->reopen_pending = true;   /* it reads state.db */
    else schedule_reopen(s);
}

/* Deferred one loop iteration: store_close may run inside a raft callback. */
static void close_raft(uv_timer_t *t)
{
    store *s = t->data;

    s->raft.data = s;
    s->raft_phase = RAFT_PHASE_CLOSING;
    raft_close(&s->raft, raft_closed);
}

/* A rebuild left raft down: nothing to close but the handles. */
static void close_down(uv_timer_t *t) { close_handles(t->data); }

void store_close(store *s, void (*cb)(void *arg), void *arg)
{
    if (s == NULL || s->closing) return;
    s->closing = true;
    s->close_cb = cb;
    s->close_arg = arg;
    memset(s->role_watch, 0, sizeof s->role_watch);
    store__pipeline_fail_all(s, ORC_ESHUTDOWN);
    fail_changes(s, ORC_ESHUTDOWN);
    fail_waiters(s);
    store__watch_end_all(s, ORC_ESHUTDOWN);
    uv_timer_stop(&s->wait_timer);
    uv_timer_stop(&s->tick);
    /* The open apply batch is committed now, not from its prepare handle
     * while raft closes: with that handle still active, raft 0.15 crashed in
     * its I/O close callback (closing right after a 3 MiB append, most runs). */
    store__batch_commit(s);
    uv_prepare_stop(&s->commit_prepare);
    if (s->raft_phase == RAFT_PHASE_OPEN) uv_timer_start(&s->tick, close_raft, 0, 0);
    else if (s->raft_phase == RAFT_PHASE_DOWN && !s->reopen_pending)
        uv_timer_start(&s->tick, close_down, 0, 0);
    /* RAFT_PHASE_CLOSING (a rebuild under way): raft_closed finishes */
}

/* ---- rebuilding in process (store__restart) ---- */

/* The database goes (it lost entries, or raft's I/O failed for good) and
 * raft starts over on the data dir: snapshot and log fill a new state.db,
 * the same way a start does. */
static void reopen(store *s)
{
    char err[256] = "";
    int rc;

    s->reopen_pending = false;
    store__db_close(&s->db);
    s->revision = 0;
    s->entry_bytes = 0;
    s->snapshotting = s->batch_open = false;
    s->batch_n = 0;
    store__hist_reset(&s->hist, 0);
    s->fsm_failed = s->io_failed = false;
    s->started = s->verified = s->leader = s->catchup_inflight = false;
    store__pipeline_reset(s);
    free_io(s); /* the closed raft's, an iteration after its close callbacks */
    if ((rc = store__db_open(&s->db, s->data_dir, err)) != 0 || (rc = open_raft(s, err)) != 0) {
        s->raft_phase = RAFT_PHASE_DOWN;
        goto failed;
    }
    s->raft_phase = RAFT_PHASE_OPEN;
    if ((rc = start_raft(s, err)) != 0) {
        /* raft is initialized but not started: closed again, then retried */
        s->restart_failed = true;
        s->raft.data = s;
        s->raft_phase = RAFT_PHASE_CLOSING;
        raft_close(&s->raft, raft_closed);
        goto failed;
    }
    s->started = true;
    s->restarting = false;
    log_info("store", "member %llu: started again from its Raft log", (unsigned long long)s->id);
    uv_timer_start(&s->tick, on_tick, ROLE_POLL_MS, ROLE_POLL_MS);
    check_role(s);
    return;
failed:
    log_error("store", "member %llu: rebuilding the store failed: %s; retrying",
              (unsigned long long)s->id, err[0] ? err : orc_strerror(rc));
    snprintf(s->restart_why, sizeof s->restart_why, "the last attempt failed: %s",
             err[0] ? err : orc_strerror(rc));
    s->restarting = false;
    s->io_failed = true; /* degraded until a rebuild succeeds */
    snprintf(s->io_error, sizeof s->io_error, "rebuilding the store failed (%s)",
             err[0] ? err : orc_strerror(rc));
    if (!s->closing) uv_timer_start(&s->tick, on_tick, ROLE_POLL_MS, ROLE_POLL_MS);
}

static void on_reopen(uv_timer_t *t) { reopen(t->data); }

/* Not inside raft's close callback: raft_uv still unwinds from it. */
static void schedule_reopen(store *s)
{
    s->reopen_pending = false;
    uv_timer_start(&s->tick, on_reopen, 0, 0);
}

void store__restart(store *s, const char *why)
{
    if (s->restarting || s->closing || s->raft_phase == RAFT_PHASE_CLOSING) return;
    s->restarting = true;
    snprintf(s->restart_why, sizeof s->restart_why, "%s", why);
    log_warn("store", "member %llu: rebuilding the store from its Raft log: %s",
             (unsigned long long)s->id, why);
    /* Not ready again before it has what it had applied */
    if (s->raft.commit_index > s->catchup_index) s->catchup_index = s->raft.commit_index;
    store__pipeline_fail_all(s, ORC_ENOTLEADER);
    fail_changes(s, ORC_EUNAVAIL);
    store__watch_end_all(s, ORC_ECOMPACTED);
    if (s->leader) report_role(s, false);
    uv_timer_stop(&s->tick);
    uv_prepare_stop(&s->commit_prepare);
    if (s->raft_phase == RAFT_PHASE_DOWN) {
        schedule_reopen(s);
        return;
    }
    s->raft.data = s;
    s->raft_phase = RAFT_PHASE_CLOSING;
    raft_close(&s->raft, raft_closed);
}
