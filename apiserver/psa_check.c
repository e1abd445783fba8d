/* psa_check.c — the Pod Security Standards' checks (baseline and restricted)
 * on a pod spec, in Kubernetes' order and with its reasons and details, so
 * that kubectl users read the same messages as from a Kubernetes cluster. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/psa.h"
#include "lib/json.h"
#include "lib/orc.h"

/* What the checks found so far. */
struct psa_out {
    struct orc_buf *detail, *reasons;
    int n, err;
};

static void violation(struct psa_out *o, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void violation(struct psa_out *o, const char *reason, const char *fmt, ...)
{
    va_list ap;

    if (o->detail) {
        if (o->n > 0 && orc_buf_puts(o->detail, ", ") != 0) o->err = ORC_ENOMEM;
        if (orc_buf_printf(o->detail, "%s (", reason) != 0) o->err = ORC_ENOMEM;
        va_start(ap, fmt);
        if (orc_buf_vprintf(o->detail, fmt, ap) != 0) o->err = ORC_ENOMEM;
        va_end(ap);
        if (orc_buf_puts(o->detail, ")") != 0) o->err = ORC_ENOMEM;
    }
    if (o->reasons && orc_buf_printf(o->reasons, "%s%s", o->n > 0 ? ", " : "", reason) != 0)
        o->err = ORC_ENOMEM;
    o->n++;
}

/* ---- name lists ---- */

/* A list of names (a JSON array); sorted and without repeats when it
 * stands for Kubernetes' sets.String. */
static void list_add(json_t *l, const char *s)
{
    json_array_append_new(l, json_string(s ? s : ""));
}

static void set_add(json_t *set, const char *s)
{
    size_t i;
    json_t *v;

    s = s ? s : "";
    json_array_foreach(set, i, v) {
        int c = strcmp(json_string_value(v), s);
        if (c == 0) return;
        if (c > 0) {
            json_array_insert_new(set, i, json_string(s));
            return;
        }
    }
    json_array_append_new(set, json_string(s));
}

/* Kubernetes' joinQuote: "a", "b". A static buffer per call site would
 * be shared: the text goes into the caller's buffer. */
static const char *join_quote(const json_t *l, char *buf, size_t n)
{
    size_t i, at = 0;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach(l, i, v) {
        int w = snprintf(buf + at, n - at, "%s\"%s\"", i ? ", " : "", json_string_value(v));
        if (w < 0 || (size_t)w >= n - at) break;
        at += (size_t)w;
    }
    return buf;
}

static const char *join(const json_t *l, const char *sep, char *buf, size_t n)
{
    size_t i, at = 0;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach(l, i, v) {
        int w = snprintf(buf + at, n - at, "%s%s", i ? sep : "", json_string_value(v));
        if (w < 0 || (size_t)w >= n - at) break;
        at += (size_t)w;
    }
    return buf;
}

static const char *plural(const char *one, const char *many, size_t n)
{
    return n == 1 ? one : many;
}

#define TEXT 2048

/* "pod and containers "a", "b"" from a pod-level flag and a container list. */
static const char *setters(bool pod, const json_t *containers, char *buf, size_t n)
{
    char names[TEXT];
    size_t k = json_array_size(containers);

    if (k == 0) snprintf(buf, n, "%s", pod ? "pod" : "");
    else snprintf(buf, n, "%s%s %s", pod ? "pod and " : "", plural("container", "containers", k),
                  join_quote(containers, names, sizeof names));
    return buf;
}

/* ---- walking the pod ---- */

typedef void (*ctr_fn)(const json_t *c, void *arg);

/* Init containers, containers, ephemeral containers: Kubernetes' order. */
static void each_container(const json_t *spec, ctr_fn fn, void *arg)
{
    static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
    size_t i;
    json_t *c;

    for (size_t k = 0; k < ORC_ARRAY_LEN(lists); k++)
        json_array_foreach(json_object_get(spec, lists[k]), i, c)
            if (json_is_object(c)) fn(c, arg);
}

static const char *cname(const json_t *c)
{
    return orc_json_str(c, "name") ?: "";
}

static const json_t *csc(const json_t *c, const char *field)
{
    return orc_json_get(json_object_get(c, "securityContext"), field);
}

static const json_t *psc(const json_t *spec, const char *field)
{
    return orc_json_get(json_object_get(spec, "securityContext"), field);
}

static bool windows_pod(const json_t *spec)
{
    const char *os = orc_json_str(spec, "os.name");
    return os && strcmp(os, "windows") == 0;
}

/* KEP-127: a pod in its own user namespace may run as root inside it. */
static bool user_namespaced(const json_t *spec)
{
    return json_is_false(json_object_get(spec, "hostUsers"));
}

/* Results of a per-container scan: the containers that failed, and the
 * values they used (a set). */
struct scan {
    json_t *bad, *values;
    const json_t *spec;
};

static int scan_init(struct scan *s, const json_t *spec)
{
    s->bad = json_array();
    s->values = json_array();
    s->spec = spec;
    return s->bad && s->values ? 0 : ORC_ENOMEM;
}

static void scan_clear(struct scan *s)
{
    json_decref(s->bad);
    json_decref(s->values);
}

/* ---- baseline ---- */

#define APPARMOR_PREFIX "container.apparmor.security.beta.kubernetes.io/"

static bool apparmor_allowed(const char *p)
{
    return *p == '\0' || strcmp(p, "runtime/default") == 0 || strncmp(p, "localhost/", 10) == 0;
}

static void check_apparmor(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    json_t *bad = json_array(), *v;
    const char *k;
    char item[600], text[TEXT];

    (void)spec;
    json_object_foreach((json_t *)json_object_get(meta, "annotations"), k, v) {
        const char *p = json_string_value(v);
        if (strncmp(k, APPARMOR_PREFIX, strlen(APPARMOR_PREFIX)) != 0 || !p || apparmor_allowed(p))
            continue;
        snprintf(item, sizeof item, "%s=\"%s\"", k, p);
        set_add(bad, item);
    }
    if (json_array_size(bad) > 0)
        violation(o, plural("forbidden AppArmor profile", "forbidden AppArmor profiles", json_array_size(bad)),
                  "%s", join(bad, ", ", text, sizeof text));
    json_decref(bad);
}

static void check_host_namespaces(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    char text[64] = "";

    (void)meta;
    /* sorted, as sets.String lists them */
    if (json_is_true(json_object_get(spec, "hostIPC"))) strcat(text, "hostIPC");
    if (json_is_true(json_object_get(spec, "hostNetwork"))) strcat(strcat(text, *text ? ", " : ""), "hostNetwork");
    if (json_is_true(json_object_get(spec, "hostPID"))) strcat(strcat(text, *text ? ", " : ""), "hostPID");
    if (*text) violation(o, "host namespaces", "%s", text);
}

static void scan_host_ports(const json_t *c, void *arg)
{
    struct scan *s = arg;
    bool bad = false;
    size_t i;
    json_t *p;
    char num[24];

    json_array_foreach(json_object_get(c, "ports"), i, p) {
        json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
        if (hp == 0) continue;
        bad = true;
        snprintf(num, sizeof num, "%lld", (long long)hp);
        set_add(s->values, num);
    }
    if (bad) list_add(s->bad, cname(c));
}

static void check_host_ports(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct scan s;
    char names[TEXT], ports[TEXT];

    (void)meta;
    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, scan_host_ports, &s);
    size_t nb = json_array_size(s.bad), nv = json_array_size(s.values);
    if (nb > 0)
        violation(o, "hostPort", "%s %s %s %s %s", plural("container", "containers", nb),
                  join_quote(s.bad, names, sizeof names), plural("uses", "use", nb),
                  plural("hostPort", "hostPorts", nv), join(s.values, ", ", ports, sizeof ports));
    scan_clear(&s);
}

