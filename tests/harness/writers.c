/* writers.c — the fault suite's retrying writers, for orc and for etcd. */
#include "tests/harness/writers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#define RETRY_DELAY_MS 20 /* between attempts, so a cluster that is all down is not spun on */

struct writer {
    struct writers *w;
    int id, seq, attempt, ep;
    bool maybe_applied; /* an earlier attempt of this write may have been applied */
    uint64_t sent_ms;
    uv_timer_t delay;
    struct orc_buf body;
};

struct writers_priv {
    uv_loop_t loop;
    uv_timer_t tick, probe;
    int probes;
    http_client *clients[WRITERS_MAX_EP];
    struct writer *ws;
    pthread_mutex_t mu;
    pthread_t thread;
    volatile int stop;
    int closing;
};

static int send_attempt(struct writer *wr);

static void name_of(const struct writer *wr, char *out, size_t n)
{
    if (wr->id < 0) snprintf(out, n, "p%d", wr->seq);
    else snprintf(out, n, "w%d-%d", wr->id, wr->seq);
}

/* ---- the two dialects ---- */

static int orc_body(struct writer *wr, struct http_request *req)
{
    char name[32];

    name_of(wr, name, sizeof name);
    req->method = "POST";
    req->path = "/api/v1/namespaces/default/configmaps";
    return orc_buf_printf(&wr->body,
                          "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
                          "\"data\":{\"attempt\":\"%d\"}}",
                          name, wr->attempt);
}

static int etcd_body(struct writer *wr, struct http_request *req)
{
    struct orc_buf key = ORC_BUF_INIT, val = ORC_BUF_INIT;
    char name[40], attempt[16];
    int rv;

    memcpy(name, "f/", 2);
    name_of(wr, name + 2, sizeof name - 2);
    snprintf(attempt, sizeof attempt, "%d", wr->attempt);
    rv = orc_base64_encode(name, strlen(name), false, &key);
    if (rv == 0) rv = orc_base64_encode(attempt, strlen(attempt), false, &val);
    if (rv == 0)
        rv = orc_buf_printf(&wr->body,
                            "{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\",\"createRevision\":\"0\"}],"
                            "\"success\":[{\"requestPut\":{\"key\":\"%s\",\"value\":\"%s\"}}]}",
                            key.data, key.data, val.data);
    orc_buf_free(&key);
    orc_buf_free(&val);
    req->method = "POST";
    req->path = "/v3/kv/txn";
    return rv;
}

enum outcome { CREATED, EXISTS, UNKNOWN, REFUSED, OTHER };

static enum outcome classify(const struct writers *w, int err, const struct http_response *r)
{
    if (err == ORC_EUNAVAIL || err == ORC_ETLS) return REFUSED;
    if (err != 0 || r->status >= 500) return UNKNOWN;
    if (w->dialect == WRITERS_ORC) {
        if (r->status == 201) return CREATED;
        return r->status == 409 ? EXISTS : OTHER;
    }
    if (r->status != 200) return OTHER;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    enum outcome o = j == NULL ? OTHER : json_is_true(json_object_get(j, "succeeded")) ? CREATED : EXISTS;
    json_decref(j);
    return o;
}

static void count_status(struct writers_stats *st, const struct writer *wr, int err,
                         const struct http_response *r)
{
    unsigned waited = (unsigned)(test_now_ms() - wr->sent_ms);

    if (waited > st->max_wait_ms[wr->ep]) st->max_wait_ms[wr->ep] = waited;
    if (err != 0 || wr->id < 0) return; /* the status counts are the writers' */
    if (r->status == 500) st->status_500++;
    else if (r->status == 503) st->status_503++;
    else if (r->status == 504) st->status_504++;
}

/* ---- one writer ---- */

static void record_ack(struct writer *wr, int attempt)
{
    struct writers *w = wr->w;
    struct writers_priv *p = w->priv;

    pthread_mutex_lock(&p->mu);
    if (w->n_acks == w->cap_acks) {
        size_t cap = w->cap_acks ? w->cap_acks * 2 : 4096;
        struct writers_ack *a = realloc(w->acks, cap * sizeof *a);
        if (a == NULL) abort();
        w->acks = a;
        w->cap_acks = cap;
    }
    w->acks[w->n_acks++] = (struct writers_ack){wr->id, wr->seq, attempt, wr->sent_ms, test_now_ms()};
    pthread_mutex_unlock(&p->mu);
}

