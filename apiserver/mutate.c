/* mutate.c — what each write verb does to an object: server-owned fields
 * (uid, timestamps, generation, status), preconditions, subresources
 * (status, scale, binding, finalize) and deletion (finalizers, propagation
 * policy, graceful pod deletion). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/csr.h"
#include "apiserver/kind.h"
#include "apiserver/psa.h"
#include "apiserver/rbac.h"
#include "apiserver/sa.h"
#include "apiserver/schema.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/names.h"
#include "lib/orc.h"
#include "lib/patch.h"
#include "lib/rand.h"
#include "lib/smp.h"
#include "lib/timeutil.h"

static void bad_request(struct write_op *op, const char *msg)
{
    api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
}

/* fieldValidation=Strict: unknown fields refuse the write, as Kubernetes'
 * strict decoding does (400). */
static int refuse_unknown(struct write_op *op, const struct api_diag *d)
{
    struct orc_buf msg = ORC_BUF_INIT;
    size_t i;
    json_t *p;
    int rv = orc_buf_puts(&msg, "strict decoding error: ");

    json_array_foreach(d->unknown, i, p) {
        if (rv == 0)
            rv = orc_buf_printf(&msg, "%sunknown field \"%s\"", i ? ", " : "", json_string_value(p));
    }
    if (rv == 0)
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL, "%s", msg.data);
    else api_respond_error(op->r, ORC_ENOMEM, "validating");
    orc_buf_free(&msg);
    return ORC_EINVAL;
}

/* Answers 422 with the diagnostics' causes. */
static void refuse_invalid(struct write_op *op, const json_t *obj, struct api_diag *d)
{
    const char *name = orc_json_str(obj, "metadata.name");
    char *msg = api_diag_message(d, op->k, name ? name : "");

    api_respond_status(op->r, 422, "Invalid", op->k, name, json_incref(d->causes), "%s",
                       msg ? msg : "invalid object");
    free(msg);
}

int write_schema_pass(struct write_op *op, json_t *obj)
{
    struct api_diag d;
    size_t i;
    json_t *w;
    int rv = 0;

    if (api_diag_init(&d) != 0) {
        api_respond_error(op->r, ORC_ENOMEM, "validating");
        return ORC_ENOMEM;
    }
    d.unknown_fields = op->opts.unknown;
    api_schema_check(op->k, obj, &d);
    if (json_array_size(d.unknown) > 0) {
        rv = refuse_unknown(op, &d);
    } else if (api_diag_failed(&d)) {
        refuse_invalid(op, obj, &d);
        rv = ORC_EINVAL;
    } else {
        json_array_foreach(d.warnings, i, w) orc_httpd_req_warn(op->r, json_string_value(w));
    }
    api_diag_clear(&d);
    return rv;
}

int write_admit(struct write_op *op, json_t *obj, const json_t *old)
{
    struct api_diag d;
    size_t i;
    json_t *w;

    if (api_diag_init(&d) != 0) {
        api_respond_error(op->r, ORC_ENOMEM, "validating");
        return ORC_ENOMEM;
    }
    d.unknown_fields = op->opts.unknown;
    api_schema_check(op->k, obj, &d);
    if (json_array_size(d.unknown) > 0) {
        refuse_unknown(op, &d);
        api_diag_clear(&d);
        return ORC_EINVAL;
    }
    if (!api_diag_failed(&d)) {
        api_defaults(op->k, obj);
        if (!old && orc_kind_id(op->k) == ORC_K_POD)
            api_default_tolerations(obj, op->s->pod_toleration_seconds);
        if (!old && orc_kind_id(op->k) == ORC_K_POD) api_sa_admit_pod(op->s, op->rt->ns, obj);
        api_validate(op->k, obj, old, &d);
        if (op->view && api_kind_of(op->view)->validate)
            api_kind_of(op->view)->validate(&d, obj, old); /* the version's own rules */
    }
    json_array_foreach(d.warnings, i, w) orc_httpd_req_warn(op->r, json_string_value(w));
    if (op->ak->warning && (op->verb == W_CREATE || op->verb == W_UPDATE || op->verb == W_PATCH))
        orc_httpd_req_warn(op->r, op->ak->warning);
    if (api_diag_failed(&d)) {
        refuse_invalid(op, obj, &d);
        api_diag_clear(&d);
        return ORC_EINVAL;
    }
    api_diag_clear(&d);
    if (api_node_admit(op, obj, old) != 0) return ORC_EPERM;
    if (orc_kind_id(op->k) == ORC_K_CSR && api_csr_admit(op, obj, old) != 0) return ORC_EPERM;
    return api_rbac_admit(op, obj, old);
}