static bool host_of(const json_t *handler, struct scan *s)
{
    static const char *const kinds[] = {"httpGet", "tcpSocket"};
    bool bad = false;

    for (size_t i = 0; i < ORC_ARRAY_LEN(kinds); i++) {
        const char *h = orc_json_str(json_object_get(handler, kinds[i]), "host");
        if (h && *h) {
            set_add(s->values, h);
            bad = true;
        }
    }
    return bad;
}

static void scan_probe_hosts(const json_t *c, void *arg)
{
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    static const char *const hooks[] = {"postStart", "preStop"};
    struct scan *s = arg;
    bool bad = false;

    for (size_t i = 0; i < ORC_ARRAY_LEN(probes); i++)
        bad |= host_of(json_object_get(c, probes[i]), s);
    for (size_t i = 0; i < ORC_ARRAY_LEN(hooks); i++)
        bad |= host_of(orc_json_get(json_object_get(c, "lifecycle"), hooks[i]), s);
    if (bad) set_add(s->bad, cname(c));
}

static void check_probe_hosts(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct scan s;
    char names[TEXT], hosts[TEXT];

    (void)meta;
    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, scan_probe_hosts, &s);
    size_t nb = json_array_size(s.bad), nv = json_array_size(s.values);
    if (nb > 0)
        violation(o, "probe or lifecycle host", "%s %s %s %s %s", plural("container", "containers", nb),
                  join_quote(s.bad, names, sizeof names), plural("uses", "use", nb),
                  plural("probe or lifecycle host", "probe or lifecycle hosts", nv),
                  join_quote(s.values, hosts, sizeof hosts));
    scan_clear(&s);
}

