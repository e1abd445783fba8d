/* metrics_collect.c — the metrics.k8s.io collector of one API member (as
 * metrics-server's scraper): every resolution, a GET of each Ready node's
 * /metrics/resource; the last two scrapes per node stay in memory and give
 * the usage the API serves. Nothing goes to the Raft store: each member
 * keeps its own, so any member answers `kubectl top`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/resmetrics.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "metrics"
#define SCRAPE_TIMEOUT_MS 10000

struct scrape_op;

struct mx_node {
    struct api_mx_node usage; /* name and the computed usage */
    struct api_mx_scrape last;
    bool has_last;
    bool seen;                   /* Ready in this round's node list */
    struct api_agent_call *call; /* a scrape in flight */
    struct scrape_op *op;        /* its state */
};

struct api_mx {
    struct api_server *s;
    uv_timer_t timer;
    unsigned resolution_ms;
    struct mx_node **nodes;
    size_t n;
    struct api_mx_node *view; /* api_mx_nodes' answer, rebuilt on demand */
    size_t view_n;
};

/* The collector's nodes are looked up by name when a scrape answers: a
 * node dropped meanwhile just has its answer ignored. */
struct scrape_op {
    struct api_mx *m;
    char node[256];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct mx_node *node_find(struct api_mx *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->nodes[i]->usage.name, name) == 0) return m->nodes[i];
    return NULL;
}

static struct mx_node *node_add(struct api_mx *m, const char *name)
{
    struct mx_node **nn = realloc(m->nodes, (m->n + 1) * sizeof *nn), *n;

    if (nn == NULL) return NULL;
    m->nodes = nn;
    if ((n = calloc(1, sizeof *n)) == NULL) return NULL;
    snprintf(n->usage.name, sizeof n->usage.name, "%s", name);
    m->nodes[m->n++] = n;
    return n;
}

static void node_free(struct mx_node *n)
{
    if (n->call) {
        n->op->m = NULL; /* its answer, ECANCELED, comes later and finds nothing */
        api_agent_call_cancel(n->call);
    }
    api_mx_node_clear(&n->usage);
    api_mx_scrape_free(&n->last);
    free(n);
}

/* ---- one scrape ---- */

static void on_scraped(void *arg, int err, const struct http_response *resp)
{
    struct scrape_op *op = arg;
    struct api_mx *m = op->m;
    struct mx_node *n = m ? node_find(m, op->node) : NULL;
    struct api_mx_scrape cur;
    struct api_mx_node usage = {0};
    int rv;

    if (n == NULL) goto out;
    n->call = NULL;
    if (err != 0 || resp->status != 200) {
        /* as metrics-server's store, replaced by each round: a node that
         * did not answer shows nothing rather than old figures */
        log_debug(MOD, "scraping node %s: %s", op->node, err ? orc_strerror(err) : "not 200");
        api_mx_node_clear(&n->usage);
        goto out;
    }
    snprintf(usage.name, sizeof usage.name, "%s", op->node);
    rv = api_mx_parse(resp->body, resp->body_len, now_ms(), &cur);
    if (rv == 0) rv = api_mx_compute(n->has_last ? &n->last : NULL, &cur, &usage);
    if (rv != 0) {
        log_warn(MOD, "node %s's resource metrics: %s", op->node, orc_strerror(rv));
        api_mx_scrape_free(&cur);
        goto out;
    }
    api_mx_node_clear(&n->usage);
    n->usage = usage;
    api_mx_scrape_free(&n->last);
    n->last = cur;
    n->has_last = true;
out:
    free(op);
}

static void scrape(struct api_mx *m, struct mx_node *n)
{
    struct scrape_op *op = calloc(1, sizeof *op);
    int rv;

    if (op == NULL) return;
    op->m = m;
    snprintf(op->node, sizeof op->node, "%s", n->usage.name);
    n->op = op;
    rv = api_agent_get(m->s, n->usage.name, "/metrics/resource", SCRAPE_TIMEOUT_MS, on_scraped, op, &n->call);
    if (rv != 0) {
        n->call = NULL;
        free(op);
    }
}

/* ---- each round ---- */

static bool node_ready(const json_t *node)
{
    size_t i;
    json_t *c;

    json_array_foreach(orc_json_get(node, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type"), *st = orc_json_str(c, "status");
        if (t && st && strcmp(t, "Ready") == 0) return strcmp(st, "True") == 0;
    }
    return false;
}

/* Marks the Ready nodes seen (adding new ones). */
static void list_nodes(struct api_mx *m)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};

    if (api_prefix(orc_kind_by_resource("", "nodes"), NULL, &prefix) != 0
        || store_range(m->s->st, prefix.data, NULL, 0, 0, &l) != 0) {
        orc_buf_free(&prefix);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        json_t *o = orc_json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_ALLOW_NUL, NULL);
        const char *name = orc_json_str(o, "metadata.name");
        struct mx_node *n = name && node_ready(o) ? node_find(m, name) : NULL;
        if (name && node_ready(o) && n == NULL) n = node_add(m, name);
        if (n) n->seen = true;
        json_decref(o);
    }
    store_list_clear(&l);
    orc_buf_free(&prefix);
}

static void on_tick(uv_timer_t *t)
{
    struct api_mx *m = t->data;
    size_t k = 0;

    for (size_t i = 0; i < m->n; i++) m->nodes[i]->seen = false;
    list_nodes(m);
    for (size_t i = 0; i < m->n; i++) {
        struct mx_node *n = m->nodes[i];
        if (!n->seen) {
            node_free(n); /* gone or not Ready: its metrics go, as metrics-server's */
            continue;
        }
        m->nodes[k++] = n;
        if (n->call == NULL) scrape(m, n);
    }
    m->n = k;
}

/* ---- life ---- */

int api_mx_start(struct api_server *s, unsigned resolution_ms, bool off)
{
    struct api_mx *m;

    if (off) return 0;
    if ((m = calloc(1, sizeof *m)) == NULL) return ORC_ENOMEM;
    m->s = s;
    m->resolution_ms = resolution_ms ? resolution_ms : API_MX_DEFAULT_RESOLUTION_MS;
    uv_timer_init(s->loop, &m->timer);
    m->timer.data = m;
    /* the first round soon, so a fresh member has rates after two */
    uv_timer_start(&m->timer, on_tick, 1000, m->resolution_ms);
    s->mx = m;
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    struct api_mx *m = h->data;

    free(m->view);
    free(m);
}

void api_mx_stop(struct api_server *s)
{
    struct api_mx *m = s->mx;

    if (m == NULL) return;
    s->mx = NULL;
    for (size_t i = 0; i < m->n; i++) node_free(m->nodes[i]);
    free(m->nodes);
    m->nodes = NULL;
    m->n = 0;
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, timer_closed);
}

const struct api_mx_node *api_mx_nodes(const struct api_server *s, size_t *n)
{
    struct api_mx *m = s->mx;
    struct api_mx_node *v;

    *n = 0;
    if (m == NULL || m->n == 0) return NULL;
    if ((v = realloc(m->view, m->n * sizeof *v)) == NULL) return NULL;
    m->view = v;
    for (size_t i = 0; i < m->n; i++) v[i] = m->nodes[i]->usage; /* shallow: the arrays stay the nodes' */
    *n = m->n;
    return v;
}

bool api_mx_enabled(const struct api_server *s) { return s->mx != NULL; }
