/* shim_int.h — inside the shim (agent/shim.c): attach input and the
 * terminal (agent/shim_io.c). Owned by the shim's single thread. */
#ifndef ORC_AGENT_SHIM_INT_H
#define ORC_AGENT_SHIM_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/rt_int.h"

/* A listening socket in a private temporary directory for the OCI
 * runtime's --console-socket (a socket path must fit sun_path, which the
 * container's directory may not). */
struct shim_console {
    int fd;
    char dir[108], path[108];
};
int shim_console_listen(struct shim_console *c);
/* The terminal's master fd the runtime sent, or -1 (waits up to 10 s). */
int shim_console_recv(struct shim_console *c);
void shim_console_close(struct shim_console *c);

/* What attaches write reaches the process: from DIR/stdin (a FIFO) to the
 * terminal's master or the process's stdin pipe; DIR/resize sizes the
 * terminal. */
struct shim_in {
    int fifo;            /* DIR/stdin's read end, -1: none */
    int target;          /* where input goes: a dup of the master or a pipe, -1: closed */
    int resize;          /* DIR/resize, held read-write (never EOF), -1: none */
    bool tty, once;
    bool closed;         /* stdinOnce: the first attach ended */
    char fifo_path[RT_PATH];
    char pend[65536];    /* input read but not yet written */
    size_t pend_len, pend_off;
    char rbuf[64];       /* a resize record being read */
    size_t rlen;
};
/* master >= 0: a terminal (the resize FIFO too); stdin: make DIR/stdin. */
int shim_in_open(struct shim_in *in, const char *dir, bool stdin, bool once, int master);
/* Without a terminal: a pipe whose read end (*proc_end) the process gets. */
int shim_in_pipe(struct shim_in *in, int *proc_end);
void shim_in_close(struct shim_in *in);
/* Three pollfds (fd -1 where nothing to wait for), then shim_in_handle. */
void shim_in_pollfds(const struct shim_in *in, struct pollfd fds[3]);
void shim_in_handle(struct shim_in *in, const struct pollfd fds[3]);

#endif
