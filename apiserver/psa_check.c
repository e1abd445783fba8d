/* psa_check.c — the Pod Security Standards' baseline checks on a pod spec,
 * the helpers every check shares (psa_int.h), and Kubernetes' order of
 * evaluation, with its reasons and details, so that kubectl users read the
 * same messages as from a Kubernetes cluster. Restricted checks:
 * psa_restricted.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/psa.h"
#include "apiserver/psa_int.h"
#include "lib/json.h"
#include "lib/orc.h"

void psa_violation(struct psa_out *o, const char *reason, const char *fmt, ...)
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
void psa_list_add(json_t *l, const char *s)
{
    json_array_append_new(l, json_string(s ? s : ""));
}

void psa_set_add(json_t *set, const char *s)
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
const char *psa_join_quote(const json_t *l, char *buf, size_t n)
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

const char *psa_join(const json_t *l, const char *sep, char *buf, size_t n)
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

const char *psa_plural(const char *one, const char *many, size_t n)
{
    return n == 1 ? one : many;
}

/* "pod and containers "a", "b"" from a pod-level flag and a container list. */
const char *psa_setters(bool pod, const json_t *containers, char *buf, size_t n)
{
    char names[PSA_TEXT];
    size_t k = json_array_size(containers);

    if (k == 0) snprintf(buf, n, "%s", pod ? "pod" : "");
    else snprintf(buf, n, "%s%s %s", pod ? "pod and " : "", psa_plural("container", "containers", k),
                  psa_join_quote(containers, names, sizeof names));
    return buf;
}

/* ---- walking the pod ---- */


/* Init containers, containers, ephemeral containers: Kubernetes' order. */
void psa_each_container(const json_t *spec, psa_ctr_fn fn, void *arg)
{
    static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
    size_t i;
    json_t *c;

    for (size_t k = 0; k < ORC_ARRAY_LEN(lists); k++)
        json_array_foreach(json_object_get(spec, lists[k]), i, c)
            if (json_is_object(c)) fn(c, arg);
}

const char *psa_cname(const json_t *c)
{
    return orc_json_str(c, "name") ?: "";
}

const json_t *psa_csc(const json_t *c, const char *field)
{
    return orc_json_get(json_object_get(c, "securityContext"), field);
}

const json_t *psa_psc(const json_t *spec, const char *field)
{
    return orc_json_get(json_object_get(spec, "securityContext"), field);
}

bool psa_windows_pod(const json_t *spec)
{
    const char *os = orc_json_str(spec, "os.name");
    return os && strcmp(os, "windows") == 0;
}

/* KEP-127: a pod in its own user namespace may run as root inside it. */
bool psa_user_namespaced(const json_t *spec)
{
    return json_is_false(json_object_get(spec, "hostUsers"));
}

int psa_scan_init(struct psa_scan *s, const json_t *spec)
{
    s->bad = json_array();
    s->values = json_array();
    s->spec = spec;
    return s->bad && s->values ? 0 : ORC_ENOMEM;
}

void psa_scan_clear(struct psa_scan *s)
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

static bool apparmor_type_ok(const json_t *profile)
{
    const char *t = orc_json_str(profile, "type") ?: "";
    return !json_is_object(profile) || strcmp(t, "RuntimeDefault") == 0 || strcmp(t, "Localhost") == 0;
}

static void scan_apparmor(const json_t *c, void *arg)
{
    struct psa_scan *s = arg;
    const json_t *p = psa_csc(c, "appArmorProfile");

    if (apparmor_type_ok(p)) return;
    psa_list_add(s->bad, psa_cname(c));
    psa_set_add(s->values, orc_json_str(p, "type"));
}