/* apiVersion and kind in a body must be strings naming the route's kind;
 * absent or empty, they are taken from the URL, as the Kubernetes API
 * server's decoder defaults them for its built-in kinds. */
static int check_type(struct write_op *op, json_t *obj, const char *want_kind,
                      const char *want_version)
{
    static const char *const fields[] = {"apiVersion", "kind"};
    char msg[256];

    for (size_t i = 0; i < ORC_ARRAY_LEN(fields); i++) {
        const json_t *v = json_object_get(obj, fields[i]);
        if (v && !json_is_null(v) && !json_is_string(v)) {
            snprintf(msg, sizeof msg, "couldn't get version/kind; json parse error: %s must be a "
                                      "string", fields[i]);
            bad_request(op, msg);
            return ORC_EINVAL;
        }
    }
    const char *av = orc_json_str(obj, "apiVersion"), *kind = orc_json_str(obj, "kind");
    if (av && *av && strcmp(av, want_version) != 0) {
        snprintf(msg, sizeof msg,
                 "the API version in the data (%s) does not match the expected API version (%s)",
                 av, want_version);
        bad_request(op, msg);
        return ORC_EINVAL;
    }
    if (kind && *kind && strcmp(kind, want_kind) != 0) {
        snprintf(msg, sizeof msg, "the kind in the data (%s) does not match the expected kind (%s)",
                 kind, want_kind);
        bad_request(op, msg);
        return ORC_EINVAL;
    }
    json_object_set_new(obj, "apiVersion", json_string(want_version));
    json_object_set_new(obj, "kind", json_string(want_kind));
    return 0;
}

/* A JSON string equal to s to the byte: a NUL inside never matches a
 * shorter name. */
static bool same_name(const json_t *v, const char *s)
{
    return json_string_length(v) == strlen(s) && strcmp(json_string_value(v), s) == 0;
}

/* metadata must be an object; namespace must agree with the URL. */
static json_t *check_meta(struct write_op *op, json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    const json_t *ns;

    if (meta == NULL) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    if (!json_is_object(meta)) {
        bad_request(op, "metadata must be an object");
        return NULL;
    }
    ns = json_object_get(meta, "namespace");
    if (!op->k->namespaced) {
        json_object_del(meta, "namespace");
    } else if (json_string_length(ns) > 0 && !same_name(ns, op->rt->ns)) {
        bad_request(op, "the namespace of the provided object does not match the namespace sent "
                        "on the request");
        return NULL;
    } else {
        json_object_set_new(meta, "namespace", json_string(op->rt->ns));
    }
    return meta;
}

int write_check_rv(struct write_op *op, const json_t *obj, const json_t *cur)
{
    const char *want = orc_json_str(obj, "metadata.resourceVersion");
    const char *have = orc_json_str(cur, "metadata.resourceVersion");

    if (want == NULL || *want == '\0') return 0;
    op->rv_given = true;
    if (have && strcmp(want, have) == 0) return 0;
    api_respond_conflict(op->r, op->k, op->rt->name);
    return ORC_ECONFLICT;
}

/* A strategic merge patch, with the kind's merge keys (a Scale has none). */
static json_t *apply_smp(struct write_op *op, json_t *doc)
{
    struct orc_smp_schema sch = {NULL, NULL};
    char err[512];
    int rv;

    if (op->verb != W_SCALE_PATCH) api_schema_smp(op->view ? op->view : op->k, &sch);
    rv = orc_smp_apply(&doc, op->input, &sch, err, sizeof err);
    if (rv == 0) return doc;
    json_decref(doc);
    if (rv == ORC_EPROTO)
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "the strategic merge patch is malformed: %s", err);
    else if (rv == ORC_EINVAL)
        api_respond_status(op->r, 422, "Invalid", NULL, NULL, NULL,
                           "the strategic merge patch could not be applied: %s", err);
    else api_respond_error(op->r, rv, "patching");
    return NULL;
}

