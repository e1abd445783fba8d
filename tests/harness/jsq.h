/* jsq.h — JSON literals for tests written with single quotes
 * ("{'a':1}"), so they need no escaping in C strings. */
#ifndef ORC_TEST_HARNESS_JSQ_H
#define ORC_TEST_HARNESS_JSQ_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/test.h"

/* The value of `text` with every ' read as "; the test fails on bad JSON.
 * A new reference. */
static inline json_t *js(const char *text)
{
    char *s = strdup(text);
    json_error_t err;
    if (!s) test_fail(__FILE__, __LINE__, "out of memory");
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    json_t *v = json_loads(s, 0, &err);
    if (!v) test_fail(__FILE__, __LINE__, "bad JSON %s: %s", text, err.text);
    free(s);
    return v;
}

#endif
