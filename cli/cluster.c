/* cluster.c — `orctl cluster`: the control-plane members as the store sees
 * them (GET /internal/v1/members), whether each serves, explicit removal of
 * one, and backups (backup.c). */
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "client/config.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/url.h"
#include "lib/yaml.h"

static const char *yes_no(const json_t *v) { return json_is_true(v) ? "true" : "false"; }

/* STATUS, as kubectl shows a node's condition: whether the member serves,
 * and if not why (its notServing), on one line of the table. */
static int member_status(const json_t *m, struct orc_buf *t)
{
    const char *why = orc_json_str(m, "notServing");
    int rv;

    if (!json_is_true(json_object_get(m, "reachable"))) return orc_buf_puts(t, "unknown");
    if (why == NULL) return orc_buf_puts(t, "serving");
    rv = orc_buf_puts(t, "not serving: ");
    for (const char *p = why; rv == 0 && *p; p++)
        rv = orc_buf_append(t, (unsigned char)*p < ' ' ? " " : p, 1);
    return rv;
}

static int member_row(const json_t *m, struct orc_buf *t)
{
    json_t *applied = json_object_get(m, "appliedIndex");
    const char *role = orc_json_str(m, "role") ?: "<unknown>";
    bool voter = !json_is_false(json_object_get(m, "voter"));
    char idx[32] = "<unknown>";
    int rv;

    if (json_is_integer(applied)) snprintf(idx, sizeof idx, "%lld", (long long)json_integer_value(applied));
    rv = orc_buf_printf(t, "%s\t%s\t%s\t%s%s\t%s\t%s\t", orc_json_str(m, "id") ?: "",
                        orc_json_str(m, "raftAddress") ?: "", orc_json_str(m, "apiURL") ?: "",
                        role, voter ? "" : " (non-voter)", idx,
                        yes_no(json_object_get(m, "reachable")));
    if (rv == 0) rv = member_status(m, t);
    if (rv == 0) rv = orc_buf_puts(t, "\n");
    return rv;
}

static int members_table(const json_t *list, struct orc_buf *out)
{
    struct orc_buf t = ORC_BUF_INIT;
    json_t *m;
    size_t i;
    int rv = orc_buf_puts(&t, "ID\tADDRESS\tAPI\tROLE\tAPPLIED-INDEX\tREACHABLE\tSTATUS\n");

    json_array_foreach(json_object_get(list, "members"), i, m)
    {
        if (rv == 0) rv = member_row(m, &t);
    }
    if (rv == 0) rv = cli_tabwrite(t.data, t.len, 6, 3, out);
    orc_buf_free(&t);
    return rv;
}

/* The members' API URLs go into the config read (extension
 * orc.dev/servers), so that later commands fail over to another member
 * when the one they use cannot be reached. */
static void record_servers(cli_ctx *x, const json_t *list)
{
    const char *urls[ORC_CONFIG_MAX_SERVERS];
    size_t n = 0, i;
    const json_t *m;

    if (x->config_path == NULL || x->g.server) return;
    json_array_foreach(json_object_get(list, "members"), i, m) {
        const char *u = orc_json_str(m, "apiURL");
        if (u && strncmp(u, "https://", 8) == 0 && n < ORC_CONFIG_MAX_SERVERS) urls[n++] = u;
    }
    int rv = n ? orc_config_set_servers(x->config_path, urls, n) : 0;
    if (rv != 0)
        fprintf(x->err, "warning: could not record the members' API servers in %s: %s\n",
                x->config_path, orc_strerror(rv));
}

static int members(cli_ctx *x, const char *output)
{
    struct orc_buf out = ORC_BUF_INIT;
    json_t *list = NULL;
    int status = 0, rv;

    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    if (cli_request_json(x, "GET", "/internal/v1/members", NULL, NULL, &status, &list) != 0)
        return CLI_EXIT_FAIL;
    if (status != 200 || !json_is_object(list)) {
        cli_print_failure(x, status, list);
        json_decref(list);
        return CLI_EXIT_FAIL;
    }
    record_servers(x, list);
    if (output && strcmp(output, "json") == 0) rv = orc_json_dump_pretty(list, &out);
    else if (output && strcmp(output, "yaml") == 0) rv = orc_yaml_emit(list, &out);
    else rv = members_table(list, &out);
    if (rv == 0) cli_write(x, &out);
    orc_buf_free(&out);
    json_decref(list);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int remove_member(cli_ctx *x, const char *id)
{
    struct orc_buf path = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0, rv;

    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    rv = orc_buf_puts(&path, "/internal/v1/members/");
    if (rv == 0) rv = orc_url_escape(id, &path);
    if (rv == 0) rv = cli_request_json(x, "DELETE", path.data, NULL, NULL, &status, &reply);
    orc_buf_free(&path);
    if (rv == 0 && status == 200) fprintf(x->out, "member %s removed\n", id);
    else if (rv == 0) cli_print_failure(x, status, reply);
    json_decref(reply);
    return rv == 0 && status == 200 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_cmd_cluster(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0};
    const char *output = NULL;
    const struct cli_flag flags[] = {
        {"output", 'o', CLI_FLAG_STRING, &output, "FMT", "members: json or yaml"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);
    const char *sub = pos.n ? pos.v[0] : "";

    if (rv != 0) rv = cli_stop_status(rv);
    else if (output && strcmp(output, "json") && strcmp(output, "yaml"))
        rv = cli_usage_error(x, "unsupported output format \"%s\": want json or yaml", output);
    else if (strcmp(sub, "members") == 0 && pos.n == 1) rv = members(x, output);
    else if (strcmp(sub, "members") == 0) rv = cli_usage_error(x, "members takes no arguments");
    else if (strcmp(sub, "remove-member") == 0 && pos.n == 2) rv = remove_member(x, pos.v[1]);
    else if (strcmp(sub, "remove-member") == 0) rv = cli_usage_error(x, "remove-member takes one member ID");
    else if (strcmp(sub, "backup") == 0 && pos.n == 2) rv = cli_cluster_backup(x, pos.v[1]);
    else if (strcmp(sub, "backup") == 0)
        rv = cli_usage_error(x, "backup takes one FILE to write (or - for stdout)");
    else if (pos.n == 0)
        rv = cli_usage_error(x, "missing subcommand: members, remove-member ID or backup FILE");
    else rv = cli_usage_error(x, "unknown cluster subcommand \"%s\"", pos.v[0]);
    cli_strv_free(&pos);
    return rv;
}
