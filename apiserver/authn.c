/* authn.c — authentication: who a request comes from, found from its
 * headers before any body is read. Each authenticator in the chain either
 * names a user, refuses the credential, or passes it on. */
#include <string.h>

#include "apiserver/sa.h"
#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/tls.h"

/* The cluster token: the administrator (as Kubernetes' system:masters). */
static int authn_cluster_token(struct api_server *s, struct orc_httpd_req *r, struct api_user **out)
{
    static const char *const groups[] = {"system:masters", NULL};

    if (!orc_httpd_req_bearer_is(r, s->token)) return API_AUTHN_PASS;
    *out = api_user_new("system:admin", groups);
    return *out ? API_AUTHN_OK : API_AUTHN_REFUSED;
}

/* A client certificate signed by the cluster CA: CN the user, each O a
 * group (Kubernetes' x509 request authenticator). One that does not verify
 * names nobody but does not stop the chain, as in Kubernetes' union: a
 * valid token on the same request still counts. */
static int authn_x509(struct api_server *s, struct orc_httpd_req *r, struct api_user **out)
{
    const struct orc_tls_identity *id;
    const char *why, *groups[ORC_TLS_MAX_ORGS + 1];
    int rv = orc_httpd_req_tls_client(r, &id, &why);

    (void)s;
    if (rv == ORC_ENOENT) return API_AUTHN_PASS;
    if (rv != 0 || id->cn[0] == '\0') {
        log_info("apiserver", "client certificate from %s refused: %s", orc_httpd_req_peer(r),
                 rv ? why : "its common name is empty");
        return API_AUTHN_PASS;
    }
    for (int i = 0; i < id->n_org; i++) groups[i] = id->orgs[i];
    groups[id->n_org] = NULL;
    *out = api_user_new(id->cn, groups);
    return *out ? API_AUTHN_OK : API_AUTHN_REFUSED;
}

/* In order; the first that names a user or refuses decides. */
static int (*const chain[])(struct api_server *, struct orc_httpd_req *, struct api_user **) = {
    authn_x509,
    authn_cluster_token,
    api_authn_sa_token,
    api_authn_bootstrap_token,
};

bool api_authn_request(void *arg, struct orc_httpd_req *r)
{
    struct api_server *s = arg;

    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        struct api_user *u = NULL;
        int rv = chain[i](s, r, &u);

        if (rv == API_AUTHN_PASS) continue;
        if (rv == API_AUTHN_OK) api_req_set_user(r, u);
        return rv == API_AUTHN_OK;
    }
    return false;
}
