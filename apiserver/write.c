/* write.c — the write pipeline. Create: admit the object, then one txn
 * guarded on "name absent" and "namespace exists". Everything else: read
 * the stored object, let the verb's mutation build the new one, and commit
 * it guarded on the mod revision read; on a lost race, re-read and retry
 * (unless the client named a resourceVersion, which is then a 409). An
 * update that changes nothing writes nothing. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/csr.h"
#include "apiserver/proto.h"
#include "apiserver/schema.h"
#include "apiserver/limitrange.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/patch.h"
#include "lib/yaml.h"

#define MAX_ATTEMPTS 10
#define CATCH_UP_MS 3000

static void attempt(struct write_op *op);

/* A POST, or a server-side apply creating its object. */
static bool is_create(const struct write_op *op)
{
    return op->verb == W_CREATE || op->creating;
}

static void write_op_free(void *p)
{
    struct write_op *op = p;

    json_decref(op->input);
    json_decref(op->response);
    orc_buf_free(&op->key);
    orc_buf_free(&op->also_key);
    orc_buf_free(&op->also_val);
    quota_plan_clear(&op->quota);
    json_decref(op->quota_retry);
    api_release(op->s);
    free(op);
}

/* ---- responses ---- */

static void respond_object(struct write_op *op, json_t *obj, int64_t rev)
{
    char rvs[24];

    if (op->response) {
        api_respond_json(op->r, op->ok_code, op->response);
        return;
    }
    snprintf(rvs, sizeof rvs, "%" PRId64, rev);
    if (rev > 0) orc_json_set(obj, "metadata.resourceVersion", json_string(rvs));
    else orc_json_del(obj, "metadata.resourceVersion"); /* a dry-run create: none yet */
    if (op->view && !op->scale_response && api_view_from_stored(op->view, obj) != 0) {
        api_respond_error(op->r, ORC_ENOMEM, "converting the answer");
        return;
    }
    if (op->scale_response) {
        json_t *scale = api_scale_from(op->ak, obj);
        if (scale) api_respond_json(op->r, op->ok_code, scale);
        else api_respond_error(op->r, ORC_ENOMEM, "building the Scale");
        json_decref(scale);
        return;
    }
    api_respond_json(op->r, op->ok_code, obj);
}

/* ---- commit ---- */

static void retry_caught_up(void *arg, int status)
{
    (void)status; /* retry even if still behind: the guard decides */
    attempt(arg);
}

struct commit {
    struct write_op *op;
    json_t *obj;        /* what was written (NULL once release_tree freed it) */
    struct orc_buf val; /* its stored encoding (puts only) */
    struct orc_buf alloc; /* a new Node's STORE_PUT_ALLOC value, or empty */
};

static void commit_free(struct commit *c)
{
    json_decref(c->obj);
    orc_buf_free(&c->val);
    orc_buf_free(&c->alloc);
    free(c);
}

/* ---- a new Node's pod CIDR (podcidr.c) ---- */

/* obj as stored: its marker replaced by the block, or without a block. */
static void settle_pod_cidr(json_t *obj, const char *block)
{
    if (block && block[0]) {
        orc_json_set(obj, "spec.podCIDR", json_string(block));
        orc_json_set(obj, "spec.podCIDRs", json_pack("[s]", block));
    } else {
        orc_json_del(obj, "spec.podCIDR");
        orc_json_del(obj, "spec.podCIDRs");
    }
}

/* The allocation for the txn: the Node with its marker, and without. */
static int prepare_alloc(struct write_op *op, struct commit *c)
{
    json_t *none = json_deep_copy(c->obj);
    struct orc_buf none_val = ORC_BUF_INIT;
    int rv = none ? 0 : ORC_ENOMEM;

    if (rv == 0) settle_pod_cidr(none, NULL);
    if (rv == 0) rv = api_obj_encode(none, &none_val);
    if (rv == 0) rv = api_podcidr_alloc(op->s, &c->val, &none_val, op->alloc_marker, &c->alloc);
    json_decref(none);
    orc_buf_free(&none_val);
    return rv;
}

/* What the store chose becomes the answer; no block left is a Warning. */
static int alloc_outcome(struct write_op *op, struct commit *c, const char *block)
{
    orc_buf_reset(&c->val);
    if (op->svc.n_slot) {
        svc_settle(op, c->obj, block);
        return api_obj_encode(c->obj, &c->val);
    }
    settle_pod_cidr(c->obj, block);
    if (!block[0])
        api_podcidr_warn_exhausted(op->s, op->rt->name, orc_json_str(c->obj, "metadata.uid"));
    return api_obj_encode(c->obj, &c->val);
}

