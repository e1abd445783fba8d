/* daemonset_history.c — a DaemonSet's ControllerRevisions, as Kubernetes'
 * daemon controller keeps them (constructHistory, cleanupHistory): one per
 * template, the current one holding the highest revision number, the
 * unused ones trimmed to revisionHistoryLimit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/daemonset.h"
#include "lib/json.h"
#include "lib/orc.h"

static const char *rev_hash(const json_t *rev)
{
    return orc_json_str(rev, "metadata.labels." DS_HASH_LABEL);
}

static int64_t rev_number(const json_t *rev)
{
    int64_t n = 0;
    orc_json_int(rev, "revision", &n);
    return n;
}

static json_t *new_revision(const json_t *ds, const char *hash, int64_t number)
{
    json_t *tmpl = json_deep_copy(orc_json_get(ds, "spec.template"));
    json_t *labels = json_deep_copy(orc_json_get(ds, "spec.template.metadata.labels"));
    char name[320];

    snprintf(name, sizeof name, "%s-%s", orc_json_str(ds, "metadata.name") ?: "ds", hash);
    if (!labels) labels = json_object();
    if (!tmpl || !labels || json_object_set_new(tmpl, "$patch", json_string("replace")) != 0
        || json_object_set_new(labels, DS_HASH_LABEL, json_string(hash)) != 0) {
        json_decref(tmpl);
        json_decref(labels);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:[o]}, s:{s:{s:o}}, s:I}", "apiVersion", "apps/v1",
                     "kind", "ControllerRevision", "metadata", "name", name, "namespace",
                     orc_json_str(ds, "metadata.namespace") ?: "default", "labels", labels,
                     "ownerReferences", ds_owner_ref(ds), "data", "spec", "template", tmpl,
                     "revision", (json_int_t)number);
}

static bool used_by_pods(const json_t *pods, const char *hash)
{
    size_t i;
    json_t *p;

    json_array_foreach(pods, i, p) {
        const char *h = orc_json_str(p, "metadata.labels." DS_HASH_LABEL);
        if (h && hash && strcmp(h, hash) == 0) return true;
    }
    return false;
}

static int by_number(const void *a, const void *b)
{
    int64_t x = rev_number(*(json_t *const *)a), y = rev_number(*(json_t *const *)b);
    return (x > y) - (x < y);
}

/* The unused revisions past the limit, oldest first, into out->remove. */
static int trim(const json_t *ds, const json_t *revs, const json_t *pods, const char *cur,
                struct ds_history *out)
{
    size_t n = json_array_size(revs), k = 0;
    const json_t **old = calloc(n + 1, sizeof *old);
    int64_t limit = 10;
    size_t i;
    json_t *r;

    if (!old) return ORC_ENOMEM;
    orc_json_int(ds, "spec.revisionHistoryLimit", &limit);
    json_array_foreach(revs, i, r) {
        const char *h = rev_hash(r);
        if (!(h && strcmp(h, cur) == 0) && !used_by_pods(pods, h)) old[k++] = r;
    }
    qsort(old, k, sizeof *old, by_number);
    for (i = 0; limit >= 0 && i + (size_t)limit < k; i++) json_array_append(out->remove, (json_t *)old[i]);
    free(old);
    return 0;
}

int ds_history_plan(const json_t *ds, const json_t *revisions, const json_t *pods,
                    struct ds_history *out)
{
    char hash[DS_HASH_LEN];
    const json_t *cur = NULL;
    int64_t max = 0;
    size_t i;
    json_t *r;

    memset(out, 0, sizeof *out);
    if (!(out->remove = json_array())) return ORC_ENOMEM;
    ds_template_hash(ds, hash);
    json_array_foreach(revisions, i, r) {
        const char *h = rev_hash(r);
        if (rev_number(r) > max) max = rev_number(r);
        if (h && strcmp(h, hash) == 0) cur = r;
    }
    if (!cur) {
        if (!(out->create = new_revision(ds, hash, max + 1))) goto nomem;
    } else if (rev_number(cur) < max) {
        if (!(out->update = json_deep_copy(cur))
            || json_object_set_new(out->update, "revision", json_integer(max + 1)) != 0)
            goto nomem;
    }
    if (trim(ds, revisions, pods, hash, out) != 0) goto nomem;
    return 0;
nomem:
    ds_history_clear(out);
    return ORC_ENOMEM;
}

void ds_history_clear(struct ds_history *h)
{
    json_decref(h->create);
    json_decref(h->update);
    json_decref(h->remove);
    memset(h, 0, sizeof *h);
}

json_t *ds_collision_status(const json_t *ds, const json_t *existing)
{
    int64_t n = 0;

    if (!ctl_revision_collides(existing, orc_json_str(ds, "metadata.uid"),
                               orc_json_get(ds, "spec.template")))
        return NULL;
    orc_json_int(ds, "status.collisionCount", &n);
    return json_pack("{s:I}", "collisionCount", (json_int_t)(n + 1));
}
