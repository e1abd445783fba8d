/* nft.c — the proxy's table applied and removed with lib/nft.c's runner. */
#include <stdbool.h>

#include "lib/nft.h"
#include "lib/orc.h"
#include "proxy/proxy.h"

int proxy_nft_apply(const char *script, char *errmsg) { return orc_nft_run(script, false, errmsg); }

int proxy_nft_remove(char *errmsg)
{
    struct orc_buf s = ORC_BUF_INIT;
    int rc = proxy_render_remove(&s);
    if (rc == 0) rc = proxy_nft_apply(s.data, errmsg);
    else orc_errf(errmsg, 256, rc, "out of memory");
    orc_buf_free(&s);
    return rc;
}
