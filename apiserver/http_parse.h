/* http_parse.h — HTTP/1.1 requests from bytes, with no socket: llhttp plus
 * orc's limits on what a request may hold (URL, header count and total
 * size, body size) and the authorization check at the end of the headers,
 * so that a request without a valid token is answered before any of its
 * body is read. The connection code (http.c) feeds it what it reads; the
 * HTTP fuzz target feeds it anything. Internal to apiserver/. */
#ifndef ORC_API_HTTP_PARSE_H
#define ORC_API_HTTP_PARSE_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

#include "apiserver/http.h"
#include "lib/buf.h"

#define API_MAX_URL (16u * 1024)  /* 414 beyond */
#define API_MAX_HEAD (32u * 1024) /* request line and headers together; 431 beyond */

struct api_http_parser {
    llhttp_t llhttp;
    struct api_req *cur; /* the request being parsed; owned until taken */
    struct orc_buf hfield, hvalue;
    size_t head_bytes;
    int error; /* HTTP status for a broken request; 0 means 400 */
    bool head_done; /* the current request's headers are complete */
    bool early;     /* the head of a refused request was taken before its body */
    api_http_authorize authorize;
    void *arg;
};

enum api_parse_result {
    API_PARSE_MORE,    /* every byte used; no whole request yet */
    API_PARSE_REQUEST, /* a whole request: take it */
    API_PARSE_EARLY,   /* the head of a request the authorize hook refused,
                          which has a body: take it and answer at once; the
                          body is never read, so the connection must close */
    API_PARSE_ERROR,   /* broken: answer api_http_parse_status() and close */
};

/* authorize may be NULL (every request is authorized). */
void api_http_parser_init(struct api_http_parser *p, api_http_authorize authorize, void *arg);
void api_http_parser_clear(struct api_http_parser *p);

/* Parses from data; *used gets how many bytes were consumed (all of them
 * for MORE; up to the end of the request or head for REQUEST/EARLY; the
 * rest stays for the next call, after the request was taken). */
enum api_parse_result api_http_parse(struct api_http_parser *p, const char *data, size_t len,
                                     size_t *used);

/* After REQUEST or EARLY: the request (the caller owns it; free it with
 * api_req_free). The parser then goes on with the next request. */
struct api_req *api_http_parser_take(struct api_http_parser *p);

/* True once the first byte of a request arrived, until it is taken. */
bool api_http_parser_in_request(const struct api_http_parser *p);
/* True once that request's headers are complete. */
bool api_http_parser_head_done(const struct api_http_parser *p);

/* The status answering an ERROR, and the text saying why. */
int api_http_parse_status(const struct api_http_parser *p);
const char *api_http_status_reason(int status);
const char *api_http_parse_error_text(int status);

/* Frees a request that was never handed to a handler. */
void api_req_free(struct api_req *r);

#endif
