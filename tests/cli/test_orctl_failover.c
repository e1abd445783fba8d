/* test_orctl_failover.c — orctl with a three-member cluster: `orctl cluster
 * members` records every member's API URL in the config (an extension
 * kubectl ignores), and when the member the config names dies, orctl's
 * requests go to another one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static char *orctl(int want_rc, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {t_bin("orctl")};
    char *out, *err;
    int n = 1, rc;

    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    rc = run_prog(c.home, NULL, &out, &err, argv);
    CHECKF(rc == want_rc, "orctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", argv[1], rc,
           want_rc, out, err);
    free(err);
    return out;
}

#define ORCTL(rc, ...) orctl(rc, (const char *const[]){__VA_ARGS__, NULL})

TEST_T(orctl_fails_over_to_a_member_the_config_lists, 90)
{
    char conf[700];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    snprintf(conf, sizeof conf, "%s/.orc/config", c.home);
    free(ORCTL(0, "cluster", "members"));
    char *text = run_read_file(conf);
    CHECK(strstr(text, "orc.dev/servers") != NULL);
    for (int i = 0; i < 3; i++) CHECKF(strstr(text, c.m[i].url) != NULL, "%s lacks %s", conf, c.m[i].url);
    free(text);
    if (access("/usr/bin/kubectl", X_OK) == 0) { /* kubectl still reads it */
        const char *argv[] = {"/usr/bin/kubectl", "--kubeconfig", conf, "get", "ns", NULL};
        char *out, *err;
        CHECKF(run_prog(c.home, NULL, &out, &err, argv) == 0, "kubectl: %s", err);
        free(out);
        free(err);
    }

    /* The config's own server (member 0's) dies. */
    text = run_read_file(conf);
    CHECK(strstr(text, c.m[0].url) != NULL);
    free(text);
    member_kill(&c, 0);
    CHECKF(cluster_leader(&c, 15000) > 0, "no leader among the others");
    char *out = ORCTL(0, "get", "ns");
    CHECK(strstr(out, "default") != NULL);
    free(out);
    free(ORCTL(0, "create", "configmap", "after", "--from-literal=a=b"));
    free(ORCTL(0, "get", "cm", "after"));
}
