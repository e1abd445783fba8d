/* test_validate_kinds.c — the same three promises checked for every kind:
 * a minimal valid manifest is accepted without warnings, a misspelled field
 * is pruned with an "unknown field" warning, and a field orc does not
 * implement yet is kept with a warning. */
#include "lib/orc.h"
#include "tests/apiserver/vt.h"

#define TMPL \
    "'template':{'metadata':{'labels':{'app':'a'}},'spec':{'containers':[{'name':'c','image':'i'}]}}"
/* openssl req -new -subj /CN=alice/O=devs (P-256), base64 */
#define CSR_ALICE \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIYU1JR0JBZ0VBTUI4eERqQU1CZ05W" \
    "QkFNTUJXRnNhV05sTVEwd0N3WURWUVFLREFSa1pYWnpNRmt3RXdZSApLb1pJemowQ0FRWUlLb1pJemow" \
    "REFRY0RRZ0FFUHRzOTJTc1NkeUFHaXpsOTNydXJYdUJVbE1PUWxnakwrUkk1CjJDYnMyT3FpclZ1TjJJ" \
    "dVlyTFVBWXlxWW1la3hVNFBabTdLZjlHbXNkblhNS2IwU0NLQUFNQW9HQ0NxR1NNNDkKQkFNQ0EwZ0FN" \
    "RVVDSUY5R0pSS3JQRlFFbEcxZzhDMGg4UWVjcXB2SkptM1kzTWZMOWNDRGc1NlRBaUVBcGxxZwpPeVNP" \
    "VTcrdmEvOGx1UVVrWGRkMjlVVFNhSzhldFJRQmJOUkJOMWc9Ci0tLS0tRU5EIENFUlRJRklDQVRFIFJF" \
    "UVVFU1QtLS0tLQo="
#define SEL "'selector':{'matchLabels':{'app':'a'}}"

