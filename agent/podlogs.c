/* podlogs.c — paths, links, rotated-file names and removal of the
 * kubelet-shaped container log layout (podlogs.h). Used by the agent and
 * by the shim, so it needs nothing but libc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/podlogs.h"
#include "lib/orc.h"

#define TS_LEN 15 /* YYYYmmdd-HHMMSS */

static int fit(int len, size_t n) { return len < 0 || (size_t)len >= n ? ORC_EINVAL : 0; }

int podlogs_pod_dir(const char *pod_dir, const char *ns, const char *pod, const char *uid, char *out,
                    size_t n)
{
    return fit(snprintf(out, n, "%s/%s_%s_%s", pod_dir, ns, pod, uid), n);
}

int podlogs_file(const char *pod_dir, const char *ns, const char *pod, const char *uid,
                 const char *container, int run, char *out, size_t n)
{
    return fit(snprintf(out, n, "%s/%s_%s_%s/%s/%d.log", pod_dir, ns, pod, uid, container, run), n);
}

int podlogs_link_path(const char *ctr_dir, const char *ns, const char *pod, const char *container,
                      const char *id, char *out, size_t n)
{
    return fit(snprintf(out, n, "%s/%s_%s_%s-%s.log", ctr_dir, pod, ns, container, id), n);
}

int podlogs_link(const char *link, const char *target)
{
    if (symlink(target, link) == 0) return 0;
    if (errno != EEXIST) return ORC_EIO;
    if (unlink(link) != 0 && errno != ENOENT) return ORC_EIO;
    return symlink(target, link) == 0 ? 0 : ORC_EIO;
}

/* ---- rotated files ---- */

static bool all_digits(const char *p, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return false;
    return true;
}

/* "<ts>[-<k>][.gz]" after "<base>.": the stamp and k (0 without). */
static bool parse_suffix(const char *s, const char **ts, unsigned long *k, bool *gz)
{
    size_t len = strlen(s);

    *gz = len > 3 && strcmp(s + len - 3, ".gz") == 0;
    if (*gz) len -= 3;
    if (len < TS_LEN || !all_digits(s, 8) || s[8] != '-' || !all_digits(s + 9, 6)) return false;
    *ts = s;
    *k = 0;
    if (len == TS_LEN) return true;
    if (s[TS_LEN] != '-' || !all_digits(s + TS_LEN + 1, len - TS_LEN - 1) || len - TS_LEN > 8) return false;
    *k = strtoul(s + TS_LEN + 1, NULL, 10);
    return true;
}

bool podlogs_is_rotated(const char *base, const char *name, bool *gz)
{
    size_t bl = strlen(base);
    const char *ts;
    unsigned long k;

    return strncmp(name, base, bl) == 0 && name[bl] == '.' && parse_suffix(name + bl + 1, &ts, &k, gz);
}

/* qsort_r's: arg is the base name's length (readers on the thread pool
 * sort at once, so nothing global). */
static int by_age(const void *a, const void *b, void *arg)
{
    size_t bl = *(const size_t *)arg;
    const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');
    const char *tx, *ty;
    unsigned long kx, ky;
    bool gx, gy;
    int c;

    parse_suffix(x + 1 + bl + 1, &tx, &kx, &gx);
    parse_suffix(y + 1 + bl + 1, &ty, &ky, &gy);
    if ((c = strncmp(tx, ty, TS_LEN)) != 0) return c;
    return kx < ky ? -1 : kx > ky;
}

void podlogs_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int split(const char *log, char *dir, size_t n, const char **base)
{
    const char *slash = strrchr(log, '/');

    if (slash == NULL || (size_t)(slash - log) >= n) return ORC_EINVAL;
    memcpy(dir, log, (size_t)(slash - log));
    dir[slash - log] = '\0';
    if (dir[0] == '\0') snprintf(dir, n, "/");
    *base = slash + 1;
    return 0;
}

static int push(char ***v, size_t *n, size_t *cap, const char *dir, const char *name)
{
    char *p;

    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, nc * sizeof *nv);
        if (nv == NULL) return ORC_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    if ((p = malloc(strlen(dir) + strlen(name) + 2)) == NULL) return ORC_ENOMEM;
    sprintf(p, "%s/%s", dir, name);
    (*v)[(*n)++] = p;
    return 0;
}

