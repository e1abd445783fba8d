/* target.c — the objects a command line names: "deploy web api",
 * "deploy/web pod/x", "deploy,po" and "all", resolved through the kinds
 * table the server routes by. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/orc.h"

static int add_target(struct cli_targets *t, const struct orc_kind *k, const char *name, size_t len)
{
    struct cli_target *v = realloc(t->v, (t->n + 1) * sizeof *v);
    bool seen = false;

    if (v == NULL) return ORC_ENOMEM;
    t->v = v;
    v[t->n].kind = k;
    v[t->n].name = NULL;
    if (name && (v[t->n].name = strndup(name, len)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < t->n; i++) seen |= v[i].kind == k;
    if (!seen) t->n_kinds++;
    t->n++;
    return 0;
}

static const struct orc_kind *lookup(cli_ctx *x, const char *name, size_t len)
{
    char buf[128];
    const struct orc_kind *k = NULL;

    if (len > 0 && len < sizeof buf) {
        memcpy(buf, name, len);
        buf[len] = '\0';
        k = orc_kind_lookup(buf);
    }
    if (k == NULL)
        fprintf(x->err, "error: the server doesn't have a resource type \"%.*s\"\n", (int)len, name);
    return k;
}

/* "deploy,po" -> each kind, once per name (or once with no name). */
static int add_kinds(cli_ctx *x, const char *list, char **names, size_t n_names,
                     struct cli_targets *t)
{
    while (*list) {
        size_t len = strcspn(list, ",");
        const struct orc_kind *ks[16];
        size_t nk = 0;
        if (len == 3 && strncmp(list, "all", 3) == 0) {
            /* kubectl's "all" category, those of it orc serves */
            for (size_t i = 0; orc_category_all[i] && nk < ORC_ARRAY_LEN(ks); i++)
                if ((ks[nk] = orc_kind_lookup(orc_category_all[i])) != NULL) nk++;
        } else if (len > 0) {
            if ((ks[nk++] = lookup(x, list, len)) == NULL) return ORC_EINVAL;
        }
        for (size_t i = 0; i < nk; i++) {
            int rv = 0;
            for (size_t j = 0; j < n_names && rv == 0; j++)
                rv = add_target(t, ks[i], names[j], strlen(names[j]));
            if (n_names == 0) rv = add_target(t, ks[i], NULL, 0);
            if (rv != 0) return rv;
        }
        list += len + (list[len] == ',');
    }
    return 0;
}

static int mixed_forms(cli_ctx *x)
{
    fprintf(x->err, "error: there is no need to specify a resource type as a separate argument "
                    "when passing arguments in resource/name form (e.g. 'orctl get "
                    "resource/<resource_name>' instead of 'orctl get resource "
                    "resource/<resource_name>')\n");
    return ORC_EINVAL;
}

/* Every argument is "KIND/NAME". */
static int add_slashed(cli_ctx *x, char **args, size_t n, struct cli_targets *t)
{
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(args[i], '/');
        const struct orc_kind *k;
        if (slash == NULL) return mixed_forms(x);
        if (slash[1] == '\0' || strchr(slash + 1, '/')) {
            fprintf(x->err, "error: arguments in resource/name form must have a single resource "
                            "and name, not \"%s\"\n", args[i]);
            return ORC_EINVAL;
        }
        if ((k = lookup(x, args[i], (size_t)(slash - args[i]))) == NULL) return ORC_EINVAL;
        int rv = add_target(t, k, slash + 1, strlen(slash + 1));
        if (rv != 0) return rv;
    }
    return 0;
}

int cli_targets_parse(cli_ctx *x, char **args, size_t n, struct cli_targets *out)
{
    int rv;

    memset(out, 0, sizeof *out);
    if (n == 0) return ORC_ENOENT;
    if (strchr(args[0], '/')) {
        rv = add_slashed(x, args, n, out);
    } else {
        rv = 0;
        for (size_t i = 1; i < n && rv == 0; i++)
            if (strchr(args[i], '/')) rv = mixed_forms(x);
        if (rv == 0) rv = add_kinds(x, args[0], args + 1, n - 1, out);
        if (rv == 0 && out->n == 0) {
            fprintf(x->err, "error: no resource type in \"%s\"\n", args[0]);
            rv = ORC_EINVAL;
        }
    }
    if (rv == ORC_ENOMEM) fprintf(x->err, "error: out of memory\n");
    if (rv != 0) cli_targets_free(out);
    return rv;
}

void cli_targets_free(struct cli_targets *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->v[i].name);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int cli_targets_check(cli_ctx *x, const struct cli_targets *t, const char *selector, bool all_ns)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].name && selector && *selector) {
            fprintf(x->err, "error: name cannot be provided when a selector is specified\n");
            return ORC_EINVAL;
        }
        if (t->v[i].name && all_ns && t->v[i].kind->namespaced) {
            fprintf(x->err, "error: a resource cannot be retrieved by name across all namespaces\n");
            return ORC_EINVAL;
        }
    }
    return 0;
}
