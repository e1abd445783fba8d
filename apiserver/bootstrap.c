/* bootstrap.c — objects every cluster has from the start, as in Kubernetes:
 * the namespaces default, kube-system, kube-public and kube-node-lease, and
 * the PriorityClasses system-cluster-critical and system-node-critical, and
 * (as k3s) the default StorageClass local-path and the default
 * IngressClass orc (served by every agent's ingress proxy), the
 * `kubernetes` Service in default and the `kube-dns` Service in
 * kube-system. The leader creates whichever are missing when it is elected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "controllers/pvc.h"
#include "ingress/route.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/storageclass.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

static json_t *namespace_object(const char *name, const char *uid, const char *now)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[s]}, s:{s:s}}", "apiVersion",
                     "v1", "kind", "Namespace", "metadata", "name", name, "uid", uid,
                     "creationTimestamp", now, "labels", "kubernetes.io/metadata.name", name,
                     "spec", "finalizers", "kubernetes", "status", "phase", "Active");
}

static json_t *priority_class(const char *name, const char *uid, const char *now, long long value,
                              const char *what)
{
    char desc[128];
    snprintf(desc, sizeof desc, "Used for system critical pods that must %s.", what);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:I, s:b, s:s, s:s}", "apiVersion",
                     "scheduling.k8s.io/v1", "kind", "PriorityClass", "metadata", "name", name,
                     "uid", uid, "creationTimestamp", now, "value", (json_int_t)value,
                     "globalDefault", 0, "description", desc, "preemptionPolicy",
                     "PreemptLowerPriority");
}

static json_t *cluster_critical(const char *name, const char *uid, const char *now)
{
    return priority_class(name, uid, now, 2000000000LL, "run in a cluster, not on a node");
}

static json_t *node_critical(const char *name, const char *uid, const char *now)
{
    return priority_class(name, uid, now, 2000001000LL, "not be moved from their current node");
}

static json_t *storage_class(const char *name, const char *uid, const char *now)
{
    json_t *sc = orc_storage_class_default_new();

    (void)name; /* PVC_DEFAULT_CLASS */
    if (sc == NULL || orc_json_set(sc, "metadata.uid", json_string(uid)) != 0
        || orc_json_set(sc, "metadata.creationTimestamp", json_string(now)) != 0) {
        json_decref(sc);
        return NULL;
    }
    return sc;
}

static json_t *ingress_class(const char *name, const char *uid, const char *now)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion",
                     "networking.k8s.io/v1", "kind", "IngressClass", "metadata", "name", name,
                     "uid", uid, "creationTimestamp", now, "annotations",
                     INGRESS_ANN_DEFAULT_CLASS, "true", "spec", "controller", INGRESS_CONTROLLER);
}

static const struct {
    const char *group, *resource, *name;
    json_t *(*make)(const char *name, const char *uid, const char *now);
} system_objects[] = {
    {"", "namespaces", "default", namespace_object},
    {"", "namespaces", "kube-system", namespace_object},
    {"", "namespaces", "kube-public", namespace_object},
    {"", "namespaces", "kube-node-lease", namespace_object},
    {"scheduling.k8s.io", "priorityclasses", "system-cluster-critical", cluster_critical},
    {"scheduling.k8s.io", "priorityclasses", "system-node-critical", node_critical},
    {"storage.k8s.io", "storageclasses", PVC_DEFAULT_CLASS, storage_class},
    {"networking.k8s.io", "ingressclasses", INGRESS_CLASS_NAME, ingress_class},
};

#define N_OBJS ORC_ARRAY_LEN(system_objects)

struct boot {
    struct api_server *s;
    struct orc_buf keys[N_OBJS];
    struct orc_buf vals[N_OBJS];
};

static void boot_free(struct boot *b)
{
    for (size_t i = 0; i < N_OBJS; i++) {
        orc_buf_free(&b->keys[i]);
        orc_buf_free(&b->vals[i]);
    }
    api_release(b->s);
    free(b);
}

static int system_object(size_t i, struct orc_buf *out)
{
    char uid[37], now[ORC_TIME_LEN];
    json_t *obj;
    int rv;

    orc_uuid(uid);
    orc_time_now(now);
    obj = system_objects[i].make(system_objects[i].name, uid, now);
    if (obj == NULL) return ORC_ENOMEM;
    rv = api_obj_encode(obj, out);
    json_decref(obj);
    return rv;
}

static void ensure_kubernetes_service(struct api_server *s);

