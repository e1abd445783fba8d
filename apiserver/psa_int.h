/* psa_int.h — internal to apiserver/psa_*.c: what the checks share. */
#ifndef ORC_API_PSA_INT_H
#define ORC_API_PSA_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/buf.h"

/* What the checks found so far: the texts are appended to (either may be
 * NULL), n counts violations, err is set when memory ran out. */
struct psa_out {
    struct orc_buf *detail, *reasons;
    int n, err;
};

/* Records one failed check: its reason and its detail (printf). */
void psa_violation(struct psa_out *o, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Name lists are JSON arrays of strings; a set stays sorted without
 * repeats, as Kubernetes' sets.String lists it. */
void psa_list_add(json_t *l, const char *s);
void psa_set_add(json_t *set, const char *s);
/* "a", "b" / a<sep>b into buf (n bytes), which is returned. */
const char *psa_join_quote(const json_t *l, char *buf, size_t n);
const char *psa_join(const json_t *l, const char *sep, char *buf, size_t n);
const char *psa_plural(const char *one, const char *many, size_t n);
/* "pod and containers "a"" (either part may be absent). */
const char *psa_setters(bool pod, const json_t *containers, char *buf, size_t n);

#define PSA_TEXT 2048

/* Calls fn for init containers, containers, ephemeral containers. */
typedef void (*psa_ctr_fn)(const json_t *c, void *arg);
void psa_each_container(const json_t *spec, psa_ctr_fn fn, void *arg);
const char *psa_cname(const json_t *c);
/* A field under the container's / the pod's securityContext (borrowed). */
const json_t *psa_csc(const json_t *c, const char *field);
const json_t *psa_psc(const json_t *spec, const char *field);
bool psa_windows_pod(const json_t *spec);
/* hostUsers: false — KEP-127's relaxations apply. */
bool psa_user_namespaced(const json_t *spec);

/* A per-container scan: the containers that failed, the values they used. */
struct psa_scan {
    json_t *bad, *values;
    const json_t *spec;
};
int psa_scan_init(struct psa_scan *s, const json_t *spec);
void psa_scan_clear(struct psa_scan *s);
/* Runs fn over the containers; a violation `container(s) "a" <text><values>`. */
void psa_containers_check(const json_t *spec, struct psa_out *o, psa_ctr_fn fn, const char *reason,
                          const char *text);

/* The restricted checks (psa_restricted.c). */
void psa_check_escalation(const json_t *meta, const json_t *spec, struct psa_out *o);
void psa_check_caps_restricted(const json_t *meta, const json_t *spec, struct psa_out *o);
void psa_check_volumes(const json_t *meta, const json_t *spec, struct psa_out *o);
void psa_check_non_root(const json_t *meta, const json_t *spec, struct psa_out *o);
void psa_check_run_as_user(const json_t *meta, const json_t *spec, struct psa_out *o);
void psa_check_seccomp_restricted(const json_t *meta, const json_t *spec, struct psa_out *o);

#endif
