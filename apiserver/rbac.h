/* rbac.h — authorization (rbac.authorization.k8s.io/v1): what a request
 * asks (Kubernetes' authorizer.Attributes), the rule matcher, the cache of
 * Roles and bindings kept from a store watch, impersonation, escalation
 * prevention, the default policy and the aggregation of ClusterRoles.
 * Internal to apiserver/. */
#ifndef ORC_API_RBAC_H
#define ORC_API_RBAC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "apiserver/user.h"
#include "lib/buf.h"

struct api_server;
struct orc_httpd_req;
struct write_op;

/* What a request asks, as Kubernetes' RequestInfo finds it from the path,
 * the method and the query. Strings are owned by the struct (buffers). */
struct rbac_attrs {
    const struct api_user *user; /* borrowed */
    bool resource_request;
    char verb[24];      /* get, list, watch, create, ... ; lower-case method for paths */
    char group[64];
    char version[16];
    char resource[64];
    char sub[32];
    char ns[256];
    char name[256];
    char path[512];     /* non-resource requests */
};

/* ---- rbac_match.c: pure functions ---- */

/* Fills a from a request: method (llhttp), target (path and query). */
int rbac_attrs_from_request(int method, const char *target, struct rbac_attrs *a);

/* A PolicyRule compiled for matching: its lists as string arrays borrowed
 * from the JSON rule (which must outlive it). */
struct rbac_rule {
    const json_t *json;
    const char *const *verbs, *const *groups, *const *resources, *const *names, *const *urls;
    size_t n_verbs, n_groups, n_resources, n_names, n_urls;
    void *mem; /* owned: the arrays */
};
int rbac_rule_compile(const json_t *rule, struct rbac_rule *out);
void rbac_rule_release(struct rbac_rule *r);
bool rbac_compiled_allows(const struct rbac_rule *r, const struct rbac_attrs *a);

/* Whether one PolicyRule (JSON) allows a (compiles it for the call). */
bool rbac_rule_allows(const json_t *rule, const struct rbac_attrs *a);

/* Whether a Subject (JSON) names user; binding_ns is the binding's
 * namespace ("" for a ClusterRoleBinding), a ServiceAccount subject's
 * default. */
bool rbac_subject_matches(const json_t *subject, const struct api_user *user,
                          const char *binding_ns);

/* Kubernetes' denial message for a ("User \"x\" cannot list resource ...")
 * and the whole Status (new reference). */
void rbac_forbidden_reason(const struct rbac_attrs *a, char *out, size_t n);
json_t *rbac_forbidden_status(const struct rbac_attrs *a, const char *extra);

/* ---- rbac_cache.c ---- */

int api_rbac_start(struct api_server *s);
void api_rbac_stop(struct api_server *s);

/* Calls fn for each rule that applies to user in ns ("" : cluster-wide
 * rules only), ClusterRoleBindings first, until fn returns true; returns
 * whether one did. `why` (may be NULL, 256 bytes) says which binding. */
typedef bool (*rbac_rule_fn)(void *arg, const struct rbac_rule *rule);
bool rbac_visit_rules(const struct api_server *s, const struct api_user *user, const char *ns,
                      rbac_rule_fn fn, void *arg, char *why, size_t why_n);

/* Whether user may do a (system:masters may do anything). `why` as above. */
bool rbac_allowed(const struct api_server *s, const struct rbac_attrs *a, char *why, size_t why_n);

/* The Role or ClusterRole (kind) a binding's roleRef names (ns: the
 * binding's; ignored for a ClusterRole): borrowed, or NULL when not found. */
const json_t *rbac_role_object(const struct api_server *s, const char *ns, const char *kind,
                               const char *name);

/* The ClusterRoles (borrowed objects), for aggregation: calls fn for each. */
void rbac_each_clusterrole(const struct api_server *s, void (*fn)(void *arg, const json_t *obj,
                                                                     const char *key, long long rev),
                           void *arg);

/* The cache alone, fed by hand (tests, measurements): store entries of
 * /registry/rbac.authorization.k8s.io/... as a watch would give them. */
