/* limitrange.c — LimitRange admission of new pods and claims, as
 * Kubernetes' LimitRanger: containers without requests or limits get the
 * Container items' defaultRequest and default (with the LimitRange
 * defaulting rules: default from max, defaultRequest from default and
 * min), said in the kubernetes.io/limit-ranger annotation; then min, max
 * and maxLimitRequestRatio are checked per Container, per Pod (sums) and
 * per PersistentVolumeClaim, refused with 403 in Kubernetes' words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/limitrange.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/quantity.h"

#define MSG_MAX 2048
#define ANNOTATION "kubernetes.io/limit-ranger"

struct lr_errs {
    char text[MSG_MAX];
    int n;
};

static void add_err(struct lr_errs *e, const char *fmt, const char *a, const char *b, const char *c,
                    const char *d)
{
    char one[512];
    size_t len = strlen(e->text);

    snprintf(one, sizeof one, fmt, a, b, c, d);
    snprintf(e->text + len, sizeof e->text - len, "%s%s", e->n ? ", " : "", one);
    e->n++;
}

static bool qty_of(const json_t *map, const char *res, int64_t *out)
{
    const json_t *v = json_object_get(map, res);

    *out = 0;
    if (json_is_string(v)) return orc_quantity_parse(json_string_value(v), out) == 0;
    if (json_is_integer(v)) *out = json_integer_value(v) * 1000;
    return json_is_integer(v);
}

static void fmt_q(const char *res, int64_t milli, char *out, size_t n)
{
    orc_quantity_format(milli, strstr(res, "memory") || strstr(res, "storage"), out, n);
}

/* ---- defaults ---- */

/* The Container item's defaults after Kubernetes' LimitRange defaulting:
 * default[r] from max[r]; defaultRequest[r] from default[r], then min[r]. */
static void item_defaults(const json_t *item, json_t **lim, json_t **req)
{
    const char *k;
    json_t *v;

    *lim = json_object();
    *req = json_object();
    json_object_update(*lim, json_object_get(item, "default"));
    json_object_update_missing(*lim, json_object_get(item, "max"));
    json_object_update(*req, json_object_get(item, "defaultRequest"));
    json_object_foreach(*lim, k, v) if (!json_object_get(*req, k)) json_object_set(*req, k, v);
    json_object_update_missing(*req, json_object_get(item, "min"));
}

/* names: the resources set, sorted, joined by ", " (appended). */
static void set_missing(json_t *container, const char *field, const json_t *defaults, char *names, size_t n)
{
    json_t *res = json_object_get(container, "resources"), *map;
    size_t nk;
    const char **keys = orc_json_sorted_keys(defaults, &nk);

    if (!json_is_object(res)) json_object_set_new(container, "resources", res = json_object());
    map = json_object_get(res, field);
    if (!json_is_object(map)) json_object_set_new(res, field, map = json_object());
    for (size_t i = 0; i < nk; i++) {
        if (json_object_get(map, keys[i])) continue;
        json_object_set(map, keys[i], json_object_get(defaults, keys[i]));
        size_t len = strlen(names);
        snprintf(names + len, n - len, "%s%s", len ? ", " : "", keys[i]);
    }
    free(keys);
    if (json_object_size(map) == 0) json_object_del(res, field);
}

static void note(char *ann, size_t n, const char *names, const char *what, const char *prefix,
                 const char *ctr)
{
    size_t len = strlen(ann);

    if (names[0])
        snprintf(ann + len, n - len, "%s%s %s for %s %s", len ? "; " : "", names, what, prefix, ctr);
}

static void default_containers(json_t *pod, const json_t *lim, const json_t *req, char *ann, size_t n)
{
    static const char *const lists[][2] = {{"spec.initContainers", "init container"},
                                           {"spec.containers", "container"}};

    for (size_t l = 0; l < 2; l++) {
        json_t *cs = orc_json_get(pod, lists[l][0]);
        for (size_t i = 0; i < json_array_size(cs); i++) {
            json_t *c = json_array_get(cs, i);
            const char *name = orc_json_str(c, "name");
            char set_req[256] = "", set_lim[256] = "";
            set_missing(c, "limits", lim, set_lim, sizeof set_lim);
            set_missing(c, "requests", req, set_req, sizeof set_req);
            note(ann, n, set_req, "request", lists[l][1], name ? name : "");
            note(ann, n, set_lim, "limit", lists[l][1], name ? name : "");
        }
    }
}

/* ---- constraints ---- */

