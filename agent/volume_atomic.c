/* volume_atomic.c — the kubelet's atomic writer for configMap and secret
 * volumes (a timestamped dir, a `..data` symlink swapped by rename, per-name
 * symlinks through it), and rm -rf that never follows a symlink. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/volume_int.h"
#include "lib/file.h"
#include "lib/orc.h"

#define DATA_LINK "..data"
#define DATA_TMP "..data_tmp"
#define LINK_TMP "..link_tmp"

/* ---- rm -rf ---- */

/* A directory stream over a dup of fd, from its start (fd stays open). */
static DIR *open_dup_dir(int fd)
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

    if (d == NULL && dfd >= 0) close(dfd);
    if (d) rewinddir(d); /* a dup shares its offset with fd, which may have been read */
    return d;
}

static int rm_entries(int fd, dev_t dev);

int vol_rmtree_at(int pfd, const char *name)
{
    struct stat st;
    int fd, rv;

    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : ORC_EIO;
    if (!S_ISDIR(st.st_mode)) return unlinkat(pfd, name, 0) == 0 || errno == ENOENT ? 0 : ORC_EIO;
    fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ORC_EIO;
    /* readdir may miss entries while others are removed: retry a few times */
    for (int tries = 0; tries < 3; tries++) {
        if ((rv = rm_entries(fd, st.st_dev)) != 0) break;
        if (unlinkat(pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) break;
        rv = ORC_EIO;
        if (errno != ENOTEMPTY && errno != EEXIST) break;
    }
    close(fd);
    return rv;
}

static int rm_entries(int fd, dev_t dev)
{
    DIR *d = open_dup_dir(fd);
    struct dirent *de;
    struct stat st;
    int rv = 0;

    if (d == NULL) return ORC_EIO;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode) && st.st_dev != dev) {
            rv = ORC_EIO; /* a mount point: leave what is mounted there alone */
            continue;
        }
        int r = vol_rmtree_at(fd, de->d_name);
        if (r != 0) rv = r;
    }
    closedir(d);
    return rv;
}

/* ---- comparing ---- */

static long count_files(int fd)
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *de;
    struct stat st;
    long n = 0;

    if (d == NULL) {
        if (dfd >= 0) close(dfd);
        return -1;
    }
    while (n >= 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) n = -1;
        else if (S_ISREG(st.st_mode)) n++;
        else if (S_ISDIR(st.st_mode)) {
            int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            long k = sub >= 0 ? count_files(sub) : -1;
            if (sub >= 0) close(sub);
            n = k < 0 ? -1 : n + k;
        } else n = -1;
    }
    closedir(d);
    return n;
}

