/* lookupfx.h — for the pod spec and volume unit tests: JSON from text, and
 * a ConfigMap/Secret lookup over {"configmaps": {"ns/name": obj}, "secrets": {...}}. */
#ifndef ORC_TESTS_AGENT_LOOKUPFX_H
#define ORC_TESTS_AGENT_LOOKUPFX_H

#include <jansson.h>
#include <stdio.h>

#include "tests/harness/test.h"

static inline json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);

    CHECKF(v != NULL, "bad test JSON: %s: %s", e.text, text);
    return v;
}

static inline const json_t *store_get(void *arg, const char *kind, const char *ns, const char *name)
{
    char key[256];

    snprintf(key, sizeof key, "%s/%s", ns, name);
    return json_object_get(json_object_get(arg, kind), key);
}

#endif
