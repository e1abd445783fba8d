/* test_validate_networking.c — Ingress and IngressClass: the docs'
 * manifests pass clean; each rule, worded as Kubernetes words it. */
#include "tests/apiserver/vt.h"

static const char *const ing_json = /* kubernetes.io docs: ingress-resource-backend, simple fanout */
    "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress','metadata':{'name':'fanout'},"
    "'spec':{'ingressClassName':'orc','tls':[{'hosts':['foo.bar.com','*.bar.com'],"
    "'secretName':'tls-secret'}],'defaultBackend':{'service':{'name':'def','port':{'number':80}}},"
    "'rules':[{'host':'foo.bar.com','http':{'paths':["
    "{'path':'/foo','pathType':'Prefix','backend':{'service':{'name':'service1','port':{'number':4200}}}},"
    "{'path':'/bar','pathType':'Exact','backend':{'service':{'name':'service2','port':{'name':'http'}}}},"
    "{'path':'/icons','pathType':'ImplementationSpecific','backend':{'resource':{'apiGroup':"
    "'k8s.example.com','kind':'StorageBucket','name':'icon-assets'}}}]}},"
    "{'host':'*.foo.com','http':{'paths':[{'path':'/','pathType':'Prefix','backend':{'service':"
    "{'name':'service3','port':{'number':80}}}}]}}]}}";

static const char *const class_json =
    "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass','metadata':{'name':'external-lb',"
    "'annotations':{'ingressclass.kubernetes.io/is-default-class':'true'}},"
    "'spec':{'controller':'example.com/ingress-controller','parameters':{'apiGroup':"
    "'k8s.example.com','kind':'IngressParameters','name':'external-lb'}}}";

TEST(ingress_docs_manifest_clean)
{
    struct vt v;
    vt_run(&v, "Ingress", vt_json(ing_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
    vt_run(&v, "IngressClass", vt_json(class_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(ingress_rules)
{
    json_t *b = vt_json(ing_json);
    const char *p0 = "spec.rules[0].http.paths[0]";
    char f[256];

    snprintf(f, sizeof f, "%s.pathType", p0);
    VT_EXPECT("ing", b, f, NULL, f, "Required value: pathType must be specified");
    VT_EXPECT("ing", b, f, "'Regex'", f, "Unsupported value: \"Regex\"");
    snprintf(f, sizeof f, "%s.path", p0);
    VT_EXPECT("ing", b, f, "'foo'", f, "Invalid value: \"foo\": must be an absolute path");
    VT_EXPECT("ing", b, f, "'/a//b'", f, "Invalid value: \"/a//b\": must not contain '//'");
    VT_EXPECT("ing", b, f, "'/a/..'", f, "Invalid value: \"/a/..\": cannot end with '/..'");
    snprintf(f, sizeof f, "%s.backend.service.port", p0);
    VT_EXPECT("ing", b, f, "{}", f, "Required value: port name or number is required");
    VT_EXPECT("ing", b, f, "{'name':'http','number':80}", f,
              "Invalid value: {\"name\":\"http\",\"number\":80}: cannot set both port name & port number");
    VT_EXPECT("ing", b, f, "{'number':70000}", "spec.rules[0].http.paths[0].backend.service.port.number",
              "Invalid value: 70000: must be between 1 and 65535, inclusive");
    snprintf(f, sizeof f, "%s.backend.service.name", p0);
    VT_EXPECT("ing", b, f, "'Bad_Name'", f, "Invalid value: \"Bad_Name\"");
    snprintf(f, sizeof f, "%s.backend", p0);
    VT_EXPECT("ing", b, f, "{}", f, "Invalid value: \"\": resource or service backend is required");
    VT_EXPECT("ing", b, f,
              "{'service':{'name':'a','port':{'number':1}},'resource':{'kind':'K','name':'n'}}",
              f, "Invalid value: \"\": cannot set both resource and service backends");
    VT_EXPECT("ing", b, "spec.rules[0].host", "'Foo.com'", "spec.rules[0].host",
              "Invalid value: \"Foo.com\"");
    VT_EXPECT("ing", b, "spec.rules[0].host", "'a.*.com'", "spec.rules[0].host",
              "Invalid value: \"a.*.com\": a wildcard DNS-1123 subdomain must start with '*.'");
    VT_EXPECT("ing", b, "spec.rules[0].host", "'10.0.0.1'", "spec.rules[0].host",
              "Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address");
    VT_EXPECT("ing", b, "spec.rules[0].http.paths", "[]", "spec.rules[0].http.paths",
              "Required value");
    VT_EXPECT("ing", b, "spec.tls[0].hosts[0]", "'x_y'", "spec.tls[0].hosts[0]", "Invalid value");
    VT_EXPECT("ing", b, "spec.tls[0].secretName", "'A'", "spec.tls[0].secretName", "Invalid value");
    VT_EXPECT("ing", b, "metadata.annotations", "{'kubernetes.io/ingress.class':'nginx'}",
              "metadata.annotations[kubernetes.io/ingress.class]",
              "Invalid value: \"nginx\": must match `ingressClassName` when both are specified");
    json_t *nodef = json_deep_copy(b);
    vt_setj(nodef, "spec.defaultBackend", NULL);
    VT_EXPECT("ing", nodef, "spec.rules", "[]", "spec",
              "Invalid value");
    json_decref(nodef);
    json_decref(b);
}

TEST(ingressclass_rules)
{
    json_t *b = vt_json(class_json);
    VT_EXPECT("ingressclass", b, "spec.controller", NULL, "spec.controller", "Required value");
    VT_EXPECT("ingressclass", b, "spec.controller", "'nodomain'", "spec.controller",
              "Invalid value: \"nodomain\": must be a domain-prefixed path");
    VT_EXPECT("ingressclass", b, "spec.parameters.scope", "'Namespace'",
              "spec.parameters.namespace", "Required value");
    VT_EXPECT("ingressclass", b, "spec.parameters.scope", "'Everywhere'", "spec.parameters.scope",
              "Unsupported value");
    VT_UPDATE("ingressclass", b, "spec.controller", "'other.io/x'", "spec.controller",
              "Invalid value");
    json_decref(b);
}
