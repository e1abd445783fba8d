/* registry.c — the real registry and test image behind registry.h. */
#include "tests/harness/registry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static const char *const applets[] = {
    "sh", "echo", "sleep", "cat", "ls", "env", "id", "hostname", "wget", "nc", "httpd",
    "dd", "head", "tail", "true", "false", "kill", "printf", "mkdir", "rm", "touch", "pwd",
    "ps", "grep", "seq", "wc", "sed", "stat", "test", "yes", "whoami", "tar", "tty", "stty",
};

/* snprintf that fails the case rather than truncate a path. */
static void pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n) test_fail(__FILE__, __LINE__, "path too long: %s", out);
}

int t_run(char *const argv[], const char *log)
{
    pid_t pid = fork();
    int st = 0;

    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0) _exit(126);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        test_fail(__FILE__, __LINE__, "writing %s: %s", path, strerror(errno));
}

static void slurp_fail(const char *log, const char *what)
{
    char buf[2048] = "";
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

    if (f) fclose(f);
    buf[n] = '\0';
    test_fail(__FILE__, __LINE__, "%s failed: %s", what, buf);
}

/* ---- the test image ---- */

static void make_rootfs(const char *root)
{
    char p[1024], q[1024];
    char *cp[] = {"cp", "/bin/busybox", p, NULL};

    const char *dirs[] = {"bin", "etc", "tmp", "root", "home", "home/app", "data"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        pathf(p, sizeof p, "%s/%s", root, dirs[i]);
        if (mkdir(p, 0755) != 0 && errno != EEXIST) test_fail(__FILE__, __LINE__, "mkdir %s", p);
    }
    pathf(p, sizeof p, "%s/tmp", root);
    chmod(p, 01777);
    pathf(p, sizeof p, "%s/home/app", root);
    if (chown(p, 1000, 1000) != 0) test_fail(__FILE__, __LINE__, "chown %s", p);
    pathf(p, sizeof p, "%s/bin/busybox", root);
    if (t_run(cp, NULL) != 0) test_fail(__FILE__, __LINE__, "copying /bin/busybox");
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++) {
        pathf(q, sizeof q, "%s/bin/%s", root, applets[i]);
        if (symlink("busybox", q) != 0) test_fail(__FILE__, __LINE__, "symlink %s", q);
    }
    pathf(p, sizeof p, "%s/etc/passwd", root);
    write_text(p, "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
    pathf(p, sizeof p, "%s/etc/group", root);
    write_text(p, "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n");
}

static void build_layout(const char *layout, const char *work)
{
    char root[1024], image[1100], log[1024];

    pathf(root, sizeof root, "%s/rootfs", work);
    pathf(log, sizeof log, "%s/umoci.log", work);
    snprintf(image, sizeof image, "%s:1", layout);
    if (mkdir(root, 0755) != 0) test_fail(__FILE__, __LINE__, "mkdir %s", root);
    make_rootfs(root);
    char *init[] = {"umoci", "init", "--layout", (char *)layout, NULL};
    char *new[] = {"umoci", "new", "--image", image, NULL};
    char *ins[] = {"umoci", "insert", "--image", image, root, "/", NULL};
    char *cfg[] = {"umoci", "config", "--image", image, "--config.cmd", "sh", "--config.env",
                   "PATH=/bin", "--config.workingdir", "/", NULL};
    char *gc[] = {"umoci", "gc", "--layout", (char *)layout, NULL};
    char *const *steps[] = {init, new, ins, cfg, gc};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (t_run(steps[i], log) != 0) slurp_fail(log, "building the test image with umoci");
}

const char *registry_busybox_layout(void)
{
    static char layout[1024];
    char base[900], tmp[1024], work[1024], idx[1100];
    char *rm[] = {"rm", "-rf", work, NULL};

    snprintf(base, sizeof base, "%s", t_bin("testdata"));
    /* bump the number when the image changes: the cache is keyed by it */
    pathf(layout, sizeof layout, "%s/busybox-oci-2", base);
    pathf(idx, sizeof idx, "%s/index.json", layout);
    if (access(idx, F_OK) == 0) return layout;
    mkdir(base, 0755);
    pathf(work, sizeof work, "%s/build-%d", base, (int)getpid());
    pathf(tmp, sizeof tmp, "%s/oci", work);
    t_run(rm, NULL);
    if (mkdir(work, 0755) != 0) test_fail(__FILE__, __LINE__, "mkdir %s: %s", work, strerror(errno));
    build_layout(tmp, work);
    /* another test program may have made it meanwhile: either one is fine */
    if (rename(tmp, layout) != 0 && access(idx, F_OK) != 0)
        test_fail(__FILE__, __LINE__, "rename %s: %s", tmp, strerror(errno));
    t_run(rm, NULL);
    return layout;
}

/* ---- the registry ---- */

static bool port_free(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static bool accepting(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* The case's registries by pid: the struct may live in a stack frame that
 * is gone when the case's cleanups run. */
static pid_t running[8];

static void kill_pid(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] == pid) running[i] = 0;
}

static void kill_registries(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] > 0) kill_pid(running[i]);
}

static void track(pid_t pid)
{
    static bool deferred;

    if (!deferred) {
        test_defer(kill_registries, NULL);
        deferred = true;
    }
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++) {
        if (running[i] == 0) {
            running[i] = pid;
            return;
        }
    }
    kill(pid, SIGKILL);
    test_fail(__FILE__, __LINE__, "too many registries in one case");
}

