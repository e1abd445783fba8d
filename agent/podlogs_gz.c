/* podlogs_gz.c — compressing rotated container logs as the kubelet does
 * (every rotated file but the newest becomes NAME.gz). Apart from
 * podlogs.c because it needs zlib, which the static orc-shim does not
 * link: the agent compresses, off its loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/podlogs.h"
#include "lib/orc.h"

/* path -> path.gz through path.gz.tmp; the plain file goes last. */
static int compress_one(const char *path)
{
    char gz[4200], tmp[4220], buf[65536];
    gzFile out;
    ssize_t n;
    int fd, rv = 0;

    if (snprintf(gz, sizeof gz, "%s.gz", path) >= (int)sizeof gz
        || snprintf(tmp, sizeof tmp, "%s.gz.tmp", path) >= (int)sizeof tmp)
        return ORC_EINVAL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return errno == ENOENT ? 0 : ORC_EIO;
    if ((out = gzopen(tmp, "wb1")) == NULL) {
        close(fd);
        return ORC_EIO;
    }
    while (rv == 0 && (n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || gzwrite(out, buf, (unsigned)n) != (int)n) rv = ORC_EIO;
    }
    close(fd);
    if (gzclose(out) != Z_OK && rv == 0) rv = ORC_EIO;
    if (rv == 0 && rename(tmp, gz) != 0) rv = ORC_EIO;
    if (rv != 0) {
        unlink(tmp);
        return rv;
    }
    unlink(path);
    return 0;
}

int podlogs_compress(const char *log)
{
    char **v;
    size_t n;
    int rv;

    if ((rv = podlogs_rotated(log, false, &v, &n)) != 0) return rv;
    for (size_t i = 0; i + 1 < n && rv == 0; i++) rv = compress_one(v[i]);
    podlogs_strv_free(v, n);
    return rv;
}
