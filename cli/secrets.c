/* secrets.c — `orctl secrets reencrypt`: writes every Secret back
 * unchanged, so each is stored with the current key of the servers'
 * --encryption-config (a key rotation's second step, as
 * `kubectl get secrets -A -o json | kubectl replace -f -`). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

/* PUT the Secret as read. A conflict means someone wrote it meanwhile,
 * which stored it with the current key too. */
static int rewrite(cli_ctx *x, json_t *secret, size_t *done)
{
    const char *ns = orc_json_str(secret, "metadata.namespace");
    const char *name = orc_json_str(secret, "metadata.name");
    char path[512];
    json_t *reply = NULL;
    int status = 0, rv;

    if (ns == NULL || name == NULL) return ORC_EINVAL;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", ns, name);
    json_object_set_new(secret, "apiVersion", json_string("v1"));
    json_object_set_new(secret, "kind", json_string("Secret"));
    rv = cli_request_json(x, "PUT", path, "application/json", secret, &status, &reply);
    if (rv == 0 && (status == 200 || status == 409 || status == 404)) {
        (*done)++;
    } else if (rv == 0) {
        fprintf(x->err, "error: secret %s/%s: ", ns, name);
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(reply);
    return rv;
}

static int reencrypt(cli_ctx *x)
{
    json_t *list = NULL, *item;
    size_t i, done = 0;
    int status = 0, rv, failed = 0;

    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    rv = cli_request_json(x, "GET", "/api/v1/secrets", NULL, NULL, &status, &list);
    if (rv != 0) return CLI_EXIT_FAIL;
    if (status != 200) {
        cli_print_failure(x, status, list);
        json_decref(list);
        return CLI_EXIT_FAIL;
    }
    json_array_foreach(orc_json_get(list, "items"), i, item) {
        rv = rewrite(x, item, &done);
        if (cli_unreachable(rv)) break;
        failed += rv != 0;
    }
    fprintf(x->out, "%zu secrets rewritten with the current key%s\n", done,
            failed ? "; some failed (above)" : "");
    json_decref(list);
    return failed || cli_unreachable(rv) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_cmd_secrets(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0};
    int rv = cli_parse(x, NULL, 0, argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n != 1 || strcmp(pos.v[0], "reencrypt") != 0)
        rv = cli_usage_error(x, "the only secrets command is reencrypt");
    else rv = reencrypt(x);
    cli_strv_free(&pos);
    return rv;
}
