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
    else if (cli_connect(x) != 0 || (pod = cli_pod_for(x, pos.v[0], true, &svc)) == NULL) rv = CLI_EXIT_FAIL;
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
