/* statefulset.c — the StatefulSet controller's wiring: informers on
 * StatefulSets, their pods, ControllerRevisions and claims feed one work
 * queue; reconcile(key) makes sure the set's update revision exists, takes
 * one step of statefulset_plan.c (claims before their pod), prunes old
 * revisions and writes the status when it changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "controllers/statefulset.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/labels.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "statefulset"
/* how long an issued create/delete may stay unseen by the informer before
 * the controller stops waiting for it */
#define EXPECT_TIMEOUT_MS 30000
#define NOT_SYNCED_MS 200

struct expect {
    char *key, *pod, *uid; /* uid: deletes only */
    uint64_t deadline;
};

struct stsc {
    struct ctl_base b;
    const struct orc_kind *k_set, *k_pod, *k_rev, *k_claim;
    informer *sets, *pods, *revs, *claims;
    struct expect *ex;
    size_t n_ex;
};

/* A pod create waiting for its claims. */
struct pod_create {
    struct ctl_step *r;
    json_t *pod;
    unsigned claims_left;
    bool claim_failed;
};

static void stsc_release(struct stsc *c);

/* ---- keys ---- */

static void enqueue_obj(struct stsc *c, const json_t *obj)
{
    const char *ns = orc_json_str(obj, "metadata.namespace");
    const char *name = orc_json_str(obj, "metadata.name");
    char key[2 * STS_NAME_MAX];

    if (c->b.stopped || ns == NULL || name == NULL) return;
    snprintf(key, sizeof key, "%s/%s", ns, name);
    workqueue_add(c->b.q, key);
}

/* The StatefulSet controlling obj (its controller ownerReference), or NULL. */
static const json_t *controller_ref(const json_t *obj)
{
    const json_t *ref = ctl_controller_ref(obj);
    const char *kind = json_string_value(json_object_get(ref, "kind"));

    return kind && strcmp(kind, "StatefulSet") == 0 ? ref : NULL;
}

static void enqueue_owner(struct stsc *c, const json_t *obj)
{
    const json_t *ref = controller_ref(obj);
    const char *ns = orc_json_str(obj, "metadata.namespace");
    const char *name = ref ? json_string_value(json_object_get(ref, "name")) : NULL;
    char key[2 * STS_NAME_MAX];

    if (c->b.stopped || ns == NULL || name == NULL) return;
    snprintf(key, sizeof key, "%s/%s", ns, name);
    workqueue_add(c->b.q, key);
}

/* ---- informer handlers ---- */

static void set_added(void *arg, const json_t *obj) { enqueue_obj(arg, obj); }
static void set_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    enqueue_obj(arg, obj);
}
/* A pod without a controller named like one of a set's ordinals may be
 * adopted by that set. */
static void enqueue_orphan_set(struct stsc *c, const json_t *obj)
{
    const char *ns = orc_json_str(obj, "metadata.namespace");
    const char *name = orc_json_str(obj, "metadata.name");
    char set[STS_NAME_MAX], key[2 * STS_NAME_MAX];

    if (c->b.stopped || ns == NULL || name == NULL || !sts_set_of(name, set)
        || informer_get(c->sets, ns, set) == NULL)
        return;
    snprintf(key, sizeof key, "%s/%s", ns, set);
    workqueue_add(c->b.q, key);
}

static void owned_added(void *arg, const json_t *obj)
{
    if (ctl_controller_ref(obj)) enqueue_owner(arg, obj);
    else enqueue_orphan_set(arg, obj);
}
static void owned_updated(void *arg, const json_t *old, const json_t *obj)
{
    const json_t *a = controller_ref(old), *b = controller_ref(obj);

    if (a && (b == NULL || !json_equal((json_t *)a, (json_t *)b))) enqueue_owner(arg, old);
    if (b) enqueue_owner(arg, obj);
    else if (ctl_controller_ref(obj) == NULL) enqueue_orphan_set(arg, obj);
}

static const struct informer_cbs set_cbs = {set_added, set_updated, set_added, NULL};
static const struct informer_cbs owned_cbs = {owned_added, owned_updated, owned_added, NULL};

