/* read.c — GET of one object and LIST of a collection, with label and field
 * selectors and limit/continue paging. A list is one snapshot: later pages
 * are read at the first page's revision. Reads without resourceVersion are
 * linearizable (they wait for a read point); "0" or a number read locally,
 * a number once this member has reached it; resourceVersionMatch=Exact (or
 * a number with a limit) reads the state as of that revision. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/encrypt.h"
#include "apiserver/server.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"

#define WAIT_FOR_RV_MS 3000

struct read_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    struct api_route *rt;
    struct api_list_opts lo;
    int64_t exact_rev; /* a list at exactly this revision, or 0 */
    const struct api_table *table; /* NULL: objects, not a Table */
    struct api_table table_req;
};

static void read_op_free(void *p)
{
    struct read_op *op = p;
    api_release(op->s);
    free(op);
}

/* ---- one object ---- */

static void respond_scale(struct orc_httpd_req *r, const struct api_kind *ak, const struct store_kv *kv)
{
    json_t *obj = api_obj_decode(kv->value, kv->value_len, kv->mod_rev);
    json_t *scale = obj ? api_scale_from(ak, obj) : NULL;

    if (scale == NULL) api_respond_error(r, ORC_ECORRUPT, "reading the object");
    else api_respond_json(r, 200, scale);
    json_decref(scale);
    json_decref(obj);
}

static void get_object(struct read_op *op)
{
    struct api_route *rt = op->rt;
    struct orc_buf key = ORC_BUF_INIT, body = ORC_BUF_INIT;
    struct store_kv kv = {0};
    int rv;

    api_key(rt->kind, rt->ns, rt->name, &key);
    rv = store_get(op->s->st, key.data, &kv);
    orc_buf_free(&key);
    if (rv == ORC_ENOENT) {
        api_respond_not_found(op->r, rt->kind, rt->name);
        return;
    }
    if (rv != 0) {
        api_respond_error(op->r, rv, "reading the object");
        return;
    }
    if (api_respond_if_sealed(op->s, op->r, &kv)) {
        /* answered: no key here opens it */
    } else if (strcmp(rt->sub, "scale") == 0) {
        respond_scale(op->r, rt->api, &kv);
    } else if ((op->table ? api_table_single(op->table, &kv, kv.mod_rev, true, &body)
                          : api_obj_append_as(rt->kind, &body, kv.value, kv.value_len,
                                              kv.mod_rev)) != 0) {
        orc_buf_free(&body);
        api_respond_error(op->r, ORC_ECORRUPT, "reading the object");
    } else {
        api_respond_buf(op->r, 200, &body);
    }
    store_kv_clear(&kv);
}

/* ---- lists ---- */

/* Continue tokens: base64url of {"rv":N,"start":"<last key>"}. */
static int continue_encode(int64_t rev, const char *key, struct orc_buf *out)
{
    json_t *t = json_pack("{s:I, s:s}", "rv", (json_int_t)rev, "start", key);
    char *text = t ? json_dumps(t, JSON_COMPACT) : NULL;
    int rv = text ? orc_base64_encode(text, strlen(text), true, out) : ORC_ENOMEM;

    free(text);
    json_decref(t);
    return rv;
}

static int continue_decode(const char *tok, int64_t *rev, char **start)
{
    struct orc_buf raw = ORC_BUF_INIT;
    json_t *t = NULL;
    int rv = ORC_EINVAL;

    if (orc_base64_decode(tok, strlen(tok), true, &raw) == 0 && raw.data)
        t = orc_json_loadb(raw.data, raw.len, 0, NULL);
    /* rv -1: continue at the latest revision, the token a 410 hands out. */
    if (t && orc_json_int(t, "rv", rev) == 0 && orc_json_str(t, "start") && (*rev > 0 || *rev == -1)) {
        *start = strdup(orc_json_str(t, "start"));
        rv = *start ? 0 : ORC_ENOMEM;
    }
    json_decref(t);
    orc_buf_free(&raw);
    return rv;
}

struct list_page {
    struct orc_buf items;
    size_t count;
    int64_t revision;
    bool more;
    size_t remaining;
    char *last_key; /* last key examined, for the continue token */
    char sealed[512]; /* why an item cannot be read (encryption at rest) */
    const struct orc_kind *view; /* the version the items are in */
};

/* Reads up to `limit` matching objects (0: all) after start_after at
 * at_rev (0: now) into page: the objects, or with t their Table rows. */
