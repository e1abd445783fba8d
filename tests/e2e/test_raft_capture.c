/* test_raft_capture.c — a passive listener on the wire between members: an
 * AF_PACKET socket on `lo` (root only) records every TCP payload to and from
 * the members' Raft ports while a Secret is created in a three-member
 * cluster; neither its value nor the value's base64 may appear in them. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define RAFT_PORT 6444
#define MAX_FLOWS 64

/* One direction of one TCP connection: its payload bytes in arrival order. */
struct flow {
    uint32_t src, dst;
    uint16_t sport, dport;
    struct orc_buf bytes;
};

struct capture {
    int fd;
    volatile int stop;
    struct flow flows[MAX_FLOWS];
    int n_flows;
    size_t packets;
};

static struct flow *flow_of(struct capture *cap, const struct iphdr *ip, const struct tcphdr *tcp)
{
    for (int i = 0; i < cap->n_flows; i++) {
        struct flow *f = &cap->flows[i];
        if (f->src == ip->saddr && f->dst == ip->daddr && f->sport == tcp->source
            && f->dport == tcp->dest)
            return f;
    }
    if (cap->n_flows == MAX_FLOWS) return NULL;
    struct flow *f = &cap->flows[cap->n_flows++];
    f->src = ip->saddr;
    f->dst = ip->daddr;
    f->sport = tcp->source;
    f->dport = tcp->dest;
    return f;
}

/* Each frame on lo: a zeroed Ethernet header, then IPv4. Headers are
 * copied out: after 14 bytes of Ethernet they are not aligned. */
static void take_frame(struct capture *cap, const unsigned char *p, size_t n)
{
    const size_t eth = sizeof(struct ether_header);
    struct iphdr ip;
    struct tcphdr tcp;
    size_t ihl, off, total;
    struct flow *f;

    if (n < eth + sizeof ip) return;
    memcpy(&ip, p + eth, sizeof ip);
    if (ip.version != 4 || ip.protocol != IPPROTO_TCP) return;
    ihl = (size_t)ip.ihl * 4;
    if (n < eth + ihl + sizeof tcp) return;
    memcpy(&tcp, p + eth + ihl, sizeof tcp);
    if (ntohs(tcp.dest) != RAFT_PORT && ntohs(tcp.source) != RAFT_PORT) return;
    off = eth + ihl + (size_t)tcp.doff * 4;
    total = eth + ntohs(ip.tot_len);
    if (total < n) n = total;
    if (off >= n || (f = flow_of(cap, &ip, &tcp)) == NULL) return;
    orc_buf_append(&f->bytes, p + off, n - off);
    cap->packets++;
}

static void *capture_run(void *arg)
{
    struct capture *cap = arg;
    static unsigned char frame[70000];

    while (!cap->stop) {
        struct pollfd pf = {cap->fd, POLLIN, 0};
        struct sockaddr_ll from;
        socklen_t flen = sizeof from;
        if (poll(&pf, 1, 50) <= 0) continue;
        ssize_t n = recvfrom(cap->fd, frame, sizeof frame, 0, (struct sockaddr *)&from, &flen);
        /* lo shows every packet twice: keep the incoming copy. */
        if (n > 0 && from.sll_pkttype != PACKET_OUTGOING) take_frame(cap, frame, (size_t)n);
    }
    return NULL;
}

static int open_lo(void)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    struct sockaddr_ll sa = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
    int rcvbuf = 16 << 20;

    if (fd < 0) return -1;
    sa.sll_ifindex = (int)if_nametoindex("lo");
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    if (sa.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool seen(struct capture *cap, const char *needle)
{
    for (int i = 0; i < cap->n_flows; i++) {
        struct flow *f = &cap->flows[i];
        if (f->bytes.len && memmem(f->bytes.data, f->bytes.len, needle, strlen(needle))) return true;
    }
    return false;
}

TEST_T(a_secret_never_crosses_the_raft_port_in_clear, 90)
{
    static struct cluster c;
    static struct capture cap;
    struct orc_buf b64 = ORC_BUF_INIT, body = ORC_BUF_INIT;
    char value[96];
    pthread_t th;
    int st;

    if (geteuid() != 0) {
        fprintf(stderr, "# SKIP: capturing on lo needs root (AF_PACKET)\n");
        return;
    }
    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    cap.fd = open_lo();
    CHECKF(cap.fd >= 0, "cannot open an AF_PACKET socket on lo");
    snprintf(value, sizeof value, "zebra-quokka-%d-%llu-never-in-clear", (int)getpid(),
             (unsigned long long)test_now_ms());
    CHECK(orc_base64_encode(value, strlen(value), false, &b64) == 0);
    CHECK(pthread_create(&th, NULL, capture_run, &cap) == 0);
    test_sleep_ms(200);
    orc_buf_printf(&body, "{\"metadata\":{\"name\":\"wire\"},\"data\":{\"password\":\"%s\"}}", b64.data);
    json_t *r = t_json(&c, 1, "POST", "/api/v1/namespaces/default/secrets", body.data, &st);
    json_decref(r);
    CHECKF(st == 201, "creating the Secret: HTTP %d", st);
    for (int i = 0; i < 3; i++) member_wait_revision(&c, i, member_revision(&c, 1), 10000);
    test_sleep_ms(300);
    cap.stop = 1;
    pthread_join(th, NULL);
    close(cap.fd);
    fprintf(stderr, "# %zu packets with payload on the Raft ports, %d flows\n", cap.packets, cap.n_flows);
    CHECKF(cap.packets > 0, "saw no Raft traffic at all: the capture does not work");
    CHECKF(!seen(&cap, value), "the Secret's value crossed the Raft port in clear");
    CHECKF(!seen(&cap, b64.data), "the Secret's base64 crossed the Raft port in clear");
    for (int i = 0; i < cap.n_flows; i++) orc_buf_free(&cap.flows[i].bytes);
    orc_buf_free(&b64);
    orc_buf_free(&body);
}
