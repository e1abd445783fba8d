/* nodelifecycle_plan.c — the node lifecycle controller's decisions: lease
 * staleness, the conditions and taints that follow from it, and when the
 * pods of a tainted node go (Kubernetes' node lifecycle controller and its
 * NoExecute taint manager). */
#include "controllers/nodelifecycle.h"

#include <stdio.h>
#include <string.h>

#include "controllers/nodematch.h"
#include "lib/json.h"
#include "lib/orc.h"

/* ---- lease ---- */

static const char *renew_time(const json_t *lease)
{
    return orc_json_str(lease, "spec.renewTime");
}

void nl_health_init(struct nl_health *h, const json_t *lease, uint64_t now_ms)
{
    snprintf(h->renew, sizeof h->renew, "%s", renew_time(lease) ? renew_time(lease) : "");
    h->probe_ms = now_ms;
}

void nl_health_observe(struct nl_health *h, const json_t *lease, uint64_t now_ms)
{
    const char *r = renew_time(lease);

    if (!r || strncmp(r, h->renew, sizeof h->renew) == 0) return;
    snprintf(h->renew, sizeof h->renew, "%s", r);
    h->probe_ms = now_ms;
}

uint64_t nl_health_left_ms(const struct nl_health *h, uint64_t now_ms, uint64_t grace_ms)
{
    uint64_t since = now_ms > h->probe_ms ? now_ms - h->probe_ms : 0;
    return since >= grace_ms ? 0 : grace_ms - since;
}

/* ---- conditions ---- */

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_t *find_type(const json_t *conditions, const char *type)
{
    size_t i;
    json_t *c;

    json_array_foreach(conditions, i, c) if (strcmp(str(c, "type"), type) == 0) return c;
    return NULL;
}

const char *nl_ready_status(const json_t *conditions)
{
    json_t *c = find_type(conditions, "Ready");
    return c ? str(c, "status") : NULL;
}

static int set_condition(json_t *c, const char *status, const char *reason, const char *msg,
                         const char *now)
{
    if (json_object_set_new(c, "status", json_string(status)) != 0
        || json_object_set_new(c, "reason", json_string(reason)) != 0
        || json_object_set_new(c, "message", json_string(msg)) != 0
        || json_object_set_new(c, "lastTransitionTime", json_string(now)) != 0)
        return ORC_ENOMEM;
    return 0;
}

static int mark_unknown(json_t *conds, const char *now, bool *changed)
{
    size_t i;
    json_t *c;

    json_array_foreach(conds, i, c) {
        if (strcmp(str(c, "status"), "Unknown") == 0) continue;
        if (set_condition(c, "Unknown", NL_REASON_UNKNOWN, NL_MSG_UNKNOWN, now) != 0)
            return ORC_ENOMEM;
        *changed = true;
    }
    if (!find_type(conds, "Ready")) {
        json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Ready", "status", "Unknown",
                              "reason", NL_REASON_NEVER, "message", NL_MSG_NEVER,
                              "lastHeartbeatTime", now, "lastTransitionTime", now);
        if (!c || json_array_append_new(conds, c) != 0) return ORC_ENOMEM;
        *changed = true;
    }
    return 0;
}

json_t *nl_conditions(const json_t *node, bool stale, const char *now)
{
    json_t *conds = json_deep_copy(orc_json_get(node, "status.conditions")), *ready;
    bool changed = false;

    if (!json_is_array(conds)) {
        json_decref(conds);
        conds = json_array();
    }
    if (!conds) return NULL;
    if (stale) {
        if (mark_unknown(conds, now, &changed) != 0) changed = false;
    } else if ((ready = find_type(conds, "Ready")) && strcmp(str(ready, "status"), "Unknown") == 0
               && strcmp(str(ready, "reason"), NL_REASON_UNKNOWN) == 0) {
        /* The agent renews its lease again: it is up, and an agent always
         * posts Ready=True (its next status report says the same). */
        changed = set_condition(ready, "True", "KubeletReady", "orc agent is posting ready status",
                                now) == 0;
    }
    if (!changed) {
        json_decref(conds);
        return NULL;
    }
    return conds;
}

/* ---- taints ---- */

static bool is_taint(const json_t *t, const char *key, const char *effect)
{
    return strcmp(str(t, "key"), key) == 0 && strcmp(str(t, "effect"), effect) == 0;
}

/* Adds or drops one taint this controller owns in `out`, keeping an
 * existing one as it is. */
static int want_taint(json_t *out, const json_t *cur, const char *key, const char *effect,
                      bool want, const char *now, bool *changed)
{
    size_t i;
    json_t *t, *have = NULL;

    json_array_foreach(cur, i, t) if (is_taint(t, key, effect)) have = t;
    if (want && have) return json_array_append(out, have) == 0 ? 0 : ORC_ENOMEM;
    if (!want) {
        *changed |= have != NULL;
        return 0;
    }
    *changed = true;
    t = strcmp(effect, "NoExecute") == 0
            ? json_pack("{s:s, s:s, s:s}", "key", key, "effect", effect, "timeAdded", now)
            : json_pack("{s:s, s:s}", "key", key, "effect", effect);
    return t && json_array_append_new(out, t) == 0 ? 0 : ORC_ENOMEM;
}

static bool owned_taint(const json_t *t)
{
    return is_taint(t, CTL_TAINT_UNREACHABLE, "NoExecute")
           || is_taint(t, CTL_TAINT_NOT_READY, "NoExecute")
           || is_taint(t, CTL_TAINT_UNSCHEDULABLE, "NoSchedule");
}

json_t *nl_taints(const json_t *node, const json_t *conditions, const char *now)
{
    const json_t *cur = orc_json_get(node, "spec.taints");
    const char *ready = nl_ready_status(conditions ? conditions : orc_json_get(node, "status.conditions"));
    bool unsched = json_is_true(orc_json_get(node, "spec.unschedulable")), changed = false;
    json_t *out = json_array(), *t;
    size_t i;
    int rv = 0;

    if (!out) return NULL;
    json_array_foreach(cur, i, t) {
        if (!owned_taint(t) && json_array_append(out, t) != 0) rv = ORC_ENOMEM;
    }
    if (rv == 0)
        rv = want_taint(out, cur, CTL_TAINT_UNREACHABLE, "NoExecute",
                        ready && strcmp(ready, "Unknown") == 0, now, &changed);
    if (rv == 0)
        rv = want_taint(out, cur, CTL_TAINT_NOT_READY, "NoExecute",
                        ready && strcmp(ready, "False") == 0, now, &changed);
    if (rv == 0)
        rv = want_taint(out, cur, CTL_TAINT_UNSCHEDULABLE, "NoSchedule", unsched, now, &changed);
    if (rv != 0 || !changed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

int64_t nl_pod_eviction_ms(const json_t *node, const json_t *pod, int64_t now_wall_ms)
{
    return ctl_noexecute_delay_ms(orc_json_get(node, "spec.taints"),
                                  orc_json_get(pod, "spec.tolerations"), now_wall_ms);
}
