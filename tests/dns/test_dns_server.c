/* test_dns_server.c — the resolver's server on 127.0.53.1, queried over
 * UDP and TCP: cluster names, truncation then TCP, forwarding to a fake
 * upstream (id rewritten back) and its answers cached, an upstream down
 * (SERVFAIL), garbage
 * packets, and the TCP connection cap. */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "dns/dns.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#define SRV_IP "127.0.53.1"
#define UP_IP "127.0.53.2"

struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t th;
    struct dns_zone *z;
    struct dns_server *s;
    struct dns_server_stats st;
    int port;
    int running;
};

static void on_stop(uv_async_t *a)
{
    struct fixture *fx = a->data;
    dns_server_stats(fx->s, &fx->st);
    dns_server_stop(fx->s, NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    struct fixture *fx = arg;
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void fixture_stop(void *arg)
{
    struct fixture *fx = arg;
    if (!fx->running) return;
    fx->running = 0;
    uv_async_send(&fx->stop);
    pthread_join(fx->th, NULL);
    uv_loop_close(&fx->loop);
    dns_zone_free(fx->z);
}

static void add(struct dns_zone *z, const char *text, int slice)
{
    json_t *v = json_loads(text, 0, NULL);
    CHECK(v != NULL);
    CHECK_INT(slice ? dns_zone_set_slice(z, v) : dns_zone_set_service(z, v), ==, 0);
    json_decref(v);
}

static void write_resolv(const char *path, const char *body)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(body, f);
    fclose(f);
}

/* Starts the server with the zone filled in, upstreams from resolv_body on
 * port up_port. */
static unsigned next_max_forwards_peer, next_tcp_idle_ms;

static struct fixture *start(const char *resolv_body, int up_port, unsigned timeout_ms, unsigned max_tcp_peer)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof fx);
    char path[512];
    snprintf(path, sizeof path, "%s/resolv.conf", test_tmpdir());
    write_resolv(path, resolv_body);
    CHECK(uv_loop_init(&fx.loop) == 0);
    fx.z = dns_zone_new(NULL);
    add(fx.z, "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":\"10.43.0.10\","
              "\"ports\":[{\"name\":\"http\",\"port\":80}]}}", 0);
    add(fx.z, "{\"metadata\":{\"namespace\":\"default\",\"name\":\"ext\"},\"spec\":{\"type\":\"ExternalName\","
              "\"externalName\":\"example.com\"}}", 0);
    add(fx.z, "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg\"},\"spec\":{\"clusterIP\":\"None\"}}", 0);
    char slice[8192];
    int o = snprintf(slice, sizeof slice, "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg-1\",\"labels\":"
                                          "{\"kubernetes.io/service-name\":\"pg\"}},\"endpoints\":[");
    for (int i = 0; i < 60; i++)
        o += snprintf(slice + o, sizeof slice - o, "%s{\"addresses\":[\"10.42.0.%d\"],\"hostname\":\"pg-%d\"}",
                      i ? "," : "", i + 1, i);
    snprintf(slice + o, sizeof slice - o, "]}");
    add(fx.z, slice, 1);
    struct dns_server_config cfg = {.address = SRV_IP, .port = 0, .resolv_conf = path,
                                    .upstream_port = up_port, .timeout_ms = timeout_ms,
                                    .max_tcp_peer = max_tcp_peer, .max_forwards_peer = next_max_forwards_peer,
                                    .tcp_idle_ms = next_tcp_idle_ms};
    char err[256] = "";
    CHECKF(dns_server_start(&fx.loop, fx.z, &cfg, &fx.s, err, sizeof err) == 0, "%s", err);
    fx.port = dns_server_port(fx.s);
    CHECK(fx.port > 0);
    uv_async_init(&fx.loop, &fx.stop, on_stop);
    fx.stop.data = &fx;
    fx.running = 1;
    CHECK(pthread_create(&fx.th, NULL, loop_main, &fx) == 0);
    test_defer(fixture_stop, &fx);
    return &fx;
}

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static struct sockaddr_in addr_of(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static uint8_t *query_wire(const char *name, ldns_rr_type t, uint16_t id, size_t *len)
{
    ldns_pkt *q = NULL;
    CHECK(ldns_pkt_query_new_frm_str(&q, name, t, LDNS_RR_CLASS_IN, LDNS_RD) == LDNS_STATUS_OK);
    ldns_pkt_set_id(q, id);
    uint8_t *w;
    CHECK(ldns_pkt2wire(&w, q, len) == LDNS_STATUS_OK);
    ldns_pkt_free(q);
    return w;
}

static ldns_pkt *udp_ask(int port, const char *name, ldns_rr_type t)
{
    int fd = udp_socket();
    size_t len;
    uint8_t *w = query_wire(name, t, 777, &len);
    struct sockaddr_in a = addr_of(SRV_IP, port);
    CHECK(sendto(fd, w, len, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)len);
    free(w);
    uint8_t buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    close(fd);
    CHECKF(n > 0, "no UDP answer for %s", name);
    ldns_pkt *r = NULL;
    CHECK(ldns_wire2pkt(&r, buf, (size_t)n) == LDNS_STATUS_OK);
    CHECK_INT(ldns_pkt_id(r), ==, 777);
    return r;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(SRV_IP, port);
    CHECK(fd >= 0);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static ldns_pkt *tcp_ask_fd(int fd, const char *name, ldns_rr_type t)
{
    size_t len;
    uint8_t *w = query_wire(name, t, 999, &len);
    uint8_t frame[2 + 512];
    frame[0] = (uint8_t)(len >> 8);
    frame[1] = (uint8_t)len;
    memcpy(frame + 2, w, len);
    free(w);
    /* in two pieces: the server must reassemble the frame */
    CHECK(write(fd, frame, 3) == 3);
    test_sleep_ms(20);
    CHECK(write(fd, frame + 3, len - 1) == (ssize_t)len - 1);
    uint8_t hdr[2], *body;
    CHECKF(read_full(fd, hdr, 2) == 0, "no TCP answer for %s", name);
    size_t bl = (size_t)hdr[0] << 8 | hdr[1];
    CHECK((body = malloc(bl)) != NULL);
    CHECK(read_full(fd, body, bl) == 0);
    ldns_pkt *r = NULL;
    CHECK(ldns_wire2pkt(&r, body, bl) == LDNS_STATUS_OK);
    free(body);
    CHECK_INT(ldns_pkt_id(r), ==, 999);
    return r;
}

static size_t nanswers(const ldns_pkt *r) { return ldns_rr_list_rr_count(ldns_pkt_answer(r)); }

static char *first_rdata(const ldns_pkt *r, size_t field)
{
    static char buf[256];
    char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), field));
    snprintf(buf, sizeof buf, "%s", s ? s : "");
    free(s);
    return buf;
}

