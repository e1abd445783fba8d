/* test_podcidr.c — Node pod CIDRs decided inside the replicated txn: eight
 * clients registering Nodes at once through every member all succeed with
 * distinct blocks; an exhausted cluster CIDR leaves a Node registered
 * without a block and a Warning Event CIDRNotAvailable saying why;
 * --node-cidr-mask-size sets the block size. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CREATORS 8
#define PER_CREATOR 3

static struct cluster c;

struct creator {
    int idx;
    int member;
    int failures;
    char last_error[512];
};

static void *create_nodes(void *arg)
{
    struct creator *cr = arg;
    for (int j = 0; j < PER_CREATOR; j++) {
        char body[128], *resp = NULL;
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"node-%d-%d\"}}", cr->idx, j);
        int st = t_http(&c, cr->member, "POST", "/api/v1/nodes", NULL, body, &resp, NULL);
        if (st != 201) {
            cr->failures++;
            snprintf(cr->last_error, sizeof cr->last_error, "HTTP %d: %s", st, resp ? resp : "");
        }
        free(resp);
    }
    return NULL;
}

TEST_T(concurrent_registrations_get_distinct_blocks, 90)
{
    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    pthread_t th[CREATORS];
    struct creator cr[CREATORS];
    for (int i = 0; i < CREATORS; i++) {
        cr[i] = (struct creator){.idx = i, .member = i % 3};
        CHECK(pthread_create(&th[i], NULL, create_nodes, &cr[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < CREATORS; i++) {
        pthread_join(th[i], NULL);
        failures += cr[i].failures;
        if (cr[i].failures) fprintf(stderr, "creator %d: %s\n", i, cr[i].last_error);
    }
    CHECK_INT(failures, ==, 0);

    int leader = cluster_leader(&c, 5000);
    CHECK(leader >= 0);
    int st;
    json_t *list = t_json(&c, leader, "GET", "/api/v1/nodes", NULL, &st);
    CHECK_INT(st, ==, 200);
    json_t *items = json_object_get(list, "items"), *n, *seen = json_object();
    size_t i;
    CHECK_INT(json_array_size(items), ==, CREATORS * PER_CREATOR);
    json_array_foreach(items, i, n) {
        const char *cidr = orc_json_str(n, "spec.podCIDR");
        CHECKF(cidr != NULL, "node %s has no pod CIDR", orc_json_str(n, "metadata.name"));
        CHECKF(json_object_get(seen, cidr) == NULL, "%s handed out twice", cidr);
        CHECK_STR(json_string_value(json_array_get(orc_json_get(n, "spec.podCIDRs"), 0)), cidr);
        CHECK(strncmp(cidr, "10.42.", 6) == 0 && strstr(cidr, ".0/24"));
        json_object_set_new(seen, cidr, json_true());
    }
    json_decref(seen);
    json_decref(list);
    for (int m = 0; m < 3; m++) member_stop(&c, m);
}

static json_t *post_node(const char *name, int want)
{
    char body[128], *resp = NULL;
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"}}", name);
    int st = t_http(&c, 0, "POST", "/api/v1/nodes", NULL, body, &resp, NULL);
    CHECKF(st == want, "POST node %s: HTTP %d: %s", name, st, resp ? resp : "");
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    free(resp);
    return j;
}

TEST(exhausted_cluster_cidr_registers_without_a_block)
{
    static const char *const flags[] = {"--cluster-cidr", "10.99.0.0/29", "--node-cidr-mask-size",
                                        "30", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, flags);
    member_wait_ready(&c, 0, 5000);
    json_t *a = post_node("a", 201), *b = post_node("b", 201), *x = post_node("x", 201);
    CHECK_STR(orc_json_str(a, "spec.podCIDR"), "10.99.0.0/30");
    CHECK_STR(orc_json_str(b, "spec.podCIDR"), "10.99.0.4/30");
    CHECK(orc_json_get(x, "spec.podCIDR") == NULL && orc_json_get(x, "spec.podCIDRs") == NULL);
    int st;
    json_t *got = t_json(&c, 0, "GET", "/api/v1/nodes/x", NULL, &st);
    CHECK(st == 200 && orc_json_get(got, "spec.podCIDR") == NULL);
    json_decref(got);

    /* The Warning Event says why (it is written right after the Node). */
    bool found = false;
    for (int tries = 0; tries < 50 && !found; tries++) {
        json_t *evs = t_json(&c, 0, "GET",
                             "/api/v1/namespaces/default/events?fieldSelector=reason%3DCIDRNotAvailable",
                             NULL, &st);
        json_t *e = json_array_get(json_object_get(evs, "items"), 0);
        if (e) {
            found = true;
            CHECK_STR(orc_json_str(e, "type"), "Warning");
            CHECK_STR(orc_json_str(e, "involvedObject.kind"), "Node");
            CHECK_STR(orc_json_str(e, "involvedObject.name"), "x");
            CHECK(strstr(orc_json_str(e, "message"), "10.99.0.0/29") != NULL);
        }
        json_decref(evs);
        if (!found) test_sleep_ms(100);
    }
    CHECK(found);

    /* A freed block goes to the next Node. */
    json_decref(t_json(&c, 0, "DELETE", "/api/v1/nodes/a", NULL, &st));
    CHECK_INT(st, ==, 200);
    json_t *d = post_node("d", 201);
    CHECK_STR(orc_json_str(d, "spec.podCIDR"), "10.99.0.0/30");
    json_decref(d);
    member_stop(&c, 0); /* exits cleanly: no sanitizer report */
    json_decref(a);
    json_decref(b);
    json_decref(x);
}
