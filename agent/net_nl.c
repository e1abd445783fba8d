/* net_nl.c — the few rtnetlink requests pod setup needs (links, addresses,
 * the default route), over a raw NETLINK_ROUTE socket: a pod's network in
 * well under a millisecond instead of several `ip` processes. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/net_int.h"
#include "agent/net_nlmsg.h"
#include "lib/orc.h"

#define NL_RECV_MAX 32768

void *net_nlm_put(struct nlmsg *m, size_t len)
{
    size_t at = NLMSG_ALIGN(m->u.h.nlmsg_len);
    /* the whole buffer, not the header member: GCC's object-size checks
     * (with ASan) would otherwise see writes past nlmsghdr */
    char *buf = (char *)m + offsetof(struct nlmsg, u);

    if (at + NLMSG_ALIGN(len) > sizeof m->u.buf) {
        m->overflow = 1;
        return NULL;
    }
    memset(buf + at, 0, NLMSG_ALIGN(len));
    m->u.h.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(len));
    return buf + at;
}

struct rtattr *net_nlm_attr(struct nlmsg *m, int type, const void *data, size_t len)
{
    struct rtattr *a = net_nlm_put(m, RTA_LENGTH(len));

    if (a == NULL) return NULL;
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
    return a;
}

void net_nlm_str(struct nlmsg *m, int type, const char *s) { net_nlm_attr(m, type, s, strlen(s) + 1); }

void net_nlm_u32(struct nlmsg *m, int type, uint32_t v) { net_nlm_attr(m, type, &v, sizeof v); }

void net_nlm_nest_end(struct nlmsg *m, struct rtattr *nest)
{
    if (nest) nest->rta_len = (unsigned short)(m->u.buf + m->u.h.nlmsg_len - (char *)nest);
}

/* Starts a request with its fixed header (ifinfomsg, ifaddrmsg, rtmsg). */
void *net_nlm_begin(struct nlmsg *m, int type, int flags, size_t hdrlen)
{
    memset(&m->u.h, 0, sizeof m->u.h);
    m->overflow = 0;
    m->u.h.nlmsg_len = NLMSG_HDRLEN;
    m->u.h.nlmsg_type = (uint16_t)type;
    m->u.h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
    return net_nlm_put(m, hdrlen);
}

static int nl_code(int err)
{
    switch (err) {
    case EEXIST: return ORC_EEXIST;
    case ENODEV: case ENOENT: case ESRCH: return ORC_ENOENT;
    case EPERM: case EACCES: return ORC_EPERM;
    case ENOMEM: case ENOBUFS: return ORC_ENOMEM;
    case EINVAL: case ERANGE: return ORC_EINVAL;
    default: return ORC_EIO;
    }
}

/* The kernel's own words (extended ack) when it gave some. */
static const char *ack_text(const struct nlmsghdr *h)
{
    const struct nlmsgerr *e = NLMSG_DATA(h);
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof *e);

    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return NULL;
    if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
    while (off + sizeof(struct nlattr) <= h->nlmsg_len) {
        const struct nlattr *a = (const void *)((const char *)h + off);
        if (a->nla_len < sizeof *a || off + a->nla_len > h->nlmsg_len) break;
        if (a->nla_type == NLMSGERR_ATTR_MSG) return (const char *)(a + 1);
        off += NLA_ALIGN(a->nla_len);
    }
    return NULL;
}

static int nl_fail(const struct nlmsghdr *h, int err, const char *what, char *errmsg)
{
    const char *text = h ? ack_text(h) : NULL;

    return orc_errf(errmsg, NET_ERRLEN, nl_code(err), "%s: %s%s%s", what, strerror(err),
                    text ? ": " : "", text ? text : "");
}

/* One reply datagram: 0 to read on, 1 when the exchange ended. */
static int nl_parse(const char *buf, int len, uint32_t seq, net_nlm_cb cb, void *arg,
                    const char *what, char *errmsg, int *rv)
{
    for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != seq) continue;
        if (h->nlmsg_type == NLMSG_DONE) return 1;
        if (h->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(h);
            *rv = e->error == 0 ? *rv : nl_fail(h, -e->error, what, errmsg);
            return 1;
        }
        if (cb && *rv == 0) *rv = cb(h, arg);
    }
    return 0;
}

int net_nlm_talk(struct net_nl *nl, struct nlmsg *m, net_nlm_cb cb, void *arg, const char *what,
                   char *errmsg)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    char *buf;
    int rv = 0, done = 0;

    if (m->overflow) return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "%s: request too long", what);
    m->u.h.nlmsg_seq = ++nl->seq;
    if (sendto(nl->fd, m->u.buf, m->u.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return nl_fail(NULL, errno, what, errmsg);
    buf = malloc(NL_RECV_MAX);
    if (buf == NULL) return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "%s: out of memory", what);
    while (!done) {
        ssize_t n = recv(nl->fd, buf, NL_RECV_MAX, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rv = nl_fail(NULL, errno, what, errmsg);
            break;
        }
        done = nl_parse(buf, (int)n, nl->seq, cb, arg, what, errmsg, &rv);
    }
    free(buf);
    return rv;
}

