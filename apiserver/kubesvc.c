/* kubesvc.c — the endpoints of default/kubernetes, as Kubernetes' API
 * server endpoint reconciler keeps them: the API servers' addresses (each
 * member's published apiURL, under /orc/members/) and port, in the Endpoints
 * and the EndpointSlice named "kubernetes". The leader's bootstrap calls
 * it before the member reports ready, then its housekeeping every 5 s; a write happens only when the members changed, guarded on the
 * revision read (a lost race is redone on a later tick). The Service has
 * no selector, so the endpointslice controller leaves these alone. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

/* "https://10.0.0.1:6443" -> ip, port; false unless an IPv4 address. */
static bool url_address(const char *url, char *ip, size_t n, long *port)
{
    const char *h = url ? strstr(url, "://") : NULL, *colon;
    struct in_addr a;

    if (!h) return false;
    h += 3;
    colon = strchr(h, ':');
    if (!colon || (size_t)(colon - h) >= n) return false;
    memcpy(ip, h, (size_t)(colon - h));
    ip[colon - h] = '\0';
    *port = strtol(colon + 1, NULL, 10);
    return inet_pton(AF_INET, ip, &a) == 1 && *port > 0 && *port < 65536;
}

/* Sorted, distinct member addresses into ips (a JSON array of strings). */
static int member_addresses(struct api_server *s, json_t *ips, long *port)
{
    struct store_list l = {0};
    int rv = store_range(s->st, API_MEMBER_PREFIX, NULL, 0, 0, &l);

    for (size_t i = 0; rv == 0 && i < l.n; i++) {
        json_t *m = orc_json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_ALLOW_NUL, NULL);
        char ip[64];
        if (m && url_address(orc_json_str(m, "apiURL"), ip, sizeof ip, port)) {
            size_t at = 0;
            bool dup = false;
            for (; at < json_array_size(ips); at++) {
                int c = strcmp(json_string_value(json_array_get(ips, at)), ip);
                if (c == 0) dup = true;
                if (c >= 0) break;
            }
            if (!dup) json_array_insert_new(ips, at, json_string(ip));
        }
        json_decref(m);
    }
    store_list_clear(&l);
    return rv;
}

static json_t *endpoints_of(const json_t *ips, long port)
{
    json_t *addrs = json_array(), *ip;
    size_t i;
    json_array_foreach(ips, i, ip) json_array_append_new(addrs, json_pack("{s:O}", "ip", ip));
    return json_pack("{s:[{s:o, s:[{s:s, s:i, s:s}]}]}", "subsets", "addresses", addrs, "ports",
                     "name", "https", "port", (int)port, "protocol", "TCP");
}

static json_t *slice_of(const json_t *ips, long port)
{
    json_t *eps = json_array(), *ip;
    size_t i;
    json_array_foreach(ips, i, ip)
        json_array_append_new(eps, json_pack("{s:[O], s:{s:b}}", "addresses", ip, "conditions",
                                             "ready", 1));
    return json_pack("{s:s, s:o, s:[{s:s, s:i, s:s}]}", "addressType", "IPv4", "endpoints", eps,
                     "ports", "name", "https", "port", (int)port, "protocol", "TCP");
}

/* One look at the endpoints: its writes in flight, and what to call once
 * they all ended. */
struct kube_look {
    struct api_server *s;
    unsigned pending;
    void (*done)(struct api_server *s);
};

static void look_put(struct kube_look *l)
{
    if (--l->pending > 0) return;
    if (l->done && !l->s->stopping) l->done(l->s);
    api_release(l->s);
    free(l);
}

static void written(void *arg, int status, const struct store_txn_result *res)
{
    (void)res;
    if (status != 0 && status != ORC_ESHUTDOWN)
        log_debug("apiserver", "the kubernetes endpoints: %s", orc_strerror(status));
    look_put(arg);
}

/* Puts `want`'s fields into the stored object (or a new one) when they
 * differ, guarded on what was read. */
static void reconcile_one(struct kube_look *l, enum orc_kind_id id, const json_t *want,
                          const json_t *labels)
{
    struct api_server *s = l->s;
    const struct orc_kind *k = &orc_kind_table[id];
    struct orc_buf key = ORC_BUF_INIT, val = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *obj = NULL, *v;
    const char *f;
    bool same = true;

    if (api_key(k, "default", "kubernetes", &key) != 0) goto out;
    int rv = store_get(s->st, key.data, &kv);
    if (rv == 0) obj = orc_json_loadb(kv.value, kv.value_len, JSON_ALLOW_NUL, NULL);
    else if (rv == ORC_ENOENT) {
        char uid[37], now[ORC_TIME_LEN];
        orc_uuid(uid);
        orc_time_now(now);
        obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:O}}", "apiVersion",
                        orc_kind_api_version(k), "kind", k->kind, "metadata", "name", "kubernetes",
                        "namespace", "default", "uid", uid, "creationTimestamp", now, "labels",
                        labels);
        same = false;
    }
    if (!obj) goto out;
    json_object_foreach((json_t *)want, f, v) {
        if (!json_equal(json_object_get(obj, f), v)) {
            json_object_set(obj, f, v);
            same = false;
        }
    }
    if (same || api_obj_encode(obj, &val) != 0) goto out;
    struct store_guard g = rv == 0 ? (struct store_guard){STORE_GUARD_MODREV, key.data, kv.mod_rev}
                                   : (struct store_guard){STORE_GUARD_ABSENT, key.data, 0};
    struct store_op op = {STORE_PUT, key.data, val.data, val.len};
    struct store_txn txn = {&g, 1, &op, 1};
    l->pending++;
    if (api_txn(s, &txn, written, l) != 0) {
        l->pending--;
        log_debug("apiserver", "kubernetes endpoints: refused");
    }
out:
    json_decref(obj);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    orc_buf_free(&val);
}

void api_kubernetes_endpoints(struct api_server *s, void (*done)(struct api_server *s))
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *ips = json_array();
    long port = 0;
    struct kube_look *l = calloc(1, sizeof *l);

    if (l == NULL) {
        json_decref(ips);
        if (done) done(s);
        return;
    }
    *l = (struct kube_look){s, 1, done}; /* this call's own hold */
    api_hold(s);
    if (!ips || api_key(&orc_kind_table[ORC_K_SERVICE], "default", "kubernetes", &key) != 0
        || store_get(s->st, key.data, &kv) != 0 || member_addresses(s, ips, &port) != 0
        || json_array_size(ips) == 0)
        goto out;
    json_t *ep = endpoints_of(ips, port), *sl = slice_of(ips, port);
    json_t *labels = json_pack("{s:s}", "endpointslice.kubernetes.io/skip-mirror", "true");
    json_t *slabels = json_pack("{s:s}", "kubernetes.io/service-name", "kubernetes");
    if (ep && labels) reconcile_one(l, ORC_K_ENDPOINTS, ep, labels);
    if (sl && slabels) reconcile_one(l, ORC_K_ENDPOINTSLICE, sl, slabels);
    json_decref(ep);
    json_decref(sl);
    json_decref(labels);
    json_decref(slabels);
out:
    json_decref(ips);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    look_put(l);
}
