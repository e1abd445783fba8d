/* fuzz_object.c — libFuzzer target for what the API server does with a
 * request body before it is stored: JSON or YAML decoding (as
 * apiserver/write.c's api_parse_body), the schema pass, defaults and
 * validation of one kind (apiserver/validate.h), the error message, and
 * the stored form with its resourceVersion spliced back in as text
 * (apiserver/object.c). The first input byte picks the kind (low 7 bits)
 * and the format (high bit: YAML); the rest is the body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "apiserver/validate.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/yaml.h"

#define FUZZ_REV 4242

static json_t *parse_body(const char *body, size_t len, int yaml)
{
    char err[256];

    if (!yaml) return orc_json_parse(body, len, err, sizeof err);
    json_t *docs = orc_yaml_parse(body, len, err, sizeof err), *v = NULL;
    if (docs && json_array_size(docs) == 1) v = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return v;
}

/* The served text must be the stored object with resourceVersion added. */
static void check_served(const json_t *stored, const char *text, size_t len)
{
    char err[256];
    json_t *served = orc_json_parse(text, len, err, sizeof err);
    json_t *expect = json_deep_copy(stored);

    orc_json_set(expect, "metadata.resourceVersion", json_string("4242"));
    if (served == NULL || !json_equal(served, expect)) {
        fprintf(stderr, "served object differs from the stored one: %.*s\n", (int)len, text);
        abort();
    }
    json_decref(expect);
    json_decref(served);
}

/* api_obj_encode, then both ways of serving it back. */
static void store_and_serve(const struct orc_kind *k, json_t *obj)
{
    struct orc_buf stored = ORC_BUF_INIT, served = ORC_BUF_INIT;
    char err[256];

    /* mut_create refuses any other apiVersion/kind before this point. */
    json_object_set_new(obj, "apiVersion", json_string(orc_kind_api_version(k)));
    json_object_set_new(obj, "kind", json_string(k->kind));
    if (api_obj_encode(obj, &stored) != 0) abort();
    json_t *back = orc_json_parse(stored.data, stored.len, err, sizeof err);
    if (back == NULL) abort();
    if (api_obj_append(&served, stored.data, stored.len, FUZZ_REV) != 0) abort();
    check_served(back, served.data, served.len);
    json_t *dec = api_obj_decode(stored.data, stored.len, FUZZ_REV);
    struct orc_buf again = ORC_BUF_INIT;
    if (dec == NULL || orc_json_dump(dec, &again) != 0) abort();
    check_served(back, again.data, again.len);
    orc_buf_free(&again);
    json_decref(dec);
    json_decref(back);
    orc_buf_free(&served);
    orc_buf_free(&stored);
}

static void admit(const struct orc_kind *k, json_t *obj)
{
    struct api_diag d;
    char err[256];

    /* A served_only version is admitted as the server admits it: converted
     * to the stored version first (a bad round-trip annotation is a 400),
     * and served back converted. */
    if (orc_kind_served_only(k)) {
        json_t *view;
        if (api_view_to_stored(k, obj, err, sizeof err) != 0) return;
        if ((view = json_deep_copy(obj)) == NULL || api_view_from_stored(k, view) != 0) abort();
        json_decref(view);
        k = orc_kind_stored(k);
    }
    if (api_diag_init(&d) != 0) return;
    api_schema_check(k, obj, &d);
    if (!api_diag_failed(&d)) {
        api_defaults(k, obj);
        api_validate(k, obj, NULL, &d);
        json_t *old = json_deep_copy(obj);
        api_validate(k, obj, old, &d);
        json_decref(old);
    }
    free(api_diag_message(&d, k, orc_json_str(obj, "metadata.name")));
    if (!api_diag_failed(&d)) store_and_serve(k, obj);
    api_diag_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n_kinds;
    const struct orc_kind *kinds = orc_kinds(&n_kinds);

    if (size < 1) return 0;
    json_t *obj = parse_body((const char *)data + 1, size - 1, data[0] & 0x80);
    if (json_is_object(obj)) admit(&kinds[(data[0] & 0x7f) % n_kinds], obj);
    json_decref(obj);
    return 0;
}
