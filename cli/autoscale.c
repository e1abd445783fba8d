/* autoscale.c — `orctl autoscale`: a HorizontalPodAutoscaler (autoscaling/v2)
 * for a Deployment, ReplicaSet or StatefulSet, as kubectl autoscale makes
 * it: named as the target, --min/--max replicas, and a CPU utilization
 * target when --cpu-percent is given (else the server's default, 80 %). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

struct autoscale_opts {
    long long min, max, cpu;
    const char *name;
};

static bool scalable(const char *kind)
{
    return strcmp(kind, "Deployment") == 0 || strcmp(kind, "ReplicaSet") == 0
           || strcmp(kind, "StatefulSet") == 0 || strcmp(kind, "ReplicationController") == 0;
}

static json_t *hpa_for(const struct orc_kind *k, const char *target, const struct autoscale_opts *o)
{
    json_t *spec = json_pack("{s:{s:s, s:s, s:s}, s:I}", "scaleTargetRef", "apiVersion",
                             orc_kind_api_version(k), "kind", k->kind, "name", target,
                             "maxReplicas", (json_int_t)o->max);

    if (spec && o->min > 0) json_object_set_new(spec, "minReplicas", json_integer(o->min));
    if (spec && o->cpu >= 0)
        json_object_set_new(spec, "metrics",
                            json_pack("[{s:s, s:{s:s, s:{s:s, s:I}}}]", "type", "Resource", "resource",
                                      "name", "cpu", "target", "type", "Utilization",
                                      "averageUtilization", (json_int_t)o->cpu));
    return spec ? json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", "autoscaling/v2", "kind",
                            "HorizontalPodAutoscaler", "metadata", "name", o->name ? o->name : target,
                            "spec", spec)
                : NULL;
}

static int autoscale_one(cli_ctx *x, const struct autoscale_opts *o, const struct orc_kind *k,
                         const char *name)
{
    struct orc_buf path = ORC_BUF_INIT, hpath = ORC_BUF_INIT;
    json_t *obj = NULL, *hpa = NULL, *reply = NULL;
    int status = 0, rv = cli_object_path(k, x->ns, name, NULL, &path);

    if (rv == 0) rv = cli_request_json(x, "GET", path.data, NULL, NULL, &status, &obj);
    if (rv == 0 && status != 200) {
        cli_print_failure(x, status, obj);
        rv = ORC_EINVAL;
    }
    if (rv == 0 && (hpa = hpa_for(k, name, o)) == NULL) rv = ORC_ENOMEM;
    if (rv == 0)
        rv = cli_object_path(orc_kind_lookup("horizontalpodautoscalers.autoscaling"), x->ns, NULL, NULL, &hpath);
    if (rv == 0) rv = cli_request_json(x, "POST", hpath.data, NULL, hpa, &status, &reply);
    if (rv == 0 && status == 201) {
        fprintf(x->out, "horizontalpodautoscaler.autoscaling/%s autoscaled\n",
                orc_json_str(hpa, "metadata.name"));
        fflush(x->out);
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(obj);
    json_decref(hpa);
    json_decref(reply);
    orc_buf_free(&path);
    orc_buf_free(&hpath);
    return rv;
}

int cli_cmd_autoscale(cli_ctx *x, int argc, char **argv)
{
    struct autoscale_opts o = {-1, -1, -1, NULL};
    struct cli_strv pos = {0};
    struct cli_targets t = {0};
    const struct cli_flag flags[] = {
        {"min", 0, CLI_FLAG_INT, &o.min, "N", "The lower limit of replicas (default: the server's, 1)"},
        {"max", 0, CLI_FLAG_INT, &o.max, "N", "The upper limit of replicas (required)"},
        {"cpu-percent", 0, CLI_FLAG_INT, &o.cpu, "N",
         "The target average CPU utilization, in percent of the pods' requests (default: the "
         "server's, 80)"},
        {"name", 0, CLI_FLAG_STRING, &o.name, "NAME", "The autoscaler's name (default: the target's)"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n == 0) rv = cli_usage_error(x, "you must name the object to autoscale (KIND/NAME or KIND NAME)");
    else if (o.max < 1) rv = cli_usage_error(x, "--max=MAXPODS is required and must be at least 1");
    else if (o.min > o.max) rv = cli_usage_error(x, "--max=MAXPODS must be larger or equal to --min=MINPODS");
    else if (cli_targets_parse(x, pos.v, pos.n, &t) != 0) rv = CLI_EXIT_FAIL;
    else if (t.n != 1 || !t.v[0].name) rv = cli_usage_error(x, "autoscale takes one object (KIND/NAME or KIND NAME)");
    else if (!scalable(t.v[0].kind->kind))
        rv = cli_usage_error(x, "cannot autoscale a %s: Deployments, ReplicaSets and StatefulSets can be",
                             t.v[0].kind->kind);
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    else rv = autoscale_one(x, &o, t.v[0].kind, t.v[0].name) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    cli_targets_free(&t);
    cli_strv_free(&pos);
    return rv;
}
