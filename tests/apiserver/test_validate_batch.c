/* test_validate_batch.c — batch/v1 kinds: the docs' Job and CronJob pass
 * clean with the right defaults; each rule; Job immutability. */
#include "tests/apiserver/vt.h"

static const char *const job_json = /* kubernetes.io docs: pi */
    "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'pi'},"
    "'spec':{'template':{'spec':{'containers':[{'name':'pi','image':'perl:5.34.0',"
    "   'command':['perl','-Mbignum=bpi','-wle','print bpi(2000)']}],'restartPolicy':'Never'}},"
    " 'backoffLimit':4}}";

static const char *const cron_json = /* kubernetes.io docs: hello */
    "{'apiVersion':'batch/v1','kind':'CronJob','metadata':{'name':'hello'},"
    "'spec':{'schedule':'* * * * *','jobTemplate':{'spec':{'template':{'spec':{"
    "  'containers':[{'name':'hello','image':'busybox:1.28','imagePullPolicy':'IfNotPresent',"
    "   'command':['/bin/sh','-c','date; echo Hello from the Kubernetes cluster']}],"
    "  'restartPolicy':'OnFailure'}}}}}}";

TEST(job_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "Job", vt_json(job_json), NULL);
    VT_CLEAN(&v);
    json_t *o = v.obj;
    VT_INT(o, "spec.parallelism", 1);
    VT_INT(o, "spec.completions", 1);
    VT_INT(o, "spec.backoffLimit", 4);
    VT_STR(o, "spec.completionMode", "NonIndexed");
    CHECK(json_is_false(vt_get(o, "spec.suspend")));
    VT_STR(o, "spec.template.spec.restartPolicy", "Never");
    VT_STR(o, "spec.template.spec.dnsPolicy", "ClusterFirst");
    VT_STR(o, "spec.template.spec.containers[0].imagePullPolicy", "IfNotPresent");
    CHECK(vt_get(o, "spec.selector") == NULL); /* no uid yet: nothing to select on */
    vt_free(&v);
}

TEST(job_defaults_parallelism_completions_backoff)
{
    struct vt v;
    json_t *o = vt_json(job_json);
    vt_setj(o, "spec.backoffLimit", NULL);
    vt_setj(o, "spec.parallelism", "3");
    vt_run(&v, "Job", o, NULL);
    VT_CLEAN(&v);
    VT_INT(v.obj, "spec.parallelism", 3);
    CHECK(vt_get(v.obj, "spec.completions") == NULL);
    VT_INT(v.obj, "spec.backoffLimit", 6);
    vt_free(&v);
}

TEST(job_selector_generated_from_uid)
{
    struct vt v;
    json_t *o = vt_json(job_json);
    vt_setj(o, "metadata.uid", "'1f2e3d4c-0000-4000-8000-000000000001'");
    vt_run(&v, "Job", o, NULL);
    VT_CLEAN(&v);
    json_t *ml = vt_get(v.obj, "spec.selector.matchLabels");
    CHECK_STR(json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")),
              "1f2e3d4c-0000-4000-8000-000000000001");
    json_t *labels = vt_get(v.obj, "spec.template.metadata.labels");
    CHECK_STR(json_string_value(json_object_get(labels, "batch.kubernetes.io/job-name")), "pi");
    CHECK_STR(json_string_value(json_object_get(labels, "job-name")), "pi");
    vt_free(&v);
}

