/* usercert.c — client certificates for users, issued by the cluster CA to
 * an administrator's request (`orctl kubeconfig create`): the client makes
 * the key and sends a certificate signing request; the member signs it
 * for the subject it names (CN the user, O the groups). */
#include <string.h>

#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define DEFAULT_SECONDS (365L * 24 * 3600)
#define MAX_SECONDS (10L * 365 * 24 * 3600)

/* Only an administrator mints identities. (Until authorization comes this
 * is the one check here; RBAC may grant it with a rule of its own.) */
static bool may_issue(const struct orc_httpd_req *r)
{
    return api_user_in_group(api_req_user(r), "system:masters");
}

static long lifetime(const json_t *body, bool *ok)
{
    json_t *v = json_object_get(body, "expirationSeconds");

    *ok = true;
    if (v == NULL) return DEFAULT_SECONDS;
    if (!json_is_integer(v) || json_integer_value(v) < 600 || json_integer_value(v) > MAX_SECONDS) {
        *ok = false;
        return 0;
    }
    return (long)json_integer_value(v);
}

/* POST /internal/v1/usercerts {"csr": PEM, "expirationSeconds": N} ->
 * {"certificate": PEM, "ca": PEM}. */
void api_handle_user_cert(struct api_server *s, struct orc_httpd_req *r)
{
    struct orc_tls_identity who;
    char err[ORC_TLS_ERRLEN], *cert = NULL;
    json_t *body, *out;
    const char *csr;
    bool ok;
    long secs;

    if (!may_issue(r)) {
        api_respond_status(r, 403, "Forbidden", NULL, NULL, NULL,
                           "only a member of system:masters may issue user certificates");
        return;
    }
    if (s->ca_pem == NULL || s->ca_key_pem == NULL) {
        api_respond_status(r, 501, "NotImplemented", NULL, NULL, NULL,
                           "this member has no cluster CA to issue certificates with");
        return;
    }
    if ((body = api_parse_body(r)) == NULL) return;
    csr = orc_json_str(body, "csr");
    secs = lifetime(body, &ok);
    if (csr == NULL || !ok) {
        json_decref(body);
        api_respond_status(r, 422, "Invalid", NULL, NULL, NULL,
                           "want {\"csr\": PEM, \"expirationSeconds\": 600 to %ld}", MAX_SECONDS);
        return;
    }
    if (orc_tls_sign_csr(s->ca_pem, s->ca_key_pem, csr, secs, &cert, &who, err) != 0) {
        json_decref(body);
        api_respond_status(r, 422, "Invalid", NULL, NULL, NULL, "cannot issue the certificate: %s", err);
        return;
    }
    log_info("apiserver", "%s issued a client certificate for user \"%s\" (%d groups, %ld s)",
             api_req_user(r)->name, who.cn, who.n_org, secs);
    out = json_pack("{s:s, s:s}", "certificate", cert, "ca", s->ca_pem);
    if (out) api_respond_json(r, 200, out);
    else api_respond_error(r, ORC_ENOMEM, "issuing the certificate");
    json_decref(out);
    free(cert);
    json_decref(body);
}
