/* conn.c — where orctl finds its server (flags, config files), one request
 * at a time over the blocking client, and how failures read to a user:
 * kubectl's wording for Status errors, refused connections and warnings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "client/config.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/tls.h"

/* "30", "30s", "1500ms", "2m", "1h" -> milliseconds; -1 when unreadable. */
static long long parse_duration_ms(const char *s)
{
    char *end;
    long long n = strtoll(s, &end, 10);

    if (end == s || n < 0) return -1;
    if (*end == '\0' || strcmp(end, "s") == 0) return n * 1000;
    if (strcmp(end, "ms") == 0) return n;
    if (strcmp(end, "m") == 0) return n * 60000;
    if (strcmp(end, "h") == 0) return n * 3600000;
    return -1;
}

static void explain_missing_config(cli_ctx *x, const char *errmsg)
{
    const char *env = getenv("ORC_CONFIG");

    if (x->g.config)
        fprintf(x->err, "error: cannot read the config file given with --config: %s\n", errmsg);
    else if (env && *env)
        fprintf(x->err, "error: no configuration found: $ORC_CONFIG names %s, which cannot be "
                        "read; pass --config FILE or --server URL\n", env);
    else
        fprintf(x->err, "error: no configuration found: tried $ORC_CONFIG (not set), $KUBECONFIG "
                        "(%s) and %s (no such file); pass --config FILE, set $ORC_CONFIG, or use "
                        "--server URL (orcd server writes %s when it first starts)\n",
                getenv("KUBECONFIG") && *getenv("KUBECONFIG") ? "no such file" : "not set",
                orc_config_default_path(), orc_config_default_path());
}

static int take(char **dst, const char *flag, char *from_config)
{
    *dst = strdup(flag ? flag : from_config);
    return *dst ? 0 : ORC_ENOMEM;
}

/* --certificate-authority FILE beats the config's CA; either flag or the
 * config may ask for no verification. */
static int take_trust(cli_ctx *x, struct orc_client_config *cfg)
{
    struct orc_buf b = ORC_BUF_INIT;
    char err[ORC_TLS_ERRLEN];
    int rv;

    x->insecure = x->g.insecure || (cfg->insecure && x->g.ca_file == NULL);
    if (x->g.ca_file == NULL) {
        x->ca_pem = cfg->ca_pem;
        cfg->ca_pem = NULL;
        return 0;
    }
    rv = orc_file_read(x->g.ca_file, 1 << 20, &b);
    if (rv == 0 && orc_tls_cert_check(b.data, err) != 0) rv = ORC_EINVAL;
    if (rv != 0) {
        fprintf(x->err, "error: unable to read certificate-authority %s: %s\n", x->g.ca_file,
                rv == ORC_EINVAL ? "not a PEM certificate" : orc_strerror(rv));
        orc_buf_free(&b);
        return rv;
    }
    x->ca_pem = orc_buf_steal(&b, NULL);
    return 0;
}

const struct http_tls *cli_tls(const cli_ctx *x, struct http_tls *buf)
{
    memset(buf, 0, sizeof *buf);
    if (x->insecure) buf->insecure_skip_verify = 1;
    else buf->ca_pem = x->ca_pem;
    return buf;
}

