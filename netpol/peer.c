/* peer.c — one entry of a NetworkPolicy rule's from/to (podSelector,
 * namespaceSelector, both, or ipBlock with except) and one of its ports,
 * read from the API object and matched against pods. */
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "netpol/netpol_int.h"

static int parse_cidr(const char *s, struct netpol_range *out)
{
    struct orc_cidr4 c;
    if (!s || orc_cidr4_parse(s, &c) != 0) return ORC_EINVAL;
    out->lo = c.base;
    out->hi = c.prefix == 0 ? UINT32_MAX : c.base | (UINT32_MAX >> c.prefix);
    return 0;
}

static int compile_block(const json_t *b, struct np_peer *out)
{
    size_t i;
    json_t *e;
    struct netpol_range r;

    out->block = true;
    if (parse_cidr(orc_json_str(b, "cidr"), &out->cidr) != 0) return ORC_EINVAL;
    json_array_foreach(json_object_get(b, "except"), i, e) {
        if (parse_cidr(json_string_value(e), &r) != 0) return ORC_EINVAL;
        if (np_rvec_add(&out->except, r.lo, r.hi) != 0) return ORC_ENOMEM;
    }
    np_rvec_merge(&out->except);
    return 0;
}

int np_peer_compile(const json_t *peer, struct np_peer *out)
{
    const json_t *b = json_object_get(peer, "ipBlock");
    const json_t *ps = json_object_get(peer, "podSelector"), *ns = json_object_get(peer, "namespaceSelector");
    char msg[128];
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (json_is_object(b)) rc = compile_block(b, out);
    else if (!json_is_object(ps) && !json_is_object(ns)) rc = ORC_EINVAL;
    if (rc == 0 && !out->block && json_is_object(ps))
        rc = orc_selector_from_json(ps, &out->pod_sel, msg, sizeof msg);
    if (rc == 0 && !out->block && json_is_object(ns))
        rc = orc_selector_from_json(ns, &out->ns_sel, msg, sizeof msg);
    if (rc != 0) np_peer_free(out);
    return rc;
}

void np_peer_free(struct np_peer *p)
{
    free(p->except.v);
    orc_selector_free(p->pod_sel);
    orc_selector_free(p->ns_sel);
    memset(p, 0, sizeof *p);
}

static bool in_block(const struct np_peer *p, uint32_t ip)
{
    if (ip < p->cidr.lo || ip > p->cidr.hi) return false;
    for (size_t i = 0; i < p->except.n; i++)
        if (ip >= p->except.v[i].lo && ip <= p->except.v[i].hi) return false;
    return true;
}

static bool ns_matches(const struct np_world *w, const orc_selector *sel, const char *ns)
{
    const json_t *labels = np_world_ns_labels(w, ns);
    json_t *only_name;
    bool ok;

    if (labels) return orc_selector_matches(sel, labels);
    /* a namespace not (yet) listed still has its name label */
    if (!(only_name = json_pack("{ss}", "kubernetes.io/metadata.name", ns))) return false;
    ok = orc_selector_matches(sel, only_name);
    json_decref(only_name);
    return ok;
}

bool np_peer_matches(const struct np_world *w, const struct np_peer *peer, const char *policy_ns,
                     const struct np_podinfo *pod)
{
    if (peer->block) return in_block(peer, pod->ip);
    if (peer->ns_sel ? !ns_matches(w, peer->ns_sel, pod->ns) : strcmp(pod->ns, policy_ns) != 0) return false;
    return !peer->pod_sel || orc_selector_matches(peer->pod_sel, pod->labels);
}

int np_port_read(const json_t *item, struct np_port *out)
{
    const json_t *port = json_object_get(item, "port");
    json_int_t end = json_integer_value(json_object_get(item, "endPort"));

    memset(out, 0, sizeof *out);
    if ((out->proto = np_proto(orc_json_str(item, "protocol"))) < 0) return ORC_EINVAL;
    if (!port || json_is_null(port)) {
        out->hi = 65535; /* a protocol alone: all its ports */
    } else if (json_is_string(port)) {
        out->named = json_string_value(port);
        /* "8080" as a string is the number (IntOrString) */
        char *endp;
        long v = strtol(out->named, &endp, 10);
        if (*out->named && *endp == '\0') {
            if (v < 1 || v > 65535) return ORC_EINVAL;
            out->named = NULL;
            out->lo = out->hi = (uint32_t)v;
        }
    } else if (json_is_integer(port) && json_integer_value(port) >= 1 && json_integer_value(port) <= 65535) {
        out->lo = out->hi = (uint32_t)json_integer_value(port);
        if (end >= (json_int_t)out->lo && end <= 65535) out->hi = (uint32_t)end;
    } else {
        return ORC_EINVAL;
    }
    return 0;
}
