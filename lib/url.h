/* url.h — percent-decoding of request paths and query strings, shared by
 * the API server and the node agent's port. */
#ifndef ORC_URL_H
#define ORC_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes s[0..len) into a new malloc'd string ('+' is a space when
 * `query`). NULL for a malformed escape, an encoded NUL, or no memory. */
char *orc_url_decode(const char *s, size_t len, bool query);

#endif
