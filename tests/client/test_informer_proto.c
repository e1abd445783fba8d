/* test_informer_proto.c — the informer against a scripted server: the exact
 * list and watch URLs, event lines split anywhere across chunks, bookmarks,
 * 410 (status or ERROR event) leading to a relist, other failures to a
 * re-watch with back-off, and a client closed under a running informer. */
#include "client/informer.h"
#include "lib/json.h"
#include "tests/client/fx.h"

#define MAXREQ 32

static struct {
    int lists, watches;
    char paths[MAXREQ][512];
    uint64_t at[MAXREQ];
    int n;
    int list_fail;         /* answer this many lists with 500 first */
    int watch_410;         /* answer this many watches with 410 first */
    const char *list_body; /* reply to a successful list ... */
    const char *list_body2; /* ... or, when set, to lists after the switch_at-th */
    int switch_at;
    struct srv_conn *watch;
} S;

static void handler(struct srv_conn *sc, const struct srv_req *rq)
{
    if (S.n < MAXREQ) {
        snprintf(S.paths[S.n], sizeof S.paths[0], "%s", rq->path);
        S.at[S.n++] = test_now_ms();
    }
    if (strstr(rq->path, "watch=1") == NULL) {
        S.lists++;
        if (S.list_fail > 0 && S.list_fail--) srv_reply(sc, 500, "", "{\"kind\":\"Status\"}");
        else srv_reply(sc, 200, "Content-Type: application/json\r\n",
                       S.list_body2 && S.lists > S.switch_at ? S.list_body2 : S.list_body);
        return;
    }
    S.watches++;
    if (S.watch_410 > 0) {
        S.watch_410--;
        srv_reply(sc, 410, "", "{\"kind\":\"Status\",\"code\":410}");
        return;
    }
    S.watch = sc;
    srv_sendf(sc, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
}

static void chunk(const char *text) { srv_sendf(S.watch, "%zx\r\n%s\r\n", strlen(text), text); }

static void end_stream(void)
{
    srv_sendf(S.watch, "0\r\n\r\n");
    S.watch = NULL;
}

/* ---- recording callbacks ---- */

struct rec {
    struct orc_buf log;
    int n, synced;
    informer *inf;
};

static void rec_note(struct rec *r, const char *what, const json_t *obj)
{
    const char *name = obj ? orc_json_str(obj, "metadata.name") : NULL;
    orc_buf_printf(&r->log, "%s%s%s ", what, name ? ":" : "", name ? name : "");
    r->n++;
}
static void r_add(void *a, const json_t *o) { rec_note(a, "A", o); }
static void r_upd(void *a, const json_t *old, const json_t *o) { (void)old; rec_note(a, "U", o); }
static void r_del(void *a, const json_t *o) { rec_note(a, "D", o); }
static void r_sync(void *a) { ((struct rec *)a)->synced++; rec_note(a, "S", NULL); }
static const struct informer_cbs rcbs = {r_add, r_upd, r_del, r_sync};

static const char *text(struct rec *r) { return r->log.data ? r->log.data : ""; }

static void begin(struct fx *f, struct rec *r, const struct informer_config *cfg)
{
    memset(&S, 0, sizeof S);
    memset(r, 0, sizeof *r);
    fx_init(f, handler);
    CHECK_INT(informer_start(&f->loop, f->c, cfg, &rcbs, r, &r->inf), ==, 0);
}

static void finish(struct fx *f, struct rec *r)
{
    informer_stop(r->inf);
    orc_buf_free(&r->log);
    fx_done(f);
}

#define POD(name, rv) "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"d\",\"resourceVersion\":\"" rv "\"}}"
#define EV(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"

TEST(urls_and_lines_split_across_chunks)
{
    static struct fx f;
    static struct rec r;
    struct informer_config cfg = {.path = "/api/v1/pods", .field_selector = "spec.nodeName=node1",
                                  .label_selector = "app in (a,b)"};

    begin(&f, &r, &cfg);
    S.list_body = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[" POD("p1", "3") "]}";
    WAIT_UNTIL(&f.loop, S.watch != NULL, 5000);
    CHECK_STR(S.paths[0], "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode1"
                          "&labelSelector=app%20in%20%28a%2Cb%29");
    CHECK_STR(S.paths[1], "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode1"
                          "&labelSelector=app%20in%20%28a%2Cb%29"
                          "&watch=1&resourceVersion=5&allowWatchBookmarks=true");
    CHECK_STR(text(&r), "A:p1 S ");
    CHECK(informer_synced(r.inf));
    static const char ev[] = EV("ADDED", POD("p2", "6")) EV("MODIFIED", POD("p1", "7"))
        EV("DELETED", POD("p2", "8")) "\n" EV("BOOKMARK", "{\"metadata\":{\"resourceVersion\":\"9\"}}");
    /* every split point, one byte at a time for the first event */
    for (size_t i = 0; i < 40; i++) {
        char one[2] = {ev[i], 0};
        chunk(one);
        run_for(&f.loop, 1);
    }
    char rest[sizeof ev];
    size_t cut = sizeof ev - 1 - 20;
    snprintf(rest, sizeof rest, "%.*s", (int)(cut - 40), ev + 40);
    chunk(rest);
    WAIT_UNTIL(&f.loop, r.n >= 5, 5000);
    CHECK_STR(text(&r), "A:p1 S A:p2 U:p1 D:p2 ");
    chunk(ev + cut);
    run_for(&f.loop, 20);
    CHECK(informer_get(r.inf, "d", "p1") != NULL);
    CHECK(informer_get(r.inf, "d", "p2") == NULL);
    /* a stream that worked and ended is resumed at once from the bookmark */
    end_stream();
    WAIT_UNTIL(&f.loop, S.watches == 2, 5000);
    CHECK(strstr(S.paths[2], "&resourceVersion=9&") != NULL);
    CHECK_INT(S.lists, ==, 1);
    finish(&f, &r);
}

