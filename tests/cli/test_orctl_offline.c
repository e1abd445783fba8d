/* test_orctl_offline.c — the orctl binary where no server is needed, or none
 * answers: usage errors and their exit status, help, missing configuration,
 * refused connections, and manifests rejected before any request. */
#include <stdlib.h>
#include <string.h>

#include "tests/cli/run.h"
#include "tests/harness/test.h"

static char home[600];

/* orctl with an empty home: no ~/.orc/config. */
static int orctl(char **out, char **err, const char *arg, ...)
{
    va_list ap;
    int rv;

    if (home[0] == '\0') {
        snprintf(home, sizeof home, "%s/home", test_tmpdir());
        mkdir(home, 0700);
    }
    va_start(ap, arg);
    rv = run_orctl_v(home, NULL, out, err, arg, ap);
    va_end(ap);
    return rv;
}

static void check_run(int want_rc, const char *want_out, const char *want_err, const char *arg, ...)
{
    char *out, *err;
    va_list ap;
    int rc;

    if (home[0] == '\0') {
        snprintf(home, sizeof home, "%s/home", test_tmpdir());
        mkdir(home, 0700);
    }
    va_start(ap, arg);
    rc = run_orctl_v(home, NULL, &out, &err, arg, ap);
    va_end(ap);
    CHECKF(rc == want_rc, "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", rc, want_rc, out, err);
    if (want_out) CHECK_STR(out, want_out);
    if (want_err) CHECK_STR(err, want_err);
    free(out);
    free(err);
}

TEST(usage_errors_exit_2_with_a_hint)
{
    check_run(2, "", "error: unknown command \"frobnicate\" for \"orctl\"\nRun 'orctl --help' for usage.\n",
              "frobnicate", NULL);
    check_run(2, "", "error: no command given (apply, get, describe, delete, create, scale, version, "
                     "cluster)\nRun 'orctl --help' for usage.\n", NULL);
    check_run(2, "", "error: unknown flag: --bogus\nSee 'orctl get --help' for usage.\n", "get", "po",
              "--bogus", NULL);
    check_run(2, "", "error: you must specify the type of resource to get (e.g. pods, deployments, "
                     "all)\nSee 'orctl get --help' for usage.\n", "get", NULL);
    check_run(2, "", "error: must specify -f FILE\nSee 'orctl apply --help' for usage.\n", "apply", NULL);
    check_run(2, "", "error: unsupported output format \"toml\": want wide, yaml, json or name\n"
                     "See 'orctl get --help' for usage.\n", "get", "po", "-o", "toml", NULL);
    check_run(2, "", "error: --replicas=COUNT is required, and COUNT must be greater than or equal to 0\n"
                     "See 'orctl scale --help' for usage.\n", "scale", "deploy/web", NULL);
    check_run(2, "", NULL, "delete", "deploy", NULL);
    check_run(2, "", NULL, "delete", "deploy", "web", "--cascade=sideways", NULL);
    check_run(2, "", NULL, "cluster", NULL);
    check_run(2, "", NULL, "create", "widget", "x", NULL);
    check_run(2, "", "error: flag needs an argument: 'n' in -n\nSee 'orctl get --help' for usage.\n",
              "get", "po", "-n", NULL);
}

TEST(help_for_orctl_and_each_command)
{
    char *out, *err;

    CHECK_INT(orctl(&out, &err, "--help", NULL), ==, 0);
    CHECK_HAS(out, "Usage:\n  orctl COMMAND [flags]");
    CHECK_HAS(out, "  apply ");
    CHECK_HAS(out, "  cluster ");
    free(out);
    free(err);
    static const char *const cmds[] = {"apply", "get", "describe", "delete", "create", "scale",
                                       "version", "cluster", "api-resources", "logs", "events"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        CHECK_INT(orctl(&out, &err, cmds[i], "-h", NULL), ==, 0);
        CHECK_HAS(out, "Usage:\n  orctl ");
        CHECK_HAS(out, cmds[i]);
        CHECK_HAS(out, "Global options:");
        CHECK_STR(err, "");
        free(out);
        free(err);
    }
    CHECK_INT(orctl(&out, &err, "help", "apply", NULL), ==, 0);
    CHECK_HAS(out, "  -f, --filename FILE");
    free(out);
    free(err);
}