static void next_write(struct writer *wr)
{
    wr->seq++;
    wr->attempt = 0;
    wr->maybe_applied = false;
}

static void on_delay(uv_timer_t *t)
{
    struct writer *wr = t->data;
    struct writers_priv *p = wr->w->priv;

    if (!p->stop) send_attempt(wr);
}

static void retry_later(struct writer *wr)
{
    wr->attempt++;
    wr->ep = (wr->ep + 1) % wr->w->n_ep;
    uv_timer_start(&wr->delay, on_delay, RETRY_DELAY_MS, 0);
}

/* A probe is answered once: acknowledged, or not. */
static void probe_done(struct writer *wr, int err, const struct http_response *r)
{
    struct writers *w = wr->w;
    struct writers_priv *p = w->priv;

    if (!(err == ORC_ECANCELED && p->stop)) {
        enum outcome o = classify(w, err, r);
        count_status(&w->st, wr, err, r);
        w->st.probes++;
        if (o == CREATED) {
            w->st.probes_acked++;
            record_ack(wr, 0);
        }
        if (o == EXISTS) {
            w->duplicated++;
            fprintf(stderr, "# probe p%d: already exists, but was never sent before\n", wr->seq);
        }
    }
    orc_buf_free(&wr->body);
    free(wr);
}

static void on_reply(void *arg, int err, const struct http_response *r)
{
    struct writer *wr = arg;
    struct writers *w = wr->w;
    struct writers_priv *p = w->priv;
    enum outcome o;

    if (wr->id < 0) {
        probe_done(wr, err, r);
        return;
    }
    if (err == ORC_ECANCELED && p->stop) return;
    o = classify(w, err, r);
    count_status(&w->st, wr, err, r);
    switch (o) {
    case CREATED:
        w->st.created++;
        record_ack(wr, wr->attempt);
        next_write(wr);
        break;
    case EXISTS:
        w->st.exists++;
        if (wr->maybe_applied) {
            record_ack(wr, -1);
        } else {
            w->duplicated++;
            fprintf(stderr, "# w%d-%d: already exists, but was never sent before\n", wr->id, wr->seq);
        }
        next_write(wr);
        break;
    case UNKNOWN:
        w->st.unknown++;
        wr->maybe_applied = true;
        retry_later(wr);
        return;
    case REFUSED:
        w->st.refused++;
        retry_later(wr);
        return;
    case OTHER:
        w->st.other++;
        fprintf(stderr, "# w%d-%d: unexpected HTTP %d: %.200s\n", wr->id, wr->seq, r->status,
                r->body ? r->body : "");
        next_write(wr);
        break;
    }
    if (!p->stop) send_attempt(wr);
}

static int send_attempt(struct writer *wr)
{
    struct writers *w = wr->w;
    struct writers_priv *p = w->priv;
    struct http_request req = {0};
    int rv;

    orc_buf_reset(&wr->body);
    if ((w->dialect == WRITERS_ORC ? orc_body(wr, &req) : etcd_body(wr, &req)) != 0) abort();
    req.content_type = "application/json";
    req.body = wr->body.data;
    req.body_len = wr->body.len;
    req.timeout_ms = w->attempt_timeout_ms ? w->attempt_timeout_ms : 8000;
    wr->sent_ms = test_now_ms();
    if (wr->id < 0) return http_request(p->clients[wr->ep], &req, on_reply, wr, NULL);
    w->st.attempts++;
    if ((rv = http_request(p->clients[wr->ep], &req, on_reply, wr, NULL)) != 0) {
        w->st.refused++;
        retry_later(wr);
    }
    return rv;
}

