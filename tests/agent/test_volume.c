/* test_volume.c — pod volumes on disk: emptyDir, hostPath, claims,
 * configMap/secret files written atomically and updated, bind mounts,
 * teardown that never follows a symlink out of the pod's directory. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/volume.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "tests/agent/lookupfx.h"
#include "tests/harness/test.h"

/* snprintf into an array, failing the case on truncation. */
#define SPRINTF(buf, ...) CHECK(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)



/* "c2VjcmV0" = "secret", "AAEC" = 00 01 02 */
static const char *STORE = "{\"configmaps\": {\"default/cfg\": {\"data\": {\"a\": \"1\", \"b\": \"two\"},"
                           " \"binaryData\": {\"bin\": \"AAEC\"}}},"
                           " \"secrets\": {\"default/s\": {\"data\": {\"password\": \"c2VjcmV0\"}}}}";

struct fx {
    char pod_dir[PATH_MAX], claims[PATH_MAX], host[PATH_MAX];
    json_t *store, *pod;
    struct podspec_lookup lk;
    char err[256];
};

/* A claim in the store bound to a local-path style PV whose directory is
 * claims/default/<claim>. */
static void bind_claim(struct fx *f, const char *claim)
{
    char key[300], pvkey[300], dir[PATH_MAX];
    json_t *pvcs, *pvs;

    if ((pvcs = json_object_get(f->store, "persistentvolumeclaims")) == NULL) {
        json_object_set_new(f->store, "persistentvolumeclaims", json_object());
        json_object_set_new(f->store, "persistentvolumes", json_object());
        pvcs = json_object_get(f->store, "persistentvolumeclaims");
    }
    pvs = json_object_get(f->store, "persistentvolumes");
    SPRINTF(key, "default/%s", claim);
    SPRINTF(pvkey, "/pv-%s", claim);
    SPRINTF(dir, "%s/default/%s", f->claims, claim);
    json_object_set_new(pvcs, key, json_pack("{s:{s:s}}", "spec", "volumeName", pvkey + 1));
    json_object_set_new(pvs, pvkey, json_pack("{s:{s:{s:s, s:s}}}", "spec", "hostPath", "path",
                                              dir, "type", "DirectoryOrCreate"));
}

static void fx_init(struct fx *f, const char *volumes)
{
    const char *tmp = test_tmpdir();
    char text[4096];

    SPRINTF(f->pod_dir, "%s/pods/uid-1", tmp);
    SPRINTF(f->claims, "%s/claims", tmp);
    SPRINTF(f->host, "%s/host", tmp);
    SPRINTF(text, "{\"metadata\": {\"name\": \"p\", \"namespace\": \"default\"},"
                                " \"spec\": {\"volumes\": %s}}", volumes);
    f->store = J(STORE);
    f->pod = J(text);
    bind_claim(f, "data-web-0");
    bind_claim(f, "d");
    f->lk = (struct podspec_lookup){.get = store_get};
    f->lk.arg = f->store;
    f->err[0] = '\0';
}

static void fx_done(struct fx *f)
{
    json_decref(f->store);
    json_decref(f->pod);
}

static int setup(struct fx *f, bool *changed)
{
    return volume_setup(f->pod_dir, f->claims, f->pod, &f->lk, changed, f->err);
}

static char *path(struct fx *f, const char *rel)
{
    static char buf[4][PATH_MAX];
    static int i;
    char *p = buf[i++ % 4];

    CHECK(snprintf(p, PATH_MAX, "%s/volumes/%s", f->pod_dir, rel) < PATH_MAX);
    return p;
}

