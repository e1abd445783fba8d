/* schema_rules_workloads.c — semantic rules for the controllers' kinds
 * (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) and what
 * their updates may change. Wording follows Kubernetes' apps and batch
 * validation. */
#include "apiserver/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cron.h"
#include "lib/labels.h"
#include "lib/names.h"
#include "lib/orc.h"
#include "lib/tz.h"

#define MSG_MAX 1024

static const char *const always[] = {"Always", NULL};
static const char *const job_restart[] = {"OnFailure", "Never", NULL};

/* ---- selector and template ---- */

static bool selector_empty(const json_t *sel)
{
    return json_object_size(api_obj(sel, "matchLabels")) == 0
           && json_array_size(api_arr(sel, "matchExpressions")) == 0;
}

/* The selector must select the pods the template makes. */
static void check_selector_matches(struct api_diag *d, const json_t *sel, const json_t *tmpl,
                                   const char *base)
{
    orc_selector *s;
    char msg[MSG_MAX], p[API_PATH_MAX];
    const json_t *labels = api_obj(api_obj(tmpl, "metadata"), "labels");
    if (!tmpl || orc_selector_from_json(sel, &s, msg, sizeof msg) != 0) return;
    api_pathf(p, "%s.template.metadata.labels", base);
    if (!orc_selector_matches(s, labels))
        api_invalid(d, p, labels, "`selector` does not match template `labels`");
    orc_selector_free(s);
}

/* kind: lower-case kind for "empty selector is invalid for <kind>". */
static void check_selector_template(struct api_diag *d, const json_t *spec, const char *base,
                                    const char *kind, const char *const *restart)
{
    const json_t *claims = api_arr(spec, "volumeClaimTemplates");
    const json_t *sel = api_obj(spec, "selector"), *tmpl = api_obj(spec, "template");
    char p[API_PATH_MAX];
    api_pathf(p, "%s.selector", base);
    if (!sel) {
        api_required(d, p, NULL);
    } else {
        api_check_selector(d, sel, p);
        if (selector_empty(sel)) api_invalid(d, p, sel, "empty selector is invalid for %s", kind);
        else check_selector_matches(d, sel, tmpl, base);
    }
    api_pathf(p, "%s.template", base);
    if (!tmpl) api_required(d, p, NULL);
    else api_rules_pod_template(d, tmpl, p, restart, claims);
}

/* ---- rolling updates ---- */

void api_check_int_or_percent(struct api_diag *d, const json_t *v, const char *field,
                              bool cap100, bool *zero)
{
    *zero = false;
    if (json_is_integer(v)) {
        long long n = (long long)json_integer_value(v);
        if (n < 0) api_invalid_int(d, field, n, "must be greater than or equal to 0");
        *zero = n == 0;
        return;
    }
    const char *s = json_string_value(v);
    if (!s) return;
    size_t len = strlen(s), i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    if (i == 0 || i != len - 1 || s[i] != '%') {
        api_invalid_str(d, field, s, "a valid percent string must be a numeric string followed by "
                                     "an ending '%%' (e.g. '1%%',  or '93%%', regex used for "
                                     "validation is '[0-9]+%%')");
        return;
    }
    long pct = strtol(s, NULL, 10);
    if (cap100 && pct > 100) api_invalid_str(d, field, s, "must not be greater than 100%%");
    *zero = pct == 0;
}

static void check_rolling(struct api_diag *d, const json_t *ru, const char *base)
{
    const json_t *mu = json_object_get(ru, "maxUnavailable"), *ms = json_object_get(ru, "maxSurge");
    char up[API_PATH_MAX], sp[API_PATH_MAX];
    bool uzero = false, szero = false;
    api_pathf(up, "%s.maxUnavailable", base);
    api_pathf(sp, "%s.maxSurge", base);
    if (mu) api_check_int_or_percent(d, mu, up, true, &uzero);
    if (ms) api_check_int_or_percent(d, ms, sp, false, &szero);
    if (mu && ms && uzero && szero) api_invalid(d, up, mu, "may not be 0 when `maxSurge` is 0");
}

/* type among `types`; rollingUpdate only with RollingUpdate. */
static void check_strategy(struct api_diag *d, const json_t *st, const char *base,
                           const char *const *types, bool forbid_msg)
{
    const char *type = api_str(st, "type");
    const json_t *ru = api_obj(st, "rollingUpdate");
    char p[API_PATH_MAX];
    api_check_enum(d, st, "type", base, types);
    api_pathf(p, "%s.rollingUpdate", base);
    if (ru && type && strcmp(type, "RollingUpdate") != 0) {
        if (forbid_msg)
            api_forbidden(d, p, "may not be specified when strategy `type` is 'Recreate'");
        else
            api_invalid(d, p, ru, "only allowed for updateStrategy 'RollingUpdate'");
        return;
    }
    if (ru) check_rolling(d, ru, p);
}

