/* test_satoken.c — ServiceAccount tokens against real `orcd server`s with
 * stock kubectl: `kubectl create token` (TokenRequest) gives a token that
 * authenticates as the account's user; expired, forged (another key),
 * tampered, wrong-audience, deleted-account and deleted-pod tokens get 401;
 * every namespace gets its `default` account back; issuer discovery
 * publishes the key; a follower verifies what the leader signed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/jwt.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

#define KUBECTL(rc, ...) run_kubectl_rc(&c, (rc), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, __VA_ARGS__))

static void start(const char *const *extra)
{
    cluster_init(&c, 1);
    c.service_accounts = true;
    setenv("ORC_LOG", "debug", 1); /* the authenticator names the user it found */
    member_start(&c, 0, false, extra);
    unsetenv("ORC_LOG");
    member_wait_ready(&c, 0, 15000);
}

/* kubectl create token ARGS..., the token without its newline. */
static char *token(const char *const *words)
{
    const char *argv[16] = {"create", "token"};
    size_t n = 2;
    while (*words && n < 15) argv[n++] = *words++;
    argv[n] = NULL;
    char *t = run_kubectl_rc(&c, 0, NULL, argv);
    if (t) t[strcspn(t, "\n")] = '\0';
    CHECKF(t && strlen(t) > 100, "no token: %s", t ? t : "(null)");
    return t;
}
#define TOKEN(...) token((const char *const[]){__VA_ARGS__, NULL})

/* kubectl --token T get pods -n NS: 0 when the token let it in (RBAC may
 * still say no: a 403 naming the account is a token that authenticated);
 * else stderr must say 401. */
static int get_pods_as(const char *tok, const char *ns)
{
    const char *argv[] = {"--token", tok, "get", "pods", "-n", ns, NULL};
    char *out = NULL, *err = NULL;
    int rc = run_kubectl(&c, &out, &err, argv);
    if (rc != 0 && strstr(err, "is forbidden: User \"system:serviceaccount:")) rc = 0;
    if (rc != 0)
        CHECKF(strstr(err, "Unauthorized") || strstr(err, "provide credentials"), "not a 401:\n%s", err);
    free(out);
    free(err);
    return rc;
}

static json_t *claims_of(const char *tok)
{
    const char *a = strchr(tok, '.'), *b = a ? strchr(a + 1, '.') : NULL;
    struct orc_buf raw = ORC_BUF_INIT;
    json_t *v = NULL;
    if (b && orc_base64_decode(a + 1, (size_t)(b - a - 1), true, &raw) == 0)
        v = json_loadb(raw.data, raw.len, 0, NULL);
    orc_buf_free(&raw);
    CHECK(v != NULL);
    return v;
}

static char *member_log(void)
{
    return run_read_file(c.m[0].log);
}

TEST_T(satoken_create_token_authenticates_as_the_account, 60)
{
    if (!run_have_kubectl()) return;
    start(NULL);
    KUBECTL_OK("create", "serviceaccount", "robot");
    char *t = TOKEN("robot");
    json_t *cl = claims_of(t);
    CHECK_STR(orc_json_str(cl, "sub"), "system:serviceaccount:default:robot");
    CHECK_STR(orc_json_str(cl, "iss"), "https://kubernetes.default.svc.cluster.local");
    CHECK_STR(json_string_value(json_array_get(json_object_get(cl, "aud"), 0)),
              "https://kubernetes.default.svc.cluster.local");
    CHECK_STR(json_string_value(json_object_get(json_object_get(cl, "kubernetes.io"), "namespace")), "default");
    int64_t iat = 0, exp = 0;
    CHECK(orc_json_int(cl, "iat", &iat) == 0 && orc_json_int(cl, "exp", &exp) == 0);
    CHECK_INT(exp - iat, ==, 3600);
    CHECK(orc_json_str(cl, "jti") != NULL);
    json_decref(cl);

    CHECK_INT(get_pods_as(t, "default"), ==, 0);
    char *log = member_log();
    CHECK_HAS(log, "authenticated system:serviceaccount:default:robot by a service account token");
    CHECK_LACKS(log, t); /* never the token */
    free(log);

    /* --duration and --audience as kubectl sends them */
    char *t2 = TOKEN("robot", "--duration=20m", "--audience=https://kubernetes.default.svc.cluster.local",
                     "--audience=other");
    cl = claims_of(t2);
    CHECK(orc_json_int(cl, "iat", &iat) == 0 && orc_json_int(cl, "exp", &exp) == 0);
    CHECK_INT(exp - iat, ==, 1200);
    CHECK_INT(json_array_size(json_object_get(cl, "aud")), ==, 2);
    json_decref(cl);
    CHECK_INT(get_pods_as(t2, "default"), ==, 0);

    /* under 10 minutes, a missing account: refused as Kubernetes words it */
    char *err = NULL;
    free(run_kubectl_rc(&c, 1, &err, (const char *const[]){"create", "token", "robot", "--duration=5m", NULL}));
    CHECK_HAS(err, "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes");
    free(err);
    free(run_kubectl_rc(&c, 1, &err, (const char *const[]){"create", "token", "nosuch", NULL}));
    CHECK_HAS(err, "serviceaccounts \"nosuch\" not found");
    free(err);

    /* the account deleted (or deleted and made again: another uid): 401 */
    KUBECTL_OK("delete", "serviceaccount", "robot");
    CHECK_INT(get_pods_as(t, "default"), !=, 0);
    KUBECTL_OK("create", "serviceaccount", "robot");
    CHECK_INT(get_pods_as(t, "default"), !=, 0);
    log = member_log();
    CHECK_HAS(log, "refused a service account token: its service account no longer exists");
    free(log);
    free(t);
    free(t2);
}

