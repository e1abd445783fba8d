/* sa.h — ServiceAccount tokens inside the API server: the cluster's signing
 * key, the TokenRequest subresource, issuer discovery, and the token
 * authenticator. Internal to apiserver/. */
#ifndef ORC_APISERVER_SA_H
#define ORC_APISERVER_SA_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "apiserver/server.h"
#include "apiserver/user.h"

/* As kubeadm and k3s name the issuer. */
#define API_SA_ISSUER "https://kubernetes.default.svc.cluster.local"
/* The signing key (a P-256 PEM) in the replicated store: made by the first
 * leader, the same on every member, carried by backups. */
#define API_SA_KEY "/orc/serviceaccount-signing-key"
#define API_SA_DEFAULT_EXPIRATION 3600
#define API_SA_MIN_EXPIRATION 600
#define API_SA_MAX_AUDIENCES 16
#define API_SA_MOUNT_PATH "/var/run/secrets/kubernetes.io/serviceaccount"

struct api_sa {
    EVP_PKEY *key; /* loaded from API_SA_KEY once it exists; owned */
    char *audiences[API_SA_MAX_AUDIENCES]; /* owned */
    size_t n_audiences;
    unsigned min_expiration; /* seconds */
};

/* From the config (audiences: comma-separated, NULL: the issuer). */
int api_sa_start(struct api_server *s, const struct api_config *cfg, char *errmsg);
void api_sa_stop(struct api_server *s);
/* Leader: writes a new signing key unless the store holds one. */
void api_sa_ensure_key(struct api_server *s);
/* The signing key (borrowed), or NULL while the store has none. */
EVP_PKEY *api_sa_key(struct api_server *s);
bool api_sa_audience_ok(const struct api_server *s, const char *aud);

/* GET /.well-known/openid-configuration and /openid/v1/jwks. */
void api_handle_oidc(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* POST serviceaccounts/NAME/token (authentication.k8s.io/v1 TokenRequest). */
void api_handle_token_request(struct api_server *s, struct orc_httpd_req *r,
                              struct api_route *rt);

/* The object `kind` ns/name from this member's store, or NULL (ORC_ENOENT). */
json_t *api_sa_local_get(struct api_server *s, enum orc_kind_id kind, const char *ns,
                         const char *name);

/* sa_admit.c: a new pod's ServiceAccount defaults and token volume. */
void api_sa_admit_pod(struct api_server *s, const char *ns, json_t *pod);

/* authn_sa.c: the chain's ServiceAccount token authenticator. */
int api_authn_sa_token(struct api_server *s, struct orc_httpd_req *r, struct api_user **out);

#endif
