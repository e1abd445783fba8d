/* list.c — reading objects for get, describe, delete and scale: one object
 * by name, or a whole collection fetched 500 at a time through `continue`. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

#define PAGE_SIZE "500"

/* Server items carry apiVersion and kind; fill them in when one does not,
 * so -o yaml output stands on its own. */
static void fill_type(const struct orc_kind *k, json_t *obj)
{
    if (json_object_get(obj, "apiVersion") == NULL)
        json_object_set_new(obj, "apiVersion", json_string(orc_kind_api_version(k)));
    if (json_object_get(obj, "kind") == NULL) json_object_set_new(obj, "kind", json_string(k->kind));
}

static int page_path(const struct orc_kind *k, const char *ns, const char *labels,
                     const char *fields, const char *cont, struct orc_buf *path)
{
    int rv = cli_object_path(k, ns, NULL, NULL, path);

    if (rv == 0) rv = cli_query_add(path, "limit", PAGE_SIZE);
    if (rv == 0 && labels && *labels) rv = cli_query_add(path, "labelSelector", labels);
    if (rv == 0 && fields && *fields) rv = cli_query_add(path, "fieldSelector", fields);
    if (rv == 0 && cont) rv = cli_query_add(path, "continue", cont);
    return rv;
}

/* Moves one page's items into `items`; returns the page's continue token
 * (malloc'd) or NULL at the end. */
static int take_page(const struct orc_kind *k, json_t *page, json_t *items, char **next)
{
    json_t *it;
    size_t i;
    const char *cont = orc_json_str(page, "metadata.continue");

    json_array_foreach(json_object_get(page, "items"), i, it)
    {
        fill_type(k, it);
        if (json_array_append(items, it) != 0) return ORC_ENOMEM;
    }
    *next = NULL;
    if (cont && *cont && (*next = strdup(cont)) == NULL) return ORC_ENOMEM;
    return 0;
}

int cli_list(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *labels,
             const char *fields, json_t **items, char **rv_out)
{
    char *cont = NULL;
    int rv = 0;

    *items = json_array();
    *rv_out = NULL;
    if (*items == NULL) return ORC_ENOMEM;
    do {
        struct orc_buf path = ORC_BUF_INIT;
        json_t *page = NULL;
        int status = 0;
        char *next = NULL;
        rv = page_path(k, ns, labels, fields, cont, &path);
        if (rv == 0) rv = cli_request_json(x, "GET", path.data, NULL, NULL, &status, &page);
        orc_buf_free(&path);
        if (rv == 0 && status != 200) {
            cli_print_failure(x, status, page);
            rv = status == 404 ? ORC_ENOENT : ORC_EINVAL;
        }
        if (rv == 0 && *rv_out == NULL && orc_json_str(page, "metadata.resourceVersion"))
            *rv_out = strdup(orc_json_str(page, "metadata.resourceVersion"));
        if (rv == 0) rv = take_page(k, page, *items, &next);
        json_decref(page);
        free(cont);
        cont = next;
    } while (rv == 0 && cont);
    free(cont);
    if (rv != 0) {
        json_decref(*items);
        *items = NULL;
        free(*rv_out);
        *rv_out = NULL;
    }
    return rv;
}

int cli_get_object(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *name,
                   json_t **obj)
{
    struct orc_buf path = ORC_BUF_INIT;
    int status = 0;
    int rv = cli_object_path(k, ns, name, NULL, &path);

    *obj = NULL;
    if (rv == 0) rv = cli_request_json(x, "GET", path.data, NULL, NULL, &status, obj);
    orc_buf_free(&path);
    if (rv != 0) return rv;
    if (status == 200 && json_is_object(*obj)) {
        fill_type(k, *obj);
        return 0;
    }
    cli_print_failure(x, status, *obj);
    json_decref(*obj);
    *obj = NULL;
    return status == 404 ? ORC_ENOENT : ORC_EINVAL;
}

int cli_each_selected(cli_ctx *x, const struct orc_kind *k, const char *labels, bool quiet,
                      cli_name_fn fn, const void *arg, bool *failed)
{
    const char *ns = k->namespaced ? x->ns : NULL;
    json_t *items = NULL, *it;
    char *rvs = NULL;
    size_t i;
    int rv = cli_list(x, k, ns, labels, NULL, &items, &rvs);

    if (rv == 0 && json_array_size(items) == 0 && !quiet) fprintf(x->err, "No resources found\n");
    json_array_foreach (items, i, it) {
        rv = fn(x, k, ns, orc_json_str(it, "metadata.name") ?: "", arg);
        if (cli_unreachable(rv)) break;
        *failed |= rv != 0;
        rv = 0;
    }
    *failed |= rv != 0;
    json_decref(items);
    free(rvs);
    return rv;
}