/* ---- a fake upstream: answers A 192.0.2.1 for any name, after delay_ms ---- */

struct upstream {
    int fd, port, lfd;
    pthread_t th, tth;
    int stop;
    unsigned answered;
};

static void *upstream_main(void *arg)
{
    struct upstream *u = arg;
    uint8_t buf[4096];
    while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(u->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n <= 0) continue;
        ldns_pkt *q = NULL;
        if (ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK) continue;
        ldns_pkt *r = ldns_pkt_new();
        ldns_pkt_set_id(r, ldns_pkt_id(q));
        ldns_pkt_set_qr(r, true);
        ldns_pkt_set_ra(r, true);
        ldns_rr *qr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
        ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, qr);
        char *name = ldns_rdf2str(ldns_rr_owner(qr)), line[512];
        /* "zero..." answers with TTL 0 (not to be cached) */
        snprintf(line, sizeof line, "%s %d IN A 192.0.2.1", name, strncmp(name, "zero", 4) == 0 ? 0 : 60);
        ldns_rr *a = NULL;
        if (strncmp(name, "big", 3) == 0) ldns_pkt_set_tc(r, true); /* "over TCP, please" */
        else if (strncmp(name, "nx", 2) == 0) { /* NXDOMAIN, negative TTL 5 from the SOA */
            ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
            if (ldns_rr_new_frm_str(&a, "example. 60 IN SOA ns.example. host.example. 1 2 3 4 5", 60, NULL,
                                    NULL) == LDNS_STATUS_OK)
                ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, a);
        } else if (ldns_rr_new_frm_str(&a, line, 60, NULL, NULL) == LDNS_STATUS_OK)
            ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, a);
        free(name);
        uint8_t *w;
        size_t wl;
        if (ldns_pkt2wire(&w, r, &wl) == LDNS_STATUS_OK) {
            __atomic_add_fetch(&u->answered, 1, __ATOMIC_RELEASE); /* before the client can see it */
            sendto(u->fd, w, wl, 0, (struct sockaddr *)&from, fl);
            free(w);
        }
        ldns_pkt_free(r);
        ldns_pkt_free(q);
    }
    return NULL;
}

