/* dns.c — the cluster DNS resolver's throughput and latency: queries/s and
 * p50/p99 over UDP on loopback, with 1,000 Services in the zone, for
 * service names (answered from the zone) and for forwarded names (a fake
 * upstream on 127.0.53.2 that answers at once, so the figure is the
 * resolver's own cost): from the cache, and with the cache off (a second
 * server) so that every one goes upstream. A window of outstanding queries from one socket.
 *
 * Usage: dns [seconds per part (default 3)] [window (default 32)] */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "dns/dns.h"

#define SRV_IP "127.0.53.1"
#define UP_IP "127.0.53.2"

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int stop_upstream;

/* Answers every query with one A record: the shortest upstream there is. */
static void *upstream_main(void *arg)
{
    int fd = *(int *)arg;
    uint8_t buf[4096];
    while (!__atomic_load_n(&stop_upstream, __ATOMIC_ACQUIRE)) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 12) continue;
        static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
        if ((size_t)n + sizeof a > sizeof buf) continue;
        buf[2] |= 0x80;
        buf[3] = 0x80;
        buf[7] = 1; /* ancount */
        buf[11] = 0; /* no additional: any OPT is dropped below */
        /* the question ends where the first name ends, + type and class */
        size_t o = 12;
        while (o < (size_t)n && buf[o]) o += 1 + buf[o];
        o += 5;
        if (o > (size_t)n) continue;
        memcpy(buf + o, a, sizeof a);
        sendto(fd, buf, o + sizeof a, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static uv_loop_t loop;
static uv_async_t stopper;
static struct dns_server *server, *uncached;

static void on_stop(uv_async_t *h)
{
    dns_server_stop(server, NULL, NULL);
    dns_server_stop(uncached, NULL, NULL);
    uv_close((uv_handle_t *)h, NULL);
}

static void *loop_main(void *arg)
{
    (void)arg;
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs `secs` seconds of queries for names[i % n] with `window` in flight;
 * prints one table row. */
static void run(const char *label, int port, char **names, int n, int secs, int window)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, SRV_IP, &to.sin_addr);
    connect(fd, (struct sockaddr *)&to, sizeof to);
    static uint64_t sent_at[65536];
    size_t cap = 1 << 22, nlat = 0;
    uint64_t *lat = malloc(cap * sizeof *lat);
    uint8_t *wires[256];
    size_t lens[256];
    int nw = n < 256 ? n : 256;
    for (int i = 0; i < nw; i++) {
        ldns_pkt *q = NULL;
        ldns_pkt_query_new_frm_str(&q, names[i], LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
        ldns_pkt2wire(&wires[i], q, &lens[i]);
        ldns_pkt_free(q);
    }
    uint64_t t0 = now_us(), end = t0 + (uint64_t)secs * 1000000u;
    uint16_t id = 0;
    int inflight = 0;
    unsigned long lost = 0, k = 0;
    while (now_us() < end && lat) {
        while (inflight < window) {
            uint8_t *w = wires[k++ % (unsigned)nw];
            size_t l = lens[(k - 1) % (unsigned)nw];
            id++;
            w[0] = id >> 8;
            w[1] = id & 0xff;
            sent_at[id] = now_us();
            if (send(fd, w, l, 0) > 0) inflight++;
            else break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) {
            lost += (unsigned long)inflight; /* a lost answer frees its slot */
            inflight = 0;
            continue;
        }
        uint8_t buf[4096];
        ssize_t r;
        while ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) >= 12) {
            uint16_t rid = (uint16_t)(buf[0] << 8 | buf[1]);
            if (nlat < cap) lat[nlat++] = now_us() - sent_at[rid];
            if (inflight > 0) inflight--;
        }
    }
    double el = (double)(now_us() - t0) / 1e6;
    if (nlat > 0) qsort(lat, nlat, sizeof *lat, cmp_u64);
    printf("| %s | %d | %.0f | %.0f | %.0f | %lu |\n", label, window, (double)nlat / el,
           nlat ? (double)lat[nlat / 2] : 0.0, nlat ? (double)lat[nlat * 99 / 100] : 0.0, lost);
    for (int i = 0; i < nw; i++) free(wires[i]);
    free(lat);
    close(fd);
}

/* dnsperf (Debian's, the load tool DNS servers are measured with) on
 * server:port for secs seconds with `window` outstanding; one table row. */
static void dnsperf_row(const char *label, const char *server, int port, const char *datafile, int secs, int window)
{
    char cmd[1024], line[512];
    double qps = 0, avg = 0;
    unsigned long lost = 0;
    snprintf(cmd, sizeof cmd, "dnsperf -s %s -p %d -d %s -l %d -q %d -c 1 -t 2 2>&1", server, port, datafile, secs, window);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    while (fgets(line, sizeof line, p)) {
        sscanf(line, "  Queries per second: %lf", &qps);
        sscanf(line, "  Average Latency (s): %lf", &avg);
        sscanf(line, "  Queries lost: %lu", &lost);
    }
    pclose(p);
    printf("| %s (dnsperf) | %d | %.0f | avg %.0f | | %lu |\n", label, window, qps, avg * 1e6, lost);
}

