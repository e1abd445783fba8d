/* expectations.h — Kubernetes' ControllerExpectations: how many creates and
 * deletes a controller issued for a key and has not yet seen in its
 * informer. While some are outstanding the controller does not act on the
 * key again (its cache is behind its own writes), unless they are older
 * than the timeout (a watch event was lost). Single-threaded. */
#ifndef ORC_CONTROLLERS_EXPECTATIONS_H
#define ORC_CONTROLLERS_EXPECTATIONS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ctl_expectations ctl_expectations;

#define CTL_EXPECTATIONS_TIMEOUT_MS (5 * 60 * 1000)

/* NULL on ENOMEM. */
ctl_expectations *ctl_exp_new(void);
void ctl_exp_free(ctl_expectations *e);
/* Records adds/dels about to be issued for key (replacing what was there),
 * at monotonic now_ms. 0, ORC_ENOMEM. */
int ctl_exp_expect(ctl_expectations *e, const char *key, int64_t adds, int64_t dels,
                   uint64_t now_ms);
/* One create (or delete) was seen, or will never happen (its call failed). */
void ctl_exp_observe_add(ctl_expectations *e, const char *key);
void ctl_exp_observe_del(ctl_expectations *e, const char *key);
/* True when nothing is outstanding for key or the record expired. */
bool ctl_exp_satisfied(const ctl_expectations *e, const char *key, uint64_t now_ms);
/* Forgets key (its object was deleted). */
void ctl_exp_forget(ctl_expectations *e, const char *key);

#endif
