/* psa_restricted.c — the Pod Security Standards' restricted checks
 * (psa_check.c holds the baseline ones, the order and the helpers). */
#include <stdio.h>
#include <string.h>

#include "apiserver/psa_int.h"
#include "lib/json.h"
#include "lib/orc.h"

static void scan_escalation(const json_t *c, void *arg)
{
    if (!json_is_false(psa_csc(c, "allowPrivilegeEscalation"))) psa_list_add(((struct psa_scan *)arg)->bad, psa_cname(c));
}

void psa_check_escalation(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    (void)meta;
    if (psa_windows_pod(spec)) return;
    psa_containers_check(spec, o, scan_escalation, "allowPrivilegeEscalation != false",
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
    const json_t *caps = psa_csc(c, "capabilities");
    bool dropped = false, added = false;
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(caps, "drop"), i, v) {
        const char *cap = json_string_value(v);
        dropped |= cap && strcmp(cap, "ALL") == 0;
    }
    if (!dropped) psa_list_add(s->no_drop, psa_cname(c));
    json_array_foreach(json_object_get(caps, "add"), i, v) {
        const char *cap = json_string_value(v) ?: "";
        if (strcmp(cap, "NET_BIND_SERVICE") == 0) continue;
        added = true;
        psa_set_add(s->added, cap);
    }
    if (added) psa_list_add(s->adders, psa_cname(c));
}

