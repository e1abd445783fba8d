/* delcol.c — DELETE of a collection (deletecollection): each object the
 * label and field selectors match is deleted by a DELETE of its own through
 * the write path (finalizers, graceful pods, propagation, quotas alike), as
 * Kubernetes' registry deletes each, with the request's dryRun,
 * gracePeriodSeconds, propagationPolicy and body, once those were checked.
 * One at a time; the first failure (other than an object gone meanwhile)
 * ends it with that answer; else 200 with the list of what was deleted. */
#include <llhttp.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "apiserver/user.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/httpd_parse.h"
#include "lib/orc.h"
#include "lib/url.h"

/* The query a DELETE of one object takes. */
static const char *const passed[] = {"dryRun", "gracePeriodSeconds", "propagationPolicy",
                                     "orphanDependents", NULL};

struct delcol {
    struct api_server *s;
    struct orc_httpd_req *r; /* the collection's request: it owns this */
    const struct orc_kind *k;
    char **names;
    size_t n, next;
    struct orc_buf base;   /* the collection's path + "/" */
    struct orc_buf query;  /* "?..." passed on, or "" */
    struct orc_buf answer; /* the running DELETE's body */
    struct orc_buf items;  /* the deleted objects, comma-separated */
    int failed; /* the status of the DELETE that failed; 0: none */
    bool running, starting;
};

static void delcol_free(void *arg)
{
    struct delcol *d = arg;

    for (size_t i = 0; i < d->n; i++) free(d->names[i]);
    free(d->names);
    orc_buf_free(&d->base);
    orc_buf_free(&d->query);
    orc_buf_free(&d->answer);
    orc_buf_free(&d->items);
    api_release(d->s);
    free(d);
}

/* The matching objects' names (sealed ones refused: 500, answered). */
static int gather(struct delcol *d, const struct api_route *rt, const struct api_filter *f)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};
    int rv = api_prefix(rt->kind, rt->ns, &prefix);

    if (rv == 0) rv = store_range(d->s->st, prefix.data, NULL, 0, 0, &l);
    if (rv == 0 && l.n > 0 && !(d->names = calloc(l.n, sizeof *d->names))) rv = ORC_ENOMEM;
    for (size_t i = 0; rv == 0 && i < l.n; i++) {
        if (api_respond_if_sealed(d->s, d->r, &l.kvs[i])) {
            rv = ORC_EPERM;
            break;
        }
        if (!api_filter_match_kv(f, &l.kvs[i])) continue;
        /* the key is the prefix and the name (api_key) */
        if (!(d->names[d->n++] = strdup(l.kvs[i].key + prefix.len))) rv = ORC_ENOMEM;
    }
    orc_buf_free(&prefix);
    store_list_clear(&l);
    if (rv != 0 && rv != ORC_EPERM) api_respond_error(d->r, rv, "listing the collection");
    return rv;
}

static int pass_query(struct delcol *d, const struct api_route *rt)
{
    int rv = 0;

    for (size_t i = 0; rv == 0 && passed[i]; i++) {
        const char *v = api_query_get(rt, passed[i]);
        if (v == NULL) continue;
        rv = orc_buf_printf(&d->query, "%c%s=", d->query.len ? '&' : '?', passed[i]);
        if (rv == 0) rv = orc_url_escape(v, &d->query);
    }
    return rv;
}

/* Deletes that end at once (a dry run's) run this many in a row before
 * the loop gets a turn: a large collection does not stall other clients. */
#define DELCOL_BATCH 128

static void run_next(struct delcol *d);

/* Ends the collection's request (and so d). */
static void finish(struct delcol *d)
{
    struct orc_buf out = ORC_BUF_INIT;
    struct orc_httpd_req *r = d->r;

    if (d->failed) { /* the failing DELETE's Status, as it was */
        orc_httpd_respond(r, d->failed, "application/json", d->answer.data, d->answer.len, NULL);
        return;
    }
    if (orc_buf_printf(&out, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{},\"items\":[",
                       d->k->kind, orc_kind_api_version(d->k)) != 0
        || orc_buf_append(&out, d->items.data ? d->items.data : "", d->items.len) != 0
        || orc_buf_puts(&out, "]}") != 0) {
        orc_buf_free(&out);
        api_respond_error(r, ORC_ENOMEM, "answering");
        return;
    }
    orc_httpd_respond(r, 200, "application/json", out.data, out.len, NULL);
    orc_buf_free(&out);
}

