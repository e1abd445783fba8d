/* token.c — `orctl token create|list|delete`: bootstrap tokens, stored as
 * Kubernetes stores them (Secret bootstrap-token-<id> in kube-system, type
 * bootstrap.kubernetes.io/token). A token lets a machine register a node
 * (`orcd agent --token`) and nothing else, until it expires or is deleted.
 * create prints it in orc's form, orc1.<CA fingerprint>.<id>.<secret>, so
 * the agent can check the cluster's CA before sending it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/table.h"
#include "lib/timeutil.h"
#include "lib/tls.h"

#define SECRETS "/api/v1/namespaces/kube-system/secrets"
#define TYPE "bootstrap.kubernetes.io/token"

/* n characters of [a-z0-9], uniformly. */
static int rand_chars(char *out, size_t n)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;

    while (i < n) {
        unsigned char b;
        if (orc_rand_bytes(&b, 1) != 0) return ORC_EIO;
        if (b >= 252) continue; /* 252 = 7 * 36: no bias */
        out[i++] = set[b % 36];
    }
    out[n] = '\0';
    return 0;
}

static int put_data(json_t *data, const char *key, const char *value)
{
    struct orc_buf b = ORC_BUF_INIT;
    int rv = orc_base64_encode(value, strlen(value), false, &b);

    if (rv == 0) rv = json_object_set_new(data, key, json_string(b.data)) ? ORC_ENOMEM : 0;
    if (b.data) explicit_bzero(b.data, b.len);
    orc_buf_free(&b);
    return rv;
}

static json_t *token_secret(const char *id, const char *secret, int64_t expires, const char *desc)
{
    char name[32], at[ORC_TIME_LEN];
    json_t *data = json_object(), *sec;

    snprintf(name, sizeof name, "bootstrap-token-%s", id);
    if (data == NULL || put_data(data, "token-id", id) || put_data(data, "token-secret", secret)
        || put_data(data, "usage-bootstrap-authentication", "true")
        || put_data(data, "usage-bootstrap-signing", "true")
        || (desc && put_data(data, "description", desc))) {
        json_decref(data);
        return NULL;
    }
    if (expires) {
        orc_time_format(expires, at);
        if (put_data(data, "expiration", at) != 0) {
            json_decref(data);
            return NULL;
        }
    }
    sec = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:o}", "apiVersion", "v1", "kind", "Secret", "metadata",
                    "name", name, "namespace", "kube-system", "type", TYPE, "data", data);
    return sec;
}

static int create(cli_ctx *x, const char *ttl, const char *desc)
{
    char id[7], secret[17], fp[ORC_TLS_FP_HEX + 1], err[ORC_TLS_ERRLEN];
    uint64_t ms = 0;
    json_t *sec = NULL, *reply = NULL;
    int status = 0, rv = CLI_EXIT_FAIL;

    if (orc_duration_parse(ttl, &ms) != 0)
        return cli_usage_error(x, "invalid --ttl \"%s\": a duration such as 24h (0: never expires)", ttl);
    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    if (x->ca_pem == NULL || orc_tls_fingerprint(x->ca_pem, fp, err) != 0) {
        fprintf(x->err, "error: the config names no cluster CA to put in the token\n");
        return CLI_EXIT_FAIL;
    }
    if (rand_chars(id, 6) != 0 || rand_chars(secret, 16) != 0) goto out;
    sec = token_secret(id, secret, ms ? (int64_t)time(NULL) + (int64_t)(ms / 1000) : 0, desc);
    if (sec == NULL || cli_request_json(x, "POST", SECRETS, NULL, sec, &status, &reply) != 0) goto out;
    if (status != 201 && status != 200) {
        cli_print_failure(x, status, reply);
        goto out;
    }
    fprintf(x->out, "orc1.%s.%s.%s\n", fp, id, secret);
    rv = CLI_EXIT_OK;
out:
    explicit_bzero(secret, sizeof secret);
    json_decref(sec);
    json_decref(reply);
    return rv;
}

