/* netfx.h — fixture for the pod network tests: a node of the test's own
 * (unique name, a free 10.244.X.0/24), echo servers inside pod namespaces,
 * clients on the host or in a pod, and a cleanup that destroys the node and
 * then checks that nothing of it is left on the host. Traffic only ever
 * goes to addresses on the bridge and veths the test created. */
#ifndef ORC_TEST_NETFX_H
#define ORC_TEST_NETFX_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/orc.h"
#include "lib/run.h"
#include "tests/harness/test.h"

#define NFX_FN __attribute__((unused)) static

struct nfx {
    char node[64];
    char state[512];
    char cidr[32];
    int octet; /* X of 10.244.X.0/24 */
    struct net_names nm;
    net *n;
    char veths[64][16]; /* seen as bridge ports: must be gone at the end */
    int n_veths;
};

/* ---- host settings ---- */

static char nfx_forward_saved[8];

NFX_FN void nfx_restore_forward(void *arg)
{
    (void)arg;
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
    if (fd < 0 || write(fd, nfx_forward_saved, strlen(nfx_forward_saved)) < 0)
        test_fail_later("could not restore ip_forward to %s", nfx_forward_saved);
    if (fd >= 0) close(fd);
}

/* Saves ip_forward, restored when the case ends. */
NFX_FN void nfx_save_forward(void)
{
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);
    ssize_t n;

    CHECK(fd >= 0);
    n = read(fd, nfx_forward_saved, sizeof nfx_forward_saved - 1);
    close(fd);
    CHECK(n > 0);
    nfx_forward_saved[n] = '\0';
    test_defer(nfx_restore_forward, NULL);
}

NFX_FN int nfx_read_forward(void)
{
    char b[8] = "";
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);
    if (fd >= 0 && read(fd, b, sizeof b - 1) < 0) b[0] = '\0';
    if (fd >= 0) close(fd);
    return atoi(b);
}

/* ---- choosing a free pod CIDR ---- */

/* Whether a route of the main table overlaps 10.244.x.0/24. */
NFX_FN int nfx_octet_used(int x)
{
    char line[256], ifname[32];
    unsigned dst, gw, flags, refcnt, use, metric, mask;
    uint32_t cand = htonl(0x0af40000u | ((uint32_t)x << 8)), cmask = htonl(0xffffff00u);
    FILE *f = fopen("/proc/net/route", "r");
    int used = 0;

    CHECK(f != NULL);
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags, &refcnt, &use,
                   &metric, &mask) != 8 || mask == 0)
            continue;
        if ((cand & mask) == (dst & mask) || (dst & cmask) == cand) used = 1;
    }
    fclose(f);
    return used;
}

/* A third octet no route uses yet, from the pid; `after` skips one taken
 * by another node of the same test. */
NFX_FN int nfx_pick_octet(int after)
{
    for (int i = 0; i < 250; i++) {
        int x = 1 + ((int)getpid() * 7 + i) % 250;
        if (x != after && !nfx_octet_used(x)) return x;
    }
    test_fail(__FILE__, __LINE__, "no free 10.244.X.0/24");
}

/* ---- leftovers ---- */

NFX_FN void nfx_note_veths(struct nfx *f)
{
    char path[128];
    DIR *d;
    struct dirent *de;

    snprintf(path, sizeof path, "/sys/class/net/%s/brif", f->nm.bridge);
    d = opendir(path);
    if (d == NULL) return;
    while ((de = readdir(d)) != NULL && f->n_veths < 64) {
        int seen = 0;
        if (de->d_name[0] == '.') continue;
        for (int i = 0; i < f->n_veths; i++) seen |= strcmp(f->veths[i], de->d_name) == 0;
        if (!seen && strlen(de->d_name) < 16) strcpy(f->veths[f->n_veths++], de->d_name);
    }
    closedir(d);
}

/* Counts what is left of the node: namespaces, links, rules. */
NFX_FN int nfx_leftovers(const struct nfx *f, int report)
{
    char prefix[32], *argv[] = {"iptables-save", NULL};
    struct orc_buf out = ORC_BUF_INIT;
    struct orc_run_io io = {NULL, 0, &out, NULL};
    DIR *d = opendir(NET_NETNS_DIR);
    struct dirent *de;
    int left = 0;

    snprintf(prefix, sizeof prefix, "orc-%s-", f->nm.tag);
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
        if (report) test_fail_later("namespace %s left behind", de->d_name);
        left++;
    }
    if (d) closedir(d);
    if (if_nametoindex(f->nm.bridge) != 0) {
        if (report) test_fail_later("bridge %s left behind", f->nm.bridge);
        left++;
    }
    for (int i = 0; i < f->n_veths; i++) {
        if (if_nametoindex(f->veths[i]) == 0) continue;
        if (report) test_fail_later("veth %s left behind", f->veths[i]);
        left++;
    }
    if (orc_run(argv, &io) != 0) {
        if (report) test_fail_later("iptables-save failed");
        left++;
    } else if (strstr(out.data, f->nm.tag)) {
        if (report) test_fail_later("iptables rules of %s left behind", f->nm.tag);
        left++;
    }
    orc_buf_free(&out);
    return left;
}