int cli_connect(cli_ctx *x)
{
    struct orc_client_config cfg = {0};
    char errmsg[512];
    int rv;

    x->ns = x->g.ns && *x->g.ns ? x->g.ns : "default";
    x->ns_explicit = x->g.ns && *x->g.ns;
    if (x->g.timeout && parse_duration_ms(x->g.timeout) < 0) {
        fprintf(x->err, "error: invalid --request-timeout \"%s\": want e.g. 30s, 2m or 0\n",
                x->g.timeout);
        return ORC_EINVAL;
    }
    rv = orc_config_load(x->g.config, &cfg, errmsg, sizeof errmsg);
    if (rv == ORC_ENOENT && x->g.server && !x->g.config) {
        rv = 0; /* --server alone is enough */
    } else if (rv == ORC_ENOENT) {
        explain_missing_config(x, errmsg);
        return rv;
    } else if (rv != 0) {
        fprintf(x->err, "error: %s\n", errmsg);
        return rv;
    }
    rv = take(&x->server, x->g.server, cfg.server);
    if (rv == 0 && cfg.path && (x->config_path = strdup(cfg.path)) == NULL) rv = ORC_ENOMEM;
    if (rv == 0 && !x->g.server) { /* --server names one server: that one */
        x->servers = cfg.servers;
        x->n_servers = cfg.n_servers;
        cfg.servers = NULL;
        cfg.n_servers = 0;
    }
    if (rv == 0 && (x->g.token || cfg.token)) rv = take(&x->token, x->g.token, cfg.token);
    if (rv != 0) fprintf(x->err, "error: out of memory\n");
    else rv = take_trust(x, &cfg);
    orc_config_clear(&cfg);
    if (rv == 0 && strncmp(x->server, "https://", 8) != 0 && strncmp(x->server, "http://", 7) != 0) {
        fprintf(x->err, "error: server \"%s\" is not supported: want https://HOST:PORT\n",
                x->server);
        rv = ORC_EINVAL;
    }
    return rv;
}

unsigned cli_timeout_ms(const cli_ctx *x)
{
    long long ms = x->g.timeout ? parse_duration_ms(x->g.timeout) : 0;
    return ms > 0 && ms < (long long)UINT32_MAX ? (unsigned)ms : 0;
}

void cli_ctx_clear(cli_ctx *x)
{
    for (size_t i = 0; i < x->n_servers; i++) free(x->servers[i]);
    free(x->servers);
    free(x->config_path);
    x->servers = NULL;
    x->config_path = NULL;
    x->n_servers = 0;
    free(x->server);
    if (x->token) explicit_bzero(x->token, strlen(x->token));
    free(x->token);
    free(x->ca_pem);
    x->server = x->token = x->ca_pem = NULL;
    cli_strv_free(&x->g.as_groups);
}

void cli_warning_text(const char *h, struct orc_buf *out)
{
    const char *p = h;

    /* RFC 7234: 3-digit code, agent, then a quoted text. */
    while (*p >= '0' && *p <= '9') p++;
    if (p - h == 3 && *p == ' ' && (p = strchr(p + 1, ' ')) != NULL && p[1] == '"') {
        for (p += 2; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1]) p++;
            orc_buf_append(out, p, 1);
        }
        orc_buf_append(out, "", 0);
        return;
    }
    orc_buf_puts(out, h);
}

static void print_warnings(cli_ctx *x, const struct http_response *r)
{
    size_t it = 0;

    for (const char *w; (w = http_header_next(r, "warning", &it));) {
        struct orc_buf t = ORC_BUF_INIT;
        cli_warning_text(w, &t);
        fprintf(x->err, "Warning: %s\n", t.data ? t.data : "");
        orc_buf_free(&t);
    }
}

void cli_print_transport_error(cli_ctx *x, int err)
{
    switch (err) {
    case ORC_EUNAVAIL:
        fprintf(x->err, "The connection to the server %s was refused - did you specify the right "
                        "host or port?\n", x->server);
        break;
    case ORC_ETIMEDOUT:
        fprintf(x->err, "Unable to connect to the server %s: the request timed out\n", x->server);
        break;
    case ORC_EIO:
        fprintf(x->err, "error: the connection to the server %s was lost before it answered; "
                        "the request may or may not have taken effect\n", x->server);
        break;
    case ORC_EPROTO:
        fprintf(x->err, "error: the server %s sent a reply that is not HTTP\n", x->server);
        break;
    case ORC_ETLS:
        fprintf(x->err, "Unable to connect to the server %s: tls: %s\n", x->server,
                x->tls_err[0] ? x->tls_err : "handshake failed");
        break;
    default:
        fprintf(x->err, "error: request to %s failed: %s\n", x->server, orc_strerror(err));
    }
}

bool cli_unreachable(int rv)
{
    return rv == ORC_EUNAVAIL || rv == ORC_ETIMEDOUT || rv == ORC_EIO || rv == ORC_EPROTO
           || rv == ORC_ENOMEM;
}

#define CLI_MAX_AS_GROUPS 16

