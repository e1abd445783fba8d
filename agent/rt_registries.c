/* rt_registries.c — k3s's registries.yaml: per-registry mirrors (endpoint
 * lists tried in order, then the registry itself, as containerd does;
 * optional repository rewrites for mirrors) and per-host configs (auth,
 * TLS). Turned into the list of places a pull tries. */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "lib/yaml.h"

struct rewrite {
    regex_t re;
    char *repl;
};

struct mirror {
    char *registry;   /* "docker.io", or "*" */
    char **hosts;     /* endpoint host[:port] */
    bool *plain;      /* endpoint was http:// */
    size_t n;
    struct rewrite *rw;
    size_t n_rw;
};

struct hostcfg {
    char *host;
    char *auth_b64;
    char *token;
    char *cert_dir;
    bool insecure;
};

struct rt_regs {
    struct mirror *m;
    size_t nm;
    struct hostcfg *c;
    size_t nc;
};

struct ctx {
    const char *file;
    const char *certs_dir;
    char *msg;
    size_t n;
};

static int fail(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *x, const char *fmt, ...)
{
    char why[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return orc_errf(x->msg, x->n, ORC_EINVAL, "registries file %s: %s", x->file, why);
}

/* "http://host:port[/v2]" -> host, plain. */
static int parse_endpoint(struct ctx *x, const char *reg, size_t i, const char *url, char **host,
                          bool *plain)
{
    const char *p = url, *slash;

    *plain = false;
    if (strncmp(p, "http://", 7) == 0) {
        *plain = true;
        p += 7;
    } else if (strncmp(p, "https://", 8) == 0) {
        p += 8;
    } else if (strstr(p, "://") != NULL) {
        return fail(x, "mirrors.%s.endpoint[%zu]: \"%s\": only http and https are supported", reg, i, url);
    }
    slash = strchr(p, '/');
    if (slash && strcmp(slash, "/") != 0 && strcmp(slash, "/v2") != 0 && strcmp(slash, "/v2/") != 0)
        return fail(x, "mirrors.%s.endpoint[%zu]: \"%s\": a path other than /v2 is not supported",
                    reg, i, url);
    if ((slash ? (size_t)(slash - p) : strlen(p)) == 0)
        return fail(x, "mirrors.%s.endpoint[%zu]: \"%s\" has no host", reg, i, url);
    *host = slash ? strndup(p, (size_t)(slash - p)) : strdup(p);
    return *host ? 0 : ORC_ENOMEM;
}

static int parse_rewrites(struct ctx *x, struct mirror *m, json_t *rw)
{
    const char *k;
    json_t *v;

    if (rw == NULL) return 0;
    if (!json_is_object(rw)) return fail(x, "mirrors.%s.rewrite must be a map", m->registry);
    m->rw = calloc(json_object_size(rw) + 1, sizeof *m->rw);
    if (m->rw == NULL) return ORC_ENOMEM;
    json_object_foreach(rw, k, v) {
        struct rewrite *w = &m->rw[m->n_rw];
        if (!json_is_string(v)) return fail(x, "mirrors.%s.rewrite.%s must be a string", m->registry, k);
        if (regcomp(&w->re, k, REG_EXTENDED) != 0)
            return fail(x, "mirrors.%s.rewrite: bad regular expression \"%s\"", m->registry, k);
        if ((w->repl = strdup(json_string_value(v))) == NULL) {
            regfree(&w->re);
            return ORC_ENOMEM;
        }
        m->n_rw++;
    }
    return 0;
}

static int parse_mirror(struct ctx *x, struct mirror *m, const char *reg, json_t *v)
{
    json_t *eps = json_object_get(v, "endpoint"), *url;
    size_t i;
    int rv;

    if ((m->registry = strdup(reg)) == NULL) return ORC_ENOMEM;
    if (!json_is_object(v)) return fail(x, "mirrors.%s must be a map", reg);
    if (eps && !json_is_array(eps)) return fail(x, "mirrors.%s.endpoint must be a list", reg);
    m->hosts = calloc(json_array_size(eps) + 1, sizeof *m->hosts);
    m->plain = calloc(json_array_size(eps) + 1, sizeof *m->plain);
    if (m->hosts == NULL || m->plain == NULL) return ORC_ENOMEM;
    json_array_foreach(eps, i, url) {
        if (!json_is_string(url)) return fail(x, "mirrors.%s.endpoint[%zu] must be a string", reg, i);
        rv = parse_endpoint(x, reg, i, json_string_value(url), &m->hosts[m->n], &m->plain[m->n]);
        if (rv != 0) return rv;
        m->n++;
    }
    return parse_rewrites(x, m, json_object_get(v, "rewrite"));
}

static int opt_str(struct ctx *x, json_t *o, const char *host, const char *sect, const char *key,
                   const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_string(v)) return fail(x, "configs.%s.%s.%s must be a string", host, sect, key);
    *out = json_string_value(v);
    return 0;
}

