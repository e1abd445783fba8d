/* test_ha.c — three real orcd members over loopback: losing the leader under
 * write load, full restarts, membership changes and quorum-loss recovery
 * never lose an acknowledged write nor apply one twice. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/load.h"
#include "tests/harness/test.h"

static int leader_or_fail(struct cluster *c)
{
    int l = cluster_leader(c, 10000);
    CHECKF(l >= 0, "no leader");
    return l;
}

/* Every running member holds every acknowledged write exactly once. */
static void verify_everywhere(struct cluster *c, struct load *l)
{
    int lead = leader_or_fail(c);
    long long rev = member_revision(c, lead);
    for (int i = 0; i < c->n; i++) {
        if (c->m[i].pid == 0) continue;
        member_wait_revision(c, i, rev, 15000);
        load_verify(l, i);
    }
}

TEST_T(leader_killed_under_load_loses_nothing, 180)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    struct load l = {0};

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    int lead = leader_or_fail(&c);
    load_start(&l, &c, 16);
    test_sleep_ms(1500);
    uint64_t killed_at = test_now_ms();
    member_kill(&c, lead);
    test_sleep_ms(4000);
    load_stop(&l);
    const struct load_ack *first = load_first_ack_after(&l, killed_at);
    CHECKF(first != NULL, "no write succeeded after the leader was killed");
    uint64_t gap = first->done_ms - killed_at;
    fprintf(stderr, "# %zu acknowledged, %zu failed; writes resumed %llu ms after the kill\n",
            l.n_acks, l.n_failed, (unsigned long long)gap);
    CHECKF(gap <= 3000, "writes resumed only after %llu ms", (unsigned long long)gap);
    /* The killed member comes back and catches up. */
    member_start(&c, lead, false, NULL);
    member_wait_ready(&c, lead, 20000);
    verify_everywhere(&c, &l);
    /* All three restarted: nothing lost. */
    for (int i = 0; i < 3; i++) member_stop(&c, i);
    for (int i = 0; i < 3; i++) member_start(&c, i, false, NULL);
    for (int i = 0; i < 3; i++) member_wait_ready(&c, i, 20000);
    verify_everywhere(&c, &l);
    load_free(&l);
}

static bool has_snapshot(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/raft", dir);
    DIR *d = opendir(path);
    struct dirent *e;
    bool found = false;
    while (d && (e = readdir(d)) != NULL) found |= strncmp(e->d_name, "snapshot-", 9) == 0;
    if (d) closedir(d);
    return found;
}

TEST_T(removed_member_replaced_by_one_that_catches_up_by_snapshot, 180)
{
    static const char *const small_snapshots[] = {"--snapshot-threshold", "64",
                                                  "--snapshot-trailing", "16", NULL};
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    struct load l = {0};
    int st;

    cluster_init(&c, 4);
    c.n = 3;
    cluster_start(&c, small_snapshots);
    load_start(&l, &c, 8);
    test_sleep_ms(1500);
    load_stop(&l);
    CHECKF(l.n_acks > 200, "only %zu writes", l.n_acks);
    /* Remove member 2 (a follower or the leader: either must work). */
    json_t *s2 = t_json(&c, 2, "GET", "/internal/v1/status", NULL, &st);
    char path[128];
    snprintf(path, sizeof path, "/internal/v1/members/%s", orc_json_str(s2, "id"));
    json_decref(s2);
    int other = leader_or_fail(&c) == 2 ? 0 : leader_or_fail(&c);
    json_t *r = t_json(&c, other, "DELETE", path, NULL, &st);
    CHECKF(st == 200, "remove: HTTP %d", st);
    json_decref(r);
    member_kill(&c, 2);
    /* A fresh member joins and must be sent a snapshot. */
    c.n = 4;
    member_start(&c, 3, true, small_snapshots);
    member_wait_ready(&c, 3, 30000);
    c.m[2].pid = 0;
    json_t *ml = t_json(&c, 0, "GET", "/internal/v1/members", NULL, &st);
    CHECK_INT(json_array_size(json_object_get(ml, "members")), ==, 3);
    json_decref(ml);
    verify_everywhere(&c, &l);
    CHECKF(has_snapshot(c.m[3].dir), "the new member has no snapshot in %s/raft", c.m[3].dir);
    load_free(&l);
}

