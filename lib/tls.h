/* tls.h — TLS for orc's HTTP on OpenSSL 3, with no sockets inside: a session
 * takes ciphertext the caller received and hands back ciphertext to send, so
 * the API server and the HTTP client drive it from their libuv callbacks.
 * Also the cluster's small PKI: a CA, certificates it signs, fingerprints.
 *
 * Strings in and out are PEM text. Every errmsg is a 256-byte buffer (may be
 * NULL) that gets the reason of a failure; no message ever holds key bytes. */
#ifndef ORC_TLS_H
#define ORC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define ORC_TLS_ERRLEN 256
#define ORC_TLS_FP_HEX 64 /* SHA-256 in lower-case hex, without separators */
#define ORC_TLS_CA_DAYS 3650
#define ORC_TLS_CERT_DAYS 3650

/* ---- contexts: what a side presents and whom it trusts ---- */

/* Shared by the sessions made from it; reference counted (atomically, so
 * threads may share one). */
struct orc_tls_ctx;

/* Every context, server or client, speaks TLS 1.2 or 1.3 only, and TLS 1.2
 * only with ECDHE and AEAD ciphers (AES-GCM, ChaCha20-Poly1305): no CBC
 * suite is offered or accepted.
 *
 * A server: presents cert_pem (the leaf first, then any chain certificates
 * to send along) with key_pem. No client certificates; no session
 * resumption (orc's clients keep connections). */
int orc_tls_server_ctx(const char *cert_pem, const char *key_pem, struct orc_tls_ctx **out,
                       char *errmsg);

/* Whom a client trusts. At most one of the three is set; none means the
 * system's CA store. Every mode but `insecure` checks that the server's
 * certificate names the host it was reached at (DNS name or IP). */
struct orc_tls_trust {
    const char *ca_pem;         /* exactly these CA certificates (copied) */
    const char *ca_fingerprint; /* the CA certificate with this SHA-256 (hex, any
                                   case, ':' allowed) among those the server
                                   sends: how a joining member trusts a cluster
                                   it has no CA of yet */
    bool insecure;              /* no verification at all (orctl's
                                   --insecure-skip-tls-verify) */
};

int orc_tls_client_ctx(const struct orc_tls_trust *trust, struct orc_tls_ctx **out, char *errmsg);

/* Makes a client context present cert_pem (leaf first) with key_pem when
 * a server asks (a user's or node's identity). Sessions take it when they
 * are made (orc_tls_new), so calling it again renews the identity for the
 * sessions that follow. */
int orc_tls_ctx_use_cert(struct orc_tls_ctx *ctx, const char *cert_pem, const char *key_pem, char *errmsg);

/* Mutual TLS (member to member): each side presents a certificate and
 * requires one from the peer, signed by ca_pem and allowing the peer's role
 * (clientAuth for a client, serverAuth for a server). No host name check:
 * once the handshake is done the caller reads the peer's subject
 * (orc_tls_peer_subject) and decides who it is. */
struct orc_tls_mutual {
    const char *cert_pem; /* this side's certificate (leaf first) */
    const char *key_pem;  /* its key */
    const char *ca_pem;   /* the only CA the peer's certificate may come from */
};

int orc_tls_mutual_ctx(const struct orc_tls_mutual *m, bool server, struct orc_tls_ctx **out,
                       char *errmsg);

/* A server context choosing, per handshake, the certificate for the name
 * the client sent (SNI): fn(arg, name) returns another server context
 * (borrowed: the session keeps what it needs) or NULL to present this
 * one's; name is NULL when the client sent none. fn runs on the thread
 * that feeds the session its bytes; fn NULL turns the choice off. */
typedef struct orc_tls_ctx *(*orc_tls_sni_fn)(void *arg, const char *name);
void orc_tls_ctx_set_sni(struct orc_tls_ctx *ctx, orc_tls_sni_fn fn, void *arg);

/* Takes another reference; orc_tls_ctx_unref drops one (NULL is a no-op). */
struct orc_tls_ctx *orc_tls_ctx_ref(struct orc_tls_ctx *ctx);
void orc_tls_ctx_unref(struct orc_tls_ctx *ctx);

/* ---- sessions: one per connection ---- */

struct orc_tls;

/* peer_name: for a client context, the host the server was reached at (a DNS
 * name, or an IPv4/IPv6 literal without brackets; copied), checked against
 * its certificate and sent as SNI when it is a name. NULL for a server. The
 * session holds a reference to ctx. */
int orc_tls_new(struct orc_tls_ctx *ctx, const char *peer_name, struct orc_tls **out);
void orc_tls_free(struct orc_tls *t);

