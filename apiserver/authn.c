/* authn.c — authentication: who a request comes from, found from its
 * headers before any body is read. Each authenticator in the chain either
 * names a user, refuses the credential, or passes it on. */
#include <string.h>

#include "apiserver/sa.h"
#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/httpd.h"

/* The cluster token: the administrator (as Kubernetes' system:masters). */
static int authn_cluster_token(struct api_server *s, struct orc_httpd_req *r, struct api_user **out)
{
    static const char *const groups[] = {"system:masters", NULL};

    if (!orc_httpd_req_bearer_is(r, s->token)) return API_AUTHN_PASS;
    *out = api_user_new("system:admin", groups);
    return *out ? API_AUTHN_OK : API_AUTHN_REFUSED;
}

/* In order; the first that names a user or refuses decides. */
static int (*const chain[])(struct api_server *, struct orc_httpd_req *, struct api_user **) = {
    authn_cluster_token,
    api_authn_sa_token,
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