/* ---- expectations: creates and deletes issued, not yet seen ---- */

static void expect_drop(struct stsc *c, size_t i)
{
    free(c->ex[i].key);
    free(c->ex[i].pod);
    free(c->ex[i].uid);
    c->ex[i] = c->ex[--c->n_ex];
}

static void expect_add(struct stsc *c, const char *key, const char *pod, const char *uid)
{
    struct expect *ex = realloc(c->ex, (c->n_ex + 1) * sizeof *ex);
    struct expect e = {strdup(key), strdup(pod), uid ? strdup(uid) : NULL,
                       orc_clock_now(c->b.ctx->clock) + EXPECT_TIMEOUT_MS};

    if (ex) c->ex = ex;
    if (ex == NULL || e.key == NULL || e.pod == NULL || (uid && e.uid == NULL)) {
        free(e.key); /* without memory the controller just does not wait */
        free(e.pod);
        free(e.uid);
        return;
    }
    c->ex[c->n_ex++] = e;
}

static void expect_forget(struct stsc *c, const char *key, const char *pod)
{
    for (size_t i = c->n_ex; i-- > 0;)
        if (strcmp(c->ex[i].key, key) == 0 && (pod == NULL || strcmp(c->ex[i].pod, pod) == 0))
            expect_drop(c, i);
}

static bool expect_met(struct stsc *c, const struct expect *e, const char *ns)
{
    const json_t *pod = informer_get(c->pods, ns, e->pod);
    const char *uid = orc_json_str(pod, "metadata.uid");

    if (orc_clock_now(c->b.ctx->clock) >= e->deadline) return true;
    if (e->uid == NULL) return pod != NULL;
    return pod == NULL || sts_pod_terminating(pod) || (uid && strcmp(uid, e->uid) != 0);
}

/* True when every create and delete issued for key was seen (or timed out). */
static bool expectations_met(struct stsc *c, const char *key, const char *ns)
{
    bool all = true;

    for (size_t i = c->n_ex; i-- > 0;) {
        if (strcmp(c->ex[i].key, key) != 0) continue;
        if (expect_met(c, &c->ex[i], ns)) expect_drop(c, i);
        else all = false;
    }
    return all;
}

/* ---- a reconcile's calls ---- */

/* One reconcile in flight is a step (ctl_op.h, its obj the StatefulSet):
 * the API calls it issued, ended together; it holds the controller. */
static void run_release(void *arg)
{
    stsc_release(arg);
}

static struct ctl_step *run_new(struct stsc *c, const char *key, const json_t *set)
{
    struct ctl_step *r = ctl_step_new(c->b.q, key, set, run_release, c);

    if (r != NULL) ctl_base_hold(&c->b);
    return r;
}

static struct stsc *ctl_of(const struct ctl_step *r)
{
    return r->owner;
}

static bool call_ok(struct ctl_step *r, int status, const json_t *body, const char *what)
{
    if (status >= 200 && status < 300) return true;
    if (!ctl_of(r)->b.stopped)
        log_warn(MOD, "%s for %s: %s", what, r->key, rest_message(status, body));
    r->op.failed = true;
    return false;
}

/* ---- pods and claims ---- */

static const char *set_name(const struct ctl_step *r) { return orc_json_str(r->obj, "metadata.name"); }

static void pod_created(void *arg, int status, const json_t *body)
{
    struct pod_create *pc = arg;
    struct ctl_step *r = pc->r;
    const char *name = orc_json_str(pc->pod, "metadata.name");

    if (status == 409) {
        /* already there: the cache was behind */
    } else if (call_ok(r, status, body, "creating a pod")) {
        if (!ctl_of(r)->b.stopped)
            events_record(ctl_of(r)->b.rec, r->obj, "Normal", "SuccessfulCreate",
                          "create Pod %s in StatefulSet %s successful", name, set_name(r));
    } else {
        expect_forget(ctl_of(r), r->key, name);
        if (!ctl_of(r)->b.stopped)
            events_record(ctl_of(r)->b.rec, r->obj, "Warning", "FailedCreate",
                          "create Pod %s in StatefulSet %s failed error: %s", name, set_name(r),
                          rest_message(status, body));
    }
    json_decref(pc->pod);
    free(pc);
    ctl_step_put(r);
}

