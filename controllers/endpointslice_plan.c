/* endpointslice_plan.c — what a Service's EndpointSlices and Endpoints
 * should hold, and the writes that get them there (endpointslice.h). Pure:
 * no I/O, no clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/endpointslice.h"
#include "lib/json.h"

bool eps_selects(const json_t *svc, const json_t *pod)
{
    const json_t *sel = orc_json_get(svc, "spec.selector"), *labels, *v;
    const char *k;

    if (!json_is_object(sel) || json_object_size(sel) == 0) return false;
    labels = orc_json_get(pod, "metadata.labels");
    json_object_foreach((json_t *)sel, k, v) {
        const json_t *have = json_object_get(labels, k);
        if (!json_is_string(have) || !json_equal((json_t *)have, (json_t *)v)) return false;
    }
    return true;
}

static bool pod_listed(const json_t *pod)
{
    const char *ip = orc_json_str(pod, "status.podIP"), *phase = orc_json_str(pod, "status.phase");
    if (!ip || !ip[0]) return false;
    return !phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

json_t *eps_endpoint(const json_t *svc, const json_t *pod)
{
    if (!pod_listed(pod)) return NULL;
    bool publish = json_is_true(orc_json_get(svc, "spec.publishNotReadyAddresses"));
    bool serving = ctl_pod_ready(pod);
    bool terminating = orc_json_get(pod, "metadata.deletionTimestamp") != NULL;
    /* As Kubernetes: never ready while terminating unless the Service
     * publishes not-ready addresses. */
    bool ready = publish || (serving && !terminating);
    json_t *ep = json_pack("{s:[s], s:{s:b, s:b, s:b}, s:{s:s, s:s, s:s, s:s}}", "addresses",
                           orc_json_str(pod, "status.podIP"), "conditions", "ready", ready,
                           "serving", serving, "terminating", terminating, "targetRef", "kind",
                           "Pod", "namespace", orc_json_str(pod, "metadata.namespace") ?: "",
                           "name", orc_json_str(pod, "metadata.name") ?: "", "uid",
                           orc_json_str(pod, "metadata.uid") ?: "");
    const char *node = orc_json_str(pod, "spec.nodeName");
    const char *host = orc_json_str(pod, "spec.hostname");
    const char *sub = orc_json_str(pod, "spec.subdomain");
    if (ep && node && node[0]) json_object_set_new(ep, "nodeName", json_string(node));
    if (ep && host && host[0] && sub && orc_json_str(svc, "metadata.name")
        && strcmp(sub, orc_json_str(svc, "metadata.name")) == 0)
        json_object_set_new(ep, "hostname", json_string(host));
    return ep;
}

/* The container port named `name` with this protocol, or -1. */
static long long named_port(const json_t *pod, const char *name, const char *proto)
{
    const json_t *cs = orc_json_get(pod, "spec.containers"), *c, *p;
    size_t i, j;

    json_array_foreach(cs, i, c) {
        json_array_foreach(json_object_get(c, "ports"), j, p) {
            const char *pn = orc_json_str(p, "name"), *pp = orc_json_str(p, "protocol");
            if (pn && strcmp(pn, name) == 0 && strcmp(pp ? pp : "TCP", proto) == 0)
                return json_integer_value(json_object_get(p, "containerPort"));
        }
    }
    return -1;
}

json_t *eps_pod_ports(const json_t *svc, const json_t *pod)
{
    const json_t *ports = orc_json_get(svc, "spec.ports"), *sp;
    json_t *out = json_array();
    size_t i;

    json_array_foreach(ports, i, sp) {
        const json_t *tp = json_object_get(sp, "targetPort");
        const char *proto = orc_json_str(sp, "protocol");
        long long num = -1;
        if (!proto) proto = "TCP";
        if (json_is_integer(tp)) num = json_integer_value(tp);
        else if (json_is_string(tp)) num = named_port(pod, json_string_value(tp), proto);
        else num = json_integer_value(json_object_get(sp, "port"));
        if (num <= 0 || num > 65535) continue;
        const char *name = orc_json_str(sp, "name");
        json_array_append_new(out, json_pack("{s:s, s:I, s:s}", "name", name ? name : "", "port",
                                             (json_int_t)num, "protocol", proto));
    }
    return out;
}

