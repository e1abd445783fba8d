/* run.c — synchronous fork/exec (posix_spawn) with stdin fed from memory
 * and stdout/stderr captured through poll(). */
#include "lib/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/orc.h"

#define RUN_MAX_CAPTURE (64u << 20)

extern char **environ;

struct pipes {
    int in[2], out[2], err[2]; /* [0] parent's end, [1] child's end */
};

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void close_pipes(struct pipes *p)
{
    for (int i = 0; i < 2; i++) {
        close_fd(&p->in[i]);
        close_fd(&p->out[i]);
        close_fd(&p->err[i]);
    }
}

/* stdin is a socket pair rather than a pipe so that writes can use
 * MSG_NOSIGNAL: a child that exits without reading must not SIGPIPE us. */
static int open_pipes(const struct orc_run_io *io, struct pipes *p)
{
    int sv[2];

    memset(p, -1, sizeof *p);
    if (io && io->in) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return ORC_EIO;
        p->in[0] = sv[0];
        p->in[1] = sv[1];
        if (shutdown(p->in[1], SHUT_WR) != 0 || fcntl(p->in[0], F_SETFL, O_NONBLOCK) != 0)
            goto err;
    }
    if (io && io->out && pipe2(p->out, O_CLOEXEC) != 0) goto err;
    if (io && io->err && pipe2(p->err, O_CLOEXEC) != 0) goto err;
    /* pipe2 fills [0] read, [1] write: the parent reads [0], as wanted. */
    return 0;
err:
    close_pipes(p);
    return ORC_EIO;
}

static int redirect(posix_spawn_file_actions_t *fa, int fd, int target, int flags)
{
    if (fd >= 0) return posix_spawn_file_actions_adddup2(fa, fd, target);
    return posix_spawn_file_actions_addopen(fa, target, "/dev/null", flags, 0);
}

/* Looks argv[0] up in $PATH here rather than in the child: a missing
 * program is then ORC_ENOENT everywhere (some C libraries, and valgrind,
 * only report a failed exec as exit status 127). */
static int resolve(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");

    if (strchr(name, '/')) {
        if ((size_t)snprintf(out, n, "%s", name) >= n) return ORC_EINVAL;
        return access(out, X_OK) == 0 ? 0 : ORC_ENOENT;
    }
    if (path == NULL || *path == '\0') path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, path, name) < n
            && access(out, X_OK) == 0)
            return 0;
        path += len + (path[len] == ':');
    }
    return ORC_ENOENT;
}

static int spawn(char *const argv[], char *const *env, struct pipes *p, pid_t *pid)
{
    char prog[4096];
    static const int dfl[] = {SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    int rv;

    rv = resolve(argv[0], prog, sizeof prog);
    if (rv != 0) return rv;
    sigemptyset(&none);
    sigemptyset(&def);
    for (size_t i = 0; i < ORC_ARRAY_LEN(dfl); i++) sigaddset(&def, dfl[i]);
    if (posix_spawn_file_actions_init(&fa) != 0) return ORC_ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return ORC_ENOMEM;
    }
    /* The caller's thread may block or catch signals (a libuv loop does);
     * the tool gets a clean slate. */
    rv = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rv == 0) rv = posix_spawnattr_setsigmask(&at, &none);
    if (rv == 0) rv = posix_spawnattr_setsigdefault(&at, &def);
    if (rv == 0) rv = redirect(&fa, p->in[1], 0, O_RDONLY);
    if (rv == 0) rv = redirect(&fa, p->out[1], 1, O_WRONLY);
    if (rv == 0) rv = redirect(&fa, p->err[1], 2, O_WRONLY);
    if (rv == 0) rv = posix_spawn(pid, prog, &fa, &at, argv, env ? env : environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (rv == ENOENT || rv == EACCES || rv == ENOEXEC) return ORC_ENOENT;
    if (rv == ENOMEM) return ORC_ENOMEM;
    return rv == 0 ? 0 : ORC_EIO;
}