void registry_stop(struct registry *r)
{
    if (r->pid <= 0) return;
    kill_pid(r->pid);
    r->pid = 0;
}

static bool listen_all;

void registry_listen_all(bool on) { listen_all = on; }

static void write_config(struct registry *r)
{
    char path[600], text[2048], auth[700] = "";

    if (r->auth) {
        char hp[600];
        pathf(hp, sizeof hp, "%s/htpasswd", r->dir);
        char *argv[] = {"htpasswd", "-Bbc", hp, r->user, r->password, NULL};
        if (t_run(argv, NULL) != 0) test_fail(__FILE__, __LINE__, "htpasswd failed");
        snprintf(auth, sizeof auth, "auth:\n  htpasswd:\n    realm: orc-test\n    path: %s\n", hp);
    }
    char tls[1400] = "";
    if (r->tls)
        snprintf(tls, sizeof tls, "  tls:\n    certificate: %s/server.crt\n    key: %s/server.key\n", r->dir,
                 r->dir);
    snprintf(text, sizeof text,
             "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\n"
             "storage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
             "http:\n  addr: %s:%d\n%s%s",
             r->dir, listen_all ? "" : "127.0.0.1", r->port, tls, auth);
    pathf(path, sizeof path, "%s/config.yml", r->dir);
    write_text(path, text);
}

static pid_t spawn_registry(struct registry *r)
{
    char cfg[600];
    pid_t pid;

    pathf(cfg, sizeof cfg, "%s/config.yml", r->dir);
    pid = fork();
    if (pid == 0) {
        int fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        /* a case that crashes runs no cleanup: the registry goes with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd < 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("docker-registry", "docker-registry", "serve", cfg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Up to 10 s for the port to accept; false when the registry died. */
static bool wait_up(struct registry *r)
{
    uint64_t deadline = test_now_ms() + 10000;

    while (test_now_ms() < deadline) {
        if (accepting(r->port)) return true;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
                if (running[i] == r->pid) running[i] = 0;
            r->pid = 0;
            return false;
        }
        usleep(20000);
    }
    test_fail(__FILE__, __LINE__, "registry on port %d did not come up", r->port);
}

static void registry_start_as(struct registry *r, bool with_auth, bool tls);

/* A CA and a server certificate for 127.0.0.1 signed by it. */
static void make_certs(struct registry *r)
{
    char cmd[4096], log[700];

    pathf(log, sizeof log, "%s/openssl.log", r->dir);
    pathf(r->ca_file, sizeof r->ca_file, "%s/ca.crt", r->dir);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.crt -days 2 -subj /CN=orc-test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
             "-out server.csr -subj /CN=127.0.0.1 && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext.cnf && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile ext.cnf -out server.crt",
             r->dir);
    char *argv[] = {"sh", "-c", cmd, NULL};
    if (t_run(argv, log) != 0) slurp_fail(log, "making test certificates with openssl");
}

void registry_start_tls(struct registry *r, bool with_auth)
{
    registry_start_as(r, with_auth, true);
}

void registry_start(struct registry *r, bool with_auth)
{
    registry_start_as(r, with_auth, false);
}

static void registry_start_as(struct registry *r, bool with_auth, bool tls)
{
    memset(r, 0, sizeof *r);
    r->auth = with_auth;
    r->tls = tls;
    snprintf(r->user, sizeof r->user, "orc");
    snprintf(r->password, sizeof r->password, "s3cret-%d", (int)getpid());
    snprintf(r->dir, sizeof r->dir, "%s/registry-%d", test_tmpdir(), (int)getpid());
    snprintf(r->log, sizeof r->log, "%s/registry.log", r->dir);
    if (mkdir(r->dir, 0755) != 0 && errno != EEXIST) test_fail(__FILE__, __LINE__, "mkdir %s", r->dir);
    if (tls) make_certs(r);
    for (int attempt = 0; attempt < 20; attempt++) {
        r->port = 20000 + (int)(((unsigned)getpid() * 7u + (unsigned)attempt * 977u) % 30000u);
        if (!port_free(r->port)) continue;
        write_config(r);
        r->pid = spawn_registry(r);
        if (r->pid < 0) test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        track(r->pid);
        if (wait_up(r)) {
            snprintf(r->host, sizeof r->host, "127.0.0.1:%d", r->port);
            snprintf(r->url, sizeof r->url, "%s://127.0.0.1:%d", tls ? "https" : "http", r->port);
            return;
        }
    }
    slurp_fail(r->log, "starting docker-registry");
}

void registry_push_busybox(struct registry *r, const char *repo_tag)
{
    char src[1100], dst[256], creds[64], log[700];
    char *argv[] = {"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                    src, dst, NULL, NULL, NULL};

    snprintf(src, sizeof src, "oci:%s:1", registry_busybox_layout());
    snprintf(dst, sizeof dst, "docker://%s/%s", r->host, repo_tag);
    pathf(log, sizeof log, "%s/push.log", r->dir);
    if (r->auth) {
        snprintf(creds, sizeof creds, "%s:%s", r->user, r->password);
        argv[7] = "--dest-creds";
        argv[8] = creds;
    }
    if (t_run(argv, log) != 0) slurp_fail(log, "pushing the test image with skopeo");
}

int registry_count(const struct registry *r, const char *what)
{
    char line[4096];
    FILE *f = fopen(r->log, "r");
    int n = 0;

    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, what)) n++;
    fclose(f);
    return n;
}
