/* rbac_bootstrap.c — the leader brings the default ClusterRoles and
 * ClusterRoleBindings (rbac_policy.c) to orc's defaults when it is
 * elected, as kube-apiserver's RBAC bootstrap does on every start: missing
 * ones are created, and existing ones whose annotation
 * rbac.authorization.kubernetes.io/autoupdate is not "false" reconciled
 * (a role's rules set to the defaults, a binding's missing subjects added
 * and its roleRef restored), all in one txn guarded on what was read; an
 * administrator who sets autoupdate "false" keeps their edit. Aggregated
 * roles get their rules from the aggregation controller
 * (rbac_aggregate.c), which it starts. */
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
#define AUTOUPDATE "rbac.authorization.kubernetes.io/autoupdate"

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

    if (status == 0 && res->succeeded) log_info("apiserver", "created or reconciled %zu default RBAC objects", b->n);
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

/* Sets obj's member key to want's (a copy) unless they are equal; whether
 * it changed. */
static bool set_member(json_t *obj, const char *key, const json_t *want, int *rv)
{
    const json_t *have = json_object_get(obj, key);

    if (want == NULL || (have && json_equal(have, want))) return false;
    if (json_object_set_new(obj, key, json_deep_copy(want)) != 0) *rv = ORC_ENOMEM;
    return true;
}

/* The labels of want missing from (or different in) have's metadata. */
static bool reconcile_labels(json_t *have, const json_t *want, int *rv)
{
    json_t *meta = json_object_get(have, "metadata"), *labels = json_object_get(meta, "labels");
    const char *k;
    json_t *v;
    bool changed = false;

    if (!json_is_object(labels)) {
        if ((labels = json_object()) == NULL || json_object_set_new(meta, "labels", labels) != 0) {
            *rv = ORC_ENOMEM;
            return false;
        }
    }
    json_object_foreach(orc_json_get(want, "metadata.labels"), k, v) changed |= set_member(labels, k, v, rv);
    return changed;
}

/* Brings have (a stored default, edited) back to want (the completed
 * default): whether anything changed. A role's rules are the defaults
 * exactly (orc narrows its defaults over versions, and an extra rule left
 * behind would keep the old reach); an aggregated role's rules are the
 * aggregation controller's. A binding keeps extra subjects, as
 * Kubernetes' reconciliation does. */
static bool reconcile(json_t *have, const json_t *want, int *rv)
{
    bool changed = reconcile_labels(have, want, rv);

    if (json_object_get(want, "roleRef")) {
        const json_t *subs = json_object_get(want, "subjects"), *sub;
        json_t *hs = json_object_get(have, "subjects");
        size_t i, j;
        const json_t *h;
        changed |= set_member(have, "roleRef", json_object_get(want, "roleRef"), rv);
        if (!json_is_array(hs)) {
            if ((hs = json_array()) == NULL || json_object_set_new(have, "subjects", hs) != 0) {
                *rv = ORC_ENOMEM;
                return false;
            }
        }
        json_array_foreach(subs, i, sub) {
            bool found = false;
            json_array_foreach(hs, j, h) found = found || json_equal(h, sub);
            if (!found && json_array_append_new(hs, json_deep_copy(sub)) != 0) *rv = ORC_ENOMEM;
            changed |= !found;
        }
    } else if (json_object_get(want, "aggregationRule")) {
        changed |= set_member(have, "aggregationRule", json_object_get(want, "aggregationRule"), rv);
    } else {
        changed |= set_member(have, "rules", json_object_get(want, "rules"), rv);
    }
    return changed;
}

/* An existing default: 0 with nothing queued when it is as it should be
 * or protected (autoupdate "false"); else its reconciled form queued,
 * guarded on the revision read. */
static int reconcile_existing(struct rbac_boot *b, json_t *want, const struct store_kv *kv,
                              struct store_guard *g, struct store_op *ops)
{
    size_t i = b->n;
    json_t *have = orc_json_loadb(kv->value, kv->value_len, 0, NULL);
    const char *au = json_string_value(json_object_get(orc_json_get(have, "metadata.annotations"), AUTOUPDATE));
    int rv = 0;

    if (have == NULL) return 0; /* sealed or not JSON: left as it is */
    if ((au && strcmp(au, "false") == 0) || complete(want) != 0 || !reconcile(have, want, &rv) || rv != 0) {
        json_decref(have);
        return rv;
    }
    rv = api_obj_encode(have, &b->vals[i]);
    json_decref(have);
    if (rv != 0) return rv;
    g[i] = (struct store_guard){STORE_GUARD_MODREV, b->keys[i].data, kv->mod_rev};
    ops[i] = (struct store_op){STORE_PUT, b->keys[i].data, b->vals[i].data, b->vals[i].len};
    b->n++;
    log_info("apiserver", "reconciling the default %s %s", orc_json_str(want, "kind"),
             orc_json_str(want, "metadata.name"));
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
        rv = reconcile_existing(b, obj, &kv, g, ops);
        store_kv_clear(&kv);
        if (b->n == i) {
            orc_buf_free(&b->keys[i]);
            orc_buf_free(&b->vals[i]);
        }
        return rv;
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
