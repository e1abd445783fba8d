/* net_state.c — the node's state files: each names the pod owning what the
 * file's name stands for (an address, a host port). Written without fsync:
 * what they describe (namespaces, veths, rules) does not outlive a reboot
 * either. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/orc.h"

int net_owner_write(const char *path, const char *uid, bool exclusive)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    int fd = open(path, flags, 0600);
    size_t len = strlen(uid);
    bool ok;

    if (fd < 0) return errno == EEXIST ? ORC_EEXIST : ORC_EIO;
    ok = write(fd, uid, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (close(fd) != 0) ok = false;
    if (!ok) {
        unlink(path);
        return ORC_EIO;
    }
    return 0;
}

void net_owner_read(const char *path, char uid[NET_UID_MAX + 1])
{
    struct orc_buf b = ORC_BUF_INIT;

    uid[0] = '\0';
    if (orc_file_read(path, 256, &b) == 0) {
        size_t len = strcspn(b.data, "\n");
        if (len <= NET_UID_MAX) {
            memcpy(uid, b.data, len);
            uid[len] = '\0';
        }
        if (!net_uid_valid(uid)) uid[0] = '\0';
    }
    orc_buf_free(&b);
}

char *net_state_path(const char *state_dir, const char *sub)
{
    size_t len = strlen(state_dir) + strlen(sub) + 2;
    char *p = malloc(len);

    if (p) snprintf(p, len, "%s/%s", state_dir, sub);
    return p;
}
