/* shim.c — `orcd shim`: one per container, detached from the agent. It runs
 * the OCI runtime, reports the start to the agent over its stdout, copies
 * the container's output into the log, reaps the container's init (it is
 * the child subreaper), records how it ended in exit.json and cleans up
 * the runtime's state. Blocking calls are fine here: this process does
 * nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "agent/shim.h"
#include "agent/shim_int.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"

#define DRAIN_GRACE_MS 1000 /* output still open after init exited (host pid) */

struct shim_cfg {
    const char *id, *dir, *runtime, *root, *log, *cgroup;
    size_t log_max_bytes;
    unsigned log_max_files;
    bool stdin; /* the process reads a FIFO (DIR/stdin) held open here, for attach */
    bool stdin_once; /* ... until the first attach ends (relayed through a pipe) */
    bool tty;   /* the process has a terminal: its master is held here */
};

struct stream {
    const char *name;
    int fd;
    char line[RT_LOG_LINE_MAX];
    size_t len;
    bool eager; /* a terminal: what was read goes out at once, a line or not */
};

static int parse_args(int argc, char **argv, struct shim_cfg *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--id") == 0) c->id = v;
        else if (strcmp(k, "--dir") == 0) c->dir = v;
        else if (strcmp(k, "--runtime") == 0) c->runtime = v;
        else if (strcmp(k, "--root") == 0) c->root = v;
        else if (strcmp(k, "--log") == 0) c->log = v;
        else if (strcmp(k, "--cgroup") == 0) c->cgroup = v;
        else if (strcmp(k, "--log-max-bytes") == 0) c->log_max_bytes = strtoull(v, NULL, 10);
        else if (strcmp(k, "--log-max-files") == 0) c->log_max_files = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(k, "--stdin") == 0) c->stdin = strcmp(v, "1") == 0;
        else if (strcmp(k, "--stdin-once") == 0) c->stdin_once = strcmp(v, "1") == 0;
        else if (strcmp(k, "--tty") == 0) c->tty = strcmp(v, "1") == 0;
        else return -1;
    }
    return c->id && c->dir && c->runtime && c->root && c->log && c->cgroup ? 0 : -1;
}

/* Runs argv with the given stdio; returns its pid or -1. The child gets
 * the default signal mask and dispositions back. */