/* The appArmorProfile fields, then the deprecated annotations. */
static void check_apparmor(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct psa_scan s;
    json_t *setters = json_array(), *annots = json_array(), *v;
    const json_t *pp = psa_psc(spec, "appArmorProfile");
    const char *k;
    char item[600], names[PSA_TEXT], who[PSA_TEXT], vals[2 * PSA_TEXT];
    size_t i;

    if (psa_scan_init(&s, spec) != 0 || !setters || !annots) {
        o->err = ORC_ENOMEM;
        goto out;
    }
    if (!apparmor_type_ok(pp)) {
        psa_list_add(setters, "pod");
        psa_set_add(s.values, orc_json_str(pp, "type"));
    }
    psa_each_container(spec, scan_apparmor, &s);
    if (json_array_size(s.bad) > 0) {
        snprintf(item, sizeof item, "%s %s", psa_plural("container", "containers", json_array_size(s.bad)),
                 psa_join_quote(s.bad, names, sizeof names));
        psa_list_add(setters, item);
    }
    json_object_foreach((json_t *)json_object_get(meta, "annotations"), k, v) {
        const char *p = json_string_value(v);
        if (strncmp(k, APPARMOR_PREFIX, strlen(APPARMOR_PREFIX)) != 0 || !p || apparmor_allowed(p)) continue;
        snprintf(item, sizeof item, "%s=\"%s\"", k, p);
        psa_set_add(annots, item);
    }
    if (json_array_size(annots) > 0)
        psa_list_add(setters, psa_plural("annotation", "annotations", json_array_size(annots)));
    json_array_foreach(annots, i, v) psa_list_add(s.values, json_string_value(v));
    if (json_array_size(setters) > 0)
        psa_violation(o, psa_plural("forbidden AppArmor profile", "forbidden AppArmor profiles", json_array_size(s.values)),
                      "%s must not set AppArmor profile type to %s", psa_join(setters, " and ", who, sizeof who),
                      psa_join_quote(s.values, vals, sizeof vals));
out:
    psa_scan_clear(&s);
    json_decref(setters);
    json_decref(annots);
}

static void check_host_namespaces(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    char text[64] = "";

    (void)meta;
    /* sorted, as sets.String lists them */
    if (json_is_true(json_object_get(spec, "hostIPC"))) strcat(text, "hostIPC");
    if (json_is_true(json_object_get(spec, "hostNetwork"))) strcat(strcat(text, *text ? ", " : ""), "hostNetwork");
    if (json_is_true(json_object_get(spec, "hostPID"))) strcat(strcat(text, *text ? ", " : ""), "hostPID");
    if (*text) psa_violation(o, "host namespaces", "%s", text);
}

static void scan_host_ports(const json_t *c, void *arg)
{
    struct psa_scan *s = arg;
    bool bad = false;
    size_t i;
    json_t *p;
    char num[24];

    json_array_foreach(json_object_get(c, "ports"), i, p) {
        json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
        if (hp == 0) continue;
        bad = true;
        snprintf(num, sizeof num, "%lld", (long long)hp);
        psa_set_add(s->values, num);
    }
    if (bad) psa_list_add(s->bad, psa_cname(c));
}

static void check_host_ports(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct psa_scan s;
    char names[PSA_TEXT], ports[PSA_TEXT];

    (void)meta;
    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, scan_host_ports, &s);
    size_t nb = json_array_size(s.bad), nv = json_array_size(s.values);
    if (nb > 0)
        psa_violation(o, "hostPort", "%s %s %s %s %s", psa_plural("container", "containers", nb),
                  psa_join_quote(s.bad, names, sizeof names), psa_plural("uses", "use", nb),
                  psa_plural("hostPort", "hostPorts", nv), psa_join(s.values, ", ", ports, sizeof ports));
    psa_scan_clear(&s);
}

static bool host_of(const json_t *handler, struct psa_scan *s)
{
    static const char *const kinds[] = {"httpGet", "tcpSocket"};
    bool bad = false;

    for (size_t i = 0; i < ORC_ARRAY_LEN(kinds); i++) {
        const char *h = orc_json_str(json_object_get(handler, kinds[i]), "host");
        if (h && *h) {
            psa_set_add(s->values, h);
            bad = true;
        }
    }
    return bad;
}

