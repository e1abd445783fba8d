/* test_validate_apps.c — apps/v1 kinds: the Kubernetes docs' manifests pass
 * clean with the right defaults; typos, unimplemented fields, each workload
 * rule, and the update (immutability) rules. */
#include "tests/apiserver/vt.h"

static const char *const deploy_json = /* kubernetes.io docs: nginx-deployment */
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'nginx-deployment',"
    " 'labels':{'app':'nginx'}},"
    "'spec':{'replicas':3,'selector':{'matchLabels':{'app':'nginx'}},"
    " 'template':{'metadata':{'labels':{'app':'nginx'}},"
    "  'spec':{'containers':[{'name':'nginx','image':'nginx:1.14.2',"
    "   'ports':[{'containerPort':80}]}]}}}}";

static const char *const rs_json = /* kubernetes.io docs: frontend ReplicaSet */
    "{'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'frontend',"
    " 'labels':{'app':'guestbook','tier':'frontend'}},"
    "'spec':{'replicas':3,'selector':{'matchLabels':{'tier':'frontend'}},"
    " 'template':{'metadata':{'labels':{'tier':'frontend'}},"
    "  'spec':{'containers':[{'name':'php-redis',"
    "   'image':'us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5'}]}}}}";

static const char *const sts_json = /* kubernetes.io docs: web StatefulSet */
    "{'apiVersion':'apps/v1','kind':'StatefulSet','metadata':{'name':'web'},"
    "'spec':{'selector':{'matchLabels':{'app':'nginx'}},'serviceName':'nginx','replicas':3,"
    " 'minReadySeconds':10,"
    " 'template':{'metadata':{'labels':{'app':'nginx'}},"
    "  'spec':{'terminationGracePeriodSeconds':10,"
    "   'containers':[{'name':'nginx','image':'registry.k8s.io/nginx-slim:0.24',"
    "    'ports':[{'containerPort':80,'name':'web'}],"
    "    'volumeMounts':[{'name':'www','mountPath':'/usr/share/nginx/html'}]}]}},"
    " 'volumeClaimTemplates':[{'metadata':{'name':'www'},"
    "  'spec':{'accessModes':['ReadWriteOnce'],'storageClassName':'my-storage-class',"
    "   'resources':{'requests':{'storage':'1Gi'}}}}]}}";

static const char *const ds_json = /* kubernetes.io docs: fluentd-elasticsearch */
    "{'apiVersion':'apps/v1','kind':'DaemonSet','metadata':{'name':'fluentd-elasticsearch',"
    " 'namespace':'kube-system','labels':{'k8s-app':'fluentd-logging'}},"
    "'spec':{'selector':{'matchLabels':{'name':'fluentd-elasticsearch'}},"
    " 'template':{'metadata':{'labels':{'name':'fluentd-elasticsearch'}},"
    "  'spec':{'tolerations':[{'key':'node-role.kubernetes.io/control-plane','operator':'Exists',"
    "    'effect':'NoSchedule'},{'key':'node-role.kubernetes.io/master','operator':'Exists',"
    "    'effect':'NoSchedule'}],"
    "   'containers':[{'name':'fluentd-elasticsearch',"
    "    'image':'quay.io/fluentd_elasticsearch/fluentd:v2.5.2',"
    "    'resources':{'limits':{'memory':'200Mi'},'requests':{'cpu':'100m','memory':'200Mi'}},"
    "    'volumeMounts':[{'name':'varlog','mountPath':'/var/log'}]}],"
    "   'terminationGracePeriodSeconds':30,"
    "   'volumes':[{'name':'varlog','hostPath':{'path':'/var/log'}}]}}}}";

