/* test_delete_collection.c — DELETE of a collection (deletecollection, as
 * client-go's DeleteCollection and the Python client's delete_collection_*
 * send it) on a real orcd server: only what the selectors match goes, each
 * object through the same deletion as a DELETE by name (a finalizer keeps
 * it, marked), dryRun deletes nothing, and the answer lists what was
 * deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CM "/api/v1/namespaces/default/configmaps"

static struct cluster c;

static void make_cm(const char *name, const char *label, const char *extra)
{
    char body[512];
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"team\":\"%s\"}%s}}", name,
             label, extra ? extra : "");
    json_decref(t_expect(&c, "POST", CM, "application/json", body, 201));
}

/* The names of the configmaps left, space-separated, into buf. */
static const char *left(char *buf, size_t n)
{
    json_t *l = t_expect(&c, "GET", CM, NULL, NULL, 200), *o;
    size_t i, used = 0;

    buf[0] = '\0';
    json_array_foreach (json_object_get(l, "items"), i, o)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? " " : "",
                                 orc_json_str(o, "metadata.name"));
    json_decref(l);
    return buf;
}

static void check_items(json_t *list, const char *kind, const char *names)
{
    char got[256] = "";
    size_t i, used = 0;
    json_t *o;

    CHECK_STR(orc_json_str(list, "kind") ?: "", kind);
    json_array_foreach (json_object_get(list, "items"), i, o)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%s", used ? " " : "",
                                 orc_json_str(o, "metadata.name"));
    CHECK_STR(got, names);
}

TEST(deletes_what_the_selectors_match_as_each_delete_would)
{
    char buf[256];
    json_t *l;

    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
    make_cm("a", "red", NULL);
    make_cm("b", "red", NULL);
    make_cm("c", "blue", NULL);
    make_cm("d", "green", ",\"finalizers\":[\"example.com/keep\"]");

    /* dryRun: the answer as if, and nothing gone */
    l = t_expect(&c, "DELETE", CM "?labelSelector=team%3Dred&dryRun=All", NULL, NULL, 200);
    check_items(l, "ConfigMapList", "a b");
    json_decref(l);
    CHECK_STR(left(buf, sizeof buf), "a b c d");

    l = t_expect(&c, "DELETE", CM "?labelSelector=team%3Dred", NULL, NULL, 200);
    check_items(l, "ConfigMapList", "a b");
    json_decref(l);
    CHECK_STR(left(buf, sizeof buf), "c d");

    /* a field selector; the finalizer keeps d, marked for deletion */
    l = t_expect(&c, "DELETE", CM "?fieldSelector=metadata.name%3Dd", "application/json",
                 "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Background\"}", 200);
    check_items(l, "ConfigMapList", "d");
    CHECK(orc_json_str(json_array_get(json_object_get(l, "items"), 0), "metadata.deletionTimestamp") != NULL);
    json_decref(l);
    json_t *d = t_expect(&c, "GET", CM "/d", NULL, NULL, 200);
    CHECK(orc_json_str(d, "metadata.deletionTimestamp") != NULL);
    json_decref(d);
    json_decref(t_expect(&c, "PATCH", CM "/d", "application/merge-patch+json",
                         "{\"metadata\":{\"finalizers\":null}}", 200));

    /* no selector: all of them; an empty collection answers an empty list */
    l = t_expect(&c, "DELETE", CM, NULL, NULL, 200);
    json_decref(l);
    CHECK_STR(left(buf, sizeof buf), "");
    l = t_expect(&c, "DELETE", CM, NULL, NULL, 200);
    check_items(l, "ConfigMapList", "");
    json_decref(l);

    /* more than the server runs in one turn of its loop (a dry run's deletes end at once) */
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "bulk-%03d", i);
        make_cm(name, "bulk", NULL);
    }
    l = t_expect(&c, "DELETE", CM "?labelSelector=team%3Dbulk&dryRun=All", NULL, NULL, 200);
    CHECK_INT(json_array_size(json_object_get(l, "items")), ==, 300);
    json_decref(l);
    l = t_expect(&c, "DELETE", CM "?labelSelector=team%3Dbulk", NULL, NULL, 200);
    CHECK_INT(json_array_size(json_object_get(l, "items")), ==, 300);
    json_decref(l);
    CHECK_STR(left(buf, sizeof buf), "");

    /* bad input changes nothing */
    make_cm("e", "red", NULL);
    json_decref(t_expect(&c, "DELETE", CM "?labelSelector=team%3D%3D%3D", NULL, NULL, 400));
    json_decref(t_expect(&c, "DELETE", CM "?propagationPolicy=Sometimes", NULL, NULL, 422));
    CHECK_STR(left(buf, sizeof buf), "e");
    /* refused as such even when nothing matches (the options are checked
     * before anything is listed), as Kubernetes does */
    json_decref(t_expect(&c, "DELETE", CM "?labelSelector=team%3Dnone&propagationPolicy=Sometimes", NULL,
                         NULL, 422));
    json_decref(t_expect(&c, "DELETE", CM "?labelSelector=team%3Dnone&dryRun=Maybe", NULL, NULL, 422));
    json_decref(t_expect(&c, "DELETE", CM "?labelSelector=team%3Dnone&gracePeriodSeconds=soon", NULL,
                         NULL, 400));
    json_decref(t_expect(&c, "DELETE", CM "?labelSelector=team%3Dnone", "application/json",
                         "{\"kind\":\"ConfigMap\"}", 400));
    CHECK_STR(left(buf, sizeof buf), "e");
    /* a namespaced kind across namespaces is not a collection one deletes */
    json_decref(t_expect(&c, "DELETE", "/api/v1/configmaps", NULL, NULL, 404));
    CHECK_STR(left(buf, sizeof buf), "e");
}
