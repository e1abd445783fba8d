/* volume.c — a pod's volumes on disk (emptyDir, hostPath, configMap, secret,
 * projected (volume_projected.c), persistentVolumeClaim through its bound PersistentVolume), its containers'
 * bind mounts, and removal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/volume.h"
#include "agent/volume_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"

struct vctx {
    const char *pod_dir, *claims_dir, *ns;
    const json_t *pod;
    const struct podspec_lookup *lk;
    char *errmsg;
};

static bool name_ok(const char *s)
{
    return s && *s && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int pathf(struct vctx *c, char out[PATH_MAX], const char *a, const char *b, const char *d)
{
    if (snprintf(out, PATH_MAX, "%s/%s/%s", a, b, d) >= PATH_MAX)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "path too long: %s/%s", a, b);
    return 0;
}

static int vol_dir(struct vctx *c, const char *name, char out[PATH_MAX])
{
    return pathf(c, out, c->pod_dir, "volumes", name);
}

/* Where a claim's data lives: the local path of the PersistentVolume it is
 * bound to (PVC -> spec.volumeName -> PV hostPath/local path); without a
 * lookup (no API), claims_dir/<ns>/<claimName>. *pv_out (may be NULL) is
 * the PV, NULL in the latter case. */
static int claim_path(struct vctx *c, const json_t *src, char out[PATH_MAX], const json_t **pv_out)
{
    const char *claim = json_string_value(json_object_get(src, "claimName"));
    const json_t *pvc, *pv;
    const char *vol, *path;

    if (pv_out) *pv_out = NULL;
    if (!name_ok(claim) || !name_ok(c->ns))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "bad claimName %s",
                        claim ? claim : "(none)");
    if (c->lk == NULL || c->lk->get == NULL) return pathf(c, out, c->claims_dir, c->ns, claim);
    if ((pvc = c->lk->get(c->lk->arg, "persistentvolumeclaims", c->ns, claim)) == NULL)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOENT,
                        "persistentvolumeclaim \"%s\" not found", claim);
    vol = orc_json_str(pvc, "spec.volumeName");
    pv = vol && *vol ? c->lk->get(c->lk->arg, "persistentvolumes", "", vol) : NULL;
    if (vol == NULL || *vol == '\0')
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOENT,
                        "persistentvolumeclaim \"%s\" is not bound", claim);
    if (pv == NULL)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOENT, "persistentvolume \"%s\" not found", vol);
    path = orc_json_str(pv, "spec.hostPath.path");
    if (path == NULL) path = orc_json_str(pv, "spec.local.path");
    if (path == NULL || path[0] != '/' || snprintf(out, PATH_MAX, "%s", path) >= PATH_MAX)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL,
                        "persistentvolume \"%s\": only hostPath and local volumes are supported", vol);
    if (pv_out) *pv_out = pv;
    return 0;
}

static int sys_err(struct vctx *c, const char *what, const char *path)
{
    return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EIO, "%s %s: %s", what, path, strerror(errno));
}

/* ---- setup ---- */

static int setup_emptydir(struct vctx *c, const char *path)
{
    struct stat st;

    /* medium: Memory is served by a plain directory as well (no tmpfs). */
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return sys_err(c, "mkdir", path);
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EIO, "%s is not a directory", path);
    if (chmod(path, 0777) != 0) return sys_err(c, "chmod", path);
    return 0;
}

static int hostpath_create(struct vctx *c, const char *path, bool file)
{
    int fd;

    if (!file) return orc_mkdirs(path, 0755) == 0 ? 0 : sys_err(c, "mkdir", path);
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sys_err(c, "create", path);
    close(fd);
    return 0;
}

static const struct {
    const char *type, *what;
    mode_t fmt;
} hostpath_types[] = {
    {"DirectoryOrCreate", "a directory", S_IFDIR}, {"Directory", "a directory", S_IFDIR},
    {"FileOrCreate", "a file", S_IFREG},           {"File", "a file", S_IFREG},
    {"Socket", "a socket file", S_IFSOCK},         {"CharDevice", "a character device", S_IFCHR},
    {"BlockDevice", "a block device", S_IFBLK},
};