static void check_counts(struct api_diag *d, const json_t *spec, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) api_check_min(d, spec, keys[i], "spec", 0);
}

static void check_selector_immutable(struct api_diag *d, const json_t *spec, const json_t *old)
{
    if (!old) return;
    api_check_immutable(d, api_obj(spec, "selector"), api_obj(api_obj(old, "spec"), "selector"),
                        "spec.selector");
}

/* ---- apps ---- */

void api_rules_deployment(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"replicas", "minReadySeconds", "revisionHistoryLimit",
                                         "progressDeadlineSeconds", NULL};
    static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
    const json_t *spec = api_obj(obj, "spec");
    long long pd, mrs;
    check_counts(d, spec, counts);
    check_selector_template(d, spec, "spec", "deployment", always);
    if (api_obj(spec, "strategy"))
        check_strategy(d, api_obj(spec, "strategy"), "spec.strategy", types, true);
    if (api_int(spec, "progressDeadlineSeconds", &pd) && api_int(spec, "minReadySeconds", &mrs)
        && pd >= 0 && pd <= mrs)
        api_invalid_int(d, "spec.progressDeadlineSeconds", pd,
                        "must be greater than minReadySeconds");
    check_selector_immutable(d, spec, old);
}

void api_rules_replicaset(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"replicas", "minReadySeconds", NULL};
    const json_t *spec = api_obj(obj, "spec");
    check_counts(d, spec, counts);
    check_selector_template(d, spec, "spec", "replicaset", always);
    check_selector_immutable(d, spec, old);
}

static void check_claim_template(struct api_diag *d, const json_t *pvc, const char *base)
{
    const json_t *meta = api_obj(pvc, "metadata");
    char p[API_PATH_MAX];
    api_pathf(p, "%s.metadata.name", base);
    if (!api_str(meta, "name") || !api_str(meta, "name")[0]) api_required(d, p, NULL);
    api_pathf(p, "%s.metadata", base);
    api_check_name(d, meta, "name", p, orc_dns1123_subdomain);
    api_pathf(p, "%s.spec", base);
    api_rules_pvc_spec(d, api_obj(pvc, "spec"), p);
}

/* Everything but these must stay as created. */
static void check_statefulset_update(struct api_diag *d, const json_t *spec, const json_t *old)
{
    static const char *const mutable[] = {"replicas", "template", "updateStrategy",
                                          "persistentVolumeClaimRetentionPolicy",
                                          "minReadySeconds", "ordinals", NULL};
    json_t *a = json_deep_copy(spec), *b = json_deep_copy(api_obj(old, "spec"));
    if (a && b) {
        for (size_t i = 0; mutable[i]; i++) {
            json_object_del(a, mutable[i]);
            json_object_del(b, mutable[i]);
        }
    }
    if (!a || !b || !json_equal(a, b))
        api_forbidden(d, "spec", "updates to statefulset spec for fields other than 'replicas', "
                                 "'ordinals', 'template', 'updateStrategy', "
                                 "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                                 "are forbidden");
    json_decref(a);
    json_decref(b);
}

void api_rules_statefulset(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"replicas", "minReadySeconds", "revisionHistoryLimit",
                                         NULL};
    static const char *const policies[] = {"OrderedReady", "Parallel", NULL};
    static const char *const types[] = {"RollingUpdate", "OnDelete", NULL};
    static const char *const retain[] = {"Retain", "Delete", NULL};
    const json_t *spec = api_obj(obj, "spec"), *o;
    char p[API_PATH_MAX];
    check_counts(d, spec, counts);
    /* Optional since Kubernetes 1.32; when given, a Service's name. */
    if (api_str(spec, "serviceName") && api_str(spec, "serviceName")[0])
        api_check_name(d, spec, "serviceName", "spec", orc_dns1035_label);
    api_check_enum(d, spec, "podManagementPolicy", "spec", policies);
    check_selector_template(d, spec, "spec", "statefulset", always);
    if ((o = api_obj(spec, "updateStrategy"))) {
        check_strategy(d, o, "spec.updateStrategy", types, false);
        api_check_min(d, api_obj(o, "rollingUpdate"), "partition",
                      "spec.updateStrategy.rollingUpdate", 0);
    }
    if ((o = api_obj(spec, "persistentVolumeClaimRetentionPolicy"))) {
        api_check_enum(d, o, "whenDeleted", "spec.persistentVolumeClaimRetentionPolicy", retain);
        api_check_enum(d, o, "whenScaled", "spec.persistentVolumeClaimRetentionPolicy", retain);
    }
    api_check_min(d, api_obj(spec, "ordinals"), "start", "spec.ordinals", 0);
    const json_t *vcts = api_arr(spec, "volumeClaimTemplates");
    for (size_t i = 0; vcts && i < json_array_size(vcts); i++) {
        api_pathf(p, "spec.volumeClaimTemplates[%zu]", i);
        check_claim_template(d, json_array_get(vcts, i), p);
    }
    if (old && spec && api_obj(old, "spec")) check_statefulset_update(d, spec, old);
}

