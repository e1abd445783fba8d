/* top.c — `orctl top nodes|pods`: CPU and memory from metrics.k8s.io in
 * kubectl top's columns and units (CPU in millicores rounded up, memory in
 * Mi, nodes' percentages of their allocatable). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/url.h"
#include "lib/quantity.h"

#define MX_PATH "/apis/metrics.k8s.io/v1beta1"

struct top_opts {
    const char *selector, *sort_by;
    bool all_ns, containers, no_headers;
};

/* A usage quantity: cpu in nanocores ("250000000n", "250m", "1"), memory
 * in bytes ("1024Ki"). */
static uint64_t cpu_nanos(const char *q)
{
    int64_t milli = 0;
    size_t n = q ? strlen(q) : 0;

    if (n > 1 && q[n - 1] == 'n') return strtoull(q, NULL, 10);
    if (n > 1 && q[n - 1] == 'u') return strtoull(q, NULL, 10) * 1000;
    return q && orc_quantity_parse(q, &milli) == 0 ? (uint64_t)milli * 1000000 : 0;
}

static uint64_t mem_bytes(const char *q)
{
    int64_t milli = 0;
    return q && orc_quantity_parse(q, &milli) == 0 ? (uint64_t)((milli + 999) / 1000) : 0;
}

/* kubectl's Quantity.MilliValue(): rounded up. */
static uint64_t millis(uint64_t nanos) { return (nanos + 999999) / 1000000; }

/* One row's numbers, for sorting. */
struct row {
    const json_t *obj;
    const char *ctr; /* --containers: the container's name */
    uint64_t cpu, mem;
};

static const char *g_sort;

static int by_usage(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    uint64_t vx = strcmp(g_sort, "cpu") == 0 ? x->cpu : x->mem, vy = strcmp(g_sort, "cpu") == 0 ? y->cpu : y->mem;
    return vx < vy ? 1 : vx > vy ? -1 : 0;
}

static void sort_rows(struct row *rows, size_t n, const char *by)
{
    if (by == NULL || n < 2) return;
    g_sort = by;
    qsort(rows, n, sizeof *rows, by_usage);
}

static int print_aligned(cli_ctx *x, struct orc_buf *t)
{
    struct orc_buf out = ORC_BUF_INIT;
    int rv = cli_tabwrite(t->data, t->len, 6, 3, &out);

    if (rv == 0) fwrite(out.data, 1, out.len, x->out);
    orc_buf_free(&out);
    return rv;
}

/* GET path into *reply; prints why and returns non-zero on failure. */
static int get(cli_ctx *x, const char *path, json_t **reply)
{
    int status = 0, rv = cli_request_json(x, "GET", path, NULL, NULL, &status, reply);

    if (rv != 0) return rv;
    if (status == 404 && strncmp(path, MX_PATH, strlen(MX_PATH)) == 0) {
        fprintf(x->err, "error: Metrics API not available\n");
        return ORC_ENOENT;
    }
    if (status != 200) {
        cli_print_failure(x, status, *reply);
        return ORC_EINVAL;
    }
    return 0;
}

/* MX_PATH[/namespaces/NS] */
static int base_path(const char *ns, struct orc_buf *path)
{
    int rv = orc_buf_puts(path, MX_PATH);

    if (rv == 0 && ns) rv = orc_buf_puts(path, "/namespaces/");
    return rv == 0 && ns ? orc_url_escape(ns, path) : rv;
}

/* ---- nodes ---- */

static const json_t *node_named(const json_t *nodes, const char *name)
{
    size_t i;
    json_t *n;

    json_array_foreach(orc_json_get(nodes, "items"), i, n) {
        const char *nn = orc_json_str(n, "metadata.name");
        if (nn && strcmp(nn, name) == 0) return n;
    }
    return NULL;
}