static void on_booted(void *arg, int status, const struct store_txn_result *res)
{
    struct boot *b = arg;
    struct api_server *s = b->s;

    if (status == 0 && res->succeeded) {
        log_info("apiserver", "created the default namespaces, priority classes, storage and ingress classes");
        ensure_kubernetes_service(s);
    } else if (status == 0) {
        api_bootstrap(s); /* raced with another writer: look again */
    } else if (!s->stopping && s->is_leader) {
        log_warn("apiserver", "creating the system objects: %s", orc_strerror(status));
    }
    boot_free(b);
}

/* ---- the `kubernetes` and `kube-dns` Services ---- */

static long api_port(struct api_server *s)
{
    const char *colon = s->url ? strrchr(s->url, ':') : NULL;
    long port = colon ? strtol(colon + 1, NULL, 10) : 6443;
    return port > 0 && port < 65536 ? port : 6443;
}

/* As Kubernetes' apiserver makes it: default/kubernetes, the first address
 * of the service range, port 443 (https) to the API servers' port, no
 * selector (its endpoints are the API servers, not pods). */
static json_t *kubernetes_service(struct api_server *s, const char *ip)
{
    (void)ip;
    return json_pack("{s:{s:{s:s, s:s}}, s:{s:[{s:s, s:s, s:i, s:i}]}}", "metadata", "labels",
                     "component", "apiserver", "provider", "kubernetes", "spec", "ports", "name",
                     "https", "protocol", "TCP", "port", 443, "targetPort", (int)api_port(s));
}

/* kube-system/kube-dns at the tenth address (10.43.0.10 by default), as k3s
 * and kubeadm place it, so manifests and tools that look for it find it. It
 * has no selector: each node's own resolver answers it (the service proxy
 * sends its address to the node's resolver, as NodeLocal DNSCache does). */
static json_t *kube_dns_service(struct api_server *s, const char *ip)
{
    (void)s;
    (void)ip;
    return json_pack("{s:{s:{s:s, s:s, s:s}}, s:{s:[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i}]}}",
                     "metadata", "labels", "k8s-app", "kube-dns", "kubernetes.io/cluster-service",
                     "true", "kubernetes.io/name", "CoreDNS", "spec", "ports", "name", "dns",
                     "protocol", "UDP", "port", 53, "targetPort", 53, "name", "dns-tcp", "protocol",
                     "TCP", "port", 53, "targetPort", 53);
}

static const struct {
    const char *ns, *name;
    size_t ip_index; /* in the service range */
    json_t *(*make)(struct api_server *s, const char *ip);
} system_services[] = {
    {"default", "kubernetes", 0, kubernetes_service},
    {"kube-system", "kube-dns", 9, kube_dns_service},
};

#define N_SVCS ORC_ARRAY_LEN(system_services)

/* The whole Service: the part `make` gives (labels, ports) plus what every
 * system Service has. */
static json_t *system_service(struct api_server *s, size_t i, const char *ip)
{
    char uid[37], now[ORC_TIME_LEN];
    json_t *svc = system_services[i].make(s, ip);
    orc_uuid(uid);
    orc_time_now(now);
    json_t *base = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:[s], s:[s], s:s, s:s, "
                             "s:s, s:s}}",
                             "apiVersion", "v1", "kind", "Service", "metadata", "name",
                             system_services[i].name, "namespace", system_services[i].ns, "uid",
                             uid, "creationTimestamp", now, "spec", "clusterIP", ip, "clusterIPs",
                             ip, "ipFamilies", "IPv4", "ipFamilyPolicy", "SingleStack", "type",
                             "ClusterIP", "sessionAffinity", "None", "internalTrafficPolicy",
                             "Cluster");
    if (!svc || !base || json_object_update_recursive(base, svc) != 0) {
        json_decref(base);
        base = NULL;
    }
    json_decref(svc);
    return base;
}

struct kube_svc {
    struct api_server *s;
    struct orc_buf key[N_SVCS], val[N_SVCS];
    char ipkey[N_SVCS][96];
};

static void kube_svc_free(struct kube_svc *k)
{
    for (size_t i = 0; i < N_SVCS; i++) {
        orc_buf_free(&k->key[i]);
        orc_buf_free(&k->val[i]);
    }
    api_release(k->s);
    free(k);
}

/* The leader is ready once its system objects, the system Services and the
 * kubernetes Service's endpoints are written, so a client seeing it ready
 * finds them. Writes that follow from them (aggregated ClusterRoles, each
 * namespace's default ServiceAccount and root CA ConfigMap) may land after,
 * as in Kubernetes, whose /readyz does not wait for controllers either. */
static void booted(struct api_server *s)
{
    s->bootstrapped = true;
}

static void kube_svc_done(void *arg, int status, const struct store_txn_result *res)
{
    struct kube_svc *k = arg;
    if (status == 0 && res->succeeded) log_info("apiserver", "created the system Services");
    else if (status == 0) log_info("apiserver", "a system Service or its address is taken");
    if (!k->s->stopping) api_kubernetes_endpoints(k->s, booted);
    kube_svc_free(k);
}

