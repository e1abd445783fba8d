/* base64.h — RFC 4648 base64, standard and URL-safe alphabets. */
#ifndef ORC_BASE64_H
#define ORC_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

int orc_base64_encode(const void *data, size_t len, bool url, struct orc_buf *out);
/* Decodes standard (url=false, padding required as Kubernetes does) or
 * URL-safe (padding optional); returns ORC_EINVAL on bad input. */
int orc_base64_decode(const char *text, size_t len, bool url, struct orc_buf *out);

#endif
