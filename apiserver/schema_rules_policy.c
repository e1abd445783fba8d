/* schema_rules_policy.c — semantic rules for PriorityClass,
 * PodDisruptionBudget and ControllerRevision, worded as Kubernetes'
 * scheduling, policy and apps validation. */
#include "apiserver/schema.h"

#include <string.h>

/* Values above this are reserved for the system's classes. */
#define HIGHEST_USER_PRIORITY 1000000000LL

static const struct {
    const char *name;
    long long value;
} system_classes[] = {
    {"system-cluster-critical", 2000000000LL},
    {"system-node-critical", 2000001000LL},
};

/* A "system-" name must be one of the system classes, as they are. */
static void check_system_class(struct api_diag *d, const char *name, long long value,
                               bool global)
{
    char why[256];
    snprintf(why, sizeof why, "%s is not a known system priority class", name);
    for (size_t i = 0; i < sizeof system_classes / sizeof system_classes[0]; i++) {
        if (strcmp(system_classes[i].name, name) != 0) continue;
        if (value != system_classes[i].value)
            snprintf(why, sizeof why, "value of %s PriorityClass must be %lld", name,
                     system_classes[i].value);
        else if (global)
            snprintf(why, sizeof why, "globalDefault of %s PriorityClass must be false", name);
        else return;
        break;
    }
    api_diag_add(d, "FieldValueForbidden", "metadata.name",
                 "Forbidden: priority class names with 'system-' prefix are reserved for system "
                 "use only. error: %s", why);
}

void api_rules_priorityclass(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const policies[] = {"PreemptLowerPriority", "Never", NULL};
    const char *name = api_str(api_obj(obj, "metadata"), "name");
    long long value = 0, was = 0;
    api_int(obj, "value", &value);
    if (name && strncmp(name, "system-", 7) == 0)
        check_system_class(d, name, value, api_is_true(obj, "globalDefault"));
    else if (value > HIGHEST_USER_PRIORITY)
        api_diag_add(d, "FieldValueForbidden", "value",
                     "Forbidden: maximum allowed value of a user defined priority is %lld",
                     HIGHEST_USER_PRIORITY);
    api_check_enum(d, obj, "preemptionPolicy", "", policies);
    if (!old) return;
    api_int(old, "value", &was);
    if (value != was) api_forbidden(d, "value", "may not be changed in an update.");
    api_check_immutable(d, json_object_get(obj, "preemptionPolicy"),
                        json_object_get(old, "preemptionPolicy"), "preemptionPolicy");
}

void api_rules_poddisruptionbudget(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const policies[] = {"IfHealthyBudget", "AlwaysAllow", NULL};
    const json_t *spec = api_obj(obj, "spec");
    const json_t *min = json_object_get(spec, "minAvailable");
    const json_t *max = json_object_get(spec, "maxUnavailable");
    bool zero;
    (void)old; /* policy/v1 lets every field of the spec change */
    if (min && max && !json_is_null(min) && !json_is_null(max))
        api_invalid(d, "spec", spec, "minAvailable and maxUnavailable cannot be both set");
    if (min) api_check_int_or_percent(d, min, "spec.minAvailable", true, &zero);
    if (max) api_check_int_or_percent(d, max, "spec.maxUnavailable", true, &zero);
    api_check_selector(d, api_obj(spec, "selector"), "spec.selector");
    api_check_enum(d, spec, "unhealthyPodEvictionPolicy", "spec", policies);
}

void api_rules_controllerrevision(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *data = json_object_get(obj, "data");
    if (!data || json_is_null(data)) api_required(d, "data", "data is mandatory");
    api_check_min(d, obj, "revision", "", 0);
    if (old)
        api_check_immutable(d, data, json_object_get(old, "data"), "data");
}