/* Adds to txn the Service i with its address reservation, unless it or its
 * address exists already. */
static int add_system_service(struct kube_svc *k, size_t i, const struct orc_pool *pool,
                              struct store_guard *g, struct store_op *ops, size_t *n)
{
    struct api_server *s = k->s;
    char ip[ORC_CIDR_TEXT];
    struct store_kv kv = {0};
    json_t *svc;
    int rv;

    if (system_services[i].ip_index >= pool->size) return 0;
    orc_pool_item(pool, system_services[i].ip_index, ip, sizeof ip);
    snprintf(k->ipkey[i], sizeof k->ipkey[i], API_SERVICEIP_PREFIX "%s", ip);
    rv = api_key(orc_kind_table + ORC_K_SERVICE, system_services[i].ns, system_services[i].name,
                 &k->key[i]);
    if (rv != 0) return rv;
    if (store_get(s->st, k->key[i].data, &kv) == 0 || store_get(s->st, k->ipkey[i], &kv) == 0) {
        store_kv_clear(&kv);
        return 0;
    }
    if (!(svc = system_service(s, i, ip))) return ORC_ENOMEM;
    rv = api_obj_encode(svc, &k->val[i]);
    json_decref(svc);
    if (rv != 0) return rv;
    g[*n] = (struct store_guard){STORE_GUARD_ABSENT, k->key[i].data, 0};
    g[*n + 1] = (struct store_guard){STORE_GUARD_ABSENT, k->ipkey[i], 0};
    ops[*n] = (struct store_op){STORE_PUT, k->key[i].data, k->val[i].data, k->val[i].len};
    ops[*n + 1] = (struct store_op){STORE_PUT, k->ipkey[i], k->key[i].data, k->key[i].len};
    *n += 2;
    return 0;
}

/* Once, each when neither the Service nor its address exists; a lost race
 * is not retried (the next leader looks again). */
static void ensure_kubernetes_service(struct api_server *s)
{
    char spec[80];
    struct orc_pool pool;
    struct store_guard g[2 * N_SVCS];
    struct store_op ops[2 * N_SVCS];
    struct kube_svc *k;
    size_t n = 0;
    int rv = 0;

    snprintf(spec, sizeof spec, "ip:%s", s->service_cidr);
    if (orc_pool_parse(spec, 32, &pool) != 0 || pool.size == 0 || !(k = calloc(1, sizeof *k))) {
        api_kubernetes_endpoints(s, booted);
        return;
    }
    k->s = s;
    api_hold(s);
    for (size_t i = 0; rv == 0 && i < N_SVCS; i++) rv = add_system_service(k, i, &pool, g, ops, &n);
    struct store_txn txn = {g, n, ops, n};
    if (rv == 0 && n == 0) rv = ORC_EEXIST;
    if (rv == 0) rv = store_txn(s->st, &txn, kube_svc_done, k);
    if (rv != 0) {
        if (rv != ORC_EEXIST) log_warn("apiserver", "the system Services: %s", orc_strerror(rv));
        kube_svc_free(k);
        api_kubernetes_endpoints(s, booted);
    }
}

void api_bootstrap(struct api_server *s)
{
    struct store_guard guards[N_OBJS];
    struct store_op ops[N_OBJS];
    struct store_txn txn = {guards, 0, ops, 0};
    struct boot *b = calloc(1, sizeof *b);
    int rv;

    api_rbac_bootstrap(s);
    api_agent_token_ensure(s);
    if (b == NULL) return;
    b->s = s;
    api_hold(s);
    for (size_t i = 0; i < N_OBJS; i++) {
        struct store_kv kv = {0};
        const struct orc_kind *k =
            orc_kind_by_resource(system_objects[i].group, system_objects[i].resource);
        api_key(k, NULL, system_objects[i].name, &b->keys[i]);
        if (store_get(s->st, b->keys[i].data, &kv) == 0) {
            store_kv_clear(&kv);
            continue;
        }
        if (system_object(i, &b->vals[i]) != 0) break;
        guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_ABSENT, b->keys[i].data, 0};
        ops[txn.n_ops++] = (struct store_op){STORE_PUT, b->keys[i].data, b->vals[i].data,
                                             b->vals[i].len};
    }
    if (txn.n_ops == 0) {
        ensure_kubernetes_service(s); /* after the default namespace */
        boot_free(b);
        return;
    }
    rv = store_txn(s->st, &txn, on_booted, b);
    if (rv != 0) {
        log_warn("apiserver", "creating the system objects: %s", orc_strerror(rv));
        boot_free(b);
    }
}
