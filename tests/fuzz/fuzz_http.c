/* fuzz_http.c — libFuzzer target for orc's HTTP request handling: the bytes
 * a client sends after TLS, through the request parser (llhttp, orc's limits
 * on URL, headers and body, the bearer check at the end of the headers) and
 * then the router's URL and query handling, as the API server runs them.
 * The first byte picks how the rest is cut into reads, so requests split
 * at every point are tried. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/httpd_parse.h"
#include "apiserver/server.h"

#define TOKEN "orc1.fuzz.secret"

static bool authorize(void *arg, struct orc_httpd_req *r)
{
    (void)arg;
    return orc_httpd_req_bearer_is(r, TOKEN);
}

/* What the server does with a request before a handler's own work. */
static void route(struct orc_httpd_req *r)
{
    struct api_route rt;

    (void)orc_httpd_req_header(r, "content-type");
    (void)orc_httpd_req_header(r, "accept");
    if (api_route_parse(r->target, &rt) == 0) {
        (void)api_query_get(&rt, "labelSelector");
        (void)api_query_get(&rt, "resourceVersion");
        (void)api_query_bool(&rt, "watch");
    }
    api_route_clear(&rt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct orc_httpd_parser p;
    size_t step, off = 1;

    if (size == 0) return 0;
    step = (size_t)data[0] % 64 + 1;
    orc_httpd_parser_init(&p, authorize, NULL);
    while (off < size) {
        size_t len = size - off < step ? size - off : step, used = 0;
        enum api_parse_result res = orc_httpd_parse(&p, (const char *)data + off, len, &used);

        off += used;
        if (res == API_PARSE_ERROR) break;
        if (res == API_PARSE_MORE) continue;
        struct orc_httpd_req *r = orc_httpd_parser_take(&p);
        route(r);
        orc_httpd_req_free(r);
        if (res == API_PARSE_EARLY) break; /* the connection closes there */
    }
    orc_httpd_parser_clear(&p);
    return 0;
}
