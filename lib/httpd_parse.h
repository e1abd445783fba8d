/* httpd_parse.h — HTTP/1.1 requests from bytes, with no socket: llhttp plus
 * orc's limits on what a request may hold (URL, header count and total
 * size, body size) and the authorization check at the end of the headers,
 * so that a request without a valid token is answered before any of its
 * body is read. The connection code (httpd.c) feeds it what it reads; the
 * HTTP fuzz target feeds it anything. Internal to lib/httpd*. */
#ifndef ORC_HTTPD_PARSE_H
#define ORC_HTTPD_PARSE_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/httpd.h"
#include "lib/buf.h"

#define ORC_HTTPD_MAX_URL (16u * 1024)  /* 414 beyond */
#define ORC_HTTPD_MAX_HEAD (32u * 1024) /* request line and headers together; 431 beyond */

struct orc_httpd_parser {
    llhttp_t llhttp;
    struct orc_httpd_req *cur; /* the request being parsed; owned until taken */
    struct orc_buf hfield, hvalue;
    size_t head_bytes;
    int error; /* HTTP status for a broken request; 0 means 400 */
    bool head_done; /* the current request's headers are complete */
    bool early;     /* the head of a refused request was taken before its body */
    orc_httpd_authorize authorize;
    void *arg;
};

enum api_parse_result {
    API_PARSE_MORE,    /* every byte used; no whole request yet */
    API_PARSE_REQUEST, /* a whole request: take it */
    API_PARSE_EARLY,   /* the head of a request the authorize hook refused,
                          which has a body: take it and answer at once; the
                          body is never read, so the connection must close */
    API_PARSE_ERROR,   /* broken: answer orc_httpd_parse_status() and close */
};

/* authorize may be NULL (every request is authorized). */
void orc_httpd_parser_init(struct orc_httpd_parser *p, orc_httpd_authorize authorize, void *arg);
void orc_httpd_parser_clear(struct orc_httpd_parser *p);

/* Parses from data; *used gets how many bytes were consumed (all of them
 * for MORE; up to the end of the request or head for REQUEST/EARLY; the
 * rest stays for the next call, after the request was taken). */
enum api_parse_result orc_httpd_parse(struct orc_httpd_parser *p, const char *data, size_t len,
                                     size_t *used);

/* After REQUEST or EARLY: the request (the caller owns it; free it with
 * orc_httpd_req_free). The parser then goes on with the next request. */
struct orc_httpd_req *orc_httpd_parser_take(struct orc_httpd_parser *p);

/* True once the first byte of a request arrived, until it is taken. */
bool orc_httpd_parser_in_request(const struct orc_httpd_parser *p);
/* True once that request's headers are complete. */
bool orc_httpd_parser_head_done(const struct orc_httpd_parser *p);

/* The status answering an ERROR, and the text saying why. */
int orc_httpd_parse_status(const struct orc_httpd_parser *p);
const char *orc_httpd_status_reason(int status);
const char *orc_httpd_parse_error_text(int status);

/* Frees a request that was never handed to a handler. */
void orc_httpd_req_free(struct orc_httpd_req *r);

#endif