static json_t *apply_patch(struct write_op *op, const json_t *target);

/* A served_only route patches the object as its version shows it. */
json_t *write_apply_patch(struct write_op *op, const json_t *target)
{
    json_t *view, *doc;
    char err[256];

    if (!op->view || op->verb == W_SCALE_PATCH) return apply_patch(op, target);
    if ((view = json_deep_copy(target)) == NULL || api_view_from_stored(op->view, view) != 0) {
        json_decref(view);
        api_respond_error(op->r, ORC_ENOMEM, "patching");
        return NULL;
    }
    doc = apply_patch(op, view);
    json_decref(view);
    if (doc && api_view_to_stored(op->view, doc, err, sizeof err) != 0) {
        json_decref(doc);
        api_respond_status(op->r, 422, "Invalid", NULL, NULL, NULL, "%s", err);
        return NULL;
    }
    return doc;
}

static json_t *apply_patch(struct write_op *op, const json_t *target)
{
    json_t *doc = json_deep_copy(target);
    char err[256];
    int rv;

    if (doc == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "patching");
        return NULL;
    }
    if (op->ptype == PATCH_STRATEGIC) return apply_smp(op, doc);
    if (op->ptype == PATCH_JSON) {
        if (!json_is_array(op->input)) {
            json_decref(doc);
            bad_request(op, "a JSON patch must be a JSON array of operations");
            return NULL;
        }
        rv = orc_json_patch_apply(&doc, op->input, err, sizeof err);
        if (rv != 0) {
            json_decref(doc);
            api_respond_status(op->r, 422, "Invalid", NULL, NULL, NULL,
                               "the JSON patch could not be applied: %s", err);
            return NULL;
        }
        return doc;
    }
    if (!json_is_object(op->input)) {
        json_decref(doc);
        bad_request(op, "a merge patch must be a JSON object");
        return NULL;
    }
    doc = orc_merge_patch_apply(doc, op->input);
    if (doc == NULL) api_respond_error(op->r, ORC_ENOMEM, "patching");
    return doc;
}

/* ---- create ---- */

/* Status a new object starts with: Kubernetes resets it, unless the kind
 * prepares its own. */
static void initial_status(const struct api_kind *ak, json_t *obj)
{
    if (ak->prepare_create) ak->prepare_create(obj);
    else if (ak->k->has_status) json_object_set_new(obj, "status", json_object());
}

static int generate_name(struct write_op *op, json_t *meta)
{
    const char *gen = orc_json_str(meta, "generateName");
    const char *name = orc_json_str(meta, "name");
    char suffix[6], full[300];

    if ((name && *name) || gen == NULL || *gen == '\0') return 0;
    orc_rand_name_suffix(suffix, 5);
    snprintf(full, sizeof full, "%.*s%s", 58, gen, suffix);
    json_object_set_new(meta, "name", json_string(full));
    (void)op;
    return 0;
}

static void set_server_fields(const struct api_kind *ak, json_t *meta)
{
    char uid[37], now[ORC_TIME_LEN];

    orc_uuid(uid);
    orc_time_now(now);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "creationTimestamp", json_string(now));
    if (ak->tracks_generation) json_object_set_new(meta, "generation", json_integer(1));
    else json_object_del(meta, "generation");
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    json_object_del(meta, "selfLink");
}

/* Refuses new content in a namespace that is being deleted. */
static int check_namespace_active(struct write_op *op)
{
    char res[128];

    if (!op->k->namespaced || !api_ns_terminating(op->s, op->rt->ns)) return 0;
    api_resource_name(op->k, res, sizeof res);
    api_respond_status(op->r, 403, "Forbidden", op->k, op->rt->name, NULL,
                       "%s \"%s\" is forbidden: unable to create new content in namespace %s "
                       "because it is being terminated",
                       res, op->rt->name, op->rt->ns);
    return ORC_EPERM;
}

