/* resolv.c — the upstream resolvers: nameserver lines of a resolv.conf. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"

static int is_address(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

int dns_resolv_conf_read(const char *path, char **addrs, int max)
{
    struct orc_buf b = ORC_BUF_INIT;
    int rc = orc_file_read(path ? path : "/etc/resolv.conf", 1 << 16, &b);
    if (rc != 0) return rc;
    if (!b.data) return 0;
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(b.data, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
        char *ws = NULL, *kw = strtok_r(line, " \t\r", &ws), *addr = strtok_r(NULL, " \t\r", &ws);
        /* glibc's syntax; a scoped IPv6 address (fe80::1%eth0) is left out */
        if (!kw || strcmp(kw, "nameserver") != 0 || !addr || !is_address(addr)) continue;
        if (!(addrs[n] = strdup(addr))) {
            while (n > 0) free(addrs[--n]);
            rc = ORC_ENOMEM;
            break;
        }
        n++;
    }
    orc_buf_free(&b);
    return rc != 0 ? rc : n;
}
