/* test_httpd_tunnel.c — lib/httpd's upgraded connections over plain HTTP on
 * loopback: the handler's head and then bytes both ways (also bytes the
 * client sent right behind its request), the idle timeout, and a client
 * that never reads: its tunnel is reset at the stream bound and on_gone
 * fires, rather than memory growing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/httpd.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#define ADDR "127.0.0.65"
#define HEAD "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"

struct srv {
    uv_loop_t loop;
    uv_async_t stop;
    struct orc_httpd *h;
    pthread_t th;
    int port;
    bool flood;  /* write 64 KiB chunks until the server ends the tunnel */
    int gone;    /* on_gone calls (read by the test after the loop stopped) */
    size_t written;
};

static void on_input(struct orc_httpd_req *r, const char *data, size_t len)
{
    if (len == 4 && memcmp(data, "quit", 4) == 0) {
        orc_httpd_tunnel_end(r);
        return;
    }
    orc_httpd_tunnel_write(r, data, len); /* echo */
}

static void on_gone(struct orc_httpd_req *r)
{
    struct srv *s = r->server;

    __atomic_add_fetch(&s->gone, 1, __ATOMIC_SEQ_CST);
    orc_httpd_tunnel_end(r); /* frees it: the client is gone */
}

static void flood(struct orc_httpd_req *r)
{
    static char chunk[64 * 1024];
    struct srv *s = r->server;

    /* A writer that ignores back-pressure: the bound stops it. */
    while (orc_httpd_tunnel_write(r, chunk, sizeof chunk) == 0) s->written += sizeof chunk;
}

static void handler(void *arg, struct orc_httpd_req *r)
{
    struct srv *s = arg;

    r->on_gone = on_gone;
    if (orc_httpd_tunnel_begin(r, HEAD, sizeof HEAD - 1, on_input) != 0) return;
    if (s->flood) flood(r);
}

static void on_stop(uv_async_t *a)
{
    struct srv *s = a->data;
    orc_httpd_stop(s->h, NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    struct srv *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void srv_start(struct srv *s, unsigned idle_ms, size_t queue)
{
    struct orc_httpd_config cfg = {.listen = ADDR ":0", .handler = handler, .arg = s, .log_module = "tunnel"};
    char err[256];

    cfg.limits.tunnel_idle_ms = idle_ms;
    cfg.limits.stream_queue = queue;
    CHECK(uv_loop_init(&s->loop) == 0);
    CHECKF(orc_httpd_start(&s->loop, &cfg, &s->h, err) == 0, "%s", err);
    s->port = orc_httpd_port(s->h);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->stop.data = s;
    CHECK(pthread_create(&s->th, NULL, loop_main, s) == 0);
}

static void srv_stop(struct srv *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->th, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&s->loop) == 0);
}

static int dial(const struct srv *s, int rcvbuf)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(fd >= 0);
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    inet_pton(AF_INET, ADDR, &sa.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    return fd;
}

/* Reads until `want` is in what came (or EOF / 5 s); returns what came. */
static size_t read_until(int fd, char *buf, size_t cap, const char *want)
{
    size_t n = 0;

    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t k;
        if (poll(&p, 1, 5000) <= 0) break;
        if ((k = read(fd, buf + n, cap - 1 - n)) <= 0) break;
        n += (size_t)k;
        buf[n] = '\0';
        if (want && strstr(buf, want)) break;
    }
    buf[n] = '\0';
    return n;
}

static const char req[] = "GET /t HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n";

TEST(tunnel_carries_bytes_both_ways)
{
    struct srv s = {0};
    char buf[4096], msg[256];
    int fd;

    srv_start(&s, 0, 0);
    fd = dial(&s, 0);
    /* bytes right behind the request reach the handler too */
    snprintf(msg, sizeof msg, "%searly", req);
    CHECK(write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg));
    read_until(fd, buf, sizeof buf, "early");
    CHECKF(strncmp(buf, HEAD, sizeof HEAD - 1) == 0 && strstr(buf, "early"), "got: %s", buf);
    CHECK(write(fd, "later", 5) == 5);
    read_until(fd, buf, sizeof buf, "later");
    CHECK_STR(buf, "later");
    CHECK(write(fd, "quit", 4) == 4);
    CHECK_INT(read_until(fd, buf, sizeof buf, NULL), ==, 0); /* the handler ended it: closed */
    close(fd);
    srv_stop(&s);
}

TEST(idle_tunnel_is_closed)
{
    struct srv s = {0};
    char buf[4096];
    uint64_t t0;
    int fd;

    srv_start(&s, 300, 0);
    fd = dial(&s, 0);
    CHECK(write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1));
    read_until(fd, buf, sizeof buf, "\r\n\r\n");
    t0 = test_now_ms();
    CHECK_INT(read_until(fd, buf, sizeof buf, NULL), ==, 0);
    CHECKF(test_now_ms() - t0 < 4000, "closed after %llu ms", (unsigned long long)(test_now_ms() - t0));
    close(fd);
    srv_stop(&s);
    CHECK_INT(s.gone, ==, 1);
}

TEST(client_that_never_reads_is_reset_at_the_bound)
{
    struct srv s = {.flood = true};
    uint64_t end;
    int fd;

    srv_start(&s, 0, 2u << 20);
    fd = dial(&s, 4096);
    CHECK(write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1));
    end = test_now_ms() + 10000;
    while (__atomic_load_n(&s.gone, __ATOMIC_SEQ_CST) == 0 && test_now_ms() < end) usleep(50 * 1000);
    close(fd);
    srv_stop(&s);
    CHECKF(s.gone == 1, "the tunnel was not ended (%zu bytes written)", s.written);
    CHECKF(s.written < (16u << 20), "%zu bytes queued for a client that reads nothing", s.written);
}