/* A dry run shows the block a create would get now. */
static void preview_alloc(struct write_op *op, json_t *obj)
{
    char block[64];
    if (api_podcidr_pick(op->s, block, sizeof block) != 0) block[0] = '\0';
    settle_pod_cidr(obj, block);
}

/* The stored text with the new resourceVersion spliced in is the answer:
 * no second serialization of the object. */
static void respond_written(struct write_op *op, struct commit *c, int64_t rev)
{
    struct orc_buf body = ORC_BUF_INIT;

    if (op->deleting || op->response || op->scale_response || op->view || c->val.len == 0
        || api_obj_append(&body, c->val.data, c->val.len, rev) != 0) {
        orc_buf_free(&body);
        if (c->obj || op->response) respond_object(op, c->obj, rev);
        else api_respond_error(op->r, ORC_ENOMEM, "encoding the answer");
        return;
    }
    api_respond_buf(op->r, op->ok_code, &body);
}

static void quota_caught_up(void *arg, int status)
{
    struct write_op *op = arg;
    json_t *obj = op->quota_retry;

    (void)status; /* count again even if still behind: the guards decide */
    op->quota_retry = NULL;
    write_commit_create(op, obj);
}

/* A quota this create updates was written since it was read (another
 * create passed it): catch up and count again, as Kubernetes retries on
 * the quota's resourceVersion. */
static void quota_changed(struct write_op *op, struct commit *c, const struct store_txn_result *res)
{
    if (++op->attempts >= MAX_ATTEMPTS || (is_create(op) && c->obj == NULL)) {
        api_respond_conflict(op->r, op->k, op->rt->name);
        commit_free(c);
        return;
    }
    if (!is_create(op)) { /* an update reads the object again */
        commit_free(c);
        if (store_wait_revision(op->s->st, res->revision, CATCH_UP_MS, retry_caught_up, op) != 0) attempt(op);
        return;
    }
    op->quota_retry = json_incref(c->obj);
    commit_free(c);
    if (store_wait_revision(op->s->st, res->revision, CATCH_UP_MS, quota_caught_up, op) != 0)
        quota_caught_up(op, 0);
}

static void on_committed(void *arg, int status, const struct store_txn_result *res)
{
    struct commit *c = arg;
    struct write_op *op = c->op;

    if (status != 0) {
        api_respond_error(op->r, status, "writing to the store");
    } else if (res->succeeded && c->alloc.len && alloc_outcome(op, c, res->block) != 0) {
        api_respond_error(op->r, ORC_ENOMEM, "encoding the object");
    } else if (!res->succeeded && (op->svc.n_put || op->svc.n_slot)
               && svc_refused(op, res, c->obj)) {
        /* answered: a chosen clusterIP or nodePort is held, or a pool is full */
    } else if (res->succeeded) {
        respond_written(op, c, res->revision);
    } else if (op->creating && res->failed_guard == 0 && ++op->attempts < MAX_ATTEMPTS) {
        commit_free(c); /* created meanwhile: apply onto it */
        op->ok_code = 200;
        attempt(op);
        return;
    } else if (op->quota.n && res->failed_guard >= op->quota.first_guard) {
        quota_changed(op, c, res);
        return;
    } else if (is_create(op)) {
        if (res->failed_guard == 0) api_respond_exists(op->r, op->k, op->rt->name);
        else if (op->k->namespaced && res->failed_guard == 1)
            api_respond_status(op->r, 404, "NotFound", orc_kind_by_resource("", "namespaces"),
                               op->rt->ns, NULL, "namespaces \"%s\" not found", op->rt->ns);
        else
            api_respond_status(op->r, 409, "Conflict", op->k, op->rt->name, NULL,
                               "%s is already reserved by another object; retry",
                               op->side_key + strlen(API_RESERVED_PREFIX));
    } else if (op->rv_given || ++op->attempts >= MAX_ATTEMPTS) {
        api_respond_conflict(op->r, op->k, op->rt->name);
    } else {
        /* Someone wrote first (or this member read stale data): catch up, retry. */
        commit_free(c);
        if (store_wait_revision(op->s->st, res->revision, CATCH_UP_MS, retry_caught_up, op) != 0)
            attempt(op);
        return;
    }
    commit_free(c);
}

