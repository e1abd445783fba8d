/* bootstrap.c — objects every cluster has from the start, as in Kubernetes:
 * the namespaces default, kube-system, kube-public and kube-node-lease.
 * The leader creates whichever are missing when it is elected. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

static const char *const system_namespaces[] = {"default", "kube-system", "kube-public",
                                                "kube-node-lease"};

#define N_NS ORC_ARRAY_LEN(system_namespaces)

struct boot {
    struct api_server *s;
    struct orc_buf keys[N_NS];
    struct orc_buf vals[N_NS];
};

static void boot_free(struct boot *b)
{
    for (size_t i = 0; i < N_NS; i++) {
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

static void on_booted(void *arg, int status, const struct store_txn_result *res)
{
    struct boot *b = arg;
    struct api_server *s = b->s;

    if (status == 0 && res->succeeded) {
        log_info("apiserver", "created the default namespaces");
        s->bootstrapped = true;
    } else if (status == 0) {
        api_bootstrap(s); /* raced with another writer: look again */
    } else if (!s->stopping && s->is_leader) {
        log_warn("apiserver", "creating the default namespaces: %s", orc_strerror(status));
    }
    boot_free(b);
}

void api_bootstrap(struct api_server *s)
{
    const struct orc_kind *nsk = orc_kind_by_resource("", "namespaces");
    struct store_guard guards[N_NS];
    struct store_op ops[N_NS];
    struct store_txn txn = {guards, 0, ops, 0};
    struct boot *b = calloc(1, sizeof *b);
    int rv;

    if (b == NULL) return;
    b->s = s;
    api_hold(s);
    for (size_t i = 0; i < N_NS; i++) {
        struct store_kv kv = {0};
        api_key(nsk, NULL, system_namespaces[i], &b->keys[i]);
        if (store_get(s->st, b->keys[i].data, &kv) == 0) {
            store_kv_clear(&kv);
            continue;
        }
        if (namespace_object(system_namespaces[i], &b->vals[i]) != 0) break;
        guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_ABSENT, b->keys[i].data, 0};
        ops[txn.n_ops++] = (struct store_op){STORE_PUT, b->keys[i].data, b->vals[i].data,
                                             b->vals[i].len};
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
