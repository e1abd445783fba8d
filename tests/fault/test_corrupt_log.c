/* test_corrupt_log.c — one flipped byte in the newest Raft segment of a
 * real orcd member. A single member holding ~2,000 acknowledged objects
 * refuses to start, saying which file and what would be lost (it used to
 * come back ready and empty); with --discard-corrupt-log it starts and says
 * what it dropped. A follower of a three-member cluster starts, says it
 * catches up from the leader, and ends with every object. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/disk.h"
#include "tests/harness/load.h"
#include "tests/harness/test.h"

#define OBJECTS 2000

/* Writers until n objects are acknowledged. */
static void write_objects(struct load *l, struct cluster *c, size_t n)
{
    uint64_t end = test_now_ms() + 40000;

    load_start(l, c, 16);
    while (load_acked(l) < n && test_now_ms() < end) test_sleep_ms(20);
    load_stop(l);
    CHECKF(l->n_acks >= n, "only %zu writes acknowledged", l->n_acks);
}

/* The member must exit by itself, non-zero, within timeout_ms. */
static int wait_exit(struct member *m, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    int status = 0;

    while (waitpid(m->pid, &status, WNOHANG) == 0) {
        CHECKF(test_now_ms() < end, "the member still runs %u ms after start (log %s)",
               timeout_ms, m->log);
        test_sleep_ms(20);
    }
    m->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static size_t count_objects(struct cluster *c, int i)
{
    int st;
    json_t *list = t_json(c, i, "GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0",
                          NULL, &st);
    size_t n = json_array_size(json_object_get(list, "items"));

    CHECKF(st == 200, "list on member %d: HTTP %d", i, st);
    json_decref(list);
    return n;
}

static void flip_newest(const struct member *m, char *seg, size_t n)
{
    char raft[600];

    snprintf(raft, sizeof raft, "%s/raft", m->dir);
    disk_newest_segment(raft, seg, n);
    disk_flip_middle(seg);
}

TEST_T(single_member_with_flipped_byte_refuses_to_start, 90)
{
    static const char *const discard[] = {"--discard-corrupt-log", NULL};
    static struct cluster c;
    struct load l = {0};
    char seg[600];
    const char *name;

    cluster_init(&c, 1);
    cluster_start(&c, NULL);
    write_objects(&l, &c, OBJECTS);
    member_stop(&c, 0);
    flip_newest(&c.m[0], seg, sizeof seg);
    name = strrchr(seg, '/') + 1;

    /* It does not come back (ready and empty): it stops, naming the file,
     * what would be lost, and how to go on. */
    member_start(&c, 0, false, NULL);
    int code = wait_exit(&c.m[0], 20000);
    CHECKF(code != 0, "exit status %d", code);
    CHECKF(file_has(c.m[0].log, 0, name), "the log does not name %s (log %s)", name, c.m[0].log);
    CHECKF(file_has(c.m[0].log, 0, "would be lost"), "the log does not say what is lost (log %s)",
           c.m[0].log);
    CHECKF(file_has(c.m[0].log, 0, "--discard-corrupt-log"), "no way out is named (log %s)", c.m[0].log);
    CHECK_INT(disk_count_dirs(c.m[0].dir, "raft-corrupt-"), ==, 0);

    /* The operator accepts the loss: it starts with what is intact. */
    member_start(&c, 0, false, discard);
    member_wait_ready(&c, 0, 20000);
    CHECKF(file_has(c.m[0].log, 0, "discarded entries"), "the log does not say what was dropped");
    size_t n = count_objects(&c, 0);
    printf("# %zu of %zu acknowledged objects kept\n", n, l.n_acks);
    CHECK(n > 0 && n < l.n_acks);
    CHECK_INT(disk_count_dirs(c.m[0].dir, "raft-corrupt-"), ==, 1);
    member_stop(&c, 0);
    load_free(&l);
}

TEST_T(follower_with_flipped_byte_catches_up_from_the_leader, 120)
{
    static struct cluster c;
    struct load l = {0};
    char seg[600];
    int st;

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    int lead = cluster_leader(&c, 10000);
    CHECK(lead >= 0);
    int f = (lead + 1) % 3;
    write_objects(&l, &c, OBJECTS);
    member_wait_revision(&c, f, member_revision(&c, lead), 15000);
    member_stop(&c, f);
    flip_newest(&c.m[f], seg, sizeof seg);
    /* the cluster goes on without it */
    json_t *o = t_json(&c, lead, "POST", "/api/v1/namespaces/default/configmaps",
                       "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                       "{\"name\":\"while-away\"}}", &st);
    json_decref(o);
    CHECK_INT(st, ==, 201);

    member_start(&c, f, false, NULL);
    member_wait_ready(&c, f, 30000);
    CHECKF(file_has(c.m[f].log, 0, "catch up from the leader"), "the log does not say it catches up "
           "(log %s)", c.m[f].log);
    CHECK_INT(disk_count_dirs(c.m[f].dir, "raft-corrupt-"), ==, 1);
    load_verify(&l, f); /* every acknowledged object, once */
    CHECK_INT(count_objects(&c, f), ==, count_objects(&c, lead)); /* and only those */
    for (int i = 0; i < 3; i++) member_stop(&c, i);
    load_free(&l);
}
