/* expectations.c — outstanding creates/deletes per controller key (see
 * expectations.h); a plain array, as a controller has few keys in flight. */
#include "controllers/expectations.h"

#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

struct exp_entry {
    char *key;
    int64_t adds, dels;
    uint64_t at_ms;
};

struct ctl_expectations {
    struct exp_entry *v;
    size_t n, cap;
};

ctl_expectations *ctl_exp_new(void)
{
    return calloc(1, sizeof(ctl_expectations));
}

void ctl_exp_free(ctl_expectations *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->n; i++) free(e->v[i].key);
    free(e->v);
    free(e);
}

static struct exp_entry *find(const ctl_expectations *e, const char *key)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].key, key) == 0) return &e->v[i];
    return NULL;
}

int ctl_exp_expect(ctl_expectations *e, const char *key, int64_t adds, int64_t dels,
                   uint64_t now_ms)
{
    struct exp_entry *x = find(e, key);

    if (!x) {
        if (e->n == e->cap) {
            size_t cap = e->cap ? e->cap * 2 : 8;
            struct exp_entry *v = realloc(e->v, cap * sizeof *v);
            if (!v) return ORC_ENOMEM;
            e->v = v;
            e->cap = cap;
        }
        x = &e->v[e->n];
        if (!(x->key = strdup(key))) return ORC_ENOMEM;
        e->n++;
    }
    x->adds = adds;
    x->dels = dels;
    x->at_ms = now_ms;
    return 0;
}

void ctl_exp_observe_add(ctl_expectations *e, const char *key)
{
    struct exp_entry *x = find(e, key);
    if (x && x->adds > 0) x->adds--;
}

void ctl_exp_observe_del(ctl_expectations *e, const char *key)
{
    struct exp_entry *x = find(e, key);
    if (x && x->dels > 0) x->dels--;
}

bool ctl_exp_satisfied(const ctl_expectations *e, const char *key, uint64_t now_ms)
{
    const struct exp_entry *x = find(e, key);
    if (!x || (x->adds <= 0 && x->dels <= 0)) return true;
    return now_ms - x->at_ms >= CTL_EXPECTATIONS_TIMEOUT_MS;
}

void ctl_exp_forget(ctl_expectations *e, const char *key)
{
    struct exp_entry *x = find(e, key);
    if (!x) return;
    free(x->key);
    *x = e->v[--e->n];
}
