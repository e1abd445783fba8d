/* nft.c — runs an nftables script: `nft -f -`, one transaction (the kernel
 * applies all of it or none). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/nft.h"
#include "lib/orc.h"
#include "lib/run.h"

static const char *const nft_paths[] = {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"};

/* $PATH may lack the sbin directories (agents started by hand). */
static const char *nft_path(void)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(nft_paths); i++)
        if (access(nft_paths[i], X_OK) == 0) return nft_paths[i];
    return "nft";
}

bool orc_nft_available(void) { return strcmp(nft_path(), "nft") != 0; }

int orc_nft_run(const char *script, bool check, char *errmsg)
{
    char *argv[] = {(char *)nft_path(), check ? "-c" : "-f", check ? "-f" : "-", check ? "-" : NULL, NULL};
    struct orc_buf err = ORC_BUF_INIT;
    struct orc_run_io io = {script, strlen(script), NULL, &err};
    char line[200];
    int st = orc_run(argv, &io), code = 0;

    if (st == 0) {
        orc_buf_free(&err);
        return 0;
    }
    /* nft names the failing line first; its message is what helps */
    orc_run_first_line(err.data, line, sizeof line);
    if (st < 0) code = st;
    else if (strstr(line, "ermission denied") || strstr(line, "Operation not permitted")) code = ORC_EPERM;
    else code = ORC_EIO;
    if (st < 0) code = orc_errf(errmsg, 256, code, "nft: %s", orc_strerror(st));
    else code = orc_errf(errmsg, 256, code, "nft: %s", line[0] ? line : "failed");
    orc_buf_free(&err);
    return code;
}