static void pod_create_go(struct pod_create *pc)
{
    struct ctl_step *r = pc->r;
    const char *name = orc_json_str(pc->pod, "metadata.name");

    if (pc->claim_failed || ctl_of(r)->b.stopped) {
        json_decref(pc->pod);
        free(pc);
        ctl_step_put(r);
        return;
    }
    expect_add(ctl_of(r), r->key, name, NULL);
    if (rest_create(ctl_of(r)->b.ctx->api, ctl_of(r)->k_pod, orc_json_str(pc->pod, "metadata.namespace"),
                    pc->pod, pod_created, pc)
        != 0) {
        expect_forget(ctl_of(r), r->key, name);
        r->op.failed = true;
        json_decref(pc->pod);
        free(pc);
        ctl_step_put(r);
    }
}

static void claim_created(void *arg, int status, const json_t *body)
{
    struct pod_create *pc = arg;
    struct ctl_step *r = pc->r;

    if (status != 409 && !call_ok(r, status, body, "creating a claim")) {
        pc->claim_failed = true;
        if (!ctl_of(r)->b.stopped)
            events_record(ctl_of(r)->b.rec, r->obj, "Warning", "FailedCreate",
                          "create Claim for Pod %s in StatefulSet %s failed error: %s",
                          orc_json_str(pc->pod, "metadata.name"), set_name(r),
                          rest_message(status, body));
    } else if (status != 409 && !ctl_of(r)->b.stopped) {
        events_record(ctl_of(r)->b.rec, r->obj, "Normal", "SuccessfulCreate",
                      "create Claim %s Pod %s in StatefulSet %s success",
                      orc_json_str(body, "metadata.name") ? orc_json_str(body, "metadata.name") : "",
                      orc_json_str(pc->pod, "metadata.name"), set_name(r));
    }
    if (--pc->claims_left == 0) pod_create_go(pc);
}

/* Creates the claims of `ordinal` the cache does not show, then the pod. */
static void create_pod(struct ctl_step *r, const json_t *tmpl, const char *rev, int ordinal)
{
    struct stsc *c = ctl_of(r);
    const char *ns = orc_json_str(r->obj, "metadata.namespace");
    struct pod_create *pc = calloc(1, sizeof *pc);
    json_t *vct, *missing = json_array();
    size_t i;

    if (pc == NULL || missing == NULL || (pc->pod = sts_pod_new(r->obj, tmpl, rev, ordinal)) == NULL)
        goto oom;
    pc->r = r;
    ctl_step_hold(r);
    json_array_foreach (orc_json_get(r->obj, "spec.volumeClaimTemplates"), i, vct) {
        char name[STS_NAME_MAX];
        sts_claim_name(orc_json_str(vct, "metadata.name") ? orc_json_str(vct, "metadata.name") : "",
                       set_name(r), ordinal, name);
        if (informer_get(c->claims, ns, name) == NULL
            && json_array_append_new(missing, sts_claim_new(r->obj, vct, ordinal)) != 0)
            pc->claim_failed = r->op.failed = true; /* never a pod without its claim */
    }
    pc->claims_left = 1;
    json_array_foreach (missing, i, vct) {
        pc->claims_left++;
        if (rest_create(c->b.ctx->api, c->k_claim, ns, vct, claim_created, pc) != 0) {
            pc->claims_left--;
            pc->claim_failed = r->op.failed = true;
        }
    }
    json_decref(missing);
    if (--pc->claims_left == 0) pod_create_go(pc);
    return;
oom:
    if (pc) json_decref(pc->pod);
    free(pc);
    json_decref(missing);
    r->op.failed = true;
}

struct pod_delete {
    struct ctl_step *r;
    char name[STS_NAME_MAX];
};

