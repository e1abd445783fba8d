/* rest.c — JSON calls to the API (see rest.h): serialize, send on the shared
 * client, parse the answer; the object verbs build their paths from
 * lib/kinds. */
#include "client/rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

#define DEFAULT_TIMEOUT_MS 15000

struct rest_req {
    rest_cb cb;
    void *arg;
};

static void on_answer(void *arg, int err, const struct http_response *resp)
{
    struct rest_req *r = arg;
    json_t *body = NULL;

    if (err == 0 && resp->body && resp->body_len)
        body = orc_json_loadb(resp->body, resp->body_len, JSON_ALLOW_NUL, NULL);
    if (r->cb) r->cb(r->arg, err ? err : resp->status, body);
    json_decref(body);
    free(r);
}

int rest_call(http_client *c, const char *method, const char *path, const char *content_type,
              const json_t *body, unsigned timeout_ms, rest_cb cb, void *arg)
{
    struct rest_req *r;
    struct orc_buf b = ORC_BUF_INIT;
    struct http_request req = {0};
    int rv;

    if (c == NULL || method == NULL || path == NULL) return ORC_EINVAL;
    r = calloc(1, sizeof *r);
    if (r == NULL) return ORC_ENOMEM;
    if (body && (rv = orc_json_dump(body, &b)) != 0) {
        free(r);
        return rv;
    }
    r->cb = cb;
    r->arg = arg;
    req.method = method;
    req.path = path;
    req.content_type = body ? (content_type ? content_type : "application/json") : NULL;
    req.body = b.data;
    req.body_len = b.len;
    req.timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    rv = http_request(c, &req, on_answer, r, NULL);
    orc_buf_free(&b);
    if (rv != 0) free(r);
    return rv;
}

/* A verb on a path built from the kind; the path lives only for the call. */
static int call_kind(http_client *c, const char *method, const struct orc_kind *k, const char *ns,
                     const char *name, const char *sub, const char *ctype, const json_t *body,
                     rest_cb cb, void *arg)
{
    struct orc_buf path = ORC_BUF_INIT;
    int rv;

    if (k == NULL) return ORC_EINVAL;
    if (k->namespaced && (ns == NULL || *ns == '\0')) ns = "default";
    rv = orc_kind_path(k, ns, name, sub, &path);
    if (rv == 0) rv = rest_call(c, method, path.data, ctype, body, 0, cb, arg);
    orc_buf_free(&path);
    return rv;
}

int rest_create(http_client *c, const struct orc_kind *k, const char *ns, const json_t *obj,
                rest_cb cb, void *arg)
{
    if (ns == NULL) ns = orc_json_str(obj, "metadata.namespace");
    return call_kind(c, "POST", k, ns, NULL, NULL, NULL, obj, cb, arg);
}

static int put_object(http_client *c, const struct orc_kind *k, const json_t *obj,
                      const char *sub, rest_cb cb, void *arg)
{
    const char *name = orc_json_str(obj, "metadata.name");

    if (name == NULL || *name == '\0') return ORC_EINVAL;
    return call_kind(c, "PUT", k, orc_json_str(obj, "metadata.namespace"), name, sub, NULL, obj,
                     cb, arg);
}

int rest_update(http_client *c, const struct orc_kind *k, const json_t *obj, rest_cb cb, void *arg)
{
    return put_object(c, k, obj, NULL, cb, arg);
}

int rest_update_status(http_client *c, const struct orc_kind *k, const json_t *obj, rest_cb cb,
                       void *arg)
{
    return put_object(c, k, obj, "status", cb, arg);
}

int rest_patch(http_client *c, const struct orc_kind *k, const char *ns, const char *name,
               const char *sub, const char *patch_type, const json_t *patch, rest_cb cb,
               void *arg)
{
    if (name == NULL || *name == '\0' || patch == NULL) return ORC_EINVAL;
    return call_kind(c, "PATCH", k, ns, name, sub,
                     patch_type ? patch_type : "application/merge-patch+json", patch, cb, arg);
}

/* The DeleteOptions body, or NULL when nothing is asked (the kind's
 * defaults). */
static int delete_options(const struct rest_delete_opts *o, json_t **out)
{
    json_t *b, *pre = NULL;
    int rv = 0;

    *out = NULL;
    if (o == NULL || (!o->uid && !o->resource_version && !o->propagation && o->grace_seconds < 0))
        return 0;
    b = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
    if (b == NULL) return ORC_ENOMEM;
    if (o->uid || o->resource_version) {
        pre = json_object();
        if (pre == NULL || json_object_set_new(b, "preconditions", pre) != 0) rv = ORC_ENOMEM;
        if (rv == 0 && o->uid && json_object_set_new(pre, "uid", json_string(o->uid)) != 0)
            rv = ORC_ENOMEM;
        if (rv == 0 && o->resource_version &&
            json_object_set_new(pre, "resourceVersion", json_string(o->resource_version)) != 0)
            rv = ORC_ENOMEM;
    }
    if (rv == 0 && o->propagation &&
        json_object_set_new(b, "propagationPolicy", json_string(o->propagation)) != 0)
        rv = ORC_ENOMEM;
    if (rv == 0 && o->grace_seconds >= 0 &&
        json_object_set_new(b, "gracePeriodSeconds", json_integer(o->grace_seconds)) != 0)
        rv = ORC_ENOMEM;
    if (rv != 0) {
        json_decref(b);
        return rv;
    }
    *out = b;
    return 0;
}

int rest_delete(http_client *c, const struct orc_kind *k, const char *ns, const char *name,
                const struct rest_delete_opts *opts, rest_cb cb, void *arg)
{
    json_t *body;
    int rv;

    if (name == NULL || *name == '\0') return ORC_EINVAL;
    if ((rv = delete_options(opts, &body)) != 0) return rv;
    rv = call_kind(c, "DELETE", k, ns, name, NULL, NULL, body, cb, arg);
    json_decref(body);
    return rv;
}

const char *rest_message(int status, const json_t *body)
{
    const char *msg = orc_json_str(body, "message");

    if (msg && *msg) return msg;
    if (status < 0) return orc_strerror(status);
    switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 409: return "conflict";
    case 410: return "gone";
    case 422: return "invalid";
    case 429: return "too many requests";
    case 500: return "internal server error";
    case 503: return "service unavailable";
    case 504: return "timeout";
    default: return status >= 200 && status < 300 ? "ok" : "unexpected status";
    }
}
