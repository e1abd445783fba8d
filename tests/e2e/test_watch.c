/* test_watch.c — watches on a real orcd: event order and types, resumption
 * from a resourceVersion, 410 for a revision older than the history, and
 * no gaps or duplicates across a leader change for a client that resumes
 * on another member (re-listing on 410), as client-go's reflector does. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/cluster.h"
#include "tests/harness/load.h"
#include "tests/harness/test.h"

/* ---- a resuming watcher ---- */

#define MAX_MARKERS 200000

struct watcher {
    struct cluster *c;
    uv_loop_t loop;
    uv_timer_t timer;
    http_client *client;
    http_call *call;
    int member;
    long long last_rv;
    long long stop_at_rv; /* stop once this revision was seen (0: not yet set) */
    volatile int want_stop;
    struct orc_buf pending;
    unsigned char seen[MAX_MARKERS]; /* writer * 10000 + seq */
    int duplicates, out_of_order, relists, resumes;
    char error[256];
    pthread_t thread;
};

static void watch_from(struct watcher *w, long long rv);

static void mark(struct watcher *w, const json_t *obj)
{
    const char *ws = orc_json_str(obj, "data.writer"), *ss = orc_json_str(obj, "data.seq");
    if (ws == NULL || ss == NULL) return;
    int cell = atoi(ws) * 10000 + atoi(ss);
    if (cell < 0 || cell >= MAX_MARKERS) return;
    if (w->seen[cell]) w->duplicates++;
    w->seen[cell] = 1;
}

static void relist(struct watcher *w)
{
    int st;
    json_t *l = t_json(w->c, w->member, "GET", "/api/v1/namespaces/default/configmaps", NULL, &st);
    json_t *it;
    size_t i;

    w->relists++;
    if (st != 200) {
        json_decref(l);
        w->member = (w->member + 1) % w->c->n;
        return;
    }
    memset(w->seen, 0, sizeof w->seen); /* the list is the new truth */
    json_array_foreach(json_object_get(l, "items"), i, it) mark(w, it);
    w->last_rv = atoll(orc_json_str(l, "metadata.resourceVersion"));
    json_decref(l);
}

static void on_line(struct watcher *w, const char *line, size_t len)
{
    json_t *ev = json_loadb(line, len, 0, NULL);
    const char *type = ev ? orc_json_str(ev, "type") : NULL;
    json_t *obj = ev ? json_object_get(ev, "object") : NULL;
    const char *rvs = orc_json_str(obj, "metadata.resourceVersion");
    long long rv = rvs ? atoll(rvs) : 0;

    if (type && strcmp(type, "ERROR") == 0) {
        int64_t code = 0;
        orc_json_int(obj, "code", &code);
        if (code == 410) relist(w);
    } else if (type && strcmp(type, "BOOKMARK") != 0) {
        if (rv <= w->last_rv) w->out_of_order++;
        w->last_rv = rv;
        if (strcmp(type, "ADDED") == 0) mark(w, obj);
    }
    json_decref(ev);
}

static void on_data(void *arg, const char *data, size_t len)
{
    struct watcher *w = arg;
    char *nl;

    orc_buf_append(&w->pending, data, len);
    while (w->pending.len && (nl = memchr(w->pending.data, '\n', w->pending.len)) != NULL) {
        size_t n = (size_t)(nl - w->pending.data);
        on_line(w, w->pending.data, n);
        memmove(w->pending.data, nl + 1, w->pending.len - n - 1);
        w->pending.len -= n + 1;
    }
}

static void on_end(void *arg, int err)
{
    struct watcher *w = arg;
    (void)err;
    w->call = NULL;
    orc_buf_reset(&w->pending);
    if (w->want_stop) return;
    /* Resume on the next member from the last revision seen. */
    w->member = (w->member + 1) % w->c->n;
    w->resumes++;
    watch_from(w, w->last_rv);
}

