/* config.c — kubeconfig-format client files: read the current context's
 * server, CA and token; write one atomically with owner-only permissions. */
#include "client/config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/yaml.h"

#define MAX_CONFIG_BYTES (1 << 20)

const char *orc_config_default_path(void)
{
    static char path[PATH_MAX];
    const char *home = getenv("HOME");

    if (home == NULL || *home == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }
    snprintf(path, sizeof path, "%s/.orc/config", home);
    return path;
}

void orc_config_clear(struct orc_client_config *c)
{
    free(c->server);
    /* The token is a credential: do not leave it in freed memory. */
    if (c->token) explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    free(c->path);
    free(c->ca_pem);
    for (size_t i = 0; i < c->n_servers; i++) free(c->servers[i]);
    free(c->servers);
    c->servers = NULL;
    c->n_servers = 0;
    c->server = c->token = c->path = c->ca_pem = NULL;
    c->insecure = false;
}

static int read_file(const char *path, struct orc_buf *out, char *errmsg, size_t n)
{
    char chunk[4096];
    size_t got;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        int code = errno == ENOENT ? ORC_ENOENT : ORC_EINVAL;
        return orc_errf(errmsg, n, code, "%s: %s", path, strerror(errno));
    }
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + got > MAX_CONFIG_BYTES) {
            fclose(f);
            return orc_errf(errmsg, n, ORC_EINVAL, "%s: larger than %d bytes", path, MAX_CONFIG_BYTES);
        }
        if (orc_buf_append(out, chunk, got) != 0) {
            fclose(f);
            return orc_errf(errmsg, n, ORC_ENOMEM, "%s: out of memory", path);
        }
    }
    if (ferror(f)) {
        fclose(f);
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: read error", path);
    }
    fclose(f);
    return orc_buf_append(out, "", 0);
}

/* The `field` object of the entry called `name` in list `list` ("clusters"
 * -> {name, cluster}); with name NULL, the first entry's. */
static json_t *find_named(const json_t *cfg, const char *list, const char *field, const char *name)
{
    json_t *arr = json_object_get(cfg, list), *e;
    size_t i;

    json_array_foreach (arr, i, e) {
        const char *ename = json_string_value(json_object_get(e, "name"));
        if (name == NULL || (ename && strcmp(ename, name) == 0)) return json_object_get(e, field);
    }
    return NULL;
}

/* Picks the cluster and user names of the current context; NULL names
 * mean "the first one" when the file names no context. */
static int pick_context(const json_t *cfg, const char *path, const char **cluster,
                        const char **user, char *errmsg, size_t n)
{
    const char *cur = json_string_value(json_object_get(cfg, "current-context"));
    json_t *ctx;

    *cluster = *user = NULL;
    if (cur == NULL || *cur == '\0') return 0;
    ctx = find_named(cfg, "contexts", "context", cur);
    if (!json_is_object(ctx))
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: current-context \"%s\" is not in contexts", path,
                    cur);
    *cluster = json_string_value(json_object_get(ctx, "cluster"));
    *user = json_string_value(json_object_get(ctx, "user"));
    if (*cluster == NULL)
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: context \"%s\" names no cluster", path, cur);
    return 0;
}

/* A path named in the config: relative ones are from the config's folder. */
static int resolve(const char *cfg_path, const char *p, struct orc_buf *out)
{
    const char *slash = strrchr(cfg_path, '/');

    if (p[0] == '/' || slash == NULL) return orc_buf_puts(out, p);
    return orc_buf_printf(out, "%.*s/%s", (int)(slash - cfg_path), cfg_path, p);
}

/* kubectl's tokenFile: the token kept in a separate file. */
static int read_token_file(const char *cfg_path, const char *tf, char **token, char *errmsg,
                           size_t n)
{
    struct orc_buf b = ORC_BUF_INIT, path = ORC_BUF_INIT;
    char sub[256];
    int rv = resolve(cfg_path, tf, &path);

    if (rv != 0) return orc_errf(errmsg, n, ORC_ENOMEM, "%s: out of memory", cfg_path);
    rv = read_file(path.data, &b, sub, sizeof sub);
    orc_buf_free(&path);

    if (rv != 0) {
        orc_buf_free(&b);
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: tokenFile %s", cfg_path, sub);
    }
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = '\0';
    *token = orc_buf_steal(&b, NULL);
    return *token ? 0 : orc_errf(errmsg, n, ORC_EINVAL, "%s: tokenFile %s is empty", cfg_path, tf);
}

/* The cluster's CA: certificate-authority-data (base64 PEM) or a
 * certificate-authority file; and insecure-skip-tls-verify. */
