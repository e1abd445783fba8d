/* openapi.c — the OpenAPI documents, built once from the kind table and the
 * schema tables, and /openapi/v2, /openapi/v3 and /openapi/v3/<group-
 * version> served from those bytes, as Kubernetes serves them: an ETag,
 * the hash in each group-version's serverRelativeURL, immutable caching
 * when that hash is asked for; v3 in JSON only (406 to a client that
 * takes only protobuf), v2 in JSON or protobuf. */
#include "apiserver/openapi.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apiserver/server.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/orc.h"

#define TITLE "Kubernetes"
#define INFO_VERSION "v1.32.0-orc"
#define ETAG_LEN 128 /* sha512, hex */

struct oa_doc {
    char gv[96]; /* "api/v1", "apis/apps/v1"; "" for v2 and the v3 root */
    char *data;
    size_t len;
    char etag[ETAG_LEN + 1];
};

struct api_openapi {
    struct oa_doc v2, v2pb, v3root;
    struct oa_doc gvs[ORC_K_COUNT];
    size_t n_gvs;
};

/* Takes `data` (malloc'd, len bytes) and its SHA-512 as ETag. */
static int set_doc(struct oa_doc *d, char *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    d->data = data;
    d->len = len;
    if (data == NULL) return ORC_ENOMEM;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha512(), NULL) != 1 || mdlen * 2 > ETAG_LEN)
        return ORC_ENOMEM;
    for (unsigned int i = 0; i < mdlen; i++) snprintf(d->etag + 2 * i, 3, "%02X", md[i]);
    return 0;
}

/* Compact JSON, keys sorted (stable bytes, stable hash). Takes doc. */
static int finish_doc(struct oa_doc *d, json_t *doc)
{
    char *text;

    if (doc == NULL) return ORC_ENOMEM;
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return set_doc(d, text, text ? strlen(text) : 0);
}

static void gv_path(const struct orc_kind *k, char *out, size_t n)
{
    if (k->group[0]) snprintf(out, n, "apis/%s/%s", k->group, k->version);
    else snprintf(out, n, "api/%s", k->version);
}

static json_t *info(void)
{
    return json_pack("{s:s, s:s}", "title", TITLE, "version", INFO_VERSION);
}

static int build_v3_gv(const struct api_oa_types *types, const char *gv, struct oa_doc *d)
{
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);
    json_t *defs = json_object(), *paths = json_object();
    struct api_oa_ctx ctx = {.types = types, .version = API_OA_V3, .defs = defs};
    char kgv[96];

    if (defs == NULL || paths == NULL) ctx.err = ORC_ENOMEM;
    for (size_t i = 0; i < nk && ctx.err == 0; i++) {
        gv_path(&k[i], kgv, sizeof kgv);
        if (strcmp(kgv, gv) == 0) api_oa_add_paths(&ctx, &k[i], paths);
    }
    if (ctx.err) {
        json_decref(defs);
        json_decref(paths);
        return ctx.err;
    }
    snprintf(d->gv, sizeof d->gv, "%s", gv);
    return finish_doc(d, json_pack("{s:s, s:o, s:o, s:{s:o}}", "openapi", "3.0.0", "info", info(),
                                   "paths", paths, "components", "schemas", defs));
}

static int build_v2(const struct api_oa_types *types, struct oa_doc *d, struct oa_doc *pb)
{
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);
    json_t *defs = json_object(), *paths = json_object(), *doc;
    struct api_oa_ctx ctx = {.types = types, .version = API_OA_V2, .defs = defs};
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    if (defs == NULL || paths == NULL) ctx.err = ORC_ENOMEM;
    for (size_t i = 0; i < nk && ctx.err == 0; i++) api_oa_add_paths(&ctx, &k[i], paths);
    if (ctx.err) {
        json_decref(defs);
        json_decref(paths);
        return ctx.err;
    }
    doc = json_pack("{s:s, s:o, s:o, s:o, s:{s:{s:s, s:s, s:s, s:s}}, s:[{s:[]}]}", "swagger",
                    "2.0", "info", info(), "paths", paths, "definitions", defs,
                    "securityDefinitions", "BearerToken", "type", "apiKey", "name",
                    "authorization", "in", "header", "description",
                    "Bearer Token authentication", "security", "BearerToken");
    if (doc == NULL) return ORC_ENOMEM;
    rv = api_oa_v2_protobuf(doc, &b);
    if (rv == 0) {
        size_t len = 0;
        char *data = orc_buf_steal(&b, &len);
        rv = set_doc(pb, data, len);
    }
    orc_buf_free(&b);
    return rv == 0 ? finish_doc(d, doc) : (json_decref(doc), rv);
}