/* Ciphertext received from the peer. All of it is consumed (a partial record
 * waits inside for the rest); the plaintext it decrypts to is appended to
 * `plain`. Drives the handshake: replies to send may wait in the outbox
 * afterwards (orc_tls_take), as may plaintext queued before the handshake
 * completed. ORC_EPROTO when the bytes are not TLS, the handshake or the
 * peer's certificate failed, or the peer sent an alert (orc_tls_errmsg says
 * which); the session is then dead. After the peer's close_notify further
 * bytes are ignored (orc_tls_peer_closed). */
int orc_tls_recv(struct orc_tls *t, const void *cipher, size_t len, struct orc_buf *plain);

/* Starts a client's handshake (or continues one) without plaintext to
 * send: the hello waits in the outbox. 0 or ORC_EPROTO as orc_tls_recv. */
int orc_tls_handshake(struct orc_tls *t);

/* Encrypts plaintext into the outbox; before the handshake completes it is
 * queued and encrypted as soon as it does (a client may send its request
 * right after connecting: that starts the handshake). */
int orc_tls_send(struct orc_tls *t, const void *plain, size_t len);

/* Puts close_notify in the outbox (once; later calls do nothing). */
int orc_tls_shutdown(struct orc_tls *t);

/* The outbox: ciphertext to write to the peer. take hands over the whole of
 * it (free() it; NULL when empty) in one block, so one write sends it. */
size_t orc_tls_pending(const struct orc_tls *t);
char *orc_tls_take(struct orc_tls *t, size_t *len);
/* Or the outbox in place: *len bytes at the returned pointer (NULL when
 * empty), valid until the next call on the session; orc_tls_drop removes
 * the first n of them once sent. The buffer is kept for the next records,
 * so a busy connection does not allocate one per write. */
const char *orc_tls_peek(const struct orc_tls *t, size_t *len);
void orc_tls_drop(struct orc_tls *t, size_t n);

bool orc_tls_handshake_done(const struct orc_tls *t);

/* A certificate's subject: its CN, and its O entries (a Kubernetes client
 * certificate's groups). */
#define ORC_TLS_NAME_MAX 128
struct orc_tls_subject {
    char cn[ORC_TLS_NAME_MAX];  /* "" when absent */
    char org[ORC_TLS_NAME_MAX]; /* the first O, "" when absent */
    int n_org;                  /* how many O entries there are */
};

/* After the handshake: the subject of the certificate the peer presented
 * and the handshake verified. ORC_ENOENT when there is none (yet);
 * ORC_EINVAL when it has several CNs or a name that is not plain text. */
int orc_tls_peer_subject(const struct orc_tls *t, struct orc_tls_subject *out);
bool orc_tls_peer_closed(const struct orc_tls *t);

/* ---- client certificates (users and nodes, as Kubernetes reads them) ---- */

/* Who a client certificate names: CN the user, each O a group. */
#define ORC_TLS_MAX_ORGS 16
struct orc_tls_identity {
    char cn[ORC_TLS_NAME_MAX];
    char orgs[ORC_TLS_MAX_ORGS][ORC_TLS_NAME_MAX];
    int n_org;
};

/* Makes a server context ask for (not require) a client certificate, for
 * the sessions made after the call. The
 * handshake takes any certificate; orc_tls_peer_client says per request
 * whether it verifies against ca_pem (copied), so that a bad one can be
 * answered with a reason (HTTP 401) instead of a failed handshake. */
int orc_tls_ctx_ask_client_cert(struct orc_tls_ctx *ctx, const char *ca_pem, char *errmsg);

/* After the handshake on such a server: the identity of the client's
 * certificate when it was issued by the CA for clientAuth and is valid
 * now (*out owned by the session). ORC_ENOENT: no certificate (or the
 * context does not ask); ORC_EPERM: it does not verify (expired, another
 * CA), *why says why ("x509: certificate has expired"); ORC_EINVAL: its
 * subject has several CNs or unreadable names. Verified once per session,
 * its expiry checked at each call. */
int orc_tls_peer_client(struct orc_tls *t, const struct orc_tls_identity **out, const char **why);
/* Why the session failed ("" while it has not). Valid until it is freed. */
const char *orc_tls_errmsg(const struct orc_tls *t);

/* ---- certificates ---- */

/* A new CA: ECDSA P-256 key, self-signed, CN `cn`, valid `days` (from an
 * hour ago, for clocks slightly behind). *cert_pem and *key_pem are malloc'd
 * (the key as PKCS#8; wipe and free it). */
int orc_tls_make_ca(const char *cn, unsigned days, char **cert_pem, char **key_pem, char *errmsg);

