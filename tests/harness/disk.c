/* disk.c — flipped bytes in Raft segments, and tmpfs mounts to fill. */
#include "tests/harness/disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness/test.h"

static bool has_data(const char *path)
{
    unsigned char head[8] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;

    if (fd >= 0) close(fd);
    return n == 8 && head[0] == 1; /* raft's format 1; a prepared segment is all zeros */
}

void disk_newest_segment(const char *raft_dir, char *out, size_t n)
{
    char closed[600] = "", open_[600] = "", path[600];
    unsigned long long best_first = 0, best_counter = 0, a, b;
    struct dirent *e;
    DIR *d = opendir(raft_dir);

    CHECKF(d != NULL, "open %s", raft_dir);
    while ((e = readdir(d)) != NULL) {
        snprintf(path, sizeof path, "%s/%s", raft_dir, e->d_name);
        if (strlen(e->d_name) == 33 && sscanf(e->d_name, "%llu-%llu", &a, &b) == 2) {
            if (a >= best_first) best_first = a, snprintf(closed, sizeof closed, "%s", path);
        } else if (sscanf(e->d_name, "open-%llu", &a) == 1 && has_data(path)) {
            if (a >= best_counter) best_counter = a, snprintf(open_, sizeof open_, "%s", path);
        }
    }
    closedir(d);
    snprintf(out, n, "%s", open_[0] ? open_ : closed);
    CHECKF(out[0] != '\0', "no segment in %s", raft_dir);
}

size_t disk_data_end(const char *path)
{
    unsigned char buf[65536];
    size_t end = 0, off = 0;
    ssize_t got;
    int fd = open(path, O_RDONLY);

    CHECKF(fd >= 0, "open %s", path);
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++)
            if (buf[i]) end = off + (size_t)i + 1;
        off += (size_t)got;
    }
    close(fd);
    return end;
}

size_t disk_flip_middle(const char *path)
{
    size_t at = disk_data_end(path) / 2;
    unsigned char c;
    int fd = open(path, O_RDWR);

    CHECKF(fd >= 0, "open %s", path);
    CHECK(pread(fd, &c, 1, (off_t)at) == 1);
    c ^= 0x10;
    CHECK(pwrite(fd, &c, 1, (off_t)at) == 1);
    close(fd);
    printf("# flipped a bit at byte %zu of %s\n", at, path);
    return at;
}

int disk_count_dirs(const char *dir, const char *prefix)
{
    struct dirent *e;
    DIR *d = opendir(dir);
    int n = 0;

    CHECKF(d != NULL, "open %s", dir);
    while ((e = readdir(d)) != NULL) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Lazy: the member may still hold files there; the kernel frees the mount
 * once it exits. */
static void unmount(void *arg)
{
    char *dir = arg;
    if (umount2(dir, MNT_DETACH) != 0) fprintf(stderr, "# umount %s: %s\n", dir, strerror(errno));
    free(dir);
}

bool disk_tmpfs(const char *dir, unsigned size_mb)
{
    char opts[64];

    if (geteuid() != 0) {
        printf("# SKIPPED: mounting a tmpfs needs root\n");
        return false;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) test_fail(__FILE__, __LINE__, "mkdir %s", dir);
    snprintf(opts, sizeof opts, "size=%um,mode=0700", size_mb);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        printf("# SKIPPED: cannot mount a tmpfs at %s: %s\n", dir, strerror(errno));
        return false;
    }
    test_defer(unmount, strdup(dir));
    return true;
}

void disk_fill(const char *dir)
{
    static char chunk[1 << 20];
    char path[600];
    size_t total = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "%s/.filler", dir);
    CHECKF((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0, "create %s", path);
    memset(chunk, 0xAA, sizeof chunk);
    for (size_t piece = sizeof chunk; piece >= 512; piece /= 2)
        while ((n = write(fd, chunk, piece)) > 0) total += (size_t)n;
    close(fd);
    printf("# filled %s with %zu MiB\n", dir, total >> 20);
}

void disk_unfill(const char *dir)
{
    char path[600];

    snprintf(path, sizeof path, "%s/.filler", dir);
    CHECKF(unlink(path) == 0, "remove %s", path);
}