static void scan_probe_hosts(const json_t *c, void *arg)
{
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    static const char *const hooks[] = {"postStart", "preStop"};
    struct psa_scan *s = arg;
    bool bad = false;

    for (size_t i = 0; i < ORC_ARRAY_LEN(probes); i++)
        bad |= host_of(json_object_get(c, probes[i]), s);
    for (size_t i = 0; i < ORC_ARRAY_LEN(hooks); i++)
        bad |= host_of(orc_json_get(json_object_get(c, "lifecycle"), hooks[i]), s);
    if (bad) psa_set_add(s->bad, psa_cname(c));
}

static void check_probe_hosts(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct psa_scan s;
    char names[PSA_TEXT], hosts[PSA_TEXT];

    (void)meta;
    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, scan_probe_hosts, &s);
    size_t nb = json_array_size(s.bad), nv = json_array_size(s.values);
    if (nb > 0)
        psa_violation(o, "probe or lifecycle host", "%s %s %s %s %s", psa_plural("container", "containers", nb),
                  psa_join_quote(s.bad, names, sizeof names), psa_plural("uses", "use", nb),
                  psa_plural("probe or lifecycle host", "probe or lifecycle hosts", nv),
                  psa_join_quote(s.values, hosts, sizeof hosts));
    psa_scan_clear(&s);
}

static void scan_privileged(const json_t *c, void *arg)
{
    if (json_is_true(psa_csc(c, "privileged"))) psa_list_add(((struct psa_scan *)arg)->bad, psa_cname(c));
}

static void scan_proc_mount(const json_t *c, void *arg)
{
    struct psa_scan *s = arg;
    const char *pm = json_string_value(psa_csc(c, "procMount"));

    if (pm && strcmp(pm, "Default") != 0) {
        psa_list_add(s->bad, psa_cname(c));
        psa_set_add(s->values, pm);
    }
}

/* A per-container check whose detail is `container(s) "a" <text>` (with
 * the values found, when fmt_values). */
void psa_containers_check(const json_t *spec, struct psa_out *o, psa_ctr_fn fn, const char *reason,
                             const char *text)
{
    struct psa_scan s;
    char names[PSA_TEXT], values[PSA_TEXT];

    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, fn, &s);
    size_t nb = json_array_size(s.bad);
    if (nb > 0)
        psa_violation(o, reason, "%s %s %s%s", psa_plural("container", "containers", nb),
                  psa_join_quote(s.bad, names, sizeof names), text,
                  json_array_size(s.values) ? psa_join_quote(s.values, values, sizeof values) : "");
    psa_scan_clear(&s);
}

static void check_privileged(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    psa_containers_check(spec, o, scan_privileged, "privileged", "must not set securityContext.privileged=true");
}

static void check_proc_mount(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    if (psa_user_namespaced(spec)) return;
    psa_containers_check(spec, o, scan_proc_mount, "procMount", "must not set securityContext.procMount to ");
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
    if (!ok) psa_set_add(s->types, t);
    s->user |= *user != '\0';
    s->role |= *role != '\0';
    return ok && !*user && !*role;
}

static void scan_selinux(const json_t *c, void *arg)
{
    struct selinux_scan *s = arg;
    if (!selinux_ok(psa_csc(c, "seLinuxOptions"), s)) psa_list_add(s->ctrs, psa_cname(c));
}

static void check_selinux(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct selinux_scan s = {json_array(), json_array(), false, false};
    json_t *data = json_array();
    char who[PSA_TEXT], what[PSA_TEXT], text[PSA_TEXT];
    bool pod;

    (void)meta;
    if (!s.ctrs || !s.types || !data) {
        o->err = ORC_ENOMEM;
        goto out;
    }
    pod = !selinux_ok(psa_psc(spec, "seLinuxOptions"), &s);
    psa_each_container(spec, scan_selinux, &s);
    if (!pod && json_array_size(s.ctrs) == 0) goto out;
    if (json_array_size(s.types) > 0) {
        char types[PSA_TEXT];
        snprintf(what, sizeof what, "%s %s", psa_plural("type", "types", json_array_size(s.types)),
                 psa_join_quote(s.types, types, sizeof types));
        psa_list_add(data, what);
    }
    if (s.user) psa_list_add(data, "user may not be set");
    if (s.role) psa_list_add(data, "role may not be set");
    psa_violation(o, "seLinuxOptions", "%s set forbidden securityContext.seLinuxOptions: %s",
              psa_setters(pod, s.ctrs, who, sizeof who), psa_join(data, "; ", text, sizeof text));
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
    char text[PSA_TEXT];
    size_t i;

    (void)meta;
    json_array_foreach(psa_psc(spec, "sysctls"), i, s) {
        const char *name = orc_json_str(s, "name") ?: "";
        bool ok = false;
        for (size_t k = 0; k < ORC_ARRAY_LEN(safe); k++) ok |= strcmp(name, safe[k]) == 0;
        if (!ok) psa_list_add(bad, name);
    }
    if (json_array_size(bad) > 0) psa_violation(o, "forbidden sysctls", "%s", psa_join(bad, ", ", text, sizeof text));
    json_decref(bad);
}

