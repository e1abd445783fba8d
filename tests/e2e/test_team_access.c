/* test_team_access.c — README's "A teammate limited to one namespace", with
 * stock kubectl against a real `orcd server`: the administrator mints a
 * kubeconfig (orctl kubeconfig create) and binds the view role in one
 * namespace; the teammate reads there, nothing elsewhere, writes nothing,
 * and `kubectl auth can-i` says so before anyone tries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;
static char conf[700]; /* the teammate's kubeconfig */

/* kubectl as the teammate: its exit code, its stdout and stderr in *out. */
static int as_alice(char **out, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig", conf};
    char *o = NULL, *e = NULL;
    int n = 3, rc;

    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    rc = run_prog(c.home, NULL, &o, &e, argv);
    if (out && asprintf(out, "%s%s", o ? o : "", e ? e : "") < 0) *out = NULL;
    free(o);
    free(e);
    return rc;
}
#define ALICE(out, ...) as_alice(out, (const char *const[]){__VA_ARGS__, NULL})

/* `kubectl auth can-i` as the teammate answers `want` ("yes" or "no"). */
static void can_i(const char *want, const char *verb, const char *what, const char *ns)
{
    char *out = NULL;
    int rc = ALICE(&out, "auth", "can-i", verb, what, "-n", ns);

    CHECKF(out && strncmp(out, want, strlen(want)) == 0 && (rc == 0) == (strcmp(want, "yes") == 0),
           "can-i %s %s -n %s: exit %d, %s (want %s)", verb, what, ns, rc, out ? out : "", want);
    free(out);
}

static void forbidden(const char *const *words, const char *says)
{
    char *out = NULL;
    int rc = as_alice(&out, words);

    CHECKF(rc != 0 && out && strstr(out, says), "%s %s: exit %d, %s (want: %s)", words[0], words[1], rc,
           out ? out : "", says);
    free(out);
}
#define FORBIDDEN(says, ...) forbidden((const char *const[]){__VA_ARGS__, NULL}, says)

TEST_T(teammate_views_one_namespace_only, 60)
{
    char *out = NULL, *err = NULL;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    /* The administrator's side, as README shows it. */
    CHECK(run_orctl(&c, &out, &err, "kubeconfig", "create", "alice", "--group", "team-a", "--expires",
                    "24h", NULL) == 0);
    snprintf(conf, sizeof conf, "%s/alice.conf", test_tmpdir());
    CHECK(orc_file_write(conf, out, strlen(out), 0600) == 0);
    free(out);
    free(err);
    free(run_kubectl_rc(&c, 0, NULL, (const char *const[]){"create", "namespace", "team-a", NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "rolebinding", "team-a-view", "-n", "team-a",
                                              "--clusterrole=view", "--group=team-a", NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "configmap", "settings", "-n", "team-a",
                                              "--from-literal=k=v", NULL}));

    can_i("yes", "list", "pods", "team-a");
    can_i("yes", "get", "configmaps", "team-a");
    can_i("no", "create", "deployments", "team-a");
    can_i("no", "get", "secrets", "team-a"); /* view leaves Secrets out, as Kubernetes' */
    can_i("no", "list", "pods", "default");
    can_i("no", "list", "pods", "kube-system");

    CHECK(ALICE(&out, "get", "configmap", "settings", "-n", "team-a") == 0);
    CHECKF(out && strstr(out, "settings"), "%s", out ? out : "");
    free(out);
    FORBIDDEN("User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
              "get", "pods", "-n", "default");
    FORBIDDEN("User \"alice\" cannot create resource \"configmaps\" in API group \"\" in the namespace "
              "\"team-a\"",
              "create", "configmap", "mine", "-n", "team-a");
    FORBIDDEN("User \"alice\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope",
              "get", "namespaces");
    /* nor give herself more */
    FORBIDDEN("User \"alice\" cannot create resource \"rolebindings\"", "create", "rolebinding", "more", "-n",
              "team-a", "--clusterrole=admin", "--user=alice");
}
