/* netbed_pods.c — pods on the test bed's nodes, as the bed's tests make
 * and watch them: created through the API (namespace default unless
 * named), bound to a node by name, running `sh -c CMD` in the test image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"

void netbed_pod(struct netbed *b, int node, const char *name, const char *labels, const char *cmd,
                const char *ct_extra)
{
    netbed_pod_in(b, "default", node, name, labels, cmd, ct_extra);
}

void netbed_pod_in(struct netbed *b, const char *ns, int node, const char *name, const char *labels,
                   const char *cmd, const char *ct_extra)
{
    char body[8192], path[256], *resp = NULL;
    int st;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{"
             "\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"]%s}]}}",
             name, labels ? labels : "{}", b->node[node].name, b->image, cmd, ct_extra ? ct_extra : "");
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", ns);
    st = t_http(&b->c, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST pod %s/%s: %d %s", ns, name, st, resp ? resp : "");
    free(resp);
}

void netbed_pod_ip(struct netbed *b, const char *name, char *out, size_t n)
{
    netbed_pod_ip_in(b, "default", name, out, n);
}

void netbed_pod_ip_in(struct netbed *b, const char *ns, const char *name, char *out, size_t n)
{
    char path[256];
    uint64_t end = test_now_ms() + 60000;
    int st;

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", ns, name);
    for (;;) {
        json_t *p = t_json(&b->c, 0, "GET", path, NULL, &st);
        const char *phase = orc_json_str(p, "status.phase"), *ip = orc_json_str(p, "status.podIP");
        if (phase && strcmp(phase, "Running") == 0 && ip && *ip) {
            snprintf(out, n, "%s", ip);
            json_decref(p);
            return;
        }
        if (test_now_ms() >= end) {
            char *s = orc_json_dumps(orc_json_get(p, "status"));
            test_fail(__FILE__, __LINE__, "pod %s/%s not running: %s (logs %s, %s)", ns, name, s ? s : "-",
                      b->node[1].log, b->node[2].log);
        }
        json_decref(p);
        test_sleep_ms(100);
    }
}

char *netbed_pod_log(struct netbed *b, const char *name, const char *want, int lines, unsigned limit_ms)
{
    char path[256], *resp = NULL;
    uint64_t end = test_now_ms() + limit_ms;

    snprintf(path, sizeof path, PODS "/%s/log", name);
    for (;;) {
        int n = 0;
        free(resp);
        resp = NULL;
        if (t_http(&b->c, 0, "GET", path, NULL, NULL, &resp, NULL) == 200 && resp) {
            for (const char *p = resp; (p = strchr(p, '\n')) != NULL; p++) n++;
            if (want ? strstr(resp, want) != NULL : n >= lines) return resp;
        }
        CHECKF(test_now_ms() < end, "pod %s: no %s%s in its log in %u ms (%d lines): %s", name,
               want ? "\"" : "", want ? want : "enough lines", limit_ms, n, resp ? resp : "");
        test_sleep_ms(200);
    }
}