static int drain(int *fd, struct orc_buf *b)
{
    char chunk[4096];
    ssize_t n = read(*fd, chunk, sizeof chunk);

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    if (n <= 0) {
        close_fd(fd);
        return 0;
    }
    if (b->len + (size_t)n > RUN_MAX_CAPTURE) return 0;
    return orc_buf_append(b, chunk, (size_t)n);
}

static void feed(int *fd, const char *in, size_t len, size_t *off)
{
    ssize_t n = send(*fd, in + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n < 0) { /* the child stopped reading: its exit status tells why */
        close_fd(fd);
        return;
    }
    *off += (size_t)n;
    if (*off == len) close_fd(fd);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll's timeout until the deadline (-1: none); 0 once it passed. */
static int wait_ms(int64_t deadline)
{
    int64_t left;

    if (deadline == 0) return -1;
    left = deadline - mono_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Moves data until the child closed its output and took its input (or
 * refused it), or the deadline passed (ORC_ETIMEDOUT). A child that holds
 * its output open past its own exit (a daemon it forked) keeps us here: a
 * deadline bounds that too. */
static int pump(const struct orc_run_io *io, unsigned timeout_ms, struct pipes *p)
{
    int64_t deadline = timeout_ms ? mono_ms() + timeout_ms : 0;
    size_t off = 0;
    int rv = 0;

    if (p->in[0] >= 0 && io->in_len == 0) close_fd(&p->in[0]);
    while (p->in[0] >= 0 || p->out[0] >= 0 || p->err[0] >= 0) {
        struct pollfd fds[3] = {{p->in[0], POLLOUT, 0}, {p->out[0], POLLIN, 0},
                                {p->err[0], POLLIN, 0}};
        int ready = poll(fds, 3, wait_ms(deadline));
        if (ready < 0) {
            if (errno == EINTR) continue;
            return ORC_EIO;
        }
        if (ready == 0 && deadline != 0 && wait_ms(deadline) == 0) return ORC_ETIMEDOUT;
        if (fds[0].revents) feed(&p->in[0], io->in, io->in_len, &off);
        if (fds[1].revents && rv == 0) rv = drain(&p->out[0], io->out);
        if (fds[2].revents && rv == 0) rv = drain(&p->err[0], io->err);
        if (rv != 0) break;
    }
    return rv;
}

static int reap(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return ORC_EIO;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

int orc_run(char *const argv[], const struct orc_run_io *io) { return orc_run_opts(argv, io, NULL); }

int orc_run_opts(char *const argv[], const struct orc_run_io *io, const struct orc_run_opts *opts)
{
    static const struct orc_run_io none = {NULL, 0, NULL, NULL};
    static const struct orc_run_opts defaults = {NULL, 0};
    struct pipes p;
    pid_t pid;
    int rv, status;

    if (argv == NULL || argv[0] == NULL) return ORC_EINVAL;
    if (io == NULL) io = &none;
    if (opts == NULL) opts = &defaults;
    rv = open_pipes(io, &p);
    if (rv != 0) return rv;
    rv = spawn(argv, opts->env, &p, &pid);
    close_fd(&p.in[1]);
    close_fd(&p.out[1]);
    close_fd(&p.err[1]);
    if (rv != 0) {
        close_pipes(&p);
        return rv;
    }
    rv = pump(io, opts->timeout_ms, &p);
    if (rv == ORC_ETIMEDOUT) kill(pid, SIGKILL);
    close_pipes(&p); /* on an error above, the child sees EOF/EPIPE and ends */
    status = reap(pid);
    return rv != 0 ? rv : status;
}

void orc_run_first_line(const char *text, char *dst, size_t n)
{
    size_t len = 0;

    if (n == 0) return;
    if (text) {
        while (text[len] != '\0' && text[len] != '\n' && len + 1 < n) len++;
        while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
            len--;
        memcpy(dst, text, len);
    }
    dst[len] = '\0';
}
