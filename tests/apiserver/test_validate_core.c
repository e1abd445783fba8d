/* test_validate_core.c — Service, ConfigMap, Secret, Namespace, Node, Event
 * and Lease: realistic manifests pass clean with their defaults; each rule;
 * update rules (clusterIP, immutable data, Secret type). */
#include "tests/apiserver/vt.h"

static const char *const svc_json = /* kubernetes.io docs: my-service */
    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'my-service'},"
    "'spec':{'selector':{'app.kubernetes.io/name':'MyApp'},"
    " 'ports':[{'protocol':'TCP','port':80,'targetPort':9376}]}}";

static const char *const cm_json = /* kubernetes.io docs: game-demo */
    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'game-demo'},"
    "'data':{'player_initial_lives':'3','ui_properties_file_name':'user-interface.properties',"
    " 'game.properties':'enemy.types=aliens,monsters\\nplayer.maximum-lives=5\\n',"
    " 'user-interface.properties':'color.good=purple\\ncolor.bad=yellow\\nallow.textmode=true\\n'}}";

static const char *const secret_json =
    "{'apiVersion':'v1','kind':'Secret','metadata':{'name':'db-user-pass'},"
    "'data':{'username':'YWRtaW4=','password':'MWYyZDFlMmU2N2Rm'}}";

static const char *const ns_json =
    "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'development',"
    " 'labels':{'name':'development'}}}";

static const char *const node_json =
    "{'apiVersion':'v1','kind':'Node','metadata':{'name':'node-1.example.com',"
    " 'labels':{'kubernetes.io/hostname':'node-1','kubernetes.io/os':'linux'}},"
    "'spec':{'podCIDR':'10.244.1.0/24','podCIDRs':['10.244.1.0/24','fd00:10:244:1::/64'],"
    " 'providerID':'orc://node-1','taints':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]},"
    "'status':{'capacity':{'cpu':'4','memory':'8Gi'},'conditions':[{'type':'Ready','status':'True'}]}}";

static const char *const event_json =
    "{'apiVersion':'v1','kind':'Event','metadata':{'name':'web-7d4b9.17a8b2c3d4e5f6a7',"
    " 'namespace':'default'},"
    "'involvedObject':{'kind':'Pod','namespace':'default','name':'web-7d4b9','uid':'u1',"
    " 'apiVersion':'v1','fieldPath':'spec.containers{nginx}'},"
    "'reason':'Pulled','message':'Successfully pulled image \\\"nginx:1.25\\\"',"
    "'source':{'component':'kubelet','host':'node-1'},"
    "'firstTimestamp':'2024-03-10T12:30:00Z','lastTimestamp':'2024-03-10T12:31:00Z',"
    "'count':2,'type':'Normal','eventTime':null,'reportingComponent':'kubelet',"
    "'reportingInstance':'node-1'}";

static const char *const lease_json =
    "{'apiVersion':'coordination.k8s.io/v1','kind':'Lease','metadata':{'name':'node-1',"
    " 'namespace':'kube-node-lease'},"
    "'spec':{'holderIdentity':'node-1','leaseDurationSeconds':40,"
    " 'acquireTime':'2024-03-10T12:00:00.000000Z','renewTime':'2024-03-10T12:30:10.123456Z',"
    " 'leaseTransitions':0}}";

/* ---- Service ---- */

