/* test_csr.c — certificates.k8s.io/v1 CertificateSigningRequests with stock
 * kubectl against a real `orcd server`: a user's key and request made with
 * openssl, `kubectl certificate approve` and the issued certificate
 * authenticating as that user; deny leaving no certificate; approval
 * refused with Kubernetes' words to a user who may update the approval but
 * not approve for the signer; a node's request for its own certificate
 * approved automatically, for another node's not (and the signer refusing
 * it); and a real agent with a 30 s certificate (the shortest
 * --node-cert-ttl) renewing it while it runs, its Node still Ready past the
 * first certificate's expiry. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/file.h"
#include "lib/tls.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

/* openssl makes <tmpdir>/<tag>.key and a request for subj in <tag>.csr. */
static void openssl_request(const char *tag, const char *subj)
{
    char key[700], csr[700], *out = NULL, *err = NULL;
    const char *argv[] = {"/usr/bin/openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", subj,
                          "-out", csr, NULL};

    snprintf(key, sizeof key, "%s/%s.key", test_tmpdir(), tag);
    snprintf(csr, sizeof csr, "%s/%s.csr", test_tmpdir(), tag);
    CHECKF(run_prog(c.home, NULL, &out, &err, argv) == 0, "openssl: %s", err);
    free(out);
    free(err);
}

/* kubectl create -f of a CSR named `name` for <tag>.csr; extra kubectl
 * words (impersonation) before it, NULL-terminated. */
static void create_csr(const char *name, const char *tag, const char *signer, const char *usages,
                       const char *as, const char *as_group)
{
    char path[700], yaml[4000], *pem, *out;
    struct orc_buf b64 = ORC_BUF_INIT;

    snprintf(path, sizeof path, "%s/%s.csr", test_tmpdir(), tag);
    pem = run_read_file(path);
    CHECK(orc_base64_encode(pem, strlen(pem), false, &b64) == 0);
    snprintf(yaml, sizeof yaml,
             "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: %s}\n"
             "spec:\n  request: %s\n  signerName: %s\n  usages: [%s]\n",
             name, b64.data, signer, usages);
    snprintf(path, sizeof path, "%s/%s.yaml", test_tmpdir(), name);
    CHECK(orc_file_write(path, yaml, strlen(yaml), 0600) == 0);
    if (as) {
        const char *w[] = {"--as", as, "--as-group", as_group, "create", "-f", path, NULL};
        out = run_kubectl_rc(&c, 0, NULL, w);
    } else {
        const char *w[] = {"create", "-f", path, NULL};
        out = run_kubectl_rc(&c, 0, NULL, w);
    }
    free(out);
    free(pem);
    orc_buf_free(&b64);
}

/* `kubectl get csr NAME -o jsonpath=...` */
static char *csr_field(const char *name, const char *jsonpath)
{
    const char *w[] = {"get", "csr", name, "-o", jsonpath, NULL};
    return run_kubectl_rc(&c, 0, NULL, w);
}

/* Waits for the CONDITION column (kubectl get csr NAME) to read `want`. */
static void wait_condition(const char *name, const char *want, unsigned ms)
{
    char *out = NULL;

    for (uint64_t end = test_now_ms() + ms; test_now_ms() < end; test_sleep_ms(200)) {
        free(out);
        out = csr_field(name, "jsonpath={.status.conditions[*].type}{\" \"}{.status.certificate}");
        const char *w[] = {"get", "csr", name, "--no-headers", NULL};
        char *row = run_kubectl_rc(&c, 0, NULL, w);
        bool done = strstr(row, want) != NULL;
        free(row);
        if (done) {
            free(out);
            return;
        }
    }
    CHECKF(false, "csr %s never became %s: %s", name, want, out);
    free(out);
}

/* The issued certificate of `name` saved as <tag>.crt. */
static void save_certificate(const char *name, const char *tag)
{
    char *b64 = csr_field(name, "jsonpath={.status.certificate}"), path[700];
    struct orc_buf pem = ORC_BUF_INIT;

    CHECKF(orc_base64_decode(b64, strlen(b64), false, &pem) == 0, "certificate of %s: %s", name, b64);
    snprintf(path, sizeof path, "%s/%s.crt", test_tmpdir(), tag);
    CHECK(orc_file_write(path, pem.data, pem.len, 0600) == 0);
    orc_buf_free(&pem);
    free(b64);
}

