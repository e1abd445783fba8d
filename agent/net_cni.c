/* net_cni.c — a pod's network through CNI: the plugin chain run for ADD
 * and DEL, and the per-pod cache (as libcni keeps results/: the
 * configuration and CNI_ARGS used at ADD and its result) that lets DEL
 * undo exactly what ADD did, after a restart or a crash too. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_cni.h"
#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define CNI_LOG "net.cni"
#define CACHE_MAX (4u << 20)
/* containerd runs the loopback plugin on its own, with an old version every
 * release of the plugin accepts */
#define LOOPBACK_CONF "{\"cniVersion\":\"0.3.1\",\"name\":\"cni-loopback\",\"type\":\"loopback\"}"

/* ---- the cache ---- */

static void cache_path(const struct net_cni *c, const char *uid, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.json", c->cache_dir, uid);
}

static json_t *cache_read(const struct net_cni *c, const char *uid)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[1200];
    json_t *j = NULL;

    cache_path(c, uid, path, sizeof path);
    if (orc_file_read(path, CACHE_MAX, &b) == 0 && b.len > 0)
        j = orc_json_loadb(b.data, b.len, 0, NULL);
    orc_buf_free(&b);
    if (j && !json_is_object(json_object_get(j, "config"))) {
        log_warn(CNI_LOG, "%s: no configuration cached, ignored", path);
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int cache_write(const struct net_cni *c, const char *uid, const json_t *entry, char *errmsg)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[1200];
    int rv = orc_json_dump(entry, &b);

    cache_path(c, uid, path, sizeof path);
    if (rv == 0) rv = orc_file_write(path, b.data, b.len, 0600);
    orc_buf_free(&b);
    return rv == 0 ? 0 : orc_errf(errmsg, NET_ERRLEN, rv, "write %s: %s", path, orc_strerror(rv));
}

static void cache_remove(const struct net_cni *c, const char *uid)
{
    char path[1200];

    cache_path(c, uid, path, sizeof path);
    if (unlink(path) != 0) log_debug(CNI_LOG, "remove %s: %m", path);
}

static void note_gateway(struct net_cni *c, const json_t *result)
{
    char ip[46], gw[46];

    if (net_cni_result_ip(result, ip, gw) != 0 || gw[0] == '\0') return;
    pthread_mutex_lock(&c->lock);
    memcpy(c->gateway, gw, sizeof gw);
    pthread_mutex_unlock(&c->lock);
}

void net_cni_gateway(struct net_cni *c, char out[46])
{
    pthread_mutex_lock(&c->lock);
    memcpy(out, c->gateway, sizeof c->gateway);
    pthread_mutex_unlock(&c->lock);
}

/* ---- open, close ---- */

/* The gateway of an earlier pod: cluster DNS can listen there at once. */
static void learn_gateway(struct net_cni *c)
{
    char **uids = NULL;
    size_t n = 0;

    if (net_cni_list(c, &uids, &n) != 0) return;
    for (size_t i = 0; i < n; i++) {
        json_t *e = c->gateway[0] ? NULL : cache_read(c, uids[i]); /* no thread yet */
        note_gateway(c, json_object_get(e, "result"));
        json_decref(e);
        free(uids[i]);
    }
    free(uids);
}

int net_cni_open(struct net_cni **out, const char *conf_dir, const char *bin_dir,
                 const char *state_dir, const char *pod_cidr, char *errmsg)
{
    struct net_cni *c = calloc(1, sizeof *c);
    int rv;

    if (c != NULL) pthread_mutex_init(&c->lock, NULL);
    if (c == NULL || (c->conf_dir = strdup(conf_dir)) == NULL
        || (c->bin_dir = strdup(bin_dir && *bin_dir ? bin_dir : "/usr/lib/cni")) == NULL
        || (c->pod_cidr = strdup(pod_cidr)) == NULL
        || (c->cache_dir = net_state_path(state_dir, "cni")) == NULL) {
        net_cni_close(c);
        return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    }
    if ((rv = orc_mkdirs(c->cache_dir, 0700)) != 0) {
        orc_errf(errmsg, NET_ERRLEN, rv, "create %s: %s", c->cache_dir, orc_strerror(rv));
        net_cni_close(c);
        return rv;
    }
    learn_gateway(c);
    *out = c;
    return 0;
}