/* A dry-run create checks here what the create txn's guards would: the
 * name is free and the namespace exists (read locally). Answers and
 * returns true when the create would fail. */
static bool dry_create_refused(struct write_op *op)
{
    struct orc_buf nskey = ORC_BUF_INIT;
    struct store_kv kv = {0};
    int rv = store_get(op->s->st, op->key.data, &kv);

    store_kv_clear(&kv);
    if (rv == 0) {
        api_respond_exists(op->r, op->k, op->rt->name);
        return true;
    }
    if (rv == ORC_ENOENT && op->k->namespaced) {
        api_key(orc_kind_by_resource("", "namespaces"), NULL, op->rt->ns, &nskey);
        rv = nskey.data ? store_get(op->s->st, nskey.data, &kv) : ORC_ENOMEM;
        store_kv_clear(&kv);
        orc_buf_free(&nskey);
        if (rv == ORC_ENOENT) {
            api_respond_status(op->r, 404, "NotFound", orc_kind_by_resource("", "namespaces"),
                               op->rt->ns, NULL, "namespaces \"%s\" not found", op->rt->ns);
            return true;
        }
    } else if (rv == ORC_ENOENT) {
        rv = 0;
    }
    if (rv != 0) api_respond_error(op->r, rv, "reading the store");
    return rv != 0;
}

/* The answer to most writes is built from the encoded bytes (or is
 * op->response): the tree is freed now, while it is still in the CPU's
 * cache, rather than after the commit. A create's tree is its body. */
static void release_tree(struct write_op *op, struct commit *c)
{
    if (op->deleting || op->scale_response || op->view || c->alloc.len || c->val.len == 0
        || op->quota.n) /* kept: a quota may make it count again */
        return;
    if (op->verb == W_CREATE && op->input == c->obj) {
        json_decref(op->input);
        op->input = NULL;
    }
    json_decref(c->obj);
    c->obj = NULL;
}

/* A Service's reservations: chosen values put guarded absent, released
 * ones deleted (svcalloc.c). */
static void add_svc_ops(struct write_op *op, struct store_txn *txn, struct store_guard *guards,
                        struct store_op *ops)
{
    struct svc_plan *p = &op->svc;

    p->first_guard = (int)txn->n_guards;
    for (size_t i = 0; i < p->n_put; i++) {
        guards[txn->n_guards++] = (struct store_guard){STORE_GUARD_ABSENT, p->put[i].key, 0};
        ops[txn->n_ops++] =
            (struct store_op){STORE_PUT, p->put[i].key, op->key.data, op->key.len};
    }
    for (size_t i = 0; i < p->n_del; i++)
        ops[txn->n_ops++] = (struct store_op){STORE_DELETE, p->del[i], NULL, 0};
}

