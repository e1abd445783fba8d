/* test_rt_pull.c — rt_pull against a real registry: policies, errors as
 * ORC_E* codes with words, credentials, registries.yaml mirrors and
 * rewrites, one download for concurrent pulls, one unpack per digest. */
#include "tests/agent/rtfx.h"

#define EXPECT_PULL(call, want, p)                                                          \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        CHECKF(rc_ == (want), "%s: %s, want %s: %s", #call, orc_strerror(rc_), #want, (p).msg); \
    } while (0)

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static int manifest_gets(const char *repo, const char *tag)
{
    char what[256];
    snprintf(what, sizeof what, "GET /v2/%s/manifests/%s ", repo, tag);
    return registry_count(&F.reg, what);
}

TEST_T(pull_policies, 60)
{
    struct fx_pull p = {0};
    char path[1024], absent[200];

    fx_setup(true, false);
    fx_open();
    EXPECT_PULL(fx_pull(F.image, RT_PULL_IF_NOT_PRESENT, &p), 0, p);
    CHECK_STR(p.ref, F.image);
    CHECK(strncmp(p.digest, "sha256:", 7) == 0 && strlen(p.digest) == 71);
    CHECK_STR(json_string_value(json_array_get(json_object_get(p.config, "Cmd"), 0)), "sh");
    snprintf(path, sizeof path, "%s/images/rootfs/%s/bin/busybox", F.state, p.digest + 7);
    CHECKF(access(path, X_OK) == 0, "%s missing", path);
    CHECK_INT(manifest_gets("orc/busybox", "1"), ==, 1);

    /* present: IfNotPresent and Never do not go to the registry */
    EXPECT_PULL(fx_pull(F.image, RT_PULL_IF_NOT_PRESENT, &p), 0, p);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_NEVER, &p), 0, p);
    CHECK_INT(manifest_gets("orc/busybox", "1"), ==, 1);
    /* Always does */
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), 0, p);
    CHECK_INT(manifest_gets("orc/busybox", "1"), ==, 2);

    /* a new process knows what the last one pulled */
    fx_close();
    fx_open();
    registry_stop(&F.reg);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_IF_NOT_PRESENT, &p), 0, p);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_NEVER, &p), 0, p);
    CHECK_STR(json_string_value(json_array_get(json_object_get(p.config, "Cmd"), 0)), "sh");
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), ORC_EUNAVAIL, p);

    snprintf(absent, sizeof absent, "%s/orc/other:1", F.reg.host);
    EXPECT_PULL(fx_pull(absent, RT_PULL_NEVER, &p), ORC_ENOENT, p);
    CHECKF(strstr(p.msg, "not present and imagePullPolicy is Never"), "%s", p.msg);
    json_decref(p.config);
}

TEST_T(pull_errors, 60)
{
    struct fx_pull p = {0};
    char ref[200];
    int port;

    fx_setup(true, false);
    fx_open();
    snprintf(ref, sizeof ref, "%s/orc/busybox:nope", F.reg.host);
    EXPECT_PULL(fx_pull(ref, RT_PULL_IF_NOT_PRESENT, &p), ORC_ENOENT, p);
    CHECKF(strstr(p.msg, "manifest unknown") && strstr(p.msg, ref), "%s", p.msg);
    snprintf(ref, sizeof ref, "%s/orc/nothere:1", F.reg.host);
    EXPECT_PULL(fx_pull(ref, RT_PULL_IF_NOT_PRESENT, &p), ORC_ENOENT, p);

    port = F.reg.port;
    registry_stop(&F.reg);
    snprintf(ref, sizeof ref, "127.0.0.1:%d/orc/busybox:1", port);
    EXPECT_PULL(fx_pull(ref, RT_PULL_IF_NOT_PRESENT, &p), ORC_EUNAVAIL, p);
    CHECKF(strstr(p.msg, "connection refused"), "%s", p.msg);

    EXPECT_PULL(fx_pull("Not/A:Ref:", RT_PULL_IF_NOT_PRESENT, &p), ORC_EINVAL, p);
    CHECKF(strstr(p.msg, "Not/A:Ref:"), "%s", p.msg);
    EXPECT_PULL(fx_pull("", RT_PULL_ALWAYS, &p), ORC_EINVAL, p);
    json_decref(p.config);
}

