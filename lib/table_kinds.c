/* table_kinds.c — printers of the storage, scheduling, policy and
 * networking kinds (PersistentVolume, PersistentVolumeClaim, StorageClass,
 * PriorityClass, PodDisruptionBudget, Ingress, IngressClass), and of the
 * kinds whose rows wait for the API server to serve them (ServiceAccount,
 * RBAC, ResourceQuota, LimitRange): a printer is found by resource name. */
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "lib/table_int.h"
#include "lib/timeutil.h"

/* "RWO,RWX" as kubectl abbreviates access modes. */
static int access_modes(const json_t *modes, struct orc_buf *out)
{
    static const char *const names[][2] = {{"ReadWriteOnce", "RWO"}, {"ReadOnlyMany", "ROX"},
                                           {"ReadWriteMany", "RWX"}, {"ReadWriteOncePod", "RWOP"}};
    size_t i;
    json_t *m;
    int rv = orc_buf_puts(out, "");

    json_array_foreach (modes, i, m) {
        const char *s = json_string_value(m), *abbr = s;
        for (size_t j = 0; s && j < ORC_ARRAY_LEN(names); j++)
            if (strcmp(s, names[j][0]) == 0) abbr = names[j][1];
        if (rv == 0 && abbr) rv = orc_buf_printf(out, "%s%s", out->len ? "," : "", abbr);
    }
    return rv;
}

static void pv_row(struct orc_row *r, const json_t *pv, int64_t now)
{
    const char *cns = orc_json_str(pv, "spec.claimRef.namespace");
    const char *cname = orc_json_str(pv, "spec.claimRef.name");

    orc__cell_str(r, orc_json_str(pv, "spec.capacity.storage"), "");
    orc__cell_buf(r, access_modes, orc_json_get(pv, "spec.accessModes"));
    orc__cell_str(r, orc_json_str(pv, "spec.persistentVolumeReclaimPolicy"), "");
    orc__cell_str(r, orc_json_str(pv, "status.phase"), "");
    if (cname) orc__cell(r, "%s/%s", cns ? cns : "", cname);
    else orc__cell(r, "%s", "");
    orc__cell_str(r, orc_json_str(pv, "spec.storageClassName"), "");
    orc__cell_str(r, orc_json_str(pv, "spec.volumeAttributesClassName"), "<unset>");
    orc__cell_str(r, orc_json_str(pv, "status.reason"), "");
    orc__cell_age(r, pv, now);
    orc__cell_str(r, orc_json_str(pv, "spec.volumeMode"), "");
}

static void pvc_row(struct orc_row *r, const json_t *pvc, int64_t now)
{
    orc__cell_str(r, orc_json_str(pvc, "status.phase"), "");
    orc__cell_str(r, orc_json_str(pvc, "spec.volumeName"), "");
    orc__cell_str(r, orc_json_str(pvc, "status.capacity.storage"), "");
    orc__cell_buf(r, access_modes, orc_json_get(pvc, "status.accessModes"));
    orc__cell_str(r, orc_json_str(pvc, "spec.storageClassName"), "");
    orc__cell_str(r, orc_json_str(pvc, "spec.volumeAttributesClassName"), "<unset>");
    orc__cell_age(r, pvc, now);
    orc__cell_str(r, orc_json_str(pvc, "spec.volumeMode"), "");
}

static void storageclass_row(struct orc_row *r, const json_t *sc, int64_t now)
{
    orc__cell_str(r, orc_json_str(sc, "provisioner"), "");
    orc__cell_str(r, orc_json_str(sc, "reclaimPolicy"), "Delete");
    orc__cell_str(r, orc_json_str(sc, "volumeBindingMode"), "Immediate");
    orc__cell_bool(r, json_is_true(json_object_get(sc, "allowVolumeExpansion")));
    orc__cell_age(r, sc, now);
}

static void priorityclass_row(struct orc_row *r, const json_t *pc, int64_t now)
{
    orc__cell_int(r, orc__num(pc, "value", 0));
    orc__cell_bool(r, json_is_true(json_object_get(pc, "globalDefault")));
    orc__cell_age(r, pc, now);
    orc__cell_str(r, orc_json_str(pc, "preemptionPolicy"), "PreemptLowerPriority");
}

/* An IntOrString as kubectl shows it, "N/A" when unset. */
static void cell_intstr(struct orc_row *r, const json_t *v)
{
    if (json_is_integer(v)) orc__cell(r, "%lld", (long long)json_integer_value(v));
    else orc__cell_str(r, json_string_value(v), "N/A");
}