/* ---- grouping ---- */

static int by_name(const void *a, const void *b)
{
    const char *x = orc_json_str(*(json_t *const *)a, "metadata.name");
    const char *y = orc_json_str(*(json_t *const *)b, "metadata.name");
    return strcmp(x ? x : "", y ? y : "");
}

/* The chunk of `groups` with these ports that still has room, or a new one. */
static json_t *chunk_for(json_t *groups, json_t *ports, size_t max)
{
    json_t *g;
    size_t i;

    json_array_foreach(groups, i, g) {
        if (json_equal(json_object_get(g, "ports"), ports)
            && json_array_size(json_object_get(g, "endpoints")) < max)
            return g;
    }
    g = json_pack("{s:O, s:[]}", "ports", ports, "endpoints");
    if (g && json_array_append_new(groups, g) != 0) return NULL;
    return g;
}

json_t *eps_desired(const json_t *svc, const json_t *pods, size_t max)
{
    size_t n = json_array_size(pods), used = 0;
    json_t **sorted = calloc(n ? n : 1, sizeof *sorted), *groups = json_array();

    if (!sorted || !groups) goto fail;
    for (size_t i = 0; i < n; i++)
        if (eps_selects(svc, json_array_get(pods, i))) sorted[used++] = json_array_get(pods, i);
    qsort(sorted, used, sizeof *sorted, by_name);
    for (size_t i = 0; i < used; i++) {
        json_t *ep = eps_endpoint(svc, sorted[i]), *ports = ep ? eps_pod_ports(svc, sorted[i]) : NULL;
        bool none = ports && json_array_size(ports) == 0 && json_array_size(orc_json_get(svc, "spec.ports"));
        json_t *g = ep && ports && !none ? chunk_for(groups, ports, max ? max : EPS_MAX_PER_SLICE) : NULL;
        if (g) json_array_append(json_object_get(g, "endpoints"), ep);
        json_decref(ep);
        json_decref(ports);
    }
    if (json_array_size(groups) == 0)
        json_array_append_new(groups, json_pack("{s:[], s:[]}", "ports", "endpoints"));
    free(sorted);
    return groups;
fail:
    free(sorted);
    json_decref(groups);
    return NULL;
}

/* ---- slices ---- */

json_t *eps_slice_new(const json_t *svc, const json_t *chunk)
{
    const char *name = orc_json_str(svc, "metadata.name");
    char gen[300];
    json_t *labels = json_deep_copy(orc_json_get(svc, "metadata.labels"));
    json_t *owner = ctl_owner_ref(svc, "v1", "Service");

    if (!labels) labels = json_object();
    /* Kubernetes copies the Service's labels, then sets its own. */
    json_object_set_new(labels, EPS_LABEL_SERVICE, json_string(name ? name : ""));
    json_object_set_new(labels, EPS_LABEL_MANAGED_BY, json_string(EPS_MANAGER));
    snprintf(gen, sizeof gen, "%.250s-", name ? name : "");
    json_t *s = json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:[o]}, s:s, s:O, s:O}", "apiVersion",
                          "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata",
                          "generateName", gen, "namespace",
                          orc_json_str(svc, "metadata.namespace") ?: "default", "labels", labels,
                          "ownerReferences", owner, "addressType", "IPv4", "endpoints",
                          json_object_get(chunk, "endpoints"), "ports",
                          json_object_get(chunk, "ports"));
    return s;
}

static bool holds(const json_t *slice, const json_t *chunk)
{
    const json_t *eps = json_object_get(slice, "endpoints"), *ports = json_object_get(slice, "ports");
    json_t *none = json_array();
    bool same = json_equal(eps ? (json_t *)eps : none, json_object_get(chunk, "endpoints"))
                && json_equal(ports ? (json_t *)ports : none, json_object_get(chunk, "ports"));
    json_decref(none);
    return same;
}