/* Kubernetes' minConstraint, maxConstraint and limitRequestRatioConstraint
 * for one resource of one Container or Pod; for a claim minConstraint
 * without limits and maxRequestConstraint, since a claim's limits are not
 * what its user asks for (limits NULL). */
static void check_resource(const json_t *item, const char *type, const char *res, const json_t *requests,
                           const json_t *limits, bool claim, struct lr_errs *e)
{
    int64_t enf, req, lim;
    bool has_req = qty_of(requests, res, &req), has_lim = qty_of(limits, res, &lim);
    char es[48], rs[48], ls[48];

    fmt_q(res, req, rs, sizeof rs);
    fmt_q(res, lim, ls, sizeof ls);
    if (qty_of(json_object_get(item, "min"), res, &enf)) {
        fmt_q(res, enf, es, sizeof es);
        if (!has_req)
            add_err(e, "minimum %s usage per %s is %s.  No request is specified", res, type, es, "");
        else if (req < enf)
            add_err(e, "minimum %s usage per %s is %s, but request is %s", res, type, es, rs);
        if (has_lim && lim < enf)
            add_err(e, "minimum %s usage per %s is %s, but limit is %s", res, type, es, ls);
    }
    if (qty_of(json_object_get(item, "max"), res, &enf)) {
        fmt_q(res, enf, es, sizeof es);
        if (claim) {
            if (!has_req)
                add_err(e, "maximum %s usage per %s is %s.  No request is specified", res, type, es, "");
            else if (req > enf)
                add_err(e, "maximum %s usage per %s is %s, but request is %s", res, type, es, rs);
        } else {
            if (!has_lim) add_err(e, "maximum %s usage per %s is %s.  No limit is specified", res, type, es, "");
            else if (lim > enf) add_err(e, "maximum %s usage per %s is %s, but limit is %s", res, type, es, ls);
            if (has_req && req > enf)
                add_err(e, "maximum %s usage per %s is %s, but request is %s", res, type, es, rs);
        }
    }
    if (!claim && qty_of(json_object_get(item, "maxLimitRequestRatio"), res, &enf)) {
        char ratio[48];
        fmt_q("", enf, es, sizeof es);
        if (!has_req || req == 0)
            add_err(e, "%s max limit to request ratio per %s is %s, but no request is specified or request is 0",
                    res, type, es, "");
        else if (!has_lim || lim == 0)
            add_err(e, "%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0",
                    res, type, es, "");
        else if ((double)lim / (double)req > (double)enf / 1000.0) {
            snprintf(ratio, sizeof ratio, "%f", (double)lim / (double)req);
            add_err(e, "%s max limit to request ratio per %s is %s, but provided ratio is %s", res, type, es,
                    ratio);
        }
    }
}

/* Every resource an item names, checked against requests/limits. */
static void check_item(const json_t *item, const char *type, const json_t *requests, const json_t *limits,
                       bool claim, struct lr_errs *e)
{
    static const char *const fields[] = {"min", "max", "maxLimitRequestRatio"};
    json_t *seen = json_object();
    const char *k;
    json_t *v;

    for (size_t f = 0; f < 3 && seen; f++)
        json_object_foreach(json_object_get(item, fields[f]), k, v) json_object_set_new(seen, k, json_true());
    size_t nk;
    const char **keys = orc_json_sorted_keys(seen, &nk);
    for (size_t i = 0; i < nk; i++) check_resource(item, type, keys[i], requests, limits, claim, e);
    free(keys);
    json_decref(seen);
}

/* A pod's requests or limits (field) summed over its containers, each
 * resource at least its largest init container's. */
static json_t *pod_total(const json_t *pod, const char *field)
{
    json_t *sum = json_object(), *cs;
    const char *k;
    json_t *v;
    char path[64], text[48];
    int64_t add, cur;

    snprintf(path, sizeof path, "resources.%s", field);
    cs = orc_json_get(pod, "spec.containers");
    for (size_t i = 0; sum && i < json_array_size(cs); i++)
        json_object_foreach(orc_json_get(json_array_get(cs, i), path), k, v) {
            qty_of(orc_json_get(json_array_get(cs, i), path), k, &add);
            qty_of(sum, k, &cur);
            fmt_q(k, cur + add, text, sizeof text);
            json_object_set_new(sum, k, json_string(text));
        }
    cs = orc_json_get(pod, "spec.initContainers");
    for (size_t i = 0; sum && i < json_array_size(cs); i++)
        json_object_foreach(orc_json_get(json_array_get(cs, i), path), k, v) {
            qty_of(orc_json_get(json_array_get(cs, i), path), k, &add);
            if (qty_of(sum, k, &cur) && cur >= add) continue;
            fmt_q(k, add, text, sizeof text);
            json_object_set_new(sum, k, json_string(text));
        }
    return sum;
}