static void scan_privileged(const json_t *c, void *arg)
{
    if (json_is_true(csc(c, "privileged"))) list_add(((struct scan *)arg)->bad, cname(c));
}

static void scan_proc_mount(const json_t *c, void *arg)
{
    struct scan *s = arg;
    const char *pm = json_string_value(csc(c, "procMount"));

    if (pm && strcmp(pm, "Default") != 0) {
        list_add(s->bad, cname(c));
        set_add(s->values, pm);
    }
}

/* A per-container check whose detail is `container(s) "a" <text>` (with
 * the values found, when fmt_values). */
static void containers_check(const json_t *spec, struct psa_out *o, ctr_fn fn, const char *reason,
                             const char *text)
{
    struct scan s;
    char names[TEXT], values[TEXT];

    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, fn, &s);
    size_t nb = json_array_size(s.bad);
    if (nb > 0)
        violation(o, reason, "%s %s %s%s", plural("container", "containers", nb),
                  join_quote(s.bad, names, sizeof names), text,
                  json_array_size(s.values) ? join_quote(s.values, values, sizeof values) : "");
    scan_clear(&s);
}

static void check_privileged(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    containers_check(spec, o, scan_privileged, "privileged", "must not set securityContext.privileged=true");
}

static void check_proc_mount(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    if (user_namespaced(spec)) return;
    containers_check(spec, o, scan_proc_mount, "procMount", "must not set securityContext.procMount to ");
}

/* SELinux: only the container types, no user or role. */
struct selinux_scan {
    json_t *ctrs, *types;
    bool user, role;
};

static bool selinux_ok(const json_t *opts, struct selinux_scan *s)
{
    static const char *const types[] = {"", "container_t", "container_init_t", "container_kvm_t",
                                        "container_engine_t"};
    const char *t = orc_json_str(opts, "type") ?: "";
    const char *user = orc_json_str(opts, "user") ?: "", *role = orc_json_str(opts, "role") ?: "";
    bool ok = false;

    if (!json_is_object(opts)) return true;
    for (size_t i = 0; i < ORC_ARRAY_LEN(types); i++) ok |= strcmp(t, types[i]) == 0;
    if (!ok) set_add(s->types, t);
    s->user |= *user != '\0';
    s->role |= *role != '\0';
    return ok && !*user && !*role;
}

static void scan_selinux(const json_t *c, void *arg)
{
    struct selinux_scan *s = arg;
    if (!selinux_ok(csc(c, "seLinuxOptions"), s)) list_add(s->ctrs, cname(c));
}