static void pod_deleted(void *arg, int status, const json_t *body)
{
    struct pod_delete *pd = arg;
    struct ctl_step *r = pd->r;

    if (status == 404 || status == 409) {
        /* gone already, or another pod of that name now: nothing to do */
    } else if (call_ok(r, status, body, "deleting a pod")) {
        if (!ctl_of(r)->b.stopped)
            events_record(ctl_of(r)->b.rec, r->obj, "Normal", "SuccessfulDelete",
                          "delete Pod %s in StatefulSet %s successful", pd->name, set_name(r));
    } else {
        expect_forget(ctl_of(r), r->key, pd->name);
    }
    free(pd);
    ctl_step_put(r);
}

static void delete_pod(struct ctl_step *r, const json_t *pod)
{
    struct stsc *c = ctl_of(r);
    const char *name = orc_json_str(pod, "metadata.name");
    const char *uid = orc_json_str(pod, "metadata.uid");
    struct rest_delete_opts o = {.uid = uid, .grace_seconds = -1};
    struct pod_delete *pd = calloc(1, sizeof *pd);

    if (pd == NULL || name == NULL) {
        free(pd);
        r->op.failed = true;
        return;
    }
    pd->r = r;
    snprintf(pd->name, sizeof pd->name, "%s", name);
    expect_add(c, r->key, name, uid ? uid : "");
    ctl_step_hold(r);
    if (rest_delete(c->b.ctx->api, c->k_pod, orc_json_str(pod, "metadata.namespace"), name, &o,
                    pod_deleted, pd)
        != 0) {
        expect_forget(c, r->key, name);
        r->op.failed = true;
        r->op.pending--; /* never started: not the last */
        free(pd);
    }
}

/* ---- revisions and status ---- */

static void call_done(void *arg, int status, const json_t *body)
{
    struct ctl_step *r = arg;

    if (status != 404 && status != 409) call_ok(r, status, body, "updating");
    ctl_step_put(r);
}

static void issue(struct ctl_step *r, int rv)
{
    if (rv == 0) ctl_step_hold(r);
    else r->op.failed = true;
}

struct gather {
    const char *uid;
    struct ctl_list all; /* the objects that uid controls */
};

static void gather_one(void *arg, const json_t *obj)
{
    struct gather *g = arg;
    const json_t *ref = controller_ref(obj);
    const char *uid = ref ? json_string_value(json_object_get(ref, "uid")) : NULL;

    if (uid && strcmp(uid, g->uid) == 0) ctl_list_push(&g->all, obj);
}

static const json_t *find_rev(const struct gather *revs, const char *name)
{
    for (size_t i = 0; i < revs->all.n; i++) {
        const char *n = orc_json_str(revs->all.v[i], "metadata.name");
        if (n && strcmp(n, name) == 0) return revs->all.v[i];
    }
    return NULL;
}

static int64_t max_revision(const struct gather *revs)
{
    int64_t max = 0, v;

    for (size_t i = 0; i < revs->all.n; i++)
        if (orc_json_int(revs->all.v[i], "revision", &v) == 0 && v > max) max = v;
    return max;
}

/* The template went back to an older revision's (kubectl rollout undo):
 * that revision becomes the newest, as Kubernetes renumbers it. True when
 * a patch went out (its informer event brings the key back). */
static bool renumber_revision(struct ctl_step *r, const json_t *rev, int64_t max)
{
    int64_t v = 0;
    json_t *patch;

    if (orc_json_int(rev, "revision", &v) != 0 || v >= max) return false;
    if ((patch = json_pack("{s:I}", "revision", (json_int_t)(max + 1))) == NULL) {
        r->op.failed = true;
        return true;
    }
    issue(r, rest_patch(ctl_of(r)->b.ctx->api, ctl_of(r)->k_rev, orc_json_str(rev, "metadata.namespace"),
                        orc_json_str(rev, "metadata.name"), NULL, "application/merge-patch+json", patch,
                        call_done, r));
    json_decref(patch);
    return true;
}

