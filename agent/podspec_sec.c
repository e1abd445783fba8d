/* podspec_sec.c — a container's securityContext, with the pod's as the
 * fallback, into what the runtime applies (rt_security), and the kubelet's
 * runAsNonRoot check against the image's user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/podspec.h"
#include "lib/json.h"
#include "lib/orc.h"

#define ERRLEN 256
#define CAP_SYS_ADMIN 21

static const json_t *effective(const json_t *pod_sc, const json_t *c_sc, const char *key)
{
    const json_t *v = json_object_get(c_sc, key);
    return v && !json_is_null(v) ? v : json_object_get(pod_sc, key);
}

static int64_t sec_id(const json_t *pod_sc, const json_t *c_sc, const char *key)
{
    const json_t *v = effective(pod_sc, c_sc, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void capabilities(const json_t *caps, struct rt_security *rt)
{
    size_t i;
    json_t *v;
    int n;

    json_array_foreach(json_object_get(caps, "add"), i, v) {
        const char *name = json_string_value(v);
        if (name && strcmp(name, "ALL") == 0) rt->add_all = true;
        else if ((n = rt_cap_number(name)) >= 0) rt->cap_add |= (uint64_t)1 << n;
    }
    json_array_foreach(json_object_get(caps, "drop"), i, v) {
        const char *name = json_string_value(v);
        if (name && strcmp(name, "ALL") == 0) rt->drop_all = true;
        else if ((n = rt_cap_number(name)) >= 0) rt->cap_drop |= (uint64_t)1 << n;
    }
}

static void extra_groups(const json_t *pod_sc, struct rt_security *rt)
{
    const json_t *fs = json_object_get(pod_sc, "fsGroup");
    size_t i;
    json_t *g;

    json_array_foreach(json_object_get(pod_sc, "supplementalGroups"), i, g)
        if (json_is_integer(g) && rt->n_extra_gids < RT_MAX_EXTRA_GIDS)
            rt->extra_gids[rt->n_extra_gids++] = (uint32_t)json_integer_value(g);
    if (json_is_integer(fs) && rt->n_extra_gids < RT_MAX_EXTRA_GIDS)
        rt->extra_gids[rt->n_extra_gids++] = (uint32_t)json_integer_value(fs);
}

static int seccomp(const json_t *profile, const struct podspec_sec_opts *opts, struct rt_security *rt,
                   char *errmsg)
{
    const char *type = orc_json_str(profile, "type"), *local = orc_json_str(profile, "localhostProfile");

    if (type == NULL) {
        rt->seccomp = opts && opts->seccomp_default ? RT_SECCOMP_RUNTIME_DEFAULT : RT_SECCOMP_UNCONFINED;
        return 0;
    }
    if (strcmp(type, "RuntimeDefault") == 0) rt->seccomp = RT_SECCOMP_RUNTIME_DEFAULT;
    else if (strcmp(type, "Unconfined") == 0) rt->seccomp = RT_SECCOMP_UNCONFINED;
    else if (strcmp(type, "Localhost") == 0) {
        if (local == NULL || *local == '\0' || local[0] == '/' || strstr(local, ".."))
            return orc_errf(errmsg, ERRLEN, ORC_EINVAL,
                            "localhostProfile must be a relative path without \"..\" for seccomp type Localhost");
        if (opts == NULL || opts->seccomp_dir == NULL)
            return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "this node has no seccomp profile directory");
        rt->seccomp = RT_SECCOMP_LOCALHOST;
        if ((size_t)snprintf(rt->seccomp_file, sizeof rt->seccomp_file, "%s/%s", opts->seccomp_dir, local)
            >= sizeof rt->seccomp_file)
            return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "localhostProfile %s: path too long", local);
    } else {
        return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "unknown seccomp profile type %s", type);
    }
    return 0;
}

int podspec_security(const json_t *pod, const json_t *container, const struct podspec_sec_opts *opts,
                     struct podspec_security *out, char *errmsg)
{
    const json_t *pod_sc = orc_json_get(pod, "spec.securityContext");
    const json_t *c_sc = json_object_get(container, "securityContext");
    const char *pm = orc_json_str(c_sc, "procMount");
    struct rt_security *rt = &out->rt;

    memset(out, 0, sizeof *out);
    out->uid = sec_id(pod_sc, c_sc, "runAsUser");
    out->gid = sec_id(pod_sc, c_sc, "runAsGroup");
    out->readonly_rootfs = json_is_true(json_object_get(c_sc, "readOnlyRootFilesystem"));
    out->run_as_non_root = json_is_true(effective(pod_sc, c_sc, "runAsNonRoot"));
    rt->privileged = json_is_true(json_object_get(c_sc, "privileged"));
    capabilities(json_object_get(c_sc, "capabilities"), rt);
    /* privileged or CAP_SYS_ADMIN can gain privileges anyway: Kubernetes
     * refuses the combination, and never sets no_new_privs for them */
    rt->no_new_privs = json_is_false(json_object_get(c_sc, "allowPrivilegeEscalation")) && !rt->privileged
                       && !(rt->cap_add & ((uint64_t)1 << CAP_SYS_ADMIN)) && !rt->add_all;
    rt->unmasked_proc = pm && strcmp(pm, "Unmasked") == 0;
    extra_groups(pod_sc, rt);
    return seccomp(effective(pod_sc, c_sc, "seccompProfile"), opts, rt, errmsg);
}

/* The image's user as the CRI reports it: its uid when the user part is
 * numeric (*name NULL), else its name. "" is root. */
static int64_t image_uid(const json_t *image_config, char *name, size_t n)
{
    const char *u = orc_json_str(image_config, "User") ?: "";
    size_t len = strcspn(u, ":");
    char *end;
    long long v;

    snprintf(name, n, "%.*s", (int)len, u);
    if (*name == '\0') return 0;
    v = strtoll(name, &end, 10);
    if (*end == '\0' && name[0] >= '0' && name[0] <= '9') return v;
    return -1;
}

int podspec_check_non_root(const struct podspec_security *sec, const json_t *image_config,
                           const json_t *pod, const char *container, char *errmsg)
{
    char who[800], user[256];
    int64_t uid;

    if (!sec->run_as_non_root) return 0;
    snprintf(who, sizeof who, "%s_%s(%s)", orc_json_str(pod, "metadata.name") ?: "",
             orc_json_str(pod, "metadata.namespace") ?: "", orc_json_str(pod, "metadata.uid") ?: "");
    if (sec->uid == 0)
        return orc_errf(errmsg, ERRLEN, ORC_EPERM, "container's runAsUser breaks non-root policy (pod: \"%s\", container: %s)",
                        who, container);
    if (sec->uid > 0) return 0;
    uid = image_uid(image_config, user, sizeof user);
    if (uid == 0)
        return orc_errf(errmsg, ERRLEN, ORC_EPERM,
                        "container has runAsNonRoot and image will run as root (pod: \"%s\", container: %s)", who,
                        container);
    if (uid < 0)
        return orc_errf(errmsg, ERRLEN, ORC_EPERM,
                        "container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is "
                        "non-root (pod: \"%s\", container: %s)",
                        user, who, container);
    return 0;
}
