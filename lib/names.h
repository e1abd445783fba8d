/* names.h — Kubernetes name rules. Each check takes the len bytes at s (a
 * counted string: one decoded from JSON may hold NUL bytes, and a NUL is
 * refused like any other character outside the rule's set, never taken as
 * the end), returns 0 when valid, or ORC_EINVAL and writes Kubernetes'
 * wording of the rule into msg (n bytes), e.g. "a lowercase RFC 1123 label
 * must consist of lower case alphanumeric characters or '-', and must start
 * and end with an alphanumeric character". */
#ifndef ORC_NAMES_H
#define ORC_NAMES_H

#include <stddef.h>

typedef int (*orc_name_rule)(const char *s, size_t len, char *msg, size_t n);

int orc_dns1123_label(const char *s, size_t len, char *msg, size_t n);     /* <= 63, [a-z0-9-] */
int orc_dns1123_subdomain(const char *s, size_t len, char *msg, size_t n); /* <= 253, labels joined by '.' */
/* "*." and a subdomain (Ingress hosts), as IsWildcardDNS1123Subdomain. */
int orc_wildcard_dns1123_subdomain(const char *s, size_t len, char *msg, size_t n);
int orc_dns1035_label(const char *s, size_t len, char *msg, size_t n);     /* label starting with a letter (Service names) */
int orc_env_var_name(const char *s, size_t len, char *msg, size_t n);     /* [-._a-zA-Z][-._a-zA-Z0-9]* as Kubernetes allows */
int orc_config_key(const char *s, size_t len, char *msg, size_t n);        /* ConfigMap/Secret keys: [-._a-zA-Z0-9]+, <= 253 */
int orc_label_key(const char *s, size_t len, char *msg, size_t n);         /* [prefix/]name */
int orc_label_value(const char *s, size_t len, char *msg, size_t n);       /* <= 63, may be empty */
/* Kubernetes' path segment rule, which every name in a URL and a store key
 * obeys: not "." or "..", no '/' or '%'. */
int orc_path_segment(const char *s, size_t len, char *msg, size_t n);

/* "ns/name", the key objects are indexed by; malloc'd (the caller frees
 * it), NULL when out of memory. */
char *orc_ns_name_key(const char *ns, const char *name);

#endif