/* A Node naming its block reserves it in the create txn (guarded absent:
 * 409 when another holds it); otherwise the store picks the lowest free
 * block when it applies the txn (write.c), standing in the object as a
 * random marker until then. */
static int reserve_pod_cidr(struct write_op *op, json_t *node)
{
    const char *given = orc_json_str(node, "spec.podCIDR");
    char hex[17];

    if (given && *given) {
        snprintf(op->side_key, sizeof op->side_key, API_RESERVED_PREFIX "%s", given);
        return 0;
    }
    orc_rand_hex(hex, sizeof hex - 1);
    snprintf(op->alloc_marker, sizeof op->alloc_marker, "orc-pod-cidr-%s", hex);
    orc_json_set(node, "spec.podCIDR", json_string(op->alloc_marker));
    orc_json_set(node, "spec.podCIDRs", json_pack("[s]", op->alloc_marker));
    return 0;
}

int mut_create(struct write_op *op, json_t *obj)
{
    json_t *meta;
    const char *name;

    if (!json_is_object(obj)) {
        bad_request(op, "the request body must be a JSON object");
        return ORC_EINVAL;
    }
    if (check_type(op, obj, op->k->kind, orc_kind_api_version(op->k)) != 0) return ORC_EINVAL;
    if ((meta = check_meta(op, obj)) == NULL) return ORC_EINVAL;
    generate_name(op, meta);
    set_server_fields(op->ak, meta); /* before defaults: a Job's selector is built from its uid */
    initial_status(op->ak, obj);
    if (op->ak->set_requestor) op->ak->set_requestor(obj, api_req_user(op->r));
    if (write_admit(op, obj, NULL) != 0) return ORC_EINVAL;
    meta = json_object_get(obj, "metadata");
    name = orc_json_str(meta, "name");
    snprintf(op->rt->name, sizeof op->rt->name, "%s", name ? name : "");
    if (check_namespace_active(op) != 0) return ORC_EPERM;
    if (api_psa_admit(op, obj, NULL) != 0) return ORC_EPERM;
    if (!op->fields_done && write_track(op, NULL, obj) != 0) return ORC_ENOMEM;
    if (op->ak->pod_cidr) return reserve_pod_cidr(op, obj);
    if (orc_kind_id(op->k) == ORC_K_SERVICE) return svc_plan_create(op, obj);
    return 0;
}

/* ---- update ---- */

static const char *const server_meta[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                          "deletionGracePeriodSeconds", "generation",
                                          "resourceVersion", NULL};

/* The object as the client sent it, with every server-owned field taken
 * from the stored one. */
static json_t *carry_over(const struct api_kind *ak, const json_t *cur, json_t *input)
{
    json_t *next = json_deep_copy(input);
    json_t *meta, *cmeta = json_object_get(cur, "metadata");

    if (next == NULL) return NULL;
    /* managedFields stay: the field manager reads what the client sent
     * (apply.c) and sets them. */
    meta = json_object_get(next, "metadata");
    for (int i = 0; server_meta[i]; i++) {
        json_t *v = json_object_get(cmeta, server_meta[i]);
        if (v) json_object_set(meta, server_meta[i], v);
        else json_object_del(meta, server_meta[i]);
    }
    if (ak->prepare_update) ak->prepare_update(cur, next);
    if (ak->k->has_status) {
        json_t *st = json_object_get(cur, "status");
        if (st) json_object_set(next, "status", st);
        else json_object_del(next, "status");
    }
    return next;
}

static void bump_generation(const struct api_kind *ak, const json_t *cur, json_t *next)
{
    int64_t gen = 0;

    if (!ak->tracks_generation) return;
    if (json_equal(json_object_get(cur, "spec"), json_object_get(next, "spec"))) return;
    orc_json_int(cur, "metadata.generation", &gen);
    orc_json_set(next, "metadata.generation", json_integer(gen + 1));
}

