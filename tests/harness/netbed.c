/* netbed.c — the multi-node network test bed (netbed.h): namespaces,
 * links, agents inside them, and their removal, also after a killed run. */
#include "tests/harness/netbed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/run.h"
#include "tests/harness/test.h"

#define NETNS_DIR "/var/run/netns"
#define LAB_BRIDGE "br0"
#define LAB_BRIDGE2 "br1" /* the second subnet's (netbed_router) */
#define PREFIX "orcbed-"

/* ---- running things in a namespace ---- */

/* Forks; the child enters the namespace (fd, or the named one when fd < 0;
 * neither: stays) and execs argv with stdout into a pipe, stderr into the
 * same unless log names a file. Returns the exit status, -1 when it did
 * not run. */
static int run_in(int ns_fd, const char *ns_name, char *const argv[], struct orc_buf *out)
{
    int p[2], st = 0;
    pid_t pid;
    char buf[4096];
    ssize_t n;

    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        char path[256];
        int fd = ns_fd;
        if (fd < 0 && ns_name) {
            snprintf(path, sizeof path, NETNS_DIR "/%s", ns_name);
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if ((ns_fd >= 0 || ns_name) && (fd < 0 || setns(fd, CLONE_NEWNET) != 0)) _exit(126);
        dup2(p[1], 1);
        dup2(p[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    while ((n = read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && out) orc_buf_append(out, buf, (size_t)n);
    close(p[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* sh -c in the host's namespace (the bed's ip commands name their
 * namespaces with -n, whatever namespace the calling thread is in). */
static int host_sh(int host_fd, struct orc_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int host_sh(int host_fd, struct orc_buf *out, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *argv[] = {"sh", "-c", cmd, NULL};
    return run_in(host_fd, NULL, argv, out);
}

/* The same, failing the case with the command's output. */
static void must(struct netbed *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void must(struct netbed *b, const char *fmt, ...)
{
    char cmd[4096];
    struct orc_buf out = ORC_BUF_INIT;
    va_list ap;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    st = host_sh(b->host_fd, &out, "%s", cmd);
    if (st != 0)
        test_fail(__FILE__, __LINE__, "netbed: `%s` exited %d: %s", cmd, st, out.data ? out.data : "");
    orc_buf_free(&out);
}

int netbed_run(struct netbed *b, int i, char *const argv[], char **out)
{
    struct orc_buf o = ORC_BUF_INIT;
    int st;

    if (i == 0) st = run_in(b->host_fd, NULL, argv, &o);
    else st = run_in(-1, i == -2 ? b->router : i < 0 ? b->lab : b->node[i].netns, argv, &o);
    if (out) *out = o.data ? orc_buf_steal(&o, NULL) : strdup("");
    orc_buf_free(&o);
    return st;
}

/* ---- killing what lives in a namespace ---- */

static bool ns_inode(const char *path, ino_t *ino)
{
    struct stat st;

    if (stat(path, &st) != 0) return false;
    *ino = st.st_ino;
    return true;
}

/* SIGKILL to every process (but ours) in the namespace pinned at path,
 * until none is left (5 s at most). */
static void kill_in_ns(const char *path)
{
    ino_t want, ino;
    char p[64];

    if (!ns_inode(path, &want)) return;
    for (int round = 0; round < 50; round++) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        int found = 0;
        if (d == NULL) return;
        while ((e = readdir(d)) != NULL) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 1 || pid == getpid()) continue;
            snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
            if (!ns_inode(p, &ino) || ino != want) continue;
            kill((pid_t)pid, SIGKILL);
            found++;
        }
        closedir(d);
        if (found == 0) return;
        usleep(100 * 1000);
    }
}

/* ---- a node's leftovers: processes, containers, mounts, cgroups,
 * namespaces. Used by the teardown and by the sweep. ---- */

static void remove_pod_namespaces(const char *tag)
{
    char prefix[32], path[512];
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;

    if (d == NULL) return;
    snprintf(prefix, sizeof prefix, "orc-%s-", tag);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        snprintf(path, sizeof path, NETNS_DIR "/%s", e->d_name);
        kill_in_ns(path);
        umount2(path, MNT_DETACH);
        unlink(path);
    }
    closedir(d);
}

static void node_cleanup(int host_fd, const char *netns, const char *node, const char *dir)
{
    char path[300], tag[9], record[300];

    orc_name_tag(node, tag);
    snprintf(path, sizeof path, NETNS_DIR "/%s", netns);
    kill_in_ns(path);
    remove_pod_namespaces(tag); /* kills the containers in them first */
    host_sh(host_fd, NULL,
            "R='%s/rt/runc'; [ -d \"$R\" ] && for c in $(runc --root \"$R\" list -q 2>/dev/null); do "
            "runc --root \"$R\" delete --force \"$c\" >/dev/null 2>&1; done; "
            "awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | xargs -r umount -l; "
            "for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/mounts); do "
            "[ -d $m/orc-%s ] && find $m/orc-%s -depth -type d -exec rmdir {} + 2>/dev/null; done; true",
            dir, dir, tag, tag);
    if (access(path, F_OK) == 0) {
        /* the node's own bridge, chains and routes live in its namespace */
        char *argv[] = {(char *)t_bin("orcd"), "agent", "--cleanup", "--node-name", (char *)node,
                        "--data-dir", (char *)dir, NULL};
        run_in(-1, netns, argv, NULL);
        host_sh(host_fd, NULL, "ip netns del '%s' 2>/dev/null; true", netns);
    }
    remove_pod_namespaces(tag);
    snprintf(record, sizeof record, NETBED_RUN_DIR "/%s", netns);
    unlink(record);
}

static void lab_cleanup(int host_fd, const char *lab)
{
    char path[300], record[300];

    snprintf(path, sizeof path, NETNS_DIR "/%s", lab);
    kill_in_ns(path);
    host_sh(host_fd, NULL, "ip netns del '%s' 2>/dev/null; true", lab);
    snprintf(record, sizeof record, NETBED_RUN_DIR "/%s", lab);
    unlink(record);
}

/* ---- the sweep ---- */

static int name_pid(const char *name)
{
    return strncmp(name, PREFIX, strlen(PREFIX)) == 0 ? atoi(name + strlen(PREFIX)) : 0;
}

static bool pid_dead(int pid) { return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH; }

/* A node's record: "node\ndata dir\n". */
static bool read_record(const char *name, char *node, size_t nn, char *dir, size_t dn)
{
    char path[300];
    struct orc_buf b = ORC_BUF_INIT;
    char *nl;
    bool ok = false;

    snprintf(path, sizeof path, NETBED_RUN_DIR "/%s", name);
    if (orc_file_read(path, 8192, &b) == 0 && b.data && (nl = strchr(b.data, '\n')) != NULL) {
        *nl = '\0';
        snprintf(node, nn, "%s", b.data);
        snprintf(dir, dn, "%s", nl + 1);
        if ((nl = strchr(dir, '\n')) != NULL) *nl = '\0';
        ok = node[0] && dir[0];
    }
    orc_buf_free(&b);
    return ok;
}

/* Stale names from both places (records, pinned namespaces); nodes first. */
static int sweep_pass(bool nodes)
{
    static const char *const dirs[] = {NETBED_RUN_DIR, NETNS_DIR};
    char node[256], dir[1024], path[300];
    int removed = 0;

    for (size_t k = 0; k < 2; k++) {
        DIR *d = opendir(dirs[k]);
        struct dirent *e;
        if (d == NULL) continue;
        while ((e = readdir(d)) != NULL) {
            int pid = name_pid(e->d_name);
            bool is_lab = strstr(e->d_name, "-lab") != NULL;
            if (!pid_dead(pid) || is_lab == nodes) continue;
            snprintf(path, sizeof path, NETNS_DIR "/%s", e->d_name);
            removed += access(path, F_OK) == 0;
            if (is_lab) {
                lab_cleanup(-1, e->d_name);
            } else if (read_record(e->d_name, node, sizeof node, dir, sizeof dir)) {
                node_cleanup(-1, e->d_name, node, dir);
            } else { /* no record: only the namespace to go */
                kill_in_ns(path);
                host_sh(-1, NULL, "ip netns del '%s' 2>/dev/null; true", e->d_name);
                snprintf(path, sizeof path, NETBED_RUN_DIR "/%s", e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    return removed;
}

int netbed_sweep(void)
{
    int n = sweep_pass(true);
    return n + sweep_pass(false);
}

char *netbed_list(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;

    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) == 0) orc_buf_printf(&b, "%s\n", e->d_name);
    if (d) closedir(d);
    return b.data ? orc_buf_steal(&b, NULL) : strdup("");
}

/* ---- the lab ---- */

static void write_record(const char *name, const char *text)
{
    char path[300];

    mkdir(NETBED_RUN_DIR, 0700);
    snprintf(path, sizeof path, NETBED_RUN_DIR "/%s", name);
    if (orc_file_write(path, text, strlen(text), 0600) != 0)
        test_fail(__FILE__, __LINE__, "netbed: cannot write %s", path);
}

static void bed_teardown(void *arg)
{
    struct netbed *b = arg;

    if (b->host_fd < 0) return; /* netbed_down did it */
    /* this thread may be the runner's cleanup thread, or the case's, in the lab */
    if (setns(b->host_fd, CLONE_NEWNET) != 0)
        test_fail_later("netbed: back to the host: %s", strerror(errno));
    for (int i = 1; i <= b->n_nodes; i++)
        if (b->node[i].up) {
            node_cleanup(b->host_fd, b->node[i].netns, b->node[i].name, b->node[i].dir);
            b->node[i].up = false;
        }
    if (b->router[0]) lab_cleanup(b->host_fd, b->router); /* a namespace and its record */
    b->router[0] = '\0';
    lab_cleanup(b->host_fd, b->lab);
    close(b->host_fd);
    b->host_fd = -1;
}

void netbed_up(struct netbed *b)
{
    char path[256];
    int fd;

    memset(b, 0, sizeof *b);
    b->pid = (int)getpid();
    b->host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    CHECKF(b->host_fd >= 0, "netbed: open our namespace: %s", strerror(errno));
    netbed_sweep();
    snprintf(b->lab, sizeof b->lab, PREFIX "%d-lab", b->pid);
    write_record(b->lab, "lab\n");
    test_defer(bed_teardown, b);
    /* A fixed MAC: a bridge otherwise takes the lowest of its ports', and
     * each node joining could change it under the others' ARP caches (their
     * packets to the servers lost for half a minute). */
    must(b, "ip netns add %s && ip -n %s link set lo up && ip -n %s link add " LAB_BRIDGE
            " address 02:6f:62:00:00:01 type bridge && ip -n %s addr add 10.99.0.1/24 dev " LAB_BRIDGE,
         b->lab, b->lab, b->lab, b->lab);
    for (int i = 0; i < CLUSTER_MAX; i++)
        must(b, "ip -n %s addr add 10.99.0.%d/24 dev " LAB_BRIDGE, b->lab, 2 + i);
    must(b, "ip -n %s link set " LAB_BRIDGE " up", b->lab);
    snprintf(path, sizeof path, NETNS_DIR "/%s", b->lab);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECKF(fd >= 0 && setns(fd, CLONE_NEWNET) == 0, "netbed: entering %s: %s", b->lab, strerror(errno));
    close(fd);
}

void netbed_servers(struct netbed *b, int n, const char *const *extra)
{
    cluster_init(&b->c, n);
    for (int i = 0; i < n; i++) {
        struct member *m = &b->c.m[i];
        snprintf(m->ip, sizeof m->ip, "10.99.0.%d", 2 + i);
        snprintf(m->listen, sizeof m->listen, "%s:6443", m->ip);
        snprintf(m->url, sizeof m->url, "https://%s", m->listen);
    }
    cluster_start(&b->c, extra);
}

void netbed_registry(struct netbed *b)
{
    char text[512];

    registry_listen_all(true);
    registry_start(&b->reg, false);
    registry_listen_all(false);
    registry_push_busybox(&b->reg, "orc/busybox:1");
    snprintf(b->image, sizeof b->image, "%s/orc/busybox:1", b->reg.host);
    snprintf(b->registries, sizeof b->registries, "%s/registries.yaml", test_tmpdir());
    snprintf(text, sizeof text, "mirrors:\n  \"%s\":\n    endpoint:\n      - \"http://10.99.0.1:%d\"\n",
             b->reg.host, b->reg.port);
    CHECK(orc_file_write(b->registries, text, strlen(text), 0644) == 0);
}

/* ---- nodes ---- */

static void dump_tail(const char *path)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_file_read(path, 16u << 20, &b) == 0 && b.data)
        fprintf(stderr, "--- %s (end)\n%s\n---\n", path, b.len > 4000 ? b.data + b.len - 4000 : b.data);
    orc_buf_free(&b);
}

static void agent_start(struct netbed *b, struct netbed_node *nd)
{
    const char *argv[44];
    char path[256], pod_logs[700], ctr_logs[700];
    int n = 0;
    pid_t pid;

    argv[n++] = t_bin("orcd");
    argv[n++] = "agent";
    argv[n++] = "--server";
    argv[n++] = b->c.m[0].url;
    argv[n++] = "--token";
    argv[n++] = b->c.token;
    argv[n++] = "--node-name";
    argv[n++] = nd->name;
    argv[n++] = "--data-dir";
    argv[n++] = nd->dir;
    snprintf(pod_logs, sizeof pod_logs, "%s/log/pods", nd->dir);
    snprintf(ctr_logs, sizeof ctr_logs, "%s/log/containers", nd->dir);
    argv[n++] = "--pod-log-dir";
    argv[n++] = pod_logs;
    argv[n++] = "--container-log-dir";
    argv[n++] = ctr_logs;
    argv[n++] = "--node-ip";
    argv[n++] = nd->ip;
    argv[n++] = "--lease-seconds";
    argv[n++] = "6";
    if (b->registries[0]) {
        argv[n++] = "--registries";
        argv[n++] = b->registries;
    }
    for (int i = 0; nd->extra[i] && n < 42; i++) argv[n++] = nd->extra[i];
    argv[n] = NULL;
    snprintf(path, sizeof path, NETNS_DIR "/%s", nd->netns);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND, 0600), ns = open(path, O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    nd->pid = pid;
}

void netbed_agent_stop(struct netbed *b, int i)
{
    struct netbed_node *nd = &b->node[i];
    struct orc_buf log = ORC_BUF_INIT;
    pid_t got = 0;
    int st = 0;

    if (nd->pid <= 0) return;
    kill(nd->pid, SIGTERM);
    for (int k = 0; k < 200 && (got = waitpid(nd->pid, &st, WNOHANG)) == 0; k++) usleep(50 * 1000);
    if (got == 0) {
        kill(nd->pid, SIGKILL);
        waitpid(nd->pid, &st, 0);
        test_fail_later("netbed: node %d's agent ignored SIGTERM for 10 s (log %s)", i, nd->log);
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        test_fail_later("netbed: node %d's agent exited with status %d (log %s)", i, st, nd->log);
    }
    nd->pid = 0;
    if (orc_file_read(nd->log, 64u << 20, &log) == 0 && log.data
        && (strstr(log.data, "AddressSanitizer") || strstr(log.data, "LeakSanitizer")
            || strstr(log.data, "runtime error:"))) {
        dump_tail(nd->log);
        test_fail_later("netbed: sanitizer report in %s", nd->log);
    }
    orc_buf_free(&log);
}

void netbed_agent_start(struct netbed *b, int i)
{
    CHECKF(b->node[i].up && b->node[i].pid <= 0, "netbed: node %d's agent runs already", i);
    agent_start(b, &b->node[i]);
}

static void node_teardown(void *arg)
{
    struct netbed_node *nd = arg;
    struct netbed *b = nd->bed;

    netbed_agent_stop(b, nd->idx);
    if (nd->up) node_cleanup(b->host_fd, nd->netns, nd->name, nd->dir);
    nd->up = false;
}

int netbed_node_add(struct netbed *b, const char *const *extra)
{
    return netbed_node_add_on(b, 0, extra);
}

/* Node i's routes to the other subnet, via the router. */
static void node_routes(struct netbed *b, struct netbed_node *nd)
{
    if (!b->router[0]) return;
    if (nd->subnet == 0) must(b, "ip -n %s route replace 10.99.1.0/24 via 10.99.0.254", nd->netns);
    else must(b, "ip -n %s route replace 10.99.0.0/24 via 10.99.1.1", nd->netns);
}

void netbed_router(struct netbed *b)
{
    const char *r = b->router;

    CHECKF(!b->router[0], "netbed: one router per bed");
    snprintf(b->router, sizeof b->router, PREFIX "%d-rt", b->pid);
    write_record(b->router, "router\n");
    must(b, "ip netns add %s && ip -n %s link set lo up", r, r);
    must(b, "ip -n %s link add " LAB_BRIDGE2 " address 02:6f:62:00:00:02 type bridge && "
            "ip -n %s link set " LAB_BRIDGE2 " up", b->lab, b->lab);
    for (int k = 0; k < 2; k++) {
        must(b, "ip -n %s link add vr%d type veth peer name eth%d netns %s", b->lab, k, k, r);
        must(b, "ip -n %s link set vr%d master %s up", b->lab, k, k ? LAB_BRIDGE2 : LAB_BRIDGE);
        must(b, "ip -n %s addr add %s dev eth%d && ip -n %s link set eth%d up", r,
             k ? "10.99.1.1/24" : "10.99.0.254/24", k, r, k);
    }
    must(b, "ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'", r);
    /* the servers and registry answer the far subnet's nodes */
    must(b, "ip -n %s route add 10.99.1.0/24 via 10.99.0.254", b->lab);
    for (int i = 1; i <= b->n_nodes; i++)
        if (b->node[i].up) node_routes(b, &b->node[i]);
}

int netbed_node_add_on(struct netbed *b, int subnet, const char *const *extra)
{
    struct netbed_node *nd;
    char record[1200];
    int i;

    CHECKF(b->n_nodes < NETBED_MAX_NODES, "netbed: at most %d nodes", NETBED_MAX_NODES);
    CHECKF(subnet == 0 || (subnet == 1 && b->router[0]), "netbed: subnet %d needs netbed_router", subnet);
    i = ++b->n_nodes;
    nd = &b->node[i];
    memset(nd, 0, sizeof *nd);
    nd->bed = b;
    nd->idx = i;
    nd->subnet = subnet;
    snprintf(nd->netns, sizeof nd->netns, PREFIX "%d-n%d", b->pid, i);
    snprintf(nd->veth, sizeof nd->veth, "vn%d", i);
    snprintf(nd->ip, sizeof nd->ip, "10.99.%d.%d", subnet, 10 + (i & 63));
    snprintf(nd->name, sizeof nd->name, "bed%d-%d", i, b->pid);
    snprintf(nd->dir, sizeof nd->dir, "%s/node%d", test_tmpdir(), i);
    snprintf(nd->log, sizeof nd->log, "%s/node%d.log", test_tmpdir(), i);
    for (int k = 0; extra && extra[k] && k < 11; k++) nd->extra[k] = extra[k];
    snprintf(record, sizeof record, "%s\n%s\n", nd->name, nd->dir);
    write_record(nd->netns, record);
    nd->up = true;
    test_defer(node_teardown, nd);
    must(b, "ip netns add %s && ip -n %s link set lo up", nd->netns, nd->netns);
    must(b, "ip -n %s link add %s type veth peer name eth0 netns %s", b->lab, nd->veth, nd->netns);
    must(b, "ip -n %s link set %s master %s up", b->lab, nd->veth, subnet ? LAB_BRIDGE2 : LAB_BRIDGE);
    must(b, "ip -n %s addr add %s/24 dev eth0 && ip -n %s link set eth0 up", nd->netns, nd->ip,
         nd->netns);
    node_routes(b, nd);
    agent_start(b, nd);
    return i;
}

void netbed_node_wait(struct netbed *b, int i, unsigned timeout_ms)
{
    struct netbed_node *nd = &b->node[i];
    uint64_t end = test_now_ms() + timeout_ms;
    char path[256];
    int st;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", nd->name);
    for (;;) {
        json_t *n = t_json(&b->c, 0, "GET", path, NULL, &st);
        bool ok = st == 200 && orc_json_str(n, "spec.podCIDR") && orc_json_get(n, "status.addresses");
        json_decref(n);
        if (ok) return;
        if (test_now_ms() >= end) dump_tail(nd->log);
        CHECKF(test_now_ms() < end, "netbed: node %s did not register in %u ms (log %s)", nd->name,
               timeout_ms, nd->log);
        usleep(100 * 1000);
    }
}

void netbed_cut(struct netbed *b, int i)
{
    must(b, "ip -n %s link set %s down", b->lab, b->node[i].veth);
}

void netbed_heal(struct netbed *b, int i)
{
    must(b, "ip -n %s link set %s up", b->lab, b->node[i].veth);
}

char *netbed_host_snapshot(struct netbed *b)
{
    struct orc_buf out = ORC_BUF_INIT;

    host_sh(b ? b->host_fd : -1, &out, "ip -o link | sed 's/ state [A-Z]*//'; ip -o addr; ip route");
    return out.data ? orc_buf_steal(&out, NULL) : strdup("");
}

void netbed_down(struct netbed *b)
{
    for (int i = b->n_nodes; i >= 1; i--) node_teardown(&b->node[i]);
    for (int i = 0; i < b->c.n; i++)
        if (b->c.m[i].pid > 0) member_stop(&b->c, i);
    registry_stop(&b->reg);
    if (b->host_fd >= 0) bed_teardown(b);
}
