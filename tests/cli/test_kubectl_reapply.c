/* test_kubectl_reapply.c — `kubectl apply -f` of a file already applied
 * changes nothing, as against Kubernetes: for every manifest of
 * manifests/examples/ and the real-world ones in tests/e2e/manifests/, the
 * second apply prints "unchanged" and leaves every object's
 * resourceVersion as it was. One `orcd server` without an agent. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

/* An aggregated ClusterRole whose manifest says `rules: []` (as Kubernetes'
 * docs write it): every apply sets the rules to [] again and the
 * aggregation controller fills them in again, on Kubernetes as here, so
 * its resourceVersion moves too; it is left out of the versions compared. */
#define AGGREGATED "clusterrole.rbac.authorization.k8s.io/shop-monitoring"
#define AGGREGATED_RV "ClusterRole//shop-monitoring="

/* Objects that Kubernetes itself reports "configured" on every apply, the
 * PATCH changing nothing stored: kubectl replaces an atomic list whole
 * (no patch strategy), and the server defaults a field inside it again.
 * web.yaml: spec.volumeClaimTemplates (Kubernetes adds volumeMode and a
 * status); shop.yaml: a NetworkPolicy egress rule's port without a
 * protocol (defaulted to TCP). Their resourceVersion still must not move. */
static const char *const reconfigured[] = {
    "statefulset.apps/web configured",
    "networkpolicy.networking.k8s.io/cartservice configured",
    AGGREGATED " configured",
    NULL,
};

static char *kubectl_in(const char *input, int *rc, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig"};
    char conf[700], *out, *err;
    int n = 2;

    snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
    argv[n++] = conf;
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    *rc = run_prog(c.home, input, &out, &err, argv);
    if (*rc != 0) fprintf(stderr, "kubectl %s %s: exit %d\n%s\n", argv[3], argv[4] ? argv[4] : "", *rc, err);
    free(err);
    return out;
}

/* The manifest as a user applies it: pod.yaml names its node CHANGE-ME. */
static char *manifest(const char *path)
{
    char *text = run_read_file(path), *at = strstr(text, "CHANGE-ME");

    if (at) memcpy(at, "node-a   ", 9);
    return text;
}

/* "Kind/ns/name=rv" lines of every object the manifest names. */
static char *versions(const char *yaml)
{
    int rc;
    char *out = kubectl_in(yaml, &rc,
                           (const char *const[]){"get", "-f", "-", "-o",
                                                 "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/"
                                                 "{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}",
                                                 NULL});
    CHECKF(rc == 0, "kubectl get -f: exit %d", rc);
    char *line = out ? strstr(out, AGGREGATED_RV) : NULL;
    if (line) {
        char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        memmove(line, next, strlen(next) + 1);
    }
    return out;
}

/* The versions once they stop moving (controllers finish their status
 * writes for what was just created): two reads 600 ms apart that agree. */
static char *settled_versions(const char *yaml)
{
    char *a = versions(yaml);

    for (int i = 0; i < 30; i++) {
        test_sleep_ms(600);
        char *b = versions(yaml);
        bool same = strcmp(a, b) == 0;
        free(a);
        a = b;
        if (same) break;
    }
    return a;
}

static bool allowed_configured(const char *line, size_t len)
{
    for (size_t i = 0; reconfigured[i]; i++)
        if (strlen(reconfigured[i]) == len && strncmp(line, reconfigured[i], len) == 0) return true;
    return false;
}

/* Every manifest of dir, one YAML stream after another (appended to
 * *all), each as a user applies it. */
static void add_dir(const char *dir, struct orc_buf *all)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    CHECKF(d, "%s", dir);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char path[512], *text;
        if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        text = manifest(path);
        CHECK(orc_buf_printf(all, "---\n%s%s", text, text[0] && text[strlen(text) - 1] == '\n' ? "" : "\n") == 0);
        free(text);
    }
    closedir(d);
}

/* Applies yaml twice: the second apply says "unchanged" for each object
 * (but those Kubernetes itself reports "configured") and moves no
 * resourceVersion. */
static void reapply(const char *yaml)
{
    char *first, *before, *again, *after;
    size_t objects = 0;
    int rc;

    first = kubectl_in(yaml, &rc, (const char *const[]){"apply", "-f", "-", NULL});
    CHECKF(rc == 0 && strstr(first, "created"), "first apply exit %d:\n%s", rc, first);
    before = settled_versions(yaml);
    again = kubectl_in(yaml, &rc, (const char *const[]){"apply", "-f", "-", NULL});
    after = versions(yaml);
    CHECKF(rc == 0, "second apply exit %d", rc);
    for (const char *l = again; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
        size_t len = strcspn(l, "\n");
        bool ok = (len > 10 && strncmp(l + len - 10, " unchanged", 10) == 0) || allowed_configured(l, len);
        CHECKF(ok, "applied again: \"%.*s\" (want unchanged):\n%s", (int)len, l, again);
    }
    CHECKF(strcmp(before, after) == 0, "applied again, resourceVersions moved:\nbefore:\n%safter:\n%s", before,
           after);
    for (const char *p = before; (p = strchr(p, '\n')) != NULL; p++) objects++;
    CHECKF(objects >= 30, "only %zu objects:\n%s", objects, before);
    printf("# %zu objects applied twice, resourceVersions unmoved\n", objects);
    free(first);
    free(before);
    free(again);
    free(after);
}

TEST_T(kubectl_apply_twice_changes_nothing, 120)
{
    if (!run_have_kubectl()) return;
    struct orc_buf all = ORC_BUF_INIT;

    run_start_one(&c);
    add_dir("manifests/examples", &all);
    add_dir("tests/e2e/manifests", &all);
    reapply(all.data);
    orc_buf_free(&all);
}
