/* authz_node_admit.c — NodeRestriction admission on the bodies of a node's
 * writes, what the path alone cannot tell (authz_node.c has the rest): a
 * node creates only its own Node and Lease, never sets nor changes labels
 * under node-restriction.kubernetes.io/ and never changes its Node's
 * ownerReferences, and creates only mirror pods bound to itself. */
#include <stdio.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"

#define MIRROR_ANNOTATION "kubernetes.io/config.mirror"

static int refuse(struct write_op *op, const char *name, const char *why)
{
    api_respond_status(op->r, 403, "Forbidden", NULL, NULL, NULL, "%s%s%s \"%s\" is forbidden: %s",
                       op->k->resource, op->k->group[0] ? "." : "", op->k->group, name ? name : "", why);
    return ORC_EPERM;
}

/* json_equal, with two absent values equal (jansson says they are not). */
static bool same(const json_t *a, const json_t *b)
{
    return a == b || (a && b && json_equal(a, b));
}

/* Whether a label key is in node-restriction.kubernetes.io's namespace
 * (the domain or a subdomain of it), which only administrators set: what
 * workloads select to land on chosen nodes. */
static bool restricted_label(const char *key)
{
    static const char dom[] = "node-restriction.kubernetes.io";
    const char *slash = strchr(key, '/');
    size_t n = slash ? (size_t)(slash - key) : 0, ld = sizeof dom - 1;

    if (n < ld || memcmp(key + n - ld, dom, ld) != 0) return false;
    return n == ld || key[n - ld - 1] == '.';
}

/* The restricted labels that differ between obj and old (old NULL: those
 * set), ", "-separated into out; whether there was any. */
static bool changed_labels(const json_t *obj, const json_t *old, char *out, size_t n)
{
    const json_t *a = json_object_get(json_object_get(obj, "metadata"), "labels");
    const json_t *b = old ? json_object_get(json_object_get(old, "metadata"), "labels") : NULL;
    const char *k;
    const json_t *v;
    size_t len = 0;

    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        json_object_foreach((json_t *)(pass ? b : a), k, v) {
            const json_t *other = json_object_get(pass ? a : b, k);
            if (!restricted_label(k) || same(v, other) || (pass && other)) continue;
            len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", len ? ", " : "", k);
        }
    }
    return out[0] != '\0';
}

static int admit_node(struct write_op *op, const char *node, const json_t *obj, const json_t *old)
{
    const char *name = orc_json_str(json_object_get(obj, "metadata"), "name");
    char labels[512], why[900];

    if (name == NULL || strcmp(name, node) != 0) {
        snprintf(why, sizeof why, "node \"%s\" is not allowed to modify node \"%s\"", node, name ? name : "");
        return refuse(op, name, why);
    }
    if (old && !same(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"),
                           json_object_get(json_object_get(old, "metadata"), "ownerReferences"))) {
        snprintf(why, sizeof why, "node \"%s\" is not allowed to modify ownerReferences", node);
        return refuse(op, name, why);
    }
    if (!changed_labels(obj, old, labels, sizeof labels)) return 0;
    if (old) snprintf(why, sizeof why, "is not allowed to modify labels: %s", labels);
    else snprintf(why, sizeof why, "node \"%s\" is not allowed to set the following labels: %s", node, labels);
    return refuse(op, name, why);
}

/* A node creates only mirror pods (of its static pods), bound to itself. */
static int admit_pod_create(struct write_op *op, const char *node, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = orc_json_str(meta, "name");
    const char *bound = orc_json_str(json_object_get(obj, "spec"), "nodeName");
    char why[600];

    if (json_object_get(json_object_get(meta, "annotations"), MIRROR_ANNOTATION) == NULL) {
        snprintf(why, sizeof why, "pod does not have \"%s\" annotation, node \"%s\" can only create mirror pods",
                 MIRROR_ANNOTATION, node);
        return refuse(op, name, why);
    }
    if (bound == NULL || strcmp(bound, node) != 0) {
        snprintf(why, sizeof why, "node \"%s\" can only create pods with spec.nodeName set to itself", node);
        return refuse(op, name, why);
    }
    return 0;
}

int api_node_admit(struct write_op *op, const json_t *obj, const json_t *old)
{
    const char *node = api_node_of_user(api_req_user(op->r)), *name;

    if (node == NULL) return 0;
    switch (orc_kind_id(op->k)) {
    case ORC_K_NODE: return admit_node(op, node, obj, old);
    case ORC_K_POD: return old ? 0 : admit_pod_create(op, node, obj);
    case ORC_K_LEASE:
        name = orc_json_str(json_object_get(obj, "metadata"), "name");
        if (strcmp(op->rt->ns, "kube-node-lease") == 0 && (name == NULL || strcmp(name, node) != 0))
            return refuse(op, name, "can only access node lease with the same name as the requesting node");
        return 0;
    default: return 0;
    }
}
