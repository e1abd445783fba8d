/* rt_logscan.c — reading CRI log files (worker side): record parsing, the
 * starting point for tail/since found by scanning backwards from the end
 * (so `--tail 10` of a large log reads a block, not the file), and the
 * formatting `kubectl logs` shows. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/orc.h"

#define BLOCK 65536

bool rt_cri_parse(const char *line, size_t len, struct rt_cri *out)
{
    const char *end = line + len, *sp1, *sp2;

    sp1 = memchr(line, ' ', len);
    if (sp1 == NULL) return false;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)); /* after the stream */
    if (sp2 == NULL || sp2 + 2 > end || (sp2[1] != 'F' && sp2[1] != 'P')) return false;
    out->ts = line;
    out->ts_len = (size_t)(sp1 - line);
    out->partial = sp2[1] == 'P';
    /* the tag may carry more (a future "F:x"); text follows the next space */
    {
        const char *sp3 = memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1));
        out->text = sp3 ? sp3 + 1 : end;
    }
    out->len = (size_t)(end - out->text);
    return true;
}

static bool before_since(const struct rt_cri *c, int64_t since_ns)
{
    int64_t ts;
    return since_ns > 0 && rt_time_parse(c->ts, c->ts_len, &ts) == 0 && ts < since_ns;
}

int rt_logfmt(struct orc_buf *out, const char *rec, size_t len, bool timestamps, int64_t since_ns,
              bool *in_line)
{
    struct rt_cri c;
    int rv = 0;

    if (!rt_cri_parse(rec, len, &c)) { /* not ours: shown as it is */
        *in_line = false;
        if ((rv = orc_buf_append(out, rec, len)) == 0) rv = orc_buf_append(out, "\n", 1);
        return rv;
    }
    if (before_since(&c, since_ns)) return 0;
    if (timestamps && !*in_line) {
        if ((rv = orc_buf_append(out, c.ts, c.ts_len)) == 0) rv = orc_buf_append(out, " ", 1);
    }
    if (rv == 0) rv = orc_buf_append(out, c.text, c.len);
    if (rv == 0 && !c.partial) rv = orc_buf_append(out, "\n", 1);
    *in_line = c.partial;
    return rv;
}

/* ---- the backward scan ---- */

struct scan {
    int64_t tail, since_ns, lines;
    bool found;
    off_t start;
};

/* One record, newest first: true when output starts after it. */
static bool visit(struct scan *s, const char *rec, size_t len)
{
    struct rt_cri c;
    bool cri = rt_cri_parse(rec, len, &c);

    if (cri && before_since(&c, s->since_ns)) return true;
    if (s->tail >= 0 && (!cri || !c.partial) && ++s->lines > s->tail) return true;
    return false;
}

/* Reads [lo - n, lo) in front of buf. */
static int prepend(int fd, struct orc_buf *buf, off_t *lo)
{
    size_t n = *lo > BLOCK ? BLOCK : (size_t)*lo;
    char *p;

    if (orc_buf_reserve(buf, n + 1) != 0) return ORC_ENOMEM;
    p = buf->data;
    memmove(p + n, p, buf->len);
    if (pread(fd, p, n, *lo - (off_t)n) != (ssize_t)n) return ORC_EIO;
    buf->len += n;
    *lo -= (off_t)n;
    return 0;
}

/* Walks one file's complete records from the end. */
static int scan_file(int fd, struct scan *s)
{
    struct orc_buf buf = ORC_BUF_INIT;
    struct stat st;
    off_t lo;
    int rv = 0;

    if (fstat(fd, &st) != 0) return ORC_EIO;
    lo = st.st_size;
    /* bytes after the last newline are a record still being written */
    while (rv == 0 && lo > 0 && (buf.len == 0 || memchr(buf.data, '\n', buf.len) == NULL))
        rv = prepend(fd, &buf, &lo);
    if (rv == 0 && buf.len > 0) {
        char *nl = memrchr(buf.data, '\n', buf.len);
        buf.len = nl ? (size_t)(nl - buf.data) + 1 : 0;
    }
    while (rv == 0 && buf.len > 0) {
        char *prev = buf.len > 1 ? memrchr(buf.data, '\n', buf.len - 1) : NULL;
        if (prev == NULL && lo > 0) {
            rv = prepend(fd, &buf, &lo);
            continue;
        }
        size_t start = prev ? (size_t)(prev - buf.data) + 1 : 0;
        if (visit(s, buf.data + start, buf.len - 1 - start)) {
            s->found = true;
            s->start = lo + (off_t)buf.len;
            break;
        }
        buf.len = start;
    }
    orc_buf_free(&buf);
    return rv;
}

int rt_logscan_start(const int *fds, int nf, int64_t tail, int64_t since_ns, struct rt_logpos *out)
{
    struct scan s = {.tail = tail, .since_ns = since_ns};
    int rv;

    out->file = 0;
    out->off = 0;
    if (tail < 0 && since_ns <= 0) return 0;
    for (int i = nf - 1; i >= 0; i--) {
        if ((rv = scan_file(fds[i], &s)) != 0) return rv;
        if (s.found) {
            out->file = i;
            out->off = s.start;
            return 0;
        }
    }
    return 0;
}
