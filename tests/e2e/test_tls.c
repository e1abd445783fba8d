/* test_tls.c — a real orcd's TLS: the CA, certificates and token it makes on
 * a first start and reuses after, damaged files refused by name, a join
 * trusting only the CA its token names, and what needs no token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/config.h"
#include "client/http.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/tls.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static const char *const pki_files[] = {"ca.crt", "ca.key", "server.crt", "server.key"};

static char *file_text(const struct member *m, const char *name)
{
    char path[700];
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    CHECKF(orc_file_read(path, 1 << 20, &b) == 0, "cannot read %s", path);
    return orc_buf_steal(&b, NULL);
}

static void file_put(const struct member *m, const char *name, const char *text)
{
    char path[700];

    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
}

static unsigned file_mode(const struct member *m, const char *name)
{
    char path[700];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    CHECKF(stat(path, &st) == 0, "no %s", path);
    return st.st_mode & 0777;
}

/* Waits for member i to exit on its own; returns its exit status. */
static int wait_exit(int i, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    int status = 0;

    while (waitpid(c.m[i].pid, &status, WNOHANG) == 0) {
        CHECKF(test_now_ms() < end, "member %d still running after %u ms (log %s)", i, ms, c.m[i].log);
        usleep(10000);
    }
    c.m[i].pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_names(const struct member *m, const char *const *names, size_t n)
{
    char err[ORC_TLS_ERRLEN] = "";
    char *cert = file_text(m, "server.crt"), *ca = file_text(m, "ca.crt");

    CHECKF(orc_tls_cert_fits(cert, ca, names, n, 30, err) == 0, "%s", err);
    free(cert);
    free(ca);
}

TEST_T(first_start_makes_the_pki_and_restart_reuses_it, 90)
{
    const char *const sans[] = {"--tls-san", "orc.example", "--tls-san", "10.9.8.7", NULL};
    const char *const more[] = {"--tls-san", "orc.example", "--tls-san", "new.example", NULL};
    char fp[ORC_TLS_FP_HEX + 1], want[700], err[256];
    struct orc_client_config cfg;
    char *before[4];

    cluster_init(&c, 1);
    member_start(&c, 0, false, sans);
    member_wait_ready(&c, 0, 5000);
    const struct member *m = &c.m[0];
    CHECK_INT(file_mode(m, "ca.key"), ==, 0600);
    CHECK_INT(file_mode(m, "server.key"), ==, 0600);
    CHECK_INT(file_mode(m, "token"), ==, 0600);
    CHECK_INT(file_mode(m, "admin.conf"), ==, 0600);
    CHECK_INT(file_mode(m, "ca.crt"), ==, 0600); /* every file in the data dir is private */
    /* The token names the CA: orc1.<SHA-256 of ca.crt>.<secret>. */
    char *ca = file_text(m, "ca.crt");
    CHECK_INT(orc_tls_fingerprint(ca, fp, err), ==, 0);
    snprintf(want, sizeof want, "orc1.%s.", fp);
    CHECKF(strncmp(c.token, want, strlen(want)) == 0 && strlen(c.token) > strlen(want) + 20, "%s",
           c.token);
    check_names(m, (const char *const[]){m->ip, "127.0.0.1", "localhost", "orc.example", "10.9.8.7"}, 5);
    /* and the kubernetes Service's address and names, as in-cluster
     * clients dial them */
    check_names(m, (const char *const[]){"10.43.0.1", "kubernetes", "kubernetes.default",
                                         "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, 5);
    /* admin.conf: the https URL, the CA, the token. */
    snprintf(want, sizeof want, "%s/admin.conf", m->dir);
    CHECKF(orc_config_load(want, &cfg, err, sizeof err) == 0, "%s", err);
    CHECK_STR(cfg.server, m->url);
    CHECK_STR(cfg.ca_pem, ca);
    CHECK_STR(cfg.token, c.token);
    orc_config_clear(&cfg);
    /* A restart reuses every file as it is. */
    for (int i = 0; i < 4; i++) before[i] = file_text(m, pki_files[i]);
    member_stop(&c, 0);
    member_start(&c, 0, false, sans);
    member_wait_ready(&c, 0, 5000);
    for (int i = 0; i < 4; i++) {
        char *now = file_text(m, pki_files[i]);
        CHECKF(strcmp(now, before[i]) == 0, "%s changed on restart", pki_files[i]);
        free(now);
    }
    /* A name the certificate lacks: a new one from the same CA. */
    member_stop(&c, 0);
    member_start(&c, 0, false, more);
    member_wait_ready(&c, 0, 5000);
    char *ca2 = file_text(m, "ca.crt"), *cert2 = file_text(m, "server.crt");
    CHECK_STR(ca2, ca);
    CHECK(strcmp(cert2, before[2]) != 0);
    check_names(m, (const char *const[]){m->ip, "new.example"}, 2);
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces", NULL, NULL, NULL, NULL), ==, 200);
    for (int i = 0; i < 4; i++) free(before[i]);
    free(ca);
    free(ca2);
    free(cert2);
}

/* A member whose certificate predates the in-cluster names (or whose
 * service range or cluster domain changed) gets a new one at start. */
TEST_T(the_certificate_names_the_kubernetes_service_and_is_reissued_without, 90)
{
    const char *const flags[] = {"--service-cidr", "10.96.0.0/12", "--cluster-domain", "corp.internal", NULL};
    const char *const want[] = {"10.96.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                "kubernetes.default.svc.corp.internal"};
    char err[ORC_TLS_ERRLEN] = "", *old_cert = NULL, *old_key = NULL;

    cluster_init(&c, 1);
    member_start(&c, 0, false, flags);
    member_wait_ready(&c, 0, 5000);
    const struct member *m = &c.m[0];
    check_names(m, want, 5);
    member_stop(&c, 0);
    /* an older member's certificate: its own names only */
    char *ca = file_text(m, "ca.crt"), *ca_key = file_text(m, "ca.key");
    CHECKF(orc_tls_make_cert(ca, ca_key, "orcd", (const char *const[]){m->ip, "127.0.0.1", "localhost"}, 3,
                             365, &old_cert, &old_key, err) == 0, "%s", err);
    file_put(m, "server.crt", old_cert);
    file_put(m, "server.key", old_key);
    CHECK(orc_tls_cert_fits(old_cert, ca, want, 5, 30, err) != 0);
    member_start(&c, 0, false, flags);
    member_wait_ready(&c, 0, 5000);
    char *now = file_text(m, "server.crt");
    CHECK(strcmp(now, old_cert) != 0);
    check_names(m, want, 5);
    check_names(m, (const char *const[]){m->ip, "127.0.0.1", "localhost"}, 3);
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces", NULL, NULL, NULL, NULL), ==, 200);
    free(now);
    free(ca);
    free(ca_key);
    free(old_cert);
    free(old_key);
}

TEST_T(damaged_tls_files_stop_the_start_naming_the_file, 90)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    member_stop(&c, 0);
    const struct member *m = &c.m[0];
    for (int i = 0; i < 4; i++) {
        char *good = file_text(m, pki_files[i]), cut[61], want[700];
        const char *bad[] = {"not PEM at all\n", cut};
        snprintf(cut, sizeof cut, "%.60s", good); /* a copy cut short */
        snprintf(want, sizeof want, "%s/%s: ", m->dir, pki_files[i]);
        for (int how = 0; how < 2; how++) {
            size_t from = file_size(m->log);
            file_put(m, pki_files[i], bad[how]);
            member_start(&c, 0, false, NULL);
            CHECK_INT(wait_exit(0, 10000), ==, 1);
            CHECKF(file_has(m->log, from, want), "no error naming %s in %s", want, m->log);
        }
        file_put(m, pki_files[i], good);
        free(good);
    }
    /* A key without its certificate is damage too, not a reason to reissue. */
    char path[700];
    snprintf(path, sizeof path, "%s/server.crt", m->dir);
    char *cert = file_text(m, "server.crt");
    CHECK(unlink(path) == 0);
    size_t from = file_size(m->log);
    member_start(&c, 0, false, NULL);
    CHECK_INT(wait_exit(0, 10000), ==, 1);
    CHECK(file_has(m->log, from, "server.crt: missing while server.key is there"));
    CHECK(!file_has(m->log, 0, "Sanitizer") && !file_has(m->log, 0, "runtime error"));
    /* Everything back: it starts, with the files it had. */
    file_put(m, "server.crt", cert);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    char *now = file_text(m, "server.crt");
    CHECK_STR(now, cert);
    free(now);
    free(cert);
}

/* Member i's members list, as ids in order of the reply. */
static int member_count(int i)
{
    int st;
    json_t *l = t_json(&c, i, "GET", "/internal/v1/members", NULL, &st);
    int n = st == 200 ? (int)json_array_size(json_object_get(l, "members")) : -1;
    json_decref(l);
    return n;
}

TEST_T(a_join_trusts_only_the_ca_its_token_names, 120)
{
    char good[256], bad[256], err[ORC_TLS_ERRLEN];
    char *ca0, *ca1, *cert1;

    cluster_init(&c, 2);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    snprintf(good, sizeof good, "%s", c.token);
    /* Same secret, another CA's fingerprint: the joiner refuses member 0
     * before sending anything, and keeps trying. */
    snprintf(bad, sizeof bad, "orc1.%064d%s", 0, strchr(good + 5, '.'));
    snprintf(c.token, sizeof c.token, "%s", bad);
    member_start(&c, 1, true, NULL);
    uint64_t end = test_now_ms() + 10000;
    while (!file_has(c.m[1].log, 0, "no certificate matches the CA fingerprint in the token")) {
        CHECKF(test_now_ms() < end, "no refusal in %s", c.m[1].log);
        usleep(20000);
    }
    CHECK(access(c.m[1].dir, F_OK) == 0);
    snprintf(c.token, sizeof c.token, "%s", good);
    CHECK_INT(member_count(0), ==, 1);
    member_stop(&c, 1);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c.m[1].dir);
    CHECK_INT(system(cmd), ==, 0);
    /* The right token: it joins, gets the CA, and issues its own certificate. */
    member_start(&c, 1, true, NULL);
    member_wait_ready(&c, 1, 20000);
    ca0 = file_text(&c.m[0], "ca.crt");
    ca1 = file_text(&c.m[1], "ca.crt");
    CHECK_STR(ca1, ca0);
    check_names(&c.m[1], (const char *const[]){c.m[1].ip, "127.0.0.1"}, 2);
    cert1 = file_text(&c.m[1], "server.crt");
    CHECK(orc_tls_cert_fits(cert1, ca0, (const char *const[]){c.m[0].ip}, 1, 0, err) != 0);
    CHECK_INT(member_count(1), ==, 2);
    /* Its writes reach the leader over HTTPS trusting that CA. */
    CHECK_INT(t_http(&c, 1, "POST", "/api/v1/namespaces/default/configmaps", NULL,
                     "{\"metadata\":{\"name\":\"via-follower\"}}", NULL, NULL), ==, 201);
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/default/configmaps/via-follower", NULL, NULL,
                     NULL, NULL), ==, 200);
    /* A restart of the joined member reuses what it has (no join again). */
    member_stop(&c, 1);
    member_start(&c, 1, false, NULL);
    member_wait_ready(&c, 1, 10000);
    char *cert1b = file_text(&c.m[1], "server.crt");
    CHECK_STR(cert1b, cert1);
    free(cert1b);
    free(ca0);
    free(ca1);
    free(cert1);
}