static bool has_finalizers(const json_t *obj)
{
    return json_array_size(orc_json_get(obj, "metadata.finalizers")) > 0;
}

/* A pod in its grace period stays when its last finalizer goes (the
 * garbage collector drops foregroundDeletion from a pod whose node is
 * still stopping it): its node's final delete, with grace 0, ends it.
 * Kubernetes' shouldDeleteDuringUpdate asks the same. */
static bool grace_pending(const json_t *cur)
{
    int64_t g = 0;

    orc_json_int(cur, "metadata.deletionGracePeriodSeconds", &g);
    return g > 0;
}

json_t *mut_update(struct write_op *op, const json_t *cur, json_t *input)
{
    const char *name, *uid, *cuid;
    json_t *next;

    if (!json_is_object(input)) {
        bad_request(op, "the request body must be a JSON object");
        return NULL;
    }
    if (check_type(op, input, op->k->kind, orc_kind_api_version(op->k)) != 0) return NULL;
    if (check_meta(op, input) == NULL) return NULL;
    name = orc_json_str(input, "metadata.name");
    if (name && !same_name(orc_json_get(input, "metadata.name"), op->rt->name)) {
        char msg[600];
        snprintf(msg, sizeof msg, "the name of the object (%s) does not match the name on the URL (%s)",
                 name, op->rt->name);
        bad_request(op, msg);
        return NULL;
    }
    orc_json_set(input, "metadata.name", json_string(op->rt->name));
    if (write_check_rv(op, input, cur) != 0) return NULL;
    uid = orc_json_str(input, "metadata.uid");
    cuid = orc_json_str(cur, "metadata.uid");
    if (uid && *uid && cuid && strcmp(uid, cuid) != 0) {
        api_respond_status(op->r, 409, "Conflict", op->k, op->rt->name, NULL,
                           "Precondition failed: UID in precondition: %s, UID in object meta: %s",
                           uid, cuid);
        return NULL;
    }
    next = carry_over(op->ak, cur, input);
    if (next == NULL || write_admit(op, next, cur) != 0 || api_psa_admit(op, next, cur) != 0) {
        json_decref(next);
        return NULL;
    }
    bump_generation(op->ak, cur, next);
    if (orc_json_get(next, "metadata.deletionTimestamp") && !has_finalizers(next)
        && !(op->ak->spec_finalizers
             && json_array_size(orc_json_get(next, "spec.finalizers")) > 0)
        && !grace_pending(cur))
        op->deleting = true; /* the last finalizer is gone: finish the deletion */
    return next;
}

/* A patch may carry its own resourceVersion precondition; it is checked,
 * then dropped so the patched object updates like a plain one. */
json_t *mut_patch(struct write_op *op, const json_t *cur)
{
    json_t *patched = write_apply_patch(op, cur), *next;
    const char *before = orc_json_str(cur, "metadata.resourceVersion");
    const char *after = patched ? orc_json_str(patched, "metadata.resourceVersion") : NULL;

    if (patched == NULL) return NULL;
    if (after && before && strcmp(after, before) != 0) {
        op->rv_given = true;
        api_respond_conflict(op->r, op->k, op->rt->name);
        json_decref(patched);
        return NULL;
    }
    if (json_is_object(op->input) && orc_json_get(op->input, "metadata.resourceVersion"))
        op->rv_given = true;
    orc_json_del(patched, "metadata.resourceVersion");
    next = mut_update(op, cur, patched);
    json_decref(patched);
    return next;
}

/* ---- subresources ---- */

