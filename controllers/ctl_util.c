/* ctl_util.c — pod readiness, ownerReferences, conditions and int-or-percent
 * values shared by the workload controllers (see ctl_util.h). */
#include "controllers/ctl_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/labels.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

static int64_t time_at(const json_t *obj, const char *path, int64_t dflt)
{
    const char *s = orc_json_str(obj, path);
    int64_t t;
    return s && orc_time_parse(s, &t) == 0 ? t : dflt;
}

bool ctl_pod_active(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    if (orc_json_get(pod, "metadata.deletionTimestamp")) return false;
    return !phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

static const json_t *ready_cond(const json_t *pod)
{
    return ctl_cond_get(json_object_get(pod, "status"), "Ready");
}

bool ctl_pod_ready(const json_t *pod)
{
    const json_t *c = ready_cond(pod);
    const char *s = c ? orc_json_str(c, "status") : NULL;
    return s && strcmp(s, "True") == 0;
}

int64_t ctl_pod_ready_since(const json_t *pod)
{
    const json_t *c = ready_cond(pod);
    return c ? time_at(c, "lastTransitionTime", -1) : -1;
}

bool ctl_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now_s)
{
    if (!ctl_pod_ready(pod)) return false;
    if (min_ready_s <= 0) return true;
    int64_t since = ctl_pod_ready_since(pod);
    return since >= 0 && since + min_ready_s <= now_s;
}

int64_t ctl_pod_restarts(const json_t *pod)
{
    const json_t *st = orc_json_get(pod, "status.containerStatuses"), *cs;
    int64_t sum = 0;
    size_t i;
    json_array_foreach (st, i, cs) sum += ctl_int(cs, "restartCount", 0);
    return sum;
}

int64_t ctl_created(const json_t *obj)
{
    return time_at(obj, "metadata.creationTimestamp", 0);
}

const json_t *ctl_controller_ref(const json_t *obj)
{
    const json_t *refs = orc_json_get(obj, "metadata.ownerReferences"), *r;
    size_t i;
    json_array_foreach (refs, i, r)
        if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

const char *ctl_controller_uid(const json_t *obj)
{
    const json_t *r = ctl_controller_ref(obj);
    return r ? orc_json_str(r, "uid") : NULL;
}

json_t *ctl_owner_ref(const json_t *owner, const char *api_version, const char *kind)
{
    const char *name = orc_json_str(owner, "metadata.name");
    const char *uid = orc_json_str(owner, "metadata.uid");
    if (!name || !uid) return NULL;
    return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", api_version, "kind", kind, "name",
                     name, "uid", uid, "controller", 1, "blockOwnerDeletion", 1);
}

enum ctl_claim ctl_claim_decide(const json_t *owner, const json_t *obj, bool matches)
{
    const char *ref = ctl_controller_uid(obj), *uid = orc_json_str(owner, "metadata.uid");
    bool owner_going = orc_json_get(owner, "metadata.deletionTimestamp") != NULL;
    bool obj_going = orc_json_get(obj, "metadata.deletionTimestamp") != NULL;

    if (!uid) return CTL_CLAIM_IGNORE;
    if (ref) {
        if (strcmp(ref, uid) != 0) return CTL_CLAIM_IGNORE;
        if (matches) return CTL_CLAIM_KEEP;
        return owner_going || obj_going ? CTL_CLAIM_IGNORE : CTL_CLAIM_RELEASE;
    }
    return matches && !owner_going && !obj_going ? CTL_CLAIM_ADOPT : CTL_CLAIM_IGNORE;
}

