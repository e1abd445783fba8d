/* ingress.c — the node's Ingress proxy (ingress/proxy.h) wired to the
 * agent: informers on Ingresses and IngressClasses, the shared ones on
 * Services and EndpointSlices, and a watch of each TLS Secret the Ingresses
 * name (objwatch.c, as pods' Secrets are watched); any change rebuilds
 * the routing table (debounced) and swaps it in. The Node is annotated
 * with the proxy's ports so the leader's ingress controller lists this
 * node's address in status.loadBalancer. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "ingress/proxy.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define ING_LOG "agent.ingress"
#define REBUILD_DELAY_MS 20 /* a burst of events (a list) makes one table */

struct agent_ingress {
    struct agent *a;
    struct ingress_proxy *proxy;
    informer *ingresses, *classes;
    uv_timer_t timer;
    bool timer_open;
    struct orc_buf crt, key; /* the Secret being loaded, decoded */
    json_t *tls_refs;        /* {"NS/NAME": true}: the TLS Secrets watched */
};

static void rebuild(uv_timer_t *t);

static void rebuild_soon(struct agent_ingress *g)
{
    if (g->timer_open && !uv_is_active((uv_handle_t *)&g->timer))
        (void)uv_timer_start(&g->timer, rebuild, REBUILD_DELAY_MS, 0);
}

static void on_add(void *arg, const json_t *obj)
{
    (void)obj;
    rebuild_soon(arg);
}

static void on_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    (void)obj;
    rebuild_soon(arg);
}

static bool is_tls_secret(const json_t *s)
{
    const char *t = orc_json_str(s, "type");
    return t && strcmp(t, "kubernetes.io/tls") == 0;
}

void agent_ingress_secret_changed(struct agent *a, const json_t *old, const json_t *obj)
{
    if (a->ingress && (is_tls_secret(old) || is_tls_secret(obj))) rebuild_soon(a->ingress);
}

static const struct informer_cbs any_cbs = {on_add, on_update, on_add, NULL};

/* ---- the table ---- */

static void collect(void *arg, const json_t *obj) { json_array_append((json_t *)arg, (json_t *)obj); }

static json_t *all_of(const informer *inf)
{
    json_t *arr = json_array();
    if (arr && inf) informer_each(inf, collect, arr);
    return arr;
}

static bool decode(const json_t *data, const char *key, struct orc_buf *out)
{
    const char *b64 = json_string_value(json_object_get(data, key));
    orc_buf_reset(out);
    return b64 && orc_base64_decode(b64, strlen(b64), false, out) == 0
           && orc_buf_append(out, "", 1) == 0; /* NUL-terminated PEM */
}

static bool secret_pems(void *arg, const char *ns, const char *name, const char **crt,
                        const char **key)
{
    struct agent_ingress *g = arg;
    const json_t *s = agent_objwatch_get(g->a, ORC_REF_SECRET, ns, name);
    const json_t *data = json_object_get(s, "data");

    if (!s || !is_tls_secret(s) || !decode(data, "tls.crt", &g->crt) || !decode(data, "tls.key", &g->key))
        return false;
    *crt = g->crt.data;
    *key = g->key.data;
    return true;
}

/* Takes or drops each "NS/NAME" key of refs' watch. */
static void ref_keys(struct agent *a, const json_t *refs, bool ref)
{
    const char *k;
    const json_t *v;
    char ns[256];

    json_object_foreach((json_t *)refs, k, v) {
        const char *slash = strchr(k, '/');
        if (slash == NULL || (size_t)(slash - k) >= sizeof ns) continue;
        snprintf(ns, sizeof ns, "%.*s", (int)(slash - k), k);
        if (!ref) agent_objwatch_unref(a, ORC_REF_SECRET, ns, slash + 1);
        else if (agent_objwatch_ref(a, ORC_REF_SECRET, ns, slash + 1) != 0)
            log_warn(ING_LOG, "out of memory watching Secret %s", k);
    }
}

/* Watches the TLS Secrets the Ingresses name now, and no others. */
static void follow_tls_secrets(struct agent_ingress *g, const json_t *ingresses)
{
    json_t *now = json_object();
    size_t i, j;
    const json_t *ing, *tls;
    char key[520];

    if (now == NULL) return; /* the old set stays watched */
    json_array_foreach(ingresses, i, ing) {
        const char *ns = orc_json_str(ing, "metadata.namespace");
        json_array_foreach(orc_json_get(ing, "spec.tls"), j, tls) {
            const char *name = orc_json_str(tls, "secretName");
            if (ns && name && *name && snprintf(key, sizeof key, "%s/%s", ns, name) < (int)sizeof key)
                json_object_set_new(now, key, json_true());
        }
    }
    ref_keys(g->a, now, true); /* first: one named before and now keeps its watch */
    ref_keys(g->a, g->tls_refs, false);
    json_decref(g->tls_refs);
    g->tls_refs = now;
}