static int list_collect(struct api_server *s, const char *prefix, const struct api_filter *f,
                        const struct api_table *t, int64_t at_rev, const char *start_after,
                        size_t limit, struct list_page *page)
{
    char *cursor = start_after ? strdup(start_after) : NULL;
    int rv = 0;

    for (;;) {
        struct store_list l = {0};
        size_t want = limit ? limit - page->count : 0;

        rv = store_range(s->st, prefix, cursor, at_rev, want, &l);
        if (rv != 0) break;
        at_rev = page->revision = l.revision;
        for (size_t i = 0; i < l.n && rv == 0; i++) {
            if (api_enc_sealed(l.kvs[i].value, l.kvs[i].value_len, l.kvs[i].sealed)) {
                api_sealed_msg(s, &l.kvs[i], page->sealed, sizeof page->sealed);
                rv = ORC_EPERM;
                break;
            }
            if (!api_filter_match_kv(f, &l.kvs[i])) continue;
            if (page->count > 0) orc_buf_append(&page->items, ",", 1);
            if (t)
                rv = api_table_row(t, l.kvs[i].value, l.kvs[i].value_len, l.kvs[i].mod_rev,
                                   &page->items);
            else
                rv = api_obj_append_as(page->view, &page->items, l.kvs[i].value,
                                       l.kvs[i].value_len, l.kvs[i].mod_rev);
            page->count++;
        }
        if (l.n > 0) {
            free(cursor);
            cursor = strdup(l.kvs[l.n - 1].key);
        }
        page->more = l.more;
        page->remaining = l.remaining;
        store_list_clear(&l);
        if (rv != 0 || !page->more || limit == 0 || page->count >= limit || cursor == NULL) break;
    }
    page->last_key = cursor;
    return rv;
}

/* Puts head in front of the items already collected, in place, so that a
 * list's body is held once rather than copied into a second buffer. */
static int prepend(struct orc_buf *items, const struct orc_buf *head)
{
    if (orc_buf_reserve(items, head->len) != 0) return ORC_ENOMEM;
    memmove(items->data + head->len, items->data, items->len);
    memcpy(items->data, head->data, head->len);
    items->len += head->len;
    items->data[items->len] = '\0';
    return 0;
}

/* Answers the page: its items (objects, or a Table's rows) become the body. */
static void respond_list(struct read_op *op, struct list_page *page, bool filtered)
{
    const struct orc_kind *k = op->rt->kind;
    struct orc_buf head = ORC_BUF_INIT;
    int rv;

    if (op->table) rv = api_table_head(op->table, &head);
    else rv = orc_buf_printf(&head, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{",
                             k->kind, orc_kind_api_version(k));
    if (rv == 0) rv = orc_buf_printf(&head, "\"resourceVersion\":\"%" PRId64 "\"", page->revision);
    if (rv == 0 && page->more && page->last_key) {
        rv = orc_buf_puts(&head, ",\"continue\":\"");
        if (rv == 0) rv = continue_encode(page->revision, page->last_key, &head);
        if (rv == 0) rv = orc_buf_puts(&head, "\"");
        if (rv == 0 && !filtered)
            rv = orc_buf_printf(&head, ",\"remainingItemCount\":%zu", page->remaining);
    }
    if (rv == 0)
        rv = op->table ? api_table_middle(op->table, true, &head)
                       : orc_buf_puts(&head, "},\"items\":[");
    if (rv == 0) rv = prepend(&page->items, &head);
    if (rv == 0) rv = orc_buf_puts(&page->items, "]}");
    orc_buf_free(&head);
    if (rv != 0) {
        api_respond_error(op->r, ORC_ENOMEM, "listing");
        return;
    }
    api_respond_buf(op->r, 200, &page->items); /* takes the buffer */
}

/* 410 for a continue token past the retained history, with a fresh token
 * that continues from the same key at the latest revision, as Kubernetes. */
static void respond_continue_expired(struct read_op *op, const char *start)
{
    struct orc_buf tok = ORC_BUF_INIT;
    json_t *st = NULL;

    if (continue_encode(-1, start, &tok) == 0)
        st = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
                       "v1", "metadata", "continue", tok.data, "status", "Failure", "message",
                       "The provided continue parameter is too old to display a consistent list "
                       "result. You can start a new list without the continue parameter, or use "
                       "the continue token in this response to retrieve the remainder of the "
                       "results. Continuing with the provided token results in an inconsistent "
                       "list - objects that were created, modified, or deleted between the time "
                       "the first chunk was returned and now may show up in the list.",
                       "reason", "Expired", "code", 410);
    if (st) api_respond_json(op->r, 410, st);
    else
        api_respond_status(op->r, 410, "Expired", NULL, NULL, NULL,
                           "The provided continue parameter is too old to display a consistent "
                           "list result. You can start a new list without the continue parameter.");
    json_decref(st);
    orc_buf_free(&tok);
}

