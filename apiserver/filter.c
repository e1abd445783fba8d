/* filter.c — label and field selectors of list and watch requests: parsing
 * (rejecting field paths Kubernetes does not index for the kind) and
 * matching. */
#include <string.h>

#include "apiserver/server.h"
#include "lib/fields.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/orc.h"

/* The stored object's path a selector's label matches, or NULL when the
 * kind does not index it. */
static const char *field_path(const struct api_kind *ak, const char *path)
{
    if (strcmp(path, "metadata.name") == 0 || strcmp(path, "metadata.namespace") == 0) return path;
    if (ak->field_label) return ak->field_label(path);
    for (const char *const *p = ak->field_labels; p && *p; p++)
        if (strcmp(*p, path) == 0) return path;
    return NULL;
}

/* Parses the selectors; on a bad one answers 400 and returns an error. */
/* On a bad selector: the filter is cleared, then the request answered (the
 * answer may free the request and whatever holds `f`). */
int api_filter_parse(struct orc_httpd_req *r, const struct api_route *rt, struct api_filter *f)
{
    const char *ls = api_query_get(rt, "labelSelector");
    const char *fs = api_query_get(rt, "fieldSelector");
    char msg[256], why[600];

    memset(f, 0, sizeof *f);
    why[0] = '\0';
    if (ls && *ls && orc_selector_parse(ls, &f->labels, msg, sizeof msg) != 0)
        snprintf(why, sizeof why, "unable to parse labelSelector \"%s\": %s", ls, msg);
    else if (fs && *fs && orc_fieldsel_parse(fs, &f->fields, msg, sizeof msg) != 0)
        snprintf(why, sizeof why, "unable to parse fieldSelector \"%s\": %s", fs, msg);
    for (size_t i = 0; !why[0] && f->fields && i < orc_fieldsel_count(f->fields); i++) {
        const char *p = orc_fieldsel_path(f->fields, i), *stored = field_path(rt->api, p);
        if (stored == NULL)
            snprintf(why, sizeof why, "field label not supported: %s", p);
        else if (stored != p && orc_fieldsel_set_path(f->fields, i, stored) != 0)
            snprintf(why, sizeof why, "out of memory reading fieldSelector");
    }
    if (!why[0]) return 0;
    api_filter_clear(f);
    api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "%s", why);
    return ORC_EINVAL;
}

bool api_filter_match(const struct api_filter *f, const json_t *obj)
{
    if (f->labels && !orc_selector_matches(f->labels, orc_json_get(obj, "metadata.labels")))
        return false;
    return f->fields == NULL || orc_fieldsel_matches(f->fields, obj);
}

bool api_filter_match_kv(const struct api_filter *f, const struct store_kv *kv)
{
    json_t *obj;
    bool ok;

    if (f->labels == NULL && f->fields == NULL) return true;
    obj = orc_json_loadb(kv->value, kv->value_len, JSON_ALLOW_NUL, NULL);
    ok = obj != NULL && api_filter_match(f, obj);
    json_decref(obj);
    return ok;
}

bool api_filter_empty(const struct api_filter *f) { return f->labels == NULL && f->fields == NULL; }

void api_filter_clear(struct api_filter *f)
{
    if (f->labels) orc_selector_free(f->labels);
    if (f->fields) orc_fieldsel_free(f->fields);
    f->labels = NULL;
    f->fields = NULL;
}