static int extract_ca(const json_t *cluster, const char *path, struct orc_client_config *out,
                      char *errmsg, size_t n)
{
    const char *data = json_string_value(json_object_get(cluster, "certificate-authority-data"));
    const char *file = json_string_value(json_object_get(cluster, "certificate-authority"));
    json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");
    struct orc_buf b = ORC_BUF_INIT, p = ORC_BUF_INIT;
    char sub[256];
    int rv = 0;

    out->insecure = json_is_true(insecure)
                    || (json_is_string(insecure) && strcmp(json_string_value(insecure), "true") == 0);
    if (data && *data) {
        if (orc_base64_decode(data, strlen(data), false, &b) != 0 || b.len == 0
            || strstr(b.data, "-----BEGIN CERTIFICATE-----") == NULL)
            rv = orc_errf(errmsg, n, ORC_EINVAL,
                      "%s: certificate-authority-data is not a base64-encoded PEM certificate", path);
    } else if (file && *file) {
        if ((rv = resolve(path, file, &p)) != 0 || (rv = read_file(p.data, &b, sub, sizeof sub)) != 0)
            rv = orc_errf(errmsg, n, ORC_EINVAL, "%s: certificate-authority %s", path,
                      rv == ORC_ENOMEM ? "out of memory" : sub);
    }
    if (rv == 0 && b.len > 0 && (out->ca_pem = orc_buf_steal(&b, NULL)) == NULL) rv = ORC_ENOMEM;
    orc_buf_free(&b);
    orc_buf_free(&p);
    return rv;
}

/* The servers array of the cluster's orc.dev/servers extension, or NULL. */
static json_t *servers_ext(const json_t *cluster)
{
    const json_t *exts = json_object_get(cluster, "extensions"), *e;
    size_t i;

    json_array_foreach(exts, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name && strcmp(name, ORC_CONFIG_SERVERS_EXT) == 0)
            return json_object_get(json_object_get(e, "extension"), "servers");
    }
    return NULL;
}

static int extract_servers(const json_t *cluster, const char *path, struct orc_client_config *out,
                           char *errmsg, size_t n)
{
    const json_t *list = servers_ext(cluster), *u;
    size_t i;

    if (list == NULL) return 0;
    if (!json_is_array(list) || json_array_size(list) > ORC_CONFIG_MAX_SERVERS)
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: extension %s: servers must be a list of at "
                        "most %d URLs", path, ORC_CONFIG_SERVERS_EXT, ORC_CONFIG_MAX_SERVERS);
    if ((out->servers = calloc(json_array_size(list) + 1, sizeof *out->servers)) == NULL)
        return ORC_ENOMEM;
    json_array_foreach(list, i, u) {
        const char *s = json_string_value(u);
        if (s == NULL || strncmp(s, "https://", 8) != 0)
            return orc_errf(errmsg, n, ORC_EINVAL, "%s: extension %s: servers[%zu] is not an "
                            "https:// URL", path, ORC_CONFIG_SERVERS_EXT, i);
        if ((out->servers[out->n_servers++] = strdup(s)) == NULL) return ORC_ENOMEM;
    }
    return 0;
}

static int extract(const json_t *cfg, const char *path, struct orc_client_config *out, char *errmsg,
                   size_t n)
{
    const char *cname, *uname, *server, *token, *tf;
    json_t *cluster, *user;
    int rv;

    if ((rv = pick_context(cfg, path, &cname, &uname, errmsg, n)) != 0) return rv;
    cluster = find_named(cfg, "clusters", "cluster", cname);
    if (!json_is_object(cluster))
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: cluster \"%s\" not found", path,
                    cname ? cname : "(first)");
    server = json_string_value(json_object_get(cluster, "server"));
    if (server == NULL || *server == '\0')
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: cluster has no server", path);
    if ((out->server = strdup(server)) == NULL) return ORC_ENOMEM;
    if ((rv = extract_ca(cluster, path, out, errmsg, n)) != 0) return rv;
    if ((rv = extract_servers(cluster, path, out, errmsg, n)) != 0) return rv;
    /* No user entry at all is allowed: a server without authentication. */
    user = find_named(cfg, "users", "user", uname);
    if (uname && !json_is_object(user))
        return orc_errf(errmsg, n, ORC_EINVAL, "%s: user \"%s\" not found", path, uname);
    token = json_string_value(json_object_get(user, "token"));
    tf = json_string_value(json_object_get(user, "tokenFile"));
    if (token && *token) return (out->token = strdup(token)) ? 0 : ORC_ENOMEM;
    if (tf && *tf) return read_token_file(path, tf, &out->token, errmsg, n);
    return 0;
}

