/* test_invalid.c — bad input to a real orcd server: each case gets the
 * right status and a message naming what is wrong, nothing is stored, and
 * the server keeps serving (including after garbage, or plain HTTP, on its
 * TLS socket). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static void start_one(void)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
}

struct bad_case {
    const char *what;
    const char *method;
    const char *path;
    const char *ctype;
    const char *body;
    int want;
    const char *message_has; /* substring of the Status message */
};

#define DEP "/apis/apps/v1/namespaces/default/deployments"
#define DEP_OK_TPL(name, extra_spec, labels) \
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" name "\"}," \
    "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"a\"}}," extra_spec "\"template\":{\"metadata\":" \
    "{\"labels\":" labels "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}"

static const struct bad_case cases[] = {
    {"invalid name", "POST", DEP, NULL, DEP_OK_TPL("Bad_Name", "", "{\"app\":\"a\"}"), 422,
     "metadata.name"},
    {"selector does not match template", "POST", DEP, NULL, DEP_OK_TPL("d1", "", "{\"app\":\"b\"}"),
     422, "selector"},
    {"negative replicas", "POST", DEP, NULL, DEP_OK_TPL("d2", "\"replicas\":-1,", "{\"app\":\"a\"}"),
     422, "spec.replicas"},
    {"replicas of the wrong type", "POST", DEP, NULL,
     DEP_OK_TPL("d3", "\"replicas\":\"three\",", "{\"app\":\"a\"}"), 422, "spec.replicas"},
    {"bad quantity", "POST", "/api/v1/namespaces/default/pods", NULL,
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
     "[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"limits\":{\"memory\":\"12 parsecs\"}}}]}}",
     422, "resources.limits"},
    {"no containers", "POST", "/api/v1/namespaces/default/pods", NULL,
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{}}", 422,
     "spec.containers"},
    {"bad label value", "POST", "/api/v1/namespaces/default/configmaps", NULL,
     "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"not a valid value!\"}}}", 422,
     "metadata.labels"},
    {"missing name", "POST", "/api/v1/namespaces/default/configmaps", NULL, "{\"metadata\":{}}",
     422, "metadata.name"},
    {"unparsable JSON", "POST", "/api/v1/namespaces/default/configmaps", NULL, "{\"metadata\":",
     400, "not valid JSON"},
    {"unparsable YAML", "POST", "/api/v1/namespaces/default/configmaps", "application/yaml",
     "metadata: [unclosed", 400, "YAML"},
    {"body not an object", "POST", "/api/v1/namespaces/default/configmaps", NULL, "[1,2]", 400,
     "object"},
    {"wrong kind for the URL", "POST", "/api/v1/namespaces/default/configmaps", NULL,
     "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"}}", 400, "kind"},
    {"namespace mismatch", "POST", "/api/v1/namespaces/default/configmaps", NULL,
     "{\"metadata\":{\"name\":\"x\",\"namespace\":\"other\"}}", 400, "namespace"},
    {"missing namespace", "POST", "/api/v1/namespaces/nope/configmaps", NULL,
     "{\"metadata\":{\"name\":\"x\"}}", 404, "namespaces \"nope\" not found"},
    {"bad cron schedule", "POST", "/apis/batch/v1/namespaces/default/cronjobs", NULL,
     "{\"metadata\":{\"name\":\"cj\"},\"spec\":{\"schedule\":\"every tuesday\",\"jobTemplate\":"
     "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
     "\"image\":\"i\"}]}}}}}}",
     422, "spec.schedule"},
    {"unknown resource", "GET", "/api/v1/namespaces/default/widgets", NULL, NULL, 404, "not find"},
    {"bad labelSelector", "GET", "/api/v1/pods?labelSelector=a%20in%20(", NULL, NULL, 400,
     "labelSelector"},
    {"bad patch type", "PATCH", "/api/v1/namespaces/default", "text/plain", "{}", 415, "media type"},
};

static int stored_count(void)
{
    const char *kinds[] = {"/apis/apps/v1/deployments", "/api/v1/pods", "/api/v1/configmaps",
                           "/apis/batch/v1/cronjobs"};
    int n = 0;
    for (size_t i = 0; i < 4; i++) {
        int st;
        json_t *l = t_json(&c, 0, "GET", kinds[i], NULL, &st);
        CHECK_INT(st, ==, 200);
        n += (int)json_array_size(json_object_get(l, "items"));
        json_decref(l);
    }
    return n;
}