static int parse_auth(struct ctx *x, struct hostcfg *c, json_t *a)
{
    const char *user, *pass, *auth, *token;
    struct orc_buf up = ORC_BUF_INIT, b64 = ORC_BUF_INIT;
    int rv;

    if (a == NULL) return 0;
    if (!json_is_object(a)) return fail(x, "configs.%s.auth must be a map", c->host);
    if (opt_str(x, a, c->host, "auth", "username", &user) || opt_str(x, a, c->host, "auth", "password", &pass)
        || opt_str(x, a, c->host, "auth", "auth", &auth)
        || opt_str(x, a, c->host, "auth", "identitytoken", &token))
        return ORC_EINVAL;
    if (token && (c->token = strdup(token)) == NULL) return ORC_ENOMEM;
    if (auth) return (c->auth_b64 = strdup(auth)) ? 0 : ORC_ENOMEM;
    if (!user) return 0;
    rv = orc_buf_printf(&up, "%s:%s", user, pass ? pass : "");
    if (rv == 0) rv = orc_base64_encode(up.data, up.len, false, &b64);
    if (up.data) memset(up.data, 0, up.len); /* a password: do not leave it around */
    orc_buf_free(&up);
    if (rv == 0) c->auth_b64 = orc_buf_steal(&b64, NULL);
    orc_buf_free(&b64);
    return rv;
}

/* skopeo's --src-cert-dir wants *.crt (CAs), *.cert + *.key (client pair):
 * a directory per host with links to the configured files. */
static int link_cert(struct ctx *x, struct hostcfg *c, const char *key, const char *file,
                     const char *name)
{
    char link[RT_PATH];

    if (file == NULL) return 0;
    if (access(file, R_OK) != 0)
        return fail(x, "configs.%s.tls.%s: %s: %s", c->host, key, file, strerror(errno));
    if (c->cert_dir == NULL) {
        char dir[RT_PATH];
        if (rt_path(dir, "%s/%s", x->certs_dir, c->host) != 0) return fail(x, "path too long");
        for (char *p = dir + strlen(x->certs_dir) + 1; *p; p++)
            if (*p == '/' || *p == ':') *p = '_';
        if (orc_mkdirs(dir, 0700) != 0) return fail(x, "creating %s: %s", dir, strerror(errno));
        if ((c->cert_dir = strdup(dir)) == NULL) return ORC_ENOMEM;
    }
    if (rt_path(link, "%s/%s", c->cert_dir, name) != 0) return fail(x, "path too long");
    unlink(link);
    if (symlink(file, link) != 0) return fail(x, "linking %s: %s", file, strerror(errno));
    return 0;
}

static int parse_tls(struct ctx *x, struct hostcfg *c, json_t *t)
{
    const char *ca, *cert, *key;
    json_t *insecure;

    if (t == NULL) return 0;
    if (!json_is_object(t)) return fail(x, "configs.%s.tls must be a map", c->host);
    if (opt_str(x, t, c->host, "tls", "ca_file", &ca) || opt_str(x, t, c->host, "tls", "cert_file", &cert)
        || opt_str(x, t, c->host, "tls", "key_file", &key))
        return ORC_EINVAL;
    insecure = json_object_get(t, "insecure_skip_verify");
    if (insecure && !json_is_boolean(insecure))
        return fail(x, "configs.%s.tls.insecure_skip_verify must be true or false", c->host);
    c->insecure = json_is_true(insecure);
    if ((cert == NULL) != (key == NULL))
        return fail(x, "configs.%s.tls: cert_file and key_file go together", c->host);
    int rv = link_cert(x, c, "ca_file", ca, "ca.crt");
    if (rv == 0) rv = link_cert(x, c, "cert_file", cert, "client.cert");
    if (rv == 0) rv = link_cert(x, c, "key_file", key, "client.key");
    return rv;
}

