/* test_secret_leaks.c — Secrets and tokens never appear in logs, events or
 * error messages: bad Secret writes of every shape (validation, type
 * errors, immutability, JSON/merge/strategic/apply patches) answer without
 * repeating the values they carried; a pod that uses a Secret in its
 * environment and as a volume (and one that fails with it, and one that
 * names a missing key) leaves no value in the member's and its agent's log
 * nor in Events; joins (a good one, one with a wrong token) and a client
 * with a wrong token leave no token in any log or message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "tests/e2e/wlfx.h"

#define VAL "leakcheck-Pw9Xr2QdZ7"
#define VAL2 "leakcheck-Other-Mn4Tb8"

static char *b64(const char *s)
{
    struct orc_buf b = ORC_BUF_INIT;
    CHECK(orc_base64_encode(s, strlen(s), false, &b) == 0);
    return orc_buf_steal(&b, NULL);
}

/* No `needle` in file `path`. */
static void file_lacks(const char *path, const char *needle)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_file_read(path, 256u << 20, &b) != 0) return;
    CHECKF(b.len == 0 || memmem(b.data, b.len, needle, strlen(needle)) == NULL,
           "\"%s\" in %s", needle, path);
    orc_buf_free(&b);
}

static void text_lacks_secret(const char *what, const char *text)
{
    char *enc = b64(VAL), *enc2 = b64(VAL2);

    CHECKF(text == NULL || strstr(text, VAL) == NULL, "%s repeats the value:\n%s", what, text);
    CHECKF(text == NULL || strstr(text, enc) == NULL, "%s repeats the base64 value:\n%s", what,
           text);
    CHECKF(text == NULL || strstr(text, VAL2) == NULL, "%s repeats the value:\n%s", what, text);
    CHECKF(text == NULL || strstr(text, enc2) == NULL, "%s repeats the base64 value:\n%s", what,
           text);
    free(enc);
    free(enc2);
}

/* A write that must fail, and whose answer must not repeat the values. */
static void bad_write(struct cluster *c, const char *method, const char *path, const char *ctype,
                      const char *body)
{
    char *resp = NULL;
    int st = t_http(c, 0, method, path, ctype, body, &resp, NULL);

    CHECKF(st >= 400, "%s %s %s: HTTP %d, want a failure: %s", method, path, body, st,
           resp ? resp : "");
    text_lacks_secret(body, resp);
    free(resp);
}

#define SECRETS "/api/v1/namespaces/default/secrets"
#define APP SECRETS "/app"
#define HEAD "\"apiVersion\":\"v1\",\"kind\":\"Secret\""

