/* file.c — small-file I/O: read whole, write atomically, make directories. */
#include "lib/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/orc.h"

int orc_file_read(const char *path, size_t max, struct orc_buf *out)
{
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) return errno == ENOENT ? ORC_ENOENT : ORC_EIO;
    orc_buf_reset(out);
    if (orc_buf_reserve(out, 0) != 0) {
        close(fd);
        return ORC_ENOMEM;
    }
    out->data[0] = '\0'; /* an empty file is "" too */
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (out->len + (size_t)n > max) {
            close(fd);
            return ORC_ETOOBIG;
        }
        if (orc_buf_append(out, chunk, (size_t)n) != 0) {
            close(fd);
            return ORC_ENOMEM;
        }
    }
    close(fd);
    return n < 0 ? ORC_EIO : 0;
}

int orc_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ORC_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int orc_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[4096];
    int fd, rv;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return ORC_EINVAL;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return ORC_EIO;
    rv = fchmod(fd, mode) == 0 ? orc_write_all(fd, data, len) : ORC_EIO;
    if (rv == 0 && fsync(fd) != 0) rv = ORC_EIO;
    if (close(fd) != 0 && rv == 0) rv = ORC_EIO;
    if (rv == 0 && rename(tmp, path) != 0) rv = ORC_EIO;
    if (rv != 0) unlink(tmp);
    return rv;
}

int orc_mkdirs(const char *path, mode_t mode)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof buf) return ORC_EINVAL;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) return ORC_EIO;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return ORC_EIO;
    return 0;
}

int orc_file_private_dir(const char *dir)
{
    struct dirent *e;
    struct stat st;
    int rv = 0;
    DIR *d;

    if (chmod(dir, 0700) != 0) return errno == ENOENT ? ORC_ENOENT : ORC_EIO;
    if ((d = opendir(dir)) == NULL) return ORC_EIO;
    while ((e = readdir(d)) != NULL) {
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* gone */
        if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) == 0600) continue;
        if (fchmodat(dirfd(d), e->d_name, 0600, 0) != 0 && errno != ENOENT) rv = ORC_EIO;
    }
    closedir(d);
    return rv;
}