json_t *mut_status(struct write_op *op, const json_t *cur)
{
    json_t *src = op->input, *next, *st;
    bool patched = op->verb == W_STATUS_PATCH;

    if (patched && op->ptype == PATCH_APPLY) {
        if ((src = write_apply_status(op, cur)) == NULL) return NULL;
    } else if (patched) {
        if ((src = write_apply_patch(op, cur)) == NULL) return NULL;
    } else if (!json_is_object(src)) {
        bad_request(op, "the request body must be a JSON object");
        return NULL;
    } else if (write_check_rv(op, src, cur) != 0) {
        return NULL;
    }
    next = json_deep_copy(cur);
    st = json_object_get(src, "status");
    if (st) json_object_set(next, "status", st);
    else json_object_del(next, "status");
    if (op->fields_done) { /* an apply: its entries come with it */
        json_t *mf = orc_json_get(src, "metadata.managedFields");
        if (mf) orc_json_set(next, "metadata.managedFields", json_incref(mf));
        else orc_json_del(next, "metadata.managedFields");
    }
    if (patched) json_decref(src);
    if (next && orc_kind_id(op->k) == ORC_K_CSR) return api_csr_status(op, cur, next);
    return next;
}

json_t *api_scale_from(const struct api_kind *ak, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    json_t *scale, *smeta = json_object();
    const char *fields[] = {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"};
    struct orc_buf sel = ORC_BUF_INIT;
    orc_selector *s = NULL;
    char msg[128];
    int64_t spec = 0, status = 0;

    for (size_t i = 0; i < ORC_ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(meta, fields[i]);
        if (v) json_object_set(smeta, fields[i], v);
    }
    orc_json_int(obj, ak->scale->spec_replicas, &spec);
    orc_json_int(obj, ak->scale->status_replicas, &status);
    json_t *selector = orc_json_get(obj, ak->scale->selector);
    if (ak->scale->selector_map) selector = json_pack("{s:O?}", "matchLabels", selector);
    else json_incref(selector);
    if (orc_selector_from_json(selector, &s, msg, sizeof msg) == 0) {
        orc_selector_string(s, &sel);
        orc_selector_free(s);
    }
    json_decref(selector);
    scale = json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:s}}", "kind", "Scale", "apiVersion",
                      "autoscaling/v1", "metadata", smeta, "spec", "replicas", (json_int_t)spec,
                      "status", "replicas", (json_int_t)status, "selector",
                      sel.data ? sel.data : "");
    orc_buf_free(&sel);
    return scale;
}

json_t *mut_scale(struct write_op *op, const json_t *cur)
{
    json_t *scale = op->input, *next, *rep;
    bool patched = op->verb == W_SCALE_PATCH;

    if (patched) {
        json_t *view = api_scale_from(op->ak, cur);
        scale = view ? write_apply_patch(op, view) : NULL;
        json_decref(view);
        if (scale == NULL) return NULL;
    } else if (!json_is_object(scale)) {
        bad_request(op, "the request body must be a Scale object");
        return NULL;
    } else if (write_check_rv(op, scale, cur) != 0) {
        return NULL; /* answered 409: op and its input are gone */
    }
    rep = orc_json_get(scale, "spec.replicas");
    if (!json_is_integer(rep) || json_integer_value(rep) < 0 || json_integer_value(rep) > INT32_MAX) {
        json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "field",
                                   "spec.replicas", "message", "must be greater than or equal to 0");
        api_respond_status(op->r, 422, "Invalid", NULL, op->rt->name, causes,
                           "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: %s: "
                           "must be a non-negative integer",
                           op->rt->name, json_is_integer(rep) ? "negative" : "not an integer");
        if (patched) json_decref(scale);
        return NULL;
    }
    next = json_deep_copy(cur);
    orc_json_set(next, op->ak->scale->spec_replicas, json_integer(json_integer_value(rep)));
    if (patched) json_decref(scale);
    bump_generation(op->ak, cur, next);
    op->scale_response = true;
    return next;
}

