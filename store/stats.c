/* stats.c — figures the store keeps for metrics without walking its keys:
 * keys counted by prefix as entries apply (rebuilt from the database only
 * at open, restore and a loaded backup), and the store's Prometheus
 * families (commit latency, snapshots, leader changes) in the process
 * registry (lib/metrics.h). */
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "store/store_int.h"

/* Commit: from a txn queued on the leader to its result applied there;
 * 0.25 ms .. ~8 s, doubling (etcd's disk histograms' shape). */
static const double commit_buckets[] = {0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032,
                                        0.064,   0.128,  0.256, 0.512, 1.024, 2.048, 4.096, 8.192};
static const double snapshot_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60};

static struct orc_series *histogram(const char *name, const char *help, const double *b, size_t n)
{
    struct orc_metric_opts o = {.name = name, .help = help, .type = ORC_METRIC_HISTOGRAM, .buckets = b,
                                .n_buckets = n};
    return orc_metric_with(orc_metric_register(orc_metrics_default(), &o), NULL);
}

void store__metric_commit(uint64_t queued_ns)
{
    static struct orc_series *h;

    if (h == NULL)
        h = histogram("orc_store_commit_duration_seconds",
                      "Time from a transaction proposed on the leader to its result applied there.",
                      commit_buckets, sizeof commit_buckets / sizeof *commit_buckets);
    orc_series_observe(h, (double)(uv_hrtime() - queued_ns) / 1e9);
}

void store__metric_snapshot(store *s)
{
    static struct orc_series *h;

    if (s->snapshot_start == 0) return;
    if (h == NULL)
        h = histogram("orc_store_snapshot_duration_seconds",
                      "Time to take a snapshot of the store's database, from start to stored.",
                      snapshot_buckets, sizeof snapshot_buckets / sizeof *snapshot_buckets);
    orc_series_observe(h, (double)(uv_hrtime() - s->snapshot_start) / 1e9);
    s->snapshot_start = 0;
}

void store__metric_tick(store *s)
{
    static struct orc_series *c;
    raft_id id = 0;
    const char *addr = NULL;

    raft_leader(&s->raft, &id, &addr);
    if (id == 0 || id == s->seen_leader) return;
    if (c == NULL) {
        struct orc_metric_opts o = {.name = "orc_raft_leader_changes_total",
                                    .help = "Leaders this member has seen take over (its first one included).",
                                    .type = ORC_METRIC_COUNTER};
        c = orc_metric_with(orc_metric_register(orc_metrics_default(), &o), NULL);
    }
    s->seen_leader = id;
    orc_series_inc(c);
}

/* ---- keys by prefix ---- */

/* The key's first four segments with their slashes, or 0. */
static size_t prefix_len(const char *key)
{
    int slashes = 0;

    for (size_t i = 0; key[i]; i++)
        if (key[i] == '/' && ++slashes == 4) return i + 1;
    return 0;
}

static struct store_prefix_count *slot_of(store *s, const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;

    if (len == 0 || len >= STORE_COUNT_PREFIX) return NULL;
    for (i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    for (size_t n = 0; n < STORE_COUNT_SLOTS; n++) {
        struct store_prefix_count *c = &s->counts[(h + n) % STORE_COUNT_SLOTS];
        if (c->prefix[0] == '\0') {
            memcpy(c->prefix, key, len);
            c->prefix[len] = '\0';
            return c;
        }
        if (strncmp(c->prefix, key, len) == 0 && c->prefix[len] == '\0') return c;
    }
    return NULL; /* more prefixes than slots: the rest go uncounted */
}

void store__count_key(store *s, const char *key, int delta)
{
    struct store_prefix_count *c = slot_of(s, key, prefix_len(key));
    if (c) c->n += delta;
}

static void count_one(void *arg, const char *key) { store__count_key(arg, key, 1); }

void store__count_rebuild(store *s)
{
    memset(s->counts, 0, sizeof s->counts);
    if (store__db_each_key(&s->db, count_one, s) != 0)
        log_warn("store", "counting keys for metrics failed; object counts are wrong until restart");
}

void store_prefix_counts(const store *s, void (*fn)(void *arg, const char *prefix, int64_t n), void *arg)
{
    for (size_t i = 0; i < STORE_COUNT_SLOTS; i++)
        if (s->counts[i].prefix[0]) fn(arg, s->counts[i].prefix, s->counts[i].n);
}

void store_stats(store *s, struct store_stats *out)
{
    raft_id id = 0;
    const char *addr = NULL;

    raft_leader(&s->raft, &id, &addr);
    out->applied_index = store_applied_index(s);
    out->term = s->raft.current_term;
    out->revision = s->revision;
    out->db_bytes = store__db_bytes(&s->db);
    out->is_leader = store_is_leader(s);
    out->has_leader = id != 0;
}
