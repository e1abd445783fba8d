/* daemonset_step.c — one reconcile step of a DaemonSet: pods to create and
 * delete on each node (Kubernetes' manage), the rolling update
 * (rollingUpdate: maxUnavailable, maxSurge) and the status. */
#include <stdlib.h>
#include <string.h>

#include "controllers/daemonset.h"
#include "lib/json.h"
#include "lib/orc.h"

struct step {
    const json_t *ds;
    char hash[DS_HASH_LEN];
    int64_t now, min_ready_ms;
    struct ds_plan *out;
    int err;
};

/* ---- helpers ---- */

static bool terminating(const json_t *pod)
{
    return orc_json_get(pod, "metadata.deletionTimestamp") != NULL;
}

static bool phase_is(const json_t *pod, const char *phase)
{
    const char *p = orc_json_str(pod, "status.phase");
    return p && strcmp(p, phase) == 0;
}

static bool is_new(const struct step *s, const json_t *pod)
{
    const char *h = orc_json_str(pod, "metadata.labels." DS_HASH_LABEL);
    return h && strcmp(h, s->hash) == 0;
}

/* Oldest first (creationTimestamp, then name), as Kubernetes keeps the
 * oldest of duplicate daemon pods. */
static int by_age(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *tx = orc_json_str(x, "metadata.creationTimestamp") ?: "";
    const char *ty = orc_json_str(y, "metadata.creationTimestamp") ?: "";
    int c = strcmp(tx, ty);
    return c ? c : strcmp(orc_json_str(x, "metadata.name") ?: "", orc_json_str(y, "metadata.name") ?: "");
}

static void sort_pods(json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **v = n ? malloc(n * sizeof *v) : NULL;

    if (!v) return;
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, by_age);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, v[i]);
    free(v);
}

static void create_on(struct step *s, const char *node)
{
    if (json_array_append_new(s->out->create, json_string(node)) != 0) s->err = ORC_ENOMEM;
}

static void delete_pod(struct step *s, const json_t *pod)
{
    if (terminating(pod)) return;
    if (json_array_append(s->out->remove, (json_t *)pod) != 0) s->err = ORC_ENOMEM;
}

static bool available(struct step *s, const json_t *pod)
{
    int64_t wait = 0;
    bool ok = ds_pod_available(pod, s->min_ready_ms, s->now, &wait);

    if (!ok && wait > 0 && (s->out->requeue_ms == 0 || wait < s->out->requeue_ms))
        s->out->requeue_ms = wait;
    return ok;
}

/* IntOrString against a total ("25%" rounds up, as Kubernetes does for
 * both maxUnavailable and maxSurge of a DaemonSet). */
static long scaled(const json_t *v, long total)
{
    const char *s = json_string_value(v);
    long pct;

    if (json_is_integer(v)) return (long)json_integer_value(v);
    if (!s) return 0;
    pct = strtol(s, NULL, 10);
    return (pct * total + 99) / 100;
}

/* ---- manage: one pod per node that should run one ---- */

static void manage_node(struct step *s, const json_t *node, json_t *pods, bool run, bool cont)
{
    const char *name = orc_json_str(node, "metadata.name");
    bool surge = scaled(orc_json_get(s->ds, "spec.updateStrategy.rollingUpdate.maxSurge"), 1) > 0;
    bool kept_new = false, kept_old = false;
    size_t i;
    json_t *p;

    if (run && json_array_size(pods) == 0) {
        create_on(s, name);
        return;
    }
    json_array_foreach(pods, i, p) {
        if (terminating(p)) continue;
        if (!cont || phase_is(p, "Failed") || phase_is(p, "Succeeded")) {
            delete_pod(s, p);
            continue;
        }
        /* Duplicates: the oldest stays (the oldest of each hash while a
         * surge may have put a new pod beside an old one). */
        bool *kept = surge && is_new(s, p) ? &kept_new : &kept_old;
        if (*kept) delete_pod(s, p);
        else *kept = true;
    }
}

/* ---- rolling update ---- */

struct node_pods {
    const json_t *node;
    const json_t *newp, *oldp; /* the live pod of each hash, or NULL */
};

static void split(struct step *s, const json_t *pods, struct node_pods *np)
{
    size_t i;
    json_t *p;

    np->newp = np->oldp = NULL;
    json_array_foreach(pods, i, p) {
        if (terminating(p)) continue;
        if (is_new(s, p)) np->newp = np->newp ? np->newp : p;
        else np->oldp = np->oldp ? np->oldp : p;
    }
}

static void roll_unavailable(struct step *s, struct node_pods *np, size_t n, long max_unavail)
{
    long unavailable = 0;

    for (size_t i = 0; i < n; i++) {
        if ((!np[i].newp && !np[i].oldp) || (np[i].newp && !available(s, np[i].newp))) unavailable++;
    }
    for (size_t i = 0; i < n; i++) {
        if (np[i].newp || !np[i].oldp) continue;
        if (!available(s, np[i].oldp)) {
            delete_pod(s, np[i].oldp); /* already down: replacing costs nothing */
        } else if (unavailable < max_unavail) {
            unavailable++;
            delete_pod(s, np[i].oldp);
        }
    }
}