void api_rules_daemonset(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"minReadySeconds", "revisionHistoryLimit", NULL};
    static const char *const types[] = {"RollingUpdate", "OnDelete", NULL};
    const json_t *spec = api_obj(obj, "spec");
    check_counts(d, spec, counts);
    check_selector_template(d, spec, "spec", "daemonset", always);
    if (api_obj(spec, "updateStrategy"))
        check_strategy(d, api_obj(spec, "updateStrategy"), "spec.updateStrategy", types, false);
    check_selector_immutable(d, spec, old);
}

/* ---- batch ---- */

static void check_failure_policy(struct api_diag *d, const json_t *pfp, const char *base)
{
    static const char *const actions[] = {"FailJob", "FailIndex", "Ignore", "Count", NULL};
    static const char *const ops[] = {"In", "NotIn", NULL};
    const json_t *rules = api_arr(pfp, "rules");
    char p[API_PATH_MAX];
    for (size_t i = 0; rules && i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i), *codes = api_obj(r, "onExitCodes");
        bool conds = json_array_size(api_arr(r, "onPodConditions")) > 0;
        api_pathf(p, "%s.rules[%zu]", base, i);
        api_check_enum(d, r, "action", p, actions);
        if (codes && conds)
            api_invalid_str(d, p, "",
                            "specifying both OnExitCodes and OnPodConditions is not supported");
        else if (!codes && !conds)
            api_invalid_str(d, p, "",
                            "specifying one of OnExitCodes and OnPodConditions is required");
        api_pathf(p, "%s.rules[%zu].onExitCodes", base, i);
        if (codes) api_check_enum(d, codes, "operator", p, ops);
    }
}

static void check_job_spec(struct api_diag *d, const json_t *spec, const char *base)
{
    static const char *const counts[] = {"parallelism", "completions", "backoffLimit",
                                         "activeDeadlineSeconds", "ttlSecondsAfterFinished", NULL};
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    const json_t *sel = api_obj(spec, "selector"), *tmpl = api_obj(spec, "template");
    const char *mode = api_str(spec, "completionMode");
    char p[API_PATH_MAX];
    for (size_t i = 0; counts[i]; i++) api_check_min(d, spec, counts[i], base, 0);
    api_check_enum(d, spec, "completionMode", base, modes);
    api_pathf(p, "%s.completions", base);
    if (mode && strcmp(mode, "Indexed") == 0 && !json_object_get(spec, "completions"))
        api_required(d, p, "when completion mode is Indexed");
    api_pathf(p, "%s.selector", base);
    if (sel) {
        api_check_selector(d, sel, p);
        check_selector_matches(d, sel, tmpl, base);
    }
    api_pathf(p, "%s.podFailurePolicy", base);
    if (api_obj(spec, "podFailurePolicy"))
        check_failure_policy(d, api_obj(spec, "podFailurePolicy"), p);
    api_pathf(p, "%s.template", base);
    if (!tmpl) api_required(d, p, NULL);
    else api_rules_pod_template(d, tmpl, p, job_restart, NULL);
}

/* A Job selects its pods by its own uid unless the user manages the
 * selector (manualSelector): then the selector is required; otherwise it
 * must be the generated one (checked once the uid is known). */
static void check_job_selector(struct api_diag *d, const json_t *obj, const json_t *spec)
{
    const json_t *sel = api_obj(spec, "selector");
    const char *uid = api_str(api_obj(obj, "metadata"), "uid");
    if (api_is_true(spec, "manualSelector")) {
        if (!sel) api_required(d, "spec.selector", NULL);
        return;
    }
    if (!sel || !uid || !uid[0]) return;
    const json_t *ml = api_obj(sel, "matchLabels");
    const char *got = api_str(ml, "batch.kubernetes.io/controller-uid");
    if (json_object_size(ml) != 1 || json_array_size(api_arr(sel, "matchExpressions")) > 0
        || !got || strcmp(got, uid) != 0)
        api_invalid(d, "spec.selector", sel, "`selector` not auto-generated");
}

