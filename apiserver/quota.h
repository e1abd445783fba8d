/* quota.h — ResourceQuota (quota.c): a namespace's usage as Kubernetes'
 * quota evaluators count it, admission of creates against every quota of
 * the namespace, and the leader's upkeep of status.hard/used. Internal to
 * apiserver/. */
#ifndef ORC_API_QUOTA_H
#define ORC_API_QUOTA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

struct api_server;
struct write_op;
struct orc_kind;

#define QUOTA_MAX_RES 32
#define QUOTA_MAX_QUOTAS 8

/* Amounts by resource name ("pods", "requests.cpu", "count/deployments.apps"),
 * in thousandths (a count of 1 is 1000). */
struct quota_usage {
    size_t n;
    struct {
        char name[64];
        int64_t milli;
    } r[QUOTA_MAX_RES];
};

/* The quotas a create updates in its txn, each guarded on the revision it
 * was read at: two creates racing past a quota cannot both commit. */
struct quota_plan {
    size_t n;
    struct {
        struct orc_buf key, val;
        int64_t rev;
    } q[QUOTA_MAX_QUOTAS];
    int first_guard; /* the txn's index of q[0]'s guard */
};

/* What one object of kind k adds to its namespace's usage. */
void quota_usage_of(const struct orc_kind *k, const json_t *obj, struct quota_usage *u);
int64_t quota_get(const struct quota_usage *u, const char *name);
void quota_add(struct quota_usage *u, const char *name, int64_t milli);

/* Checks a create of obj (kind op->k in op->rt->ns) against the
 * namespace's quotas and plans their new status into *plan (emptied
 * first). 0, or answers 403 Forbidden in Kubernetes' words ("exceeded
 * quota: ...", "failed quota: ...: must specify ...") and returns
 * ORC_EPERM, or answers 500 and returns another error. */
int quota_admit(struct write_op *op, const json_t *obj, struct quota_plan *plan);
/* The same for an update from cur to next (a Service's type or ports, a
 * claim's size): only what grows is checked. Pods: 0. */
int quota_admit_update(struct write_op *op, const json_t *cur, const json_t *next, struct quota_plan *plan);
void quota_plan_clear(struct quota_plan *plan);

/* quota_scope.c: whether quota q has spec.scopes or a scopeSelector, and
 * whether it covers obj of kind k (no scopes: everything; scopes: pods
 * matching every one, as Kubernetes' pod evaluator). */
bool quota_scoped(const json_t *q);
bool quota_covers(const json_t *q, const struct orc_kind *k, const json_t *obj);

/* Leader upkeep: every quota's status.hard and status.used made true,
 * at most *budget writes (decremented). */
void api_quota_sync(struct api_server *s, int *budget);

#endif
