/* print_networking.c — `orctl get` rows for Ingresses and IngressClasses,
 * with kubectl's columns. */
#include "cli/print_int.h"

#include <string.h>

#include "lib/json.h"

/* Rule hosts, "*" for a rule without one (kubectl's HOSTS). */
static int ingress_hosts(const json_t *rules, struct orc_buf *out)
{
    const json_t *r;
    size_t i;
    int rv = orc_buf_puts(out, "");
    json_array_foreach(rules, i, r) {
        const char *h = orc_json_str(r, "host");
        if (rv == 0) rv = orc_buf_printf(out, "%s%s", i ? "," : "", h && h[0] ? h : "*");
    }
    if (rv == 0 && json_array_size(rules) == 0) rv = orc_buf_puts(out, "*");
    return rv;
}

static int lb_addresses(const json_t *lb, struct orc_buf *out)
{
    const json_t *e;
    size_t i;
    int rv = orc_buf_puts(out, "");
    json_array_foreach(lb, i, e) {
        const char *a = orc_json_str(e, "ip");
        if (!a) a = orc_json_str(e, "hostname");
        if (rv == 0) rv = orc_buf_printf(out, "%s%s", i ? "," : "", a ? a : "");
    }
    return rv;
}

void cli__ingress_row(struct row *r, const json_t *ing, unsigned flags, int64_t now)
{
    (void)flags;
    cli__cell_str(r, orc_json_str(ing, "spec.ingressClassName"), "<none>");
    cli__cell_buf(r, ingress_hosts, orc_json_get(ing, "spec.rules"));
    cli__cell_buf(r, lb_addresses, orc_json_get(ing, "status.loadBalancer.ingress"));
    cli__cell_str(r, json_array_size(orc_json_get(ing, "spec.tls")) ? "80, 443" : "80", "");
    cli__cell_age(r, ing, now);
}

void cli__ingressclass_row(struct row *r, const json_t *ic, unsigned flags, int64_t now)
{
    const char *kind = orc_json_str(ic, "spec.parameters.kind");
    (void)flags;
    cli__cell_str(r, orc_json_str(ic, "spec.controller"), "");
    if (kind) cli__cell(r, "%s/%s", kind, orc_json_str(ic, "spec.parameters.name") ?: "");
    else cli__cell_str(r, NULL, "<none>");
    cli__cell_age(r, ic, now);
}
