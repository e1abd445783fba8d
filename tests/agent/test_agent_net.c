/* test_agent_net.c — pods on the network as Kubernetes users expect on one
 * node: each pod its own IP (three replicas all listen on port 80),
 * reachable from the node; hostNetwork pods use the node's address; a
 * hostPort already taken is reported, not ignored. Also registry
 * credentials from imagePullSecrets, and a command that does not exist. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/base64.h"
#include "tests/agent/agentfx.h"

/* GET / from ip:port on the node; the body (malloc'd) or NULL. */
static char *http_get(const char *ip, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {2, 0};
    char buf[4096];
    size_t n = 0;
    ssize_t got;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
        if (fd >= 0) close(fd);
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return NULL;
    }
    const char *req = "GET /index.html HTTP/1.0\r\n\r\n";
    if (write(fd, req, strlen(req)) < 0) n = 0;
    while (n < sizeof buf - 1 && (got = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)got;
    close(fd);
    buf[n] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    return body ? strdup(body + 4) : NULL;
}

static void web_pod(const char *name, const char *extra)
{
    char spec[2048];
    snprintf(spec, sizeof spec,
             "{%s\"containers\":[{\"name\":\"web\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
             "\"mkdir -p /www; echo %s > /www/index.html; httpd -f -p 80 -h /www\"],"
             "\"ports\":[{\"containerPort\":80}],"
             "\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"periodSeconds\":1}}]}",
             extra, F.image, name);
    afx_pod(name, spec);
}

static bool ready(const json_t *pod, void *arg)
{
    (void)arg;
    return json_is_true(orc_json_get(afx_cs(pod, 0), "ready"));
}

TEST_T(replicas_each_listen_on_port_80_of_their_own_ip, 120)
{
    static const char *const names[] = {"web-a", "web-b", "web-c"};
    char ips[3][64];

    afx_setup();
    for (int i = 0; i < 3; i++) web_pod(names[i], "");
    for (int i = 0; i < 3; i++) {
        json_t *p = afx_wait_pod(names[i], ready, NULL, 30000, "ready");
        snprintf(ips[i], sizeof ips[i], "%s", orc_json_str(p, "status.podIP") ?: "");
        json_decref(p);
    }
    CHECK(strcmp(ips[0], ips[1]) != 0 && strcmp(ips[1], ips[2]) != 0 && strcmp(ips[0], ips[2]) != 0);
    for (int i = 0; i < 3; i++) {
        char *body = http_get(ips[i], 80), want[32];
        snprintf(want, sizeof want, "%s\n", names[i]);
        CHECKF(body && strcmp(body, want) == 0, "GET %s:80 gave %s", ips[i], body ? body : "(nothing)");
        free(body);
    }
}

static bool waiting_msg_has(const json_t *pod, void *arg)
{
    const char *m = orc_json_str(afx_cs(pod, 0), "state.waiting.message");
    return m && strstr(m, (const char *)arg);
}

TEST_T(host_network_and_host_port_conflicts, 120)
{
    char spec[2048];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"hostNetwork\":true,\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"true\"]}]}", F.image);
    afx_pod("hostnet", spec);
    p = afx_wait_phase("hostnet", "Succeeded", 30000);
    CHECK_STR(orc_json_str(p, "status.podIP"), A.ip);
    json_decref(p);
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"1000\"],"
             "\"ports\":[{\"containerPort\":80,\"hostPort\":18080}]}]}", F.image);
    afx_pod("hp1", spec);
    json_decref(afx_wait_phase("hp1", "Running", 30000));
    afx_pod("hp2", spec);
    p = afx_wait_pod("hp2", waiting_msg_has, "18080", 30000, "a hostPort conflict reported");
    CHECK_STR(orc_json_str(p, "status.phase"), "Pending");
    json_decref(p);
}

static bool waiting_is(const json_t *pod, void *arg)
{
    const char *r = orc_json_str(afx_cs(pod, 0), "state.waiting.reason");
    return r && strcmp(r, (const char *)arg) == 0;
}

TEST_T(image_pull_secrets_and_a_missing_command, 180)
{
    static struct registry priv;
    char spec[2048], cfg[512], body[2048];
    struct orc_buf b64 = ORC_BUF_INIT;
    json_t *p;

    afx_setup();
    registry_start(&priv, true);
    registry_push_busybox(&priv, "orc/private:1");
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s/orc/private:1\",\"command\":[\"sleep\",\"1000\"]}]}",
             priv.host);
    afx_pod("nosecret", spec);
    json_decref(afx_wait_pod("nosecret", waiting_is, "ErrImagePull", 30000, "ErrImagePull without credentials"));
    snprintf(cfg, sizeof cfg, "{\"auths\":{\"%s\":{\"username\":\"%s\",\"password\":\"%s\"}}}", priv.host,
             priv.user, priv.password);
    CHECK_INT(orc_base64_encode(cfg, strlen(cfg), false, &b64), ==, 0);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"regcred\"},"
             "\"type\":\"kubernetes.io/dockerconfigjson\",\"data\":{\".dockerconfigjson\":\"%s\"}}", b64.data);
    orc_buf_free(&b64);
    afx_create("/api/v1/namespaces/default/secrets", body);
    snprintf(spec, sizeof spec,
             "{\"imagePullSecrets\":[{\"name\":\"regcred\"}],\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s/orc/private:1\",\"command\":[\"sleep\",\"1000\"]}]}", priv.host);
    afx_pod("withsecret", spec);
    json_decref(afx_wait_phase("withsecret", "Running", 30000));
    /* a command that does not exist */
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"/no/such/cmd\"]}]}", F.image);
    afx_pod("badcmd", spec);
    p = afx_wait_pod("badcmd", waiting_msg_has, "/no/such/cmd", 30000, "the start error shown");
    const char *r = orc_json_str(afx_cs(p, 0), "state.waiting.reason");
    CHECKF(r && (!strcmp(r, "RunContainerError") || !strcmp(r, "CreateContainerError")), "reason %s", r);
    json_decref(p);
}

static char mirror_yaml[700];

static void write_mirror_config(void)
{
    char yaml[1024];

    registry_push_busybox(&F.reg, "library/busybox:1.36");
    snprintf(yaml, sizeof yaml, "mirrors:\n  docker.io:\n    endpoint:\n      - \"%s\"\n", F.reg.url);
    CHECK_INT(orc_file_write(mirror_yaml, yaml, strlen(yaml), 0600), ==, 0);
}

/* An air-gapped node: docker.io names come from a mirror in registries.yaml. */
TEST_T(registries_yaml_mirror_serves_docker_io_names, 120)
{
    static const char *flags[] = {"--registries", mirror_yaml, NULL};
    json_t *p;

    snprintf(mirror_yaml, sizeof mirror_yaml, "%s/registries.yaml", test_tmpdir());
    afx_setup_full(flags, write_mirror_config);
    afx_pod("mirrored", "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                        "\"image\":\"busybox:1.36\",\"command\":[\"echo\",\"from the mirror\"]}]}");
    p = afx_wait_phase("mirrored", "Succeeded", 30000);
    CHECK(strncmp(orc_json_str(afx_cs(p, 0), "imageID") ?: "", "docker.io/library/busybox:1.36@sha256:", 38) == 0);
    json_decref(p);
}