static void check_file(const char *p, const char *want, size_t len, mode_t mode)
{
    struct orc_buf b = ORC_BUF_INIT;
    struct stat st;

    CHECKF(orc_file_read(p, 1 << 20, &b) == 0, "read %s", p);
    CHECKF(b.len == len && memcmp(b.data, want, len) == 0, "%s: \"%s\"", p, b.data);
    CHECK(stat(p, &st) == 0);
    CHECKF((st.st_mode & 07777) == mode, "%s: mode %o want %o", p, st.st_mode & 07777, mode);
    orc_buf_free(&b);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void set_data(struct fx *f, const char *key, const char *value)
{
    json_t *data = json_object_get(json_object_get(json_object_get(f->store, "configmaps"),
                                                   "default/cfg"), "data");
    if (value) json_object_set_new(data, key, json_string(value));
    else json_object_del(data, key);
}

TEST(emptydir_hostpath_and_claims)
{
    struct fx f;
    char vols[1024], hp[PATH_MAX];
    struct stat st;

    fx_init(&f, "[]");
    SPRINTF(vols, "[{\"name\": \"cache\", \"emptyDir\": {\"medium\": \"Memory\"}},"
             " {\"name\": \"h\", \"hostPath\": {\"path\": \"%s/a/b\", \"type\": \"DirectoryOrCreate\"}},"
             " {\"name\": \"hf\", \"hostPath\": {\"path\": \"%s/f\", \"type\": \"FileOrCreate\"}},"
             " {\"name\": \"data\", \"persistentVolumeClaim\": {\"claimName\": \"data-web-0\"}}]",
             f.host, f.host);
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes", J(vols));
    CHECK(orc_mkdirs(f.host, 0755) == 0);
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    CHECK(stat(path(&f, "cache"), &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 0777, ==, 0777);
    SPRINTF(hp, "%s/a/b", f.host);
    CHECK(stat(hp, &st) == 0 && S_ISDIR(st.st_mode));
    SPRINTF(hp, "%s/f", f.host);
    CHECK(stat(hp, &st) == 0 && S_ISREG(st.st_mode));
    SPRINTF(hp, "%s/default/data-web-0", f.claims);
    CHECK(stat(hp, &st) == 0 && S_ISDIR(st.st_mode));
    CHECKF(setup(&f, NULL) == 0, "again: %s", f.err);

    SPRINTF(vols, "[{\"name\": \"d\", \"hostPath\": {\"path\": \"%s/nope\","
             " \"type\": \"Directory\"}}]", f.host);
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes", J(vols));
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    SPRINTF(hp, "hostPath type check failed: %s/nope is not a directory", f.host);
    CHECK_STR(f.err, hp);
    SPRINTF(vols, "[{\"name\": \"d\", \"hostPath\": {\"path\": \"%s/f\","
             " \"type\": \"Directory\"}}]", f.host);
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes", J(vols));
    CHECK_INT(setup(&f, NULL), ==, ORC_EINVAL);
    fx_done(&f);
}

TEST(configmap_files_items_and_modes)
{
    struct fx f;
    char link[PATH_MAX];
    ssize_t n;

    fx_init(&f, "[{\"name\": \"all\", \"configMap\": {\"name\": \"cfg\"}},"
                " {\"name\": \"some\", \"configMap\": {\"name\": \"cfg\", \"defaultMode\": 288,"
                "  \"items\": [{\"key\": \"a\", \"path\": \"sub/x.conf\", \"mode\": 384},"
                "   {\"key\": \"b\", \"path\": \"b.txt\"}]}}]");
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    check_file(path(&f, "all/a"), "1", 1, 0644);
    check_file(path(&f, "all/b"), "two", 3, 0644);
    check_file(path(&f, "all/bin"), "\0\1\2", 3, 0644);
    n = readlink(path(&f, "all/a"), link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = '\0';
    CHECK_STR(link, "..data/a");
    n = readlink(path(&f, "all/..data"), link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = '\0';
    CHECKF(strncmp(link, "..20", 4) == 0, "..data -> %s", link);

    check_file(path(&f, "some/sub/x.conf"), "1", 1, 0600);
    check_file(path(&f, "some/b.txt"), "two", 3, 0440);
    CHECK(!exists(path(&f, "some/a")));
    CHECK(!exists(path(&f, "some/b")));
    fx_done(&f);
}

TEST(secret_values_are_decoded)
{
    struct fx f;

    fx_init(&f, "[{\"name\": \"creds\", \"secret\": {\"secretName\": \"s\", \"defaultMode\": 256}}]");
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    check_file(path(&f, "creds/password"), "secret", 6, 0400);
    fx_done(&f);
}

static int count_dotdirs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    CHECK(d != NULL);
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "..", 2) == 0 && strcmp(de->d_name, "..") != 0 &&
            strcmp(de->d_name, "..data") != 0)
            n++;
    closedir(d);
    return n;
}

TEST(configmap_update_is_seen_through_the_key_link)
{
    struct fx f;
    bool changed = false;

    fx_init(&f, "[{\"name\": \"all\", \"configMap\": {\"name\": \"cfg\"}}]");
    CHECKF(setup(&f, &changed) == 0, "%s", f.err);
    CHECK(changed);
    CHECK_INT(setup(&f, &changed), ==, 0);
    CHECK(!changed);

    set_data(&f, "a", "updated");
    set_data(&f, "b", NULL);
    CHECK_INT(setup(&f, &changed), ==, 0);
    CHECK(changed);
    check_file(path(&f, "all/a"), "updated", 7, 0644);
    CHECK(!exists(path(&f, "all/b")));
    CHECK_INT(count_dotdirs(path(&f, "all")), ==, 1);
    CHECK_INT(setup(&f, &changed), ==, 0);
    CHECK(!changed);
    fx_done(&f);
}

TEST(missing_sources)
{
    struct fx f;

    fx_init(&f, "[{\"name\": \"v\", \"configMap\": {\"name\": \"x\"}}]");
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "configmap \"x\" not found");
    fx_done(&f);

    fx_init(&f, "[{\"name\": \"v\", \"secret\": {\"secretName\": \"y\"}}]");
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "secret \"y\" not found");
    fx_done(&f);

    fx_init(&f, "[{\"name\": \"v\", \"configMap\": {\"name\": \"cfg\","
                " \"items\": [{\"key\": \"zz\", \"path\": \"z\"}]}}]");
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "configmap references non-existent config key: zz");
    fx_done(&f);

    fx_init(&f, "[{\"name\": \"v\", \"configMap\": {\"name\": \"x\", \"optional\": true}},"
                " {\"name\": \"w\", \"secret\": {\"secretName\": \"s\", \"optional\": true,"
                "  \"items\": [{\"key\": \"nokey\", \"path\": \"k\"}, {\"key\": \"password\", \"path\": \"p\"}]}}]");
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    struct stat st;
    CHECK(stat(path(&f, "v"), &st) == 0 && S_ISDIR(st.st_mode));
    check_file(path(&f, "w/p"), "secret", 6, 0644);
    CHECK(!exists(path(&f, "w/k")));
    fx_done(&f);

    fx_init(&f, "[{\"name\": \"v\", \"configMap\": {\"name\": \"cfg\","
                " \"items\": [{\"key\": \"a\", \"path\": \"../escape\"}]}}]");
    CHECK_INT(setup(&f, NULL), ==, ORC_EINVAL);
    fx_done(&f);
}

