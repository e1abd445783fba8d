/* ws.h — the WebSocket opening handshake (RFC 6455 section 4) as
 * Kubernetes' streaming endpoints use it: the accept key and the choice of
 * a subprotocol. Framing is libwslay's. Prefix orc_ws_. */
#ifndef ORC_WS_H
#define ORC_WS_H

#include <stdbool.h>
#include <stddef.h>

#define ORC_WS_ACCEPT_LEN 29 /* base64 of a SHA-1, with its NUL */

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (which must be the
 * base64 of 16 bytes: ORC_EINVAL otherwise). */
int orc_ws_accept(const char *key, char out[ORC_WS_ACCEPT_LEN]);

/* The first of `supported` (in the server's order of preference, NULL
 * ended) that the comma-separated `offered` list names; NULL when none. */
const char *orc_ws_pick_protocol(const char *offered, const char *const *supported);

/* Whether a header value lists `token` (comma-separated, any case): an
 * "Upgrade" in Connection, "websocket" in Upgrade. */
bool orc_ws_has_token(const char *value, const char *token);

#endif
