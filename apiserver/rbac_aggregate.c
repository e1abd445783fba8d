/* rbac_aggregate.c — the ClusterRole aggregation controller (leader only):
 * a ClusterRole with an aggregationRule gets as rules the union of the
 * rules of the ClusterRoles its clusterRoleSelectors select, taken in name
 * order without duplicates, as Kubernetes' controller computes them. Runs
 * whenever ClusterRoles change (from the RBAC cache); a write it makes is
 * guarded on the revision it read, and its own event runs it again, so
 * chains (admin ⊇ edit ⊇ view) settle. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/log.h"
#include "lib/orc.h"

struct cr {
    const json_t *obj;
    const char *name, *key;
    long long rev;
};

struct crs {
    struct cr *v;
    size_t n, cap;
};

static void gather(void *arg, const json_t *obj, const char *key, long long rev)
{
    struct crs *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct cr *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) return;
        l->v = v;
        l->cap = cap;
    }
    const char *name = orc_json_str(obj, "metadata.name");
    l->v[l->n++] = (struct cr){obj, name ? name : "", key, rev};
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct cr *)a)->name, ((const struct cr *)b)->name);
}

static bool selected(const json_t *selectors, const json_t *obj)
{
    size_t i;
    json_t *sel;

    json_array_foreach(selectors, i, sel) {
        orc_selector *s = NULL;
        bool match = orc_selector_from_json(sel, &s, NULL, 0) == 0 && !orc_selector_is_empty(s)
                     && orc_selector_matches(s, orc_json_get(obj, "metadata.labels"));
        orc_selector_free(s);
        if (match) return true;
    }
    return false;
}

static bool has_rule(const json_t *rules, const json_t *rule)
{
    size_t i;
    json_t *r;

    json_array_foreach(rules, i, r) if (json_equal(r, (json_t *)rule)) return true;
    return false;
}

struct agg_write {
    struct api_server *s;
    struct orc_buf key, val;
};

static void on_written(void *arg, int status, const struct store_txn_result *res)
{
    struct agg_write *w = arg;

    (void)res;
    if (status != 0 && !w->s->stopping)
        log_warn("apiserver", "aggregating ClusterRole %s: %s", w->key.data, orc_strerror(status));
    orc_buf_free(&w->key);
    orc_buf_free(&w->val);
    api_release(w->s);
    free(w);
}

static void write_rules(struct api_server *s, const struct cr *c, json_t *rules)
{
    json_t *obj = json_deep_copy(c->obj);
    struct agg_write *w = calloc(1, sizeof *w);
    int rv = obj && w ? 0 : ORC_ENOMEM;

    if (rv == 0) rv = json_object_set(obj, "rules", rules) == 0 ? 0 : ORC_ENOMEM;
    if (rv == 0) {
        json_object_del(json_object_get(obj, "metadata"), "resourceVersion");
        rv = api_obj_encode(obj, &w->val);
    }
    if (rv == 0) rv = orc_buf_puts(&w->key, c->key);
    json_decref(obj);
    if (rv == 0) {
        w->s = s;
        api_hold(s);
        struct store_guard g = {STORE_GUARD_MODREV, w->key.data, c->rev};
        struct store_op op = {STORE_PUT, w->key.data, w->val.data, w->val.len};
        struct store_txn txn = {&g, 1, &op, 1};
        rv = api_txn(s, &txn, on_written, w);
        if (rv != 0) {
            api_release(s);
            w->s = NULL;
        }
    }
    if (rv != 0) {
        log_warn("apiserver", "aggregating ClusterRole %s: %s", c->name, orc_strerror(rv));
        if (w) {
            orc_buf_free(&w->key);
            orc_buf_free(&w->val);
        }
        free(w);
    }
}

static void aggregate_one(struct api_server *s, const struct crs *l, const struct cr *c)
{
    const json_t *selectors = orc_json_get(c->obj, "aggregationRule.clusterRoleSelectors");
    json_t *rules = json_array();
    size_t i, j;
    json_t *rule;

    if (rules == NULL) return;
    for (i = 0; i < l->n; i++) {
        if (&l->v[i] == c || !selected(selectors, l->v[i].obj)) continue;
        json_array_foreach(json_object_get(l->v[i].obj, "rules"), j, rule)
            if (!has_rule(rules, rule)) json_array_append(rules, rule);
    }
    const json_t *cur = json_object_get(c->obj, "rules");
    if (!json_equal(rules, (json_t *)cur) && !(json_array_size(rules) == 0 && cur == NULL))
        write_rules(s, c, rules);
    json_decref(rules);
}

void api_rbac_aggregate(struct api_server *s)
{
    struct crs l = {0};

    if (!s->is_leader || s->stopping) return;
    rbac_each_clusterrole(s, gather, &l);
    if (l.n > 1) qsort(l.v, l.n, sizeof *l.v, by_name);
    for (size_t i = 0; i < l.n; i++)
        if (json_object_get(l.v[i].obj, "aggregationRule")) aggregate_one(s, &l, &l.v[i]);
    free(l.v);
}