NFX_FN void nfx_cleanup(void *arg)
{
    struct nfx *f = arg;
    int rv;

    nfx_note_veths(f);
    if (f->n) net_close(f->n);
    f->n = NULL;
    rv = net_destroy_node(f->node, f->state);
    if (rv != 0) test_fail_later("net_destroy_node(%s): %s", f->node, orc_strerror(rv));
    nfx_leftovers(f, 1);
    if (access(f->state, F_OK) == 0) test_fail_later("state dir %s left behind", f->state);
    free(f);
}

/* ---- nodes ---- */

/* A node of this test named after `suffix`, on 10.244.<octet>.0/<prefix>
 * (octet 0: pick one); destroyed and checked at the end of the case. */
NFX_FN struct nfx *nfx_node(const char *suffix, int octet, int prefix)
{
    struct nfx *f = calloc(1, sizeof *f);

    CHECK(f != NULL);
    snprintf(f->node, sizeof f->node, "tnet-%d-%s", (int)getpid(), suffix);
    snprintf(f->state, sizeof f->state, "%s/net-%s", test_tmpdir(), suffix);
    f->octet = octet ? octet : nfx_pick_octet(-1);
    snprintf(f->cidr, sizeof f->cidr, "10.244.%d.0/%d", f->octet, prefix);
    net_names_init(&f->nm, f->node);
    test_defer(nfx_cleanup, f);
    return f;
}

NFX_FN int nfx_open(struct nfx *f, bool masquerade, char *errmsg)
{
    struct net_config cfg = {.node_name = f->node, .pod_cidr = f->cidr, .state_dir = f->state,
                             .masquerade = masquerade};
    return net_open(&cfg, &f->n, errmsg);
}

NFX_FN void nfx_gateway(const struct nfx *f, char out[16])
{
    snprintf(out, 16, "10.244.%d.1", f->octet);
}

NFX_FN void nfx_setup(struct nfx *f, const char *uid, const struct net_port *ports, size_t n,
                      struct net_pod *pod)
{
    char msg[256] = "";
    int rv = net_pod_setup(f->n, uid, ports, n, pod, msg);
    CHECKF(rv == 0, "setup %s: %s (%s)", uid, orc_strerror(rv), msg);
    nfx_note_veths(f);
}

/* ---- traffic ---- */

/* Enters the namespace pinned at path (this process; for forked children). */
NFX_FN int nfx_enter(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rv = fd >= 0 && setns(fd, CLONE_NEWNET) == 0 ? 0 : -1;
    if (fd >= 0) close(fd);
    return rv;
}

NFX_FN void nfx_kill(void *arg)
{
    pid_t pid = (pid_t)(intptr_t)arg;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

NFX_FN void nfx_echo_loop(int ls)
{
    for (;;) {
        char buf[256];
        ssize_t n;
        int c = accept(ls, NULL, NULL);
        if (c < 0) _exit(3);
        while ((n = read(c, buf, sizeof buf)) > 0)
            if (write(c, buf, (size_t)n) != n) break;
        close(c);
    }
}

/* A TCP echo server on port, inside the pod's namespace; killed at the end. */
NFX_FN void nfx_serve(const char *netns_path, int port)
{
    int p[2];
    char ok = 0;
    pid_t pid;

    CHECK(pipe(p) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int one = 1, ls;
        close(p[0]);
        if (nfx_enter(netns_path) != 0) _exit(1);
        ls = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 16) != 0)
            _exit(2);
        if (write(p[1], "k", 1) != 1) _exit(2);
        nfx_echo_loop(ls);
    }
    close(p[1]);
    test_defer(nfx_kill, (void *)(intptr_t)pid);
    CHECKF(read(p[0], &ok, 1) == 1 && ok == 'k', "echo server in %s did not start", netns_path);
    close(p[0]);
}

/* Connects to ip:port (within timeout_ms), sends a line, expects it back:
 * 0 when the echo came back. */
NFX_FN int nfx_echo_t(const char *ip, int port, int timeout_ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    char msg[64], back[64] = "";
    int s = socket(AF_INET, SOCK_STREAM, 0), rv = -1;
    ssize_t n;

    snprintf(msg, sizeof msg, "hello %s:%d", ip, port);
    if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1) goto out;
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) goto out;
    if (write(s, msg, strlen(msg)) != (ssize_t)strlen(msg)) goto out;
    n = read(s, back, sizeof back - 1);
    if (n > 0) back[n] = '\0';
    rv = strcmp(back, msg) == 0 ? 0 : -1;
out:
    if (s >= 0) close(s);
    return rv;
}

NFX_FN int nfx_echo(const char *ip, int port) { return nfx_echo_t(ip, port, 2000); }

/* The same from inside a pod's namespace (a forked child enters it). */
NFX_FN int nfx_echo_from(const char *netns_path, const char *ip, int port)
{
    int status;
    pid_t pid = fork();

    if (pid < 0) return -1;
    if (pid == 0) _exit(nfx_enter(netns_path) == 0 && nfx_echo(ip, port) == 0 ? 0 : 1);
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

NFX_FN int nfx_has_pod(net *n, const char *uid)
{
    char **uids;
    size_t count;
    int found = 0;

    CHECK_INT(net_pods(n, &uids, &count), ==, 0);
    for (size_t i = 0; i < count; i++) {
        found |= strcmp(uids[i], uid) == 0;
        free(uids[i]);
    }
    free(uids);
    return found;
}

#endif