TEST(deployment_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "Deployment", vt_json(deploy_json), NULL);
    VT_CLEAN(&v);
    json_t *o = v.obj;
    VT_INT(o, "spec.replicas", 3);
    VT_STR(o, "spec.strategy.type", "RollingUpdate");
    VT_STR(o, "spec.strategy.rollingUpdate.maxUnavailable", "25%");
    VT_STR(o, "spec.strategy.rollingUpdate.maxSurge", "25%");
    VT_INT(o, "spec.revisionHistoryLimit", 10);
    VT_INT(o, "spec.progressDeadlineSeconds", 600);
    VT_STR(o, "spec.template.spec.restartPolicy", "Always");
    VT_STR(o, "spec.template.spec.dnsPolicy", "ClusterFirst");
    VT_INT(o, "spec.template.spec.terminationGracePeriodSeconds", 30);
    VT_STR(o, "spec.template.spec.schedulerName", "default-scheduler");
    VT_STR(o, "spec.template.spec.containers[0].imagePullPolicy", "IfNotPresent");
    VT_STR(o, "spec.template.spec.containers[0].ports[0].protocol", "TCP");
    VT_STR(o, "spec.template.spec.containers[0].terminationMessagePath", "/dev/termination-log");
    vt_free(&v);
}

TEST(deployment_replicas_default_and_recreate_strategy)
{
    struct vt v;
    json_t *o = vt_json(deploy_json);
    vt_setj(o, "spec.replicas", NULL);
    vt_setj(o, "spec.strategy", "{'type':'Recreate'}");
    vt_run(&v, "Deployment", o, NULL);
    VT_CLEAN(&v);
    VT_INT(v.obj, "spec.replicas", 1);
    CHECK(vt_get(v.obj, "spec.strategy.rollingUpdate") == NULL);
    vt_free(&v);
}

