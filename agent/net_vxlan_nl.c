/* net_vxlan_nl.c — the rtnetlink requests of the VXLAN backend: a link's
 * details (MTU, MAC, alias, vxlan parameters), the vxlan device itself,
 * and its permanent neighbour (vtep address -> MAC) and FDB (MAC -> node
 * address) entries, set, deleted and listed. */
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/net_int.h"
#include "agent/net_nlmsg.h"
#include "lib/orc.h"

/* ---- a link's details ---- */

static void vxlan_data(const struct rtattr *data, struct net_nl_link *l)
{
    int len = (int)RTA_PAYLOAD(data);
    uint32_t v;
    uint16_t p;

    for (const struct rtattr *a = RTA_DATA(data); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        size_t n = RTA_PAYLOAD(a);
        if (a->rta_type == IFLA_VXLAN_ID && n >= 4) memcpy(&l->vni, RTA_DATA(a), 4);
        if (a->rta_type == IFLA_VXLAN_LINK && n >= 4) memcpy(&l->link, RTA_DATA(a), 4);
        if (a->rta_type == IFLA_VXLAN_LOCAL && n >= 4) {
            memcpy(&v, RTA_DATA(a), 4);
            l->local = ntohl(v);
        }
        if (a->rta_type == IFLA_VXLAN_PORT && n >= 2) {
            memcpy(&p, RTA_DATA(a), 2);
            l->port = ntohs(p);
        }
        if (a->rta_type == IFLA_VXLAN_LEARNING && n >= 1) l->learning = *(uint8_t *)RTA_DATA(a);
    }
}

static void link_info(const struct rtattr *info, struct net_nl_link *l)
{
    int len = (int)RTA_PAYLOAD(info);

    for (const struct rtattr *a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_INFO_KIND)
            snprintf(l->kind, sizeof l->kind, "%.*s", (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
        if (a->rta_type == IFLA_INFO_DATA && strcmp(l->kind, "vxlan") == 0) vxlan_data(a, l);
    }
}

static int link_cb(const struct nlmsghdr *h, void *arg)
{
    struct net_nl_link *l = arg;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);

    if (h->nlmsg_type != RTM_NEWLINK) return 0;
    memset(l, 0, sizeof *l);
    l->index = ifi->ifi_index;
    l->up = (ifi->ifi_flags & IFF_UP) != 0;
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        size_t n = RTA_PAYLOAD(a);
        if (a->rta_type == IFLA_MTU && n >= 4) memcpy(&l->mtu, RTA_DATA(a), 4);
        if (a->rta_type == IFLA_ADDRESS && n == 6) memcpy(l->mac, RTA_DATA(a), 6);
        if (a->rta_type == IFLA_IFALIAS)
            snprintf(l->alias, sizeof l->alias, "%.*s", (int)n, (const char *)RTA_DATA(a));
        if (a->rta_type == IFLA_LINKINFO) link_info(a, l);
    }
    return 0;
}

int net_nl_link_get(struct net_nl *nl, const char *name, int index, struct net_nl_link *out,
                    char *errmsg)
{
    struct nlmsg m;
    struct ifinfomsg *ifi = net_nlm_begin(&m, RTM_GETLINK, 0, sizeof *ifi);
    char what[64];

    memset(out, 0, sizeof *out);
    ifi->ifi_index = name ? 0 : index;
    if (name) net_nlm_str(&m, IFLA_IFNAME, name);
    snprintf(what, sizeof what, "link %s", name ? name : "");
    if (!name) snprintf(what, sizeof what, "link %d", index);
    int rv = net_nlm_talk(nl, &m, link_cb, out, what, errmsg);
    if (rv == 0 && out->index <= 0) rv = orc_errf(errmsg, NET_ERRLEN, ORC_ENOENT, "%s: not found", what);
    return rv;
}

/* ---- the vxlan device ---- */

