/* httpd_parse.c — requests from bytes (llhttp), with orc's limits and the
 * authorization check at headers-complete; no sockets here (see
 * httpd_parse.h). */
#include "lib/httpd_parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/orc.h"

/* ---- requests ---- */

void orc_httpd_req_free(struct orc_httpd_req *r)
{
    if (r == NULL) return;
    if (r->on_done) r->on_done(r);
    if (r->on_end) r->on_end(r);
    if (r->op_free) r->op_free(r->op);
    if (r->state_free) r->state_free(r->state);
    if (r->user_free) r->user_free(r->user);
    free(r->target);
    for (int i = 0; i < r->n_headers; i++) {
        /* the Authorization header carries the token */
        if (r->headers[i].value) explicit_bzero(r->headers[i].value, strlen(r->headers[i].value));
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    orc_buf_free(&r->body);
    orc_buf_free(&r->warnings);
    free(r);
}

/* Compares in time independent of where the first difference is. */
static bool token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);

    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

const char *orc_httpd_req_header(const struct orc_httpd_req *r, const char *lower_name)
{
    for (int i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, lower_name) == 0) return r->headers[i].value;
    return NULL;
}

bool orc_httpd_req_bearer_is(const struct orc_httpd_req *r, const char *token)
{
    const char *h = orc_httpd_req_header(r, "authorization");

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) return false;
    h += 7;
    while (*h == ' ') h++;
    return token_equal(h, token);
}

/* ---- llhttp callbacks ---- */

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct orc_httpd_req *cur_req(llhttp_t *l)
{
    struct orc_httpd_parser *p = l->data;

    if (p->cur == NULL) {
        p->cur = calloc(1, sizeof *p->cur);
        if (p->cur == NULL) return NULL;
        p->cur->start_ms = uv_hrtime() / 1000000;
        p->cur->received_us = wall_us();
    }
    return p->cur;
}

static int fail(struct orc_httpd_parser *p, int status)
{
    p->error = status;
    return -1;
}

/* Counts bytes of the head; too many make the request 431. */
static int head_add(struct orc_httpd_parser *p, size_t len)
{
    p->head_bytes += len;
    return p->head_bytes > ORC_HTTPD_MAX_HEAD ? fail(p, 431) : 0;
}

static int on_message_begin(llhttp_t *l) { return cur_req(l) ? 0 : -1; }

static int on_url(llhttp_t *l, const char *at, size_t len)
{
    struct orc_httpd_parser *p = l->data;
    struct orc_httpd_req *r = cur_req(l);
    size_t old;
    char *t;

    if (r == NULL) return -1;
    old = r->target ? strlen(r->target) : 0;
    if (old + len > ORC_HTTPD_MAX_URL) return fail(p, 414);
    if (head_add(p, len) != 0) return -1;
    if (memchr(at, '\0', len) != NULL) return fail(p, 400);
    t = realloc(r->target, old + len + 1);
    if (t == NULL) return -1;
    memcpy(t + old, at, len);
    t[old + len] = '\0';
    r->target = t;
    return 0;
}

static int on_header_field(llhttp_t *l, const char *at, size_t len)
{
    struct orc_httpd_parser *p = l->data;

    if (head_add(p, len) != 0) return -1;
    return orc_buf_append(&p->hfield, at, len);
}

static int on_header_value(llhttp_t *l, const char *at, size_t len)
{
    struct orc_httpd_parser *p = l->data;

    if (head_add(p, len) != 0) return -1;
    return orc_buf_append(&p->hvalue, at, len);
}

/* RFC 9110 tchar: what a header name may hold (llhttp lets a space in). */
static bool token(const char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' || strchr(extra, s[i]) == NULL)) return false;
    return true;
}

static int on_header_value_complete(llhttp_t *l)
{
    struct orc_httpd_parser *p = l->data;
    struct orc_httpd_req *r = cur_req(l);
    struct orc_httpd_header *h;
    size_t vlen = p->hvalue.len;

    if (r == NULL) return -1;
    if (r->n_headers == ORC_HTTPD_MAX_HEADERS) return fail(p, 431);
    if (head_add(p, 4) != 0) return -1; /* ": " and CRLF */
    /* A NUL would cut the value short of what was sent. */
    if (vlen && memchr(p->hvalue.data, '\0', vlen)) return fail(p, 400);
    if (!token(p->hfield.data, p->hfield.len)) return fail(p, 400);
    h = &r->headers[r->n_headers];
    h->name = strndup(p->hfield.data ? p->hfield.data : "", p->hfield.len);
    h->value = strndup(p->hvalue.data ? p->hvalue.data : "", vlen);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        return -1;
    }
    for (char *q = h->name; *q; q++) *q = (char)tolower((unsigned char)*q);
    r->n_headers++;
    if (p->hvalue.data) explicit_bzero(p->hvalue.data, p->hvalue.len);
    orc_buf_reset(&p->hfield);
    orc_buf_reset(&p->hvalue);
    return 0;
}