/* Writes obj at op->key (or deletes the key) guarded as the verb needs. */
static void commit(struct write_op *op, json_t *obj, int64_t cur_rev)
{
    struct orc_buf nskey = ORC_BUF_INIT;
    struct store_guard guards[4 + STORE_ALLOC_SLOTS + QUOTA_MAX_QUOTAS];
    struct store_op ops[3 + STORE_ALLOC_SLOTS * 3 + QUOTA_MAX_QUOTAS] = {{0}};
    struct store_op side = {0};
    struct store_txn txn = {guards, 0, ops, 1};
    struct commit *c;
    int rv;

    if (op->opts.dry_run) {
        /* Every check has run; what would be stored is the answer. */
        if (op->alloc_marker[0]) preview_alloc(op, obj);
        if (op->svc.n_slot) svc_settle(op, obj, NULL);
        if (!is_create(op) || !dry_create_refused(op)) respond_object(op, obj, cur_rev);
        json_decref(obj);
        return;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        json_decref(obj);
        api_respond_error(op->r, ORC_ENOMEM, "encoding the object");
        return;
    }
    c->op = op;
    c->obj = obj;
    if ((!op->deleting && api_obj_encode(obj, &c->val) != 0)
        || (op->alloc_marker[0] && prepare_alloc(op, c) != 0)
        || (op->svc.n_slot && svc_alloc_value(op, &c->val, &c->alloc) != 0)) {
        commit_free(c);
        api_respond_error(op->r, ORC_ENOMEM, "encoding the object");
        return;
    }
    release_tree(op, c);
    if (is_create(op)) {
        guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_ABSENT, op->key.data, 0};
        if (op->k->namespaced) {
            api_key(orc_kind_by_resource("", "namespaces"), NULL, op->rt->ns, &nskey);
            guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_EXISTS, nskey.data, 0};
        }
    } else {
        guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_MODREV, op->key.data, cur_rev};
    }
    ops[0].type = op->deleting ? STORE_DELETE : STORE_PUT;
    ops[0].key = op->key.data;
    ops[0].value = c->val.data;
    ops[0].value_len = c->val.len;
    if (c->alloc.len) {
        ops[0].type = STORE_PUT_ALLOC;
        ops[0].value = c->alloc.data;
        ops[0].value_len = c->alloc.len;
    }
    if (op->side_key[0] && (is_create(op) || op->deleting)) {
        side.key = op->side_key;
        if (op->deleting) {
            side.type = STORE_DELETE;
        } else {
            side.type = STORE_PUT;
            side.value = op->rt->name;
            side.value_len = strlen(op->rt->name);
            guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_ABSENT, op->side_key, 0};
        }
        ops[txn.n_ops++] = side;
    }
    if (op->also_key.len) {
        guards[txn.n_guards++] =
            (struct store_guard){STORE_GUARD_MODREV, op->also_key.data, op->also_rev};
        ops[txn.n_ops++] =
            (struct store_op){STORE_PUT, op->also_key.data, op->also_val.data, op->also_val.len};
    }
    add_svc_ops(op, &txn, guards, ops);
    op->quota.first_guard = (int)txn.n_guards;
    for (size_t i = 0; i < op->quota.n; i++) {
        const char *qkey = op->quota.q[i].key.data;
        guards[txn.n_guards++] = (struct store_guard){STORE_GUARD_MODREV, qkey, op->quota.q[i].rev};
        ops[txn.n_ops++] =
            (struct store_op){STORE_PUT, qkey, op->quota.q[i].val.data, op->quota.q[i].val.len};
    }
    rv = api_txn(op->s, &txn, on_committed, c);
    orc_buf_free(&nskey);
    if (rv != 0) {
        commit_free(c);
        if (rv == ORC_ETOOBIG)
            api_respond_status(op->r, 413, "RequestEntityTooLarge", NULL, NULL, NULL,
                               "the object is too large to store");
        else api_respond_error(op->r, rv, "writing to the store");
    }
}

void write_commit_create(struct write_op *op, json_t *obj)
{
    op->ok_code = 201;
    /* as Kubernetes' admission order: LimitRanger before ResourceQuota,
     * which counts the defaulted requests */
    if (limitrange_admit(op, obj) != 0 /* idempotent: a retry applies it again */
        || quota_admit(op, obj, &op->quota) != 0) { /* answered */
        json_decref(obj);
        return;
    }
    commit(op, obj, 0);
}

/* ---- update-like verbs ---- */

static json_t *mutate(struct write_op *op, const json_t *cur)
{
    switch (op->verb) {
    case W_UPDATE: return mut_update(op, cur, op->input);
    case W_PATCH: return op->ptype == PATCH_APPLY ? mut_apply(op, cur) : mut_patch(op, cur);
    case W_STATUS_UPDATE:
    case W_STATUS_PATCH: return mut_status(op, cur);
    case W_SCALE_UPDATE:
    case W_SCALE_PATCH: return mut_scale(op, cur);
    case W_BINDING: return mut_binding(op, cur);
    case W_DELETE: return mut_delete(op, cur);
    case W_FINALIZE: return mut_finalize(op, cur);
    case W_EVICT: return mut_evict(op, cur);
    case W_APPROVAL_UPDATE:
    case W_APPROVAL_PATCH: return mut_approval(op, cur);
    default: return NULL;
    }
}

/* The writes Kubernetes' field manager records (not deletions, bindings
 * or finalize, which its registry writes below the handlers). */
static bool tracked(const struct write_op *op)
{
    switch (op->verb) {
    case W_UPDATE:
    case W_PATCH:
    case W_STATUS_UPDATE:
    case W_STATUS_PATCH:
    case W_SCALE_UPDATE:
    case W_SCALE_PATCH: return !op->deleting && !op->fields_done;
    default: return false;
    }
}

