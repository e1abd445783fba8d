/* podstream.c — pods/{name}/exec and attach with a WebSocket upgrade
 * (kubectl exec, cp), and portforward with a SPDY/3.1 one (plain, or
 * inside a WebSocket): the API server opens a tunnel to the node agent
 * (client/tunnel.h), sends it the client's upgrade request re-addressed
 * (the agent's path, the cluster token), and once the agent answers 101
 * relays bytes both ways without reading them: the WebSocket (or SPDY) is
 * between kubectl and the agent. An agent's refusal is answered as the
 * agent gave it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/server.h"
#include "client/tunnel.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/ws.h"

#define MAX_HEAD (64u * 1024) /* the agent's answer head (and a refusal's body) */
#define OUT_HIGH (1u << 20)   /* output waiting for the client before the agent is paused */
#define ANSWER_MS 15000       /* to the agent's answer head, as for logs */

struct stream_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    http_tunnel *t;
    struct orc_buf head; /* the agent's answer until it is a 101 */
    uv_timer_t *timer;   /* to the agent's answer; its own allocation (closed after op) */
    bool upgraded, ended;
};

static void on_timer_closed(uv_handle_t *h) { free(h); }

static void timer_stop(struct stream_op *op)
{
    if (op->timer == NULL) return;
    uv_close((uv_handle_t *)op->timer, on_timer_closed);
    op->timer = NULL;
}

static void op_free(void *p)
{
    struct stream_op *op = p;

    timer_stop(op);
    if (op->t) http_tunnel_close(op->t);
    orc_buf_free(&op->head);
    api_release(op->s);
    free(op);
}

static void fail(struct stream_op *op, int code, const char *why)
{
    if (op->ended) return;
    op->ended = true;
    if (op->upgraded) orc_httpd_tunnel_end(op->r);
    else api_respond_status(op->r, code, code == 502 ? "InternalError" : code == 504 ? "Timeout" : "ServiceUnavailable",
                            NULL, NULL, NULL,
                            "the node agent did not answer: %s", why);
}

/* ---- client to agent ---- */

static void on_input(struct orc_httpd_req *r, const char *data, size_t len)
{
    struct stream_op *op = r->op;

    if (op->t && http_tunnel_write(op->t, data, len) == 1) orc_httpd_tunnel_pause(r, true);
}

static void on_agent_drain(void *arg)
{
    struct stream_op *op = arg;
    if (!op->ended) orc_httpd_tunnel_pause(op->r, false);
}

/* ---- agent to client ---- */

static void on_client_drain(struct orc_httpd_req *r)
{
    struct stream_op *op = r->op;

    r->on_drain = NULL;
    if (op->t) http_tunnel_pause(op->t, false);
}

static void relay(struct stream_op *op, const char *data, size_t len)
{
    if (orc_httpd_tunnel_write(op->r, data, len) != 0) {
        fail(op, 502, "the client is gone");
        return;
    }
    if (orc_httpd_stream_pending(op->r) > OUT_HIGH) {
        http_tunnel_pause(op->t, true);
        op->r->on_drain = on_client_drain;
    }
}

/* A refusal: its status and (Content-Length) body once whole. */
static void answer_refusal(struct stream_op *op, int status, size_t head_len)
{
    const char *cl = NULL;
    size_t body_len = 0;

    for (const char *p = op->head.data; p && p < op->head.data + head_len; p = strstr(p + 1, "\r\n"))
        if (strncasecmp(p, "\r\ncontent-length:", 17) == 0) cl = p + 17;
    if (cl) body_len = strtoul(cl, NULL, 10);
    if (body_len > MAX_HEAD || op->head.len < head_len + body_len) return; /* more to come */
    op->ended = true;
    orc_httpd_respond(op->r, status, "application/json", op->head.data + head_len, body_len, NULL);
}