TEST(deployment_typo_and_not_implemented)
{
    struct vt v;
    json_t *o = vt_json(deploy_json);
    vt_setj(o, "spec.replcas", "2");
    vt_setj(o, "spec.template.spec.containers[0].port", "[{'containerPort':80}]");
    vt_setj(o, "spec.paused", "true");
    vt_run(&v, "Deployment", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    VT_WARNING(&v, "unknown field \"spec.replcas\"");
    VT_WARNING(&v, "unknown field \"spec.template.spec.containers[0].port\"");
    VT_WARNING(&v, "spec.paused: not implemented by orc yet; stored but has no effect");
    CHECK(vt_get(v.obj, "spec.replcas") == NULL);
    CHECK(json_is_true(vt_get(v.obj, "spec.paused")));
    vt_free(&v);
}

TEST(deployment_rules)
{
    json_t *b = vt_json(deploy_json);
    VT_EXPECT("Deployment", b, "spec.replicas", "-1", "spec.replicas",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Deployment", b, "spec.selector", NULL, "spec.selector", "Required value");
    VT_EXPECT("Deployment", b, "spec.selector", "{}", "spec.selector",
              "Invalid value: {}: empty selector is invalid for deployment");
    VT_EXPECT("Deployment", b, "spec.selector.matchLabels.app", "'web'",
              "spec.template.metadata.labels",
              "Invalid value: {\"app\":\"nginx\"}: `selector` does not match template `labels`");
    VT_EXPECT("Deployment", b, "spec.selector.matchLabels.app", "'-x'", "spec.selector.matchLabels",
              "Invalid value: \"-x\": a valid label must be");
    VT_EXPECT("Deployment", b, "spec.selector.matchExpressions",
              "[{'key':'tier','operator':'In'}]", "spec.selector.matchExpressions[0].values",
              "Required value: must be specified when `operator` is 'In' or 'NotIn'");
    VT_EXPECT("Deployment", b, "spec.selector.matchExpressions",
              "[{'key':'tier','operator':'Maybe'}]", "spec.selector.matchExpressions[0].operator",
              "Unsupported value: \"Maybe\"");
    VT_EXPECT("Deployment", b, "spec.template", NULL, "spec.template", "Required value");
    VT_EXPECT("Deployment", b, "spec.template.spec.restartPolicy", "'OnFailure'",
              "spec.template.spec.restartPolicy",
              "Unsupported value: \"OnFailure\": supported values: \"Always\"");
    VT_EXPECT("Deployment", b, "spec.template.spec.containers[0].image", NULL,
              "spec.template.spec.containers[0].image", "Required value");
    VT_EXPECT("Deployment", b, "spec.template.metadata.labels.app", "'Bad Value'",
              "spec.template.metadata.labels", "Invalid value: \"Bad Value\"");
    VT_EXPECT("Deployment", b, "spec.minReadySeconds", "-5", "spec.minReadySeconds",
              "Invalid value: -5: must be greater than or equal to 0");
    VT_EXPECT("Deployment", b, "spec.revisionHistoryLimit", "-1", "spec.revisionHistoryLimit",
              "Invalid value: -1: must be greater than or equal to 0");
    vt_setj(b, "spec.minReadySeconds", "10");
    VT_EXPECT("Deployment", b, "spec.progressDeadlineSeconds", "10", "spec.progressDeadlineSeconds",
              "Invalid value: 10: must be greater than minReadySeconds");
    json_decref(b);
}

TEST(deployment_strategy_rules)
{
    json_t *b = vt_json(deploy_json);
    VT_EXPECT("Deployment", b, "spec.strategy", "{'type':'BlueGreen'}", "spec.strategy.type",
              "Unsupported value: \"BlueGreen\": supported values: \"Recreate\", \"RollingUpdate\"");
    VT_EXPECT("Deployment", b, "spec.strategy", "{'type':'Recreate','rollingUpdate':{'maxSurge':1}}",
              "spec.strategy.rollingUpdate",
              "Forbidden: may not be specified when strategy `type` is 'Recreate'");
    VT_EXPECT("Deployment", b, "spec.strategy", "{'rollingUpdate':{'maxSurge':0,'maxUnavailable':0}}",
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: 0: may not be 0 when `maxSurge` is 0");
    VT_EXPECT("Deployment", b, "spec.strategy", "{'rollingUpdate':{'maxSurge':'0%','maxUnavailable':'0%'}}",
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: \"0%\": may not be 0 when `maxSurge` is 0");
    VT_EXPECT("Deployment", b, "spec.strategy", "{'rollingUpdate':{'maxSurge':'lots'}}",
              "spec.strategy.rollingUpdate.maxSurge",
              "Invalid value: \"lots\": a valid percent string must be a numeric string followed by "
              "an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    VT_EXPECT("Deployment", b, "spec.strategy", "{'rollingUpdate':{'maxUnavailable':'150%'}}",
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: \"150%\": must not be greater than 100%");
    VT_EXPECT("Deployment", b, "spec.strategy", "{'rollingUpdate':{'maxUnavailable':-1}}",
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: -1: must be greater than or equal to 0");
    json_decref(b);
}

TEST(deployment_update_rules)
{
    json_t *b = vt_json(deploy_json);
    VT_UPDATE("Deployment", b, "spec.replicas", "5", NULL, NULL);
    VT_UPDATE("Deployment", b, "spec.template.spec.containers[0].image", "'nginx:1.25'", NULL, NULL);
    VT_UPDATE("Deployment", b, "spec.selector.matchLabels.tier", "'web'", "spec.selector",
              "Invalid value: {\"matchLabels\":{\"app\":\"nginx\",\"tier\":\"web\"}}: field is immutable");
    json_decref(b);
}

TEST(replicaset_docs_manifest_and_rules)
{
    struct vt v;
    vt_run(&v, "ReplicaSet", vt_json(rs_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.template.spec.containers[0].imagePullPolicy", "IfNotPresent");
    vt_free(&v);

    json_t *b = vt_json(rs_json);
    vt_setj(b, "spec.replicas", NULL);
    vt_run(&v, "ReplicaSet", json_deep_copy(b), NULL);
    VT_INT(v.obj, "spec.replicas", 1);
    vt_free(&v);
    VT_EXPECT("ReplicaSet", b, "spec.replicas", "-2", "spec.replicas",
              "Invalid value: -2: must be greater than or equal to 0");
    VT_EXPECT("ReplicaSet", b, "spec.selector.matchLabels.tier", "'backend'",
              "spec.template.metadata.labels", "Invalid value: {\"tier\":\"frontend\"}: `selector` does "
              "not match template `labels`");
    VT_EXPECT("ReplicaSet", b, "spec.template.spec.restartPolicy", "'Never'",
              "spec.template.spec.restartPolicy", "Unsupported value: \"Never\"");
    VT_UPDATE("ReplicaSet", b, "spec.selector.matchLabels.tier", "'x'", "spec.selector",
              "Invalid value: {\"matchLabels\":{\"tier\":\"x\"}}: field is immutable");
    VT_UPDATE("ReplicaSet", b, "spec.replicas", "0", NULL, NULL);
    json_decref(b);
}

TEST(statefulset_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "StatefulSet", vt_json(sts_json), NULL);
    VT_CLEAN(&v);
    json_t *o = v.obj;
    VT_INT(o, "spec.replicas", 3);
    VT_STR(o, "spec.podManagementPolicy", "OrderedReady");
    VT_STR(o, "spec.updateStrategy.type", "RollingUpdate");
    VT_INT(o, "spec.updateStrategy.rollingUpdate.partition", 0);
    VT_INT(o, "spec.revisionHistoryLimit", 10);
    VT_STR(o, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", "Retain");
    VT_STR(o, "spec.persistentVolumeClaimRetentionPolicy.whenScaled", "Retain");
    VT_STR(o, "spec.volumeClaimTemplates[0].spec.volumeMode", "Filesystem");
    VT_INT(o, "spec.template.spec.terminationGracePeriodSeconds", 10);
    VT_STR(o, "spec.template.spec.restartPolicy", "Always");
    vt_free(&v);

    json_t *b = vt_json(sts_json);
    vt_setj(b, "spec.replicas", NULL);
    vt_setj(b, "spec.updateStrategy", "{'type':'OnDelete'}");
    vt_run(&v, "StatefulSet", b, NULL);
    VT_CLEAN(&v);
    VT_INT(v.obj, "spec.replicas", 1);
    CHECK(vt_get(v.obj, "spec.updateStrategy.rollingUpdate") == NULL);
    vt_free(&v);
}

TEST(statefulset_rules)
{
    json_t *b = vt_json(sts_json);
    VT_EXPECT("StatefulSet", b, "spec.replicas", "-1", "spec.replicas",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("StatefulSet", b, "spec.podManagementPolicy", "'Random'", "spec.podManagementPolicy",
              "Unsupported value: \"Random\": supported values: \"OrderedReady\", \"Parallel\"");
    VT_EXPECT("StatefulSet", b, "spec.updateStrategy", "{'type':'Canary'}", "spec.updateStrategy.type",
              "Unsupported value: \"Canary\": supported values: \"RollingUpdate\", \"OnDelete\"");
    VT_EXPECT("StatefulSet", b, "spec.updateStrategy", "{'type':'OnDelete','rollingUpdate':{'partition':1}}",
              "spec.updateStrategy.rollingUpdate",
              "Invalid value: {\"partition\":1}: only allowed for updateStrategy 'RollingUpdate'");
    VT_EXPECT("StatefulSet", b, "spec.updateStrategy", "{'rollingUpdate':{'partition':-1}}",
              "spec.updateStrategy.rollingUpdate.partition",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("StatefulSet", b, "spec.persistentVolumeClaimRetentionPolicy", "{'whenDeleted':'Keep'}",
              "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
              "Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"");
    VT_EXPECT("StatefulSet", b, "spec.selector", NULL, "spec.selector", "Required value");
    VT_EXPECT("StatefulSet", b, "spec.template.metadata.labels", "{'app':'db'}",
              "spec.template.metadata.labels", "Invalid value: {\"app\":\"db\"}: `selector` does not");
    VT_EXPECT("StatefulSet", b, "spec.volumeClaimTemplates[0].spec.accessModes", "[]",
              "spec.volumeClaimTemplates[0].spec.accessModes",
              "Required value: at least 1 access mode is required");
    VT_EXPECT("StatefulSet", b, "spec.volumeClaimTemplates[0].spec.accessModes", "['ReadSometimes']",
              "spec.volumeClaimTemplates[0].spec.accessModes[0]", "Unsupported value: \"ReadSometimes\"");
    VT_EXPECT("StatefulSet", b, "spec.volumeClaimTemplates[0].spec.resources", NULL,
              "spec.volumeClaimTemplates[0].spec.resources[storage]", "Required value");
    VT_EXPECT("StatefulSet", b, "spec.volumeClaimTemplates[0].metadata.name", "'data'",
              "spec.template.spec.containers[0].volumeMounts[0].name", "Not found: \"www\"");
    json_decref(b);
}

TEST(statefulset_update_rules)
{
    json_t *b = vt_json(sts_json);
    VT_UPDATE("StatefulSet", b, "spec.replicas", "5", NULL, NULL);
    VT_UPDATE("StatefulSet", b, "spec.template.spec.containers[0].image", "'nginx:1.25'", NULL, NULL);
    VT_UPDATE("StatefulSet", b, "spec.updateStrategy", "{'type':'OnDelete'}", NULL, NULL);
    VT_UPDATE("StatefulSet", b, "spec.minReadySeconds", "0", NULL, NULL);
    VT_UPDATE("StatefulSet", b, "spec.persistentVolumeClaimRetentionPolicy",
              "{'whenDeleted':'Delete','whenScaled':'Retain'}", NULL, NULL);
    VT_UPDATE("StatefulSet", b, "spec.serviceName", "'other'", "spec",
              "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
              "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
              "'minReadySeconds' are forbidden");
    VT_UPDATE("StatefulSet", b, "spec.podManagementPolicy", "'Parallel'", "spec", "Forbidden:");
    VT_UPDATE("StatefulSet", b, "spec.volumeClaimTemplates[0].spec.resources.requests.storage",
              "'2Gi'", "spec", "Forbidden:");
    json_decref(b);
}

TEST(daemonset_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "DaemonSet", vt_json(ds_json), NULL);
    VT_CLEAN(&v);
    json_t *o = v.obj;
    VT_STR(o, "spec.updateStrategy.type", "RollingUpdate");
    VT_INT(o, "spec.updateStrategy.rollingUpdate.maxUnavailable", 1);
    VT_INT(o, "spec.updateStrategy.rollingUpdate.maxSurge", 0);
    VT_INT(o, "spec.revisionHistoryLimit", 10);
    VT_STR(o, "spec.template.spec.volumes[0].hostPath.type", "");
    VT_STR(o, "spec.template.spec.containers[0].imagePullPolicy", "IfNotPresent");
    /* Templates are not Pods: requests are not copied from limits. */
    VT_STR(o, "spec.template.spec.containers[0].resources.requests.cpu", "100m");
    vt_free(&v);
}

TEST(daemonset_rules)
{
    json_t *b = vt_json(ds_json);
    VT_EXPECT("DaemonSet", b, "spec.updateStrategy", "{'type':'Always'}", "spec.updateStrategy.type",
              "Unsupported value: \"Always\": supported values: \"RollingUpdate\", \"OnDelete\"");
    VT_EXPECT("DaemonSet", b, "spec.updateStrategy",
              "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':0,'maxSurge':0}}",
              "spec.updateStrategy.rollingUpdate.maxUnavailable",
              "Invalid value: 0: may not be 0 when `maxSurge` is 0");
    VT_EXPECT("DaemonSet", b, "spec.selector.matchLabels.name", "'other'",
              "spec.template.metadata.labels", "Invalid value: {\"name\":\"fluentd-elasticsearch\"}");
    VT_EXPECT("DaemonSet", b, "spec.template.spec.restartPolicy", "'Never'",
              "spec.template.spec.restartPolicy", "Unsupported value: \"Never\": supported values: \"Always\"");
    VT_EXPECT("DaemonSet", b, "spec.template.spec.tolerations[0].value", "'x'",
              "spec.template.spec.tolerations[0].operator",
              "Invalid value: \"x\": value must be empty when `operator` is 'Exists'");
    VT_EXPECT("DaemonSet", b, "spec.minReadySeconds", "-1", "spec.minReadySeconds",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_UPDATE("DaemonSet", b, "spec.selector.matchLabels.name", "'x'", "spec.selector",
              "Invalid value: {\"matchLabels\":{\"name\":\"x\"}}: field is immutable");
    VT_UPDATE("DaemonSet", b, "spec.template.spec.containers[0].image", "'fluentd:v3'", NULL, NULL);
    json_decref(b);
}
