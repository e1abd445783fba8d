/* test_write_options.c — a real `orcd server` answering writes as
 * Kubernetes does: strategic merge patches merged by the kinds' merge keys
 * (or refused whole), dryRun from the query and from DeleteOptions bodies
 * (every check, nothing stored, no revision), the other DeleteOptions in
 * the body, and fieldValidation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define DEPLOYS "/apis/apps/v1/namespaces/default/deployments"
#define TWO DEPLOYS "/two"
#define CMS "/api/v1/namespaces/default/configmaps"
#define SMP "application/strategic-merge-patch+json"
#define MERGE "application/merge-patch+json"
#define JSONPATCH "application/json-patch+json"

/* Two containers, ports and env: what kubectl's issue report used. */
static const char two[] =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'two'},"
    "'spec':{'replicas':1,'selector':{'matchLabels':{'app':'two'}},"
    "'template':{'metadata':{'labels':{'app':'two'}},'spec':{'containers':["
    "{'name':'app','image':'nginx:1.25','ports':[{'containerPort':80}],"
    "'env':[{'name':'MODE','value':'prod'}]},"
    "{'name':'sidecar','image':'busybox:1.36'}]}}}}";

static struct cluster c;

/* The API alone: controllers would write (and move the revision) between
 * a case's steps. */
static void start_one(void)
{
    static const char *const no_controllers[] = {"--controllers", "-*", NULL};

    cluster_init(&c, 1);
    member_start(&c, 0, false, no_controllers);
    member_wait_ready(&c, 0, 10000);
}

/* JSON with ' for ", so bodies read as they would in YAML. */
static char *q(const char *s)
{
    char *t = strdup(s);
    for (char *p = t; p && *p; p++)
        if (*p == '\'') *p = '"';
    return t;
}

/* One request as a user would make it; fails unless the status is `want`.
 * *warn (may be NULL) gets the Warning headers. Returns the parsed reply. */
static json_t *call_w(const char *method, const char *path, const char *ctype, const char *body,
                      int want, char **warn)
{
    char *resp = NULL, *b = body ? q(body) : NULL;
    int st = t_http(&c, 0, method, path, ctype, b, &resp, warn);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;

    CHECKF(st == want, "%s %s %s: HTTP %d, want %d: %s", method, path, b ? b : "", st, want,
           resp ? resp : "");
    free(resp);
    free(b);
    return j;
}

static json_t *call(const char *method, const char *path, const char *ctype, const char *body,
                    int want)
{
    return call_w(method, path, ctype, body, want, NULL);
}

static void call_drop(const char *method, const char *path, const char *ctype, const char *body,
                      int want)
{
    json_decref(call(method, path, ctype, body, want));
}

/* The message of a Status reply holds `has`. */
static void check_message(json_t *st, const char *has)
{
    const char *m = orc_json_str(st, "message");
    CHECKF(m && strstr(m, has), "message \"%s\" lacks \"%s\"", m ? m : "(none)", has);
    json_decref(st);
}

static json_t *containers(json_t *deploy)
{
    return orc_json_get(deploy, "spec.template.spec.containers");
}

static const char *image_of(json_t *deploy, size_t i)
{
    return orc_json_str(json_array_get(containers(deploy), i), "image");
}

/* ---- strategic merge patch ---- */

