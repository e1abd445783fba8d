/* rbac_policy.c — the default ClusterRoles and ClusterRoleBindings, after
 * Kubernetes' bootstrap policy (plugin/pkg/auth/authorizer/rbac/
 * bootstrappolicy) cut to the kinds orc serves, plus the roles of orc's own
 * parts. Text, parsed by rbac_bootstrap.c; each object gets the label
 * kubernetes.io/bootstrapping=rbac-defaults and the autoupdate annotation
 * there. */
#include "apiserver/rbac.h"

#define RW "\"get\",\"list\",\"watch\",\"create\",\"update\",\"patch\",\"delete\",\"deletecollection\""
#define RO "\"get\",\"list\",\"watch\""
#define WR "\"create\",\"delete\",\"deletecollection\",\"patch\",\"update\""
#define CR(name, labels, rules) "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels "}},\"rules\":[" rules "]}"
#define AGG(name, labels, sel)                                                                     \
    "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels            \
    "}},\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":{\"" sel                   \
    "\":\"true\"}}]},\"rules\":[]}"
#define CRB(name, role, subjects)                                                                  \
    "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"" name "\"},\"roleRef\":{\"apiGroup\":" \
    "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"" role "\"},\"subjects\":[" subjects "]}"
#define GROUP(g) "{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"" g "\"}"
#define USER(u) "{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"User\",\"name\":\"" u "\"}"
#define RULE(groups, resources, verbs) "{\"apiGroups\":[" groups "],\"resources\":[" resources "],\"verbs\":[" verbs "]}"
#define URLS(urls, verbs) "{\"nonResourceURLs\":[" urls "],\"verbs\":[" verbs "]}"
#define AGG_LABEL(x) "\"rbac.authorization.k8s.io/aggregate-to-" x "\":\"true\""

