/* informer.c — list + watch + cache of one collection (see informer.h): one
 * call in flight at a time, one timer for back-off and watch liveness,
 * another for replaying the cache to handlers added late. */
#include "client/informer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/informer_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

/* ---- lifetime ---- */

static void inf_free(informer *inf)
{
    inf__cache_free(inf);
    orc_buf_free(&inf->pending);
    free(inf->path);
    free(inf->query);
    free(inf);
}

void inf__hold(informer *inf) { inf->refs++; }

void inf__release(informer *inf)
{
    if (--inf->refs == 0) inf_free(inf);
}

static void timer_closed(uv_handle_t *h) { inf__release(h->data); }

void informer_stop(informer *inf)
{
    if (inf == NULL || inf->stopped) return;
    inf->stopped = true;
    if (inf->call) {
        inf->canceled = true;
        http_call_cancel(inf->call); /* its callback drops the call's reference */
    }
    uv_close((uv_handle_t *)&inf->timer, timer_closed);
    uv_close((uv_handle_t *)&inf->replay, timer_closed);
    inf__release(inf); /* the caller's */
}

/* ---- failures, back-off and their log ---- */

static const char *what_name(enum inf_next what) { return what == INF_LIST ? "list" : "watch"; }

static void describe(int err, int status, char *out, size_t n)
{
    if (err != 0) snprintf(out, n, "%s", orc_strerror(err));
    else snprintf(out, n, "HTTP %d", status);
}

/* A call worked: the next failure is logged again. Only a watch that
 * delivers events resets the back-off, so a server that answers lists but
 * breaks every watch (or always says 410) is retried ever more slowly. */
void inf__succeeded(informer *inf, enum inf_next what)
{
    if (inf->failures > 0)
        log_info("informer", "%s: recovered (%s succeeded) after %u failed attempts", inf->path,
                 what_name(what), inf->failures);
    inf->failures = 0;
    inf->last_cause = 0;
    if (what == INF_WATCH) {
        inf->backoff = 0;
        inf->gone_streak = 0;
    }
}

unsigned inf__backoff_step(informer *inf)
{
    inf->backoff = inf->backoff ? inf->backoff * 2 : BACKOFF_MIN_MS;
    if (inf->backoff > inf->backoff_max) inf->backoff = inf->backoff_max;
    return inf->backoff;
}

/* Logs a failure when its cause differs from the last one (so a long outage
 * is one line) and schedules `what` after the next back-off step. */
void inf__failed(informer *inf, enum inf_next what, int err, int status)
{
    int cause = err != 0 ? err : status;
    unsigned delay = inf__backoff_step(inf);
    char why[64];

    inf->failures++;
    describe(err, status, why, sizeof why);
    if (cause != inf->last_cause)
        log_warn("informer", "%s: %s failed (%s); retrying with back-off up to %u ms", inf->path,
                 what_name(what), why, inf->backoff_max);
    else
        log_debug("informer", "%s: %s failed again (%s); retry in %u ms", inf->path,
                  what_name(what), why, delay);
    inf->last_cause = cause;
    inf__schedule(inf, what, delay);
}

/* ---- scheduling ---- */

static void on_timer(uv_timer_t *t)
{
    informer *inf = t->data;

    if (inf->stopped) return;
    if (inf->call) {
        inf__watch_check(inf);
        return;
    }
    if (inf->next == INF_LIST) inf__list(inf);
    else inf__watch(inf);
}

void inf__schedule(informer *inf, enum inf_next what, unsigned delay_ms)
{
    inf->next = what;
    uv_timer_start(&inf->timer, on_timer, delay_ms, 0);
}

void inf__arm_watchdog(informer *inf, unsigned every_ms)
{
    uv_timer_start(&inf->timer, on_timer, every_ms, every_ms);
}

void inf__disarm(informer *inf) { uv_timer_stop(&inf->timer); }

void inf__saw_version(informer *inf, const char *rv)
{
    char *end;
    long long v;

    if (rv == NULL || *rv == '\0') return;
    v = strtoll(rv, &end, 10);
    if (*end == '\0' && v > inf->rv) inf->rv = v;
}

