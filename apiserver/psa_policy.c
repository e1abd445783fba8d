/* psa_policy.c — a namespace's Pod Security policy from its
 * pod-security.kubernetes.io labels, as Kubernetes' PolicyToEvaluate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/psa.h"
#include "apiserver/server.h"
#include "lib/orc.h"

#define PSA_PREFIX "pod-security.kubernetes.io/"

static const char *const level_names[] = {"privileged", "baseline", "restricted"};

const char *api_psa_level_name(enum api_psa_level lv)
{
    return (size_t)lv < ORC_ARRAY_LEN(level_names) ? level_names[lv] : "restricted";
}

int api_psa_parse_level(const char *s, enum api_psa_level *out)
{
    for (size_t i = 0; s && i < ORC_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum api_psa_level)i;
            return 0;
        }
    return ORC_EINVAL;
}

/* "latest" or "v1.N". */
static bool valid_version(const char *s)
{
    char *end;

    if (s == NULL) return false;
    if (strcmp(s, "latest") == 0) return true;
    if (strncmp(s, "v1.", 3) != 0 || s[3] < '0' || s[3] > '9') return false;
    return strtol(s + 3, &end, 10) >= 0 && *end == '\0' && strlen(s) < 16;
}

const char *api_psa_lv_str(const struct api_psa_lv *lv, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%s", api_psa_level_name(lv->level), lv->version[0] ? lv->version : "latest");
    return buf;
}

static void bad_label(json_t *errs, const char *mode, const char *suffix, const char *value, const char *why)
{
    char field[128];

    if (errs == NULL) return;
    snprintf(field, sizeof field, "metadata.labels[" PSA_PREFIX "%s%s]", mode, suffix);
    api_cause_append(errs, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", value, why);
}

/* One mode's labels; bad_level is the level a bad level label reads as. */
static int read_mode(const json_t *labels, const char *mode, enum api_psa_level bad_level,
                     struct api_psa_lv *lv, bool *level_set, json_t *errs)
{
    char key[96];
    const char *v;
    int bad = 0;

    snprintf(key, sizeof key, PSA_PREFIX "%s", mode);
    v = json_string_value(json_object_get(labels, key));
    *level_set = v != NULL;
    if (v && api_psa_parse_level(v, &lv->level) != 0) {
        lv->level = bad_level;
        bad_label(errs, mode, "", v, "must be one of privileged, baseline, restricted");
        bad++;
    }
    snprintf(key, sizeof key, PSA_PREFIX "%s-version", mode);
    v = json_string_value(json_object_get(labels, key));
    if (v && !valid_version(v)) {
        bad_label(errs, mode, "-version", v, "must be \"latest\" or \"v1.x\"");
        bad++;
    } else if (v) {
        snprintf(lv->version, sizeof lv->version, "%s", v);
    }
    return bad;
}

int api_psa_policy(const json_t *labels, struct api_psa_policy *out, json_t *errs)
{
    bool enforce_set, warn_set, audit_set;
    int bad = 0;

    memset(out, 0, sizeof *out);
    snprintf(out->enforce.version, sizeof out->enforce.version, "latest");
    out->audit = out->warn = out->enforce;
    if (!json_is_object(labels)) return 0;
    bad += read_mode(labels, "enforce", API_PSA_RESTRICTED, &out->enforce, &enforce_set, errs);
    bad += read_mode(labels, "audit", API_PSA_PRIVILEGED, &out->audit, &audit_set, errs);
    bad += read_mode(labels, "warn", API_PSA_PRIVILEGED, &out->warn, &warn_set, errs);
    /* a stricter enforce level warns too, so workloads hear of it */
    if (!warn_set && enforce_set && out->enforce.level > out->warn.level) {
        out->warn.level = out->enforce.level;
        if (!json_object_get(labels, PSA_PREFIX "warn-version")) out->warn = out->enforce;
    }
    return bad;
}
