/* test_watch.c — watches: backlog then live events in order with no gaps or
 * duplicates, prefix filtering, delete events carrying the prior entry,
 * stopping inside callbacks, compacted and shutdown endings. */
#include "tests/store/util.h"

#define MAX_EVENTS 4096

struct rec {
    int n;
    int64_t rev[MAX_EVENTS];
    int type[MAX_EVENTS];
    char key[MAX_EVENTS][32];
    char value[MAX_EVENTS][32];
    char prev_value[MAX_EVENTS][32];
    bool has_prev[MAX_EVENTS];
    int64_t create_rev[MAX_EVENTS], mod_rev[MAX_EVENTS], version[MAX_EVENTS];
    int ended; /* error that ended the watch */
    store_watch *w;
    int stop_after;       /* stop self after this many events (0: never) */
    store_watch **victim; /* stop this other watch on the first event */
};

static void rec_cb(void *arg, const struct store_event *ev, int err)
{
    struct rec *r = arg;

    if (ev == NULL) {
        r->ended = err;
        return;
    }
    CHECK(r->n < MAX_EVENTS);
    int i = r->n++;
    r->rev[i] = ev->revision;
    r->type[i] = ev->type;
    snprintf(r->key[i], sizeof r->key[i], "%s", ev->kv->key);
    snprintf(r->value[i], sizeof r->value[i], "%s", ev->kv->value);
    r->create_rev[i] = ev->kv->create_rev;
    r->mod_rev[i] = ev->kv->mod_rev;
    r->version[i] = ev->kv->version;
    r->has_prev[i] = ev->prev != NULL;
    if (ev->prev) snprintf(r->prev_value[i], sizeof r->prev_value[i], "%s", ev->prev->value);
    if (r->stop_after && r->n == r->stop_after) store_watch_stop(r->w);
    if (r->victim && *r->victim) {
        store_watch_stop(*r->victim);
        *r->victim = NULL;
    }
}

TEST(backlog_then_live_in_order)
{
    struct member m;
    static struct rec all, pods;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    put_ok(m.s, "/pods/a", "a1");   /* 1 */
    put_ok(m.s, "/nodes/x", "x1");  /* 2 */
    put_ok(m.s, "/pods/a", "a2");   /* 3 */
    del_ok(m.s, "/pods/a");         /* 4 */

    /* backlog after revision 1, delivered inside the call */
    CHECK_INT(store_watch_start(m.s, "", 1, rec_cb, &all, &all.w), ==, 0);
    CHECK_INT(all.n, ==, 3);
    CHECK_INT(store_watch_start(m.s, "/pods/", 0, rec_cb, &pods, &pods.w), ==, 0);
    CHECK_INT(pods.n, ==, 3);

    /* the delete carries the entry as it was, with mod_rev = delete revision */
    CHECK_INT(pods.type[2], ==, STORE_EVENT_DELETE);
    CHECK_INT(pods.rev[2], ==, 4);
    CHECK_STR(pods.value[2], "a2");
    CHECK_INT(pods.mod_rev[2], ==, 4);
    CHECK_INT(pods.create_rev[2], ==, 1);
    CHECK_INT(pods.version[2], ==, 2);
    CHECK(pods.has_prev[2]);
    CHECK_STR(pods.prev_value[2], "a2");
    CHECK(!pods.has_prev[0]);
    CHECK(pods.has_prev[1]);
    CHECK_STR(pods.prev_value[1], "a1");

    /* live: a txn with several ops, all in op order */
    struct store_op ops[] = {{STORE_PUT, "/pods/b", "b1", 2},
                             {STORE_PUT, "/nodes/y", "y1", 2},
                             {STORE_PUT, "/pods/b", "b2", 2},
                             {STORE_DELETE, "/pods/missing", NULL, 0}};
    struct store_txn t = {NULL, 0, ops, 4};
    CHECK_INT(txn_sync(m.s, &t, NULL), ==, 0);
    CHECK_INT(pods.n, ==, 5);
    CHECK_INT(pods.rev[3], ==, 5);
    CHECK_INT(pods.rev[4], ==, 5);
    CHECK_STR(pods.value[3], "b1");
    CHECK_STR(pods.value[4], "b2");
    CHECK_STR(pods.prev_value[4], "b1");
    CHECK_INT(pods.version[4], ==, 2);
    CHECK_INT(all.n, ==, 6);
    CHECK_STR(all.key[4], "/nodes/y");

    /* revisions never go back and every revision is covered */
    for (int i = 1; i < all.n; i++) CHECK(all.rev[i] >= all.rev[i - 1]);
    store_watch_stop(all.w);
    store_watch_stop(pods.w);
    put_ok(m.s, "/pods/c", "c");
    CHECK_INT(pods.n, ==, 5);
    member_close(&m);
    CHECK_INT(all.ended, ==, 0); /* stopped watches get no ending */
    loop_teardown();
}

static void count_cb(void *arg, int status, const struct store_txn_result *res)
{
    (void)res;
    if (status == 0) (*(int *)arg)++;
}