static void pdb_row(struct orc_row *r, const json_t *pdb, int64_t now)
{
    cell_intstr(r, orc_json_get(pdb, "spec.minAvailable"));
    cell_intstr(r, orc_json_get(pdb, "spec.maxUnavailable"));
    orc__cell_int(r, orc__num(pdb, "status.disruptionsAllowed", 0));
    orc__cell_age(r, pdb, now);
}

/* Rule hosts, "*" for a rule without one (kubectl's HOSTS). */
static int ingress_hosts(const json_t *rules, struct orc_buf *out)
{
    const json_t *r;
    size_t i;
    int rv = orc_buf_puts(out, "");

    json_array_foreach (rules, i, r) {
        const char *h = orc_json_str(r, "host");
        if (rv == 0) rv = orc_buf_printf(out, "%s%s", i ? "," : "", h && h[0] ? h : "*");
    }
    if (rv == 0 && json_array_size(rules) == 0) rv = orc_buf_puts(out, "*");
    return rv;
}

static int lb_addresses(const json_t *lb, struct orc_buf *out)
{
    const json_t *e;
    size_t i;
    int rv = orc_buf_puts(out, "");

    json_array_foreach (lb, i, e) {
        const char *a = orc_json_str(e, "ip");
        if (!a) a = orc_json_str(e, "hostname");
        if (rv == 0) rv = orc_buf_printf(out, "%s%s", i ? "," : "", a ? a : "");
    }
    return rv;
}

static void ingress_row(struct orc_row *r, const json_t *ing, int64_t now)
{
    orc__cell_str(r, orc_json_str(ing, "spec.ingressClassName"), "<none>");
    orc__cell_buf(r, ingress_hosts, orc_json_get(ing, "spec.rules"));
    orc__cell_buf(r, lb_addresses, orc_json_get(ing, "status.loadBalancer.ingress"));
    orc__cell_str(r, json_array_size(orc_json_get(ing, "spec.tls")) ? "80, 443" : "80", "");
    orc__cell_age(r, ing, now);
}

/* kubectl's CONDITION of a CertificateSigningRequest: Denied, Approved or
 * Pending, then ",Failed" and ",Issued". */
static void csr_row(struct orc_row *r, const json_t *csr, int64_t now)
{
    const char *cert = orc_json_str(csr, "status.certificate");
    int64_t secs = orc__num(csr, "spec.expirationSeconds", -1);
    char dur[32];

    orc__cell_age(r, csr, now);
    orc__cell_str(r, orc_json_str(csr, "spec.signerName"), "");
    orc__cell_str(r, orc_json_str(csr, "spec.username"), "");
    if (secs >= 0) orc_time_age(secs, dur, sizeof dur);
    orc__cell_str(r, secs >= 0 ? dur : NULL, "<none>");
    orc__cell(r, "%s%s%s",
              orc__has_condition(csr, "Denied")     ? "Denied"
              : orc__has_condition(csr, "Approved") ? "Approved"
                                                    : "Pending",
              orc__has_condition(csr, "Failed") ? ",Failed" : "", cert && *cert ? ",Issued" : "");
}

static void ingressclass_row(struct orc_row *r, const json_t *ic, int64_t now)
{
    const char *kind = orc_json_str(ic, "spec.parameters.kind");
    const char *name = orc_json_str(ic, "spec.parameters.name");

    orc__cell_str(r, orc_json_str(ic, "spec.controller"), "");
    if (kind) orc__cell(r, "%s/%s", kind, name ? name : "");
    else orc__cell_str(r, NULL, "<none>");
    orc__cell_age(r, ic, now);
}

/* ---- kinds other parts of orc serve ---- */

static void serviceaccount_row(struct orc_row *r, const json_t *sa, int64_t now)
{
    orc__cell_int(r, (int64_t)json_array_size(json_object_get(sa, "secrets")));
    orc__cell_age(r, sa, now);
}

/* Kubernetes prints Roles, ClusterRoles and LimitRanges with their
 * creation time itself. */
static void created_at_row(struct orc_row *r, const json_t *o, int64_t now)
{
    (void)now;
    orc__cell_str(r, orc_json_str(o, "metadata.creationTimestamp"), "");
}

static int subjects_of(const json_t *subjects, const char *kind, struct orc_buf *out)
{
    const json_t *s;
    size_t i;
    int rv = orc_buf_puts(out, "");

    json_array_foreach (subjects, i, s) {
        const char *k = orc_json_str(s, "kind"), *name = orc_json_str(s, "name");
        const char *ns = orc_json_str(s, "namespace");
        if (rv != 0 || k == NULL || strcmp(k, kind) != 0) continue;
        if (strcmp(kind, "ServiceAccount") == 0)
            rv = orc_buf_printf(out, "%s%s:%s", out->len ? ", " : "", ns ? ns : "", name ? name : "");
        else rv = orc_buf_printf(out, "%s%s", out->len ? ", " : "", name ? name : "");
    }
    return rv;
}

