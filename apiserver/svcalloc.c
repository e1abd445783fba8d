/* svcalloc.c — Services' clusterIPs (from --service-cidr) and nodePorts
 * (from --service-node-port-range), as Kubernetes' ipallocator and
 * portallocator hand them out, but decided inside the replicated txn: a
 * value the client names is reserved by a key put guarded absent (422
 * "provided ... is already allocated" when another Service holds it); a
 * missing one is a slot of the create's STORE_PUT_ALLOC, where the FSM
 * takes the lowest free value, so concurrent creates through any member
 * never collide. Keys: /orc/serviceips/<ip> and /orc/nodeports/<port>,
 * valued with the Service's key; removed in the txn that deletes the
 * Service or stops using the value (type back to ClusterIP). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/schema.h"
#include "apiserver/write.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/rand.h"

static bool external(const json_t *svc)
{
    const char *t = orc_json_str(svc, "spec.type");
    return t && (strcmp(t, "NodePort") == 0 || strcmp(t, "LoadBalancer") == 0);
}

static bool wants_ip(const json_t *svc)
{
    const char *t = orc_json_str(svc, "spec.type");
    return !(t && strcmp(t, "ExternalName") == 0);
}

/* The clusterIP the object holds ("" for none, headless, or a marker). */
static const char *held_ip(const json_t *svc)
{
    const char *ip = orc_json_str(svc, "spec.clusterIP");
    return ip && ip[0] && strcmp(ip, "None") != 0 && strncmp(ip, "orc-", 4) != 0 ? ip : "";
}

static long long node_port(const json_t *port)
{
    const json_t *np = json_object_get(port, "nodePort");
    return json_is_integer(np) ? json_integer_value(np) : 0;
}

/* ---- answers ---- */

