/* proxyfx.h — Services and EndpointSlices as JSON for the proxy's tests. */
#ifndef ORC_TEST_PROXYFX_H
#define ORC_TEST_PROXYFX_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "proxy/proxy.h"
#include "tests/harness/test.h"

static inline json_t *fx_js(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    CHECKF(v != NULL, "bad test JSON: %s (%s)", err.text, text);
    return v;
}

/* A Service: name, clusterIP, type, extra spec members (",\"k\":v" or ""),
 * ports JSON array text. */
static inline json_t *fx_svc(const char *name, const char *ip, const char *type, const char *extra,
                             const char *ports)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"namespace\":\"default\",\"name\":\"%s\"},\"spec\":{\"clusterIP\":\"%s\","
             "\"type\":\"%s\",\"selector\":{\"app\":\"%s\"},\"ports\":%s%s}}",
             name, ip, type, name, ports, extra);
    return fx_js(buf);
}

/* An endpoint: "{\"addresses\":[ip],\"nodeName\":node,\"conditions\":{…}}". */
static inline void fx_ep(char *out, size_t n, const char *ip, const char *node, const char *conds)
{
    snprintf(out, n, "{\"addresses\":[\"%s\"],\"nodeName\":\"%s\",\"conditions\":{%s}}", ip, node, conds);
}

/* The endpoints array text "[endpoint]" of one endpoint. */
static inline void fx_eps1(char *out, size_t n, const char *ip, const char *node, const char *conds)
{
    char ep[300];
    fx_ep(ep, sizeof ep, ip, node, conds);
    snprintf(out, n, "[%s]", ep);
}

/* A slice of service `svc`: ports JSON array text and endpoints (JSON text
 * of the array). */
static inline json_t *fx_slice(const char *svc, const char *suffix, const char *ports, const char *eps)
{
    char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"namespace\":\"default\",\"name\":\"%s-%s\",\"labels\":"
             "{\"kubernetes.io/service-name\":\"%s\"}},\"addressType\":\"IPv4\",\"ports\":%s,"
             "\"endpoints\":%s}",
             svc, suffix, svc, ports, eps);
    return fx_js(buf);
}

#endif