TEST_T(strategic_patch_merges_lists_by_key, 90)
{
    start_one();
    call_drop("POST", DEPLOYS, NULL, two, 201);
    /* kubectl apply with a changed image: ports, env and the sidecar stay. */
    json_t *d = call("PATCH", TWO, SMP,
                     "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'app'},"
                     "{'name':'sidecar'}],'containers':[{'image':'nginx:1.26','name':'app'}]}}}}",
                     200);
    CHECK_INT(json_array_size(containers(d)), ==, 2);
    json_t *app = json_array_get(containers(d), 0);
    CHECK_STR(orc_json_str(app, "image"), "nginx:1.26");
    CHECK_INT(json_integer_value(orc_json_get(json_array_get(orc_json_get(app, "ports"), 0),
                                              "containerPort")), ==, 80);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(app, "env"), 0), "value"), "prod");
    CHECK_STR(image_of(d, 1), "busybox:1.36");
    json_decref(d);
    /* kubectl set image: only app's image changes. */
    d = call("PATCH", TWO, SMP,
             "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'app'}],"
             "'containers':[{'image':'nginx:1.27','name':'app'}]}}}}",
             200);
    CHECK_INT(json_array_size(containers(d)), ==, 2);
    CHECK_STR(image_of(d, 0), "nginx:1.27");
    json_decref(d);
    /* Nested keyed lists and $patch: delete. */
    d = call("PATCH", TWO, SMP,
             "{'spec':{'template':{'spec':{'containers':[{'name':'app','env':[{'name':'MODE',"
             "'$patch':'delete'},{'name':'LEVEL','value':'debug'}]},"
             "{'name':'sidecar','$patch':'delete'}]}}}}",
             200);
    CHECK_INT(json_array_size(containers(d)), ==, 1);
    json_t *env = orc_json_get(json_array_get(containers(d), 0), "env");
    CHECK_INT(json_array_size(env), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(env, 0), "name"), "LEVEL");
    json_decref(d);
    /* Deployment.spec.strategy has retainKeys: a type change clears rollingUpdate. */
    d = call("PATCH", TWO, SMP,
             "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}", 200);
    CHECK_STR(orc_json_str(d, "spec.strategy.type"), "Recreate");
    CHECK(orc_json_get(d, "spec.strategy.rollingUpdate") == NULL);
    json_decref(d);
    /* The Scale subresource takes one too. */
    d = call("PATCH", TWO "/scale", SMP, "{'spec':{'replicas':4}}", 200);
    CHECK_INT(json_integer_value(orc_json_get(d, "spec.replicas")), ==, 4);
    json_decref(d);
}

TEST_T(strategic_patch_for_other_kinds, 90)
{
    start_one();
    /* Service ports merge by port; metadata.finalizers as a set. */
    call_drop("POST", "/api/v1/namespaces/default/services", NULL,
              "{'metadata':{'name':'web'},'spec':{'selector':{'app':'web'},"
              "'ports':[{'name':'http','port':80,'targetPort':8080}]}}",
              201);
    json_t *s = call("PATCH", "/api/v1/namespaces/default/services/web", SMP,
                     "{'metadata':{'finalizers':['example.com/a']},"
                     "'spec':{'ports':[{'name':'https','port':443}]}}",
                     200);
    CHECK_INT(json_array_size(orc_json_get(s, "spec.ports")), ==, 2);
    json_decref(s);
    s = call("PATCH", "/api/v1/namespaces/default/services/web", SMP,
             "{'metadata':{'finalizers':['example.com/b']},"
             "'spec':{'ports':[{'port':80,'targetPort':9090}]}}",
             200);
    CHECK_INT(json_array_size(orc_json_get(s, "spec.ports")), ==, 2);
    CHECK_INT(json_array_size(orc_json_get(s, "metadata.finalizers")), ==, 2);
    json_decref(s);
    s = call("PATCH", "/api/v1/namespaces/default/services/web", SMP,
             "{'metadata':{'$deleteFromPrimitiveList/finalizers':['example.com/a','example.com/b']}}",
             200);
    CHECK_INT(json_array_size(orc_json_get(s, "metadata.finalizers")), ==, 0);
    json_decref(s);
    /* A pod's status conditions merge by type through /status. */
    call_drop("POST", "/api/v1/namespaces/default/pods", NULL,
              "{'metadata':{'name':'p'},'spec':{'containers':[{'name':'c','image':'busybox'}]}}",
              201);
    call_drop("PATCH", "/api/v1/namespaces/default/pods/p/status", SMP,
              "{'status':{'conditions':[{'type':'Ready','status':'False'}]}}", 200);
    s = call("PATCH", "/api/v1/namespaces/default/pods/p/status", SMP,
             "{'status':{'conditions':[{'type':'Initialized','status':'True'}]}}", 200);
    CHECK_INT(json_array_size(orc_json_get(s, "status.conditions")), ==, 2);
    json_decref(s);
    /* tolerations have no strategy in Kubernetes: replaced whole. */
    call_drop("POST", DEPLOYS, NULL, two, 201);
    call_drop("PATCH", TWO, SMP,
              "{'spec':{'template':{'spec':{'tolerations':[{'key':'a','operator':'Exists'}]}}}}",
              200);
    s = call("PATCH", TWO, SMP,
             "{'spec':{'template':{'spec':{'tolerations':[{'key':'b','operator':'Exists'}]}}}}",
             200);
    json_t *tol = orc_json_get(s, "spec.template.spec.tolerations");
    CHECK_INT(json_array_size(tol), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(tol, 0), "key"), "b");
    json_decref(s);
}