int net_nl_open(struct net_nl *nl, char *errmsg)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

    if (fd < 0) return nl_fail(NULL, errno, "netlink socket", errmsg);
    net_nl_wrap(nl, fd);
    return 0;
}

void net_nl_wrap(struct net_nl *nl, int fd)
{
    int one = 1;

    nl->fd = fd;
    nl->seq = 0;
    /* Errors without the echoed request, with the kernel's explanation:
     * both optional (older kernels), so failures are ignored. */
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
}

void net_nl_close(struct net_nl *nl)
{
    if (nl->fd >= 0) close(nl->fd);
    nl->fd = -1;
}

static int link_index_cb(const struct nlmsghdr *h, void *arg)
{
    const struct ifinfomsg *ifi = NLMSG_DATA(h);

    if (h->nlmsg_type == RTM_NEWLINK) *(int *)arg = ifi->ifi_index;
    return 0;
}

int net_nl_link_index(struct net_nl *nl, const char *name, char *errmsg)
{
    struct nlmsg m;
    char what[64];
    int index = 0, rv;

    net_nlm_begin(&m, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
    net_nlm_str(&m, IFLA_IFNAME, name);
    snprintf(what, sizeof what, "link %s", name);
    rv = net_nlm_talk(nl, &m, link_index_cb, &index, what, errmsg);
    if (rv != 0) return rv;
    return index > 0 ? index : orc_errf(errmsg, NET_ERRLEN, ORC_ENOENT, "link %s: not found", name);
}

static struct rtattr *link_kind(struct nlmsg *m, const char *kind)
{
    struct rtattr *info = net_nlm_attr(m, IFLA_LINKINFO, NULL, 0);
    net_nlm_str(m, IFLA_INFO_KIND, kind);
    return info;
}

int net_nl_bridge_add(struct net_nl *nl, const char *name, const uint8_t mac[6], char *errmsg)
{
    struct nlmsg m;
    char what[64];

    net_nlm_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    net_nlm_str(&m, IFLA_IFNAME, name);
    net_nlm_attr(&m, IFLA_ADDRESS, mac, 6);
    net_nlm_nest_end(&m, link_kind(&m, "bridge"));
    snprintf(what, sizeof what, "create bridge %s", name);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

int net_nl_veth_add(struct net_nl *nl, const char *host, const char *peer, int netns_fd,
                    const uint8_t peer_mac[6], int mtu, char *errmsg)
{
    struct nlmsg m;
    struct rtattr *info, *data, *p;
    char what[64];

    net_nlm_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    net_nlm_str(&m, IFLA_IFNAME, host);
    if (mtu > 0) net_nlm_u32(&m, IFLA_MTU, (uint32_t)mtu);
    info = link_kind(&m, "veth");
    data = net_nlm_attr(&m, IFLA_INFO_DATA, NULL, 0);
    p = net_nlm_attr(&m, VETH_INFO_PEER, NULL, 0);
    net_nlm_put(&m, sizeof(struct ifinfomsg)); /* the peer's own header */
    net_nlm_str(&m, IFLA_IFNAME, peer);
    net_nlm_attr(&m, IFLA_ADDRESS, peer_mac, 6);
    if (mtu > 0) net_nlm_u32(&m, IFLA_MTU, (uint32_t)mtu);
    net_nlm_u32(&m, IFLA_NET_NS_FD, (uint32_t)netns_fd);
    net_nlm_nest_end(&m, p);
    net_nlm_nest_end(&m, data);
    net_nlm_nest_end(&m, info);
    snprintf(what, sizeof what, "create veth %s", host);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

static int link_set(struct net_nl *nl, int ifindex, bool up, int master, const char *alias,
                    char *errmsg)
{
    struct nlmsg m;
    struct ifinfomsg *ifi = net_nlm_begin(&m, RTM_NEWLINK, 0, sizeof *ifi);
    char what[64];

    ifi->ifi_index = ifindex;
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
    if (master >= 0) net_nlm_u32(&m, IFLA_MASTER, (uint32_t)master);
    if (alias) net_nlm_str(&m, IFLA_IFALIAS, alias);
    snprintf(what, sizeof what, "set link %d %s", ifindex, up ? "up" : "down");
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

int net_nl_link_up(struct net_nl *nl, int ifindex, int master, const char *alias, char *errmsg)
{
    return link_set(nl, ifindex, true, master > 0 ? master : -1, alias, errmsg);
}

int net_nl_link_detach(struct net_nl *nl, int ifindex, char *errmsg)
{
    return link_set(nl, ifindex, false, 0, NULL, errmsg);
}

int net_nl_hairpin(struct net_nl *nl, int ifindex, char *errmsg)
{
    struct nlmsg m;
    struct ifinfomsg *ifi = net_nlm_begin(&m, RTM_SETLINK, 0, sizeof *ifi);
    struct rtattr *info;
    uint8_t on = 1;

    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = ifindex;
    info = net_nlm_attr(&m, IFLA_PROTINFO | NLA_F_NESTED, NULL, 0);
    net_nlm_attr(&m, IFLA_BRPORT_MODE, &on, 1);
    net_nlm_nest_end(&m, info);
    return net_nlm_talk(nl, &m, NULL, NULL, "set hairpin mode", errmsg);
}

int net_nl_link_del(struct net_nl *nl, const char *name, char *errmsg)
{
    struct nlmsg m;
    char what[64];

    net_nlm_begin(&m, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
    net_nlm_str(&m, IFLA_IFNAME, name);
    snprintf(what, sizeof what, "delete link %s", name);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

int net_nl_addr_add(struct net_nl *nl, int ifindex, uint32_t addr, int prefix, char *errmsg)
{
    struct nlmsg m;
    struct ifaddrmsg *ifa = net_nlm_begin(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof *ifa);
    uint32_t host = ntohl(addr);
    uint32_t bcast = htonl(host | (prefix >= 32 ? 0 : prefix ? ~0u >> prefix : ~0u));
    char what[64];

    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)ifindex;
    net_nlm_attr(&m, IFA_LOCAL, &addr, 4);
    net_nlm_attr(&m, IFA_ADDRESS, &addr, 4);
    if (prefix < 31) net_nlm_attr(&m, IFA_BROADCAST, &bcast, 4);
    snprintf(what, sizeof what, "add address to link %d", ifindex);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

int net_nl_route_default(struct net_nl *nl, int ifindex, uint32_t gw, char *errmsg)
{
    struct nlmsg m;
    struct rtmsg *rt = net_nlm_begin(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof *rt);

    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    net_nlm_attr(&m, RTA_GATEWAY, &gw, 4);
    net_nlm_u32(&m, RTA_OIF, (uint32_t)ifindex);
    return net_nlm_talk(nl, &m, NULL, NULL, "add default route", errmsg);
}

struct links_ctx {
    int master;
    const char *alias; /* prefix */
    char **names;
    size_t n, cap;
};

static int keep_name(struct links_ctx *c, const char *name)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **p = realloc(c->names, cap * sizeof *p);
        if (p == NULL) return ORC_ENOMEM;
        c->names = p;
        c->cap = cap;
    }
    c->names[c->n] = strdup(name);
    if (c->names[c->n] == NULL) return ORC_ENOMEM;
    c->n++;
    return 0;
}

static int links_cb(const struct nlmsghdr *h, void *arg)
{
    struct links_ctx *c = arg;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);
    const char *name = NULL, *alias = "";
    int master = 0;

    if (h->nlmsg_type != RTM_NEWLINK) return 0;
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME) name = RTA_DATA(a);
        if (a->rta_type == IFLA_IFALIAS) alias = RTA_DATA(a);
        if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= 4) memcpy(&master, RTA_DATA(a), 4);
    }
    if (name == NULL) return 0;
    if ((c->master > 0 && master == c->master)
        || (c->alias && strncmp(alias, c->alias, strlen(c->alias)) == 0))
        return keep_name(c, name);
    return 0;
}

