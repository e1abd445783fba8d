/* validate.h — what the API server checks and fills in for each kind before
 * an object is stored: the schema pass (types, unknown and unimplemented
 * fields), defaults, and semantic validation. Pure functions over jansson
 * objects: no I/O, no store access. */
#ifndef ORC_API_VALIDATE_H
#define ORC_API_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/kinds.h"

/* What the schema pass does with a field orc does not know, as Kubernetes'
 * fieldValidation says: prune it with a warning (Warn, the default), prune
 * it silently (Ignore), or list it in `unknown` so the write is refused
 * (Strict). */
enum api_unknown_fields { API_UNKNOWN_WARN = 0, API_UNKNOWN_IGNORE, API_UNKNOWN_STRICT };

/* Findings of the passes below. The arrays are owned by the diag. */
struct api_diag {
    /* Field errors as Kubernetes StatusCause objects:
     * {"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be
     *  greater than or equal to 0", "field": "spec.replicas"}.
     * Reasons: FieldValueRequired, FieldValueInvalid, FieldValueNotSupported,
     * FieldValueDuplicate, FieldValueTooLong, FieldValueForbidden,
     * FieldValueTypeInvalid, FieldValueNotFound (a volumeMount naming no
     * volume). Field paths look like
     * "spec.template.spec.containers[0].image". A null entry stands for a
     * cause that could not be recorded for lack of memory. */
    json_t *causes;
    /* Human warnings, each naming a field, e.g.
     * "unknown field \"spec.replcas\"" or
     * "spec.template.spec.affinity: not implemented by orc yet; stored but has no effect". */
    json_t *warnings;
    enum api_unknown_fields unknown_fields; /* API_UNKNOWN_WARN after init */
    json_t *unknown; /* Strict: the paths of the unknown fields found */
};

int api_diag_init(struct api_diag *d);
void api_diag_clear(struct api_diag *d);
bool api_diag_failed(const struct api_diag *d); /* any cause recorded */
/* Adds a cause; `fmt` forms the message. */
void api_diag_add(struct api_diag *d, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Schema pass over a whole object (apiVersion, kind, metadata, spec, status,
 * data...). Wrong JSON types become FieldValueTypeInvalid causes. Fields orc
 * does not know are REMOVED from obj (as Kubernetes prunes them) with an
 * "unknown field" warning; fields orc knows but does not act on yet are
 * kept, with a warning. status is free-form (not checked). */
void api_schema_check(const struct orc_kind *k, json_t *obj, struct api_diag *d);

/* Fills in Kubernetes' defaults in place (restartPolicy, replicas 1,
 * strategy, imagePullPolicy, protocol TCP, Secret type Opaque, ...). Also
 * normalizes: Secret stringData is merged into data (base64) and removed.
 * Does not touch metadata (the server sets uid, timestamps, namespace). */
void api_defaults(const struct orc_kind *k, json_t *obj);
/* Kubernetes' DefaultTolerationSeconds admission, for a pod being created:
 * unless it tolerates them already, it tolerates the not-ready and
 * unreachable NoExecute taints for `seconds`. */
void api_default_tolerations(json_t *pod, unsigned seconds);

/* Semantic validation of a defaulted object: metadata (name rules for the
 * kind, labels, annotations, ownerReferences, finalizers) and the kind's
 * spec rules (required fields, ranges, enums, quantities, selectors that
 * match template labels, unique container/volume/port names, mounts that
 * name a volume, cron schedules...). `old` is the stored object on update
 * (NULL on create), for immutable fields (e.g. a Deployment's
 * spec.selector, a Job's spec.template). */
void api_validate(const struct orc_kind *k, const json_t *obj, const json_t *old,
                  struct api_diag *d);

/* `Deployment.apps "web" is invalid: <cause>`, or with several causes
 * `... is invalid: [<cause 1>, <cause 2>]` as Kubernetes prints them; each
 * cause reads "<field>: <message>". malloc'd; free(); NULL when out of memory. */
char *api_diag_message(const struct api_diag *d, const struct orc_kind *k, const char *name);

#endif
