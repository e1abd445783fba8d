/* schema_rules_events.c — events.k8s.io/v1's strict Event rules (Kubernetes'
 * ValidateEventCreate / ValidateEventUpdate for that version), on the
 * stored core form: field paths name the core fields, as Kubernetes'
 * messages do. */
#include "apiserver/schema.h"

#include <string.h>

#include "lib/names.h"

#define MSG_MAX 256
#define REPORTING_INSTANCE_MAX 128
#define ACTION_MAX 128
#define REASON_MAX 128
#define NOTE_MAX 1024

/* A field holding a value: not absent, null, "", 0 or an empty object. */
static bool is_set(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) return false;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_integer(v)) return json_integer_value(v) != 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
            if (is_set(v, k)) return true;
        return false;
    }
    return true;
}

static size_t str_len(const json_t *o, const char *key)
{
    const char *s = api_str(o, key);
    return s ? strlen(s) : 0;
}

/* Required and at most max characters. */
static void check_bounded(struct api_diag *d, const json_t *obj, const char *key,
                          const char *field, size_t max)
{
    if (!is_set(obj, key)) api_required(d, field, NULL);
    else if (str_len(obj, key) > max)
        api_invalid_str(d, field, "", "can have at most %zu characters", max);
}

/* The rules every Event with an eventTime meets (Kubernetes'
 * legacyValidateEvent, its "new Event" half). */
static void check_reporting(struct api_diag *d, const json_t *obj)
{
    const char *ns = api_str(api_obj(obj, "metadata"), "namespace");
    const char *rc = api_str(obj, "reportingComponent");
    char msg[MSG_MAX];

    if (!is_set(api_obj(obj, "involvedObject"), "namespace") && ns && strcmp(ns, "default") != 0
        && strcmp(ns, "kube-system") != 0)
        api_invalid_str(d, "involvedObject.namespace", "", "does not match event.namespace");
    if (!rc || !rc[0]) api_required(d, "reportingController", NULL);
    else if (orc_label_key(rc, strlen(rc), msg, sizeof msg) != 0)
        api_invalid_str(d, "reportingController", rc, "%s", msg);
    check_bounded(d, obj, "reportingInstance", "reportingInstance", REPORTING_INSTANCE_MAX);
    check_bounded(d, obj, "action", "action", ACTION_MAX);
    check_bounded(d, obj, "reason", "reason", REASON_MAX);
    if (str_len(obj, "message") > NOTE_MAX)
        api_invalid_str(d, "message", "", "can have at most %d characters", NOTE_MAX);
}

static void check_series(struct api_diag *d, const json_t *obj)
{
    const json_t *series = json_object_get(obj, "series");
    long long count = 0;

    if (series == NULL || json_is_null(series)) return;
    if (!api_int(series, "count", &count) || count < 2)
        api_invalid_str(d, "series.count", "", "should be at least 2");
    if (!is_set(series, "lastObservedTime")) api_required(d, "series.lastObservedTime", NULL);
}

static void check_create(struct api_diag *d, const json_t *obj)
{
    static const char *const unset[] = {"firstTimestamp", "lastTimestamp", "count", "source"};
    const char *type = api_str(obj, "type");

    check_series(d, obj);
    if (!is_set(obj, "eventTime")) api_required(d, "eventTime", NULL);
    if (!type || (strcmp(type, "Normal") != 0 && strcmp(type, "Warning") != 0))
        api_invalid_str(d, "type", "", "has invalid value: %s", type ? type : "");
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++)
        if (is_set(obj, unset[i])) api_invalid_str(d, unset[i], "", "needs to be unset");
}

/* What an update through events.k8s.io/v1 may not change (the reporting
 * component is named reportingController in the message, as Kubernetes
 * names it). */
static void check_update(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const fixed[] = {
        "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp",
        "count", "type", "eventTime", "action", "related", "reportingComponent",
        "reportingInstance"};
    const json_t *series = json_object_get(obj, "series"), *was = json_object_get(old, "series");

    if (!(series == was || (series && was && json_equal((json_t *)series, (json_t *)was))))
        check_series(d, obj);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        const char *key = fixed[i];
        if (!is_set(obj, key) && !is_set(old, key)) continue; /* unset both ways */
        api_check_immutable(d, json_object_get(obj, key), json_object_get(old, key),
                            strcmp(key, "reportingComponent") == 0 ? "reportingController" : key);
    }
}

void api_rules_event_v1(struct api_diag *d, const json_t *obj, const json_t *old)
{
    if (is_set(obj, "eventTime")) check_reporting(d, obj);
    if (old) check_update(d, obj, old);
    else check_create(d, obj);
}
