/* ready.c — benchmark helper: starts a server command, reports how long
 * until its readiness URL answers 200 and its resident memory once idle.
 * usage: ready [https://]HOST PORT PATH IDLE_MS PIDFILE -- COMMAND ARGS...
 * Prints "ready_ms=N rss_kib=N" and leaves the server running; its PID is
 * written to PIDFILE so the caller stops it. With https:// the probe speaks
 * TLS without checking the certificate: it only times readiness. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "tests/bench/bench.h"

/* One plain GET; 1 when the reply starts with "HTTP/1.1 200". */
static int probe(const char *host, int port, const char *path)
{
    struct sockaddr_in sa = {0};
    char req[512], resp[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;
    ssize_t n;

    if (fd < 0) return 0;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                           path, host);
        if (write(fd, req, (size_t)len) == len && (n = read(fd, resp, sizeof resp - 1)) > 12) {
            resp[n] = '\0';
            ok = strncmp(resp, "HTTP/1.1 200", 12) == 0;
        }
    }
    close(fd);
    return ok;
}

static int probe_tls(const char *host, int port, const char *path)
{
    struct http_request req = {.method = "GET", .path = path, .timeout_ms = 1000};
    struct http_tls tls = {.insecure_skip_verify = 1};
    struct http_response r;
    char url[300];
    int ok;

    snprintf(url, sizeof url, "https://%s:%d", host, port);
    if (http_sync_request_tls(url, NULL, &tls, &req, &r, NULL) != 0) return 0;
    ok = r.status == 200;
    http_response_free(&r);
    return ok;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
    if (f) fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    if (argc < 8 || strcmp(argv[6], "--") != 0) {
        fprintf(stderr, "usage: ready HOST PORT PATH IDLE_MS PIDFILE -- COMMAND ARGS...\n");
        return 2;
    }
    const char *host = argv[1], *path = argv[3];
    int tls = strncmp(host, "https://", 8) == 0;
    if (tls) host += 8;
    int port = atoi(argv[2]), idle = atoi(argv[4]);
    double start = bench_now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        /* stdout may be a pipe the caller reads to EOF: keep the server off it. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[7], argv + 7);
        _exit(127);
    }
    FILE *pf = fopen(argv[5], "w");
    if (pf) {
        fprintf(pf, "%d\n", (int)pid);
        fclose(pf);
    }
    while (!(tls ? probe_tls(host, port, path) : probe(host, port, path))) {
        if (waitpid(pid, NULL, WNOHANG) == pid || bench_now_ms() - start > 30000) {
            fprintf(stderr, "ready: %s did not become ready\n", argv[7]);
            return 1;
        }
        usleep(500);
    }
    double ready = bench_now_ms() - start;
    usleep((useconds_t)idle * 1000);
    printf("ready_ms=%.1f rss_kib=%ld\n", ready, rss_kib(pid));
    return 0;
}
