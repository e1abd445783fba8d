/* pullsecret.h — registry credentials for a pod's image from its
 * imagePullSecrets (.dockerconfigjson), as the kubelet finds them. */
#ifndef ORC_AGENT_PULLSECRET_H
#define ORC_AGENT_PULLSECRET_H

#include <jansson.h>

#include "agent/podspec.h"

/* The username and password the first matching secret holds for the
 * image's registry host (docker.io for short names): *user and *pass are
 * malloc'd (free with pull_auth_free). ORC_ENOENT when none matches. */
int pull_auth_find(const json_t *pod, const char *image, const struct podspec_lookup *lk,
                   char **user, char **pass);
/* Frees (and wipes the password). NULLs are fine. */
void pull_auth_free(char *user, char *pass);

#endif