static void on_agent_data(void *arg, const char *data, size_t len)
{
    struct stream_op *op = arg;
    const char *end;
    int status = 0;

    if (op->ended) return;
    if (op->upgraded) {
        relay(op, data, len);
        return;
    }
    if (op->head.len + len > MAX_HEAD || orc_buf_append(&op->head, data, len) != 0) {
        fail(op, 502, "its answer is too large");
        return;
    }
    if ((end = strstr(op->head.data, "\r\n\r\n")) == NULL) return;
    if (sscanf(op->head.data, "HTTP/1.1 %d", &status) != 1 || status < 100 || status > 599) {
        fail(op, 502, "its answer is not HTTP");
        return;
    }
    if (status != 101) {
        answer_refusal(op, status, (size_t)(end + 4 - op->head.data));
        return;
    }
    op->upgraded = true;
    timer_stop(op);
    if (orc_httpd_tunnel_begin(op->r, op->head.data, op->head.len, on_input) != 0) op->ended = true;
    orc_buf_free(&op->head);
}

static void on_agent_end(void *arg, int err)
{
    struct stream_op *op = arg;

    fail(op, err == ORC_EUNAVAIL ? 503 : 502, err ? orc_strerror(err) : "it closed the connection");
}

static void on_gone(struct orc_httpd_req *r)
{
    struct stream_op *op = r->op;

    if (op->t) http_tunnel_close(op->t); /* the agent sees the end and stops the command */
    op->t = NULL;
    op->ended = true;
    orc_httpd_tunnel_end(r); /* only frees the request: it is gone */
}

static void on_timeout(uv_timer_t *t)
{
    struct stream_op *op = t->data;

    fail(op, 504, "no answer in 15 s"); /* ends the request: op_free closes the tunnel */
}

/* ---- the request to the agent ---- */

/* portforward's SPDY/3.1 upgrade: the protocol version asked for goes on. */
static int build_spdy_head(struct stream_op *op, const char *url, const char *path, struct orc_buf *out)
{
    const char *ver = orc_httpd_req_header(op->r, "x-stream-protocol-version");

    return orc_buf_printf(out,
                          "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                          "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n%s%s%s\r\n",
                          path, url + strlen("https://"), op->s->agent_port_token,
                          ver ? "X-Stream-Protocol-Version: " : "", ver ? ver : "", ver ? "\r\n" : "");
}

static int build_head(struct stream_op *op, const char *url, const char *path, struct orc_buf *out)
{
    struct orc_httpd_req *r = op->r;

    if (orc_ws_has_token(orc_httpd_req_header(r, "upgrade"), "SPDY/3.1")) return build_spdy_head(op, url, path, out);
    const char *proto = orc_httpd_req_header(r, "sec-websocket-protocol");
    const char *key = orc_httpd_req_header(r, "sec-websocket-key");
    const char *ver = orc_httpd_req_header(r, "sec-websocket-version");
    const char *up = orc_httpd_req_header(r, "upgrade");

    return orc_buf_printf(out,
                          "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                          "Connection: Upgrade\r\nUpgrade: %s\r\nSec-WebSocket-Version: %s\r\n"
                          "Sec-WebSocket-Key: %s\r\n%s%s%s\r\n",
                          path, url + strlen("https://"), op->s->agent_port_token, up ? up : "",
                          ver ? ver : "", key ? key : "", proto ? "Sec-WebSocket-Protocol: " : "",
                          proto ? proto : "", proto ? "\r\n" : "");
}

void api_pod_stream(struct api_server *s, struct orc_httpd_req *r, const char *url, const char *path)
{
    static const struct http_tunnel_cbs cbs = {on_agent_data, on_agent_drain, on_agent_end};
    struct orc_buf head = ORC_BUF_INIT;
    struct stream_op *op = calloc(1, sizeof *op);
    int rv;

    if (op == NULL) {
        api_respond_error(r, ORC_ENOMEM, "proxying");
        return;
    }
    op->s = s;
    op->r = r;
    api_hold(s);
    r->op = op;
    r->op_free = op_free;
    r->on_gone = on_gone;
    rv = build_head(op, url, path, &head);
    if (rv == 0) {
        struct http_tunnel_opts o = {.url = url, .ca_pem = s->ca_pem};
        rv = http_tunnel_open(s->loop, &o, head.data, head.len, &cbs, op, &op->t);
    }
    if (head.data) explicit_bzero(head.data, head.cap); /* it holds the token */
    orc_buf_free(&head);
    if (rv == 0 && (op->timer = malloc(sizeof *op->timer)) != NULL) {
        uv_timer_init(s->loop, op->timer);
        op->timer->data = op;
        uv_timer_start(op->timer, on_timeout, ANSWER_MS, 0);
    }
    if (rv != 0) fail(op, 503, orc_strerror(rv));
}
