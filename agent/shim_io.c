/* shim_io.c — the shim's side of attach input: the console socket that
 * receives a `tty: true` container's terminal from the OCI runtime, the
 * relay from the stdin FIFO (which attaches write) to the terminal or to
 * the process's stdin pipe (stdinOnce closes it after the first attach),
 * and the resize FIFO ("COLS ROWS\n" records, TIOCSWINSZ on the master).
 * Blocking-free: the shim's poll loop drives it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "agent/shim_int.h"

#define CONSOLE_WAIT_MS 10000 /* the runtime connected before it exited: this is slack */

int shim_console_listen(struct shim_console *c)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    const char *tmp = getenv("TMPDIR");

    c->fd = -1;
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 64) tmp = "/tmp"; /* room for the socket's name */
    if (snprintf(c->dir, sizeof c->dir, "%s/orc-console-XXXXXX", tmp)
            >= (int)sizeof c->dir
        || mkdtemp(c->dir) == NULL)
        return -1;
    /* a private directory: nobody else can connect before the runtime */
    if (snprintf(c->path, sizeof c->path, "%s/sock", c->dir) >= (int)sizeof a.sun_path) {
        rmdir(c->dir);
        c->dir[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(a.sun_path, c->path, strlen(c->path) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(c->fd, 1) != 0) {
        shim_console_close(c);
        return -1;
    }
    return 0;
}

void shim_console_close(struct shim_console *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    if (c->path[0]) unlink(c->path);
    if (c->dir[0]) rmdir(c->dir);
    c->path[0] = c->dir[0] = '\0';
}

/* The terminal's master the runtime sent (SCM_RIGHTS), or -1. */
int shim_console_recv(struct shim_console *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    char byte[256], ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {byte, sizeof byte};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *h;
    int conn, fd = -1;

    if (poll(&p, 1, CONSOLE_WAIT_MS) != 1) return -1;
    if ((conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) < 0) return -1;
    p.fd = conn;
    if (poll(&p, 1, CONSOLE_WAIT_MS) == 1 && recvmsg(conn, &m, MSG_CMSG_CLOEXEC) >= 0) {
        h = CMSG_FIRSTHDR(&m);
        if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS
            && h->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(h), sizeof fd);
    }
    close(conn);
    return fd;
}

static int fifo_path(const char *dir, const char *name, char out[RT_PATH])
{
    return rt_path(out, "%s/%s", dir, name);
}

static int make_fifo(const char *path)
{
    unlink(path);
    return mkfifo(path, 0600);
}

/* Read end without a writer: a writer's arrival and departure shows as
 * data and then EOF (POLLHUP), and reopening forgets a departed writer. */
static int reopen_fifo(struct shim_in *in)
{
    if (in->fifo >= 0) close(in->fifo);
    in->fifo = open(in->fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    return in->fifo < 0 ? -1 : 0;
}

int shim_in_open(struct shim_in *in, const char *dir, bool stdin, bool once, int master)
{
    char rpath[RT_PATH];

    memset(in, 0, sizeof *in);
    in->fifo = in->target = in->resize = -1;
    in->tty = master >= 0;
    in->once = once;
    if (master >= 0) {
        if (fcntl(master, F_SETFL, O_NONBLOCK) != 0) return -1;
        /* our own copy: the output side closes its fd at the terminal's end */
        if ((in->target = fcntl(master, F_DUPFD_CLOEXEC, 0)) < 0) return -1;
        if (fifo_path(dir, "resize", rpath) || make_fifo(rpath) != 0) return -1;
        if ((in->resize = open(rpath, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) return -1;
    }
    if (!stdin) return 0;
    if (fifo_path(dir, "stdin", in->fifo_path) || make_fifo(in->fifo_path) != 0) return -1;
    return reopen_fifo(in);
}

int shim_in_pipe(struct shim_in *in, int *proc_end)
{
    int p[2];

    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    if (fcntl(p[1], F_SETFL, O_NONBLOCK) != 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    in->target = p[1];
    *proc_end = p[0];
    return 0;
}

void shim_in_close(struct shim_in *in)
{
    if (in->fifo >= 0) close(in->fifo);
    if (in->target >= 0) close(in->target);
    if (in->resize >= 0) close(in->resize);
    in->fifo = in->target = in->resize = -1;
}

void shim_in_pollfds(const struct shim_in *in, struct pollfd fds[3])
{
    bool pending = in->pend_len > in->pend_off;

    fds[0] = (struct pollfd){pending ? -1 : in->fifo, POLLIN, 0};
    fds[1] = (struct pollfd){pending ? in->target : -1, POLLOUT, 0};
    fds[2] = (struct pollfd){in->resize, POLLIN, 0};
}

/* Writes what is pending; what does not fit waits for POLLOUT. */
static void flush(struct shim_in *in)
{
    while (in->target >= 0 && in->pend_off < in->pend_len) {
        ssize_t n = write(in->target, in->pend + in->pend_off, in->pend_len - in->pend_off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) { /* the process is gone: its input with it */
            close(in->target);
            in->target = -1;
            break;
        }
        in->pend_off += (size_t)n;
    }
    in->pend_off = in->pend_len = 0;
}

/* stdinOnce: the first attach left. A pipe closes; a terminal gets its
 * EOF character (there is no half-close on a terminal, and hanging it up
 * would end the session the process may still write to). */
static void end_input(struct shim_in *in)
{
    struct termios t;

    in->closed = true;
    if (in->target < 0) return;
    if (!in->tty) {
        close(in->target);
        in->target = -1;
        return;
    }
    in->pend[in->pend_len++] = tcgetattr(in->target, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
    flush(in);
}

static void read_stdin(struct shim_in *in)
{
    ssize_t n = read(in->fifo, in->pend, sizeof in->pend - 1); /* room for VEOF */

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n > 0) {
        if (in->closed || in->target < 0) return; /* nobody reads it any more */
        in->pend_off = 0;
        in->pend_len = (size_t)n;
        flush(in);
        return;
    }
    if (in->once && !in->closed) end_input(in);
    if (reopen_fifo(in) != 0) in->fifo = -1;
}

static void read_resize(struct shim_in *in)
{
    ssize_t n = read(in->resize, in->rbuf + in->rlen, sizeof in->rbuf - 1 - in->rlen);
    char *nl;

    if (n <= 0) return;
    in->rlen += (size_t)n;
    in->rbuf[in->rlen] = '\0';
    while ((nl = memchr(in->rbuf, '\n', in->rlen)) != NULL) {
        unsigned cols = 0, rows = 0;
        *nl = '\0';
        if (sscanf(in->rbuf, "%u %u", &cols, &rows) == 2 && cols > 0 && rows > 0 && cols <= 0xffff
            && rows <= 0xffff && in->target >= 0) {
            struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
            ioctl(in->target, TIOCSWINSZ, &ws); /* the kernel signals SIGWINCH */
        }
        in->rlen -= (size_t)(nl + 1 - in->rbuf);
        memmove(in->rbuf, nl + 1, in->rlen);
    }
    if (in->rlen == sizeof in->rbuf - 1) in->rlen = 0; /* no newline in sight: garbage */
}

void shim_in_handle(struct shim_in *in, const struct pollfd fds[3])
{
    if (fds[1].fd >= 0 && fds[1].revents) flush(in);
    if (fds[0].fd >= 0 && fds[0].revents) read_stdin(in);
    if (fds[2].fd >= 0 && fds[2].revents) read_resize(in);
}
