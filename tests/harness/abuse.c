/* abuse.c — misbehaving clients and memory probes for the API limit tests. */
#include "tests/harness/abuse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/file.h"
#include "tests/harness/test.h"

#define IO_TIMEOUT_S 10 /* no single blocking call waits longer */

static SSL_CTX *client_ctx(void)
{
    static SSL_CTX *ctx;

    if (ctx == NULL) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (ctx) SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
}

int raw_open(struct rawtls *t, const char *ip, int port, const char *src_ip, int rcvbuf)
{
    struct sockaddr_in sa = {0}, src = {0};
    struct timeval tv = {IO_TIMEOUT_S, 0};

    memset(t, 0, sizeof *t);
    signal(SIGPIPE, SIG_IGN);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (t->fd < 0) return -1;
    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (rcvbuf > 0) setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (src_ip) {
        src.sin_family = AF_INET;
        inet_pton(AF_INET, src_ip, &src.sin_addr);
        if (bind(t->fd, (struct sockaddr *)&src, sizeof src) != 0) goto err;
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &sa.sin_addr);
    if (connect(t->fd, (struct sockaddr *)&sa, sizeof sa) != 0) goto err;
    return 0;
err:
    close(t->fd);
    t->fd = -1;
    return -1;
}

int rawtls_open(struct rawtls *t, const char *ip, int port, const char *src_ip, int rcvbuf)
{
    SSL *ssl;

    if (raw_open(t, ip, port, src_ip, rcvbuf) != 0) return -1;
    ssl = SSL_new(client_ctx());
    if (ssl == NULL) goto err;
    t->ssl = ssl;
    SSL_set_fd(ssl, t->fd);
    if (SSL_connect(ssl) == 1) return 0;
err:
    rawtls_close(t);
    return -1;
}

int rawtls_send(struct rawtls *t, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0 && !t->closed) {
        ssize_t n = t->ssl ? SSL_write(t->ssl, p, (int)(len > (1u << 20) ? 1u << 20 : len))
                           : write(t->fd, p, len);
        if (n <= 0) {
            if (!t->ssl && n < 0 && errno == EINTR) continue;
            t->closed = true;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return t->closed ? -1 : 0;
}

/* One read of whatever is there within ms; false when nothing came. Past
 * `keep` bytes in t->in, what comes is dropped. */
static bool read_some(struct rawtls *t, int ms, size_t keep)
{
    struct pollfd pfd = {t->fd, POLLIN, 0};
    char buf[16384];
    ssize_t n;

    if (t->closed) return false;
    if (!(t->ssl && SSL_pending(t->ssl) > 0) && poll(&pfd, 1, ms) <= 0) return false;
    n = t->ssl ? SSL_read(t->ssl, buf, sizeof buf) : read(t->fd, buf, sizeof buf);
    if (n <= 0) {
        if (t->ssl) {
            int e = SSL_get_error(t->ssl, (int)n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
        } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            return true;
        }
        t->closed = true;
        return false;
    }
    if (t->in.len < keep) orc_buf_append(&t->in, buf, (size_t)n);
    return true;
}

bool rawtls_read_until(struct rawtls *t, const char *text, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        if (t->in.data && strstr(t->in.data, text)) return true;
        uint64_t now = test_now_ms();
        if (t->closed || now >= end) return false;
        read_some(t, (int)(end - now), SIZE_MAX);
    }
}

bool rawtls_wait_closed(struct rawtls *t, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    while (!t->closed) {
        uint64_t now = test_now_ms();
        if (now >= end) return false;
        read_some(t, (int)(end - now), 64 * 1024);
    }
    return true;
}

void rawtls_close(struct rawtls *t)
{
    if (t->ssl) SSL_free(t->ssl);
    t->ssl = NULL;
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    orc_buf_free(&t->in);
}

long proc_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

bool file_has(const char *path, size_t from, const char *text)
{
    struct orc_buf b = ORC_BUF_INIT;
    bool has = orc_file_read(path, 64u << 20, &b) == 0 && b.len > from
               && strstr(b.data + from, text) != NULL;

    orc_buf_free(&b);
    return has;
}
