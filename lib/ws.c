/* ws.c — the WebSocket opening handshake: accept key, subprotocol, header
 * tokens. */
#include "lib/ws.h"

#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/orc.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24 /* base64 of 16 bytes */

int orc_ws_accept(const char *key, char out[ORC_WS_ACCEPT_LEN])
{
    unsigned char cat[WS_KEY_LEN + sizeof WS_GUID], md[SHA_DIGEST_LENGTH];
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    if (key == NULL || strlen(key) != WS_KEY_LEN || key[22] != '=' || key[23] != '=') return ORC_EINVAL;
    memcpy(cat, key, WS_KEY_LEN);
    memcpy(cat + WS_KEY_LEN, WS_GUID, sizeof WS_GUID - 1);
    SHA1(cat, WS_KEY_LEN + sizeof WS_GUID - 1, md);
    rv = orc_base64_encode(md, sizeof md, false, &b);
    if (rv == 0 && b.len + 1 == ORC_WS_ACCEPT_LEN) memcpy(out, b.data, ORC_WS_ACCEPT_LEN);
    else if (rv == 0) rv = ORC_EINVAL;
    orc_buf_free(&b);
    return rv;
}

/* The next comma-separated item of *p, trimmed: its start and length. */
static const char *next_item(const char **p, size_t *len)
{
    const char *s = *p, *e;

    while (*s == ' ' || *s == '\t' || *s == ',') s++;
    if (*s == '\0') return NULL;
    e = s + strcspn(s, ",");
    *p = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *len = (size_t)(e - s);
    return s;
}

bool orc_ws_has_token(const char *value, const char *token)
{
    const char *p = value, *it;
    size_t len, tl = strlen(token);

    while (p && (it = next_item(&p, &len)) != NULL)
        if (len == tl && strncasecmp(it, token, len) == 0) return true;
    return false;
}

const char *orc_ws_pick_protocol(const char *offered, const char *const *supported)
{
    for (size_t i = 0; offered && supported[i]; i++) {
        const char *p = offered, *it;
        size_t len, sl = strlen(supported[i]);
        while ((it = next_item(&p, &len)) != NULL)
            if (len == sl && strncmp(it, supported[i], len) == 0) return supported[i];
    }
    return NULL;
}
