/* fieldmgr.c — managedFields: decoding and encoding the entries, and the
 * Update and Apply operations as Kubernetes' field manager performs them
 * (structured-merge-diff's merge.Updater wrapped in apimachinery's
 * managers: stripped metadata, per-subresource reset fields, the Update
 * entries capped at ten, "before-first-apply" for objects nobody applied,
 * and kubectl's last-applied annotation honoured and kept in step). */
#include "apiserver/fieldmgr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

#define MAX_UPDATERS 10
#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* ---- entries ---- */

static void entry_clear(struct fm_entry *e)
{
    free(e->manager);
    free(e->api_version);
    free(e->subresource);
    json_decref(e->set);
    memset(e, 0, sizeof *e);
}

void fm_managed_free(struct fm_managed *m)
{
    for (size_t i = 0; i < m->n; i++) entry_clear(&m->v[i]);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static struct fm_entry *find(struct fm_managed *m, const char *manager, bool apply,
                             const char *version, const char *sub)
{
    for (size_t i = 0; i < m->n; i++) {
        struct fm_entry *e = &m->v[i];
        if (e->apply == apply && strcmp(e->manager, manager) == 0
            && strcmp(e->subresource, sub) == 0 && (apply || strcmp(e->api_version, version) == 0))
            return e;
    }
    return NULL;
}

/* A new entry (its set empty); NULL on allocation failure. */
static struct fm_entry *add(struct fm_managed *m, const char *manager, bool apply,
                            const char *version, const char *sub)
{
    struct fm_entry *e;

    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        struct fm_entry *v = realloc(m->v, cap * sizeof *v);
        if (v == NULL) return NULL;
        m->v = v;
        m->cap = cap;
    }
    e = &m->v[m->n];
    memset(e, 0, sizeof *e);
    e->manager = strdup(manager);
    e->api_version = strdup(version);
    e->subresource = strdup(sub);
    e->set = fm_set_new();
    e->apply = apply;
    if (!e->manager || !e->api_version || !e->subresource || !e->set) {
        entry_clear(e);
        return NULL;
    }
    m->n++;
    return e;
}

static struct fm_entry *get(struct fm_managed *m, const char *manager, bool apply,
                            const char *version, const char *sub)
{
    struct fm_entry *e = find(m, manager, apply, version, sub);
    return e ? e : add(m, manager, apply, version, sub);
}

static void drop_empty(struct fm_managed *m)
{
    size_t j = 0;

    for (size_t i = 0; i < m->n; i++) {
        if (fm_set_empty(m->v[i].set)) entry_clear(&m->v[i]);
        else m->v[j++] = m->v[i];
    }
    m->n = j;
}

/* Replaces e's set by s (stolen); 0 or ORC_ENOMEM (s NULL). */
static int set_set(struct fm_entry *e, json_t *s)
{
    if (s == NULL) return ORC_ENOMEM;
    json_decref(e->set);
    e->set = s;
    return 0;
}

/* ---- decode / encode ---- */

static const char *str_or(const json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : def;
}

static int decode_entry(const json_t *ent, struct fm_managed *m, char *err, size_t errlen)
{
    const char *op = str_or(ent, "operation", ""), *ft = str_or(ent, "fieldsType", "FieldsV1");
    const json_t *f = json_object_get(ent, "fieldsV1");
    struct fm_entry *e;
    json_t *s;

    if (!json_is_object(ent))
        return orc_errf(err, errlen, ORC_EINVAL, "a managedFields entry must be an object");
    if (strcmp(op, "Apply") != 0 && strcmp(op, "Update") != 0)
        return orc_errf(err, errlen, ORC_EINVAL, "operation must be `Apply` or `Update`");
    if (strcmp(ft, "FieldsV1") != 0)
        return orc_errf(err, errlen, ORC_EINVAL, "fieldsType must be `FieldsV1`");
    s = f ? fm_set_from_fields1(f, err, errlen) : fm_set_new();
    if (s == NULL) return ORC_EINVAL;
    e = get(m, str_or(ent, "manager", ""), op[0] == 'A', str_or(ent, "apiVersion", ""),
            str_or(ent, "subresource", ""));
    if (e == NULL || fm_set_add(e->set, s) != 0) {
        json_decref(s);
        return ORC_ENOMEM;
    }
    json_decref(s);
    snprintf(e->time, sizeof e->time, "%s", str_or(ent, "time", ""));
    return 0;
}