/* --as and --as-group as Impersonate-* headers (values borrowed from argv). */
static size_t impersonation_headers(const cli_ctx *x, struct http_header *h, size_t max)
{
    size_t n = 0;

    if (x->g.as == NULL) return 0;
    h[n++] = (struct http_header){"Impersonate-User", x->g.as};
    for (size_t i = 0; i < x->g.as_groups.n && n < max; i++)
        h[n++] = (struct http_header){"Impersonate-Group", x->g.as_groups.v[i]};
    return n;
}

int cli_request(cli_ctx *x, const char *method, const char *path, const char *ctype,
                const char *body, size_t len, struct http_response *resp)
{
    struct http_request req = {0};
    struct http_tls tls;
    int rv;

    req.method = method;
    req.path = path;
    req.content_type = body ? ctype : NULL;
    req.body = body;
    req.body_len = body ? len : 0;
    req.timeout_ms = cli_timeout_ms(x);
    struct http_header imp[1 + CLI_MAX_AS_GROUPS];
    req.headers = imp;
    req.n_headers = impersonation_headers(x, imp, ORC_ARRAY_LEN(imp));
    rv = http_sync_request_tls(x->server, x->token, cli_tls(x, &tls), &req, resp, x->tls_err);
    /* Nothing was sent to a server that could not be reached: the next
     * member the config lists takes the request, and the rest of this
     * command's requests. */
    for (size_t i = 0; rv == ORC_EUNAVAIL && i < x->n_servers; i++) {
        if (strcmp(x->servers[i], x->server) == 0) continue;
        rv = http_sync_request_tls(x->servers[i], x->token, cli_tls(x, &tls), &req, resp, x->tls_err);
        if (rv != ORC_EUNAVAIL) {
            char *s = strdup(x->servers[i]);
            if (s) {
                free(x->server);
                x->server = s;
            }
        }
    }
    if (rv != 0) {
        cli_print_transport_error(x, rv);
        return rv;
    }
    print_warnings(x, resp);
    return 0;
}

static const char *reason_for(int status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "InternalError";
    }
}

/* A failure whose body is not JSON (a proxy's HTML, plain text) as a
 * Status, so every failure prints the same way. */
static json_t *status_from_text(int status, const char *raw)
{
    char msg[256];
    size_t len = raw ? strcspn(raw, "\r\n") : 0;

    if (len > 200) len = 200;
    snprintf(msg, sizeof msg, "the server responded with HTTP %d%s%.*s", status, len ? ": " : "",
             (int)len, raw ? raw : "");
    return json_pack("{s:s, s:s, s:s, s:i}", "kind", "Status", "message", msg, "reason",
                     reason_for(status), "code", status);
}

int cli_request_json(cli_ctx *x, const char *method, const char *path, const char *ctype,
                     const json_t *body, int *status, json_t **reply)
{
    struct http_response r;
    char *text = NULL;
    int rv;

    *reply = NULL;
    *status = 0;
    if (body && (text = orc_json_dumps(body)) == NULL) return ORC_ENOMEM;
    rv = cli_request(x, method, path, ctype ? ctype : "application/json", text,
                     text ? strlen(text) : 0, &r);
    free(text);
    if (rv != 0) return rv;
    *status = r.status;
    *reply = r.body_len ? orc_json_loadb(r.body, r.body_len, JSON_ALLOW_NUL, NULL) : NULL;
    if (*reply == NULL && r.status >= 400) *reply = status_from_text(r.status, r.body);
    http_response_free(&r);
    return 0;
}

void cli_print_failure(cli_ctx *x, int status, const json_t *reply)
{
    const char *msg = orc_json_str(reply, "message");
    const char *reason = orc_json_str(reply, "reason");

    if (msg == NULL) {
        fprintf(x->err, "Error from server (%s): the server responded with HTTP %d\n",
                reason_for(status), status);
        return;
    }
    fprintf(x->err, "Error from server (%s): %s\n", reason && *reason ? reason : reason_for(status),
            msg);
}

void cli_write(cli_ctx *x, const struct orc_buf *b)
{
    if (b->len) fwrite(b->data, 1, b->len, x->out);
    fflush(x->out);
}
