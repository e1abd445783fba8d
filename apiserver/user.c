/* user.c — the identity of an API request, as authentication found it. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/user.h"
#include "lib/httpd.h"

#define AUTHENTICATED "system:authenticated"

static int add_group(struct api_user *u, const char *g)
{
    char **gs = realloc(u->groups, (u->n_groups + 1) * sizeof *gs);

    if (gs == NULL) return -1;
    u->groups = gs;
    if ((gs[u->n_groups] = strdup(g)) == NULL) return -1;
    u->n_groups++;
    return 0;
}

struct api_user *api_user_new(const char *name, const char *const *groups)
{
    struct api_user *u = calloc(1, sizeof *u);

    if (u == NULL || (u->name = strdup(name)) == NULL) goto fail;
    for (size_t i = 0; groups && groups[i]; i++)
        if (add_group(u, groups[i]) != 0) goto fail;
    if (!api_user_in_group(u, AUTHENTICATED) && add_group(u, AUTHENTICATED) != 0) goto fail;
    return u;
fail:
    api_user_free(u);
    return NULL;
}

void api_user_free(struct api_user *u)
{
    if (u == NULL) return;
    for (size_t i = 0; i < u->n_groups; i++) free(u->groups[i]);
    free(u->groups);
    free(u->name);
    free(u->uid);
    free(u);
}

struct api_user *api_user_dup(const struct api_user *u)
{
    struct api_user *c = api_user_new(u->name, NULL);

    for (size_t i = 0; c && i < u->n_groups; i++)
        if (!api_user_in_group(c, u->groups[i]) && add_group(c, u->groups[i]) != 0) goto fail;
    if (c && u->uid && !(c->uid = strdup(u->uid))) goto fail;
    return c;
fail:
    api_user_free(c);
    return NULL;
}

bool api_user_in_group(const struct api_user *u, const char *group)
{
    for (size_t i = 0; u && i < u->n_groups; i++)
        if (strcmp(u->groups[i], group) == 0) return true;
    return false;
}

static void user_free(void *u)
{
    api_user_free(u);
}

const struct api_user *api_req_user(const struct orc_httpd_req *r)
{
    return r->user_free == user_free ? r->user : NULL;
}

void api_req_set_user(struct orc_httpd_req *r, struct api_user *u)
{
    if (r->user_free) r->user_free(r->user);
    r->user = u;
    r->user_free = u ? user_free : NULL;
}