static void drive_bad_secret_writes(struct cluster *c)
{
    char body[1024], *enc = b64(VAL), *enc2 = b64(VAL2);
    int st;

    snprintf(body, sizeof body,
             "{" HEAD ",\"metadata\":{\"name\":\"app\"},\"data\":{\"password\":\"%s\"}}", enc2);
    st = t_http(c, 0, "POST", SECRETS, "application/json", body, NULL, NULL);
    CHECK_INT(st, ==, 201);
    snprintf(body, sizeof body,
             "{" HEAD ",\"metadata\":{\"name\":\"imm\"},\"immutable\":true,"
             "\"data\":{\"p\":\"%s\"}}",
             enc2);
    CHECK_INT(t_http(c, 0, "POST", SECRETS, "application/json", body, NULL, NULL), ==, 201);

    static const char *const creates[] = {
        "{" HEAD ",\"metadata\":{\"name\":\"b1\"},\"data\":{\"password\":\"" VAL "!!\"}}",
        "{" HEAD ",\"metadata\":{\"name\":\"b2\"},\"data\":\"" VAL "\"}",
        "{" HEAD ",\"metadata\":{\"name\":\"b3\"},\"stringData\":\"" VAL "\"}",
        "{" HEAD ",\"metadata\":{\"name\":\"b4\"},\"stringData\":{\"p\":[\"" VAL "\"]}}",
        "{" HEAD ",\"metadata\":{\"name\":\"b5\"},\"data\":{\"p\":{\"x\":\"" VAL "\"}}}",
        "{" HEAD ",\"metadata\":{\"name\":\"b6\"},\"data\":{\"p\":[\"" VAL "\"]}}",
        "{" HEAD ",\"metadata\":{\"name\":\"Bad_Name\"},\"stringData\":{\"p\":\"" VAL "\"}}",
        "{" HEAD ",\"metadata\":{\"name\":\"b7\"},\"type\":\"kubernetes.io/tls\","
        "\"stringData\":{\"tls.crt\":\"" VAL "\"}}",
        "{" HEAD ",\"metadata\":{\"name\":\"b8\"},\"stringData\":{\"p\":\"" VAL "\"",
    };
    for (size_t i = 0; i < sizeof creates / sizeof creates[0]; i++)
        bad_write(c, "POST", SECRETS, "application/json", creates[i]);

    snprintf(body, sizeof body,
             "{" HEAD ",\"metadata\":{\"name\":\"imm\"},\"immutable\":true,"
             "\"data\":{\"p\":\"%s\"}}",
             enc);
    bad_write(c, "PUT", SECRETS "/imm", "application/json", body);
    bad_write(c, "PATCH", SECRETS "/imm", "application/merge-patch+json",
              "{\"stringData\":{\"p\":\"" VAL "\"}}");
    snprintf(body, sizeof body,
             "{" HEAD ",\"metadata\":{\"name\":\"app\"},\"type\":\"kubernetes.io/tls\","
             "\"data\":{\"password\":\"%s\"}}",
             enc);
    bad_write(c, "PUT", APP, "application/json", body);
    bad_write(c, "PATCH", APP, "application/json-patch+json",
              "[{\"op\":\"test\",\"path\":\"/data/password\",\"value\":\"" VAL "\"}]");
    bad_write(c, "PATCH", APP, "application/json-patch+json",
              "[{\"op\":\"replace\",\"path\":\"/data\",\"value\":\"" VAL "\"}]");
    bad_write(c, "PATCH", APP, "application/json-patch+json",
              "[{\"op\":\"add\",\"path\":\"/nope/x\",\"value\":\"" VAL "\"}]");
    bad_write(c, "PATCH", APP, "application/merge-patch+json", "{\"data\":\"" VAL "\"}");
    bad_write(c, "PATCH", APP, "application/merge-patch+json",
              "{\"data\":{\"password\":\"" VAL "\"}}");
    bad_write(c, "PATCH", APP, "application/strategic-merge-patch+json",
              "{\"data\":{\"password\":[\"" VAL "\"]}}");
    bad_write(c, "PATCH", APP "?fieldManager=t", "application/apply-patch+yaml",
              "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  password: " VAL
              "!!\n");
    bad_write(c, "PATCH", APP "?fieldManager=t", "application/apply-patch+yaml",
              "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  password: ["
              VAL "]\n");
    free(enc);
    free(enc2);
}

static void check_events(struct cluster *c)
{
    char *resp = NULL;

    CHECK_INT(t_http(c, 0, "GET", "/api/v1/events", NULL, NULL, &resp, NULL), ==, 200);
    text_lacks_secret("an Event", resp);
    free(resp);
}

TEST_T(bad_secret_writes_never_repeat_values, 60)
{
    static struct cluster c;

    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    drive_bad_secret_writes(&c);
    check_events(&c);
    member_stop(&c, 0);
    char *log = run_read_file(c.m[0].log);
    text_lacks_secret("the member's log", log);
    free(log);
}

/* ---- a pod that uses a Secret ---- */

static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

static void create_pod(const char *name, const char *cmd, const char *key)
{
    char body[2048], *resp = NULL;
    int st;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,"
             "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"%s\"],\"env\":[{\"name\":\"PASSWORD\","
             "\"valueFrom\":{\"secretKeyRef\":{\"name\":\"app\",\"key\":\"%s\"}}}],"
             "\"volumeMounts\":[{\"name\":\"s\",\"mountPath\":\"/s\"}]}],"
             "\"volumes\":[{\"name\":\"s\",\"secret\":{\"secretName\":\"app\"}}]}}",
             name, node, F.image, cmd, key);
    st = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &resp, NULL);
    CHECKF(st == 201, "create pod %s: %d %s", name, st, resp ? resp : "");
    free(resp);
}

static const char *pod_phase(const char *name, char *buf, size_t n)
{
    char path[256];
    json_t *p;

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    p = wl_get(path);
    snprintf(buf, n, "%s", orc_json_str(p, "status.phase") ? orc_json_str(p, "status.phase") : "");
    json_decref(p);
    return buf;
}

static void wait_phase(const char *name, const char *want, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    char ph[32];

    while (strcmp(pod_phase(name, ph, sizeof ph), want) != 0) {
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s is %s, not %s, after %u ms", name, ph, want, ms);
        }
        usleep(100 * 1000);
    }
}

/* An Event whose message holds `what` (the agent records failures). */
static bool event_with(const char *what)
{
    char *resp = NULL;
    bool found;

    t_http(&C, 0, "GET", "/api/v1/namespaces/default/events", NULL, NULL, &resp, NULL);
    found = resp && strstr(resp, what);
    free(resp);
    return found;
}