static int node_rows(cli_ctx *x, const struct top_opts *o, const json_t *list, const json_t *nodes)
{
    size_t n = json_array_size(orc_json_get(list, "items")), i;
    struct row *rows = calloc(n ? n : 1, sizeof *rows);
    struct orc_buf t = ORC_BUF_INIT;
    json_t *m;
    int rv;

    if (rows == NULL) return ORC_ENOMEM;
    json_array_foreach(orc_json_get(list, "items"), i, m) {
        rows[i] = (struct row){m, NULL, cpu_nanos(orc_json_str(m, "usage.cpu")),
                               mem_bytes(orc_json_str(m, "usage.memory"))};
    }
    sort_rows(rows, n, o->sort_by);
    rv = o->no_headers ? 0 : orc_buf_puts(&t, "NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\t\n");
    for (i = 0; rv == 0 && i < n; i++) {
        const char *name = orc_json_str(rows[i].obj, "metadata.name");
        const json_t *node = node_named(nodes, name ? name : "");
        uint64_t acpu = cpu_nanos(orc_json_str(node, "status.allocatable.cpu"));
        uint64_t amem = mem_bytes(orc_json_str(node, "status.allocatable.memory"));
        char cpct[24] = "<unknown>", mpct[24] = "<unknown>";
        if (acpu) snprintf(cpct, sizeof cpct, "%d%%", (int)((double)millis(rows[i].cpu) / (double)millis(acpu) * 100));
        if (amem) snprintf(mpct, sizeof mpct, "%d%%", (int)((double)rows[i].mem / (double)amem * 100));
        rv = orc_buf_printf(&t, "%s\t%" PRIu64 "m\t%s\t%" PRIu64 "Mi\t%s\t\n", name ? name : "", millis(rows[i].cpu),
                            cpct, rows[i].mem / (1024 * 1024), mpct);
    }
    if (rv == 0 && t.len) rv = print_aligned(x, &t);
    orc_buf_free(&t);
    free(rows);
    return rv;
}

static int top_nodes(cli_ctx *x, const struct top_opts *o, const char *name)
{
    struct orc_buf path = ORC_BUF_INIT, npath = ORC_BUF_INIT;
    json_t *list = NULL, *one = NULL, *nodes = NULL;
    int rv = base_path(NULL, &path);

    if (rv == 0) rv = orc_buf_puts(&path, "/nodes");

    if (rv == 0 && name) rv = orc_buf_puts(&path, "/"), rv = rv ? rv : orc_url_escape(name, &path);
    if (rv == 0 && o->selector && !name) rv = cli_query_add(&path, "labelSelector", o->selector);
    if (rv == 0) rv = orc_buf_puts(&npath, "/api/v1/nodes");
    if (rv == 0 && o->selector) rv = cli_query_add(&npath, "labelSelector", o->selector);
    if (rv == 0) rv = get(x, path.data, name ? &one : &list);
    if (rv == 0 && name) list = json_pack("{s:[O]}", "items", one);
    if (rv == 0) rv = get(x, npath.data, &nodes);
    if (rv == 0 && json_array_size(orc_json_get(list, "items")) == 0) {
        fprintf(x->err, "error: metrics not available yet\n");
        rv = ORC_ENOENT;
    } else if (rv == 0) {
        rv = node_rows(x, o, list, nodes);
    }
    json_decref(list);
    json_decref(one);
    json_decref(nodes);
    orc_buf_free(&path);
    orc_buf_free(&npath);
    return rv;
}

/* ---- pods ---- */

static size_t pod_rows_fill(const struct top_opts *o, const json_t *list, struct row *rows)
{
    size_t n = 0, i, j;
    json_t *m, *c;

    json_array_foreach(orc_json_get(list, "items"), i, m) {
        struct row pod = {m, NULL, 0, 0};
        json_array_foreach(orc_json_get(m, "containers"), j, c) {
            uint64_t cpu = cpu_nanos(orc_json_str(c, "usage.cpu")), mem = mem_bytes(orc_json_str(c, "usage.memory"));
            if (o->containers) rows[n++] = (struct row){m, orc_json_str(c, "name"), cpu, mem};
            pod.cpu += cpu;
            pod.mem += mem;
        }
        if (!o->containers) rows[n++] = pod;
    }
    return n;
}

