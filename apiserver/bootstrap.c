/* bootstrap.c — objects every cluster has from the start, as in Kubernetes:
 * the namespaces default, kube-system, kube-public and kube-node-lease, and
 * (as k3s) the default StorageClass local-path. The leader creates whichever
 * are missing when it is elected. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "controllers/pvc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

static const char *const system_namespaces[] = {"default", "kube-system", "kube-public",
                                                "kube-node-lease"};

#define N_NS ORC_ARRAY_LEN(system_namespaces)
#define N_OBJS (N_NS + 1) /* the namespaces and the StorageClass */

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

static int namespace_object(const char *name, struct orc_buf *out)
{
    char uid[37], now[ORC_TIME_LEN];
    json_t *ns;
    int rv;

    orc_uuid(uid);
    orc_time_now(now);
    ns = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[s]}, s:{s:s}}", "apiVersion",
                   "v1", "kind", "Namespace", "metadata", "name", name, "uid", uid,
                   "creationTimestamp", now, "labels", "kubernetes.io/metadata.name", name, "spec",
                   "finalizers", "kubernetes", "status", "phase", "Active");
    if (ns == NULL) return ORC_ENOMEM;
    rv = api_obj_encode(ns, out);
    json_decref(ns);
    return rv;
}

static int storage_class_object(struct orc_buf *out)
{
    char uid[37], now[ORC_TIME_LEN];
    json_t *sc = pvc_default_class_new();
    int rv;

    if (sc == NULL) return ORC_ENOMEM;
    orc_uuid(uid);
    orc_time_now(now);
    if (orc_json_set(sc, "metadata.uid", json_string(uid)) != 0
        || orc_json_set(sc, "metadata.creationTimestamp", json_string(now)) != 0) {
        json_decref(sc);
        return ORC_ENOMEM;
    }
    rv = api_obj_encode(sc, out);
    json_decref(sc);
    return rv;
}

/* Adds a put of object i (made by `make`) unless key i exists. */
static int boot_add(struct api_server *s, struct boot *b, size_t i, struct store_guard *guards,
                    struct store_op *ops, struct store_txn *txn,
                    int (*make)(size_t i, struct orc_buf *out))
{
    struct store_kv kv = {0};
    int rv;

    if (store_get(s->st, b->keys[i].data, &kv) == 0) {
        store_kv_clear(&kv);
        return 0;
    }
    if ((rv = make(i, &b->vals[i])) != 0) return rv;
    guards[txn->n_guards++] = (struct store_guard){STORE_GUARD_ABSENT, b->keys[i].data, 0};
    ops[txn->n_ops++] = (struct store_op){STORE_PUT, b->keys[i].data, b->vals[i].data,
                                               b->vals[i].len};
    return 0;
}

static int make_namespace(size_t i, struct orc_buf *out)
{
    return namespace_object(system_namespaces[i], out);
}

static int make_storage_class(size_t i, struct orc_buf *out)
{
    (void)i;
    return storage_class_object(out);
}

static void on_booted(void *arg, int status, const struct store_txn_result *res)
{
    struct boot *b = arg;
    struct api_server *s = b->s;

    if (status == 0 && res->succeeded) {
        log_info("apiserver", "created the default namespaces and storage class");
        s->bootstrapped = true;
    } else if (status == 0) {
        api_bootstrap(s); /* raced with another writer: look again */
    } else if (!s->stopping && s->is_leader) {
        log_warn("apiserver", "creating the default namespaces and storage class: %s",
                 orc_strerror(status));
    }
    boot_free(b);
}

void api_bootstrap(struct api_server *s)
{
    const struct orc_kind *nsk = orc_kind_by_resource("", "namespaces");
    const struct orc_kind *sck = orc_kind_by_resource("storage.k8s.io", "storageclasses");
    struct store_guard guards[N_OBJS];
    struct store_op ops[N_OBJS];
    struct store_txn txn = {guards, 0, ops, 0};
    struct boot *b = calloc(1, sizeof *b);
    int rv = 0;

    if (b == NULL) return;
    b->s = s;
    api_hold(s);
    for (size_t i = 0; i < N_NS && rv == 0; i++) {
        api_key(nsk, NULL, system_namespaces[i], &b->keys[i]);
        rv = boot_add(s, b, i, guards, ops, &txn, make_namespace);
    }
    if (sck && rv == 0) {
        api_key(sck, NULL, PVC_DEFAULT_CLASS, &b->keys[N_NS]);
        boot_add(s, b, N_NS, guards, ops, &txn, make_storage_class);
    }
    if (txn.n_ops == 0) {
        s->bootstrapped = true;
        boot_free(b);
        return;
    }
    rv = store_txn(s->st, &txn, on_booted, b);
    if (rv != 0) {
        log_warn("apiserver", "creating the default namespaces: %s", orc_strerror(rv));
        boot_free(b);
    }
}