int fm_managed_decode(const json_t *obj, struct fm_managed *out, char *err, size_t errlen)
{
    const json_t *list = orc_json_get(obj, "metadata.managedFields"), *ent;
    size_t i;
    int rv;

    memset(out, 0, sizeof *out);
    if (list == NULL || json_is_null(list)) return 0;
    if (!json_is_array(list))
        return orc_errf(err, errlen, ORC_EINVAL, "metadata.managedFields must be a list");
    json_array_foreach(list, i, ent) {
        if ((rv = decode_entry(ent, out, err, errlen)) != 0) {
            fm_managed_free(out);
            return rv;
        }
    }
    return 0;
}

bool fm_managed_is_reset(const json_t *list)
{
    return json_is_array(list)
           && (json_array_size(list) == 0
               || (json_array_size(list) == 1 && json_object_size(json_array_get(list, 0)) == 0));
}

/* Kubernetes' order: operation, time, manager, apiVersion, subresource. */
static int entry_cmp(const void *pa, const void *pb)
{
    const struct fm_entry *a = *(struct fm_entry *const *)pa, *b = *(struct fm_entry *const *)pb;
    int c;

    if (a->apply != b->apply) return a->apply ? -1 : 1;
    if ((c = strcmp(a->time, b->time)) != 0) return c;
    if ((c = strcmp(a->manager, b->manager)) != 0) return c;
    if ((c = strcmp(a->api_version, b->api_version)) != 0) return c;
    return strcmp(a->subresource, b->subresource);
}

static json_t *encode_entry(const struct fm_entry *e)
{
    json_t *o = json_object(), *f = fm_set_to_fields1(e->set);

    if (o == NULL || f == NULL) {
        json_decref(o);
        json_decref(f);
        return NULL;
    }
    json_object_set_new(o, "manager", json_string(e->manager));
    json_object_set_new(o, "operation", json_string(e->apply ? "Apply" : "Update"));
    json_object_set_new(o, "apiVersion", json_string(e->api_version));
    if (e->time[0]) json_object_set_new(o, "time", json_string(e->time));
    json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
    json_object_set_new(o, "fieldsV1", f);
    if (e->subresource[0]) json_object_set_new(o, "subresource", json_string(e->subresource));
    return o;
}

int fm_managed_encode(const struct fm_managed *m, json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata"), *list;
    const struct fm_entry **order;
    size_t n = 0;

    if (!json_is_object(meta)) return 0;
    order = calloc(m->n + 1, sizeof *order);
    list = json_array();
    if (order == NULL || list == NULL) goto oom;
    for (size_t i = 0; i < m->n; i++)
        if (!fm_set_empty(m->v[i].set)) order[n++] = &m->v[i];
    qsort(order, n, sizeof *order, entry_cmp);
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(list, encode_entry(order[i])) != 0) goto oom;
    free(order);
    if (n == 0) {
        json_decref(list);
        json_object_del(meta, "managedFields");
        return 0;
    }
    return json_object_set_new(meta, "managedFields", list) == 0 ? 0 : ORC_ENOMEM;
oom:
    free(order);
    json_decref(list);
    return ORC_ENOMEM;
}

/* ---- what a write may own ---- */

/* Kubernetes' stripped metadata, and the fields the subresource resets:
 * a main-resource write never owns status (for kinds with a status
 * subresource), a status write owns nothing else. */
