/* conntrack.c — UDP conntrack entries left to endpoints that went: a UDP
 * "connection" has no close, so a client sending every second would keep
 * reaching a dead endpoint until its entry times out. As kube-proxy does,
 * they are deleted once the rules no longer lead there (`conntrack -D`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/orc.h"
#include "lib/run.h"
#include "proxy/proxy.h"

static bool listed(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

struct flushes {
    struct proxy_ct_flush *v;
    size_t n, cap;
};

static int add(struct flushes *f, const char *dst, int node_port, const char *ep)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        struct proxy_ct_flush *v = realloc(f->v, nc * sizeof *v);
        if (!v) return ORC_ENOMEM;
        f->v = v;
        f->cap = nc;
    }
    struct proxy_ct_flush *x = &f->v[f->n++];
    snprintf(x->dst, sizeof x->dst, "%s", dst ? dst : "");
    x->node_port = node_port;
    snprintf(x->ep, sizeof x->ep, "%s", ep ? ep : "");
    return 0;
}

/* Entries of old's destinations answered by ep ("" = any). */
static int flush_to(struct flushes *f, const struct proxy_unit *old, const char *ep)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < old->n_udp_dests; i++) rc = add(f, old->udp_dests[i], 0, ep);
    if (rc == 0 && old->udp_node_port) rc = add(f, NULL, old->udp_node_port, ep);
    return rc;
}

int proxy_udp_stale(const struct proxy_state *old, const struct proxy_state *cur, struct proxy_ct_flush **out,
                    size_t *n)
{
    struct flushes f = {0};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < old->n; i++) {
        const struct proxy_unit *o = &old->units[i], *c = proxy_state_find(cur, o->key);
        if (!o->n_udp_eps) continue;
        if (!c || !c->n_udp_eps) {
            rc = flush_to(&f, o, NULL);
            continue;
        }
        for (size_t k = 0; rc == 0 && k < o->n_udp_eps; k++)
            if (!listed(c->udp_eps, c->n_udp_eps, o->udp_eps[k])) rc = flush_to(&f, o, o->udp_eps[k]);
    }
    if (rc != 0) {
        free(f.v);
        f.v = NULL;
        f.n = 0;
    }
    *out = f.v;
    *n = f.n;
    return rc;
}

int proxy_conntrack_flush(const struct proxy_ct_flush *f, char *errmsg)
{
    static const char *const paths[] = {"/usr/sbin/conntrack", "/sbin/conntrack"};
    const char *tool = NULL;
    char port[16], *argv[12];
    int n = 0;

    for (size_t i = 0; i < ORC_ARRAY_LEN(paths) && !tool; i++)
        if (access(paths[i], X_OK) == 0) tool = paths[i];
    if (!tool) return orc_errf(errmsg, 256, ORC_ENOENT, "conntrack is not installed");
    argv[n++] = (char *)tool;
    argv[n++] = "-D";
    argv[n++] = "-p";
    argv[n++] = "udp";
    if (f->dst[0]) {
        argv[n++] = "--orig-dst";
        argv[n++] = (char *)f->dst;
    } else {
        snprintf(port, sizeof port, "%d", f->node_port);
        argv[n++] = "--orig-port-dst";
        argv[n++] = port;
    }
    if (f->ep[0]) {
        argv[n++] = "--reply-src";
        argv[n++] = (char *)f->ep;
    }
    argv[n] = NULL;
    struct orc_buf err = ORC_BUF_INIT;
    struct orc_run_io io = {NULL, 0, NULL, &err};
    char line[200];
    int st = orc_run(argv, &io);
    orc_run_first_line(err.data, line, sizeof line);
    orc_buf_free(&err);
    /* 1: nothing matched ("0 flow entries have been deleted") */
    if (st == 0 || st == 1) return 0;
    return orc_errf(errmsg, 256, st < 0 ? st : ORC_EIO, "conntrack: %s", st < 0 ? orc_strerror(st) : line);
}
