/* tokens.c — a member's join credentials in its data dir, as k3s's
 * --token and --agent-token: the cluster (server) token, which joins the
 * control plane and is the administrator's, and the agent token, made with
 * the cluster (agent-token, 0600) as orc1.<CA fingerprint>.<id>.<secret>
 * and stored in the cluster as a bootstrap token
 * (apiserver/authn_bootstrap.c) so that every member takes it: it
 * registers a node and nothing else. */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "orcd/certs.h"

/* [a-z0-9]{6}.[a-z0-9]{16}: a bootstrap token's shape. */
bool orcd_agent_token_valid(const char *t)
{
    if (strlen(t) != 23) return false;
    for (int i = 0; i < 23; i++) {
        char ch = t[i];
        if (i == 6 ? ch != '.' : !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) return false;
    }
    return true;
}

static int rand_chars(char *out, size_t n)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    for (size_t i = 0; i < n;) {
        unsigned char b;
        if (orc_rand_bytes(&b, 1) != 0) return ORC_EIO;
        if (b < 252) out[i++] = set[b % 36]; /* 252 = 7 * 36: no bias */
    }
    out[n] = '\0';
    return 0;
}

int orcd_agent_token_load(const char *dir, const char *fp, const char *chosen, char created[24])
{
    char path[4200], tok[24], line[128];
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    created[0] = '\0';
    snprintf(path, sizeof path, "%s/agent-token", dir);
    rv = orc_file_read(path, 256, &b);
    if (rv == 0) {
        if (chosen) log_warn("orcd", "--agent-token is only used by a new cluster; keeping %s", path);
        goto out;
    }
    if (rv != ORC_ENOENT) goto out;
    if (chosen) {
        snprintf(tok, sizeof tok, "%s", chosen);
    } else {
        if ((rv = rand_chars(tok, 6)) != 0 || (rv = rand_chars(tok + 7, 16)) != 0) goto out;
        tok[6] = '.';
    }
    if ((rv = orcd_token_make(fp, tok, line, sizeof line - 1)) != 0) goto out;
    strcat(line, "\n");
    rv = orc_file_write(path, line, strlen(line), 0600);
    if (rv == 0) memcpy(created, tok, 24);
    explicit_bzero(line, sizeof line);
    explicit_bzero(tok, sizeof tok);
out:
    if (b.data) explicit_bzero(b.data, b.cap);
    orc_buf_free(&b);
    if (rv != 0) log_error("orcd", "cannot read or write the agent token %s: %s", path, orc_strerror(rv));
    return rv;
}

/* ---- the cluster token ---- */

/* A new token: a joining member's is the one it was given; a new cluster's
 * names its CA, with the --token secret or a random one. */
static int new_token(const char *fp, const char *given, bool joining, char *out, size_t n)
{
    char hex[49];

    if (joining) {
        snprintf(out, n, "%s", given);
        return 0;
    }
    orc_rand_hex(hex, 48);
    return orcd_token_make(fp, given ? given : hex, out, n);
}

int orcd_token_load(const char *dir, const char *fp, const char *given, bool joining, char *out, size_t n)
{
    char path[4200];
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    snprintf(path, sizeof path, "%s/token", dir);
    rv = orc_file_read(path, n - 1, &b);
    if (rv == 0) {
        while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' ')) b.len--;
        snprintf(out, n, "%.*s", (int)b.len, b.data);
        if (given && strcmp(given, out) != 0 && !joining)
            log_warn("orcd", "--token is only used by a new cluster; keeping the token in %s", path);
    } else if (rv == ORC_ENOENT) {
        rv = new_token(fp, given, joining, out, n);
        if (rv == 0) rv = orc_file_write(path, out, strlen(out), 0600);
    }
    if (b.data) explicit_bzero(b.data, b.cap);
    orc_buf_free(&b);
    if (rv != 0) log_error("orcd", "cannot read or write the cluster token %s: %s", path, orc_strerror(rv));
    else if (out[0] == '\0') {
        log_error("orcd", "the cluster token in %s is empty", path);
        rv = ORC_EINVAL;
    }
    return rv;
}
