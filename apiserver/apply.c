/* apply.c — field management in the write path: every create, update and
 * patch (and status and scale write) records who set what in
 * metadata.managedFields (an Update entry), and PATCH with
 * application/apply-patch+yaml is server-side apply (an Apply entry):
 * merged into the live object or creating it, 409 on conflicts with other
 * managers unless forced. The algorithms are fieldmgr*.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/fieldmgr.h"
#include "apiserver/schema.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

/* Kubernetes' managerOrUserAgent: the fieldManager option, else the
 * User-Agent up to its first '/', printable characters only. */
static const char *manager_of(struct write_op *op)
{
    const char *ua;
    size_t n = 0;

    if (op->manager[0]) return op->manager;
    if (op->opts.field_manager) {
        snprintf(op->manager, sizeof op->manager, "%s", op->opts.field_manager);
        return op->manager;
    }
    ua = orc_httpd_req_header(op->r, "user-agent");
    for (; ua && *ua && *ua != '/' && n < WRITE_MANAGER_MAX; ua++)
        if ((unsigned char)*ua >= 0x20 && *ua != 0x7f) op->manager[n++] = *ua;
    op->manager[n] = '\0';
    return op->manager;
}

static const char *subresource_of(const struct write_op *op)
{
    switch (op->verb) {
    case W_STATUS_UPDATE:
    case W_STATUS_PATCH: return "status";
    case W_SCALE_UPDATE:
    case W_SCALE_PATCH: return "scale";
    default: return "";
    }
}

static void fm_op_of(struct write_op *op, struct fm_op *fo, char now[ORC_TIME_LEN])
{
    orc_time_now(now);
    *fo = (struct fm_op){api_schema_root(op->k), orc_kind_api_version(op->k), subresource_of(op),
                         op->k->has_status, now, manager_of(op)};
}

/* The live entries; unreadable ones count as none, as Kubernetes' field
 * manager starts over rather than failing the write. */
static void decode_live(const json_t *obj, struct fm_managed *m)
{
    char err[160];

    if (fm_managed_decode(obj, m, err, sizeof err) != 0) memset(m, 0, sizeof *m);
}

/* Kubernetes' decodeLiveOrNew: a main-resource write may set
 * managedFields itself ([] or [{}] resets them); otherwise, or when what
 * it sent does not decode, the live ones carry on. */
static void entries_for_update(const struct write_op *op, const json_t *cur, const json_t *next,
                               struct fm_managed *m)
{
    const json_t *sent = orc_json_get(next, "metadata.managedFields");
    char err[160];

    memset(m, 0, sizeof *m);
    if (subresource_of(op)[0] == '\0' && sent) {
        if (fm_managed_is_reset(sent)) return;
        if (fm_managed_decode(next, m, err, sizeof err) == 0 && m->n > 0) return;
        fm_managed_free(m);
    }
    if (cur) decode_live(cur, m);
}

int write_track(struct write_op *op, const json_t *cur, json_t *next)
{
    struct fm_managed m;
    struct fm_op fo;
    char now[ORC_TIME_LEN];
    int rv;

    fm_op_of(op, &fo, now);
    entries_for_update(op, cur, next, &m);
    rv = fm_update(&fo, &m, cur, next);
    if (rv == 0) rv = fm_managed_encode(&m, next);
    fm_managed_free(&m);
    if (rv != 0) api_respond_error(op->r, rv, "recording managedFields");
    return rv;
}

/* ---- the applied configuration ---- */

static void bad_request(struct write_op *op, const char *fmt, const char *a, const char *b)
{
    api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL, fmt, a, b);
}

/* A checked, schema-pruned copy of the body; NULL after answering. */
static json_t *config_of(struct write_op *op)
{
    const json_t *in = op->input;
    const char *av = orc_json_str(in, "apiVersion"), *kind = orc_json_str(in, "kind");
    const char *want = orc_kind_api_version(op->view ? op->view : op->k);
    const char *name = orc_json_str(in, "metadata.name");
    char err[256];
    json_t *cfg;

    if (!json_is_object(in)) {
        bad_request(op, "%s%s", "error decoding YAML: the applied configuration must be an object",
                    "");
        return NULL;
    }
    if (av == NULL || strcmp(av, want) != 0) {
        bad_request(op, "Incorrect version specified in apply patch. Specified patch version: %s, "
                        "expected: %s", av ? av : "", want);
        return NULL;
    }
    if (kind == NULL || strcmp(kind, op->k->kind) != 0) {
        bad_request(op, "the kind in the data (%s) does not match the expected kind (%s)",
                    kind ? kind : "", op->k->kind);
        return NULL;
    }
    if (json_object_get(json_object_get(in, "metadata"), "managedFields")) {
        bad_request(op, "%s%s", "metadata.managedFields must be nil", "");
        return NULL;
    }
    if (name && strcmp(name, op->rt->name) != 0) {
        bad_request(op, "the name of the object (%s) does not match the name on the URL (%s)", name,
                    op->rt->name);
        return NULL;
    }
    if ((cfg = json_deep_copy(in)) == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "applying");
        return NULL;
    }
    /* through a served_only version: applied, and its fields owned, in the
     * stored version's shape, as the live object is */
    if (op->view && api_view_to_stored(op->view, cfg, err, sizeof err) != 0) {
        bad_request(op, "%s%s", err, "");
        json_decref(cfg);
        return NULL;
    }
    if (write_schema_pass(op, cfg) != 0) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

