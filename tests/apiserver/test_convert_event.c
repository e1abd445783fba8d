/* test_convert_event.c — events.k8s.io/v1 <-> core/v1 Event as Kubernetes
 * converts it (nothing lost either way), its field selector labels, and
 * its strict rules on the stored form. */
#include "apiserver/kind.h"
#include "apiserver/schema.h"
#include "lib/orc.h"
#include "tests/apiserver/vt.h"

static const char *const core_json =
    "{'apiVersion':'v1','kind':'Event','metadata':{'name':'web-0.1','namespace':'default'},"
    "'involvedObject':{'kind':'Pod','name':'web-0','namespace':'default'},'reason':'Pulled',"
    "'message':'pulled','source':{'component':'kubelet','host':'n1'},'firstTimestamp':"
    "'2026-01-01T00:00:00Z','lastTimestamp':'2026-01-01T00:01:00Z','count':3,'type':'Normal',"
    "'eventTime':'2026-01-01T00:00:00.000001Z','series':{'count':2,'lastObservedTime':"
    "'2026-01-01T00:01:00.000001Z'},'action':'Pull','related':{'kind':'Node','name':'n1'},"
    "'reportingComponent':'kubelet','reportingInstance':'n1'}";

TEST(event_round_trip_core_v1_core_is_lossless)
{
    json_t *orig = vt_json(core_json), *o = vt_json(core_json);
    char err[64];

    CHECK_INT(api_event_core_to_v1(o, err, sizeof err), ==, 0);
    CHECK_STR(json_string_value(json_object_get(o, "apiVersion")), "events.k8s.io/v1");
    CHECK_STR(json_string_value(json_object_get(o, "note")), "pulled");
    CHECK_STR(json_string_value(json_object_get(o, "reportingController")), "kubelet");
    CHECK_INT(json_integer_value(json_object_get(o, "deprecatedCount")), ==, 3);
    CHECK(json_object_get(o, "regarding") && json_object_get(o, "deprecatedSource")
          && json_object_get(o, "deprecatedFirstTimestamp") && !json_object_get(o, "message"));
    CHECK_INT(api_event_v1_to_core(o, err, sizeof err), ==, 0);
    CHECK(json_equal(o, orig));
    json_decref(o);
    json_decref(orig);
}

TEST(event_v1_body_drops_core_names)
{
    json_t *o = vt_json("{'apiVersion':'events.k8s.io/v1','note':'a','message':'b','count':4}");
    char err[64];

    CHECK_INT(api_event_v1_to_core(o, err, sizeof err), ==, 0);
    CHECK_STR(json_string_value(json_object_get(o, "message")), "a");
    CHECK(json_object_get(o, "count") == NULL);
    json_decref(o);
}

TEST(event_v1_field_labels)
{
    CHECK_STR(api_event_v1_field_label("regarding.name"), "involvedObject.name");
    CHECK_STR(api_event_v1_field_label("reportingController"), "reportingComponent");
    CHECK_STR(api_event_v1_field_label("type"), "type");
    CHECK(api_event_v1_field_label("involvedObject.name") == NULL);
    CHECK(api_event_v1_field_label("note") == NULL);
}

/* The fields of the causes api_rules_event_v1 finds, joined by ' '. */
static void rules(const char *obj_json, const char *old_json, const char *want)
{
    json_t *o = vt_json(obj_json), *old = old_json ? vt_json(old_json) : NULL, *c;
    struct api_diag d;
    char got[512] = "";
    size_t i;

    CHECK(api_diag_init(&d) == 0);
    api_rules_event_v1(&d, o, old);
    json_array_foreach(d.causes, i, c) {
        if (got[0]) strcat(got, " ");
        strncat(got, json_string_value(json_object_get(c, "field")), sizeof got - strlen(got) - 2);
    }
    CHECKF(strcmp(got, want) == 0, "causes %s, want %s", got, want);
    api_diag_clear(&d);
    json_decref(o);
    json_decref(old);
}

#define NEW "'eventTime':'2026-01-01T00:00:00.000001Z','reportingComponent':'sched','reportingInstance':'s1',"
#define META "'metadata':{'name':'e','namespace':'default'},"

TEST(event_v1_strict_rules)
{
    rules("{" META NEW "'action':'Bind','reason':'Scheduled','type':'Normal'}", NULL, "");
    rules("{" META "'reason':'X','type':'Normal'}", NULL, "eventTime");
    rules("{" META NEW "'action':'Bind','reason':'X','type':'Normal','count':2,"
          "'source':{'component':'x'},'series':{'count':1}}", NULL, "series.count series.lastObservedTime count source");
    rules("{'metadata':{'name':'e','namespace':'apps'}," NEW "'action':'Bind','reason':'X','type':'Info'}",
          NULL, "involvedObject.namespace type");
    /* kube-system may report about cluster-scoped objects */
    rules("{'metadata':{'name':'e','namespace':'kube-system'}," NEW "'action':'A','reason':'X','type':'Normal'}",
          NULL, "");
    rules("{" META NEW "'action':'Bind','reason':'Scheduled','type':'Normal','message':'two'}",
          "{" META NEW "'action':'Bind','reason':'Scheduled','type':'Normal','message':'one'}", "message");
    rules("{" META "'eventTime':'2026-01-01T00:00:00.000001Z','reportingComponent':'other',"
          "'reportingInstance':'s1','action':'Bind','reason':'Scheduled','type':'Normal'}",
          "{" META NEW "'action':'Bind','reason':'Scheduled','type':'Normal'}", "reportingController");
}