TEST(csr_user_certificate_through_kubectl_certificate_approve)
{
    char *out, *err;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    openssl_request("alice", "/CN=alice/O=devs/O=ops");
    create_csr("alice", "alice", "kubernetes.io/kube-apiserver-client", "client auth", NULL, NULL);
    {
        const char *w[] = {"get", "csr", NULL};
        out = run_kubectl_rc(&c, 0, NULL, w);
        CHECK_HAS(out, "NAME    AGE   SIGNERNAME                            REQUESTOR      "
                       "REQUESTEDDURATION   CONDITION");
        CHECK_HAS(out, "kubernetes.io/kube-apiserver-client   system:admin   <none>              Pending");
        free(out);
    }
    {
        const char *w[] = {"certificate", "approve", "alice", NULL};
        out = run_kubectl_rc(&c, 0, NULL, w);
        CHECK_HAS(out, "certificatesigningrequest.certificates.k8s.io/alice approved");
        free(out);
    }
    wait_condition("alice", "Approved,Issued", 10000);
    save_certificate("alice", "alice");
    {
        const char *w[] = {"auth", "whoami", NULL};
        CHECK_INT(run_kubectl_cert(&c, "alice", &out, &err, w), ==, 0);
        CHECK_HAS(out, "alice");
        CHECK_HAS(out, "[devs ops system:authenticated]");
        free(out);
        free(err);
    }
    /* the spec is the requestor's: username set by the server */
    out = csr_field("alice", "jsonpath={.spec.username}");
    CHECK_INT(strcmp(out, "system:admin"), ==, 0);
    free(out);
}

TEST(csr_denied_gets_no_certificate_and_bad_requests_are_refused)
{
    char *out, *err;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    openssl_request("bob", "/CN=bob");
    create_csr("bob", "bob", "kubernetes.io/kube-apiserver-client", "client auth", NULL, NULL);
    {
        const char *w[] = {"certificate", "deny", "bob", NULL};
        out = run_kubectl_rc(&c, 0, NULL, w);
        CHECK_HAS(out, "certificatesigningrequest.certificates.k8s.io/bob denied");
        free(out);
    }
    wait_condition("bob", "Denied", 5000);
    test_sleep_ms(1500); /* the signer had its chance */
    out = csr_field("bob", "jsonpath={.status.certificate}");
    CHECK_INT(strlen(out), ==, 0);
    free(out);
    {   /* Approved and Denied are exclusive */
        const char *w[] = {"certificate", "approve", "bob", NULL};
        free(run_kubectl_rc(&c, 1, &err, w));
        CHECK_HAS(err, "already Denied");
        free(err);
    }
    {   /* system:masters is refused, as Kubernetes' CertificateSubjectRestriction */
        char path[700], yaml[200];
        openssl_request("root", "/CN=root/O=system:masters");
        snprintf(path, sizeof path, "%s/root.yaml", test_tmpdir());
        (void)yaml;
        const char *w[] = {"create", "-f", path, NULL};
        char *pem, y[4000];
        struct orc_buf b64 = ORC_BUF_INIT;
        snprintf(path, sizeof path, "%s/root.csr", test_tmpdir());
        pem = run_read_file(path);
        CHECK(orc_base64_encode(pem, strlen(pem), false, &b64) == 0);
        snprintf(y, sizeof y, "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\n"
                 "metadata: {name: root}\nspec:\n  request: %s\n  signerName: kubernetes.io/kube-apiserver-client\n"
                 "  expirationSeconds: 60\n  usages: [client auth]\n", b64.data);
        snprintf(path, sizeof path, "%s/root.yaml", test_tmpdir());
        CHECK(orc_file_write(path, y, strlen(y), 0600) == 0);
        free(run_kubectl_rc(&c, 1, &err, w));
        CHECK_HAS(err, "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 "
                       "seconds (10 minutes)");
        free(err);
        char *p = strstr(y, "  expirationSeconds: 60\n");
        memmove(p, p + strlen("  expirationSeconds: 60\n"), strlen(p + strlen("  expirationSeconds: 60\n")) + 1);
        CHECK(orc_file_write(path, y, strlen(y), 0600) == 0);
        free(run_kubectl_rc(&c, 1, &err, w));
        CHECK_HAS(err, "certificatesigningrequests.certificates.k8s.io \"root\" is forbidden: use of "
                       "kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed");
        free(err);
        free(pem);
        orc_buf_free(&b64);
    }
}

