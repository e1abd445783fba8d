/* rt_user.c — the numeric user and groups a container runs as: the pod's
 * runAsUser/runAsGroup, else the image's User ("name", "uid", "name:group",
 * "uid:gid") resolved through the image's own /etc/passwd and /etc/group,
 * plus the supplementary groups that list the user (as containerd does). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/buf.h"
#include "lib/orc.h"

#define MAX_GIDS 32

/* Reads rootfs/rel without following links out of the image (an image's
 * /etc/passwd may be a symlink to anything). */
static int read_in_root(const char *rootfs, const char *rel, struct orc_buf *out)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
    char chunk[4096];
    int dir, fd;
    ssize_t n;

    dir = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return ORC_EIO;
    fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof how);
    close(dir);
    if (fd < 0) return errno == ENOENT ? ORC_ENOENT : ORC_EIO;
    orc_buf_reset(out);
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && out->len < (1 << 20))
        if (orc_buf_append(out, chunk, (size_t)n) != 0) break;
    close(fd);
    return out->data ? 0 : ORC_ENOENT;
}

static bool numeric(const char *s, uint32_t *v)
{
    char *end;
    unsigned long x;

    if (*s < '0' || *s > '9') return false;
    errno = 0;
    x = strtoul(s, &end, 10);
    if (*end || errno || x > 0xffffffffUL) return false;
    *v = (uint32_t)x;
    return true;
}

/* Field i (0-based) of a ':'-separated line, into out. */
static void field(const char *line, int i, char *out, size_t n)
{
    const char *p = line;

    for (; i > 0 && p; i--) p = (p = strchr(p, ':')) ? p + 1 : NULL;
    if (p == NULL) {
        out[0] = '\0';
        return;
    }
    snprintf(out, n, "%.*s", (int)strcspn(p, ":\n"), p);
}

/* Finds a passwd/group entry by name (key_field 0) or by id (field 2).
 * Returns the line (in b) or NULL. */
static const char *find_entry(const struct orc_buf *b, const char *name, const uint32_t *id)
{
    char f[256];
    uint32_t v;

    for (const char *l = b->data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (*l == '#' || *l == '\n') continue;
        if (name) {
            field(l, 0, f, sizeof f);
            if (strcmp(f, name) == 0) return l;
        } else {
            field(l, 2, f, sizeof f);
            if (numeric(f, &v) && v == *id) return l;
        }
    }
    return NULL;
}

static void supplementary(const struct orc_buf *groups, const char *user, uint32_t primary,
                          uint32_t *gids, size_t *n)
{
    char members[1024], gid[32];
    uint32_t v;

    *n = 0;
    if (user[0] == '\0' || groups->data == NULL) return;
    for (const char *l = groups->data; l && *l && *n < MAX_GIDS;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        field(l, 3, members, sizeof members);
        field(l, 2, gid, sizeof gid);
        if (!numeric(gid, &v) || v == primary) continue;
        for (char *save = NULL, *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            if (strcmp(m, user) == 0) {
                gids[(*n)++] = v;
                break;
            }
        }
    }
}

static int resolve_group(const struct orc_buf *groups, const char *g, uint32_t *gid, char *msg, size_t n)
{
    char f[32];
    const char *l;

    if (numeric(g, gid)) return 0;
    l = groups->data ? find_entry(groups, g, NULL) : NULL;
    if (l == NULL)
        return orc_errf(msg, n, ORC_EINVAL, "unable to find group %s: no matching entries in group file", g);
    field(l, 2, f, sizeof f);
    return numeric(f, gid) ? 0 : orc_errf(msg, n, ORC_EINVAL, "group %s has a bad gid", g);
}

int rt_user_resolve(const char *rootfs, const char *user, int64_t uid_override,
                    int64_t gid_override, uint32_t *uid, uint32_t *gid, uint32_t *gids,
                    size_t *n_gids, char *msg, size_t n)
{
    struct orc_buf pw = ORC_BUF_INIT, gr = ORC_BUF_INIT;
    char spec[256], name[256] = "", f[32];
    char *grp;
    const char *l = NULL;
    int rv = 0;

    read_in_root(rootfs, "etc/passwd", &pw);
    read_in_root(rootfs, "etc/group", &gr);
    snprintf(spec, sizeof spec, "%s", user ? user : "");
    grp = strchr(spec, ':');
    if (grp) *grp++ = '\0';
    *gid = 0;
    if (uid_override >= 0) {
        *uid = (uint32_t)uid_override;
        grp = NULL; /* runAsUser replaces the image's user and group */
        l = pw.data ? find_entry(&pw, NULL, uid) : NULL;
    } else if (spec[0] == '\0') {
        *uid = 0;
        l = pw.data ? find_entry(&pw, NULL, uid) : NULL;
    } else if (numeric(spec, uid)) {
        l = pw.data ? find_entry(&pw, NULL, uid) : NULL;
    } else if ((l = pw.data ? find_entry(&pw, spec, NULL) : NULL) == NULL) {
        rv = orc_errf(msg, n, ORC_EINVAL, "unable to find user %s: no matching entries in passwd file", spec);
    } else {
        field(l, 2, f, sizeof f);
        if (!numeric(f, uid)) rv = orc_errf(msg, n, ORC_EINVAL, "user %s has a bad uid", spec);
    }
    if (rv == 0 && l) {
        field(l, 0, name, sizeof name);
        field(l, 3, f, sizeof f);
        if (!numeric(f, gid)) *gid = 0;
    }
    if (rv == 0 && grp && *grp) rv = resolve_group(&gr, grp, gid, msg, n);
    if (rv == 0 && gid_override >= 0) *gid = (uint32_t)gid_override;
    if (rv == 0) supplementary(&gr, name, *gid, gids, n_gids);
    orc_buf_free(&pw);
    orc_buf_free(&gr);
    return rv;
}