TEST(bad_input_is_refused_and_changes_nothing)
{
    start_one();
    long long rev = member_revision(&c, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *bc = &cases[i];
        char *resp = NULL;
        int st = t_http(&c, 0, bc->method, bc->path, bc->ctype, bc->body, &resp, NULL);
        json_t *s = resp ? json_loads(resp, 0, NULL) : NULL;
        const char *msg = s ? orc_json_str(s, "message") : NULL;
        CHECKF(st == bc->want, "%s: HTTP %d, want %d: %s", bc->what, st, bc->want, resp);
        CHECKF(s && strcmp(orc_json_str(s, "kind"), "Status") == 0, "%s: no Status: %s", bc->what, resp);
        CHECKF(msg && strstr(msg, bc->message_has), "%s: message \"%s\" lacks \"%s\"", bc->what,
               msg ? msg : "", bc->message_has);
        json_decref(s);
        free(resp);
    }
    CHECK_INT(stored_count(), ==, 0);
    CHECK_INT(member_revision(&c, 0), ==, rev);
}

TEST(body_over_3mib_is_413)
{
    start_one();
    size_t n = 4u << 20;
    char *big = malloc(n + 200);
    int len = snprintf(big, 200, "{\"metadata\":{\"name\":\"big\"},\"data\":{\"k\":\"");
    memset(big + len, 'x', n);
    strcpy(big + len + n, "\"}}");
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/namespaces/default/configmaps", NULL, big, NULL, NULL), ==, 413);
    free(big);
    CHECK_INT(stored_count(), ==, 0);
    CHECK_INT(t_http(&c, 0, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 200);
}

static int raw_connect(const struct member *m)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(6443);
    inet_pton(AF_INET, m->ip, &sa.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    /* A server that never closes fails the case instead of hanging it. */
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Everything the server sends until it closes the connection. */
static void read_to_eof(int fd, struct orc_buf *out)
{
    char buf[512];
    ssize_t n;

    while ((n = read(fd, buf, sizeof buf)) > 0) orc_buf_append(out, buf, (size_t)n);
}

TEST(garbage_on_the_socket_never_crashes)
{
#define J(s) {s, sizeof s - 1}
    static const struct {
        const char *data;
        size_t len;
    } junk[] = {
        J("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), /* a cut-off TLS hello */
        J("\x16\x03\x01\x00\x10" "garbage garbage!"),        /* a handshake record of nonsense */
        J("\x17\x03\x03\x00\x10" "AAAAAAAAAAAAAAAA"),         /* application data, no handshake */
        J("\x16\x03\x03\xff\xff"),                         /* a record longer than TLS allows */
        J("GET / HTTP/9.9\r\n\r\n"),
        J("POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        J("GET /api/v1/pods HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n"),
        J("\r\n\r\n\r\n\x00\x01\x02\xff\xfe"),
        J("GET /%zz%00/../ HTTP/1.1\r\nHost: x\r\n\r\n"),
    };
#undef J
    start_one();
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        struct orc_buf got = ORC_BUF_INIT;
        int fd = raw_connect(&c.m[0]);
        CHECK(write(fd, junk[i].data, junk[i].len) == (ssize_t)junk[i].len);
        shutdown(fd, SHUT_WR);
        read_to_eof(fd, &got);
        close(fd);
        orc_buf_free(&got);
    }
    /* Plain HTTP on the TLS port: a plain 400 saying so, then the close. */
    {
        static const char req[] = "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n\r\n";
        struct orc_buf got = ORC_BUF_INIT;
        int fd = raw_connect(&c.m[0]);
        CHECK(write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1));
        read_to_eof(fd, &got);
        close(fd);
        CHECKF(got.data && strncmp(got.data, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "%s",
               got.data ? got.data : "(nothing)");
        CHECK(strstr(got.data, "Client sent an HTTP request to an HTTPS server.") != NULL);
        orc_buf_free(&got);
    }
    /* Thousands of random bytes, too. */
    int fd = raw_connect(&c.m[0]);
    unsigned seed = 7;
    for (int i = 0; i < 200; i++) {
        char b[64];
        for (size_t j = 0; j < sizeof b; j++) b[j] = (char)rand_r(&seed);
        if (write(fd, b, sizeof b) < 0) break;
    }
    close(fd);
    CHECK_INT(t_http(&c, 0, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(stored_count(), ==, 0);
    member_stop(&c, 0);
}
