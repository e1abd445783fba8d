/* net_ns.c — pod network namespaces pinned under /var/run/netns, made the
 * way `ip netns add` makes them (so `ip netns` sees ours), without
 * spawning it: a short-lived thread enters the namespace, so the caller's
 * own thread never changes namespace. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "agent/net_int.h"
#include "lib/orc.h"

#define SELF_NETNS "/proc/thread-self/ns/net"

static int sys_fail(int err, const char *what, const char *path, char *errmsg)
{
    int code = (err == EPERM || err == EACCES) ? ORC_EPERM : err == ENOENT ? ORC_ENOENT : ORC_EIO;
    return orc_errf(errmsg, NET_ERRLEN, code, "%s %s: %s", what, path, strerror(err));
}

int net_ns_prepare(char *errmsg)
{
    bool bound = false;

    if (mkdir(NET_NETNS_DIR, 0755) != 0 && errno != EEXIST)
        return sys_fail(errno, "mkdir", NET_NETNS_DIR, errmsg);
    /* EINVAL: not a mount point yet; bind it onto itself, as ip does. */
    while (mount("", NET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0) {
        if (errno != EINVAL || bound) return sys_fail(errno, "make shared", NET_NETNS_DIR, errmsg);
        if (mount(NET_NETNS_DIR, NET_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) != 0)
            return sys_fail(errno, "bind mount", NET_NETNS_DIR, errmsg);
        bound = true;
    }
    return 0;
}

struct ns_job {
    const char *path;
    bool create;
    int netns_fd, nl_fd;
    int err;
    const char *step;
};

static void *ns_thread(void *arg)
{
    struct ns_job *j = arg;
    int fd, rv;

    if (j->create) {
        j->step = "create namespace";
        if (unshare(CLONE_NEWNET) != 0) goto fail;
        j->step = "pin namespace at";
        if (mount(SELF_NETNS, j->path, "none", MS_BIND, NULL) != 0) goto fail;
    } else {
        j->step = "enter namespace";
        fd = open(j->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) goto fail;
        rv = setns(fd, CLONE_NEWNET);
        j->err = errno;
        close(fd);
        if (rv != 0) return NULL;
        j->err = 0;
    }
    j->step = "open namespace";
    j->netns_fd = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
    if (j->netns_fd < 0) goto fail;
    j->step = "netlink socket in";
    j->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (j->nl_fd < 0) goto fail;
    return NULL;
fail:
    j->err = errno;
    return NULL;
}

/* A file there that is not a pinned namespace is a leftover of a crash
 * between creating the file and binding it: it gets a namespace. */
static bool is_netns(const char *path)
{
    struct statfs st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool yes;

    if (fd < 0) return false;
    yes = fstatfs(fd, &st) == 0 && st.f_type == NSFS_MAGIC;
    close(fd);
    return yes;
}

static int run_job(struct ns_job *j, char *errmsg)
{
    pthread_t t;
    int rv = pthread_create(&t, NULL, ns_thread, j);

    if (rv != 0) return sys_fail(rv, "thread for namespace", j->path, errmsg);
    pthread_join(t, NULL);
    if (j->err == 0) return 0;
    if (j->netns_fd >= 0) close(j->netns_fd);
    if (j->nl_fd >= 0) close(j->nl_fd);
    return sys_fail(j->err, j->step, j->path, errmsg);
}

int net_ns_open(const char *path, int *netns_fd, int *nl_fd, bool *created, char *errmsg)
{
    struct ns_job j = {path, true, -1, -1, 0, NULL};
    bool made_file = false;
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    int rv;

    if (fd >= 0) {
        close(fd);
        made_file = true;
    } else if (errno != EEXIST) {
        return sys_fail(errno, "create", path, errmsg);
    } else {
        j.create = !is_netns(path);
    }
    rv = run_job(&j, errmsg);
    if (rv != 0) {
        if (made_file) unlink(path);
        return rv;
    }
    *netns_fd = j.netns_fd;
    *nl_fd = j.nl_fd;
    *created = j.create;
    return 0;
}

int net_ns_remove(const char *path, char *errmsg)
{
    /* EINVAL: not pinned (a leftover file); ENOENT: already gone. */
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return sys_fail(errno, "unpin namespace", path, errmsg);
    if (unlink(path) != 0 && errno != ENOENT) return sys_fail(errno, "remove", path, errmsg);
    return 0;
}

int net_ns_remove_node(const char *tag, bool (*keep)(void *arg, const char *name), void *arg,
                       char *errmsg)
{
    char prefix[32], path[512], msg[NET_ERRLEN];
    DIR *d = opendir(NET_NETNS_DIR);
    struct dirent *de;
    int rv = 0, err;

    if (d == NULL) return 0; /* never made: nothing pinned */
    snprintf(prefix, sizeof prefix, "orc-%s-", tag);
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
        if (keep && keep(arg, de->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", NET_NETNS_DIR, de->d_name);
        err = net_ns_remove(path, msg);
        if (err != 0 && rv == 0) {
            rv = err;
            snprintf(errmsg, NET_ERRLEN, "%s", msg);
        }
    }
    closedir(d);
    return rv;
}