TEST(gone_relists_other_failures_back_off)
{
    static struct fx f;
    static struct rec r;
    struct informer_config cfg = {.path = "/api/v1/namespaces/d/pods", .resync_backoff_max_ms = 300};

    begin(&f, &r, &cfg);
    S.list_fail = 3;
    S.list_body = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("p1", "3") "," POD("p2", "4") "]}";
    S.list_body2 = "{\"metadata\":{\"resourceVersion\":\"12\"},\"items\":[" POD("p1", "11") "]}";
    S.switch_at = 4;
    S.watch_410 = 1;
    WAIT_UNTIL(&f.loop, S.watch != NULL, 5000);
    CHECK_INT(S.lists, ==, 5);
    /* back-off 200, 300 (capped), 300 between the failed lists */
    CHECK_INT(S.at[1] - S.at[0], >=, 190);
    CHECK_INT(S.at[2] - S.at[1], >=, 290);
    CHECK_INT(S.at[3] - S.at[2], >=, 290);
    CHECK(strstr(S.paths[3], "?") == NULL);
    CHECK(strstr(S.paths[4], "watch=1&resourceVersion=10&") != NULL);
    CHECK(strstr(S.paths[6], "watch=1&resourceVersion=12&") != NULL);
    /* the 410 answer led to a relist at once, showing p1 changed, p2 gone */
    CHECK_INT(S.at[5] - S.at[4], <, 150);
    CHECK_STR(text(&r), "A:p1 A:p2 S U:p1 D:p2 ");
    CHECK_INT(r.synced, ==, 1);
    /* an ERROR event with 410 relists too */
    int lists = S.lists;
    chunk(EV("ERROR", "{\"kind\":\"Status\",\"code\":410,\"message\":\"too old\"}"));
    S.watch = NULL; /* the informer drops that connection */
    WAIT_UNTIL(&f.loop, S.lists == lists + 1 && S.watch != NULL, 5000);
    CHECK_INT(S.lists, ==, lists + 1);
    /* another ERROR re-watches from the same revision after a back-off */
    int watches = S.watches;
    uint64_t t0 = test_now_ms();
    chunk(EV("ERROR", "{\"kind\":\"Status\",\"code\":500,\"message\":\"boom\"}"));
    S.watch = NULL;
    WAIT_UNTIL(&f.loop, S.watches == watches + 1, 5000);
    CHECK_INT(test_now_ms() - t0, >=, 190);
    CHECK_INT(S.lists, ==, lists + 1);
    CHECK(strstr(S.paths[S.n - 1], "resourceVersion=12&") != NULL);
    CHECK_STR(text(&r), "A:p1 A:p2 S U:p1 D:p2 ");
    /* a server that keeps saying 410 is relisted with back-off, not in a loop */
    S.watch_410 = 1000;
    lists = S.lists;
    chunk(EV("ERROR", "{\"kind\":\"Status\",\"code\":410,\"message\":\"too old\"}"));
    S.watch = NULL;
    run_for(&f.loop, 1000);
    CHECK_INT(S.lists - lists, >=, 2);
    CHECK_INT(S.lists - lists, <=, 6);
    finish(&f, &r);
}