static void attempt(struct write_op *op)
{
    struct store_kv kv = {0};
    json_t *cur, *next;
    int rv;

    if (op->s->stopping) {
        api_respond_error(op->r, ORC_ESHUTDOWN, "writing");
        return;
    }
    op->creating = false;
    op->fields_done = false;
    rv = store_get(op->s->st, op->key.data, &kv);
    if (rv == ORC_ENOENT && op->ptype == PATCH_APPLY && op->verb == W_PATCH) {
        write_apply_create(op); /* server-side apply creates what is missing */
        return;
    }
    if (rv == ORC_ENOENT) {
        api_respond_not_found(op->r, op->k, op->rt->name);
        return;
    }
    if (rv == 0 && api_respond_if_sealed(op->s, op->r, &kv)) {
        store_kv_clear(&kv);
        return;
    }
    cur = rv == 0 ? api_obj_decode(kv.value, kv.value_len, kv.mod_rev) : NULL;
    if (cur == NULL) {
        store_kv_clear(&kv);
        api_respond_error(op->r, rv ? rv : ORC_ECORRUPT, "reading the stored object");
        return;
    }
    op->deleting = false;
    op->changed = false;
    op->side_key[0] = '\0';
    orc_buf_reset(&op->also_key);
    orc_buf_reset(&op->also_val);
    quota_plan_clear(&op->quota);
    op->alloc_marker[0] = '\0';
    memset(&op->svc, 0, sizeof op->svc);
    json_decref(op->response);
    op->response = NULL;
    next = mutate(op, cur);
    if (next && tracked(op) && write_track(op, cur, next) != 0) {
        json_decref(next); /* answered */
        next = NULL;
    }
    if (next && op->deleting && op->ak->pod_cidr
        && orc_json_str(cur, "spec.podCIDR")) /* the Node's block is free again */
        snprintf(op->side_key, sizeof op->side_key, API_RESERVED_PREFIX "%s",
                 orc_json_str(cur, "spec.podCIDR"));
    if (next && orc_kind_id(op->k) == ORC_K_SERVICE && svc_plan_update(op, cur, next) != 0) {
        json_decref(next); /* answered */
        next = NULL;
    }
    /* LimitRanger admits claim updates (a resize) too; not pods', whose
     * containers cannot change, nor what is being deleted (Kubernetes) */
    if (next && !op->deleting && (op->verb == W_UPDATE || op->verb == W_PATCH)
        && orc_kind_id(op->k) == ORC_K_PERSISTENTVOLUMECLAIM && !orc_json_get(cur, "metadata.deletionTimestamp")
        && limitrange_admit(op, next) != 0) {
        json_decref(next); /* answered */
        next = NULL;
    }
    if (next && !op->deleting && (op->verb == W_UPDATE || op->verb == W_PATCH)
        && quota_admit_update(op, cur, next, &op->quota) != 0) {
        json_decref(next); /* answered */
        next = NULL;
    }
    /* a stale value (an older key) is written again even unchanged: that
     * is how keys rotate */
    if (next != NULL && !op->deleting && !op->changed && !kv.stale && json_equal(next, cur)) {
        respond_object(op, next, kv.mod_rev); /* nothing changed: nothing written */
        json_decref(next);
    } else if (next != NULL) {
        commit(op, next, kv.mod_rev);
    }
    json_decref(cur);
    store_kv_clear(&kv);
}

/* ---- entry ---- */

/* The media type of a Content-Type header: its length before parameters. */
static size_t media_type_len(const char *ct)
{
    size_t n = strcspn(ct, ";");

    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    return n;
}

static bool is_media_type(const char *ct, const char *type)
{
    return ct && media_type_len(ct) == strlen(type) && strncasecmp(ct, type, strlen(type)) == 0;
}

/* A body in Kubernetes' protobuf encoding (what client-go's typed clients
 * send): decoded into the JSON the write path takes, or answered (400 when
 * malformed, 415 naming a type or field orc has no table for). */
static json_t *parse_protobuf(struct orc_httpd_req *r)
{
    char msg[300];
    json_t *v;
    int status;

    if (api_pb_decode_body(r->body.data, r->body.len, &v, &status, msg, sizeof msg) == 0) return v;
    api_respond_status(r, status,
                       status == 415   ? "UnsupportedMediaType"
                       : status == 400 ? "BadRequest"
                                       : "InternalError",
                       NULL, NULL, NULL, "%s", msg);
    return NULL;
}

