/* test_nodeauthz.c — the Node authorizer and NodeRestriction with stock
 * kubectl against a real `orcd server`: two node certificates (node-a,
 * node-b, as agents get them) and a pod bound to each; a node reads the
 * Secret and ConfigMap its own pod uses and not the other's (get, and
 * list and watch by name only: nothing cluster-wide nor namespace-wide),
 * and every node an Ingress's TLS Secret; it writes its
 * own Node and its own pod's status and not the other's, and creates
 * tokens only for the ServiceAccounts its pods run as. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The certificate an agent gets for node `name` (CN system:node:NAME, O
 * system:nodes), saved as <name>.crt/.key under the tmpdir. */
static void mint_node(const char *name, const char *ca, const char *ca_key)
{
    char *cert, *key, err[ORC_TLS_ERRLEN], cn[128], path[700];
    const char *groups[] = {"system:nodes"};

    snprintf(cn, sizeof cn, "system:node:%s", name);
    CHECKF(orc_tls_make_client_cert(ca, ca_key, cn, groups, 1, 3600, &cert, &key, err) == 0, "%s", err);
    snprintf(path, sizeof path, "%s/%s.crt", test_tmpdir(), name);
    CHECK(orc_file_write(path, cert, strlen(cert), 0600) == 0);
    snprintf(path, sizeof path, "%s/%s.key", test_tmpdir(), name);
    CHECK(orc_file_write(path, key, strlen(key), 0600) == 0);
    free(cert);
    explicit_bzero(key, strlen(key));
    free(key);
}

/* As node `name`: want exit 0 (ok) or a refusal whose stderr has `needle`. */
static void expect(const char *name, bool ok, const char *needle, const char *const *words)
{
    char *out = NULL, *err = NULL;
    int rc = run_kubectl_cert(&c, name, &out, &err, words);

    CHECKF(ok ? rc == 0 : rc != 0, "as %s: kubectl %s %s %s: exit %d\nstdout:\n%s\nstderr:\n%s", name,
           words[0], words[1], words[2] ? words[2] : "", rc, out, err);
    if (needle) CHECK_HAS(ok ? out : err, needle);
    free(out);
    free(err);
}

static const char manifest[] =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: na}\n---\n"
    "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n---\n"
    "apiVersion: v1\nkind: Node\nmetadata: {name: node-b}\n---\n"
    "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-a, namespace: na}\n---\n"
    "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-b, namespace: na}\n---\n"
    "apiVersion: v1\nkind: Secret\nmetadata: {name: sec-a, namespace: na}\nstringData: {k: a}\n---\n"
    "apiVersion: v1\nkind: Secret\nmetadata: {name: sec-b, namespace: na}\nstringData: {k: b}\n---\n"
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-a, namespace: na}\ndata: {k: a}\n---\n"
    "apiVersion: v1\nkind: Secret\nmetadata: {name: tls-x, namespace: na}\nstringData: {k: x}\n---\n"
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: na}\n"
    "spec:\n  tls: [{hosts: [web.example], secretName: tls-x}]\n"
    "  defaultBackend: {service: {name: web, port: {number: 80}}}\n---\n"
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-b, namespace: na}\ndata: {k: b}\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: pa, namespace: na}\n"
    "spec:\n  nodeName: node-a\n  serviceAccountName: sa-a\n  automountServiceAccountToken: false\n"
    "  containers:\n  - name: c\n    image: busybox\n"
    "    env:\n    - name: K\n      valueFrom: {secretKeyRef: {name: sec-a, key: k}}\n"
    "  volumes:\n  - name: v\n    projected: {sources: [{configMap: {name: cm-a}}]}\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: pb, namespace: na}\n"
    "spec:\n  nodeName: node-b\n  serviceAccountName: sa-b\n  automountServiceAccountToken: false\n"
    "  containers:\n  - name: c\n    image: busybox\n    envFrom: [{configMapRef: {name: cm-b}}]\n"
    "  volumes:\n  - name: v\n    secret: {secretName: sec-b}\n";

