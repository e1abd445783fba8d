/* schema_networking.c — field tables for networking.k8s.io/v1 Ingress and
 * IngressClass. */
#include "apiserver/schema.h"

/* ---- Ingress ---- */

API_STRUCT(svcbackendport, "ServiceBackendPort", F_STR("name"), F_INT32("number"));
API_STRUCT(svcbackend, "IngressServiceBackend",
    F_STR_R("name"), F_OBJ("port", svcbackendport));
API_STRUCT(typedlocalref, "TypedLocalObjectReference",
    F_STR("apiGroup"), F_STR_R("kind"), F_STR_R("name"));
API_STRUCT(ingbackend, "IngressBackend",
    F_OBJ("service", svcbackend), F_OBJ("resource", typedlocalref));
API_STRUCT(httppath, "HTTPIngressPath",
    F_STR("path"), F_STR("pathType"), F_OBJ_R("backend", ingbackend));
API_STRUCT(httprule, "HTTPIngressRuleValue", F_AOBJ("paths", httppath));
API_STRUCT(ingrule, "IngressRule", F_STR("host"), F_OBJ("http", httprule));
API_STRUCT(ingtls, "IngressTLS", F_ASTR("hosts"), F_STR("secretName"));
API_STRUCT(ingspec, "IngressSpec",
    F_STR("ingressClassName"), F_OBJ("defaultBackend", ingbackend), F_AOBJ("tls", ingtls),
    F_AOBJ("rules", ingrule));

API_STRUCT(portstatus, "PortStatus", F_INT32("port"), F_STR("protocol"), F_STR("error"));
API_STRUCT(lbingress, "IngressLoadBalancerIngress",
    F_STR("ip"), F_STR("hostname"), F_AOBJ("ports", portstatus));
API_STRUCT(lbstatus, "IngressLoadBalancerStatus", F_AOBJ("ingress", lbingress));
API_STRUCT(ingstatus, "IngressStatus", F_OBJ("loadBalancer", lbstatus));

API_STRUCT_SHARED(api_s_ingress, "Ingress",
    F_TYPEMETA, F_OBJ("spec", ingspec), F_OBJ("status", ingstatus));

/* ---- IngressClass ---- */

API_STRUCT(classparams, "IngressClassParametersReference",
    F_STR("apiGroup"), F_STR_R("kind"), F_STR_R("name"), F_STR("scope"), F_STR("namespace"));
API_STRUCT(classspec, "IngressClassSpec",
    F_STR("controller"), F_OBJ("parameters", classparams));

API_STRUCT_SHARED(api_s_ingressclass, "IngressClass", F_TYPEMETA, F_OBJ("spec", classspec));

/* ---- NetworkPolicy ---- */

API_STRUCT(ipblock, "IPBlock", F_STR("cidr"), F_ASTR("except"));
API_STRUCT(nppeer, "NetworkPolicyPeer",
    F_OBJ("podSelector", api_s_labelselector), F_OBJ("namespaceSelector", api_s_labelselector),
    F_OBJ("ipBlock", ipblock));
API_STRUCT(npport, "NetworkPolicyPort", F_STR("protocol"), F_INTSTR("port"), F_INT32("endPort"));
API_STRUCT(npingress, "NetworkPolicyIngressRule", F_AOBJ("ports", npport), F_AOBJ("from", nppeer));
API_STRUCT(npegress, "NetworkPolicyEgressRule", F_AOBJ("ports", npport), F_AOBJ("to", nppeer));
API_STRUCT(npspec, "NetworkPolicySpec",
    F_OBJ("podSelector", api_s_labelselector), F_AOBJ("ingress", npingress),
    F_AOBJ("egress", npegress), F_ASTR("policyTypes"));

API_STRUCT_SHARED(api_s_networkpolicy, "NetworkPolicy", F_TYPEMETA, F_OBJ("spec", npspec));
