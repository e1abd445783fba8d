/* probe_spec.c — reads and validates a Kubernetes probe object (exec,
 * httpGet, tcpSocket and the timing fields) into a struct probe_cfg. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/probe_int.h"
#include "lib/orc.h"

#define ERRLEN 256
#define MAX_SECONDS 2147483647LL

static int bad(char *errmsg, const char *fmt, const char *a, const char *b)
{
    return orc_errf(errmsg, ERRLEN, ORC_EINVAL, fmt, a, b ? b : "");
}

/* A non-negative integer field; `def` when absent (or 0 where 0 means default). */
static int get_int(const json_t *spec, const char *name, bool zero_default, int64_t def,
                   int64_t *out, char *errmsg)
{
    json_t *v = json_object_get(spec, name);

    *out = def;
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_integer(v)) return bad(errmsg, "%s: must be an integer%s", name, NULL);
    if (json_integer_value(v) < 0) return bad(errmsg, "%s: must be greater than or equal to 0%s", name, NULL);
    if (json_integer_value(v) > MAX_SECONDS) return bad(errmsg, "%s: must be at most 2147483647%s", name, NULL);
    if (json_integer_value(v) > 0 || !zero_default) *out = json_integer_value(v);
    return 0;
}

static int parse_timing(const json_t *spec, struct probe_cfg *cfg, char *errmsg)
{
    int64_t delay, period, timeout, fail, ok, grace;
    int rv = get_int(spec, "initialDelaySeconds", false, 0, &delay, errmsg);

    if (rv == 0) rv = get_int(spec, "periodSeconds", true, 10, &period, errmsg);
    if (rv == 0) rv = get_int(spec, "timeoutSeconds", true, 1, &timeout, errmsg);
    if (rv == 0) rv = get_int(spec, "failureThreshold", true, 3, &fail, errmsg);
    if (rv == 0) rv = get_int(spec, "successThreshold", true, 1, &ok, errmsg);
    if (rv == 0) rv = get_int(spec, "terminationGracePeriodSeconds", false, 0, &grace, errmsg);
    if (rv != 0) return rv;
    cfg->initial_delay_ms = (uint64_t)delay * 1000;
    cfg->period_ms = (uint64_t)period * 1000;
    cfg->timeout_ms = (uint64_t)timeout * 1000;
    cfg->failure_threshold = (unsigned)fail;
    cfg->success_threshold = (unsigned)ok;
    return 0;
}

static bool has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

static int parse_exec(const json_t *h, struct probe_cfg *cfg, char *errmsg)
{
    json_t *cmd = json_object_get(h, "command"), *v;
    size_t i, n = json_array_size(cmd);

    if (!json_is_array(cmd) || n == 0) return bad(errmsg, "exec.command: Required value%s", "", NULL);
    if ((cfg->argv = calloc(n + 1, sizeof *cfg->argv)) == NULL) return ORC_ENOMEM;
    json_array_foreach(cmd, i, v) {
        if (!json_is_string(v))
            return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "exec.command[%zu]: must be a string", i);
        if ((cfg->argv[i] = strdup(json_string_value(v))) == NULL) return ORC_ENOMEM;
    }
    cfg->kind = PROBE_EXEC;
    return 0;
}

static int named_port(const json_t *container, const char *name, int *port)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(container, "ports"), i, p) {
        const char *n = json_string_value(json_object_get(p, "name"));
        json_int_t v = json_integer_value(json_object_get(p, "containerPort"));
        if (n && strcmp(n, name) == 0 && v > 0 && v < 65536) {
            *port = (int)v;
            return 0;
        }
    }
    return ORC_ENOENT;
}

static int parse_port(const json_t *h, const char *kind, const json_t *container, int *port,
                      char *errmsg)
{
    json_t *v = json_object_get(h, "port");
    char field[32];

    snprintf(field, sizeof field, "%s.port", kind);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 1 || json_integer_value(v) > 65535)
            return bad(errmsg, "%s: must be between 1 and 65535, inclusive%s", field, NULL);
        *port = (int)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad(errmsg, "%s: Required value%s", field, NULL);
    if (named_port(container, json_string_value(v), port) != 0)
        return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "%s: no container port named \"%s\"", field,
                        json_string_value(v));
    return 0;
}

static int parse_host(const json_t *h, const char *kind, struct probe_cfg *cfg, char *errmsg)
{
    const char *host = json_string_value(json_object_get(h, "host"));
    unsigned char tmp[16];

    if (host == NULL || *host == '\0') return 0;
    if (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1)
        return bad(errmsg, "%s.host: must be an IP address (got \"%s\")", kind, host);
    return (cfg->host = strdup(host)) ? 0 : ORC_ENOMEM;
}

