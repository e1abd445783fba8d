/* test_validate_workloads.c — the workload rules issue 8 asks for, each
 * answered as Kubernetes 1.32 answers it (422 naming the field): selectors
 * against templates, immutable selectors, counts, rolling-update limits,
 * Job selectors (generated or manual), StatefulSet serviceName (optional
 * since 1.32), restart policies, CronJob schedules and time zones, and the
 * defaults Kubernetes fills in. */
#include "tests/apiserver/vt.h"

#define TMPL(labels, restart)                                                    \
    "'template':{'metadata':{'labels':" labels "},'spec':{'restartPolicy':'" restart \
    "','containers':[{'name':'c','image':'busybox'}]}}"
#define SEL "'selector':{'matchLabels':{'app':'web'}}"

static const char *const deploy_json = "{'apiVersion':'apps/v1','kind':'Deployment',"
    "'metadata':{'name':'web'},'spec':{'replicas':2," SEL "," TMPL("{'app':'web'}", "Always") "}}";
static const char *const sts_json = "{'apiVersion':'apps/v1','kind':'StatefulSet',"
    "'metadata':{'name':'db'},'spec':{" SEL "," TMPL("{'app':'web'}", "Always") "}}";
static const char *const ds_json = "{'apiVersion':'apps/v1','kind':'DaemonSet',"
    "'metadata':{'name':'agent'},'spec':{" SEL "," TMPL("{'app':'web'}", "Always") "}}";
static const char *const job_json = "{'apiVersion':'batch/v1','kind':'Job','metadata':"
    "{'name':'pi','uid':'0c1d2e3f-0000-4000-8000-00000000000a'},'spec':{"
    TMPL("{}", "Never") "}}";

TEST(selector_must_match_template_labels)
{
    static const char *const kinds[][2] = {{"Deployment", NULL}, {"StatefulSet", NULL},
                                           {"DaemonSet", NULL}};
    const char *docs[] = {deploy_json, sts_json, ds_json};
    for (size_t i = 0; i < 3; i++) {
        json_t *b = vt_json(docs[i]);
        VT_EXPECT(kinds[i][0], b, "spec.template.metadata.labels", "{'app':'other'}",
                  "spec.template.metadata.labels",
                  "Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`");
        VT_EXPECT(kinds[i][0], b, "spec.selector", "{}", "spec.selector",
                  "Invalid value: {}: empty selector is invalid for");
        VT_EXPECT(kinds[i][0], b, "spec.template.spec.restartPolicy", "'Never'",
                  "spec.template.spec.restartPolicy",
                  "Unsupported value: \"Never\": supported values: \"Always\"");
        json_decref(b);
    }
}

TEST(selector_immutable_on_update)
{
    json_t *d = vt_json(deploy_json), *ds = vt_json(ds_json), *sts = vt_json(sts_json);
    const char *moved = "{'matchLabels':{'app':'web','tier':'x'}}";
    VT_UPDATE("Deployment", d, "spec.selector", moved, "spec.selector", "Invalid value: {");
    VT_UPDATE("DaemonSet", ds, "spec.selector", moved, "spec.selector", "Invalid value: {");
    VT_UPDATE("StatefulSet", sts, "spec.selector", moved, "spec", "Forbidden: updates to statefulset spec");
    json_decref(d);
    json_decref(ds);
    json_decref(sts);
}

TEST(counts_and_rolling_limits)
{
    json_t *d = vt_json(deploy_json);
    VT_EXPECT("Deployment", d, "spec.replicas", "-3", "spec.replicas",
              "Invalid value: -3: must be greater than or equal to 0");
    VT_EXPECT("Deployment", d, "spec.strategy", "{'rollingUpdate':{'maxSurge':0,'maxUnavailable':'0%'}}",
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: \"0%\": may not be 0 when `maxSurge` is 0");
    VT_EXPECT("Deployment", d, "spec.strategy", "{'rollingUpdate':{'maxUnavailable':'101%'}}",
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: \"101%\": must not be greater than 100%");
    json_decref(d);
    json_t *ds = vt_json(ds_json);
    VT_EXPECT("DaemonSet", ds, "spec.updateStrategy",
              "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':0,'maxSurge':0}}",
              "spec.updateStrategy.rollingUpdate.maxUnavailable",
              "Invalid value: 0: may not be 0 when `maxSurge` is 0");
    json_decref(ds);
}

