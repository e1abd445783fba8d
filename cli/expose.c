/* expose.c — `orctl expose`: a Service for a Deployment, ReplicaSet, pod or
 * Service, as kubectl expose makes it: the object's selector (a pod's
 * labels), its labels, and its container ports unless --port names one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

/* The selector of `obj` as a Service takes it (matchLabels only). */
static json_t *selector_of(const json_t *obj, const char *kind, char *err, size_t n)
{
    const json_t *sel;
    if (strcmp(kind, "Pod") == 0) sel = orc_json_get(obj, "metadata.labels");
    else if (strcmp(kind, "Service") == 0) sel = orc_json_get(obj, "spec.selector");
    else {
        const json_t *s = orc_json_get(obj, "spec.selector");
        if (json_array_size(json_object_get(s, "matchExpressions")) > 0) {
            snprintf(err, n, "couldn't convert expressions - \"%s\" to map-based selector format",
                     "matchExpressions");
            return NULL;
        }
        sel = json_object_get(s, "matchLabels");
    }
    if (json_object_size(sel) == 0) {
        snprintf(err, n, "couldn't retrieve selectors via --selector flag or introspection: the %s "
                 "has no selector", kind);
        return NULL;
    }
    return json_deep_copy(sel);
}

/* --target-port: a number, or a container port's name; --port without it. */
static json_t *target_port(const struct cli_expose *o)
{
    const char *t = o->target_port;
    if (!t || !*t) return json_integer(o->port);
    return strspn(t, "0123456789") == strlen(t) ? json_integer(atoll(t)) : json_string(t);
}

/* The Service's ports from the object's containers (or Service): one per
 * port, named port-1, port-2, ... when there are several, as kubectl. */
static json_t *ports_of(const json_t *obj, const char *kind, const struct cli_expose *o)
{
    json_t *out = json_array(), *p;
    size_t i, k;

    if (o->port > 0) {
        json_t *tp = target_port(o);
        json_array_append_new(out, json_pack("{s:s, s:I, s:o}", "protocol", o->protocol ? o->protocol : "TCP",
                                             "port", (json_int_t)o->port, "targetPort", tp));
        return out;
    }
    if (strcmp(kind, "Service") == 0) {
        json_array_foreach (orc_json_get(obj, "spec.ports"), i, p) {
            json_t *c = json_pack("{s:O?, s:O?, s:O?, s:O?}", "name", json_object_get(p, "name"),
                                  "protocol", json_object_get(p, "protocol"), "port", json_object_get(p, "port"),
                                  "targetPort", json_object_get(p, "targetPort"));
            json_array_append_new(out, c);
        }
        return out;
    }
    const char *spath = cli_pod_spec_path(kind);
    const json_t *containers = spath ? json_object_get(orc_json_get(obj, spath), "containers") : NULL, *c;
    json_array_foreach ((json_t *)containers, k, c) {
        json_array_foreach (json_object_get(c, "ports"), i, p) {
            json_t *num = json_object_get(p, "containerPort");
            const char *proto = o->protocol ? o->protocol : orc_json_str(p, "protocol");
            json_array_append_new(out, json_pack("{s:s, s:O, s:O}", "protocol", proto ? proto : "TCP", "port",
                                                 num, "targetPort", num));
        }
    }
    if (json_array_size(out) > 1) {
        json_array_foreach (out, i, p) {
            char name[32];
            snprintf(name, sizeof name, "port-%zu", i + 1);
            json_object_set_new(p, "name", json_string(name));
        }
    }
    return out;
}

