/* net_nlmsg.h — building and sending rtnetlink requests, shared by the
 * files that talk netlink (net_nl.c: links, addresses, routes;
 * net_vxlan_nl.c: the vxlan device, neighbours, FDB). Internal to agent/. */
#ifndef ORC_AGENT_NET_NLMSG_H
#define ORC_AGENT_NET_NLMSG_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/net_int.h"

#define NL_MSG_MAX 1024

/* One request being built; overflow is set (and the request refused by
 * net_nlm_talk) when an attribute did not fit. */
struct nlmsg {
    union {
        struct nlmsghdr h;
        char buf[NL_MSG_MAX];
    } u;
    int overflow;
};

/* Called for every reply message that is not an ack, error or end of dump;
 * a non-zero return stops the callbacks and is what net_nlm_talk returns. */
typedef int (*net_nlm_cb)(const struct nlmsghdr *h, void *arg);

/* Starts a request (NLM_F_REQUEST | NLM_F_ACK | flags) with its fixed
 * header (ifinfomsg, ifaddrmsg, rtmsg, ndmsg), zeroed; returns it. */
void *net_nlm_begin(struct nlmsg *m, int type, int flags, size_t hdrlen);
/* Appends len zeroed bytes; NULL on overflow. */
void *net_nlm_put(struct nlmsg *m, size_t len);
/* Appends an attribute (a nest when data is NULL and len 0: close it with
 * net_nlm_nest_end). */
struct rtattr *net_nlm_attr(struct nlmsg *m, int type, const void *data, size_t len);
void net_nlm_str(struct nlmsg *m, int type, const char *s);
void net_nlm_u32(struct nlmsg *m, int type, uint32_t v);
void net_nlm_nest_end(struct nlmsg *m, struct rtattr *nest);
/* Sends the request and reads replies until its ack or end of dump. what
 * names the request in the error message (errmsg: NET_ERRLEN bytes). */
int net_nlm_talk(struct net_nl *nl, struct nlmsg *m, net_nlm_cb cb, void *arg, const char *what,
                 char *errmsg);

#endif