json_t *mut_binding(struct write_op *op, const json_t *cur)
{
    const char *node = orc_json_str(op->input, "target.name");
    const char *have = orc_json_str(cur, "spec.nodeName");
    char now[ORC_TIME_LEN];
    json_t *next, *conds, *c;
    size_t i;

    if (node == NULL || *node == '\0') {
        json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired", "field",
                                   "target.name", "message", "Required value");
        api_respond_status(op->r, 422, "Invalid", NULL, op->rt->name, causes,
                           "Binding \"%s\" is invalid: target.name: Required value", op->rt->name);
        return NULL;
    }
    const json_t *target = orc_json_get(op->input, "target.name");
    char why[512];
    if (orc_dns1123_subdomain(node, json_string_length(target), why, sizeof why) != 0) {
        /* The node name becomes a store key (the node's) and a field
         * selector value: all of it must be a node name. */
        json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "field",
                                   "target.name", "message", why);
        api_respond_status(op->r, 422, "Invalid", NULL, op->rt->name, causes,
                           "Binding \"%s\" is invalid: target.name: Invalid value: \"%s\": %s",
                           op->rt->name, node, why);
        return NULL;
    }
    if (have && *have) {
        api_respond_status(op->r, 409, "Conflict", op->k, op->rt->name, NULL,
                           "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
                           "assigned to node \"%s\"",
                           op->rt->name, op->rt->name, have);
        return NULL;
    }
    if (json_array_size(orc_json_get(cur, "spec.schedulingGates")) > 0) {
        /* Kubernetes refuses to bind a gated pod whoever asks. */
        api_respond_status(op->r, 409, "Conflict", op->k, op->rt->name, NULL,
                           "Operation cannot be fulfilled on pods/binding \"%s\": pod %s has "
                           "non-empty .spec.schedulingGates",
                           op->rt->name, op->rt->name);
        return NULL;
    }
    /* Binding always changes the pod: edit the decoded copy attempt() owns
     * instead of copying it (binds are half the writes of a burst). */
    next = json_incref((json_t *)cur);
    op->changed = true;
    orc_json_set(next, "spec.nodeName", json_string(node));
    conds = orc_json_get(next, "status.conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        orc_json_set(next, "status.conditions", conds);
    }
    for (i = json_array_size(conds); i > 0; i--) {
        c = json_array_get(conds, i - 1);
        if (orc_json_str(c, "type") && strcmp(orc_json_str(c, "type"), "PodScheduled") == 0)
            json_array_remove(conds, i - 1);
    }
    orc_time_now(now);
    json_array_append_new(conds, json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled",
                                           "status", "True", "lastProbeTime",
                                           "lastTransitionTime", now));
    op->ok_code = 201;
    op->response = json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                             "metadata", "status", "Success", "code", 201);
    return next;
}

json_t *mut_finalize(struct write_op *op, const json_t *cur)
{
    json_t *next = json_deep_copy(cur);
    json_t *fin = orc_json_get(op->input, "spec.finalizers");

    orc_json_set(next, "spec.finalizers", fin ? json_incref(fin) : json_array());
    if (orc_json_get(next, "metadata.deletionTimestamp") && json_array_size(fin) == 0
        && !has_finalizers(next))
        op->deleting = true;
    return next;
}

/* ---- delete ---- */

/* DeleteOptions.preconditions (write_read_options read them). */
static int check_preconditions(struct write_op *op, const json_t *cur)
{
    const struct write_opts *o = &op->opts;
    const char *uid = orc_json_str(cur, "metadata.uid");
    const char *rv = orc_json_str(cur, "metadata.resourceVersion");

    if (o->pre_uid && uid && strcmp(o->pre_uid, uid) != 0) {
        api_respond_status(op->r, 409, "Conflict", op->k, op->rt->name, NULL,
                           "Precondition failed: UID in precondition: %s, UID in object meta: %s",
                           o->pre_uid, uid);
        return ORC_ECONFLICT;
    }
    if (o->pre_rv && rv && strcmp(o->pre_rv, rv) != 0) {
        op->rv_given = true;
        api_respond_status(op->r, 409, "Conflict", op->k, op->rt->name, NULL,
                           "Precondition failed: ResourceVersion in precondition: %s, "
                           "ResourceVersion in object meta: %s",
                           o->pre_rv, rv);
        return ORC_ECONFLICT;
    }
    return 0;
}

static void add_finalizer(json_t *obj, const char *f)
{
    json_t *fins = orc_json_get(obj, "metadata.finalizers"), *v;
    size_t i;

    if (!json_is_array(fins)) {
        fins = json_array();
        orc_json_set(obj, "metadata.finalizers", fins);
    }
    json_array_foreach(fins, i, v) if (json_is_string(v) && strcmp(json_string_value(v), f) == 0) return;
    json_array_append_new(fins, json_string(f));
}