TEST_T(satoken_bad_tokens_are_refused, 60)
{
    if (!run_have_kubectl()) return;
    start(NULL);
    KUBECTL_OK("create", "serviceaccount", "robot");
    char *t = TOKEN("robot");

    /* another audience than the API's */
    char *other = TOKEN("robot", "--audience=vault");
    CHECK_INT(get_pods_as(other, "default"), !=, 0);

    /* the same claims signed by another key (another cluster's, a forger's) */
    char *pem = NULL;
    EVP_PKEY *k = NULL;
    CHECK(orc_jwt_key_new(&pem) == 0 && orc_jwt_key_load(pem, &k) == 0);
    json_t *cl = claims_of(t);
    struct orc_buf forged = ORC_BUF_INIT;
    CHECK(orc_jwt_sign(k, cl, &forged) == 0);
    CHECK_INT(get_pods_as(forged.data, "default"), !=, 0);

    /* our signature on changed claims */
    char *tampered = strdup(t);
    char *p = strchr(tampered, '.') + 5;
    *p = *p == 'A' ? 'B' : 'A';
    CHECK_INT(get_pods_as(tampered, "default"), !=, 0);

    /* alg "none" */
    CHECK_INT(get_pods_as("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.x", "default"), !=, 0);

    /* the valid one still works */
    CHECK_INT(get_pods_as(t, "default"), ==, 0);
    char *log = member_log();
    CHECK_HAS(log, "refused a service account token: it is for another audience");
    CHECK_HAS(log, "refused a service account token: signed with another key");
    CHECK_HAS(log, "refused a service account token: the signature does not verify");
    CHECK_HAS(log, "refused a service account token: not signed with ES256");
    free(log);
    json_decref(cl);
    orc_buf_free(&forged);
    EVP_PKEY_free(k);
    free(pem);
    free(tampered);
    free(other);
    free(t);
}

TEST_T(satoken_expired_token_is_refused, 60)
{
    if (!run_have_kubectl()) return;
    const char *extra[] = {"--service-account-min-token-expiration", "1s", NULL};
    start(extra);
    KUBECTL_OK("create", "serviceaccount", "robot");
    char *t = TOKEN("robot", "--duration=2s");
    CHECK_INT(get_pods_as(t, "default"), ==, 0);
    sleep(3);
    CHECK_INT(get_pods_as(t, "default"), !=, 0);
    char *log = member_log();
    CHECK_HAS(log, "refused a service account token: it has expired");
    free(log);
    free(t);
}

TEST_T(satoken_bound_to_a_pod_dies_with_it, 60)
{
    if (!run_have_kubectl()) return;
    start(NULL);
    KUBECTL_OK("run", "p1", "--image=busybox");
    char *out = KUBECTL(0, "get", "pod", "p1", "-o", "jsonpath={.spec.serviceAccountName}/{.spec.serviceAccount}");
    CHECK_STR(out, "default/default");
    free(out);
    char *t = TOKEN("default", "--bound-object-kind=Pod", "--bound-object-name=p1");
    json_t *cl = claims_of(t);
    CHECK_STR(orc_json_str(json_object_get(cl, "kubernetes.io"), "pod.name"), "p1");
    json_decref(cl);
    CHECK_INT(get_pods_as(t, "default"), ==, 0);

    /* a pod of another account cannot be bound to this one */
    KUBECTL_OK("create", "serviceaccount", "robot");
    char *err = NULL;
    free(run_kubectl_rc(&c, 1, &err, (const char *const[]){"create", "token", "robot",
                        "--bound-object-kind=Pod", "--bound-object-name=p1", NULL}));
    CHECK_HAS(err, "cannot bind token for serviceaccount \"robot\" to pod running with different "
                   "serviceaccount name.");
    free(err);

    KUBECTL_OK("delete", "pod", "p1", "--grace-period=0", "--force");
    CHECK_INT(get_pods_as(t, "default"), !=, 0);
    char *log = member_log();
    CHECK_HAS(log, "refused a service account token: the pod it is bound to no longer exists");
    free(log);
    free(t);
}