static int pod_rows(cli_ctx *x, const struct top_opts *o, const json_t *list)
{
    size_t cap = 0, n, i;
    json_t *m;
    struct orc_buf t = ORC_BUF_INIT;
    struct row *rows;
    int rv = 0;

    json_array_foreach(orc_json_get(list, "items"), i, m) cap += 1 + json_array_size(orc_json_get(m, "containers"));
    if ((rows = calloc(cap ? cap : 1, sizeof *rows)) == NULL) return ORC_ENOMEM;
    n = pod_rows_fill(o, list, rows);
    sort_rows(rows, n, o->sort_by);
    if (!o->no_headers)
        rv = orc_buf_printf(&t, "%s%s\tCPU(cores)\tMEMORY(bytes)\t\n", o->all_ns ? "NAMESPACE\t" : "",
                            o->containers ? "POD\tNAME" : "NAME");
    for (i = 0; rv == 0 && i < n; i++) {
        const char *ns = orc_json_str(rows[i].obj, "metadata.namespace"), *name = orc_json_str(rows[i].obj, "metadata.name");
        if (o->all_ns) rv = orc_buf_printf(&t, "%s\t", ns ? ns : "");
        if (rv == 0 && o->containers) rv = orc_buf_printf(&t, "%s\t", name ? name : "");
        if (rv == 0)
            rv = orc_buf_printf(&t, "%s\t%" PRIu64 "m\t%" PRIu64 "Mi\t\n", o->containers ? rows[i].ctr : name,
                                millis(rows[i].cpu), rows[i].mem / (1024 * 1024));
    }
    if (rv == 0 && t.len) rv = print_aligned(x, &t);
    orc_buf_free(&t);
    free(rows);
    return rv;
}

static int top_pods(cli_ctx *x, const struct top_opts *o, const char *name)
{
    struct orc_buf path = ORC_BUF_INIT;
    json_t *list = NULL, *one = NULL;
    int rv = base_path(o->all_ns ? NULL : x->ns, &path);

    if (rv == 0) rv = orc_buf_puts(&path, "/pods");
    if (rv == 0 && name) rv = orc_buf_puts(&path, "/"), rv = rv ? rv : orc_url_escape(name, &path);
    if (rv == 0 && o->selector && !name) rv = cli_query_add(&path, "labelSelector", o->selector);
    if (rv == 0) rv = get(x, path.data, name ? &one : &list);
    if (rv == 0 && name) list = json_pack("{s:[O]}", "items", one);
    if (rv == 0 && json_array_size(orc_json_get(list, "items")) == 0) {
        if (o->all_ns) fprintf(x->err, "No resources found\n");
        else fprintf(x->err, "No resources found in %s namespace.\n", x->ns);
    } else if (rv == 0) {
        rv = pod_rows(x, o, list);
    }
    json_decref(list);
    json_decref(one);
    orc_buf_free(&path);
    return rv;
}

int cli_cmd_top(cli_ctx *x, int argc, char **argv)
{
    struct top_opts o = {0};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"selector", 'l', CLI_FLAG_STRING, &o.selector, "SEL", "Only objects with these labels (a=b,c!=d)"},
        {"sort-by", 0, CLI_FLAG_STRING, &o.sort_by, "cpu|memory", "Sort by CPU or memory usage, highest first"},
        {"all-namespaces", 'A', CLI_FLAG_BOOL, &o.all_ns, NULL, "Pods of every namespace"},
        {"containers", 0, CLI_FLAG_BOOL, &o.containers, NULL, "Each container of the pods on its own line"},
        {"no-headers", 0, CLI_FLAG_BOOL, &o.no_headers, NULL, "Leave out the header line"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);
    const char *what = pos.n ? pos.v[0] : NULL, *name = pos.n > 1 ? pos.v[1] : NULL;
    bool nodes = what && (!strcmp(what, "nodes") || !strcmp(what, "node") || !strcmp(what, "no"));
    bool pods = what && (!strcmp(what, "pods") || !strcmp(what, "pod") || !strcmp(what, "po"));

    if (rv != 0) rv = cli_stop_status(rv);
    else if (!nodes && !pods) rv = cli_usage_error(x, "top needs a resource: nodes or pods");
    else if (pos.n > 2) rv = cli_usage_error(x, "top %s takes at most one name", what);
    else if (o.sort_by && strcmp(o.sort_by, "cpu") != 0 && strcmp(o.sort_by, "memory") != 0)
        rv = cli_usage_error(x, "--sort-by accepts only cpu or memory");
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    else rv = (nodes ? top_nodes(x, &o, name) : top_pods(x, &o, name)) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    cli_strv_free(&pos);
    return rv;
}
