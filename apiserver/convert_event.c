/* convert_event.c — events.k8s.io/v1 Event <-> core/v1 Event, one object
 * in two shapes, as Kubernetes converts them (pkg/apis/events/v1/
 * conversion.go): fields renamed, nothing lost either way. */
#include "apiserver/kind.h"

#include <string.h>

#include "lib/orc.h"

/* {events.k8s.io/v1 name, core/v1 name}; the other fields are shared. */
static const char *const renames[][2] = {
    {"note", "message"},
    {"regarding", "involvedObject"},
    {"reportingController", "reportingComponent"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
};

/* Renames column `from` to column `to` in place. A field already under a
 * target name is not of the source shape (a v1 body's "message"): it goes. */
static void rename_all(json_t *obj, int from, int to, const char *api_version)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(renames); i++) {
        json_t *v = json_incref(json_object_get(obj, renames[i][from]));
        json_object_del(obj, renames[i][to]);
        if (v == NULL) continue;
        json_object_del(obj, renames[i][from]);
        json_object_set_new(obj, renames[i][to], v);
    }
    json_object_set_new(obj, "apiVersion", json_string(api_version));
}

int api_event_v1_to_core(json_t *obj, char *err, size_t n)
{
    (void)err;
    (void)n;
    rename_all(obj, 0, 1, "v1");
    return 0;
}

int api_event_core_to_v1(json_t *obj, char *err, size_t n)
{
    (void)err;
    (void)n;
    rename_all(obj, 1, 0, "events.k8s.io/v1");
    return 0;
}

const char *api_event_v1_field_label(const char *label)
{
    static const char *const labels[][2] = {
        {"regarding.kind", "involvedObject.kind"},
        {"regarding.namespace", "involvedObject.namespace"},
        {"regarding.name", "involvedObject.name"},
        {"regarding.uid", "involvedObject.uid"},
        {"regarding.apiVersion", "involvedObject.apiVersion"},
        {"regarding.resourceVersion", "involvedObject.resourceVersion"},
        {"regarding.fieldPath", "involvedObject.fieldPath"},
        {"reportingController", "reportingComponent"},
        {"reason", "reason"},
        {"type", "type"},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(labels); i++)
        if (strcmp(labels[i][0], label) == 0) return labels[i][1];
    return NULL;
}
