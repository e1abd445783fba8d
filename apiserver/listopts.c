/* listopts.c — the ListOptions of a list or a watch, read and checked as
 * Kubernetes does: resourceVersion, resourceVersionMatch (Exact,
 * NotOlderThan), sendInitialEvents and allowWatchBookmarks. A combination
 * Kubernetes refuses gets its 422 `ListOptions.meta.k8s.io "" is invalid`
 * with the same causes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

struct opt_errs {
    json_t *causes;
};

#define opt_err(e, reason, field, ...) api_cause_append((e)->causes, reason, field, __VA_ARGS__)

static void forbidden(struct opt_errs *e, const char *field, const char *why)
{
    opt_err(e, "FieldValueForbidden", field, "Forbidden: %s", why);
}

static void respond_invalid(struct orc_httpd_req *r, json_t *causes)
{
    struct orc_buf msg = ORC_BUF_INIT;
    size_t i, n = json_array_size(causes);
    json_t *c;
    int rv = orc_buf_printf(&msg, "ListOptions.meta.k8s.io \"\" is invalid: %s", n > 1 ? "[" : "");

    json_array_foreach(causes, i, c) {
        const char *field = orc_json_str(c, "field"), *text = orc_json_str(c, "message");
        if (rv == 0)
            rv = orc_buf_printf(&msg, "%s%s: %s", i ? ", " : "", field ? field : "",
                                text ? text : "out of memory");
    }
    if (rv == 0 && n > 1) rv = orc_buf_puts(&msg, "]");
    json_t *st = rv ? NULL
                    : json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:s, s:s, s:O}, s:i}", "kind",
                                "Status", "apiVersion", "v1", "metadata", "status", "Failure",
                                "message", msg.data, "reason", "Invalid", "details", "group",
                                "meta.k8s.io", "kind", "ListOptions", "causes", causes, "code", 422);
    if (st) api_respond_json(r, 422, st);
    else api_respond_error(r, ORC_ENOMEM, "checking the list options");
    json_decref(st);
    orc_buf_free(&msg);
}

static int parse_rv(struct orc_httpd_req *r, const char *v, struct api_list_opts *o)
{
    char *end;
    long long n;

    if (v == NULL || *v == '\0') return 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (*end || n < 0 || errno) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "resourceVersion must be a number, not \"%s\"", v);
        return ORC_EINVAL;
    }
    o->rv_given = true;
    o->rv = n;
    return 0;
}

static void check_list(struct opt_errs *e, const struct api_list_opts *o, const char *match,
                       const char *cont)
{
    if (match && *match) {
        if (!o->rv_given)
            forbidden(e, "resourceVersionMatch",
                      "resourceVersionMatch is forbidden unless resourceVersion is provided");
        if (cont && *cont)
            forbidden(e, "resourceVersionMatch",
                      "resourceVersionMatch is forbidden when continue is provided");
        if (o->match == API_RV_MATCH_UNKNOWN)
            opt_err(e, "FieldValueNotSupported", "resourceVersionMatch",
                    "Unsupported value: \"%s\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
                    match);
        if (o->match == API_RV_MATCH_EXACT && o->rv_given && o->rv == 0)
            forbidden(e, "resourceVersionMatch",
                      "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    }
    if (o->send_initial >= 0) forbidden(e, "sendInitialEvents", "sendInitialEvents is forbidden for list");
}

static void check_watch(struct opt_errs *e, const struct api_list_opts *o, const char *match,
                        const char *cont)
{
    if (o->send_initial >= 0 && o->match != API_RV_MATCH_NOT_OLDER)
        forbidden(e, "resourceVersionMatch",
                  "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    if (match && *match) {
        if (o->send_initial < 0)
            forbidden(e, "resourceVersionMatch",
                      "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                      "provided");
        if (o->match != API_RV_MATCH_NOT_OLDER)
            opt_err(e, "FieldValueNotSupported", "resourceVersionMatch",
                    "Unsupported value: \"%s\": supported values: \"NotOlderThan\"", match);
        if (cont && *cont)
            forbidden(e, "resourceVersionMatch",
                      "resourceVersionMatch is forbidden when continue is provided");
    }
}

int api_list_opts_parse(struct orc_httpd_req *r, const struct api_route *rt, bool watch,
                        struct api_list_opts *o)
{
    const char *match = api_query_get(rt, "resourceVersionMatch");
    const char *cont = api_query_get(rt, "continue");
    struct opt_errs e = {NULL};
    int rv;

    memset(o, 0, sizeof *o);
    o->send_initial = -1;
    if ((rv = parse_rv(r, api_query_get(rt, "resourceVersion"), o)) != 0) return rv;
    if (match == NULL || *match == '\0') o->match = API_RV_MATCH_NONE;
    else if (strcmp(match, "Exact") == 0) o->match = API_RV_MATCH_EXACT;
    else if (strcmp(match, "NotOlderThan") == 0) o->match = API_RV_MATCH_NOT_OLDER;
    else o->match = API_RV_MATCH_UNKNOWN;
    if (api_query_get(rt, "sendInitialEvents"))
        o->send_initial = api_query_bool(rt, "sendInitialEvents") ? 1 : 0;
    o->bookmarks = api_query_bool(rt, "allowWatchBookmarks");
    if (rt->type != ROUTE_COLLECTION) return 0; /* GetOptions: resourceVersion alone */
    if ((e.causes = json_array()) == NULL) {
        api_respond_error(r, ORC_ENOMEM, "checking the list options");
        return ORC_ENOMEM;
    }
    if (watch) check_watch(&e, o, match, cont);
    else check_list(&e, o, match, cont);
    rv = json_array_size(e.causes) ? ORC_EINVAL : 0;
    if (rv) respond_invalid(r, e.causes);
    json_decref(e.causes);
    return rv;
}

void api_respond_rv_too_large(struct orc_httpd_req *r, int64_t want, int64_t current)
{
    json_t *causes = json_pack("[{s:s, s:s}]", "reason", "ResourceVersionTooLarge", "message",
                               "Too large resource version");
    json_t *st = causes ? json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:{s:O, s:i}, s:i}", "kind",
                                    "Status", "apiVersion", "v1", "metadata", "status", "Failure",
                                    "message", "", "reason", "Timeout", "details", "causes",
                                    causes, "retryAfterSeconds", 1, "code", 504)
                        : NULL;
    char msg[160];

    snprintf(msg, sizeof msg, "Timeout: Too large resource version: %lld, current: %lld",
             (long long)want, (long long)current);
    if (st && json_object_set_new(st, "message", json_string(msg)) == 0) api_respond_json(r, 504, st);
    else api_respond_error(r, ORC_ENOMEM, "reading");
    json_decref(st);
    json_decref(causes);
}
