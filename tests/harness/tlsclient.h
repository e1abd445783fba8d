/* tlsclient.h — blocking test clients (with timeouts) for a server's port:
 * plain TCP, and TLS through OpenSSL with a chosen certificate, protocol
 * version and TLS 1.2 cipher list, saying whether the server refused the
 * handshake, closed the connection after it, or kept it. */
#ifndef ORC_TESTS_TLSCLIENT_H
#define ORC_TESTS_TLSCLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/harness/test.h"

static inline int tc_connect(const char *ip, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {2, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) return -1;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* "IP:PORT" of the socket's own end: how the member names this client. */
static inline void tc_local_name(int fd, char *out, size_t n)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    char ip[INET_ADDRSTRLEN] = "?";

    if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0) inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
}

/* True when the peer closed (EOF or reset) within ms. */
static inline bool tc_closed_within(int fd, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    char buf[4096];

    while (test_now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r < 0 && errno != EINTR) return true;
        if (r <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
    return false;
}

/* How a TLS client fared. */
enum tc_tls_result {
    TC_TLS_REFUSED,      /* the handshake failed */
    TC_TLS_CLOSED_AFTER, /* handshake done on our side, then the member closed */
    TC_TLS_KEPT,         /* the member kept the connection open */
};

struct tc_tls_client {
    const char *cert_pem, *key_pem; /* NULL: no client certificate */
    const char *cipher12;            /* TLS 1.2 cipher list; NULL: OpenSSL's default */
    int max_version;                 /* 0: any */
    const void *payload;             /* sent once the handshake is done */
    size_t payload_len;
    char name[64];                   /* out: this client's address */
};

static inline int tc_use_pem(SSL_CTX *ctx, const char *cert, const char *key)
{
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    int ok = x && k && SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;

    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return ok ? 0 : -1;
}

static inline enum tc_tls_result tc_tls_try(const char *ip, int port, struct tc_tls_client *cl)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    enum tc_tls_result res = TC_TLS_REFUSED;
    int fd = tc_connect(ip, port);

    CHECKF(ctx != NULL && fd >= 0, "cannot connect to %s:%d", ip, port);
    tc_local_name(fd, cl->name, sizeof cl->name);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (cl->max_version) SSL_CTX_set_max_proto_version(ctx, cl->max_version);
    if (cl->cipher12) CHECK(SSL_CTX_set_cipher_list(ctx, cl->cipher12) == 1);
    if (cl->cert_pem) CHECK(tc_use_pem(ctx, cl->cert_pem, cl->key_pem) == 0);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
        if (cl->payload_len) (void)SSL_write(ssl, cl->payload, (int)cl->payload_len);
        /* TLS 1.3: a refused client certificate shows as an alert on the
         * first read after the handshake. */
        char buf[256];
        int n = SSL_read(ssl, buf, sizeof buf);
        int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, n);
        bool timed_out = n <= 0 && e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
        res = n > 0 || timed_out ? TC_TLS_KEPT : TC_TLS_CLOSED_AFTER;
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return res;
}

#endif
