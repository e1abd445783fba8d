/* test_agent_satoken.c — the ServiceAccount token in real containers: a pod
 * gets kube-api-access-XXXXX at admission and sees token, ca.crt and
 * namespace at /var/run/secrets/kubernetes.io/serviceaccount (kubectl
 * exec); the token it holds lets a request from the host in as the
 * account; automountServiceAccountToken: false leaves no mount; a short
 * token in a projected volume is replaced before it expires. */
#include "lib/base64.h"
#include "tests/agent/agentfx.h"
#include "tests/cli/run.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* kubectl exec POD -- CMD...: stdout (free it); rc must be want_rc. */
static char *exec_in(int want_rc, const char *pod, const char *const *cmd)
{
    const char *argv[24] = {"exec", pod, "--"};
    int n = 3;
    while (*cmd && n < 23) argv[n++] = *cmd++;
    argv[n] = NULL;
    return run_kubectl_rc(&AC, want_rc, NULL, argv);
}
#define EXEC(rc, pod, ...) exec_in(rc, pod, (const char *const[]){__VA_ARGS__, NULL})

static void wait_root_ca(void)
{
    for (int i = 0; i < 100; i++) {
        json_t *cm = afx_get("/api/v1/namespaces/default/configmaps/kube-root-ca.crt");
        json_decref(cm);
        if (cm) return;
        usleep(100 * 1000);
    }
    CHECKF(false, "kube-root-ca.crt was not published");
}

/* 0 when the token lets kubectl in: RBAC may still refuse the list, and a
 * 403 naming the account is a token that authenticated. */
static int get_pods_as(const char *tok)
{
    char *out = NULL, *err = NULL;
    int rc = run_kubectl(&AC, &out, &err, (const char *const[]){"--token", tok, "get", "pods", NULL});
    if (rc != 0 && err && strstr(err, "is forbidden: User \"system:serviceaccount:")) rc = 0;
    free(out);
    free(err);
    return rc;
}

static const char *const server_flags[] = {"--controllers", "*", "--service-account-min-token-expiration",
                                           "1s", NULL};

static void setup(void)
{
    if (!run_have_kubectl()) return;
    AFX_SERVER_EXTRA = server_flags;
    afx_setup();
    wait_root_ca();
}

TEST_T(pod_sees_its_token_ca_and_namespace, 120)
{
    if (!run_have_kubectl()) return;
    setup();
    afx_pod_cmd("tok", "Always", 1, "sleep 3600");
    json_t *pod = afx_wait_phase("tok", "Running", 40000);
    CHECK_STR(orc_json_str(pod, "spec.serviceAccountName"), "default");
    const char *vol = orc_json_str(json_array_get(orc_json_get(pod, "spec.volumes"), 0), "name");
    CHECKF(vol && strncmp(vol, "kube-api-access-", 16) == 0 && strlen(vol) == 21, "volume %s", vol);
    const json_t *vm = json_array_get(orc_json_get(json_array_get(orc_json_get(pod, "spec.containers"), 0),
                                                   "volumeMounts"), 0);
    CHECK_STR(orc_json_str(vm, "mountPath"), SA_DIR);
    CHECK(json_is_true(json_object_get(vm, "readOnly")));
    json_decref(pod);

    char *ns = EXEC(0, "tok", "cat", SA_DIR "/namespace");
    CHECK_STR(ns, "default");
    free(ns);
    char *ca = EXEC(0, "tok", "cat", SA_DIR "/ca.crt");
    CHECK_HAS(ca, "-----BEGIN CERTIFICATE-----");
    free(ca);
    char *tok = EXEC(0, "tok", "cat", SA_DIR "/token");
    CHECK(tok && strlen(tok) > 100 && strchr(tok, '\n') == NULL);
    /* read-only */
    free(EXEC(1, "tok", "sh", "-c", "echo x > " SA_DIR "/token"));
    /* the token lets the host in as the pod's account */
    CHECK_INT(get_pods_as(tok), ==, 0);
    free(tok);
}

TEST_T(automount_false_leaves_no_mount, 120)
{
    if (!run_have_kubectl()) return;
    setup();
    char spec[1024];
    snprintf(spec, sizeof spec,
             "{\"automountServiceAccountToken\":false,\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}",
             F.image);
    afx_pod("nomount", spec);
    json_t *pod = afx_wait_phase("nomount", "Running", 40000);
    CHECK(orc_json_get(pod, "spec.volumes") == NULL || json_array_size(orc_json_get(pod, "spec.volumes")) == 0);
    json_decref(pod);
    free(EXEC(1, "nomount", "ls", SA_DIR));

    /* nor for an account that says so */
    afx_create("/api/v1/namespaces/default/serviceaccounts",
               "{\"metadata\":{\"name\":\"quiet\"},\"automountServiceAccountToken\":false}");
    snprintf(spec, sizeof spec,
             "{\"serviceAccountName\":\"quiet\",\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}",
             F.image);
    afx_pod("quiet", spec);
    pod = afx_wait_phase("quiet", "Running", 40000);
    CHECK(json_array_size(orc_json_get(pod, "spec.volumes")) == 0);
    json_decref(pod);
}

TEST_T(short_token_is_refreshed, 120)
{
    if (!run_have_kubectl()) return;
    setup();
    char spec[2048];
    snprintf(spec, sizeof spec,
             "{\"automountServiceAccountToken\":false,\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"],"
             "\"volumeMounts\":[{\"name\":\"t\",\"mountPath\":\"/t\"}]}],"
             "\"volumes\":[{\"name\":\"t\",\"projected\":{\"sources\":[{\"serviceAccountToken\":"
             "{\"path\":\"tok\",\"expirationSeconds\":6,\"audience\":\"https://kubernetes.default.svc.cluster.local\"}},"
             "{\"downwardAPI\":{\"items\":[{\"path\":\"name\",\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}]}}]}}]}",
             F.image);
    afx_pod("short", spec);
    json_decref(afx_wait_phase("short", "Running", 40000));
    char *name = EXEC(0, "short", "cat", "/t/name");
    CHECK_STR(name, "short");
    free(name);
    char *first = EXEC(0, "short", "cat", "/t/tok");
    char *later = NULL;
    bool changed = false;
    uint64_t end = test_now_ms() + 15000;
    while (!changed && test_now_ms() < end) {
        usleep(100 * 1000);
        free(later);
        later = EXEC(0, "short", "cat", "/t/tok");
        changed = later && first && strcmp(later, first) != 0;
    }
    CHECKF(changed, "the token (6 s) was not replaced within 15 s");
    sleep(3); /* the first one has expired; the one in the volume has not */
    CHECK_INT(get_pods_as(first), !=, 0);
    /* (one read just before its replacement may expire before it is used) */
    bool in = false;
    for (int i = 0; i < 3 && !in; i++) {
        free(later);
        later = EXEC(0, "short", "cat", "/t/tok");
        in = get_pods_as(later) == 0;
    }
    CHECK(in);
    free(first);
    free(later);
}
