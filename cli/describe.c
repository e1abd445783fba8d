/* describe.c — `orctl describe`: kubectl's describers for the kinds orc
 * serves, written through the same tabwriter alignment kubectl uses. Secret
 * values never reach the output, only their sizes. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/print.h"
#include "lib/table.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/yaml.h"

#define MAX_ANNOTATION_LEN 140

/* kubectl's PrefixWriter over a tabwriter: text collects in `pending` and is
 * aligned at each flush, so columns line up across the whole section. */
struct dw {
    struct orc_buf pending;
    struct orc_buf *out;
    int rv;
};

static void dw_write(struct dw *w, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dw_write(struct dw *w, int level, const char *fmt, ...)
{
    va_list ap;

    for (int i = 0; i < level && w->rv == 0; i++) w->rv = orc_buf_puts(&w->pending, "  ");
    if (w->rv != 0) return;
    va_start(ap, fmt);
    w->rv = orc_buf_vprintf(&w->pending, fmt, ap);
    va_end(ap);
}

static void dw_flush(struct dw *w)
{
    if (w->rv == 0 && w->pending.len > 0)
        w->rv = cli_tabwrite(w->pending.data, w->pending.len, 0, 2, w->out);
    orc_buf_reset(&w->pending);
}

static const char *str(const json_t *o, const char *path)
{
    const char *s = orc_json_str(o, path);
    return s ? s : "";
}

static const char *str_or(const json_t *o, const char *path, const char *dflt)
{
    const char *s = orc_json_str(o, path);
    return s && *s ? s : dflt;
}

static long long jnum(const json_t *o, const char *path, long long dflt)
{
    int64_t v;
    return orc_json_int(o, path, &v) == 0 ? (long long)v : dflt;
}

static const char *bool_str(const json_t *o, const char *path)
{
    return json_is_true(orc_json_get(o, path)) ? "true" : "false";
}

/* Go's time.RFC1123Z ("Mon, 02 Jan 2006 15:04:05 -0700"), in UTC. */
static const char *rfc1123z(const char *ts, char *buf, size_t n)
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
static void int_or_string(const json_t *v, const char *dflt, char *buf, size_t n)
{
    if (json_is_integer(v)) snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v)) snprintf(buf, n, "%s", json_string_value(v));
    else snprintf(buf, n, "%s", dflt);
}

/* ---- metadata ----------------------------------------------------------- */

static void labels_multiline(struct dw *w, const char *title, const json_t *labels)
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

static void annotations_multiline(struct dw *w, const char *title, const json_t *ann)
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

static void name_namespace(struct dw *w, const json_t *obj, bool namespaced)
{
    dw_write(w, 0, "Name:\t%s\n", str(obj, "metadata.name"));
    if (namespaced) dw_write(w, 0, "Namespace:\t%s\n", str(obj, "metadata.namespace"));
}

static void labels_annotations(struct dw *w, const json_t *obj)
{
    labels_multiline(w, "Labels", orc_json_get(obj, "metadata.labels"));
    annotations_multiline(w, "Annotations", orc_json_get(obj, "metadata.annotations"));
}

static void creation(struct dw *w, const json_t *obj)
{
    char t[64];
    dw_write(w, 0, "CreationTimestamp:\t%s\n",
             rfc1123z(orc_json_str(obj, "metadata.creationTimestamp"), t, sizeof t));
}

/* "ReplicaSet/web-5d8f" from the controller owner reference. */
static void controlled_by(struct dw *w, const json_t *obj)
{
    json_t *owners = orc_json_get(obj, "metadata.ownerReferences"), *o;
    size_t i;

    json_array_foreach (owners, i, o)
        if (json_is_true(json_object_get(o, "controller"))) {
            dw_write(w, 0, "Controlled By:\t%s/%s\n", str(o, "kind"), str(o, "name"));
            return;
        }
}

/* ---- containers --------------------------------------------------------- */

static void ports_line(struct dw *w, const json_t *ports, bool host)
{
    struct orc_buf b = ORC_BUF_INIT;
    size_t i;
    json_t *p;

    json_array_foreach (ports, i, p)
        orc_buf_printf(&b, "%s%lld/%s", i ? ", " : "",
                       jnum(p, host ? "hostPort" : "containerPort", 0),
                       str_or(p, "protocol", "TCP"));
    if (b.data && strchr(b.data, ','))
        dw_write(w, 2, "%s:\t%s\n", host ? "Host Ports" : "Ports", b.data);
    else dw_write(w, 2, "%s:\t%s\n", host ? "Host Port" : "Port", b.len ? b.data : "<none>");
    orc_buf_free(&b);
}

