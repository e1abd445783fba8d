/* ranges.c — sets of address or port ranges, merged so that nft's interval
 * sets never see two overlapping elements (it refuses them), and sets of
 * (address, protocol, port) pairs. */
#include <stdlib.h>

#include "lib/orc.h"
#include "netpol/netpol_int.h"

int np_rvec_add(struct np_rvec *r, uint32_t lo, uint32_t hi)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct netpol_range *v = realloc(r->v, cap * sizeof *v);
        if (!v) return ORC_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = (struct netpol_range){lo < hi ? lo : hi, lo < hi ? hi : lo};
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const struct netpol_range *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

void np_rvec_merge(struct np_rvec *r)
{
    size_t k = 0;

    if (r->n < 2) return;
    qsort(r->v, r->n, sizeof *r->v, range_cmp);
    for (size_t i = 1; i < r->n; i++) {
        struct netpol_range *cur = &r->v[k];
        /* adjacent too: 10.0.0.1 and 10.0.0.2 become one element */
        if (r->v[i].lo <= cur->hi || (cur->hi != UINT32_MAX && r->v[i].lo == cur->hi + 1)) {
            if (r->v[i].hi > cur->hi) cur->hi = r->v[i].hi;
        } else {
            r->v[++k] = r->v[i];
        }
    }
    r->n = k + 1;
}

int np_pairs_add(struct netpol_pair **v, size_t *n, size_t *cap, struct netpol_pair p)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct netpol_pair *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return ORC_ENOMEM;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = p;
    return 0;
}

static int pair_cmp(const void *a, const void *b)
{
    const struct netpol_pair *x = a, *y = b;
    if (x->ip != y->ip) return x->ip < y->ip ? -1 : 1;
    if (x->proto != y->proto) return x->proto < y->proto ? -1 : 1;
    return x->port < y->port ? -1 : x->port > y->port;
}

void np_pairs_uniq(struct netpol_pair *v, size_t *n)
{
    size_t k = 0;

    if (*n < 2) return;
    qsort(v, *n, sizeof *v, pair_cmp);
    for (size_t i = 1; i < *n; i++)
        if (pair_cmp(&v[i], &v[k]) != 0) v[++k] = v[i];
    *n = k + 1;
}
