/* auth.c — `orctl auth can-i`: asks the server whether the caller (or, with
 * --as, whom it impersonates) may do something, as kubectl does: a
 * SelfSubjectAccessReview for one question, a SelfSubjectRulesReview for
 * --list. Prints yes or no and exits 0 or 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/json.h"
#include "lib/orc.h"

#define AUTHZ "/apis/authorization.k8s.io/v1/"

/* POSTs a review and returns its status (new reference), or NULL after
 * printing the failure. */
static json_t *review(cli_ctx *x, const char *resource, json_t *body)
{
    char path[128];
    json_t *reply = NULL;
    int status = 0;

    snprintf(path, sizeof path, AUTHZ "%s", resource);
    if (cli_request_json(x, "POST", path, "application/json", body, &status, &reply) != 0)
        return NULL;
    if (status != 201 && status != 200) {
        cli_print_failure(x, status, reply);
        json_decref(reply);
        return NULL;
    }
    json_t *st = json_incref(json_object_get(reply, "status"));
    json_decref(reply);
    return st ? st : json_object();
}

/* VERB TYPE[/NAME] or VERB /PATH as a SelfSubjectAccessReview spec. */
static json_t *access_spec(cli_ctx *x, const char *verb, const char *what, const char *sub, bool all_ns)
{
    if (what[0] == '/')
        return json_pack("{s:{s:s, s:s}}", "nonResourceAttributes", "verb", verb, "path", what);
    char type[256];
    const char *slash = strchr(what, '/'), *name = slash ? slash + 1 : "";
    snprintf(type, sizeof type, "%.*s", (int)(slash ? (size_t)(slash - what) : strlen(what)), what);
    const struct orc_kind *k = orc_kind_lookup(type);
    const char *group = "", *resource = type;
    if (k) {
        group = k->group;
        resource = k->resource;
    } else if (strcmp(type, "*") != 0) {
        fprintf(x->err, "Warning: the server doesn't have a resource type '%s'\n", type);
    }
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "resourceAttributes", "namespace",
                     all_ns ? "" : x->ns, "verb", verb, "group", group, "resource", resource,
                     "subresource", sub ? sub : "", "name", name);
}

static int can_i(cli_ctx *x, const char *verb, const char *what, const char *sub, bool all_ns, bool quiet)
{
    json_t *spec = access_spec(x, verb, what, sub, all_ns);
    json_t *body = json_pack("{s:s, s:s, s:o}", "apiVersion", "authorization.k8s.io/v1", "kind",
                             "SelfSubjectAccessReview", "spec", spec);
    json_t *st = body ? review(x, "selfsubjectaccessreviews", body) : NULL;
    int rv;

    json_decref(body);
    if (st == NULL) return CLI_EXIT_FAIL;
    bool yes = json_is_true(json_object_get(st, "allowed"));
    const char *reason = orc_json_str(st, "reason");
    if (!quiet) {
        if (yes) fprintf(x->out, "yes\n");
        else fprintf(x->out, "no%s%s\n", reason && !yes ? " - " : "", reason && !yes ? reason : "");
        fflush(x->out);
    }
    rv = yes ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    json_decref(st);
    return rv;
}

static void bracket(struct orc_buf *b, const json_t *list)
{
    size_t i;
    json_t *v;

    orc_buf_puts(b, "[");
    json_array_foreach(list, i, v) orc_buf_printf(b, "%s%s", i ? " " : "", json_string_value(v));
    orc_buf_puts(b, "]");
}

static void rule_lines(struct orc_buf *t, const json_t *rule, bool nonres)
{
    size_t i, j;
    json_t *g, *r, *u;

    if (nonres) {
        json_array_foreach(json_object_get(rule, "nonResourceURLs"), i, u) {
            orc_buf_puts(t, "\t[");
            orc_buf_puts(t, json_string_value(u));
            orc_buf_puts(t, "]\t[]\t");
            bracket(t, json_object_get(rule, "verbs"));
            orc_buf_puts(t, "\n");
        }
        return;
    }
    json_array_foreach(json_object_get(rule, "apiGroups"), i, g) {
        json_array_foreach(json_object_get(rule, "resources"), j, r) {
            const char *grp = json_string_value(g);
            orc_buf_printf(t, "%s%s%s\t[]\t", json_string_value(r), grp && grp[0] ? "." : "", grp ? grp : "");
            bracket(t, json_object_get(rule, "resourceNames"));
            orc_buf_puts(t, "\t");
            bracket(t, json_object_get(rule, "verbs"));
            orc_buf_puts(t, "\n");
        }
    }
}

static int can_i_list(cli_ctx *x, bool no_headers)
{
    json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "authorization.k8s.io/v1", "kind",
                             "SelfSubjectRulesReview", "spec", "namespace", x->ns);
    json_t *st = body ? review(x, "selfsubjectrulesreviews", body) : NULL;
    struct orc_buf t = ORC_BUF_INIT, out = ORC_BUF_INIT;
    size_t i;
    json_t *rule;

    json_decref(body);
    if (st == NULL) return CLI_EXIT_FAIL;
    if (!no_headers) orc_buf_puts(&t, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n");
    json_array_foreach(json_object_get(st, "resourceRules"), i, rule) rule_lines(&t, rule, false);
    json_array_foreach(json_object_get(st, "nonResourceRules"), i, rule) rule_lines(&t, rule, true);
    int rv = t.len ? cli_tabwrite(t.data, t.len, 6, 3, &out) : 0;
    if (rv == 0) cli_write(x, &out);
    orc_buf_free(&t);
    orc_buf_free(&out);
    json_decref(st);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_cmd_auth(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0};
    const char *sub = NULL, *output = NULL;
    bool all_ns = false, list = false, quiet = false, no_headers = false;
    const struct cli_flag flags[] = {
        {"output", 'o', CLI_FLAG_STRING, &output, "FMT", "whoami: json or yaml (default: a table)"},
        {"all-namespaces", 'A', CLI_FLAG_BOOL, &all_ns, NULL, "Ask about every namespace"},
        {"subresource", 0, CLI_FLAG_STRING, &sub, "SUB", "The subresource (log, exec, status, ...)"},
        {"list", 0, CLI_FLAG_BOOL, &list, NULL, "List everything allowed in the namespace"},
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL, "Print nothing; the exit status answers"},
        {"no-headers", 0, CLI_FLAG_BOOL, &no_headers, NULL, "With --list: no header line"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL; /* sets the namespace */
    else if (pos.n == 1 && strcmp(pos.v[0], "whoami") == 0) rv = cli_auth_whoami(x, output);
    else if (pos.n == 0 || strcmp(pos.v[0], "can-i") != 0)
        rv = cli_usage_error(x, "%s", pos.n ? "unknown auth command (want can-i or whoami)"
                                            : "missing auth command (can-i or whoami)");
    else if (list && pos.n == 1) rv = can_i_list(x, no_headers);
    else if (list) rv = cli_usage_error(x, "--list takes no VERB or TYPE");
    else if (pos.n != 3) rv = cli_usage_error(x, "you must specify two arguments: verb resource or verb resource/resourceName");
    else rv = can_i(x, pos.v[1], pos.v[2], sub, all_ns, quiet);
    cli_strv_free(&pos);
    return rv;
}
