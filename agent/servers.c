/* servers.c — every API server of the cluster, so the agent fails over
 * when the one it uses dies: read from the endpoints of default/kubernetes
 * (the members' addresses, apiserver/kubesvc.c; how k3s's agent load
 * balancer learns its servers) every 10 s, and handed to the API client
 * (http_client_set_servers), which moves to the next one when a
 * connection cannot be made. */
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "client/http.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define SERVERS_EVERY_MS 10000
#define SERVERS_MAX 16

/* The port of the subset's "https" port, else its first. */
static long subset_port(const json_t *subset)
{
    const json_t *ports = json_object_get(subset, "ports"), *p;
    size_t i;
    long first = 0;

    json_array_foreach(ports, i, p) {
        long port = (long)json_integer_value(json_object_get(p, "port"));
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name && strcmp(name, "https") == 0) return port;
        if (first == 0) first = port;
    }
    return first;
}

/* "https://IP:PORT" of every address; returns how many. */
static size_t server_urls(const json_t *ep, char urls[][80], size_t max)
{
    const json_t *subsets = json_object_get(ep, "subsets"), *ss, *addr;
    size_t i, j, n = 0;

    json_array_foreach(subsets, i, ss) {
        long port = subset_port(ss);
        json_array_foreach(json_object_get(ss, "addresses"), j, addr) {
            const char *ip = json_string_value(json_object_get(addr, "ip"));
            if (ip && port > 0 && port < 65536 && n < max)
                snprintf(urls[n++], 80, strchr(ip, ':') ? "https://[%s]:%ld" : "https://%s:%ld",
                         ip, port);
        }
    }
    return n;
}

static void on_endpoints(void *arg, int status, const json_t *ep)
{
    struct agent *a = arg;
    char urls[SERVERS_MAX][80], list[SERVERS_MAX * 82] = "";
    const char *v[SERVERS_MAX];
    size_t n;

    a->servers_busy = false;
    if (status != 200 || a->stopping || a->api == NULL) return;
    n = server_urls(ep, urls, SERVERS_MAX);
    for (size_t i = 0; i < n; i++) {
        v[i] = urls[i];
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "", urls[i]);
    }
    if (n == 0 || strcmp(list, a->servers_seen) == 0) return;
    if (http_client_set_servers(a->api, v, n) != 0) {
        log_warn("agent", "the API servers in default/kubernetes are unusable: %s", list);
        return;
    }
    snprintf(a->servers_seen, sizeof a->servers_seen, "%s", list);
    agent_objwatch_servers(a);
    if (n > 1)
        log_info("agent", "API servers to fail over to: %s (using %s)", list,
                 http_client_server(a->api));
}

void agent_servers_refresh(struct agent *a)
{
    uint64_t now = orc_time_mono_ms();

    if (a->api_hook || a->servers_busy || a->stopping || now < a->next_servers_ms) return;
    a->next_servers_ms = now + SERVERS_EVERY_MS;
    a->servers_busy = agent_api_call(a, "GET", "/api/v1/namespaces/default/endpoints/kubernetes",
                                     NULL, NULL, on_endpoints, a) == 0;
}
