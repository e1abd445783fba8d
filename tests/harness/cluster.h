/* cluster.h — real `orcd server` processes for integration tests. Each
 * member gets its own loopback address 127.A.B.(10+i) (A, B from the test
 * process, so parallel runs never collide), API port 6443 (HTTPS), Raft
 * port 6444, and a data dir under the case's tmpdir. Every process started
 * is killed by PID when the case ends, pass or fail. */
#ifndef ORC_TEST_CLUSTER_H
#define ORC_TEST_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "client/http.h"

#define CLUSTER_MAX 5

struct member {
    int idx;
    char ip[32];
    char listen[64];
    char url[96]; /* https://IP:6443 */
    char dir[512];
    char log[512];
    pid_t pid; /* 0 when not running */
};

struct cluster {
    int n;
    struct member m[CLUSTER_MAX];
    char token[256];
    char home[512]; /* $HOME given to members, so ~/.orc/config lands in the tmpdir */
    struct http_tls tls; /* trusts the cluster CA once a member has made it */
    bool with_agent; /* members run their embedded node agent (default: --no-agent);
                      * set after cluster_init, before starting */
    int agents; /* with with_agent: only members 0..agents-1 run one (0: all) */
    bool no_controllers; /* members run no scheduler nor controllers
                          * (--controllers -*): for tests of the store and
                          * the API that must see objects only they change */
    bool root_ca; /* members publish kube-root-ca.crt in every namespace (the
                   * rootca controller); off by default, since many tests
                   * count the ConfigMaps they made. A test's own
                   * --controllers flag (extra) overrides either. */
    bool service_accounts; /* members make the `default` ServiceAccount in
                            * every namespace (the serviceaccount
                            * controller); off by default, since its writes
                            * come after the member is ready and tests
                            * check that bad input moves no revision */
};

/* Sets up n members (not started). */
void cluster_init(struct cluster *c, int n);

/* Starts member i with extra args (NULL-terminated, may be NULL). The first
 * member started without --join bootstraps; pass join=true to join through
 * a running member. Does not wait for readiness. */
void member_start(struct cluster *c, int i, bool join, const char *const *extra);
/* Polls /readyz until 200; fails the case after timeout_ms. Returns ms taken. */
unsigned member_wait_ready(struct cluster *c, int i, unsigned timeout_ms);
/* SIGKILL, reaped. */
void member_kill(struct cluster *c, int i);
/* SIGTERM; fails the case unless it exits 0 within 10 s with a clean log
 * (no sanitizer report). */
void member_stop(struct cluster *c, int i);
/* Bootstraps member 0 and joins the others; waits until all are ready. */
void cluster_start(struct cluster *c, const char *const *extra);
/* Index of the member that reports itself leader, or -1 (polls up to
 * timeout_ms). Skips members not running, and those that do not answer
 * within a second (stopped, hung) until the next round. */
int cluster_leader(struct cluster *c, unsigned timeout_ms);
/* The same among the members other than `skip` (-1: none). */
int cluster_leader_except(struct cluster *c, int skip, unsigned timeout_ms);
/* The role member i reports ("leader", "follower", ...) into out; "" when
 * it is not running or does not answer within a second. */
void member_role(struct cluster *c, int i, char *out, size_t n);
/* Waits until member i has applied at least `revision`. */
void member_wait_revision(struct cluster *c, int i, long long revision, unsigned timeout_ms);
long long member_revision(struct cluster *c, int i);
/* Waits until member i's revision stays the same for quiet_ms (the
 * leader's startup writes and its controllers' first ones, such as each
 * namespace's default ServiceAccount, land after /readyz), and returns it:
 * the base of a "this request changed nothing" check. */
long long member_wait_quiet(struct cluster *c, int i, unsigned quiet_ms);

/* One HTTP request to member i as `token` (NULL: no Authorization header).
 * Returns the status (0 when unreachable); *resp (may be NULL) gets a
 * malloc'd body; *warning (may be NULL) the Warning headers, malloc'd, or
 * NULL. */
int t_http_as(struct cluster *c, int i, const char *token, const char *method, const char *path,
              const char *ctype, const char *body, char **resp, char **warning);
/* The same with the cluster token. */
int t_http(struct cluster *c, int i, const char *method, const char *path, const char *ctype,
           const char *body, char **resp, char **warning);
/* Same, parsing a JSON reply (NULL when not JSON). */
json_t *t_json(struct cluster *c, int i, const char *method, const char *path, const char *body,
               int *status);
/* A request to member 0 that must answer `want` (the case fails otherwise,
 * naming the request and the body); its JSON reply, or NULL. */
json_t *t_expect(struct cluster *c, const char *method, const char *path, const char *ctype,
                 const char *body, int want);

/* How to trust the members (the CA from a member's data dir, loaded the first
 * time one exists), for clients the test makes itself; NULL before any
 * member has made its CA. */
const struct http_tls *cluster_tls(struct cluster *c);

/* Path of a built binary ("orcd", "orctl"): $O/<name>, O defaulting to build. */
const char *t_bin(const char *name);

#endif