/* dnsmasq answering the same 1,000 names from a hosts file: the anchor. */
static pid_t dnsmasq_start(const char *hosts, int port)
{
    char addn[600], portarg[32];
    snprintf(addn, sizeof addn, "--addn-hosts=%s", hosts);
    snprintf(portarg, sizeof portarg, "--port=%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/sbin/dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", addn,
              "--listen-address=127.0.53.4", "--bind-interfaces", portarg, "--pid-file=", "--user=root",
              "--log-facility=/dev/null", (char *)NULL);
        _exit(127);
    }
    usleep(300 * 1000);
    return pid;
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 3, window = argc > 2 ? atoi(argv[2]) : 32;
    if (secs <= 0) secs = 3;
    if (window <= 0 || window > 1000) window = 32;
    struct dns_zone *z = dns_zone_new(NULL);
    char buf[512], *svc_names[256], *fwd_names[256];
    for (int i = 0; i < 1000 && z; i++) {
        snprintf(buf, sizeof buf, "{\"metadata\":{\"namespace\":\"ns%d\",\"name\":\"s%d\"},"
                                  "\"spec\":{\"clusterIP\":\"10.43.%d.%d\"}}", i % 10, i, i / 250, i % 250 + 1);
        json_t *v = json_loads(buf, 0, NULL);
        dns_zone_set_service(z, v);
        json_decref(v);
    }
    for (int i = 0; i < 256; i++) {
        snprintf(buf, sizeof buf, "s%d.ns%d.svc.cluster.local.", i * 3, (i * 3) % 10);
        svc_names[i] = strdup(buf);
        snprintf(buf, sizeof buf, "host%d.example.org.", i);
        fwd_names[i] = strdup(buf);
    }
    int ufd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET};
    inet_pton(AF_INET, UP_IP, &ua.sin_addr);
    socklen_t ul = sizeof ua;
    struct timeval tv = {0, 100000};
    if (!z || bind(ufd, (struct sockaddr *)&ua, sizeof ua) != 0) {
        fprintf(stderr, "dns bench: cannot bind %s\n", UP_IP);
        return 1;
    }
    getsockname(ufd, (struct sockaddr *)&ua, &ul);
    setsockopt(ufd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char rpath[] = "/tmp/orc-dns-bench.XXXXXX";
    int rfd = mkstemp(rpath);
    char line[64];
    int ll = snprintf(line, sizeof line, "nameserver %s\n", UP_IP);
    if (rfd < 0 || write(rfd, line, (size_t)ll) != ll) return 1;
    close(rfd);
    uv_loop_init(&loop);
    struct dns_server_config cfg = {.address = SRV_IP, .resolv_conf = rpath, .upstream_port = ntohs(ua.sin_port),
                                    .max_forwards_peer = 1024};
    char err[256];
    if (dns_server_start(&loop, z, &cfg, &server, err, sizeof err) != 0) {
        fprintf(stderr, "dns bench: %s\n", err);
        unlink(rpath);
        return 1;
    }
    /* the same with its cache off: every forwarded name goes upstream */
    cfg.no_cache = 1;
    if (dns_server_start(&loop, z, &cfg, &uncached, err, sizeof err) != 0) {
        fprintf(stderr, "dns bench: %s\n", err);
        unlink(rpath);
        return 1;
    }
    int port = dns_server_port(server), uport = dns_server_port(uncached);
    uv_async_init(&loop, &stopper, on_stop);
    pthread_t lt, ut;
    pthread_create(&ut, NULL, upstream_main, &ufd);
    pthread_create(&lt, NULL, loop_main, NULL);
    printf("| queries (UDP, loopback, 1,000 Services) | in flight | queries/s | p50 us | p99 us | lost |\n");
    printf("|---|---|---|---|---|---|\n");
    run("service names (from the zone)", port, svc_names, 256, secs, window);
    run("forwarded names, from the cache", port, fwd_names, 256, secs, window);
    run("forwarded names, cache off (fake upstream)", uport, fwd_names, 256, secs, window);
    if (access("/usr/bin/dnsperf", X_OK) == 0) {
        char data[] = "/tmp/orc-dns-bench-q.XXXXXX", hosts[] = "/tmp/orc-dns-bench-h.XXXXXX";
        int dfd = mkstemp(data), hfd = mkstemp(hosts);
        FILE *df = dfd >= 0 ? fdopen(dfd, "w") : NULL, *hf = hfd >= 0 ? fdopen(hfd, "w") : NULL;
        for (int i = 0; df && hf && i < 1000; i++) {
            fprintf(df, "s%d.ns%d.svc.cluster.local A\n", i, i % 10);
            fprintf(hf, "10.43.%d.%d s%d.ns%d.svc.cluster.local\n", i / 250, i % 250 + 1, i, i % 10);
        }
        if (df) fclose(df);
        if (hf) fclose(hf);
        dnsperf_row("service names", SRV_IP, port, data, secs, window);
        if (access("/usr/sbin/dnsmasq", X_OK) == 0) {
            int mport = 20000 + (int)(getpid() % 10000);
            pid_t m = dnsmasq_start(hosts, mport);
            if (m > 0) {
                dnsperf_row("dnsmasq, the same names from a hosts file", "127.0.53.4", mport, data, secs, window);
                kill(m, SIGTERM);
                waitpid(m, NULL, 0);
            }
        }
        unlink(data);
        unlink(hosts);
    }
    uv_async_send(&stopper);
    pthread_join(lt, NULL);
    __atomic_store_n(&stop_upstream, 1, __ATOMIC_RELEASE);
    pthread_join(ut, NULL);
    uv_loop_close(&loop);
    close(ufd);
    unlink(rpath);
    for (int i = 0; i < 256; i++) {
        free(svc_names[i]);
        free(fwd_names[i]);
    }
    dns_zone_free(z);
    return 0;
}