/* Polls until `kubectl get sa default -n NS` succeeds. */
static bool default_sa_in(const char *ns)
{
    for (int i = 0; i < 100; i++) {
        char *out = NULL, *err = NULL;
        int rc = run_kubectl(&c, &out, &err, (const char *const[]){"get", "sa", "default", "-n", ns, NULL});
        free(out);
        free(err);
        if (rc == 0) return true;
        usleep(100 * 1000);
    }
    return false;
}

TEST_T(satoken_default_account_in_every_namespace, 60)
{
    if (!run_have_kubectl()) return;
    start(NULL);
    CHECK(default_sa_in("default"));
    CHECK(default_sa_in("kube-system"));
    KUBECTL_OK("create", "namespace", "team-a");
    CHECK(default_sa_in("team-a"));
    KUBECTL_OK("delete", "sa", "default", "-n", "team-a");
    CHECK(default_sa_in("team-a"));
    char *t = TOKEN("default", "-n", "team-a");
    CHECK_INT(get_pods_as(t, "team-a"), ==, 0);
    free(t);
}

TEST_T(satoken_issuer_discovery_and_a_follower_verifies, 60)
{
    if (!run_have_kubectl()) return;
    cluster_init(&c, 2);
    c.service_accounts = true;
    cluster_start(&c, NULL);
    int st = 0;
    json_t *cfg = t_json(&c, 1, "GET", "/.well-known/openid-configuration", NULL, &st);
    CHECK_INT(st, ==, 200);
    CHECK_STR(orc_json_str(cfg, "issuer"), "https://kubernetes.default.svc.cluster.local");
    CHECK_STR(json_string_value(json_array_get(json_object_get(cfg, "id_token_signing_alg_values_supported"), 0)), "ES256");
    CHECK_HAS(orc_json_str(cfg, "jwks_uri"), "/openid/v1/jwks");
    json_decref(cfg);
    json_t *k0 = t_json(&c, 0, "GET", "/openid/v1/jwks", NULL, &st);
    json_t *k1 = t_json(&c, 1, "GET", "/openid/v1/jwks", NULL, &st);
    CHECK(k0 && k1 && json_equal(k0, k1)); /* one key, the same on every member */
    CHECK_STR(orc_json_str(json_array_get(json_object_get(k0, "keys"), 0), "crv"), "P-256");
    json_decref(k0);
    json_decref(k1);

    char *t = TOKEN("default");
    for (int i = 0; i < 2; i++) {
        /* let in, and allowed the issuer's keys (a default role, as Kubernetes') */
        int code = t_http_as(&c, i, t, "GET", "/openid/v1/jwks", NULL, NULL, NULL, NULL);
        CHECK_INT(code, ==, 200);
    }
    /* with no token discovery is refused like any request */
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/openid/v1/jwks", NULL, NULL, NULL, NULL), ==, 401);
    free(t);
}

TEST_T(satoken_orctl_create_token, 60)
{
    if (!run_have_kubectl()) return;
    start(NULL);
    KUBECTL_OK("create", "namespace", "team-a");
    KUBECTL_OK("create", "serviceaccount", "robot", "-n", "team-a");
    char *out = NULL, *err = NULL;
    CHECK_INT(run_orctl(&c, &out, &err, "create", "token", "robot", "-n", "team-a", "--duration=2h",
                        "--audience=https://kubernetes.default.svc.cluster.local", NULL), ==, 0);
    out[strcspn(out, "\n")] = '\0';
    json_t *cl = claims_of(out);
    CHECK_STR(orc_json_str(cl, "sub"), "system:serviceaccount:team-a:robot");
    int64_t iat = 0, exp = 0;
    CHECK(orc_json_int(cl, "iat", &iat) == 0 && orc_json_int(cl, "exp", &exp) == 0);
    CHECK_INT(exp - iat, ==, 7200);
    json_decref(cl);
    CHECK_INT(get_pods_as(out, "team-a"), ==, 0);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "create", "token", "nosuch", NULL), ==, 1);
    CHECK_HAS(err, "serviceaccounts \"nosuch\" not found");
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "create", "token", "robot", "--duration=1.5s", NULL), ==, 2);
    free(out);
    free(err);
}