static char *decoded(const json_t *data, const char *key)
{
    const char *v = orc_json_str(data, key);
    struct orc_buf b = ORC_BUF_INIT;

    if (v == NULL || orc_base64_decode(v, strlen(v), false, &b) != 0 || b.data == NULL) {
        orc_buf_free(&b);
        return strdup("<none>");
    }
    return orc_buf_steal(&b, NULL);
}

static void list_row(cli_ctx *x, const json_t *sec, int64_t now)
{
    const json_t *data = json_object_get(sec, "data");
    char *id = decoded(data, "token-id"), *exp = decoded(data, "expiration");
    char *desc = decoded(data, "description"), ttl[32] = "<forever>";
    int64_t at = 0;

    if (orc_time_parse(exp, &at) == 0) {
        if (at <= now) snprintf(ttl, sizeof ttl, "<expired>");
        else snprintf(ttl, sizeof ttl, "%lldh%02lldm", (long long)(at - now) / 3600,
                      (long long)((at - now) % 3600) / 60);
    }
    fprintf(x->out, "%-8s %-11s %-22s %s\n", id, ttl, exp, desc);
    free(id);
    free(exp);
    free(desc);
}

static int list(cli_ctx *x)
{
    json_t *reply = NULL, *item;
    int status = 0;
    size_t i;

    if (cli_connect(x) != 0 || cli_request_json(x, "GET", SECRETS, NULL, NULL, &status, &reply) != 0)
        return CLI_EXIT_FAIL;
    if (status != 200) {
        cli_print_failure(x, status, reply);
        json_decref(reply);
        return CLI_EXIT_FAIL;
    }
    fprintf(x->out, "%-8s %-11s %-22s %s\n", "ID", "TTL", "EXPIRES", "DESCRIPTION");
    json_array_foreach(json_object_get(reply, "items"), i, item)
        if (strcmp(orc_json_str(item, "type") ?: "", TYPE) == 0) list_row(x, item, time(NULL));
    json_decref(reply);
    return CLI_EXIT_OK;
}

static int delete(cli_ctx *x, const char *arg)
{
    size_t n = strlen(arg);
    const char *id = n >= 23 ? arg + n - 23 : arg; /* a whole token names its id too */
    struct orc_buf path = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0, rv = CLI_EXIT_FAIL;
    char ids[7];

    snprintf(ids, sizeof ids, "%.6s", id);
    if (strlen(ids) != 6 || strspn(ids, "abcdefghijklmnopqrstuvwxyz0123456789") != 6)
        return cli_usage_error(x, "\"%s\" is not a token ID ([a-z0-9]{6}) nor a token", arg);
    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    orc_buf_printf(&path, SECRETS "/bootstrap-token-%s", ids);
    if (cli_request_json(x, "DELETE", path.data, NULL, NULL, &status, &reply) == 0) {
        if (status == 200 || status == 202) {
            fprintf(x->out, "bootstrap token \"%s\" deleted\n", ids);
            rv = CLI_EXIT_OK;
        } else {
            cli_print_failure(x, status, reply);
        }
    }
    json_decref(reply);
    orc_buf_free(&path);
    return rv;
}

int cli_cmd_token(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0};
    const char *ttl = "24h", *desc = NULL;
    const struct cli_flag flags[] = {
        {"ttl", 0, CLI_FLAG_STRING, &ttl, "DURATION", "create: how long the token lives (default 24h; 0: forever)"},
        {"description", 0, CLI_FLAG_STRING, &desc, "TEXT", "create: what the token is for"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n == 1 && strcmp(pos.v[0], "create") == 0) rv = create(x, ttl, desc);
    else if (pos.n == 1 && strcmp(pos.v[0], "list") == 0) rv = list(x);
    else if (pos.n == 2 && strcmp(pos.v[0], "delete") == 0) rv = delete(x, pos.v[1]);
    else rv = cli_usage_error(x, "want \"token create [--ttl 24h] [--description TEXT]\", \"token list\" or "
                                 "\"token delete ID\"");
    cli_strv_free(&pos);
    return rv;
}
