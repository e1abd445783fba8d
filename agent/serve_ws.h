/* serve_ws.h — libwslay over an agent request's tunnel (lib/httpd.h),
 * shared by the streaming endpoints (serve_stream.c, serve_pf.c): their op
 * starts with a struct serve_wsio and is wslay's user data, so one pair of
 * recv/send callbacks serves both. Loop thread only. */
#ifndef ORC_AGENT_SERVE_WS_H
#define ORC_AGENT_SERVE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <wslay/wslay.h>

#include "lib/httpd.h"

struct serve_wsio {
    struct orc_httpd_req *r; /* the tunnelled request (not owned) */
    const char *in;          /* tunnel input being fed to wslay_event_recv */
    size_t in_len;
    bool gone;               /* the request is gone: nothing more is sent */
};

/* wslay's recv_callback: takes from io->in; WOULDBLOCK when it is used up. */
ssize_t serve_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user);
/* wslay's send_callback: queues on the tunnel; fails once the request is gone. */
ssize_t serve_ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                      void *user);

#endif