static void check_selinux(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct selinux_scan s = {json_array(), json_array(), false, false};
    json_t *data = json_array();
    char who[TEXT], what[TEXT], text[TEXT];
    bool pod;

    (void)meta;
    if (!s.ctrs || !s.types || !data) {
        o->err = ORC_ENOMEM;
        goto out;
    }
    pod = !selinux_ok(psc(spec, "seLinuxOptions"), &s);
    each_container(spec, scan_selinux, &s);
    if (!pod && json_array_size(s.ctrs) == 0) goto out;
    if (json_array_size(s.types) > 0) {
        char types[TEXT];
        snprintf(what, sizeof what, "%s %s", plural("type", "types", json_array_size(s.types)),
                 join_quote(s.types, types, sizeof types));
        list_add(data, what);
    }
    if (s.user) list_add(data, "user may not be set");
    if (s.role) list_add(data, "role may not be set");
    violation(o, "seLinuxOptions", "%s set forbidden securityContext.seLinuxOptions: %s",
              setters(pod, s.ctrs, who, sizeof who), join(data, "; ", text, sizeof text));
out:
    json_decref(s.ctrs);
    json_decref(s.types);
    json_decref(data);
}

static void check_sysctls(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    static const char *const safe[] = {
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
    };
    json_t *bad = json_array(), *s;
    char text[TEXT];
    size_t i;

    (void)meta;
    json_array_foreach(psc(spec, "sysctls"), i, s) {
        const char *name = orc_json_str(s, "name") ?: "";
        bool ok = false;
        for (size_t k = 0; k < ORC_ARRAY_LEN(safe); k++) ok |= strcmp(name, safe[k]) == 0;
        if (!ok) list_add(bad, name);
    }
    if (json_array_size(bad) > 0) violation(o, "forbidden sysctls", "%s", join(bad, ", ", text, sizeof text));
    json_decref(bad);
}

static void scan_host_process(const json_t *c, void *arg)
{
    if (json_is_true(csc(c, "windowsOptions.hostProcess"))) list_add(((struct scan *)arg)->bad, cname(c));
}

static void check_host_process(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct scan s;
    char who[TEXT];
    bool pod = json_is_true(psc(spec, "windowsOptions.hostProcess"));

    (void)meta;
    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, scan_host_process, &s);
    if (pod || json_array_size(s.bad) > 0)
        violation(o, "hostProcess", "%s must not set securityContext.windowsOptions.hostProcess=true",
                  setters(pod, s.bad, who, sizeof who));
    scan_clear(&s);
}

/* Kubernetes' default capabilities: what baseline lets a container add. */
static bool default_cap(const char *c)
{
    static const char *const caps[] = {"AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE", "FOWNER", "FSETID",
                                       "KILL",        "MKNOD",  "NET_BIND_SERVICE", "SETFCAP",
                                       "SETGID",      "SETPCAP", "SETUID",      "SYS_CHROOT"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(caps); i++)
        if (strcmp(c, caps[i]) == 0) return true;
    return false;
}

static void scan_caps_baseline(const json_t *c, void *arg)
{
    struct scan *s = arg;
    bool bad = false;
    size_t i;
    json_t *v;

    json_array_foreach(csc(c, "capabilities.add"), i, v) {
        const char *cap = json_string_value(v) ?: "";
        if (default_cap(cap)) continue;
        bad = true;
        set_add(s->values, cap);
    }
    if (bad) list_add(s->bad, cname(c));
}

static void check_caps_baseline(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    struct scan s;
    char names[TEXT], caps[TEXT];

    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, scan_caps_baseline, &s);
    size_t nb = json_array_size(s.bad);
    if (nb > 0)
        violation(o, "non-default capabilities", "%s %s must not include %s in securityContext.capabilities.add",
                  plural("container", "containers", nb), join_quote(s.bad, names, sizeof names),
                  join_quote(s.values, caps, sizeof caps));
    scan_clear(&s);
}

static void check_host_path(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    json_t *bad = json_array(), *v;
    char names[TEXT];
    size_t i;

    (void)meta;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
        if (json_object_get(v, "hostPath")) list_add(bad, orc_json_str(v, "name"));
    if (json_array_size(bad) > 0)
        violation(o, "hostPath volumes", "%s %s", plural("volume", "volumes", json_array_size(bad)),
                  join_quote(bad, names, sizeof names));
    json_decref(bad);
}