static void filter(const struct fm_op *op, json_t *s)
{
    static const char *const meta[] = {".", "f:name", "f:namespace", "f:creationTimestamp",
                                       "f:selfLink", "f:uid", "f:clusterName", "f:generation",
                                       "f:managedFields", "f:resourceVersion"};
    json_t *md = json_object_get(s, "f:metadata");

    json_object_del(s, ".");
    json_object_del(s, "f:apiVersion");
    json_object_del(s, "f:kind");
    for (size_t i = 0; md && i < ORC_ARRAY_LEN(meta); i++) json_object_del(md, meta[i]);
    if (md && json_object_size(md) == 0) json_object_del(s, "f:metadata");
    if (strcmp(op->subresource, "status") == 0) {
        json_t *st = json_incref(json_object_get(s, "f:status"));
        json_object_clear(s);
        if (st) json_object_set_new(s, "f:status", st);
    } else if (op->has_status && strcmp(op->subresource, "") == 0) {
        json_object_del(s, "f:status");
    }
}

struct diff {
    json_t *changed; /* added and modified */
    json_t *removed;
};

static void diff_clear(struct diff *d)
{
    json_decref(d->changed);
    json_decref(d->removed);
}

static int diff_of(const struct fm_op *op, const json_t *live, const json_t *next, struct diff *d)
{
    json_t *a, *m, *r;
    int rv = fm_compare(op->root, live, next, &a, &m, &r);

    if (rv != 0) return rv;
    filter(op, a);
    filter(op, m);
    filter(op, r);
    d->changed = a;
    rv = fm_set_add(a, m);
    json_decref(m);
    d->removed = r;
    if (rv != 0) diff_clear(d);
    return rv;
}

/* ---- capping Update entries ---- */

static int age_cmp(const void *pa, const void *pb, void *arg)
{
    const struct fm_managed *m = arg;
    const struct fm_entry *a = &m->v[*(const size_t *)pa], *b = &m->v[*(const size_t *)pb];
    int c = strcmp(a->time, b->time);
    return c ? c : strcmp(a->manager, b->manager);
}

/* Merges entry `from` into version's "ancient-changes" bucket, which the
 * version's oldest entry `first` becomes when there is none yet. */
static int into_bucket(struct fm_managed *m, size_t first, size_t from)
{
    struct fm_entry *b = find(m, "ancient-changes", false, m->v[from].api_version, "");
    char *name;

    if (b == NULL) {
        if ((name = strdup("ancient-changes")) == NULL) return ORC_ENOMEM;
        free(m->v[first].manager);
        m->v[first].manager = name;
        b = &m->v[first];
    }
    if (b == &m->v[from]) return 0; /* the bucket itself: nothing to merge */
    if (fm_set_add(b->set, m->v[from].set) != 0) return ORC_ENOMEM;
    snprintf(b->time, sizeof b->time, "%s", m->v[from].time);
    json_object_clear(m->v[from].set); /* dropped below */
    return 0;
}

/* As Kubernetes' capManagersManager: past ten Update entries, the oldest
 * are merged into an "ancient-changes" entry per apiVersion. */
static int cap_updaters(struct fm_managed *m)
{
    size_t *up = calloc(m->n + 1, sizeof *up), *first = calloc(m->n + 1, sizeof *first);
    size_t n = 0, nfirst = 0, length;
    int rv = 0;

    if (up == NULL || first == NULL) rv = ORC_ENOMEM;
    for (size_t i = 0; rv == 0 && i < m->n; i++)
        if (!m->v[i].apply) up[n++] = i;
    length = n;
    if (rv == 0 && n > MAX_UPDATERS) {
        qsort_r(up, n, sizeof *up, age_cmp, m);
        for (size_t i = 0; i < n && length > MAX_UPDATERS && rv == 0; i++) {
            size_t f = SIZE_MAX;
            for (size_t j = 0; j < nfirst; j++)
                if (strcmp(m->v[first[j]].api_version, m->v[up[i]].api_version) == 0) f = first[j];
            if (f == SIZE_MAX) {
                first[nfirst++] = up[i];
                continue;
            }
            rv = into_bucket(m, f, up[i]);
            length--;
        }
    }
    free(up);
    free(first);
    drop_empty(m);
    return rv;
}

/* ---- Update ---- */

/* Everyone loses what changed or went; the manager of this write (if
 * any) takes what changed. */
