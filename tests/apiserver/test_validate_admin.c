/* test_validate_admin.c — the kinds a real manifest carries beyond
 * workloads: ServiceAccount, ReplicationController, LimitRange,
 * ResourceQuota, RBAC, NetworkPolicy and HorizontalPodAutoscaler. Real
 * manifests pass clean with Kubernetes' defaults; one bad field per kind
 * is refused as Kubernetes words it. */
#include "tests/apiserver/vt.h"

static const char *const sa_json =
    "{'apiVersion':'v1','kind':'ServiceAccount','metadata':{'name':'build-robot'},"
    "'secrets':[{'name':'build-robot-token'}],'imagePullSecrets':[{'name':'myregistrykey'}]}";

static const char *const rc_json = /* kubernetes.io docs: replication.yaml */
    "{'apiVersion':'v1','kind':'ReplicationController','metadata':{'name':'nginx'},'spec':{"
    "'replicas':3,'selector':{'app':'nginx'},'template':{'metadata':{'name':'nginx','labels':"
    "{'app':'nginx'}},'spec':{'containers':[{'name':'nginx','image':'nginx','ports':"
    "[{'containerPort':80}]}]}}}}";

static const char *const lr_json =
    "{'apiVersion':'v1','kind':'LimitRange','metadata':{'name':'cpu-resource-constraint'},"
    "'spec':{'limits':[{'type':'Container','default':{'cpu':'500m'},'defaultRequest':"
    "{'cpu':'500m'},'max':{'cpu':'1'},'min':{'cpu':'100m'}}]}}";

static const char *const quota_json =
    "{'apiVersion':'v1','kind':'ResourceQuota','metadata':{'name':'pods-high'},'spec':{'hard':"
    "{'cpu':'1000','memory':'200Gi','pods':'10'},'scopeSelector':{'matchExpressions':[{"
    "'operator':'In','scopeName':'PriorityClass','values':['high']}]}}}";

static const char *const role_json =
    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'Role','metadata':{'name':'pod-reader'},"
    "'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get','watch','list']}]}";

static const char *const crole_json =
    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':{'name':"
    "'monitoring'},'aggregationRule':{'clusterRoleSelectors':[{'matchLabels':"
    "{'rbac.example.com/aggregate-to-monitoring':'true'}}]},'rules':[]}";