TEST_T(a_pod_using_a_secret_leaves_no_value_in_logs_or_events, 120)
{
    static const char conf_text[] =
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
        "- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n      - name: k\n"
        "        secret: MTIzNDU2Nzg5MDEyMzQ1Ng==\n";
    char conf[700];
    snprintf(conf, sizeof conf, "%s/enc.yaml", test_tmpdir());
    CHECK(orc_file_write(conf, conf_text, strlen(conf_text), 0600) == 0);
    /* the agent reads the Secret through the API: decrypted there */
    const char *extra[] = {"--node-name", node, "--encryption-config", conf, NULL};
    char body[512], *enc = b64(VAL);
    uint64_t end;

    fx_setup(true, false);
    wl_init("leak", delete_pods_at_end);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    snprintf(body, sizeof body,
             "{" HEAD ",\"metadata\":{\"name\":\"app\"},\"data\":{\"password\":\"%s\"}}", enc);
    CHECK_INT(t_http(&C, 0, "POST", SECRETS, "application/json", body, NULL, NULL), ==, 201);
    /* uses it, and checks it got it, without printing it */
    create_pod("ok", "test \\\"$PASSWORD\\\" = " VAL " && test \\\"$(cat /s/password)\\\" = " VAL,
               "password");
    create_pod("fails", "exit 3", "password");
    create_pod("nokey", "true", "missing");
    wait_phase("ok", "Succeeded", 40000);
    wait_phase("fails", "Failed", 40000);
    end = test_now_ms() + 20000;
    while (!event_with("missing") && test_now_ms() < end) usleep(200 * 1000);
    CHECKF(event_with("missing"), "no Event names the missing key");
    check_events(&C);
    char *log = run_read_file(C.m[0].log);
    text_lacks_secret("the member's and agent's log", log);
    free(log);
    free(enc);
}

/* ---- tokens ---- */

static pid_t badjoin;

static void kill_badjoin(void *arg)
{
    (void)arg;
    if (badjoin <= 0) return;
    kill(badjoin, SIGKILL);
    waitpid(badjoin, NULL, 0);
    badjoin = 0;
}

/* argv with both outputs to `log`; its pid. */
static pid_t spawn_to(const char *const *argv, const char *log)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(C.home[0] ? C.home : test_tmpdir(), NULL, log, NULL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

TEST_T(joins_and_bad_tokens_leave_no_token_in_logs_or_messages, 90)
{
    static struct cluster c;
    const char *secret;
    char bad[300], *out, *err, *resp = NULL;

    cluster_init(&c, 3);
    c.n = 2;
    cluster_start(&c, NULL);
    secret = strrchr(c.token, '.');
    CHECK(secret && strlen(secret + 1) >= 16);
    secret++;
    /* a join with the wrong secret is refused */
    snprintf(bad, sizeof bad, "%.*sWRONGwrongWRONGwrong1234", (int)(secret - c.token), c.token);
    const char *argv[] = {t_bin("orcd"), "server", "--data-dir", c.m[2].dir, "--listen",
                          c.m[2].listen, "--no-agent", "--join", c.m[0].url, "--token", bad, NULL};
    char log[700];
    snprintf(log, sizeof log, "%s/badjoin.log", test_tmpdir());
    badjoin = spawn_to(argv, log);
    test_defer(kill_badjoin, NULL);
    free(wait_for_output(log, "rejected the token", 20000));
    kill_badjoin(NULL); /* it would retry */
    file_lacks(log, "WRONGwrongWRONGwrong1234");
    file_lacks(log, secret);
    /* clients with a wrong or the right token */
    CHECK_INT(t_http_as(&c, 0, "WRONGwrongWRONGwrong1234", "GET", "/api/v1/pods", NULL, NULL,
                        &resp, NULL), ==, 401);
    CHECK_LACKS(resp, "WRONGwrongWRONGwrong1234");
    free(resp);
    CHECK(run_orctl(&c, &out, &err, "--token", "WRONGwrongWRONGwrong1234", "get", "pods", NULL)
          != 0);
    CHECK_LACKS(out, "WRONGwrongWRONGwrong1234");
    CHECK_LACKS(err, "WRONGwrongWRONGwrong1234");
    free(out);
    free(err);
    check_events(&c);
    resp = NULL;
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/events", NULL, NULL, &resp, NULL), ==, 200);
    CHECK_LACKS(resp, secret);
    free(resp);
    for (int i = 0; i < 2; i++) {
        member_stop(&c, i);
        file_lacks(c.m[i].log, secret);
        file_lacks(c.m[i].log, "WRONGwrongWRONGwrong1234");
    }
}
