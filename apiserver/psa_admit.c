/* psa_admit.c — Pod Security Admission in the write path, as Kubernetes'
 * admission/admission.go: a pod breaking its namespace's enforce level is
 * refused (403), one breaking the warn level gets a Warning; a workload's
 * pod template only warns; a namespace whose enforce level tightens warns
 * about the pods it already holds. Nothing is exempt: orc's own pods run
 * in kube-system, which carries no labels (privileged). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/audit.h"
#include "apiserver/kind.h"
#include "apiserver/psa.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

/* Kubernetes' namespaceMaxPodsToCheck. */
#define MAX_PODS_CHECKED 3000

/* The namespace's labels (new reference; NULL when it has none or does
 * not exist: every mode privileged). */
static json_t *ns_labels(struct api_server *s, const char *ns)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *obj = NULL, *labels = NULL;

    if (api_key(&orc_kind_table[ORC_K_NAMESPACE], NULL, ns, &key) == 0 && store_get(s->st, key.data, &kv) == 0)
        obj = api_obj_decode(kv.value, kv.value_len, kv.mod_rev);
    labels = json_incref(orc_json_get(obj, "metadata.labels"));
    json_decref(obj);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return labels;
}

/* ---- pods ---- */

static bool same_images(const json_t *a, const json_t *b)
{
    size_t i;
    json_t *c;

    if (json_array_size(a) != json_array_size(b)) return false;
    json_array_foreach(a, i, c)
        if (!json_equal(json_object_get(c, "image"), json_object_get(json_array_get(b, i), "image")))
            return false;
    return true;
}

/* Kubernetes' isSignificantPodUpdate: only a pod's images (and new
 * containers) can change what it may do once created. */
static bool significant_update(const json_t *pod, const json_t *old)
{
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    const json_t *spec = json_object_get(pod, "spec"), *ospec = json_object_get(old, "spec");

    for (size_t i = 0; i < ORC_ARRAY_LEN(lists); i++)
        if (!same_images(json_object_get(spec, lists[i]), json_object_get(ospec, lists[i]))) return true;
    return false;
}

/* The audit mode, as Kubernetes': a violation of the namespace's audit
 * level becomes an annotation of the request's audit event, never an
 * answer (a pod's or a workload's template alike). */
static void audit_level(struct write_op *op, const struct api_psa_lv *lv, const json_t *meta, const json_t *spec)
{
    struct orc_buf d = ORC_BUF_INIT, v = ORC_BUF_INIT;
    char lvs[48];
    int rv = lv->level == API_PSA_PRIVILEGED ? 0 : api_psa_check(lv->level, meta, spec, &d, NULL);

    if (rv == 1 && orc_buf_printf(&v, "would violate PodSecurity \"%s\": %s",
                                  api_psa_lv_str(lv, lvs, sizeof lvs), d.data) == 0)
        api_audit_annotate(op->r, "pod-security.kubernetes.io/audit-violations", v.data);
    orc_buf_free(&v);
    orc_buf_free(&d);
    if (rv < 0) log_warn("api", "pod security audit for %s/%s: %s", op->rt->ns, op->rt->name, orc_strerror(rv));
}

/* Warnings never fail a write: one lost to memory is logged. */
static void warn_level(struct write_op *op, const struct api_psa_lv *lv, const json_t *meta, const json_t *spec)
{
    struct orc_buf d = ORC_BUF_INIT;
    char lvs[48];
    int rv = api_psa_check(lv->level, meta, spec, &d, NULL);

    if (rv == 1) {
        struct orc_buf w = ORC_BUF_INIT;
        if (orc_buf_printf(&w, "would violate PodSecurity \"%s\": %s", api_psa_lv_str(lv, lvs, sizeof lvs),
                           d.data) == 0)
            orc_httpd_req_warn(op->r, w.data);
        orc_buf_free(&w);
    }
    orc_buf_free(&d);
    if (rv < 0) log_warn("api", "pod security warning for %s/%s: %s", op->rt->ns, op->rt->name, orc_strerror(rv));
}

