/* net_hostport.c — which pod of this node holds which host port: one state
 * file per published port ("tcp-8080-any", "udp-53-10.0.0.5") naming the
 * pod, mirrored in memory, so a conflict is found and reported before any
 * rule is written. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/orc.h"

static int add(struct net_hp *h, const struct net_hp_ent *e)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct net_hp_ent *p = realloc(h->ents, cap * sizeof *p);
        if (p == NULL) return ORC_ENOMEM;
        h->ents = p;
        h->cap = cap;
    }
    h->ents[h->n++] = *e;
    return 0;
}

static void file_name(const struct net_hp_ent *e, char *out, size_t n)
{
    snprintf(out, n, "%s-%d-%s", e->proto, e->port, e->host_ip[0] ? e->host_ip : "any");
}

/* Inverse of file_name; false for anything else in the directory. */
static bool parse_name(const char *name, struct net_hp_ent *e)
{
    char proto[8], ip[16];
    struct in_addr in;
    int port, used = 0;

    memset(e, 0, sizeof *e);
    if (sscanf(name, "%7[a-z]-%d-%15[0-9a-z.]%n", proto, &port, ip, &used) != 3
        || name[used] != '\0' || port < 1 || port > 65535)
        return false;
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
        return false;
    if (strcmp(ip, "any") != 0 && inet_pton(AF_INET, ip, &in) != 1) return false;
    snprintf(e->proto, sizeof e->proto, "%s", proto);
    snprintf(e->host_ip, sizeof e->host_ip, "%s", strcmp(ip, "any") ? ip : "");
    e->port = port;
    return true;
}

static int load(struct net_hp *h)
{
    DIR *d = opendir(h->dir);
    struct dirent *de;
    struct net_hp_ent e;
    char path[4096];
    int rv = 0;

    if (d == NULL) return ORC_EIO;
    while (rv == 0 && (de = readdir(d)) != NULL) {
        if (!parse_name(de->d_name, &e)) continue;
        snprintf(path, sizeof path, "%s/%s", h->dir, de->d_name);
        net_owner_read(path, e.uid);
        if (e.uid[0] == '\0') unlink(path);
        else rv = add(h, &e);
    }
    closedir(d);
    return rv;
}

int net_hp_open(struct net_hp *h, const char *state_dir, char *errmsg)
{
    int rv;

    memset(h, 0, sizeof *h);
    h->dir = net_state_path(state_dir, "ports");
    if (h->dir == NULL) return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    rv = orc_mkdirs(h->dir, 0700);
    if (rv == 0) rv = load(h);
    if (rv != 0) {
        orc_errf(errmsg, NET_ERRLEN, rv, "host ports in %s: %s", h->dir, orc_strerror(rv));
        net_hp_close(h);
    }
    return rv;
}

void net_hp_close(struct net_hp *h)
{
    free(h->dir);
    free(h->ents);
    memset(h, 0, sizeof *h);
}

int net_hp_entry(const char *uid, const struct net_port *p, struct net_hp_ent *e, char *errmsg)
{
    static const char *const protos[] = {"tcp", "udp", "sctp"};
    const char *proto = p->protocol && *p->protocol ? p->protocol : "TCP";
    const char *ip = p->host_ip && *p->host_ip ? p->host_ip : "0.0.0.0";
    struct in_addr in;

    memset(e, 0, sizeof *e);
    snprintf(e->uid, sizeof e->uid, "%s", uid);
    for (size_t i = 0; i < ORC_ARRAY_LEN(protos); i++)
        if (strcasecmp(proto, protos[i]) == 0) snprintf(e->proto, sizeof e->proto, "%s", protos[i]);
    if (e->proto[0] == '\0')
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "port protocol \"%s\": TCP, UDP or SCTP",
                        proto);
    if (p->container_port < 1 || p->container_port > 65535 || p->host_port < 1
        || p->host_port > 65535)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "hostPort %d -> containerPort %d: out of range",
                        p->host_port, p->container_port);
    if (inet_pton(AF_INET, ip, &in) != 1)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "hostIP \"%s\": an IPv4 address expected", ip);
    if (in.s_addr != 0) inet_ntop(AF_INET, &in, e->host_ip, sizeof e->host_ip);
    e->port = p->host_port;
    return 0;
}