/* One DELETE has ended (it is being freed): keeps what it answered. */
static void one_done(struct orc_httpd_req *sub)
{
    struct delcol *d = sub->observer;
    json_t *o;

    d->running = false;
    if (sub->status >= 400 && sub->status != 404) {
        d->failed = sub->status;
        d->next = d->n;
    } else if (sub->status < 300 && (o = json_loadb(d->answer.data, d->answer.len, 0, NULL))) {
        /* an object deleted (or marked); a Status says it is gone already */
        if (strcmp(orc_json_str(o, "kind") ?: "", "Status") != 0) {
            if (d->items.len) orc_buf_append(&d->items, ",", 1);
            orc_buf_append(&d->items, d->answer.data, d->answer.len);
        }
        json_decref(o);
    }
    if (!d->starting) run_next(d);
}

static struct orc_httpd_req *sub_request(struct delcol *d, const char *name, struct api_route **rt)
{
    struct orc_httpd_req *r = calloc(1, sizeof *r);
    const struct api_user *u = api_req_user(d->r);
    const char *ct = orc_httpd_req_header(d->r, "content-type");
    struct orc_buf target = ORC_BUF_INIT;

    *rt = calloc(1, sizeof **rt);
    if (!r || !*rt || orc_buf_append(&target, d->base.data, d->base.len) != 0
        || orc_url_escape(name, &target) != 0
        || orc_buf_append(&target, d->query.data ? d->query.data : "", d->query.len) != 0)
        goto fail;
    r->method = HTTP_DELETE;
    r->server = d->r->server;
    r->authorized = true;
    r->target = orc_buf_steal(&target, NULL);
    r->capture = &d->answer;
    r->observer = d;
    r->on_done = one_done;
    if (d->r->body.len && orc_buf_append(&r->body, d->r->body.data, d->r->body.len) != 0) goto fail;
    if (ct && (!(r->headers[0].name = strdup("content-type")) || !(r->headers[0].value = strdup(ct))))
        goto fail;
    r->n_headers = ct ? 1 : 0;
    if (u) {
        struct api_user *copy = api_user_dup(u);
        if (copy == NULL) goto fail;
        api_req_set_user(r, copy);
    }
    if (api_route_parse(r->target, *rt) != 0) goto fail;
    r->state = *rt;
    r->state_free = api_route_free;
    return r;
fail:
    orc_buf_free(&target);
    if (r) r->on_done = NULL;
    orc_httpd_req_free(r);
    free(*rt);
    *rt = NULL;
    return NULL;
}

static void resume(void *arg)
{
    struct delcol *d = arg;

    if (d->s->stopping) {
        d->next = d->n;
        api_respond_error(d->r, ORC_ESHUTDOWN, "deleting the collection");
        return;
    }
    run_next(d);
}

/* Runs the DELETEs one after another; one that ends at once (gone, say)
 * leads here again through the loop, not through recursion. */
static void run_next(struct delcol *d)
{
    unsigned batch = 0;

    while (!d->running && d->next < d->n) {
        if (++batch > DELCOL_BATCH && api_later(d->s, 0, resume, d) == 0) return;
        struct api_route *rt;
        struct orc_httpd_req *sub = sub_request(d, d->names[d->next++], &rt);

        if (sub == NULL) {
            d->next = d->n;
            api_respond_error(d->r, ORC_ENOMEM, "deleting the collection");
            return;
        }
        orc_buf_reset(&d->answer);
        d->running = d->starting = true;
        api_handle_write(d->s, sub, rt);
        d->starting = false;
    }
    if (!d->running) finish(d);
}

/* The DeleteOptions (query and body) as each DELETE will read them: bad
 * ones are refused before anything is listed, also when nothing matches.
 * On failure r was answered (and d freed with it). */
static int check_options(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    struct write_op op = {.s = s, .r = r, .rt = rt, .k = rt->kind, .verb = W_DELETE};
    int rv;

    if (r->body.len > 0 && (op.input = api_parse_body(r)) == NULL) return ORC_EINVAL;
    rv = write_read_options(&op);
    json_decref(op.input);
    return rv;
}

void api_handle_delete_collection(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    struct api_filter f = {0};
    struct delcol *d;

    if (!(d = calloc(1, sizeof *d))) {
        api_respond_error(r, ORC_ENOMEM, "deleting the collection");
        return;
    }
    d->s = s;
    d->r = r;
    d->k = rt->kind;
    api_hold(s);
    r->op = d;
    r->op_free = delcol_free;
    if (check_options(s, r, rt) != 0) return;     /* answered */
    if (api_filter_parse(r, rt, &f) != 0) return; /* answered */
    int rv = gather(d, rt, &f);
    api_filter_clear(&f);
    if (rv != 0) return; /* answered */
    char *q = strchr(r->target, '?');
    if (orc_buf_append(&d->base, r->target, q ? (size_t)(q - r->target) : strlen(r->target)) != 0
        || orc_buf_puts(&d->base, "/") != 0 || pass_query(d, rt) != 0) {
        api_respond_error(r, ORC_ENOMEM, "deleting the collection");
        return;
    }
    run_next(d);
}