TEST(job_typo_and_not_implemented)
{
    struct vt v;
    json_t *o = vt_json(job_json);
    vt_setj(o, "spec.backofLimit", "3");
    vt_setj(o, "spec.podFailurePolicy", "{'rules':[{'action':'FailJob','onExitCodes':"
                                        "{'operator':'In','values':[42]}}]}");
    vt_run(&v, "Job", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    VT_WARNING(&v, "unknown field \"spec.backofLimit\"");
    VT_WARNING(&v, "spec.podFailurePolicy: not implemented by orc yet; stored but has no effect");
    CHECK(vt_get(v.obj, "spec.podFailurePolicy.rules") != NULL);
    vt_free(&v);
}

TEST(job_rules)
{
    json_t *b = vt_json(job_json);
    VT_EXPECT("Job", b, "spec.parallelism", "-1", "spec.parallelism",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Job", b, "spec.completions", "-1", "spec.completions",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Job", b, "spec.backoffLimit", "-1", "spec.backoffLimit",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Job", b, "spec.activeDeadlineSeconds", "-1", "spec.activeDeadlineSeconds",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Job", b, "spec.ttlSecondsAfterFinished", "-1", "spec.ttlSecondsAfterFinished",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Job", b, "spec.template.spec.restartPolicy", "'Always'",
              "spec.template.spec.restartPolicy",
              "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
    VT_EXPECT("Job", b, "spec.template.spec.restartPolicy", NULL, "spec.template.spec.restartPolicy",
              "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
    VT_EXPECT("Job", b, "spec.completionMode", "'Sometimes'", "spec.completionMode",
              "Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\"");
    VT_EXPECT("Job", b, "spec.template", NULL, "spec.template", "Required value");
    VT_EXPECT("Job", b, "spec.selector", "{'matchLabels':{'app':'pi'}}",
              "spec.template.metadata.labels", "Invalid value: null: `selector` does not match");
    VT_EXPECT("Job", b, "spec.template.spec.containers[0].name", "'Pi'",
              "spec.template.spec.containers[0].name", "Invalid value: \"Pi\"");
    json_decref(b);

    json_t *idx = vt_json(job_json);
    vt_setj(idx, "spec.completionMode", "'Indexed'");
    vt_setj(idx, "spec.parallelism", "2");
    VT_EXPECT("Job", idx, "spec.completions", NULL, "spec.completions",
              "Required value: when completion mode is Indexed");
    json_decref(idx);
}

TEST(job_update_rules)
{
    json_t *b = vt_json(job_json);
    VT_UPDATE("Job", b, "spec.parallelism", "2", NULL, NULL);
    VT_UPDATE("Job", b, "spec.suspend", "true", NULL, NULL);
    VT_UPDATE("Job", b, "spec.template.spec.containers[0].image", "'perl:5.36'", "spec.template",
              "Invalid value: {");
    VT_UPDATE("Job", b, "spec.completions", "3", "spec.completions",
              "Invalid value: 3: field is immutable");
    VT_UPDATE("Job", b, "spec.selector", "{'matchLabels':{'x':'y'}}", "spec.selector", "Invalid value:");
    json_decref(b);
}

TEST(cronjob_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "CronJob", vt_json(cron_json), NULL);
    VT_CLEAN(&v);
    json_t *o = v.obj;
    VT_STR(o, "spec.concurrencyPolicy", "Allow");
    CHECK(json_is_false(vt_get(o, "spec.suspend")));
    VT_INT(o, "spec.successfulJobsHistoryLimit", 3);
    VT_INT(o, "spec.failedJobsHistoryLimit", 1);
    VT_STR(o, "spec.jobTemplate.spec.template.spec.restartPolicy", "OnFailure");
    VT_STR(o, "spec.jobTemplate.spec.template.spec.dnsPolicy", "ClusterFirst");
    VT_STR(o, "spec.jobTemplate.spec.template.spec.containers[0].terminationMessagePolicy", "File");
    /* Kubernetes does not apply Job defaults inside a CronJob's template. */
    CHECK(vt_get(o, "spec.jobTemplate.spec.backoffLimit") == NULL);
    vt_free(&v);

    json_t *z = vt_json(cron_json);
    vt_setj(z, "spec.schedule", "'@hourly'");
    vt_setj(z, "spec.timeZone", "'Etc/UTC'");
    vt_run(&v, "CronJob", z, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(cronjob_rules)
{
    json_t *b = vt_json(cron_json);
    VT_EXPECT("CronJob", b, "spec.schedule", NULL, "spec.schedule", "Required value");
    VT_EXPECT("CronJob", b, "spec.schedule", "'* * *'", "spec.schedule",
              "Invalid value: \"* * *\": expected exactly 5 fields, found 3");
    VT_EXPECT("CronJob", b, "spec.schedule", "'61 * * * *'", "spec.schedule",
              "Invalid value: \"61 * * * *\": end of range (61) above maximum (59)");
    VT_EXPECT("CronJob", b, "spec.schedule", "'TZ=UTC 0 * * * *'", "spec.schedule",
              "Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use "
              "timeZone field instead");
    VT_EXPECT("CronJob", b, "spec.timeZone", "'Mars/Olympus_Mons'", "spec.timeZone",
              "Invalid value: \"Mars/Olympus_Mons\": unknown time zone Mars/Olympus_Mons");
    VT_EXPECT("CronJob", b, "spec.timeZone", "'../../etc/passwd'", "spec.timeZone",
              "Invalid value: \"../../etc/passwd\": unknown time zone");
    VT_EXPECT("CronJob", b, "spec.timeZone", "''", "spec.timeZone",
              "Invalid value: \"\": timeZone must be nil or non-empty string");
    VT_EXPECT("CronJob", b, "spec.concurrencyPolicy", "'Sometimes'", "spec.concurrencyPolicy",
              "Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"");
    VT_EXPECT("CronJob", b, "spec.startingDeadlineSeconds", "-10", "spec.startingDeadlineSeconds",
              "Invalid value: -10: must be greater than or equal to 0");
    VT_EXPECT("CronJob", b, "spec.successfulJobsHistoryLimit", "-1", "spec.successfulJobsHistoryLimit",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("CronJob", b, "spec.failedJobsHistoryLimit", "-1", "spec.failedJobsHistoryLimit",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("CronJob", b, "spec.jobTemplate", NULL, "spec.jobTemplate", "Required value");
    VT_EXPECT("CronJob", b, "spec.jobTemplate.spec.template.spec.restartPolicy", "'Always'",
              "spec.jobTemplate.spec.template.spec.restartPolicy", "Unsupported value: \"Always\"");
    VT_EXPECT("CronJob", b, "spec.jobTemplate.spec.backoffLimit", "-1",
              "spec.jobTemplate.spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("CronJob", b, "metadata.name", "'a-very-long-cronjob-name-that-goes-past-fifty-two-chars'",
              "metadata.name", "Invalid value: \"a-very-long-cronjob-name-that-goes-past-fifty-two-chars\": "
              "must be no more than 52 characters");
    json_decref(b);
}
