/* test_kubectl_podsec.c — Pod Security Admission through stock kubectl
 * against a real `orcd server`: a restricted namespace refuses a violating
 * pod with Kubernetes' message and takes a compliant one; warn answers with
 * Warnings kubectl prints; a workload's template warns; tightening a
 * namespace's enforce label warns about the pods already there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

/* kubectl WORDS, checking its exit status; stdout and stderr in one
 * string (free it): kubectl prints warnings on stderr. */
static char *kubectl(int want_rc, const char *const *words)
{
    char *err = NULL, *out = run_kubectl_rc(&c, want_rc, &err, words), *both = NULL;

    CHECK(asprintf(&both, "%s\n%s", out ? out : "", err ? err : "") > 0);
    free(out);
    free(err);
    test_defer(free, both);
    return both;
}

#define KUBECTL(rc, ...) kubectl(rc, (const char *const[]){__VA_ARGS__, NULL})

static const char *manifest(const char *name, const char *text)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    test_defer(free, path);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    return path;
}

static const char *const compliant =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n"
    "  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}\n"
    "  containers:\n  - name: c\n    image: busybox:1.36\n"
    "    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";

static const char *const privileged =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: priv}\nspec:\n  containers:\n  - name: c\n"
    "    image: busybox:1.36\n    securityContext: {privileged: true}\n";

TEST_T(restricted_namespace_refuses_and_admits, 120)
{
    char *o;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL(0, "create", "namespace", "psa");
    KUBECTL(0, "label", "namespace", "psa", "pod-security.kubernetes.io/enforce=restricted");
    o = KUBECTL(1, "-n", "psa", "run", "bad", "--image=busybox:1.36");
    CHECK_HAS(o, "pods \"bad\" is forbidden: violates PodSecurity \"restricted:latest\": "
                 "allowPrivilegeEscalation != false (container \"bad\" must set "
                 "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "
                 "\"bad\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod "
                 "or container \"bad\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or "
                 "container \"bad\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
                 "\"Localhost\")");
    o = KUBECTL(1, "-n", "psa", "create", "--validate=false", "-f", manifest("priv.yaml", privileged));
    CHECK_HAS(o, "privileged (container \"c\" must not set securityContext.privileged=true)");
    o = KUBECTL(0, "-n", "psa", "create", "--validate=false", "-f", manifest("good.yaml", compliant));
    CHECK_HAS(o, "pod/good created");
    CHECK_LACKS(o, "Warning");
    o = KUBECTL(1, "-n", "psa", "get", "pod", "bad");
    CHECK_HAS(o, "not found");
    /* a workload only warns: its pods are refused when they are made */
    o = KUBECTL(0, "-n", "psa", "create", "deployment", "web", "--image=busybox:1.36");
    CHECK_HAS(o, "Warning: would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false "
                 "(container \"busybox\" must set securityContext.allowPrivilegeEscalation=false)");
    CHECK_HAS(o, "deployment.apps/web created");
    /* ... and its ReplicaSet reports the refusal as FailedCreate */
    for (int i = 0; i < 60; i++) {
        char *err = NULL, *out = NULL;
        const char *const words[] = {"-n", "psa", "get", "rs", "-o",
                                     "jsonpath={.items[0].status.conditions[0].message}", NULL};
        run_kubectl(&c, &out, &err, words);
        bool refused = out && strstr(out, "violates PodSecurity \"restricted:latest\"");
        free(out);
        free(err);
        if (refused) return;
        usleep(250 * 1000);
    }
    CHECKF(false, "the ReplicaSet never reported its pods refused");
}

TEST_T(warn_level_warns_and_admits, 120)
{
    char *o;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL(0, "create", "namespace", "w");
    KUBECTL(0, "label", "namespace", "w", "pod-security.kubernetes.io/warn=baseline");
    o = KUBECTL(0, "-n", "w", "create", "--validate=false", "-f", manifest("priv.yaml", privileged));
    CHECK_HAS(o, "Warning: would violate PodSecurity \"baseline:latest\": privileged (container \"c\" must not "
                 "set securityContext.privileged=true)");
    CHECK_HAS(o, "pod/priv created");
    o = KUBECTL(1, "label", "--overwrite", "namespace", "w", "pod-security.kubernetes.io/enforce=strict");
    CHECK_HAS(o, "must be one of privileged, baseline, restricted");
}

TEST_T(tightening_enforce_warns_about_existing_pods, 120)
{
    char *o;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL(0, "create", "namespace", "lax");
    KUBECTL(0, "-n", "lax", "run", "a", "--image=busybox:1.36");
    KUBECTL(0, "-n", "lax", "run", "b", "--image=busybox:1.36");
    KUBECTL(0, "-n", "lax", "create", "--validate=false", "-f", manifest("good.yaml", compliant));
    o = KUBECTL(0, "label", "--overwrite", "namespace", "lax", "pod-security.kubernetes.io/enforce=restricted");
    CHECK_HAS(o, "Warning: existing pods in namespace \"lax\" violate the new PodSecurity enforce level "
                 "\"restricted:latest\"");
    CHECK_HAS(o, "Warning: a (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, "
                 "runAsNonRoot != true, seccompProfile");
    CHECK_HAS(o, "namespace/lax labeled");
    /* relaxing warns about nothing */
    o = KUBECTL(0, "label", "--overwrite", "namespace", "lax", "pod-security.kubernetes.io/enforce=baseline");
    CHECK_LACKS(o, "Warning");
}