const char *orc_config_kubeconfig_path(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("KUBECONFIG");

    /* kubectl merges the list; one file is read here: the first there */
    for (const char *p = env ? env : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && n < sizeof path) {
            memcpy(path, p, n);
            path[n] = '\0';
            if (access(path, F_OK) == 0) return path;
        }
        p += n + (p[n] == ':');
    }
    return NULL;
}

static const char *search_path(void)
{
    const char *env = getenv("ORC_CONFIG"), *kube;
    if (env && *env) return env;
    return (kube = orc_config_kubeconfig_path()) ? kube : orc_config_default_path();
}

int orc_config_load(const char *path, struct orc_client_config *out, char *errmsg, size_t n)
{
    struct orc_buf text = ORC_BUF_INIT;
    char yerr[200];
    json_t *docs = NULL, *cfg;
    int rv;

    memset(out, 0, sizeof *out);
    if (path == NULL) path = search_path();
    if ((rv = read_file(path, &text, errmsg, n)) != 0) goto out;
    docs = orc_yaml_parse(text.data, text.len, yerr, sizeof yerr);
    if (docs == NULL) {
        rv = orc_errf(errmsg, n, ORC_EINVAL, "%s: %s", path, yerr);
        goto out;
    }
    cfg = json_array_get(docs, 0);
    if (!json_is_object(cfg)) {
        rv = orc_errf(errmsg, n, ORC_EINVAL, "%s: not a kubeconfig (expected a mapping)", path);
        goto out;
    }
    if ((rv = extract(cfg, path, out, errmsg, n)) != 0) goto out;
    if ((out->path = strdup(path)) == NULL) rv = ORC_ENOMEM;
out:
    if (rv == ORC_ENOMEM) orc_errf(errmsg, n, rv, "%s: out of memory", path);
    if (rv != 0) orc_config_clear(out);
    if (text.data) explicit_bzero(text.data, text.len); /* it held the token */
    orc_buf_free(&text);
    json_decref(docs);
    return rv;
}

static json_t *config_json(const char *server, const char *ca_pem, const char *token)
{
    struct orc_buf b64 = ORC_BUF_INIT;
    json_t *cluster = json_pack("{s:s}", "server", server);

    if (cluster && ca_pem) {
        if (orc_base64_encode(ca_pem, strlen(ca_pem), false, &b64) != 0
            || json_object_set_new(cluster, "certificate-authority-data", json_string(b64.data)) != 0) {
            json_decref(cluster);
            cluster = NULL;
        }
        orc_buf_free(&b64);
    }
    if (cluster == NULL) return NULL;
    return json_pack(
        "{s:s, s:s, s:[{s:o, s:s}], s:[{s:{s:s, s:s}, s:s}], s:s, s:[{s:s, s:{s:s}}]}",
        "apiVersion", "v1", "kind", "Config", "clusters", "cluster", cluster, "name",
        "orc", "contexts", "context", "cluster", "orc", "user", "admin", "name", "orc",
        "current-context", "orc", "users", "name", "admin", "user", "token", token);
}