static int parse_config(struct ctx *x, struct hostcfg *c, const char *host, json_t *v)
{
    int rv;

    /* a config key may be written as a URL, as k3s accepts */
    if (strncmp(host, "https://", 8) == 0) host += 8;
    else if (strncmp(host, "http://", 7) == 0) host += 7;
    if ((c->host = strdup(host)) == NULL) return ORC_ENOMEM;
    if (!json_is_object(v)) return fail(x, "configs.%s must be a map", host);
    if ((rv = parse_auth(x, c, json_object_get(v, "auth"))) != 0) return rv;
    return parse_tls(x, c, json_object_get(v, "tls"));
}

static int parse_doc(struct ctx *x, struct rt_regs *g, json_t *doc)
{
    json_t *mirrors = json_object_get(doc, "mirrors"), *configs = json_object_get(doc, "configs"), *v;
    const char *k;
    int rv;

    if (!json_is_object(doc)) return fail(x, "the document must be a map");
    if (mirrors && !json_is_object(mirrors)) return fail(x, "mirrors must be a map");
    if (configs && !json_is_object(configs)) return fail(x, "configs must be a map");
    g->m = calloc(json_object_size(mirrors) + 1, sizeof *g->m);
    g->c = calloc(json_object_size(configs) + 1, sizeof *g->c);
    if (g->m == NULL || g->c == NULL) return ORC_ENOMEM;
    json_object_foreach(mirrors, k, v) {
        if ((rv = parse_mirror(x, &g->m[g->nm++], k, v)) != 0) return rv;
    }
    json_object_foreach(configs, k, v) {
        if ((rv = parse_config(x, &g->c[g->nc++], k, v)) != 0) return rv;
    }
    return 0;
}

int rt_regs_load(const char *path, const char *certs_dir, struct rt_regs **out, char *msg, size_t n)
{
    struct ctx x = {path, certs_dir, msg, n};
    struct orc_buf b = ORC_BUF_INIT;
    struct rt_regs *g = calloc(1, sizeof *g);
    char why[200];
    json_t *docs = NULL;
    int rv = 0;

    *out = NULL;
    if (g == NULL) return orc_errf(msg, n, ORC_ENOMEM, "out of memory");
    if (path != NULL) {
        rv = orc_file_read(path, 1 << 20, &b);
        if (rv != 0) rv = fail(&x, "%s", rv == ORC_ENOENT ? "no such file" : orc_strerror(rv));
        else if ((docs = orc_yaml_parse(b.data, b.len, why, sizeof why)) == NULL) rv = fail(&x, "%s", why);
        else if (json_array_size(docs) > 0) rv = parse_doc(&x, g, json_array_get(docs, 0));
        if (rv == ORC_ENOMEM) orc_errf(msg, n, rv, "out of memory");
    }
    json_decref(docs);
    orc_buf_free(&b);
    if (rv != 0) {
        rt_regs_free(g);
        return rv;
    }
    *out = g;
    return 0;
}

void rt_regs_free(struct rt_regs *g)
{
    if (g == NULL) return;
    for (size_t i = 0; i < g->nm; i++) {
        struct mirror *m = &g->m[i];
        for (size_t j = 0; j < m->n; j++) free(m->hosts[j]);
        for (size_t j = 0; j < m->n_rw; j++) {
            regfree(&m->rw[j].re);
            free(m->rw[j].repl);
        }
        free(m->hosts);
        free(m->plain);
        free(m->rw);
        free(m->registry);
    }
    for (size_t i = 0; i < g->nc; i++) {
        struct hostcfg *c = &g->c[i];
        if (c->auth_b64) memset(c->auth_b64, 0, strlen(c->auth_b64));
        free(c->host);
        free(c->auth_b64);
        free(c->token);
        free(c->cert_dir);
    }
    free(g->m);
    free(g->c);
    free(g);
}