const char rbac_default_policy[] = "["
    CR("cluster-admin", "", RULE("\"*\"", "\"*\"", "\"*\"") "," URLS("\"*\"", "\"*\"")) ","
    CRB("cluster-admin", "cluster-admin", GROUP("system:masters")) ","

    AGG("admin", "", "rbac.authorization.k8s.io/aggregate-to-admin") ","
    AGG("edit", AGG_LABEL("admin"), "rbac.authorization.k8s.io/aggregate-to-edit") ","
    AGG("view", AGG_LABEL("edit"), "rbac.authorization.k8s.io/aggregate-to-view") ","

    CR("system:aggregate-to-admin", AGG_LABEL("admin"),
       RULE("\"authorization.k8s.io\"", "\"localsubjectaccessreviews\"", "\"create\"") ","
       RULE("\"rbac.authorization.k8s.io\"", "\"rolebindings\",\"roles\"", RW)) ","

    CR("system:aggregate-to-edit", AGG_LABEL("edit"),
       RULE("\"\"", "\"pods/attach\",\"pods/exec\",\"pods/portforward\",\"pods/proxy\",\"secrets\",\"services/proxy\"", RO) ","
       RULE("\"\"", "\"serviceaccounts\"", "\"impersonate\"") ","
       RULE("\"\"", "\"pods\",\"pods/attach\",\"pods/exec\",\"pods/portforward\",\"pods/proxy\"", WR) ","
       RULE("\"\"", "\"pods/eviction\"", "\"create\"") ","
       RULE("\"\"", "\"configmaps\",\"persistentvolumeclaims\",\"replicationcontrollers\",\"replicationcontrollers/scale\","
                    "\"secrets\",\"serviceaccounts\",\"services\",\"services/proxy\"", WR) ","
       RULE("\"\"", "\"serviceaccounts/token\"", "\"create\"") ","
       RULE("\"apps\"", "\"daemonsets\",\"deployments\",\"deployments/rollback\",\"deployments/scale\",\"replicasets\","
                        "\"replicasets/scale\",\"statefulsets\",\"statefulsets/scale\"", WR) ","
       RULE("\"autoscaling\"", "\"horizontalpodautoscalers\"", WR) ","
       RULE("\"batch\"", "\"cronjobs\",\"jobs\"", WR) ","
       RULE("\"networking.k8s.io\"", "\"ingresses\",\"networkpolicies\"", WR) ","
       RULE("\"policy\"", "\"poddisruptionbudgets\"", WR)) ","

    CR("system:aggregate-to-view", AGG_LABEL("view"),
       RULE("\"\"", "\"configmaps\",\"endpoints\",\"persistentvolumeclaims\",\"persistentvolumeclaims/status\",\"pods\","
                    "\"replicationcontrollers\",\"replicationcontrollers/scale\",\"serviceaccounts\",\"services\","
                    "\"services/status\"", RO) ","
       RULE("\"\"", "\"bindings\",\"events\",\"limitranges\",\"namespaces/status\",\"pods/log\",\"pods/status\","
                    "\"replicationcontrollers/status\",\"resourcequotas\",\"resourcequotas/status\"", RO) ","
       RULE("\"\"", "\"namespaces\"", RO) ","
       RULE("\"discovery.k8s.io\"", "\"endpointslices\"", RO) ","
       /* the same Events as the core group's (Kubernetes 1.35, PR 133740) */
       RULE("\"events.k8s.io\"", "\"events\"", RO) ","
       RULE("\"apps\"", "\"controllerrevisions\",\"daemonsets\",\"daemonsets/status\",\"deployments\",\"deployments/scale\","
                        "\"deployments/status\",\"replicasets\",\"replicasets/scale\",\"replicasets/status\","
                        "\"statefulsets\",\"statefulsets/scale\",\"statefulsets/status\"", RO) ","
       RULE("\"autoscaling\"", "\"horizontalpodautoscalers\",\"horizontalpodautoscalers/status\"", RO) ","
       RULE("\"batch\"", "\"cronjobs\",\"cronjobs/status\",\"jobs\",\"jobs/status\"", RO) ","
       RULE("\"policy\"", "\"poddisruptionbudgets\",\"poddisruptionbudgets/status\"", RO) ","
       RULE("\"networking.k8s.io\"", "\"ingresses\",\"ingresses/status\",\"networkpolicies\"", RO)) ","

    /* metrics-server's role: view, edit and admin read metrics.k8s.io
     * (metrics_api.c). */
    CR("system:aggregated-metrics-reader", AGG_LABEL("view") "," AGG_LABEL("edit") "," AGG_LABEL("admin"),
       RULE("\"metrics.k8s.io\"", "\"pods\",\"nodes\"", RO)) ","

    CR("system:basic-user", "",
       RULE("\"authorization.k8s.io\"", "\"selfsubjectaccessreviews\",\"selfsubjectrulesreviews\"", "\"create\"") ","
       RULE("\"authentication.k8s.io\"", "\"selfsubjectreviews\"", "\"create\"")) ","
    CRB("system:basic-user", "system:basic-user", GROUP("system:authenticated")) ","

    CR("system:discovery", "",
       URLS("\"/api\",\"/api/*\",\"/apis\",\"/apis/*\",\"/healthz\",\"/livez\",\"/openapi\",\"/openapi/*\","
            "\"/readyz\",\"/version\",\"/version/\"", "\"get\"")) ","
    CRB("system:discovery", "system:discovery", GROUP("system:authenticated")) ","

    CR("system:public-info-viewer", "",
       URLS("\"/healthz\",\"/livez\",\"/readyz\",\"/version\",\"/version/\"", "\"get\"")) ","
    CRB("system:public-info-viewer", "system:public-info-viewer",
        GROUP("system:authenticated") "," GROUP("system:unauthenticated")) ","

    /* Kubernetes' monitoring role: metrics and health, for a read-only
     * scraper (a user or ServiceAccount put in the group, or bound). */
    CR("system:monitoring", "",
       URLS("\"/metrics\",\"/metrics/slis\",\"/livez\",\"/readyz\",\"/healthz\",\"/livez/*\",\"/readyz/*\","
            "\"/healthz/*\"", "\"get\"")) ","
    CRB("system:monitoring", "system:monitoring", GROUP("system:monitoring")) ","

    /* ServiceAccount issuer discovery: the issuer's keys, for whoever
     * checks a ServiceAccount token (sa_token.c serves them). */
    CR("system:service-account-issuer-discovery", "",
       URLS("\"/.well-known/openid-configuration\",\"/openid/v1/jwks\"", "\"get\"")) ","
    CRB("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
        GROUP("system:serviceaccounts")) ","

    /* A bootstrap token (an agent token among them) has its node's
     * certificate issued, and nothing else; a node renews its own. */
    CR("system:node-bootstrapper", "",
       URLS("\"/internal/v1/agents\"", "\"post\"")) ","
    CRB("system:node-bootstrapper", "system:node-bootstrapper",
        GROUP("system:bootstrappers") "," GROUP("system:nodes")) ","

    /* The node agent (group system:nodes once nodes have their own
     * identities; today agents hold the cluster token, system:masters):
     * what agent/ reads and writes, narrowed by the Node authorizer and
     * NodeRestriction (authz_node.c). */
    CR("system:node", "",
       RULE("\"\"", "\"nodes\"", "\"get\",\"list\",\"watch\",\"create\",\"update\",\"patch\",\"delete\"") ","
       RULE("\"\"", "\"nodes/status\"", "\"patch\",\"update\"") ","
       RULE("\"\"", "\"pods\"", "\"get\",\"list\",\"watch\",\"create\",\"delete\"") ","
       RULE("\"\"", "\"pods/status\"", "\"get\",\"patch\",\"update\"") ","
       RULE("\"\"", "\"pods/eviction\"", "\"create\"") ","
       RULE("\"\"", "\"services\",\"endpoints\"", RO) ","
       /* Secrets, ConfigMaps, claims and tokens are the Node authorizer's
        * alone (authz_node.c): get, list and watch of one by name that the
        * node's pods (or an Ingress's TLS) use; nothing cluster-wide */
       RULE("\"\"", "\"persistentvolumes\"", "\"get\",\"list\",\"watch\",\"create\",\"update\",\"patch\",\"delete\"") ","
       RULE("\"\",\"events.k8s.io\"", "\"events\"", "\"create\",\"patch\",\"update\"") ","
       RULE("\"coordination.k8s.io\"", "\"leases\"", "\"get\",\"create\",\"update\",\"patch\",\"delete\"") ","
       RULE("\"discovery.k8s.io\"", "\"endpointslices\"", RO) ","
       RULE("\"networking.k8s.io\"", "\"ingresses\",\"ingressclasses\"", RO) ","
       /* NetworkPolicy enforcement (agent/netpol.c) reads every policy
        * and namespace; pods it lists with the rule above */
       RULE("\"networking.k8s.io\"", "\"networkpolicies\"", RO) ","
       RULE("\"\"", "\"namespaces\"", RO) ","
       RULE("\"storage.k8s.io\"", "\"storageclasses\"", RO) ","
       RULE("\"certificates.k8s.io\"", "\"certificatesigningrequests\"", "\"create\",\"get\",\"list\",\"watch\"")) ","
    CRB("system:node", "system:node", GROUP("system:nodes")) ","
    /* a node's renewal of its own client certificate is approved by the
     * csrapproving controller when its requestor may create this */
    CR("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "",
       RULE("\"certificates.k8s.io\"", "\"certificatesigningrequests/selfnodeclient\"", "\"create\"")) ","
    CRB("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", GROUP("system:nodes")) ","

    CR("system:kube-scheduler", "",
       RULE("\"\"", "\"pods\",\"nodes\",\"namespaces\",\"persistentvolumeclaims\",\"persistentvolumes\",\"services\","
                    "\"replicationcontrollers\"", RO) ","
       RULE("\"\"", "\"pods/binding\",\"bindings\"", "\"create\"") ","
       RULE("\"\"", "\"pods/status\"", "\"patch\",\"update\"") ","
       RULE("\"\"", "\"pods\"", "\"delete\"") ","
       RULE("\"\"", "\"events\"", "\"create\",\"patch\",\"update\"") ","
       RULE("\"events.k8s.io\"", "\"events\"", "\"create\",\"patch\",\"update\"") ","
       RULE("\"apps\"", "\"replicasets\",\"statefulsets\"", RO) ","
       RULE("\"policy\"", "\"poddisruptionbudgets\"", RO) ","
       RULE("\"scheduling.k8s.io\"", "\"priorityclasses\"", RO) ","
       RULE("\"storage.k8s.io\"", "\"storageclasses\"", RO) ","
       RULE("\"coordination.k8s.io\"", "\"leases\"", "\"create\",\"get\",\"update\"")) ","
    CRB("system:kube-scheduler", "system:kube-scheduler", USER("system:kube-scheduler")) ","

    /* orc's controllers run as one manager on the leader, with every
     * workload, garbage-collection and namespace controller in it: they
     * read and write every kind, but neither escalate, bind nor
     * impersonate. */
    CR("system:kube-controller-manager", "", RULE("\"*\"", "\"*\"", RW)) ","
    CRB("system:kube-controller-manager", "system:kube-controller-manager",
        USER("system:kube-controller-manager"))
    "]";
