/* describe.h — what the describers of `orctl describe` share (describe.c
 * is the frame: metadata, conditions, events, and the dispatch by kind;
 * describe_pod.c pods and their templates, describe_workloads.c the
 * workloads, describe_core.c services, config, nodes and namespaces). For
 * cli/describe*.c only. */
#ifndef ORC_CLI_DESCRIBE_H
#define ORC_CLI_DESCRIBE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cli/print.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define MAX_ANNOTATION_LEN 140

/* kubectl's PrefixWriter over a tabwriter: text collects in `pending` and is
 * aligned at each flush, so columns line up across the whole section. */
struct dw {
    struct orc_buf pending;
    struct orc_buf *out;
    int rv;
};

static inline void dw_write(struct dw *w, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void dw_write(struct dw *w, int level, const char *fmt, ...)
{
    va_list ap;

    for (int i = 0; i < level && w->rv == 0; i++) w->rv = orc_buf_puts(&w->pending, "  ");
    if (w->rv != 0) return;
    va_start(ap, fmt);
    w->rv = orc_buf_vprintf(&w->pending, fmt, ap);
    va_end(ap);
}

static inline void dw_flush(struct dw *w)
{
    if (w->rv == 0 && w->pending.len > 0)
        w->rv = cli_tabwrite(w->pending.data, w->pending.len, 0, 2, w->out);
    orc_buf_reset(&w->pending);
}

static inline const char *str(const json_t *o, const char *path)
{
    const char *s = orc_json_str(o, path);
    return s ? s : "";
}

static inline const char *str_or(const json_t *o, const char *path, const char *dflt)
{
    const char *s = orc_json_str(o, path);
    return s && *s ? s : dflt;
}

static inline long long jnum(const json_t *o, const char *path, long long dflt)
{
    int64_t v;
    return orc_json_int(o, path, &v) == 0 ? (long long)v : dflt;
}

static inline const char *bool_str(const json_t *o, const char *path)
{
    return json_is_true(orc_json_get(o, path)) ? "true" : "false";
}

/* Go's time.RFC1123Z ("Mon, 02 Jan 2006 15:04:05 -0700"), in UTC. */
static inline const char *rfc1123z(const char *ts, char *buf, size_t n)
{
    int64_t t;
    time_t tt;
    struct tm tm;

    if (ts == NULL || orc_time_parse(ts, &t) != 0) return "<unknown>";
    tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, n, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        return "<unknown>";
    return buf;
}

/* An IntOrString (ports, maxSurge) as text. */
static inline void int_or_string(const json_t *v, const char *dflt, char *buf, size_t n)
{
    if (json_is_integer(v)) snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v)) snprintf(buf, n, "%s", json_string_value(v));
    else snprintf(buf, n, "%s", dflt);
}

/* metadata, conditions and selectors (describe.c) */
void cli_desc_labels_multiline(struct dw *w, const char *title, const json_t *labels);
void cli_desc_annotations_multiline(struct dw *w, const char *title, const json_t *ann);
void cli_desc_name_namespace(struct dw *w, const json_t *obj, bool namespaced);
void cli_desc_labels_annotations(struct dw *w, const json_t *obj);
void cli_desc_creation(struct dw *w, const json_t *obj);
void cli_desc_controlled_by(struct dw *w, const json_t *obj);
void cli_desc_conditions(struct dw *w, const json_t *obj, bool reason);
void cli_desc_selector_line(struct dw *w, const char *title, const json_t *sel, bool label_map);

/* pods, containers, volumes, pod templates (describe_pod.c) */
void cli_desc_key_effect_lines(struct dw *w, const char *title, const json_t *list, bool tolerations);
void cli_desc_pod_template(struct dw *w, const json_t *tpl);
void cli_describe_pod(struct dw *w, const json_t *pod, int64_t now);

/* Deployments and ReplicaSets (describe_workloads.c) */
void cli_describe_deployment(struct dw *w, const json_t *d);
void cli_describe_replicaset(struct dw *w, const json_t *rs);

/* Services, ConfigMaps, Secrets, Nodes, Namespaces (describe_core.c) */
void cli_describe_service(struct dw *w, const json_t *s, const json_t *slices);
void cli_describe_configmap(struct dw *w, const json_t *cm);
void cli_describe_secret(struct dw *w, const json_t *s);
void cli_describe_node(struct dw *w, const json_t *node);
void cli_describe_namespace(struct dw *w, const json_t *ns);

#endif