static void scan_unconfined(const json_t *c, void *arg)
{
    const char *t = json_string_value(csc(c, "seccompProfile.type"));
    if (t && strcmp(t, "Unconfined") == 0) list_add(((struct scan *)arg)->bad, cname(c));
}

static void check_seccomp_baseline(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct scan s;
    char who[TEXT];
    const char *t = json_string_value(psc(spec, "seccompProfile.type"));
    bool pod = t && strcmp(t, "Unconfined") == 0;

    (void)meta;
    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, scan_unconfined, &s);
    if (pod || json_array_size(s.bad) > 0)
        violation(o, "seccompProfile", "%s must not set securityContext.seccompProfile.type to \"Unconfined\"",
                  setters(pod, s.bad, who, sizeof who));
    scan_clear(&s);
}

/* ---- restricted ---- */

static void scan_escalation(const json_t *c, void *arg)
{
    if (!json_is_false(csc(c, "allowPrivilegeEscalation"))) list_add(((struct scan *)arg)->bad, cname(c));
}

static void check_escalation(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    if (windows_pod(spec)) return;
    containers_check(spec, o, scan_escalation, "allowPrivilegeEscalation != false",
                     "must set securityContext.allowPrivilegeEscalation=false");
}

/* Containers without drop ALL, containers adding more than
 * NET_BIND_SERVICE, and what they add. */
struct caps_scan {
    json_t *no_drop, *adders, *added;
};

static void scan_caps_restricted(const json_t *c, void *arg)
{
    struct caps_scan *s = arg;
    const json_t *caps = csc(c, "capabilities");
    bool dropped = false, added = false;
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(caps, "drop"), i, v) {
        const char *cap = json_string_value(v);
        dropped |= cap && strcmp(cap, "ALL") == 0;
    }
    if (!dropped) list_add(s->no_drop, cname(c));
    json_array_foreach(json_object_get(caps, "add"), i, v) {
        const char *cap = json_string_value(v) ?: "";
        if (strcmp(cap, "NET_BIND_SERVICE") == 0) continue;
        added = true;
        set_add(s->added, cap);
    }
    if (added) list_add(s->adders, cname(c));
}

static void check_caps_restricted(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct caps_scan s = {json_array(), json_array(), json_array()};
    char a[TEXT], b[TEXT], text[2 * TEXT + 256];
    int at = 0;

    (void)meta;
    if (windows_pod(spec)) goto out;
    if (!s.no_drop || !s.adders || !s.added) {
        o->err = ORC_ENOMEM;
        goto out;
    }
    each_container(spec, scan_caps_restricted, &s);
    text[0] = '\0';
    if (json_array_size(s.no_drop) > 0)
        at = snprintf(text, sizeof text, "%s %s must set securityContext.capabilities.drop=[\"ALL\"]",
                      plural("container", "containers", json_array_size(s.no_drop)),
                      join_quote(s.no_drop, a, sizeof a));
    if (json_array_size(s.adders) > 0)
        snprintf(text + at, sizeof text - (size_t)at, "%s%s %s must not include %s in securityContext.capabilities.add",
                 at ? "; " : "", plural("container", "containers", json_array_size(s.adders)),
                 join_quote(s.adders, a, sizeof a), join_quote(s.added, b, sizeof b));
    if (text[0]) violation(o, "unrestricted capabilities", "%s", text);
out:
    json_decref(s.no_drop);
    json_decref(s.adders);
    json_decref(s.added);
}

static const char *volume_type(const json_t *v)
{
    static const char *const allowed[] = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                          "persistentVolumeClaim", "projected", "secret"};
    static const char *const known[] = {
        "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
        "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
        "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
        "scaleIO", "storageos"};
    const char *k;
    json_t *x;
    bool any = false;

    json_object_foreach((json_t *)v, k, x) {
        if (strcmp(k, "name") == 0) continue;
        for (size_t i = 0; i < ORC_ARRAY_LEN(allowed); i++)
            if (strcmp(k, allowed[i]) == 0) return NULL;
        for (size_t i = 0; i < ORC_ARRAY_LEN(known); i++)
            if (strcmp(k, known[i]) == 0) return known[i];
        any = true;
    }
    return any ? "unknown" : NULL; /* no source at all: an emptyDir */
}