static void on_probe(uv_timer_t *t)
{
    struct writers *w = t->data;
    struct writers_priv *p = w->priv;
    struct writer *wr;

    if (p->stop || (wr = calloc(1, sizeof *wr)) == NULL) return;
    *wr = (struct writer){.w = w, .id = -1, .seq = p->probes, .ep = p->probes % w->n_ep,
                          .body = ORC_BUF_INIT};
    p->probes++;
    if (send_attempt(wr) != 0) {
        orc_buf_free(&wr->body);
        free(wr);
    }
}

/* ---- the thread ---- */

static void on_tick(uv_timer_t *t)
{
    struct writers *w = t->data;
    struct writers_priv *p = w->priv;

    if (!p->stop || p->closing) return;
    p->closing = 1;
    uv_close((uv_handle_t *)t, NULL);
    uv_close((uv_handle_t *)&p->probe, NULL);
    for (int i = 0; i < w->count; i++) uv_close((uv_handle_t *)&p->ws[i].delay, NULL);
    for (int i = 0; i < w->n_ep; i++) http_client_close(p->clients[i], NULL, NULL);
}

static void *writers_main(void *arg)
{
    struct writers *w = arg;
    struct writers_priv *p = w->priv;

    for (int i = 0; i < w->count; i++) send_attempt(&p->ws[i]);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    return NULL;
}

void writers_start(struct writers *w, int count)
{
    struct writers_priv *p = calloc(1, sizeof *p);

    CHECK(p != NULL && w->n_ep > 0 && w->n_ep <= WRITERS_MAX_EP);
    w->priv = p;
    w->count = count;
    CHECK(uv_loop_init(&p->loop) == 0);
    pthread_mutex_init(&p->mu, NULL);
    uv_timer_init(&p->loop, &p->tick);
    p->tick.data = w;
    uv_timer_start(&p->tick, on_tick, 20, 20);
    uv_timer_init(&p->loop, &p->probe);
    p->probe.data = w;
    uv_timer_start(&p->probe, on_probe, WRITERS_PROBE_MS, WRITERS_PROBE_MS);
    for (int i = 0; i < w->n_ep; i++)
        CHECK(http_client_new_tls(&p->loop, w->url[i], w->token, w->tls, &p->clients[i]) == 0);
    p->ws = calloc((size_t)count, sizeof *p->ws);
    CHECK(p->ws != NULL);
    for (int i = 0; i < count; i++) {
        p->ws[i] = (struct writer){.w = w, .id = i, .ep = i % w->n_ep, .body = ORC_BUF_INIT};
        uv_timer_init(&p->loop, &p->ws[i].delay);
        p->ws[i].delay.data = &p->ws[i];
    }
    CHECK(pthread_create(&p->thread, NULL, writers_main, w) == 0);
}

void writers_stop(struct writers *w)
{
    struct writers_priv *p = w->priv;

    if (p == NULL || p->stop) return;
    p->stop = 1;
    pthread_join(p->thread, NULL);
    uv_loop_close(&p->loop);
}

void writers_free(struct writers *w)
{
    struct writers_priv *p = w->priv;

    if (p == NULL) return;
    writers_stop(w);
    for (int i = 0; i < w->count; i++) orc_buf_free(&p->ws[i].body);
    free(p->ws);
    pthread_mutex_destroy(&p->mu);
    free(p);
    w->priv = NULL;
    free(w->acks);
    w->acks = NULL;
    w->n_acks = w->cap_acks = 0;
}

size_t writers_acks_after(struct writers *w, uint64_t t, uint64_t *first)
{
    struct writers_priv *p = w->priv;
    size_t n = 0;
    uint64_t best = UINT64_MAX;

    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < w->n_acks; i++) {
        if (w->acks[i].sent_ms < t) continue;
        n++;
        if (w->acks[i].done_ms < best) best = w->acks[i].done_ms;
    }
    pthread_mutex_unlock(&p->mu);
    if (first && n > 0) *first = best;
    return n;
}

/* ---- verification ---- */

static int add_stored(struct writers_stored **out, size_t *n, size_t *cap, const char *name,
                      const char *attempt)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        struct writers_stored *s = realloc(*out, c * sizeof *s);
        if (s == NULL) return -1;
        *out = s;
        *cap = c;
    }
    snprintf((*out)[*n].name, sizeof (*out)[*n].name, "%s", name);
    (*out)[*n].attempt = attempt ? atoi(attempt) : -1;
    (*n)++;
    return 0;
}