static void create_revision(struct ctl_step *r, const struct gather *revs, const char *hash)
{
    int64_t max = max_revision(revs);
    json_t *rev;

    if ((rev = sts_revision_new(r->obj, hash, max + 1)) == NULL) {
        r->op.failed = true;
        return;
    }
    issue(r, rest_create(ctl_of(r)->b.ctx->api, ctl_of(r)->k_rev, orc_json_str(r->obj, "metadata.namespace"),
                         rev, call_done, r));
    json_decref(rev);
}

/* The revision named after the template's hash holds another template (or
 * is another owner's): one more in status.collisionCount gives the next
 * sync a new hash (Kubernetes' CreateControllerRevision does the same). */
static void bump_collisions(struct ctl_step *r, const char *name, int64_t collisions)
{
    json_t *obj = json_deep_copy(r->obj);

    log_info(MOD, "%s: ControllerRevision %s holds another template: collisionCount %lld", r->key,
             name, (long long)collisions + 1);
    if (obj == NULL || orc_json_set(obj, "status.collisionCount", json_integer(collisions + 1)) != 0) {
        json_decref(obj);
        r->op.failed = true;
        return;
    }
    issue(r, rest_update_status(ctl_of(r)->b.ctx->api, ctl_of(r)->k_set, obj, call_done, r));
    json_decref(obj);
}

static void prune_revisions(struct ctl_step *r, const struct gather *revs, const struct gather *pods,
                            const char *cur, const char *upd)
{
    int64_t limit = 10;
    size_t *idx = revs->all.n ? calloc(revs->all.n, sizeof *idx) : NULL;
    size_t n;

    if (idx == NULL) return;
    orc_json_int(r->obj, "spec.revisionHistoryLimit", &limit);
    n = sts_revision_prune(revs->all.v, revs->all.n, pods->all.v, pods->all.n, cur, upd, limit, idx);
    for (size_t i = 0; i < n; i++) {
        const json_t *rev = revs->all.v[idx[i]];
        struct rest_delete_opts o = {.uid = orc_json_str(rev, "metadata.uid"), .grace_seconds = -1};
        issue(r, rest_delete(ctl_of(r)->b.ctx->api, ctl_of(r)->k_rev, orc_json_str(rev, "metadata.namespace"),
                             orc_json_str(rev, "metadata.name"), &o, call_done, r));
    }
    free(idx);
}

static bool status_differs(const json_t *set, const json_t *st)
{
    const json_t *old = json_object_get(set, "status");
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)st, k, v) {
        const json_t *o = json_object_get(old, k);
        if (o == NULL || !json_equal((json_t *)o, v)) return true;
    }
    return false;
}

static void write_status(struct ctl_step *r, const struct sts_plan *p, const char *cur, const char *upd)
{
    json_t *st = sts_status_new(r->obj, p, cur, upd), *obj;

    if (st == NULL) {
        r->op.failed = true;
        return;
    }
    if (!status_differs(r->obj, st) || (obj = json_deep_copy(r->obj)) == NULL) {
        json_decref(st);
        return;
    }
    json_object_set_new(obj, "status", st);
    issue(r, rest_update_status(ctl_of(r)->b.ctx->api, ctl_of(r)->k_set, obj, call_done, r));
    json_decref(obj);
}

/* ---- adoption and release (Kubernetes' ClaimPods, ctl_util.h) ---- */

struct orphans {
    struct ctl_step *r;
    orc_selector *sel;
    unsigned n;
};

static void patch_owner(struct ctl_step *r, const json_t *pod, bool adopt)
{
    json_t *patch = ctl_owner_patch(pod, r->obj, "apps/v1", "StatefulSet", adopt, NULL);

    if (patch == NULL) {
        r->op.failed = true;
        return;
    }
    issue(r, rest_patch(ctl_of(r)->b.ctx->api, ctl_of(r)->k_pod, orc_json_str(pod, "metadata.namespace"),
                        orc_json_str(pod, "metadata.name"), NULL, "application/merge-patch+json", patch,
                        call_done, r));
    json_decref(patch);
}