static int setup_hostpath(struct vctx *c, const json_t *src)
{
    const char *path = json_string_value(json_object_get(src, "path"));
    const char *type = json_string_value(json_object_get(src, "type"));
    struct stat st;
    bool have;
    size_t i = 0;

    if (path == NULL || path[0] != '/')
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "hostPath %s is not absolute",
                        path ? path : "(none)");
    have = stat(path, &st) == 0;
    if (type == NULL || *type == '\0') return have ? 0 : hostpath_create(c, path, false);
    while (i < ORC_ARRAY_LEN(hostpath_types) && strcmp(type, hostpath_types[i].type) != 0) i++;
    if (i == ORC_ARRAY_LEN(hostpath_types))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "hostPath type %s is not supported", type);
    if (!have && strstr(type, "OrCreate"))
        return hostpath_create(c, path, hostpath_types[i].fmt == S_IFREG);
    if (have && (st.st_mode & S_IFMT) == hostpath_types[i].fmt) return 0;
    return orc_errf(c->errmsg, VOL_ERRLEN, have ? ORC_EINVAL : ORC_ENOENT,
                    "hostPath type check failed: %s is not %s", path, hostpath_types[i].what);
}

static int setup_source(struct vctx *c, const char *dir, const json_t *src, bool secret,
                        bool *changed)
{
    const char *name = json_string_value(json_object_get(src, secret ? "secretName" : "name"));
    const json_t *obj = NULL;
    struct vol_payload p;
    bool ch = false;
    int rv;

    if (name == NULL) name = "";
    if (c->lk && c->lk->get) obj = c->lk->get(c->lk->arg, secret ? "secrets" : "configmaps", c->ns, name);
    if (obj == NULL && !json_is_true(json_object_get(src, "optional")))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOENT, "%s \"%s\" not found",
                        secret ? "secret" : "configmap", name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return sys_err(c, "mkdir", dir);
    if ((rv = vol_payload_build(src, secret, obj, &p, c->errmsg)) != 0) return rv;
    rv = vol_write_atomic(dir, &p, &ch, c->errmsg);
    vol_payload_free(&p);
    if (rv == 0 && ch) *changed = true;
    return rv;
}

static int setup_projected(struct vctx *c, const char *dir, const json_t *src, bool *changed)
{
    struct vol_payload p;
    bool ch = false;
    int rv;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return sys_err(c, "mkdir", dir);
    if ((rv = vol_projected_build(src, c->pod, c->lk, c->ns, &p, c->errmsg)) != 0) return rv;
    rv = vol_write_atomic(dir, &p, &ch, c->errmsg);
    vol_payload_free(&p);
    if (rv == 0 && ch) *changed = true;
    return rv;
}

static int setup_claim(struct vctx *c, const json_t *src)
{
    char path[PATH_MAX];
    const json_t *pv, *hp;
    int rv = claim_path(c, src, path, &pv);

    if (rv != 0) return rv;
    /* a hostPath PV is checked (or made) as its type says */
    if (pv && (hp = orc_json_get(pv, "spec.hostPath"))) {
        const char *type = orc_json_str(hp, "type");
        if (type == NULL || strcmp(type, "DirectoryOrCreate") != 0) return setup_hostpath(c, hp);
    } else if (pv) {
        return access(path, F_OK) == 0
                   ? 0
                   : orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOENT, "local volume %s does not exist", path);
    }
    if (access(path, F_OK) == 0) return 0;
    /* world-writable like local-path provisioners: any container user may write */
    if (orc_mkdirs(path, 0755) != 0 || chmod(path, 0777) != 0) return sys_err(c, "mkdir", path);
    return 0;
}

static int setup_one(struct vctx *c, const json_t *vol, bool *changed)
{
    const char *name = json_string_value(json_object_get(vol, "name"));
    char dir[PATH_MAX];
    const json_t *src;
    int rv;

    if (!name_ok(name))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "bad volume name %s", name ? name : "(none)");
    if ((rv = vol_dir(c, name, dir)) != 0) return rv;
    if ((src = json_object_get(vol, "emptyDir"))) return setup_emptydir(c, dir);
    if ((src = json_object_get(vol, "hostPath"))) return setup_hostpath(c, src);
    if ((src = json_object_get(vol, "configMap"))) return setup_source(c, dir, src, false, changed);
    if ((src = json_object_get(vol, "secret"))) return setup_source(c, dir, src, true, changed);
    if ((src = json_object_get(vol, "persistentVolumeClaim"))) return setup_claim(c, src);
    if ((src = json_object_get(vol, "projected"))) return setup_projected(c, dir, src, changed);
    return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "volume \"%s\": unsupported volume type", name);
}

