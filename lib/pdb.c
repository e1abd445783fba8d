/* pdb.c — PodDisruptionBudget arithmetic (see pdb.h). */
#include "lib/pdb.h"

#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/labels.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

bool orc_pdb_selects(const json_t *pdb, const json_t *pod)
{
    const json_t *sel = orc_json_get(pdb, "spec.selector");
    orc_selector *s;
    char msg[128];
    bool yes;

    if (!json_is_object(sel) || orc_selector_from_json(sel, &s, msg, sizeof msg) != 0) return false;
    yes = orc_selector_matches(s, orc_json_get(pod, "metadata.labels"));
    orc_selector_free(s);
    return yes;
}

bool orc_pdb_pod_expected(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    return !phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

static bool pod_ready(const json_t *pod)
{
    const json_t *conds = orc_json_get(pod, "status.conditions"), *c;
    size_t i;

    json_array_foreach(conds, i, c) {
        const char *type = orc_json_str(c, "type"), *st = orc_json_str(c, "status");
        if (type && st && strcmp(type, "Ready") == 0) return strcmp(st, "True") == 0;
    }
    return false;
}

bool orc_pdb_pod_healthy(const json_t *pod)
{
    return orc_pdb_pod_expected(pod) && pod_ready(pod)
           && !orc_json_get(pod, "metadata.deletionTimestamp");
}

/* An IntOrString of the budget scaled to `expected`, rounding up. */
static long long scaled(const json_t *v, long long expected)
{
    const char *s;

    if (json_is_integer(v)) return (long long)json_integer_value(v);
    if ((s = json_string_value(v)) == NULL) return 0;
    return (strtoll(s, NULL, 10) * expected + 99) / 100;
}

long long orc_pdb_desired_healthy(const json_t *pdb, long long expected)
{
    const json_t *min = orc_json_get(pdb, "spec.minAvailable");
    const json_t *max = orc_json_get(pdb, "spec.maxUnavailable");

    if (max && !json_is_null(max)) {
        long long d = expected - scaled(max, expected);
        return d > 0 ? d : 0;
    }
    return min && !json_is_null(min) ? scaled(min, expected) : 0;
}

int orc_pdb_mark_disrupted(json_t *status, const char *pod_name, int64_t now_s)
{
    char at[ORC_TIME_LEN];
    json_t *marks = json_object_get(status, "disruptedPods");

    if (!json_is_object(marks) && json_object_set_new(status, "disruptedPods", marks = json_object()) != 0)
        return ORC_ENOMEM;
    orc_time_format(now_s, at);
    return json_object_set_new(marks, pod_name, json_string(at)) == 0 ? 0 : ORC_ENOMEM;
}

bool orc_pdb_pod_disrupted(const json_t *pdb, const json_t *pod, int64_t now_s)
{
    const json_t *marks = orc_json_get(pdb, "status.disruptedPods");
    const char *name = orc_json_str(pod, "metadata.name");
    int64_t at;

    if (!json_is_object(marks) || name == NULL || orc_json_get(pod, "metadata.deletionTimestamp"))
        return false;
    if (orc_time_parse(json_string_value(json_object_get(marks, name)), &at) != 0) return false;
    return now_s < at + ORC_PDB_DISRUPTED_TTL_S;
}