/* obj's finalizers with `fin` added or removed (new reference). */
static json_t *finalizers_with(const json_t *obj, const char *fin, bool add)
{
    json_t *out = json_array(), *f;
    bool have = false;
    size_t i;

    if (!out) return NULL;
    json_array_foreach (orc_json_get(obj, "metadata.finalizers"), i, f) {
        bool same = json_is_string(f) && strcmp(json_string_value(f), fin) == 0;
        have = have || same;
        if ((!same || add) && json_array_append(out, f) != 0) goto fail;
    }
    if (add && !have && json_array_append_new(out, json_string(fin)) != 0) goto fail;
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *ctl_owner_patch(const json_t *obj, const json_t *owner, const char *api_version,
                        const char *kind, bool adopt, const char *finalizer)
{
    const char *owner_uid = orc_json_str(owner, "metadata.uid");
    json_t *refs = json_array(), *r, *patch;
    size_t i;

    if (!refs || !owner_uid) goto fail;
    json_array_foreach (orc_json_get(obj, "metadata.ownerReferences"), i, r) {
        const char *uid = orc_json_str(r, "uid");
        if (uid && strcmp(uid, owner_uid) == 0) continue; /* ours: dropped, or replaced */
        if (json_array_append(refs, r) != 0) goto fail;
    }
    if (adopt && json_array_append_new(refs, ctl_owner_ref(owner, api_version, kind)) != 0)
        goto fail;
    patch = json_pack("{s:{s:o,s:s?,s:s?}}", "metadata", "ownerReferences", refs, "uid",
                      orc_json_str(obj, "metadata.uid"), "resourceVersion",
                      orc_json_str(obj, "metadata.resourceVersion"));
    if (patch && finalizer) {
        json_t *fins = finalizers_with(obj, finalizer, adopt);
        if (!fins || json_object_set_new(json_object_get(patch, "metadata"), "finalizers", fins)) {
            json_decref(patch);
            return NULL;
        }
    }
    return patch;
fail:
    json_decref(refs);
    return NULL;
}

struct adopters {
    const json_t *obj;
    void (*fn)(void *, const json_t *);
    void *arg;
};

static void adopter_if_selects(void *arg, const json_t *owner)
{
    struct adopters *a = arg;
    orc_selector *sel = NULL;

    if (orc_selector_from_json(orc_json_get(owner, "spec.selector"), &sel, NULL, 0) == 0
        && !orc_selector_is_empty(sel)
        && orc_selector_matches(sel, orc_json_get(a->obj, "metadata.labels")))
        a->fn(a->arg, owner);
    orc_selector_free(sel);
}

void ctl_each_adopter(informer *owners, const json_t *obj,
                      void (*fn)(void *arg, const json_t *owner), void *arg)
{
    struct adopters a = {obj, fn, arg};
    const char *ns = orc_json_str(obj, "metadata.namespace");

    if (ns && !ctl_controller_ref(obj) && !orc_json_get(obj, "metadata.deletionTimestamp"))
        informer_by_index(owners, "namespace", ns, adopter_if_selects, &a);
}

bool ctl_revision_collides(const json_t *existing, const char *owner_uid, const json_t *tmpl)
{
    const char *uid = existing ? ctl_controller_uid(existing) : NULL;
    json_t *have;
    bool same;

    if (!existing) return false;
    if (!uid || !owner_uid || strcmp(uid, owner_uid) != 0) return true;
    if (!(have = json_deep_copy(orc_json_get(existing, "data.spec.template")))) return true;
    json_object_del(have, "$patch");
    same = tmpl && json_equal(have, (json_t *)tmpl);
    json_decref(have);
    return !same;
}

int ctl_key_of(const json_t *obj, struct orc_buf *out)
{
    const char *ns = orc_json_str(obj, "metadata.namespace");
    const char *name = orc_json_str(obj, "metadata.name");
    if (!name) return ORC_EINVAL;
    return ns && *ns ? orc_buf_printf(out, "%s/%s", ns, name) : orc_buf_printf(out, "%s", name);
}

int ctl_key_split(const char *key, char *ns, size_t ns_n, char *name, size_t name_n)
{
    const char *slash = strchr(key, '/');
    size_t nl = slash ? (size_t)(slash - key) : 0;
    const char *nm = slash ? slash + 1 : key;

    if (nl >= ns_n || strlen(nm) >= name_n || ns_n == 0) return ORC_EINVAL;
    memcpy(ns, key, nl);
    ns[nl] = '\0';
    strcpy(name, nm);
    return 0;
}

json_t *ctl_cond_get(const json_t *status, const char *type)
{
    json_t *conds = json_object_get(status, "conditions"), *c;
    size_t i;
    json_array_foreach (conds, i, c) {
        const char *t = orc_json_str(c, "type");
        if (t && strcmp(t, type) == 0) return c;
    }
    return NULL;
}

void ctl_cond_del(json_t *status, const char *type)
{
    json_t *conds = json_object_get(status, "conditions"), *c;
    size_t i;
    json_array_foreach (conds, i, c) {
        const char *t = orc_json_str(c, "type");
        if (t && strcmp(t, type) == 0) {
            json_array_remove(conds, i);
            return;
        }
    }
}

static bool str_is(const json_t *o, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && strcmp(s, want) == 0;
}

int ctl_cond_set(json_t *status, const char *type, const char *cstatus, const char *reason,
                 const char *message, int64_t now_s, bool with_update)
{
    json_t *old = ctl_cond_get(status, type), *conds, *c;
    char now[ORC_TIME_LEN], transition[ORC_TIME_LEN];

    if (old && str_is(old, "status", cstatus) && str_is(old, "reason", reason)) return 0;
    orc_time_format(now_s, now);
    snprintf(transition, sizeof transition, "%s", now);
    if (old && str_is(old, "status", cstatus) && orc_json_str(old, "lastTransitionTime"))
        snprintf(transition, sizeof transition, "%s", orc_json_str(old, "lastTransitionTime"));
    c = json_pack("{s:s,s:s,s:s,s:s}", "type", type, "status", cstatus, "reason", reason, "message",
                  message);
    if (!c) return ORC_ENOMEM;
    if (with_update) json_object_set_new(c, "lastUpdateTime", json_string(now));
    json_object_set_new(c, "lastTransitionTime", json_string(transition));
    ctl_cond_del(status, type);
    conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        if (!conds || json_object_set_new(status, "conditions", conds) != 0) {
            json_decref(c);
            return ORC_ENOMEM;
        }
    }
    return json_array_append_new(conds, c) == 0 ? 0 : ORC_ENOMEM;
}

int ctl_intstr_scaled(const json_t *v, int64_t total, bool round_up, int64_t *out)
{
    const char *s;
    char *end;
    long pct;

    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (!(s = json_string_value(v))) return ORC_EINVAL;
    pct = strtol(s, &end, 10);
    if (end == s || strcmp(end, "%") != 0 || pct < 0) {
        /* Kubernetes accepts a number written as a string too. */
        if (end != s && *end == '\0' && pct >= 0) {
            *out = pct;
            return 0;
        }
        return ORC_EINVAL;
    }
    *out = round_up ? (int64_t)(pct * total + 99) / 100 : (int64_t)(pct * total) / 100;
    return 0;
}

int64_t ctl_int(const json_t *obj, const char *path, int64_t dflt)
{
    int64_t v;
    return orc_json_int(obj, path, &v) == 0 ? v : dflt;
}

void ctl_list_push(struct ctl_list *l, const json_t *obj)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        const json_t **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            l->fail = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = obj;
}

void ctl_list_add(void *list, const json_t *obj)
{
    ctl_list_push(list, obj);
}
