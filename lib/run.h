/* run.h — runs a host program synchronously, without a shell: argv is
 * passed as is, stdin fed from memory, stdout/stderr captured. For quick
 * host tools (ip, iptables) whose few milliseconds are worth less than an
 * asynchronous round trip; it blocks the calling thread until the child
 * exits, so keep it off paths that can take long. */
#ifndef ORC_RUN_H
#define ORC_RUN_H

#include <stddef.h>

#include "lib/buf.h"

struct orc_run_io {
    const char *in;      /* written to the child's stdin; NULL: /dev/null */
    size_t in_len;
    struct orc_buf *out; /* stdout appended here (caller owns); NULL: discarded */
    struct orc_buf *err; /* stderr appended here (caller owns); NULL: discarded */
};

/* argv: NULL-terminated; argv[0] a path, or a name looked up in $PATH.
 * io may be NULL. Returns the exit status (0-255; 128 + signal number when
 * a signal ended it), or ORC_ENOENT when the program cannot be found,
 * ORC_ENOMEM, ORC_EIO. Output past 64 MiB per stream is dropped. */
int orc_run(char *const argv[], const struct orc_run_io *io);

struct orc_run_opts {
    char *const *env;    /* the child's environment; NULL: this process's */
    unsigned timeout_ms; /* > 0: past it the child is killed (SIGKILL) and reaped */
};

/* orc_run with opts (may be NULL): ORC_ETIMEDOUT when the timeout passed
 * before the child closed its output. For plugins (CNI) that get their
 * input through the environment and must not hang the caller. */
int orc_run_opts(char *const argv[], const struct orc_run_io *io, const struct orc_run_opts *opts);

/* The first line of `text` without trailing blanks, at most n-1 bytes, into
 * dst: for quoting a tool's stderr in an error message. */
void orc_run_first_line(const char *text, char *dst, size_t n);

#endif
