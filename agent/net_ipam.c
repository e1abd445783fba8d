/* net_ipam.c — pod CIDR parsing and a host-local address pool: one file
 * per allocated address naming its pod, so a restarted agent hands every
 * pod its address back. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/orc.h"

int net_cidr_parse(const char *s, struct net_cidr *out, char *errmsg)
{
    char addr[32];
    const char *slash = s ? strchr(s, '/') : NULL;
    struct in_addr in;
    char *end;
    long prefix;

    if (s == NULL || *s == '\0')
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "pod CIDR is empty");
    if (slash == NULL || (size_t)(slash - s) >= sizeof addr)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "pod CIDR \"%s\" is not ADDRESS/PREFIX", s);
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    errno = 0;
    prefix = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, addr, &in) != 1 || slash[1] == '\0' || *end != '\0' || errno != 0)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "pod CIDR \"%s\" is not an IPv4 CIDR", s);
    if (prefix < 8 || prefix > 30)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL,
                        "pod CIDR \"%s\": prefix must be 8..30 (room for a gateway and pods)", s);
    out->prefix = (int)prefix;
    out->mask = ~0u << (32 - prefix);
    out->net = ntohl(in.s_addr);
    if (out->net & ~out->mask)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL,
                        "pod CIDR \"%s\" has host bits set (network address expected)", s);
    return 0;
}

uint32_t net_cidr_gateway(const struct net_cidr *c) { return c->net + 1; }

bool net_cidr_contains(const struct net_cidr *c, uint32_t ip) { return (ip & c->mask) == c->net; }

void net_ip_str(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static struct net_ipam_ent *find(const struct net_ipam *p, const char *uid)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->ents[i].uid, uid) == 0) return &p->ents[i];
    return NULL;
}

static bool taken(const struct net_ipam *p, uint32_t ip)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->ents[i].ip == ip) return true;
    return false;
}

static int add(struct net_ipam *p, const char *uid, uint32_t ip)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct net_ipam_ent *e = realloc(p->ents, cap * sizeof *e);
        if (e == NULL) return ORC_ENOMEM;
        p->ents = e;
        p->cap = cap;
    }
    snprintf(p->ents[p->n].uid, sizeof p->ents[p->n].uid, "%s", uid);
    p->ents[p->n].ip = ip;
    p->n++;
    return 0;
}

static void ip_path(const struct net_ipam *p, uint32_t ip, char *out, size_t n)
{
    char s[16];

    net_ip_str(ip, s);
    snprintf(out, n, "%s/%s", p->dir, s);
}

static int load(struct net_ipam *p)
{
    DIR *d = opendir(p->dir);
    struct dirent *de;
    char path[4096], uid[NET_UID_MAX + 1];
    struct in_addr in;
    int rv = 0;

    if (d == NULL) return ORC_EIO;
    while (rv == 0 && (de = readdir(d)) != NULL) {
        if (inet_pton(AF_INET, de->d_name, &in) != 1) continue;
        snprintf(path, sizeof path, "%s/%s", p->dir, de->d_name);
        net_owner_read(path, uid);
        if (uid[0] == '\0') {
            unlink(path);
            continue;
        }
        rv = add(p, uid, ntohl(in.s_addr));
        if (net_cidr_contains(&p->cidr, ntohl(in.s_addr)) && ntohl(in.s_addr) > p->last)
            p->last = ntohl(in.s_addr);
    }
    closedir(d);
    return rv;
}

int net_ipam_open(struct net_ipam *p, const char *state_dir, const struct net_cidr *cidr,
                  char *errmsg)
{
    int rv;

    memset(p, 0, sizeof *p);
    p->cidr = *cidr;
    p->last = net_cidr_gateway(cidr);
    p->dir = net_state_path(state_dir, "ips");
    if (p->dir == NULL) return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    rv = orc_mkdirs(p->dir, 0700);
    if (rv == 0) rv = load(p);
    if (rv != 0) {
        orc_errf(errmsg, NET_ERRLEN, rv, "address pool in %s: %s", p->dir, orc_strerror(rv));
        net_ipam_close(p);
    }
    return rv;
}

void net_ipam_close(struct net_ipam *p)
{
    free(p->dir);
    free(p->ents);
    memset(p, 0, sizeof *p);
}

uint32_t net_ipam_find(const struct net_ipam *p, const char *uid)
{
    const struct net_ipam_ent *e = find(p, uid);
    return e ? e->ip : 0;
}

/* Creating the file exclusively is the reservation. */
static int claim(struct net_ipam *p, const char *uid, uint32_t ip)
{
    char path[4096];
    int rv;

    ip_path(p, ip, path, sizeof path);
    rv = net_owner_write(path, uid, true);
    if (rv == 0 && add(p, uid, ip) != 0) {
        unlink(path);
        rv = ORC_ENOMEM;
    }
    return rv;
}