static void drop_finalizer(json_t *obj, const char *f)
{
    json_t *fins = orc_json_get(obj, "metadata.finalizers");

    for (size_t i = json_array_size(fins); i-- > 0;) {
        const char *v = json_string_value(json_array_get(fins, i));
        if (v && strcmp(v, f) == 0) json_array_remove(fins, i);
    }
    if (fins && json_array_size(fins) == 0) json_object_del(json_object_get(obj, "metadata"), "finalizers");
}

/* As Kubernetes' deletionFinalizersForGarbageCollection: the propagation
 * asked for replaces the garbage collector's finalizers (Orphan -> orphan,
 * Foreground -> foregroundDeletion, Background -> neither); a delete asking
 * for none keeps what a first delete set. The collector (controllers/gc*.c)
 * then orphans the dependents or deletes them, and drops the finalizer. */
static void set_gc_finalizers(json_t *obj, const char *policy)
{
    drop_finalizer(obj, "orphan");
    drop_finalizer(obj, "foregroundDeletion");
    if (strcmp(policy, "Orphan") == 0) add_finalizer(obj, "orphan");
    else if (strcmp(policy, "Foreground") == 0) add_finalizer(obj, "foregroundDeletion");
}

/* Pods on a node end gracefully: the agent stops them, then deletes. */
static long long pod_grace(const json_t *pod, const struct write_opts *o)
{
    int64_t g = 30;
    const char *node = orc_json_str(pod, "spec.nodeName");

    if (node == NULL || *node == '\0') return 0;
    if (o->grace >= 0) return o->grace;
    orc_json_int(pod, "spec.terminationGracePeriodSeconds", &g);
    return g;
}

static bool is_undeletable(const struct write_op *op)
{
    const char *const *names = op->ak->undeletable;
    for (size_t i = 0; names && names[i]; i++)
        if (strcmp(op->rt->name, names[i]) == 0) return true;
    return false;
}

json_t *mut_delete(struct write_op *op, const json_t *cur)
{
    const struct write_opts *o = &op->opts;
    json_t *next;
    char ts[ORC_TIME_LEN];
    long long grace = 0;
    bool pod = op->ak->graceful_delete;
    bool ns = op->ak->spec_finalizers;

    if (check_preconditions(op, cur) != 0) return NULL;
    if (is_undeletable(op)) {
        char res[128];
        api_resource_name(op->k, res, sizeof res);
        api_respond_status(op->r, 403, "Forbidden", op->k, op->rt->name, NULL,
                           "%s \"%s\" is forbidden: this %s may not be deleted", res,
                           op->rt->name, op->k->singular);
        return NULL;
    }
    next = json_deep_copy(cur);
    if (next == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "deleting");
        return NULL;
    }
    if (o->policy) set_gc_finalizers(next, o->policy);
    if (pod) grace = pod_grace(cur, o);
    if (!has_finalizers(next) && grace <= 0 && !ns) {
        op->deleting = true;
        return next;
    }
    if (orc_json_get(cur, "metadata.deletionTimestamp") == NULL) {
        orc_time_format(orc_time_unix() + (grace > 0 ? grace : 0), ts);
        orc_json_set(next, "metadata.deletionTimestamp", json_string(ts));
        orc_json_set(next, "metadata.deletionGracePeriodSeconds", json_integer(grace > 0 ? grace : 0));
    } else if (pod) {
        /* A second delete may shorten the grace period, never extend it. */
        int64_t had = 0;
        orc_json_int(cur, "metadata.deletionGracePeriodSeconds", &had);
        if (grace < had) {
            orc_time_format(orc_time_unix() + grace, ts);
            orc_json_set(next, "metadata.deletionTimestamp", json_string(ts));
            orc_json_set(next, "metadata.deletionGracePeriodSeconds", json_integer(grace));
        }
        if (grace == 0 && !has_finalizers(next)) op->deleting = true;
    }
    if (ns) orc_json_set(next, "status.phase", json_string("Terminating"));
    return next;
}
