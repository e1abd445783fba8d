/* reclaim.c — the node side of the local-path provisioner: a volume it made
 * on this node (DATA/volumes/pvc-...) that is Released with reclaimPolicy
 * Delete loses its directory (off the loop), then its PersistentVolume.
 * Retain keeps both, as in Kubernetes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/volume_int.h"
#include "controllers/pvc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

struct reclaim {
    uv_work_t work;
    struct agent *a;
    char name[256], uid[64], dir[64 + 256 + 300];
    int rv;
};

/* The one node a PV's nodeAffinity names by kubernetes.io/hostname. */
static const char *pv_node(const json_t *pv)
{
    const json_t *terms = orc_json_get(pv, "spec.nodeAffinity.required.nodeSelectorTerms");
    const json_t *expr = json_array_get(json_object_get(json_array_get(terms, 0), "matchExpressions"), 0);
    const char *key = orc_json_str(expr, "key");

    if (key == NULL || strcmp(key, "kubernetes.io/hostname") != 0) return NULL;
    return json_string_value(json_array_get(json_object_get(expr, "values"), 0));
}

/* The directory name under volumes_dir when pv is this node's, provisioned
 * here, Released and to be deleted; else NULL. */
static const char *reclaimable(const struct agent *a, const json_t *pv)
{
    const char *by = json_string_value(
        json_object_get(orc_json_get(pv, "metadata.annotations"), PVC_ANN_PROVISIONED_BY));
    const char *phase = orc_json_str(pv, "status.phase");
    const char *policy = orc_json_str(pv, "spec.persistentVolumeReclaimPolicy");
    const char *path = orc_json_str(pv, "spec.hostPath.path");
    const char *node = pv_node(pv);
    size_t len = strlen(a->volumes_dir);

    if (!by || strcmp(by, PVC_LOCAL_PROVISIONER) != 0 || !phase || strcmp(phase, "Released") != 0
        || !policy || strcmp(policy, "Delete") != 0 || !node || strcmp(node, a->node_name) != 0
        || !path || strncmp(path, a->volumes_dir, len) != 0 || path[len] != '/')
        return NULL;
    path += len + 1;
    /* one plain entry right below the volumes directory, nothing else */
    if (*path == '\0' || strchr(path, '/') || strcmp(path, ".") == 0 || strcmp(path, "..") == 0)
        return NULL;
    return path;
}

static void rm_work(uv_work_t *req)
{
    struct reclaim *r = req->data;
    int pfd = open(r->a->volumes_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (pfd < 0) {
        r->rv = errno == ENOENT ? 0 : ORC_EIO;
        return;
    }
    r->rv = vol_rmtree_at(pfd, r->dir);
    close(pfd);
}

static void on_deleted(void *arg, int status, const json_t *body)
{
    struct reclaim *r = arg;
    (void)body;

    if (status == 200 || status == 202)
        log_info(AGENT_LOG, "deleted volume %s and its data", r->name);
    else if (status != 404 && status != 409)
        log_warn(AGENT_LOG, "deleting volume %s: status %d", r->name, status);
    json_object_del(r->a->reclaiming, r->name);
    agent_release(r->a);
    free(r);
}

static void rm_done(uv_work_t *req, int status)
{
    struct reclaim *r = req->data;
    struct agent *a = r->a;
    char path[512];
    json_t *opts;
    int rv = ORC_ESHUTDOWN;

    if (status == 0 && r->rv == 0 && !a->stopping) {
        snprintf(path, sizeof path, "/api/v1/persistentvolumes/%s", r->name);
        opts = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "DeleteOptions",
                         "preconditions", "uid", r->uid);
        rv = opts ? agent_api_call(a, "DELETE", path, NULL, opts, on_deleted, r) : ORC_ENOMEM;
        json_decref(opts);
        if (rv == 0) return;
    } else if (r->rv != 0) {
        log_warn(AGENT_LOG, "removing the data of volume %s: %s", r->name, orc_strerror(r->rv));
    }
    json_object_del(a->reclaiming, r->name);
    agent_release(a);
    free(r);
}

void agent_reclaim_check(struct agent *a, const json_t *pv)
{
    const char *name = orc_json_str(pv, "metadata.name");
    const char *uid = orc_json_str(pv, "metadata.uid");
    const char *dir = reclaimable(a, pv);
    struct reclaim *r;

    if (a->stopping || dir == NULL || name == NULL || uid == NULL || a->reclaiming == NULL
        || json_object_get(a->reclaiming, name))
        return;
    if ((r = calloc(1, sizeof *r)) == NULL) return;
    r->a = a;
    r->work.data = r;
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->uid, sizeof r->uid, "%s", uid);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    agent_hold(a);
    if (json_object_set_new(a->reclaiming, name, json_true()) != 0
        || uv_queue_work(a->loop, &r->work, rm_work, rm_done) != 0) {
        json_object_del(a->reclaiming, name);
        agent_release(a);
        free(r);
    }
}