int net_nl_links(struct net_nl *nl, int master, const char *alias, char ***names, size_t *n,
                 char *errmsg)
{
    struct nlmsg m;
    struct links_ctx c = {master, alias, NULL, 0, 0};
    int rv;

    net_nlm_begin(&m, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
    m.u.h.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    rv = net_nlm_talk(nl, &m, links_cb, &c, "list links", errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, NET_ERRLEN, rv, "list links: out of memory");
    if (rv != 0) {
        for (size_t i = 0; i < c.n; i++) free(c.names[i]);
        free(c.names);
        return rv;
    }
    *names = c.names;
    *n = c.n;
    return 0;
}

/* ---- routes to other nodes' pod CIDRs, and the addresses they go by ---- */

static int route_msg(struct net_nl *nl, int type, int flags, const struct net_nl_route *r,
                     char *errmsg)
{
    struct nlmsg m;
    struct rtmsg *rt = net_nlm_begin(&m, type, flags, sizeof *rt);
    uint32_t dst = htonl(r->dst), gw = htonl(r->gw);
    char what[64], d[16];

    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = (unsigned char)r->prefix;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = NET_RTPROT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    if (r->onlink) rt->rtm_flags |= RTNH_F_ONLINK;
    net_nlm_attr(&m, RTA_DST, &dst, 4);
    if (type == RTM_NEWROUTE) {
        net_nlm_attr(&m, RTA_GATEWAY, &gw, 4);
        net_nlm_u32(&m, RTA_OIF, (uint32_t)r->oif);
    }
    net_ip_str(r->dst, d);
    snprintf(what, sizeof what, "%s route %s/%d", type == RTM_NEWROUTE ? "add" : "delete", d,
             r->prefix);
    return net_nlm_talk(nl, &m, NULL, NULL, what, errmsg);
}

int net_nl_route_set(struct net_nl *nl, const struct net_nl_route *r, char *errmsg)
{
    return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r, errmsg);
}

