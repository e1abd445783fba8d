/* backup.c — GET /internal/v1/backup: a backup of this member's applied
 * state (store/backup.h), taken off the loop and streamed as it leaves:
 * the connection's send queue is topped up to a bound and polled while the
 * client drains it, so a slow client holds one backup in memory, never a
 * copy per write. Like etcd's snapshot, it needs no quorum: the header
 * names the revision it shows. The cluster token is required (server.c). */
#include <inttypes.h>
#include <stdlib.h>

#include "apiserver/server.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/backup.h"

#define PIECE (256u << 10)
#define QUEUE_MAX (2u << 20) /* bytes waiting for the client before we wait */
#define RETRY_MS 5
#define STALL_MS 60000 /* a client that reads nothing for this long is cut off */

struct backup_op {
    struct api_server *s;
    struct api_req *r;
    struct store_backup *b;
    size_t sent; /* bytes of header + payload written to the connection */
    uint64_t progress_ms;
    bool taking;  /* the store has not answered yet */
    bool waiting; /* an api_later retry is pending: it ends the request */
    bool ended;
};

static void op_free(void *p)
{
    struct backup_op *op = p;

    store_backup_free(op->b);
    api_release(op->s);
    free(op);
}

static void end(struct backup_op *op)
{
    if (op->ended) return;
    op->ended = true;
    if (op->r->streaming || api_req_gone(op->r)) api_http_stream_end(op->r);
    else api_respond_error(op->r, ORC_ESHUTDOWN, "backup");
}

/* The client went away: stop, unless the store still owes the backup or a
 * retry is pending (either ends the request when it comes). */
static void on_gone(struct api_req *r)
{
    struct backup_op *op = r->op;
    if (!op->taking && !op->waiting) end(op);
}

static size_t total(const struct backup_op *op)
{
    return STORE_BACKUP_HEADER + op->b->payload_len;
}

static void pump(void *arg)
{
    struct backup_op *op = arg;
    uint64_t now = uv_now(op->s->loop);

    op->waiting = false;
    if (op->ended) return;
    while (!op->s->stopping && !api_req_gone(op->r) && op->sent < total(op)) {
        const unsigned char *p = op->sent < STORE_BACKUP_HEADER
                                     ? op->b->header + op->sent
                                     : op->b->payload + (op->sent - STORE_BACKUP_HEADER);
        size_t left = op->sent < STORE_BACKUP_HEADER ? STORE_BACKUP_HEADER - op->sent
                                                      : total(op) - op->sent;
        size_t n = left < PIECE ? left : PIECE;
        int rv = api_http_stream_write(op->r, (const char *)p, n, QUEUE_MAX);
        if (rv == ORC_ETOOBIG && now - op->progress_ms < STALL_MS
            && api_later(op->s, RETRY_MS, pump, op) == 0) {
            op->waiting = true;
            return;
        }
        if (rv != 0) {
            log_warn("apiserver", "backup: stopped after %zu of %zu bytes: %s", op->sent,
                     total(op), rv == ORC_ETOOBIG ? "the client stopped reading" : orc_strerror(rv));
            break;
        }
        op->sent += n;
        op->progress_ms = now;
    }
    if (op->sent == total(op))
        log_info("apiserver", "backup at revision %" PRId64 " sent (%zu bytes)",
                 op->b->info.revision, total(op));
    end(op);
}

static void on_taken(void *arg, int status, struct store_backup *b)
{
    struct backup_op *op = arg;

    op->taking = false;
    op->b = b;
    if (api_req_gone(op->r) || op->s->stopping) {
        end(op);
    } else if (status != 0) {
        op->ended = true;
        api_respond_error(op->r, status, "taking the backup");
    } else if (api_http_stream_begin(op->r, 200, "application/octet-stream") != 0) {
        end(op);
    } else {
        op->progress_ms = uv_now(op->s->loop);
        pump(op);
    }
}

void api_handle_backup(struct api_server *s, struct api_req *r)
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
    api_hold(s);
    r->op = op;
    r->op_free = op_free;
    r->on_gone = on_gone;
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