TEST(csr_approval_needs_approve_on_the_signer)
{
    char *out, *err;
    static const char rbac[] =
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: csr-updater}\n"
        "rules:\n- apiGroups: [certificates.k8s.io]\n  resources: [certificatesigningrequests, "
        "certificatesigningrequests/approval]\n  verbs: [get, list, update]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: carol}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-updater}\n"
        "subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: csr-approver}\n"
        "rules:\n- apiGroups: [certificates.k8s.io]\n  resources: [signers]\n"
        "  resourceNames: [kubernetes.io/kube-apiserver-client]\n  verbs: [approve]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: erin}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-approver}\n"
        "subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: erin}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: erin-update}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-updater}\n"
        "subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: erin}]\n";
    char path[700];

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    snprintf(path, sizeof path, "%s/rbac.yaml", test_tmpdir());
    CHECK(orc_file_write(path, rbac, strlen(rbac), 0600) == 0);
    {
        const char *w[] = {"create", "-f", path, NULL};
        free(run_kubectl_rc(&c, 0, NULL, w));
    }
    openssl_request("dan", "/CN=dan");
    create_csr("dan", "dan", "kubernetes.io/kube-apiserver-client", "client auth", NULL, NULL);
    {   /* no rights at all: RBAC's words */
        const char *w[] = {"--as", "dave", "certificate", "approve", "dan", NULL};
        free(run_kubectl_rc(&c, 1, &err, w));
        CHECK_HAS(err, "User \"dave\" cannot get resource \"certificatesigningrequests\" in API group "
                       "\"certificates.k8s.io\" at the cluster scope");
        free(err);
    }
    {   /* may update the approval, may not approve for the signer */
        const char *w[] = {"--as", "carol", "certificate", "approve", "dan", NULL};
        free(run_kubectl_rc(&c, 1, &err, w));
        CHECK_HAS(err, "certificatesigningrequests.certificates.k8s.io \"dan\" is forbidden: user not "
                       "permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client\"");
        free(err);
    }
    out = csr_field("dan", "jsonpath={.status.conditions}");
    CHECK_INT(strlen(out), ==, 0);
    free(out);
    {
        const char *w[] = {"--as", "erin", "certificate", "approve", "dan", NULL};
        free(run_kubectl_rc(&c, 0, NULL, w));
    }
    wait_condition("dan", "Approved,Issued", 10000);
}

TEST(csr_node_requests_its_own_certificate_not_another_nodes)
{
    if (!run_have_kubectl()) return;
    run_start_one(&c);
    openssl_request("n1", "/O=system:nodes/CN=system:node:n1");
    openssl_request("n2", "/O=system:nodes/CN=system:node:n2");
    create_csr("self", "n1", "kubernetes.io/kube-apiserver-client-kubelet", "digital signature, client auth",
               "system:node:n1", "system:nodes");
    create_csr("other", "n2", "kubernetes.io/kube-apiserver-client-kubelet", "digital signature, client auth",
               "system:node:n1", "system:nodes");
    wait_condition("self", "Approved,Issued", 10000);
    {
        char *out = csr_field("self", "jsonpath={.status.conditions[0].reason}");
        CHECK_INT(strcmp(out, "AutoApproved"), ==, 0);
        free(out);
    }
    test_sleep_ms(1500);
    {
        const char *w[] = {"get", "csr", "other", "--no-headers", NULL};
        char *out = run_kubectl_rc(&c, 0, NULL, w);
        CHECK_HAS(out, "system:node:n1   <none>   Pending");
        free(out);
    }
    {   /* an administrator approves it anyway: the signer refuses */
        const char *w[] = {"certificate", "approve", "other", NULL};
        free(run_kubectl_rc(&c, 0, NULL, w));
    }
    wait_condition("other", "Approved,Failed", 10000);
    {
        char *out = csr_field("other", "jsonpath={.status.conditions[?(@.type==\"Failed\")].message}");
        CHECK_HAS(out, "node system:node:n1 may not request a certificate for system:node:n2");
        free(out);
        out = csr_field("other", "jsonpath={.status.certificate}");
        CHECK_INT(strlen(out), ==, 0);
        free(out);
    }
}

/* ---- an agent renewing its certificate while it runs ---- */

static char node[64], dir[600], alog[600], ip[32], listen_at[64];
static pid_t agent_pid;

static void teardown(void *arg)
{
    char cmd[2000];

    (void)arg;
    if (agent_pid > 0) {
        kill(agent_pid, SIGTERM);
        waitpid(agent_pid, NULL, 0);
        agent_pid = 0;
    }
    snprintf(cmd, sizeof cmd, "'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1",
             t_bin("orcd"), node, dir);
    if (system(cmd) < 0) fprintf(stderr, "# cleanup of %s failed\n", node);
}