static const struct rt_mount *find_mount(const struct rt_mount *m, size_t n, const char *dest)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].destination, dest) == 0) return &m[i];
    test_fail(__FILE__, __LINE__, "no mount at %s", dest);
}

TEST(mounts_map_volumes_subpaths_and_readonly)
{
    struct fx f;
    char vols[1024], want[PATH_MAX], real[PATH_MAX];
    struct rt_mount *m;
    size_t n;
    const struct rt_mount *x;

    fx_init(&f, "[]");
    SPRINTF(vols, "[{\"name\": \"cache\", \"emptyDir\": {}},"
             " {\"name\": \"cfg\", \"configMap\": {\"name\": \"cfg\"}},"
             " {\"name\": \"h\", \"hostPath\": {\"path\": \"%s\", \"type\": \"DirectoryOrCreate\"}},"
             " {\"name\": \"data\", \"persistentVolumeClaim\": {\"claimName\": \"d\", \"readOnly\": true}}]",
             f.host);
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes", J(vols));
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    json_t *ct = J("{\"name\": \"app\", \"volumeMounts\": ["
                   "{\"name\": \"cache\", \"mountPath\": \"/cache\"},"
                   "{\"name\": \"cache\", \"mountPath\": \"/logs\", \"subPath\": \"logs/app\"},"
                   "{\"name\": \"cfg\", \"mountPath\": \"/etc/cfg\"},"
                   "{\"name\": \"cfg\", \"mountPath\": \"/etc/a.conf\", \"subPath\": \"a\"},"
                   "{\"name\": \"h\", \"mountPath\": \"/host\", \"readOnly\": true},"
                   "{\"name\": \"data\", \"mountPath\": \"/data\"}]}");
    CHECKF(volume_mounts(f.pod_dir, f.claims, f.pod, ct, &f.lk, &m, &n, f.err) == 0, "%s", f.err);
    CHECK_INT(n, ==, 6);
    x = find_mount(m, n, "/cache");
    CHECK_STR(x->source, path(&f, "cache"));
    CHECK(!x->readonly);
    x = find_mount(m, n, "/logs");
    CHECK(realpath(path(&f, "cache/logs/app"), real) != NULL);
    CHECK_STR(x->source, real);
    CHECK(!x->readonly);
    x = find_mount(m, n, "/etc/cfg");
    CHECK_STR(x->source, path(&f, "cfg"));
    CHECK(x->readonly);
    x = find_mount(m, n, "/etc/a.conf");
    CHECK(realpath(path(&f, "cfg/a"), real) != NULL);
    CHECK_STR(x->source, real);
    CHECK(strstr(x->source, "/..20") != NULL);
    CHECK(x->readonly);
    x = find_mount(m, n, "/host");
    CHECK_STR(x->source, f.host);
    CHECK(x->readonly);
    x = find_mount(m, n, "/data");
    SPRINTF(want, "%s/default/d", f.claims);
    CHECK_STR(x->source, want);
    CHECK(x->readonly);
    volume_mounts_free(m, n);
    json_decref(ct);
    fx_done(&f);
}

