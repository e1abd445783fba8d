/* nft.h — runs an nftables script with the `nft` tool: `nft -f -`, one
 * transaction (the kernel applies all of it or none), or `nft -c -f -`
 * (check only). Shared by the Service proxy (proxy/) and the
 * NetworkPolicy rules (netpol/). */
#ifndef ORC_NFT_H
#define ORC_NFT_H

#include <stdbool.h>

/* Runs the script in the calling process's network namespace (blocking:
 * call it off the event loop). check: `nft -c`, nothing changes. 0, or
 * ORC_ENOENT (no nft), ORC_EPERM, ORC_EIO with nft's first error line in
 * errmsg (256 bytes). */
int orc_nft_run(const char *script, bool check, char *errmsg);
/* Whether the nft tool is installed (in an sbin directory or $PATH). */
bool orc_nft_available(void);

#endif
