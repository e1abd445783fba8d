/* table.c — server-side printing: a GET, list or watch whose Accept asks
 * for application/json;as=Table;g=meta.k8s.io (v1 or v1beta1) gets a
 * meta.k8s.io Table built by lib/table.h's printers, each row carrying the
 * object as includeObject says (PartialObjectMetadata by default), as
 * Kubernetes' apiserver answers kubectl get. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/orc.h"

/* ---- Accept ---- */

struct media {
    char type[64];
    char as[48], v[16], g[32];
};

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

static void copy_span(char *dst, size_t n, const char *s, const char *e)
{
    size_t len = (size_t)(e - s) < n - 1 ? (size_t)(e - s) : n - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

/* One alternative of an Accept header: "type;k=v;k=v". */
static void media_parse(const char *s, const char *e, struct media *m)
{
    const char *semi = memchr(s, ';', (size_t)(e - s));
    const char *te = semi ? semi : e, *ts = s;

    memset(m, 0, sizeof *m);
    trim(&ts, &te);
    copy_span(m->type, sizeof m->type, ts, te);
    while (semi) {
        const char *ps = semi + 1, *pe;
        semi = memchr(ps, ';', (size_t)(e - ps));
        pe = semi ? semi : e;
        trim(&ps, &pe);
        const char *eq = memchr(ps, '=', (size_t)(pe - ps));
        if (eq == NULL) continue;
        char key[8];
        copy_span(key, sizeof key, ps, eq);
        if (strcasecmp(key, "as") == 0) copy_span(m->as, sizeof m->as, eq + 1, pe);
        else if (strcasecmp(key, "v") == 0) copy_span(m->v, sizeof m->v, eq + 1, pe);
        else if (strcasecmp(key, "g") == 0) copy_span(m->g, sizeof m->g, eq + 1, pe);
    }
}

static bool json_like(const char *type)
{
    return strcasecmp(type, "application/json") == 0 || strcasecmp(type, "*/*") == 0
           || strcasecmp(type, "application/*") == 0;
}

/* The Table version the first alternative that orc can serve asks for, or
 * NULL when it asks for plain objects (or names nothing orc serves: the
 * objects, as before). */
static const char *table_version(const char *accept)
{
    const char *s = accept;

    while (s && *s) {
        const char *comma = strchr(s, ','), *e = comma ? comma : s + strlen(s);
        struct media m;
        media_parse(s, e, &m);
        s = comma ? comma + 1 : NULL;
        if (!json_like(m.type)) continue;
        if (m.as[0] == '\0') return NULL;
        if (strcmp(m.as, "Table") != 0 || strcmp(m.g, "meta.k8s.io") != 0) continue;
        if (strcmp(m.v, "v1") == 0) return "v1";
        if (strcmp(m.v, "v1beta1") == 0) return "v1beta1";
    }
    return NULL;
}

int api_table_negotiate(struct orc_httpd_req *r, const struct api_route *rt,
                        struct api_table *out)
{
    const char *accept = orc_httpd_req_header(r, "accept");
    const char *inc = api_query_get(rt, "includeObject");
    const char *v = accept ? table_version(accept) : NULL;

    memset(out, 0, sizeof *out);
    if (v == NULL || rt->sub[0] != '\0') return 0;
    if (inc == NULL || *inc == '\0' || strcmp(inc, "Metadata") == 0) out->include = API_TABLE_METADATA;
    else if (strcmp(inc, "Object") == 0) out->include = API_TABLE_OBJECT;
    else if (strcmp(inc, "None") == 0) out->include = API_TABLE_NONE;
    else {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "unrecognized includeObject value: \"%s\"", inc);
        return -1;
    }
    snprintf(out->api_version, sizeof out->api_version, "meta.k8s.io/%s", v);
    /* rows are printed from the stored form (events.k8s.io: the core Event's) */
    out->printer = orc_table_printer_for(orc_kind_stored(rt->kind)->group,
                                         orc_kind_stored(rt->kind)->resource);
    out->view = rt->kind;
    out->now = (int64_t)time(NULL);
    return 1;
}

/* ---- building ---- */

int api_table_head(const struct api_table *t, struct orc_buf *out)
{
    return orc_buf_printf(out, "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":{",
                          t->api_version);
}

int api_table_middle(const struct api_table *t, bool columns, struct orc_buf *out)
{
    json_t *cols = columns ? orc_table_columns_json(t->printer) : NULL;
    int rv;

    if (columns && cols == NULL) return ORC_ENOMEM;
    rv = orc_buf_puts(out, "},\"columnDefinitions\":");
    if (rv == 0) rv = cols ? orc_json_dump(cols, out) : orc_buf_puts(out, "null");
    if (rv == 0) rv = orc_buf_puts(out, ",\"rows\":[");
    json_decref(cols);
    return rv;
}

/* The row's object, as includeObject says (obj has metadata: see
 * api_obj_decode). NULL: no memory. */
static json_t *row_object(const struct api_table *t, json_t *obj)
{
    switch (t->include) {
    case API_TABLE_NONE: return json_null();
    case API_TABLE_OBJECT: {
        /* in the route's version (rows are printed from the stored one) */
        json_t *o = json_deep_copy(obj);
        if (o && api_view_from_stored(t->view, o) != 0) {
            json_decref(o);
            o = NULL;
        }
        return o;
    }
    default:
        return json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion",
                         t->api_version, "metadata", json_object_get(obj, "metadata"));
    }
}

int api_table_row(const struct api_table *t, const char *value, size_t len, int64_t rev,
                  struct orc_buf *out)
{
    json_t *obj = api_obj_decode(value, len, rev), *row = NULL, *cells, *conds;
    int rv;

    if (obj == NULL) return ORC_ECORRUPT;
    cells = orc_table_cells(t->printer, obj, t->now);
    conds = orc_table_conditions(t->printer, obj);
    if (cells) row = json_pack("{s:o}", "cells", cells);
    if (row && conds) json_object_set_new(row, "conditions", conds);
    else json_decref(conds);
    if (row && json_object_set_new(row, "object", row_object(t, obj)) != 0) {
        json_decref(row);
        row = NULL;
    }
    rv = row ? orc_json_dump(row, out) : ORC_ENOMEM;
    json_decref(row);
    json_decref(obj);
    return rv;
}

int api_table_single(const struct api_table *t, const struct store_kv *kv, int64_t rev,
                     bool columns, struct orc_buf *out)
{
    int rv = api_table_head(t, out);

    if (rv == 0) rv = orc_buf_printf(out, "\"resourceVersion\":\"%lld\"", (long long)rev);
    if (rv == 0) rv = api_table_middle(t, columns, out);
    if (rv == 0) rv = api_table_row(t, kv->value, kv->value_len, rev, out);
    return rv ? rv : orc_buf_puts(out, "]}");
}
