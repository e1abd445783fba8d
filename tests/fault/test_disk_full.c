/* test_disk_full.c — a member of a three-member cluster whose data dir (a
 * small tmpfs the test mounts; root only) fills up while writers run. It
 * used to stay ready while serving lists that lacked acknowledged objects
 * at the revision they claimed, and never caught up. Now: /readyz says 503
 * with the reason, every list it does answer is complete for its revision,
 * the cluster keeps taking writes (a full leader hands leadership over),
 * and once the test frees the space the member recovers by itself and
 * serves every acknowledged object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/disk.h"
#include "tests/harness/load.h"
#include "tests/harness/test.h"

#define LIST "/api/v1/namespaces/default/configmaps?resourceVersion=0"

/* What the full member answered. */
struct seen {
    long long rev[4096];
    size_t count[4096];
    size_t n_lists;
    size_t refused; /* 503 answers to lists */
    bool not_ready; /* a readyz 503 with a reason */
    bool ready_again;
    char reason[512];
};

static void poll_member(struct cluster *c, int i, struct seen *s)
{
    char *body = NULL;
    int st = t_http(c, i, "GET", "/readyz", NULL, NULL, &body, NULL);

    if (st == 503 && body && strstr(body, "not ready: ")) {
        if (!s->not_ready) snprintf(s->reason, sizeof s->reason, "%s", body);
        s->not_ready = true;
    }
    if (st == 200 && s->not_ready) s->ready_again = true;
    free(body);
    json_t *list = t_json(c, i, "GET", LIST, NULL, &st);
    if (st == 200 && s->n_lists < 4096) {
        s->rev[s->n_lists] = atoll(orc_json_str(list, "metadata.resourceVersion"));
        s->count[s->n_lists++] = json_array_size(json_object_get(list, "items"));
    } else if (st == 503) {
        s->refused++;
    }
    json_decref(list);
}

/* Every list the member answered held exactly the objects that existed at
 * its revision: ConfigMaps here are only ever created, so those are the
 * ones whose resourceVersion is not above it. */
static void check_lists(struct cluster *c, int from, const struct seen *s)
{
    int st;
    json_t *all = t_json(c, from, "GET", LIST, NULL, &st), *it;
    size_t n = json_array_size(json_object_get(all, "items")), k;
    long long *revs = calloc(n + 1, sizeof *revs);

    CHECK_INT(st, ==, 200);
    json_array_foreach(json_object_get(all, "items"), k, it)
        revs[k] = atoll(orc_json_str(it, "metadata.resourceVersion"));
    for (size_t i = 0; i < s->n_lists; i++) {
        size_t want = 0;
        for (k = 0; k < n; k++) want += revs[k] <= s->rev[i];
        CHECKF(s->count[i] == want, "a list at revision %lld held %zu objects; %zu existed then",
               s->rev[i], s->count[i], want);
    }
    printf("# %zu lists answered, each complete for its revision; %zu refused\n", s->n_lists,
           s->refused);
    free(revs);
    json_decref(all);
}

/* Another member's view (orctl cluster members -o json) says why member i
 * does not serve. */
static bool others_see_it(struct cluster *c, int i)
{
    int st, from = (i + 1) % c->n;
    json_t *list = t_json(c, from, "GET", "/internal/v1/members", NULL, &st), *e;
    bool seen = false;
    size_t k;

    json_array_foreach(json_object_get(list, "members"), k, e) {
        const char *url = orc_json_str(e, "apiURL");
        if (url && strcmp(url, c->m[i].url) == 0) seen = json_object_get(e, "notServing") != NULL;
    }
    json_decref(list);
    return seen;
}

/* Fills member i's disk under load, checks what it answers, frees the
 * space, and waits for it to serve again. */
static void fill_and_free(struct cluster *c, struct load *l, int i, struct seen *s)
{
    uint64_t until;

    load_start(l, c, 8);
    test_sleep_ms(1000);
    disk_fill(c->m[i].dir);
    until = test_now_ms() + 6000;
    while (test_now_ms() < until) poll_member(c, i, s);
    CHECKF(s->not_ready, "member %d still ready with a full disk (log %s)", i, c->m[i].log);
    printf("# while full: %s\n", s->reason);
    CHECKF(others_see_it(c, i), "the member list does not say member %d does not serve", i);
    CHECK(strstr(s->reason, "full") || strstr(s->reason, "disk"));
    disk_unfill(c->m[i].dir);
    until = test_now_ms() + 40000;
    while (!s->ready_again && test_now_ms() < until) poll_member(c, i, s);
    load_stop(l);
    CHECKF(s->ready_again, "member %d not ready 40 s after the space came back (log %s)", i,
           c->m[i].log);
    CHECKF(file_has(c->m[i].log, 0, "stops serving"), "nothing logged (log %s)", c->m[i].log);
}

/* Three members, member i's data dir on a small tmpfs, member 0 leading.
 * False when mounting is not allowed here. */
static bool start_with_small_disk(struct cluster *c, int i)
{
    cluster_init(c, 3);
    if (!disk_tmpfs(c->m[i].dir, 128)) return false;
    cluster_start(c, NULL);
    int lead = cluster_leader(c, 10000);
    CHECKF(lead == 0, "member %d leads", lead);
    return true;
}

static void stop_all(struct cluster *c, struct load *l)
{
    printf("# %zu writes acknowledged\n", l->n_acks);
    for (int i = 0; i < 3; i++) member_stop(c, i);
    load_free(l);
}

TEST_T(follower_on_a_full_disk_stops_serving_and_recovers, 120)
{
    static struct cluster c;
    static struct seen s;
    struct load l = {0};

    if (!start_with_small_disk(&c, 1)) return;
    fill_and_free(&c, &l, 1, &s);
    member_wait_revision(&c, 1, member_revision(&c, 0), 20000);
    load_verify(&l, 1);
    check_lists(&c, 0, &s);
    stop_all(&c, &l);
}

TEST_T(leader_on_a_full_disk_hands_over_and_recovers, 120)
{
    static struct cluster c;
    static struct seen s;
    struct load l = {0};

    if (!start_with_small_disk(&c, 0)) return;
    uint64_t filled_at = test_now_ms() + 1000;
    fill_and_free(&c, &l, 0, &s);
    /* the cluster kept taking writes while the old leader was full */
    const struct load_ack *a = load_first_ack_after(&l, filled_at + 500);
    CHECKF(a != NULL, "no write succeeded after the leader's disk filled");
    printf("# first write after the fill: %llu ms after it\n",
           (unsigned long long)(a->done_ms - filled_at));
    int lead = cluster_leader(&c, 10000);
    CHECK(lead >= 0);
    member_wait_revision(&c, 0, member_revision(&c, lead), 20000);
    load_verify(&l, 0);
    check_lists(&c, lead, &s);
    stop_all(&c, &l);
}