TEST_T(unapplicable_patches_change_nothing, 90)
{
    start_one();
    json_t *d = call("POST", DEPLOYS, NULL, two, 201);
    long long rev = member_revision(&c, 0);
    /* Malformed directives: 400; a list element without its merge key: 422. */
    check_message(call("PATCH", TWO, SMP, "{'spec':{'template':{'$patch':'explode'}}}", 400),
                  "unknown patch type");
    check_message(call("PATCH", TWO, SMP,
                       "{'spec':{'template':{'spec':{'containers':[{'image':'x'}]}}}}", 422),
                  "merge key: name");
    check_message(call("PATCH", TWO, SMP, "[{'op':'add'}]", 400), "JSON object");
    /* Server-side apply without a field manager is invalid (422); of the
     * scale subresource, not served (415); patch types orc does not know are
     * named and refused (415). */
    check_message(call("PATCH", TWO, "application/apply-patch+yaml", "{}", 422),
                  "fieldManager: Required value: is required for apply patch");
    check_message(call("PATCH", TWO "/scale?fieldManager=x", "application/apply-patch+yaml", "{}",
                       415),
                  "server-side apply of the scale subresource");
    check_message(call("PATCH", TWO, "application/x-frobnicate", "{}", 415),
                  "application/x-frobnicate");
    check_message(call("POST", CMS, "application/cbor", "{}", 415), "application/cbor");
    /* protobuf is read (apiserver/proto.c): JSON sent under its name is malformed */
    check_message(call("POST", CMS, "application/vnd.kubernetes.protobuf", "{}", 400), "magic");
    CHECK_INT(member_revision(&c, 0), ==, rev);
    json_t *g = call("GET", TWO, NULL, NULL, 200);
    CHECK(json_equal(g, d));
    json_decref(g);
    json_decref(d);
}

/* ---- dryRun ---- */