static pid_t spawn(char *const *argv, int in, int out, int err)
{
    pid_t pid = fork();
    sigset_t none;

    if (pid != 0) return pid;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

static int wait_pid(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return st;
}

static int status_code(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 255;
}

static void runtime_delete(const struct shim_cfg *c, int devnull)
{
    char root[RT_PATH];
    char *argv[] = {(char *)c->runtime, root, "delete", "--force", (char *)c->id, NULL};
    pid_t pid;

    if (rt_path(root, "--root=%s", c->root) != 0) return;
    pid = spawn(argv, devnull, devnull, devnull);
    if (pid > 0) wait_pid(pid);
}

/* The runtime's last error from its JSON log, without its "runc run
 * failed: " preamble, into msg. */
static void runtime_error(const char *runc_log, char *msg, size_t n)
{
    struct orc_buf b = ORC_BUF_INIT;
    char *save = NULL;

    snprintf(msg, n, "the OCI runtime failed without saying why");
    if (orc_file_read(runc_log, 1 << 20, &b) == 0) {
        for (char *l = strtok_r(b.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            json_t *j = json_loads(l, 0, NULL);
            const char *lvl = json_string_value(json_object_get(j, "level"));
            const char *m = json_string_value(json_object_get(j, "msg"));
            if (m && lvl && (strcmp(lvl, "error") == 0 || strcmp(lvl, "fatal") == 0)) {
                const char *colon = strstr(m, " failed: ");
                if (colon && colon - m < 16) m = colon + 9;
                snprintf(msg, n, "%s", m);
            }
            json_decref(j);
        }
    }
    orc_buf_free(&b);
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    for (int i = 0; i < n; i++)
        if (line[i] == '\n') line[i] = ' ';
    line[n++] = '\n';
    if (write(STDOUT_FILENO, line, (size_t)n) < 0) { /* the agent is gone: fine */ }
}

static int write_state(const struct shim_cfg *c, pid_t pid, int64_t started_ns)
{
    char path[RT_PATH];
    json_t *s = json_pack("{s:i, s:I}", "shimPid", (int)getpid(), "shimStart",
                          (json_int_t)rt_pid_start(getpid()));
    int rv;

    if (s == NULL) return ORC_ENOMEM;
    if (pid > 0) {
        char ts[RT_TIME_LEN];
        rt_time_fmt(started_ns, ts);
        json_object_set_new(s, "pid", json_integer(pid));
        json_object_set_new(s, "pidStart", json_integer((json_int_t)rt_pid_start(pid)));
        json_object_set_new(s, "startedAt", json_string(ts));
        json_object_set_new(s, "startedNs", json_integer(started_ns));
    }
    rv = rt_path(path, "%s/state.json", c->dir) ? ORC_EINVAL : rt_write_json(path, s);
    json_decref(s);
    return rv;
}

static int write_exit(const struct shim_cfg *c, int code, bool oom, int64_t started_ns)
{
    char path[RT_PATH], ts[RT_TIME_LEN];
    int64_t now = rt_now_ns();
    json_t *e;
    int rv;

    rt_time_fmt(now, ts);
    e = json_pack("{s:i, s:b, s:s, s:I, s:I}", "exitCode", code, "oomKilled", oom, "finishedAt",
                  ts, "finishedNs", (json_int_t)now, "startedNs", (json_int_t)started_ns);
    if (e == NULL) return ORC_ENOMEM;
    rv = rt_path(path, "%s/exit.json", c->dir) ? ORC_EINVAL : rt_write_json(path, e);
    json_decref(e);
    return rv;
}

/* Splits what a stream delivered into CRI records. */
static void feed(struct shim_log *log, struct stream *s, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        while (seg > 0) {
            size_t take = RT_LOG_LINE_MAX - s->len < seg ? RT_LOG_LINE_MAX - s->len : seg;
            memcpy(s->line + s->len, p, take);
            s->len += take;
            p += take;
            n -= take;
            seg -= take;
            if (s->len == RT_LOG_LINE_MAX && (seg > 0 || nl == NULL)) {
                shim_log_write(log, s->name, true, s->line, s->len);
                s->len = 0;
            }
        }
        if (nl) {
            shim_log_write(log, s->name, false, s->line, s->len);
            s->len = 0;
            p++;
            n--;
        }
    }
}

/* Reads what is there; false at EOF. */
static bool pump(struct shim_log *log, struct stream *s)
{
    char buf[65536];
    ssize_t n = read(s->fd, buf, sizeof buf);

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
        if (s->len > 0) shim_log_write(log, s->name, false, s->line, s->len);
        s->len = 0;
        close(s->fd);
        s->fd = -1;
        return false;
    }
    feed(log, s, buf, (size_t)n);
    if (s->eager && s->len > 0) { /* a prompt, an echo: attachers see it now */
        shim_log_write(log, s->name, true, s->line, s->len);
        s->len = 0;
    }
    return true;
}

static void reap(int sfd, pid_t init, bool *done, int *status)
{
    struct signalfd_siginfo si;
    pid_t p;
    int st;

    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == init) {
            *done = true;
            *status = st;
        }
    }
}

/* Copies output until init has exited and its output ended (or a grace
 * passed: a host-pid container may leave processes holding it). */
static int supervise(struct shim_log *log, struct stream *out, struct stream *err,
                     struct shim_in *in, int sfd, pid_t init)
{
    bool done = false;
    int status = 0;
    uint64_t deadline = 0;

    reap(sfd, init, &done, &status);
    for (;;) {
        struct pollfd fds[6] = {{sfd, POLLIN, 0}, {out->fd, POLLIN, 0}, {err->fd, POLLIN, 0}};
        int timeout = -1;
        if (done) {
            uint64_t now = (uint64_t)(rt_now_ns() / 1000000);
            if (deadline == 0) deadline = now + DRAIN_GRACE_MS;
            if ((out->fd < 0 && err->fd < 0) || now >= deadline) break;
            timeout = (int)(deadline - now);
        }
        shim_in_pollfds(in, fds + 3);
        if (poll(fds, 6, timeout) < 0 && errno != EINTR) break;
        if (fds[1].revents && !pump(log, out)) fds[1].fd = -1;
        if (fds[2].revents && !pump(log, err)) fds[2].fd = -1;
        shim_in_handle(in, fds + 3);
        if (fds[0].revents) reap(sfd, init, &done, &status);
    }
    /* output left over in the pipes (grace passed) is lost with them */
    if (out->fd >= 0) pump(log, out);
    if (err->fd >= 0) pump(log, err);
    return status_code(status);
}

