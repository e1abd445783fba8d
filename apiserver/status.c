/* status.c — responses: JSON bodies and Kubernetes `Status` failures whose
 * message names what is wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/audit.h"
#include "apiserver/encrypt.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define JSON_TYPE "application/json"

void api_cause_append(json_t *causes, const char *reason, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason", reason, "message",
                                                msg, "field", field)) != 0)
        json_array_append_new(causes, json_null());
}

void api_respond_buf(struct orc_httpd_req *r, int code, struct orc_buf *body)
{
    orc_httpd_respond(r, code, JSON_TYPE, body->data ? body->data : "", body->len, NULL);
    orc_buf_free(body);
}

void api_respond_json(struct orc_httpd_req *r, int code, const json_t *obj)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_json_dump(obj, &b) != 0) {
        orc_buf_free(&b);
        api_respond_error(r, ORC_ENOMEM, "encoding the response");
        return;
    }
    api_respond_buf(r, code, &b);
}

void api_resource_name(const struct orc_kind *k, char *out, size_t n)
{
    if (k->group[0]) snprintf(out, n, "%s.%s", k->resource, k->group);
    else snprintf(out, n, "%s", k->resource);
}

void api_respond_status(struct orc_httpd_req *r, int code, const char *reason, const struct orc_kind *k,
                        const char *name, json_t *causes, const char *fmt, ...)
{
    char msg[2048];
    json_t *st, *details = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api_redact_secret_values(r, msg, sizeof msg, causes);
    api_audit_note_status(r, reason, msg);
    if (k != NULL || causes != NULL) {
        details = json_object();
        if (name && *name) json_object_set_new(details, "name", json_string(name));
        if (k && k->group[0]) json_object_set_new(details, "group", json_string(k->group));
        /* Kubernetes puts the Kind here for Invalid and the resource otherwise. */
        if (k) json_object_set_new(details, "kind", json_string(code == 422 ? k->kind : k->resource));
        if (causes) json_object_set_new(details, "causes", causes);
    }
    st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                   "metadata", "status", "Failure", "message", msg, "reason", reason, "code", code);
    if (st && details) json_object_set_new(st, "details", details);
    else json_decref(details);
    if (st == NULL) {
        orc_httpd_respond(r, 500, "text/plain", "out of memory", 13, NULL);
        return;
    }
    api_respond_json(r, code, st);
    json_decref(st);
}

void api_respond_not_found(struct orc_httpd_req *r, const struct orc_kind *k, const char *name)
{
    char res[128];
    api_resource_name(k, res, sizeof res);
    api_respond_status(r, 404, "NotFound", k, name, NULL, "%s \"%s\" not found", res, name);
}

void api_respond_exists(struct orc_httpd_req *r, const struct orc_kind *k, const char *name)
{
    char res[128];
    api_resource_name(k, res, sizeof res);
    api_respond_status(r, 409, "AlreadyExists", k, name, NULL, "%s \"%s\" already exists", res,
                       name);
}

void api_respond_conflict(struct orc_httpd_req *r, const struct orc_kind *k, const char *name)
{
    char res[128];
    api_resource_name(k, res, sizeof res);
    api_respond_status(r, 409, "Conflict", k, name, NULL,
                       "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                       "please apply your changes to the latest version and try again",
                       res, name);
}

void api_respond_error(struct orc_httpd_req *r, int err, const char *what)
{
    switch (err) {
    case ORC_EUNAVAIL:
    case ORC_ENOTLEADER:
        api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                           "%s: no Raft leader is reachable right now; retry", what);
        break;
    case ORC_ETIMEDOUT:
        api_respond_status(r, 504, "Timeout", NULL, NULL, NULL,
                           "%s: the outcome is unknown: the Raft leader was lost or did not answer "
                           "in time, so the write may or may not have been applied; read it back "
                           "before retrying", what);
        break;
    case ORC_ESHUTDOWN:
        api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                           "%s: this server is shutting down", what);
        break;
    default:
        log_warn("apiserver", "%s: %s", what, orc_strerror(err));
        api_respond_status(r, 500, "InternalError", NULL, NULL, NULL, "%s: %s", what,
                           orc_strerror(err));
    }
}

void api_sealed_msg(struct api_server *s, const struct store_kv *kv, char *msg, size_t n)
{
    char why[200] = "";
    char *plain = NULL;
    size_t len = 0;
    bool stale;
    const char *what = strncmp(kv->key, "/registry/", 10) == 0 ? kv->key + 10 : kv->key;

    if (api_enc_open_msg(s->enc, kv->key, kv->value, kv->value_len, &plain, &len, &stale, why,
                         sizeof why) == 0)
        snprintf(why, sizeof why, "this member could not decrypt it");
    free(plain);
    snprintf(msg, n, "cannot read %s: %s", what, why);
}

bool api_respond_if_sealed(struct api_server *s, struct orc_httpd_req *r,
                           const struct store_kv *kv)
{
    char msg[512];

    if (!api_enc_sealed(kv->value, kv->value_len, kv->sealed)) return false;
    api_sealed_msg(s, kv, msg, sizeof msg);
    api_respond_status(r, 500, "InternalError", NULL, NULL, NULL, "Internal error occurred: %s",
                       msg);
    return true;
}
