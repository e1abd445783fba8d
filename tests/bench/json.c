/* json.c — orc's JSON reader and writer (lib/json_load.c, lib/json_dump.c)
 * beside jansson's own, the anchor, on the texts the API handles most: a
 * pod as a watch event carries it, and a list of 100 of them. Also the
 * parse-encode-free cycle of a write with and without orcd's block cache
 * (lib/mem.c), 1,000 trees alive as in a burst. Prints a markdown table:
 * microseconds per operation, best of 5 rounds. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/mem.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int pod_text(char *out, size_t n, int i)
{
    return snprintf(out, n,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-%05d\",\"namespace\":"
        "\"default\",\"uid\":\"6f1c2a9e-3b7d-4c5e-9a8b-%012d\",\"resourceVersion\":\"%d\","
        "\"creationTimestamp\":\"2026-12-06T12:00:00Z\",\"labels\":{\"app\":\"web\","
        "\"pod-template-hash\":\"5d8f9c7b6\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
        "\"kind\":\"ReplicaSet\",\"name\":\"web-5d8f9c7b6\",\"uid\":\"0c6e4b1a-1111-4222-8333-"
        "944455556666\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{\"containers\":"
        "[{\"name\":\"web\",\"image\":\"registry.local/nginx:1.27\",\"ports\":[{\"containerPort\":80,"
        "\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"512Mi\"}},"
        "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
        "\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\","
        "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"schedulerName\":"
        "\"default-scheduler\",\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
        "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],\"nodeName\":"
        "\"node-%03d\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.%d.%d\",\"conditions\":"
        "[{\"type\":\"Ready\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":"
        "\"2026-12-06T12:00:01Z\"}]}}",
        i, i, i, i % 1000, i % 250, i % 250);
}

typedef double (*bench_fn)(const char *text, size_t len, int n);

static double parse_jansson(const char *text, size_t len, int n)
{
    double t = now_s();
    for (int i = 0; i < n; i++) json_decref(json_loadb(text, len, JSON_ALLOW_NUL, NULL));
    return (now_s() - t) / n * 1e6;
}

static double parse_orc(const char *text, size_t len, int n)
{
    double t = now_s();
    for (int i = 0; i < n; i++) json_decref(orc_json_loadb(text, len, JSON_ALLOW_NUL, NULL));
    return (now_s() - t) / n * 1e6;
}

static int dump_cb(const char *chunk, size_t size, void *data)
{
    return orc_buf_append(data, chunk, size) == 0 ? 0 : -1;
}

static double dump_jansson(const char *text, size_t len, int n)
{
    json_t *v = json_loadb(text, len, 0, NULL);
    struct orc_buf b = ORC_BUF_INIT;
    double t = now_s();
    for (int i = 0; i < n; i++) {
        orc_buf_reset(&b);
        json_dump_callback(v, dump_cb, &b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    }
    t = (now_s() - t) / n * 1e6;
    orc_buf_free(&b);
    json_decref(v);
    return t;
}

static double dump_orc(const char *text, size_t len, int n)
{
    json_t *v = json_loadb(text, len, 0, NULL);
    struct orc_buf b = ORC_BUF_INIT;
    double t = now_s();
    for (int i = 0; i < n; i++) {
        orc_buf_reset(&b);
        orc_json_dump(v, &b);
    }
    t = (now_s() - t) / n * 1e6;
    orc_buf_free(&b);
    json_decref(v);
    return t;
}

static double best(bench_fn f, const char *text, size_t len, int n)
{
    double b = 1e30;
    for (int r = 0; r < 5; r++) {
        double t = f(text, len, n);
        if (t < b) b = t;
    }
    return b;
}

/* The write cycle (parse, encode, free the tree 1,000 writes later), in a
 * child so that orc_mem_setup's allocator stays out of the other rows. */
static double cycle_in_child(bool cache)
{
    int fd[2];
    double r = -1;
    pid_t pid;

    if (pipe(fd) != 0 || (pid = fork()) < 0) return -1;
    if (pid == 0) {
        enum { N = 100000, LIVE = 1000 };
        json_t **live = calloc(LIVE, sizeof *live);
        char text[4096];
        double t, bestt = 1e30;
        close(fd[0]);
        if (cache) orc_mem_setup();
        for (int round = 0; round < 3 && live; round++) {
            t = now_s();
            for (int i = 0; i < N; i++) {
                int len = pod_text(text, sizeof text, i);
                json_t *v = orc_json_loadb(text, (size_t)len, JSON_ALLOW_NUL, NULL);
                struct orc_buf b = ORC_BUF_INIT;
                orc_json_dump(v, &b);
                orc_buf_free(&b);
                json_decref(live[i % LIVE]);
                live[i % LIVE] = v;
            }
            t = (now_s() - t) / N * 1e6;
            if (t < bestt) bestt = t;
        }
        if (write(fd[1], &bestt, sizeof bestt) != sizeof bestt) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], &r, sizeof r) != sizeof r) r = -1;
    close(fd[0]);
    waitpid(pid, NULL, 0);
    return r;
}

int main(void)
{
    char pod[4096];
    struct orc_buf list = ORC_BUF_INIT;
    size_t len = (size_t)pod_text(pod, sizeof pod, 42);

    orc_buf_puts(&list, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[");
    for (int i = 0; i < 100; i++) {
        char one[4096];
        int n = pod_text(one, sizeof one, i);
        if (i) orc_buf_puts(&list, ",");
        orc_buf_append(&list, one, (size_t)n);
    }
    orc_buf_puts(&list, "]}");

    printf("| JSON, µs per operation (best of 5) | jansson 2.14 (anchor) | orc | ratio |\n");
    printf("|---|---|---|---|\n");
    struct { const char *what; bench_fn ref, orc; const char *text; size_t len; int n; } rows[] = {
        {"read a pod (%zu bytes)", parse_jansson, parse_orc, pod, len, 20000},
        {"write a pod (%zu bytes)", dump_jansson, dump_orc, pod, len, 20000},
        {"read a list of 100 pods (%zu bytes)", parse_jansson, parse_orc, list.data, list.len, 200},
        {"write a list of 100 pods (%zu bytes)", dump_jansson, dump_orc, list.data, list.len, 200},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char what[96];
        double a = best(rows[i].ref, rows[i].text, rows[i].len, rows[i].n);
        double b = best(rows[i].orc, rows[i].text, rows[i].len, rows[i].n);
        snprintf(what, sizeof what, rows[i].what, rows[i].len);
        printf("| %s | %.2f | %.2f | %.1f× |\n", what, a, b, a / b);
    }
    double plain = cycle_in_child(false), cached = cycle_in_child(true);
    printf("| a write's tree: read + write + free, 1,000 alive (glibc's defaults / orcd's heap setup, lib/mem.c) | %.2f | %.2f | %.1f× |\n",
           plain, cached, plain / cached);
    orc_buf_free(&list);
    return 0;
}
