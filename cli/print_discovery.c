/* print_discovery.c — `orctl get` rows for Endpoints and EndpointSlices,
 * in kubectl's columns (at most three addresses, then "+ N more..."). */
#include <string.h>

#include "cli/print.h"
#include "cli/print_int.h"
#include "lib/json.h"
#include "lib/orc.h"

#define SHOWN 3

static int more(struct orc_buf *out, size_t shown, size_t total)
{
    if (total == 0) return orc_buf_puts(out, "<none>");
    if (total > shown) return orc_buf_printf(out, " + %zu more...", total - shown);
    return 0;
}

/* "10.42.0.5:8080,10.42.0.6:8080" over every subset's ready addresses. */
static int endpoints_list(const json_t *subsets, struct orc_buf *out)
{
    const json_t *ss, *a, *p;
    size_t i, j, k, total = 0, shown = 0;
    int rv = orc_buf_puts(out, "");
    json_array_foreach(subsets, i, ss) {
        const json_t *ports = json_object_get(ss, "ports");
        json_array_foreach(json_object_get(ss, "addresses"), j, a) {
            size_t np = json_array_size(ports) ? json_array_size(ports) : 1;
            for (k = 0; k < np; k++, total++) {
                if (shown == SHOWN || rv != 0) continue;
                p = json_array_get(ports, k);
                const char *ip = orc_json_str(a, "ip");
                if (p) rv = orc_buf_printf(out, "%s%s:%lld", shown ? "," : "", ip ? ip : "",
                                           (long long)cli__num(p, "port", 0));
                else rv = orc_buf_printf(out, "%s%s", shown ? "," : "", ip ? ip : "");
                shown++;
            }
        }
    }
    return rv ? rv : more(out, shown, total);
}

void cli__endpoints_row(struct row *r, const json_t *ep, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_buf(r, endpoints_list, json_object_get(ep, "subsets"));
    cli__cell_age(r, ep, now);
}

static int slice_ports(const json_t *ports, struct orc_buf *out)
{
    const json_t *p;
    size_t i;
    int rv = orc_buf_puts(out, "");
    if (json_array_size(ports) == 0) return orc_buf_puts(out, "<unset>");
    json_array_foreach(ports, i, p)
        if (rv == 0) rv = orc_buf_printf(out, "%s%lld", i ? "," : "", (long long)cli__num(p, "port", 0));
    return rv;
}

static int slice_endpoints(const json_t *eps, struct orc_buf *out)
{
    const json_t *e, *a;
    size_t i, j, total = 0, shown = 0;
    int rv = orc_buf_puts(out, "");
    json_array_foreach(eps, i, e) {
        json_array_foreach(json_object_get(e, "addresses"), j, a) {
            total++;
            if (shown < SHOWN && rv == 0)
                rv = orc_buf_printf(out, "%s%s", shown++ ? "," : "", json_string_value(a) ?: "");
        }
    }
    return rv ? rv : more(out, shown, total);
}

void cli__endpointslice_row(struct row *r, const json_t *s, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_str(r, orc_json_str(s, "addressType"), "");
    cli__cell_buf(r, slice_ports, json_object_get(s, "ports"));
    cli__cell_buf(r, slice_endpoints, json_object_get(s, "endpoints"));
    cli__cell_age(r, s, now);
}