static void watch_from(struct watcher *w, long long rv)
{
    static const struct http_stream_cbs cbs = {NULL, on_data, on_end};
    char path[200];
    struct http_request req = {0};

    if (w->client) http_client_close(w->client, NULL, NULL);
    http_client_new_tls(&w->loop, w->c->m[w->member].url, w->c->token, cluster_tls(w->c), &w->client);
    snprintf(path, sizeof path,
             "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%lld", rv);
    req.method = "GET";
    req.path = path;
    req.timeout_ms = 2000;
    if (http_stream(w->client, &req, &cbs, w, &w->call) != 0) on_end(w, ORC_EUNAVAIL);
}

static void on_tick(uv_timer_t *t)
{
    struct watcher *w = t->data;
    if (!(w->stop_at_rv && w->last_rv >= w->stop_at_rv) && !w->want_stop) return;
    w->want_stop = 1;
    uv_close((uv_handle_t *)t, NULL);
    if (w->call) http_call_cancel(w->call);
    http_client_close(w->client, NULL, NULL);
}

static void *watcher_main(void *arg)
{
    struct watcher *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void watcher_start(struct watcher *w, struct cluster *c, int member)
{
    memset(w, 0, sizeof *w);
    w->c = c;
    w->member = member;
    uv_loop_init(&w->loop);
    uv_timer_init(&w->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_tick, 20, 20);
    relist(w);
    watch_from(w, w->last_rv);
    pthread_create(&w->thread, NULL, watcher_main, w);
}

TEST_T(watch_survives_leader_change_without_gaps_or_duplicates, 180)
{
    static struct watcher w;
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    struct load l = {0};

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    int lead = cluster_leader(&c, 5000);
    CHECK(lead >= 0);
    load_start(&l, &c, 8);
    watcher_start(&w, &c, lead); /* on the member about to die */
    test_sleep_ms(1000);
    member_kill(&c, lead);
    test_sleep_ms(3000);
    load_stop(&l);
    int now = cluster_leader(&c, 10000);
    CHECK(now >= 0);
    w.stop_at_rv = member_revision(&c, now);
    pthread_join(w.thread, NULL);
    uv_loop_close(&w.loop);
    orc_buf_free(&w.pending);
    fprintf(stderr, "# %zu writes, watcher resumed %d times, re-listed %d times\n", l.n_acks,
            w.resumes, w.relists);
    CHECK_INT(w.out_of_order, ==, 0);
    CHECK_INT(w.duplicates, ==, 0);
    for (size_t i = 0; i < l.n_acks; i++) {
        int cell = l.acks[i].writer * 10000 + l.acks[i].seq;
        CHECKF(w.seen[cell], "the watcher never saw acknowledged write %s", l.acks[i].name);
    }
    load_free(&l);
}

/* ---- plain watch semantics ---- */

struct collected {
    struct orc_buf text;
    int ended;
};

static void col_data(void *arg, const char *d, size_t n) { orc_buf_append(&((struct collected *)arg)->text, d, n); }
static void col_end(void *arg, int err) { (void)err; ((struct collected *)arg)->ended = 1; }

/* Watches for `ms` and returns the raw event lines. */
static char *watch_for(struct cluster *c, const char *path, unsigned ms, void (*during)(void))
{
    static const struct http_stream_cbs cbs = {NULL, col_data, col_end};
    struct collected col = {ORC_BUF_INIT, 0};
    uv_loop_t loop;
    http_client *cl;
    http_call *call;
    struct http_request req = {.method = "GET", .path = path, .timeout_ms = 2000};

    uv_loop_init(&loop);
    CHECK(http_client_new_tls(&loop, c->m[0].url, c->token, cluster_tls(c), &cl) == 0);
    CHECK(http_stream(cl, &req, &cbs, &col, &call) == 0);
    for (int i = 0; i < 20; i++) uv_run(&loop, UV_RUN_NOWAIT), test_sleep_ms(5);
    if (during) during();
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end && !col.ended) {
        uv_run(&loop, UV_RUN_NOWAIT);
        test_sleep_ms(2);
    }
    if (!col.ended) http_call_cancel(call);
    http_client_close(cl, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return col.text.data ? col.text.data : strdup("");
}

static struct cluster wc;

static void changes(void)
{
    int st;
    json_decref(t_json(&wc, 0, "POST", "/api/v1/namespaces/default/configmaps",
                       "{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}}}", &st));
    CHECK_INT(st, ==, 201);
    char *r = NULL;
    st = t_http(&wc, 0, "PATCH", "/api/v1/namespaces/default/configmaps/a",
                "application/merge-patch+json", "{\"data\":{\"k\":\"v\"}}", &r, NULL);
    free(r);
    CHECK_INT(st, ==, 200);
    st = t_http(&wc, 0, "PATCH", "/api/v1/namespaces/default/configmaps/a",
                "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"x\":\"2\"}}}", &r, NULL);
    free(r);
    json_decref(t_json(&wc, 0, "DELETE", "/api/v1/namespaces/default/configmaps/a", NULL, &st));
    CHECK_INT(st, ==, 200);
}

TEST(watch_reports_changes_in_order_and_by_selector)
{
    char path[200];
    cluster_init(&wc, 1);
    member_start(&wc, 0, false, NULL);
    member_wait_ready(&wc, 0, 5000);
    long long rev = member_revision(&wc, 0);
    snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%lld", rev);
    char *all = watch_for(&wc, path, 800, changes);
    const char *a = strstr(all, "\"ADDED\""), *m = a ? strstr(a, "\"MODIFIED\"") : NULL;
    const char *m2 = m ? strstr(m + 1, "\"MODIFIED\"") : NULL;
    const char *d = m2 ? strstr(m2, "\"DELETED\"") : NULL;
    CHECKF(a && m && m2 && d, "events: %s", all);
    free(all);
    /* Replaying from the same revision gives the same history. */
    char *again = watch_for(&wc, path, 300, NULL);
    CHECK(strstr(again, "\"DELETED\"") != NULL);
    free(again);
    /* With a selector, the label change reads as the object leaving. */
    rev = member_revision(&wc, 0);
    snprintf(path, sizeof path,
             "/api/v1/namespaces/default/configmaps?watch=1&labelSelector=x%%3D1&resourceVersion=%lld", rev);
    char *sel = watch_for(&wc, path, 800, changes);
    a = strstr(sel, "\"ADDED\"");
    m = a ? strstr(a, "\"MODIFIED\"") : NULL;
    d = m ? strstr(m, "\"DELETED\"") : NULL;
    CHECKF(a && m && d && strstr(d + 1, "\"DELETED\"") == NULL, "events: %s", sel);
    free(sel);
    /* Without a resourceVersion the current objects come first. */
    int st;
    json_decref(t_json(&wc, 0, "POST", "/api/v1/namespaces/default/configmaps",
                       "{\"metadata\":{\"name\":\"kept\"}}", &st));
    char *init = watch_for(&wc, "/api/v1/namespaces/default/configmaps?watch=1", 300, NULL);
    CHECKF(strstr(init, "\"ADDED\"") && strstr(init, "\"kept\""), "events: %s", init);
    free(init);
}

TEST(watch_from_a_compacted_revision_is_410)
{
    static const char *const small[] = {"--watch-history", "10", NULL};
    cluster_init(&wc, 1);
    member_start(&wc, 0, false, small);
    member_wait_ready(&wc, 0, 5000);
    for (int i = 0; i < 30; i++) {
        char body[100];
        int st;
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"c%d\"}}", i);
        json_decref(t_json(&wc, 0, "POST", "/api/v1/namespaces/default/configmaps", body, &st));
    }
    char *ev = watch_for(&wc, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2", 300, NULL);
    CHECKF(strstr(ev, "\"ERROR\"") && strstr(ev, "410"), "events: %s", ev);
    free(ev);
}
