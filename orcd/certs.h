/* certs.h — a member's TLS files in its data dir and the cluster token that
 * names the CA: ca.crt/ca.key (the cluster CA, the same on every member),
 * server.crt/server.key (this member's serving certificate, its own),
 * raft.crt/raft.key (its Raft peer certificate, its own). */
#ifndef ORC_ORCD_CERTS_H
#define ORC_ORCD_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/tls.h"

/* PEM texts, all owned (keys are wiped when cleared). */
struct orcd_certs {
    char *ca;     /* ca.crt */
    char *ca_key; /* ca.key */
    char *cert;   /* server.crt */
    char *key;    /* server.key */
    char *chain;  /* server.crt then ca.crt: what the API serves, so a joining
                     member can match the CA against its token */
    char *raft_cert; /* raft.crt */
    char *raft_key;  /* raft.key */
    char fingerprint[ORC_TLS_FP_HEX + 1]; /* of ca.crt */
};

/* Loads and checks ca.crt and ca.key. ORC_ENOENT when there is no ca.crt
 * (a member that has not joined yet); ORC_ECORRUPT, logged naming the file,
 * when either is unreadable, corrupt or the two do not belong together. */
int orcd_certs_load_ca(const char *dir, struct orcd_certs *c);

/* Makes a new cluster CA and writes ca.crt (0644) and ca.key (0600). */
int orcd_certs_new_ca(const char *dir, struct orcd_certs *c);

/* Writes the CA a join answered with, after checking that it is the one
 * the token names (want_fp) and that the key belongs to it. */
int orcd_certs_save_ca(const char *dir, const char *ca_pem, const char *ca_key_pem,
                       const char *want_fp, struct orcd_certs *c);

/* Loads server.crt and server.key, or (re)issues them with the CA when
 * missing, not signed by this CA, expiring within 30 days, or not naming
 * every one of `names` (IPs and DNS names). Fills cert, key and chain.
 * Corrupt files are an error naming the file, never silently replaced. */
int orcd_certs_serving(const char *dir, const char *const *names, size_t n, struct orcd_certs *c);

/* Loads raft.crt and raft.key, or (re)issues them with the CA when missing,
 * not signed by this CA, expiring within 30 days, or not the certificate of
 * member `id` (O=STORE_MEMBER_ORG, CN=STORE_MEMBER_CN<id>, store.h; both
 * serverAuth and clientAuth). Both files 0600. Fills raft_cert, raft_key.
 * Corrupt files are an error naming the file. */
int orcd_certs_raft(const char *dir, uint64_t id, struct orcd_certs *c);

void orcd_certs_clear(struct orcd_certs *c);

/* The names kube-apiserver's certificate carries for clients inside the
 * cluster (client-go's in-cluster config dials KUBERNETES_SERVICE_HOST,
 * the kubernetes Service's ClusterIP; others dial its DNS names). */
#define ORCD_INCLUSTER_NAMES 5
struct orcd_incluster_names {
    char ip[20];    /* the first address of the service range */
    char fqdn[280]; /* kubernetes.default.svc.<cluster domain> */
    const char *names[ORCD_INCLUSTER_NAMES]; /* point into this struct or to literals */
};
/* Fills out for service_cidr (NULL: 10.43.0.0/16) and cluster_domain
 * (NULL: cluster.local). ORC_EINVAL when the range has no address. */
int orcd_certs_incluster_names(const char *service_cidr, const char *cluster_domain,
                               struct orcd_incluster_names *out);

/* The cluster token: "orc1.<SHA-256 of ca.crt, 64 hex>.<secret>". Like
 * k3s's, it names the CA, so a member joining with it trusts exactly that
 * CA before it has a copy. */
#define ORCD_TOKEN_PREFIX "orc1."
int orcd_token_make(const char *ca_fingerprint, const char *secret, char *out, size_t n);
/* tokens.c: the cluster token in dir/token: read, or made (0600) for a
 * new cluster (naming the CA fingerprint fp, with the secret `given` or a
 * random one) or from the token a joining member was `given`. Failures
 * are logged naming the file. */
int orcd_token_load(const char *dir, const char *fp, const char *given, bool joining, char *out, size_t n);
/* tokens.c: the agent token in dir/agent-token, made (0600) when
 * missing, from `chosen` ("<id>.<secret>", checked with
 * orcd_agent_token_valid) or at random; `created` gets "<id>.<secret>"
 * when it was made now (for the API to store), "" otherwise. */
bool orcd_agent_token_valid(const char *t);
int orcd_agent_token_load(const char *dir, const char *fp, const char *chosen, char created[24]);

/* The CA fingerprint a token names; ORC_EINVAL when it is not of that form. */
int orcd_token_fingerprint(const char *token, char out[ORC_TLS_FP_HEX + 1]);

#endif