/* Runs `runtime run --detach`; returns the container's init pid, or -1
 * after reporting the runtime's error. */
static pid_t start_container(const struct shim_cfg *c, int devnull, int in, int out_w, int err_w,
                             const char *console)
{
    char root[RT_PATH], logopt[RT_PATH], bundle[RT_PATH], pidopt[RT_PATH], runc_log[RT_PATH],
        pidfile[RT_PATH], msg[RT_ERRLEN], cons[RT_PATH];
    char *argv[] = {(char *)c->runtime, root, logopt, "--log-format=json", "run", "--detach",
                    bundle, pidopt, (char *)c->id, NULL, NULL};
    struct orc_buf b = ORC_BUF_INIT;
    pid_t pid, init = -1;
    int st;

    if (rt_path(root, "--root=%s", c->root) || rt_path(runc_log, "%s/runc.log", c->dir)
        || rt_path(logopt, "--log=%s", runc_log) || rt_path(bundle, "--bundle=%s", c->dir)
        || rt_path(pidfile, "%s/init.pid", c->dir) || rt_path(pidopt, "--pid-file=%s", pidfile)
        || rt_path(cons, "--console-socket=%s", console ? console : "")) {
        report("error paths too long");
        return -1;
    }
    if (console) { /* before the id: runc takes options first */
        argv[9] = argv[8];
        argv[8] = cons;
    }
    pid = spawn(argv, in, out_w, err_w);
    if (pid < 0) {
        report("error fork: %s", strerror(errno));
        return -1;
    }
    st = wait_pid(pid);
    if (st != 0) {
        runtime_error(runc_log, msg, sizeof msg);
        report("error %s", msg);
        runtime_delete(c, devnull);
        return -1;
    }
    if (orc_file_read(pidfile, 64, &b) == 0) init = (pid_t)strtol(b.data, NULL, 10);
    orc_buf_free(&b);
    if (init <= 0) {
        report("error the OCI runtime wrote no pid file");
        runtime_delete(c, devnull);
    }
    return init;
}

/* Makes the pipes and the SIGCHLD signalfd; the runtime gets the write ends. */
static int setup_io(struct stream *out, struct stream *err, int w[2], int *sfd)
{
    int p1[2], p2[2];
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    *sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (*sfd < 0 || pipe2(p1, O_CLOEXEC) != 0) return -1;
    if (pipe2(p2, O_CLOEXEC) != 0) return -1;
    out->name = "stdout";
    out->fd = p1[0];
    err->name = "stderr";
    err->fd = p2[0];
    w[0] = p1[1];
    w[1] = p2[1];
    return 0;
}

/* Leaves the agent: its direct child exits at once, this one carries on in
 * its own session, logging its own trouble to DIR/shim.log. */
static int detach(const struct shim_cfg *c)
{
    char path[RT_PATH];
    pid_t pid;
    int fd;

    if (rt_path(path, "%s/shim.log", c->dir) != 0) return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) return -1;
    close(fd);
    pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) _exit(0);
    setsid();
    close_range(3, ~0U, 0); /* nothing of the agent's may reach the container */
    if (chdir("/") != 0) return -1;
    return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -1;
}

/* The FIFO the container's process reads: held open for reading and
 * writing here, so the process sees no end when an attach leaves. */
static int open_stdin(const struct shim_cfg *c)
{
    char path[RT_PATH];

    if (rt_path(path, "%s/stdin", c->dir) != 0) return -1;
    unlink(path);
    if (mkfifo(path, 0600) != 0) return -1;
    return open(path, O_RDWR | O_CLOEXEC);
}