/* The same upstream over TCP: 100 A records for any name. */
static void *upstream_tcp_main(void *arg)
{
    struct upstream *u = arg;
    while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
        int c = accept(u->lfd, NULL, NULL);
        if (c < 0) continue;
        struct timeval tv = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        uint8_t hdr[2], q[512];
        ldns_pkt *pq = NULL;
        size_t ql;
        if (read_full(c, hdr, 2) == 0 && (ql = (size_t)hdr[0] << 8 | hdr[1]) <= sizeof q &&
            read_full(c, q, ql) == 0 && ldns_wire2pkt(&pq, q, ql) == LDNS_STATUS_OK) {
            ldns_pkt *r = ldns_pkt_new();
            ldns_pkt_set_id(r, ldns_pkt_id(pq));
            ldns_pkt_set_qr(r, true);
            ldns_rr *qr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(pq), 0));
            ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, qr);
            char *name = ldns_rdf2str(ldns_rr_owner(qr)), line[512];
            for (int i = 0; i < 100; i++) {
                ldns_rr *a = NULL;
                snprintf(line, sizeof line, "%s 60 IN A 198.51.100.%d", name, i + 1);
                if (ldns_rr_new_frm_str(&a, line, 60, NULL, NULL) == LDNS_STATUS_OK)
                    ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, a);
            }
            free(name);
            uint8_t *w;
            size_t wl;
            if (ldns_pkt2wire(&w, r, &wl) == LDNS_STATUS_OK) {
                uint8_t h2[2] = {(uint8_t)(wl >> 8), (uint8_t)wl};
                if (write(c, h2, 2) == 2 && write(c, w, wl) == (ssize_t)wl) {}
                free(w);
            }
            ldns_pkt_free(r);
        }
        ldns_pkt_free(pq);
        close(c);
    }
    return NULL;
}

static void upstream_stop(void *arg)
{
    struct upstream *u = arg;
    __atomic_store_n(&u->stop, 1, __ATOMIC_RELEASE);
    pthread_join(u->th, NULL);
    pthread_join(u->tth, NULL);
    close(u->fd);
    close(u->lfd);
}

