/* test_ws.c — the WebSocket handshake helpers: RFC 6455's own example of
 * the accept key, keys that are not 16 bytes of base64, subprotocol choice
 * in the server's order, header tokens. */
#include "lib/orc.h"
#include "lib/ws.h"
#include "tests/harness/test.h"

TEST(ws_accept_key)
{
    char out[ORC_WS_ACCEPT_LEN];

    CHECK_INT(orc_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), ==, 0);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_INT(orc_ws_accept(NULL, out), ==, ORC_EINVAL);
    CHECK_INT(orc_ws_accept("", out), ==, ORC_EINVAL);
    CHECK_INT(orc_ws_accept("dGhlIHNhbXBsZSBub25jZQ", out), ==, ORC_EINVAL);
    CHECK_INT(orc_ws_accept("dGhlIHNhbXBsZSBub25jZQ==x", out), ==, ORC_EINVAL);
}

TEST(ws_protocol_choice)
{
    static const char *const mine[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};

    CHECK_STR(orc_ws_pick_protocol("v4.channel.k8s.io, v5.channel.k8s.io", mine), "v5.channel.k8s.io");
    CHECK_STR(orc_ws_pick_protocol("base64.channel.k8s.io,v4.channel.k8s.io", mine), "v4.channel.k8s.io");
    CHECK(orc_ws_pick_protocol("channel.k8s.io", mine) == NULL);
    CHECK(orc_ws_pick_protocol("v5.channel.k8s.io.x", mine) == NULL);
    CHECK(orc_ws_pick_protocol(NULL, mine) == NULL);
    CHECK(orc_ws_pick_protocol(" , ,", mine) == NULL);
}

TEST(ws_header_tokens)
{
    CHECK(orc_ws_has_token("keep-alive, Upgrade", "upgrade"));
    CHECK(orc_ws_has_token("WebSocket", "websocket"));
    CHECK(!orc_ws_has_token("upgrades", "upgrade"));
    CHECK(!orc_ws_has_token(NULL, "upgrade"));
    CHECK(!orc_ws_has_token("", "upgrade"));
}