TEST(client_closed_under_a_running_informer)
{
    static struct fx f;
    static struct rec r;
    struct informer_config cfg = {.path = "/api/v1/nodes"};

    begin(&f, &r, &cfg);
    S.list_body = "{\"metadata\":{\"resourceVersion\":\"2\"},\"items\":[]}";
    WAIT_UNTIL(&f.loop, S.watch != NULL, 5000);
    http_client_close(f.c, fx_set_flag, &f.closed);
    run_until(&f.loop, &f.closed, 5000);
    f.c = NULL;
    run_for(&f.loop, 50);
    CHECK_INT(S.watches, ==, 1); /* idle: nothing to retry on */
    CHECK_STR(text(&r), "S ");
    finish(&f, &r);
}

TEST(stop_with_the_list_in_flight)
{
    static struct fx f;
    static struct rec r;
    struct informer_config cfg = {.path = "/api/v1/nodes"};

    begin(&f, &r, &cfg);
    S.list_body = "{\"metadata\":{\"resourceVersion\":\"2\"},\"items\":[" POD("n", "1") "]}";
    informer_stop(r.inf);
    r.inf = NULL;
    run_for(&f.loop, 100);
    CHECK_INT(r.n, ==, 0);
    finish(&f, &r);
}

#define BOUND(name, rv, node) "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"d\",\"resourceVersion\":\"" rv "\"},\"spec\":{\"nodeName\":\"" node "\"}}"

/* A relist after a 410 keeps the indexes right: values that moved, objects
 * gone, objects new; and a late handler is replayed the relisted cache. */
TEST(relist_keeps_indexes)
{
    static struct fx f;
    static struct rec r, late;
    struct informer_config cfg = {.path = "/api/v1/namespaces/d/pods"};

    begin(&f, &r, &cfg);
    CHECK_INT(informer_add_index(r.inf, "node", informer_index_node_name), ==, 0);
    S.list_body = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" BOUND("p1", "3", "n1")
                  "," BOUND("p2", "4", "n1") "," POD("p3", "5") "]}";
    S.list_body2 = "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[" BOUND("p1", "11", "n2")
                   "," BOUND("p3", "12", "n1") "," BOUND("p4", "13", "n1") "]}";
    S.switch_at = 1;
    WAIT_UNTIL(&f.loop, S.watch != NULL, 5000);
    CHECK_INT(informer_index_count(r.inf, "node", "n1"), ==, 2);
    CHECK_INT(informer_index_count(r.inf, "node", "n2"), ==, 0);
    chunk(EV("MODIFIED", BOUND("p2", "6", "n2")));
    WAIT_UNTIL(&f.loop, informer_index_count(r.inf, "node", "n2") == 1, 5000);
    CHECK_INT(informer_index_count(r.inf, "node", "n1"), ==, 1);
    chunk(EV("ERROR", "{\"kind\":\"Status\",\"code\":410,\"message\":\"too old\"}"));
    S.watch = NULL;
    WAIT_UNTIL(&f.loop, S.lists == 2 && S.watch != NULL, 5000);
    CHECK_STR(text(&r), "A:p1 A:p2 A:p3 S U:p2 U:p1 U:p3 A:p4 D:p2 ");
    CHECK_INT(informer_size(r.inf), ==, 3);
    CHECK_INT(informer_index_count(r.inf, "node", "n1"), ==, 2); /* p3, p4 */
    CHECK_INT(informer_index_count(r.inf, "node", "n2"), ==, 1); /* p1 */
    CHECK_INT(informer_add_handler(r.inf, &rcbs, &late), ==, 0);
    WAIT_UNTIL(&f.loop, late.synced == 1, 5000);
    CHECK_INT(late.n, ==, 4); /* three adds, then synced */
    orc_buf_free(&late.log);
    finish(&f, &r);
}