static void check_pod(const json_t *item, const char *type, const json_t *pod, struct lr_errs *e)
{
    if (strcmp(type, "Container") == 0) {
        const char *lists[] = {"spec.initContainers", "spec.containers"};
        for (size_t l = 0; l < 2; l++) {
            const json_t *cs = orc_json_get(pod, lists[l]);
            for (size_t i = 0; i < json_array_size(cs); i++) {
                const json_t *c = json_array_get(cs, i);
                check_item(item, type, orc_json_get(c, "resources.requests"),
                           orc_json_get(c, "resources.limits"), false, e);
            }
        }
    } else if (strcmp(type, "Pod") == 0) {
        json_t *req = pod_total(pod, "requests"), *lim = pod_total(pod, "limits");
        check_item(item, type, req, lim, false, e);
        json_decref(req);
        json_decref(lim);
    }
}

/* ---- admission ---- */

static void annotate(json_t *obj, const char *ann)
{
    json_t *meta = json_object_get(obj, "metadata"), *a;
    char text[MSG_MAX];

    if (ann[0] == '\0' || !json_is_object(meta)) return;
    a = json_object_get(meta, "annotations");
    if (!json_is_object(a)) json_object_set_new(meta, "annotations", a = json_object());
    snprintf(text, sizeof text, "LimitRanger plugin set: %s", ann);
    json_object_set_new(a, ANNOTATION, json_string(text));
}

static void apply_defaults(json_t *pod, const struct store_list *l)
{
    char ann[MSG_MAX] = "";

    for (size_t i = 0; i < l->n; i++) {
        json_t *lr = json_loadb(l->kvs[i].value, l->kvs[i].value_len, 0, NULL), *item;
        size_t k;
        json_array_foreach(orc_json_get(lr, "spec.limits"), k, item) {
            const char *type = orc_json_str(item, "type");
            json_t *lim, *req;
            if (type == NULL || strcmp(type, "Container") != 0) continue;
            item_defaults(item, &lim, &req);
            default_containers(pod, lim, req, ann, sizeof ann);
            json_decref(lim);
            json_decref(req);
        }
        json_decref(lr);
    }
    annotate(pod, ann);
}

static void check_all(const struct orc_kind *k, const json_t *obj, const struct store_list *l,
                      struct lr_errs *e)
{
    bool pod = orc_kind_id(k) == ORC_K_POD;

    for (size_t i = 0; i < l->n; i++) {
        json_t *lr = json_loadb(l->kvs[i].value, l->kvs[i].value_len, 0, NULL), *item;
        size_t j;
        json_array_foreach(orc_json_get(lr, "spec.limits"), j, item) {
            const char *type = orc_json_str(item, "type");
            if (type == NULL) continue;
            if (pod) check_pod(item, type, obj, e);
            else if (strcmp(type, "PersistentVolumeClaim") == 0)
                check_item(item, type, orc_json_get(obj, "spec.resources.requests"), NULL, true, e);
        }
        json_decref(lr);
    }
}

int limitrange_admit(struct write_op *op, json_t *obj)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};
    struct lr_errs e = {.n = 0};
    bool pod = orc_kind_id(op->k) == ORC_K_POD;
    int rv;

    if ((!pod && strcmp(op->k->resource, "persistentvolumeclaims") != 0) || op->k->group[0] || !op->rt->ns[0])
        return 0;
    rv = api_prefix(orc_kind_by_resource("", "limitranges"), op->rt->ns, &prefix);
    if (rv == 0) rv = store_range(op->s->st, prefix.data, NULL, 0, 0, &l);
    if (rv == 0 && l.n > 0) {
        if (pod) apply_defaults(obj, &l);
        check_all(op->k, obj, &l, &e);
    }
    store_list_clear(&l);
    orc_buf_free(&prefix);
    if (rv != 0) {
        api_respond_error(op->r, rv, "reading the namespace's LimitRanges");
        return rv;
    }
    if (e.n == 0) return 0;
    const char *name = orc_json_str(obj, "metadata.name");
    /* Kubernetes' aggregate of several errors is bracketed */
    api_respond_status(op->r, 403, "Forbidden", op->k, name ? name : op->rt->name, NULL,
                       "%s \"%s\" is forbidden: %s%s%s", op->k->resource, name ? name : op->rt->name,
                       e.n > 1 ? "[" : "", e.text, e.n > 1 ? "]" : "");
    return ORC_EPERM;
}
