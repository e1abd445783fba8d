/* describe_pod.c — `orctl describe pod` as kubectl's describer prints it,
 * and the parts of a pod spec other describers show (containers, volumes,
 * tolerations, a workload's pod template). */
#include <stdlib.h>
#include <string.h>

#include "cli/describe.h"
#include "lib/table.h"

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
void cli_desc_key_effect_lines(struct dw *w, const char *title, const json_t *list, bool tolerations)
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


void cli_desc_pod_template(struct dw *w, const json_t *tpl)
{
    json_t *spec = json_object_get(tpl, "spec");

    dw_write(w, 0, "Pod Template:\n");
    if (tpl == NULL) {
        dw_write(w, 1, "<unset>\n");
        return;
    }
    cli_desc_labels_multiline(w, "  Labels", orc_json_get(tpl, "metadata.labels"));
    if (json_object_size(orc_json_get(tpl, "metadata.annotations")) > 0)
        cli_desc_annotations_multiline(w, "  Annotations", orc_json_get(tpl, "metadata.annotations"));
    if (*str(spec, "serviceAccountName"))
        dw_write(w, 1, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
    if (json_array_size(json_object_get(spec, "initContainers")))
        containers(w, "Init Containers", json_object_get(spec, "initContainers"), NULL, "  ");
    containers(w, "Containers", json_object_get(spec, "containers"), NULL, "  ");
    volumes(w, json_object_get(spec, "volumes"), "  ");
    cli_desc_labels_multiline(w, "  Node-Selectors", json_object_get(spec, "nodeSelector"));
    cli_desc_key_effect_lines(w, "  Tolerations", json_object_get(spec, "tolerations"), true);
}

/* Conditions table; `reason` adds kubectl's Reason column (workloads). */

void cli_describe_pod(struct dw *w, const json_t *pod, int64_t now)
{
    const char *node = orc_json_str(pod, "spec.nodeName"), *phase = str(pod, "status.phase");
    json_t *spec = json_object_get(pod, "spec"), *ips = orc_json_get(pod, "status.podIPs"), *ip;
    char t[64], age[32];
    size_t i;

    cli_desc_name_namespace(w, pod, true);
    if (orc_json_get(pod, "spec.priority"))
        dw_write(w, 0, "Priority:\t%lld\n", jnum(pod, "spec.priority", 0));
    if (*str(spec, "serviceAccountName"))
        dw_write(w, 0, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
    if (node && *node) dw_write(w, 0, "Node:\t%s/%s\n", node, str(pod, "status.hostIP"));
    else dw_write(w, 0, "Node:\t<none>\n");
    if (orc_json_get(pod, "status.startTime"))
        dw_write(w, 0, "Start Time:\t%s\n",
                 rfc1123z(orc_json_str(pod, "status.startTime"), t, sizeof t));
    cli_desc_labels_annotations(w, pod);
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
    cli_desc_controlled_by(w, pod);
    if (json_array_size(json_object_get(spec, "initContainers")))
        containers(w, "Init Containers", json_object_get(spec, "initContainers"),
                   orc_json_get(pod, "status.initContainerStatuses"), "");
    containers(w, "Containers", json_object_get(spec, "containers"),
               orc_json_get(pod, "status.containerStatuses"), "");
    cli_desc_conditions(w, pod, false);
    volumes(w, json_object_get(spec, "volumes"), "");
    if (*str(pod, "status.qosClass"))
        dw_write(w, 0, "QoS Class:\t%s\n", str(pod, "status.qosClass"));
    cli_desc_labels_multiline(w, "Node-Selectors", json_object_get(spec, "nodeSelector"));
    cli_desc_key_effect_lines(w, "Tolerations", json_object_get(spec, "tolerations"), true);
}

/* kubectl's "Endpoints:" of one service port: the ready addresses of the
 * slices with the port of that name, "ip:port", three at most then "+ N
 * more...", <none> when there are none. */
