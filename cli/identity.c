/* identity.c — identities from orctl: `orctl auth whoami` (a
 * SelfSubjectReview, as kubectl auth whoami) and `orctl kubeconfig create USER` (a kubeconfig
 * with a client certificate for a new user: the key is made here and never
 * leaves this machine; the cluster CA signs the request of an
 * administrator). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/tls.h"
#include "lib/yaml.h"

static int print_whoami(cli_ctx *x, const json_t *review)
{
    const json_t *info = json_object_get(json_object_get(review, "status"), "userInfo");
    const json_t *g;
    size_t i;

    fprintf(x->out, "ATTRIBUTE   VALUE\nUsername    %s\n", orc_json_str(info, "username") ?: "");
    if (orc_json_str(info, "uid")) fprintf(x->out, "UID         %s\n", orc_json_str(info, "uid"));
    fputs("Groups      [", x->out);
    json_array_foreach(json_object_get(info, "groups"), i, g)
        fprintf(x->out, "%s%s", i ? " " : "", json_string_value(g) ?: "");
    fputs("]\n", x->out);
    return CLI_EXIT_OK;
}

static int whoami(cli_ctx *x, const char *output)
{
    json_t *req = json_pack("{s:s, s:s}", "apiVersion", "authentication.k8s.io/v1", "kind",
                            "SelfSubjectReview"), *reply = NULL;
    struct orc_buf out = ORC_BUF_INIT;
    int status = 0, rv = CLI_EXIT_FAIL;

    if (req == NULL || cli_connect(x) != 0) goto done;
    if (cli_request_json(x, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, req,
                         &status, &reply) != 0)
        goto done;
    if (status != 201 && status != 200) {
        cli_print_failure(x, status, reply);
        goto done;
    }
    if (output == NULL) {
        rv = print_whoami(x, reply);
        goto done;
    }
    if ((strcmp(output, "yaml") == 0 ? orc_yaml_emit(reply, &out) : orc_json_dump_pretty(reply, &out)) == 0) {
        cli_write(x, &out);
        rv = CLI_EXIT_OK;
    }
done:
    orc_buf_free(&out);
    json_decref(req);
    json_decref(reply);
    return rv;
}

int cli_auth_whoami(cli_ctx *x, const char *output)
{
    if (output && strcmp(output, "json") && strcmp(output, "yaml"))
        return cli_usage_error(x, "unsupported output format \"%s\": want json or yaml", output);
    return whoami(x, output);
}

/* ---- kubeconfig create ---- */

static int b64(const char *pem, struct orc_buf *out)
{
    orc_buf_reset(out);
    return orc_base64_encode(pem, strlen(pem), false, out);
}

/* kubectl's kubeconfig for `user` with its certificate and key inline. */
static int print_kubeconfig(cli_ctx *x, const char *user, const char *ca, const char *cert, const char *key)
{
    struct orc_buf a = ORC_BUF_INIT, c = ORC_BUF_INIT, k = ORC_BUF_INIT, out = ORC_BUF_INIT;
    json_t *cfg = NULL;
    int rv = ORC_ENOMEM;

    if (b64(ca, &a) != 0 || b64(cert, &c) != 0 || b64(key, &k) != 0) goto out;
    cfg = json_pack("{s:s, s:s, s:[{s:s, s:{s:s, s:s}}], s:[{s:s, s:{s:s, s:s}}], s:s,"
                    " s:[{s:s, s:{s:s, s:s}}]}",
                    "apiVersion", "v1", "kind", "Config", "clusters", "name", "orc", "cluster", "server",
                    x->server, "certificate-authority-data", a.data, "contexts", "name", user, "context",
                    "cluster", "orc", "user", user, "current-context", user, "users", "name", user, "user",
                    "client-certificate-data", c.data, "client-key-data", k.data);
    if (cfg && (rv = orc_yaml_emit(cfg, &out)) == 0) cli_write(x, &out);
out:
    if (k.data) explicit_bzero(k.data, k.len);
    if (out.data) explicit_bzero(out.data, out.len);
    orc_buf_free(&a);
    orc_buf_free(&c);
    orc_buf_free(&k);
    orc_buf_free(&out);
    json_decref(cfg);
    return rv;
}

static int issue(cli_ctx *x, const char *user, const struct cli_strv *groups, uint64_t ms)
{
    char *csr = NULL, *key = NULL, err[ORC_TLS_ERRLEN];
    json_t *req = NULL, *reply = NULL;
    int status = 0, rv = CLI_EXIT_FAIL;

    if (orc_tls_make_csr(user, (const char *const *)groups->v, groups->n, &csr, &key, err) != 0) {
        fprintf(x->err, "error: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    req = json_pack("{s:s, s:I}", "csr", csr, "expirationSeconds", (json_int_t)(ms / 1000));
    if (req == NULL || cli_connect(x) != 0) goto done;
    if (cli_request_json(x, "POST", "/internal/v1/usercerts", NULL, req, &status, &reply) != 0) goto done;
    if (status != 200 || !orc_json_str(reply, "certificate") || !orc_json_str(reply, "ca")) {
        cli_print_failure(x, status, reply);
        goto done;
    }
    if (print_kubeconfig(x, user, orc_json_str(reply, "ca"), orc_json_str(reply, "certificate"), key) == 0)
        rv = CLI_EXIT_OK;
done:
    json_decref(req);
    json_decref(reply);
    free(csr);
    if (key) explicit_bzero(key, strlen(key));
    free(key);
    return rv;
}

int cli_cmd_kubeconfig(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0}, groups = {0};
    const char *expires = "8760h";
    const struct cli_flag flags[] = {
        {"group", 'g', CLI_FLAG_LIST, &groups, "GROUP", "a group of the user (repeatable)"},
        {"expires", 0, CLI_FLAG_STRING, &expires, "DURATION",
         "how long the certificate is valid (default 8760h; 10m to 87600h)"},
    };
    uint64_t ms = 0;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n != 2 || strcmp(pos.v[0], "create") != 0)
        rv = cli_usage_error(x, "want \"kubeconfig create USER [--group G]... [--expires 720h]\"");
    else if (orc_duration_parse(expires, &ms) != 0 || ms < 600000 || ms > 87600ull * 3600 * 1000)
        rv = cli_usage_error(x, "invalid --expires \"%s\": a duration from 10m to 87600h", expires);
    else rv = issue(x, pos.v[1], &groups, ms);
    cli_strv_free(&pos);
    cli_strv_free(&groups);
    return rv;
}