TEST(missing_config_names_the_files_tried)
{
    char *out, *err, want[1200];

    CHECK_INT(orctl(&out, &err, "get", "po", NULL), ==, 1);
    snprintf(want, sizeof want, "error: no configuration found: tried $ORC_CONFIG (not set), "
                                "$KUBECONFIG (not set) and %s/.orc/config (no such file)", home);
    CHECK_HAS(err, want);
    CHECK_STR(out, "");
    free(out);
    free(err);
    CHECK_INT(orctl(&out, &err, "--config", "/nonexistent/admin.conf", "get", "po", NULL), ==, 1);
    CHECK_HAS(err, "error: cannot read the config file given with --config: /nonexistent/admin.conf");
    free(out);
    free(err);
}

TEST(unreachable_server_is_refused_and_the_token_never_shown)
{
    char *out, *err;

    /* Port 1 on loopback: nothing listens there. */
    CHECK_INT(orctl(&out, &err, "get", "deploy", "--server", "http://127.0.0.1:1", "--token",
                    "s3cret-t0ken", NULL), ==, 1);
    CHECK_STR(err, "The connection to the server http://127.0.0.1:1 was refused - did you specify "
                   "the right host or port?\n");
    CHECK_LACKS(err, "s3cret");
    CHECK_STR(out, "");
    free(out);
    free(err);
    CHECK_INT(orctl(&out, &err, "--server=ftp://example.com:6443", "get", "po", NULL), ==, 1);
    CHECK_HAS(err, "is not supported: want https://HOST:PORT");
    free(out);
    free(err);
    CHECK_INT(orctl(&out, &err, "--server=https://127.0.0.1:1", "get", "po", NULL), ==, 1);
    CHECK_STR(err, "The connection to the server https://127.0.0.1:1 was refused - did you specify "
                   "the right host or port?\n");
    free(out);
    free(err);
    CHECK_INT(orctl(&out, &err, "--server=https://127.0.0.1:1", "--certificate-authority",
                    "/nonexistent/ca.crt", "get", "po", NULL), ==, 1);
    CHECK_HAS(err, "error: unable to read certificate-authority /nonexistent/ca.crt");
    free(out);
    free(err);
}

TEST(version_client_needs_no_server)
{
    char *out, *err;

    CHECK_INT(orctl(&out, &err, "version", "--client", NULL), ==, 0);
    CHECK_STR(out, "Client Version: v0.1.0\n");
    free(out);
    free(err);
    CHECK_INT(orctl(&out, &err, "version", "--client", "-o", "json", NULL), ==, 0);
    CHECK_HAS(out, "\"clientVersion\": {");
    CHECK_HAS(out, "\"gitVersion\": \"v0.1.0\"");
    CHECK_LACKS(out, "serverVersion");
    free(out);
    free(err);
}

TEST(manifests_with_only_bad_documents_fail_before_connecting)
{
    char path[700], *out, *err, want[1200];

    snprintf(path, sizeof path, "%s/bad.yaml", test_tmpdir());
    CHECK(orc_file_write(path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n", 53, 0600) == 0);
    /* No config either: the manifest is judged first. */
    CHECK_INT(orctl(&out, &err, "apply", "-f", path, NULL), ==, 1);
    snprintf(want, sizeof want, "error: %s: document 1: line 4, column 1: did not find expected ',' or ']'", path);
    CHECK_HAS(err, want);
    CHECK_LACKS(err, "no configuration");
    CHECK_STR(out, "");
    free(out);
    free(err);
    CHECK_INT(orctl(&out, &err, "apply", "-f", "/nonexistent.yaml", NULL), ==, 1);
    CHECK_STR(err, "error: the path \"/nonexistent.yaml\" does not exist\n");
    free(out);
    free(err);
}

TEST(api_resources_lists_the_kinds)
{
    char *out, *err;

    CHECK_INT(orctl(&out, &err, "api-resources", NULL), ==, 0);
    CHECK_HAS(out, "NAME                         SHORTNAMES   APIVERSION                     NAMESPACED   KIND\n");
    CHECK_HAS(out, "deployments                  deploy       apps/v1                        true         Deployment\n");
    CHECK_HAS(out, "persistentvolumeclaims       pvc          v1                             true         PersistentVolumeClaim\n");
    CHECK_HAS(out, "priorityclasses              pc           scheduling.k8s.io/v1           false        PriorityClass\n");
    CHECK_HAS(out, "horizontalpodautoscalers     hpa          autoscaling/v2                 true         HorizontalPodAutoscaler\n");
    CHECK(strstr(out, "autoscaling/v1") == NULL); /* the preferred version alone */
    CHECK_HAS(out, "certificatesigningrequests   csr          certificates.k8s.io/v1         false        "
                   "CertificateSigningRequest\n");
    free(out);
    free(err);
}