int cli_expose_service(const json_t *obj, const struct cli_expose *o, json_t **svc, char *err, size_t n)
{
    const char *kind = orc_json_str(obj, "kind"), *name = o->name ? o->name : orc_json_str(obj, "metadata.name");
    const json_t *labels = orc_json_get(obj, "metadata.labels");
    json_t *sel = NULL, *ports = NULL;

    *svc = NULL;
    if (!kind || !name) return snprintf(err, n, "the object has no kind or name"), ORC_EINVAL;
    if (strcmp(kind, "Deployment") && strcmp(kind, "ReplicaSet") && strcmp(kind, "Pod")
        && strcmp(kind, "Service") && strcmp(kind, "ReplicationController")) {
        snprintf(err, n, "cannot expose a %s", kind);
        return ORC_EINVAL;
    }
    if (!(sel = selector_of(obj, kind, err, n))) return ORC_EINVAL;
    if (!(ports = ports_of(obj, kind, o)) || json_array_size(ports) == 0) {
        snprintf(err, n, "couldn't find port via --port flag or introspection");
        json_decref(sel);
        json_decref(ports);
        return ORC_EINVAL;
    }
    *svc = json_pack("{s:s, s:s, s:{s:s, s:O?}, s:{s:o, s:o, s:s}}", "apiVersion", "v1", "kind", "Service",
                     "metadata", "name", name, "labels", json_object_size(labels) ? labels : NULL, "spec",
                     "ports", ports, "selector", sel, "type", o->type ? o->type : "ClusterIP");
    return *svc ? 0 : ORC_ENOMEM;
}

static int expose_one(cli_ctx *x, const struct cli_expose *o, const struct orc_kind *k, const char *name)
{
    struct orc_buf path = ORC_BUF_INIT, spath = ORC_BUF_INIT;
    json_t *obj = NULL, *svc = NULL, *reply = NULL;
    char err[256];
    int status = 0, rv = cli_object_path(k, k->namespaced ? x->ns : NULL, name, NULL, &path);

    if (rv == 0) rv = cli_request_json(x, "GET", path.data, NULL, NULL, &status, &obj);
    if (rv == 0 && status != 200) {
        cli_print_failure(x, status, obj);
        rv = ORC_EINVAL;
    }
    if (rv == 0 && !orc_json_str(obj, "kind")) json_object_set_new(obj, "kind", json_string(k->kind));
    if (rv == 0 && (rv = cli_expose_service(obj, o, &svc, err, sizeof err)) != 0)
        fprintf(x->err, "error: %s\n", err);
    if (rv == 0) rv = cli_object_path(orc_kind_lookup("services"), x->ns, NULL, NULL, &spath);
    if (rv == 0) rv = cli_request_json(x, "POST", spath.data, NULL, svc, &status, &reply);
    if (rv == 0 && status == 201) {
        fprintf(x->out, "service/%s exposed\n", orc_json_str(svc, "metadata.name"));
        fflush(x->out);
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(obj);
    json_decref(svc);
    json_decref(reply);
    orc_buf_free(&path);
    orc_buf_free(&spath);
    return rv;
}

int cli_cmd_expose(cli_ctx *x, int argc, char **argv)
{
    struct cli_expose o = {0};
    struct cli_strv pos = {0};
    struct cli_targets t = {0};
    const struct cli_flag flags[] = {
        {"port", 0, CLI_FLAG_INT, &o.port, "N", "The port the Service serves on (default: the containers')"},
        {"target-port", 0, CLI_FLAG_STRING, &o.target_port, "P",
         "The container port (number or name) traffic goes to (default: --port)"},
        {"name", 0, CLI_FLAG_STRING, &o.name, "NAME", "The Service's name (default: the object's)"},
        {"type", 0, CLI_FLAG_STRING, &o.type, "TYPE", "ClusterIP (default), NodePort or LoadBalancer"},
        {"protocol", 0, CLI_FLAG_STRING, &o.protocol, "PROTO", "TCP (default), UDP or SCTP"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n == 0) rv = cli_usage_error(x, "you must name the object to expose (KIND/NAME or KIND NAME)");
    else if (cli_targets_parse(x, pos.v, pos.n, &t) != 0) rv = CLI_EXIT_FAIL;
    else if (t.n != 1 || !t.v[0].name) rv = cli_usage_error(x, "expose takes one object (KIND/NAME or KIND NAME)");
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    else rv = expose_one(x, &o, t.v[0].kind, t.v[0].name) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    cli_targets_free(&t);
    cli_strv_free(&pos);
    return rv;
}
