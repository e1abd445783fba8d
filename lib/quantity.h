/* quantity.h — Kubernetes resource quantities: "500m", "2", "1.5", "128Mi",
 * "1G", "1e3", "0.1". Suffixes: m (milli), k M G T P E (decimal),
 * Ki Mi Gi Ti Pi Ei (binary), and decimal exponents e/E. */
#ifndef ORC_QUANTITY_H
#define ORC_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

/* Parses into thousandths of the unit ("500m" -> 500, "2" -> 2000,
 * "1Ki" -> 1024000), rounding fractions of a milli up as Kubernetes does.
 * ORC_EINVAL for bad syntax, negative values or values beyond int64. */
int orc_quantity_parse(const char *s, int64_t *milli);

/* Canonical short text for a milli value, as kubectl shows cpu and memory:
 * cpu-like (binary=0): "500m", "2"; memory-like (binary=1): "128Mi", "1Gi",
 * falling back to plain digits. */
void orc_quantity_format(int64_t milli, int binary, char *out, size_t n);

#endif