int net_nl_vxlan_add(struct net_nl *nl, const struct net_nl_vxlan *v, char *errmsg)
{
    struct nlmsg m;
    struct rtattr *info, *data;
    uint32_t local = htonl(v->local);
    uint16_t port = htons(v->port);
    uint8_t off = 0;
    char what[64];

    net_nlm_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    net_nlm_str(&m, IFLA_IFNAME, v->name);
    net_nlm_attr(&m, IFLA_ADDRESS, v->mac, 6);
    if (v->mtu > 0) net_nlm_u32(&m, IFLA_MTU, (uint32_t)v->mtu);
    info = net_nlm_attr(&m, IFLA_LINKINFO, NULL, 0);
    net_nlm_str(&m, IFLA_INFO_KIND, "vxlan");
    data = net_nlm_attr(&m, IFLA_INFO_DATA, NULL, 0);
    net_nlm_u32(&m, IFLA_VXLAN_ID, v->vni);
    net_nlm_attr(&m, IFLA_VXLAN_LOCAL, &local, 4);
    if (v->link > 0) net_nlm_u32(&m, IFLA_VXLAN_LINK, (uint32_t)v->link);
    net_nlm_attr(&m, IFLA_VXLAN_PORT, &port, 2);
    /* peers are known from the Node objects, never learnt from traffic */
    net_nlm_attr(&m, IFLA_VXLAN_LEARNING, &off, 1);
    net_nlm_nest_end(&m, data);
    net_nlm_nest_end(&m, info);
    snprintf(what, sizeof what, "create vxlan device %s", v->name);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

/* ---- neighbours (AF_INET) and FDB entries (AF_BRIDGE) of one device ---- */

static int neigh_msg(struct net_nl *nl, int type, int flags, int ifindex, bool fdb,
                     const struct net_nl_neigh *e, char *errmsg)
{
    struct nlmsg m;
    struct ndmsg *nd = net_nlm_begin(&m, type, flags, sizeof *nd);
    uint32_t ip = htonl(e->ip);
    char what[96], a[16];

    nd->ndm_family = fdb ? AF_BRIDGE : AF_INET;
    nd->ndm_ifindex = ifindex;
    nd->ndm_state = NUD_PERMANENT;
    nd->ndm_flags = fdb ? NTF_SELF : 0;
    if (!fdb || e->ip) net_nlm_attr(&m, NDA_DST, &ip, 4);
    net_nlm_attr(&m, NDA_LLADDR, e->mac, 6);
    net_ip_str(e->ip, a);
    snprintf(what, sizeof what, "%s %s %02x:%02x:%02x:%02x:%02x:%02x %s",
             type == RTM_NEWNEIGH ? "add" : "delete", fdb ? "fdb entry" : "neighbour", e->mac[0],
             e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5], a);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

int net_nl_neigh_set(struct net_nl *nl, int ifindex, bool fdb, const struct net_nl_neigh *e,
                     char *errmsg)
{
    return neigh_msg(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, fdb, e, errmsg);
}

int net_nl_neigh_del(struct net_nl *nl, int ifindex, bool fdb, const struct net_nl_neigh *e,
                     char *errmsg)
{
    return neigh_msg(nl, RTM_DELNEIGH, 0, ifindex, fdb, e, errmsg);
}

struct neighs_ctx {
    int ifindex;
    bool fdb;
    struct net_nl_neigh *e;
    size_t n, cap;
};

static int neighs_cb(const struct nlmsghdr *h, void *arg)
{
    struct neighs_ctx *c = arg;
    const struct ndmsg *nd = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *nd);
    struct net_nl_neigh e = {0};
    bool has_mac = false;
    uint32_t v;

    if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_ifindex != c->ifindex
        || nd->ndm_family != (c->fdb ? AF_BRIDGE : AF_INET))
        return 0;
    if (!c->fdb && !(nd->ndm_state & NUD_PERMANENT)) return 0; /* the kernel's own, they age */
    for (const struct rtattr *a = (const void *)((const char *)nd + NLMSG_ALIGN(sizeof *nd));
         RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 4) {
            memcpy(&v, RTA_DATA(a), 4);
            e.ip = ntohl(v);
        }
        if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
            memcpy(e.mac, RTA_DATA(a), 6);
            has_mac = true;
        }
    }
    if (!has_mac) return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct net_nl_neigh *p = realloc(c->e, cap * sizeof *p);
        if (p == NULL) return ORC_ENOMEM;
        c->e = p;
        c->cap = cap;
    }
    c->e[c->n++] = e;
    return 0;
}

int net_nl_neighs(struct net_nl *nl, int ifindex, bool fdb, struct net_nl_neigh **out, size_t *n,
                  char *errmsg)
{
    struct nlmsg m;
    struct ndmsg *nd = net_nlm_begin(&m, RTM_GETNEIGH, NLM_F_DUMP, sizeof *nd);
    struct neighs_ctx c = {.ifindex = ifindex, .fdb = fdb};
    int rv;

    nd->ndm_family = fdb ? AF_BRIDGE : AF_INET;
    m.u.h.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    rv = net_nlm_talk(nl, &m, neighs_cb, &c, fdb ? "list fdb" : "list neighbours", errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, NET_ERRLEN, rv, "list neighbours: out of memory");
    if (rv != 0) {
        free(c.e);
        return rv;
    }
    *out = c.e;
    *n = c.n;
    return 0;
}
