/* rt_container.c — the containers the runtime knows, in memory and on
 * disk: rt_status, rt_list, rt_remove, rt_remove_pod, and loading what an
 * earlier agent process left in DATA/containers. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"

/* ---- the in-memory table ---- */

struct rt_ctr *rt_ctr_find(rt *r, const char *id)
{
    for (struct rt_ctr *c = r->ctrs; c; c = c->next)
        if (strcmp(c->id, id) == 0) return c;
    return NULL;
}

struct rt_ctr *rt_ctr_add(rt *r, const char *id, const char *pod_uid, const char *log_path)
{
    struct rt_ctr *c = calloc(1, sizeof *c);

    if (c == NULL) return NULL;
    c->id = strdup(id);
    c->pod_uid = strdup(pod_uid ? pod_uid : "");
    c->log_path = strdup(log_path ? log_path : "");
    if (!c->id || !c->pod_uid || !c->log_path || rt_path(c->dir, "%s/%s", r->dir_ctrs, id) != 0) {
        free(c->id);
        free(c->pod_uid);
        free(c->log_path);
        free(c);
        return NULL;
    }
    c->state = RT_CREATED;
    c->next = r->ctrs;
    r->ctrs = c;
    return c;
}

void rt_ctr_free(rt *r, struct rt_ctr *c)
{
    for (struct rt_ctr **pp = &r->ctrs; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    rt_stops_cancel(r, c);
    rt_watch_stop(r, c);
    free(c->id);
    free(c->pod_uid);
    free(c->log_path);
    free(c);
}

void rt_cgroup_path(const rt *r, const char *pod_uid, const char *id, char out[RT_PATH])
{
    if (id) rt_path(out, "/orc-%s/pod-%s/%s", r->node_tag, pod_uid, id);
    else rt_path(out, "/orc-%s/pod-%s", r->node_tag, pod_uid);
}

bool rt_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 200 || s[0] == '.' || s[0] == '-') return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* ---- status, list ---- */

int rt_status(rt *r, const char *id, struct rt_status *out)
{
    struct rt_ctr *c = rt_ctr_find(r, id);

    memset(out, 0, sizeof *out);
    if (c == NULL) return ORC_ENOENT;
    if (c->state != RT_EXITED && !c->starting) rt_watch_check(r, c);
    out->state = c->state;
    out->pid = c->state == RT_RUNNING ? c->disk.pid : 0;
    out->started_ns = c->disk.started_ns;
    if (c->state == RT_EXITED) {
        out->exit_code = c->disk.exit_code;
        out->oom_killed = c->disk.oom_killed;
        out->finished_ns = c->disk.finished_ns;
    }
    return 0;
}

int rt_list(rt *r, char ***ids, size_t *n)
{
    size_t k = 0, cap = 0;
    char **v;

    for (struct rt_ctr *c = r->ctrs; c; c = c->next) cap++;
    *ids = NULL;
    *n = 0;
    if ((v = calloc(cap + 1, sizeof *v)) == NULL) return ORC_ENOMEM;
    for (struct rt_ctr *c = r->ctrs; c; c = c->next) {
        if ((v[k] = strdup(c->id)) == NULL) {
            rt_free_list(v, k);
            return ORC_ENOMEM;
        }
        k++;
    }
    *ids = v;
    *n = k;
    return 0;
}

void rt_free_list(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

/* ---- remove ---- */

int rt_remove(rt *r, const char *id)
{
    struct rt_ctr *c = rt_ctr_find(r, id);
    char path[RT_PATH], cg[RT_PATH];

    if (c == NULL) return ORC_ENOENT;
    if (c->starting) return ORC_EINVAL;
    rt_watch_check(r, c);
    if (c->state == RT_RUNNING) return ORC_EINVAL; /* stop it first */
    if (rt_path(path, "%s/rootfs", c->dir) == 0 && umount2(path, MNT_DETACH) != 0 && errno != EINVAL
        && errno != ENOENT)
        log_warn(RT_LOG, "unmounting %s: %s", path, strerror(errno));
    rt_cgroup_path(r, c->pod_uid, c->id, cg);
    rt_cg_rmdir(&r->cg, cg);
    rt_stops_exited(r, c);
    rt_logs_exited(r, c->log_path);
    if (rt_path(path, "%s/%s", r->dir_runc, c->id) == 0) rt_rm_rf(path); /* a shim that died */
    rt_trash(r, c->dir, c->id);
    rt_ctr_free(r, c);
    return 0;
}

int rt_remove_pod(rt *r, const char *pod_uid)
{
    char cg[RT_PATH];
    int rv;

    if (!rt_name_ok(pod_uid)) return ORC_EINVAL;
    rt_cgroup_path(r, pod_uid, NULL, cg);
    rv = rt_cg_rmdir(&r->cg, cg);
    if (r->ctrs == NULL && rt_path(cg, "/orc-%s", r->node_tag) == 0)
        rt_cg_rmdir(&r->cg, cg); /* the node's own parent, once nothing runs */
    return rv;
}

/* ---- what an earlier process left ---- */

static void load_one(rt *r, const char *name)
{
    char dir[RT_PATH], meta[RT_PATH];
    json_t *m;
    struct rt_ctr *c;

    if (rt_path(dir, "%s/%s", r->dir_ctrs, name) || rt_path(meta, "%s/meta.json", dir)) return;
    if ((m = rt_read_json(meta)) == NULL) { /* a start that never finished */
        if (rt_path(meta, "%s/rootfs", dir) == 0) umount2(meta, MNT_DETACH);
        rt_trash(r, dir, name);
        return;
    }
    c = rt_ctr_add(r, name, json_string_value(json_object_get(m, "podUid")),
                   json_string_value(json_object_get(m, "logPath")));
    json_decref(m);
    if (c == NULL) return;
    rt_disk_state_read(c->dir, &c->disk);
    c->state = c->disk.has_exit ? RT_EXITED : c->disk.pid > 0 ? RT_RUNNING : RT_CREATED;
    c->notified = c->state == RT_EXITED; /* exits before this process are read, not announced */
    if (c->state != RT_EXITED) rt_watch_start(r, c);
}

int rt_ctrs_load(rt *r)
{
    DIR *d = opendir(r->dir_ctrs);
    struct dirent *e;

    if (d == NULL) return ORC_EIO;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !rt_name_ok(e->d_name)) continue;
        load_one(r, e->d_name);
    }
    closedir(d);
    return 0;
}