static bool overlaps(const struct net_hp_ent *a, const struct net_hp_ent *b)
{
    return a->port == b->port && strcmp(a->proto, b->proto) == 0
           && (a->host_ip[0] == '\0' || b->host_ip[0] == '\0' || strcmp(a->host_ip, b->host_ip) == 0);
}

static void describe(const struct net_hp_ent *e, char *out, size_t n)
{
    char proto[8];

    for (size_t i = 0; i < sizeof proto; i++) proto[i] = (char)toupper((unsigned char)e->proto[i]);
    snprintf(out, n, "%d/%s%s%s", e->port, proto, e->host_ip[0] ? " on " : "", e->host_ip);
}

int net_hp_check(const struct net_hp *h, const char *uid, const struct net_port *ports, size_t n,
                 char *errmsg)
{
    struct net_hp_ent e, prev;
    char what[64];

    for (size_t i = 0; i < n; i++) {
        if (ports[i].host_port <= 0) continue;
        int rv = net_hp_entry(uid, &ports[i], &e, errmsg);
        if (rv != 0) return rv;
        describe(&e, what, sizeof what);
        for (size_t j = 0; j < i; j++) {
            if (ports[j].host_port <= 0 || net_hp_entry(uid, &ports[j], &prev, NULL) != 0) continue;
            if (overlaps(&e, &prev))
                return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "hostPort %s is listed twice", what);
        }
        for (size_t j = 0; j < h->n; j++) {
            if (strcmp(h->ents[j].uid, uid) != 0 && overlaps(&e, &h->ents[j]))
                return orc_errf(errmsg, NET_ERRLEN, ORC_EEXIST,
                                "hostPort %s is already used by pod %s", what, h->ents[j].uid);
        }
    }
    return 0;
}

static bool same(const struct net_hp_ent *a, const struct net_hp_ent *b)
{
    return a->port == b->port && strcmp(a->proto, b->proto) == 0 && strcmp(a->host_ip, b->host_ip) == 0;
}

static bool wanted(const struct net_hp_ent *e, const char *uid, const struct net_port *ports, size_t n)
{
    struct net_hp_ent w;

    for (size_t i = 0; i < n; i++)
        if (ports[i].host_port > 0 && net_hp_entry(uid, &ports[i], &w, NULL) == 0 && same(e, &w))
            return true;
    return false;
}

static int drop(struct net_hp *h, size_t i)
{
    char name[64], path[4096];

    file_name(&h->ents[i], name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", h->dir, name);
    if (unlink(path) != 0 && errno != ENOENT) return ORC_EIO;
    h->ents[i] = h->ents[--h->n];
    return 0;
}

static bool held(const struct net_hp *h, const struct net_hp_ent *e)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ents[i].uid, e->uid) == 0 && same(&h->ents[i], e)) return true;
    return false;
}

int net_hp_reserve(struct net_hp *h, const char *uid, const struct net_port *ports, size_t n,
                   char *errmsg)
{
    struct net_hp_ent e;
    char name[64], path[4096];
    int rv;

    for (size_t i = 0; i < n; i++) {
        if (ports[i].host_port <= 0) continue;
        rv = net_hp_entry(uid, &ports[i], &e, errmsg);
        if (rv != 0) return rv;
        if (held(h, &e)) continue;
        file_name(&e, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", h->dir, name);
        rv = net_owner_write(path, uid, false);
        if (rv == 0) rv = add(h, &e);
        if (rv != 0)
            return orc_errf(errmsg, NET_ERRLEN, rv, "reserve host port in %s: %s", path,
                            orc_strerror(rv));
    }
    return 0;
}

void net_hp_prune(struct net_hp *h, const char *uid, const struct net_port *ports, size_t n)
{
    for (size_t i = h->n; i > 0; i--) {
        if (strcmp(h->ents[i - 1].uid, uid) == 0 && !wanted(&h->ents[i - 1], uid, ports, n))
            drop(h, i - 1);
    }
}

bool net_hp_has(const struct net_hp *h, const char *uid)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ents[i].uid, uid) == 0) return true;
    return false;
}

void net_hp_release(struct net_hp *h, const char *uid)
{
    for (size_t i = h->n; i > 0; i--)
        if (strcmp(h->ents[i - 1].uid, uid) == 0) drop(h, i - 1);
}