void net_cni_close(struct net_cni *c)
{
    if (c == NULL) return;
    free(c->conf_dir);
    free(c->bin_dir);
    free(c->cache_dir);
    free(c->pod_cidr);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* ---- the chain ---- */

/* DEL of every plugin, last first; each is run even after one failed
 * (the first failure is returned). */
static int chain_del(struct net_cni *c, const json_t *entry, char *errmsg)
{
    const json_t *list = json_object_get(entry, "config");
    const json_t *result = json_object_get(entry, "result");
    const json_t *rt = json_object_get(entry, "capabilityArgs");
    const char *path = orc_json_str(entry, "cniPath");
    struct net_cni_call call = {"DEL", orc_json_str(entry, "containerId"),
                                orc_json_str(entry, "netns"), NULL, orc_json_str(entry, "cniArgs"),
                                path ? path : c->bin_dir, 0};
    char msg[NET_ERRLEN];
    int rv = 0;

    for (size_t i = json_array_size(json_object_get(list, "plugins")); i > 0; i--) {
        json_t *req = net_cni_plugin_request(list, i - 1, json_is_object(result) ? result : NULL, rt);
        json_t *ignored = NULL;
        int err = req ? net_cni_exec(&call, req, &ignored, msg) : ORC_ENOMEM;
        if (req == NULL) snprintf(msg, sizeof msg, "out of memory");
        json_decref(req);
        json_decref(ignored);
        if (err != 0 && rv == 0) {
            rv = err;
            snprintf(errmsg, NET_ERRLEN, "%s", msg);
        }
    }
    return rv;
}

static int chain_add(struct net_cni *c, json_t *entry, char *errmsg)
{
    const json_t *list = json_object_get(entry, "config");
    const json_t *rt = json_object_get(entry, "capabilityArgs");
    struct net_cni_call call = {"ADD", orc_json_str(entry, "containerId"),
                                orc_json_str(entry, "netns"), NULL, orc_json_str(entry, "cniArgs"),
                                c->bin_dir, 0};
    json_t *prev = NULL;
    int rv = 0;

    for (size_t i = 0; rv == 0 && i < json_array_size(json_object_get(list, "plugins")); i++) {
        json_t *req = net_cni_plugin_request(list, i, prev, rt), *res = NULL;
        rv = req ? net_cni_exec(&call, req, &res, errmsg)
                 : orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
        json_decref(req);
        if (rv == 0) {
            json_decref(prev);
            prev = res;
        }
    }
    if (rv == 0 && json_object_set_new(entry, "result", prev) != 0)
        rv = orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    else if (rv != 0)
        json_decref(prev);
    return rv;
}

static void loopback_up(struct net_cni *c, const char *uid, const char *netns)
{
    struct net_cni_call call = {"ADD", uid, netns, "lo", NULL, c->bin_dir, 0};
    char path[1100], msg[NET_ERRLEN];
    json_t *conf, *res = NULL;

    snprintf(path, sizeof path, "%s/loopback", c->bin_dir);
    if (strchr(c->bin_dir, ':') == NULL && access(path, X_OK) != 0) return;
    conf = json_loads(LOOPBACK_CONF, 0, NULL);
    if (conf && net_cni_exec(&call, conf, &res, msg) != 0) log_warn(CNI_LOG, "pod %s: %s", uid, msg);
    json_decref(conf);
    json_decref(res);
}

static json_t *new_entry(struct net_cni *c, const char *uid, const char *ns, const char *name,
                         const char *netns, const struct net_port *ports, size_t n_ports,
                         char *errmsg)
{
    json_t *list = NULL, *rt, *entry;
    char args[600];
    int rv = net_cni_conf_load(c->conf_dir, c->pod_cidr, &list, errmsg);

    if (rv != 0) return NULL;
    net_cni_conf_fill_mtu(list, c->pod_mtu);
    rt = net_cni_runtime(ports, n_ports);
    net_cni_args(uid, ns, name, args, sizeof args);
    entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o?, s:o, s:n}", "kind", "cniCacheV1",
                      "containerId", uid, "ifName", NET_CNI_IFNAME, "networkName",
                      orc_json_str(list, "name"), "netns", netns, "cniArgs", args, "cniPath",
                      c->bin_dir, "capabilityArgs", rt, "config", list, "result");
    if (entry == NULL) orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    return entry;
}

