/* args.c — kubectl-style flag parsing: `-n ns`, `-nns`, `--namespace=ns`,
 * `--namespace ns`, bundled booleans (`-Aw`), flags anywhere on the line,
 * "--" to end them; and the --help text built from the same flag tables. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "lib/orc.h"

int cli_strv_push(struct cli_strv *s, const char *str, size_t len)
{
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    char *copy;

    if (v == NULL) return ORC_ENOMEM;
    s->v = v;
    if ((copy = strndup(str, len)) == NULL) return ORC_ENOMEM;
    s->v[s->n++] = copy;
    return 0;
}

void cli_strv_free(struct cli_strv *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* The flags every command takes; `g` may be NULL when only the table's
 * shape matters (finding the command word). */
static size_t global_flags(struct cli_globals *g, struct cli_flag *out)
{
    const struct cli_flag flags[] = {
        {"namespace", 'n', CLI_FLAG_STRING, g ? &g->ns : NULL, "NS",
         "Namespace of the request (default \"default\")"},
        {"config", 0, CLI_FLAG_STRING, g ? &g->config : NULL, "FILE",
         "Client config file (default $ORC_CONFIG, then $KUBECONFIG, then ~/.orc/config)"},
        {"kubeconfig", 0, CLI_FLAG_STRING, g ? &g->config : NULL, "FILE", NULL},
        {"server", 's', CLI_FLAG_STRING, g ? &g->server : NULL, "URL",
         "API server URL, overriding the config file"},
        {"token", 0, CLI_FLAG_STRING, g ? &g->token : NULL, "TOKEN",
         "Bearer token, overriding the config file"},
        {"certificate-authority", 0, CLI_FLAG_STRING, g ? &g->ca_file : NULL, "FILE",
         "CA certificate to trust for https, overriding the config file"},
        {"insecure-skip-tls-verify", 0, CLI_FLAG_BOOL, g ? &g->insecure : NULL, NULL,
         "Trust any server certificate (insecure: the token may reach an impostor)"},
        {"request-timeout", 0, CLI_FLAG_STRING, g ? &g->timeout : NULL, "DURATION",
         "Give up on a request after this long (\"30s\", \"1m\"; 0 = never)"},
        {"as", 0, CLI_FLAG_STRING, g ? &g->as : NULL, "USER",
         "Act as this user (impersonation; needs the impersonate verb)"},
        {"as-group", 0, CLI_FLAG_LIST, g ? &g->as_groups : NULL, "GROUP",
         "Act as a member of this group, with --as (repeatable)"},
        {"help", 'h', CLI_FLAG_BOOL, g ? &g->help : NULL, NULL, "Show help for this command"},
    };
    memcpy(out, flags, sizeof flags);
    return ORC_ARRAY_LEN(flags);
}

#define MAX_GLOBALS 14

int cli_find_command(int argc, char **argv)
{
    struct cli_flag g[MAX_GLOBALS];
    size_t ng = global_flags(NULL, g);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) return i + 1 < argc ? i + 1 : 0;
        if (a[0] != '-' || a[1] == '\0') return i;
        bool takes_value = false;
        if (a[1] == '-') {
            size_t len = strcspn(a + 2, "=");
            for (size_t j = 0; j < ng; j++)
                if (strlen(g[j].name) == len && strncmp(g[j].name, a + 2, len) == 0)
                    takes_value = g[j].type != CLI_FLAG_BOOL && a[2 + len] != '=';
        } else {
            /* The last letter of a bundle may take the next word as its value. */
            for (size_t j = 0; j < ng; j++)
                if (g[j].shorthand == a[1] && g[j].type != CLI_FLAG_BOOL) takes_value = a[2] == '\0';
        }
        if (takes_value) i++;
    }
    return 0;
}

struct parser {
    cli_ctx *x;
    const struct cli_flag *cmd;
    size_t n_cmd;
    struct cli_flag glob[MAX_GLOBALS];
    size_t n_glob;
};

static const struct cli_flag *find_long(const struct parser *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n_cmd + p->n_glob; i++) {
        const struct cli_flag *f = i < p->n_cmd ? &p->cmd[i] : &p->glob[i - p->n_cmd];
        if (strlen(f->name) == len && strncmp(f->name, name, len) == 0) return f;
    }
    return NULL;
}

static const struct cli_flag *find_short(const struct parser *p, char c)
{
    for (size_t i = 0; i < p->n_cmd + p->n_glob; i++) {
        const struct cli_flag *f = i < p->n_cmd ? &p->cmd[i] : &p->glob[i - p->n_cmd];
        if (f->shorthand && f->shorthand == c) return f;
    }
    return NULL;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "1", "t", "yes"};
    static const char *const no[] = {"false", "0", "f", "no"};

    for (size_t i = 0; i < ORC_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = false, 0;
    }
    return ORC_EINVAL;
}

static int push_list(struct cli_strv *list, const char *v)
{
    while (*v) {
        size_t len = strcspn(v, ",");
        if (len > 0 && cli_strv_push(list, v, len) != 0) return ORC_ENOMEM;
        v += len + (v[len] == ',');
    }
    return 0;
}