json_t *eps_plan(const json_t *svc, const json_t *desired, const json_t *existing)
{
    size_t nd = json_array_size(desired), ne = json_array_size(existing);
    bool *dused = calloc(nd + 1, 1), *eused = calloc(ne + 1, 1);
    json_t *plan = json_pack("{s:[], s:[], s:[]}", "create", "update", "delete");

    if (!dused || !eused || !plan) goto fail;
    /* Slices already right stay as they are. */
    for (size_t i = 0; i < nd; i++)
        for (size_t j = 0; j < ne && !dused[i]; j++)
            if (!eused[j] && holds(json_array_get(existing, j), json_array_get(desired, i)))
                dused[i] = eused[j] = true;
    /* The others are rewritten in place, then created, then deleted. */
    for (size_t i = 0, j = 0; i < nd; i++) {
        if (dused[i]) continue;
        const json_t *chunk = json_array_get(desired, i);
        while (j < ne && eused[j]) j++;
        if (j < ne) {
            json_t *s = json_deep_copy(json_array_get(existing, j));
            eused[j] = true;
            json_object_set(s, "endpoints", json_object_get(chunk, "endpoints"));
            json_object_set(s, "ports", json_object_get(chunk, "ports"));
            json_array_append_new(json_object_get(plan, "update"), s);
        } else {
            json_array_append_new(json_object_get(plan, "create"), eps_slice_new(svc, chunk));
        }
    }
    for (size_t j = 0; j < ne; j++)
        if (!eused[j])
            json_array_append_new(json_object_get(plan, "delete"),
                                  json_string(orc_json_str(json_array_get(existing, j),
                                                           "metadata.name") ?: ""));
    free(dused);
    free(eused);
    return plan;
fail:
    free(dused);
    free(eused);
    json_decref(plan);
    return NULL;
}

/* ---- the legacy Endpoints ---- */

static json_t *address_of(const json_t *ep)
{
    json_t *a = json_pack("{s:O, s:O}", "ip", json_array_get(json_object_get(ep, "addresses"), 0),
                          "targetRef", json_object_get(ep, "targetRef"));
    if (a && json_object_get(ep, "nodeName"))
        json_object_set(a, "nodeName", json_object_get(ep, "nodeName"));
    if (a && json_object_get(ep, "hostname"))
        json_object_set(a, "hostname", json_object_get(ep, "hostname"));
    return a;
}

json_t *eps_subsets(const json_t *svc, const json_t *pods)
{
    json_t *groups = eps_desired(svc, pods, (size_t)-1), *subsets = json_array(), *g;
    size_t i, j;

    if (!groups || !subsets) {
        json_decref(groups);
        json_decref(subsets);
        return NULL;
    }
    json_array_foreach(groups, i, g) {
        json_t *ready = json_array(), *not_ready = json_array(), *ep;
        json_array_foreach(json_object_get(g, "endpoints"), j, ep) {
            bool r = json_is_true(orc_json_get(ep, "conditions.ready"));
            bool term = json_is_true(orc_json_get(ep, "conditions.terminating"));
            if (r) json_array_append_new(ready, address_of(ep));
            else if (!term) json_array_append_new(not_ready, address_of(ep));
        }
        if (json_array_size(ready) + json_array_size(not_ready) == 0) {
            json_decref(ready);
            json_decref(not_ready);
            continue;
        }
        json_t *ss = json_object();
        if (json_array_size(ready)) json_object_set(ss, "addresses", ready);
        if (json_array_size(not_ready)) json_object_set(ss, "notReadyAddresses", not_ready);
        json_decref(ready);
        json_decref(not_ready);
        /* An Endpoints port needs no name when it is the only one. */
        json_t *ports = json_deep_copy(json_object_get(g, "ports")), *p;
        json_array_foreach(ports, j, p)
            if (json_string_length(json_object_get(p, "name")) == 0) json_object_del(p, "name");
        json_object_set_new(ss, "ports", ports);
        json_array_append_new(subsets, ss);
    }
    json_decref(groups);
    return subsets;
}
