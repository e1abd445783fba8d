/* podspec.h — pure translation of a Kubernetes pod's container into what the
 * runtime needs (runtime.h's rt_spec): env, argv, resources, user, ports.
 * No I/O: ConfigMaps and Secrets come through a lookup the caller provides.
 * Objects passed in are borrowed for the duration of the call only. */
#ifndef ORC_AGENT_PODSPEC_H
#define ORC_AGENT_PODSPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/runtime.h"

/* Finds a ConfigMap or Secret for env/volumes: kind is "configmaps" or
 * "secrets"; returns a borrowed object (valid during the podspec/volume call
 * that asked) or NULL when it does not exist. */
/* The lookup's kind for a pod's ServiceAccount token ({"token": T}; the
 * name is the pod's uid). */
#define PODSPEC_SA_TOKEN "serviceaccounttokens"
struct podspec_lookup {
    const json_t *(*get)(void *arg, const char *kind, const char *ns, const char *name);
    void *arg;
    /* Calls fn(fnarg, svc) for each Service of namespace ns (borrowed,
     * during the call); NULL: no Service environment variables. */
    void (*each_service)(void *arg, const char *ns, void (*fn)(void *fnarg, const json_t *svc),
                         void *fnarg);
};

/* The container's environment as "NAME=value" strings, NULL-terminated, in
 * Kubernetes order: envFrom first (configMapRef / secretRef, keys sorted per
 * source, optional prefix; keys that are not valid env names skipped), then
 * env entries. A name given twice keeps the position of its first entry and
 * the value of its last. env values expand $(VAR) from earlier entries
 * ($$ escapes, unknown $(X) left as is); valueFrom: configMapKeyRef,
 * secretKeyRef (base64-decoded), fieldRef (metadata.name|namespace|uid,
 * metadata.labels['k'], metadata.annotations['k'], metadata.labels,
 * metadata.annotations, spec.nodeName, spec.serviceAccountName,
 * status.podIP, status.hostIP) and resourceFieldRef (limits.cpu|memory,
 * requests.cpu|memory with divisor; an absent quantity reads 0 since the
 * node's allocatable is not known here). pod_ip / host_ip (may be NULL:
 * then the pod's status) win over the pod's status, which may lag.
 * Then the Service variables ({NAME}_SERVICE_HOST, _SERVICE_PORT[_PORTNAME],
 * {NAME}_PORT[_*]) of the pod's namespace (unless enableServiceLinks is
 * false) and of default/kubernetes, each unless the container defines that
 * name itself; $(VAR) in env values expands from them too, as the kubelet's.
 * *env_out is malloc'd, strings too: free with podspec_strv_free. errmsg:
 * 256 bytes. Errors: ORC_ENOENT in kubelet's words (`configmap "cfg" not
 * found`, `couldn't find key k in ConfigMap default/cfg`, `secret "s" not
 * found`): the agent reports them as CreateContainerConfigError; ORC_EINVAL
 * for an unsupported fieldRef/resourceFieldRef or bad secret data. */
int podspec_env(const json_t *pod, const json_t *container, const char *pod_ip, const char *host_ip,
                const struct podspec_lookup *lk, char ***env_out, char *errmsg);

/* The process, as Kubernetes resolves it: command replaces the image's
 * Entrypoint and ignores its Cmd; args replace Cmd; $(VAR) in command/args
 * expands from env ("NAME=value" strings as podspec_env returns; may be
 * NULL). image_config is rt_image.config (may be NULL or lack
 * Entrypoint/Cmd). *argv_out as in podspec_env. ORC_EINVAL with errmsg
 * "no command specified" when nothing is left to run. */
int podspec_argv(const json_t *container, const json_t *image_config, char *const *env,
                 char ***argv_out, char *errmsg);

/* Frees a NULL-terminated array of malloc'd strings (NULL is fine). */
void podspec_strv_free(char **v);

/* resources.limits.memory -> bytes; limits.cpu -> cpu_quota_us over
 * cpu_period_us 100000 (500m -> 50000; at least 1000, as the kubelet);
 * requests.cpu (or limits.cpu when no request, as API defaulting does) ->
 * cpu_shares as Kubernetes (milli * 1024 / 1000, within 2..262144). Fields
 * are 0 when absent. ORC_EINVAL for a quantity that does not parse. */
struct podspec_resources {
    int64_t memory_limit, cpu_quota_us, cpu_period_us, cpu_shares;
};
int podspec_resources(const json_t *container, struct podspec_resources *out);

/* The container's security context as the kubelet resolves it
 * (podspec_sec.c): runAsUser / runAsGroup / runAsNonRoot / seccompProfile
 * from the container's securityContext, else the pod's (uid, gid -1 when
 * neither sets them); readOnlyRootFilesystem, privileged, capabilities
 * (names with or without CAP_, "ALL"; unknown names ignored as runc does),
 * procMount from the container's; no_new_privs when
 * allowPrivilegeEscalation is false, unless privileged or adding
 * CAP_SYS_ADMIN (Kubernetes' rule); supplementalGroups and fsGroup as extra
 * groups. seccompProfile: RuntimeDefault, Localhost (localhostProfile
 * under opts->seccomp_dir), Unconfined; none: RuntimeDefault when
 * opts->seccomp_default (the kubelet's --seccomp-default). opts may be
 * NULL. ORC_EINVAL with errmsg (256 bytes) for a Localhost profile without
 * a path, with "..", or with no directory to read it from. */
struct podspec_sec_opts {
    bool seccomp_default;
    const char *seccomp_dir;
};
struct podspec_security {
    int64_t uid, gid;
    bool readonly_rootfs;
    bool run_as_non_root;
    struct rt_security rt;
};
int podspec_security(const json_t *pod, const json_t *container, const struct podspec_sec_opts *opts,
                     struct podspec_security *out, char *errmsg);

/* The kubelet's verifyRunAsNonRoot: with runAsNonRoot, a runAsUser of 0,
 * or no runAsUser and an image User that is root ("", "0", "0:x") or not
 * numeric, is refused with the kubelet's message naming the pod
 * ("name_ns(uid)") and container; the agent reports it as
 * CreateContainerConfigError. 0 or ORC_EPERM. */
int podspec_check_non_root(const struct podspec_security *sec, const json_t *image_config,
                           const json_t *pod, const char *container, char *errmsg);

/* The port of a probe/hook (httpGet.port, tcpSocket.port): a number, a
 * numeric string, or the name of one of the container's ports[]. 0 or
 * ORC_ENOENT when the name is not found, ORC_EINVAL when out of 1..65535
 * or neither number nor string. */
int podspec_port(const json_t *container, const json_t *port, int *out);

#endif