static void roll_surge(struct step *s, struct node_pods *np, size_t n, long max_surge)
{
    long surging = 0;

    for (size_t i = 0; i < n; i++) {
        if (np[i].oldp && np[i].newp && !available(s, np[i].newp)) surging++;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = orc_json_str(np[i].node, "metadata.name");
        if (!np[i].oldp) continue;
        if (np[i].newp) {
            if (available(s, np[i].newp)) delete_pod(s, np[i].oldp);
        } else if (!available(s, np[i].oldp)) {
            create_on(s, name);
        } else if (surging < max_surge) {
            surging++;
            create_on(s, name);
        }
    }
}

static void rolling_update(struct step *s, struct node_pods *np, size_t n)
{
    const json_t *ru = orc_json_get(s->ds, "spec.updateStrategy.rollingUpdate");
    long surge = scaled(json_object_get(ru, "maxSurge"), (long)n);
    long unavail = scaled(json_object_get(ru, "maxUnavailable"), (long)n);

    if (surge > 0) roll_surge(s, np, n, surge);
    else roll_unavailable(s, np, n, unavail > 0 ? unavail : 1);
}

/* ---- status ---- */

static int status_of(struct step *s, struct node_pods *np, size_t n, long misscheduled)
{
    long current = 0, ready = 0, avail = 0, updated = 0;
    int64_t gen = 0;

    for (size_t i = 0; i < n; i++) {
        const json_t *p = np[i].oldp ? np[i].oldp : np[i].newp;
        if (!p) continue;
        current++;
        if (np[i].newp) updated++;
        if (ds_pod_ready(p)) ready++;
        if (available(s, p)) avail++;
    }
    orc_json_int(s->ds, "metadata.generation", &gen);
    s->out->status = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                               "currentNumberScheduled", (json_int_t)current,
                               "desiredNumberScheduled", (json_int_t)n,
                               "numberMisscheduled", (json_int_t)misscheduled,
                               "numberReady", (json_int_t)ready,
                               "observedGeneration", (json_int_t)gen,
                               "updatedNumberScheduled", (json_int_t)updated,
                               "numberAvailable", (json_int_t)avail,
                               "numberUnavailable", (json_int_t)(n - avail));
    json_t *cc = orc_json_get(s->ds, "status.collisionCount");
    if (s->out->status && cc) json_object_set(s->out->status, "collisionCount", cc);
    return s->out->status ? 0 : ORC_ENOMEM;
}

/* ---- the step ---- */

/* Pods by the node they are for; pods for no node at all are deleted. */
static json_t *group_by_node(struct step *s, const json_t *pods)
{
    json_t *by = json_object(), *p, *arr;
    size_t i;

    if (!by) return NULL;
    json_array_foreach(pods, i, p) {
        const char *node = ds_pod_node(p);
        if (!node) {
            delete_pod(s, p);
            continue;
        }
        arr = json_object_get(by, node);
        if (!arr && json_object_set_new(by, node, arr = json_array()) != 0) arr = NULL;
        if (!arr || json_array_append(arr, p) != 0) s->err = ORC_ENOMEM;
    }
    const char *key;
    json_object_foreach(by, key, arr) sort_pods(arr);
    return by;
}

static bool rolling(const json_t *ds)
{
    const char *type = orc_json_str(ds, "spec.updateStrategy.type");
    return !type || strcmp(type, "OnDelete") != 0;
}

static void walk_nodes(struct step *s, const json_t *nodes, json_t *by, struct node_pods *np,
                       size_t *n, long *misscheduled)
{
    size_t i;
    json_t *node;

    json_array_foreach(nodes, i, node) {
        const char *name = orc_json_str(node, "metadata.name");
        json_t *pods = name ? json_object_get(by, name) : NULL;
        bool run, cont;

        if (!name) continue;
        ds_node_fit(s->ds, node, &run, &cont);
        manage_node(s, node, pods, run, cont);
        if (run) {
            np[*n].node = node;
            split(s, pods, &np[(*n)++]);
        } else if (json_array_size(pods) > 0) {
            (*misscheduled)++;
        }
        json_object_del(by, name);
    }
}

int ds_plan(const json_t *ds, const json_t *nodes, const json_t *pods, int64_t now_ms,
            struct ds_plan *out)
{
    struct step s = {.ds = ds, .now = now_ms, .out = out};
    struct node_pods *np = calloc(json_array_size(nodes) + 1, sizeof *np);
    int64_t min_ready = 0;
    size_t n = 0, i;
    long misscheduled = 0;
    const char *key;
    json_t *by = NULL, *left, *p;

    memset(out, 0, sizeof *out);
    out->create = json_array();
    out->remove = json_array();
    ds_template_hash(ds, s.hash);
    orc_json_int(ds, "spec.minReadySeconds", &min_ready);
    s.min_ready_ms = min_ready * 1000;
    if (!np || !out->create || !out->remove || !(by = group_by_node(&s, pods))) goto nomem;
    walk_nodes(&s, nodes, by, np, &n, &misscheduled);
    /* Pods for nodes gone from the cache: their node left the cluster. */
    json_object_foreach(by, key, left) json_array_foreach(left, i, p) delete_pod(&s, p);
    if (rolling(ds) && json_array_size(out->create) == 0 && json_array_size(out->remove) == 0)
        rolling_update(&s, np, n);
    if (s.err || status_of(&s, np, n, misscheduled) != 0) goto nomem;
    json_decref(by);
    free(np);
    return 0;
nomem:
    json_decref(by);
    free(np);
    ds_plan_clear(out);
    return ORC_ENOMEM;
}

void ds_plan_clear(struct ds_plan *p)
{
    json_decref(p->create);
    json_decref(p->remove);
    json_decref(p->status);
    memset(p, 0, sizeof *p);
}
