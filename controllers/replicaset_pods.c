/* replicaset_pods.c — what the ReplicaSet controller decides about pods:
 * which to delete first, slow-start batches, the status it reports and the
 * pods it creates (see replicaset.h). */
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/replicaset.h"
#include "lib/json.h"
#include "lib/orc.h"

/* ---- deletion order ---- */

struct ranked {
    const json_t *pod;
    const char *node;
    int phase; /* Pending 0 < Unknown 1 < Running 2 */
    bool ready;
    size_t rank;
    int64_t ready_since, restarts, created;
};

static int phase_order(const json_t *pod)
{
    const char *p = orc_json_str(pod, "status.phase");
    if (!p || strcmp(p, "Pending") == 0) return 0;
    if (strcmp(p, "Running") == 0) return 2;
    return 1;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Negative when a goes before b (deleted first). */
static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    bool a_bound = a->node && *a->node, b_bound = b->node && *b->node;

    if (a_bound != b_bound) return a_bound ? 1 : -1;
    if (a->phase != b->phase) return a->phase - b->phase;
    if (a->ready != b->ready) return a->ready ? 1 : -1;
    if (a->rank != b->rank) return a->rank > b->rank ? -1 : 1;
    if (a->ready && b->ready && a->ready_since != b->ready_since)
        return -cmp_i64(a->ready_since, b->ready_since);
    if (a->restarts != b->restarts) return a->restarts > b->restarts ? -1 : 1;
    return -cmp_i64(a->created, b->created);
}

void rs_sort_for_deletion(const json_t **pods, size_t n)
{
    struct ranked *r = n ? calloc(n, sizeof *r) : NULL;

    if (!r) return; /* out of memory: keep the order given */
    for (size_t i = 0; i < n; i++) {
        r[i].pod = pods[i];
        r[i].node = orc_json_str(pods[i], "spec.nodeName");
        r[i].phase = phase_order(pods[i]);
        r[i].ready = ctl_pod_ready(pods[i]);
        r[i].ready_since = ctl_pod_ready_since(pods[i]);
        r[i].restarts = ctl_pod_restarts(pods[i]);
        r[i].created = ctl_created(pods[i]);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n && r[i].node && *r[i].node; j++)
            if (r[j].node && strcmp(r[i].node, r[j].node) == 0) r[i].rank++;
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n; i++) pods[i] = r[i].pod;
    free(r);
}

size_t rs_next_batch(size_t remaining, size_t last)
{
    size_t want = last ? last * 2 : 1;
    return want < remaining ? want : remaining;
}

/* ---- status ---- */

static bool labels_cover(const json_t *want, const json_t *have)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)want, k, v) {
        const json_t *h = json_object_get(have, k);
        if (!h || !json_equal(h, v)) return false;
    }
    return true;
}

json_t *rs_status(const json_t *rs, const json_t **pods, size_t n, int64_t now_s,
                  const char *manage_err, bool creating)
{
    const json_t *tmpl_labels = orc_json_get(rs, "spec.template.metadata.labels");
    int64_t mrs = ctl_int(rs, "spec.minReadySeconds", 0);
    int64_t full = 0, ready = 0, avail = 0;
    json_t *old = json_object_get(rs, "status");
    json_t *st = json_object();

    if (!st) return NULL;
    for (size_t i = 0; i < n; i++) {
        full += labels_cover(tmpl_labels, orc_json_get(pods[i], "metadata.labels"));
        ready += ctl_pod_ready(pods[i]);
        avail += ctl_pod_available(pods[i], mrs, now_s);
    }
    json_object_set_new(st, "replicas", json_integer((json_int_t)n));
    json_object_set_new(st, "fullyLabeledReplicas", json_integer(full));
    json_object_set_new(st, "readyReplicas", json_integer(ready));
    json_object_set_new(st, "availableReplicas", json_integer(avail));
    json_object_set_new(st, "observedGeneration", json_integer(ctl_int(rs, "metadata.generation", 0)));
    if (json_is_array(json_object_get(old, "conditions")))
        json_object_set_new(st, "conditions", json_deep_copy(json_object_get(old, "conditions")));
    if (manage_err && !ctl_cond_get(st, "ReplicaFailure")) {
        if (ctl_cond_set(st, "ReplicaFailure", "True", creating ? "FailedCreate" : "FailedDelete",
                         manage_err, now_s, false) != 0) {
            json_decref(st);
            return NULL;
        }
    } else if (!manage_err) {
        ctl_cond_del(st, "ReplicaFailure");
    }
    if (json_array_size(json_object_get(st, "conditions")) == 0) json_object_del(st, "conditions");
    return st;
}

int64_t rs_available_after_ms(const json_t *rs, const json_t **pods, size_t n, int64_t now_s)
{
    int64_t mrs = ctl_int(rs, "spec.minReadySeconds", 0), best = 0;

    if (mrs <= 0) return 0;
    for (size_t i = 0; i < n; i++) {
        int64_t since = ctl_pod_ready_since(pods[i]);
        if (!ctl_pod_ready(pods[i]) || ctl_pod_available(pods[i], mrs, now_s) || since < 0)
            continue;
        int64_t wait = (since + mrs - now_s) * 1000;
        if (wait <= 0) wait = 1000;
        if (best == 0 || wait < best) best = wait;
    }
    return best;
}

/* ---- pods to create ---- */

json_t *rs_new_pod(const json_t *rs)
{
    const json_t *tmpl = orc_json_get(rs, "spec.template");
    const char *name = orc_json_str(rs, "metadata.name");
    const char *ns = orc_json_str(rs, "metadata.namespace");
    json_t *pod = json_object(), *meta, *ref = ctl_owner_ref(rs, "apps/v1", "ReplicaSet");
    char gen[300];

    if (!pod || !ref || !name) goto fail;
    meta = json_deep_copy(orc_json_get(tmpl, "metadata"));
    if (!json_is_object(meta)) {
        json_decref(meta);
        meta = json_object();
    }
    json_object_set_new(pod, "apiVersion", json_string("v1"));
    json_object_set_new(pod, "kind", json_string("Pod"));
    if (!meta || json_object_set_new(pod, "metadata", meta) != 0) goto fail;
    json_object_del(meta, "name");
    snprintf(gen, sizeof gen, "%.240s-", name);
    json_object_set_new(meta, "generateName", json_string(gen));
    if (ns) json_object_set_new(meta, "namespace", json_string(ns));
    json_object_set_new(meta, "ownerReferences", json_pack("[O]", ref));
    json_object_set_new(pod, "spec", json_deep_copy(orc_json_get(tmpl, "spec")));
    if (!json_object_get(pod, "spec") || !json_object_get(meta, "ownerReferences")) goto fail;
    json_decref(ref);
    return pod;
fail:
    json_decref(ref);
    json_decref(pod);
    return NULL;
}

int rs_selector(const json_t *rs, orc_selector **out, char *msg, size_t n)
{
    return orc_selector_from_json(orc_json_get(rs, "spec.selector"), out, msg, n);
}