static void invalid(struct write_op *op, const char *field, const char *value, bool quoted,
                    const char *fmt, const char *arg)
{
    struct api_diag d;
    char msg[256], *text;
    const char *name = op->rt->name;

    if (api_diag_init(&d) != 0) {
        api_respond_error(op->r, ORC_ENOMEM, "validating");
        return;
    }
    snprintf(msg, sizeof msg, fmt, arg);
    if (quoted) api_diag_add(&d, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", value, msg);
    else api_diag_add(&d, "FieldValueInvalid", field, "Invalid value: %s: %s", value, msg);
    text = api_diag_message(&d, op->k, name);
    api_respond_status(op->r, 422, "Invalid", op->k, name, json_incref(d.causes), "%s",
                       text ? text : "invalid object");
    free(text);
    api_diag_clear(&d);
}

/* ---- planning ---- */

static int hold(struct write_op *op, bool port, const char *field, const char *value)
{
    struct svc_plan *p = &op->svc;
    struct orc_pool pool;
    const char *range = port ? op->s->node_port_range : op->s->service_cidr;
    char spec[80];

    snprintf(spec, sizeof spec, "%s%s", port ? "port:" : "ip:", range);
    if (orc_pool_parse(spec, 32, &pool) != 0 || orc_pool_index(&pool, value) < 0) {
        invalid(op, field, value, !port,
                port ? "provided port is not in the valid range. The range of valid ports is %s"
                     : "provided IP is not in the valid range. The range of valid IPs is %s",
                range);
        return ORC_EINVAL;
    }
    if (p->n_put == STORE_ALLOC_SLOTS) goto too_many;
    struct svc_hold *h = &p->put[p->n_put++];
    h->port = port;
    snprintf(h->key, sizeof h->key, "%s%s", port ? API_NODEPORT_PREFIX : API_SERVICEIP_PREFIX,
             value);
    snprintf(h->field, sizeof h->field, "%s", field);
    snprintf(h->value, sizeof h->value, "%s", value);
    return 0;
too_many:
    invalid(op, "spec.ports", "", false, "%s", "orc reserves at most 17 addresses and ports per Service");
    return ORC_EINVAL;
}

static int add_slot(struct write_op *op, int port, json_t *svc)
{
    struct svc_plan *p = &op->svc;
    char hex[17];

    if (p->n_slot == STORE_ALLOC_SLOTS) {
        invalid(op, "spec.ports", "", false, "%s",
                "orc allocates at most 17 addresses and ports per Service");
        return ORC_EINVAL;
    }
    struct svc_slot *sl = &p->slot[p->n_slot++];
    sl->port = port;
    orc_rand_hex(hex, sizeof hex - 1);
    if (port < 0) {
        snprintf(sl->marker, sizeof sl->marker, "orc-cluster-ip-%s", hex);
        orc_json_set(svc, "spec.clusterIP", json_string(sl->marker));
        orc_json_set(svc, "spec.clusterIPs", json_pack("[s]", sl->marker));
    } else {
        /* An integer field: the marker is the whole JSON string, quotes
         * included, so the number replaces it. */
        snprintf(sl->marker, sizeof sl->marker, "\"orc-node-port-%s\"", hex);
        char bare[40];
        snprintf(bare, sizeof bare, "orc-node-port-%s", hex);
        json_object_set_new(json_array_get(orc_json_get(svc, "spec.ports"), (size_t)port),
                            "nodePort", json_string(bare));
    }
    return 0;
}

static void release(struct write_op *op, const char *prefix, const char *value)
{
    struct svc_plan *p = &op->svc;
    if (p->n_del < ORC_ARRAY_LEN(p->del))
        snprintf(p->del[p->n_del++], SVC_KEY_LEN, "%s%s", prefix, value);
}

/* Kubernetes fills these for a single-stack IPv4 cluster. */
static void families(json_t *svc)
{
    json_t *spec = json_object_get(svc, "spec");
    if (!wants_ip(svc) || !json_is_object(spec)) return;
    if (!json_object_get(spec, "ipFamilies"))
        json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
    if (!json_object_get(spec, "ipFamilyPolicy"))
        json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
    const char *ip = orc_json_str(svc, "spec.clusterIP");
    if (ip && ip[0]) json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
}

static bool in_ports(const json_t *svc, long long np)
{
    const json_t *ports = orc_json_get(svc, "spec.ports");
    for (size_t i = 0; i < json_array_size(ports); i++)
        if (node_port(json_array_get(ports, i)) == np) return true;
    return false;
}

/* Plans next against what cur holds (cur NULL on create). */
static int plan(struct write_op *op, const json_t *cur, json_t *next)
{
    const char *was = cur ? held_ip(cur) : "";
    char field[48], num[24];
    int rv = 0;

    memset(&op->svc, 0, sizeof op->svc);
    const json_t *curports = cur ? orc_json_get(cur, "spec.ports") : NULL;
    for (size_t i = 0; i < json_array_size(curports); i++) {
        long long np = node_port(json_array_get(curports, i));
        if (np <= 0 || (!op->deleting && external(next) && in_ports(next, np))) continue;
        snprintf(num, sizeof num, "%lld", np);
        release(op, API_NODEPORT_PREFIX, num);
    }
    if (was[0] && (op->deleting || strcmp(held_ip(next), was) != 0))
        release(op, API_SERVICEIP_PREFIX, was);
    if (op->deleting) return 0;

    const char *ip = orc_json_str(next, "spec.clusterIP");
    const char *first = json_string_value(json_array_get(orc_json_get(next, "spec.clusterIPs"), 0));
    if (wants_ip(next) && (!ip || !ip[0]) && first && first[0]) {
        /* clusterIPs alone names the address, as Kubernetes reads it */
        orc_json_set(next, "spec.clusterIP", json_string(first));
        ip = orc_json_str(next, "spec.clusterIP");
    }
    if (wants_ip(next) && (!ip || !ip[0])) rv = add_slot(op, -1, next);
    else if (wants_ip(next) && held_ip(next)[0] && strcmp(held_ip(next), was) != 0)
        rv = hold(op, false, "spec.clusterIP", held_ip(next));
    families(next);
    if (rv != 0 || !external(next)) return rv;
    json_t *ports = orc_json_get(next, "spec.ports");
    /* A LoadBalancer may do without nodePorts (allocateLoadBalancerNodePorts
     * false): only those the client names are held. */
    const char *type = orc_json_str(next, "spec.type");
    bool allocate = !(type && strcmp(type, "LoadBalancer") == 0
                      && json_is_false(orc_json_get(next, "spec.allocateLoadBalancerNodePorts")));
    for (size_t i = 0; rv == 0 && i < json_array_size(ports); i++) {
        long long np = node_port(json_array_get(ports, i));
        if (np <= 0) {
            if (allocate) rv = add_slot(op, (int)i, next);
            continue;
        }
        bool had = false;
        for (size_t j = 0; j < json_array_size(curports); j++)
            had = had || node_port(json_array_get(curports, j)) == np;
        for (size_t j = 0; j < i; j++) /* the same port for TCP and UDP: reserved once */
            had = had || node_port(json_array_get(ports, j)) == np;
        if (had) continue;
        snprintf(field, sizeof field, "spec.ports[%zu].nodePort", i);
        snprintf(num, sizeof num, "%lld", np);
        rv = hold(op, true, field, num);
    }
    return rv;
}

int svc_plan_create(struct write_op *op, json_t *svc)
{
    return plan(op, NULL, svc);
}

int svc_plan_update(struct write_op *op, const json_t *cur, json_t *next)
{
    return plan(op, cur, next);
}

size_t api_svc_held_keys(const json_t *svc, char keys[][64], size_t max)
{
    const json_t *ports = orc_json_get(svc, "spec.ports");
    size_t n = 0;

    if (held_ip(svc)[0] && n < max) snprintf(keys[n++], 64, API_SERVICEIP_PREFIX "%s", held_ip(svc));
    for (size_t i = 0; i < json_array_size(ports) && n < max; i++) {
        long long np = node_port(json_array_get(ports, i));
        if (np > 0) snprintf(keys[n++], 64, API_NODEPORT_PREFIX "%lld", np);
    }
    return n;
}

/* ---- the store's part ---- */

int svc_alloc_value(struct write_op *op, const struct orc_buf *val, struct orc_buf *out)
{
    struct svc_plan *p = &op->svc;
    char ranges[2][80];
    struct store_alloc a = {val->data, val->len, NULL, 0, NULL, 32, NULL, NULL, {{0}}, 0};

    snprintf(ranges[0], sizeof ranges[0], "ip:%s", op->s->service_cidr);
    snprintf(ranges[1], sizeof ranges[1], "port:%s", op->s->node_port_range);
    for (size_t i = 0; i < p->n_slot; i++) {
        bool port = p->slot[i].port >= 0;
        struct store_alloc_slot sl = {ranges[port], 32, port ? API_NODEPORT_PREFIX : API_SERVICEIP_PREFIX,
                                      p->slot[i].marker};
        if (i == 0) {
            a.range = sl.range, a.prefix = sl.prefix, a.marker = sl.marker;
        } else {
            a.more[a.n_more++] = sl;
        }
    }
    return store_alloc_value(&a, out);
}

/* The lowest value of the pool not reserved now nor in `taken` (a dry run). */
static void preview(struct write_op *op, bool port, char taken[][24], size_t n, char *out)
{
    char spec[80], key[SVC_KEY_LEN + 32];
    struct orc_pool pool;
    struct store_kv kv;

    out[0] = '\0';
    snprintf(spec, sizeof spec, "%s%s", port ? "port:" : "ip:",
             port ? op->s->node_port_range : op->s->service_cidr);
    if (orc_pool_parse(spec, 32, &pool) != 0) return;
    for (uint64_t i = 0; i < pool.size; i++) {
        bool dup = false;
        orc_pool_item(&pool, i, out, 24);
        for (size_t j = 0; j < n; j++) dup = dup || strcmp(taken[j], out) == 0;
        if (dup) continue;
        snprintf(key, sizeof key, "%s%.23s", port ? API_NODEPORT_PREFIX : API_SERVICEIP_PREFIX, out);
        memset(&kv, 0, sizeof kv);
        int rv = store_get(op->s->st, key, &kv);
        store_kv_clear(&kv);
        if (rv == ORC_ENOENT) return;
    }
    out[0] = '\0';
}

void svc_settle(struct write_op *op, json_t *svc, const char *block)
{
    struct svc_plan *p = &op->svc;
    char vals[STORE_ALLOC_SLOTS][24] = {{0}};
    const char *b = block;

    for (size_t i = 0; i < p->n_slot; i++) {
        if (block) {
            size_t n = strcspn(b, ",");
            snprintf(vals[i], sizeof vals[i], "%.*s", (int)(n < 23 ? n : 23), b);
            b += n + (b[n] == ',');
        } else {
            preview(op, p->slot[i].port >= 0, vals, i, vals[i]);
        }
        if (p->slot[i].port < 0) {
            orc_json_set(svc, "spec.clusterIP", json_string(vals[i]));
            orc_json_set(svc, "spec.clusterIPs", json_pack("[s]", vals[i]));
        } else {
            json_t *port = json_array_get(orc_json_get(svc, "spec.ports"), (size_t)p->slot[i].port);
            json_object_set_new(port, "nodePort", json_integer(atoll(vals[i])));
        }
    }
}

bool svc_refused(struct write_op *op, const struct store_txn_result *res, const json_t *svc)
{
    struct svc_plan *p = &op->svc;
    (void)svc;

    if (res->failed_guard < 0 && p->n_slot > 0) {
        bool ip = false;
        for (size_t i = 0; i < p->n_slot; i++) ip = ip || p->slot[i].port < 0;
        api_respond_status(op->r, 500, "InternalError", NULL, NULL, NULL,
                           "Internal error occurred: failed to allocate a %s: range is full",
                           ip ? "serviceIP" : "nodePort");
        return true;
    }
    int i = res->failed_guard - p->first_guard;
    if (p->n_put == 0 || i < 0 || (size_t)i >= p->n_put) return false;
    const struct svc_hold *h = &p->put[i];
    if (h->port) {
        invalid(op, h->field, h->value, false, "%s", "provided port is already allocated");
    } else {
        char why[96];
        snprintf(why, sizeof why, "failed to allocate IP %s: provided IP is already allocated",
                 h->value);
        invalid(op, h->field, h->value, true, "%s", why);
    }
    return true;
}