static void scan_host_process(const json_t *c, void *arg)
{
    if (json_is_true(psa_csc(c, "windowsOptions.hostProcess"))) psa_list_add(((struct psa_scan *)arg)->bad, psa_cname(c));
}

static void check_host_process(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct psa_scan s;
    char who[PSA_TEXT];
    bool pod = json_is_true(psa_psc(spec, "windowsOptions.hostProcess"));

    (void)meta;
    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, scan_host_process, &s);
    if (pod || json_array_size(s.bad) > 0)
        psa_violation(o, "hostProcess", "%s must not set securityContext.windowsOptions.hostProcess=true",
                  psa_setters(pod, s.bad, who, sizeof who));
    psa_scan_clear(&s);
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
    struct psa_scan *s = arg;
    bool bad = false;
    size_t i;
    json_t *v;

    json_array_foreach(psa_csc(c, "capabilities.add"), i, v) {
        const char *cap = json_string_value(v) ?: "";
        if (default_cap(cap)) continue;
        bad = true;
        psa_set_add(s->values, cap);
    }
    if (bad) psa_list_add(s->bad, psa_cname(c));
}

static void check_caps_baseline(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    struct psa_scan s;
    char names[PSA_TEXT], caps[PSA_TEXT];

    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, scan_caps_baseline, &s);
    size_t nb = json_array_size(s.bad);
    if (nb > 0)
        psa_violation(o, "non-default capabilities", "%s %s must not include %s in securityContext.capabilities.add",
                  psa_plural("container", "containers", nb), psa_join_quote(s.bad, names, sizeof names),
                  psa_join_quote(s.values, caps, sizeof caps));
    psa_scan_clear(&s);
}

static void check_host_path(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    json_t *bad = json_array(), *v;
    char names[PSA_TEXT];
    size_t i;

    (void)meta;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
        if (json_object_get(v, "hostPath")) psa_list_add(bad, orc_json_str(v, "name"));
    if (json_array_size(bad) > 0)
        psa_violation(o, "hostPath volumes", "%s %s", psa_plural("volume", "volumes", json_array_size(bad)),
                  psa_join_quote(bad, names, sizeof names));
    json_decref(bad);
}

static void scan_unconfined(const json_t *c, void *arg)
{
    const char *t = json_string_value(psa_csc(c, "seccompProfile.type"));
    if (t && strcmp(t, "Unconfined") == 0) psa_list_add(((struct psa_scan *)arg)->bad, psa_cname(c));
}

static void check_seccomp_baseline(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct psa_scan s;
    char who[PSA_TEXT];
    const char *t = json_string_value(psa_psc(spec, "seccompProfile.type"));
    bool pod = t && strcmp(t, "Unconfined") == 0;

    (void)meta;
    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, scan_unconfined, &s);
    if (pod || json_array_size(s.bad) > 0)
        psa_violation(o, "seccompProfile", "%s must not set securityContext.seccompProfile.type to \"Unconfined\"",
                  psa_setters(pod, s.bad, who, sizeof who));
    psa_scan_clear(&s);
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
    psa_check_escalation, psa_check_caps_restricted, psa_check_volumes, psa_check_non_root, psa_check_run_as_user,
    psa_check_seccomp_restricted,
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