/* A member removed while it runs may never hear of its removal from the
 * log (the leader stops sending it entries): the leader tells it when it
 * next connects, and it stops serving what it holds, which ages from then
 * on, saying why in /readyz and its log. */
TEST_T(a_removed_member_says_so_and_serves_nothing, 90)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    char path[128];
    int st;

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    int lead = leader_or_fail(&c), gone = (lead + 1) % 3;
    json_t *sg = t_json(&c, gone, "GET", "/internal/v1/status", NULL, &st);
    snprintf(path, sizeof path, "/internal/v1/members/%s", orc_json_str(sg, "id"));
    json_decref(sg);
    json_decref(t_json(&c, lead, "DELETE", path, NULL, &st));
    CHECKF(st == 200, "remove: HTTP %d", st);
    uint64_t end = test_now_ms() + 20000;
    char *body = NULL;
    for (;;) {
        free(body);
        body = NULL;
        st = t_http(&c, gone, "GET", "/readyz", NULL, NULL, &body, NULL);
        if (st == 503 && body && strstr(body, "removed from the cluster")) break;
        CHECKF(test_now_ms() < end, "removed member's /readyz: %d %s (log %s)", st,
               body ? body : "", c.m[gone].log);
        test_sleep_ms(200);
    }
    CHECK(strstr(body, "--join") != NULL);
    free(body);
    json_decref(t_json(&c, gone, "GET", "/api/v1/namespaces/default/configmaps", NULL, &st));
    CHECK_INT(st, ==, 503);
    /* The others go on, and it never hears of their writes. */
    int lead2 = leader_or_fail(&c);
    CHECK(lead2 != gone);
    json_decref(t_json(&c, lead2, "POST", "/api/v1/namespaces/default/configmaps",
                       "{\"metadata\":{\"name\":\"after\"}}", &st));
    CHECK_INT(st, ==, 201);
    member_stop(&c, gone); /* exits cleanly */
}

TEST_T(reset_cluster_recovers_from_quorum_loss, 180)
{
    static const char *const reset[] = {"--reset-cluster", NULL};
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    struct load l = {0};

    cluster_init(&c, 4);
    c.n = 3;
    cluster_start(&c, NULL);
    load_start(&l, &c, 8);
    test_sleep_ms(1000);
    load_stop(&l);
    verify_everywhere(&c, &l); /* all caught up */
    int lead = leader_or_fail(&c);
    int survivor = (lead + 1) % 3;
    for (int i = 0; i < 3; i++)
        if (i != survivor) member_kill(&c, i);
    /* Without quorum the survivor cannot take writes... */
    CHECK(cluster_leader(&c, 3000) < 0);
    /* ...until it is reset into a one-member cluster with all its data. */
    member_stop(&c, survivor);
    member_start(&c, survivor, false, reset);
    member_wait_ready(&c, survivor, 10000);
    load_verify(&l, survivor);
    int st;
    json_t *w = t_json(&c, survivor, "POST", "/api/v1/namespaces/default/configmaps",
                       "{\"metadata\":{\"name\":\"after-reset\"}}", &st);
    CHECK_INT(st, ==, 201);
    json_decref(w);
    /* Others can join it again. */
    c.n = 4;
    member_start(&c, 3, true, NULL);
    member_wait_ready(&c, 3, 30000);
    member_wait_revision(&c, 3, member_revision(&c, survivor), 10000);
    load_verify(&l, 3);
    load_free(&l);
}
