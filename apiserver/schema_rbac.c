/* schema_rbac.c — field tables for rbac.authorization.k8s.io/v1 Role,
 * ClusterRole, RoleBinding and ClusterRoleBinding. */
#include "apiserver/schema.h"

API_STRUCT(policyrule, "PolicyRule",
    F_ASTR("verbs"), F_ASTR("apiGroups"), F_ASTR("resources"), F_ASTR("resourceNames"),
    F_ASTR("nonResourceURLs"));
API_STRUCT(aggregation, "AggregationRule", F_AOBJ("clusterRoleSelectors", api_s_labelselector));

API_STRUCT_SHARED(api_s_role, "Role", F_TYPEMETA, F_AOBJ("rules", policyrule));
API_STRUCT_SHARED(api_s_clusterrole, "ClusterRole",
    F_TYPEMETA, F_AOBJ("rules", policyrule), F_OBJ("aggregationRule", aggregation));

API_STRUCT(subject, "Subject",
    F_STR_R("kind"), F_STR("apiGroup"), F_STR("name"), F_STR("namespace"));
API_STRUCT(roleref, "RoleRef", F_STR("apiGroup"), F_STR_R("kind"), F_STR("name"));

API_STRUCT_SHARED(api_s_rolebinding, "RoleBinding",
    F_TYPEMETA, F_AOBJ("subjects", subject), F_OBJ_R("roleRef", roleref));
API_STRUCT_SHARED(api_s_clusterrolebinding, "ClusterRoleBinding",
    F_TYPEMETA, F_AOBJ("subjects", subject), F_OBJ_R("roleRef", roleref));