/* 409 as Kubernetes' NewApplyConflict words it. */
static void respond_conflicts(struct write_op *op, const struct fm_conflicts *c)
{
    json_t *causes = json_array(), *e;
    char *msg = fm_conflict_message(c);
    size_t i;

    json_array_foreach(c->list, i, e) {
        char text[512];
        snprintf(text, sizeof text, "conflict with %s", orc_json_str(e, "manager"));
        json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason",
                                                "FieldManagerConflict", "message", text, "field",
                                                orc_json_str(e, "field")));
    }
    if (msg) api_respond_status(op->r, 409, "Conflict", NULL, NULL, causes, "%s", msg);
    else {
        json_decref(causes);
        api_respond_error(op->r, ORC_ENOMEM, "applying");
    }
    free(msg);
}

/* Runs the apply of op->input onto live; the object to store (with its
 * managedFields), or NULL after answering. */
static json_t *apply_onto(struct write_op *op, const json_t *live, struct fm_managed *m)
{
    struct fm_conflicts c = {NULL};
    struct fm_op fo;
    char now[ORC_TIME_LEN];
    json_t *cfg = config_of(op), *out = NULL;
    int rv;

    if (cfg == NULL) return NULL;
    fm_op_of(op, &fo, now);
    rv = fm_apply(&fo, m, live, cfg, op->opts.force, &out, &c);
    json_decref(cfg);
    if (rv == ORC_ECONFLICT) {
        respond_conflicts(op, &c);
        json_decref(c.list);
        return NULL;
    }
    if (rv == 0 && out == NULL && (out = json_deep_copy(live)) == NULL) rv = ORC_ENOMEM;
    if (rv == 0) rv = fm_managed_encode(m, out);
    if (rv != 0) {
        json_decref(out);
        api_respond_error(op->r, rv, "applying");
        return NULL;
    }
    op->fields_done = true;
    return out;
}

json_t *mut_apply(struct write_op *op, const json_t *cur)
{
    struct fm_managed m;
    const char *want = orc_json_str(op->input, "metadata.resourceVersion");
    const char *have = orc_json_str(cur, "metadata.resourceVersion");
    json_t *merged, *next;

    if (want && *want) { /* a resourceVersion in the configuration is a precondition */
        op->rv_given = true;
        if (have == NULL || strcmp(want, have) != 0) {
            api_respond_conflict(op->r, op->k, op->rt->name);
            return NULL;
        }
    }
    decode_live(cur, &m);
    merged = apply_onto(op, cur, &m);
    fm_managed_free(&m);
    if (merged == NULL) return NULL;
    orc_json_del(merged, "metadata.resourceVersion");
    next = mut_update(op, cur, merged);
    json_decref(merged);
    return next;
}

json_t *write_apply_status(struct write_op *op, const json_t *cur)
{
    struct fm_managed m;
    json_t *merged;

    decode_live(cur, &m);
    merged = apply_onto(op, cur, &m);
    fm_managed_free(&m);
    return merged;
}

void write_apply_create(struct write_op *op)
{
    struct fm_managed m = {0};
    json_t *bare = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", orc_kind_api_version(op->k),
                             "kind", op->k->kind, "metadata", "name", op->rt->name);
    json_t *obj;

    if (bare && op->k->namespaced)
        orc_json_set(bare, "metadata.namespace", json_string(op->rt->ns));
    if (bare == NULL) {
        api_respond_error(op->r, ORC_ENOMEM, "applying");
        return;
    }
    obj = apply_onto(op, bare, &m);
    fm_managed_free(&m);
    json_decref(bare);
    if (obj == NULL) return;
    op->creating = true;
    if (mut_create(op, obj) != 0) {
        json_decref(obj);
        return;
    }
    write_commit_create(op, obj);
}
