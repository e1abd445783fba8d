/* metrics_api.c — GET and list of metrics.k8s.io/v1beta1 NodeMetrics and
 * PodMetrics from this member's collector, in metrics-server's shapes
 * (timestamp, window, usage cpu in nanocores and memory in Ki), filtered
 * by labelSelector on the Node's or Pod's own labels, as metrics-server
 * does: an object whose Node or Pod is gone from the store is not shown. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/resmetrics.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define GV "metrics.k8s.io/v1beta1"

/* The stored object ns/name of kind k (new reference), or NULL. */
static json_t *stored(struct api_server *s, const char *resource, const char *ns, const char *name)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *o = NULL;

    if (api_key(orc_kind_by_resource("", resource), ns, name, &key) == 0 && store_get(s->st, key.data, &kv) == 0)
        o = orc_json_loadb(kv.value, kv.value_len, JSON_ALLOW_NUL, NULL);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return o;
}

static json_t *usage_json(const struct api_mx_usage *u)
{
    char cpu[32], mem[32];

    api_mx_cpu_text(u->nanocores, cpu, sizeof cpu);
    api_mx_mem_text(u->mem_bytes, mem, sizeof mem);
    return json_pack("{s:s,s:s}", "cpu", cpu, "memory", mem);
}

/* kind, apiVersion, metadata (from the stored object's name, namespace,
 * labels), timestamp and window of one item. */
static json_t *item(const char *kind, const json_t *obj, const struct api_mx_usage *u)
{
    char ts[ORC_TIME_LEN], now[ORC_TIME_LEN], win[32];
    json_t *md = json_pack("{s:s,s:s}", "name", orc_json_str(obj, "metadata.name"), "creationTimestamp",
                           (orc_time_now(now), now));
    const char *ns = orc_json_str(obj, "metadata.namespace");
    json_t *labels = orc_json_get(obj, "metadata.labels");

    if (md == NULL) return NULL;
    if (ns) json_object_set_new(md, "namespace", json_string(ns));
    if (json_object_size(labels)) json_object_set(md, "labels", labels);
    orc_time_format(u->time_ms / 1000, ts);
    api_mx_duration(u->window_ms, win, sizeof win);
    return json_pack("{s:s,s:s,s:o,s:s,s:s}", "kind", kind, "apiVersion", GV, "metadata", md, "timestamp", ts,
                     "window", win);
}

static bool wanted(const json_t *obj, const orc_selector *sel)
{
    return obj && (sel == NULL || orc_selector_matches(sel, orc_json_get(obj, "metadata.labels")));
}

static void node_items(struct api_server *s, const struct api_route *rt, const orc_selector *sel, json_t *items)
{
    size_t n;
    const struct api_mx_node *nodes = api_mx_nodes(s, &n);

    for (size_t i = 0; i < n; i++) {
        json_t *obj, *it;
        if (!nodes[i].has_usage || (rt->name[0] && strcmp(rt->name, nodes[i].name) != 0)) continue;
        obj = stored(s, "nodes", NULL, nodes[i].name);
        if (wanted(obj, sel) && (it = item("NodeMetrics", obj, &nodes[i].usage)) != NULL) {
            json_object_set_new(it, "usage", usage_json(&nodes[i].usage));
            json_array_append_new(items, it);
        }
        json_decref(obj);
    }
}

static json_t *pod_item(const json_t *obj, const struct api_mx_podusage *p)
{
    json_t *it = item("PodMetrics", obj, &p->pod), *cs = json_array();

    for (size_t j = 0; it && cs && j < p->n_ctrs; j++)
        json_array_append_new(cs, json_pack("{s:s,s:o}", "name", p->ctrs[j].name, "usage", usage_json(&p->ctrs[j].u)));
    if (it && cs) json_object_set_new(it, "containers", cs);
    else json_decref(cs);
    return it;
}

static void pod_items(struct api_server *s, const struct api_route *rt, const orc_selector *sel, json_t *items)
{
    size_t n;
    const struct api_mx_node *nodes = api_mx_nodes(s, &n);

    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nodes[i].n_pods; k++) {
            const struct api_mx_podusage *p = &nodes[i].pods[k];
            json_t *obj, *it;
            if ((rt->ns[0] && strcmp(rt->ns, p->ns) != 0) || (rt->name[0] && strcmp(rt->name, p->name) != 0))
                continue;
            obj = stored(s, "pods", p->ns, p->name);
            if (wanted(obj, sel) && (it = pod_item(obj, p)) != NULL) json_array_append_new(items, it);
            json_decref(obj);
        }
}

static int by_key(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *xn = orc_json_str(x, "metadata.namespace"), *yn = orc_json_str(y, "metadata.namespace");
    int c = strcmp(xn ? xn : "", yn ? yn : "");
    return c ? c : strcmp(orc_json_str(x, "metadata.name"), orc_json_str(y, "metadata.name"));
}

/* Items in namespace/name order, as a list from the store would be. */
static void sort_items(json_t *items)
{
    size_t n = json_array_size(items);
    json_t **v = n ? malloc(n * sizeof *v) : NULL;

    if (v == NULL) return;
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(items, i));
    qsort(v, n, sizeof *v, by_key);
    json_array_clear(items);
    for (size_t i = 0; i < n; i++) json_array_append_new(items, v[i]);
    free(v);
}