static void ctx_init(struct vctx *c, const char *pod_dir, const char *claims_dir, const json_t *pod,
                     const struct podspec_lookup *lk, char *errmsg)
{
    c->pod_dir = pod_dir;
    c->claims_dir = claims_dir;
    c->pod = pod;
    c->lk = lk;
    c->errmsg = errmsg;
    c->ns = orc_json_str(pod, "metadata.namespace");
    if (c->ns == NULL) c->ns = "default";
}

int volume_setup(const char *pod_dir, const char *claims_dir, const json_t *pod,
                 const struct podspec_lookup *lk, bool *changed, char *errmsg)
{
    struct vctx c;
    char dir[PATH_MAX];
    bool ch = false;
    size_t i;
    json_t *vol;
    int rv = 0;

    ctx_init(&c, pod_dir, claims_dir, pod, lk, errmsg);
    if (changed) *changed = false;
    if (snprintf(dir, sizeof dir, "%s/volumes", pod_dir) >= (int)sizeof dir)
        return orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL, "path too long: %s", pod_dir);
    if (orc_mkdirs(dir, 0755) != 0) return sys_err(&c, "mkdir", dir);
    json_array_foreach (orc_json_get(pod, "spec.volumes"), i, vol)
        if ((rv = setup_one(&c, vol, &ch)) != 0) break;
    if (changed) *changed = ch;
    return rv;
}

/* ---- mounts ---- */

static const json_t *find_volume(const json_t *pod, const char *name)
{
    size_t i;
    json_t *vol;

    json_array_foreach (orc_json_get(pod, "spec.volumes"), i, vol) {
        const char *n = json_string_value(json_object_get(vol, "name"));
        if (n && strcmp(n, name) == 0) return vol;
    }
    return NULL;
}

/* The volume's host path; *ro when it is always read-only, *gen when its
 * content is generated (no subPath directories are made there). */
static int volume_source(struct vctx *c, const json_t *vol, char out[PATH_MAX], bool *ro, bool *gen)
{
    const char *name = json_string_value(json_object_get(vol, "name"));
    const json_t *src;

    *ro = *gen = false;
    if ((src = json_object_get(vol, "hostPath"))) {
        const char *p = json_string_value(json_object_get(src, "path"));
        if (p == NULL || snprintf(out, PATH_MAX, "%s", p) >= PATH_MAX)
            return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "volume \"%s\": bad hostPath", name);
        return 0;
    }
    if ((src = json_object_get(vol, "persistentVolumeClaim"))) {
        *ro = json_is_true(json_object_get(src, "readOnly"));
        return claim_path(c, src, out, NULL);
    }
    *ro = *gen = json_object_get(vol, "configMap") || json_object_get(vol, "secret")
                 || json_object_get(vol, "projected");
    if (!*gen && !json_object_get(vol, "emptyDir"))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "volume \"%s\": unsupported volume type", name);
    if (!name_ok(name)) return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "bad volume name");
    return vol_dir(c, name, out);
}

static int sub_create(struct vctx *c, const char *base, const char *path)
{
    struct stat st;
    mode_t perm;

    /* as the kubelet: a missing subPath is made with the volume's permissions */
    if (stat(base, &st) != 0) return sys_err(c, "stat", base);
    perm = st.st_mode & 07777;
    if (orc_mkdirs(path, perm) != 0 || chmod(path, perm) != 0) return sys_err(c, "mkdir", path);
    return 0;
}

