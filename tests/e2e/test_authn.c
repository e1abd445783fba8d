/* test_authn.c — who a request is, with stock kubectl against a real
 * `orcd server`: client certificates signed by the cluster CA name their
 * user (CN) and groups (O) in `kubectl auth whoami`; expired, forged
 * (another CA) and other-cluster certificates and tokens get 401. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/file.h"
#include "lib/tls.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static char *member_file(const char *name)
{
    char path[700];

    snprintf(path, sizeof path, "%s/%s", c.m[0].dir, name);
    return run_read_file(path);
}

/* Writes a certificate and key under the tmpdir as <tag>.crt/.key. */
static void save_pair(const char *tag, char *cert, char *key)
{
    char path[700];

    snprintf(path, sizeof path, "%s/%s.crt", test_tmpdir(), tag);
    CHECK(orc_file_write(path, cert, strlen(cert), 0600) == 0);
    snprintf(path, sizeof path, "%s/%s.key", test_tmpdir(), tag);
    CHECK(orc_file_write(path, key, strlen(key), 0600) == 0);
    free(cert);
    explicit_bzero(key, strlen(key));
    free(key);
}

/* A client certificate for cn in groups (NULL-terminated), from the CA. */
static void mint(const char *tag, const char *ca, const char *ca_key, const char *cn,
                 const char *const *groups, long seconds)
{
    char *cert, *key, err[ORC_TLS_ERRLEN];
    size_t n = 0;

    while (groups && groups[n]) n++;
    CHECKF(orc_tls_make_client_cert(ca, ca_key, cn, groups, n, seconds, &cert, &key, err) == 0, "%s",
           err);
    save_pair(tag, cert, key);
}

static void expect_whoami(const char *tag, const char *user, const char *groups)
{
    char *out, *err;
    int rc = run_kubectl_cert(&c, tag, &out, &err, (const char *const[]){"auth", "whoami", NULL});

    CHECKF(rc == 0, "whoami as %s: exit %d: %s", tag, rc, err);
    CHECK_HAS(out, user);
    CHECK_HAS(out, groups);
    free(out);
    free(err);
}

static void expect_401(const char *tag)
{
    char *out, *err;
    int rc = run_kubectl_cert(&c, tag, &out, &err, (const char *const[]){"get", "namespaces", NULL});

    CHECKF(rc != 0, "%s was let in: %s", tag, out);
    CHECK_HAS(err, "You must be logged in to the server (Unauthorized");
    free(out);
    free(err);
}

TEST_T(client_certificates, 60)
{
    char *ca, *ca_key, *other_ca, *other_key, err[ORC_TLS_ERRLEN], *out, *e;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    ca = member_file("ca.crt");
    ca_key = member_file("ca.key");

    /* The administrator's certificate, as k3s's admin kubeconfig holds. */
    mint("admin", ca, ca_key, "system:admin", (const char *const[]){"system:masters", NULL}, 3600);
    expect_whoami("admin", "system:admin", "[system:masters system:authenticated]");
    CHECK(run_kubectl_cert(&c, "admin", &out, &e, (const char *const[]){"get", "namespaces", NULL}) == 0);
    CHECK_HAS(out, "kube-system");
    free(out);
    free(e);

    /* A user: CN the name, each O a group, in order. */
    mint("alice", ca, ca_key, "alice", (const char *const[]){"dev", "ops", NULL}, 3600);
    expect_whoami("alice", "alice", "[dev ops system:authenticated]");

    /* Forged: the same names from a CA of its own; another cluster: a CA
     * named as orc names its own, with another key. */
    CHECK(orc_tls_make_ca("evil", 1, &other_ca, &other_key, err) == 0);
    mint("forged", other_ca, other_key, "system:admin", (const char *const[]){"system:masters", NULL}, 3600);
    free(other_ca);
    free(other_key);
    expect_401("forged");
    CHECK(orc_tls_make_ca("orc-ca", 1, &other_ca, &other_key, err) == 0);
    mint("other", other_ca, other_key, "system:admin", (const char *const[]){"system:masters", NULL}, 3600);
    free(other_ca);
    free(other_key);
    expect_401("other");

    /* Expired: valid for a second. */
    mint("brief", ca, ca_key, "bob", NULL, 1);
    test_sleep_ms(2100);
    expect_401("brief");

    free(ca);
    explicit_bzero(ca_key, strlen(ca_key));
    free(ca_key);
}

