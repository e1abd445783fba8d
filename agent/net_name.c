/* net_name.c — host object names derived from the node name (and pod uid),
 * short enough for interface names (15 characters) and iptables chains. */
#include <stdio.h>
#include <string.h>

#include "agent/net_int.h"
#include "lib/hash.h"

void net_names_init(struct net_names *nm, const char *node_name)
{
    orc_name_tag(node_name, nm->tag);
    snprintf(nm->bridge, sizeof nm->bridge, "orc%s", nm->tag);
    snprintf(nm->post, sizeof nm->post, "ORC-%s-POST", nm->tag);
    snprintf(nm->masq, sizeof nm->masq, "ORC-%s-MASQ", nm->tag);
    snprintf(nm->hp, sizeof nm->hp, "ORC-%s-HP", nm->tag);
    snprintf(nm->fwd, sizeof nm->fwd, "ORC-%s-FWD", nm->tag);
    snprintf(nm->in, sizeof nm->in, "ORC-%s-IN", nm->tag);
    snprintf(nm->comment, sizeof nm->comment, "orc-%s", nm->tag);
    snprintf(nm->alias, sizeof nm->alias, "orc-%s pod=", nm->tag);
    snprintf(nm->vtep_alias, sizeof nm->vtep_alias, "orc-%s vtep", nm->tag);
}

void net_veth_name(const char *node_name, const char *pod_uid, char out[16])
{
    /* The NUL between the two keeps ("ab","c") and ("a","bc") apart. */
    uint64_t h = orc_fnv1a(ORC_FNV_OFFSET, node_name, strlen(node_name) + 1);

    h = orc_fnv1a(h, pod_uid, strlen(pod_uid));
    snprintf(out, 16, "orcv%010llx", (unsigned long long)(h & 0xffffffffffull));
}

void net_netns_path(const struct net_names *nm, const char *pod_uid, char *out, size_t n)
{
    snprintf(out, n, NET_NETNS_DIR "/orc-%s-%.12s", nm->tag, pod_uid);
}

bool net_uid_valid(const char *uid)
{
    size_t len = strlen(uid);

    if (len == 0 || len > NET_UID_MAX || uid[0] == '.') return false;
    for (size_t i = 0; i < len; i++) {
        char c = uid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}