TEST_T(a_node_reaches_only_what_its_pods_use, 60)
{
    char *ca, *ca_key, path[700];

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    ca = member_file("ca.crt");
    ca_key = member_file("ca.key");
    mint_node("node-a", ca, ca_key);
    mint_node("node-b", ca, ca_key);
    free(ca);
    explicit_bzero(ca_key, strlen(ca_key));
    free(ca_key);
    snprintf(path, sizeof path, "%s/objs.yaml", test_tmpdir());
    CHECK(orc_file_write(path, manifest, strlen(manifest), 0600) == 0);
    free(run_kubectl_rc(&c, 0, NULL, (const char *const[]){"apply", "-f", path, NULL}));

    /* Reads: what its own pod uses, nothing of the other's. */
    expect("node-a", true, "sec-a", (const char *const[]){"-n", "na", "get", "secret", "sec-a", NULL});
    expect("node-a", true, "cm-a", (const char *const[]){"-n", "na", "get", "configmap", "cm-a", NULL});
    expect("node-a", false, "User \"system:node:node-a\" cannot get resource \"secrets\"",
           (const char *const[]){"-n", "na", "get", "secret", "sec-b", NULL});
    expect("node-a", false, "no relationship found between node 'node-a' and this object",
           (const char *const[]){"-n", "na", "get", "configmap", "cm-b", NULL});
    expect("node-b", true, "sec-b", (const char *const[]){"-n", "na", "get", "secret", "sec-b", NULL});
    expect("node-b", false, "cannot get resource \"secrets\"",
           (const char *const[]){"-n", "na", "get", "secret", "sec-a", NULL});

    /* Lists and watches: one object by name, one its pod uses; never a
     * namespace's nor the cluster's (the kubelet's watch-based manager). */
    expect("node-a", false,
           "User \"system:node:node-a\" cannot list resource \"secrets\" in API group \"\" at the cluster scope: "
           "can only read namespaced object of this type",
           (const char *const[]){"get", "secrets", "-A", NULL});
    expect("node-a", false, "cannot list resource \"configmaps\" in API group \"\" at the cluster scope",
           (const char *const[]){"get", "configmaps", "-A", NULL});
    expect("node-a", false,
           "cannot list resource \"secrets\" in API group \"\" in the namespace \"na\": No Object name found",
           (const char *const[]){"-n", "na", "get", "secrets", NULL});
    expect("node-a", false, "cannot watch resource \"secrets\"",
           (const char *const[]){"get", "--raw", "/api/v1/namespaces/na/secrets?watch=true&timeoutSeconds=1", NULL});
    expect("node-a", true, "sec-a",
           (const char *const[]){"-n", "na", "get", "secrets", "--field-selector", "metadata.name=sec-a", NULL});
    expect("node-a", true, "cm-a",
           (const char *const[]){"-n", "na", "get", "configmaps", "--field-selector", "metadata.name=cm-a", NULL});
    expect("node-a", true, "\"sec-a\"",
           (const char *const[]){"get", "--raw",
                                 "/api/v1/namespaces/na/secrets?watch=true&timeoutSeconds=1"
                                 "&fieldSelector=metadata.name%3Dsec-a", NULL});
    expect("node-a", false, "cannot list resource \"secrets\"",
           (const char *const[]){"-n", "na", "get", "secrets", "--field-selector", "metadata.name=sec-b", NULL});
    expect("node-a", false, "cannot watch resource \"configmaps\"",
           (const char *const[]){"get", "--raw",
                                 "/api/v1/namespaces/na/configmaps?watch=true&timeoutSeconds=1"
                                 "&fieldSelector=metadata.name%3Dcm-b", NULL});
    /* Every node serves Ingress: an Ingress's TLS Secret is each node's. */
    expect("node-a", true, "tls-x", (const char *const[]){"-n", "na", "get", "secret", "tls-x", NULL});
    expect("node-b", true, "tls-x",
           (const char *const[]){"-n", "na", "get", "secrets", "--field-selector", "metadata.name=tls-x", NULL});

    /* Tokens: only for its pods' ServiceAccounts. */
    {
        char *uid = run_kubectl_rc(&c, 0, NULL,
                                   (const char *const[]){"-n", "na", "get", "pod", "pa", "-o",
                                                         "jsonpath={.metadata.uid}", NULL});
        expect("node-a", true, NULL,
               (const char *const[]){"-n", "na", "create", "token", "sa-a", "--bound-object-kind", "Pod",
                                     "--bound-object-name", "pa", "--bound-object-uid", uid, NULL});
        free(uid);
    }
    expect("node-a", false, "node requested token not bound to a pod",
           (const char *const[]){"-n", "na", "create", "token", "sa-a", NULL});
    expect("node-a", false, "cannot create resource \"serviceaccounts/token\"",
           (const char *const[]){"-n", "na", "create", "token", "sa-b", NULL});

    /* Writes: its own Node and its own pod's status only. */
    expect("node-a", true, NULL,
           (const char *const[]){"patch", "node", "node-a", "--type=merge", "-p",
                                 "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}", NULL});
    expect("node-a", false, "node \"node-a\" is not allowed to modify node \"node-b\"",
           (const char *const[]){"patch", "node", "node-b", "--type=merge", "-p",
                                 "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}", NULL});
    expect("node-a", true, NULL,
           (const char *const[]){"-n", "na", "patch", "pod", "pa", "--subresource=status", "--type=merge",
                                 "-p", "{\"status\":{\"message\":\"mine\"}}", NULL});
    expect("node-a", false,
           "node \"node-a\" can only update pod status for pods with spec.nodeName set to itself",
           (const char *const[]){"-n", "na", "patch", "pod", "pb", "--subresource=status", "--type=merge",
                                 "-p", "{\"status\":{\"message\":\"theirs\"}}", NULL});
    expect("node-a", false, "node \"node-a\" can only delete pods with spec.nodeName set to itself",
           (const char *const[]){"-n", "na", "delete", "pod", "pb", "--wait=false", NULL});

    /* NodeRestriction on bodies: no other Node created, no restricted
     * label, no pod but a mirror pod. */
    snprintf(path, sizeof path, "%s/node-c.yaml", test_tmpdir());
    {
        static const char node_c[] = "apiVersion: v1\nkind: Node\nmetadata: {name: node-c}\n";
        CHECK(orc_file_write(path, node_c, sizeof node_c - 1, 0600) == 0);
    }
    expect("node-a", false, "node \"node-a\" is not allowed to modify node \"node-c\"",
           (const char *const[]){"create", "-f", path, NULL});
    expect("node-a", false, "is not allowed to modify labels: node-restriction.kubernetes.io/pool",
           (const char *const[]){"label", "node", "node-a", "node-restriction.kubernetes.io/pool=x", NULL});
    expect("node-a", true, NULL, (const char *const[]){"label", "node", "node-a", "pool=x", NULL});
    expect("node-a", false, "node \"node-a\" can only create mirror pods",
           (const char *const[]){"-n", "na", "run", "p2", "--image=busybox", "--restart=Never",
                                 "--overrides={\"spec\":{\"nodeName\":\"node-a\"}}", NULL});

    /* A pod deleted, its references go with it. */
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"-n", "na", "delete", "pod", "pa", "--grace-period=0",
                                              "--force", NULL}));
    for (uint64_t end = test_now_ms() + 10000; test_now_ms() < end; test_sleep_ms(200)) {
        char *out = NULL, *err = NULL;
        int rc = run_kubectl_cert(&c, "node-a", &out, &err,
                                  (const char *const[]){"-n", "na", "get", "secret", "sec-a", NULL});
        free(out);
        free(err);
        if (rc != 0) break;
    }
    expect("node-a", false, "cannot get resource \"secrets\"",
           (const char *const[]){"-n", "na", "get", "secret", "sec-a", NULL});
}