/* mkdir -p with 0700 for each directory it creates. */
static int make_dirs(const char *dir)
{
    char tmp[PATH_MAX];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof tmp) return len ? ORC_EINVAL : 0;
    memcpy(tmp, dir, len + 1);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        struct stat st;
        if (stat(tmp, &st) != 0 && mkdir(tmp, 0700) != 0 && errno != EEXIST) return -errno;
        *p = c;
        if (c == '\0') return 0;
    }
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Makes the rename itself durable. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int write_atomic(const char *path, const char *dir, const struct orc_buf *text)
{
    struct orc_buf tmp = ORC_BUF_INIT;
    int fd = -1, rv;

    if ((rv = orc_buf_printf(&tmp, "%s.tmp-XXXXXX", path)) != 0) return rv;
    if ((fd = mkstemp(tmp.data)) < 0) {
        rv = -errno;
        log_error("config", "%s: cannot create a temporary file: %s", path, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || (rv = write_all(fd, text->data, text->len)) != 0
        || fsync(fd) != 0) {
        rv = rv ? rv : -errno;
        log_error("config", "%s: write failed: %s", tmp.data, strerror(-rv));
        goto out;
    }
    if (close(fd) != 0 || rename(tmp.data, path) != 0) {
        fd = -1;
        rv = -errno;
        log_error("config", "%s: cannot replace: %s", path, strerror(errno));
        goto out;
    }
    fd = -1;
    sync_dir(dir);
out:
    if (fd >= 0) close(fd);
    if (rv != 0 && tmp.data) unlink(tmp.data);
    orc_buf_free(&tmp);
    return rv;
}

/* The config's directory, for write_atomic's fsync. */
static int dir_of(const char *path, char **dir)
{
    if ((*dir = strdup(path)) == NULL) return ORC_ENOMEM;
    char *slash = strrchr(*dir, '/');
    if (slash == NULL) strcpy(*dir, ".");
    else if (slash == *dir) (*dir)[1] = '\0';
    else *slash = '\0';
    return 0;
}

int orc_config_write(const char *path, const char *server, const char *ca_pem, const char *token)
{
    struct orc_buf text = ORC_BUF_INIT;
    json_t *cfg = NULL;
    char *dir = NULL;
    int rv;

    if (path == NULL || server == NULL || token == NULL) return ORC_EINVAL;
    if (dir_of(path, &dir) != 0) return ORC_ENOMEM;
    if ((rv = make_dirs(dir)) != 0) {
        log_error("config", "%s: cannot create directory %s: %s", path, dir, orc_strerror(rv));
        goto out;
    }
    if ((cfg = config_json(server, ca_pem, token)) == NULL) {
        rv = ORC_ENOMEM;
        goto out;
    }
    if ((rv = orc_yaml_emit(cfg, &text)) != 0) goto out;
    rv = write_atomic(path, dir, &text);
out:
    if (rv < 0 && rv > -1000) rv = ORC_EIO; /* errno values become the module's code */
    if (text.data) explicit_bzero(text.data, text.len);
    orc_buf_free(&text);
    json_decref(cfg);
    free(dir);
    return rv;
}

/* Puts the list into the cluster entry; 1 when it changed, 0 when it was
 * already there, or a negative error. */
static int put_servers(json_t *cluster, const char *const *urls, size_t n)
{
    json_t *list = json_array(), *exts, *e;
    size_t i;

    if (list == NULL) return ORC_ENOMEM;
    for (i = 0; i < n; i++)
        if (json_array_append_new(list, json_string(urls[i])) != 0) {
            json_decref(list);
            return ORC_ENOMEM;
        }
    if (json_equal(list, servers_ext(cluster))) {
        json_decref(list);
        return 0;
    }
    exts = json_object_get(cluster, "extensions");
    if (!json_is_array(exts) && json_object_set_new(cluster, "extensions", exts = json_array()) != 0) {
        json_decref(list);
        return ORC_ENOMEM;
    }
    json_array_foreach(exts, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name && strcmp(name, ORC_CONFIG_SERVERS_EXT) == 0) {
            json_array_remove(exts, i);
            break;
        }
    }
    e = json_pack("{s:s, s:{s:o}}", "name", ORC_CONFIG_SERVERS_EXT, "extension", "servers", list);
    return e && json_array_append_new(exts, e) == 0 ? 1 : ORC_ENOMEM;
}

int orc_config_set_servers(const char *path, const char *const *urls, size_t n)
{
    struct orc_buf text = ORC_BUF_INIT;
    char yerr[200], msg[256];
    const char *cname, *uname;
    json_t *docs = NULL, *cfg, *cluster;
    char *dir = NULL;
    int rv;

    if (path == NULL || n > ORC_CONFIG_MAX_SERVERS) return ORC_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (urls[i] == NULL || strncmp(urls[i], "https://", 8) != 0) return ORC_EINVAL;
    if ((rv = read_file(path, &text, msg, sizeof msg)) != 0) return rv;
    docs = orc_yaml_parse(text.data, text.len, yerr, sizeof yerr);
    cfg = json_array_get(docs, 0);
    if (!json_is_object(cfg) || pick_context(cfg, path, &cname, &uname, msg, sizeof msg) != 0
        || !json_is_object(cluster = find_named(cfg, "clusters", "cluster", cname)))
        rv = ORC_EINVAL;
    if (rv == 0 && (rv = put_servers(cluster, urls, n)) == 1) {
        if (text.data) explicit_bzero(text.data, text.len); /* it held the token */
        orc_buf_reset(&text);
        rv = dir_of(path, &dir);
        if (rv == 0) rv = orc_yaml_emit(cfg, &text);
        if (rv == 0) rv = write_atomic(path, dir, &text);
        if (rv < 0 && rv > -1000) rv = ORC_EIO;
    }
    if (text.data) explicit_bzero(text.data, text.cap);
    orc_buf_free(&text);
    json_decref(docs);
    free(dir);
    return rv > 0 ? 0 : rv;
}