/* {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}}} */
static int build_v3_root(struct api_openapi *o)
{
    json_t *paths = json_object();
    char url[300];

    for (size_t i = 0; paths && i < o->n_gvs; i++) {
        snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", o->gvs[i].gv, o->gvs[i].etag);
        if (json_object_set_new(paths, o->gvs[i].gv, json_pack("{s:s}", "serverRelativeURL", url)) != 0) {
            json_decref(paths);
            return ORC_ENOMEM;
        }
    }
    return finish_doc(&o->v3root, json_pack("{s:o}", "paths", paths));
}

static bool have_gv(const struct api_openapi *o, const char *gv)
{
    for (size_t i = 0; i < o->n_gvs; i++)
        if (strcmp(o->gvs[i].gv, gv) == 0) return true;
    return false;
}

int api_openapi_build(struct api_openapi **out)
{
    struct api_openapi *o = calloc(1, sizeof *o);
    struct api_oa_types *types = NULL;
    size_t nk;
    const struct orc_kind *k = orc_kinds(&nk);
    char gv[96];
    int rv;

    if (o == NULL) return ORC_ENOMEM;
    rv = api_oa_types_new(&types);
    for (size_t i = 0; i < nk && rv == 0; i++) {
        gv_path(&k[i], gv, sizeof gv);
        if (have_gv(o, gv)) continue;
        rv = build_v3_gv(types, gv, &o->gvs[o->n_gvs++]);
    }
    if (rv == 0) rv = build_v3_root(o);
    if (rv == 0) rv = build_v2(types, &o->v2, &o->v2pb);
    api_oa_types_free(types);
    if (rv != 0) {
        api_openapi_free(o);
        return rv;
    }
    *out = o;
    return 0;
}

void api_openapi_free(struct api_openapi *o)
{
    if (o == NULL) return;
    free(o->v2.data);
    free(o->v2pb.data);
    free(o->v3root.data);
    for (size_t i = 0; i < o->n_gvs; i++) free(o->gvs[i].data);
    free(o);
}

static const struct oa_doc *find_doc(const struct api_openapi *o, enum api_oa_version v,
                                     const char *gv, bool protobuf)
{
    if (gv == NULL && v == API_OA_V2) return protobuf ? &o->v2pb : &o->v2;
    if (protobuf) return NULL;
    if (gv == NULL) return &o->v3root;
    if (v == API_OA_V2) return NULL;
    for (size_t i = 0; i < o->n_gvs; i++)
        if (strcmp(o->gvs[i].gv, gv) == 0) return &o->gvs[i];
    return NULL;
}

int api_openapi_doc(const struct api_openapi *o, enum api_oa_version v, const char *gv,
                    bool protobuf, const char **data, size_t *len, const char **etag)
{
    const struct oa_doc *d = find_doc(o, v, gv, protobuf);
    if (d == NULL) return ORC_ENOENT;
    *data = d->data;
    *len = d->len;
    *etag = d->etag;
    return 0;
}

/* ---- serving ---- */

#define PB_V2 "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define PB_V2_OLD "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

enum oa_format { FMT_NONE, FMT_JSON, FMT_PROTOBUF };

static bool media_is(const char *t, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(t, want, len) == 0;
}

/* The first media range of an Accept header that names a form served
 * (JSON, or with pb_ok the v2 protobuf); a wildcard takes JSON; no
 * header is a wildcard. Parameters (q) are not weighed. */
static enum oa_format negotiate(const char *accept, bool pb_ok)
{
    const char *p = accept;

