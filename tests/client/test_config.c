/* test_config.c — kubeconfig read/write: contexts, defaults, errors that
 * name the file, 0600 atomic writes, and kubectl reading what we write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/config.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static char *write_text(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char multi[] = "apiVersion: v1\nkind: Config\n"
                            "clusters:\n"
                            "- cluster:\n    certificate-authority-data: AAAA\n    server: https://a.example:6443\n  name: a\n"
                            "- cluster:\n    server: http://10.0.0.2:6443\n  name: b\n"
                            "contexts:\n"
                            "- context:\n    cluster: a\n    user: ua\n  name: ctx-a\n"
                            "- context:\n    cluster: b\n    user: ub\n    namespace: dev\n  name: ctx-b\n"
                            "current-context: ctx-b\n"
                            "preferences: {}\n"
                            "users:\n"
                            "- name: ua\n  user:\n    token: token-a\n"
                            "- name: ub\n  user:\n    token: \"123\"\n";

TEST(config_load_current_context)
{
    struct orc_client_config c;
    char err[256];
    const char *p = write_text("kc", multi);

    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.server, "http://10.0.0.2:6443");
    CHECK_STR(c.token, "123");
    CHECK_STR(c.path, p);
    orc_config_clear(&c);
    CHECK(c.server == NULL && c.token == NULL && c.path == NULL);
}

TEST(config_load_without_current_context_uses_first)
{
    struct orc_client_config c;
    char err[256];
    const char *p = write_text("kc", "clusters:\n- name: x\n  cluster:\n    server: http://h:1\n"
                                     "users:\n- name: u\n  user:\n    token: t0\n");

    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.server, "http://h:1");
    CHECK_STR(c.token, "t0");
    orc_config_clear(&c);
    /* No users: no token, still usable. */
    p = write_text("kc2", "clusters:\n- name: x\n  cluster:\n    server: http://h:2\n");
    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK(c.token == NULL);
    orc_config_clear(&c);
}

TEST(config_token_file)
{
    struct orc_client_config c;
    char err[256], text[1024];
    const char *tf = write_text("tok", "secret-from-file\n");
    char tfpath[512];

    snprintf(tfpath, sizeof tfpath, "%s", tf);
    snprintf(text, sizeof text, "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
             "clusters:\n- name: k\n  cluster: {server: 'http://h:3'}\n"
             "users:\n- name: u\n  user: {tokenFile: %s}\n", tfpath);
    const char *p = write_text("kc", text);
    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.token, "secret-from-file");
    orc_config_clear(&c);
}

static void expect_error(const char *text, int code, const char *msg)
{
    struct orc_client_config c;
    char err[256];
    const char *p = write_text("bad", text);

    CHECK_INT(orc_config_load(p, &c, err, sizeof err), ==, code);
    CHECKF(strstr(err, p) == err, "message does not start with the file: %s", err);
    CHECKF(strstr(err, msg) != NULL, "\"%s\" lacks \"%s\"", err, msg);
    CHECK(c.server == NULL && c.token == NULL);
}

TEST(config_load_errors_name_the_file)
{
    struct orc_client_config c;
    char err[256], missing[512];

    expect_error("current-context: nope\ncontexts: []\n", ORC_EINVAL, "current-context \"nope\"");
    expect_error("clusters:\n- name: a\n  cluster: {}\n", ORC_EINVAL, "has no server");
    expect_error("current-context: c\ncontexts:\n- name: c\n  context: {cluster: zz, user: u}\n",
                 ORC_EINVAL, "cluster \"zz\" not found");
    expect_error("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: who}\n"
                 "clusters:\n- name: k\n  cluster: {server: 'http://h'}\n", ORC_EINVAL,
                 "user \"who\" not found");
    expect_error("a: [\n", ORC_EINVAL, "document 1, line 2");
    expect_error("- just\n- a list\n", ORC_EINVAL, "not a kubeconfig");
    expect_error("", ORC_EINVAL, "not a kubeconfig");
    snprintf(missing, sizeof missing, "%s/none/config", test_tmpdir());
    CHECK_INT(orc_config_load(missing, &c, err, sizeof err), ==, ORC_ENOENT);
    CHECK(strstr(err, missing) != NULL);
}