json_t *api_parse_body(struct orc_httpd_req *r)
{
    const char *ct = orc_httpd_req_header(r, "content-type");
    char err[256];
    json_t *v;

    if (r->body.len == 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "the request body is empty");
        return NULL;
    }
    if (is_media_type(ct, "application/vnd.kubernetes.protobuf")) return parse_protobuf(r);
    if (ct && (strstr(ct, "protobuf") || strstr(ct, "cbor"))) {
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                           "the body of the request was in an unknown format (%.*s) - accepted "
                           "media types include: application/json, application/yaml, "
                           "application/vnd.kubernetes.protobuf",
                           (int)strcspn(ct, ";"), ct);
        return NULL;
    }
    if (ct && (strstr(ct, "yaml") != NULL)) {
        /* kubectl sends its apply-patch+yaml as JSON, which YAML includes:
         * JSON's own parser reads it several times faster. */
        size_t sp = 0;
        while (sp < r->body.len && strchr(" \t\r\n", r->body.data[sp])) sp++;
        if (sp < r->body.len && r->body.data[sp] == '{'
            && (v = orc_json_parse(r->body.data, r->body.len, err, sizeof err)) != NULL)
            return v;
        json_t *docs = orc_yaml_parse(r->body.data, r->body.len, err, sizeof err);
        if (docs == NULL || json_array_size(docs) != 1) {
            api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                               "the request body is not one YAML document: %s",
                               docs ? "wrong number of documents" : err);
            json_decref(docs);
            return NULL;
        }
        v = json_incref(json_array_get(docs, 0));
        json_decref(docs);
        return v;
    }
    v = orc_json_parse(r->body.data, r->body.len, err, sizeof err);
    if (v == NULL)
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "the request body is not valid JSON: %s", err);
    return v;
}

static enum patch_type patch_type_of(const char *ct)
{
    if (is_media_type(ct, "application/merge-patch+json")) return PATCH_MERGE;
    if (is_media_type(ct, "application/json-patch+json")) return PATCH_JSON;
    if (is_media_type(ct, "application/strategic-merge-patch+json")) return PATCH_STRATEGIC;
    if (is_media_type(ct, "application/apply-patch+yaml")) return PATCH_APPLY;
    return PATCH_NONE;
}

#define PATCH_TYPES                                                                             \
    "application/json-patch+json, application/merge-patch+json, "                             \
    "application/strategic-merge-patch+json, application/apply-patch+yaml"

/* 415 naming the patch type orc does not apply: nothing is written. */
static void refuse_patch_type(struct orc_httpd_req *r, const struct orc_kind *k, const char *ct,
                              enum patch_type t)
{
    int n = ct ? (int)media_type_len(ct) : 0;

    if (t == PATCH_STRATEGIC)
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                           "strategic merge patch is not supported for %s: orc has no schema for "
                           "it - accepted media types include: application/json-patch+json, "
                           "application/merge-patch+json",
                           k->kind);
    else if (t == PATCH_APPLY)
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                           "server-side apply of the scale subresource is not supported by orc - "
                           "accepted media types include: application/json-patch+json, "
                           "application/merge-patch+json, application/strategic-merge-patch+json");
    else
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                           "the body of the request was in an unknown format (%.*s) - accepted "
                           "media types include: " PATCH_TYPES,
                           n, ct ? ct : "");
}

/* A body in the route's served_only version becomes the stored version's
 * (a patch is converted with the object it patches: mutate.c). */
static int view_input(struct write_op *op)
{
    const char *want = orc_kind_api_version(op->view), *av;
    char err[256];

    if (op->verb != W_CREATE && op->verb != W_UPDATE && op->verb != W_STATUS_UPDATE) return 0;
    if (!json_is_object(op->input)) return 0; /* the verb refuses it */
    av = orc_json_str(op->input, "apiVersion");
    if (av && *av && strcmp(av, want) != 0) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "the API version in the data (%s) does not match the expected API "
                           "version (%s)", av, want);
        return ORC_EINVAL;
    }
    if (api_view_to_stored(op->view, op->input, err, sizeof err) != 0) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL, "%s", err);
        return ORC_EINVAL;
    }
    return 0;
}

static void respond_no_such_resource(struct orc_httpd_req *r)
{
    api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                       "the server could not find the requested resource");
}

/* Picks the verb from method, target and subresource; answers 405/404/415
 * and returns -1 when the combination is not served. */
