/* watch.c — following a streamed answer until the server ends it, the user
 * interrupts (SIGINT/SIGTERM), or --request-timeout passes: a `?watch=1`
 * stream (newline-delimited JSON events, split here and handed to the
 * caller one by one) or raw bytes (a followed log). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

struct watch {
    cli_ctx *x;
    cli_watch_cb cb;
    cli_bytes_cb raw; /* raw bytes instead of events */
    void *arg;
    http_client *client;
    http_call *call;
    uv_signal_t sigint, sigterm;
    uv_timer_t timer;
    struct orc_buf line;    /* bytes of the event not yet ended by '\n' */
    struct orc_buf errbody; /* body of a refused watch */
    int status;             /* HTTP status of the reply */
    int result;             /* exit status */
    bool stopping;          /* canceled: ignore whatever still arrives */
};

static void stop(struct watch *w, int result)
{
    if (result != CLI_EXIT_OK) w->result = result;
    if (w->call && !w->stopping) http_call_cancel(w->call);
    w->stopping = true;
}

static void handle_event(struct watch *w, const char *text, size_t len)
{
    json_t *ev = orc_json_loadb(text, len, JSON_ALLOW_NUL, NULL);
    const char *type = orc_json_str(ev, "type");
    json_t *obj = json_object_get(ev, "object");

    if (type == NULL || !json_is_object(obj)) {
        fprintf(w->x->err, "error: the server sent an unreadable watch event\n");
        stop(w, CLI_EXIT_FAIL);
    } else if (strcmp(type, "ERROR") == 0) {
        int64_t code = 500;
        orc_json_int(obj, "code", &code);
        cli_print_failure(w->x, (int)code, obj);
        stop(w, CLI_EXIT_FAIL);
    } else if (strcmp(type, "BOOKMARK") != 0 && w->cb(w->arg, type, obj) != 0) {
        stop(w, CLI_EXIT_FAIL);
    }
    json_decref(ev);
}

static void on_head(void *arg, const struct http_response *resp)
{
    struct watch *w = arg;
    size_t it = 0;

    w->status = resp->status;
    for (const char *h; (h = http_header_next(resp, "warning", &it));) {
        struct orc_buf t = ORC_BUF_INIT;
        cli_warning_text(h, &t);
        fprintf(w->x->err, "Warning: %s\n", t.data ? t.data : "");
        orc_buf_free(&t);
    }
}

static void on_data(void *arg, const char *data, size_t len)
{
    struct watch *w = arg;
    size_t start = 0;
    char *nl;

    if (w->stopping) return;
    if (w->status != 200) {
        orc_buf_append(&w->errbody, data, len);
        return;
    }
    if (w->raw) {
        w->raw(w->arg, data, len);
        return;
    }
    if (orc_buf_append(&w->line, data, len) != 0) {
        stop(w, CLI_EXIT_FAIL);
        return;
    }
    while (!w->stopping && (nl = memchr(w->line.data + start, '\n', w->line.len - start)) != NULL) {
        size_t end = (size_t)(nl - w->line.data);
        if (end > start) handle_event(w, w->line.data + start, end - start);
        start = end + 1;
    }
    memmove(w->line.data, w->line.data + start, w->line.len - start);
    w->line.len -= start;
}

static void refused(struct watch *w)
{
    json_t *st = w->errbody.len ? orc_json_loadb(w->errbody.data, w->errbody.len, JSON_ALLOW_NUL, NULL) : NULL;

    cli_print_failure(w->x, w->status, st);
    json_decref(st);
    w->result = CLI_EXIT_FAIL;
}

static void on_end(void *arg, int err)
{
    struct watch *w = arg;

    w->call = NULL;
    if (w->status != 0 && w->status != 200) refused(w);
    else if (err != 0 && err != ORC_ECANCELED) {
        if (err == ORC_ETLS)
            snprintf(w->x->tls_err, sizeof w->x->tls_err, "%s", http_client_tls_error(w->client));
        cli_print_transport_error(w->x, err);
        w->result = CLI_EXIT_FAIL;
    }
    /* A clean end (the server's timeout) or an interrupt ends orctl too. */
    uv_signal_stop(&w->sigint);
    uv_signal_stop(&w->sigterm);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->sigint, NULL);
    uv_close((uv_handle_t *)&w->sigterm, NULL);
    uv_close((uv_handle_t *)&w->timer, NULL);
    http_client_close(w->client, NULL, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    stop(s->data, CLI_EXIT_OK);
}

