/* orc.h — error codes shared by every module: 0 or a negative ORC_E* code. */
#ifndef ORC_H
#define ORC_H

#include <stddef.h>

enum {
    ORC_OK = 0,
    ORC_ENOMEM = -1000, /* allocation failed */
    ORC_EINVAL,         /* bad argument or input */
    ORC_ENOENT,         /* no such key/object */
    ORC_EEXIST,         /* already exists */
    ORC_ECONFLICT,      /* guard / resourceVersion mismatch */
    ORC_ENOTLEADER,     /* this store member is not the Raft leader */
    ORC_ECOMPACTED,     /* revision older than the retained history */
    ORC_ETIMEDOUT,      /* deadline passed */
    ORC_EIO,            /* system call or disk failure */
    ORC_ESHUTDOWN,      /* component is closing */
    ORC_ETOOBIG,        /* input over a size limit */
    ORC_EPROTO,         /* malformed wire data */
    ORC_EUNAVAIL,       /* no leader / peer unreachable */
    ORC_EPERM,          /* not authenticated or not allowed */
    ORC_ECORRUPT,       /* on-disk data unreadable */
    ORC_ECANCELED,      /* request canceled */
    ORC_ETLS,           /* TLS handshake failed or the peer's certificate was refused */
    ORC_ENOSPC,         /* a pool (addresses, ports) or the disk is exhausted */
};

/* Writes a message into msg (n bytes; msg may be NULL) and returns code:
 * `return orc_errf(msg, n, ORC_EINVAL, "bad %s", x);` */
int orc_errf(char *msg, size_t n, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Static description of an ORC_E* code (or of a negative errno). Never NULL. */
const char *orc_strerror(int code);

/* Ignores SIGPIPE unless the program chose a handler: a peer that closes a
 * socket we are writing to must give EPIPE, not kill the process. Best
 * effort; safe to call often. */
void orc_ignore_sigpipe(void);

#define ORC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
