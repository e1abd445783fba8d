/* io_close.c — raft_io's close, wrapped so that raft hears "closed" once.
 *
 * raft 0.15 (Debian's) reports its I/O closed when the last piece of work
 * it tracks ends. The writer of the open segment it finalizes at close is
 * not tracked, yet its handles' close callback asks again whether the I/O
 * is closed. When the finalize (a worker thread) ends before the loop polls
 * (the loop thread lost its CPU, as on a loaded machine), the transport's
 * close callback reports closed, and the writer's, later in the same closing
 * phase, reports it again: raft ran its close callback twice, the second
 * time on memory raft_closed had just freed (signal 11). Fixed after 0.15
 * upstream (cowsql/raft #45). Here the first report goes to raft and later
 * ones are dropped; store.c keeps raft_uv's memory until the store is freed,
 * a loop iteration later, so those late callbacks still find it. */
#include "lib/log.h"
#include "store/store_int.h"

static void io_closed(struct raft_io *io)
{
    store *s = ORC_CONTAINER(io, store, io);
    raft_io_close_cb cb = s->io_close_cb;

    if (s->io_closed) {
        log_debug("store", "member %llu: raft I/O reported closed again (ignored)",
                  (unsigned long long)s->id);
        return;
    }
    s->io_closed = true;
    cb(io);
}

static void io_close(struct raft_io *io, raft_io_close_cb cb)
{
    store *s = ORC_CONTAINER(io, store, io);

    s->io_close_cb = cb;
    s->io_close(io, io_closed);
}

void store__io_close_init(store *s)
{
    s->io_closed = false; /* a rebuild's new raft_uv */
    s->io_close = s->io.close;
    s->io.close = io_close;
}