static void list_objects(struct read_op *op)
{
    struct api_route *rt = op->rt;
    struct api_filter f;
    struct list_page page = {0};
    struct orc_buf prefix = ORC_BUF_INIT;
    const char *lim = api_query_get(rt, "limit");
    const char *cont = api_query_get(rt, "continue");
    char *start = NULL, *end;
    int64_t at_rev = 0;
    long long limit = 0;
    int rv;

    if (lim && *lim && ((limit = strtoll(lim, &end, 10)) < 0 || *end)) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "limit must be a non-negative integer, not \"%s\"", lim);
        return;
    }
    if (cont && *cont && continue_decode(cont, &at_rev, &start) != 0) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "invalid continue token");
        return;
    }
    if (api_filter_parse(op->r, rt, &f) != 0) {
        free(start);
        return;
    }
    if (at_rev == -1) at_rev = 0;
    else if (start == NULL) at_rev = op->exact_rev;
    api_prefix(rt->kind, rt->ns[0] ? rt->ns : NULL, &prefix);
    page.view = rt->kind;
    rv = list_collect(op->s, prefix.data, &f, op->table, at_rev, start, (size_t)limit, &page);
    if (rv == ORC_ECOMPACTED && start)
        respond_continue_expired(op, start);
    else if (rv == ORC_ECOMPACTED)
        api_respond_status(op->r, 410, "Expired", NULL, NULL, NULL,
                           "The resourceVersion for the provided list is too old.");
    else if (rv != 0 && page.sealed[0])
        api_respond_status(op->r, 500, "InternalError", NULL, NULL, NULL,
                           "Internal error occurred: %s", page.sealed);
    else if (rv != 0) api_respond_error(op->r, rv, "listing");
    else respond_list(op, &page, f.labels || f.fields);
    orc_buf_free(&page.items);
    free(page.last_key);
    orc_buf_free(&prefix);
    api_filter_clear(&f);
    free(start);
}

/* ---- entry ---- */

static void read_now(void *arg, int status)
{
    struct read_op *op = arg;

    if (status == ORC_ETIMEDOUT && op->lo.rv_given) {
        api_respond_rv_too_large(op->r, op->lo.rv, store_revision(op->s->st));
    } else if (status != 0) {
        api_respond_error(op->r, status, "waiting for a consistent read point");
    } else if (op->rt->type == ROUTE_OBJECT) {
        get_object(op);
    } else {
        list_objects(op);
    }
}

static bool valid_read_target(struct orc_httpd_req *r, struct api_route *rt)
{
    if (rt->type == ROUTE_OBJECT && rt->kind->namespaced && rt->ns[0] == '\0') {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                           "the server could not find the requested resource");
        return false;
    }
    if (rt->sub[0] == '\0') return true;
    if ((strcmp(rt->sub, "status") == 0 || strcmp(rt->sub, "scale") == 0)
        && api_kind_serves(rt->api, rt->sub))
        return true;
    api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                       "the server could not find the requested resource");
    return false;
}

/* A list at exactly the resourceVersion given: resourceVersionMatch=Exact,
 * or (Kubernetes' older rule) a number with a limit and no match. */
static bool wants_exact(const struct api_route *rt, const struct api_list_opts *lo)
{
    const char *lim = api_query_get(rt, "limit");

    if (rt->type != ROUTE_COLLECTION || !lo->rv_given || lo->rv == 0) return false;
    return lo->match == API_RV_MATCH_EXACT
           || (lo->match == API_RV_MATCH_NONE && lim && *lim && strcmp(lim, "0") != 0);
}

void api_handle_read(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    const char *cont = api_query_get(rt, "continue");
    struct api_list_opts lo;
    struct api_table table;
    struct read_op *op;
    int rv = 0, as_table;

    if (!valid_read_target(r, rt)) return;
    if (api_list_opts_parse(r, rt, false, &lo) != 0) return;
    if (cont && *cont && lo.rv_given && lo.rv != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "specifying resource version is not allowed when using continue");
        return;
    }
    if ((as_table = api_table_negotiate(r, rt, &table)) < 0) return;
    op = calloc(1, sizeof *op);
    if (op == NULL) {
        api_respond_error(r, ORC_ENOMEM, "reading");
        return;
    }
    op->s = s;
    op->r = r;
    op->rt = rt;
    op->lo = lo;
    if (as_table) {
        op->table_req = table;
        op->table = &op->table_req;
    }
    api_hold(s);
    r->op = op;
    r->op_free = read_op_free;
    if (wants_exact(rt, &lo)) op->exact_rev = lo.rv;
    if (cont && *cont) read_now(op, 0); /* pinned to the token's revision */
    else if (!lo.rv_given) rv = api_read_barrier(s, read_now, op);
    else rv = store_wait_revision(s->st, lo.rv, WAIT_FOR_RV_MS, read_now, op);
    if (rv != 0) api_respond_error(r, rv, "reading");
}
