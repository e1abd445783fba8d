/* http_sync.c — blocking requests for command-line tools: a private loop
 * and client per call, and a reply copied into one block the caller frees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http_int.h"
#include "lib/orc.h"

struct sync_ctx {
    int done;
    int err;
    struct http_response *out;
};

/* Layout: header array, then "name\0value\0" strings, then the body + NUL.
 * `headers` points at the block, so it is what http_response_free frees. */
static int response_copy(const struct http_response *r, struct http_response *out)
{
    size_t size = r->n_headers * sizeof(struct http_header) + r->body_len + 1;
    struct http_header *h;
    char *p;

    for (size_t i = 0; i < r->n_headers; i++)
        size += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 2;
    h = malloc(size);
    if (h == NULL) return ORC_ENOMEM;
    p = (char *)(h + r->n_headers);
    for (size_t i = 0; i < r->n_headers; i++) {
        size_t nl = strlen(r->headers[i].name) + 1, vl = strlen(r->headers[i].value) + 1;
        h[i].name = memcpy(p, r->headers[i].name, nl);
        h[i].value = memcpy(p + nl, r->headers[i].value, vl);
        p += nl + vl;
    }
    if (r->body_len > 0) memcpy(p, r->body, r->body_len);
    p[r->body_len] = '\0';
    out->status = r->status;
    out->headers = h;
    out->n_headers = r->n_headers;
    out->body = p;
    out->body_len = r->body_len;
    return 0;
}

static void on_sync_reply(void *arg, int err, const struct http_response *resp)
{
    struct sync_ctx *ctx = arg;

    ctx->done = 1;
    ctx->err = err ? err : response_copy(resp, ctx->out);
}

int http_sync_request(const char *base_url, const char *bearer_token,
                      const struct http_request *req, struct http_response *out)
{
    return http_sync_request_tls(base_url, bearer_token, NULL, req, out, NULL);
}

int http_sync_request_tls(const char *base_url, const char *bearer_token,
                          const struct http_tls *tls, const struct http_request *req,
                          struct http_response *out, char *errmsg)
{
    struct sync_ctx ctx = {0, 0, out};
    http_client *c = NULL;
    uv_loop_t loop;
    int rv;

    if (out == NULL) return ORC_EINVAL;
    memset(out, 0, sizeof *out);
    if (errmsg) errmsg[0] = '\0';
    if (uv_loop_init(&loop) != 0) return ORC_EIO;
    rv = http_client_new_tls(&loop, base_url, bearer_token, tls, &c);
    if (rv != 0) goto done;
    rv = http_request(c, req, on_sync_reply, &ctx, NULL);
    if (rv == 0) {
        /* Returns once the call is over: idle sockets do not hold the loop. */
        uv_run(&loop, UV_RUN_DEFAULT);
        rv = ctx.done ? ctx.err : ORC_EIO;
        if (rv == ORC_ETLS && errmsg) snprintf(errmsg, ORC_TLS_ERRLEN, "%s", http_client_tls_error(c));
    }
    http_client_close(c, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
done:
    if (uv_loop_close(&loop) != 0 && rv == 0) rv = ORC_EIO;
    if (rv != 0) http_response_free(out);
    return rv;
}

void http_response_free(struct http_response *r)
{
    if (r == NULL) return;
    free((void *)r->headers);
    memset(r, 0, sizeof *r);
}