/* An orphan named like one of the set's ordinals that the selector takes. */
static void adopt_one(void *arg, const json_t *pod)
{
    struct orphans *o = arg;
    const char *name = orc_json_str(pod, "metadata.name");
    bool match = orc_selector_matches(o->sel, orc_json_get(pod, "metadata.labels"));

    if (ctl_controller_ref(pod) || name == NULL || sts_ordinal(set_name(o->r), name) < 0
        || ctl_claim_decide(o->r->obj, pod, match) != CTL_CLAIM_ADOPT)
        return;
    patch_owner(o->r, pod, true);
    o->n++;
}

/* Adopts the orphans and releases owned pods the selector no longer takes;
 * how many patches (their events bring the key back). */
static unsigned claim_pods(struct ctl_step *r, const char *ns, const json_t *const *owned, size_t n)
{
    struct orphans o = {r, NULL, 0};

    if (orc_selector_from_json(orc_json_get(r->obj, "spec.selector"), &o.sel, NULL, 0) != 0)
        return 0;
    /* an empty selector would take every pod: Kubernetes adopts none then */
    if (!orc_selector_is_empty(o.sel)) {
        for (size_t i = 0; i < n; i++) {
            bool match = orc_selector_matches(o.sel, orc_json_get(owned[i], "metadata.labels"));
            if (ctl_claim_decide(r->obj, owned[i], match) == CTL_CLAIM_RELEASE) {
                patch_owner(r, owned[i], false);
                o.n++;
            }
        }
        informer_by_index(ctl_of(r)->pods, "namespace", ns, adopt_one, &o);
    }
    orc_selector_free(o.sel);
    return o.n;
}

/* ---- reconcile ---- */

/* whenScaled: Delete — the claims of a pod scaled away get it as an owner
 * (Kubernetes' way), so the garbage collector deletes them after it. */
static void release_claims(struct ctl_step *r, const json_t *pod, int ordinal)
{
    const char *ns = orc_json_str(r->obj, "metadata.namespace");
    json_t *vct, *patch;
    size_t i;

    json_array_foreach (orc_json_get(r->obj, "spec.volumeClaimTemplates"), i, vct) {
        char name[STS_NAME_MAX];
        const json_t *claim;

        sts_claim_name(orc_json_str(vct, "metadata.name") ? orc_json_str(vct, "metadata.name") : "",
                       set_name(r), ordinal, name);
        if ((claim = informer_get(ctl_of(r)->claims, ns, name)) == NULL
            || (patch = sts_claim_owner_patch(claim, pod)) == NULL)
            continue;
        issue(r, rest_patch(ctl_of(r)->b.ctx->api, ctl_of(r)->k_claim, ns, name, NULL,
                            "application/merge-patch+json", patch, call_done, r));
        json_decref(patch);
    }
}

static void take_step(struct ctl_step *r, struct gather *pods, struct gather *revs, const char *cur,
                      const char *upd)
{
    const json_t *cur_rev = find_rev(revs, cur);
    const json_t *cur_tmpl = cur_rev ? sts_revision_template(cur_rev) : NULL;
    struct sts_input in = {r->obj, pods->all.v, pods->all.n, cur, upd,
                           orc_clock_wall(ctl_of(r)->b.ctx->clock)};
    struct sts_plan p;
    int64_t replicas = 1;

    orc_json_int(r->obj, "spec.replicas", &replicas);
    if (sts_plan_make(&in, &p) != 0) {
        r->op.failed = true;
        return;
    }
    for (size_t i = 0; i < p.n_ops; i++) {
        const struct sts_op *op = &p.ops[i];
        bool at_update = op->update || cur_tmpl == NULL;
        if (op->kind == STS_DELETE && op->ordinal >= replicas && sts_claims_deleted_on_scale(r->obj))
            release_claims(r, op->pod, op->ordinal);
        if (op->kind == STS_DELETE) delete_pod(r, op->pod);
        else
            create_pod(r, at_update ? orc_json_get(r->obj, "spec.template") : cur_tmpl,
                       at_update ? upd : cur, op->ordinal);
    }
    r->requeue_ms = p.requeue_ms;
    write_status(r, &p, cur, upd);
    prune_revisions(r, revs, pods, p.rollout_done ? upd : cur, upd);
    sts_plan_free(&p);
}