static struct upstream *upstream_start(void)
{
    static struct upstream u;
    memset(&u, 0, sizeof u);
    u.fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(u.fd >= 0);
    struct sockaddr_in a = addr_of(UP_IP, 0);
    CHECK(bind(u.fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    getsockname(u.fd, (struct sockaddr *)&a, &al);
    u.port = ntohs(a.sin_port);
    struct timeval tv = {0, 100000};
    setsockopt(u.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* TCP on the same port; accept() wakes every 100 ms to see stop */
    u.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(u.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK(bind(u.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(u.lfd, 8) == 0);
    setsockopt(u.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(pthread_create(&u.th, NULL, upstream_main, &u) == 0);
    CHECK(pthread_create(&u.tth, NULL, upstream_tcp_main, &u) == 0);
    test_defer(upstream_stop, &u);
    return &u;
}

/* ---- cases ------------------------------------------------------------------ */

TEST(cluster_names_over_udp_and_tcp)
{
    struct fixture *fx = start("", 53, 300, 0);
    ldns_pkt *r = udp_ask(fx->port, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "10.43.0.10");
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "_http._tcp.web.default.svc.cluster.local.", LDNS_RR_TYPE_SRV);
    CHECK_STR(first_rdata(r, 3), "web.default.svc.cluster.local.");
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "10.0.43.10.in-addr.arpa.", LDNS_RR_TYPE_PTR);
    CHECK_STR(first_rdata(r, 0), "web.default.svc.cluster.local.");
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "ext.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "example.com.");
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "pg-7.pg.db.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "10.42.0.8");
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "nope.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "web.default.svc.cluster.local.", LDNS_RR_TYPE_AAAA);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_NOERROR);
    CHECK_INT(nanswers(r), ==, 0);
    ldns_pkt_free(r);
    /* 60 headless endpoints do not fit 512 bytes: TC over UDP, all over TCP */
    r = udp_ask(fx->port, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK(ldns_pkt_tc(r));
    CHECK_INT(nanswers(r), ==, 0);
    ldns_pkt_free(r);
    int fd = tcp_connect(fx->port);
    r = tcp_ask_fd(fd, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK(!ldns_pkt_tc(r));
    CHECK_INT(nanswers(r), ==, 60);
    ldns_pkt_free(r);
    /* the same connection carries a second query */
    r = tcp_ask_fd(fd, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "10.43.0.10");
    ldns_pkt_free(r);
    close(fd);
}

TEST(drill_resolves)
{
    if (access("/usr/bin/drill", X_OK) != 0) {
        printf("# drill not installed: skipped\n");
        return;
    }
    struct fixture *fx = start("", 53, 300, 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "drill -p %d @%s web.default.svc.cluster.local A 2>&1", fx->port, SRV_IP);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, p))
        if (strstr(line, "web.default.svc.cluster.local.") && strstr(line, "10.43.0.10")) found = 1;
    pclose(p);
    CHECK(found);
}

TEST(forwarding_and_servfail)
{
    struct upstream *u = upstream_start();
    char body[256];
    /* a dead upstream first (nothing listens on .3), then the live one */
    snprintf(body, sizeof body, "# test\nsearch example\nnameserver 127.0.53.3\nnameserver %s\n", UP_IP);
    struct fixture *fx = start(body, u->port, 300, 0);
    /* on .3 nothing listens at u->port: after 300 ms the query moves on */
    ldns_pkt *r = udp_ask(fx->port, "www.example.org.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_NOERROR);
    CHECK_STR(first_rdata(r, 0), "192.0.2.1");
    ldns_pkt_free(r);
    int fd = tcp_connect(fx->port);
    r = tcp_ask_fd(fd, "over.tcp.example.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "192.0.2.1");
    ldns_pkt_free(r);
    close(fd);
    /* a PTR we do not hold goes upstream too */
    r = udp_ask(fx->port, "1.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);
    CHECK_INT(nanswers(r), ==, 1);
    ldns_pkt_free(r);
    CHECK_INT(__atomic_load_n(&u->answered, __ATOMIC_ACQUIRE), ==, 3);
    /* truncated upstream: a UDP client gets TC (and asks over TCP), a TCP
     * client the whole answer, fetched over TCP */
    r = udp_ask(fx->port, "big.example.org.", LDNS_RR_TYPE_A);
    CHECK(ldns_pkt_tc(r));
    ldns_pkt_free(r);
    fd = tcp_connect(fx->port);
    r = tcp_ask_fd(fd, "big.example.org.", LDNS_RR_TYPE_A);
    CHECK(!ldns_pkt_tc(r));
    CHECK_INT(nanswers(r), ==, 100);
    ldns_pkt_free(r);
    close(fd);
}

TEST(upstream_down_servfail)
{
    struct fixture *fx = start("nameserver 127.0.53.3\n", 5353, 200, 0);
    uint64_t t0 = test_now_ms();
    ldns_pkt *r = udp_ask(fx->port, "www.example.org.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_SERVFAIL);
    CHECK_INT(ldns_rr_list_rr_count(ldns_pkt_question(r)), ==, 1);
    ldns_pkt_free(r);
    CHECK_INT(test_now_ms() - t0, >=, 150);
    /* no nameserver at all: SERVFAIL at once */
    fixture_stop(fx);
    fx = start("", 53, 200, 0);
    r = udp_ask(fx->port, "www.example.org.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_SERVFAIL);
    ldns_pkt_free(r);
}

TEST(garbage_then_a_good_query)
{
    struct fixture *fx = start("", 53, 200, 0);
    int fd = udp_socket();
    struct sockaddr_in a = addr_of(SRV_IP, fx->port);
    uint8_t junk[300];
    for (int i = 0; i < 200; i++) {
        size_t n = 1 + (size_t)(rand() % (int)sizeof junk);
        for (size_t j = 0; j < n; j++) junk[j] = (uint8_t)rand();
        junk[2] &= 0x7f; /* mostly "queries" */
        sendto(fd, junk, n, 0, (struct sockaddr *)&a, sizeof a);
    }
    close(fd);
    /* garbage over TCP too: a frame of random bytes, then a short close */
    int t = tcp_connect(fx->port);
    uint8_t frame[40] = {0, 38};
    for (int j = 2; j < 40; j++) frame[j] = (uint8_t)rand();
    CHECK(write(t, frame, sizeof frame) == (ssize_t)sizeof frame);
    close(t);
    ldns_pkt *r = udp_ask(fx->port, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "10.43.0.10");
    ldns_pkt_free(r);
}

TEST(tcp_connection_cap_per_peer)
{
    struct fixture *fx = start("", 53, 200, 2);
    int a = tcp_connect(fx->port), b = tcp_connect(fx->port), c = tcp_connect(fx->port);
    /* the third is closed by the server at once */
    uint8_t x;
    CHECK(read(c, &x, 1) <= 0);
    close(c);
    ldns_pkt *r = tcp_ask_fd(a, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    ldns_pkt_free(r);
    r = tcp_ask_fd(b, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    ldns_pkt_free(r);
    close(a);
    close(b);
    test_sleep_ms(100);
    /* freed slots are usable again */
    a = tcp_connect(fx->port);
    r = tcp_ask_fd(a, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    ldns_pkt_free(r);
    close(a);
    fixture_stop(fx);
    CHECK_INT(fx->st.refused_tcp, ==, 1);
}

TEST(forward_cap_per_peer)
{
    next_max_forwards_peer = 2;
    struct fixture *fx = start("nameserver 127.0.53.3\n", 5353, 1000, 0);
    int fd = udp_socket();
    struct sockaddr_in a = addr_of(SRV_IP, fx->port);
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < 5; i++) {
        char name[64];
        size_t len;
        snprintf(name, sizeof name, "n%d.example.org.", i);
        uint8_t *w = query_wire(name, LDNS_RR_TYPE_A, (uint16_t)(100 + i), &len);
        CHECK(sendto(fd, w, len, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)len);
        free(w);
    }
    /* three over the cap answer SERVFAIL at once, the two held ones at the
     * upstream timeout */
    int fast = 0, slow = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        CHECKF(n >= 12, "answer %d missing", i);
        CHECK_INT(buf[3] & 15, ==, LDNS_RCODE_SERVFAIL);
        if (test_now_ms() - t0 < 500) fast++;
        else slow++;
    }
    close(fd);
    CHECK_INT(fast, ==, 3);
    CHECK_INT(slow, ==, 2);
}

TEST(idle_tcp_closed)
{
    next_tcp_idle_ms = 200;
    struct fixture *fx = start("", 53, 200, 0);
    int fd = tcp_connect(fx->port);
    ldns_pkt *r = tcp_ask_fd(fd, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    ldns_pkt_free(r);
    uint64_t t0 = test_now_ms();
    uint8_t x;
    CHECK(read(fd, &x, 1) == 0); /* closed by the server */
    CHECK_INT(test_now_ms() - t0, <, 2000);
    close(fd);
}

/* Forwarded answers are kept: a name asked again (in any letter case) is
 * answered without the upstream, with its TTL; NXDOMAIN too (the SOA's
 * negative TTL); an answer with TTL 0 is never kept. */
TEST(forwarded_answers_are_cached)
{
    struct upstream *u = upstream_start();
    char body[128];
    snprintf(body, sizeof body, "nameserver %s\n", UP_IP);
    struct fixture *fx = start(body, u->port, 1000, 0);
    unsigned base = __atomic_load_n(&u->answered, __ATOMIC_ACQUIRE);

    ldns_pkt *r = udp_ask(fx->port, "cached.example.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "192.0.2.1");
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "CACHED.Example.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "192.0.2.1");
    uint32_t ttl = ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0));
    CHECKF(ttl <= 30 && ttl >= 28, "ttl %u (capped at 30, counted down)", ttl);
    char *q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
    CHECK_STR(q, "CACHED.Example."); /* the asker's own spelling */
    free(q);
    ldns_pkt_free(r);
    int fd = tcp_connect(fx->port);
    r = tcp_ask_fd(fd, "cached.example.", LDNS_RR_TYPE_A);
    CHECK_STR(first_rdata(r, 0), "192.0.2.1");
    ldns_pkt_free(r);
    close(fd);
    CHECK_INT(__atomic_load_n(&u->answered, __ATOMIC_ACQUIRE) - base, ==, 1);

    /* another type of the same name is another question */
    r = udp_ask(fx->port, "cached.example.", LDNS_RR_TYPE_AAAA);
    ldns_pkt_free(r);
    CHECK_INT(__atomic_load_n(&u->answered, __ATOMIC_ACQUIRE) - base, ==, 2);

    r = udp_ask(fx->port, "nx.example.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    r = udp_ask(fx->port, "nx.example.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    CHECK_INT(__atomic_load_n(&u->answered, __ATOMIC_ACQUIRE) - base, ==, 3);

    for (int i = 0; i < 2; i++) {
        r = udp_ask(fx->port, "zero.example.", LDNS_RR_TYPE_A);
        ldns_pkt_free(r);
    }
    CHECK_INT(__atomic_load_n(&u->answered, __ATOMIC_ACQUIRE) - base, ==, 5);
}