/* Stores `v` into the flag's destination; a usage error when it does not fit. */
static int set_flag(struct parser *p, const struct cli_flag *f, const char *v)
{
    char *end;

    switch (f->type) {
    case CLI_FLAG_BOOL:
        if (parse_bool(v, f->dest) == 0) return 0;
        return cli_usage_error(p->x, "invalid argument \"%s\" for \"--%s\" flag: want true or false",
                               v, f->name);
    case CLI_FLAG_STRING:
        *(const char **)f->dest = v;
        return 0;
    case CLI_FLAG_INT: {
        long long n = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0')
            return cli_usage_error(p->x, "invalid argument \"%s\" for \"--%s\" flag: not an integer",
                                   v, f->name);
        *(long long *)f->dest = n;
        return 0;
    }
    case CLI_FLAG_LIST:
    case CLI_FLAG_ARRAY:
        if (f->type == CLI_FLAG_LIST ? push_list(f->dest, v) == 0
                                     : cli_strv_push(f->dest, v, strlen(v)) == 0)
            return 0;
        fprintf(p->x->err, "error: out of memory\n");
        return CLI_STOP_USAGE;
    }
    return 0;
}

static int parse_long(struct parser *p, int argc, char **argv, int *i)
{
    const char *a = argv[*i] + 2;
    size_t len = strcspn(a, "=");
    const char *eq = a[len] == '=' ? a + len + 1 : NULL;
    const struct cli_flag *f = find_long(p, a, len);

    if (f == NULL) return cli_usage_error(p->x, "unknown flag: --%.*s", (int)len, a);
    if (f->type == CLI_FLAG_BOOL) return set_flag(p, f, eq ? eq : "true");
    if (eq) return set_flag(p, f, eq);
    if (*i + 1 >= argc) return cli_usage_error(p->x, "flag needs an argument: --%s", f->name);
    return set_flag(p, f, argv[++*i]);
}

/* "-Aw", "-nkube-system", "-n=kube-system", "-n kube-system". */
static int parse_shorts(struct parser *p, int argc, char **argv, int *i)
{
    const char *a = argv[*i];

    for (size_t j = 1; a[j]; j++) {
        const struct cli_flag *f = find_short(p, a[j]);
        int rv;
        if (f == NULL) return cli_usage_error(p->x, "unknown shorthand flag: '%c' in %s", a[j], a);
        if (f->type == CLI_FLAG_BOOL) {
            if ((rv = set_flag(p, f, "true")) != 0) return rv;
            continue;
        }
        const char *rest = a + j + 1;
        if (*rest == '=') rest++;
        if (*rest) return set_flag(p, f, rest);
        if (*i + 1 >= argc)
            return cli_usage_error(p->x, "flag needs an argument: '%c' in %s", a[j], a);
        return set_flag(p, f, argv[++*i]);
    }
    return 0;
}

int cli_parse(cli_ctx *x, const struct cli_flag *flags, size_t n, int argc, char **argv,
              struct cli_strv *pos)
{
    struct parser p = {x, flags, n, {{0}}, 0};
    bool flags_done = false;
    int rv = 0;

    p.n_glob = global_flags(&x->g, p.glob);
    for (int i = 0; i < argc && rv == 0; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            if (cli_strv_push(pos, a, strlen(a)) != 0) rv = cli_usage_error(x, "out of memory");
        } else if (strcmp(a, "--") == 0) {
            flags_done = true;
        } else if (a[1] == '-') {
            rv = parse_long(&p, argc, argv, &i);
        } else {
            rv = parse_shorts(&p, argc, argv, &i);
        }
    }
    if (rv != 0) return rv;
    if (x->g.help) {
        cli_print_help(x, flags, n);
        return CLI_STOP_HELP;
    }
    return 0;
}

static const char *cmd_name(const cli_ctx *x) { return x->cmd ? x->cmd->name : NULL; }

int cli_usage_error(cli_ctx *x, const char *fmt, ...)
{
    va_list ap;

    fputs("error: ", x->err);
    va_start(ap, fmt);
    vfprintf(x->err, fmt, ap);
    va_end(ap);
    if (cmd_name(x)) fprintf(x->err, "\nSee 'orctl %s --help' for usage.\n", cmd_name(x));
    else fputs("\nRun 'orctl --help' for usage.\n", x->err);
    return CLI_STOP_USAGE;
}

static void print_flags(FILE *out, const struct cli_flag *flags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct cli_flag *f = &flags[i];
        char left[64];
        const char *sp = f->metavar ? " " : "", *mv = f->metavar ? f->metavar : "";
        if (f->help == NULL) continue;
        if (f->shorthand) snprintf(left, sizeof left, "-%c, --%s%s%s", f->shorthand, f->name, sp, mv);
        else snprintf(left, sizeof left, "    --%s%s%s", f->name, sp, mv);
        fprintf(out, "  %-30s %s\n", left, f->help);
    }
}

void cli_print_help(cli_ctx *x, const struct cli_flag *flags, size_t n)
{
    struct cli_flag glob[MAX_GLOBALS];
    size_t ng = global_flags(NULL, glob);
    const struct cli_command *c = x->cmd;

    if (c) {
        fprintf(x->out, "%s\n\nUsage:\n  orctl %s\n", c->summary, c->usage);
        if (c->help) fprintf(x->out, "\n%s", c->help);
    }
    if (n > 0) {
        fputs("\nOptions:\n", x->out);
        print_flags(x->out, flags, n);
    }
    fputs("\nGlobal options:\n", x->out);
    print_flags(x->out, glob, ng);
}