static int users_of(const json_t *b, struct orc_buf *out) { return subjects_of(b, "User", out); }
static int groups_of(const json_t *b, struct orc_buf *out) { return subjects_of(b, "Group", out); }
static int sas_of(const json_t *b, struct orc_buf *out)
{
    return subjects_of(b, "ServiceAccount", out);
}

static void binding_row(struct orc_row *r, const json_t *b, int64_t now)
{
    const char *kind = orc_json_str(b, "roleRef.kind"), *name = orc_json_str(b, "roleRef.name");
    const json_t *subjects = json_object_get(b, "subjects");

    orc__cell(r, "%s/%s", kind ? kind : "", name ? name : "");
    orc__cell_age(r, b, now);
    orc__cell_buf(r, users_of, subjects);
    orc__cell_buf(r, groups_of, subjects);
    orc__cell_buf(r, sas_of, subjects);
}

/* "cpu: 1/2, pods: 3/10": used/hard of each resource in `hard`, keys sorted. */
static int quota_pairs(const json_t *rq, const char *filter, struct orc_buf *out)
{
    const json_t *hard = orc_json_get(rq, "status.hard"), *used = orc_json_get(rq, "status.used");
    size_t n, flen = strlen(filter);
    const char **keys = orc_json_sorted_keys(hard, &n);
    int rv = orc_buf_puts(out, "");

    for (size_t i = 0; i < n && rv == 0; i++) {
        bool limit = strncmp(keys[i], "limits.", 7) == 0;
        if (flen ? !limit : limit) continue;
        const char *u = json_string_value(json_object_get(used, keys[i]));
        const char *h = json_string_value(json_object_get(hard, keys[i]));
        rv = orc_buf_printf(out, "%s%s: %s/%s", out->len ? ", " : "", keys[i], u ? u : "0",
                            h ? h : "");
    }
    free((void *)keys);
    return rv;
}

static int quota_requests(const json_t *rq, struct orc_buf *out) { return quota_pairs(rq, "", out); }
static int quota_limits(const json_t *rq, struct orc_buf *out)
{
    return quota_pairs(rq, "limits.", out);
}

static void resourcequota_row(struct orc_row *r, const json_t *rq, int64_t now)
{
    orc__cell_age(r, rq, now);
    orc__cell_buf(r, quota_requests, rq);
    orc__cell_buf(r, quota_limits, rq);
}

/* ---- columns ---- */

#define CREATED_AT {"Created At", "date", "", ORC_DESC_AGE, 0}

