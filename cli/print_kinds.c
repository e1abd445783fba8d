/* print_kinds.c — `orctl get` rows for the storage, priority and disruption
 * kinds (PersistentVolume, PersistentVolumeClaim, StorageClass,
 * PriorityClass, PodDisruptionBudget, ControllerRevision), in kubectl's
 * columns; print.c's table names them. */
#include <ctype.h>
#include <string.h>

#include "cli/print.h"
#include "cli/print_int.h"
#include "lib/json.h"
#include "lib/orc.h"

/* "RWO,RWX" as kubectl abbreviates access modes. */
static int access_modes(const json_t *modes, struct orc_buf *out)
{
    static const char *const names[][2] = {{"ReadWriteOnce", "RWO"}, {"ReadOnlyMany", "ROX"},
                                           {"ReadWriteMany", "RWX"}, {"ReadWriteOncePod", "RWOP"}};
    size_t i;
    json_t *m;
    int rv = orc_buf_puts(out, "");
    json_array_foreach(modes, i, m) {
        const char *s = json_string_value(m), *abbr = s;
        for (size_t j = 0; s && j < ORC_ARRAY_LEN(names); j++)
            if (strcmp(s, names[j][0]) == 0) abbr = names[j][1];
        if (rv == 0 && abbr) rv = orc_buf_printf(out, "%s%s", out->len ? "," : "", abbr);
    }
    return rv;
}

void cli__pv_row(struct row *r, const json_t *pv, unsigned flags, int64_t now)
{
    const char *cns = orc_json_str(pv, "spec.claimRef.namespace");
    const char *cname = orc_json_str(pv, "spec.claimRef.name");
    cli__cell_str(r, orc_json_str(pv, "spec.capacity.storage"), "");
    cli__cell_buf(r, access_modes, orc_json_get(pv, "spec.accessModes"));
    cli__cell_str(r, orc_json_str(pv, "spec.persistentVolumeReclaimPolicy"), "");
    cli__cell_str(r, orc_json_str(pv, "status.phase"), "");
    if (cname) cli__cell(r, "%s/%s", cns ? cns : "", cname);
    else cli__cell(r, "%s", "");
    cli__cell_str(r, orc_json_str(pv, "spec.storageClassName"), "");
    cli__cell_str(r, orc_json_str(pv, "spec.volumeAttributesClassName"), "<unset>");
    cli__cell_str(r, orc_json_str(pv, "status.reason"), "");
    cli__cell_age(r, pv, now);
    if (flags & CLI_WIDE) cli__cell_str(r, orc_json_str(pv, "spec.volumeMode"), "");
}

void cli__pvc_row(struct row *r, const json_t *pvc, unsigned flags, int64_t now)
{
    cli__cell_str(r, orc_json_str(pvc, "status.phase"), "");
    cli__cell_str(r, orc_json_str(pvc, "spec.volumeName"), "");
    cli__cell_str(r, orc_json_str(pvc, "status.capacity.storage"), "");
    cli__cell_buf(r, access_modes, orc_json_get(pvc, "status.accessModes"));
    cli__cell_str(r, orc_json_str(pvc, "spec.storageClassName"), "");
    cli__cell_str(r, orc_json_str(pvc, "spec.volumeAttributesClassName"), "<unset>");
    cli__cell_age(r, pvc, now);
    if (flags & CLI_WIDE) cli__cell_str(r, orc_json_str(pvc, "spec.volumeMode"), "");
}

void cli__storageclass_row(struct row *r, const json_t *sc, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_str(r, orc_json_str(sc, "provisioner"), "");
    cli__cell_str(r, orc_json_str(sc, "reclaimPolicy"), "Delete");
    cli__cell_str(r, orc_json_str(sc, "volumeBindingMode"), "Immediate");
    cli__cell(r, "%s", json_is_true(json_object_get(sc, "allowVolumeExpansion")) ? "true" : "false");
    cli__cell_age(r, sc, now);
}

void cli__priorityclass_row(struct row *r, const json_t *pc, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell(r, "%lld", (long long)cli__num(pc, "value", 0));
    cli__cell(r, "%s", json_is_true(json_object_get(pc, "globalDefault")) ? "true" : "false");
    cli__cell_age(r, pc, now);
    cli__cell_str(r, orc_json_str(pc, "preemptionPolicy"), "PreemptLowerPriority");
}

/* An IntOrString as kubectl shows it, "N/A" when unset. */
static void cell_intstr(struct row *r, const json_t *v)
{
    if (json_is_integer(v)) cli__cell(r, "%lld", (long long)json_integer_value(v));
    else cli__cell_str(r, json_string_value(v), "N/A");
}

void cli__pdb_row(struct row *r, const json_t *pdb, unsigned flags, int64_t now)
{
    (void)flags;
    cell_intstr(r, orc_json_get(pdb, "spec.minAvailable"));
    cell_intstr(r, orc_json_get(pdb, "spec.maxUnavailable"));
    cli__cell(r, "%lld", (long long)cli__num(pdb, "status.disruptionsAllowed", 0));
    cli__cell_age(r, pdb, now);
}

void cli__controllerrevision_row(struct row *r, const json_t *cr, unsigned flags, int64_t now)
{
    const json_t *refs = orc_json_get(cr, "metadata.ownerReferences"), *ref, *owner = NULL;
    size_t i;
    (void)flags;
    json_array_foreach(refs, i, ref) if (json_is_true(json_object_get(ref, "controller"))) owner = ref;
    const char *kind = orc_json_str(owner, "kind"), *av = orc_json_str(owner, "apiVersion");
    const char *slash = av ? strchr(av, '/') : NULL;
    char lower[64] = "";
    for (size_t j = 0; kind && kind[j] && j + 1 < sizeof lower; j++)
        lower[j] = (char)tolower((unsigned char)kind[j]), lower[j + 1] = '\0';
    if (owner && slash) cli__cell(r, "%s.%.*s/%s", lower, (int)(slash - av), av, orc_json_str(owner, "name"));
    else if (owner) cli__cell(r, "%s/%s", lower, orc_json_str(owner, "name"));
    else cli__cell(r, "%s", "<none>");
    cli__cell(r, "%lld", (long long)cli__num(cr, "revision", 0));
    cli__cell_age(r, cr, now);
}