/* Round robin from the last allocation, so a freed address is reused as
 * late as possible (stale ARP entries and connections age out first). */
static int pick(struct net_ipam *p, const char *uid, uint32_t *ip, char *errmsg)
{
    uint32_t first = p->cidr.net + 2, bcast = p->cidr.net | ~p->cidr.mask;
    uint32_t size = bcast - first, start = p->last + 1;
    char cidr[16];

    for (uint32_t i = 0; i < size; i++) {
        uint32_t cand = first + (start - first + i) % size;
        int rv;
        if (taken(p, cand)) continue;
        rv = claim(p, uid, cand);
        if (rv == ORC_EEXIST) continue;
        if (rv != 0)
            return orc_errf(errmsg, NET_ERRLEN, rv, "reserve an address in %s: %s", p->dir,
                            orc_strerror(rv));
        p->last = cand;
        *ip = cand;
        return 0;
    }
    net_ip_str(p->cidr.net, cidr);
    return orc_errf(errmsg, NET_ERRLEN, ORC_ENOSPC,
                    "pod CIDR %s/%d is exhausted: all %u pod addresses are in use", cidr,
                    p->cidr.prefix, size);
}

int net_ipam_alloc(struct net_ipam *p, const char *uid, uint32_t *ip, bool *fresh, char *errmsg)
{
    const struct net_ipam_ent *e = find(p, uid);

    if (e && net_cidr_contains(&p->cidr, e->ip) && e->ip > p->cidr.net + 1
        && e->ip < (p->cidr.net | ~p->cidr.mask)) {
        *ip = e->ip;
        *fresh = false;
        return 0;
    }
    if (e) net_ipam_release(p, uid); /* from another pod CIDR */
    *fresh = true;
    return pick(p, uid, ip, errmsg);
}

int net_ipam_release(struct net_ipam *p, const char *uid)
{
    struct net_ipam_ent *e = find(p, uid);
    char path[4096];

    if (e == NULL) return 0;
    ip_path(p, e->ip, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT) return ORC_EIO;
    *e = p->ents[--p->n];
    return 0;
}

int net_ipam_list_dir(const char *state_dir, char ***uids, size_t *n)
{
    struct net_ipam p;
    struct net_cidr any = {0, 0, 0};
    char msg[NET_ERRLEN];
    char **out;
    int rv;

    *uids = NULL;
    *n = 0;
    rv = net_ipam_open(&p, state_dir, &any, msg);
    if (rv != 0) return rv;
    out = calloc(p.n ? p.n : 1, sizeof *out);
    for (size_t i = 0; out && i < p.n; i++) {
        out[i] = strdup(p.ents[i].uid);
        if (out[i] == NULL) {
            while (i > 0) free(out[--i]);
            free(out);
            out = NULL;
        }
    }
    if (out) {
        *uids = out;
        *n = p.n;
    }
    net_ipam_close(&p);
    return out ? 0 : ORC_ENOMEM;
}
