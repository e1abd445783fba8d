/* test_validate_policy.c — PriorityClass, PodDisruptionBudget and
 * ControllerRevision: defaults, Kubernetes' rules and their wording, what
 * updates may change. */
#include "tests/apiserver/vt.h"

static const char *const pc_json = /* kubernetes.io docs: high-priority */
    "{'apiVersion':'scheduling.k8s.io/v1','kind':'PriorityClass','metadata':{'name':'high-priority'},"
    "'value':1000000,'globalDefault':false,"
    "'description':'This priority class should be used for XYZ service pods only.'}";

static const char *const pdb_json = /* kubernetes.io docs: zk-pdb */
    "{'apiVersion':'policy/v1','kind':'PodDisruptionBudget','metadata':{'name':'zk-pdb'},"
    "'spec':{'minAvailable':2,'selector':{'matchLabels':{'app':'zookeeper'}}}}";

static const char *const cr_json =
    "{'apiVersion':'apps/v1','kind':'ControllerRevision','metadata':{'name':'web-7b9c6d'},"
    "'data':{'spec':{'template':{}}},'revision':3}";

TEST(priorityclass_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "pc", vt_json(pc_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "preemptionPolicy", "PreemptLowerPriority");
    vt_free(&v);
}

TEST(priorityclass_rules)
{
    json_t *b = vt_json(pc_json);
    VT_EXPECT("pc", b, "value", "1000000001", "value",
              "Forbidden: maximum allowed value of a user defined priority is 1000000000");
    VT_EXPECT("pc", b, "value", "4294967296", "value", "Invalid value");
    VT_EXPECT("pc", b, "preemptionPolicy", "'Sometimes'", "preemptionPolicy",
              "Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", "
              "\"Never\"");
    VT_EXPECT("pc", b, "metadata.name", "'system-mine'", "metadata.name",
              "Forbidden: priority class names with 'system-' prefix are reserved for system use "
              "only. error: system-mine is not a known system priority class");
    VT_EXPECT("pc", b, "metadata.name", "'system-node-critical'", "metadata.name",
              "Forbidden: priority class names with 'system-' prefix are reserved for system use "
              "only. error: value of system-node-critical PriorityClass must be 2000001000");
    struct vt v;
    json_t *sys = vt_json(pc_json);
    vt_setj(sys, "metadata.name", "'system-cluster-critical'");
    vt_setj(sys, "value", "2000000000");
    vt_run(&v, "pc", sys, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
    VT_UPDATE("pc", b, "value", "5", "value", "Forbidden: may not be changed in an update.");
    VT_UPDATE("pc", b, "preemptionPolicy", "'Never'", "preemptionPolicy",
              "Invalid value: \"Never\": field is immutable");
    VT_UPDATE("pc", b, "description", "'other'", NULL, NULL);
    json_decref(b);
}

TEST(pdb_docs_manifest_clean)
{
    struct vt v;
    vt_run(&v, "pdb", vt_json(pdb_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(pdb_rules)
{
    json_t *b = vt_json(pdb_json);
    VT_EXPECT("pdb", b, "spec.maxUnavailable", "1", "spec",
              "Invalid value: {\"maxUnavailable\":1,\"minAvailable\":2,");
    VT_EXPECT("pdb", b, "spec.minAvailable", "-1", "spec.minAvailable",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("pdb", b, "spec.minAvailable", "'120%'", "spec.minAvailable",
              "Invalid value: \"120%\": must not be greater than 100%");
    VT_EXPECT("pdb", b, "spec.minAvailable", "'half'", "spec.minAvailable",
              "Invalid value: \"half\": a valid percent string");
    VT_EXPECT("pdb", b, "spec.unhealthyPodEvictionPolicy", "'Never'",
              "spec.unhealthyPodEvictionPolicy",
              "Unsupported value: \"Never\": supported values: \"IfHealthyBudget\", "
              "\"AlwaysAllow\"");
    VT_UPDATE("pdb", b, "spec.minAvailable", "'50%'", NULL, NULL);
    json_decref(b);
}

TEST(controllerrevision_rules)
{
    struct vt v;
    vt_run(&v, "controllerrevisions", vt_json(cr_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
    json_t *b = vt_json(cr_json);
    VT_EXPECT("controllerrevision", b, "data", NULL, "data", "Required value: data is mandatory");
    VT_EXPECT("controllerrevision", b, "revision", "-1", "revision",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_UPDATE("controllerrevision", b, "data.spec", "{'x':1}", "data", "Invalid value");
    VT_UPDATE("controllerrevision", b, "revision", "4", NULL, NULL);
    json_decref(b);
}