static void check_volumes(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    json_t *bad = json_array(), *types = json_array(), *v;
    char names[TEXT], tnames[TEXT];
    size_t i;

    (void)meta;
    json_array_foreach(json_object_get(spec, "volumes"), i, v) {
        const char *t = volume_type(v);
        if (t == NULL) continue;
        list_add(bad, orc_json_str(v, "name"));
        set_add(types, t);
    }
    size_t nb = json_array_size(bad), nt = json_array_size(types);
    if (nb > 0)
        violation(o, "restricted volume types", "%s %s %s %s %s", plural("volume", "volumes", nb),
                  join_quote(bad, names, sizeof names), plural("uses", "use", nb),
                  plural("restricted volume type", "restricted volume types", nt),
                  join_quote(types, tnames, sizeof tnames));
    json_decref(bad);
    json_decref(types);
}

/* runAsNonRoot and seccompProfile share a shape: a pod-level value that
 * covers containers which set none, explicit bad values, and implicit
 * ones. */
struct inherit {
    const char *field;
    bool (*good)(const json_t *v);
    const char *(*shown)(const json_t *v); /* the value in messages; NULL: none */
    json_t *explicit_bad, *implicit_bad, *values;
    bool pod_good;
};

static void scan_inherit(const json_t *c, void *arg)
{
    struct inherit *s = arg;
    const json_t *v = csc(c, s->field);

    if (v && !json_is_null(v)) {
        if (!s->good(v)) {
            list_add(s->explicit_bad, cname(c));
            if (s->shown) set_add(s->values, s->shown(v));
        }
    } else if (!s->pod_good) {
        list_add(s->implicit_bad, cname(c));
    }
}

static bool is_true(const json_t *v)
{
    return json_is_true(v);
}

static const char *seccomp_type(const json_t *profile)
{
    return orc_json_str(profile, "type") ?: "";
}

static bool good_seccomp(const json_t *profile)
{
    const char *t = seccomp_type(profile);
    return strcmp(t, "RuntimeDefault") == 0 || strcmp(t, "Localhost") == 0;
}

/* Returns the pod's bad setting (true) and fills s. */
static bool inherit_scan(const json_t *spec, struct inherit *s)
{
    const json_t *pv = psc(spec, s->field);
    bool pod_bad = pv && !json_is_null(pv) && !s->good(pv);

    s->pod_good = pv && !json_is_null(pv) && s->good(pv);
    if (pod_bad && s->shown) set_add(s->values, s->shown(pv));
    each_container(spec, scan_inherit, s);
    return pod_bad;
}

static void check_non_root(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct inherit s = {"runAsNonRoot", is_true, NULL, json_array(), json_array(), NULL, false};
    char who[TEXT], names[TEXT];
    bool pod_bad;

    (void)meta;
    if (user_namespaced(spec)) goto out;
    pod_bad = inherit_scan(spec, &s);
    if (pod_bad || json_array_size(s.explicit_bad) > 0) {
        char cs[TEXT] = "";
        if (json_array_size(s.explicit_bad) > 0)
            snprintf(cs, sizeof cs, "%s %s", plural("container", "containers", json_array_size(s.explicit_bad)),
                     join_quote(s.explicit_bad, names, sizeof names));
        snprintf(who, sizeof who, "%s%s%s", pod_bad ? "pod" : "", pod_bad && *cs ? " and " : "", cs);
        violation(o, "runAsNonRoot != true", "%s must not set securityContext.runAsNonRoot=false", who);
    } else if (json_array_size(s.implicit_bad) > 0) {
        violation(o, "runAsNonRoot != true", "pod or %s %s must set securityContext.runAsNonRoot=true",
                  plural("container", "containers", json_array_size(s.implicit_bad)),
                  join_quote(s.implicit_bad, names, sizeof names));
    }
out:
    json_decref(s.explicit_bad);
    json_decref(s.implicit_bad);
}

