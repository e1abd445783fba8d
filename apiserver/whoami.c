/* whoami.c — authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth
 * whoami`): a request asking who it was authenticated as. Nothing is
 * stored; the answer is the request's user. */
#include <jansson.h>

#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/orc.h"

#define GV "authentication.k8s.io/v1"

static json_t *user_info(const struct api_user *u)
{
    json_t *groups = json_array(), *info = json_object();

    for (size_t i = 0; u && i < u->n_groups; i++) json_array_append_new(groups, json_string(u->groups[i]));
    json_object_set_new(info, "username", json_string(u ? u->name : ""));
    if (u && u->uid) json_object_set_new(info, "uid", json_string(u->uid));
    json_object_set_new(info, "groups", groups);
    return info;
}

void api_handle_self_review(struct api_server *s, struct orc_httpd_req *r)
{
    const struct api_user *u = api_req_user(r);
    json_t *review;

    (void)s;
    if (r->method != HTTP_POST) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    /* The body (a SelfSubjectReview with nothing in it) says nothing the
     * answer depends on. */
    review = json_pack("{s:s, s:s, s:{s:n}, s:{s:o}}", "kind", "SelfSubjectReview", "apiVersion", GV,
                       "metadata", "creationTimestamp", "status", "userInfo", user_info(u));
    if (review == NULL) {
        api_respond_error(r, ORC_ENOMEM, "SelfSubjectReview");
        return;
    }
    api_respond_json(r, 201, review);
    json_decref(review);
}
