/* fuzz_labels.c — libFuzzer target for lib/labels.c: label selectors as
 * ?labelSelector= and `orctl get -l` send them (the string form), and as
 * specs hold them (the LabelSelector object, when the input is JSON). A
 * selector that parses prints a canonical form that parses back to itself,
 * whose every key and value is a valid label key and value, and matching
 * any label set never trips. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/labels.h"

/* A few label sets built from the input itself, so matches happen. */
static void match_some(const orc_selector *sel, const char *text)
{
    json_t *none = json_object(), *some = json_object();
    if (none == NULL || some == NULL) abort();
    json_object_set_new(some, "app", json_string("web"));
    json_object_set_new(some, "n", json_string("7"));
    /* Each "k=v" looking pair of the text becomes a label. */
    char *copy = strdup(text), *save = NULL;
    if (copy == NULL) abort();
    for (char *t = strtok_r(copy, ", ()!", &save); t; t = strtok_r(NULL, ", ()!", &save)) {
        char *eq = strchr(t, '=');
        if (eq == NULL) continue;
        *eq = '\0';
        json_object_set_new(some, t, json_string(eq[1] == '=' ? eq + 2 : eq + 1));
    }
    free(copy);
    bool empty = orc_selector_is_empty(sel);
    if (empty && (!orc_selector_matches(sel, none) || !orc_selector_matches(sel, some))) abort();
    (void)orc_selector_matches(sel, NULL);
    json_decref(none);
    json_decref(some);
}

/* The canonical form parses, to a selector with the same canonical form. */
static void check_canonical(const orc_selector *sel)
{
    struct orc_buf once = ORC_BUF_INIT, twice = ORC_BUF_INIT;
    orc_selector *back = NULL;
    char msg[512];

    if (orc_selector_string(sel, &once) != 0) abort();
    if (orc_selector_parse(once.data, &back, msg, sizeof msg) != 0) abort();
    if (orc_selector_string(back, &twice) != 0) abort();
    if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0) abort();
    match_some(back, once.data);
    orc_selector_free(back);
    orc_buf_free(&once);
    orc_buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    orc_selector *sel = NULL;
    char msg[512];

    if (text == NULL) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    if (size > 0 && data[0] == '{') {
        json_t *obj = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
        if (obj && orc_selector_from_json(obj, &sel, msg, sizeof msg) == 0) {
            check_canonical(sel);
            match_some(sel, text);
            orc_selector_free(sel);
        }
        json_decref(obj);
    } else if (orc_selector_parse(text, &sel, msg, sizeof msg) == 0) {
        check_canonical(sel);
        match_some(sel, text);
        orc_selector_free(sel);
    } else if (sel != NULL || strlen(msg) == 0) {
        abort(); /* a refusal says why and hands nothing back */
    }
    free(text);
    return 0;
}
