/* test_default_tolerations.c — DefaultTolerationSeconds: a new pod tolerates
 * the not-ready and unreachable NoExecute taints for the configured time,
 * unless it already tolerates them (by key, or with an empty key). */
#include "apiserver/validate.h"
#include "tests/apiserver/vt.h"

static json_t *defaulted(const char *spec_json)
{
    json_t *pod = vt_json("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'}}");
    vt_setj(pod, "spec", spec_json);
    api_default_tolerations(pod, 30);
    return pod;
}

TEST(added_when_absent)
{
    json_t *p = defaulted("{'containers':[{'name':'c','image':'busybox'}]}");
    VT_INT(p, "spec.tolerations[0].tolerationSeconds", 30);
    VT_STR(p, "spec.tolerations[0].key", "node.kubernetes.io/not-ready");
    VT_STR(p, "spec.tolerations[0].operator", "Exists");
    VT_STR(p, "spec.tolerations[0].effect", "NoExecute");
    VT_STR(p, "spec.tolerations[1].key", "node.kubernetes.io/unreachable");
    VT_INT(p, "spec.tolerations[1].tolerationSeconds", 30);
    json_decref(p);
}

TEST(kept_when_present)
{
    json_t *p = defaulted("{'tolerations':[{'key':'node.kubernetes.io/unreachable','operator':'Exists',"
                          "'effect':'NoExecute','tolerationSeconds':600},{'key':'x','operator':'Exists'}]}");
    CHECK_INT(json_array_size(vt_get(p, "spec.tolerations")), ==, 3);
    VT_INT(p, "spec.tolerations[0].tolerationSeconds", 600);
    VT_STR(p, "spec.tolerations[2].key", "node.kubernetes.io/not-ready");
    json_decref(p);
    p = defaulted("{'tolerations':[{'operator':'Exists'}]}");
    CHECK_INT(json_array_size(vt_get(p, "spec.tolerations")), ==, 1);
    json_decref(p);
}