static int take_fields(struct fm_managed *m, const struct diff *d, struct fm_entry *except)
{
    for (size_t i = 0; i < m->n; i++) {
        struct fm_entry *e = &m->v[i];
        if (e == except) continue;
        json_t *s = fm_set_difference(e->set, d->changed);
        json_t *s2 = s ? fm_set_difference(s, d->removed) : NULL;
        json_decref(s);
        if (set_set(e, s2) != 0) return ORC_ENOMEM;
    }
    return 0;
}

int fm_update(const struct fm_op *op, struct fm_managed *m, const json_t *live,
              const json_t *next)
{
    struct diff d = {0};
    struct fm_entry *e;
    int rv = diff_of(op, live, next, &d);

    if (rv != 0) return rv;
    rv = take_fields(m, &d, NULL);
    if (rv == 0 && !fm_set_empty(d.changed)) {
        e = get(m, op->manager, false, op->api_version, op->subresource);
        rv = e ? fm_set_add(e->set, d.changed) : ORC_ENOMEM;
        if (e) snprintf(e->time, sizeof e->time, "%s", op->now);
    }
    diff_clear(&d);
    drop_empty(m);
    return rv == 0 ? cap_updaters(m) : rv;
}

/* ---- Apply ---- */

static json_t *ensured(const struct fm_op *op, json_t *s)
{
    json_t *e = s ? fm_ensure_named(op->root, s) : NULL;
    json_decref(s);
    return e;
}

static json_t *removed_copy(const struct fm_op *op, const json_t *obj, const json_t *s)
{
    json_t *c = json_deep_copy(obj);
    if (c && s) fm_remove(op->root, c, s);
    return c;
}

/* structured-merge-diff's prune: what the manager applied last time and
 * not now leaves the object, unless someone else still owns it. */
static json_t *prune(const struct fm_op *op, const struct fm_managed *m, const json_t *merged,
                     const json_t *last)
{
    json_t *all = fm_set_new(), *mset, *p1 = NULL, *p1set = NULL, *keep = NULL, *rm = NULL;
    json_t *p2 = NULL, *p2set = NULL, *lastn = NULL, *gone = NULL, *rm2 = NULL, *out = NULL;

    for (size_t i = 0; all && i < m->n; i++)
        if (fm_set_add(all, m->v[i].set) != 0) break;
    all = ensured(op, all);
    mset = ensured(op, fm_fields_of(op->root, merged));
    if (!all || !mset || !(p1 = removed_copy(op, merged, last))) goto done;
    if (!(p1set = ensured(op, fm_fields_of(op->root, p1)))) goto done;
    if (!(keep = fm_set_union(p1set, all)) || !(rm = fm_set_difference(mset, keep))) goto done;
    if (!(p2 = removed_copy(op, merged, rm))) goto done;
    if (!(p2set = ensured(op, fm_fields_of(op->root, p2)))) goto done;
    if (!(lastn = fm_ensure_named(op->root, last)) || !(gone = fm_set_difference(mset, p2set)))
        goto done;
    if ((rm2 = fm_set_intersection(gone, lastn))) out = removed_copy(op, merged, rm2);
done:
    json_decref(all);
    json_decref(mset);
    json_decref(p1);
    json_decref(p1set);
    json_decref(keep);
    json_decref(rm);
    json_decref(p2);
    json_decref(p2set);
    json_decref(lastn);
    json_decref(gone);
    json_decref(rm2);
    return out;
}

/* An object nobody applied yet: its fields are first owned by
 * "before-first-apply", so that applying them conflicts as Kubernetes'
 * skipNonAppliedManager makes it. */
static int before_first_apply(const struct fm_op *op, struct fm_managed *m, const json_t *live)
{
    struct fm_op o = *op;

    if (m->n > 0) return 0;
    o.manager = "before-first-apply";
    return fm_update(&o, m, NULL, live);
}

/* How Kubernetes names a manager in a conflict. */
static void print_manager(const struct fm_entry *e, char *out, size_t n)
{
    int len = snprintf(out, n, "\"%s\"", e->manager);

    if (len > 0 && (size_t)len < n && e->subresource[0])
        len += snprintf(out + len, n - (size_t)len, " with subresource \"%s\"", e->subresource);
    if (len > 0 && (size_t)len < n && !e->apply)
        snprintf(out + len, n - (size_t)len, " using %s", e->api_version);
}

