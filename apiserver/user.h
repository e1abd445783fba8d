/* user.h — who made an API request: what authentication found (authn.c)
 * and what authorization reads. */
#ifndef ORC_APISERVER_USER_H
#define ORC_APISERVER_USER_H

#include <stdbool.h>
#include <stddef.h>

struct orc_httpd_req;

/* Kubernetes' user.Info. Every string is owned by the struct. */
struct api_user {
    char *name;    /* "system:admin", "system:node:n1", "system:serviceaccount:ns:sa", "alice" */
    char *uid;     /* NULL when the identity has none */
    char **groups; /* n_groups strings; "system:authenticated" included */
    size_t n_groups;
};

/* A user named `name` in `groups` (NULL-terminated, may be NULL), to which
 * "system:authenticated" is added unless present. NULL when out of memory. */
struct api_user *api_user_new(const char *name, const char *const *groups);
void api_user_free(struct api_user *u);
/* A copy of u (uid too); NULL when out of memory. */
struct api_user *api_user_dup(const struct api_user *u);
bool api_user_in_group(const struct api_user *u, const char *group);

/* The request's user (set by authentication); NULL for an unauthenticated
 * request. Owned by the request. */
const struct api_user *api_req_user(const struct orc_httpd_req *r);

/* Hands `u` to the request (freed with it); replaces any earlier user. */
void api_req_set_user(struct orc_httpd_req *r, struct api_user *u);

#endif
