/* test_validate_schema.c — the schema pass (types, conversions, nulls,
 * unknown and unimplemented fields), ObjectMeta rules shared by every kind,
 * and the diag API and its Kubernetes-style message. */
#include "tests/apiserver/vt.h"

static const char *const deploy_json =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'prod',"
    " 'labels':{'app':'web'},'creationTimestamp':null},"
    "'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},"
    " 'template':{'metadata':{'labels':{'app':'web'},'creationTimestamp':null},"
    "  'spec':{'containers':[{'name':'web','image':'nginx:1.25','resources':{}}]}}},"
    "'status':{}}";

static json_t *deploy(void)
{
    return vt_json(deploy_json);
}

TEST(schema_clean_manifest_with_null_timestamps)
{
    struct vt v;
    vt_run(&v, "Deployment", deploy(), NULL);
    VT_CLEAN(&v);
    CHECK(vt_get(v.obj, "metadata.creationTimestamp") == NULL);
    CHECK(vt_get(v.obj, "spec.template.metadata.creationTimestamp") == NULL);
    vt_free(&v);
}

/* field: where the cause is reported, when deeper than `path`. */
static void type_error(const char *path, const char *json, const char *field, const char *msg)
{
    struct vt v;
    json_t *o = deploy();
    vt_setj(o, path, json);
    vt_run(&v, "Deployment", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 1);
    json_t *c = json_array_get(v.d.causes, 0);
    CHECK_STR(json_string_value(json_object_get(c, "reason")), "FieldValueTypeInvalid");
    CHECK_STR(json_string_value(json_object_get(c, "field")), field ? field : path);
    CHECK_STR(json_string_value(json_object_get(c, "message")), msg);
    vt_free(&v);
}

TEST(schema_type_errors_name_the_field)
{
    type_error("spec.replicas", "'abc'", NULL,
               "Invalid value: \"abc\": spec.replicas in body must be of type integer: \"string\"");
    type_error("spec.replicas", "2.5", NULL,
               "Invalid value: 2.5: spec.replicas in body must be of type integer: \"number\"");
    type_error("spec.replicas", "true", NULL,
               "Invalid value: true: spec.replicas in body must be of type integer: \"boolean\"");
    type_error("spec.template.spec.containers", "{'name':'x'}", NULL,
               "Invalid value: \"object\": spec.template.spec.containers in body must be of type "
               "array: \"object\"");
    type_error("spec.template.spec.containers[0].image", "7", NULL,
               "Invalid value: 7: spec.template.spec.containers[0].image in body must be of type "
               "string: \"integer\"");
    type_error("spec.template.spec.containers[0].command", "'nginx -g daemon'", NULL,
               "Invalid value: \"nginx -g daemon\": spec.template.spec.containers[0].command in body "
               "must be of type array: \"string\"");
    type_error("spec.template.spec.containers[0].args", "['a', 1]",
               "spec.template.spec.containers[0].args[1]",
               "Invalid value: 1: spec.template.spec.containers[0].args[1] in body must be of type "
               "string: \"integer\"");
    type_error("metadata.labels", "{'app':1}", "metadata.labels[app]",
               "Invalid value: 1: metadata.labels[app] in body must be of type string: \"integer\"");
    type_error("spec.template.spec.hostNetwork", "'yes'", NULL,
               "Invalid value: \"yes\": spec.template.spec.hostNetwork in body must be of type "
               "boolean: \"string\"");
    type_error("spec.strategy.rollingUpdate", "{'maxSurge':true}",
               "spec.strategy.rollingUpdate.maxSurge",
               "Invalid value: true: spec.strategy.rollingUpdate.maxSurge in body must be of type "
               "integer or string: \"boolean\"");
    type_error("spec.template.spec.containers[0].resources.limits", "{'cpu':[1]}",
               "spec.template.spec.containers[0].resources.limits[cpu]",
               "Invalid value: \"array\": spec.template.spec.containers[0].resources.limits[cpu] in "
               "body must be of type string or number: \"array\"");
    type_error("metadata.creationTimestamp", "'2024-03-10 12:00'", NULL,
               "Invalid value: \"2024-03-10 12:00\": metadata.creationTimestamp in body must be of "
               "type date-time (RFC 3339): \"string\"");
    type_error("spec", "[]", NULL, "Invalid value: \"array\": spec in body must be of type object: \"array\"");
}