TEST(service_docs_manifest_clean_and_defaulted)
{
    struct vt v;
    vt_run(&v, "Service", vt_json(svc_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.type", "ClusterIP");
    VT_STR(v.obj, "spec.sessionAffinity", "None");
    VT_STR(v.obj, "spec.internalTrafficPolicy", "Cluster");
    VT_INT(v.obj, "spec.ports[0].targetPort", 9376);
    vt_free(&v);

    json_t *o = vt_json(svc_json);
    vt_setj(o, "spec.ports", "[{'name':'http','port':80},{'name':'https','port':443,"
                             "'targetPort':'https'}]");
    vt_setj(o, "spec.type", "'NodePort'");
    vt_run(&v, "Service", o, NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.ports[0].protocol", "TCP");
    VT_INT(v.obj, "spec.ports[0].targetPort", 80);
    VT_STR(v.obj, "spec.ports[1].targetPort", "https");
    VT_STR(v.obj, "spec.externalTrafficPolicy", "Cluster");
    vt_free(&v);
}

TEST(service_headless_and_external_name)
{
    struct vt v;
    json_t *o = vt_json(svc_json);
    vt_setj(o, "spec.clusterIP", "'None'");
    vt_setj(o, "spec.ports", NULL);
    vt_run(&v, "Service", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);

    o = vt_json("{'apiVersion':'v1','kind':'Service','metadata':{'name':'my-db'},"
                "'spec':{'type':'ExternalName','externalName':'db.prod.example.com'}}");
    vt_run(&v, "Service", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(service_typo_and_not_implemented)
{
    struct vt v;
    json_t *o = vt_json(svc_json);
    vt_setj(o, "spec.ports[0].targetport", "8080");
    vt_setj(o, "spec.type", "'LoadBalancer'");
    vt_setj(o, "spec.loadBalancerSourceRanges", "['203.0.113.0/24']");
    vt_run(&v, "Service", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    VT_WARNING(&v, "unknown field \"spec.ports[0].targetport\"");
    /* LoadBalancer itself is served (node addresses, the proxy); source
     * ranges are not enforced */
    VT_WARNING(&v, "spec.loadBalancerSourceRanges: not implemented by orc yet; stored but has no effect");
    CHECK_INT(json_array_size(v.d.warnings), ==, 2);
    VT_STR(v.obj, "spec.type", "LoadBalancer");
    vt_free(&v);
}

TEST(service_rules)
{
    json_t *b = vt_json(svc_json);
    VT_EXPECT("Service", b, "metadata.name", "'1st-service'", "metadata.name",
              "Invalid value: \"1st-service\": a DNS-1035 label must consist of");
    VT_EXPECT("Service", b, "spec.type", "'Magic'", "spec.type",
              "Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"NodePort\", "
              "\"LoadBalancer\", \"ExternalName\"");
    VT_EXPECT("Service", b, "spec.ports", NULL, "spec.ports", "Required value");
    VT_EXPECT("Service", b, "spec.ports[0].port", "0", "spec.ports[0].port",
              "Invalid value: 0: must be between 1 and 65535, inclusive");
    VT_EXPECT("Service", b, "spec.ports[0].port", NULL, "spec.ports[0].port", "Required value");
    VT_EXPECT("Service", b, "spec.ports[0].protocol", "'ICMP'", "spec.ports[0].protocol",
              "Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
    VT_EXPECT("Service", b, "spec.ports[0].targetPort", "70000", "spec.ports[0].targetPort",
              "Invalid value: 70000: must be between 1 and 65535, inclusive");
    VT_EXPECT("Service", b, "spec.ports[0].targetPort", "'not_a_name'", "spec.ports[0].targetPort",
              "Invalid value: \"not_a_name\": must contain only alpha-numeric characters");
    VT_EXPECT("Service", b, "spec.ports[0].targetPort", "'12345'", "spec.ports[0].targetPort",
              "Invalid value: \"12345\": must contain at least one letter (a-z)");
    VT_EXPECT("Service", b, "spec.ports[0].targetPort", "'a-very-long-port-name'",
              "spec.ports[0].targetPort", "Invalid value: \"a-very-long-port-name\": must be no more than 15 characters");
    VT_EXPECT("Service", b, "spec.ports[1]", "{'port':443}", "spec.ports[0].name", "Required value");
    VT_EXPECT("Service", b, "spec.ports[1]", "{'port':443}", "spec.ports[1].name", "Required value");
    json_t *two = json_deep_copy(b);
    vt_setj(two, "spec.ports", "[{'name':'web','port':80},{'name':'web','port':81}]");
    VT_EXPECT("Service", two, "spec.ports[1].port", "81", "spec.ports[1].name", "Duplicate value: \"web\"");
    VT_EXPECT("Service", two, "spec.ports[1].name", "'Web'", "spec.ports[1].name",
              "Invalid value: \"Web\": a lowercase RFC 1123 label");
    VT_EXPECT("Service", two, "spec.ports[1]", "{'name':'alt','port':80}", "spec.ports[1]",
              "Duplicate value: {\"port\":80,\"protocol\":\"TCP\"}");
    json_decref(two);
    VT_EXPECT("Service", b, "spec.ports[0].nodePort", "30080", "spec.ports[0].nodePort",
              "Forbidden: may not be used when `type` is 'ClusterIP'");
    VT_EXPECT("Service", b, "spec.clusterIP", "'10.0.0.300'", "spec.clusterIP",
              "Invalid value: \"10.0.0.300\": must be a valid IP address");
    VT_EXPECT("Service", b, "spec.sessionAffinity", "'Sticky'", "spec.sessionAffinity",
              "Unsupported value: \"Sticky\": supported values: \"None\", \"ClientIP\"");
    VT_EXPECT("Service", b, "spec.externalTrafficPolicy", "'Local'", "spec.externalTrafficPolicy",
              "Invalid value: \"Local\": may only be set for externally-accessible services");
    VT_EXPECT("Service", b, "spec.ipFamilies", "['IPv5']", "spec.ipFamilies[0]",
              "Unsupported value: \"IPv5\"");
    VT_EXPECT("Service", b, "spec.selector", "{'app':'-web'}", "spec.selector",
              "Invalid value: \"-web\": a valid label must be");
    json_t *en = vt_json("{'apiVersion':'v1','kind':'Service','metadata':{'name':'db'},"
                         "'spec':{'type':'ExternalName'}}");
    VT_EXPECT("Service", en, "spec.clusterIP", "'10.0.0.1'", "spec.externalName", "Required value");
    VT_EXPECT("Service", en, "spec.externalName", "'Not A Host'", "spec.externalName",
              "Invalid value: \"Not A Host\": a lowercase RFC 1123 subdomain");
    json_decref(en);
    json_decref(b);
}

TEST(service_cluster_ip_is_immutable)
{
    json_t *b = vt_json(svc_json);
    vt_setj(b, "spec.clusterIP", "'10.96.0.10'");
    VT_UPDATE("Service", b, "spec.clusterIP", "'10.96.0.11'", "spec.clusterIP",
              "Invalid value: \"10.96.0.11\": field is immutable");
    VT_UPDATE("Service", b, "spec.clusterIP", NULL, NULL, NULL);
    VT_UPDATE("Service", b, "spec.ports[0].port", "8080", NULL, NULL);
    json_decref(b);
}

/* ---- ConfigMap ---- */

TEST(configmap_docs_manifest_clean)
{
    struct vt v;
    json_t *o = vt_json(cm_json);
    vt_setj(o, "binaryData", "{'logo.png':'iVBORw0KGgo='}");
    vt_run(&v, "ConfigMap", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(configmap_rules)
{
    json_t *b = vt_json(cm_json);
    VT_EXPECT("ConfigMap", b, "data.bad key", "'x'", "data[bad key]",
              "Invalid value: \"bad key\": a valid config key must consist of");
    VT_EXPECT("ConfigMap", b, "binaryData", "{'player_initial_lives':'Mw=='}",
              "binaryData[player_initial_lives]",
              "Invalid value: \"player_initial_lives\": duplicate of key present in data");
    VT_EXPECT("ConfigMap", b, "binaryData", "{'blob':'not base64!'}", "binaryData[blob]",
              "Invalid value: \"<value omitted>\": illegal base64 data");
    VT_EXPECT("ConfigMap", b, "data.player_initial_lives", "3", "data[player_initial_lives]",
              "Invalid value: 3: data[player_initial_lives] in body must be of type string: \"integer\"");
    json_decref(b);

    /* Over 1 MiB in total. */
    struct vt v;
    json_t *o = vt_json(cm_json);
    char *big = malloc(600 * 1024 + 1);
    CHECK(big != NULL);
    memset(big, 'a', 600 * 1024);
    big[600 * 1024] = '\0';
    vt_set(o, "data.a", json_string(big));
    vt_set(o, "data.b", json_string(big));
    free(big);
    vt_run(&v, "ConfigMap", o, NULL);
    VT_CAUSE(&v, "data", "Too long: may not be more than 1048576 bytes");
    vt_free(&v);
}

TEST(configmap_immutable)
{
    json_t *b = vt_json(cm_json);
    VT_UPDATE("ConfigMap", b, "data.player_initial_lives", "'5'", NULL, NULL);
    vt_setj(b, "immutable", "true");
    VT_UPDATE("ConfigMap", b, "data.player_initial_lives", "'5'", "data",
              "Forbidden: field is immutable when `immutable` is set");
    VT_UPDATE("ConfigMap", b, "binaryData", "{'x':'eA=='}", "binaryData",
              "Forbidden: field is immutable when `immutable` is set");
    VT_UPDATE("ConfigMap", b, "immutable", "false", "immutable",
              "Forbidden: field is immutable when `immutable` is set");
    VT_UPDATE("ConfigMap", b, "metadata.labels", "{'a':'b'}", NULL, NULL);
    json_decref(b);
}

/* ---- Secret ---- */

TEST(secret_clean_defaulted_and_string_data_merged)
{
    struct vt v;
    vt_run(&v, "Secret", vt_json(secret_json), NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "type", "Opaque");
    vt_free(&v);

    json_t *o = vt_json(secret_json);
    vt_setj(o, "stringData", "{'password':'s3cr3t!','config.yaml':'a: 1\\n','empty':''}");
    vt_run(&v, "Secret", o, NULL);
    VT_CLEAN(&v);
    CHECK(vt_get(v.obj, "stringData") == NULL);
    VT_STR(v.obj, "data.username", "YWRtaW4=");
    VT_STR(v.obj, "data.password", "czNjcjN0IQ==");
    json_t *data = vt_get(v.obj, "data");
    CHECK_STR(json_string_value(json_object_get(data, "config.yaml")), "YTogMQo=");
    VT_STR(v.obj, "data.empty", "");
    vt_free(&v);
}

TEST(secret_rules)
{
    json_t *b = vt_json(secret_json);
    VT_EXPECT("Secret", b, "data.password", "'not base64'", "data[password]",
              "Invalid value: \"<value omitted>\": illegal base64 data");
    VT_EXPECT("Secret", b, "data.password", "'YWRtaW4'", "data[password]",
              "Invalid value: \"<value omitted>\": illegal base64 data");
    VT_EXPECT("Secret", b, "data./etc/passwd", "'eA=='", "data[/etc/passwd]",
              "Invalid value: \"/etc/passwd\": a valid config key must consist of");
    VT_EXPECT("Secret", b, "stringData", "{'bad key':'x'}", "data[bad key]",
              "Invalid value: \"bad key\": a valid config key");
    VT_EXPECT("Secret", b, "type", "'kubernetes.io/tls'", "data[tls.crt]", "Required value");
    VT_EXPECT("Secret", b, "type", "'kubernetes.io/tls'", "data[tls.key]", "Required value");
    VT_EXPECT("Secret", b, "type", "'kubernetes.io/dockerconfigjson'", "data[.dockerconfigjson]",
              "Required value");
    VT_EXPECT("Secret", b, "type", "'kubernetes.io/ssh-auth'", "data[ssh-privatekey]",
              "Required value");
    VT_EXPECT("Secret", b, "type", "'kubernetes.io/service-account-token'",
              "metadata.annotations[kubernetes.io/service-account.name]", "Required value");
    json_t *ba = json_deep_copy(b);
    vt_setj(ba, "type", "'kubernetes.io/basic-auth'");
    VT_EXPECT("Secret", ba, "data", "{}", "data[username]", "Required value");
    json_decref(ba);
    json_decref(b);
}

TEST(secret_update_rules)
{
    json_t *b = vt_json(secret_json);
    VT_UPDATE("Secret", b, "data.password", "'bmV3'", NULL, NULL);
    VT_UPDATE("Secret", b, "type", "'example.com/custom'", "type",
              "Invalid value: \"example.com/custom\": field is immutable");
    vt_setj(b, "immutable", "true");
    VT_UPDATE("Secret", b, "data.password", "'bmV3'", "data",
              "Forbidden: field is immutable when `immutable` is set");
    VT_UPDATE("Secret", b, "immutable", NULL, "immutable", "Forbidden:");
    json_decref(b);
}

/* ---- Namespace, Node ---- */

TEST(namespace_rules)
{
    struct vt v;
    vt_run(&v, "Namespace", vt_json(ns_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
    json_t *b = vt_json(ns_json);
    VT_EXPECT("Namespace", b, "metadata.name", "'dev.team'", "metadata.name",
              "Invalid value: \"dev.team\": a lowercase RFC 1123 label must consist of");
    VT_EXPECT("Namespace", b, "metadata.namespace", "'default'", "metadata.namespace",
              "Forbidden: not allowed on this type");
    VT_EXPECT("Namespace", b, "spec.finalizers", "['bad finalizer']", "spec.finalizers[0]",
              "Invalid value: \"bad finalizer\"");
    json_decref(b);
}

TEST(node_manifest_and_rules)
{
    struct vt v;
    vt_run(&v, "Node", vt_json(node_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
    json_t *b = vt_json(node_json);
    VT_EXPECT("Node", b, "spec.podCIDR", "'10.244.1.0/33'", "spec.podCIDR",
              "Invalid value: \"10.244.1.0/33\": must be a valid CIDR value");
    VT_EXPECT("Node", b, "spec.podCIDRs[0]", "'10.244.9.0/24'", "spec.podCIDRs[0]",
              "Invalid value: \"10.244.9.0/24\": must match `podCIDR`");
    VT_EXPECT("Node", b, "spec.podCIDRs[1]", "'banana'", "spec.podCIDRs[1]",
              "Invalid value: \"banana\": must be a valid CIDR value");
    VT_EXPECT("Node", b, "spec.taints[0].effect", "'Sometimes'", "spec.taints[0].effect",
              "Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
    VT_EXPECT("Node", b, "spec.taints[0].effect", NULL, "spec.taints[0].effect", "Required value");
    VT_EXPECT("Node", b, "spec.taints[0].key", NULL, "spec.taints[0].key", "Required value");
    VT_EXPECT("Node", b, "spec.taints[1]", "{'key':'dedicated','value':'x','effect':'NoSchedule'}",
              "spec.taints[1]", "Duplicate value: {\"effect\":\"NoSchedule\",\"key\":\"dedicated\"}");
    VT_EXPECT("Node", b, "spec.unschedulable", "'yes'", "spec.unschedulable",
              "Invalid value: \"yes\": spec.unschedulable in body must be of type boolean: \"string\"");
    json_decref(b);

    json_t *o = vt_json(node_json);
    vt_setj(o, "spec.configSource", "{'configMap':{'name':'x'}}");
    vt_run(&v, "Node", o, NULL);
    VT_WARNING(&v, "spec.configSource: not implemented by orc yet; stored but has no effect");
    vt_free(&v);
}

/* ---- Event, Lease ---- */

TEST(event_manifest_and_rules)
{
    struct vt v;
    vt_run(&v, "Event", vt_json(event_json), NULL);
    VT_CLEAN(&v);
    CHECK(vt_get(v.obj, "eventTime") == NULL); /* null means unset */
    vt_free(&v);
    json_t *b = vt_json(event_json);
    VT_EXPECT("Event", b, "type", "'Fatal'", "type",
              "Unsupported value: \"Fatal\": supported values: \"Normal\", \"Warning\"");
    VT_EXPECT("Event", b, "count", "-1", "count", "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Event", b, "involvedObject.namespace", "'other'", "involvedObject.namespace",
              "Invalid value: \"other\": does not match event.namespace");
    VT_EXPECT("Event", b, "firstTimestamp", "'yesterday'", "firstTimestamp",
              "Invalid value: \"yesterday\": firstTimestamp in body must be of type date-time");
    json_decref(b);
}

TEST(lease_manifest_and_rules)
{
    struct vt v;
    vt_run(&v, "Lease", vt_json(lease_json), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
    json_t *b = vt_json(lease_json);
    VT_EXPECT("Lease", b, "spec.leaseDurationSeconds", "0", "spec.leaseDurationSeconds",
              "Invalid value: 0: must be greater than 0");
    VT_EXPECT("Lease", b, "spec.leaseTransitions", "-1", "spec.leaseTransitions",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Lease", b, "spec.renewTime", "'2024-13-01T00:00:00Z'", "spec.renewTime",
              "Invalid value: \"2024-13-01T00:00:00Z\": spec.renewTime in body must be of type date-time");
    json_decref(b);
}
