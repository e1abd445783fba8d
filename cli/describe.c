/* describe.c — `orctl describe`: kubectl's describers for the kinds orc
 * serves, written through the same tabwriter alignment kubectl uses. This
 * file is the frame (metadata, conditions, events, kinds without a
 * describer, the dispatch by kind); the describers are in describe_*.c. */
#include <stdlib.h>
#include <string.h>

#include "cli/describe.h"
#include "lib/table.h"
#include "lib/yaml.h"

/* ---- metadata ----------------------------------------------------------- */

void cli_desc_labels_multiline(struct dw *w, const char *title, const json_t *labels)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(labels, &n);

    dw_write(w, 0, "%s:\t", title);
    if (n == 0) dw_write(w, 0, "<none>\n");
    for (size_t i = 0; i < n; i++)
        dw_write(w, 0, "%s%s=%s\n", i ? "\t" : "", keys[i],
                 json_string_value(json_object_get(labels, keys[i]))
                     ? json_string_value(json_object_get(labels, keys[i]))
                     : "");
    free(keys);
}

static void annotation_value(struct dw *w, const char *key, const char *value)
{
    size_t len = strlen(value);

    while (len > 0 && value[len - 1] == '\n') len--; /* kubectl trims one; all is kinder */
    if (len + strlen(key) + 2 <= MAX_ANNOTATION_LEN && memchr(value, '\n', len) == NULL) {
        dw_write(w, 0, "%s: %.*s\n", key, (int)len, value);
        return;
    }
    dw_write(w, 0, "%s:\n", key);
    for (size_t i = 0; i <= len;) {
        const char *nl = memchr(value + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - value) : len, n = end - i;
        if (n > MAX_ANNOTATION_LEN - 2)
            dw_write(w, 0, "\t  %.*s...\n", MAX_ANNOTATION_LEN - 2, value + i);
        else dw_write(w, 0, "\t  %.*s\n", (int)n, value + i);
        i = end + 1;
    }
}

void cli_desc_annotations_multiline(struct dw *w, const char *title, const json_t *ann)
{
    size_t n, shown = 0;
    const char **keys = orc_json_sorted_keys(ann, &n);

    dw_write(w, 0, "%s:\t", title);
    for (size_t i = 0; i < n; i++) {
        /* The last-applied copy repeats the whole object: kubectl hides it. */
        if (strcmp(keys[i], "kubectl.kubernetes.io/last-applied-configuration") == 0) continue;
        if (shown++) dw_write(w, 0, "\t");
        annotation_value(w, keys[i],
                         json_string_value(json_object_get(ann, keys[i]))
                             ? json_string_value(json_object_get(ann, keys[i]))
                             : "");
    }
    if (shown == 0) dw_write(w, 0, "<none>\n");
    free(keys);
}

void cli_desc_name_namespace(struct dw *w, const json_t *obj, bool namespaced)
{
    dw_write(w, 0, "Name:\t%s\n", str(obj, "metadata.name"));
    if (namespaced) dw_write(w, 0, "Namespace:\t%s\n", str(obj, "metadata.namespace"));
}

void cli_desc_labels_annotations(struct dw *w, const json_t *obj)
{
    cli_desc_labels_multiline(w, "Labels", orc_json_get(obj, "metadata.labels"));
    cli_desc_annotations_multiline(w, "Annotations", orc_json_get(obj, "metadata.annotations"));
}

void cli_desc_creation(struct dw *w, const json_t *obj)
{
    char t[64];
    dw_write(w, 0, "CreationTimestamp:\t%s\n",
             rfc1123z(orc_json_str(obj, "metadata.creationTimestamp"), t, sizeof t));
}

/* "ReplicaSet/web-5d8f" from the controller owner reference. */
void cli_desc_controlled_by(struct dw *w, const json_t *obj)
{
    json_t *owners = orc_json_get(obj, "metadata.ownerReferences"), *o;
    size_t i;

    json_array_foreach (owners, i, o)
        if (json_is_true(json_object_get(o, "controller"))) {
            dw_write(w, 0, "Controlled By:\t%s/%s\n", str(o, "kind"), str(o, "name"));
            return;
        }
}

/* ---- events ------------------------------------------------------------- */