TEST(schema_conversions)
{
    struct vt v;
    json_t *o = deploy();
    vt_setj(o, "spec.replicas", "3.0");
    vt_setj(o, "spec.template.spec.containers[0].resources",
            "{'limits':{'cpu':1,'memory':'256Mi'},'requests':{'cpu':0.25}}");
    vt_setj(o, "spec.template.spec.containers[0].ports", "[{'containerPort':8080.0}]");
    vt_run(&v, "Deployment", o, NULL);
    VT_CLEAN(&v);
    VT_INT(v.obj, "spec.replicas", 3);
    VT_INT(v.obj, "spec.template.spec.containers[0].ports[0].containerPort", 8080);
    VT_STR(v.obj, "spec.template.spec.containers[0].resources.limits.cpu", "1");
    VT_STR(v.obj, "spec.template.spec.containers[0].resources.requests.cpu", "0.25");
    vt_free(&v);
}

TEST(schema_unknown_fields_everywhere)
{
    struct vt v;
    json_t *o = deploy();
    vt_setj(o, "sepc", "{}");
    vt_setj(o, "metadata.nmae", "'x'");
    vt_setj(o, "spec.selector.matchLabel", "{'a':'b'}");
    vt_setj(o, "spec.template.spec.containers[0].resources.limit", "{'cpu':'1'}");
    vt_setj(o, "spec.template.spec.volumes", "[{'name':'v','emptyDir':{'medum':'Memory'}}]");
    vt_setj(o, "status.anything", "{'goes':[1,2,3]}");
    vt_run(&v, "Deployment", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    CHECK_INT(json_array_size(v.d.warnings), ==, 5);
    VT_WARNING(&v, "unknown field \"sepc\"");
    VT_WARNING(&v, "unknown field \"metadata.nmae\"");
    VT_WARNING(&v, "unknown field \"spec.selector.matchLabel\"");
    VT_WARNING(&v, "unknown field \"spec.template.spec.containers[0].resources.limit\"");
    VT_WARNING(&v, "unknown field \"spec.template.spec.volumes[0].emptyDir.medum\"");
    CHECK(vt_get(v.obj, "sepc") == NULL);
    CHECK(vt_get(v.obj, "spec.template.spec.volumes[0].emptyDir.medum") == NULL);
    CHECK(vt_get(v.obj, "status.anything.goes") != NULL);
    vt_free(&v);
}

TEST(schema_not_implemented_value_conditions)
{
    struct vt v;
    json_t *o = vt_json("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'j'},"
                        "'spec':{'completionMode':'NonIndexed','template':{'spec':{"
                        "'restartPolicy':'Never','containers':[{'name':'c','image':'i',"
                        "'volumeMounts':[{'name':'v','mountPath':'/v','mountPropagation':'None'}]}],"
                        "'volumes':[{'name':'v','emptyDir':{}}]}}}}");
    vt_run(&v, "Job", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);

    o = vt_json("{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'j'},"
                "'spec':{'completionMode':'Indexed','completions':3,'template':{'spec':{"
                "'restartPolicy':'Never','containers':[{'name':'c','image':'i'}]}}}}");
    vt_run(&v, "Job", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    VT_WARNING(&v, "spec.completionMode: \"Indexed\" is not implemented by orc yet; stored but has no effect");
    vt_free(&v);
}

TEST(schema_rejects_non_object_bodies)
{
    struct api_diag d;
    const struct orc_kind *k = vt_kind("Pod");
    json_t *arr = json_array();
    CHECK_INT(api_diag_init(&d), ==, 0);
    api_schema_check(k, arr, &d);
    api_validate(k, arr, NULL, &d);
    CHECK(api_diag_failed(&d));
    CHECK_STR(json_string_value(json_object_get(json_array_get(d.causes, 0), "message")),
              "Invalid value: \"array\": body must be of type object: \"array\"");
    api_defaults(k, arr); /* must not crash */
    json_decref(arr);
    api_diag_clear(&d);
}

/* ---- ObjectMeta ---- */

TEST(meta_rules)
{
    json_t *b = deploy();
    VT_EXPECT("Deployment", b, "metadata.name", NULL, "metadata.name",
              "Required value: name or generateName is required");
    VT_EXPECT("Deployment", b, "metadata.name", "'Web_App'", "metadata.name",
              "Invalid value: \"Web_App\": a lowercase RFC 1123 subdomain must consist of");
    VT_EXPECT("Deployment", b, "metadata.namespace", "'Prod'", "metadata.namespace",
              "Invalid value: \"Prod\": a lowercase RFC 1123 label");
    VT_EXPECT("Deployment", b, "metadata.labels", "{'bad key':'x'}", "metadata.labels",
              "Invalid value: \"bad key\": name part must consist of alphanumeric characters");
    VT_EXPECT("Deployment", b, "metadata.labels", "{'app':'has space'}", "metadata.labels",
              "Invalid value: \"has space\": a valid label must be an empty string or consist of");
    VT_EXPECT("Deployment", b, "metadata.annotations", "{'a/b/c':'x'}", "metadata.annotations",
              "Invalid value: \"a/b/c\": a qualified name must consist of");
    VT_EXPECT("Deployment", b, "metadata.ownerReferences",
              "[{'apiVersion':'v1','kind':'X','name':'x'}]", "metadata.ownerReferences[0].uid",
              "Required value");
    VT_EXPECT("Deployment", b, "metadata.ownerReferences",
              "[{'kind':'X','name':'x','uid':'u'}]", "metadata.ownerReferences[0].apiVersion",
              "Required value");
    VT_EXPECT("Deployment", b, "metadata.ownerReferences",
              "[{'apiVersion':'v1','kind':'X','name':'a','uid':'1','controller':true},"
              " {'apiVersion':'v1','kind':'X','name':'b','uid':'2','controller':true}]",
              "metadata.ownerReferences[1].controller",
              "Invalid value: true: Only one reference can have Controller set to true. Found "
              "\"true\" in references for a and b");
    VT_EXPECT("Deployment", b, "metadata.finalizers", "['example.com/cleanup','bad finalizer']",
              "metadata.finalizers[1]", "Invalid value: \"bad finalizer\"");
    VT_EXPECT("Deployment", b, "metadata.generateName", "'Web-'", "metadata.generateName",
              "Invalid value: \"Web-\": a lowercase RFC 1123 subdomain");
    VT_EXPECT("Deployment", b, "apiVersion", "'apps/v1beta1'", "apiVersion",
              "Invalid value: \"apps/v1beta1\": must be apps/v1");
    json_decref(b);

    struct vt v;
    json_t *o = deploy();
    vt_setj(o, "metadata.name", NULL);
    vt_setj(o, "metadata.generateName", "'web-'");
    vt_setj(o, "metadata.annotations", "{'Example.COM/Owner':'x','kubectl.kubernetes.io/last-applied-configuration':'{}'}");
    vt_run(&v, "Deployment", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(meta_annotations_size_limit)
{
    struct vt v;
    json_t *o = deploy();
    size_t n = 256 * 1024;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    memset(big, 'x', n);
    big[n] = '\0';
    vt_set(o, "metadata.annotations", json_pack("{s:s}", "example.com/blob", big));
    free(big);
    vt_run(&v, "Deployment", o, NULL);
    VT_CAUSE(&v, "metadata.annotations", "Too long: may not be more than 262144 bytes");
    vt_free(&v);
}

/* ---- the diag ---- */

TEST(diag_message_format)
{
    struct vt v;
    json_t *o = deploy();
    vt_setj(o, "spec.replicas", "-1");
    vt_run(&v, "Deployment", o, NULL);
    char *m = api_diag_message(&v.d, v.k, "web");
    CHECK_STR(m, "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be "
                 "greater than or equal to 0");
    free(m);
    CHECK_STR(json_string_value(json_object_get(json_array_get(v.d.causes, 0), "reason")),
              "FieldValueInvalid");
    vt_free(&v);

    o = deploy();
    vt_setj(o, "spec.replicas", "-1");
    vt_setj(o, "spec.minReadySeconds", "-2");
    vt_run(&v, "Deployment", o, NULL);
    m = api_diag_message(&v.d, v.k, "web");
    CHECK_STR(m, "Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be "
                 "greater than or equal to 0, spec.minReadySeconds: Invalid value: -2: must be "
                 "greater than or equal to 0]");
    free(m);
    vt_free(&v);

    struct api_diag d;
    CHECK_INT(api_diag_init(&d), ==, 0);
    CHECK(!api_diag_failed(&d));
    api_diag_add(&d, "FieldValueRequired", "spec.containers", "Required value");
    CHECK(api_diag_failed(&d));
    m = api_diag_message(&d, vt_kind("Pod"), "x");
    CHECK_STR(m, "Pod \"x\" is invalid: spec.containers: Required value");
    free(m);
    m = api_diag_message(&d, vt_kind("Lease"), "n1");
    CHECK_STR(m, "Lease.coordination.k8s.io \"n1\" is invalid: spec.containers: Required value");
    free(m);
    api_diag_clear(&d);
}

TEST(diag_reasons)
{
    struct vt v;
    json_t *o = deploy();
    vt_setj(o, "spec.template.spec.restartPolicy", "'Never'");
    vt_setj(o, "spec.template.spec.containers[1]", "{'name':'web','image':'x'}");
    vt_setj(o, "spec.template.spec.containers[0].image", "''");
    vt_run(&v, "Deployment", o, NULL);
    const char *want[][2] = {
        {"spec.template.spec.restartPolicy", "FieldValueNotSupported"},
        {"spec.template.spec.containers[1].name", "FieldValueDuplicate"},
        {"spec.template.spec.containers[0].image", "FieldValueRequired"},
    };
    for (size_t i = 0; i < 3; i++) {
        bool found = false;
        size_t j;
        json_t *c;
        json_array_foreach(v.d.causes, j, c) {
            if (!strcmp(json_string_value(json_object_get(c, "field")), want[i][0]))
                found = !strcmp(json_string_value(json_object_get(c, "reason")), want[i][1]);
        }
        if (!found) vt_dump(&v);
        CHECKF(found, "%s should be %s", want[i][0], want[i][1]);
    }
    vt_free(&v);
}

/* Every field Kubernetes types int32 refuses a value past its range (Go's
 * decoder would), wherever it sits; int64 fields take it. */
TEST(schema_int32_fields_refuse_values_past_their_range)
{
    static const char *const int32_paths[] = {
        "spec.replicas",
        "spec.minReadySeconds",
        "spec.progressDeadlineSeconds",
        "spec.template.spec.priority",
        "spec.template.spec.containers[0].ports",
        "spec.template.spec.containers[0].livenessProbe.periodSeconds",
        "spec.template.spec.containers[0].livenessProbe.httpGet.port",
        "spec.strategy.rollingUpdate.maxSurge",
    };
    for (size_t i = 0; i < sizeof int32_paths / sizeof int32_paths[0]; i++) {
        const char *path = int32_paths[i];
        bool ports = strstr(path, ".ports") != NULL;
        for (int sign = 0; sign < 2; sign++) {
            struct vt v;
            json_t *o = deploy();
            char field[256];
            snprintf(field, sizeof field, "%s%s", path, ports ? "[0].containerPort" : "");
            if (ports) vt_setj(o, path, sign ? "[{'containerPort':-2147483649}]"
                                             : "[{'containerPort':2147483648}]");
            else vt_setj(o, path, sign ? "-2147483649" : "2147483648");
            vt_run(&v, "Deployment", o, NULL);
            char msg[400];
            snprintf(msg, sizeof msg, "Invalid value: %s: %s in body must be of type int32",
                     sign ? "-2147483649" : "2147483648", field);
            VT_CAUSE(&v, field, msg);
            vt_free(&v);
        }
    }
    /* A whole real is converted first, then range-checked. */
    type_error("spec.replicas", "3e9", NULL,
               "Invalid value: 3000000000: spec.replicas in body must be of type int32: "
               "\"integer\"");
    /* The edges are fine; int64 fields take far more. */
    struct vt v;
    json_t *o = deploy();
    vt_setj(o, "spec.replicas", "2147483647");
    vt_setj(o, "spec.minReadySeconds", "-2147483648");
    vt_setj(o, "spec.template.spec.terminationGracePeriodSeconds", "4294967296");
    vt_setj(o, "spec.template.spec.securityContext", "{'runAsUser':4294967296}");
    vt_run(&v, "Deployment", o, NULL);
    CHECK(!vt_has_cause(&v, "spec.replicas", ""));
    CHECK(!vt_has_cause(&v, "spec.template.spec.terminationGracePeriodSeconds", ""));
    CHECK(!vt_has_cause(&v, "spec.template.spec.securityContext.runAsUser", ""));
    vt_free(&v);
}

TEST(schema_int32_in_other_kinds)
{
    static const struct {
        const char *kind, *json, *field;
    } cases[] = {
        {"StatefulSet", "{'metadata':{'name':'s'},'spec':{'updateStrategy':{'rollingUpdate':"
                        "{'partition':2147483648}}}}", "spec.updateStrategy.rollingUpdate.partition"},
        {"Job", "{'metadata':{'name':'j'},'spec':{'parallelism':2147483648}}", "spec.parallelism"},
        {"Job", "{'metadata':{'name':'j'},'spec':{'podFailurePolicy':{'rules':[{'action':'Ignore',"
                "'onExitCodes':{'operator':'In','values':[1,2147483648]}}]}}}",
         "spec.podFailurePolicy.rules[0].onExitCodes.values[1]"},
        {"CronJob", "{'metadata':{'name':'c'},'spec':{'failedJobsHistoryLimit':2147483648}}",
         "spec.failedJobsHistoryLimit"},
        {"Service", "{'metadata':{'name':'s'},'spec':{'ports':[{'port':80,'targetPort':"
                    "2147483648}]}}", "spec.ports[0].targetPort"},
        {"Service", "{'metadata':{'name':'s'},'spec':{'ports':[{'port':4294967376}]}}",
         "spec.ports[0].port"},
        {"Lease", "{'metadata':{'name':'l'},'spec':{'leaseDurationSeconds':2147483648}}",
         "spec.leaseDurationSeconds"},
        {"Event", "{'metadata':{'name':'e'},'count':2147483648}", "count"},
        {"Pod", "{'metadata':{'name':'p'},'spec':{'containers':[],'volumes':[{'name':'v',"
                "'secret':{'defaultMode':2147483648}}]}}", "spec.volumes[0].secret.defaultMode"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vt v;
        vt_run(&v, cases[i].kind, vt_json(cases[i].json), NULL);
        VT_CAUSE(&v, cases[i].field, "Invalid value: ");
        CHECKF(strstr(json_string_value(json_object_get(json_array_get(v.d.causes, 0), "message")),
                      "must be of type int32") != NULL, "%s", cases[i].field);
        vt_free(&v);
    }
}

/* Name rules read a JSON string whole: "a\u0000b" is not "a". */
TEST(meta_nul_in_names_labels_and_keys)
{
    static const struct {
        const char *kind, *json, *field, *msg;
    } cases[] = {
        {"ConfigMap", "{\"metadata\":{\"name\":\"a\\u0000b\"}}", "metadata.name",
         "Invalid value: \"a\\x00b\": a lowercase RFC 1123 subdomain must consist of"},
        {"Namespace", "{\"metadata\":{\"name\":\"ns\\u0000\"}}", "metadata.name",
         "Invalid value: \"ns\\x00\": a lowercase RFC 1123 label must consist of"},
        {"Service", "{\"metadata\":{\"name\":\"s\\u0000\"}}", "metadata.name",
         "Invalid value: \"s\\x00\": a DNS-1035 label"},
        {"ConfigMap", "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\\u0000x\"}}",
         "metadata.namespace", "Invalid value: \"d\\x00x\": a lowercase RFC 1123 label"},
        {"ConfigMap", "{\"metadata\":{\"generateName\":\"g\\u0000-\"}}", "metadata.generateName",
         "Invalid value: \"g\\x00-\": a lowercase RFC 1123 subdomain"},
        {"ConfigMap", "{\"metadata\":{\"name\":\"c\",\"labels\":{\"k\":\"v\\u0000\"}}}",
         "metadata.labels", "Invalid value: \"v\\x00\": a valid label must be"},
        {"Namespace", "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"finalizers\":[\"k\\u0000\"]}}",
         "spec.finalizers[0]", "Invalid value: \"k\\x00\": name part must consist of"},
        {"Deployment", "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchExpressions\":"
                       "[{\"key\":\"a\\u0000\",\"operator\":\"In\",\"values\":[\"x\\u0000\"]}]}}}",
         "spec.selector.matchExpressions[0].values[0]", "Invalid value: \"x\\x00\""},
        {"Deployment", "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchExpressions\":"
                       "[{\"key\":\"a\\u0000\",\"operator\":\"Exists\"}]}}}",
         "spec.selector.matchExpressions[0].key", "Invalid value: \"a\\x00\": name part"},
        {"Pod", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\\u0000\","
                "\"image\":\"i\"}]}}",
         "spec.containers[0].name", "Invalid value: \"c\\x00\": a lowercase RFC 1123 label"},
        {"Pod", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"i\"}],\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":"
                "\"cm\\u0000x\"}}]}}",
         "spec.volumes[0].configMap.name", "Invalid value: \"cm\\x00x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vt v;
        json_t *o = json_loads(cases[i].json, JSON_ALLOW_NUL, NULL);
        CHECKF(o != NULL, "case %zu", i);
        vt_run(&v, cases[i].kind, o, NULL);
        VT_CAUSE(&v, cases[i].field, cases[i].msg);
        vt_free(&v);
    }
}