static bool two_done(void *arg)
{
    struct fx_pull *p = arg;
    return p[0].done && p[1].done;
}

TEST_T(concurrent_pulls_share_one_download, 60)
{
    struct fx_pull p[2] = {{0}};
    char other[200], rootfs[1024];

    fx_setup(true, false);
    registry_push_busybox(&F.reg, "orc/copy:2");
    fx_open();
    CHECK_INT(rt_pull(F.r, F.image, RT_PULL_ALWAYS, NULL, fx_pull_cb, &p[0]), ==, 0);
    CHECK_INT(rt_pull(F.r, F.image, RT_PULL_IF_NOT_PRESENT, NULL, fx_pull_cb, &p[1]), ==, 0);
    CHECK(fx_run_until(two_done, p, 30000));
    CHECK(p[0].err == 0 && p[1].err == 0);
    CHECK_STR(p[0].digest, p[1].digest);
    CHECK_INT(manifest_gets("orc/busybox", "1"), ==, 1);
    json_decref(p[0].config);
    p[0].config = NULL;

    /* the same content under another name: one blob set, one root filesystem */
    snprintf(other, sizeof other, "%s/orc/copy:2", F.reg.host);
    EXPECT_PULL(fx_pull(other, RT_PULL_IF_NOT_PRESENT, &p[0]), 0, p[0]);
    CHECK_STR(p[0].digest, p[1].digest);
    snprintf(rootfs, sizeof rootfs, "%s/images/rootfs", F.state);
    CHECK_INT(count_dir(rootfs), ==, 1);
    snprintf(rootfs, sizeof rootfs, "%s/images/tmp", F.state);
    CHECK_INT(count_dir(rootfs), ==, 0); /* no one-image layouts or auth files left */

    /* by digest */
    snprintf(other, sizeof other, "%s/orc/busybox@%s", F.reg.host, p[1].digest);
    EXPECT_PULL(fx_pull(other, RT_PULL_IF_NOT_PRESENT, &p[0]), 0, p[0]);
    CHECK_STR(p[0].ref, other);
    CHECK_STR(p[0].digest, p[1].digest);
    json_decref(p[0].config);
    json_decref(p[1].config);
}

TEST_T(credentials, 60)
{
    struct fx_pull p = {0};
    struct rt_auth bad = {"orc", "wrong"}, good;
    char yaml[1024], path[600], dir[600];

    fx_setup(true, true);
    good.username = F.reg.user;
    good.password = F.reg.password;
    fx_open();
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), ORC_EPERM, p);
    CHECKF(strstr(p.msg, "unauthorized") || strstr(p.msg, "authentication"), "%s", p.msg);
    EXPECT_PULL(fx_pull_auth(F.image, RT_PULL_ALWAYS, &bad, &p), ORC_EPERM, p);
    CHECKF(strstr(p.msg, "wrong") == NULL, "the password leaked: %s", p.msg);
    EXPECT_PULL(fx_pull_auth(F.image, RT_PULL_ALWAYS, &good, &p), 0, p);
    snprintf(dir, sizeof dir, "%s/images/tmp", F.state);
    CHECK_INT(count_dir(dir), ==, 0); /* the credentials file is gone */
    fx_close();

    /* from registries.yaml, as k3s reads it */
    snprintf(yaml, sizeof yaml, "configs:\n  \"%s\":\n    auth:\n      username: %s\n      password: %s\n",
             F.reg.host, F.reg.user, F.reg.password);
    snprintf(path, sizeof path, "%s/registries.yaml", test_tmpdir());
    CHECK_INT(orc_file_write(path, yaml, strlen(yaml), 0600), ==, 0);
    fx_open_with(path);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), 0, p);
    json_decref(p.config);
}