static void rebuild(uv_timer_t *t)
{
    struct agent_ingress *g = t->data;
    struct agent *a = g->a;
    json_t *ing = all_of(g->ingresses), *cls = all_of(g->classes);
    json_t *svc = all_of(a->services), *sl = all_of(a->slices);
    struct ingress_inputs in = {ing, cls, svc, sl};
    struct ingress_table *table;

    if (ing) follow_tls_secrets(g, ing);
    table = ing && cls && svc && sl ? ingress_table_build(&in) : NULL;

    if (table) {
        log_debug(ING_LOG, "routing %zu hosts to %zu backends", ingress_table_hosts(table),
                  ingress_table_backends(table));
        ingress_proxy_set_table(g->proxy, table, secret_pems, g);
    } else {
        log_warn(ING_LOG, "out of memory building the routing table; trying again");
        (void)uv_timer_start(&g->timer, rebuild, 1000, 0);
    }
    if (g->key.data) explicit_bzero(g->key.data, g->key.cap);
    orc_buf_free(&g->crt);
    orc_buf_free(&g->key);
    json_decref(ing);
    json_decref(cls);
    json_decref(svc);
    json_decref(sl);
}

/* ---- the Node's annotation ---- */

static void annotate_node(struct agent *a, const char *ports)
{
    char path[512];
    json_t *patch = json_pack("{s:{s:{s:o}}}", "metadata", "annotations", INGRESS_ANN_NODE_PORTS,
                              ports ? json_string(ports) : json_null());
    snprintf(path, sizeof path, "/api/v1/nodes/%s", a->node_name);
    if (patch && agent_api_call(a, "PATCH", path, "application/merge-patch+json", patch, NULL, NULL) != 0)
        log_warn(ING_LOG, "cannot annotate node %s with its ingress ports", a->node_name);
    json_decref(patch);
}

/* ---- start, stop ---- */

static int start_informers(struct agent_ingress *g)
{
    struct agent *a = g->a;
    struct informer_config ic = {.path = "/apis/networking.k8s.io/v1/ingresses"};
    struct informer_config cc = {.path = "/apis/networking.k8s.io/v1/ingressclasses"};
    int rc;

    if ((rc = agent_service_informers(a)) != 0
        || (rc = informer_start(a->loop, a->api, &ic, &any_cbs, g, &g->ingresses)) != 0
        || (rc = informer_start(a->loop, a->api, &cc, &any_cbs, g, &g->classes)) != 0
        || (rc = informer_add_handler(a->services, &any_cbs, g)) != 0
        || (rc = informer_add_handler(a->slices, &any_cbs, g)) != 0)
        return rc;
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    struct agent_ingress *g = h->data;
    struct agent *a = g->a;
    free(g);
    agent_release(a);
}

static void proxy_stopped(void *arg)
{
    struct agent_ingress *g = arg;
    g->proxy = NULL;
    if (g->timer_open) uv_close((uv_handle_t *)&g->timer, timer_closed);
    else timer_closed((uv_handle_t *)&g->timer);
}

void agent_ingress_start(struct agent *a)
{
    struct ingress_proxy_config pc = {.address = a->node_ip,
                                      .http_port = a->ingress_http_port,
                                      .https_port = a->ingress_https_port,
                                      .fallback_cert_pem = a->cert_pem,
                                      .fallback_key_pem = a->key_pem};
    char errmsg[256] = "", ports[64];
    struct agent_ingress *g;
    int rc;

    if (a->ingress) return;
    if (pc.http_port <= 0 && pc.https_port <= 0) {
        annotate_node(a, NULL); /* a run with the proxy may have left it */
        return;
    }
    if (!(g = calloc(1, sizeof *g))) return;
    g->a = a;
    g->timer.data = g;
    a->ingress = g;
    agent_hold(a); /* released once g is freed */
    if (uv_timer_init(a->loop, &g->timer) == 0) g->timer_open = true;
    if ((rc = ingress_proxy_start(a->loop, &pc, &g->proxy, errmsg)) != 0) {
        log_warn(ING_LOG, "no ingress proxy on this node: %s", errmsg);
        g->proxy = NULL;
        annotate_node(a, NULL);
        return;
    }
    if ((rc = start_informers(g)) != 0) {
        log_error(ING_LOG, "cannot watch Ingresses: %s", orc_strerror(rc));
        return;
    }
    snprintf(ports, sizeof ports, "http=%d,https=%d", ingress_proxy_http_port(g->proxy),
             ingress_proxy_https_port(g->proxy));
    log_info(ING_LOG, "ingress proxy on %s (%s)", a->node_ip, ports);
    annotate_node(a, ports);
}

void agent_ingress_stop(struct agent *a)
{
    struct agent_ingress *g = a->ingress;

    if (!g) return;
    a->ingress = NULL;
    if (g->ingresses) informer_stop(g->ingresses);
    if (g->classes) informer_stop(g->classes);
    if (a->services) informer_remove_handlers(a->services, g);
    if (a->slices) informer_remove_handlers(a->slices, g);
    ref_keys(a, g->tls_refs, false);
    json_decref(g->tls_refs);
    g->tls_refs = NULL;
    if (g->timer_open) uv_timer_stop(&g->timer);
    if (g->proxy) ingress_proxy_stop(g->proxy, proxy_stopped, g);
    else proxy_stopped(g);
}
