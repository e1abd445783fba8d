/* disruption.c — ctl_disruption: PodDisruptionBudgets and pods from the
 * shared informers -> keys "ns/name" of budgets (a pod's change queues the
 * budgets of its namespace that select it, before or after) -> reconcile:
 * disruption_status decides, the status is written when it changed. */
#include "controllers/disruption.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/pdb.h"

#define NOT_SYNCED_RETRY_MS 200

struct dc {
    struct ctl_base b;
    const struct orc_kind *kpdb;
    informer *pdbs, *pods;
};

/* ---- the decision ---- */

static int set_int(json_t *st, const char *key, long long v)
{
    return json_object_set_new(st, key, json_integer(v));
}

/* The eviction's marks that still hold (lib/pdb.h): a pod marked but not
 * yet seen deleted is not healthy, which keeps a budget's status from
 * bouncing back up when the budget's write reaches this controller before
 * the pod's deletion does. Marks of pods gone, being deleted or expired
 * are dropped. */
static int keep_marks(json_t *st, const json_t *pdb, const json_t *const *pods, size_t n,
                      int64_t now_s)
{
    const json_t *old = orc_json_get(pdb, "status.disruptedPods");
    json_t *marks;

    if (!json_is_object(old)) return 0;
    if ((marks = json_object()) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *name = orc_json_str(pods[i], "metadata.name");
        if (orc_pdb_pod_disrupted(pdb, pods[i], now_s)
            && json_object_set(marks, name, json_object_get(old, name)) != 0) {
            json_decref(marks);
            return ORC_ENOMEM;
        }
    }
    if (json_object_size(marks) == 0) {
        json_decref(marks);
        json_object_del(st, "disruptedPods");
        return 0;
    }
    return json_object_set_new(st, "disruptedPods", marks) == 0 ? 0 : ORC_ENOMEM;
}

json_t *disruption_status(const json_t *pdb, const json_t *const *pods, size_t n, int64_t now_s)
{
    const json_t *cur = orc_json_get(pdb, "status");
    long long expected = 0, healthy = 0, desired, allowed;
    json_t *st;

    for (size_t i = 0; i < n; i++) {
        if (!orc_pdb_selects(pdb, pods[i]) || !orc_pdb_pod_expected(pods[i])) continue;
        expected++;
        healthy += orc_pdb_pod_healthy(pods[i]) && !orc_pdb_pod_disrupted(pdb, pods[i], now_s);
    }
    desired = orc_pdb_desired_healthy(pdb, expected);
    allowed = healthy - desired > 0 ? healthy - desired : 0;
    st = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    if (st == NULL || keep_marks(st, pdb, pods, n, now_s) != 0
        || set_int(st, "expectedPods", expected) != 0
        || set_int(st, "currentHealthy", healthy) != 0 || set_int(st, "desiredHealthy", desired) != 0
        || set_int(st, "disruptionsAllowed", allowed) != 0
        || set_int(st, "observedGeneration", ctl_int(pdb, "metadata.generation", 0)) != 0
        || ctl_cond_set(st, "DisruptionAllowed", allowed > 0 ? "True" : "False",
                        allowed > 0 ? "SufficientPods" : "InsufficientPods", "", now_s, false) != 0) {
        json_decref(st);
        return NULL;
    }
    if (json_is_object(cur) && json_equal(cur, st)) {
        json_decref(st);
        return NULL;
    }
    return st;
}

/* ---- informer handlers ---- */

static void on_pdb(void *arg, const json_t *pdb)
{
    struct dc *c = arg;
    ctl_base_enqueue(&c->b, pdb);
}

static void on_pdb_update(void *arg, const json_t *old, const json_t *pdb)
{
    (void)old;
    on_pdb(arg, pdb);
}

struct pod_change {
    struct dc *c;
    const json_t *old, *pod;
};

static void queue_if_selects(void *arg, const json_t *pdb)
{
    struct pod_change *ch = arg;
    if ((ch->pod && orc_pdb_selects(pdb, ch->pod)) || (ch->old && orc_pdb_selects(pdb, ch->old)))
        ctl_base_enqueue(&ch->c->b, pdb);
}

static void pod_changed(struct dc *c, const json_t *old, const json_t *pod)
{
    struct pod_change ch = {c, old, pod};
    const char *ns = orc_json_str(pod ? pod : old, "metadata.namespace");
    if (!c->b.stopped && ns) informer_by_index(c->pdbs, "namespace", ns, queue_if_selects, &ch);
}

static void on_pod(void *arg, const json_t *pod)
{
    pod_changed(arg, NULL, pod);
}

static void on_pod_update(void *arg, const json_t *old, const json_t *pod)
{
    pod_changed(arg, old, pod);
}

static void on_pod_delete(void *arg, const json_t *pod)
{
    pod_changed(arg, pod, NULL);
}

/* ---- reconcile ---- */

static void reconcile(void *arg, const char *key)
{
    struct dc *c = arg;
    char ns[256], name[256];
    struct ctl_list l = {0};
    const json_t *pdb;
    json_t *st;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0
        || (pdb = informer_get(c->pdbs, ns, name)) == NULL) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    informer_by_index(c->pods, "namespace", ns, ctl_list_add, &l);
    st = l.fail ? NULL : disruption_status(pdb, l.v, l.n, orc_clock_wall(c->b.ctx->clock) / 1000);
    free(l.v);
    if (st == NULL) {
        workqueue_done(c->b.q, key, l.fail ? WQ_RETRY : WQ_DONE);
        return;
    }
    /* a 409 (the budget changed meanwhile) is redone by its update */
    ctl_base_write_status(&c->b, c->kpdb, key, pdb, "status", st);
}

/* ---- start ---- */

static int disruption_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "disruption",
                                              .component = "controllermanager",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs pdb_cbs = {on_pdb, on_pdb_update, NULL, NULL};
    static const struct informer_cbs pod_cbs = {on_pod, on_pod_update, on_pod_delete, NULL};
    struct dc *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->kpdb = orc_kind_lookup("poddisruptionbudgets.policy");
    const struct ctl_watch w[] = {
        {c->kpdb, &pdb_cbs, &c->pdbs},
        {orc_kind_lookup("pods"), &pod_cbs, &c->pods},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_disruption = {"disruption", disruption_start, ctl_base_stop_state};