struct conflict_add {
    json_t *list;
    const char *manager;
};

static int add_conflict(const char *path, void *arg)
{
    struct conflict_add *a = arg;
    return json_array_append_new(a->list, json_pack("{s:s, s:s}", "manager", a->manager, "field",
                                                    path)) == 0 ? 0 : ORC_ENOMEM;
}

/* The fields of kubectl's last-applied annotation that still hold their
 * applied values: conflicts there are client-side apply's own and the
 * migration to server-side apply takes them (lastAppliedManager). */
static json_t *last_applied_allowed(const struct fm_op *op, const json_t *live)
{
    const char *text = json_string_value(
        json_object_get(orc_json_get(live, "metadata.annotations"), LAST_APPLIED));
    json_t *la = text ? json_loads(text, 0, NULL) : NULL, *set = NULL, *a, *md, *r;
    const char *av = orc_json_str(la, "apiVersion");

    if (la && av && strcmp(av, op->api_version) == 0
        && fm_compare(op->root, la, live, &a, &md, &r) == 0) {
        json_t *s0 = fm_fields_of(op->root, la), *s1 = s0 ? fm_set_difference(s0, a) : NULL;
        json_t *s2 = s1 ? fm_set_difference(s1, md) : NULL;
        set = s2 ? fm_set_difference(s2, r) : NULL;
        json_decref(s0);
        json_decref(s1);
        json_decref(s2);
        json_decref(a);
        json_decref(md);
        json_decref(r);
    }
    json_decref(la);
    return set;
}

/* The conflicts of the applier `self` with everyone else over what
 * changes; returns 0 with c->list empty when there are none. */
static int find_conflicts(const struct fm_op *op, const struct fm_managed *m,
                          const struct fm_entry *self, const json_t *changed, const json_t *live,
                          struct fm_conflicts *c)
{
    json_t *all = fm_set_new(), *allowed = NULL, *left = NULL;
    char who[400];
    int rv = 0;

    c->list = json_array();
    if (all == NULL || c->list == NULL) rv = ORC_ENOMEM;
    for (size_t i = 0; rv == 0 && i < m->n; i++) {
        const struct fm_entry *e = &m->v[i];
        json_t *ci;
        if (e == self) continue;
        if ((ci = fm_set_intersection(e->set, changed)) == NULL) rv = ORC_ENOMEM;
        if (rv == 0 && !fm_set_empty(ci)) {
            print_manager(e, who, sizeof who);
            struct conflict_add a = {c->list, who};
            rv = fm_set_each_path(ci, add_conflict, &a);
            if (rv == 0) rv = fm_set_add(all, ci);
        }
        json_decref(ci);
    }
    if (rv == 0 && json_array_size(c->list) > 0 && strcmp(op->manager, "kubectl") == 0
        && (allowed = last_applied_allowed(op, live)) != NULL
        && (left = fm_set_difference(all, allowed)) != NULL && fm_set_empty(left))
        json_array_clear(c->list); /* kubectl's own client-side fields: taken */
    json_decref(all);
    json_decref(allowed);
    json_decref(left);
    return rv;
}

/* kubectl's last-applied annotation follows what kubectl applies on the
 * server, so that a later client-side apply sees it (lastAppliedUpdater). */
static int sync_last_applied(const struct fm_op *op, const json_t *config, json_t *obj)
{
    json_t *ann = orc_json_get(obj, "metadata.annotations"), *copy;
    char *text;

    if (strcmp(op->manager, "kubectl") != 0 || !json_object_get(ann, LAST_APPLIED)) return 0;
    if ((copy = json_deep_copy(config)) == NULL) return ORC_ENOMEM;
    json_object_del(orc_json_get(copy, "metadata.annotations"), LAST_APPLIED);
    text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    if (text == NULL) return ORC_ENOMEM;
    json_object_set_new(ann, LAST_APPLIED, json_string(text));
    free(text);
    return 0;
}