static int pick_verb(struct orc_httpd_req *r, struct api_route *rt, struct write_op *op)
{
    const char *sub = rt->sub;
    bool obj = rt->type == ROUTE_OBJECT;

    if (sub[0] != '\0' && !api_kind_serves(rt->api, sub)) goto not_found;
    if (r->method == HTTP_POST && !obj) op->verb = W_CREATE;
    else if (r->method == HTTP_POST && obj && strcmp(sub, "binding") == 0) op->verb = W_BINDING;
    else if (r->method == HTTP_POST && obj && strcmp(sub, "eviction") == 0) op->verb = W_EVICT;
    else if (!obj) goto not_allowed;
    else if (r->method == HTTP_DELETE && sub[0] == '\0') op->verb = W_DELETE;
    else if (r->method == HTTP_PUT && sub[0] == '\0') op->verb = W_UPDATE;
    else if (r->method == HTTP_PATCH && sub[0] == '\0') op->verb = W_PATCH;
    else if (strcmp(sub, "status") == 0 && r->method == HTTP_PUT) op->verb = W_STATUS_UPDATE;
    else if (strcmp(sub, "status") == 0 && r->method == HTTP_PATCH) op->verb = W_STATUS_PATCH;
    else if (strcmp(sub, "scale") == 0 && r->method == HTTP_PUT) op->verb = W_SCALE_UPDATE;
    else if (strcmp(sub, "scale") == 0 && r->method == HTTP_PATCH) op->verb = W_SCALE_PATCH;
    else if (strcmp(sub, "finalize") == 0 && r->method == HTTP_PUT) op->verb = W_FINALIZE;
    else if (strcmp(sub, "approval") == 0 && r->method == HTTP_PUT) op->verb = W_APPROVAL_UPDATE;
    else if (strcmp(sub, "approval") == 0 && r->method == HTTP_PATCH) op->verb = W_APPROVAL_PATCH;
    else goto not_allowed;
    if (r->method == HTTP_PATCH) {
        const char *ct = orc_httpd_req_header(r, "content-type");
        struct orc_smp_schema sch;
        op->ptype = patch_type_of(ct);
        if (op->ptype == PATCH_NONE
            || (op->ptype == PATCH_APPLY && op->verb != W_PATCH && op->verb != W_STATUS_PATCH)
            || (op->ptype == PATCH_STRATEGIC && op->verb != W_SCALE_PATCH
                && !api_schema_smp(rt->kind, &sch))) {
            refuse_patch_type(r, rt->kind, ct, op->ptype);
            return -1;
        }
    }
    return 0;
not_found:
    respond_no_such_resource(r);
    return -1;
not_allowed:
    api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                       "the server does not allow this method on the requested resource");
    return -1;
}

void api_handle_write(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    struct write_op *op;

    /* a namespaced kind is written within a namespace */
    if (rt->kind->namespaced && rt->ns[0] == '\0') {
        respond_no_such_resource(r);
        return;
    }
    if (r->method == HTTP_DELETE && rt->type != ROUTE_OBJECT && rt->sub[0] == '\0') {
        api_handle_delete_collection(s, r, rt);
        return;
    }
    if ((op = calloc(1, sizeof *op)) == NULL) {
        api_respond_error(r, ORC_ENOMEM, "writing");
        return;
    }
    op->s = s;
    op->r = r;
    op->rt = rt;
    op->k = orc_kind_stored(rt->kind);
    op->ak = api_kind_of(op->k);
    op->view = orc_kind_served_only(rt->kind) ? rt->kind : NULL;
    op->ok_code = 200;
    api_hold(s);
    r->op = op;
    r->op_free = write_op_free;
    if (pick_verb(r, rt, op) != 0) return;
    if (op->verb != W_DELETE || r->body.len > 0) {
        json_t *in = api_parse_body(r); /* on failure it answered: op is gone */
        if (in == NULL) return;
        op->input = in;
    }
    if (op->verb == W_EVICT && write_evict_input(op) != 0) return;
    if (op->view && view_input(op) != 0) return;
    if (write_read_options(op) != 0) return;
    if (op->verb == W_CREATE) {
        json_t *obj = json_incref(op->input);
        if (mut_create(op, obj) != 0) {
            json_decref(obj);
            return;
        }
        api_key(op->k, rt->ns, rt->name, &op->key);
        write_commit_create(op, obj);
        return;
    }
    api_key(op->k, rt->ns, rt->name, &op->key);
    attempt(op);
}
