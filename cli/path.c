/* path.c — request paths built from what users type: names and selectors are
 * percent-encoded so "a b", "app in (x,y)" or a stray '?' stay one value. */
#include <string.h>

#include "cli/cli.h"
#include "lib/orc.h"
#include "lib/url.h"

int cli_object_path(const struct orc_kind *k, const char *ns, const char *name, const char *sub,
                    struct orc_buf *out)
{
    struct orc_buf ens = ORC_BUF_INIT, ename = ORC_BUF_INIT;
    int rv = 0;

    if (ns) rv = orc_url_escape(ns, &ens);
    if (rv == 0 && name) rv = orc_url_escape(name, &ename);
    if (rv == 0) rv = orc_kind_path(k, ns ? ens.data : NULL, name ? ename.data : NULL, sub, out);
    orc_buf_free(&ens);
    orc_buf_free(&ename);
    return rv;
}

int cli_query_add(struct orc_buf *path, const char *key, const char *value)
{
    bool first = path->data == NULL || strchr(path->data, '?') == NULL;
    int rv = orc_buf_printf(path, "%c%s=", first ? '?' : '&', key);

    return rv ? rv : orc_url_escape(value, path);
}

int cli_ref_name(const struct orc_kind *k, const char *name, struct orc_buf *out)
{
    int rv = orc_kind_qualified(k, out);
    return rv ? rv : orc_buf_printf(out, "/%s", name);
}