void api_rules_job(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const fixed[] = {"selector", "template", "completions", "completionMode",
                                        NULL};
    const json_t *spec = api_obj(obj, "spec"), *ospec = api_obj(old, "spec");
    char p[API_PATH_MAX];
    check_job_spec(d, spec, "spec");
    check_job_selector(d, obj, spec);
    if (!old || !ospec) return;
    for (size_t i = 0; fixed[i]; i++) {
        api_pathf(p, "spec.%s", fixed[i]);
        api_check_immutable(d, json_object_get(spec, fixed[i]), json_object_get(ospec, fixed[i]),
                            p);
    }
}

/* Kubernetes loads zones with Go's time.LoadLocation; orc loads them as the
 * CronJob controller will (lib/tz), so a zone accepted here also works
 * there. */
static void check_time_zone(struct api_diag *d, const char *tz)
{
    orc_tz *z = NULL;
    int rv;

    if (tz[0] == '\0') {
        api_invalid_str(d, "spec.timeZone", tz, "timeZone must be nil or non-empty string");
        return;
    }
    if (strcasecmp(tz, "Local") == 0) {
        api_invalid_str(d, "spec.timeZone", tz, "timeZone must be an explicit time zone as defined "
                                                "in https://www.iana.org/time-zones");
        return;
    }
    rv = orc_tz_load(tz, &z, NULL, 0);
    orc_tz_free(z);
    if (rv != 0 && rv != ORC_ENOMEM) api_invalid_str(d, "spec.timeZone", tz, "unknown time zone %s", tz);
}

static void check_schedule(struct api_diag *d, const json_t *spec)
{
    const char *sched = api_str(spec, "schedule");
    orc_cron *c;
    char msg[MSG_MAX];
    if (!sched || !sched[0]) {
        api_required(d, "spec.schedule", NULL);
    } else if (strstr(sched, "TZ")) {
        api_invalid_str(d, "spec.schedule", sched,
                        "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    } else if (orc_cron_parse(sched, &c, msg, sizeof msg) != 0) {
        api_invalid_str(d, "spec.schedule", sched, "%s", msg);
    } else {
        orc_cron_free(c);
    }
}

void api_rules_cronjob(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"startingDeadlineSeconds", "successfulJobsHistoryLimit",
                                         "failedJobsHistoryLimit", NULL};
    static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
    const json_t *spec = api_obj(obj, "spec");
    const json_t *jt = api_obj(spec, "jobTemplate");
    const char *name = api_str(api_obj(obj, "metadata"), "name"), *tz = api_str(spec, "timeZone");
    (void)old;
    /* Job names get an 11-character suffix and must stay a valid label. */
    if (name && strlen(name) > 52)
        api_invalid_str(d, "metadata.name", name, "must be no more than 52 characters");
    check_schedule(d, spec);
    if (tz) check_time_zone(d, tz);
    api_check_enum(d, spec, "concurrencyPolicy", "spec", policies);
    check_counts(d, spec, counts);
    if (!jt) {
        api_required(d, "spec.jobTemplate", NULL);
        return;
    }
    api_check_labels(d, api_obj(api_obj(jt, "metadata"), "labels"),
                     "spec.jobTemplate.metadata.labels");
    if (!api_obj(jt, "spec")) api_required(d, "spec.jobTemplate.spec.template", NULL);
    else check_job_spec(d, api_obj(jt, "spec"), "spec.jobTemplate.spec");
}

/* ---- ReplicationController (core/v1) ---- */

/* Its selector is a plain label map, defaulted from the template's labels. */
void api_rules_replicationcontroller(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"replicas", "minReadySeconds", NULL};
    const json_t *spec = api_obj(obj, "spec");
    const json_t *sel = api_obj(spec, "selector"), *tmpl = api_obj(spec, "template");
    const json_t *labels = api_obj(api_obj(tmpl, "metadata"), "labels");
    (void)old;

    check_counts(d, spec, counts);
    if (json_object_size(sel) == 0) api_required(d, "spec.selector", NULL);
    else api_check_labels(d, sel, "spec.selector");
    if (!tmpl) {
        api_required(d, "spec.template", NULL);
        return;
    }
    const char *key;
    const json_t *v;
    bool match = true;
    json_object_foreach((json_t *)sel, key, v) match &= json_equal(v, json_object_get(labels, key));
    if (json_object_size(sel) > 0 && !match)
        api_invalid(d, "spec.template.metadata.labels", labels,
                    "`selector` does not match template `labels`");
    api_rules_pod_template(d, tmpl, "spec.template", always, NULL);
    const json_t *ads = json_object_get(api_obj(tmpl, "spec"), "activeDeadlineSeconds");
    if (ads && !json_is_null(ads))
        api_invalid(d, "spec.template.spec.activeDeadlineSeconds", ads,
                    "activeDeadlineSeconds in ReplicationController is not Supported");
}