static int add_header(struct probe_cfg *cfg, const json_t *hd, char *errmsg)
{
    const char *n = json_string_value(json_object_get(hd, "name"));
    const char *v = json_string_value(json_object_get(hd, "value"));

    if (n == NULL || *n == '\0' || strpbrk(n, "\r\n: \t"))
        return bad(errmsg, "httpGet.httpHeaders.name: must be a valid HTTP header name%s", "", NULL);
    if (v == NULL) v = "";
    if (has_crlf(v)) return bad(errmsg, "httpGet.httpHeaders[%s].value: must not hold CR or LF%s", n, NULL);
    cfg->set_host |= strcasecmp(n, "Host") == 0;
    cfg->set_agent |= strcasecmp(n, "User-Agent") == 0;
    cfg->set_accept |= strcasecmp(n, "Accept") == 0;
    return orc_buf_printf(&cfg->headers, "%s: %s\r\n", n, v);
}

static int parse_http(const json_t *h, const json_t *container, struct probe_cfg *cfg, char *errmsg)
{
    const char *path = json_string_value(json_object_get(h, "path"));
    const char *scheme = json_string_value(json_object_get(h, "scheme"));
    json_t *hd;
    size_t i;
    int rv = parse_port(h, "httpGet", container, &cfg->port, errmsg);

    if (rv == 0) rv = parse_host(h, "httpGet", cfg, errmsg);
    if (rv != 0) return rv;
    if (scheme && *scheme && strcmp(scheme, "HTTP") != 0 && strcmp(scheme, "HTTPS") != 0)
        return bad(errmsg, "httpGet.scheme: Unsupported value: \"%s\": supported values: \"HTTP\", \"HTTPS\"%s",
                   scheme, NULL);
    cfg->https = scheme && strcmp(scheme, "HTTPS") == 0;
    if (path == NULL || *path == '\0') path = "/";
    if (strpbrk(path, "\r\n \t")) return bad(errmsg, "httpGet.path: must not hold spaces, CR or LF%s", "", NULL);
    cfg->path = malloc(strlen(path) + 2);
    if (cfg->path == NULL) return ORC_ENOMEM;
    snprintf(cfg->path, strlen(path) + 2, "%s%s", path[0] == '/' ? "" : "/", path);
    json_array_foreach(json_object_get(h, "httpHeaders"), i, hd)
        if ((rv = add_header(cfg, hd, errmsg)) != 0) return rv;
    cfg->kind = PROBE_HTTP;
    return 0;
}

static int parse_tcp(const json_t *h, const json_t *container, struct probe_cfg *cfg, char *errmsg)
{
    int rv = parse_port(h, "tcpSocket", container, &cfg->port, errmsg);

    if (rv == 0) rv = parse_host(h, "tcpSocket", cfg, errmsg);
    cfg->kind = PROBE_TCP;
    return rv;
}

static int parse_handler(const json_t *spec, const json_t *container, struct probe_cfg *cfg,
                         char *errmsg)
{
    json_t *ex = json_object_get(spec, "exec"), *hg = json_object_get(spec, "httpGet");
    json_t *ts = json_object_get(spec, "tcpSocket"), *gr = json_object_get(spec, "grpc");
    int n = (ex != NULL) + (hg != NULL) + (ts != NULL) + (gr != NULL);

    if (n == 0) return bad(errmsg, "must specify a handler type (exec, httpGet or tcpSocket)%s", "", NULL);
    if (n > 1) return bad(errmsg, "may not specify more than 1 handler type%s", "", NULL);
    if (gr) return bad(errmsg, "grpc: grpc probes are not supported%s", "", NULL);
    if (!json_is_object(ex ? ex : hg ? hg : ts))
        return bad(errmsg, "%s: must be an object%s", ex ? "exec" : hg ? "httpGet" : "tcpSocket", NULL);
    if (ex) return parse_exec(ex, cfg, errmsg);
    if (hg) return parse_http(hg, container, cfg, errmsg);
    return parse_tcp(ts, container, cfg, errmsg);
}

int probe_cfg_parse(const json_t *spec, const json_t *container, struct probe_cfg *cfg, char *errmsg)
{
    int rv;

    memset(cfg, 0, sizeof *cfg);
    if (!json_is_object(spec)) return bad(errmsg, "probe: must be an object%s", "", NULL);
    rv = parse_timing(spec, cfg, errmsg);
    if (rv == 0) rv = parse_handler(spec, container, cfg, errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, ERRLEN, rv, "out of memory");
    if (rv != 0) probe_cfg_free(cfg);
    return rv;
}

void probe_cfg_free(struct probe_cfg *cfg)
{
    for (char **a = cfg->argv; a && *a; a++) free(*a);
    free(cfg->argv);
    free(cfg->host);
    free(cfg->path);
    orc_buf_free(&cfg->headers);
    memset(cfg, 0, sizeof *cfg);
}

int probe_check(const json_t *spec, const json_t *container, char *errmsg)
{
    struct probe_cfg cfg;
    int rv = probe_cfg_parse(spec, container, &cfg, errmsg);

    if (rv == 0) probe_cfg_free(&cfg);
    return rv;
}
