/* nft.c — the node's NetworkPolicy table applied and removed with
 * lib/nft.c's runner. */
#include "lib/nft.h"
#include "lib/orc.h"
#include "netpol/netpol.h"

int netpol_nft_apply(const char *script, bool check, char *errmsg) { return orc_nft_run(script, check, errmsg); }

int netpol_nft_remove(const char *node_name, char *errmsg)
{
    struct orc_buf s = ORC_BUF_INIT;
    int rc = netpol_render_remove(node_name, &s);
    if (rc == 0) rc = netpol_nft_apply(s.data, false, errmsg);
    else orc_errf(errmsg, 256, rc, "out of memory");
    orc_buf_free(&s);
    return rc;
}
