/* ingress.c — ctl_ingress: Ingresses, IngressClasses and Nodes from the
 * shared informers -> keys "ns/name" of Ingresses (a class or node change
 * queues them all) -> reconcile: ingress_lb_status decides, the status is
 * written only when it changed. Ingresses of other classes are left to
 * their controllers. */
#include "controllers/ingress.h"

#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_util.h"
#include "ingress/route.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"

#define NOT_SYNCED_RETRY_MS 200

struct ic {
    struct ctl_base b;
    const struct orc_kind *king;
    informer *ingresses, *classes, *nodes;
};

/* ---- the decision ---- */

static bool node_ready(const json_t *node)
{
    size_t i;
    const json_t *c;
    json_array_foreach(orc_json_get(node, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
        if (t && strcmp(t, "Ready") == 0) return s && strcmp(s, "True") == 0;
    }
    return false;
}

static const char *internal_ip(const json_t *node)
{
    size_t i;
    const json_t *a;
    json_array_foreach(orc_json_get(node, "status.addresses"), i, a) {
        const char *t = orc_json_str(a, "type");
        if (t && strcmp(t, "InternalIP") == 0) return orc_json_str(a, "address");
    }
    return NULL;
}

static bool runs_proxy(const json_t *node)
{
    const json_t *ann = orc_json_get(node, "metadata.annotations");
    return json_is_string(json_object_get(ann, INGRESS_ANN_NODE_PORTS));
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *ingress_lb_status(const json_t *ing, const json_t *const *nodes, size_t n)
{
    const char **ips = calloc(n ? n : 1, sizeof *ips);
    const json_t *cur = orc_json_get(ing, "status");
    json_t *list = json_array(), *st = NULL;
    size_t k = 0;

    if (!ips || !list) goto out;
    for (size_t i = 0; i < n; i++) {
        const char *ip = internal_ip(nodes[i]);
        if (ip && node_ready(nodes[i]) && runs_proxy(nodes[i])) ips[k++] = ip;
    }
    qsort(ips, k, sizeof *ips, by_text);
    for (size_t i = 0; i < k; i++)
        if ((i == 0 || strcmp(ips[i], ips[i - 1]) != 0)
            && json_array_append_new(list, json_pack("{s:s}", "ip", ips[i])) != 0)
            goto out;
    st = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    if (!st || json_object_set_new(st, "loadBalancer", json_pack("{s:O}", "ingress", list)) != 0) {
        json_decref(st);
        st = NULL;
        goto out;
    }
    if (json_array_size(list) == 0) json_object_set_new(st, "loadBalancer", json_object());
    if (json_is_object(cur) && json_equal(cur, st)) {
        json_decref(st);
        st = NULL;
    } else if (!json_is_object(cur) && json_array_size(list) == 0) {
        json_decref(st); /* nothing to say, and nothing said */
        st = NULL;
    }
out:
    json_decref(list);
    free(ips);
    return st;
}

/* ---- informer handlers ---- */

static void on_ingress(void *arg, const json_t *ing)
{
    struct ic *c = arg;
    ctl_base_enqueue(&c->b, ing);
}

static void on_ingress_update(void *arg, const json_t *old, const json_t *ing)
{
    (void)old;
    on_ingress(arg, ing);
}

static void enqueue_all(void *arg)
{
    struct ic *c = arg;
    if (!c->b.stopped && c->ingresses) informer_each(c->ingresses, on_ingress, c);
}

static void on_other(void *arg, const json_t *obj)
{
    (void)obj;
    enqueue_all(arg);
}

/* A node's heartbeat changes it every few seconds: only what the status
 * depends on queues the Ingresses. */
static void on_node_update(void *arg, const json_t *old, const json_t *node)
{
    const char *a = internal_ip(old), *b = internal_ip(node);
    if (node_ready(old) != node_ready(node) || runs_proxy(old) != runs_proxy(node)
        || (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        enqueue_all(arg);
}

static void on_class_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    on_other(arg, obj);
}

/* ---- reconcile ---- */

static void collect_json(void *arg, const json_t *obj)
{
    json_array_append((json_t *)arg, (json_t *)obj);
}

static bool ours(struct ic *c, const json_t *ing)
{
    json_t *classes = json_array();
    bool yes;
    if (!classes) return false;
    informer_each(c->classes, collect_json, classes);
    yes = ingress_is_ours(ing, classes);
    json_decref(classes);
    return yes;
}

static void reconcile(void *arg, const char *key)
{
    struct ic *c = arg;
    char ns[256], name[256];
    struct ctl_list l = {0};
    const json_t *ing;
    json_t *st;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0
        || (ing = informer_get(c->ingresses, ns, name)) == NULL || !ours(c, ing)) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    informer_each(c->nodes, ctl_list_add, &l);
    st = l.fail ? NULL : ingress_lb_status(ing, l.v, l.n);
    free(l.v);
    if (st == NULL) {
        workqueue_done(c->b.q, key, l.fail ? WQ_RETRY : WQ_DONE);
        return;
    }
    ctl_base_write_status(&c->b, c->king, key, ing, "status", st);
}

/* ---- start ---- */

static int ingress_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "ingress",
                                              .component = "ingress-controller",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs ing_cbs = {on_ingress, on_ingress_update, NULL, NULL};
    static const struct informer_cbs class_cbs = {on_other, on_class_update, on_other, NULL};
    static const struct informer_cbs node_cbs = {on_other, on_node_update, on_other, NULL};
    struct ic *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->king = &orc_kind_table[ORC_K_INGRESS];
    const struct ctl_watch w[] = {
        {c->king, &ing_cbs, &c->ingresses},
        {&orc_kind_table[ORC_K_INGRESSCLASS], &class_cbs, &c->classes},
        {&orc_kind_table[ORC_K_NODE], &node_cbs, &c->nodes},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_ingress = {"ingress", ingress_start, ctl_base_stop_state};
