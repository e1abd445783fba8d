/* job.h — the Job controller's decisions as pure functions of (the Job, the
 * pods it owns, the wall clock), so unit tests drive them without a server
 * (controllers/job.c wires them to informers, a workqueue and the API).
 *
 * Pods are counted exactly once through the finalizer
 * batch.kubernetes.io/job-tracking, as Kubernetes does: a finished pod
 * still carrying it is first recorded in status.uncountedTerminatedPods,
 * then its finalizer is removed, then (once the pod shows without it or is
 * gone) it moves into status.succeeded / status.failed. */
#ifndef ORC_CONTROLLERS_JOB_H
#define ORC_CONTROLLERS_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_job;

#define JOB_TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define JOB_INDEX_KEY "batch.kubernetes.io/job-completion-index"
/* Kubernetes' pod failure back-off: 10 s doubling per failure, capped. */
#define JOB_BACKOFF_BASE_MS 10000
#define JOB_BACKOFF_MAX_MS 360000
/* Indexed Jobs with more completions than this are refused (Kubernetes' cap). */
#define JOB_MAX_INDEXES 100000

/* The back-off before re-creating a pod after `failures` failures (0 for
 * none): 10 s * 2^(failures-1), capped at 6 min. */
uint64_t job_backoff_ms(int64_t failures);

/* ---- restartPolicy OnFailure ---- */

/* The restartCount of a Pending or Running pod's init and app containers
 * summed (0 for a pod in another phase). */
int64_t job_pod_restarts(const json_t *pod);
/* Kubernetes' pastBackoffLimitOnFailure: for a Job whose template has
 * restartPolicy OnFailure, the containers of its Pending and Running pods
 * restarted `restarts` times in all, and that reached spec.backoffLimit
 * (any restart when the limit is 0). The plan then fails the Job with
 * reason BackoffLimitExceeded and deletes its active pods, as it does when
 * more than backoffLimit pods failed. Always false for restartPolicy Never. */
bool job_past_backoff_on_failure(const json_t *job, int64_t restarts);

/* ---- completion index sets ("0-2,4") ---- */

/* Parses status.completedIndexes into `set` (n bytes, one per index, 1 when
 * completed); indexes >= n are ignored. NULL or "" is the empty set.
 * 0 or ORC_EINVAL (malformed text; `set` then holds what parsed). */
int job_indexes_parse(const char *s, unsigned char *set, size_t n);
/* The set's text ("0-2,4", "" when empty), malloc'd (free()); NULL on ENOMEM. */
char *job_indexes_format(const unsigned char *set, size_t n);

/* A pod's completion index from its annotation, or -1 when absent or bad. */
long job_pod_index(const json_t *pod);

/* ---- one reconcile step ---- */

struct job_plan {
    json_t *status;          /* the status to write (new ref), NULL when unchanged */
    const json_t **del;      /* active pods to delete (borrowed from the pods given) */
    size_t ndel;
    const json_t **unfinal;  /* pods whose tracking finalizer to remove (borrowed) */
    size_t nunfinal;
    long *create;            /* pods to create: completion indexes (-1: NonIndexed) */
    size_t ncreate;
    bool delete_job;         /* ttlSecondsAfterFinished passed: delete the Job */
    int64_t requeue_ms;      /* > 0: look again after this (deadline, back-off, TTL) */
    /* An event for the transition this step makes (NULL reason: none). */
    const char *event_type, *event_reason, *event_msg;
};

/* Decides the next step for `job` given the pods it controls (`pods`, n of
 * them, borrowed; the caller filtered them by controller ownerReference)
 * at wall time now_ms (Unix ms). 0, ORC_ENOMEM, or ORC_EINVAL for a Job
 * the controller cannot act on (message in msg). Free with job_plan_free. */
int job_plan(const json_t *job, const json_t *const *pods, size_t n, int64_t now_ms,
             struct job_plan *out, char *msg, size_t msglen);
void job_plan_free(struct job_plan *p);

/* The pod to create for `job` (a new reference; NULL on ENOMEM): the
 * template with generateName "<job>-" ("<job>-<index>-" when Indexed),
 * the tracking finalizer, a controller ownerReference, and for an Indexed
 * Job the completion-index annotation and label, hostname "<job>-<index>"
 * and env JOB_COMPLETION_INDEX from the annotation (downward API). */
json_t *job_pod_new(const json_t *job, long index);

/* True when the Job has condition `type` with status "True". */
bool job_has_condition(const json_t *job, const char *type);

#endif
