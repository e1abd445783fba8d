/* url.h — percent-encoding and -decoding of request paths and query
 * strings, shared by the API server, the node agent's port and the
 * clients (orctl, the controllers). */
#ifndef ORC_URL_H
#define ORC_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Decodes s[0..len) into a new malloc'd string ('+' is a space when
 * `query`). NULL for a malformed escape, an encoded NUL, or no memory. */
char *orc_url_decode(const char *s, size_t len, bool query);

/* Appends s percent-encoded (all but RFC 3986's unreserved characters) to
 * out, so "a b", "app in (x,y)" or a stray '?' stay one value; out stays
 * NUL-terminated. 0, ORC_ENOMEM. */
int orc_url_escape(const char *s, struct orc_buf *out);

#endif
