/* test_netbed_names.c — cluster DNS names on the two-node test bed, asked
 * from a pod as an application would: a StatefulSet behind its headless
 * Service resolves pod by pod (web-0.nginx.default.svc.cluster.local) and
 * as a whole (nginx: every ready pod's address); an ExternalName Service is
 * a CNAME; a node cut off the network has its pods marked not ready and
 * dropped from their Service's ready endpoints and names, and they come
 * back once it is healed. Root only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define API "/api/v1/namespaces/default"
static struct netbed B;
static const char *const SERVER_FLAGS[] = {"--node-monitor-grace-period", "3s", "--pod-eviction-timeout",
                                           "300s", NULL};

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&B.c, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

/* The pod's IP once it runs (the StatefulSet's pods are named web-N). */
static void ip_of(const char *pod, char *out, size_t n) { netbed_pod_ip(&B, pod, out, n); }

/* nslookup NAME in the client pod, through the API's exec, until its
 * output holds `want` (or, absent true, lacks it). */
static void lookup_until(const char *name, const char *want, bool present, unsigned limit_ms)
{
    char path[512];
    uint64_t end = test_now_ms() + limit_ms;
    snprintf(path, sizeof path,
             API "/pods/client/exec?command=sh&command=-c&command=nslookup%%20%s&stdout=true&stderr=true", name);
    for (;;) {
        int st;
        json_t *r = t_json(&B.c, 0, "POST", path, NULL, &st);
        struct orc_buf out = ORC_BUF_INIT;
        const char *b64 = orc_json_str(r, "stdout");
        if (b64) orc_base64_decode(b64, strlen(b64), false, &out);
        orc_buf_append(&out, "", 1);
        json_decref(r);
        bool has = st == 200 && strstr(out.data, want);
        if (has == present) {
            orc_buf_free(&out);
            return;
        }
        if (test_now_ms() > end)
            test_fail(__FILE__, __LINE__, "nslookup %s: \"%s\" %s (status %d):\n%s", name, want,
                      present ? "missing" : "still there", st, out.data);
        orc_buf_free(&out);
        test_sleep_ms(300);
    }
}

TEST_T(headless_statefulset_externalname_and_a_node_cut_off, 180)
{
    char ip0[32], ip1[32], body[4096];
    if (geteuid() != 0) {
        printf("# needs root: skipped\n");
        return;
    }
    netbed_up(&B);
    netbed_servers(&B, 1, SERVER_FLAGS);
    netbed_registry(&B);
    netbed_node_add(&B, NULL);
    netbed_node_add(&B, NULL);
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);

    /* the docs' StatefulSet shape: headless nginx, web-0 and web-1 spread
     * over the nodes (required anti-affinity) */
    post(API "/services", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"nginx\"},"
                          "\"spec\":{\"clusterIP\":\"None\",\"selector\":{\"app\":\"nginx\"},"
                          "\"ports\":[{\"name\":\"web\",\"port\":80}]}}");
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\"},\"spec\":{"
             "\"serviceName\":\"nginx\",\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"nginx\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"nginx\"}},\"spec\":{"
             "\"terminationGracePeriodSeconds\":1,\"affinity\":{\"podAntiAffinity\":{"
             "\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchLabels\":"
             "{\"app\":\"nginx\"}},\"topologyKey\":\"kubernetes.io/hostname\"}]}},"
             "\"containers\":[{\"name\":\"nginx\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
             "\"mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 80 -h /w\"],"
             "\"ports\":[{\"name\":\"web\",\"containerPort\":80}]}]}}}}",
             B.image);
    post("/apis/apps/v1/namespaces/default/statefulsets", body);
    post(API "/services", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"ext\"},"
                          "\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.org\"}}");
    ip_of("web-0", ip0, sizeof ip0);
    ip_of("web-1", ip1, sizeof ip1);
    int st;
    json_t *p = t_json(&B.c, 0, "GET", API "/pods/web-1", NULL, &st);
    int web1_node = strcmp(orc_json_str(p, "spec.nodeName") ?: "", B.node[1].name) == 0 ? 1 : 2;
    json_decref(p);
    /* the client asks from the node without web-1 */
    netbed_pod(&B, web1_node == 1 ? 2 : 1, "client", NULL, "sleep 3600", NULL);
    char cip[32];
    ip_of("client", cip, sizeof cip);

    lookup_until("web-0.nginx.default.svc.cluster.local", ip0, true, 30000);
    lookup_until("web-1.nginx.default.svc.cluster.local", ip1, true, 30000);
    lookup_until("nginx.default.svc.cluster.local", ip0, true, 30000);
    lookup_until("nginx.default.svc.cluster.local", ip1, true, 30000);
    lookup_until("ext.default.svc.cluster.local", "db.example.org", true, 30000);

    /* web-1's node cut off: Ready Unknown after the grace (3 s), its pod
     * not ready, out of the headless Service's answer; back when healed */
    netbed_cut(&B, web1_node);
    lookup_until("nginx.default.svc.cluster.local", ip1, false, 30000);
    lookup_until("nginx.default.svc.cluster.local", ip0, true, 5000);
    netbed_heal(&B, web1_node);
    lookup_until("nginx.default.svc.cluster.local", ip1, true, 60000);
}