static const struct orc_table_column pv_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Capacity", "string", "capacity is the description of the persistent volume's "
                                  "resources and capacity."),
    ORC_COL("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
    ORC_COL("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a "
                                        "persistent volume when released from its claim."),
    ORC_COL("Status", "string", "phase indicates if a volume is available, bound to a claim, or "
                                "released by a claim."),
    ORC_COL("Claim", "string", "claimRef is part of a bi-directional binding between "
                               "PersistentVolume and PersistentVolumeClaim."),
    ORC_COL("StorageClass", "string", "StorageClass of the pv"),
    ORC_COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    ORC_COL("Reason", "string", "reason is a brief CamelCase string that describes any failure "
                                "and is meant for machine parsing and tidy display in the CLI."),
    ORC_COL_AGE,
    ORC_WIDE("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with "
                                     "a formatted filesystem or to remain in raw block state."),
};
static const struct orc_table_column pvc_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    ORC_COL("Volume", "string", "volumeName is the binding reference to the PersistentVolume "
                                "backing this claim."),
    ORC_COL("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
    ORC_COL("Access Modes", "string", "accessModes contains the actual access modes the volume "
                                      "backing the PVC has."),
    ORC_COL("StorageClass", "string", "StorageClass of the pvc"),
    ORC_COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    ORC_COL_AGE,
    ORC_WIDE("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim."),
};
static const struct orc_table_column storageclass_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Provisioner", "string", "provisioner indicates the type of the provisioner."),
    ORC_COL("ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically "
                                       "provisioned PersistentVolumes of this storage class."),
    ORC_COL("VolumeBindingMode", "string", "volumeBindingMode indicates how "
                                           "PersistentVolumeClaims should be provisioned and bound."),
    ORC_COL("AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage "
                                              "class allow volume expand."),
    ORC_COL_AGE,
};
static const struct orc_table_column priorityclass_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Value", "integer", "value represents the integer value of this priority class."),
    ORC_COL("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass "
                                         "should be considered as the default priority for pods "
                                         "that do not have any priority class."),
    ORC_COL_AGE,
    ORC_COL("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods "
                                          "with lower priority."),
};
static const struct orc_table_column pdb_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Min Available", "string", "The minimum number of pods that must be available."),
    ORC_COL("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    ORC_COL("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted "
                                              "at this time."),
    ORC_COL_AGE,
};
static const struct orc_table_column ingress_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Class", "string", "The name of the IngressClass resource that should be used for "
                               "ingress."),
    ORC_COL("Hosts", "string", "Hosts that incoming requests are matched against before the "
                               "ingress rule"),
    ORC_COL("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    ORC_COL("Ports", "string", "Ports of TLS configurations that open"),
    ORC_COL_AGE,
};
static const struct orc_table_column ingressclass_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Controller", "string", "Controller that is responsible for handling this class"),
    ORC_COL("Parameters", "string", "A reference to a resource with additional parameters"),
    ORC_COL_AGE,
};
static const struct orc_table_column serviceaccount_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Secrets", "string", "Secrets is a list of the secrets in the same namespace that "
                                 "pods running using this ServiceAccount are allowed to use."),
    ORC_COL_AGE,
};
static const struct orc_table_column csr_cols[] = {
    ORC_COL_NAME,
    ORC_COL_AGE,
    ORC_COL("SignerName", "string", "signerName indicates the requested signer, and is a "
                                    "qualified name."),
    ORC_COL("Requestor", "string", "username contains the name of the user that created the "
                                   "CertificateSigningRequest."),
    ORC_COL("RequestedDuration", "string", "expirationSeconds is the requested duration of "
                                           "validity of the issued certificate."),
    ORC_COL("Condition", "string", "conditions applied to the request. Known conditions are "
                                   "\"Approved\", \"Denied\", and \"Failed\"."),
};
static const struct orc_table_column created_at_cols[] = {ORC_COL_NAME, CREATED_AT};
static const struct orc_table_column binding_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Role", "string", "RoleRef can reference a Role in the current namespace or a "
                              "ClusterRole in the global namespace."),
    ORC_COL_AGE,
    ORC_WIDE("Users", "string", "Users in the roleBinding"),
    ORC_WIDE("Groups", "string", "Groups in the roleBinding"),
    ORC_WIDE("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
};
static const struct orc_table_column resourcequota_cols[] = {
    ORC_COL_NAME,
    ORC_COL_AGE,
    ORC_COL("Request", "string", "Request represents a minimum amount of cpu/memory that a "
                                 "container may consume."),
    ORC_COL("Limit", "string", "Limits control the maximum amount of cpu/memory that a "
                               "container may use independent of contention on the node."),
};

#define RBAC "rbac.authorization.k8s.io"

const struct orc_printer_row orc__table_kinds[] = {
    {{"", "persistentvolumes", ORC_COLS(pv_cols)}, pv_row, false, NULL},
    {{"", "persistentvolumeclaims", ORC_COLS(pvc_cols)}, pvc_row, false, NULL},
    {{"storage.k8s.io", "storageclasses", ORC_COLS(storageclass_cols)}, storageclass_row, false,
     NULL},
    {{"scheduling.k8s.io", "priorityclasses", ORC_COLS(priorityclass_cols)}, priorityclass_row,
     false, NULL},
    {{"policy", "poddisruptionbudgets", ORC_COLS(pdb_cols)}, pdb_row, false, NULL},
    {{"networking.k8s.io", "ingresses", ORC_COLS(ingress_cols)}, ingress_row, false, NULL},
    {{"networking.k8s.io", "ingressclasses", ORC_COLS(ingressclass_cols)}, ingressclass_row,
     false, NULL},
    {{"", "serviceaccounts", ORC_COLS(serviceaccount_cols)}, serviceaccount_row, false, NULL},
    {{RBAC, "roles", ORC_COLS(created_at_cols)}, created_at_row, false, NULL},
    {{RBAC, "clusterroles", ORC_COLS(created_at_cols)}, created_at_row, false, NULL},
    {{RBAC, "rolebindings", ORC_COLS(binding_cols)}, binding_row, false, NULL},
    {{RBAC, "clusterrolebindings", ORC_COLS(binding_cols)}, binding_row, false, NULL},
    {{"", "resourcequotas", ORC_COLS(resourcequota_cols)}, resourcequota_row, false, NULL},
    {{"", "limitranges", ORC_COLS(created_at_cols)}, created_at_row, false, NULL},
    {{"certificates.k8s.io", "certificatesigningrequests", ORC_COLS(csr_cols)}, csr_row, false,
     NULL},
    {{0}, NULL, false, NULL},
};