TEST_T(mirror_serves_docker_io_names, 60)
{
    struct fx_pull p = {0};
    char yaml[1024], path[600];

    fx_setup(true, false);
    registry_push_busybox(&F.reg, "library/busybox:1.36");
    snprintf(yaml, sizeof yaml,
             "mirrors:\n  docker.io:\n    endpoint:\n      - \"%s\"\n"
             "  quay.io:\n    endpoint: [\"%s\"]\n    rewrite:\n      \"^mirrored/(.*)\": \"orc/$1\"\n",
             F.reg.url, F.reg.url);
    snprintf(path, sizeof path, "%s/registries.yaml", test_tmpdir());
    CHECK_INT(orc_file_write(path, yaml, strlen(yaml), 0600), ==, 0);
    fx_open_with(path);
    EXPECT_PULL(fx_pull("busybox:1.36", RT_PULL_IF_NOT_PRESENT, &p), 0, p);
    CHECK_STR(p.ref, "docker.io/library/busybox:1.36");
    CHECK_INT(manifest_gets("library/busybox", "1.36"), ==, 1);
    EXPECT_PULL(fx_pull("quay.io/mirrored/busybox:1", RT_PULL_IF_NOT_PRESENT, &p), 0, p);
    CHECK_STR(p.ref, "quay.io/mirrored/busybox:1");
    CHECK_INT(manifest_gets("orc/busybox", "1"), ==, 1);
    json_decref(p.config);
}

TEST(bad_registries_file)
{
    struct rt_config cfg = {0};
    char path[600], err[RT_ERRLEN] = "";
    rt *r = NULL;

    fx_setup(false, false);
    snprintf(path, sizeof path, "%s/registries.yaml", test_tmpdir());
    CHECK_INT(orc_file_write(path, "mirrors:\n  - nope\n", 18, 0600), ==, 0);
    cfg.state_dir = F.state;
    cfg.node_name = F.node;
    cfg.registries = path;
    cfg.orcd_path = t_bin("orcd");
    CHECK_INT(rt_open(&F.loop, &cfg, &r, err), ==, ORC_EINVAL);
    CHECKF(strstr(err, path) && strstr(err, "mirrors must be a map"), "%s", err);
    CHECK(r == NULL);
}

static void write_registries(const char *yaml)
{
    char path[600];

    snprintf(path, sizeof path, "%s/registries.yaml", test_tmpdir());
    CHECK_INT(orc_file_write(path, yaml, strlen(yaml), 0600), ==, 0);
    fx_close();
    fx_open_with(path);
}

TEST_T(tls_registry_checked_against_its_ca, 60)
{
    struct fx_pull p = {0};
    char yaml[2048];

    fx_setup(false, false);
    registry_start_tls(&F.reg, false);
    registry_push_busybox(&F.reg, "orc/busybox:1");
    snprintf(F.image, sizeof F.image, "%s/orc/busybox:1", F.reg.host);
    fx_open();

    /* the registry's own CA: verified */
    snprintf(yaml, sizeof yaml, "configs:\n  \"%s\":\n    tls:\n      ca_file: %s\n", F.reg.host, F.reg.ca_file);
    write_registries(yaml);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), 0, p);

    /* another CA: refused, saying why */
    snprintf(yaml, sizeof yaml, "configs:\n  \"%s\":\n    tls:\n      ca_file: /etc/ssl/certs/ca-certificates.crt\n",
             F.reg.host);
    write_registries(yaml);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), ORC_EUNAVAIL, p);
    CHECKF(strstr(p.msg, "certificate") || strstr(p.msg, "x509"), "%s", p.msg);

    /* insecure_skip_verify: not checked */
    snprintf(yaml, sizeof yaml, "configs:\n  \"%s\":\n    tls:\n      insecure_skip_verify: true\n", F.reg.host);
    write_registries(yaml);
    EXPECT_PULL(fx_pull(F.image, RT_PULL_ALWAYS, &p), 0, p);
    json_decref(p.config);
}