/* ---- Tables, as metrics-server prints them (kubectl get nodemetrics) ---- */

/* "meta.k8s.io/v1" or ".../v1beta1" when the Accept header asks for a
 * Table, else NULL (plain objects). */
static const char *table_version(struct orc_httpd_req *r)
{
    const char *a = orc_httpd_req_header(r, "accept");

    if (a == NULL || strstr(a, "as=Table") == NULL || strstr(a, "g=meta.k8s.io") == NULL) return NULL;
    return strstr(a, "v=v1;") || strstr(a, "v=v1,") ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1";
}

/* The item's usage as cells: cpu and memory summed over its containers. */
static json_t *row(const json_t *it, const char *api_version)
{
    const json_t *u = json_object_get(it, "usage"), *c;
    char cpu[32], mem[32];
    size_t i;

    if (u == NULL) {
        uint64_t ncpu = 0, nmem = 0;
        json_array_foreach(json_object_get(it, "containers"), i, c) {
            const char *cc = orc_json_str(c, "usage.cpu"), *cm = orc_json_str(c, "usage.memory");
            ncpu += cc ? strtoull(cc, NULL, 10) : 0; /* our own "Nn" and "NKi" texts */
            nmem += cm ? strtoull(cm, NULL, 10) * (strstr(cm, "Ki") ? 1024 : 1) : 0;
        }
        api_mx_cpu_text(ncpu, cpu, sizeof cpu);
        api_mx_mem_text(nmem, mem, sizeof mem);
    }
    return json_pack("{s:[s,s,s,s],s:{s:s,s:s,s:O}}", "cells", orc_json_str(it, "metadata.name"),
                     u ? orc_json_str(u, "cpu") : cpu, u ? orc_json_str(u, "memory") : mem,
                     orc_json_str(it, "window"), "object", "kind", "PartialObjectMetadata", "apiVersion",
                     api_version, "metadata", json_object_get(it, "metadata"));
}

static json_t *table(const json_t *items, const char *api_version)
{
    static const char *const names[] = {"Name", "CPU", "Memory", "Window"};
    static const char *const help[] = {"Name of the resource", "CPU usage", "Memory usage",
                                       "Time window of the sample"};
    json_t *cols = json_array(), *rows = json_array(), *it;
    size_t i;

    for (i = 0; cols && i < ORC_ARRAY_LEN(names); i++)
        json_array_append_new(cols, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", names[i], "type", "string",
                                              "format", i == 0 ? "name" : "", "description", help[i],
                                              "priority", 0));
    json_array_foreach(items, i, it) if (rows) json_array_append_new(rows, row(it, api_version));
    return json_pack("{s:s,s:s,s:{},s:o,s:o}", "kind", "Table", "apiVersion", api_version, "metadata",
                     "columnDefinitions", cols, "rows", rows);
}

static void respond(struct orc_httpd_req *r, const struct api_route *rt, bool pods, json_t *items)
{
    const char *res = pods ? "pods" : "nodes", *tv = table_version(r);

    if (tv && (!rt->name[0] || json_array_size(items) > 0)) {
        json_t *t;
        sort_items(items);
        if ((t = table(items, tv)) != NULL) api_respond_json(r, 200, t);
        else api_respond_error(r, ORC_ENOMEM, "listing metrics");
        json_decref(t);
    } else if (rt->name[0] && json_array_size(items) == 0) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL, "%s.metrics.k8s.io \"%s\" not found", res,
                           rt->name);
    } else if (rt->name[0]) {
        api_respond_json(r, 200, json_array_get(items, 0));
    } else {
        json_t *list;
        sort_items(items);
        list = json_pack("{s:s,s:s,s:{},s:O}", "kind", pods ? "PodMetricsList" : "NodeMetricsList", "apiVersion",
                         GV, "metadata", "items", items);
        if (list) api_respond_json(r, 200, list);
        else api_respond_error(r, ORC_ENOMEM, "listing metrics");
        json_decref(list);
    }
}

void api_handle_mx(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    bool pods = strcmp(rt->internal, "pods") == 0;
    const char *sel_text = api_query_get(rt, "labelSelector");
    orc_selector *sel = NULL;
    json_t *items;
    char msg[256];

    if (!api_mx_enabled(s)) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL, "the server could not find the requested resource");
        return;
    }
    if (r->method != HTTP_GET || api_query_bool(rt, "watch")) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    if (sel_text && *sel_text && orc_selector_parse(sel_text, &sel, msg, sizeof msg) != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "unable to parse requirement: %s", msg);
        return;
    }
    if ((items = json_array()) == NULL) {
        orc_selector_free(sel);
        api_respond_error(r, ORC_ENOMEM, "listing metrics");
        return;
    }
    if (pods) pod_items(s, rt, sel, items);
    else node_items(s, rt, sel, items);
    respond(r, rt, pods, items);
    json_decref(items);
    orc_selector_free(sel);
}