static bool same_file(int dirfd, const struct vol_file *f)
{
    int fd = openat(dirfd, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char buf[8192];
    size_t off = 0;
    bool same;

    if (fd < 0) return false;
    same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == f->mode &&
           (size_t)st.st_size == f->data.len;
    while (same && off < f->data.len) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        same = n > 0 && (size_t)n <= f->data.len - off && memcmp(buf, f->data.data + off, (size_t)n) == 0;
        off += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    return same;
}

static bool same_content(int dfd, const char *old, const struct vol_payload *p)
{
    int fd = openat(dfd, old, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool same;

    if (fd < 0) return false;
    same = count_files(fd) == (long)p->n;
    for (size_t i = 0; same && i < p->n; i++) same = same_file(fd, &p->f[i]);
    close(fd);
    return same;
}

/* ---- writing ---- */

/* mkdir of every parent of path under dirfd. */
static int make_parents(int dirfd, const char *path)
{
    char tmp[PATH_MAX];

    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return ORC_EINVAL;
    for (char *s = strchr(tmp, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdirat(dirfd, tmp, 0755) != 0 && errno != EEXIST) return ORC_EIO;
        *s = '/';
    }
    return 0;
}

static int write_file(int dirfd, const struct vol_file *f)
{
    int fd, rv;

    if ((rv = make_parents(dirfd, f->path)) != 0) return rv;
    fd = openat(dirfd, f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, f->mode);
    if (fd < 0) return ORC_EIO;
    rv = fchmod(fd, f->mode) == 0 ? orc_write_all(fd, f->data.data, f->data.len) : ORC_EIO;
    if (close(fd) != 0 && rv == 0) rv = ORC_EIO;
    return rv;
}

/* A new timestamped dir holding p; its name into name. */
static int write_new(const char *dir, int dfd, const struct vol_payload *p, char name[NAME_MAX])
{
    char path[PATH_MAX], stamp[64];
    struct tm tm;
    time_t now = time(NULL);
    int fd, rv = 0;

    if (gmtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &tm) == 0)
        return ORC_EIO;
    if (snprintf(path, sizeof path, "%s/%sXXXXXX", dir, stamp) >= (int)sizeof path) return ORC_EINVAL;
    if (mkdtemp(path) == NULL) return ORC_EIO;
    snprintf(name, NAME_MAX, "%s", strrchr(path, '/') + 1);
    if (chmod(path, 0755) != 0 || (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        vol_rmtree_at(dfd, name);
        return ORC_EIO;
    }
    for (size_t i = 0; rv == 0 && i < p->n; i++) rv = write_file(fd, &p->f[i]);
    close(fd);
    if (rv != 0) vol_rmtree_at(dfd, name);
    return rv;
}

/* Points link at target atomically (a temporary link renamed over it). */
static int link_swap(int dfd, const char *target, const char *link, const char *tmp)
{
    char cur[PATH_MAX];
    ssize_t n = readlinkat(dfd, link, cur, sizeof cur - 1);

    if (n >= 0 && (size_t)n == strlen(target) && memcmp(cur, target, (size_t)n) == 0) return 0;
    if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT) return ORC_EIO;
    if (symlinkat(target, dfd, tmp) != 0) return ORC_EIO;
    if (renameat(dfd, tmp, dfd, link) != 0) {
        unlinkat(dfd, tmp, 0);
        return ORC_EIO;
    }
    return 0;
}

/* The first path element of f (up to '/') is top[0..len). */
static size_t top_len(const char *path)
{
    const char *s = strchr(path, '/');
    return s ? (size_t)(s - path) : strlen(path);
}

static bool is_top(const struct vol_payload *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (top_len(p->f[i].path) == strlen(name) && strncmp(p->f[i].path, name, strlen(name)) == 0)
            return true;
    return false;
}

static int user_links(int dfd, const struct vol_payload *p)
{
    char target[PATH_MAX];
    size_t pre = strlen(DATA_LINK "/");

    memcpy(target, DATA_LINK "/", pre);
    for (size_t i = 0; i < p->n; i++) {
        size_t len = top_len(p->f[i].path);
        if (pre + len >= sizeof target) return ORC_EINVAL;
        memcpy(target + pre, p->f[i].path, len);
        target[pre + len] = '\0';
        int rv = link_swap(dfd, target, target + pre, LINK_TMP);
        if (rv != 0) return rv;
    }
    return 0;
}

/* Removes links no longer in p and timestamped dirs other than current. */
static int sweep(int dfd, const struct vol_payload *p, const char *current)
{
    DIR *d = open_dup_dir(dfd);
    struct dirent *de;
    struct stat st;
    int rv = 0;

    if (d == NULL) return ORC_EIO;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, current) == 0) continue;
        if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (strncmp(n, "..", 2) == 0 && S_ISDIR(st.st_mode)) {
            int r = vol_rmtree_at(dfd, n);
            if (r != 0) rv = r;
        } else if (strncmp(n, "..", 2) != 0 && S_ISLNK(st.st_mode) && !is_top(p, n) &&
                 unlinkat(dfd, n, 0) != 0)
            rv = ORC_EIO;
    }
    closedir(d);
    return rv;
}

static int write_in(const char *dir, int dfd, const struct vol_payload *p, bool *changed)
{
    char old[NAME_MAX] = "", name[NAME_MAX];
    ssize_t n = readlinkat(dfd, DATA_LINK, old, sizeof old - 1);
    int rv;

    if (n > 0) old[n] = '\0';
    *changed = false;
    if (n > 0 && strchr(old, '/') == NULL && same_content(dfd, old, p)) {
        snprintf(name, sizeof name, "%s", old);
    } else {
        if ((rv = write_new(dir, dfd, p, name)) != 0) return rv;
        if ((rv = link_swap(dfd, name, DATA_LINK, DATA_TMP)) != 0) {
            vol_rmtree_at(dfd, name);
            return rv;
        }
        *changed = true;
    }
    if ((rv = user_links(dfd, p)) != 0) return rv;
    return sweep(dfd, p, name);
}

int vol_write_atomic(const char *dir, const struct vol_payload *p, bool *changed, char *errmsg)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rv;

    if (dfd < 0) return orc_errf(errmsg, VOL_ERRLEN, ORC_EIO, "%s: %s", dir, strerror(errno));
    rv = write_in(dir, dfd, p, changed);
    close(dfd);
    if (rv != 0) orc_errf(errmsg, VOL_ERRLEN, rv, "writing %s: %s", dir, orc_strerror(rv));
    return rv;
}