TEST(config_search_order)
{
    struct orc_client_config c;
    char err[256], home[512];
    const char *p = write_text("envcfg", multi);

    setenv("ORC_CONFIG", p, 1);
    CHECKF(orc_config_load(NULL, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.path, p);
    orc_config_clear(&c);
    unsetenv("ORC_CONFIG");
    snprintf(home, sizeof home, "%s/home", test_tmpdir());
    setenv("HOME", home, 1);
    CHECK_INT(orc_config_load(NULL, &c, err, sizeof err), ==, ORC_ENOENT);
    char want[600];
    snprintf(want, sizeof want, "%s/.orc/config", home);
    CHECK_STR(orc_config_default_path(), want);
    CHECK_INT(orc_config_write(orc_config_default_path(), "http://127.0.0.1:6443", NULL, "tk"), ==, 0);
    CHECKF(orc_config_load(NULL, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.token, "tk");
    orc_config_clear(&c);

    /* $KUBECONFIG, as kubectl users set it, comes before ~/.orc/config:
     * the first file of its list that exists */
    char list[1600], gone[600];
    snprintf(gone, sizeof gone, "%s/no-such-kubeconfig", test_tmpdir());
    snprintf(list, sizeof list, "%s::%s:%s", gone, p, orc_config_default_path());
    setenv("KUBECONFIG", list, 1);
    CHECKF(orc_config_load(NULL, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.path, p);
    orc_config_clear(&c);
    /* none of the list there: ~/.orc/config */
    setenv("KUBECONFIG", gone, 1);
    CHECKF(orc_config_load(NULL, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.path, orc_config_default_path());
    orc_config_clear(&c);
    /* $ORC_CONFIG still first */
    setenv("KUBECONFIG", p, 1);
    setenv("ORC_CONFIG", orc_config_default_path(), 1);
    CHECKF(orc_config_load(NULL, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.path, orc_config_default_path());
    orc_config_clear(&c);
    unsetenv("ORC_CONFIG");
    unsetenv("KUBECONFIG");
}

TEST(config_write_is_private_and_round_trips)
{
    struct orc_client_config c;
    struct stat st;
    char err[256], dir[512], path[600];
    const char *token = "abc: def #x \"y\"";

    snprintf(dir, sizeof dir, "%s/new/sub", test_tmpdir());
    snprintf(path, sizeof path, "%s/admin.conf", dir);
    CHECK_INT(orc_config_write(path, "http://127.0.0.1:6443", NULL, token), ==, 0);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    CHECK_INT(stat(dir, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0700);
    CHECKF(orc_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.server, "http://127.0.0.1:6443");
    CHECK_STR(c.token, token);
    orc_config_clear(&c);
    /* Overwrite in place: still 0600, no temporary files left behind. */
    CHECK_INT(chmod(path, 0644), ==, 0);
    CHECK_INT(orc_config_write(path, "http://10.1.1.1:6443", NULL, "t2"), ==, 0);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    CHECK_INT(system(cmd), ==, 0);
    CHECK_INT(orc_config_write("/proc/nope/config", "http://x", NULL, "t"), <, 0);
}

TEST(config_written_file_text)
{
    char path[600], buf[1024];
    snprintf(path, sizeof path, "%s/c", test_tmpdir());
    CHECK_INT(orc_config_write(path, "http://127.0.0.1:6443", NULL, "TOKEN"), ==, 0);
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    CHECK_STR(buf, "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: http://127.0.0.1:6443\n"
                   "  name: orc\ncontexts:\n- context:\n    cluster: orc\n    user: admin\n  name: orc\n"
                   "current-context: orc\nusers:\n- name: admin\n  user:\n    token: TOKEN\n");
}

#define TEST_CA "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIQ\n-----END CERTIFICATE-----\n"

TEST(config_carries_the_ca)
{
    struct orc_client_config c;
    char err[256], path[600], text[1024];
    const char *p;

    snprintf(path, sizeof path, "%s/admin.conf", test_tmpdir());
    CHECK_INT(orc_config_write(path, "https://127.0.0.1:6443", TEST_CA, "tk"), ==, 0);
    CHECKF(orc_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.server, "https://127.0.0.1:6443");
    CHECK_STR(c.ca_pem, TEST_CA);
    CHECK(!c.insecure);
    orc_config_clear(&c);
    CHECK(c.ca_pem == NULL);
    /* certificate-authority: a file, relative to the config's folder. */
    write_text("ca.crt", TEST_CA);
    snprintf(text, sizeof text, "clusters:\n- name: k\n  cluster:\n    server: https://h:1\n"
                                "    certificate-authority: ca.crt\n");
    p = write_text("kc", text);
    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.ca_pem, TEST_CA);
    orc_config_clear(&c);
    p = write_text("kc", "clusters:\n- name: k\n  cluster:\n    server: https://h:1\n"
                         "    insecure-skip-tls-verify: true\n");
    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK(c.insecure && c.ca_pem == NULL);
    orc_config_clear(&c);
    expect_error("clusters:\n- name: k\n  cluster:\n    server: https://h:1\n"
                 "    certificate-authority-data: AAAA\n", ORC_EINVAL, "certificate-authority-data");
    expect_error("clusters:\n- name: k\n  cluster:\n    server: https://h:1\n"
                 "    certificate-authority: /nonexistent/ca.crt\n", ORC_EINVAL, "/nonexistent/ca.crt");
}

/* kubectl must read our file: skipped where kubectl is not installed. */
TEST(config_kubectl_accepts_it)
{
    char path[600], cmd[1024], out[256] = "";

    if (system("command -v kubectl >/dev/null 2>&1") != 0) return;
    snprintf(path, sizeof path, "%s/kc", test_tmpdir());
    CHECK_INT(orc_config_write(path, "https://127.0.0.1:6443", TEST_CA, "tok-123: x"), ==, 0);
    snprintf(cmd, sizeof cmd,
             "kubectl --kubeconfig %s config view --raw -o "
             "jsonpath='{.clusters[0].cluster.server} {.users[0].user.token} {.current-context} "
             "{.clusters[0].cluster.certificate-authority-data}'",
             path);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    CHECK_INT(pclose(p), ==, 0);
    /* The CA comes back as written: base64 of "-----BEGIN CERTIFICATE-----\n..." */
    CHECKF(strncmp(out, "https://127.0.0.1:6443 tok-123: x orc LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", 74) == 0,
           "%s", out);
}

/* The members' API URLs, for failover: written into the current context's
 * cluster entry (only when they differ), read back, other entries kept; a
 * list that is not https URLs is refused naming the file. */
TEST(config_servers_extension)
{
    struct orc_client_config c;
    char err[256];
    struct stat st1, st2;
    const char *urls[] = {"https://10.0.0.1:6443", "https://10.0.0.2:6443"};
    char *p = strdup(write_text("kc-servers", multi));

    CHECK(orc_config_set_servers(p, urls, 2) == 0);
    CHECKF(orc_config_load(p, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.server, "http://10.0.0.2:6443"); /* the context's own server is kept */
    CHECK_INT(c.n_servers, ==, 2);
    CHECK_STR(c.servers[1], "https://10.0.0.2:6443");
    CHECK_STR(c.token, "123");
    orc_config_clear(&c);
    CHECK(stat(p, &st1) == 0);
    CHECK((st1.st_mode & 0777) == 0600);
    usleep(20 * 1000);
    CHECK(orc_config_set_servers(p, urls, 2) == 0); /* the same list: not rewritten */
    CHECK(stat(p, &st2) == 0);
    CHECK(st1.st_ino == st2.st_ino && st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
    const char *bad[] = {"http://10.0.0.1:6443"};
    CHECK_INT(orc_config_set_servers(p, bad, 1), ==, ORC_EINVAL);
    free(p);

    p = write_text("kc-bad-servers",
                   "clusters:\n- cluster:\n    server: https://a:1\n    extensions:\n"
                   "    - name: orc.dev/servers\n      extension: {servers: [ftp://x]}\n  name: a\n");
    CHECK_INT(orc_config_load(p, &c, err, sizeof err), ==, ORC_EINVAL);
    CHECK(strstr(err, p) != NULL && strstr(err, "servers[0] is not an https:// URL") != NULL);
}
