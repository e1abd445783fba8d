/* fuzz_proto.c — libFuzzer target for the protobuf body decoder
 * (lib/pb.c, apiserver/proto*.c). An input starting with "k8s" is a whole
 * body, as client-go sends it (the seeds are kubectl's own); any other
 * input picks a top-level message with its first byte and is decoded as
 * that message, so mutations reach every table. Checked beyond "no crash":
 * success and the status agree, a refusal is a 400 or a 415 with a
 * message, and what is decoded is an object that dumps to JSON and parses
 * back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/proto.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

static size_t n_roots(void)
{
    size_t n = 0;
    while (api_pb_roots[n].kind != NULL) n++;
    return n;
}

static void check(int rc, int status, const char *msg, json_t *v)
{
    struct orc_buf b = {0};
    char err[128];

    if (rc != 0) {
        if (v != NULL || (status != 400 && status != 415) || msg[0] == '\0') abort();
        return;
    }
    if (status != 0 || !json_is_object(v)) abort();
    if (orc_json_dump(v, &b) != 0) abort();
    json_t *back = orc_json_parse(b.data, b.len, err, sizeof err);
    if (back == NULL || !json_equal(back, v)) abort();
    json_decref(back);
    orc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[300] = "";
    int status = -1, rc;
    json_t *v = NULL;

    if (size >= 3 && memcmp(data, "k8s", 3) == 0) {
        rc = api_pb_decode_body(data, size, &v, &status, msg, sizeof msg);
        if (rc == 0 && (!json_is_string(json_object_get(v, "apiVersion"))
                        || !json_is_string(json_object_get(v, "kind"))))
            abort();
        check(rc, status, msg, v);
    } else if (size >= 1) {
        const struct api_pb_root *r = &api_pb_roots[data[0] % n_roots()];
        v = json_object();
        if (v == NULL) return 0;
        rc = api_pb_decode_msg(r->msg, data + 1, size - 1, v, &status, msg, sizeof msg);
        if (rc != 0) {
            json_decref(v);
            v = NULL;
        }
        check(rc, status, msg, v);
    }
    json_decref(v);
    return 0;
}