static void start_agent(const char *token)
{
    char pod_logs[1200], ctr_logs[1200];
    snprintf(pod_logs, sizeof pod_logs, "%s/log/pods", dir);
    snprintf(ctr_logs, sizeof ctr_logs, "%s/log/containers", dir);
    const char *argv[] = {t_bin("orcd"), "agent", "--server", c.m[0].url, "--token", token,
                          "--node-name", node, "--data-dir", dir, "--listen", listen_at,
                          "--pod-log-dir", pod_logs, "--container-log-dir", ctr_logs,
                          "--node-ip", ip, "--network-backend", "none", "--cluster-dns", "off",
                          "--service-proxy", "off", "--ingress", "off", NULL};

    agent_pid = test_spawn_logged(argv, alog);
}

static bool node_ready(void)
{
    char path[128], *out = NULL;
    bool ready;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    ready = t_http(&c, 0, "GET", path, NULL, NULL, &out, NULL) == 200
            && strstr(out, "\"type\":\"Ready\",\"status\":\"True\"");
    free(out);
    return ready;
}

static long long lease_rv(void)
{
    char path[200];
    long long rv = -1;
    json_t *l;
    int st;

    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", node);
    l = t_json(&c, 0, "GET", path, NULL, &st);
    if (st == 200) rv = atoll(json_string_value(json_object_get(json_object_get(l, "metadata"),
                                                                "resourceVersion")) ?: "-1");
    json_decref(l);
    return rv;
}

static int64_t not_after(const char *file)
{
    char path[800], *pem, err[ORC_TLS_ERRLEN];
    int64_t nb = 0, na = 0;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (access(path, R_OK) != 0) return 0;
    pem = run_read_file(path);
    CHECKF(orc_tls_cert_times(pem, &nb, &na, err) == 0, "%s: %s", file, err);
    free(pem);
    return na;
}

TEST_T(csr_agent_renews_its_certificate_while_running, 120)
{
    const char *extra[] = {"--node-cert-ttl", "30s", NULL};
    char tokpath[700], *tok;
    int64_t first, renewed = 0;
    struct stat st;

    if (geteuid() != 0) {
        fprintf(stderr, "# SKIP: an agent needs root\n");
        return;
    }
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
    snprintf(node, sizeof node, "csr-%d", (int)getpid());
    snprintf(dir, sizeof dir, "%s/agent", test_tmpdir());
    snprintf(alog, sizeof alog, "%s/agent.log", test_tmpdir());
    snprintf(ip, sizeof ip, "%.*s.201", (int)(strrchr(c.m[0].ip, '.') - c.m[0].ip), c.m[0].ip);
    snprintf(listen_at, sizeof listen_at, "%s:10250", ip);
    test_defer(teardown, NULL);
    snprintf(tokpath, sizeof tokpath, "%s/agent-token", c.m[0].dir);
    tok = run_read_file(tokpath);
    tok[strcspn(tok, "\n")] = '\0';
    start_agent(tok);
    free(tok);
    for (uint64_t end = test_now_ms() + 20000; test_now_ms() < end && !node_ready(); test_sleep_ms(200)) {}
    CHECKF(node_ready(), "node %s not Ready; agent log %s", node, alog);
    first = not_after("agent.crt");
    CHECK(first > 0);
    /* renewed before the first certificate ends */
    for (uint64_t end = test_now_ms() + 40000; test_now_ms() < end && renewed <= first; test_sleep_ms(100))
        renewed = not_after("agent-client.crt");
    CHECKF(renewed > first, "no renewed certificate; agent log %s", alog);
    CHECK(stat(dir, &st) == 0);
    {
        char p[700];
        snprintf(p, sizeof p, "%s/agent-client.key", dir);
        CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    }
    /* past the first certificate's end the node still heartbeats */
    while ((int64_t)time(NULL) < first + 1) test_sleep_ms(100);
    {
        long long before = lease_rv(), now = before;
        for (uint64_t end = test_now_ms() + 15000; test_now_ms() < end && now == before; test_sleep_ms(300))
            now = lease_rv();
        CHECKF(now != before, "no Lease renewal after the first certificate expired; agent log %s", alog);
    }
    CHECKF(node_ready(), "node %s not Ready after the first certificate expired; agent log %s", node, alog);
}
