/* psa.h — Pod Security Admission as Kubernetes' (k8s.io/pod-security-admission):
 * the Pod Security Standards' checks on a pod (or a pod template) and the
 * per-namespace policy from the pod-security.kubernetes.io labels. Only the
 * latest version of each check exists: a "v1.N" version label is accepted
 * and shown as given, but evaluated as latest. */
#ifndef ORC_API_PSA_H
#define ORC_API_PSA_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/buf.h"

enum api_psa_level { API_PSA_PRIVILEGED, API_PSA_BASELINE, API_PSA_RESTRICTED };

/* "privileged", "baseline", "restricted". */
const char *api_psa_level_name(enum api_psa_level lv);
/* 0 and *out, or ORC_EINVAL for any other text. */
int api_psa_parse_level(const char *s, enum api_psa_level *out);

/* Checks the pod's metadata and spec (borrowed; either may be NULL) against
 * lv. Returns 0 when allowed, 1 when not, ORC_ENOMEM. On 1, detail (may be
 * NULL) gets Kubernetes' ForbiddenDetail ("reason (detail), reason (detail)")
 * and reasons (may be NULL) its ForbiddenReason ("reason, reason"); both are
 * appended to. */
int api_psa_check(enum api_psa_level lv, const json_t *meta, const json_t *spec,
                  struct orc_buf *detail, struct orc_buf *reasons);

/* One mode of a namespace's policy: the level and the version text
 * ("latest" or "v1.N") shown in messages. */
struct api_psa_lv {
    enum api_psa_level level;
    char version[16];
};
struct api_psa_policy {
    struct api_psa_lv enforce, audit, warn;
};

/* The policy of a namespace from its labels (an object, or NULL: every mode
 * privileged), as PolicyToEvaluate: a bad enforce level or version reads
 * restricted:latest, a bad audit or warn level privileged; warn follows an
 * enforce level set stricter when warn is not set. A bad version reads latest. Returns the number of bad
 * labels; when errs is not NULL each is appended to it as a StatusCause
 * ("metadata.labels[...]: Invalid value ..."). */
int api_psa_policy(const json_t *labels, struct api_psa_policy *out, json_t *errs);

/* "restricted:latest" into buf (at least 32 bytes). */
const char *api_psa_lv_str(const struct api_psa_lv *lv, char *buf, size_t n);

/* Admission of a write (psa_admit.c), after validation: obj is what will
 * be stored, old the stored object (NULL on create); both borrowed. Pods
 * are checked against the namespace's enforce level (refused: 403 with
 * Kubernetes' message) and warn level (a Warning); workloads' pod
 * templates against the warn level; a Namespace's labels are validated
 * (422) and a tightened enforce level warns about its existing pods.
 * Returns 0 (the write goes on) or a negative code once it answered. */
struct write_op;
int api_psa_admit(struct write_op *op, const json_t *obj, const json_t *old);

#endif
