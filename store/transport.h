/* transport.h — Raft between members over mutual TLS: a raft_uv_transport
 * (canonical/raft 0.15's interface) that terminates TLS itself and hands
 * raft one end of a socketpair, so raft's decoder only ever reads bytes an
 * authenticated member sent. Internal to store/ (prefix store__).
 *
 * On the wire, inside TLS, before any raft byte:
 *   connector -> acceptor  hello: "orcraft1", member id (u64 LE, > 0),
 *                          address length (u32 LE, 1..255), the member's
 *                          Raft address (printable ASCII, no NUL)
 *   acceptor -> connector  "orcrack1" when it accepts; "orcrgone" when it
 *                          leads and the connector's id is not in its
 *                          committed configuration (the member was
 *                          removed); it closes otherwise
 * The acceptor checks that the id claimed is the id in the peer's
 * certificate; the connector checks, before sending its hello, that the
 * acceptor's certificate names the id it dialled. Certificates come from
 * the cluster CA with subject O=STORE_MEMBER_ORG, CN=STORE_MEMBER_CN<id>
 * (store.h); any other certificate the CA issues never reaches raft. */
#ifndef ORC_STORE_TRANSPORT_H
#define ORC_STORE_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store/store.h"

#define STORE_HELLO_MAGIC "orcraft1"
#define STORE_HELLO_ACK "orcrack1"
#define STORE_HELLO_GONE "orcrgone"
#define STORE_HELLO_ADDR_MAX 255
#define STORE_HELLO_MAX (8 + 8 + 4 + STORE_HELLO_ADDR_MAX)

struct store_hello {
    uint64_t id;
    char address[STORE_HELLO_ADDR_MAX + 1];
};

/* Encodes a hello into out (STORE_HELLO_MAX bytes); returns its length, or
 * 0 when id is 0 or the address is empty, too long or not printable. */
size_t store__hello_encode(uint64_t id, const char *address, unsigned char *out);

/* Parses the hello at the start of buf. Returns 0 with *used = 0 when more
 * bytes are needed, 0 with *used = its length when complete (*out filled),
 * ORC_EPROTO when the bytes cannot be a hello. Never reads past len. */
int store__hello_parse(const void *buf, size_t len, struct store_hello *out, size_t *used);

/* The member id in a member certificate's subject (O, CN), or 0 when the
 * subject is not a member's. */
uint64_t store__member_id(const char *org, int n_org, const char *cn);

/* Sets up t (raft_uv's transport interface) on loop for member id: mutual
 * TLS with tls (its certificate must be member id's; the PEM texts are
 * used at once, not kept), or raft's own plain TCP transport when tls is
 * NULL (benchmark only). Free with store__transport_free, after raft has
 * closed it (or when it was never started). */
int store__transport_init(struct raft_uv_transport *t, uv_loop_t *loop, uint64_t id,
                          const struct store_raft_tls *tls, char *errmsg);
void store__transport_free(struct raft_uv_transport *t);

/* Membership hooks (TLS transport only; a no-op on the plain one):
 * gone(arg, id) says whether an authenticated member id is no longer in
 * the cluster, so its hello is answered "orcrgone" and refused; told(arg,
 * by) runs when a member this one dialled (id `by`) answered so. */
void store__transport_set_members(struct raft_uv_transport *t,
                                  bool (*gone)(void *arg, uint64_t id),
                                  void (*told)(void *arg, uint64_t by), void *arg);
/* Closes the connections of members `gone` now says are gone: a removed
 * member keeps the connection it had, and hears "orcrgone" only when it
 * dials again. */
void store__transport_drop_gone(struct raft_uv_transport *t);

#endif
