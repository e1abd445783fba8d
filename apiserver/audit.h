/* audit.h — the audit log: one audit.k8s.io/v1 Event per request stage,
 * as a JSON line, at the level an audit Policy gives it (audit_policy.c),
 * written off the loop by a thread with a bounded buffer (audit_log.c).
 * Loop thread only, except where said. */
#ifndef ORC_API_AUDIT_H
#define ORC_API_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

struct orc_httpd_req;
struct api_route;

struct api_audit_config {
    const char *log_path;    /* a file, or "-" for stdout; NULL: no audit log */
    const char *policy_file; /* audit.k8s.io/v1 Policy; NULL: Metadata for everything */
    unsigned max_size_mb;    /* the file is rotated before it grows past it; 0: never */
    unsigned max_backup;     /* rotated files kept; 0: all */
    unsigned max_age_days;   /* rotated files older are removed; 0: none for age */
    size_t buffer_bytes;     /* events waiting for the disk; 0: 8 MiB. Past it
                                new events are dropped, counted and logged */
};

/* ---- levels and policies (audit_policy.c) ---- */

enum api_audit_level { AUDIT_NONE, AUDIT_METADATA, AUDIT_REQUEST, AUDIT_REQUEST_RESPONSE };

/* Stages, as bits of an omitStages set. */
enum {
    AUDIT_STAGE_RECEIVED = 1,
    AUDIT_STAGE_STARTED = 2,
    AUDIT_STAGE_COMPLETE = 4,
    AUDIT_STAGE_PANIC = 8,
};

/* What a rule matches, as Kubernetes' authorizer.Attributes. Borrowed. */
struct api_audit_attrs {
    const char *user;           /* NULL: unauthenticated */
    char *const *groups;
    size_t n_groups;
    const char *verb;           /* "get", "list", ... or the method for a URL */
    bool resource_request;
    const char *ns, *group, *resource, *sub, *name; /* "" when none */
    const char *path;           /* without the query */
};

struct api_audit_policy;

/* Parses a Policy (YAML or JSON). 0, or ORC_EINVAL with err naming the
 * field at fault. */
int api_audit_policy_parse(const char *text, size_t len, struct api_audit_policy **out, char *err,
                           size_t errlen);
void api_audit_policy_free(struct api_audit_policy *p);
/* The first matching rule's level (None when no rule matches) and its
 * omitted stages together with the policy's (*omit). A NULL policy:
 * Metadata, nothing omitted. */
enum api_audit_level api_audit_policy_eval(const struct api_audit_policy *p,
                                           const struct api_audit_attrs *a, unsigned *omit);

/* ---- the log ---- */

struct api_audit;

/* Reads the policy and opens the log (mode 0600). errmsg: 256 bytes. */
int api_audit_start(const struct api_audit_config *cfg, struct api_audit **out, char *errmsg);
/* Writes what is buffered, stops the writer and frees. NULL: nothing. */
void api_audit_stop(struct api_audit *a);
/* Follows request r (routed as rt, which must stay r->state) to its end:
 * sets its Audit-ID header and writes its events. NULL a: nothing. */
void api_audit_request(struct api_audit *a, struct orc_httpd_req *r, const struct api_route *rt);
/* The reason and message of the Status a request is answered with, for
 * its event's responseStatus (status.c calls it). */
void api_audit_note_status(struct orc_httpd_req *r, const char *reason, const char *message);
/* An annotation for the request's events (Kubernetes' audit annotations,
 * e.g. pod-security.kubernetes.io/audit-violations); both copied. Nothing
 * when the request is not audited. */
void api_audit_annotate(struct orc_httpd_req *r, const char *key, const char *value);
/* Events dropped because the buffer was full. */
unsigned long long api_audit_dropped(const struct api_audit *a);

#endif
