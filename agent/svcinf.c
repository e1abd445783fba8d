/* svcinf.c — the node's informers on Services and EndpointSlices, started
 * once and shared by what serves them on the node (cluster DNS, the service
 * proxy, the ingress proxy): each adds its own handlers. */
#include "agent/agent_int.h"
#include "lib/log.h"
#include "lib/orc.h"

int agent_service_informers(struct agent *a)
{
    struct informer_config sc = {.path = "/api/v1/services"};
    struct informer_config ec = {.path = "/apis/discovery.k8s.io/v1/endpointslices"};
    int rc = 0;

    if (a->services && a->slices) return 0;
    if (!a->services && (rc = informer_start(a->loop, a->api, &sc, NULL, NULL, &a->services)) != 0) goto fail;
    if (!a->slices && (rc = informer_start(a->loop, a->api, &ec, NULL, NULL, &a->slices)) != 0) goto fail;
    informer_set_transform(a->services, informer_strip_unused);
    informer_set_transform(a->slices, informer_strip_unused);
    /* containers' Service variables are per namespace */
    if ((rc = informer_add_index(a->services, "namespace", informer_index_namespace)) != 0) goto fail;
    return 0;
fail:
    log_error(AGENT_LOG, "cannot watch Services and EndpointSlices: %s", orc_strerror(rc));
    return rc;
}

void agent_service_informers_stop(struct agent *a)
{
    if (a->services) informer_stop(a->services);
    if (a->slices) informer_stop(a->slices);
    a->services = a->slices = NULL;
}