/* The cluster token is the administrator; another cluster's token (same
 * shape, another secret) is nobody. */
TEST_T(tokens, 40)
{
    char *out, *e, *tok, forged[300];
    const char *dot;
    int st;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    CHECK(run_kubectl(&c, &out, &e, (const char *const[]){"auth", "whoami", "-o", "json", NULL}) == 0);
    CHECK_HAS(out, "\"username\": \"system:admin\"");
    CHECK_HAS(out, "\"kind\": \"SelfSubjectReview\"");
    free(out);
    free(e);
    tok = member_file("token");
    dot = strrchr(tok, '.');
    CHECK(dot != NULL);
    snprintf(forged, sizeof forged, "%.*s.%s", (int)(dot - tok), tok, "0123456789abcdef0123456789abcdef");
    st = t_http_as(&c, 0, forged, "GET", "/api/v1/namespaces", NULL, NULL, &out, NULL);
    CHECK(st == 401);
    CHECK_HAS(out, "\"reason\":\"Unauthorized\"");
    free(out);
    st = t_http_as(&c, 0, NULL, "GET", "/api/v1/namespaces", NULL, NULL, &out, NULL);
    CHECK(st == 401);
    free(out);
    free(tok);
}

/* orctl kubeconfig create: a kubeconfig stock kubectl uses as the user in
 * the groups asked for; only an administrator may have one made. */
TEST_T(kubeconfig_create, 40)
{
    char *out, *e, conf[700], csr_path[700], *csr, *key, err[ORC_TLS_ERRLEN], *body;
    json_t *req;
    int rc;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    rc = run_orctl(&c, &out, &e, "kubeconfig", "create", "alice", "--group", "dev", "--group", "ops",
                   "--expires", "1h", NULL);
    CHECKF(rc == 0, "orctl kubeconfig create: %s", e);
    snprintf(conf, sizeof conf, "%s/alice.conf", test_tmpdir());
    CHECK(orc_file_write(conf, out, strlen(out), 0600) == 0);
    CHECK(strstr(out, "token") == NULL);
    free(out);
    free(e);
    rc = run_prog(c.home, NULL, &out, &e,
                  (const char *const[]){"/usr/bin/kubectl", "--kubeconfig", conf, "auth", "whoami", NULL});
    CHECKF(rc == 0, "whoami: %s", e);
    CHECK_HAS(out, "alice");
    CHECK_HAS(out, "[dev ops system:authenticated]");
    free(out);
    free(e);

    /* Nor read the members' endpoints (the CA key). */
    rc = run_prog(c.home, NULL, &out, &e,
                  (const char *const[]){"/usr/bin/kubectl", "--kubeconfig", conf, "get", "--raw",
                                        "/internal/v1/ca", NULL});
    CHECK(rc != 0);
    CHECK_HAS(e, "Forbidden");
    CHECK(strstr(out, "PRIVATE KEY") == NULL);
    free(out);
    free(e);

    /* alice cannot make herself an administrator. */
    CHECK(orc_tls_make_csr("mallory", (const char *const[]){"system:masters"}, 1, &csr, &key, err) == 0);
    req = json_pack("{s:s}", "csr", csr);
    body = json_dumps(req, 0);
    snprintf(csr_path, sizeof csr_path, "%s/csr.json", test_tmpdir());
    CHECK(orc_file_write(csr_path, body, strlen(body), 0600) == 0);
    rc = run_prog(c.home, NULL, &out, &e,
                  (const char *const[]){"/usr/bin/kubectl", "--kubeconfig", conf, "create", "--raw",
                                        "/internal/v1/usercerts", "-f", csr_path, NULL});
    CHECK(rc != 0); /* RBAC refuses first; usercert.c would too */
    CHECK_HAS(e, "User \"alice\" cannot post path \"/internal/v1/usercerts\"");
    free(out);
    free(e);
    free(body);
    json_decref(req);
    free(csr);
    free(key);

    /* A bad request is named. */
    rc = run_orctl(&c, &out, &e, "kubeconfig", "create", "bob", "--expires", "1s", NULL);
    CHECK(rc == 2);
    CHECK_HAS(e, "invalid --expires");
    free(out);
    free(e);
}