TEST_T(dry_run_checks_everything_and_stores_nothing, 90)
{
    start_one();
    call_drop("POST", CMS, NULL, "{'metadata':{'name':'x'},'data':{'a':'1'}}", 201);
    call_drop("POST", DEPLOYS, NULL, two, 201);
    long long rev = member_revision(&c, 0);

    /* create: the object as it would be stored, not stored. */
    json_t *o = call("POST", CMS "?dryRun=All", NULL, "{'metadata':{'name':'y'},'data':{'a':'1'}}",
                     201);
    CHECK(strlen(orc_json_str(o, "metadata.uid")) == 36);
    CHECK(orc_json_get(o, "metadata.resourceVersion") == NULL);
    json_decref(o);
    call_drop("GET", CMS "/y", NULL, NULL, 404);
    /* ... with every check: existing name, missing namespace, validation. */
    call_drop("POST", CMS "?dryRun=All", NULL, "{'metadata':{'name':'x'}}", 409);
    call_drop("POST", "/api/v1/namespaces/nope/configmaps?dryRun=All", NULL,
              "{'metadata':{'name':'y'}}", 404);
    call_drop("POST", CMS "?dryRun=All", NULL, "{'metadata':{'name':'Bad_Name'}}", 422);
    /* update, patches, subresources. */
    o = call("PUT", CMS "/x?dryRun=All", NULL, "{'metadata':{'name':'x'},'data':{'a':'2'}}", 200);
    CHECK_STR(orc_json_str(o, "data.a"), "2");
    json_decref(o);
    call_drop("PATCH", CMS "/x?dryRun=All", MERGE, "{'data':{'a':'3'}}", 200);
    call_drop("PATCH", CMS "/x?dryRun=All", JSONPATCH, "[{'op':'remove','path':'/data'}]", 200);
    o = call("PATCH", TWO "?dryRun=All", SMP,
             "{'spec':{'template':{'spec':{'containers':[{'name':'app','image':'nginx:2'}]}}}}", 200);
    CHECK_STR(image_of(o, 0), "nginx:2");
    json_decref(o);
    call_drop("PUT", TWO "/scale?dryRun=All", NULL,
              "{'kind':'Scale','apiVersion':'autoscaling/v1','metadata':{'name':'two'},"
              "'spec':{'replicas':9}}",
              200);
    call_drop("PATCH", TWO "/status?dryRun=All", MERGE, "{'status':{'replicas':5}}", 200);
    /* delete: from the query and from a DeleteOptions body, as kubectl sends it. */
    o = call("DELETE", CMS "/x?dryRun=All", NULL, NULL, 200);
    CHECK_STR(orc_json_str(o, "metadata.name"), "x");
    json_decref(o);
    call_drop("DELETE", CMS "/x", NULL,
              "{'kind':'DeleteOptions','apiVersion':'v1','propagationPolicy':'Background',"
              "'dryRun':['All']}",
              200);
    call_drop("DELETE", TWO, NULL, "{'dryRun':['All'],'propagationPolicy':'Foreground'}", 200);

    CHECK_INT(member_revision(&c, 0), ==, rev);
    o = call("GET", CMS "/x", NULL, NULL, 200);
    CHECK_STR(orc_json_str(o, "data.a"), "1");
    json_decref(o);
    o = call("GET", TWO, NULL, NULL, 200);
    CHECK_STR(image_of(o, 0), "nginx:1.25");
    CHECK_INT(json_integer_value(orc_json_get(o, "spec.replicas")), ==, 1);
    CHECK(orc_json_get(o, "metadata.deletionTimestamp") == NULL);
    json_decref(o);
}

TEST_T(unknown_dry_run_values_are_refused, 60)
{
    start_one();
    call_drop("POST", CMS, NULL, "{'metadata':{'name':'x'}}", 201);
    long long rev = member_revision(&c, 0);
    /* Kubernetes' option validation: 422 naming the option; nothing happens. */
    check_message(call("POST", CMS "?dryRun=all", NULL, "{'metadata':{'name':'y'}}", 422),
                  "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: "
                  "[]string{\"all\"}: supported values: \"All\"");
    check_message(call("PATCH", CMS "/x?dryRun=All&dryRun=Some", MERGE, "{'data':{'a':'1'}}", 422),
                  "PatchOptions.meta.k8s.io");
    check_message(call("DELETE", CMS "/x", NULL, "{'dryRun':['Everything']}", 422),
                  "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun");
    check_message(call("DELETE", CMS "/x?dryRun=", NULL, NULL, 422), "dryRun");
    CHECK_INT(member_revision(&c, 0), ==, rev);
    call_drop("GET", CMS "/x", NULL, NULL, 200);
    call_drop("GET", CMS "/y", NULL, NULL, 404);
}

/* ---- DeleteOptions in the body ---- */