static int admit_pod(struct write_op *op, const json_t *pod, const struct api_psa_policy *p)
{
    const json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
    struct orc_buf d = ORC_BUF_INIT;
    char lvs[48];
    int rv = api_psa_check(p->enforce.level, meta, spec, &d, NULL);

    /* the level that decided, on every pod evaluated, as Kubernetes */
    api_audit_annotate(op->r, "pod-security.kubernetes.io/enforce-policy",
                       api_psa_lv_str(&p->enforce, lvs, sizeof lvs));
    /* audited whether refused or not; a warning only for what passes */
    if (rv >= 0) audit_level(op, &p->audit, meta, spec);
    if (rv == 1) {
        api_respond_status(op->r, 403, "Forbidden", op->k, op->rt->name, NULL,
                           "pods \"%s\" is forbidden: violates PodSecurity \"%s\": %s", op->rt->name,
                           api_psa_lv_str(&p->enforce, lvs, sizeof lvs), d.data);
        orc_buf_free(&d);
        return ORC_EPERM;
    }
    orc_buf_free(&d);
    if (rv < 0) {
        api_respond_error(op->r, rv, "checking pod security");
        return rv;
    }
    warn_level(op, &p->warn, meta, spec);
    return 0;
}

/* ---- workloads ---- */

/* The pod template of a workload kind (borrowed), NULL for other kinds. */
static const json_t *pod_template(const json_t *obj, enum orc_kind_id id)
{
    switch (id) {
    case ORC_K_DEPLOYMENT:
    case ORC_K_REPLICASET:
    case ORC_K_STATEFULSET:
    case ORC_K_DAEMONSET:
    case ORC_K_JOB:
    case ORC_K_REPLICATIONCONTROLLER: return orc_json_get(obj, "spec.template");
    case ORC_K_CRONJOB: return orc_json_get(obj, "spec.jobTemplate.spec.template");
    default: return NULL;
    }
}

/* ---- namespaces ---- */

struct pod_warning {
    char *reasons; /* ForbiddenReason: the key */
    char *first;   /* lexically first pod name with it */
    size_t count;
};

static int cmp_warning(const void *a, const void *b)
{
    const struct pod_warning *x = a, *y = b;
    char bx[512], by[512];

    /* Kubernetes sorts the decorated texts; the name leads them */
    snprintf(bx, sizeof bx, "%s: %s", x->first, x->reasons);
    snprintf(by, sizeof by, "%s: %s", y->first, y->reasons);
    return strcmp(bx, by);
}

/* Counts a pod under its reasons (taken: freed here when not kept). */
static int note_pod(struct pod_warning **ws, size_t *n, const char *name, char *reasons)
{
    struct pod_warning *w;
    char *first;

    if (reasons == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*ws)[i].reasons, reasons) != 0) continue;
        free(reasons);
        (*ws)[i].count++;
        if (strcmp(name, (*ws)[i].first) >= 0) return 0;
        if ((first = strdup(name)) == NULL) return ORC_ENOMEM;
        free((*ws)[i].first);
        (*ws)[i].first = first;
        return 0;
    }
    if ((first = strdup(name)) == NULL || (w = realloc(*ws, (*n + 1) * sizeof *w)) == NULL) {
        free(first);
        free(reasons);
        return ORC_ENOMEM;
    }
    *ws = w;
    w[(*n)++] = (struct pod_warning){reasons, first, 1};
    return 0;
}

static void warn_pods(struct write_op *op, struct pod_warning *ws, size_t n)
{
    char text[1024];

    qsort(ws, n, sizeof *ws, cmp_warning);
    for (size_t i = 0; i < n; i++) {
        if (ws[i].count == 1) snprintf(text, sizeof text, "%s: %s", ws[i].first, ws[i].reasons);
        else if (ws[i].count == 2) snprintf(text, sizeof text, "%s (and 1 other pod): %s", ws[i].first, ws[i].reasons);
        else
            snprintf(text, sizeof text, "%s (and %zu other pods): %s", ws[i].first, ws[i].count - 1,
                     ws[i].reasons);
        orc_httpd_req_warn(op->r, text);
    }
}

/* Kubernetes' EvaluatePodsInNamespace: one warning per distinct set of
 * reasons, naming the first pod and how many others share it. */
