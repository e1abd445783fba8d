/* worker_int.h — one pod's worker: the state the agent keeps per pod and
 * per container, shared by agent/worker.c (the pod: sync, phase,
 * termination, status writes), agent/worker_ctr.c (a container: pull,
 * start, exit, back-off, probes) and agent/pod_status.c (the status). */
#ifndef ORC_AGENT_WORKER_INT_H
#define ORC_AGENT_WORKER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/agent_int.h"

#define CTR_ID_LEN 160
#define CTR_MSG_LEN 512
#define BACKOFF_BASE_MS 10000
#define BACKOFF_MAX_MS 300000
#define BACKOFF_RESET_MS 600000 /* a container that ran this long starts afresh */
#define PULL_SHOWN_MS 2000      /* ErrImagePull is shown this long, then ImagePullBackOff */

enum ctr_state {
    CS_IDLE,     /* not started (or waiting to restart) */
    CS_PULLING,  /* image being pulled */
    CS_STARTING, /* rt_start in flight */
    CS_RUNNING,
    CS_EXITED,   /* the current run ended; see `last` */
};

struct ctr_exit {
    bool set;
    int exit_code;
    bool oom;
    int64_t started_ns, finished_ns;
    char id[CTR_ID_LEN];
};

struct ctr {
    struct worker *w;
    json_t *spec;         /* the container object (a reference) */
    char name[64];
    bool init;
    enum ctr_state st;
    int run;              /* run number of `id`; restartCount */
    bool ever_ran;        /* some run started */
    char id[CTR_ID_LEN];  /* the current (or last) run; "" before the first */
    int64_t started_ns;   /* of the current run */
    struct ctr_exit exited;   /* how the current run ended (CS_EXITED) */
    struct ctr_exit previous; /* the run before (lastState) */
    char reason[40];      /* waiting reason when not running (ErrImagePull...) */
    char message[CTR_MSG_LEN];
    /* image */
    bool have_image;
    char *image_ref, *image_digest;
    char *image_name;     /* the spec's image that image_ref was pulled for */
    char *run_image;      /* the image the current run started with */
    bool respawn;         /* its image changed: run again whatever the restart policy */
    json_t *image_config;
    /* back-off: restarts, image pulls */
    uint64_t backoff_ms, backoff_until;
    uint64_t backoff_shown_ms; /* the back-off now running, for the message */
    uint64_t pull_backoff_ms, pull_until, pull_failed_ms;
    uint64_t run_since_ms;  /* monotonic start of the current run */
    uint64_t launched_ms;   /* when the last pull + start began */
    uint64_t retry_at;      /* a config error: not before this (a change of a ConfigMap or Secret clears it) */
    /* probes */
    probe *live, *ready, *startup;
    bool probes_on, started, is_ready;
    bool killing;          /* rt_stop in flight */
    bool start_failed;     /* the last run could not start: its reason stays shown */
    bool announce;         /* a run started: its Started event is due */
};

#define WORKER_EVENTS 8

/* An Event this worker wrote, to bump its count when it happens again. */
struct pod_event {
    uint64_t key;          /* hash of reason, field path and message; 0: free */
    char name[300];        /* as the API named it; "" until it answered */
    int count;
    uint64_t first_ms, last_ms;
    bool busy;             /* a write in flight */
};

struct worker {
    struct agent *a;
    struct worker *next;
    int refs;
    bool shut;             /* agent stopping: no more work */
    char uid[AGENT_UID_LEN + 1];
    char ns[64], name[256];
    json_t *pod;           /* latest from the API (owned); kept when gone */
    bool gone;             /* deleted from the API */
    orc_timer *timer;      /* sync soon / at the next back-off deadline (the agent's clock) */
    uint64_t timer_due;    /* when it fires, while armed */
    bool syncing;
    char dir[1100];        /* DATA/pods/<uid> */
    /* sandbox */
    bool host_network;
    bool net_ready;
    char netns[128], pod_ip[46];
    bool volumes_ready;
    char volume_msg[CTR_MSG_LEN];
    char net_msg[CTR_MSG_LEN]; /* the last network setup failure (an event when it changes) */
    struct net_job *net_job;   /* CNI mode: the setup running off the loop, or its outcome */
    char start_time[32];
    uint64_t seen_ns;      /* uv_hrtime when the agent first saw the pod */
    bool start_observed;   /* its start duration is in the metrics */
    /* containers: init first, in order */
    struct ctr *ctrs;
    size_t n_ctrs, n_init;
    /* status */
    json_t *reported;      /* last status the API accepted (owned) */
    bool status_busy;
    uint64_t status_retry_ms;
    /* termination */
    bool terminating, cleaned, finalizing, finalized;
    struct pod_event events[WORKER_EVENTS];
    /* the ServiceAccount token of its projected volume (worker_satoken.c) */
    json_t *sa_token;      /* {"token": "..."} (owned), or NULL */
    int64_t sa_refresh_s;  /* wall time to ask again (or to retry) */
    int64_t sa_expiry_s;
    bool sa_busy;          /* a TokenRequest is in flight */
};