/* ---- endpoints for a reference ---- */

static const struct hostcfg *config_for(const struct rt_regs *g, const char *host)
{
    const struct hostcfg *star = NULL;

    for (size_t i = 0; i < g->nc; i++) {
        if (strcmp(g->c[i].host, host) == 0) return &g->c[i];
        if (strcmp(g->c[i].host, "*") == 0) star = &g->c[i];
    }
    return star;
}

static const struct mirror *mirror_for(const struct rt_regs *g, const char *domain)
{
    const struct mirror *star = NULL;

    for (size_t i = 0; i < g->nm; i++) {
        if (strcmp(g->m[i].registry, domain) == 0) return &g->m[i];
        if (strcmp(g->m[i].registry, "*") == 0) star = &g->m[i];
    }
    return star;
}

/* Docker trusts plain HTTP to loopback registries without configuration. */
static bool is_loopback(const char *host)
{
    return strncmp(host, "localhost", 9) == 0 || strncmp(host, "127.", 4) == 0
           || strncmp(host, "[::1]", 5) == 0;
}

/* The first matching rewrite's replacement ($1..$9 are groups) of path. */
static void rewrite(const struct mirror *m, const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    for (size_t i = 0; i < m->n_rw; i++) {
        regmatch_t g[10];
        struct orc_buf b = ORC_BUF_INIT;
        if (regexec(&m->rw[i].re, path, 10, g, 0) != 0) continue;
        orc_buf_append(&b, path, (size_t)g[0].rm_so);
        for (const char *p = m->rw[i].repl; *p; p++) {
            int k = p[0] == '$' && p[1] >= '0' && p[1] <= '9' ? p[1] - '0' : -1;
            if (k >= 0 && g[k].rm_so >= 0) {
                orc_buf_append(&b, path + g[k].rm_so, (size_t)(g[k].rm_eo - g[k].rm_so));
                p++;
            } else {
                orc_buf_append(&b, p, 1);
            }
        }
        orc_buf_puts(&b, path + g[0].rm_eo);
        if (b.data) snprintf(out, n, "%s", b.data);
        orc_buf_free(&b);
        return;
    }
}

static void fill(const struct rt_regs *g, struct rt_endpoint *e, const char *host, bool plain)
{
    const struct hostcfg *c = config_for(g, host);

    snprintf(e->host, sizeof e->host, "%s", host);
    /* a host given certificates to check is checked, loopback or not */
    e->plain_ok = plain || (c && c->insecure) || (is_loopback(host) && !(c && c->cert_dir));
    e->cert_dir = c ? c->cert_dir : NULL;
    e->auth_b64 = c ? c->auth_b64 : NULL;
    e->token = c ? c->token : NULL;
}

int rt_regs_endpoints(const struct rt_regs *g, const struct rt_ref *ref, struct rt_endpoint **out,
                      size_t *n)
{
    const struct mirror *m = mirror_for(g, ref->domain);
    size_t cap = (m ? m->n : 0) + 1, k = 0;
    struct rt_endpoint *e = calloc(cap, sizeof *e);
    bool self_listed = false;

    if (e == NULL) return ORC_ENOMEM;
    for (size_t i = 0; m && i < m->n; i++) {
        fill(g, &e[k], m->hosts[i], m->plain[i]);
        rewrite(m, ref->path, e[k].path, sizeof e[k].path);
        e[k].is_mirror = strcmp(m->hosts[i], ref->domain) != 0;
        self_listed |= !e[k].is_mirror;
        k++;
    }
    if (!self_listed) { /* the registry itself, last; rewrites do not apply there */
        fill(g, &e[k], ref->domain, false);
        snprintf(e[k].path, sizeof e[k].path, "%s", ref->path);
        k++;
    }
    *out = e;
    *n = k;
    return 0;
}
