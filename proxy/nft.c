/* nft.c — runs an nftables script: `nft -f -`, one transaction (the kernel
 * applies all of it or none). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/orc.h"
#include "lib/run.h"
#include "proxy/proxy.h"

/* $PATH may lack the sbin directories (agents started by hand). */
static const char *nft_path(void)
{
    static const char *const paths[] = {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(paths); i++)
        if (access(paths[i], X_OK) == 0) return paths[i];
    return "nft";
}

int proxy_nft_apply(const char *script, char *errmsg)
{
    char *argv[] = {(char *)nft_path(), "-f", "-", NULL};
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

int proxy_nft_remove(char *errmsg)
{
    struct orc_buf s = ORC_BUF_INIT;
    int rc = proxy_render_remove(&s);
    if (rc == 0) rc = proxy_nft_apply(s.data, errmsg);
    else orc_errf(errmsg, 256, rc, "out of memory");
    orc_buf_free(&s);
    return rc;
}