static bool has_body(const llhttp_t *l)
{
    return (l->flags & F_CHUNKED) || ((l->flags & F_CONTENT_LENGTH) && l->content_length > 0);
}

static int on_headers_complete(llhttp_t *l)
{
    struct orc_httpd_parser *p = l->data;
    struct orc_httpd_req *r = cur_req(l);

    if (r == NULL) return -1;
    if (l->http_major != 1) return fail(p, 400);
    p->head_done = true;
    r->method = l->method;
    if (r->target == NULL && (r->target = strdup("/")) == NULL) return -1;
    r->authorized = p->authorize == NULL || p->authorize(p->arg, r);
    if (!r->authorized && has_body(l)) {
        p->early = true;
        r->keep_alive = false;
        return HPE_PAUSED;
    }
    if ((l->flags & F_CONTENT_LENGTH) && l->content_length > ORC_HTTPD_MAX_BODY) return fail(p, 413);
    r->keep_alive = llhttp_should_keep_alive(l);
    return 0;
}

static int on_chunk_header(llhttp_t *l)
{
    struct orc_httpd_parser *p = l->data;
    struct orc_httpd_req *r = cur_req(l);

    if (r == NULL) return -1;
    if (l->content_length > ORC_HTTPD_MAX_BODY - r->body.len) return fail(p, 413);
    return 0;
}

static int on_body(llhttp_t *l, const char *at, size_t len)
{
    struct orc_httpd_parser *p = l->data;
    struct orc_httpd_req *r = cur_req(l);

    if (r == NULL) return -1;
    if (r->body.len + len > ORC_HTTPD_MAX_BODY) return fail(p, 413);
    return orc_buf_append(&r->body, at, len) == 0 ? 0 : -1;
}

static int on_message_complete(llhttp_t *l)
{
    struct orc_httpd_req *r = cur_req(l);

    if (r == NULL) return -1;
    r->keep_alive = llhttp_should_keep_alive(l);
    return HPE_PAUSED;
}

static const llhttp_settings_t *parser_settings(void)
{
    static llhttp_settings_t s;
    static bool init;

    if (!init) {
        llhttp_settings_init(&s);
        s.on_message_begin = on_message_begin;
        s.on_url = on_url;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_header_value_complete = on_header_value_complete;
        s.on_headers_complete = on_headers_complete;
        s.on_chunk_header = on_chunk_header;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        init = true;
    }
    return &s;
}

/* ---- the parser ---- */

void orc_httpd_parser_init(struct orc_httpd_parser *p, orc_httpd_authorize authorize, void *arg)
{
    memset(p, 0, sizeof *p);
    llhttp_init(&p->llhttp, HTTP_REQUEST, parser_settings());
    p->llhttp.data = p;
    p->authorize = authorize;
    p->arg = arg;
}

void orc_httpd_parser_clear(struct orc_httpd_parser *p)
{
    if (p->hvalue.data) explicit_bzero(p->hvalue.data, p->hvalue.cap);
    orc_buf_free(&p->hfield);
    orc_buf_free(&p->hvalue);
    orc_httpd_req_free(p->cur);
    p->cur = NULL;
}

enum api_parse_result orc_httpd_parse(struct orc_httpd_parser *p, const char *data, size_t len,
                                     size_t *used)
{
    llhttp_errno_t err = llhttp_execute(&p->llhttp, data, len);

    *used = len;
    if (err == HPE_OK) return API_PARSE_MORE;
    if (err == HPE_PAUSED && p->cur != NULL) {
        *used = (size_t)(llhttp_get_error_pos(&p->llhttp) - data);
        return p->early ? API_PARSE_EARLY : API_PARSE_REQUEST;
    }
    if (p->error == 0) p->error = 400;
    return API_PARSE_ERROR;
}

struct orc_httpd_req *orc_httpd_parser_take(struct orc_httpd_parser *p)
{
    struct orc_httpd_req *r = p->cur;

    p->cur = NULL;
    p->head_bytes = 0;
    p->head_done = false;
    orc_buf_reset(&p->hfield);
    orc_buf_reset(&p->hvalue);
    /* An early head leaves the parser before its body: nothing follows on
     * this connection, which closes after the answer. */
    if (!p->early) llhttp_resume(&p->llhttp);
    return r;
}

bool orc_httpd_parser_in_request(const struct orc_httpd_parser *p) { return p->cur != NULL; }

bool orc_httpd_parser_head_done(const struct orc_httpd_parser *p) { return p->cur && p->head_done; }

int orc_httpd_parse_status(const struct orc_httpd_parser *p) { return p->error ? p->error : 400; }

const char *orc_httpd_status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

const char *orc_httpd_parse_error_text(int status)
{
    switch (status) {
    case 413: return "request body too large (limit 3 MiB)";
    case 414: return "request URI too long (limit 16 KiB)";
    case 431: return "request headers too large (limit 48 headers, 32 KiB in all)";
    default: return "malformed HTTP request";
    }
}
