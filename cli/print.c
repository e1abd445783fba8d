/* print.c — `orctl get` output: kubectl's columns per kind, `-o name`, and
 * the tabwriter-style alignment shared with describe.c. */
#include "cli/print.h"
#include "cli/print_int.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

/* ---- tabwriter ---------------------------------------------------------- */

#define TW_MAX_COLS 64

struct tw_cell {
    const char *s;
    size_t len, width;
};

struct tw_line {
    struct tw_cell *cells;
    size_t n; /* cells, the last one (after the last tab) included */
};

struct tw {
    struct tw_line *lines;
    size_t n_lines;
    int widths[TW_MAX_COLS];
    int depth;
    int minwidth, padding;
    struct orc_buf *out;
};

/* Display width: one per UTF-8 code point, as Go's tabwriter counts. */
static size_t text_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) w++;
    return w;
}

static int tw_split_line(struct tw_line *l, const char *s, size_t len)
{
    size_t n = 1, start = 0, c = 0;

    for (size_t i = 0; i < len; i++) n += s[i] == '\t';
    if (n > TW_MAX_COLS) n = TW_MAX_COLS; /* extra tabs fold into the last cell */
    if ((l->cells = calloc(n, sizeof *l->cells)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i <= len && c < n; i++) {
        if (i < len && (s[i] != '\t' || c == n - 1)) continue;
        l->cells[c].s = s + start;
        l->cells[c].len = i - start;
        l->cells[c].width = text_width(s + start, i - start);
        c++;
        start = i + 1;
    }
    l->n = c;
    return 0;
}

static int tw_write_lines(struct tw *t, size_t from, size_t to)
{
    static const char spaces[] = "                                                                ";
    int rv = 0;

    for (size_t i = from; i < to && rv == 0; i++) {
        const struct tw_line *l = &t->lines[i];
        for (size_t j = 0; j < l->n && rv == 0; j++) {
            rv = orc_buf_append(t->out, l->cells[j].s, l->cells[j].len);
            if ((int)j >= t->depth) continue;
            for (int pad = t->widths[j] - (int)l->cells[j].width; pad > 0 && rv == 0;) {
                int k = pad < 64 ? pad : 64;
                rv = orc_buf_append(t->out, spaces, (size_t)k);
                pad -= k;
            }
        }
        if (rv == 0) rv = orc_buf_puts(t->out, "\n");
    }
    return rv;
}

/* Go's text/tabwriter format(): finds each block of lines having a cell in
 * column `depth`, sizes it, and recurses for the columns to its right. */
static int tw_format(struct tw *t, size_t line0, size_t line1)
{
    size_t col = (size_t)t->depth;
    int rv;

    for (size_t this = line0; this < line1; this ++) {
        if (col + 1 >= t->lines[this].n) continue;
        if ((rv = tw_write_lines(t, line0, this)) != 0) return rv;
        line0 = this;
        int width = t->minwidth;
        for (; this < line1 && col + 1 < t->lines[this].n; this ++) {
            int w = (int)t->lines[this].cells[col].width + t->padding;
            if (w > width) width = w;
        }
        t->widths[t->depth++] = width;
        rv = tw_format(t, line0, this);
        t->depth--;
        if (rv != 0) return rv;
        /* The line that ended the block has no cell here: the loop's ++
         * may skip it, as Go's tabwriter does. */
        line0 = this;
    }
    return tw_write_lines(t, line0, line1);
}

int cli_tabwrite(const char *text, size_t len, int minwidth, int padding, struct orc_buf *out)
{
    struct tw t = {.minwidth = minwidth, .padding = padding, .out = out};
    size_t n = 0, start = 0;
    int rv = 0;

    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n') n++;
    if (n == 0) return 0;
    if ((t.lines = calloc(n, sizeof *t.lines)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i <= len && rv == 0; i++) {
        if (i < len && text[i] != '\n') continue;
        if (i == len && start == len) break;
        rv = tw_split_line(&t.lines[t.n_lines++], text + start, i - start);
        start = i + 1;
    }
    if (rv == 0) rv = tw_format(&t, 0, t.n_lines);
    for (size_t i = 0; i < t.n_lines; i++) free(t.lines[i].cells);
    free(t.lines);
    return rv;
}

/* ---- shared formatting helpers ------------------------------------------ */

static const char *or_str(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

void cli_age(const char *ts, int64_t now, char *out, size_t n)
{
    int64_t t;

    if (ts == NULL || orc_time_parse(ts, &t) != 0) snprintf(out, n, "<unknown>");
    else orc_time_age(now - t, out, n);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cli_format_labels(const json_t *map, struct orc_buf *out)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(map, &n);
    int rv = 0;

    if (n == 0) return orc_buf_puts(out, "<none>");
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = orc_buf_printf(out, "%s%s=%s", i ? "," : "", keys[i],
                            or_str(json_string_value(json_object_get(map, keys[i])), ""));
    free(keys);
    return rv;
}

struct req {
    const char *key;
    char *text;
};

static int cmp_req(const void *a, const void *b)
{
    return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

/* One matchExpressions entry: "k in (a,b)", "k notin (a,b)", "k", "!k". */
static char *expr_text(const json_t *e)
{
    const char *key = or_str(json_string_value(json_object_get(e, "key")), "");
    const char *op = or_str(json_string_value(json_object_get(e, "operator")), "");
    json_t *vals = json_object_get(e, "values"), *v;
    struct orc_buf b = ORC_BUF_INIT;
    const char **sorted = NULL;
    size_t i, n = json_array_size(vals);

    if (strcmp(op, "Exists") == 0) orc_buf_puts(&b, key);
    else if (strcmp(op, "DoesNotExist") == 0) orc_buf_printf(&b, "!%s", key);
    else {
        orc_buf_printf(&b, "%s %s (", key, strcmp(op, "NotIn") == 0 ? "notin" : "in");
        if (n > 0 && (sorted = malloc(n * sizeof *sorted)) != NULL) {
            json_array_foreach (vals, i, v) sorted[i] = or_str(json_string_value(v), "");
            qsort(sorted, n, sizeof *sorted, cmp_str);
            for (i = 0; i < n; i++) orc_buf_printf(&b, "%s%s", i ? "," : "", sorted[i]);
        }
        orc_buf_puts(&b, ")");
        free(sorted);
    }
    return orc_buf_steal(&b, NULL);
}

int cli_format_selector(const json_t *sel, struct orc_buf *out)
{
    json_t *ml = json_object_get(sel, "matchLabels"),
           *exprs = json_object_get(sel, "matchExpressions");
    size_t n = 0, cap = json_object_size(ml) + json_array_size(exprs), i;
    struct req *reqs;
    const char *k;
    json_t *v;
    int rv = 0;

    if (cap == 0) return orc_buf_puts(out, "<none>");
    if ((reqs = calloc(cap, sizeof *reqs)) == NULL) return ORC_ENOMEM;
    json_object_foreach (ml, k, v) {
        struct orc_buf b = ORC_BUF_INIT;
        orc_buf_printf(&b, "%s=%s", k, or_str(json_string_value(v), ""));
        reqs[n++] = (struct req){k, orc_buf_steal(&b, NULL)};
    }
    json_array_foreach (exprs, i, v)
        reqs[n++] =
            (struct req){or_str(json_string_value(json_object_get(v, "key")), ""), expr_text(v)};
    qsort(reqs, n, sizeof *reqs, cmp_req);
    for (i = 0; i < n; i++) {
        if (reqs[i].text == NULL) rv = ORC_ENOMEM;
        if (rv == 0) rv = orc_buf_printf(out, "%s%s", i ? "," : "", reqs[i].text);
        free(reqs[i].text);
    }
    free(reqs);
    return rv;
}

/* ---- table rows --------------------------------------------------------- */


/* Appends one cell; tabs and newlines inside values would break the
 * alignment, so they become spaces. */
void cli__cell(struct row *r, const char *fmt, ...)
{
    va_list ap;
    size_t start = r->text->len;

    if (r->rv != 0) return;
    va_start(ap, fmt);
    r->rv = orc_buf_vprintf(r->text, fmt, ap);
    va_end(ap);
    if (r->rv == 0) {
        for (size_t i = start; i < r->text->len; i++)
            if (r->text->data[i] == '\t' || r->text->data[i] == '\n') r->text->data[i] = ' ';
        r->rv = orc_buf_puts(r->text, "\t");
    }
}

void cli__cell_str(struct row *r, const char *s, const char *dflt)
{
    cli__cell(r, "%s", s && *s ? s : dflt);
}

void cli__cell_buf(struct row *r, int (*fn)(const json_t *, struct orc_buf *), const json_t *v)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (r->rv == 0) r->rv = fn(v, &b);
    cli__cell(r, "%s", b.data ? b.data : "");
    orc_buf_free(&b);
}

int64_t cli__num(const json_t *o, const char *path, int64_t dflt)
{
    int64_t v;
    return orc_json_int(o, path, &v) == 0 ? v : dflt;
}

void cli__cell_age(struct row *r, const json_t *obj, int64_t now)
{
    char age[32];
    cli_age(orc_json_str(obj, "metadata.creationTimestamp"), now, age, sizeof age);
    cli__cell(r, "%s", age);
}

/* "a,b" from a field of each element of an array; "<none>" if empty. */
static int join_field(const json_t *arr, const char *field, struct orc_buf *out)
{
    size_t i, n = 0;
    json_t *e;
    int rv = 0;

    json_array_foreach (arr, i, e) {
        const char *s = orc_json_str(e, field);
        if (s && rv == 0) rv = orc_buf_printf(out, "%s%s", n++ ? "," : "", s);
    }
    return rv ? rv : n ? 0 : orc_buf_puts(out, "<none>");
}

static int container_names(const json_t *containers, struct orc_buf *out)
{
    return join_field(containers, "name", out);
}

static int container_images(const json_t *containers, struct orc_buf *out)
{
    return join_field(containers, "image", out);
}

/* CONTAINERS IMAGES [SELECTOR] of a workload's pod template. */
static void template_cells(struct row *r, const json_t *spec, bool selector)
{
    json_t *containers = orc_json_get(spec, "template.spec.containers");

    cli__cell_buf(r, container_names, containers);
    cli__cell_buf(r, container_images, containers);
    if (selector) cli__cell_buf(r, cli_format_selector, json_object_get(spec, "selector"));
}

static bool has_condition(const json_t *obj, const char *type)
{
    json_t *conds = orc_json_get(obj, "status.conditions"), *c;
    size_t i;

    json_array_foreach (conds, i, c) {
        const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0) return true;
    }
    return false;
}

/* ---- pods --------------------------------------------------------------- */

struct pod_summary {
    char reason[128];
    int64_t restarts, ready, total;
    const char *last_restart; /* latest lastState.terminated.finishedAt */
};

static void note_restart(struct pod_summary *ps, const json_t *cs)
{
    const char *t = orc_json_str(cs, "lastState.terminated.finishedAt");
    int64_t a, b;

    ps->restarts += cli__num(cs, "restartCount", 0);
    if (t == NULL || orc_time_parse(t, &a) != 0) return;
    if (ps->last_restart == NULL || orc_time_parse(ps->last_restart, &b) != 0 || a > b)
        ps->last_restart = t;
}

/* "Reason", "Signal:N" or "ExitCode:N" of a terminated state. */
static void terminated_reason(const json_t *term, const char *prefix, char *out, size_t n)
{
    const char *reason = orc_json_str(term, "reason");
    int64_t sig = cli__num(term, "signal", 0);

    if (reason && *reason) snprintf(out, n, "%s%s", prefix, reason);
    else if (sig != 0) snprintf(out, n, "%sSignal:%lld", prefix, (long long)sig);
    else snprintf(out, n, "%sExitCode:%lld", prefix, (long long)cli__num(term, "exitCode", 0));
}

/* kubectl's init-container pass; true while the pod is still initializing. */
static bool pod_init_status(const json_t *pod, struct pod_summary *ps)
{
    json_t *statuses = orc_json_get(pod, "status.initContainerStatuses"), *cs;
    size_t i, n_init = json_array_size(orc_json_get(pod, "spec.initContainers"));

    json_array_foreach (statuses, i, cs) {
        json_t *term = orc_json_get(cs, "state.terminated");
        const char *wait = orc_json_str(cs, "state.waiting.reason");
        note_restart(ps, cs);
        if (term && cli__num(term, "exitCode", 0) == 0) continue;
        if (term) terminated_reason(term, "Init:", ps->reason, sizeof ps->reason);
        else if (wait && *wait && strcmp(wait, "PodInitializing") != 0)
            snprintf(ps->reason, sizeof ps->reason, "Init:%s", wait);
        else snprintf(ps->reason, sizeof ps->reason, "Init:%zu/%zu", i, n_init);
        return true;
    }
    return false;
}

static void pod_container_status(const json_t *pod, struct pod_summary *ps)
{
    json_t *statuses = orc_json_get(pod, "status.containerStatuses");
    bool running = false;

    ps->restarts = 0;
    ps->last_restart = NULL;
    for (size_t i = json_array_size(statuses); i > 0; i--) {
        json_t *cs = json_array_get(statuses, i - 1), *term = orc_json_get(cs, "state.terminated");
        const char *wait = orc_json_str(cs, "state.waiting.reason");
        note_restart(ps, cs);
        if (wait && *wait) snprintf(ps->reason, sizeof ps->reason, "%s", wait);
        else if (term) terminated_reason(term, "", ps->reason, sizeof ps->reason);
        else if (json_is_true(json_object_get(cs, "ready")) && orc_json_get(cs, "state.running")) {
            running = true;
            ps->ready++;
        }
    }
    /* A pod whose only finished containers completed but others still run
     * is Running (or NotReady), not Completed. */
    if (strcmp(ps->reason, "Completed") == 0 && running)
        snprintf(ps->reason, sizeof ps->reason, "%s",
                 has_condition(pod, "Ready") ? "Running" : "NotReady");
}

static void pod_summarize(const json_t *pod, struct pod_summary *ps)
{
    const char *phase = orc_json_str(pod, "status.phase"),
               *reason = orc_json_str(pod, "status.reason");

    memset(ps, 0, sizeof *ps);
    ps->total = (int64_t)json_array_size(orc_json_get(pod, "spec.containers"));
    snprintf(ps->reason, sizeof ps->reason, "%s",
             reason && *reason ? reason
             : phase && *phase ? phase
                               : "Pending");
    bool initializing = pod_init_status(pod, ps);
    if (!initializing || has_condition(pod, "Initialized")) pod_container_status(pod, ps);
    if (orc_json_get(pod, "metadata.deletionTimestamp")) {
        if (reason && strcmp(reason, "NodeLost") == 0)
            snprintf(ps->reason, sizeof ps->reason, "Unknown");
        else if (!phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0))
            snprintf(ps->reason, sizeof ps->reason, "Terminating");
    }
}

static int readiness_gates(const json_t *pod, struct orc_buf *out)
{
    json_t *gates = orc_json_get(pod, "spec.readinessGates"), *g, *c;
    json_t *conds = orc_json_get(pod, "status.conditions");
    size_t i, j, ok = 0;

    if (json_array_size(gates) == 0) return orc_buf_puts(out, "<none>");
    json_array_foreach (gates, i, g) {
        const char *type = orc_json_str(g, "conditionType");
        json_array_foreach (conds, j, c) {
            const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
            if (type && t && s && !strcmp(t, type) && !strcmp(s, "True")) ok++;
        }
    }
    return orc_buf_printf(out, "%zu/%zu", ok, json_array_size(gates));
}

static void pod_row(struct row *r, const json_t *pod, unsigned flags, int64_t now)
{
    struct pod_summary ps;
    char age[32];

    pod_summarize(pod, &ps);
    cli__cell(r, "%lld/%lld", (long long)ps.ready, (long long)ps.total);
    cli__cell(r, "%s", ps.reason);
    if (ps.restarts > 0 && ps.last_restart) {
        cli_age(ps.last_restart, now, age, sizeof age);
        cli__cell(r, "%lld (%s ago)", (long long)ps.restarts, age);
    } else {
        cli__cell(r, "%lld", (long long)ps.restarts);
    }
    cli__cell_age(r, pod, now);
    if (!(flags & CLI_WIDE)) return;
    cli__cell_str(r, orc_json_str(pod, "status.podIP"), "<none>");
    cli__cell_str(r, orc_json_str(pod, "spec.nodeName"), "<none>");
    cli__cell_str(r, orc_json_str(pod, "status.nominatedNodeName"), "<none>");
    cli__cell_buf(r, readiness_gates, pod);
}

/* ---- workloads ---------------------------------------------------------- */

static void deployment_row(struct row *r, const json_t *d, unsigned flags, int64_t now)
{
    cli__cell(r, "%lld/%lld", (long long)cli__num(d, "status.readyReplicas", 0),
         (long long)cli__num(d, "spec.replicas", 1));
    cli__cell(r, "%lld", (long long)cli__num(d, "status.updatedReplicas", 0));
    cli__cell(r, "%lld", (long long)cli__num(d, "status.availableReplicas", 0));
    cli__cell_age(r, d, now);
    if (flags & CLI_WIDE) template_cells(r, json_object_get(d, "spec"), true);
}

static void replicaset_row(struct row *r, const json_t *rs, unsigned flags, int64_t now)
{
    cli__cell(r, "%lld", (long long)cli__num(rs, "spec.replicas", 1));
    cli__cell(r, "%lld", (long long)cli__num(rs, "status.replicas", 0));
    cli__cell(r, "%lld", (long long)cli__num(rs, "status.readyReplicas", 0));
    cli__cell_age(r, rs, now);
    if (flags & CLI_WIDE) template_cells(r, json_object_get(rs, "spec"), true);
}

static void statefulset_row(struct row *r, const json_t *s, unsigned flags, int64_t now)
{
    cli__cell(r, "%lld/%lld", (long long)cli__num(s, "status.readyReplicas", 0),
         (long long)cli__num(s, "spec.replicas", 1));
    cli__cell_age(r, s, now);
    if (flags & CLI_WIDE) template_cells(r, json_object_get(s, "spec"), false);
}

static void daemonset_row(struct row *r, const json_t *d, unsigned flags, int64_t now)
{
    static const char *const fields[] = {"desiredNumberScheduled", "currentNumberScheduled",
                                         "numberReady", "updatedNumberScheduled",
                                         "numberAvailable"};
    char path[64];

    for (size_t i = 0; i < ORC_ARRAY_LEN(fields); i++) {
        snprintf(path, sizeof path, "status.%s", fields[i]);
        cli__cell(r, "%lld", (long long)cli__num(d, path, 0));
    }
    cli__cell_buf(r, cli_format_labels, orc_json_get(d, "spec.template.spec.nodeSelector"));
    cli__cell_age(r, d, now);
    if (flags & CLI_WIDE) template_cells(r, json_object_get(d, "spec"), true);
}

static const char *job_status(const json_t *j)
{
    if (has_condition(j, "Complete")) return "Complete";
    if (has_condition(j, "Failed")) return "Failed";
    if (orc_json_get(j, "metadata.deletionTimestamp")) return "Terminating";
    if (has_condition(j, "Suspended")) return "Suspended";
    if (has_condition(j, "FailureTarget")) return "FailureTarget";
    if (has_condition(j, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
    return "Running";
}

static void job_row(struct row *r, const json_t *j, unsigned flags, int64_t now)
{
    int64_t ok = cli__num(j, "status.succeeded", 0), par = cli__num(j, "spec.parallelism", 0);
    int64_t start, end;
    char dur[32] = "";

    cli__cell(r, "%s", job_status(j));
    if (orc_json_get(j, "spec.completions"))
        cli__cell(r, "%lld/%lld", (long long)ok, (long long)cli__num(j, "spec.completions", 0));
    else if (par > 1) cli__cell(r, "%lld/1 of %lld", (long long)ok, (long long)par);
    else cli__cell(r, "%lld/1", (long long)ok);
    if (orc_time_parse(orc_json_str(j, "status.startTime"), &start) == 0) {
        if (orc_time_parse(orc_json_str(j, "status.completionTime"), &end) != 0) end = now;
        orc_time_age(end - start, dur, sizeof dur);
    }
    cli__cell(r, "%s", dur);
    cli__cell_age(r, j, now);
    if (flags & CLI_WIDE) template_cells(r, json_object_get(j, "spec"), true);
}

static void cronjob_row(struct row *r, const json_t *c, unsigned flags, int64_t now)
{
    const char *last = orc_json_str(c, "status.lastScheduleTime");
    char age[32];

    cli__cell_str(r, orc_json_str(c, "spec.schedule"), "");
    cli__cell_str(r, orc_json_str(c, "spec.timeZone"), "<none>");
    /* The API server defaults suspend to false; an absent one means that. */
    cli__cell(r, "%s", json_is_true(orc_json_get(c, "spec.suspend")) ? "True" : "False");
    cli__cell(r, "%zu", json_array_size(orc_json_get(c, "status.active")));
    if (last) cli_age(last, now, age, sizeof age);
    cli__cell(r, "%s", last ? age : "<none>");
    cli__cell_age(r, c, now);
    if (flags & CLI_WIDE) template_cells(r, orc_json_get(c, "spec.jobTemplate.spec"), true);
}

/* ---- core kinds --------------------------------------------------------- */

static int string_list(const json_t *arr, struct orc_buf *out)
{
    size_t i;
    json_t *v;
    int rv = 0;

    json_array_foreach (arr, i, v)
        if (rv == 0 && json_is_string(v))
            rv = orc_buf_printf(out, "%s%s", out->len ? "," : "", json_string_value(v));
    return rv;
}

static int service_external_ip(const json_t *svc, struct orc_buf *out)
{
    const char *type = or_str(orc_json_str(svc, "spec.type"), "ClusterIP");
    json_t *ing = orc_json_get(svc, "status.loadBalancer.ingress"), *e;
    size_t i;
    int rv = 0;

    if (strcmp(type, "ExternalName") == 0)
        return orc_buf_puts(out, or_str(orc_json_str(svc, "spec.externalName"), ""));
    if (strcmp(type, "LoadBalancer") == 0) {
        json_array_foreach (ing, i, e) {
            const char *s = or_str(orc_json_str(e, "ip"), orc_json_str(e, "hostname"));
            if (s && rv == 0) rv = orc_buf_printf(out, "%s%s", out->len ? "," : "", s);
        }
    }
    if (rv == 0) rv = string_list(orc_json_get(svc, "spec.externalIPs"), out);
    if (rv == 0 && out->len == 0)
        rv = orc_buf_puts(out, strcmp(type, "LoadBalancer") == 0 ? "<pending>" : "<none>");
    return rv;
}

static int service_ports(const json_t *svc, struct orc_buf *out)
{
    json_t *ports = orc_json_get(svc, "spec.ports"), *p;
    size_t i;
    int rv = 0;

    if (json_array_size(ports) == 0) return orc_buf_puts(out, "<none>");
    json_array_foreach (ports, i, p) {
        const char *proto = or_str(orc_json_str(p, "protocol"), "TCP");
        int64_t port = cli__num(p, "port", 0), node = cli__num(p, "nodePort", 0);
        if (rv != 0) break;
        if (node > 0)
            rv = orc_buf_printf(out, "%s%lld:%lld/%s", i ? "," : "", (long long)port,
                                (long long)node, proto);
        else rv = orc_buf_printf(out, "%s%lld/%s", i ? "," : "", (long long)port, proto);
    }
    return rv;
}

static void service_row(struct row *r, const json_t *s, unsigned flags, int64_t now)
{
    cli__cell_str(r, orc_json_str(s, "spec.type"), "ClusterIP");
    cli__cell_str(r, orc_json_str(s, "spec.clusterIP"), "<none>");
    cli__cell_buf(r, service_external_ip, s);
    cli__cell_buf(r, service_ports, s);
    cli__cell_age(r, s, now);
    if (flags & CLI_WIDE) cli__cell_buf(r, cli_format_labels, orc_json_get(s, "spec.selector"));
}

static void configmap_row(struct row *r, const json_t *c, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell(r, "%zu",
         json_object_size(json_object_get(c, "data"))
             + json_object_size(json_object_get(c, "binaryData")));
    cli__cell_age(r, c, now);
}

static void secret_row(struct row *r, const json_t *s, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_str(r, orc_json_str(s, "type"), "Opaque");
    cli__cell(r, "%zu", json_object_size(json_object_get(s, "data")));
    cli__cell_age(r, s, now);
}

static void namespace_row(struct row *r, const json_t *ns, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_str(r, orc_json_str(ns, "status.phase"), "Active");
    cli__cell_age(r, ns, now);
}

int cli_node_roles(const json_t *node, struct orc_buf *out)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    json_t *labels = orc_json_get(node, "metadata.labels");
    size_t n, count = 0;
    const char **keys = orc_json_sorted_keys(labels, &n);
    int rv = 0;

    for (size_t i = 0; i < n && rv == 0; i++) {
        const char *role = NULL;
        if (strncmp(keys[i], prefix, sizeof prefix - 1) == 0) role = keys[i] + sizeof prefix - 1;
        else if (strcmp(keys[i], "kubernetes.io/role") == 0)
            role = json_string_value(json_object_get(labels, keys[i]));
        if (role && *role) rv = orc_buf_printf(out, "%s%s", count++ ? "," : "", role);
    }
    free(keys);
    return rv ? rv : count ? 0 : orc_buf_puts(out, "<none>");
}

static int node_status(const json_t *node, struct orc_buf *out)
{
    json_t *conds = orc_json_get(node, "status.conditions"), *c;
    const char *ready = NULL;
    size_t i;
    int rv;

    json_array_foreach (conds, i, c)
        if (strcmp(or_str(orc_json_str(c, "type"), ""), "Ready") == 0)
            ready = or_str(orc_json_str(c, "status"), "");
    rv = orc_buf_puts(out, ready == NULL                ? "Unknown"
                           : strcmp(ready, "True") == 0 ? "Ready"
                                                        : "NotReady");
    if (rv == 0 && json_is_true(orc_json_get(node, "spec.unschedulable")))
        rv = orc_buf_puts(out, ",SchedulingDisabled");
    return rv;
}

static const char *node_address(const json_t *node, const char *type)
{
    json_t *addrs = orc_json_get(node, "status.addresses"), *a;
    size_t i;

    json_array_foreach (addrs, i, a)
        if (strcmp(or_str(orc_json_str(a, "type"), ""), type) == 0)
            return orc_json_str(a, "address");
    return NULL;
}

static void node_row(struct row *r, const json_t *n, unsigned flags, int64_t now)
{
    cli__cell_buf(r, node_status, n);
    cli__cell_buf(r, cli_node_roles, n);
    cli__cell_age(r, n, now);
    cli__cell_str(r, orc_json_str(n, "status.nodeInfo.kubeletVersion"), "");
    if (!(flags & CLI_WIDE)) return;
    cli__cell_str(r, node_address(n, "InternalIP"), "<none>");
    cli__cell_str(r, node_address(n, "ExternalIP"), "<none>");
    cli__cell_str(r, orc_json_str(n, "status.nodeInfo.osImage"), "<unknown>");
    cli__cell_str(r, orc_json_str(n, "status.nodeInfo.kernelVersion"), "<unknown>");
    cli__cell_str(r, orc_json_str(n, "status.nodeInfo.containerRuntimeVersion"), "<unknown>");
}

const char *cli_event_last(const json_t *e)
{
    const char *t = orc_json_str(e, "series.lastObservedTime");
    if (t == NULL) t = orc_json_str(e, "lastTimestamp");
    if (t == NULL) t = orc_json_str(e, "eventTime");
    return t ? t : orc_json_str(e, "firstTimestamp");
}

static int cmp_event(const void *a, const void *b)
{
    int64_t ta = 0, tb = 0;
    orc_time_parse(cli_event_last(*(const json_t *const *)a), &ta);
    orc_time_parse(cli_event_last(*(const json_t *const *)b), &tb);
    return ta < tb ? -1 : ta > tb;
}

void cli_sort_events(const json_t **evs, size_t n)
{
    if (n > 1) qsort((void *)evs, n, sizeof *evs, cmp_event);
}

/* An event's first and last sighting, as kubectl derives them. */
static void event_times(const json_t *e, int64_t now, char *first, char *last, size_t n)
{
    const char *ft = orc_json_str(e, "firstTimestamp"), *lt = orc_json_str(e, "lastTimestamp");
    const char *series = orc_json_str(e, "series.lastObservedTime");

    cli_age(ft ? ft : orc_json_str(e, "eventTime"), now, first, n);
    if (series) cli_age(series, now, last, n);
    else if (lt) cli_age(lt, now, last, n);
    else snprintf(last, n, "%s", first);
}

static void event_row(struct row *r, const json_t *e, unsigned flags, int64_t now)
{
    const char *kind = or_str(orc_json_str(e, "involvedObject.kind"), "");
    const char *name = orc_json_str(e, "involvedObject.name");
    char first[32], last[32], lower[64];
    size_t i;

    event_times(e, now, first, last, sizeof first);
    for (i = 0; kind[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 : kind[i]);
    lower[i] = '\0';
    cli__cell(r, "%s", last);
    cli__cell_str(r, orc_json_str(e, "type"), "");
    cli__cell_str(r, orc_json_str(e, "reason"), "");
    if (name && *name) cli__cell(r, "%s/%s", lower, name);
    else cli__cell(r, "%s", lower);
    if (flags & CLI_WIDE) {
        cli__cell_str(r, orc_json_str(e, "involvedObject.fieldPath"), "");
        cli__cell_str(r,
                 or_str(orc_json_str(e, "source.component"), orc_json_str(e, "reportingComponent")),
                 "");
    }
    cli__cell_str(r, orc_json_str(e, "message"), "");
    if (flags & CLI_WIDE) {
        int64_t count = cli__num(e, "series.count", cli__num(e, "count", 1));
        cli__cell(r, "%s", first);
        cli__cell(r, "%lld", (long long)(count ? count : 1));
        cli__cell_str(r, orc_json_str(e, "metadata.name"), "");
    }
}

static void lease_row(struct row *r, const json_t *l, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_str(r, orc_json_str(l, "spec.holderIdentity"), "");
    cli__cell_age(r, l, now);
}

static void generic_row(struct row *r, const json_t *o, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_age(r, o, now);
}

/* ---- tables ------------------------------------------------------------- */

typedef void (*row_fn)(struct row *r, const json_t *obj, unsigned flags, int64_t now);

struct printer {
    const char *resource;
    const char *header;      /* after NAME, tab-separated */
    const char *wide_header; /* appended with CLI_WIDE */
    row_fn row;
    bool name_column; /* events print no NAME column */
};

static const struct printer printers[] = {
    {"pods", "READY\tSTATUS\tRESTARTS\tAGE", "IP\tNODE\tNOMINATED NODE\tREADINESS GATES", pod_row,
     true},
    {"deployments", "READY\tUP-TO-DATE\tAVAILABLE\tAGE", "CONTAINERS\tIMAGES\tSELECTOR",
     deployment_row, true},
    {"replicasets", "DESIRED\tCURRENT\tREADY\tAGE", "CONTAINERS\tIMAGES\tSELECTOR", replicaset_row,
     true},
    {"statefulsets", "READY\tAGE", "CONTAINERS\tIMAGES", statefulset_row, true},
    {"daemonsets", "DESIRED\tCURRENT\tREADY\tUP-TO-DATE\tAVAILABLE\tNODE SELECTOR\tAGE",
     "CONTAINERS\tIMAGES\tSELECTOR", daemonset_row, true},
    {"jobs", "STATUS\tCOMPLETIONS\tDURATION\tAGE", "CONTAINERS\tIMAGES\tSELECTOR", job_row, true},
    {"cronjobs", "SCHEDULE\tTIMEZONE\tSUSPEND\tACTIVE\tLAST SCHEDULE\tAGE",
     "CONTAINERS\tIMAGES\tSELECTOR", cronjob_row, true},
    {"services", "TYPE\tCLUSTER-IP\tEXTERNAL-IP\tPORT(S)\tAGE", "SELECTOR", service_row, true},
    {"configmaps", "DATA\tAGE", NULL, configmap_row, true},
    {"secrets", "TYPE\tDATA\tAGE", NULL, secret_row, true},
    {"namespaces", "STATUS\tAGE", NULL, namespace_row, true},
    {"nodes", "STATUS\tROLES\tAGE\tVERSION",
     "INTERNAL-IP\tEXTERNAL-IP\tOS-IMAGE\tKERNEL-VERSION\tCONTAINER-RUNTIME", node_row, true},
    {"events", "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE", NULL, event_row, false},
    {"leases", "HOLDER\tAGE", NULL, lease_row, true},
    {"persistentvolumes",
     "CAPACITY\tACCESS MODES\tRECLAIM POLICY\tSTATUS\tCLAIM\tSTORAGECLASS\tVOLUMEATTRIBUTESCLASS\t"
     "REASON\tAGE", "VOLUMEMODE", cli__pv_row, true},
    {"persistentvolumeclaims",
     "STATUS\tVOLUME\tCAPACITY\tACCESS MODES\tSTORAGECLASS\tVOLUMEATTRIBUTESCLASS\tAGE",
     "VOLUMEMODE", cli__pvc_row, true},
    {"storageclasses", "PROVISIONER\tRECLAIMPOLICY\tVOLUMEBINDINGMODE\tALLOWVOLUMEEXPANSION\tAGE",
     NULL, cli__storageclass_row, true},
    {"priorityclasses", "VALUE\tGLOBAL-DEFAULT\tAGE\tPREEMPTIONPOLICY", NULL, cli__priorityclass_row,
     true},
    {"poddisruptionbudgets", "MIN AVAILABLE\tMAX UNAVAILABLE\tALLOWED DISRUPTIONS\tAGE", NULL,
     cli__pdb_row, true},
    {"controllerrevisions", "CONTROLLER\tREVISION\tAGE", NULL, cli__controllerrevision_row, true},
    {"endpoints", "ENDPOINTS\tAGE", NULL, cli__endpoints_row, true},
    {"endpointslices", "ADDRESSTYPE\tPORTS\tENDPOINTS\tAGE", NULL, cli__endpointslice_row, true},
    {"ingresses", "CLASS\tHOSTS\tADDRESS\tPORTS\tAGE", NULL, cli__ingress_row, true},
    {"ingressclasses", "CONTROLLER\tPARAMETERS\tAGE", NULL, cli__ingressclass_row, true},
};

static const struct printer generic = {"", "AGE", NULL, generic_row, true};

static const struct printer *printer_for(const struct orc_kind *k)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(printers); i++)
        if (strcmp(printers[i].resource, k->resource) == 0) return &printers[i];
    return &generic;
}

static int header_line(const struct printer *p, bool ns, unsigned flags, struct orc_buf *b)
{
    int rv = orc_buf_printf(b, "%s%s%s", ns ? "NAMESPACE\t" : "", p->name_column ? "NAME\t" : "",
                            p->header);

    if (rv == 0 && (flags & CLI_WIDE) && p->wide_header)
        rv = orc_buf_printf(b, "\t%s", p->wide_header);
    return rv ? rv : orc_buf_puts(b, "\n");
}

/* Events put their wide columns in the middle and at the end. */
static const char events_wide_header[] =
    "LAST SEEN\tTYPE\tREASON\tOBJECT\tSUBOBJECT\tSOURCE\tMESSAGE\tFIRST SEEN\tCOUNT\tNAME";

static void name_cell(struct row *r, const struct orc_kind *k, const json_t *obj, unsigned flags)
{
    struct orc_buf kind = ORC_BUF_INIT;

    if (!(flags & CLI_SHOW_KIND)) {
        cli__cell_str(r, orc_json_str(obj, "metadata.name"), "");
        return;
    }
    if (r->rv == 0) r->rv = orc_kind_qualified(k, &kind);
    cli__cell(r, "%s/%s", kind.data ? kind.data : "", orc_json_str(obj, "metadata.name") ?: "");
    orc_buf_free(&kind);
}

int cli_print_table(const struct orc_kind *k, const json_t *items, unsigned flags, int64_t now,
                    struct orc_buf *out)
{
    const struct printer *p = printer_for(k);
    bool ns = (flags & CLI_ALL_NAMESPACES) && k->namespaced;
    struct orc_buf text = ORC_BUF_INIT;
    struct row r = {&text, 0};
    size_t i, n;
    const json_t *obj, **rows = NULL;

    if (json_array_size(items) == 0) return 0;
    if (!(flags & CLI_NO_HEADERS)) {
        bool ev_wide = (flags & CLI_WIDE) && strcmp(k->resource, "events") == 0;
        if (ev_wide)
            r.rv = orc_buf_printf(&text, "%s%s\n", ns ? "NAMESPACE\t" : "", events_wide_header);
        else r.rv = header_line(p, ns, flags, &text);
    }
    n = json_array_size(items);
    if ((rows = malloc(n * sizeof *rows)) == NULL) r.rv = ORC_ENOMEM;
    for (i = 0; rows && i < n; i++) rows[i] = json_array_get(items, i);
    if (rows && strcmp(k->resource, "events") == 0) cli_sort_events(rows, n);
    for (i = 0; rows && r.rv == 0 && i < n; i++) {
        obj = rows[i];
        if (ns) cli__cell_str(&r, orc_json_str(obj, "metadata.namespace"), "");
        if (p->name_column) name_cell(&r, k, obj, flags);
        p->row(&r, obj, flags, now);
        if (r.rv != 0) break;
        text.data[text.len - 1] = '\n'; /* the last cell's tab ends the line */
    }
    if (r.rv == 0) r.rv = cli_tabwrite(text.data, text.len, 6, 3, out);
    free((void *)rows);
    orc_buf_free(&text);
    return r.rv;
}

int cli_print_names(const struct orc_kind *k, const json_t *items, struct orc_buf *out)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    size_t i;
    json_t *obj;
    int rv = orc_kind_qualified(k, &prefix);

    json_array_foreach (items, i, obj) {
        if (rv != 0) break;
        rv = orc_buf_printf(out, "%s/%s\n", prefix.data,
                            or_str(orc_json_str(obj, "metadata.name"), ""));
    }
    orc_buf_free(&prefix);
    return rv;
}