static const struct {
    const char *kind;
    const char *json;
    const char *typo;     /* path of a misspelled field to add */
    const char *notimpl;  /* path of a not-implemented field, or NULL */
    const char *value;    /* its value */
} cases[] = {
    {"Namespace", "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'dev'}}",
     "spec.finalizer", NULL, NULL},
    {"Node", "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1'},'spec':{}}",
     "spec.unschedulabel", "spec.externalID", "'n1'"},
    {"Pod", "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'},'spec':{'containers':"
            "[{'name':'c','image':'i'}]}}",
     "spec.nodeSelecter", "spec.runtimeClassName", "'gvisor'"},
    {"ConfigMap", "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c'},'data':{'k':'v'}}",
     "datas", NULL, NULL},
    {"Secret", "{'apiVersion':'v1','kind':'Secret','metadata':{'name':'s'},'data':{'k':'dg=='}}",
     "strngData", NULL, NULL},
    {"Service", "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s'},'spec':{'ports':"
                "[{'port':80}]}}",
     "spec.selectr", "spec.loadBalancerIP", "'10.0.0.9'"},
    {"Event", "{'apiVersion':'v1','kind':'Event','metadata':{'name':'e','namespace':'d'},"
              "'involvedObject':{'kind':'Pod','name':'p','namespace':'d'},'reason':'Started'}",
     "reasn", NULL, NULL},
    {"Lease", "{'apiVersion':'coordination.k8s.io/v1','kind':'Lease','metadata':{'name':'l'},"
              "'spec':{'holderIdentity':'me','leaseDurationSeconds':15}}",
     "spec.holder", "spec.strategy", "'OldestEmulationVersion'"},
    {"Deployment", "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d'},"
                   "'spec':{" SEL "," TMPL "}}",
     "spec.strategy.rollingupdate", "spec.template.spec.readinessGates",
     "[{'conditionType':'example.com/ready'}]"},
    {"ReplicaSet", "{'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'r'},"
                   "'spec':{" SEL "," TMPL "}}",
     "spec.minReadySecond", "spec.template.spec.containers[0].resizePolicy",
     "[{'resourceName':'cpu','restartPolicy':'NotRequired'}]"},
    {"StatefulSet", "{'apiVersion':'apps/v1','kind':'StatefulSet','metadata':{'name':'s'},"
                    "'spec':{'serviceName':'s'," SEL "," TMPL "}}",
     "spec.servicename", "spec.ordinals", "{'start':1}"},
    {"DaemonSet", "{'apiVersion':'apps/v1','kind':'DaemonSet','metadata':{'name':'d'},"
                  "'spec':{" SEL "," TMPL "}}",
     "spec.updatestrategy", "spec.template.spec.hostIPC", "true"},
    {"Job", "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'j'},'spec':{"
            "'template':{'spec':{'restartPolicy':'Never','containers':[{'name':'c','image':'i'}]}}}}",
     "spec.completion", "spec.backoffLimitPerIndex", "1"},
    {"CronJob", "{'apiVersion':'batch/v1','kind':'CronJob','metadata':{'name':'c'},'spec':{"
                "'schedule':'@daily','jobTemplate':{'spec':{'template':{'spec':{"
                "'restartPolicy':'OnFailure','containers':[{'name':'c','image':'i'}]}}}}}}",
     "spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicyy",
     "spec.jobTemplate.spec.successPolicy", "{'rules':[{'succeededCount':1}]}"},
    {"PriorityClass", "{'apiVersion':'scheduling.k8s.io/v1','kind':'PriorityClass',"
                      "'metadata':{'name':'high'},'value':1000,'description':'d'}",
     "globaldefault", NULL, NULL},
    {"ControllerRevision", "{'apiVersion':'apps/v1','kind':'ControllerRevision',"
                           "'metadata':{'name':'web-5d4f'},'data':{'spec':{}},'revision':1}",
     "revison", NULL, NULL},
    {"PersistentVolume", "{'apiVersion':'v1','kind':'PersistentVolume','metadata':{'name':'pv1'},"
                         "'spec':{'capacity':{'storage':'1Gi'},'accessModes':['ReadWriteOnce'],"
                         "'hostPath':{'path':'/data/pv1'}}}",
     "spec.capacty", NULL, NULL},
    {"PersistentVolumeClaim", "{'apiVersion':'v1','kind':'PersistentVolumeClaim',"
                              "'metadata':{'name':'data'},'spec':{'accessModes':['ReadWriteOnce'],"
                              "'resources':{'requests':{'storage':'1Gi'}}}}",
     "spec.accesModes", NULL, NULL},
    {"StorageClass", "{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass',"
                     "'metadata':{'name':'local'},'provisioner':'orc.io/hostpath'}",
     "provisoner", NULL, NULL},
    {"PodDisruptionBudget", "{'apiVersion':'policy/v1','kind':'PodDisruptionBudget',"
                            "'metadata':{'name':'web'},'spec':{'minAvailable':1," SEL "}}",
     "spec.minavailable", NULL, NULL},
    {"Endpoints", "{'apiVersion':'v1','kind':'Endpoints','metadata':{'name':'web'},'subsets':"
                  "[{'addresses':[{'ip':'10.42.0.5'}],'ports':[{'port':8080}]}]}",
     "subset", NULL, NULL},
    {"EndpointSlice", "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice','metadata':"
                      "{'name':'web-x'},'addressType':'IPv4','endpoints':[{'addresses':"
                      "['10.42.0.5']}],'ports':[{'name':'','port':8080,'protocol':'TCP'}]}",
     "adressType", NULL, NULL},
    {"Ingress", "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress','metadata':{'name':'web'},"
                "'spec':{'defaultBackend':{'service':{'name':'web','port':{'number':80}}}}}",
     "spec.rulez", NULL, NULL},
    {"IngressClass", "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass','metadata':"
                     "{'name':'orc'},'spec':{'controller':'orc.dev/ingress'}}",
     "spec.controler", NULL, NULL},
    {"ServiceAccount", "{'apiVersion':'v1','kind':'ServiceAccount','metadata':{'name':'app'},"
                       "'imagePullSecrets':[{'name':'reg'}],'automountServiceAccountToken':false}",
     "imagePullSecret", NULL, NULL},
    {"ReplicationController", "{'apiVersion':'v1','kind':'ReplicationController','metadata':"
                              "{'name':'nginx'},'spec':{'replicas':3," TMPL "}}",
     "spec.replica", "spec.template.spec.hostIPC", "true"},
    {"LimitRange", "{'apiVersion':'v1','kind':'LimitRange','metadata':{'name':'l'},'spec':"
                   "{'limits':[{'type':'Container','default':{'cpu':'500m'},'defaultRequest':"
                   "{'cpu':'100m'},'max':{'cpu':'2'}}]}}",
     "spec.limits[0].defaults", NULL, NULL},
    {"ResourceQuota", "{'apiVersion':'v1','kind':'ResourceQuota','metadata':{'name':'q'},'spec':"
                      "{'hard':{'pods':'10','requests.cpu':'4'},'scopes':['NotBestEffort']}}",
     "spec.hrad", NULL, NULL},
    {"Role", "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'Role','metadata':{'name':'r'},"
             "'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get']}]}",
     "rules[0].verb", NULL, NULL},
    {"ClusterRole", "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':"
                    "{'name':'system:r'},'rules':[{'nonResourceURLs':['/metrics'],'verbs':['get']}]}",
     "aggregationrule", NULL, NULL},
    {"RoleBinding", "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'RoleBinding','metadata':"
                    "{'name':'b'},'subjects':[{'kind':'ServiceAccount','name':'app'}],'roleRef':"
                    "{'kind':'Role','name':'r'}}",
     "roleref", NULL, NULL},
    {"ClusterRoleBinding", "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':"
                           "'ClusterRoleBinding','metadata':{'name':'b'},'subjects':[{'kind':"
                           "'User','name':'dave'}],'roleRef':{'apiGroup':"
                           "'rbac.authorization.k8s.io','kind':'ClusterRole','name':'r'}}",
     "subject", NULL, NULL},
    {"NetworkPolicy", "{'apiVersion':'networking.k8s.io/v1','kind':'NetworkPolicy','metadata':"
                      "{'name':'deny'},'spec':{'podSelector':{},'ingress':[{'from':[{'podSelector':"
                      "{'matchLabels':{'app':'a'}}}],'ports':[{'port':80}]}]}}",
     "spec.policyType", NULL, NULL},
    {"HorizontalPodAutoscaler", "{'apiVersion':'autoscaling/v2','kind':'HorizontalPodAutoscaler',"
                                "'metadata':{'name':'web'},'spec':{'scaleTargetRef':{'apiVersion':"
                                "'apps/v1','kind':'Deployment','name':'web'},'maxReplicas':5}}",
     "spec.maxReplica", NULL, NULL},
    {"CertificateSigningRequest",
     "{'apiVersion':'certificates.k8s.io/v1','kind':'CertificateSigningRequest','metadata':"
     "{'name':'alice'},'spec':{'signerName':'kubernetes.io/kube-apiserver-client','usages':"
     "['client auth'],'request':'" CSR_ALICE "'}}",
     "spec.signer", NULL, NULL},
};

