/* rest.h — JSON calls to the API for any component on a loop (agent,
 * scheduler, controllers): one request on a shared http_client, the answer
 * parsed for the caller; paths built from lib/kinds. Generalises what
 * agent/api.c did for the agent alone.
 *
 * Single-threaded, on the client's loop. A callback is never called when the
 * function that took it returned an error. */
#ifndef ORC_CLIENT_REST_H
#define ORC_CLIENT_REST_H

#include <jansson.h>

#include "client/http.h"
#include "lib/kinds.h"

/* status: the HTTP status (200, 201, 404, 409, 422 ...) when an answer came,
 * else a negative ORC_E* from http_request (ORC_ETIMEDOUT, ORC_EUNAVAIL,
 * ORC_EIO, ORC_ECANCELED ...). body: the parsed answer (an object or a
 * Status), NULL when none or not JSON; borrowed for the call (json_incref to
 * keep it). */
typedef void (*rest_cb)(void *arg, int status, const json_t *body);

/* One call. body (may be NULL) is serialized before return (borrowed);
 * content_type NULL means application/json when there is a body. timeout_ms
 * 0 means 15 s. 0, ORC_ENOMEM, or the error of http_request. */
int rest_call(http_client *c, const char *method, const char *path, const char *content_type,
              const json_t *body, unsigned timeout_ms, rest_cb cb, void *arg);

/* Object verbs on a kind (lib/kinds). ns is ignored for cluster-scoped kinds.
 * create: POST to the collection (obj may carry metadata.generateName).
 * update: PUT of obj, whose metadata.resourceVersion is the precondition.
 * update_status: PUT to .../status.
 * patch: PATCH with `patch_type` ("application/merge-patch+json",
 *   "application/strategic-merge-patch+json", "application/json-patch+json").
 * delete: DELETE with a DeleteOptions body built from the arguments:
 *   uid / resource_version (preconditions; NULL for none), propagation
 *   ("Background", "Foreground", "Orphan", or NULL for the kind's default),
 *   grace_seconds (< 0 for the object's default). */
int rest_create(http_client *c, const struct orc_kind *k, const char *ns, const json_t *obj,
                rest_cb cb, void *arg);
int rest_update(http_client *c, const struct orc_kind *k, const json_t *obj, rest_cb cb, void *arg);
int rest_update_status(http_client *c, const struct orc_kind *k, const json_t *obj, rest_cb cb,
                       void *arg);
int rest_patch(http_client *c, const struct orc_kind *k, const char *ns, const char *name,
               const char *sub, const char *patch_type, const json_t *patch, rest_cb cb,
               void *arg);
struct rest_delete_opts {
    const char *uid;
    const char *resource_version;
    const char *propagation;
    long grace_seconds; /* < 0: default */
};
int rest_delete(http_client *c, const struct orc_kind *k, const char *ns, const char *name,
                const struct rest_delete_opts *opts, rest_cb cb, void *arg);

/* The message of a Status body ("pods \"x\" already exists"), or a short
 * description of status when there is none. Borrowed from body or static. */
const char *rest_message(int status, const json_t *body);

#endif