int net_nl_route_del(struct net_nl *nl, const struct net_nl_route *r, char *errmsg)
{
    return route_msg(nl, RTM_DELROUTE, 0, r, errmsg);
}

struct routes_ctx {
    struct net_nl_route *r;
    size_t n, cap;
};

static int routes_cb(const struct nlmsghdr *h, void *arg)
{
    struct routes_ctx *c = arg;
    const struct rtmsg *rt = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *rt);
    struct net_nl_route e = {0};
    uint32_t v;

    if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET
        || rt->rtm_protocol != NET_RTPROT || rt->rtm_table != RT_TABLE_MAIN)
        return 0;
    e.prefix = rt->rtm_dst_len;
    e.onlink = (rt->rtm_flags & RTNH_F_ONLINK) != 0;
    for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (RTA_PAYLOAD(a) < 4) continue;
        memcpy(&v, RTA_DATA(a), 4);
        if (a->rta_type == RTA_DST) e.dst = ntohl(v);
        if (a->rta_type == RTA_GATEWAY) e.gw = ntohl(v);
        if (a->rta_type == RTA_OIF) e.oif = (int)v;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct net_nl_route *p = realloc(c->r, cap * sizeof *p);
        if (p == NULL) return ORC_ENOMEM;
        c->r = p;
        c->cap = cap;
    }
    c->r[c->n++] = e;
    return 0;
}

int net_nl_routes(struct net_nl *nl, struct net_nl_route **out, size_t *n, char *errmsg)
{
    struct nlmsg m;
    struct rtmsg *rt = net_nlm_begin(&m, RTM_GETROUTE, NLM_F_DUMP, sizeof *rt);
    struct routes_ctx c = {0};
    int rv;

    rt->rtm_family = AF_INET;
    m.u.h.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    rv = net_nlm_talk(nl, &m, routes_cb, &c, "list routes", errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, NET_ERRLEN, rv, "list routes: out of memory");
    if (rv != 0) {
        free(c.r);
        return rv;
    }
    *out = c.r;
    *n = c.n;
    return 0;
}

struct addrs_ctx {
    struct net_nl_addr *a;
    size_t n, cap;
};

static int addrs_cb(const struct nlmsghdr *h, void *arg)
{
    struct addrs_ctx *c = arg;
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifa);
    struct net_nl_addr e = {.ifindex = (int)ifa->ifa_index, .prefix = ifa->ifa_prefixlen};
    uint32_t v;
    bool found = false;

    if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET) return 0;
    for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if ((a->rta_type == IFA_LOCAL || (a->rta_type == IFA_ADDRESS && !found))
            && RTA_PAYLOAD(a) >= 4) {
            memcpy(&v, RTA_DATA(a), 4);
            e.addr = ntohl(v);
            found = true;
        }
    }
    if (!found) return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct net_nl_addr *p = realloc(c->a, cap * sizeof *p);
        if (p == NULL) return ORC_ENOMEM;
        c->a = p;
        c->cap = cap;
    }
    c->a[c->n++] = e;
    return 0;
}

int net_nl_addrs(struct net_nl *nl, struct net_nl_addr **out, size_t *n, char *errmsg)
{
    struct nlmsg m;
    struct ifaddrmsg *ifa = net_nlm_begin(&m, RTM_GETADDR, NLM_F_DUMP, sizeof *ifa);
    struct addrs_ctx c = {0};
    int rv;

    ifa->ifa_family = AF_INET;
    m.u.h.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    rv = net_nlm_talk(nl, &m, addrs_cb, &c, "list addresses", errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, NET_ERRLEN, rv, "list addresses: out of memory");
    if (rv != 0) {
        free(c.a);
        return rv;
    }
    *out = c.a;
    *n = c.n;
    return 0;
}