static void lines_at(struct dw *w, int level, const char *s)
{
    for (;;) {
        const char *nl = strchr(s, '\n');
        if (nl == NULL) {
            dw_write(w, level, "%s\n", s);
            return;
        }
        dw_write(w, level, "%.*s\n", (int)(nl - s), s);
        s = nl + 1;
    }
}

static void string_block(struct dw *w, const char *title, const json_t *arr)
{
    size_t i;
    json_t *v;

    if (json_array_size(arr) == 0) return;
    dw_write(w, 2, "%s:\n", title);
    json_array_foreach (arr, i, v) lines_at(w, 3, json_is_string(v) ? json_string_value(v) : "");
}

static void state_section(struct dw *w, const char *name, const json_t *state)
{
    json_t *run = json_object_get(state, "running"), *wait = json_object_get(state, "waiting");
    json_t *term = json_object_get(state, "terminated");
    char t[64];

    if (run) {
        dw_write(w, 2, "%s:\tRunning\n", name);
        dw_write(w, 3, "Started:\t%s\n", rfc1123z(orc_json_str(run, "startedAt"), t, sizeof t));
    } else if (term) {
        dw_write(w, 2, "%s:\tTerminated\n", name);
        if (*str(term, "reason")) dw_write(w, 3, "Reason:\t%s\n", str(term, "reason"));
        if (*str(term, "message")) dw_write(w, 3, "Message:\t%s\n", str(term, "message"));
        dw_write(w, 3, "Exit Code:\t%lld\n", jnum(term, "exitCode", 0));
        if (jnum(term, "signal", 0) > 0) dw_write(w, 3, "Signal:\t%lld\n", jnum(term, "signal", 0));
        dw_write(w, 3, "Started:\t%s\n", rfc1123z(orc_json_str(term, "startedAt"), t, sizeof t));
        dw_write(w, 3, "Finished:\t%s\n", rfc1123z(orc_json_str(term, "finishedAt"), t, sizeof t));
    } else {
        dw_write(w, 2, "%s:\tWaiting\n", name);
        if (wait && *str(wait, "reason")) dw_write(w, 3, "Reason:\t%s\n", str(wait, "reason"));
    }
}

static void container_state(struct dw *w, const json_t *cs)
{
    state_section(w, "State", json_object_get(cs, "state"));
    if (orc_json_get(cs, "lastState.terminated"))
        state_section(w, "Last State", orc_json_get(cs, "lastState"));
    dw_write(w, 2, "Ready:\t%s\n", json_is_true(json_object_get(cs, "ready")) ? "True" : "False");
    dw_write(w, 2, "Restart Count:\t%lld\n", jnum(cs, "restartCount", 0));
}

static void resource_list(struct dw *w, const char *title, const json_t *list)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(list, &n);
    char v[64];

    if (n > 0) dw_write(w, 2, "%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        int_or_string(json_object_get(list, keys[i]), "", v, sizeof v);
        dw_write(w, 3, "%s:\t%s\n", keys[i], v);
    }
    free(keys);
}