TEST(many_live_events_no_gaps)
{
    struct member m;
    static struct rec r;
    char key[32], val[32];
    int committed = 0;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    put_ok(m.s, "/k/0", "start");
    CHECK_INT(store_watch_start(m.s, "/k/", 0, rec_cb, &r, &r.w), ==, 0);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "/k/%d", i % 37);
        snprintf(val, sizeof val, "%d", i);
        struct store_op op = {STORE_PUT, key, val, strlen(val)};
        struct store_txn t = {NULL, 0, &op, 1};
        CHECK_INT(store_txn(m.s, &t, count_cb, &committed), ==, 0);
    }
    CHECK_INT(wait_rev(m.s, 2001, 20000), ==, 0);
    CHECK_INT(committed, ==, 2000);
    CHECK_INT(r.n, ==, 2001);
    for (int i = 0; i < r.n; i++) CHECK_INT(r.rev[i], ==, i + 1);
    for (int i = 1; i < r.n; i++) {
        snprintf(val, sizeof val, "%d", i - 1);
        CHECK_STR(r.value[i], val);
    }
    store_watch_stop(r.w);
    member_close(&m);
    loop_teardown();
}

TEST(stop_inside_callbacks)
{
    struct member m;
    static struct rec self, killer, victim, after;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    for (int i = 0; i < 5; i++) put_ok(m.s, "/s/k", "v");

    /* stops itself in the backlog */
    self.stop_after = 2;
    CHECK_INT(store_watch_start(m.s, "/s/", 0, rec_cb, &self, &self.w), ==, 0);
    CHECK_INT(self.n, ==, 2);

    /* one watch stops another during live delivery */
    CHECK_INT(store_watch_start(m.s, "/s/", 5, rec_cb, &killer, &killer.w), ==, 0);
    CHECK_INT(store_watch_start(m.s, "/s/", 5, rec_cb, &victim, &victim.w), ==, 0);
    store_watch *victim_w = victim.w;
    killer.victim = &victim_w;
    /* and one stops itself on its first live event */
    after.stop_after = 1;
    CHECK_INT(store_watch_start(m.s, "/s/", 5, rec_cb, &after, &after.w), ==, 0);
    struct store_op ops[] = {{STORE_PUT, "/s/a", "1", 1}, {STORE_PUT, "/s/b", "2", 1}};
    struct store_txn t = {NULL, 0, ops, 2};
    CHECK_INT(txn_sync(m.s, &t, NULL), ==, 0);
    CHECK_INT(killer.n, ==, 2);
    CHECK_INT(victim.n, ==, 0);
    CHECK_INT(after.n, ==, 1);
    put_ok(m.s, "/s/c", "3");
    CHECK_INT(killer.n, ==, 3);
    CHECK_INT(after.n, ==, 1);
    CHECK_INT(self.n, ==, 2);
    store_watch_stop(killer.w);
    member_close(&m);
    loop_teardown();
}

/* A watch started inside another watch's callback sees no duplicates. */
struct nest {
    store *s;
    struct rec inner;
    bool started;
};

static void nest_cb(void *arg, const struct store_event *ev, int err)
{
    struct nest *n = arg;
    if (ev == NULL || n->started) return;
    (void)err;
    n->started = true;
    CHECK_INT(store_watch_start(n->s, "", ev->revision - 1, rec_cb, &n->inner, &n->inner.w), ==, 0);
}

TEST(watch_started_inside_callback)
{
    struct member m;
    static struct nest n;
    store_watch *outer;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    put_ok(m.s, "/a", "0");
    n.s = m.s;
    CHECK_INT(store_watch_start(m.s, "", 1, nest_cb, &n, &outer), ==, 0);
    struct store_op ops[] = {{STORE_PUT, "/a", "1", 1}, {STORE_PUT, "/b", "2", 1}};
    struct store_txn t = {NULL, 0, ops, 2};
    CHECK_INT(txn_sync(m.s, &t, NULL), ==, 0);
    CHECK(n.started);
    CHECK_INT(n.inner.n, ==, 2);
    CHECK_STR(n.inner.key[0], "/a");
    CHECK_STR(n.inner.key[1], "/b");
    put_ok(m.s, "/c", "3");
    CHECK_INT(n.inner.n, ==, 3);
    store_watch_stop(outer);
    store_watch_stop(n.inner.w);
    member_close(&m);
    loop_teardown();
}

TEST(compacted_and_shutdown_endings)
{
    struct member m;
    static struct rec r, big;
    store_watch *w;

    loop_setup();
    member_init(&m, 1);
    m.cfg.watch_history = 8;
    single_up(&m);
    for (int i = 0; i < 20; i++) put_ok(m.s, "/k", "v");
    CHECK_INT(store_compact_revision(m.s), ==, 12);
    CHECK_INT(store_watch_start(m.s, "", 11, rec_cb, &r, &w), ==, ORC_ECOMPACTED);
    CHECK_INT(store_watch_start(m.s, "", 12, rec_cb, &r, &r.w), ==, 0);
    CHECK_INT(r.n, ==, 8);
    CHECK_INT(r.rev[0], ==, 13);

    /* a txn with more ops than the ring holds cuts off a live watch */
    CHECK_INT(store_watch_start(m.s, "/", 20, rec_cb, &big, &big.w), ==, 0);
    struct store_op ops[10];
    char keys[10][8];
    for (int i = 0; i < 10; i++) {
        snprintf(keys[i], sizeof keys[i], "/b%d", i);
        ops[i] = (struct store_op){STORE_PUT, keys[i], "x", 1};
    }
    struct store_txn t = {NULL, 0, ops, 10};
    CHECK_INT(txn_sync(m.s, &t, NULL), ==, 0);
    CHECK_INT(big.ended, ==, ORC_ECOMPACTED);
    CHECK_INT(r.ended, ==, ORC_ECOMPACTED);

    static struct rec last;
    CHECK_INT(store_watch_start(m.s, "", store_revision(m.s), rec_cb, &last, &last.w), ==, 0);
    member_close(&m);
    CHECK_INT(last.ended, ==, ORC_ESHUTDOWN);
    loop_teardown();
}