struct api_rbac;
struct store_kv;
struct api_rbac *rbac_cache_new(void);
void rbac_cache_note(struct api_rbac *c, const struct store_kv *kv, bool deleted);
bool rbac_cache_allowed(const struct api_rbac *c, const struct rbac_attrs *a, char *why, size_t why_n);
void rbac_cache_free(struct api_rbac *c);

/* Registers a callback fired (from the loop) after ClusterRoles changed. */
void rbac_on_clusterroles(struct api_server *s, void (*fn)(struct api_server *s));

/* ---- authz.c ---- */

/* Impersonation (Impersonate-User, -Group, -Uid, -Extra-* headers of r),
 * each checked with allowed(arg, attrs) for the verb impersonate: 0 when
 * the request impersonates nobody; 1 and *out (the caller's) the user to
 * act as; ORC_EPERM with *denied the attributes refused; ORC_EINVAL for
 * groups or a uid without a user; ORC_ETOOBIG, ORC_ENOMEM. */
int rbac_impersonate(const struct orc_httpd_req *r, const struct api_user *requester,
                     bool (*allowed)(void *arg, const struct rbac_attrs *a), void *arg,
                     struct rbac_attrs *denied, struct api_user **out);

/* Authorizes the request (after authentication, before any handler):
 * applies impersonation headers, then checks the request's attributes.
 * Returns true to go on; false when it has answered (403, 400). */
bool api_authorize(struct api_server *s, struct orc_httpd_req *r);

/* ---- authz_node.c: the Node authorizer and NodeRestriction ---- */

/* The pods' references kept from a store watch (leader and followers). */
int api_nodeauthz_start(struct api_server *s);
void api_nodeauthz_stop(struct api_server *s);

/* The node name of a node's user (system:node:NAME in system:nodes,
 * borrowed from u), or NULL. */
const char *api_node_of_user(const struct api_user *u);

/* What the Node authorizer says of a: ALLOW (a Secret, ConfigMap, claim or
 * token one of the node's pods uses), DENY (NodeRestriction: another
 * node's Node, Lease or pod), or NO_OPINION (RBAC decides). `why`
 * (why_n bytes) holds the reason of a denial, or of no relationship. */
enum api_node_decision { API_NODE_NO_OPINION, API_NODE_ALLOW, API_NODE_DENY };
enum api_node_decision api_node_authorize(const struct api_server *s, const struct rbac_attrs *a,
                                          char *why, size_t why_n);

/* The index alone, fed by hand (tests, measurements): store entries of
 * /registry/core/pods/ as the watch would give them. */
struct api_nodeauthz;
struct api_nodeauthz *nodeauthz_new(void);
void nodeauthz_note(struct api_nodeauthz *z, const struct store_kv *kv, bool deleted);
enum api_node_decision nodeauthz_decide(const struct api_nodeauthz *z, const struct rbac_attrs *a,
                                        char *why, size_t why_n);
void nodeauthz_free(struct api_nodeauthz *z);

/* ---- authz_node_admit.c ---- */

/* NodeRestriction on a node's write (obj the object to store, old the
 * stored one or NULL): 0, or answers 403 and returns ORC_EPERM. */
int api_node_admit(struct write_op *op, const json_t *obj, const json_t *old);

/* ---- rbac_escalate.c ---- */

/* Escalation prevention for writes of Roles, ClusterRoles and bindings:
 * 0, or answers 403 (or 404) and returns a negative code. */
int api_rbac_admit(struct write_op *op, const json_t *obj, const json_t *old);

/* ---- rbac_review.c: authorization.k8s.io/v1 ---- */

/* Whether path is an authorization.k8s.io review (then handled here). */
bool api_review_route(const char *target);
void api_handle_review(struct api_server *s, struct orc_httpd_req *r);

/* ---- rbac_policy.c, rbac_bootstrap.c, rbac_aggregate.c ---- */

/* The default ClusterRoles and ClusterRoleBindings: a JSON array. */
extern const char rbac_default_policy[];

/* Creates the default ClusterRoles and bindings that are missing (leader). */
void api_rbac_bootstrap(struct api_server *s);
/* The aggregated rules of ClusterRoles with an aggregationRule (leader). */
void api_rbac_aggregate(struct api_server *s);

#endif
