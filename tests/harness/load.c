/* load.c — the concurrent writer load used by the fault-tolerance tests. */
#include "tests/harness/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "lib/json.h"
#include "tests/harness/test.h"

struct writer {
    struct load *l;
    int id;
    int seq;
    int member;
    uint64_t sent;
    char body[256];
};

struct load_priv {
    uv_loop_t loop;
    uv_timer_t tick;
    http_client *clients[CLUSTER_MAX];
    struct writer *w;
    pthread_mutex_t mu;
    int closing;
};

static void send_next(struct writer *w);

static void record_ack(struct load *l, const struct writer *w, const char *name)
{
    struct load_priv *p = l->priv;

    pthread_mutex_lock(&p->mu);
    if (l->n_acks == l->cap_acks) {
        l->cap_acks = l->cap_acks ? l->cap_acks * 2 : 1024;
        l->acks = realloc(l->acks, l->cap_acks * sizeof *l->acks);
    }
    struct load_ack *a = &l->acks[l->n_acks++];
    snprintf(a->name, sizeof a->name, "%s", name);
    a->writer = w->id;
    a->seq = w->seq;
    a->sent_ms = w->sent;
    a->done_ms = test_now_ms();
    pthread_mutex_unlock(&p->mu);
}

static void on_reply(void *arg, int err, const struct http_response *r)
{
    struct writer *w = arg;
    struct load *l = w->l;
    json_t *obj = NULL;

    if (err == 0 && r->status == 201) obj = json_loadb(r->body, r->body_len, 0, NULL);
    if (obj && orc_json_str(obj, "metadata.name")) {
        record_ack(l, w, orc_json_str(obj, "metadata.name"));
    } else {
        l->n_failed++;
        w->member = (w->member + 1) % l->c->n; /* try another member */
    }
    json_decref(obj);
    w->seq++;
    if (!l->stop) send_next(w);
}

static void send_next(struct writer *w)
{
    struct load_priv *p = w->l->priv;
    struct http_request req = {0};

    snprintf(w->body, sizeof w->body,
             "{\"metadata\":{\"generateName\":\"w%d-\"},\"data\":{\"writer\":\"%d\",\"seq\":\"%d\"}}",
             w->id, w->id, w->seq);
    req.method = "POST";
    char path[128];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", w->l->ns ? w->l->ns : "default");
    req.path = path;
    req.content_type = "application/json";
    req.body = w->body;
    req.body_len = strlen(w->body);
    req.timeout_ms = 8000;
    w->sent = test_now_ms();
    if (http_request(p->clients[w->member], &req, on_reply, w, NULL) != 0) {
        w->member = (w->member + 1) % w->l->c->n;
        w->l->n_failed++;
    }
}

static void on_tick(uv_timer_t *t)
{
    struct load *l = t->data;
    struct load_priv *p = l->priv;

    if (!l->stop || p->closing) return;
    p->closing = 1;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    for (int i = 0; i < l->c->n; i++) http_client_close(p->clients[i], NULL, NULL);
}

static void *load_main(void *arg)
{
    struct load *l = arg;
    struct load_priv *p = l->priv;

    for (int i = 0; i < l->writers; i++) send_next(&p->w[i]);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    return NULL;
}

void load_start(struct load *l, struct cluster *c, int writers)
{
    struct load_priv *p = calloc(1, sizeof *p);

    l->c = c;
    l->writers = writers;
    l->priv = p;
    uv_loop_init(&p->loop);
    pthread_mutex_init(&p->mu, NULL);
    uv_timer_init(&p->loop, &p->tick);
    p->tick.data = l;
    uv_timer_start(&p->tick, on_tick, 20, 20);
    for (int i = 0; i < c->n; i++)
        CHECK(http_client_new_tls(&p->loop, c->m[i].url, c->token, cluster_tls(c), &p->clients[i]) == 0);
    p->w = calloc((size_t)writers, sizeof *p->w);
    for (int i = 0; i < writers; i++) {
        p->w[i].l = l;
        p->w[i].id = i;
        p->w[i].member = i % c->n;
    }
    CHECK(pthread_create(&l->thread, NULL, load_main, l) == 0);
}

void load_stop(struct load *l)
{
    struct load_priv *p = l->priv;

    l->stop = 1;
    pthread_join(l->thread, NULL);
    uv_loop_close(&p->loop);
}

void load_free(struct load *l)
{
    struct load_priv *p = l->priv;
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    free(p);
    free(l->acks);
    l->acks = NULL;
}

size_t load_acked(struct load *l)
{
    struct load_priv *p = l->priv;
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = l->n_acks;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const struct load_ack *load_first_ack_after(const struct load *l, uint64_t t)
{
    const struct load_ack *best = NULL;
    for (size_t i = 0; i < l->n_acks; i++)
        if (l->acks[i].sent_ms >= t && (best == NULL || l->acks[i].done_ms < best->done_ms))
            best = &l->acks[i];
    return best;
}

void load_verify(const struct load *l, int member)
{
    int st;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps?resourceVersion=0",
             l->ns ? l->ns : "default");
    json_t *list = t_json(l->c, member, "GET", path, NULL, &st);
    json_t *items = json_object_get(list, "items"), *it;
    size_t n = json_array_size(items), i;
    /* marker -> count, as a dense table over (writer, seq) */
    int max_seq = 0;
    for (i = 0; i < l->n_acks; i++) if (l->acks[i].seq > max_seq) max_seq = l->acks[i].seq;
    json_array_foreach(items, i, it) {
        const char *s = orc_json_str(it, "data.seq");
        if (s && atoi(s) > max_seq) max_seq = atoi(s);
    }
    size_t cells = (size_t)l->writers * (size_t)(max_seq + 1);
    unsigned char *seen = calloc(cells, 1);
    char **names = calloc(cells, sizeof *names);

    CHECKF(st == 200, "listing on member %d: HTTP %d", member, st);
    json_array_foreach(items, i, it) {
        const char *ws = orc_json_str(it, "data.writer"), *ss = orc_json_str(it, "data.seq");
        if (ws == NULL || ss == NULL) continue;
        size_t cell = (size_t)atoi(ws) * (size_t)(max_seq + 1) + (size_t)atoi(ss);
        CHECKF(cell < cells, "marker out of range");
        CHECKF(seen[cell] == 0, "write w%s seq %s stored twice on member %d", ws, ss, member);
        seen[cell] = 1;
        names[cell] = (char *)orc_json_str(it, "metadata.name");
    }
    for (i = 0; i < l->n_acks; i++) {
        size_t cell = (size_t)l->acks[i].writer * (size_t)(max_seq + 1) + (size_t)l->acks[i].seq;
        CHECKF(seen[cell], "acknowledged write %s (w%d seq %d) missing on member %d (%zu stored)",
               l->acks[i].name, l->acks[i].writer, l->acks[i].seq, member, n);
        CHECKF(strcmp(names[cell], l->acks[i].name) == 0, "acknowledged %s stored as %s",
               l->acks[i].name, names[cell]);
    }
    free(seen);
    free(names);
    json_decref(list);
}
