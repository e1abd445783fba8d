/* net_cni_conf.c — the CNI network configuration a node uses: the file
 * libcni would pick from the directory, read as a configuration list, with
 * the Node's pod CIDR filled into a host-local ipam that names no subnet
 * (as flannel's CNI plugin delegates: one file serves every node). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net_cni.h"
#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"

#define CONF_MAX (1u << 20)

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_conf_name(const char *name)
{
    return name[0] != '.'
           && (ends_with(name, ".conflist") || ends_with(name, ".conf") || ends_with(name, ".json"));
}

int net_cni_conf_find(const char *dir, char *path, size_t n, char *errmsg)
{
    struct dirent **ents = NULL;
    int count = scandir(dir, &ents, NULL, alphasort), found = -1;

    if (count < 0)
        return orc_errf(errmsg, NET_ERRLEN, ORC_ENOENT, "CNI configuration directory %s: %m", dir);
    for (int i = 0; i < count; i++) {
        if (found < 0 && is_conf_name(ents[i]->d_name)) found = i;
    }
    if (found >= 0) snprintf(path, n, "%s/%s", dir, ents[found]->d_name);
    for (int i = 0; i < count; i++) free(ents[i]);
    free(ents);
    if (found < 0)
        return orc_errf(errmsg, NET_ERRLEN, ORC_ENOENT,
                        "no CNI network configuration (*.conflist, *.conf, *.json) in %s", dir);
    return 0;
}

/* ranges [[{"subnet": cidr}]] for a host-local ipam that has neither. */
static int fill_subnet(json_t *plugin, const char *pod_cidr)
{
    json_t *ipam = json_object_get(plugin, "ipam"), *ranges;
    const char *type = orc_json_str(ipam, "type");

    if (pod_cidr == NULL || !json_is_object(ipam) || type == NULL || strcmp(type, "host-local") != 0)
        return 0;
    if (json_object_get(ipam, "subnet") || json_object_get(ipam, "ranges")) return 0;
    ranges = json_pack("[[{s:s}]]", "subnet", pod_cidr);
    if (ranges == NULL || json_object_set_new(ipam, "ranges", ranges) != 0) return ORC_ENOMEM;
    return 0;
}

/* A .conf holds one plugin: the list around it takes its name and version. */
static json_t *as_list(const char *name, json_t *doc)
{
    json_t *plugins = json_object_get(doc, "plugins"), *list;

    if (plugins != NULL || ends_with(name, ".conflist")) return json_incref(doc);
    list = json_pack("{s:O?, s:O?, s:[O]}", "cniVersion", json_object_get(doc, "cniVersion"),
                     "name", json_object_get(doc, "name"), "plugins", doc);
    return list;
}

static int check_list(const char *name, const json_t *list, char *errmsg)
{
    const json_t *plugins = json_object_get(list, "plugins"), *p;
    const char *net = orc_json_str(list, "name"), *ver = orc_json_str(list, "cniVersion");
    size_t i;

    if (net == NULL || *net == '\0')
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "CNI configuration %s: no network name", name);
    if (ver == NULL || *ver == '\0')
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "CNI configuration %s: no cniVersion", name);
    if (!json_is_array(plugins) || json_array_size(plugins) == 0)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "CNI configuration %s: no plugins", name);
    json_array_foreach(plugins, i, p) {
        const char *type = orc_json_str(p, "type");
        if (!json_is_object(p) || type == NULL || *type == '\0' || strchr(type, '/'))
            return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL,
                            "CNI configuration %s: plugin %zu has no valid type", name, i);
    }
    return 0;
}

int net_cni_conf_parse(const char *name, const char *text, const char *pod_cidr, json_t **list,
                       char *errmsg)
{
    char why[160];
    json_t *doc = orc_json_parse(text, strlen(text), why, sizeof why), *l, *p;
    size_t i;
    int rv;

    if (!json_is_object(doc)) {
        json_decref(doc);
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "CNI configuration %s: %s", name,
                        doc ? "not a JSON object" : why);
    }
    l = as_list(name, doc);
    json_decref(doc);
    if (l == NULL) return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    rv = check_list(name, l, errmsg);
    json_array_foreach(json_object_get(l, "plugins"), i, p) {
        if (rv == 0 && (rv = fill_subnet(p, pod_cidr)) != 0)
            orc_errf(errmsg, NET_ERRLEN, rv, "out of memory");
    }
    if (rv != 0) {
        json_decref(l);
        return rv;
    }
    *list = l;
    return 0;
}

void net_cni_conf_fill_mtu(json_t *list, int mtu)
{
    json_t *p;
    size_t i;

    if (mtu <= 0) return;
    json_array_foreach(json_object_get(list, "plugins"), i, p) {
        const char *type = orc_json_str(p, "type");
        if (type && (strcmp(type, "bridge") == 0 || strcmp(type, "ptp") == 0)
            && json_object_get(p, "mtu") == NULL)
            json_object_set_new(p, "mtu", json_integer(mtu));
    }
}

int net_cni_conf_load(const char *dir, const char *pod_cidr, json_t **list, char *errmsg)
{
    struct orc_buf text = ORC_BUF_INIT;
    char path[4096];
    int rv = net_cni_conf_find(dir, path, sizeof path, errmsg);

    if (rv != 0) return rv;
    rv = orc_file_read(path, CONF_MAX, &text);
    if (rv != 0) rv = orc_errf(errmsg, NET_ERRLEN, rv, "%s: %s", path, orc_strerror(rv));
    else rv = net_cni_conf_parse(path, text.data ? text.data : "", pod_cidr, list, errmsg);
    orc_buf_free(&text);
    return rv;
}
