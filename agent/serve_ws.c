/* serve_ws.c — libwslay's I/O callbacks over an agent request's tunnel,
 * for every streaming endpoint (see serve_ws.h). */
#include <string.h>

#include "agent/serve_ws.h"

ssize_t serve_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    struct serve_wsio *io = user;

    (void)flags;
    if (io->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > io->in_len) len = io->in_len;
    memcpy(buf, io->in, len);
    io->in += len;
    io->in_len -= len;
    return (ssize_t)len;
}

ssize_t serve_ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                      void *user)
{
    struct serve_wsio *io = user;

    (void)flags;
    if (io->gone || orc_httpd_tunnel_write(io->r, (const char *)data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}