static const char *const rb_json =
    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'RoleBinding','metadata':{'name':"
    "'read-pods'},'subjects':[{'kind':'User','name':'jane','apiGroup':"
    "'rbac.authorization.k8s.io'},{'kind':'ServiceAccount','name':'default','namespace':"
    "'kube-system'}],'roleRef':{'kind':'Role','name':'pod-reader','apiGroup':"
    "'rbac.authorization.k8s.io'}}";

static const char *const crb_json =
    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRoleBinding','metadata':{'name':"
    "'read-secrets-global'},'subjects':[{'kind':'Group','name':'manager'}],'roleRef':{'kind':"
    "'ClusterRole','name':'secret-reader'}}";

static const char *const np_json = /* kubernetes.io docs: the test-network-policy example */
    "{'apiVersion':'networking.k8s.io/v1','kind':'NetworkPolicy','metadata':{'name':"
    "'test-network-policy'},'spec':{'podSelector':{'matchLabels':{'role':'db'}},'policyTypes':"
    "['Ingress','Egress'],'ingress':[{'from':[{'ipBlock':{'cidr':'172.17.0.0/16','except':"
    "['172.17.1.0/24']}},{'namespaceSelector':{'matchLabels':{'project':'myproject'}}},"
    "{'podSelector':{'matchLabels':{'role':'frontend'}}}],'ports':[{'protocol':'TCP','port':"
    "6379}]}],'egress':[{'to':[{'ipBlock':{'cidr':'10.0.0.0/24'}}],'ports':[{'protocol':'TCP',"
    "'port':32000,'endPort':32768}]}]}}";

static const char *const hpa_json = /* kubernetes.io docs: the php-apache walkthrough */
    "{'apiVersion':'autoscaling/v2','kind':'HorizontalPodAutoscaler','metadata':{'name':"
    "'php-apache'},'spec':{'scaleTargetRef':{'apiVersion':'apps/v1','kind':'Deployment','name':"
    "'php-apache'},'minReplicas':1,'maxReplicas':10,'metrics':[{'type':'Resource','resource':"
    "{'name':'cpu','target':{'type':'Utilization','averageUtilization':50}}},{'type':'Pods',"
    "'pods':{'metric':{'name':'packets-per-second'},'target':{'type':'AverageValue',"
    "'averageValue':'1k'}}},{'type':'Object','object':{'metric':{'name':'requests-per-second'},"
    "'describedObject':{'apiVersion':'networking.k8s.io/v1','kind':'Ingress','name':"
    "'main-route'},'target':{'type':'Value','value':'10k'}}}]}}";

static void clean(const char *kind, const char *json)
{
    struct vt v;
    vt_run(&v, kind, vt_json(json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(admin_docs_manifests_are_clean)
{
    clean("ServiceAccount", sa_json);
    clean("ReplicationController", rc_json);
    clean("LimitRange", lr_json);
    clean("ResourceQuota", quota_json);
    clean("Role", role_json);
    clean("ClusterRole", crole_json);
    clean("RoleBinding", rb_json);
    clean("ClusterRoleBinding", crb_json);
    clean("NetworkPolicy", np_json);
    clean("HorizontalPodAutoscaler", hpa_json);
}

TEST(admin_defaults)
{
    struct vt v;
    vt_run(&v, "ReplicationController",
           vt_json("{'metadata':{'name':'r'},'spec':{'template':{'metadata':{'labels':"
                   "{'app':'a'}},'spec':{'containers':[{'name':'c','image':'i'}]}}}}"),
           NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.selector.app", "a"); /* from the template's labels */
    VT_STR(v.obj, "metadata.labels.app", "a");
    VT_INT(v.obj, "spec.replicas", 1);
    vt_free(&v);

    vt_run(&v, "ClusterRoleBinding", vt_json(crb_json), NULL);
    VT_STR(v.obj, "roleRef.apiGroup", "rbac.authorization.k8s.io");
    VT_STR(v.obj, "subjects[0].apiGroup", "rbac.authorization.k8s.io");
    vt_free(&v);

    vt_run(&v, "NetworkPolicy",
           vt_json("{'metadata':{'name':'n'},'spec':{'podSelector':{},'egress':[{'ports':"
                   "[{'port':53}]}]}}"),
           NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.policyTypes[0]", "Ingress");
    VT_STR(v.obj, "spec.policyTypes[1]", "Egress");
    VT_STR(v.obj, "spec.egress[0].ports[0].protocol", "TCP");
    vt_free(&v);

    vt_run(&v, "HorizontalPodAutoscaler",
           vt_json("{'metadata':{'name':'h'},'spec':{'scaleTargetRef':{'kind':'Deployment',"
                   "'name':'web'},'maxReplicas':3,'behavior':{'scaleDown':{'policies':[{'type':"
                   "'Pods','value':1,'periodSeconds':60}]}}}}"),
           NULL);
    VT_CLEAN(&v);
    VT_INT(v.obj, "spec.minReplicas", 1);
    VT_STR(v.obj, "spec.metrics[0].resource.name", "cpu");
    VT_INT(v.obj, "spec.metrics[0].resource.target.averageUtilization", 80);
    VT_INT(v.obj, "spec.behavior.scaleDown.stabilizationWindowSeconds", 300);
    VT_STR(v.obj, "spec.behavior.scaleUp.policies[0].type", "Pods");
    VT_INT(v.obj, "spec.behavior.scaleUp.policies[0].value", 4);
    vt_free(&v);
}

TEST(admin_one_bad_field_per_kind)
{
    json_t *sa = vt_json(sa_json), *rc = vt_json(rc_json), *lr = vt_json(lr_json);
    json_t *q = vt_json(quota_json), *role = vt_json(role_json), *cr = vt_json(crole_json);
    json_t *rb = vt_json(rb_json), *crb = vt_json(crb_json), *np = vt_json(np_json);
    json_t *hpa = vt_json(hpa_json);

    VT_EXPECT("ServiceAccount", sa, "metadata.name", "'Build_Robot'", "metadata.name",
              "Invalid value: \"Build_Robot\": a lowercase RFC 1123 subdomain");
    VT_EXPECT("ServiceAccount", sa, "automountServiceAccountToken", "'yes'",
              "automountServiceAccountToken", "Invalid value: \"yes\": "
              "automountServiceAccountToken in body must be of type boolean: \"string\"");

    VT_EXPECT("ReplicationController", rc, "spec.template.metadata.labels", "{'app':'web'}",
              "spec.template.metadata.labels", "Invalid value: {\"app\":\"web\"}: "
              "`selector` does not match template `labels`");
    VT_EXPECT("ReplicationController", rc, "spec.replicas", "-1", "spec.replicas",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("ReplicationController", rc, "spec.template.spec.restartPolicy", "'Never'",
              "spec.template.spec.restartPolicy",
              "Unsupported value: \"Never\": supported values: \"Always\"");

    VT_EXPECT("LimitRange", lr, "spec.limits[0].min", "{'cpu':'2'}", "spec.limits[0].min[cpu]",
              "Invalid value: \"2\": min value 2 is greater than max value 1");
    VT_EXPECT("LimitRange", lr, "spec.limits[0].type", "'Pod'", "spec.limits[0].default",
              "Forbidden: may not be specified when `type` is 'Pod'");
    VT_EXPECT("LimitRange", lr, "spec.limits[1]", "{'type':'Container'}", "spec.limits[1].type",
              "Duplicate value: \"Container\"");

    VT_EXPECT("ResourceQuota", q, "spec.hard.pods", "'-1'", "spec.hard[pods]",
              "Invalid value: \"-1\": must be greater than or equal to 0");
    VT_EXPECT("ResourceQuota", q, "spec.scopes", "['Sometimes']", "spec.scopes[0]",
              "Invalid value: \"Sometimes\": unsupported scope");

    VT_EXPECT("Role", role, "rules[0].verbs", "[]", "rules[0].verbs",
              "Required value: verbs must contain at least one value");
    VT_EXPECT("Role", role, "rules[0].nonResourceURLs", "['/healthz']", "rules[0].nonResourceURLs",
              "Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs");
    VT_EXPECT("Role", role, "metadata.name", "'a/b'", "metadata.name",
              "Invalid value: \"a/b\": may not contain '/'");
    VT_EXPECT("ClusterRole", cr, "aggregationRule.clusterRoleSelectors", "[]",
              "aggregationRule.clusterRoleSelectors",
              "Required value: at least one clusterRoleSelector required if aggregationRule is "
              "non-nil");
    VT_EXPECT("ClusterRole", cr, "rules", "[{'verbs':['get']}]", "rules[0].apiGroups",
              "Required value: resource rules must supply at least one api group");

    VT_EXPECT("RoleBinding", rb, "roleRef.kind", "'Pod'", "roleRef.kind",
              "Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"");
    VT_EXPECT("RoleBinding", rb, "subjects[0].kind", "'Robot'", "subjects[0].kind",
              "Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", "
              "\"Group\"");
    VT_EXPECT("RoleBinding", rb, "subjects[1].apiGroup", "'v1'", "subjects[1].apiGroup",
              "Unsupported value: \"v1\": supported values: \"\"");
    VT_EXPECT("ClusterRoleBinding", crb, "roleRef.kind", "'Role'", "roleRef.kind",
              "Unsupported value: \"Role\": supported values: \"ClusterRole\"");
    VT_EXPECT("ClusterRoleBinding", crb, "subjects", "[{'kind':'ServiceAccount','name':'x'}]",
              "subjects[0].namespace", "Required value");
    VT_UPDATE("RoleBinding", rb, "roleRef.name", "'admin'", "roleRef",
              "Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", "
              "Name:\"admin\"}: cannot change roleRef");
    VT_UPDATE("RoleBinding", rb, "subjects[0].name", "'joe'", NULL, NULL);

    VT_EXPECT("NetworkPolicy", np, "spec.ingress[0].ports[0].protocol", "'ICMP'",
              "spec.ingress[0].ports[0].protocol",
              "Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
    VT_EXPECT("NetworkPolicy", np, "spec.egress[0].ports[0].endPort", "100",
              "spec.egress[0].ports[0].endPort",
              "Invalid value: 32000: must be greater than or equal to `port`");
    VT_EXPECT("NetworkPolicy", np, "spec.ingress[0].from[0].ipBlock.cidr", "'172.17.0.0'",
              "spec.ingress[0].from[0].ipBlock.cidr",
              "Invalid value: \"172.17.0.0\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
              "2001:db8::/64)");
    VT_EXPECT("NetworkPolicy", np, "spec.ingress[0].from[0].podSelector", "{}",
              "spec.ingress[0].from[0]", "Forbidden: may not specify both ipBlock");
    VT_EXPECT("NetworkPolicy", np, "spec.ingress[0].from[0]", "{}", "spec.ingress[0].from[0]",
              "Required value: must specify a peer");
    VT_EXPECT("NetworkPolicy", np, "spec.policyTypes[1]", "'Both'", "spec.policyTypes[1]",
              "Unsupported value: \"Both\": supported values: \"Ingress\", \"Egress\"");

    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.maxReplicas", "0", "spec.maxReplicas",
              "Invalid value: 0: must be greater than 0");
    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.minReplicas", "20", "spec.maxReplicas",
              "Invalid value: 10: must be greater than or equal to `minReplicas`");
    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.scaleTargetRef.name", "''",
              "spec.scaleTargetRef.name", "Required value");
    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.metrics[0].resource.target.averageUtilization",
              "0", "spec.metrics[0].resource.target.averageUtilization",
              "Invalid value: 0: must be greater than 0");
    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.metrics[0].type", "'Pods'",
              "spec.metrics[0].pods",
              "Required value: must populate information for the given metric source");
    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.metrics[0].pods",
              "{'metric':{'name':'m'},'target':{'type':'AverageValue','averageValue':'1'}}",
              "spec.metrics[0].pods", "Forbidden: must populate the given metric source only");
    VT_EXPECT("HorizontalPodAutoscaler", hpa, "spec.metrics[1].pods.target.type", "'Percent'",
              "spec.metrics[1].pods.target.type",
              "Invalid value: \"Percent\": must be either Utilization, Value, or AverageValue");

    json_decref(sa);
    json_decref(rc);
    json_decref(lr);
    json_decref(q);
    json_decref(role);
    json_decref(cr);
    json_decref(rb);
    json_decref(crb);
    json_decref(np);
    json_decref(hpa);
}