TEST(mounts_refuse_unknown_volumes_and_escapes)
{
    struct fx f;
    struct rt_mount *m = (struct rt_mount *)1;
    size_t n = 9;

    fx_init(&f, "[{\"name\": \"cache\", \"emptyDir\": {}}]");
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    json_t *ct = J("{\"name\": \"app\", \"volumeMounts\": [{\"name\": \"cache\", \"mountPath\": \"/c\"},"
                   " {\"name\": \"nope\", \"mountPath\": \"/n\"}]}");
    CHECK_INT(volume_mounts(f.pod_dir, f.claims, f.pod, ct, &f.lk, &m, &n, f.err), ==, ORC_EINVAL);
    CHECK_STR(f.err, "cannot find volume \"nope\" to mount into container \"app\"");
    CHECK(m == NULL && n == 0);
    json_decref(ct);

    CHECK(symlink("/etc", path(&f, "cache/evil")) == 0);
    ct = J("{\"name\": \"app\", \"volumeMounts\": [{\"name\": \"cache\", \"mountPath\": \"/c\","
           " \"subPath\": \"evil\"}]}");
    CHECK_INT(volume_mounts(f.pod_dir, f.claims, f.pod, ct, &f.lk, &m, &n, f.err), ==, ORC_EINVAL);
    json_decref(ct);
    ct = J("{\"name\": \"app\", \"volumeMounts\": [{\"name\": \"cache\", \"mountPath\": \"/c\","
           " \"subPath\": \"../../x\"}]}");
    CHECK_INT(volume_mounts(f.pod_dir, f.claims, f.pod, ct, &f.lk, &m, &n, f.err), ==, ORC_EINVAL);
    json_decref(ct);
    fx_done(&f);
}

