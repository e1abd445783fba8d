/* informer_set.c — one informer per kind across all namespaces, shared by
 * every component on a loop, each carrying the "namespace", "owner" and
 * "node" indexes. */
#include <stdlib.h>

#include "client/informer.h"
#include "lib/buf.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"

struct set_entry {
    const struct orc_kind *kind; /* static table row: compared by address */
    informer *inf;
};

struct informer_set {
    uv_loop_t *loop;
    http_client *c;
    struct set_entry *v;
    size_t n, cap;
};

int informer_set_new(uv_loop_t *loop, http_client *c, informer_set **out)
{
    informer_set *s;

    if (loop == NULL || c == NULL || out == NULL) return ORC_EINVAL;
    s = calloc(1, sizeof *s);
    if (s == NULL) return ORC_ENOMEM;
    s->loop = loop;
    s->c = c;
    *out = s;
    return 0;
}

static informer *start_kind(informer_set *s, const struct orc_kind *k)
{
    struct orc_buf path = ORC_BUF_INIT;
    struct informer_config cfg = {0};
    informer *inf = NULL;
    int rv = orc_kind_path(k, NULL, NULL, NULL, &path);

    cfg.path = path.data;
    if (rv == 0) rv = informer_start(s->loop, s->c, &cfg, NULL, NULL, &inf);
    if (rv == 0) informer_set_transform(inf, informer_strip_unused);
    if (rv == 0 && (informer_add_index(inf, "namespace", informer_index_namespace) != 0 ||
                    informer_add_index(inf, "owner", informer_index_owner_uid) != 0 ||
                    informer_add_index(inf, "node", informer_index_node_name) != 0))
        rv = ORC_ENOMEM;
    if (rv != 0) {
        log_error("informer", "cannot start the informer of %s: %s", k->resource,
                  orc_strerror(rv));
        informer_stop(inf);
        inf = NULL;
    }
    orc_buf_free(&path);
    return inf;
}

informer *informer_set_get(informer_set *s, const struct orc_kind *k)
{
    informer *inf;

    if (s == NULL || k == NULL) return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].kind == k) return s->v[i].inf;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        struct set_entry *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL) {
            log_error("informer", "cannot start the informer of %s: out of memory", k->resource);
            return NULL;
        }
        s->v = v;
        s->cap = cap;
    }
    inf = start_kind(s, k);
    if (inf == NULL) return NULL;
    s->v[s->n++] = (struct set_entry){k, inf};
    return inf;
}

bool informer_set_synced(const informer_set *s)
{
    if (s == NULL) return false;
    for (size_t i = 0; i < s->n; i++)
        if (!informer_synced(s->v[i].inf)) return false;
    return true;
}

void informer_set_free(informer_set *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < s->n; i++) informer_stop(s->v[i].inf);
    free(s->v);
    free(s);
}