    if (accept == NULL || *accept == '\0') return FMT_JSON;
    while (*p) {
        size_t len = strcspn(p, ","), tl = strcspn(p, ",;");
        const char *t = p;
        while (tl > 0 && (*t == ' ' || *t == '\t')) t++, tl--;
        while (tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t')) tl--;
        if (media_is(t, tl, "application/json") || media_is(t, tl, "application/*")
            || media_is(t, tl, "*/*"))
            return FMT_JSON;
        if (pb_ok && (media_is(t, tl, PB_V2) || media_is(t, tl, PB_V2_OLD))) return FMT_PROTOBUF;
        p += len;
        if (*p == ',') p++;
    }
    return FMT_NONE;
}

static bool etag_matches(const char *if_none_match, const char *etag)
{
    char quoted[ETAG_LEN + 3];
    snprintf(quoted, sizeof quoted, "\"%s\"", etag);
    return if_none_match && (strstr(if_none_match, quoted) != NULL || strcmp(if_none_match, "*") == 0);
}

static void respond_doc(struct orc_httpd_req *r, const struct oa_doc *d, const char *ctype,
                        bool immutable)
{
    char headers[600], expires[64] = "";
    time_t later = time(NULL) + 365 * 24 * 3600;
    struct tm tm;

    if (immutable && gmtime_r(&later, &tm))
        strftime(expires, sizeof expires, "Expires: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    snprintf(headers, sizeof headers, "ETag: \"%s\"\r\nVary: Accept\r\nCache-Control: %s\r\n%s",
             d->etag, immutable ? "public, immutable" : "no-cache, private", expires);
    /* The reply carries its own Cache-Control: the server adds none. */
    r->proxy = true;
    if (etag_matches(orc_httpd_req_header(r, "if-none-match"), d->etag))
        orc_httpd_respond(r, 304, ctype, "", 0, headers);
    else
        orc_httpd_respond(r, 200, ctype, d->data, d->len, headers);
}

/* A stale hash is sent on to the document's current URL (301), as
 * Kubernetes does, so that a client never caches old bytes under it. */
static void redirect(struct orc_httpd_req *r, const struct oa_doc *d)
{
    char headers[400];
    snprintf(headers, sizeof headers, "Location: /openapi/v3/%s?hash=%s\r\n", d->gv, d->etag);
    orc_httpd_respond(r, 301, "text/plain; charset=utf-8", "", 0, headers);
}

static void serve(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    char gv[96];
    const struct oa_doc *d;
    const char *hash = api_query_get(rt, "hash");
    bool v3 = rt->type == ROUTE_OPENAPI_V3, root = v3 && rt->version[0] == '\0';
    enum oa_format fmt;

    if (rt->group[0]) snprintf(gv, sizeof gv, "apis/%s/%s", rt->group, rt->version);
    else snprintf(gv, sizeof gv, "api/%s", rt->version);
    fmt = root ? FMT_JSON : negotiate(orc_httpd_req_header(r, "accept"), !v3);
    d = find_doc(s->openapi, v3 ? API_OA_V3 : API_OA_V2, v3 && !root ? gv : NULL,
                 fmt == FMT_PROTOBUF);
    if (d == NULL) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                           "the server could not find the requested resource");
        return;
    }
    if (fmt == FMT_NONE) {
        api_respond_status(r, 406, "NotAcceptable", NULL, NULL, NULL, "%s",
                           v3 ? "only application/json is served for this document"
                              : "only application/json and " PB_V2 " are served for this document");
        return;
    }
    if (!root && v3 && hash && hash[0] && strcmp(hash, d->etag) != 0) {
        redirect(r, d);
        return;
    }
    respond_doc(r, d, fmt == FMT_PROTOBUF ? PB_V2 : "application/json", !root && v3 && hash && hash[0]);
}

/* ---- the build, off the loop ---- */

/* Building takes a sizable fraction of a second of CPU: a worker thread
 * does it (the tables are static, the documents its own), and requests
 * that come meanwhile wait for it. */
struct api_oa_build {
    uv_work_t work;
    struct api_server *s;
    struct api_openapi *docs;
    int rv;
    struct orc_link waiting; /* struct oa_waiter */
};

struct oa_waiter {
    struct orc_link link;
    struct orc_httpd_req *r; /* its route is r->state */
};

static void build_work(uv_work_t *w)
{
    struct api_oa_build *b = w->data;
    b->rv = api_openapi_build(&b->docs);
}

/* Answers every waiting request (one whose client left is only freed). */
static void build_done(uv_work_t *w, int status)
{
    struct api_oa_build *b = w->data;
    struct api_server *s = b->s;
    int rv = status != 0 ? ORC_ECANCELED : b->rv;

    s->openapi_build = NULL;
    if (rv == 0) s->openapi = b->docs;
    else log_warn("apiserver", "building the OpenAPI documents: %s", orc_strerror(rv));
    while (!orc_list_empty(&b->waiting)) {
        struct oa_waiter *wt = ORC_CONTAINER(b->waiting.next, struct oa_waiter, link);
        struct orc_httpd_req *r = wt->r;
        orc_list_remove(&wt->link);
        free(wt);
        if (rv == 0) serve(s, r, r->state);
        else api_respond_error(r, rv, "building the OpenAPI documents");
    }
    free(b);
    api_release(s); /* last: it may free the server */
}

static void wait_for_build(struct api_server *s, struct orc_httpd_req *r)
{
    struct oa_waiter *wt = calloc(1, sizeof *wt);
    struct api_oa_build *b = s->openapi_build;

    if (wt && b == NULL && (b = calloc(1, sizeof *b)) != NULL) {
        b->s = s;
        b->work.data = b;
        orc_list_init(&b->waiting);
        if (uv_queue_work(s->loop, &b->work, build_work, build_done) != 0) {
            free(b);
            b = NULL;
        } else {
            api_hold(s);
            s->openapi_build = b;
        }
    }
    if (wt == NULL || b == NULL) {
        free(wt);
        api_respond_error(r, ORC_ENOMEM, "building the OpenAPI documents");
        return;
    }
    wt->r = r;
    orc_list_push(&b->waiting, &wt->link);
}

void api_handle_openapi(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    if (r->method != HTTP_GET) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    if (s->openapi == NULL) wait_for_build(s, r);
    else serve(s, r, rt);
}

void api_openapi_release(struct api_server *s)
{
    api_openapi_free(s->openapi);
    s->openapi = NULL;
}
