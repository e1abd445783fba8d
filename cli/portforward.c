/* portforward.c — `orctl port-forward TYPE/NAME [LOCAL:]REMOTE...`: as
 * kubectl does, the target is resolved here to one pod (pod/NAME; a
 * Service's, or a workload's, selector to a running pod) and each remote
 * port to the pod's port (a Service port to its targetPort, a named port
 * to the container's number); the forwarding itself is pf_stream.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"

/* The container port named `name` in pod, or 0. */
static int named_port(const json_t *pod, const char *name)
{
    json_t *c, *p;
    size_t i, j;

    json_array_foreach(orc_json_get(pod, "spec.containers"), i, c) json_array_foreach(json_object_get(c, "ports"), j, p)
    {
        const char *n = orc_json_str(p, "name");
        if (n && strcmp(n, name) == 0) return (int)json_integer_value(json_object_get(p, "containerPort"));
    }
    return 0;
}

/* A Service's port to what it targets on the pod: 0 when it has no such port. */
static int service_target(const json_t *svc, const json_t *pod, int port)
{
    json_t *p, *t;
    size_t i;

    json_array_foreach(orc_json_get(svc, "spec.ports"), i, p)
    {
        if (json_integer_value(json_object_get(p, "port")) != port) continue;
        t = json_object_get(p, "targetPort");
        if (json_is_integer(t)) return (int)json_integer_value(t);
        if (json_is_string(t)) return named_port(pod, json_string_value(t));
        return port;
    }
    return 0;
}

/* "k=v,k2=v2" from a label map. */
static int selector_text(const json_t *map, struct orc_buf *out)
{
    const char *k;
    json_t *v;
    int rv = 0;

    json_object_foreach((json_t *)map, k, v) if (rv == 0 && json_is_string(v))
        rv = orc_buf_printf(out, "%s%s=%s", out->len ? "," : "", k, json_string_value(v));
    return out->len ? rv : ORC_EINVAL;
}

/* The first running pod the selector matches (a new reference), or NULL. */
static json_t *pod_for_selector(cli_ctx *x, const json_t *map, const char *what)
{
    struct orc_buf sel = ORC_BUF_INIT, path = ORC_BUF_INIT;
    json_t *list = NULL, *p, *found = NULL;
    int status = 0;
    size_t i;

    if (selector_text(map, &sel) != 0) {
        fprintf(x->err, "error: %s has no selector to find a pod with\n", what);
        goto out;
    }
    if (orc_buf_printf(&path, "/api/v1/namespaces/%s/pods", x->ns) != 0
        || cli_query_add(&path, "labelSelector", sel.data) != 0
        || cli_request_json(x, "GET", path.data, NULL, NULL, &status, &list) != 0)
        goto out;
    json_array_foreach(json_object_get(list, "items"), i, p)
    {
        const char *phase = orc_json_str(p, "status.phase");
        if (phase && strcmp(phase, "Running") == 0 && orc_json_get(p, "metadata.deletionTimestamp") == NULL) {
            found = json_incref(p);
            break;
        }
    }
    if (found == NULL) fprintf(x->err, "error: no running pod for %s\n", what);
out:
    json_decref(list);
    orc_buf_free(&sel);
    orc_buf_free(&path);
    return found;
}

static json_t *get_object(cli_ctx *x, const struct orc_kind *k, const char *name)
{
    struct orc_buf path = ORC_BUF_INIT;
    json_t *obj = NULL;
    int status = 0;

    if (cli_object_path(k, x->ns, name, NULL, &path) == 0
        && cli_request_json(x, "GET", path.data, NULL, NULL, &status, &obj) == 0
        && status != 200) {
        cli_print_failure(x, status, obj);
        json_decref(obj);
        obj = NULL;
    }
    orc_buf_free(&path);
    return obj;
}

/* TYPE/NAME (or NAME: a pod) to a pod object; *svc the Service when it
 * was one (both new references). */
static json_t *resolve(cli_ctx *x, const char *target, json_t **svc)
{
    const char *slash = strchr(target, '/');
    char type[64], what[320];
    const struct orc_kind *k;
    json_t *obj, *pod;

    *svc = NULL;
    snprintf(type, sizeof type, "%.*s", slash ? (int)(slash - target) : 3, slash ? target : "pod");
    if ((k = orc_kind_lookup(type)) == NULL || !k->namespaced) {
        fprintf(x->err, "error: the server doesn't have a resource type \"%s\"\n", type);
        return NULL;
    }
    if ((obj = get_object(x, k, slash ? slash + 1 : target)) == NULL) return NULL;
    if (strcmp(k->resource, "pods") == 0) return obj;
    snprintf(what, sizeof what, "%s/%s", k->singular, slash + 1);
    if (strcmp(k->resource, "services") == 0) {
        pod = pod_for_selector(x, orc_json_get(obj, "spec.selector"), what);
        *svc = obj;
        return pod;
    }
    pod = pod_for_selector(x, orc_json_get(obj, "spec.selector.matchLabels"), what);
    json_decref(obj);
    return pod;
}

/* "[LOCAL:]REMOTE" into ports; REMOTE may name a container port. */
static int parse_port(cli_ctx *x, const char *arg, const json_t *pod, const json_t *svc, struct cli_pf_port *out)
{
    const char *colon = strchr(arg, ':'), *remote = colon ? colon + 1 : arg;
    char *end;
    long r = strtol(remote, &end, 10), l;

    if (*remote == '\0' || *end != '\0') r = svc ? 0 : named_port(pod, remote);
    else if (svc) r = service_target(svc, pod, (int)r);
    l = colon ? (colon == arg ? 0 : strtol(arg, &end, 10)) : (svc ? strtol(remote, &end, 10) : r);
    if ((colon && colon != arg && end != colon) || r <= 0 || r > 65535 || l < 0 || l > 65535) {
        fprintf(x->err, "error: %s: not a port%s\n", arg, svc ? " the Service exposes" : " of the pod");
        return ORC_EINVAL;
    }
    out->local = (int)l;
    out->remote = (int)r;
    return 0;
}

int cli_cmd_port_forward(cli_ctx *x, int argc, char **argv)
{
    const char *address = "127.0.0.1";
    struct cli_strv pos = {0};
    struct cli_pf_port ports[16];
    struct orc_buf path = ORC_BUF_INIT;
    const struct cli_flag flags[] = {
        {"address", 0, CLI_FLAG_STRING, &address, "IP", "The local address to listen on (default 127.0.0.1)"},
    };
    json_t *pod = NULL, *svc = NULL;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n < 2) rv = cli_usage_error(x, "TYPE/NAME and a list of ports are required for port-forward");
    else if (pos.n - 1 > ORC_ARRAY_LEN(ports)) rv = cli_usage_error(x, "at most %zu ports", ORC_ARRAY_LEN(ports));
    else if (cli_connect(x) != 0 || (pod = resolve(x, pos.v[0], &svc)) == NULL) rv = CLI_EXIT_FAIL;
    for (size_t i = 1; rv == 0 && i < pos.n; i++)
        if (parse_port(x, pos.v[i], pod, svc, &ports[i - 1]) != 0) rv = CLI_EXIT_FAIL;
    if (rv == 0
        && cli_object_path(orc_kind_lookup("pods"), x->ns, orc_json_str(pod, "metadata.name"), "portforward", &path)
               != 0)
        rv = CLI_EXIT_FAIL;
    if (rv == 0) rv = cli_port_forward(x, path.data, address, ports, pos.n - 1);
    json_decref(pod);
    json_decref(svc);
    orc_buf_free(&path);
    cli_strv_free(&pos);
    return rv;
}
