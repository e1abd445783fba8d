/* api.h — the Kubernetes-shaped API server in front of the store. One per
 * `orcd server` member, on the store's loop. Serves /api, /apis, discovery,
 * health, and orc's member-to-member endpoints under /internal/v1.
 * Writes reaching a follower are forwarded to the leader's /internal/v1/txn;
 * reads are served from the local store. */
#ifndef ORC_API_H
#define ORC_API_H

#include <stdint.h>
#include <uv.h>

#include "store/store.h"

typedef struct api_server api_server;

struct api_config {
    const char *listen;        /* "HOST:PORT" to listen on; copied */
    const char *advertise_url; /* "http://HOST:PORT" peers and clients reach this member at; copied */
    const char *token;         /* cluster bearer token; copied, never logged */
    unsigned watch_queue_bytes; /* cut a watcher off beyond this backlog; 0 = 16 MiB */
};

/* Starts serving. `st` must outlive the server. errmsg: 256 bytes. */
int api_server_start(uv_loop_t *loop, store *st, const struct api_config *cfg, api_server **out,
                     char *errmsg);

/* Records this member's API URL in the store (key /orc/members/<id>), so
 * followers can find the leader's API. Safe to call repeatedly; the leader
 * calls it when elected. */
void api_server_publish_member(api_server *s);

/* True once this member knows a leader and has applied what it has seen
 * committed: what /readyz reports. */
int api_server_ready(const api_server *s);

/* Closes every connection (ending watches) and frees the server; then cb. */
void api_server_stop(api_server *s, void (*cb)(void *arg), void *arg);

#endif