static int status_as(const char *token, const char *method, const char *path)
{
    char *out = NULL;
    int st = t_http_as(&c, 0, token, method, path, NULL, NULL, &out, NULL);

    free(out);
    return st;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

/* Bootstrap tokens: Kubernetes' Secrets, system:bootstrap:<id> in
 * system:bootstrappers, limited to getting a node certificate, refused
 * once expired or deleted. */
TEST_T(bootstrap_tokens, 40)
{
    char *tok, *brief, *out, *e, id[8];
    json_t *sec;
    int st;

    run_start_one(&c);
    CHECK(run_orctl(&c, &tok, &e, "token", "create", "--description", "rack 4", NULL) == 0);
    free(e);
    chomp(tok);
    CHECK(strncmp(tok, "orc1.", 5) == 0 && strlen(tok) == 5 + 64 + 1 + 23);
    snprintf(id, sizeof id, "%.6s", tok + 70);

    {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/namespaces/kube-system/secrets/bootstrap-token-%s", id);
        sec = t_json(&c, 0, "GET", path, NULL, &st);
        CHECK(st == 200);
        CHECK_STR(json_string_value(json_object_get(sec, "type")), "bootstrap.kubernetes.io/token");
        json_decref(sec);
    }
    CHECK(run_orctl(&c, &out, &e, "token", "list", NULL) == 0);
    CHECK_HAS(out, id);
    CHECK_HAS(out, "rack 4");
    free(out);
    free(e);

    /* Who it is, and what it may not do: read Secrets, list anything. */
    CHECK(t_http_as(&c, 0, tok, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                    "application/json", "{}", &out, NULL) == 201);
    CHECK_HAS(out, "system:bootstrap:");
    CHECK_HAS(out, "system:bootstrappers");
    free(out);
    CHECK(status_as(tok, "GET", "/api/v1/secrets") == 403);
    CHECK(status_as(tok, "GET", "/api/v1/namespaces") == 403);
    CHECK(status_as(tok, "GET", "/internal/v1/ca") == 403);
    /* The bare Kubernetes form works too. */
    CHECK(status_as(tok + 70, "GET", "/api/v1/namespaces") == 403);

    /* Deleted: nobody. */
    CHECK(run_orctl(&c, &out, &e, "token", "delete", id, NULL) == 0);
    free(out);
    free(e);
    CHECK(status_as(tok, "GET", "/api/v1/namespaces") == 401);

    /* Expired: nobody. */
    CHECK(run_orctl(&c, &brief, &e, "token", "create", "--ttl", "2s", NULL) == 0);
    free(e);
    chomp(brief);
    CHECK(status_as(brief, "GET", "/api/v1/namespaces") == 403);
    test_sleep_ms(3100);
    CHECK(status_as(brief, "GET", "/api/v1/namespaces") == 401);
    /* and cleaned up. */
    {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/namespaces/kube-system/secrets/bootstrap-token-%.6s", brief + 70);
        for (uint64_t end = test_now_ms() + 10000; test_now_ms() < end;
             test_sleep_ms(250)) {
            char *o = NULL;
            if (t_http(&c, 0, "GET", path, NULL, NULL, &o, NULL) == 404) {
                free(o);
                break;
            }
            free(o);
        }
        CHECK_INT(t_http(&c, 0, "GET", path, NULL, NULL, NULL, NULL), ==, 404);
    }
    free(brief);
    free(tok);
}
