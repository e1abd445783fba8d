/* orc.c — text for the shared error codes. */
#include "lib/orc.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *orc_strerror(int code)
{
    switch (code) {
    case ORC_OK: return "success";
    case ORC_ENOMEM: return "out of memory";
    case ORC_EINVAL: return "invalid argument";
    case ORC_ENOENT: return "not found";
    case ORC_EEXIST: return "already exists";
    case ORC_ECONFLICT: return "conflict";
    case ORC_ENOTLEADER: return "not the leader";
    case ORC_ECOMPACTED: return "revision compacted";
    case ORC_ETIMEDOUT: return "timed out";
    case ORC_EIO: return "I/O error";
    case ORC_ESHUTDOWN: return "shutting down";
    case ORC_ETOOBIG: return "too large";
    case ORC_EPROTO: return "protocol error";
    case ORC_EUNAVAIL: return "unavailable";
    case ORC_EPERM: return "permission denied";
    case ORC_ECORRUPT: return "data corrupt";
    case ORC_ECANCELED: return "canceled";
    case ORC_ETLS: return "TLS handshake failed";
    case ORC_ENOSPC: return "no space left";
    default: break;
    }
    if (code < 0 && code > -1000)
        return strerror(-code);
    return "unknown error";
}

int orc_errf(char *msg, size_t n, int code, const char *fmt, ...)
{
    va_list ap;

    if (msg && n) {
        va_start(ap, fmt);
        vsnprintf(msg, n, fmt, ap);
        va_end(ap);
    }
    return code;
}

void orc_ignore_sigpipe(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        (void)sigaction(SIGPIPE, &sa, NULL);
    }
}
