/* netbed_probe.c — connects and DNS lookups made from inside a pod's (or a
 * node's) network namespace, as its own traffic: the socket is made there
 * and used from the test's thread, so policies, NAT and routes apply to it
 * as to the pod's own programs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PROBE_MAX 64
#define FLIP_MAX 160
#define FLIP_EVERY_MS 50

int netbed_ns_socket(int ns_fd, int back_fd, int type)
{
    int s, e;

    CHECKF(setns(ns_fd, CLONE_NEWNET) == 0, "netbed: setns: %s", strerror(errno));
    s = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    e = errno;
    CHECKF(setns(back_fd, CLONE_NEWNET) == 0, "netbed: setns back: %s", strerror(errno));
    CHECKF(s >= 0, "netbed: socket: %s", strerror(e));
    return s;
}

/* An A query (recursion desired) for name, id `id`; its length, 0 when
 * the name does not fit. */
static size_t dns_query(const char *name, unsigned id, unsigned char *q, size_t cap)
{
    static const unsigned char head[10] = {0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0}; /* RD, one question */
    size_t n = 0;

    if (strlen(name) + 18 > cap) return 0;
    q[n++] = (unsigned char)(id >> 8);
    q[n++] = (unsigned char)id;
    memcpy(q + n, head, sizeof head);
    n += sizeof head;
    while (*name) {
        size_t len = strcspn(name, ".");
        if (len == 0 || len > 63) return 0;
        q[n++] = (unsigned char)len;
        memcpy(q + n, name, len);
        n += len;
        name += len + (name[len] == '.');
    }
    q[n++] = 0;
    memcpy(q + n, "\0\1\0\1", 4); /* A, IN */
    return n + 4;
}

/* An answer to query id with no error and at least one record. */
static bool dns_answered(int s, unsigned id)
{
    unsigned char a[512];
    ssize_t n = recv(s, a, sizeof a, 0);

    return n >= 12 && ((unsigned)a[0] << 8 | a[1]) == id && (a[3] & 0x0f) == 0 && (a[6] | a[7]) != 0;
}

/* Starts p on socket s; true when already decided (p->got). */
static bool probe_start(struct netbed_probe *p, unsigned id, int s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};
    unsigned char q[300];
    size_t n;

    CHECKF(inet_pton(AF_INET, p->ip, &sa.sin_addr) == 1, "netbed: bad address %s", p->ip);
    p->got = false;
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) return errno != EINPROGRESS;
    if (!p->dns_name) return p->got = true;
    n = dns_query(p->dns_name, id, q, sizeof q);
    CHECKF(n > 0, "netbed: bad name %s", p->dns_name);
    return send(s, q, n, 0) != (ssize_t)n;
}

static bool connected(int s)
{
    int err = 0;
    socklen_t len = sizeof err;
    return getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

void netbed_probe_run(struct netbed_probe *p, size_t n, int back_fd, unsigned timeout_ms)
{
    int s[PROBE_MAX];
    bool done[PROBE_MAX];
    struct pollfd pf[PROBE_MAX];
    size_t idx[PROBE_MAX];
    uint64_t end = test_now_ms() + timeout_ms;

    CHECKF(n <= PROBE_MAX, "netbed: at most %d probes at once", PROBE_MAX);
    for (size_t i = 0; i < n; i++) {
        s[i] = netbed_ns_socket(p[i].ns_fd, back_fd, p[i].dns_name ? SOCK_DGRAM : SOCK_STREAM);
        done[i] = probe_start(&p[i], 0x4e00 + (unsigned)i, s[i]);
    }
    for (uint64_t now; (now = test_now_ms()) < end;) {
        nfds_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!done[i]) {
                pf[k] = (struct pollfd){.fd = s[i], .events = p[i].dns_name ? POLLIN : POLLOUT};
                idx[k++] = i;
            }
        if (k == 0) break;
        if (poll(pf, k, (int)(end - now)) <= 0) continue;
        for (nfds_t j = 0; j < k; j++) {
            size_t i = idx[j];
            if (pf[j].revents == 0) continue;
            done[i] = true;
            p[i].got = p[i].dns_name ? (pf[j].revents & POLLIN) && dns_answered(s[i], 0x4e00 + (unsigned)i)
                                     : connected(s[i]);
        }
    }
    for (size_t i = 0; i < n; i++) close(s[i]);
}

long netbed_first_flip(int ns_fd, int back_fd, const char *ip, int port, bool allow, uint64_t t0,
                       unsigned limit_ms, unsigned timeout_ms)
{
    int s[FLIP_MAX];
    uint64_t when[FLIP_MAX], next = test_now_ms(), now;
    size_t n = 0;
    long got = -1;
    struct netbed_probe p = {.ns_fd = ns_fd, .ip = ip, .port = port};

    while (got < 0 && (now = test_now_ms()) - t0 < limit_ms + timeout_ms) {
        struct pollfd pf[FLIP_MAX];
        if (now >= next && n < FLIP_MAX && now - t0 < limit_ms) {
            when[n] = now;
            s[n] = netbed_ns_socket(ns_fd, back_fd, SOCK_STREAM);
            if (probe_start(&p, 0, s[n])) { /* decided at once */
                if (p.got == allow) got = (long)(now - t0);
                close(s[n]);
                s[n] = -1;
            }
            n++;
            next = now + FLIP_EVERY_MS;
            continue;
        }
        for (size_t i = 0; i < n; i++) pf[i] = (struct pollfd){.fd = s[i], .events = POLLOUT};
        poll(pf, n, next > now ? (int)(next - now) : 1);
        now = test_now_ms();
        for (size_t i = 0; i < n && got < 0; i++) { /* in order: the first attempt decides */
            if (s[i] < 0) continue;
            if (pf[i].revents == 0 && now - when[i] < timeout_ms) break; /* undecided: wait for it */
            if ((pf[i].revents != 0 && connected(s[i])) == allow) got = (long)(when[i] - t0);
            close(s[i]);
            s[i] = -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0) close(s[i]);
    return got;
}
