/* version.c — `orctl version`: this client's version and the server's
 * /version, as text or as kubectl's JSON/YAML document. */
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/yaml.h"

#if defined(__x86_64__)
#define CLI_PLATFORM "linux/amd64"
#elif defined(__aarch64__)
#define CLI_PLATFORM "linux/arm64"
#else
#define CLI_PLATFORM "linux/unknown"
#endif

static json_t *client_version(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "major", "0", "minor", "1", "gitVersion",
                     CLI_CLIENT_VERSION, "buildDate", __DATE__, "compiler", "cc", "platform",
                     CLI_PLATFORM);
}

/* GET /version; NULL (failure printed) when it cannot be had. */
static json_t *server_version(cli_ctx *x)
{
    json_t *v = NULL;
    int status = 0;

    if (cli_connect(x) != 0) return NULL;
    if (cli_request_json(x, "GET", "/version", NULL, NULL, &status, &v) != 0) return NULL;
    if (status == 200 && json_is_object(v)) return v;
    cli_print_failure(x, status, v);
    json_decref(v);
    return NULL;
}

static int print_document(cli_ctx *x, const char *fmt, json_t *client, json_t *server)
{
    struct orc_buf out = ORC_BUF_INIT;
    json_t *doc = json_pack("{s:O}", "clientVersion", client);
    int rv = doc ? 0 : ORC_ENOMEM;

    if (rv == 0 && server) rv = json_object_set(doc, "serverVersion", server);
    if (rv == 0) rv = strcmp(fmt, "yaml") == 0 ? orc_yaml_emit(doc, &out) : orc_json_dump_pretty(doc, &out);
    if (rv == 0) cli_write(x, &out);
    orc_buf_free(&out);
    json_decref(doc);
    return rv;
}

int cli_cmd_version(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0};
    const char *output = NULL;
    bool client_only = false;
    const struct cli_flag flags[] = {
        {"client", 0, CLI_FLAG_BOOL, &client_only, NULL, "Print only the client version"},
        {"output", 'o', CLI_FLAG_STRING, &output, "FMT", "json or yaml"},
    };
    json_t *client = NULL, *server = NULL;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) {
        rv = cli_stop_status(rv);
        goto out;
    }
    if (pos.n) rv = cli_usage_error(x, "unexpected argument \"%s\"", pos.v[0]);
    else if (output && strcmp(output, "json") && strcmp(output, "yaml"))
        rv = cli_usage_error(x, "unsupported output format \"%s\": want json or yaml", output);
    if (rv != 0) goto out;
    if ((client = client_version()) == NULL) {
        rv = CLI_EXIT_FAIL;
        goto out;
    }
    if (output == NULL) {
        fprintf(x->out, "Client Version: %s\n", CLI_CLIENT_VERSION);
        fflush(x->out);
    }
    if (!client_only) server = server_version(x);
    if (output == NULL && server)
        fprintf(x->out, "Server Version: %s\n", orc_json_str(server, "gitVersion") ?: "unknown");
    else if (output) print_document(x, output, client, server);
    rv = client_only || server ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    json_decref(client);
    json_decref(server);
    cli_strv_free(&pos);
    return rv;
}