TEST_T(delete_options_from_the_body, 90)
{
    start_one();
    json_t *cm = call("POST", CMS, NULL, "{'metadata':{'name':'x'}}", 201);
    long long rev = member_revision(&c, 0);
    /* Preconditions that do not hold: 409, nothing deleted. */
    check_message(call("DELETE", CMS "/x", NULL,
                       "{'kind':'DeleteOptions','apiVersion':'v1','preconditions':{'uid':"
                       "'00000000-0000-0000-0000-000000000000'}}",
                       409),
                  "Precondition failed: UID in precondition");
    check_message(call("DELETE", CMS "/x", NULL, "{'preconditions':{'resourceVersion':'1'}}", 409),
                  "ResourceVersion in precondition");
    /* Malformed or contradictory options: refused before anything else. */
    check_message(call("DELETE", CMS "/x", NULL, "{'gracePeriodSeconds':'soon'}", 400),
                  "gracePeriodSeconds must be an integer");
    check_message(call("DELETE", CMS "/x", NULL, "{'kind':'Pod'}", 400), "DeleteOptions");
    check_message(call("DELETE", CMS "/x", NULL,
                       "{'orphanDependents':true,'propagationPolicy':'Foreground'}", 422),
                  "cannot be both set");
    check_message(call("DELETE", CMS "/x?propagationPolicy=Sometimes", NULL, NULL, 422),
                  "propagationPolicy: Unsupported value: \"Sometimes\"");
    CHECK_INT(member_revision(&c, 0), ==, rev);
    /* Matching preconditions and a policy from the body. */
    char body[256];
    snprintf(body, sizeof body, "{'preconditions':{'uid':'%s'},'propagationPolicy':'Orphan'}",
             orc_json_str(cm, "metadata.uid"));
    json_t *d = call("DELETE", CMS "/x", NULL, body, 200);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(d, "metadata.finalizers"), 0)),
              "orphan");
    json_decref(d);
    json_decref(cm);
    /* gracePeriodSeconds from the body: a bound pod goes at once with 0. */
    call_drop("POST", "/api/v1/namespaces/default/pods", NULL,
              "{'metadata':{'name':'p'},'spec':{'nodeName':'n1','containers':[{'name':'c',"
              "'image':'busybox'}]}}",
              201);
    call_drop("DELETE", "/api/v1/namespaces/default/pods/p", NULL, "{'gracePeriodSeconds':0}", 200);
    call_drop("GET", "/api/v1/namespaces/default/pods/p", NULL, NULL, 404);
}

/* ---- fieldValidation ---- */

TEST_T(field_validation_strict_ignore_warn, 60)
{
    char *warn = NULL;
    start_one();
    long long rev = member_revision(&c, 0);
    check_message(call("POST", CMS "?fieldValidation=Strict", NULL,
                       "{'metadata':{'name':'x','colour':'red'},'dta':{}}", 400),
                  "strict decoding error: unknown field \"metadata.colour\", unknown field \"dta\"");
    CHECK_INT(member_revision(&c, 0), ==, rev);
    check_message(call("POST", CMS "?fieldValidation=Loose", NULL, "{'metadata':{'name':'x'}}", 422),
                  "fieldValidation: Unsupported value: \"Loose\"");
    check_message(call("POST", CMS "?fieldManager=%01x", NULL, "{'metadata':{'name':'x'}}", 422),
                  "fieldManager");
    /* Ignore: pruned without a word; Warn (the default): pruned with a warning. */
    call_drop("POST", CMS "?fieldValidation=Ignore&fieldManager=kubectl-create", NULL,
              "{'metadata':{'name':'x'},'dta':{}}", 201);
    json_decref(call_w("PATCH", CMS "/x?fieldValidation=Ignore", MERGE, "{'dta':{'a':'b'}}", 200,
                       &warn));
    CHECKF(warn == NULL, "warning: %s", warn);
    json_decref(call_w("PATCH", CMS "/x", SMP, "{'dta':{'a':'b'}}", 200, &warn));
    CHECKF(warn && strstr(warn, "unknown field") && strstr(warn, "dta"), "warning: %s",
           warn ? warn : "(none)");
    free(warn);
    rev = member_revision(&c, 0);
    check_message(call("PATCH", CMS "/x?fieldValidation=Strict", SMP, "{'dta':{'a':'b'}}", 400),
                  "unknown field \"dta\"");
    check_message(call("PUT", CMS "/x?fieldValidation=Strict", NULL,
                       "{'metadata':{'name':'x'},'data':{'a':'b'},'extra':1}", 400),
                  "unknown field \"extra\"");
    check_message(call("PATCH", CMS "/x?force=true", MERGE, "{'data':{'a':'b'}}", 422),
                  "force: Forbidden");
    CHECK_INT(member_revision(&c, 0), ==, rev);
}