/* Starts the container with its terminal: the runtime sends the master
 * over the console socket; the master becomes the output stream. */
static pid_t start_tty(const struct shim_cfg *c, int devnull, struct stream *out,
                       struct shim_in *in)
{
    struct shim_console con;
    pid_t init;
    int master;

    if (shim_console_listen(&con) != 0) {
        report("error console socket: %s", strerror(errno));
        return -1;
    }
    init = start_container(c, devnull, devnull, devnull, devnull, con.path);
    master = init > 0 ? shim_console_recv(&con) : -1;
    shim_console_close(&con);
    if (init > 0 && master < 0) {
        report("error the OCI runtime sent no terminal");
        runtime_delete(c, devnull);
        return -1;
    }
    if (init > 0 && shim_in_open(in, c->dir, c->stdin, c->stdin_once, master) != 0) {
        report("error the terminal's input: %s", strerror(errno));
        close(master);
        runtime_delete(c, devnull);
        return -1;
    }
    out->fd = master;
    out->eager = true;
    return init;
}

/* Without a terminal: stdin (when asked) is the FIFO held open here, or a
 * pipe fed from it under stdinOnce; output goes through the pipes w. */
static pid_t start_plain(const struct shim_cfg *c, int devnull, int w[2], struct shim_in *in,
                         int *held)
{
    int proc_in = devnull;
    pid_t init;

    if (c->stdin && c->stdin_once) {
        if (shim_in_open(in, c->dir, true, true, -1) != 0 || shim_in_pipe(in, &proc_in) != 0) {
            report("error stdin: %s", strerror(errno));
            return -1;
        }
    } else if (c->stdin && (*held = proc_in = open_stdin(c)) < 0) {
        report("error stdin FIFO: %s", strerror(errno));
        return -1;
    }
    init = start_container(c, devnull, proc_in, w[0], w[1], NULL);
    if (proc_in != devnull && proc_in != *held) close(proc_in);
    return init;
}

static int run(const struct shim_cfg *c)
{
    struct stream out = {.fd = -1}, err = {.fd = -1};
    struct shim_in in = {.fifo = -1, .target = -1, .resize = -1};
    struct shim_log log;
    int w[2] = {-1, -1}, sfd = -1, devnull, code, held = -1;
    int64_t started;
    pid_t init;
    bool oom;

    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || setup_io(&out, &err, w, &sfd) != 0 || write_state(c, 0, 0) != 0) {
        report("error shim setup: %s", strerror(errno));
        return 1;
    }
    if (c->tty) { /* the terminal carries both streams */
        close(out.fd);
        close(err.fd);
        out.fd = err.fd = -1;
        init = start_tty(c, devnull, &out, &in);
    } else {
        init = start_plain(c, devnull, w, &in, &held);
    }
    close(w[0]);
    close(w[1]);
    if (init < 0) return 1;
    started = rt_now_ns();
    write_state(c, init, started);
    report("ok %d %lld", (int)init, (long long)started);
    dup2(devnull, STDOUT_FILENO); /* the agent reads until EOF */
    shim_log_open(&log, c->log, c->log_max_bytes, c->log_max_files);
    code = supervise(&log, &out, &err, &in, sfd, init);
    shim_log_close(&log);
    shim_in_close(&in);
    {
        struct rt_cg cg;
        oom = rt_cg_load(&cg) == 0 && rt_cg_oom_kills(&cg, c->cgroup) > 0;
        rt_cg_free(&cg);
    }
    runtime_delete(c, devnull);
    write_exit(c, code, oom, started);
    close(sfd);
    close(devnull);
    if (held >= 0) close(held);
    return 0;
}

int agent_shim_main(int argc, char **argv)
{
    struct shim_cfg c;

    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &c) != 0) {
        fprintf(stderr, "usage: orcd shim --id ID --dir DIR --runtime PATH --root DIR --log FILE "
                        "--cgroup PATH [--log-max-bytes N] [--log-max-files N] [--stdin 0|1]\n"
                        "       [--stdin-once 0|1] [--tty 0|1]\n");
        return 2;
    }
    if (detach(&c) != 0) {
        report("error shim: %s", strerror(errno));
        return 1;
    }
    return run(&c);
}