TEST(job_selector_generated_or_manual)
{
    struct vt v;
    vt_run(&v, "Job", vt_json(job_json), NULL);
    VT_CLEAN(&v);
    json_t *ml = vt_get(v.obj, "spec.selector.matchLabels");
    CHECK_STR(json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")),
              "0c1d2e3f-0000-4000-8000-00000000000a");
    vt_free(&v);

    json_t *b = vt_json(job_json);
    VT_EXPECT("Job", b, "spec.selector", "{'matchLabels':{'app':'pi'}}", "spec.selector",
              "Invalid value: {\"matchLabels\":{\"app\":\"pi\"}}: `selector` not auto-generated");
    vt_setj(b, "spec.manualSelector", "true");
    VT_EXPECT("Job", b, "spec.selector", NULL, "spec.selector", "Required value");
    VT_EXPECT("Job", b, "spec.selector", "{'matchLabels':{'app':'pi'}}",
              "spec.template.metadata.labels", "Invalid value: {}: `selector` does not match");
    vt_setj(b, "spec.selector", "{'matchLabels':{'app':'pi'}}");
    vt_setj(b, "spec.template.metadata.labels", "{'app':'pi'}");
    vt_run(&v, "Job", b, NULL);
    VT_CLEAN(&v);
    CHECK(json_object_get(vt_get(v.obj, "spec.template.metadata.labels"), "controller-uid") == NULL);
    vt_free(&v);
}

TEST(statefulset_service_name_optional_but_valid)
{
    struct vt v;
    vt_run(&v, "StatefulSet", vt_json(sts_json), NULL); /* optional since Kubernetes 1.32 */
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.podManagementPolicy", "OrderedReady");
    VT_STR(v.obj, "spec.updateStrategy.type", "RollingUpdate");
    vt_free(&v);
    json_t *b = vt_json(sts_json);
    VT_EXPECT("StatefulSet", b, "spec.serviceName", "'Bad_Name'", "spec.serviceName",
              "Invalid value: \"Bad_Name\": a DNS-1035 label must consist of lower case");
    VT_EXPECT("StatefulSet", b, "spec.serviceName", "'1db'", "spec.serviceName",
              "Invalid value: \"1db\"");
    json_decref(b);
}

TEST(workload_defaults)
{
    struct vt v;
    vt_run(&v, "Deployment", vt_json(deploy_json), NULL);
    VT_STR(v.obj, "spec.strategy.type", "RollingUpdate");
    VT_STR(v.obj, "spec.strategy.rollingUpdate.maxSurge", "25%");
    VT_STR(v.obj, "spec.strategy.rollingUpdate.maxUnavailable", "25%");
    VT_INT(v.obj, "spec.revisionHistoryLimit", 10);
    VT_INT(v.obj, "spec.progressDeadlineSeconds", 600);
    vt_free(&v);
    vt_run(&v, "DaemonSet", vt_json(ds_json), NULL);
    VT_STR(v.obj, "spec.updateStrategy.type", "RollingUpdate");
    VT_INT(v.obj, "spec.updateStrategy.rollingUpdate.maxUnavailable", 1);
    vt_free(&v);
    vt_run(&v, "CronJob",
           vt_json("{'apiVersion':'batch/v1','kind':'CronJob','metadata':{'name':'c'},'spec':{"
                   "'schedule':'@hourly','jobTemplate':{'spec':{" TMPL("{}", "OnFailure") "}}}}"),
           NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.concurrencyPolicy", "Allow");
    VT_INT(v.obj, "spec.successfulJobsHistoryLimit", 3);
    VT_INT(v.obj, "spec.failedJobsHistoryLimit", 1);
    vt_free(&v);
}
