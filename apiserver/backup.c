/* backup.c — GET /internal/v1/backup: a backup of this member's applied
 * state (store/backup.h), taken off the loop and streamed as it leaves:
 * the connection's output is topped up to a bound and again each time the
 * client has drained it (the transport's on_drain), so a slow client holds
 * one backup in memory, never a copy per write. A download that cannot
 * finish (the client stops reading, the member stops) ends with a reset,
 * never with the last chunk, so no client takes it for whole. Like etcd's
 * snapshot, it needs no quorum: the header names the revision it shows.
 * The cluster token is required (server.c). */
#include <inttypes.h>
#include <stdlib.h>

#include "apiserver/server.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/backup.h"

#define PIECE (256u << 10)
#define QUEUE_MAX (2u << 20) /* output waiting for the client before we wait */
#define STALL_MS 60000       /* a client that reads nothing for this long is cut off */
#define STALL_CHECK_MS (STALL_MS / 6)

struct backup_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    struct store_backup *b;
    uv_timer_t stall;    /* while streaming: whether the client still reads */
    size_t sent;         /* bytes of header + payload queued on the connection */
    size_t pending_seen; /* output waiting at the last look */
    uint64_t progress_ms;
    bool taking; /* the store has not answered yet */
    bool ended;
};

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void op_free(void *p)
{
    struct backup_op *op = p;

    store_backup_free(op->b);
    api_release(op->s);
    uv_close((uv_handle_t *)&op->stall, timer_closed);
}

static size_t total(const struct backup_op *op)
{
    return STORE_BACKUP_HEADER + op->b->payload_len;
}

/* Ends the request: whole (the last chunk), or cut short (a reset). */
static void end(struct backup_op *op, bool whole)
{
    if (op->ended) return;
    op->ended = true;
    uv_timer_stop(&op->stall);
    op->r->on_drain = NULL;
    if (!op->r->streaming && !orc_httpd_req_gone(op->r)) api_respond_error(op->r, ORC_ESHUTDOWN, "backup");
    else if (whole) orc_httpd_stream_end(op->r);
    else orc_httpd_stream_abort(op->r);
}

static void cut(struct backup_op *op, const char *why)
{
    log_warn("apiserver", "backup: stopped after %zu of %zu bytes: %s", op->sent, total(op), why);
    end(op, false);
}

/* The client went away (or the member is stopping): stop, unless the store
 * still owes the backup (its answer ends the request). */
static void on_gone(struct orc_httpd_req *r)
{
    struct backup_op *op = r->op;

    if (op->taking) return;
    if (op->s->stopping) cut(op, "this member is stopping");
    else cut(op, "the connection closed");
}

static void on_drain(struct orc_httpd_req *r);

/* Queues pieces while the output is under QUEUE_MAX; then waits for the
 * client to drain it. */
static void pump(struct backup_op *op)
{
    struct orc_httpd_req *r = op->r;

    while (op->sent < total(op) && orc_httpd_stream_pending(r) + PIECE + 64 <= QUEUE_MAX) {
        bool head = op->sent < STORE_BACKUP_HEADER;
        const unsigned char *p = head ? op->b->header + op->sent
                                      : op->b->payload + (op->sent - STORE_BACKUP_HEADER);
        size_t left = head ? STORE_BACKUP_HEADER - op->sent : total(op) - op->sent;
        size_t n = left < PIECE ? left : PIECE;
        int rv = orc_httpd_stream_write(r, (const char *)p, n, QUEUE_MAX);
        if (rv != 0) {
            cut(op, orc_strerror(rv));
            return;
        }
        op->sent += n;
    }
    op->pending_seen = orc_httpd_stream_pending(r);
    if (op->sent < total(op)) {
        r->on_drain = on_drain;
        return;
    }
    log_info("apiserver", "backup at revision %" PRId64 " sent (%zu bytes)", op->b->info.revision,
             total(op));
    end(op, true);
}

static void on_drain(struct orc_httpd_req *r)
{
    struct backup_op *op = r->op;

    r->on_drain = NULL;
    if (op->ended) return;
    op->progress_ms = uv_now(op->s->loop);
    pump(op);
}

/* Output shrinking since the last look is a client reading, however slowly. */
static void on_stall_check(uv_timer_t *t)
{
    struct backup_op *op = t->data;
    uint64_t now = uv_now(op->s->loop);
    size_t pending = orc_httpd_stream_pending(op->r);

    if (pending < op->pending_seen) op->progress_ms = now;
    op->pending_seen = pending;
    if (now - op->progress_ms >= STALL_MS) cut(op, "the client stopped reading");
}

static void on_taken(void *arg, int status, struct store_backup *b)
{
    struct backup_op *op = arg;

    op->taking = false;
    op->b = b;
    if (orc_httpd_req_gone(op->r) || op->s->stopping) {
        end(op, false);
    } else if (status != 0) {
        op->ended = true;
        api_respond_error(op->r, status, "taking the backup");
    } else if (orc_httpd_stream_begin(op->r, 200, "application/octet-stream") != 0) {
        end(op, false);
    } else {
        op->progress_ms = uv_now(op->s->loop);
        uv_timer_start(&op->stall, on_stall_check, STALL_CHECK_MS, STALL_CHECK_MS);
        pump(op);
    }
}

void api_handle_backup(struct api_server *s, struct orc_httpd_req *r)
{
    struct backup_op *op = calloc(1, sizeof *op);
    int rv;

    if (op == NULL) {
        api_respond_error(r, ORC_ENOMEM, "backup");
        return;
    }
    op->s = s;
    op->r = r;
    op->taking = true;
    uv_timer_init(s->loop, &op->stall);
    op->stall.data = op;
    api_hold(s);
    r->op = op;
    r->op_free = op_free;
    r->on_gone = on_gone;
    r->whole_or_nothing = true;
    rv = store_backup_take(s->st, on_taken, op);
    if (rv == 0) return;
    op->taking = false;
    op->ended = true;
    if (rv == ORC_ECONFLICT)
        api_respond_status(r, 429, "TooManyRequests", NULL, NULL, NULL,
                           "%d backups are being taken on this member already; retry when one "
                           "ends", STORE_BACKUP_MAX);
    else if (rv == ORC_EIO)
        api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                           "this member's database is behind its log; take the backup from "
                           "another member, or restart this one");
    else
        api_respond_error(r, rv, "taking the backup");
}