static void check_existing_pods(struct write_op *op, const char *ns, const struct api_psa_lv *enforce)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};
    struct pod_warning *ws = NULL;
    size_t n = 0, checked;
    char lvs[48], text[600];
    int rv;

    rv = api_prefix(&orc_kind_table[ORC_K_POD], ns, &prefix);
    if (rv == 0) rv = store_range(op->s->st, prefix.data, NULL, 0, 0, &l);
    if (rv != 0) {
        orc_httpd_req_warn(op->r, "failed to list pods while checking new PodSecurity enforce level");
        goto out;
    }
    checked = l.n < MAX_PODS_CHECKED ? l.n : MAX_PODS_CHECKED;
    for (size_t i = 0; i < checked && rv == 0; i++) {
        json_t *pod = api_obj_decode(l.kvs[i].value, l.kvs[i].value_len, l.kvs[i].mod_rev);
        struct orc_buf r = ORC_BUF_INIT;
        if (pod && api_psa_check(enforce->level, json_object_get(pod, "metadata"),
                                 json_object_get(pod, "spec"), NULL, &r) == 1)
            rv = note_pod(&ws, &n, orc_json_str(pod, "metadata.name") ?: "", orc_buf_steal(&r, NULL));
        orc_buf_free(&r);
        json_decref(pod);
    }
    if (checked < l.n) {
        snprintf(text, sizeof text, "new PodSecurity enforce level only checked against the first %zu of %zu existing pods",
                 checked, l.n);
        orc_httpd_req_warn(op->r, text);
    }
    if (n > 0) {
        snprintf(text, sizeof text, "existing pods in namespace \"%s\" violate the new PodSecurity enforce level \"%s\"",
                 ns, api_psa_lv_str(enforce, lvs, sizeof lvs));
        orc_httpd_req_warn(op->r, text);
        warn_pods(op, ws, n);
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(ws[i].reasons);
        free(ws[i].first);
    }
    free(ws);
    store_list_clear(&l);
    orc_buf_free(&prefix);
}

static bool same_lv(const struct api_psa_lv *a, const struct api_psa_lv *b)
{
    return a->level == b->level && strcmp(a->version, b->version) == 0;
}

static int admit_namespace(struct write_op *op, const json_t *ns, const json_t *old)
{
    struct api_psa_policy p, op_old;
    json_t *errs = json_array(), *old_errs = json_array();
    const char *name = orc_json_str(ns, "metadata.name") ?: op->rt->name;
    int bad, rv = 0;

    if (errs == NULL || old_errs == NULL) {
        rv = ORC_ENOMEM;
        api_respond_error(op->r, rv, "checking pod security labels");
        goto out;
    }
    bad = api_psa_policy(orc_json_get(ns, "metadata.labels"), &p, errs);
    api_psa_policy(old ? orc_json_get(old, "metadata.labels") : NULL, &op_old, old_errs);
    if (bad > 0 && !json_equal(errs, old_errs)) {
        char *msg = NULL;
        struct orc_buf m = ORC_BUF_INIT;
        size_t i;
        json_t *c;
        orc_buf_printf(&m, "Namespace \"%s\" is invalid: ", name);
        json_array_foreach(errs, i, c)
            orc_buf_printf(&m, "%s%s: %s", i ? ", " : "", orc_json_str(c, "field"), orc_json_str(c, "message"));
        msg = m.data;
        api_respond_status(op->r, 422, "Invalid", op->k, name, json_incref(errs), "%s", msg ? msg : "invalid labels");
        orc_buf_free(&m);
        rv = ORC_EINVAL;
        goto out;
    }
    /* only a tightened enforce level is worth a look at the pods */
    if (old && !same_lv(&p.enforce, &op_old.enforce) && p.enforce.level != API_PSA_PRIVILEGED
        && !(strcmp(p.enforce.version, op_old.enforce.version) == 0 && p.enforce.level <= op_old.enforce.level))
        check_existing_pods(op, name, &p.enforce);
out:
    json_decref(errs);
    json_decref(old_errs);
    return rv;
}

int api_psa_admit(struct write_op *op, const json_t *obj, const json_t *old)
{
    enum orc_kind_id id = orc_kind_id(op->k);
    const json_t *tmpl = pod_template(obj, id);
    struct api_psa_policy p;
    json_t *labels;

    if (id == ORC_K_NAMESPACE) return admit_namespace(op, obj, old);
    if (id != ORC_K_POD && tmpl == NULL) return 0;
    if (id == ORC_K_POD && old && !significant_update(obj, old)) return 0;
    labels = ns_labels(op->s, op->rt->ns);
    api_psa_policy(labels, &p, NULL);
    json_decref(labels);
    if (id == ORC_K_POD) return admit_pod(op, obj, &p);
    warn_level(op, &p.warn, json_object_get(tmpl, "metadata"), json_object_get(tmpl, "spec"));
    audit_level(op, &p.audit, json_object_get(tmpl, "metadata"), json_object_get(tmpl, "spec"));
    return 0;
}