static int apply_steps(const struct fm_op *op, struct fm_managed *m, const json_t *live,
                       const json_t *config, bool force, json_t **result,
                       struct fm_conflicts *c)
{
    struct fm_entry *self = find(m, op->manager, true, "", op->subresource);
    json_t *last = self ? json_incref(self->set) : NULL, *applied, *merged;
    struct diff d = {0};
    int rv;

    applied = fm_fields_of(op->root, config);
    merged = fm_merge(op->root, live, config);
    if (applied) filter(op, applied);
    if (!self) self = add(m, op->manager, true, op->api_version, op->subresource);
    rv = applied && merged && self ? set_set(self, json_incref(applied)) : ORC_ENOMEM;
    /* Nothing to prune when the manager applies all it applied before. */
    json_t *dropped = last ? fm_set_difference(last, applied) : NULL;
    if (rv == 0 && last && !fm_set_empty(dropped)) {
        *result = prune(op, m, merged, last);
        rv = *result ? 0 : ORC_ENOMEM;
    } else if (rv == 0) {
        *result = json_incref(merged);
    }
    if (rv == 0) rv = diff_of(op, live, *result, &d);
    if (rv == 0 && !force) rv = find_conflicts(op, m, self, d.changed, live, c);
    if (rv == 0 && json_array_size(c->list) > 0) rv = ORC_ECONFLICT;
    if (rv == 0) rv = take_fields(m, &d, self);
    diff_clear(&d);
    json_decref(dropped);
    json_decref(last);
    json_decref(applied);
    json_decref(merged);
    return rv;
}

int fm_apply(const struct fm_op *op, struct fm_managed *m, const json_t *live,
             const json_t *config, bool force, json_t **out, struct fm_conflicts *c)
{
    json_t *result = NULL;
    int rv;

    *out = NULL;
    c->list = NULL;
    rv = before_first_apply(op, m, live);
    if (rv == 0) rv = apply_steps(op, m, live, config, force, &result, c);
    if (rv != ORC_ECONFLICT) {
        json_decref(c->list);
        c->list = NULL;
    }
    if (rv == 0) {
        drop_empty(m); /* moves entries: look the applier up after it */
        struct fm_entry *self = find(m, op->manager, true, "", op->subresource);
        rv = sync_last_applied(op, config, result);
        if (rv == 0 && !json_equal(result, live)) {
            if (self) snprintf(self->time, sizeof self->time, "%s", op->now);
            *out = json_incref(result);
        }
    }
    json_decref(result);
    return rv;
}

char *fm_conflict_message(const struct fm_conflicts *c)
{
    size_t n = json_array_size(c->list), nk = 0;
    struct orc_buf b = ORC_BUF_INIT;
    json_t *groups = json_object(), *e;
    const char **keys = NULL;
    int rv;

    if (groups == NULL) return NULL;
    if (n == 1) {
        e = json_array_get(c->list, 0);
        rv = orc_buf_printf(&b, "Apply failed with 1 conflict: conflict with %s: %s",
                            orc_json_str(e, "manager"), orc_json_str(e, "field"));
        json_decref(groups);
        return rv == 0 ? orc_buf_steal(&b, NULL) : (orc_buf_free(&b), NULL);
    }
    for (size_t i = 0; i < n; i++) {
        e = json_array_get(c->list, i);
        const char *who = orc_json_str(e, "manager");
        json_t *g = json_object_get(groups, who);
        if (g == NULL) json_object_set_new(groups, who, g = json_array());
        json_array_append(g, json_object_get(e, "field"));
    }
    keys = orc_json_sorted_keys(groups, &nk);
    rv = orc_buf_printf(&b, "Apply failed with %zu conflicts: ", n);
    for (size_t i = 0; rv == 0 && i < nk; i++) {
        json_t *g = json_object_get(groups, keys[i]), *f;
        size_t j;
        rv = orc_buf_printf(&b, "%sconflicts with %s:", i ? "\n" : "", keys[i]);
        json_array_foreach(g, j, f) {
            if (rv == 0) rv = orc_buf_printf(&b, "\n- %s", json_string_value(f));
        }
    }
    free(keys);
    json_decref(groups);
    if (rv != 0) {
        orc_buf_free(&b);
        return NULL;
    }
    return orc_buf_steal(&b, NULL);
}