static json_t *manifest(size_t i)
{
    return vt_json(cases[i].json);
}

TEST(kinds_every_kind_is_covered)
{
    size_t n;
    const struct orc_kind *all = orc_kinds(&n);
    size_t stored = 0;
    for (size_t i = 0; i < n; i++) stored += !orc_kind_served_only(&all[i]);
    CHECK_INT(stored, ==, ORC_ARRAY_LEN(cases));
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < ORC_ARRAY_LEN(cases); j++)
            found |= !strcmp(cases[j].kind, all[i].kind);
        CHECKF(found, "no case for %s", all[i].kind);
    }
}

TEST(kinds_minimal_manifests_are_clean)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        struct vt v;
        vt_run(&v, cases[i].kind, manifest(i), NULL);
        if (json_array_size(v.d.causes) || json_array_size(v.d.warnings)) vt_dump(&v);
        CHECKF(!json_array_size(v.d.causes) && !json_array_size(v.d.warnings), "%s",
               cases[i].kind);
        vt_free(&v);
    }
}

TEST(kinds_typos_are_pruned_with_a_warning)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        struct vt v;
        char want[512];
        json_t *o = manifest(i);
        vt_setj(o, cases[i].typo, "1");
        vt_run(&v, cases[i].kind, o, NULL);
        snprintf(want, sizeof want, "unknown field \"%s\"", cases[i].typo);
        VT_WARNING(&v, want);
        CHECKF(vt_get(v.obj, cases[i].typo) == NULL, "%s still has %s", cases[i].kind,
               cases[i].typo);
        CHECKF(json_array_size(v.d.causes) == 0, "%s", cases[i].kind);
        vt_free(&v);
    }
}

TEST(kinds_not_implemented_fields_are_kept_with_a_warning)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        struct vt v;
        char want[512];
        if (!cases[i].notimpl) continue;
        json_t *o = manifest(i);
        vt_setj(o, cases[i].notimpl, cases[i].value);
        vt_run(&v, cases[i].kind, o, NULL);
        snprintf(want, sizeof want, "%s: not implemented by orc yet; stored but has no effect",
                 cases[i].notimpl);
        VT_WARNING(&v, want);
        CHECKF(vt_get(v.obj, cases[i].notimpl) != NULL, "%s lost %s", cases[i].kind,
               cases[i].notimpl);
        if (json_array_size(v.d.causes)) vt_dump(&v);
        CHECKF(json_array_size(v.d.causes) == 0, "%s", cases[i].kind);
        vt_free(&v);
    }
}