static void on_timeout(uv_timer_t *t) { stop(t->data, CLI_EXIT_OK); }

static int start(struct watch *w, uv_loop_t *loop, const char *path, unsigned timeout_ms)
{
    static const struct http_stream_cbs cbs = {on_head, on_data, on_end};
    struct http_request req = {.method = "GET", .path = path};
    struct http_tls tls;
    int rv;

    uv_signal_init(loop, &w->sigint);
    uv_signal_init(loop, &w->sigterm);
    uv_timer_init(loop, &w->timer);
    w->sigint.data = w->sigterm.data = w->timer.data = w;
    if ((rv = http_client_new_tls(loop, w->x->server, w->x->token, cli_tls(w->x, &tls), &w->client))
        != 0)
        return rv;
    (void)http_client_set_servers(w->client, (const char *const *)w->x->servers, w->x->n_servers);
    if ((rv = http_stream(w->client, &req, &cbs, w, &w->call)) != 0) {
        http_client_close(w->client, NULL, NULL);
        return rv;
    }
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    if (timeout_ms) uv_timer_start(&w->timer, on_timeout, timeout_ms, 0);
    return 0;
}

static int follow(struct watch w, const char *path, unsigned timeout_ms)
{
    cli_ctx *x = w.x;
    uv_loop_t loop;
    int rv;

    if (uv_loop_init(&loop) != 0) {
        fprintf(x->err, "error: cannot start the event loop\n");
        return CLI_EXIT_FAIL;
    }
    if ((rv = start(&w, &loop, path, timeout_ms)) != 0) {
        uv_close((uv_handle_t *)&w.sigint, NULL);
        uv_close((uv_handle_t *)&w.sigterm, NULL);
        uv_close((uv_handle_t *)&w.timer, NULL);
        fprintf(x->err, "error: cannot watch: %s\n", orc_strerror(rv));
        w.result = CLI_EXIT_FAIL;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    orc_buf_free(&w.line);
    orc_buf_free(&w.errbody);
    return w.result;
}

int cli_watch(cli_ctx *x, const char *path, unsigned timeout_ms, cli_watch_cb cb, void *arg)
{
    return follow((struct watch){.x = x, .cb = cb, .arg = arg, .result = CLI_EXIT_OK}, path,
                  timeout_ms);
}

int cli_stream(cli_ctx *x, const char *path, unsigned timeout_ms, cli_bytes_cb cb, void *arg)
{
    return follow((struct watch){.x = x, .raw = cb, .arg = arg, .result = CLI_EXIT_OK}, path,
                  timeout_ms);
}

struct many_arg {
    cli_bytes_n_cb cb;
    void *arg;
    size_t i;
};

static void many_bytes(void *arg, const char *data, size_t len)
{
    struct many_arg *m = arg;
    m->cb(m->arg, m->i, data, len);
}

int cli_stream_many(cli_ctx *x, const char *const *paths, size_t n, unsigned timeout_ms, cli_bytes_n_cb cb,
                    void *arg)
{
    struct watch *w = calloc(n ? n : 1, sizeof *w);
    struct many_arg *m = calloc(n ? n : 1, sizeof *m);
    uv_loop_t loop;
    int result = CLI_EXIT_OK, rv;

    if (w == NULL || m == NULL || uv_loop_init(&loop) != 0) {
        fprintf(x->err, "error: cannot start the event loop\n");
        free(w);
        free(m);
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        m[i] = (struct many_arg){cb, arg, i};
        w[i] = (struct watch){.x = x, .raw = many_bytes, .arg = &m[i], .result = CLI_EXIT_OK};
        if ((rv = start(&w[i], &loop, paths[i], timeout_ms)) != 0) {
            uv_close((uv_handle_t *)&w[i].sigint, NULL);
            uv_close((uv_handle_t *)&w[i].sigterm, NULL);
            uv_close((uv_handle_t *)&w[i].timer, NULL);
            fprintf(x->err, "error: cannot follow: %s\n", orc_strerror(rv));
            w[i].result = CLI_EXIT_FAIL;
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (size_t i = 0; i < n; i++) {
        if (w[i].result != CLI_EXIT_OK) result = w[i].result;
        orc_buf_free(&w[i].line);
        orc_buf_free(&w[i].errbody);
    }
    free(w);
    free(m);
    return result;
}