static void event_line(struct dw *w, const json_t *e, int64_t now)
{
    const char *first_ts = orc_json_str(e, "eventTime");
    char first[32], last[32], interval[96];
    long long count = jnum(e, "series.count", jnum(e, "count", 0));

    if (first_ts == NULL) first_ts = orc_json_str(e, "firstTimestamp");
    orc_table_age(first_ts, now, first, sizeof first);
    if (count > 1) {
        orc_table_age(cli_event_last(e), now, last, sizeof last);
        snprintf(interval, sizeof interval, "%s (x%lld over %s)", last, count, first);
    } else {
        snprintf(interval, sizeof interval, "%s", first);
    }
    dw_write(w, 1, "%s\t%s\t%s\t%s\t%s\n", str(e, "type"), str(e, "reason"), interval,
             str_or(e, "source.component", str(e, "reportingController")), str(e, "message"));
}

static void events_section(struct dw *w, const json_t *events, int64_t now)
{
    size_t n = json_array_size(events);
    const json_t **sorted;

    if (events == NULL) return;
    if (n == 0 || (sorted = malloc(n * sizeof *sorted)) == NULL) {
        dw_write(w, 0, "Events:\t<none>\n");
        return;
    }
    dw_flush(w); /* the events table aligns on its own */
    for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(events, i);
    cli_sort_events(sorted, n);
    dw_write(w, 0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    dw_write(w, 1, "----\t------\t----\t----\t-------\n");
    for (size_t i = 0; i < n; i++) event_line(w, sorted[i], now);
    free(sorted);
}

void cli_desc_conditions(struct dw *w, const json_t *obj, bool reason)
{
    json_t *conds = orc_json_get(obj, "status.conditions"), *c;
    size_t i;

    if (json_array_size(conds) == 0) return;
    if (reason) {
        dw_write(w, 0, "Conditions:\n  Type\tStatus\tReason\n");
        dw_write(w, 1, "----\t------\t------\n");
    } else {
        dw_write(w, 0, "Conditions:\n  Type\tStatus\n");
    }
    json_array_foreach (conds, i, c) {
        if (reason)
            dw_write(w, 1, "%s \t%s\t%s\n", str(c, "type"), str(c, "status"), str(c, "reason"));
        else dw_write(w, 1, "%s \t%s \n", str(c, "type"), str(c, "status"));
    }
}

void cli_desc_selector_line(struct dw *w, const char *title, const json_t *sel, bool label_map)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (label_map) orc_table_labels(sel, &b);
    else orc_table_selector(sel, &b);
    dw_write(w, 0, "%s:\t%s\n", title, b.data ? b.data : "<none>");
    orc_buf_free(&b);
}

static void yaml_section(struct dw *w, const char *title, const json_t *v)
{
    struct orc_buf y = ORC_BUF_INIT;

    if (v == NULL) return;
    if (json_is_object(v) && json_object_size(v) == 0) {
        dw_write(w, 0, "%s:\t{}\n", title);
        return;
    }
    dw_write(w, 0, "%s:\n", title);
    if (orc_yaml_emit(v, &y) != 0 || y.data == NULL) {
        w->rv = ORC_ENOMEM;
    } else {
        for (char *line = y.data, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (nl == NULL) nl = line + strlen(line) - 1;
            dw_write(w, 1, "%.*s\n", (int)(nl - line), line);
            if (nl[1] == '\0') break;
        }
    }
    orc_buf_free(&y);
}

static void describe_generic(struct dw *w, const struct orc_kind *k, const json_t *obj)
{
    cli_desc_name_namespace(w, obj, k->namespaced);
    cli_desc_labels_annotations(w, obj);
    cli_desc_creation(w, obj);
    cli_desc_controlled_by(w, obj);
    yaml_section(w, "Spec", json_object_get(obj, "spec"));
    yaml_section(w, "Status", json_object_get(obj, "status"));
}

int cli_describe(const struct orc_kind *k, const json_t *obj, const json_t *events, const json_t *related,
                 int64_t now, struct orc_buf *out)
{
    struct dw w = {ORC_BUF_INIT, out, 0};
    const char *r = k->resource;

    if (!json_is_object(obj)) return ORC_EINVAL;
    if (!strcmp(r, "deployments")) cli_describe_deployment(&w, obj);
    else if (!strcmp(r, "replicasets")) cli_describe_replicaset(&w, obj);
    else if (!strcmp(r, "pods")) cli_describe_pod(&w, obj, now);
    else if (!strcmp(r, "services")) cli_describe_service(&w, obj, related);
    else if (!strcmp(r, "configmaps")) cli_describe_configmap(&w, obj);
    else if (!strcmp(r, "secrets")) cli_describe_secret(&w, obj);
    else if (!strcmp(r, "nodes")) cli_describe_node(&w, obj);
    else if (!strcmp(r, "namespaces")) cli_describe_namespace(&w, obj);
    else describe_generic(&w, k, obj);
    events_section(&w, events, now);
    dw_flush(&w);
    orc_buf_free(&w.pending);
    return w.rv;
}
