/* health.c — whether this member's state may be served. A member whose
 * disk filled up used to stay "ready" while its database lost applied
 * entries, or while raft_uv stopped storing new ones (0.15 marks its I/O
 * failed for good, and a follower never re-writes entries it already holds
 * in memory). Now such a member is degraded — readyz and reads refused,
 * watches ended, leadership handed to a healthy voter — and once the disk
 * has room again it rebuilds itself from its Raft log (store__restart).
 * Degraded while:
 *   - free space in the data dir is under the watermark (before Raft fails)
 *   - a Raft write failed (seen through wrappers around raft_uv's append
 *     and snapshot_put), or raft stopped on its own (state UNAVAILABLE)
 *   - applying to state.db failed (the FSM no longer follows the log)
 *   - catching up to the index it had, after a damaged log was moved aside
 *     or after a rebuild */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "lib/log.h"
#include "lib/orc.h"
#include "store/store_int.h"
#include "store/transport.h"

#define SPACE_POLL_MS 1000
#define TRANSFER_RETRY_MS 3000
#define RESTART_FIRST_MS 1000
#define RESTART_MAX_MS 30000
/* Catching up ends early when nothing more comes from a known leader this
 * long: the entries it waited for were never committed. */
#define CATCHUP_IDLE_MS 5000

/* ---- raft_uv's writes, watched ---- */

static void io_failed(store *s, const char *what, int status)
{
    if (status == 0 || status == RAFT_CANCELED || status == RAFT_SHUTDOWN || s->closing ||
        s->restarting || s->io_failed)
        return;
    s->io_failed = true;
    snprintf(s->io_error, sizeof s->io_error, "writing the Raft %s failed (%s%s%s)", what,
             raft_strerror(status), s->io.errmsg[0] ? ": " : "", s->io.errmsg);
}

/* Raft's request travels inside one of ours, so the I/O's completion
 * reaches the store first. */
struct append_wrap {
    struct raft_io_append inner;
    struct raft_io_append *outer;
    raft_io_append_cb cb;
    store *s;
};

static void append_done(struct raft_io_append *inner, int status)
{
    struct append_wrap *w = ORC_CONTAINER(inner, struct append_wrap, inner);
    struct raft_io_append *outer = w->outer;
    raft_io_append_cb cb = w->cb;

    io_failed(w->s, "log", status);
    free(w);
    cb(outer, status);
}

static int wrapped_append(struct raft_io *io, struct raft_io_append *req,
                          const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    store *s = ORC_CONTAINER(io, store, io);
    struct append_wrap *w = malloc(sizeof *w);
    int rv;

    if (w == NULL) return RAFT_NOMEM;
    *w = (struct append_wrap){.outer = req, .cb = cb, .s = s};
    w->inner.data = req->data;
    if ((rv = s->io_append(io, &w->inner, entries, n, append_done)) != 0) {
        free(w);
        if (rv != RAFT_NOMEM) io_failed(s, "log", rv);
    }
    return rv;
}

struct snapshot_wrap {
    struct raft_io_snapshot_put inner;
    struct raft_io_snapshot_put *outer;
    raft_io_snapshot_put_cb cb;
    store *s;
};

static void snapshot_done(struct raft_io_snapshot_put *inner, int status)
{
    struct snapshot_wrap *w = ORC_CONTAINER(inner, struct snapshot_wrap, inner);
    struct raft_io_snapshot_put *outer = w->outer;
    raft_io_snapshot_put_cb cb = w->cb;

    io_failed(w->s, "snapshot", status);
    free(w);
    cb(outer, status);
}

static int wrapped_snapshot_put(struct raft_io *io, unsigned trailing,
                                struct raft_io_snapshot_put *req,
                                const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb)
{
    store *s = ORC_CONTAINER(io, store, io);
    struct snapshot_wrap *w = malloc(sizeof *w);
    int rv;

    if (w == NULL) return RAFT_NOMEM;
    *w = (struct snapshot_wrap){.outer = req, .cb = cb, .s = s};
    w->inner.data = req->data;
    if ((rv = s->io_snapshot_put(io, trailing, &w->inner, snapshot, snapshot_done)) != 0) {
        free(w);
        if (rv != RAFT_NOMEM) io_failed(s, "snapshot", rv);
    }
    return rv;
}

/* The first AppendEntries after a (re)start tells how far the cluster has
 * committed: a member catching up is not ready before it has that much. */
static void watched_recv(struct raft_io *io, struct raft_message *msg)
{
    store *s = ORC_CONTAINER(io, store, io);

    if (msg->type == RAFT_IO_APPEND_ENTRIES && s->catchup_index > 0 && !s->catchup_heard) {
        s->catchup_heard = true;
        if (msg->append_entries.leader_commit > s->catchup_index)
            s->catchup_index = msg->append_entries.leader_commit;
    }
    s->io_recv(io, msg);
}

static int watched_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                         raft_io_recv_cb recv)
{
    store *s = ORC_CONTAINER(io, store, io);

    s->io_recv = recv;
    s->catchup_heard = false;
    return s->io_start(io, msecs, tick, watched_recv);
}

