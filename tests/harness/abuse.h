/* abuse.h — clients that misbehave on purpose, for the tests of the API
 * port's limits and of malformed input: blocking TLS (OpenSSL on a plain
 * socket) with a chosen source address, so a test can send half a request,
 * a body that never ends, or open a watch and never read it; and the
 * resident memory of a process. Every call has a timeout, so a server that
 * does not answer fails the case instead of hanging it. */
#ifndef ORC_TEST_ABUSE_H
#define ORC_TEST_ABUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

struct rawtls {
    int fd;
    void *ssl;         /* SSL *, NULL for a plain TCP connection */
    struct orc_buf in; /* bytes received (plaintext) */
    bool closed;       /* the server ended the connection (EOF, reset or close_notify) */
};

/* TCP connection to ip:port from src_ip (NULL: the kernel's choice), with a
 * receive buffer of `rcvbuf` bytes (0: default). 0 or -1. */
int raw_open(struct rawtls *t, const char *ip, int port, const char *src_ip, int rcvbuf);
/* raw_open, then a TLS handshake (the server's certificate is not checked:
 * these clients test the server, not the other way round). 0 or -1. */
int rawtls_open(struct rawtls *t, const char *ip, int port, const char *src_ip, int rcvbuf);
/* Sends all of data (through TLS when open). 0, or -1 once the server is gone. */
int rawtls_send(struct rawtls *t, const void *data, size_t len);
/* Reads until t->in holds `text`, the server closes, or timeout_ms pass.
 * True when `text` arrived. */
bool rawtls_read_until(struct rawtls *t, const char *text, unsigned timeout_ms);
/* Reads until the server closes (keeping the first 64 KiB in t->in); true
 * when it did within timeout_ms. */
bool rawtls_wait_closed(struct rawtls *t, unsigned timeout_ms);
void rawtls_close(struct rawtls *t);

/* Resident memory of a process in KiB (VmRSS), or -1. */
long proc_rss_kib(pid_t pid);

/* Whether the file at `path`, from byte `from`, holds `text`. */
bool file_has(const char *path, size_t from, const char *text);
size_t file_size(const char *path);

#endif