TEST(teardown_does_not_follow_symlinks)
{
    struct fx f;
    char vols[512], keep[PATH_MAX], claim_file[PATH_MAX];
    struct stat st;

    fx_init(&f, "[]");
    SPRINTF(vols, "[{\"name\": \"cache\", \"emptyDir\": {}},"
             " {\"name\": \"cfg\", \"configMap\": {\"name\": \"cfg\"}},"
             " {\"name\": \"h\", \"hostPath\": {\"path\": \"%s\"}},"
             " {\"name\": \"data\", \"persistentVolumeClaim\": {\"claimName\": \"d\"}}]", f.host);
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes", J(vols));
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    SPRINTF(keep, "%s/keep", f.host);
    CHECK(orc_file_write(keep, "x", 1, 0644) == 0);
    SPRINTF(claim_file, "%s/default/d/db", f.claims);
    CHECK(orc_file_write(claim_file, "y", 1, 0644) == 0);
    CHECK(orc_file_write(path(&f, "cache/file"), "z", 1, 0644) == 0);
    CHECK(symlink(f.host, path(&f, "cache/to-host")) == 0);
    CHECK(orc_mkdirs(path(&f, "cache/deep/er"), 0755) == 0);

    CHECK_INT(volume_teardown(f.pod_dir), ==, 0);
    CHECK(!exists(f.pod_dir));
    CHECK(stat(keep, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(stat(claim_file, &st) == 0 && S_ISREG(st.st_mode));
    CHECK_INT(volume_teardown(f.pod_dir), ==, 0);

    /* a pod dir that is itself a symlink: only the link goes */
    CHECK(orc_mkdirs(f.pod_dir, 0755) == 0 && rmdir(f.pod_dir) == 0);
    CHECK(symlink(f.host, f.pod_dir) == 0);
    CHECK_INT(volume_teardown(f.pod_dir), ==, 0);
    CHECK(!exists(f.pod_dir));
    CHECK(stat(keep, &st) == 0);
    fx_done(&f);
}

TEST(claims_resolve_through_their_volume)
{
    struct fx f;
    char vols[512], dir[PATH_MAX];
    struct stat st;

    fx_init(&f, "[]");
    /* an unknown claim, then one not bound yet: the agent waits */
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes",
                        J("[{\"name\": \"data\", \"persistentVolumeClaim\": {\"claimName\": \"x\"}}]"));
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "persistentvolumeclaim \"x\" not found");
    json_object_set_new(json_object_get(f.store, "persistentvolumeclaims"), "default/x",
                        J("{\"spec\": {}}"));
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "persistentvolumeclaim \"x\" is not bound");
    json_object_set_new(json_object_get(f.store, "persistentvolumeclaims"), "default/x",
                        J("{\"spec\": {\"volumeName\": \"gone\"}}"));
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "persistentvolume \"gone\" not found");
    /* a static hostPath PV of type Directory must exist */
    SPRINTF(dir, "%s/static", f.host);
    SPRINTF(vols, "{\"spec\": {\"hostPath\": {\"path\": \"%s\", \"type\": \"Directory\"}}}", dir);
    json_object_set_new(json_object_get(f.store, "persistentvolumes"), "/gone", J(vols));
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK(orc_mkdirs(dir, 0755) == 0);
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    /* provisioned (DirectoryOrCreate): made world-writable */
    json_object_set_new(json_object_get(f.pod, "spec"), "volumes",
                        J("[{\"name\": \"data\", \"persistentVolumeClaim\": {\"claimName\": \"d\"}}]"));
    CHECKF(setup(&f, NULL) == 0, "%s", f.err);
    SPRINTF(dir, "%s/default/d", f.claims);
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 0777, ==, 0777);
    fx_done(&f);
}

