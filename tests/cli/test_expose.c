/* test_expose.c — `orctl expose`: the Service it makes for each kind (the
 * selector, labels and ports kubectl expose takes; several container
 * ports named port-N; --port/--target-port/--type/--name), what it refuses
 * in kubectl's words, and end to end against a real `orcd server`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/jsq.h"
#include "tests/harness/test.h"

static const char deploy_json[] =
    "{'kind':'Deployment','metadata':{'name':'my-nginx','labels':{'run':'my-nginx'}},'spec':{"
    "'selector':{'matchLabels':{'run':'my-nginx'}},'template':{'metadata':{'labels':{'run':'my-nginx'}},"
    "'spec':{'containers':[{'name':'nginx','image':'nginx','ports':[{'containerPort':80}]}]}}}}";

static json_t *expose(const char *obj_text, const struct cli_expose *o, int want, char *err)
{
    json_t *obj = js(obj_text), *svc = NULL;
    int rv = cli_expose_service(obj, o, &svc, err, 256);
    CHECKF(rv == want, "rv %d, want %d: %s", rv, want, err);
    json_decref(obj);
    return svc;
}

TEST(a_deployment_gives_its_selector_labels_and_ports)
{
    struct cli_expose o = {0};
    char err[256];
    json_t *svc = expose(deploy_json, &o, 0, err);
    json_t *want = js("{'apiVersion':'v1','kind':'Service','metadata':{'name':'my-nginx','labels':"
                      "{'run':'my-nginx'}},'spec':{'ports':[{'protocol':'TCP','port':80,'targetPort':80}],"
                      "'selector':{'run':'my-nginx'},'type':'ClusterIP'}}");
    CHECKF(json_equal(svc, want), "%s", json_dumps(svc, JSON_COMPACT));
    json_decref(svc);
    json_decref(want);

    /* --port and a named --target-port, another name and type */
    o = (struct cli_expose){.port = 8080, .target_port = "http", .name = "web", .type = "NodePort"};
    svc = expose(deploy_json, &o, 0, err);
    CHECK_STR(orc_json_str(svc, "metadata.name"), "web");
    CHECK_STR(orc_json_str(svc, "spec.type"), "NodePort");
    const json_t *p = json_array_get(orc_json_get(svc, "spec.ports"), 0);
    CHECK_INT(json_integer_value(json_object_get(p, "port")), ==, 8080);
    CHECK_STR(orc_json_str(p, "targetPort"), "http");
    json_decref(svc);
}

TEST(several_ports_pods_and_refusals)
{
    struct cli_expose o = {0};
    char err[256];
    json_t *svc = expose("{'kind':'Pod','metadata':{'name':'p','labels':{'app':'x'}},'spec':{'containers':["
                         "{'name':'a','ports':[{'containerPort':80},{'containerPort':53,'protocol':'UDP'}]}]}}",
                         &o, 0, err);
    const json_t *ports = orc_json_get(svc, "spec.ports");
    CHECK_INT(json_array_size(ports), ==, 2);
    CHECK_STR(orc_json_str(json_array_get(ports, 0), "name"), "port-1");
    CHECK_STR(orc_json_str(json_array_get(ports, 1), "protocol"), "UDP");
    CHECK_STR(orc_json_str(svc, "spec.selector.app"), "x");
    json_decref(svc);

    CHECK(expose("{'kind':'Deployment','metadata':{'name':'d'},'spec':{'selector':{'matchLabels':{'a':'b'}},"
                 "'template':{'spec':{'containers':[{'name':'c'}]}}}}", &o, ORC_EINVAL, err) == NULL);
    CHECK_STR(err, "couldn't find port via --port flag or introspection");
    CHECK(expose("{'kind':'Deployment','metadata':{'name':'d'},'spec':{'selector':{'matchExpressions':"
                 "[{'key':'a','operator':'Exists'}]}}}", &o, ORC_EINVAL, err) == NULL);
    CHECK(strstr(err, "couldn't convert expressions") != NULL);
    CHECK(expose("{'kind':'ConfigMap','metadata':{'name':'c'}}", &o, ORC_EINVAL, err) == NULL);
    CHECK_STR(err, "cannot expose a ConfigMap");
}

TEST_T(orctl_expose_makes_the_service, 60)
{
    static struct cluster c;
    char *out, *err;
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);

    /* the walkthrough's run-my-nginx.yaml, scaled to none */
    static const char yaml[] =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: my-nginx\nspec:\n"
        "  selector:\n    matchLabels:\n      run: my-nginx\n  replicas: 0\n  template:\n"
        "    metadata:\n      labels:\n        run: my-nginx\n    spec:\n      containers:\n"
        "      - name: my-nginx\n        image: nginx\n        ports:\n        - containerPort: 80\n";
    CHECK_INT(run_orctl_in(&c, yaml, &out, &err, "apply", "-f", "-", NULL), ==, 0);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "expose", "deployment/my-nginx", NULL), ==, 0);
    CHECK_STR(out, "service/my-nginx exposed\n");
    free(out);
    free(err);
    int st = 0;
    json_t *svc = t_json(&c, 0, "GET", "/api/v1/namespaces/default/services/my-nginx", NULL, &st);
    CHECK_INT(st, ==, 200);
    CHECK_STR(orc_json_str(svc, "spec.selector.run"), "my-nginx");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(orc_json_get(svc, "spec.ports"), 0), "port")), ==, 80);
    CHECK(orc_json_str(svc, "spec.clusterIP") != NULL);
    json_decref(svc);
    /* again: the Service exists, kubectl's error, exit 1 */
    CHECK_INT(run_orctl(&c, &out, &err, "expose", "deploy", "my-nginx", NULL), ==, 1);
    CHECKF(strstr(err, "already exists") != NULL, "%s", err);
    free(out);
    free(err);
}