/* base/sub resolved into out, which must stay inside base. */
static int sub_path(struct vctx *c, const char *base, const char *sub, bool create, char out[PATH_MAX])
{
    char path[PATH_MAX], rbase[PATH_MAX];
    struct stat st;
    size_t bl;

    if (!vol_path_ok(sub) || snprintf(path, sizeof path, "%s/%s", base, sub) >= (int)sizeof path)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "invalid subPath %s", sub);
    if (lstat(path, &st) != 0 && errno == ENOENT && create) {
        int rv = sub_create(c, base, path);
        if (rv != 0) return rv;
    }
    if (realpath(base, rbase) == NULL) return sys_err(c, "resolve", base);
    if (realpath(path, out) == NULL) {
        if (errno != ENOENT) return sys_err(c, "resolve", path);
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOENT, "subPath %s does not exist in %s", sub, base);
    }
    bl = strlen(rbase);
    if (strcmp(rbase, "/") != 0 && (strncmp(out, rbase, bl) != 0 || (out[bl] != '/' && out[bl] != '\0')))
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "subPath %s leaves volume %s", sub, base);
    return 0;
}

static int mount_one(struct vctx *c, const json_t *ct, const json_t *vm, struct rt_mount *m)
{
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *dest = json_string_value(json_object_get(vm, "mountPath"));
    const char *sub = json_string_value(json_object_get(vm, "subPath"));
    const json_t *vol = name ? find_volume(c->pod, name) : NULL;
    char base[PATH_MAX], src[PATH_MAX];
    bool ro, gen;
    int rv;

    if (vol == NULL)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL,
                        "cannot find volume \"%s\" to mount into container \"%s\"",
                        name ? name : "", orc_json_str(ct, "name") ? orc_json_str(ct, "name") : "");
    if (dest == NULL || *dest == '\0')
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "volumeMount \"%s\": no mountPath", name);
    if (json_string_length(json_object_get(vm, "subPathExpr")) > 0)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_EINVAL, "volumeMount \"%s\": subPathExpr is not supported", name);
    if ((rv = volume_source(c, vol, base, &ro, &gen)) != 0) return rv;
    if (sub && *sub) rv = sub_path(c, base, sub, !gen, src);
    else snprintf(src, sizeof src, "%s", base);
    if (rv != 0) return rv;
    m->readonly = ro || json_is_true(json_object_get(vm, "readOnly"));
    m->source = strdup(src);
    m->destination = strdup(dest);
    if (m->source == NULL || m->destination == NULL)
        return orc_errf(c->errmsg, VOL_ERRLEN, ORC_ENOMEM, "out of memory");
    return 0;
}

int volume_mounts(const char *pod_dir, const char *claims_dir, const json_t *pod,
                  const json_t *container, const struct podspec_lookup *lk,
                  struct rt_mount **out, size_t *n, char *errmsg)
{
    const json_t *vms = json_object_get(container, "volumeMounts");
    size_t count = json_array_size(vms), i = 0;
    struct rt_mount *m = NULL;
    struct vctx c;
    int rv = 0;

    ctx_init(&c, pod_dir, claims_dir, pod, lk, errmsg);
    *out = NULL;
    *n = 0;
    if (count == 0) return 0;
    if ((m = calloc(count, sizeof *m)) == NULL)
        return orc_errf(errmsg, VOL_ERRLEN, ORC_ENOMEM, "out of memory");
    for (; i < count && rv == 0; i++) rv = mount_one(&c, container, json_array_get(vms, i), &m[i]);
    if (rv != 0) {
        volume_mounts_free(m, i);
        return rv;
    }
    *out = m;
    *n = count;
    return 0;
}

void volume_mounts_free(struct rt_mount *m, size_t n)
{
    if (m == NULL) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)m[i].source);
        free((char *)m[i].destination);
    }
    free(m);
}

/* ---- teardown ---- */

int volume_teardown(const char *pod_dir)
{
    char parent[PATH_MAX];
    size_t len = strlen(pod_dir);
    char *slash;
    int pfd, rv;

    while (len > 1 && pod_dir[len - 1] == '/') len--;
    if (len == 0 || len >= sizeof parent || (len == 1 && pod_dir[0] == '/')) return ORC_EINVAL;
    memcpy(parent, pod_dir, len);
    parent[len] = '\0';
    if ((slash = strrchr(parent, '/')) == NULL) pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    else if (slash == parent) pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    else {
        *slash = '\0';
        pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (pfd < 0) return errno == ENOENT ? 0 : ORC_EIO;
    rv = vol_rmtree_at(pfd, slash ? slash + 1 : parent);
    close(pfd);
    return rv;
}
