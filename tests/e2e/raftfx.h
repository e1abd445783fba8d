/* raftfx.h — what an attacker sends a member's Raft port, for the Raft port
 * tests: canonical/raft 0.15's own wire format (raft_uv_tcp's handshake,
 * then raft_uv's RPC messages, all u64 little endian), and reading the
 * cluster's files and members' logs. */
#ifndef ORC_TESTS_RAFTFX_H
#define ORC_TESTS_RAFTFX_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/tls.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/tlsclient.h"
#include "tests/harness/test.h"

#define RAFT_PORT 6444

/* ---- raft 0.15's wire format ---- */

static inline void rw_u64(struct orc_buf *b, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    orc_buf_append(b, le, 8);
}

/* raft_uv_tcp's handshake: protocol 1, server id, address length, address
 * NUL-terminated and padded to 8. */
static inline void rw_handshake(struct orc_buf *b, uint64_t id, const char *address)
{
    size_t len = (strlen(address) + 1 + 7) / 8 * 8;
    char pad[64] = {0};

    rw_u64(b, 1);
    rw_u64(b, id);
    rw_u64(b, len);
    memcpy(pad, address, strlen(address));
    orc_buf_append(b, pad, len);
}

/* 32 + 16 + 72 = 120 bytes: an InstallSnapshot whose configuration (a valid
 * empty one: format 1, no servers) claims 2^44 bytes; raft 0.15 then reads
 * the snapshot's length 2^44 bytes past the header. */
static inline void rw_crash_packet(struct orc_buf *b)
{
    rw_handshake(b, 666, "h:1");
    rw_u64(b, 5);  /* RAFT_IO_INSTALL_SNAPSHOT */
    rw_u64(b, 72); /* header length */
    rw_u64(b, 1u << 30);  /* term */
    rw_u64(b, 1u << 20);  /* last index */
    rw_u64(b, 1u << 30);  /* last term */
    rw_u64(b, 1);         /* configuration index */
    rw_u64(b, 1ull << 44); /* configuration length */
    rw_u64(b, 1);          /* configuration: format 1, then 0 servers */
    for (int i = 0; i < 3; i++) rw_u64(b, 0);
}

/* RequestVote with the disrupt-leader flag (a leadership transfer). */
static inline void rw_request_vote(struct orc_buf *b, uint64_t term, uint64_t candidate)
{
    rw_u64(b, 3);  /* RAFT_IO_REQUEST_VOTE */
    rw_u64(b, 40);
    rw_u64(b, term);
    rw_u64(b, candidate);
    rw_u64(b, 1ull << 40); /* last log index */
    rw_u64(b, term);       /* last log term */
    rw_u64(b, 1);          /* flags: disrupt_leader */
}

/* An empty AppendEntries (a heartbeat) from a leader of a higher term. */
static inline void rw_append_entries(struct orc_buf *b, uint64_t term)
{
    rw_u64(b, 1); /* RAFT_IO_APPEND_ENTRIES */
    rw_u64(b, 40);
    rw_u64(b, term);
    rw_u64(b, 0); /* prev log index */
    rw_u64(b, 0); /* prev log term */
    rw_u64(b, 0); /* leader commit */
    rw_u64(b, 0); /* no entries */
}

/* ---- clients ---- */

/* Sends bytes over plain TCP; true when the member then closed the
 * connection within ms. *name gets this client's address. */
static inline bool rw_send_plain(const char *ip, const void *data, size_t len, unsigned ms,
                                 char *name, size_t name_n)
{
    int fd = tc_connect(ip, RAFT_PORT);
    bool closed;

    if (name) snprintf(name, name_n, "(no connection)");
    if (fd < 0) return true; /* nobody listens: the checks that follow say why */
    if (name) tc_local_name(fd, name, name_n);
    (void)!send(fd, data, len, MSG_NOSIGNAL);
    closed = tc_closed_within(fd, ms);
    close(fd);
    return closed;
}

/* ---- the cluster's own PKI, read from a member's data dir ---- */

static inline char *rw_file(const struct member *m, const char *name)
{
    char path[700];
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    CHECKF(orc_file_read(path, 1 << 20, &b) == 0, "cannot read %s", path);
    return orc_buf_steal(&b, NULL);
}

/* Whether member i still runs (one that died is reaped and marked so). */
static inline bool rw_alive(struct cluster *c, int i)
{
    int status;

    if (c->m[i].pid <= 0) return false;
    if (waitpid(c->m[i].pid, &status, WNOHANG) == 0) return true;
    c->m[i].pid = 0;
    return false;
}

#endif