int podlogs_rotated(const char *log, bool with_gz, char ***out, size_t *n)
{
    char dir[4096];
    const char *base;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    DIR *d;
    int rv = 0;
    bool gz;

    *out = NULL;
    *n = 0;
    if (split(log, dir, sizeof dir, &base) != 0) return ORC_EINVAL;
    if ((d = opendir(dir)) == NULL) return errno == ENOENT ? 0 : ORC_EIO;
    while (rv == 0 && (e = readdir(d)) != NULL) {
        if (podlogs_is_rotated(base, e->d_name, &gz) && (with_gz || !gz)) rv = push(&v, n, &cap, dir, e->d_name);
    }
    closedir(d);
    if (rv != 0) {
        podlogs_strv_free(v, *n);
        *n = 0;
        return rv;
    }
    size_t bl = strlen(base);
    if (*n > 1) qsort_r(v, *n, sizeof *v, by_age, &bl);
    *out = v;
    return 0;
}

/* After every file already rotated in the same second (pruning may have
 * taken the first ones: a free name is not enough). */
int podlogs_rotate_name(const char *log, time_t now, char *out, size_t n)
{
    struct tm tm;
    char ts[32], **v;
    size_t nv;
    long next = -1;

    if (gmtime_r(&now, &tm) == NULL || strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm) != TS_LEN) return ORC_EINVAL;
    if (podlogs_rotated(log, true, &v, &nv) != 0) return ORC_EIO;
    for (size_t i = 0; i < nv; i++) {
        const char *t;
        unsigned long k;
        bool gz;
        parse_suffix(v[i] + strlen(log) + 1, &t, &k, &gz);
        if (strncmp(t, ts, TS_LEN) == 0 && (long)k > next) next = (long)k;
    }
    podlogs_strv_free(v, nv);
    if (next < 0) return fit(snprintf(out, n, "%s.%s", log, ts), n);
    return fit(snprintf(out, n, "%s.%s-%ld", log, ts, next + 1), n);
}

void podlogs_remove_log(const char *log)
{
    char **v;
    size_t n;

    unlink(log);
    if (podlogs_rotated(log, true, &v, &n) != 0) return;
    for (size_t i = 0; i < n; i++) unlink(v[i]);
    podlogs_strv_free(v, n);
}

/* ---- a pod's logs ---- */

/* DIR/<container>/<files>: two levels, nothing else is made there. */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path), *sub;
    struct dirent *e, *f;
    int dfd, cfd;

    if (d == NULL) return;
    dfd = dirfd(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (unlinkat(dfd, e->d_name, 0) == 0) continue;
        cfd = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0 || (sub = fdopendir(cfd)) == NULL) {
            if (cfd >= 0) close(cfd);
            continue;
        }
        while ((f = readdir(sub)) != NULL)
            if (strcmp(f->d_name, ".") != 0 && strcmp(f->d_name, "..") != 0) unlinkat(cfd, f->d_name, 0);
        closedir(sub);
        unlinkat(dfd, e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
    rmdir(path);
}

/* Links in ctr_dir whose target lies under dir. */
static void remove_links(const char *ctr_dir, const char *dir)
{
    DIR *d = opendir(ctr_dir);
    struct dirent *e;
    char target[4200];
    size_t dl = strlen(dir);
    ssize_t len;

    if (d == NULL) return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        len = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = '\0';
        if (strncmp(target, dir, dl) == 0 && target[dl] == '/') unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

void podlogs_remove_pod(const char *pod_dir, const char *ctr_dir, const char *ns, const char *pod,
                        const char *uid)
{
    char dir[4096];

    if (podlogs_pod_dir(pod_dir, ns, pod, uid, dir, sizeof dir) != 0) return;
    remove_links(ctr_dir, dir);
    remove_tree(dir);
}

void podlogs_remove_uid(const char *pod_dir, const char *ctr_dir, const char *uid)
{
    DIR *d = opendir(pod_dir);
    struct dirent *e;
    char dir[4096];
    size_t ul = strlen(uid), nl;

    if (d == NULL || ul == 0) {
        if (d) closedir(d);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        nl = strlen(e->d_name);
        if (nl <= ul + 1 || e->d_name[nl - ul - 1] != '_' || strcmp(e->d_name + nl - ul, uid) != 0) continue;
        if (fit(snprintf(dir, sizeof dir, "%s/%s", pod_dir, e->d_name), sizeof dir) != 0) continue;
        remove_links(ctr_dir, dir);
        remove_tree(dir);
    }
    closedir(d);
}