static void reconcile_set(struct ctl_step *r, const char *ns)
{
    struct stsc *c = ctl_of(r);
    const char *uid = orc_json_str(r->obj, "metadata.uid");
    struct gather pods = {.uid = uid}, revs = {.uid = uid};
    int64_t collisions = 0;
    char hash[16], upd[2 * STS_NAME_MAX], cur[2 * STS_NAME_MAX];
    const char *status_cur = orc_json_str(r->obj, "status.currentRevision");

    if (uid == NULL) return;
    informer_by_index(c->pods, "owner", uid, gather_one, &pods);
    informer_by_index(c->revs, "owner", uid, gather_one, &revs);
    orc_json_int(r->obj, "status.collisionCount", &collisions);
    if (pods.all.fail || revs.all.fail
        || sts_revision_hash(orc_json_get(r->obj, "spec.template"), (uint32_t)collisions, hash) != 0) {
        r->op.failed = true;
        goto out;
    }
    snprintf(upd, sizeof upd, "%s-%s", set_name(r), hash);
    if (ctl_revision_collides(informer_get(c->revs, ns, upd), uid, orc_json_get(r->obj, "spec.template"))) {
        bump_collisions(r, upd, collisions); /* the status event brings the key back */
        goto out;
    }
    if (find_rev(&revs, upd) == NULL) {
        create_revision(r, &revs, hash); /* its informer event brings the key back */
        goto out;
    }
    if (renumber_revision(r, find_rev(&revs, upd), max_revision(&revs))) goto out;
    snprintf(cur, sizeof cur, "%s", status_cur && find_rev(&revs, status_cur) ? status_cur : upd);
    if (claim_pods(r, ns, pods.all.v, pods.all.n) > 0) goto out; /* their events bring the key back */
    if (!expectations_met(c, r->key, ns)) {
        r->requeue_ms = 1000;
        goto out;
    }
    take_step(r, &pods, &revs, cur, upd);
out:
    free(pods.all.v);
    free(revs.all.v);
}

static void reconcile(void *arg, const char *key)
{
    struct stsc *c = arg;
    char ns[STS_NAME_MAX], name[STS_NAME_MAX];
    const json_t *set;
    struct ctl_step *r;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_MS)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0 || (set = informer_get(c->sets, ns, name)) == NULL) {
        expect_forget(c, key, NULL); /* its pods go with it (garbage collector) */
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (sts_pod_terminating(set)) { /* deletionTimestamp: being deleted */
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if ((r = run_new(c, key, set)) == NULL) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    reconcile_set(r, ns);
    ctl_step_put(r);
}

/* ---- start and stop ---- */

static void stsc_free(void *arg)
{
    struct stsc *c = arg;
    while (c->n_ex > 0) expect_drop(c, 0);
    free(c->ex);
    free(c);
}

static void stsc_release(struct stsc *c)
{
    ctl_base_put(&c->b);
}

static int sts_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = MOD, .component = "statefulset-controller", .reconcile = reconcile, .free_self = stsc_free};
    struct stsc *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->k_set = orc_kind_by_resource("apps", "statefulsets");
    c->k_pod = orc_kind_by_resource("", "pods");
    c->k_rev = orc_kind_by_resource("apps", "controllerrevisions");
    c->k_claim = orc_kind_by_resource("", "persistentvolumeclaims");
    if (!c->k_set || !c->k_pod || !c->k_rev || !c->k_claim) {
        log_error(MOD, "the API lacks ControllerRevisions or PersistentVolumeClaims");
        free(c);
        return ORC_EINVAL;
    }
    const struct ctl_watch w[] = {
        {c->k_set, &set_cbs, &c->sets},
        {c->k_pod, &owned_cbs, &c->pods},
        {c->k_rev, &owned_cbs, &c->revs},
        {c->k_claim, NULL, &c->claims},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_statefulset = {"statefulset", sts_start, ctl_base_stop_state};