static void probe_line(struct dw *w, const char *title, const json_t *p)
{
    struct orc_buf b = ORC_BUF_INIT;
    json_t *exec = orc_json_get(p, "exec.command"), *http = json_object_get(p, "httpGet");
    json_t *tcp = json_object_get(p, "tcpSocket"), *v;
    char port[64];
    size_t i;

    if (p == NULL) return;
    if (exec) {
        orc_buf_puts(&b, "exec [");
        json_array_foreach (exec, i, v)
            orc_buf_printf(&b, "%s%s", i ? " " : "",
                           json_string_value(v) ? json_string_value(v) : "");
        orc_buf_puts(&b, "]");
    } else if (http) {
        char scheme[16];
        snprintf(scheme, sizeof scheme, "%s", str_or(http, "scheme", "HTTP"));
        for (char *c = scheme; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        int_or_string(json_object_get(http, "port"), "", port, sizeof port);
        orc_buf_printf(&b, "http-get %s://%s:%s%s", scheme, str(http, "host"), port,
                       str(http, "path"));
    } else if (tcp) {
        int_or_string(json_object_get(tcp, "port"), "", port, sizeof port);
        orc_buf_printf(&b, "tcp-socket %s:%s", str(tcp, "host"), port);
    } else {
        orc_buf_puts(&b, "unknown");
    }
    /* The API server's defaults, for objects it has not defaulted. */
    orc_buf_printf(&b, " delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld",
                   jnum(p, "initialDelaySeconds", 0), jnum(p, "timeoutSeconds", 1),
                   jnum(p, "periodSeconds", 10), jnum(p, "successThreshold", 1),
                   jnum(p, "failureThreshold", 3));
    dw_write(w, 2, "%s:\t%s\n", title, b.data ? b.data : "");
    orc_buf_free(&b);
}

static void env_from(struct dw *w, const json_t *list)
{
    size_t i;
    json_t *e;

    if (json_array_size(list) == 0) return;
    dw_write(w, 2, "Environment Variables from:\n");
    json_array_foreach (list, i, e) {
        json_t *ref = json_object_get(e, "configMapRef");
        const char *from = ref ? "ConfigMap" : "Secret";
        if (ref == NULL) ref = json_object_get(e, "secretRef");
        if (*str(e, "prefix"))
            dw_write(w, 3, "%s\t%s with prefix '%s'\tOptional: %s\n", str(ref, "name"), from,
                     str(e, "prefix"), bool_str(ref, "optional"));
        else
            dw_write(w, 3, "%s\t%s\tOptional: %s\n", str(ref, "name"), from,
                     bool_str(ref, "optional"));
    }
}

static void env_var(struct dw *w, const json_t *e)
{
    const char *name = str(e, "name");
    json_t *from = json_object_get(e, "valueFrom"), *ref;

    if (from == NULL) {
        const char *v = str(e, "value"), *nl;
        for (bool first = true;; first = false) {
            nl = strchr(v, '\n');
            int n = nl ? (int)(nl - v) : (int)strlen(v);
            if (first) dw_write(w, 3, "%s:\t%.*s\n", name, n, v);
            else dw_write(w, 3, "\t%.*s\n", n, v);
            if (nl == NULL) break;
            v = nl + 1;
        }
    } else if ((ref = json_object_get(from, "fieldRef")) != NULL) {
        dw_write(w, 3, "%s:\t (%s:%s)\n", name, str_or(ref, "apiVersion", "v1"),
                 str(ref, "fieldPath"));
    } else if ((ref = json_object_get(from, "resourceFieldRef")) != NULL) {
        dw_write(w, 3, "%s:\t (%s)\n", name, str(ref, "resource"));
    } else if ((ref = json_object_get(from, "secretKeyRef")) != NULL) {
        dw_write(w, 3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %s\n", name,
                 str(ref, "key"), str(ref, "name"), bool_str(ref, "optional"));
    } else if ((ref = json_object_get(from, "configMapKeyRef")) != NULL) {
        dw_write(w, 3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %s\n", name,
                 str(ref, "key"), str(ref, "name"), bool_str(ref, "optional"));
    }
}

static int cmp_mount(const void *a, const void *b)
{
    return strcmp(str(*(json_t *const *)a, "mountPath"), str(*(json_t *const *)b, "mountPath"));
}

static void mounts(struct dw *w, const json_t *list)
{
    size_t n = json_array_size(list);
    json_t **sorted = n ? malloc(n * sizeof *sorted) : NULL;

    dw_write(w, 2, "Mounts:%s\n", n ? "" : "\t<none>");
    if (sorted == NULL) return;
    for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(list, i);
    qsort(sorted, n, sizeof *sorted, cmp_mount);
    for (size_t i = 0; i < n; i++) {
        const char *sub = str(sorted[i], "subPath");
        dw_write(w, 3, "%s from %s (%s%s%s%s)\n", str(sorted[i], "mountPath"),
                 str(sorted[i], "name"),
                 json_is_true(json_object_get(sorted[i], "readOnly")) ? "ro" : "rw",
                 *sub ? ",path=\"" : "", sub, *sub ? "\"" : "");
    }
    free((void *)sorted);
}

static const json_t *status_named(const json_t *statuses, const char *name)
{
    size_t i;
    json_t *s;

    json_array_foreach (statuses, i, s)
        if (strcmp(str(s, "name"), name) == 0) return s;
    return NULL;
}

/* space: "" for a pod, "  " inside a pod template (kubectl's layouts). */
static void containers(struct dw *w, const char *label, const json_t *list, const json_t *statuses,
                       const char *space)
{
    size_t i;
    json_t *c;

    if (json_array_size(list) == 0) {
        dw_write(w, 0, "%s%s: <none>\n", space, label);
        return;
    }
    dw_write(w, 0, "%s%s:\n", space, label);
    json_array_foreach (list, i, c) {
        const json_t *cs = status_named(statuses, str(c, "name"));
        dw_write(w, 1, "%s%s:\n", *space ? " " : "", str(c, "name"));
        if (cs) dw_write(w, 2, "Container ID:\t%s\n", str(cs, "containerID"));
        dw_write(w, 2, "Image:\t%s\n", str(c, "image"));
        if (cs) dw_write(w, 2, "Image ID:\t%s\n", str(cs, "imageID"));
        ports_line(w, json_object_get(c, "ports"), false);
        ports_line(w, json_object_get(c, "ports"), true);
        string_block(w, "Command", json_object_get(c, "command"));
        string_block(w, "Args", json_object_get(c, "args"));
        if (cs) container_state(w, cs);
        resource_list(w, "Limits", orc_json_get(c, "resources.limits"));
        resource_list(w, "Requests", orc_json_get(c, "resources.requests"));
        probe_line(w, "Liveness", json_object_get(c, "livenessProbe"));
        probe_line(w, "Readiness", json_object_get(c, "readinessProbe"));
        probe_line(w, "Startup", json_object_get(c, "startupProbe"));
        env_from(w, json_object_get(c, "envFrom"));
        json_t *env = json_object_get(c, "env"), *e;
        size_t j;
        dw_write(w, 2, "Environment:%s\n", json_array_size(env) ? "" : "\t<none>");
        json_array_foreach (env, j, e) env_var(w, e);
        mounts(w, json_object_get(c, "volumeMounts"));
    }
}

/* ---- volumes ------------------------------------------------------------ */

static void volume_source(struct dw *w, const json_t *v)
{
    json_t *s;

    if ((s = json_object_get(v, "emptyDir")) != NULL) {
        dw_write(w, 2,
                 "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                 "    Medium:\t%s\n    SizeLimit:\t%s\n",
                 str(s, "medium"), str_or(s, "sizeLimit", "<unset>"));
    } else if ((s = json_object_get(v, "hostPath")) != NULL) {
        dw_write(
            w, 2,
            "Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n    HostPathType:\t%s\n",
            str(s, "path"), str_or(s, "type", "<none>"));
    } else if ((s = json_object_get(v, "configMap")) != NULL) {
        dw_write(
            w, 2,
            "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t%s\n    Optional:\t%s\n",
            str(s, "name"), bool_str(s, "optional"));
    } else if ((s = json_object_get(v, "secret")) != NULL) {
        dw_write(
            w, 2,
            "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t%s\n    Optional:\t%s\n",
            str(s, "secretName"), bool_str(s, "optional"));
    } else if ((s = json_object_get(v, "persistentVolumeClaim")) != NULL) {
        dw_write(w, 2,
                 "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                 "namespace)\n    ClaimName:\t%s\n    ReadOnly:\t%s\n",
                 str(s, "claimName"), bool_str(s, "readOnly"));
    } else if (json_object_get(v, "downwardAPI")) {
        dw_write(w, 2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n");
    } else {
        dw_write(w, 1, "<unknown>\n");
    }
}

static void volumes(struct dw *w, const json_t *list, const char *space)
{
    size_t i;
    json_t *v;

    if (json_array_size(list) == 0) {
        dw_write(w, 0, "%sVolumes:\t<none>\n", space);
        return;
    }
    dw_write(w, 0, "%sVolumes:\n", space);
    json_array_foreach (list, i, v) {
        dw_write(w, 1, "%s%s:\n", *space ? " " : "", str(v, "name"));
        volume_source(w, v);
    }
}

static int cmp_key_field(const void *a, const void *b)
{
    return strcmp(str(*(json_t *const *)a, "key"), str(*(json_t *const *)b, "key"));
}

/* Tolerations ("key=value:Effect op=Exists for 300s") and taints share
 * kubectl's one-per-line layout, sorted by key. */
static void key_effect_lines(struct dw *w, const char *title, const json_t *list, bool tolerations)
{
    size_t n = json_array_size(list);
    json_t **sorted = n ? malloc(n * sizeof *sorted) : NULL;

    dw_write(w, 0, "%s:\t", title);
    if (sorted == NULL) {
        dw_write(w, 0, "<none>\n");
        return;
    }
    for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(list, i);
    qsort(sorted, n, sizeof *sorted, cmp_key_field);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = sorted[i];
        const char *key = str(t, "key"), *val = str(t, "value"), *eff = str(t, "effect");
        if (i) dw_write(w, 0, "%s\t", title[0] == ' ' ? "  " : "");
        dw_write(w, 0, "%s%s%s%s%s", key, *val ? "=" : "", val, *eff ? ":" : "", eff);
        if (tolerations && strcmp(str(t, "operator"), "Exists") == 0 && *val == '\0')
            dw_write(w, 0, "%sop=Exists", *key || *eff ? " " : "");
        if (tolerations && orc_json_get(t, "tolerationSeconds"))
            dw_write(w, 0, " for %llds", jnum(t, "tolerationSeconds", 0));
        dw_write(w, 0, "\n");
    }
    free(sorted);
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

/* ---- kinds -------------------------------------------------------------- */

static void pod_template(struct dw *w, const json_t *tpl)
{
    json_t *spec = json_object_get(tpl, "spec");

    dw_write(w, 0, "Pod Template:\n");
    if (tpl == NULL) {
        dw_write(w, 1, "<unset>\n");
        return;
    }
    labels_multiline(w, "  Labels", orc_json_get(tpl, "metadata.labels"));
    if (json_object_size(orc_json_get(tpl, "metadata.annotations")) > 0)
        annotations_multiline(w, "  Annotations", orc_json_get(tpl, "metadata.annotations"));
    if (*str(spec, "serviceAccountName"))
        dw_write(w, 1, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
    if (json_array_size(json_object_get(spec, "initContainers")))
        containers(w, "Init Containers", json_object_get(spec, "initContainers"), NULL, "  ");
    containers(w, "Containers", json_object_get(spec, "containers"), NULL, "  ");
    volumes(w, json_object_get(spec, "volumes"), "  ");
    labels_multiline(w, "  Node-Selectors", json_object_get(spec, "nodeSelector"));
    key_effect_lines(w, "  Tolerations", json_object_get(spec, "tolerations"), true);
}

/* Conditions table; `reason` adds kubectl's Reason column (workloads). */
static void conditions(struct dw *w, const json_t *obj, bool reason)
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

static void selector_line(struct dw *w, const char *title, const json_t *sel, bool label_map)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (label_map) orc_table_labels(sel, &b);
    else orc_table_selector(sel, &b);
    dw_write(w, 0, "%s:\t%s\n", title, b.data ? b.data : "<none>");
    orc_buf_free(&b);
}

static void describe_deployment(struct dw *w, const json_t *d)
{
    char mu[32], ms[32];
    const char *type = str_or(d, "spec.strategy.type", "RollingUpdate");

    name_namespace(w, d, true);
    creation(w, d);
    labels_annotations(w, d);
    selector_line(w, "Selector", orc_json_get(d, "spec.selector"), false);
    dw_write(
        w, 0,
        "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
        jnum(d, "spec.replicas", 1), jnum(d, "status.updatedReplicas", 0),
        jnum(d, "status.replicas", 0), jnum(d, "status.availableReplicas", 0),
        jnum(d, "status.unavailableReplicas", 0));
    dw_write(w, 0, "StrategyType:\t%s\n", type);
    dw_write(w, 0, "MinReadySeconds:\t%lld\n", jnum(d, "spec.minReadySeconds", 0));
    if (strcmp(type, "RollingUpdate") == 0) {
        int_or_string(orc_json_get(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%", mu,
                      sizeof mu);
        int_or_string(orc_json_get(d, "spec.strategy.rollingUpdate.maxSurge"), "25%", ms,
                      sizeof ms);
        dw_write(w, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", mu, ms);
    }
    pod_template(w, orc_json_get(d, "spec.template"));
    conditions(w, d, true);
}

static void describe_replicaset(struct dw *w, const json_t *rs)
{
    name_namespace(w, rs, true);
    selector_line(w, "Selector", orc_json_get(rs, "spec.selector"), false);
    labels_annotations(w, rs);
    controlled_by(w, rs);
    dw_write(w, 0, "Replicas:\t%lld current / %lld desired\n", jnum(rs, "status.replicas", 0),
             jnum(rs, "spec.replicas", 1));
    pod_template(w, orc_json_get(rs, "spec.template"));
    conditions(w, rs, true);
}

static void describe_pod(struct dw *w, const json_t *pod, int64_t now)
{
    const char *node = orc_json_str(pod, "spec.nodeName"), *phase = str(pod, "status.phase");
    json_t *spec = json_object_get(pod, "spec"), *ips = orc_json_get(pod, "status.podIPs"), *ip;
    char t[64], age[32];
    size_t i;

    name_namespace(w, pod, true);
    if (orc_json_get(pod, "spec.priority"))
        dw_write(w, 0, "Priority:\t%lld\n", jnum(pod, "spec.priority", 0));
    if (*str(spec, "serviceAccountName"))
        dw_write(w, 0, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
    if (node && *node) dw_write(w, 0, "Node:\t%s/%s\n", node, str(pod, "status.hostIP"));
    else dw_write(w, 0, "Node:\t<none>\n");
    if (orc_json_get(pod, "status.startTime"))
        dw_write(w, 0, "Start Time:\t%s\n",
                 rfc1123z(orc_json_str(pod, "status.startTime"), t, sizeof t));
    labels_annotations(w, pod);
    if (orc_json_get(pod, "metadata.deletionTimestamp") && strcmp(phase, "Succeeded")
        && strcmp(phase, "Failed")) {
        orc_table_age(orc_json_str(pod, "metadata.deletionTimestamp"), now, age, sizeof age);
        dw_write(w, 0, "Status:\tTerminating (lasts %s)\n", age);
        dw_write(w, 0, "Termination Grace Period:\t%llds\n",
                 jnum(pod, "metadata.deletionGracePeriodSeconds", 30));
    } else {
        dw_write(w, 0, "Status:\t%s\n", phase);
    }
    if (*str(pod, "status.reason")) dw_write(w, 0, "Reason:\t%s\n", str(pod, "status.reason"));
    if (*str(pod, "status.message")) dw_write(w, 0, "Message:\t%s\n", str(pod, "status.message"));
    dw_write(w, 0, "IP:\t%s\n", str(pod, "status.podIP"));
    if (json_array_size(ips) == 0) dw_write(w, 0, "IPs:\t<none>\n");
    else dw_write(w, 0, "IPs:\n");
    json_array_foreach (ips, i, ip) dw_write(w, 1, "IP:\t%s\n", str(ip, "ip"));
    controlled_by(w, pod);
    if (json_array_size(json_object_get(spec, "initContainers")))
        containers(w, "Init Containers", json_object_get(spec, "initContainers"),
                   orc_json_get(pod, "status.initContainerStatuses"), "");
    containers(w, "Containers", json_object_get(spec, "containers"),
               orc_json_get(pod, "status.containerStatuses"), "");
    conditions(w, pod, false);
    volumes(w, json_object_get(spec, "volumes"), "");
    if (*str(pod, "status.qosClass"))
        dw_write(w, 0, "QoS Class:\t%s\n", str(pod, "status.qosClass"));
    labels_multiline(w, "Node-Selectors", json_object_get(spec, "nodeSelector"));
    key_effect_lines(w, "Tolerations", json_object_get(spec, "tolerations"), true);
}

/* kubectl's "Endpoints:" of one service port: the ready addresses of the
 * slices with the port of that name, "ip:port", three at most then "+ N
 * more...", <none> when there are none. */
static void service_endpoints(struct dw *w, const json_t *p, const json_t *slices)
{
    const char *name = str_or(p, "name", "");
    size_t i, k, j, shown = 0, more = 0;
    json_t *sl, *sp, *ep, *addr;

    dw_write(w, 0, "Endpoints:\t");
    json_array_foreach ((json_t *)slices, i, sl) {
        long long port = -1;
        json_array_foreach (orc_json_get(sl, "ports"), k, sp)
            if (strcmp(str_or(sp, "name", ""), name) == 0) port = jnum(sp, "port", 0);
        if (port < 0) continue;
        json_array_foreach (orc_json_get(sl, "endpoints"), k, ep) {
            if (json_is_false(orc_json_get(ep, "conditions.ready"))) continue;
            json_array_foreach (orc_json_get(ep, "addresses"), j, addr) {
                if (shown == 3) {
                    more++;
                    continue;
                }
                dw_write(w, 0, "%s%s:%lld", shown ? "," : "", json_string_value(addr) ?: "", port);
                shown++;
            }
        }
    }
    if (!shown) dw_write(w, 0, "<none>");
    if (more) dw_write(w, 0, " + %zu more...", more);
    dw_write(w, 0, "\n");
}

static void service_port(struct dw *w, const json_t *p)
{
    const char *name = str_or(p, "name", "<unset>"), *proto = str_or(p, "protocol", "TCP");
    json_t *target = json_object_get(p, "targetPort");
    char tp[64];

    dw_write(w, 0, "Port:\t%s\t%lld/%s\n", name, jnum(p, "port", 0), proto);
    /* An omitted targetPort defaults to the port itself. */
    if (target) int_or_string(target, "", tp, sizeof tp);
    else snprintf(tp, sizeof tp, "%lld", jnum(p, "port", 0));
    dw_write(w, 0, "TargetPort:\t%s/%s\n", tp, proto);
    if (jnum(p, "nodePort", 0))
        dw_write(w, 0, "NodePort:\t%s\t%lld/%s\n", name, jnum(p, "nodePort", 0), proto);
}

static void describe_service(struct dw *w, const json_t *s, const json_t *slices)
{
    json_t *ports = orc_json_get(s, "spec.ports"), *p,
           *ing = orc_json_get(s, "status.loadBalancer.ingress");
    size_t i;

    name_namespace(w, s, true);
    labels_annotations(w, s);
    selector_line(w, "Selector", orc_json_get(s, "spec.selector"), true);
    dw_write(w, 0, "Type:\t%s\n", str_or(s, "spec.type", "ClusterIP"));
    dw_write(w, 0, "IP:\t%s\n", str(s, "spec.clusterIP"));
    if (json_array_size(orc_json_get(s, "spec.externalIPs"))) {
        dw_write(w, 0, "External IPs:\t");
        json_array_foreach (orc_json_get(s, "spec.externalIPs"), i, p)
            dw_write(w, 0, "%s%s", i ? "," : "", json_string_value(p) ? json_string_value(p) : "");
        dw_write(w, 0, "\n");
    }
    if (*str(s, "spec.externalName"))
        dw_write(w, 0, "External Name:\t%s\n", str(s, "spec.externalName"));
    if (json_array_size(ing)) {
        dw_write(w, 0, "LoadBalancer Ingress:\t");
        json_array_foreach (ing, i, p)
            dw_write(w, 0, "%s%s", i ? ", " : "", str_or(p, "ip", str(p, "hostname")));
        dw_write(w, 0, "\n");
    }
    json_array_foreach (ports, i, p) {
        service_port(w, p);
        if (slices) service_endpoints(w, p, slices);
    }
    dw_write(w, 0, "Session Affinity:\t%s\n", str_or(s, "spec.sessionAffinity", "None"));
    if (*str(s, "spec.externalTrafficPolicy"))
        dw_write(w, 0, "External Traffic Policy:\t%s\n", str(s, "spec.externalTrafficPolicy"));
}

/* The decoded size of base64 text, computed without decoding: the value
 * itself never needs to exist in this process's memory. */
static size_t b64_size(const char *v)
{
    size_t len = v ? strlen(v) : 0, pad = 0;

    while (pad < 2 && pad < len && v[len - 1 - pad] == '=') pad++;
    return (len - pad) * 3 / 4;
}

static void describe_configmap(struct dw *w, const json_t *cm)
{
    json_t *data = json_object_get(cm, "data"), *bin = json_object_get(cm, "binaryData");
    size_t n;
    const char **keys;

    name_namespace(w, cm, true);
    labels_annotations(w, cm);
    dw_write(w, 0, "\nData\n====\n");
    keys = orc_json_sorted_keys(data, &n);
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(data, keys[i]));
        dw_write(w, 0, "%s:\n----\n%s\n", keys[i], v ? v : "");
    }
    free(keys);
    dw_write(w, 0, "\nBinaryData\n====\n");
    keys = orc_json_sorted_keys(bin, &n);
    for (size_t i = 0; i < n; i++) {
        dw_write(w, 0, "%s: %zu bytes\n", keys[i],
                 b64_size(json_string_value(json_object_get(bin, keys[i]))));
    }
    free(keys);
    dw_write(w, 0, "\n");
}

static void describe_secret(struct dw *w, const json_t *s)
{
    json_t *data = json_object_get(s, "data"), *sdata = json_object_get(s, "stringData");
    size_t n;
    const char **keys;

    name_namespace(w, s, true);
    labels_annotations(w, s);
    dw_write(w, 0, "\nType:\t%s\n", str_or(s, "type", "Opaque"));
    dw_write(w, 0, "\nData\n====\n");
    keys = orc_json_sorted_keys(data, &n);
    for (size_t i = 0; i < n; i++)
        dw_write(w, 0, "%s:\t%zu bytes\n", keys[i],
                 b64_size(json_string_value(json_object_get(data, keys[i]))));
    free(keys);
    keys = orc_json_sorted_keys(sdata, &n);
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(sdata, keys[i]));
        dw_write(w, 0, "%s:\t%zu bytes\n", keys[i], v ? strlen(v) : 0);
    }
    free(keys);
}