static int parse_orc_list(json_t *list, struct writers_stored **out, size_t *n)
{
    size_t cap = 0, i;
    json_t *it;

    json_array_foreach(json_object_get(list, "items"), i, it) {
        const char *name = orc_json_str(it, "metadata.name");
        if (name && add_stored(out, n, &cap, name, orc_json_str(it, "data.attempt")) != 0) return -1;
    }
    return 0;
}

static char *b64dec(const char *s)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (s == NULL || orc_base64_decode(s, strlen(s), false, &b) != 0) {
        orc_buf_free(&b);
        return NULL;
    }
    orc_buf_append(&b, "", 0);
    return b.data;
}

static int parse_etcd_range(json_t *r, struct writers_stored **out, size_t *n)
{
    size_t cap = 0, i;
    json_t *kv;
    int rv = 0;

    json_array_foreach(json_object_get(r, "kvs"), i, kv) {
        char *k = b64dec(orc_json_str(kv, "key")), *v = b64dec(orc_json_str(kv, "value"));
        if (k && strncmp(k, "f/", 2) == 0) rv = add_stored(out, n, &cap, k + 2, v);
        free(k);
        free(v);
        if (rv != 0) break;
    }
    return rv;
}

int writers_fetch(struct writers *w, int ep, struct writers_stored **out, size_t *n)
{
    struct http_request req = {0};
    struct http_response r = {0};
    /* etcd: every key from "f/" up to "f0" ('/' + 1), linearizable by default. */
    static const char range[] = "{\"key\":\"Zi8=\",\"range_end\":\"ZjA=\"}";
    int rv = -1;

    *out = NULL;
    *n = 0;
    if (w->dialect == WRITERS_ORC) {
        req.method = "GET";
        req.path = "/api/v1/namespaces/default/configmaps";
    } else {
        req.method = "POST";
        req.path = "/v3/kv/range";
        req.content_type = "application/json";
        req.body = range;
        req.body_len = sizeof range - 1;
    }
    req.timeout_ms = 30000;
    int err = http_sync_request_tls(w->url[ep], w->token, w->tls, &req, &r, NULL);
    if (err != 0 || r.status != 200) {
        fprintf(stderr, "# listing through %s: %s HTTP %d %.*s\n", w->url[ep],
                err ? orc_strerror(err) : "", r.status, r.body ? (int)(r.body_len > 400 ? 400 : r.body_len) : 0,
                r.body ? r.body : "");
        http_response_free(&r);
        return -1;
    }
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    if (j != NULL)
        rv = w->dialect == WRITERS_ORC ? parse_orc_list(j, out, n) : parse_etcd_range(j, out, n);
    json_decref(j);
    http_response_free(&r);
    return rv;
}

static int cmp_stored(const void *a, const void *b)
{
    return strcmp(((const struct writers_stored *)a)->name, ((const struct writers_stored *)b)->name);
}

size_t writers_lost(const struct writers *w, const struct writers_stored *s, size_t n)
{
    struct writers_stored *sorted = malloc((n ? n : 1) * sizeof *sorted);
    size_t lost = 0;

    CHECK(sorted != NULL);
    memcpy(sorted, s, n * sizeof *s);
    qsort(sorted, n, sizeof *sorted, cmp_stored);
    for (size_t i = 0; i < w->n_acks; i++) {
        const struct writers_ack *a = &w->acks[i];
        struct writers_stored key;
        if (a->writer < 0) snprintf(key.name, sizeof key.name, "p%d", a->seq);
        else snprintf(key.name, sizeof key.name, "w%d-%d", a->writer, a->seq);
        const struct writers_stored *hit = bsearch(&key, sorted, n, sizeof *sorted, cmp_stored);
        if (hit != NULL && (a->attempt < 0 || hit->attempt == a->attempt)) continue;
        if (lost++ < 5)
            fprintf(stderr, "# lost: %s (answered for attempt %d) %s\n", key.name, a->attempt,
                    hit ? "is stored from another attempt" : "is not stored");
    }
    free(sorted);
    return lost;
}