/* ---- public ---- */

static int append_param(struct orc_buf *q, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    int rv = orc_buf_printf(q, "%s%s=", q->len ? "&" : "", name);

    for (const char *p = value; rv == 0 && *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            rv = orc_buf_append(q, p, 1);
        else
            rv = orc_buf_printf(q, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
    }
    return rv;
}

/* inf->query: the selectors, URL-encoded, "" when none. */
static int build_query(informer *inf, const struct informer_config *cfg)
{
    struct orc_buf q = ORC_BUF_INIT;
    int rv = orc_buf_puts(&q, "");

    if (rv == 0 && cfg->field_selector && *cfg->field_selector)
        rv = append_param(&q, "fieldSelector", cfg->field_selector);
    if (rv == 0 && cfg->label_selector && *cfg->label_selector)
        rv = append_param(&q, "labelSelector", cfg->label_selector);
    if (rv != 0) {
        orc_buf_free(&q);
        return ORC_ENOMEM;
    }
    inf->query = orc_buf_steal(&q, NULL);
    return 0;
}

/* The callbacks given to informer_start hear everything from the start. */
static int first_handler(informer *inf, const struct informer_cbs *cbs, void *arg)
{
    struct inf_handler *h = calloc(1, sizeof *h);

    if (h == NULL) return ORC_ENOMEM;
    h->cbs = *cbs;
    h->arg = arg;
    orc_list_push(&inf->handlers, &h->link);
    return 0;
}

int informer_start(uv_loop_t *loop, http_client *c, const struct informer_config *cfg,
                   const struct informer_cbs *cbs, void *arg, informer **out)
{
    informer *inf;
    int rv;

    if (loop == NULL || c == NULL || cfg == NULL || out == NULL || cfg->path == NULL ||
        cfg->path[0] != '/')
        return ORC_EINVAL;
    inf = calloc(1, sizeof *inf);
    if (inf == NULL) return ORC_ENOMEM;
    inf->loop = loop;
    inf->c = c;
    orc_list_init(&inf->handlers);
    orc_list_init(&inf->indexes);
    inf->backoff_max = cfg->resync_backoff_max_ms ? cfg->resync_backoff_max_ms : BACKOFF_MAX_MS;
    if (inf->backoff_max < BACKOFF_MIN_MS) inf->backoff_max = BACKOFF_MIN_MS;
    inf->refs = 1;
    inf->path = strdup(cfg->path);
    rv = inf->path ? build_query(inf, cfg) : ORC_ENOMEM;
    if (rv == 0 && cbs) rv = first_handler(inf, cbs, arg);
    if (rv == 0) rv = inf__list_begin(inf);
    if (rv != 0) {
        inf_free(inf);
        return rv;
    }
    uv_timer_init(loop, &inf->timer);
    inf->timer.data = inf;
    uv_timer_init(loop, &inf->replay);
    inf->replay.data = inf;
    inf->refs += 2; /* the timers', until they are closed */
    *out = inf;
    return 0;
}

const json_t *informer_get(const informer *inf, const char *ns, const char *name)
{
    char key[INF_KEY_MAX];
    const struct inf_item *it;

    if (inf == NULL || inf->stopped || name == NULL) return NULL;
    if (inf__make_key(ns, name, key, sizeof key) != 0) return NULL;
    it = inf__find(inf, key);
    return it ? it->obj : NULL;
}

bool informer_synced(const informer *inf) { return inf && !inf->stopped && inf->synced; }

size_t informer_size(const informer *inf) { return inf && !inf->stopped ? inf->cache.size : 0; }

void informer_each(const informer *inf, void (*fn)(void *arg, const json_t *obj), void *arg)
{
    const struct orc_hnode *n;

    if (inf == NULL || fn == NULL) return;
    for (n = orc_hmap_first(&inf->cache); n && !inf->stopped; n = orc_hmap_next(&inf->cache, n))
        fn(arg, ORC_CONTAINER(n, const struct inf_item, node)->obj);
}