static void resource_block(struct dw *w, const char *title, const json_t *list)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(list, &n);
    char v[64];

    if (n == 0) return;
    dw_write(w, 0, "%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        int_or_string(json_object_get(list, keys[i]), "", v, sizeof v);
        dw_write(w, 0, "  %s:\t%s\n", keys[i], v);
    }
    free(keys);
}

static void node_conditions(struct dw *w, const json_t *node)
{
    json_t *conds = orc_json_get(node, "status.conditions"), *c;
    char hb[64], tr[64];
    size_t i;

    if (json_array_size(conds) == 0) return;
    dw_write(
        w, 0,
        "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
    dw_write(w, 1, "----\t------\t-----------------\t------------------\t------\t-------\n");
    json_array_foreach (conds, i, c)
        dw_write(w, 1, "%s \t%s \t%s \t%s \t%s \t%s\n", str(c, "type"), str(c, "status"),
                 rfc1123z(orc_json_str(c, "lastHeartbeatTime"), hb, sizeof hb),
                 rfc1123z(orc_json_str(c, "lastTransitionTime"), tr, sizeof tr), str(c, "reason"),
                 str(c, "message"));
}

static void describe_node(struct dw *w, const json_t *node)
{
    static const char *const info[][2] = {{"Machine ID", "machineID"},
                                          {"System UUID", "systemUUID"},
                                          {"Boot ID", "bootID"},
                                          {"Kernel Version", "kernelVersion"},
                                          {"OS Image", "osImage"},
                                          {"Operating System", "operatingSystem"},
                                          {"Architecture", "architecture"},
                                          {"Container Runtime Version", "containerRuntimeVersion"},
                                          {"Kubelet Version", "kubeletVersion"},
                                          {"Kube-Proxy Version", "kubeProxyVersion"}};
    json_t *addrs = orc_json_get(node, "status.addresses"), *a,
           *ni = orc_json_get(node, "status.nodeInfo");
    json_t *tmp;
    struct orc_buf roles = ORC_BUF_INIT;
    size_t i;

    name_namespace(w, node, false);
    if (w->rv == 0) w->rv = orc_table_node_roles(node, &roles);
    dw_write(w, 0, "Roles:\t%s\n", roles.data ? roles.data : "<none>");
    orc_buf_free(&roles);
    labels_annotations(w, node);
    creation(w, node);
    key_effect_lines(w, "Taints", orc_json_get(node, "spec.taints"), false);
    dw_write(w, 0, "Unschedulable:\t%s\n", bool_str(node, "spec.unschedulable"));
    node_conditions(w, node);
    dw_write(w, 0, "Addresses:\n");
    json_array_foreach (addrs, i, a) dw_write(w, 1, "%s:\t%s\n", str(a, "type"), str(a, "address"));
    resource_block(w, "Capacity", orc_json_get(node, "status.capacity"));
    resource_block(w, "Allocatable", orc_json_get(node, "status.allocatable"));
    dw_write(w, 0, "System Info:\n");
    for (i = 0; i < ORC_ARRAY_LEN(info); i++) {
        tmp = json_object_get(ni, info[i][1]);
        dw_write(w, 0, "  %s:\t%s\n", info[i][0],
                 json_string_value(tmp) ? json_string_value(tmp) : "");
    }
    if (*str(node, "spec.podCIDR")) dw_write(w, 0, "PodCIDR:\t%s\n", str(node, "spec.podCIDR"));
}

static void describe_namespace(struct dw *w, const json_t *ns)
{
    name_namespace(w, ns, false);
    labels_annotations(w, ns);
    dw_write(w, 0, "Status:\t%s\n", str_or(ns, "status.phase", "Active"));
}

/* A field as indented YAML under its title, for kinds without a describer. */
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
    name_namespace(w, obj, k->namespaced);
    labels_annotations(w, obj);
    creation(w, obj);
    controlled_by(w, obj);
    yaml_section(w, "Spec", json_object_get(obj, "spec"));
    yaml_section(w, "Status", json_object_get(obj, "status"));
}

int cli_describe(const struct orc_kind *k, const json_t *obj, const json_t *events, const json_t *related,
                 int64_t now, struct orc_buf *out)
{
    struct dw w = {ORC_BUF_INIT, out, 0};
    const char *r = k->resource;

    if (!json_is_object(obj)) return ORC_EINVAL;
    if (!strcmp(r, "deployments")) describe_deployment(&w, obj);
    else if (!strcmp(r, "replicasets")) describe_replicaset(&w, obj);
    else if (!strcmp(r, "pods")) describe_pod(&w, obj, now);
    else if (!strcmp(r, "services")) describe_service(&w, obj, related);
    else if (!strcmp(r, "configmaps")) describe_configmap(&w, obj);
    else if (!strcmp(r, "secrets")) describe_secret(&w, obj);
    else if (!strcmp(r, "nodes")) describe_node(&w, obj);
    else if (!strcmp(r, "namespaces")) describe_namespace(&w, obj);
    else describe_generic(&w, k, obj);
    events_section(&w, events, now);
    dw_flush(&w);
    orc_buf_free(&w.pending);
    return w.rv;
}