void store__health_watch_io(store *s)
{
    s->io_start = s->io.start;
    s->io.start = watched_start;
    s->io_append = s->io.append;
    s->io.append = wrapped_append;
    s->io_snapshot_put = s->io.snapshot_put;
    s->io.snapshot_put = wrapped_snapshot_put;
}

/* ---- free space ---- */

static uint64_t min_free(const store *s)
{
    /* raft_uv keeps the open segment and two spares allocated ahead. */
    if (s->cfg.min_free_bytes) return s->cfg.min_free_bytes;
    return 3 * (uint64_t)s->cfg.segment_size + (8u << 20);
}

static void poll_space(store *s, uint64_t now, bool force)
{
    struct statvfs st;
    uint64_t need = min_free(s);

    if (!force && s->space_polled && now - s->space_polled < SPACE_POLL_MS) return;
    s->space_polled = now;
    if (statvfs(s->data_dir, &st) != 0) return;
    s->free_bytes = (uint64_t)st.f_bavail * st.f_frsize;
    /* a little more to leave than to enter, so the state does not flap */
    if (s->low_space) s->low_space = s->free_bytes < need + need / 8;
    else s->low_space = s->free_bytes < need;
}

/* ---- the state ---- */

static bool needs_rebuild(const store *s) { return s->io_failed || s->fsm_failed; }

enum why_degraded { WHY_NONE, WHY_REMOVED, WHY_REBUILDING, WHY_FSM, WHY_IO, WHY_SPACE, WHY_CATCHUP };

static bool in_configuration(const struct raft_configuration *c, uint64_t id)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->servers[i].id == id) return true;
    return false;
}

static bool config_known(const store *s)
{
    return s->started && s->raft.configuration.n > 0;
}

/* Remembers that the configuration has named this member: a joiner may
 * first load a snapshot older than its addition, which must not read as
 * its removal. Called before each look at the health. */
static void note_membership(store *s)
{
    if (config_known(s) && in_configuration(&s->raft.configuration, s->id)) s->was_member = true;
}

/* The leader said so, or its own configuration no longer names it (once
 * it had): what it holds stops at its removal and ages from there. */
static bool removed(const store *s)
{
    if (s->removed_by != 0) return true;
    return config_known(s) && s->was_member && !in_configuration(&s->raft.configuration, s->id);
}

static bool member_gone(void *arg, uint64_t id)
{
    store *s = arg;
    /* Only a leader's committed configuration is the cluster's word. */
    return raft_state(&s->raft) == RAFT_LEADER && s->raft.configuration_uncommitted_index == 0
           && !in_configuration(&s->raft.configuration, id);
}

static void member_told(void *arg, uint64_t by)
{
    store *s = arg;
    if (s->removed_by == 0) s->removed_by = by;
}

void store__health_watch_members(store *s)
{
    store__transport_set_members(&s->transport, member_gone, member_told, s);
}

/* Why this member may not serve (WHY_NONE: it may), in a sentence. */
static enum why_degraded describe(store *s, char *out, size_t n)
{
    uint64_t need = min_free(s);

    if (removed(s)) {
        snprintf(out, n, "this member was removed from the cluster%s; it serves nothing, as its "
                 "data stopped at its removal. To make this machine a member again, stop it, "
                 "empty its data dir %.300s and start it with --join",
                 s->removed_by ? " (the leader said so)" : "", s->data_dir);
        return WHY_REMOVED;
    }
    if (s->restarting) {
        snprintf(out, n, "the store is rebuilding itself from its Raft log (%.300s)",
                 s->restart_why);
        return WHY_REBUILDING;
    }
    if (s->fsm_failed) {
        snprintf(out, n, "applying committed entries to %.300s failed (%.250s); the store rebuilds "
                 "itself from its Raft log once the disk has room", s->db.path, s->fsm_error);
        return WHY_FSM;
    }
    if (s->io_failed) {
        snprintf(out, n, "%.320s; the store rebuilds itself from its Raft log once the disk has "
                 "room", s->io_error);
        return WHY_IO;
    }
    if (s->low_space) {
        snprintf(out, n, "the disk of %.400s is nearly full (%" PRIu64 " MiB free, %" PRIu64
                 " MiB needed)", s->data_dir, s->free_bytes >> 20, need >> 20);
        return WHY_SPACE;
    }
    if (s->catchup_index > 0) {
        snprintf(out, n, "catching up with the cluster (applied %" PRIu64 " of %" PRIu64
                 " Raft entries)", (uint64_t)s->raft.last_applied, s->catchup_index);
        return WHY_CATCHUP;
    }
    out[0] = '\0';
    return WHY_NONE;
}

enum store_health store_health(store *s, const char **reason)
{
    if (!s->started && !s->restarting && !needs_rebuild(s)) {
        if (reason) *reason = "the store has not started";
        return STORE_DEGRADED;
    }
    note_membership(s);
    bool ok = describe(s, s->health_msg, sizeof s->health_msg) == WHY_NONE;
    if (reason) *reason = s->health_msg;
    return ok ? STORE_HEALTHY : STORE_DEGRADED;
}

