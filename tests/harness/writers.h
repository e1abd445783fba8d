/* writers.h — the fault suite's client: concurrent writers that each make
 * a sequence of logical writes (writer W's S-th write creates the key or
 * ConfigMap named "wW-S" if absent), through any member, the way a careful
 * client retries. On a connection error, timeout or 5xx the same logical
 * write is sent again on the next member; an "already exists" answer then
 * means an earlier attempt was applied. So afterwards:
 *   - lost: an acknowledged write that is not stored (or stored from
 *     another attempt than the one answered 201: a false success);
 *   - duplicated: a write applied more often than the client sent it,
 *     seen as "already exists" for a name the client had never sent
 *     before (only attempts that never reached a server, or none).
 * Two dialects share the writer: orc's API (POST a ConfigMap over HTTPS,
 * data.attempt = the attempt) and etcd's JSON gateway (a txn putting the
 * key "f/wW-S" with the attempt as value if its create revision is 0).
 * Beside the writers, a probe sends a fresh create ("pN") every
 * WRITERS_PROBE_MS to the endpoints in turn, each on its own and never
 * retried: a write sent after a fault that succeeds tells when the
 * cluster took writes again, whatever the writers' requests in flight
 * at the fault are still waiting for. Probes count as writes (lost,
 * duplicated) like the others.
 * The writers run on their own thread and loop; read the results only
 * after writers_stop(), except through writers_acks_after(). */
#ifndef ORC_TEST_WRITERS_H
#define ORC_TEST_WRITERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/http.h"

#define WRITERS_MAX_EP 5
#define WRITERS_PROBE_MS 25

enum writers_dialect { WRITERS_ORC, WRITERS_ETCD };

struct writers_ack {
    int writer, seq;   /* a probe: writer -1, seq its number */
    int attempt;       /* the attempt answered 201 / succeeded, or -1 when
                        * acknowledged by "already exists" after an unknown outcome */
    uint64_t sent_ms;  /* when the answered attempt was sent (test_now_ms) */
    uint64_t done_ms;
};

struct writers_stats {
    size_t attempts, created, exists, unknown; /* unknown: errors, timeouts, 5xx */
    size_t refused;                            /* never reached a server */
    size_t status_500, status_503, status_504, other;
    size_t probes, probes_acked;
    unsigned max_wait_ms[WRITERS_MAX_EP]; /* longest answer (or failure) per endpoint */
};

struct writers {
    enum writers_dialect dialect;
    int n_ep;
    char url[WRITERS_MAX_EP][128];
    const char *token;           /* orc: bearer token (copied by the client) */
    const struct http_tls *tls;  /* orc: trust */
    int count;                   /* writers */
    unsigned attempt_timeout_ms; /* default 8000 */
    /* results (see the note above) */
    struct writers_ack *acks;
    size_t n_acks, cap_acks;
    size_t duplicated;
    struct writers_stats st;
    void *priv;
};

/* Starts `count` writers over the endpoints already set in w (url[],
 * n_ep, dialect, token, tls); writer i starts on endpoint i % n_ep. */
void writers_start(struct writers *w, int count);
/* Stops every writer (a logical write still in flight is dropped: it is
 * neither acknowledged nor lost) and joins the thread. */
void writers_stop(struct writers *w);
void writers_free(struct writers *w);

/* Acknowledgements so far whose answered attempt was sent at or after t;
 * *first gets the earliest completion among them (when non-NULL and n > 0).
 * Safe while the writers run. */
size_t writers_acks_after(struct writers *w, uint64_t t, uint64_t *first);

/* What is stored, for writers_verify: name -> attempt (-1 unknown). */
struct writers_stored {
    char name[32];
    int attempt;
};
/* Reads every object the writers made, linearizably, through endpoint ep:
 * a malloc'd array in *out (free()), its size in *n. 0 or -1 on failure
 * (message on stderr). */
int writers_fetch(struct writers *w, int ep, struct writers_stored **out, size_t *n);
/* Counts lost writes (see above) against what is stored; prints the first
 * few on stderr. */
size_t writers_lost(const struct writers *w, const struct writers_stored *s, size_t n);

#endif
