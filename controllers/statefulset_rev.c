/* statefulset_rev.c — a StatefulSet's ControllerRevisions: the hash that names
 * a template, the revision object holding it, and which old ones to prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/statefulset.h"
#include "lib/json.h"
#include "lib/orc.h"

/* Kubernetes' rand.SafeEncodeString alphabet: no vowels, no 0/1/3, so a
 * hash never spells a word or looks like another character. */
static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint32_t fnv32a(uint32_t h, const void *p, size_t len)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

int sts_revision_hash(const json_t *tmpl, uint32_t collision_count, char out[16])
{
    json_t *sorted = orc_json_sorted_copy(tmpl ? tmpl : json_null());
    char *text = sorted ? json_dumps(sorted, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    unsigned char probe[4];
    char digits[16];
    uint32_t h;
    int n;

    json_decref(sorted);
    if (text == NULL) return ORC_ENOMEM;
    h = fnv32a(2166136261u, text, strlen(text));
    free(text);
    if (collision_count > 0) {
        for (int i = 0; i < 4; i++) probe[i] = (unsigned char)(collision_count >> (8 * i));
        h = fnv32a(h, probe, sizeof probe);
    }
    n = snprintf(digits, sizeof digits, "%u", h);
    for (int i = 0; i < n; i++) out[i] = safe_alphabet[(unsigned char)digits[i] % 27];
    out[n] = '\0';
    return 0;
}

json_t *sts_revision_new(const json_t *set, const char *hash, int64_t number)
{
    const char *set_name = orc_json_str(set, "metadata.name");
    const json_t *tmpl = orc_json_get(set, "spec.template");
    const json_t *tlabels = orc_json_get(set, "spec.template.metadata.labels");
    char name[STS_NAME_MAX];
    json_t *rev, *labels = NULL, *owner, *data_tmpl;

    if (set_name == NULL || tmpl == NULL) return NULL;
    /* Kubernetes' getPatch: the template, marked to replace the set's own
     * (kubectl rollout undo applies data as a strategic merge patch) */
    if ((data_tmpl = json_deep_copy(tmpl)) == NULL
        || json_object_set_new(data_tmpl, "$patch", json_string("replace")) != 0) {
        json_decref(data_tmpl);
        return NULL;
    }
    snprintf(name, sizeof name, "%s-%s", set_name, hash);
    owner = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", "apps/v1", "kind",
                      "StatefulSet", "name", set_name, "uid",
                      orc_json_str(set, "metadata.uid") ? orc_json_str(set, "metadata.uid") : "",
                      "controller", 1, "blockOwnerDeletion", 1);
    labels = json_is_object(tlabels) ? json_deep_copy(tlabels) : json_object();
    rev = json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:[o]}, s:{s:{s:o}}, s:I}", "apiVersion",
                    "apps/v1", "kind", "ControllerRevision", "metadata", "name", name,
                    "namespace", orc_json_str(set, "metadata.namespace"), "labels", labels,
                    "ownerReferences", owner, "data", "spec", "template", data_tmpl, "revision",
                    (json_int_t)number);
    if (rev == NULL) return NULL;
    if (json_object_set_new(orc_json_get(rev, "metadata.labels"), STS_LABEL_HASH,
                            json_string(hash))
        != 0) {
        json_decref(rev);
        return NULL;
    }
    return rev;
}

const json_t *sts_revision_template(const json_t *rev)
{
    return orc_json_get(rev, "data.spec.template");
}

static bool used_by_pod(const char *name, const json_t *const *pods, size_t n_pods)
{
    for (size_t i = 0; i < n_pods; i++)
        if (strcmp(sts_pod_revision(pods[i]), name) == 0) return true;
    return false;
}

static int64_t rev_number(const json_t *rev)
{
    int64_t n = 0;
    orc_json_int(rev, "revision", &n);
    return n;
}

size_t sts_revision_prune(const json_t *const *revs, size_t n, const json_t *const *pods,
                          size_t n_pods, const char *current, const char *update, int64_t limit,
                          size_t *out)
{
    size_t m = 0, keep;

    for (size_t i = 0; i < n; i++) {
        const char *name = orc_json_str(revs[i], "metadata.name");
        if (name == NULL || strcmp(name, current) == 0 || strcmp(name, update) == 0
            || used_by_pod(name, pods, n_pods))
            continue;
        out[m++] = i;
    }
    keep = limit > 0 ? (size_t)limit : 0;
    if (m <= keep) return 0;
    /* oldest first: insertion sort by revision number (a handful of entries) */
    for (size_t i = 1; i < m; i++)
        for (size_t j = i; j > 0 && rev_number(revs[out[j]]) < rev_number(revs[out[j - 1]]); j--) {
            size_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return m - keep;
}