/* A leader that cannot serve hands leadership to the most up-to-date
 * voter, so the cluster keeps taking writes. */
static void transfer_done(struct raft_transfer *req) { free(req); }

static void maybe_transfer(store *s, uint64_t now)
{
    struct raft_transfer *req;

    if (raft_state(&s->raft) != RAFT_LEADER || now < s->transfer_at) return;
    s->transfer_at = now + TRANSFER_RETRY_MS;
    if ((req = calloc(1, sizeof *req)) == NULL) return;
    int rv = raft_transfer(&s->raft, req, 0, transfer_done);
    if (rv == 0) log_warn("store", "member %" PRIu64 ": handing leadership to a healthy voter",
                          s->id);
    else free(req); /* no other voter (RAFT_NOTFOUND) or one under way */
}

/* Logged once per change of cause. */
static void changed(store *s, enum why_degraded was, const char *why)
{
    if (was == WHY_NONE) {
        log_warn("store", "member %" PRIu64 " stops serving: %s", s->id, why);
        /* Clients list again; those lists are refused until it is healthy. */
        store__watch_end_all(s, ORC_ECOMPACTED);
    } else {
        log_warn("store", "member %" PRIu64 " still does not serve: %s", s->id, why);
    }
    if (needs_rebuild(s)) store__pipeline_fail_all(s, ORC_ENOTLEADER); /* outcome unknown */
}

static void maybe_restart(store *s, uint64_t now)
{
    if (!needs_rebuild(s) || now < s->restart_at) return;
    poll_space(s, now, true); /* the failure may be the first sign of a full disk */
    if (s->low_space) return;
    s->restart_backoff = s->restart_backoff ? s->restart_backoff * 2 : RESTART_FIRST_MS;
    if (s->restart_backoff > RESTART_MAX_MS) s->restart_backoff = RESTART_MAX_MS;
    s->restart_at = now + s->restart_backoff;
    store__restart(s, s->fsm_failed ? s->fsm_error : s->io_error);
}

static void check_caught_up(store *s, uint64_t now)
{
    raft_id leader = 0;
    const char *address;
    bool idle;

    if (s->catchup_index == 0 || needs_rebuild(s) || !s->started) return;
    if (s->raft.last_applied != s->catchup_seen || s->catchup_moved_at == 0) {
        s->catchup_seen = s->raft.last_applied;
        s->catchup_moved_at = now;
    }
    raft_leader(&s->raft, &leader, &address);
    idle = leader != 0 && s->raft.last_applied == s->raft.commit_index &&
           now - s->catchup_moved_at >= CATCHUP_IDLE_MS;
    /* a follower also waits to hear how far the leader has committed */
    bool heard = s->catchup_heard || leader == s->id;
    if ((s->raft.last_applied < s->catchup_index || !heard) && !idle) return;
    log_info("store", "member %" PRIu64 ": caught up with the cluster (applied %" PRIu64 ")",
             s->id, (uint64_t)s->raft.last_applied);
    s->catchup_index = 0;
    s->catchup_moved_at = 0;
}

void store__health_tick(store *s)
{
    uint64_t now = uv_now(s->loop);
    char why[sizeof s->health_msg];

    if (s->closing || s->restarting) return;
    poll_space(s, now, false);
    if (s->started && raft_state(&s->raft) == RAFT_UNAVAILABLE && !s->io_failed) {
        const char *e = raft_errmsg(&s->raft)[0] ? raft_errmsg(&s->raft) : s->io.errmsg;
        s->io_failed = true;
        snprintf(s->io_error, sizeof s->io_error, "Raft stopped (it could not write its "
                 "metadata or log%s%.200s)", e[0] ? ": " : "", e);
    }
    check_caught_up(s, now);
    store__transport_drop_gone(&s->transport);
    note_membership(s);
    enum why_degraded kind = describe(s, why, sizeof why);
    if ((int)kind != s->degraded && kind != WHY_NONE) {
        if (s->degraded == WHY_NONE && s->restart_at < now + RESTART_FIRST_MS)
            s->restart_at = now + RESTART_FIRST_MS;
        changed(s, (enum why_degraded)s->degraded, why);
    } else if (kind == WHY_NONE && s->degraded != WHY_NONE) {
        s->restart_backoff = 0;
        log_info("store", "member %" PRIu64 " serves again", s->id);
    }
    s->degraded = (int)kind;
    if (kind == WHY_NONE) return;
    maybe_transfer(s, now);
    maybe_restart(s, now);
}

void store__fsm_fail(store *s, const char *why)
{
    if (s->fsm_failed) return;
    s->fsm_failed = true;
    store__hint_reset(s); /* the database may have lost what the hints counted on */
    snprintf(s->fsm_error, sizeof s->fsm_error, "%s", why);
    log_error("store", "%s: %s; this member stops serving and rebuilds itself from its Raft "
              "log once the disk has room", s->db.path, why);
}