static void scan_root_user(const json_t *c, void *arg)
{
    const json_t *u = csc(c, "runAsUser");
    if (json_is_integer(u) && json_integer_value(u) == 0) list_add(((struct scan *)arg)->bad, cname(c));
}

static void check_run_as_user(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct scan s;
    const json_t *u = psc(spec, "runAsUser");
    bool pod = json_is_integer(u) && json_integer_value(u) == 0;
    char who[TEXT], names[TEXT];

    (void)meta;
    if (user_namespaced(spec)) return;
    if (scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        scan_clear(&s);
        return;
    }
    each_container(spec, scan_root_user, &s);
    if (pod || json_array_size(s.bad) > 0) {
        char cs[TEXT] = "";
        if (json_array_size(s.bad) > 0)
            snprintf(cs, sizeof cs, "%s %s", plural("container", "containers", json_array_size(s.bad)),
                     join_quote(s.bad, names, sizeof names));
        snprintf(who, sizeof who, "%s%s%s", pod ? "pod" : "", pod && *cs ? " and " : "", cs);
        violation(o, "runAsUser=0", "%s must not set runAsUser=0", who);
    }
    scan_clear(&s);
}

static void check_seccomp_restricted(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct inherit s = {"seccompProfile", good_seccomp, seccomp_type, json_array(), json_array(), json_array(),
                        false};
    char who[TEXT], names[TEXT], vals[TEXT];
    bool pod_bad;

    (void)meta;
    if (windows_pod(spec)) goto out;
    pod_bad = inherit_scan(spec, &s);
    if (pod_bad || json_array_size(s.explicit_bad) > 0) {
        char cs[TEXT] = "";
        if (json_array_size(s.explicit_bad) > 0)
            snprintf(cs, sizeof cs, "%s %s", plural("container", "containers", json_array_size(s.explicit_bad)),
                     join_quote(s.explicit_bad, names, sizeof names));
        snprintf(who, sizeof who, "%s%s%s", pod_bad ? "pod" : "", pod_bad && *cs ? " and " : "", cs);
        violation(o, "seccompProfile", "%s must not set securityContext.seccompProfile.type to %s", who,
                  join_quote(s.values, vals, sizeof vals));
    } else if (json_array_size(s.implicit_bad) > 0) {
        violation(o, "seccompProfile",
                  "pod or %s %s must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                  plural("container", "containers", json_array_size(s.implicit_bad)),
                  join_quote(s.implicit_bad, names, sizeof names));
    }
out:
    json_decref(s.explicit_bad);
    json_decref(s.implicit_bad);
    json_decref(s.values);
}

/* ---- the registry ---- */

typedef void (*check_fn)(const json_t *meta, const json_t *spec, struct psa_out *o);

/* Kubernetes' order: baseline checks, then either the baseline checks a
 * restricted one replaces (baseline) or the restricted ones. */
static const check_fn baseline[] = {
    check_apparmor, check_host_namespaces, check_host_ports, check_probe_hosts, check_privileged,
    check_proc_mount, check_selinux, check_sysctls, check_host_process,
};
static const check_fn baseline_only[] = {check_caps_baseline, check_host_path, check_seccomp_baseline};
static const check_fn restricted[] = {
    check_escalation, check_caps_restricted, check_volumes, check_non_root, check_run_as_user,
    check_seccomp_restricted,
};

int api_psa_check(enum api_psa_level lv, const json_t *meta, const json_t *spec,
                  struct orc_buf *detail, struct orc_buf *reasons)
{
    struct psa_out o = {detail, reasons, 0, 0};

    if (lv == API_PSA_PRIVILEGED) return 0;
    for (size_t i = 0; i < ORC_ARRAY_LEN(baseline); i++) baseline[i](meta, spec, &o);
    if (lv == API_PSA_BASELINE)
        for (size_t i = 0; i < ORC_ARRAY_LEN(baseline_only); i++) baseline_only[i](meta, spec, &o);
    else
        for (size_t i = 0; i < ORC_ARRAY_LEN(restricted); i++) restricted[i](meta, spec, &o);
    if (o.err) return o.err;
    return o.n > 0 ? 1 : 0;
}
