/* rbac_bootstrap.c — the leader creates the default ClusterRoles and
 * ClusterRoleBindings (rbac_policy.c) that are missing when it is elected,
 * in one txn guarded on their absence; existing ones are left as they are
 * (an administrator's edits stay), and aggregated roles get their rules
 * from the aggregation controller (rbac_aggregate.c), which it starts. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

#define MAX_DEFAULTS 64

struct rbac_boot {
    struct api_server *s;
    struct orc_buf keys[MAX_DEFAULTS], vals[MAX_DEFAULTS];
    size_t n;
};

static void boot_free(struct rbac_boot *b)
{
    for (size_t i = 0; i < b->n; i++) {
        orc_buf_free(&b->keys[i]);
        orc_buf_free(&b->vals[i]);
    }
    api_release(b->s);
    free(b);
}

static void on_done(void *arg, int status, const struct store_txn_result *res)
{
    struct rbac_boot *b = arg;
    struct api_server *s = b->s;

    if (status == 0 && res->succeeded) log_info("apiserver", "created %zu default RBAC objects", b->n);
    else if (status == 0 && !s->stopping && s->is_leader) api_rbac_bootstrap(s); /* raced: look again */
    else if (status != 0 && !s->stopping && s->is_leader)
        log_warn("apiserver", "creating the default RBAC objects: %s", orc_strerror(status));
    boot_free(b);
}

/* Completes a policy object: apiVersion, uid, creation time, the
 * bootstrapping label and autoupdate annotation. */
static int complete(json_t *obj)
{
    char uid[37], now[ORC_TIME_LEN];

    orc_uuid(uid);
    orc_time_now(now);
    json_t *labels = json_deep_copy(orc_json_get(obj, "metadata.labels"));

    if (labels == NULL) labels = json_object();
    if (labels == NULL || json_object_set_new(labels, "kubernetes.io/bootstrapping", json_string("rbac-defaults")) != 0) {
        json_decref(labels);
        return ORC_ENOMEM;
    }
    if (orc_json_set(obj, "apiVersion", json_string("rbac.authorization.k8s.io/v1")) != 0
        || orc_json_set(obj, "metadata.uid", json_string(uid)) != 0
        || orc_json_set(obj, "metadata.creationTimestamp", json_string(now)) != 0
        || orc_json_set(obj, "metadata.labels", labels) != 0)
        return ORC_ENOMEM;
    json_t *ann = json_pack("{s:s}", "rbac.authorization.kubernetes.io/autoupdate", "true");
    if (ann == NULL || json_object_set_new(json_object_get(obj, "metadata"), "annotations", ann) != 0)
        return ORC_ENOMEM;
    return 0;
}

static int add_missing(struct rbac_boot *b, json_t *obj, struct store_guard *g, struct store_op *ops)
{
    const struct orc_kind *k = orc_kind_by_gvk("rbac.authorization.k8s.io/v1", orc_json_str(obj, "kind"));
    const char *name = orc_json_str(obj, "metadata.name");
    struct store_kv kv = {0};
    size_t i = b->n;
    int rv;

    if (k == NULL || name == NULL || i == MAX_DEFAULTS) return ORC_EINVAL;
    if ((rv = api_key(k, NULL, name, &b->keys[i])) != 0) return rv;
    if (store_get(b->s->st, b->keys[i].data, &kv) == 0) {
        store_kv_clear(&kv);
        orc_buf_free(&b->keys[i]);
        return 0;
    }
    if ((rv = complete(obj)) != 0 || (rv = api_obj_encode(obj, &b->vals[i])) != 0) {
        orc_buf_free(&b->keys[i]);
        orc_buf_free(&b->vals[i]);
        return rv;
    }
    g[i] = (struct store_guard){STORE_GUARD_ABSENT, b->keys[i].data, 0};
    ops[i] = (struct store_op){STORE_PUT, b->keys[i].data, b->vals[i].data, b->vals[i].len};
    b->n++;
    return 0;
}

void api_rbac_bootstrap(struct api_server *s)
{
    struct store_guard g[MAX_DEFAULTS];
    struct store_op ops[MAX_DEFAULTS];
    json_error_t jerr;
    json_t *policy = json_loads(rbac_default_policy, 0, &jerr), *obj;
    struct rbac_boot *b = calloc(1, sizeof *b);
    size_t i;
    int rv = 0;

    rbac_on_clusterroles(s, api_rbac_aggregate);
    if (policy == NULL || b == NULL) {
        log_error("apiserver", "the default RBAC policy: %s", policy ? "out of memory" : jerr.text);
        json_decref(policy);
        free(b);
        return;
    }
    b->s = s;
    api_hold(s);
    json_array_foreach(policy, i, obj) if ((rv = add_missing(b, obj, g, ops)) != 0) break;
    json_decref(policy);
    struct store_txn txn = {g, b->n, ops, b->n};
    if (rv == 0 && b->n > 0) rv = store_txn(s->st, &txn, on_done, b);
    else if (rv == 0) rv = ORC_EEXIST;
    if (rv != 0) {
        if (rv != ORC_EEXIST) log_warn("apiserver", "the default RBAC objects: %s", orc_strerror(rv));
        boot_free(b);
    }
    api_rbac_aggregate(s);
}