/* The agent's clock: monotonic ms, and wall time (Unix s / RFC 3339). */
static inline uint64_t worker_now(const struct worker *w) { return orc_clock_now(w->a->clock); }
static inline int64_t worker_wall_s(const struct worker *w) { return orc_clock_wall(w->a->clock) / 1000; }

/* ---- worker.c ---- */
void worker_hold(struct worker *w);
void worker_put(struct worker *w);
/* Sync at the next loop turn (or at `at_ms`, monotonic, if that is earlier
 * than what is planned). */
void worker_sync_soon(struct worker *w);
void worker_sync_at(struct worker *w, uint64_t at_ms);
const char *worker_restart_policy(const struct worker *w);

/* ---- worker_net.c: the CNI mode's setup and teardown, off the loop ---- */
/* Starts the pod's network setup on the thread pool (the worker syncs
 * again when it ends) or takes its outcome: 1 while it runs, 0 with *out
 * set, or the ORC_E* failure with the message in err (256 bytes). */
int worker_net_async(struct worker *w, const struct net_port *ports, size_t n, struct net_pod *out,
                     char *err);
/* Tears the pod's network down (net_pod_teardown): in CNI mode on the
 * thread pool, 1 while it runs (the worker syncs again when it ends), then
 * its outcome; otherwise at once. */
int worker_net_down(struct worker *w);
/* A setup is running: the pod's network must not be torn down yet. */
bool worker_net_busy(const struct worker *w);
/* Frees an outcome nobody took (the worker goes). */
void worker_net_free(struct worker *w);

/* ---- worker_ctr.c ---- */
/* Makes the image present then starts a new run; returns at once. */
void ctr_launch(struct ctr *c);
/* Asks the running container to stop (grace seconds; preStop hook first
 * when `hooks`). */
void ctr_kill(struct ctr *c, unsigned grace_s, bool hooks);
/* The runtime reported that run `id` exited. */
void ctr_exited(struct ctr *c, const char *id);
/* Picks up runs an earlier agent started (ids of this pod from rt_list). */
void ctr_adopt(struct ctr *c, char **ids, size_t n);
/* Whether a container that ended should run again (its restart policy). */
bool ctr_should_restart(const struct ctr *c);
void ctr_stop_probes(struct ctr *c);
/* Starts the container's probes once it runs and the pod has an IP. */
void ctr_start_probes(struct ctr *c);
/* The spec's image is not the one the running container started with. */
bool ctr_outdated(const struct ctr *c);
/* The pod's spec for this container changed (`spec`: the new container
 * object); a new image restarts the container, as the kubelet does. */
void ctr_respec(struct ctr *c, json_t *spec);
/* Removes every run of the container from the runtime. */
void ctr_remove_runs(struct ctr *c);
void ctr_free(struct ctr *c);
/* Container id of run `run`: "<pod uid>-<name>-<run>". */
void ctr_id(const struct ctr *c, int run, char *out, size_t n);
void ctr_log_path(const struct ctr *c, int run, char *out, size_t n);

/* ---- event.c ---- */
/* Records an Event about the pod (c: the container it is about, or NULL). */
void worker_event(struct worker *w, const struct ctr *c, bool warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- pod_status.c ---- */
/* The pod's status as the agent sees it now (new reference). */
json_t *pod_status_build(struct worker *w);
/* Pending / Running / Succeeded / Failed from the containers. */
const char *pod_phase(const struct worker *w);

#endif