int net_cni_add(struct net_cni *c, const char *uid, const char *ns, const char *name,
                const char *netns, const struct net_port *ports, size_t n_ports, char ip[46],
                char *errmsg)
{
    char gw[46], msg[NET_ERRLEN];
    json_t *entry = new_entry(c, uid, ns, name, netns, ports, n_ports, errmsg);
    int rv;

    ip[0] = '\0';
    if (entry == NULL) return ORC_EINVAL;
    rv = cache_write(c, uid, entry, errmsg);
    if (rv == 0) {
        loopback_up(c, uid, netns);
        rv = chain_add(c, entry, errmsg);
        if (rv != 0 && chain_del(c, entry, msg) != 0)
            log_warn(CNI_LOG, "pod %s: undoing a failed ADD: %s", uid, msg);
    }
    if (rv == 0 && net_cni_result_ip(json_object_get(entry, "result"), ip, gw) != 0)
        rv = orc_errf(errmsg, NET_ERRLEN, ORC_EPROTO, "CNI network \"%s\" gave pod %s no IPv4 address",
                      orc_json_str(entry, "networkName"), uid);
    if (rv == 0) rv = cache_write(c, uid, entry, errmsg);
    if (rv == 0) note_gateway(c, json_object_get(entry, "result"));
    else cache_remove(c, uid);
    json_decref(entry);
    return rv;
}

bool net_cni_cached_ip(struct net_cni *c, const char *uid, char ip[46])
{
    json_t *e = cache_read(c, uid);
    char gw[46];
    bool ok = e && net_cni_result_ip(json_object_get(e, "result"), ip, gw) == 0;

    json_decref(e);
    return ok;
}

int net_cni_del(struct net_cni *c, const char *uid, char *errmsg)
{
    json_t *e = cache_read(c, uid);
    int rv;

    if (e == NULL) return 0;
    rv = chain_del(c, e, errmsg);
    if (rv == 0) cache_remove(c, uid);
    json_decref(e);
    return rv;
}

bool net_cni_has(struct net_cni *c, const char *uid)
{
    char path[1200];

    cache_path(c, uid, path, sizeof path);
    return access(path, F_OK) == 0;
}

int net_cni_list(struct net_cni *c, char ***uids, size_t *n)
{
    DIR *d = opendir(c->cache_dir);
    struct dirent *de;
    char **out = NULL;
    size_t count = 0, cap = 0;

    *uids = NULL;
    *n = 0;
    if (d == NULL) return 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0) continue;
        if (count == cap) {
            char **grown = realloc(out, (cap = cap ? cap * 2 : 16) * sizeof *out);
            if (grown == NULL) goto oom;
            out = grown;
        }
        if ((out[count] = strndup(de->d_name, len - 5)) == NULL) goto oom;
        count++;
    }
    closedir(d);
    *uids = out;
    *n = count;
    return 0;
oom:
    closedir(d);
    while (count > 0) free(out[--count]);
    free(out);
    return ORC_ENOMEM;
}

void net_cni_destroy(const char *state_dir)
{
    struct net_cni c = {.bin_dir = "/usr/lib/cni", .lock = PTHREAD_MUTEX_INITIALIZER};
    char **uids = NULL, msg[NET_ERRLEN];
    size_t n = 0;

    if ((c.cache_dir = net_state_path(state_dir, "cni")) == NULL) return;
    if (net_cni_list(&c, &uids, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (net_cni_del(&c, uids[i], msg) != 0) {
                log_warn(CNI_LOG, "cleanup of pod %s: %s", uids[i], msg);
                cache_remove(&c, uids[i]);
            }
            free(uids[i]);
        }
        free(uids);
    }
    rmdir(c.cache_dir);
    free(c.cache_dir);
}