TEST(health_needs_no_token_and_basic_auth_is_refused)
{
    struct orc_buf b64 = ORC_BUF_INIT, cred = ORC_BUF_INIT;
    struct http_response r;
    char *body = NULL;

    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/readyz", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/api/v1/namespaces", NULL, NULL, &body, NULL), ==, 401);
    CHECK(strstr(body, "Bearer") != NULL);
    free(body);
    /* The token as a Basic password was a workaround for kubectl over plain
     * http; over TLS kubectl sends the bearer token, so Basic is refused. */
    orc_buf_printf(&cred, "admin:%s", c.token);
    CHECK(orc_base64_encode(cred.data, cred.len, false, &b64) == 0);
    orc_buf_free(&cred);
    orc_buf_printf(&cred, "Basic %s", b64.data);
    struct http_header h = {"Authorization", cred.data};
    struct http_request req = {.method = "GET", .path = "/api/v1/namespaces", .headers = &h,
                               .n_headers = 1, .timeout_ms = 10000};
    CHECK_INT(http_sync_request_tls(c.m[0].url, NULL, cluster_tls(&c), &req, &r, NULL), ==, 0);
    CHECK_INT(r.status, ==, 401);
    http_response_free(&r);
    orc_buf_free(&cred);
    orc_buf_free(&b64);
}