/* A projected volume: a ConfigMap's items, a Secret, downwardAPI fields and
 * the pod's ServiceAccount token (the lookup's "serviceaccounttokens" by
 * the pod's uid) in one directory; no token yet is ORC_ENOENT. */
TEST(projected_sources_in_one_volume)
{
    struct fx f;

    fx_init(&f, "[{\"name\": \"kube-api-access-x\", \"projected\": {\"defaultMode\": 420, \"sources\": ["
                " {\"serviceAccountToken\": {\"path\": \"token\", \"expirationSeconds\": 3607}},"
                " {\"configMap\": {\"name\": \"cfg\", \"items\": [{\"key\": \"b\", \"path\": \"ca.crt\"}]}},"
                " {\"secret\": {\"name\": \"s\"}},"
                " {\"configMap\": {\"name\": \"nosuch\", \"optional\": true}},"
                " {\"downwardAPI\": {\"items\": [{\"path\": \"namespace\", \"fieldRef\":"
                "  {\"apiVersion\": \"v1\", \"fieldPath\": \"metadata.namespace\"}},"
                "  {\"path\": \"labels\", \"mode\": 256, \"fieldRef\": {\"fieldPath\": \"metadata.labels\"}}]}}]}}]");
    json_object_set_new(json_object_get(f.pod, "metadata"), "uid", json_string("uid-1"));
    json_object_set_new(json_object_get(f.pod, "metadata"), "labels",
                        json_pack("{s:s, s:s}", "b", "2", "a", "x\"y"));
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "waiting for the service account token");

    json_object_set_new(f.store, PODSPEC_SA_TOKEN, json_pack("{s:{s:s}}", "/uid-1", "token", "eyJ.x.y"));
    bool changed = false;
    CHECKF(setup(&f, &changed) == 0, "%s", f.err);
    CHECK(changed);
    check_file(path(&f, "kube-api-access-x/token"), "eyJ.x.y", 7, 0644);
    check_file(path(&f, "kube-api-access-x/ca.crt"), "two", 3, 0644);
    check_file(path(&f, "kube-api-access-x/password"), "secret", 6, 0644);
    check_file(path(&f, "kube-api-access-x/namespace"), "default", 7, 0644);
    check_file(path(&f, "kube-api-access-x/labels"), "a=\"x\\\"y\"\nb=\"2\"", 14, 0400);

    /* a new token is written; the same one is not */
    json_object_set_new(f.store, PODSPEC_SA_TOKEN, json_pack("{s:{s:s}}", "/uid-1", "token", "eyJ.x.z"));
    CHECKF(setup(&f, &changed) == 0 && changed, "%s", f.err);
    check_file(path(&f, "kube-api-access-x/token"), "eyJ.x.z", 7, 0644);
    CHECKF(setup(&f, &changed) == 0 && !changed, "%s", f.err);

    /* mounted read-only, like configMap volumes */
    json_t *ct = J("{\"name\": \"c\", \"volumeMounts\": [{\"name\": \"kube-api-access-x\","
                   " \"mountPath\": \"/var/run/secrets/kubernetes.io/serviceaccount\"}]}");
    struct rt_mount *m = NULL;
    size_t n = 0;
    CHECKF(volume_mounts(f.pod_dir, f.claims, f.pod, ct, &f.lk, &m, &n, f.err) == 0, "%s", f.err);
    CHECK_INT(n, ==, 1);
    if (n == 1) CHECK(m[0].readonly);
    volume_mounts_free(m, n);
    json_decref(ct);

    /* a source that is not optional and missing */
    json_object_del(json_object_get(f.store, "secrets"), "default/s");
    CHECK_INT(setup(&f, NULL), ==, ORC_ENOENT);
    CHECK_STR(f.err, "secret \"s\" not found");
    fx_done(&f);
}