/* A leaf signed by the CA: P-256, CN `cn`, usable as server and client
 * (serverAuth, clientAuth), with subjectAltNames `sans` (each an IPv4/IPv6
 * literal or a DNS name; ORC_EINVAL for anything else). */
int orc_tls_make_cert(const char *ca_cert_pem, const char *ca_key_pem, const char *cn,
                      const char *const *sans, size_t n_sans, unsigned days, char **cert_pem,
                      char **key_pem, char *errmsg);

/* As orc_tls_make_cert, with an organization (O) in the subject before the
 * CN (org NULL: none). */
int orc_tls_make_cert_o(const char *ca_cert_pem, const char *ca_key_pem, const char *org,
                        const char *cn, const char *const *sans, size_t n_sans, unsigned days,
                        char **cert_pem, char **key_pem, char *errmsg);

/* As orc_tls_make_cert_o, valid until `seconds` from now (a node's
 * certificate under --node-cert-ttl). */
int orc_tls_make_cert_secs(const char *ca_cert_pem, const char *ca_key_pem, const char *org,
                           const char *cn, const char *const *sans, size_t n_sans, long seconds,
                           char **cert_pem, char **key_pem, char *errmsg);

/* A client certificate (clientAuth only), P-256, signed by the CA: CN
 * `cn`, an O for each of orgs[0..n_orgs), valid from an hour ago (a tenth of
 * a shorter life) until
 * `seconds` from now. */
int orc_tls_make_client_cert(const char *ca_cert_pem, const char *ca_key_pem, const char *cn,
                             const char *const *orgs, size_t n_orgs, long seconds,
                             char **cert_pem, char **key_pem, char *errmsg);

/* A certificate signing request (PKCS#10 PEM) for CN `cn` and O orgs, with
 * its new P-256 key (both malloc'd; wipe and free the key). */
int orc_tls_make_csr(const char *cn, const char *const *orgs, size_t n_orgs, char **csr_pem,
                     char **key_pem, char *errmsg);
/* Signs csr_pem (its own signature checked) as a client certificate valid
 * for `seconds`, with the request's subject; *who gets whom it names.
 * ORC_EINVAL for a request that is unreadable, forged or names no one. */
int orc_tls_sign_csr(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem, long seconds,
                     char **cert_pem, struct orc_tls_identity *who, char *errmsg);

/* What a PKCS#10 request (PEM, len bytes) asks for, once its signature
 * is checked: the subject, and whether it names subjectAltNames.
 * ORC_EINVAL with the reason in errmsg when it is not a PEM request, its
 * signature fails or its subject is not one CN and plain names. */
struct orc_tls_csr_info {
    struct orc_tls_identity who;
    bool has_sans;
};
int orc_tls_csr_read(const char *csr_pem, size_t len, struct orc_tls_csr_info *out, char *errmsg);

/* The first certificate's notBefore and notAfter in seconds since the
 * epoch (ORC_ECORRUPT when unreadable). */
int orc_tls_cert_times(const char *cert_pem, int64_t *not_before, int64_t *not_after, char *errmsg);

/* HMAC-SHA256(secret, label) in lower-case hex: a credential derived from
 * another that only its holders can compute. */
int orc_tls_derive_token(const char *secret, const char *label, char out[ORC_TLS_FP_HEX + 1]);

/* The subject of the first certificate in cert_pem (ORC_ECORRUPT when
 * unreadable, ORC_EINVAL as orc_tls_peer_subject). */
int orc_tls_cert_subject(const char *cert_pem, struct orc_tls_subject *out, char *errmsg);

/* SHA-256 of the first certificate's DER (what `openssl x509 -fingerprint
 * -sha256` prints, without colons), lower-case hex plus NUL. */
int orc_tls_fingerprint(const char *cert_pem, char out[ORC_TLS_FP_HEX + 1], char *errmsg);

/* ORC_ECORRUPT unless cert_pem holds a readable certificate. */
int orc_tls_cert_check(const char *cert_pem, char *errmsg);
/* ORC_ECORRUPT unless key_pem holds a readable private key that belongs to
 * the (first) certificate in cert_pem. */
int orc_tls_key_check(const char *cert_pem, const char *key_pem, char *errmsg);
/* 0 when cert_pem was signed by ca_pem, is valid now and for at least
 * `min_days` more, and names each of `names` (IP literals or DNS names);
 * ORC_EINVAL with the first reason it does not. */
int orc_tls_cert_fits(const char *cert_pem, const char *ca_pem, const char *const *names,
                      size_t n_names, unsigned min_days, char *errmsg);

#endif