void psa_check_caps_restricted(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct caps_scan s = {json_array(), json_array(), json_array()};
    char a[PSA_TEXT], b[PSA_TEXT], text[2 * PSA_TEXT + 256];
    int at = 0;

    (void)meta;
    if (psa_windows_pod(spec)) goto out;
    if (!s.no_drop || !s.adders || !s.added) {
        o->err = ORC_ENOMEM;
        goto out;
    }
    psa_each_container(spec, scan_caps_restricted, &s);
    text[0] = '\0';
    if (json_array_size(s.no_drop) > 0)
        at = snprintf(text, sizeof text, "%s %s must set securityContext.capabilities.drop=[\"ALL\"]",
                      psa_plural("container", "containers", json_array_size(s.no_drop)),
                      psa_join_quote(s.no_drop, a, sizeof a));
    if (json_array_size(s.adders) > 0)
        snprintf(text + at, sizeof text - (size_t)at, "%s%s %s must not include %s in securityContext.capabilities.add",
                 at ? "; " : "", psa_plural("container", "containers", json_array_size(s.adders)),
                 psa_join_quote(s.adders, a, sizeof a), psa_join_quote(s.added, b, sizeof b));
    if (text[0]) psa_violation(o, "unrestricted capabilities", "%s", text);
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

void psa_check_volumes(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    json_t *bad = json_array(), *types = json_array(), *v;
    char names[PSA_TEXT], tnames[PSA_TEXT];
    size_t i;

    (void)meta;
    json_array_foreach(json_object_get(spec, "volumes"), i, v) {
        const char *t = volume_type(v);
        if (t == NULL) continue;
        psa_list_add(bad, orc_json_str(v, "name"));
        psa_set_add(types, t);
    }
    size_t nb = json_array_size(bad), nt = json_array_size(types);
    if (nb > 0)
        psa_violation(o, "restricted volume types", "%s %s %s %s %s", psa_plural("volume", "volumes", nb),
                  psa_join_quote(bad, names, sizeof names), psa_plural("uses", "use", nb),
                  psa_plural("restricted volume type", "restricted volume types", nt),
                  psa_join_quote(types, tnames, sizeof tnames));
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
    const json_t *v = psa_csc(c, s->field);

    if (v && !json_is_null(v)) {
        if (!s->good(v)) {
            psa_list_add(s->explicit_bad, psa_cname(c));
            if (s->shown) psa_set_add(s->values, s->shown(v));
        }
    } else if (!s->pod_good) {
        psa_list_add(s->implicit_bad, psa_cname(c));
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
    const json_t *pv = psa_psc(spec, s->field);
    bool pod_bad = pv && !json_is_null(pv) && !s->good(pv);

    s->pod_good = pv && !json_is_null(pv) && s->good(pv);
    if (pod_bad && s->shown) psa_set_add(s->values, s->shown(pv));
    psa_each_container(spec, scan_inherit, s);
    return pod_bad;
}

/* Kubernetes' subject of a violation: "pod", "containers \"a\", \"b\"", or
 * "pod and container \"a\"". */
static void who_is(char *who, size_t n, bool pod, const json_t *bad)
{
    char cs[PSA_TEXT] = "", names[PSA_TEXT];

    if (json_array_size(bad) > 0)
        snprintf(cs, sizeof cs, "%s %s", psa_plural("container", "containers", json_array_size(bad)),
                 psa_join_quote(bad, names, sizeof names));
    snprintf(who, n, "%s%s%s", pod ? "pod" : "", pod && *cs ? " and " : "", cs);
}

void psa_check_non_root(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct inherit s = {"runAsNonRoot", is_true, NULL, json_array(), json_array(), NULL, false};
    char who[PSA_TEXT], names[PSA_TEXT];
    bool pod_bad;

    (void)meta;
    if (psa_user_namespaced(spec)) goto out;
    pod_bad = inherit_scan(spec, &s);
    if (pod_bad || json_array_size(s.explicit_bad) > 0) {
        who_is(who, sizeof who, pod_bad, s.explicit_bad);
        psa_violation(o, "runAsNonRoot != true", "%s must not set securityContext.runAsNonRoot=false", who);
    } else if (json_array_size(s.implicit_bad) > 0) {
        psa_violation(o, "runAsNonRoot != true", "pod or %s %s must set securityContext.runAsNonRoot=true",
                  psa_plural("container", "containers", json_array_size(s.implicit_bad)),
                  psa_join_quote(s.implicit_bad, names, sizeof names));
    }
out:
    json_decref(s.explicit_bad);
    json_decref(s.implicit_bad);
}

static void scan_root_user(const json_t *c, void *arg)
{
    const json_t *u = psa_csc(c, "runAsUser");
    if (json_is_integer(u) && json_integer_value(u) == 0) psa_list_add(((struct psa_scan *)arg)->bad, psa_cname(c));
}

void psa_check_run_as_user(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct psa_scan s;
    const json_t *u = psa_psc(spec, "runAsUser");
    bool pod = json_is_integer(u) && json_integer_value(u) == 0;
    char who[PSA_TEXT];

    (void)meta;
    if (psa_user_namespaced(spec)) return;
    if (psa_scan_init(&s, spec) != 0) {
        o->err = ORC_ENOMEM;
        psa_scan_clear(&s);
        return;
    }
    psa_each_container(spec, scan_root_user, &s);
    if (pod || json_array_size(s.bad) > 0) {
        who_is(who, sizeof who, pod, s.bad);
        psa_violation(o, "runAsUser=0", "%s must not set runAsUser=0", who);
    }
    psa_scan_clear(&s);
}

void psa_check_seccomp_restricted(const json_t *meta, const json_t *spec, struct psa_out *o)
{
    struct inherit s = {"seccompProfile", good_seccomp, seccomp_type, json_array(), json_array(), json_array(),
                        false};
    char who[PSA_TEXT], names[PSA_TEXT], vals[PSA_TEXT];
    bool pod_bad;

    (void)meta;
    if (psa_windows_pod(spec)) goto out;
    pod_bad = inherit_scan(spec, &s);
    if (pod_bad || json_array_size(s.explicit_bad) > 0) {
        who_is(who, sizeof who, pod_bad, s.explicit_bad);
        psa_violation(o, "seccompProfile", "%s must not set securityContext.seccompProfile.type to %s", who,
                  psa_join_quote(s.values, vals, sizeof vals));
    } else if (json_array_size(s.implicit_bad) > 0) {
        psa_violation(o, "seccompProfile",
                  "pod or %s %s must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                  psa_plural("container", "containers", json_array_size(s.implicit_bad)),
                  psa_join_quote(s.implicit_bad, names, sizeof names));
    }
out:
    json_decref(s.explicit_bad);
    json_decref(s.implicit_bad);
    json_decref(s.values);
}

