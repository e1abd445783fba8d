/* drain.c — `orctl cordon`, `uncordon` and `drain`, as kubectl's: cordon
 * sets a node's spec.unschedulable; drain cordons, then evicts the node's
 * pods through pods/{name}/eviction (DaemonSet pods are left, bare pods and
 * pods with emptyDir data only when told) and waits until they are gone. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define POLL_MS 500

struct drain_opts {
    bool ignore_ds, delete_emptydir, force;
    long long grace;
    const char *timeout; /* duration; "0" or NULL: wait forever */
};

/* ---- cordon ---- */

static int set_unschedulable(cli_ctx *x, const char *node, bool on)
{
    const struct orc_kind *k = orc_kind_lookup("nodes");
    json_t *obj = NULL, *reply = NULL, *patch;
    struct orc_buf path = ORC_BUF_INIT;
    int status = 0, rv = cli_get_object(x, k, NULL, node, &obj);

    if (rv != 0) return rv;
    if (json_is_true(orc_json_get(obj, "spec.unschedulable")) == on) {
        fprintf(x->out, "node/%s already %s\n", node, on ? "cordoned" : "uncordoned");
        json_decref(obj);
        return 0;
    }
    patch = json_pack("{s:{s:b}}", "spec", "unschedulable", on);
    rv = patch ? cli_object_path(k, NULL, node, NULL, &path) : ORC_ENOMEM;
    if (rv == 0)
        rv = cli_request_json(x, "PATCH", path.data, "application/merge-patch+json", patch, &status, &reply);
    if (rv == 0 && status == 200) {
        fprintf(x->out, "node/%s %s\n", node, on ? "cordoned" : "uncordoned");
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    fflush(x->out);
    json_decref(patch);
    json_decref(reply);
    json_decref(obj);
    orc_buf_free(&path);
    return rv;
}

static int cordon_cmd(cli_ctx *x, int argc, char **argv, bool on)
{
    struct cli_strv pos = {0};
    int rv = cli_parse(x, NULL, 0, argc, argv, &pos);
    bool failed = false;

    if (rv != 0) {
        rv = cli_stop_status(rv);
    } else if (pos.n == 0) {
        rv = cli_usage_error(x, "you must name the nodes to %s", on ? "cordon" : "uncordon");
    } else if (cli_connect(x) != 0) {
        rv = CLI_EXIT_FAIL;
    } else {
        for (size_t i = 0; i < pos.n; i++) {
            int one = set_unschedulable(x, pos.v[i], on);
            failed |= one != 0;
            if (cli_unreachable(one)) break;
        }
        rv = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    cli_strv_free(&pos);
    return rv;
}

int cli_cmd_cordon(cli_ctx *x, int argc, char **argv) { return cordon_cmd(x, argc, argv, true); }
int cli_cmd_uncordon(cli_ctx *x, int argc, char **argv) { return cordon_cmd(x, argc, argv, false); }

/* ---- which pods drain evicts ---- */

static const json_t *controller_of(const json_t *pod)
{
    size_t i;
    json_t *r;

    json_array_foreach(orc_json_get(pod, "metadata.ownerReferences"), i, r) {
        if (json_is_true(json_object_get(r, "controller"))) return r;
    }
    return NULL;
}

static bool has_emptydir(const json_t *pod)
{
    size_t i;
    json_t *v;

    json_array_foreach(orc_json_get(pod, "spec.volumes"), i, v) {
        if (json_object_get(v, "emptyDir")) return true;
    }
    return false;
}

static bool finished(const json_t *pod)
{
    const char *p = orc_json_str(pod, "status.phase");
    return p && (strcmp(p, "Succeeded") == 0 || strcmp(p, "Failed") == 0);
}

/* Kubernetes' drain filters, in its order: a pod is evicted, skipped with
 * a warning, or refused (the drain stops before evicting anything). */
struct sorted {
    json_t *evict;
    struct orc_buf ds, bare, local;  /* "ns/name, ..." per refusal or warning */
    bool refused;
};

static void note(struct orc_buf *b, const json_t *pod)
{
    orc_buf_printf(b, "%s%s/%s", b->len ? ", " : "", orc_json_str(pod, "metadata.namespace") ?: "",
                   orc_json_str(pod, "metadata.name") ?: "");
}

static void sort_pod(const struct drain_opts *o, const json_t *pod, struct sorted *s)
{
    const json_t *ctl = controller_of(pod);
    const char *kind = ctl ? orc_json_str(ctl, "kind") : NULL;

    if (!finished(pod)) {
        if (kind && strcmp(kind, "DaemonSet") == 0) {
            note(&s->ds, pod);
            s->refused |= !o->ignore_ds;
            return;
        }
        if (!ctl) {
            note(&s->bare, pod);
            s->refused |= !o->force;
            if (!o->force) return;
        }
        if (has_emptydir(pod)) {
            note(&s->local, pod);
            s->refused |= !o->delete_emptydir;
            if (!o->delete_emptydir) return;
        }
    }
    json_array_append(s->evict, (json_t *)pod);
}

static int report_sorted(cli_ctx *x, const struct drain_opts *o, const struct sorted *s,
                         const char *node)
{
    struct orc_buf why = ORC_BUF_INIT;

    if (!s->refused) {
        if (s->ds.len) fprintf(x->err, "Warning: ignoring DaemonSet-managed Pods: %s\n", s->ds.data);
        if (s->bare.len) fprintf(x->err, "Warning: deleting Pods that declare no controller: %s\n", s->bare.data);
        if (s->local.len) fprintf(x->err, "Warning: deleting Pods with local storage: %s\n", s->local.data);
        return 0;
    }
    if (s->bare.len && !o->force)
        orc_buf_printf(&why, "cannot delete Pods declare no controller (use --force to override): %s", s->bare.data);
    if (s->ds.len && !o->ignore_ds)
        orc_buf_printf(&why, "%scannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): %s",
                       why.len ? ", " : "", s->ds.data);
    if (s->local.len && !o->delete_emptydir)
        orc_buf_printf(&why, "%scannot delete Pods with local storage (use --delete-emptydir-data to override): %s",
                       why.len ? ", " : "", s->local.data);
    fprintf(x->err, "error: unable to drain node \"%s\" due to error: %s\n", node, why.data ? why.data : "");
    orc_buf_free(&why);
    return ORC_EINVAL;
}

/* ---- evicting and waiting ---- */

static json_t *eviction_body(const struct drain_opts *o, const json_t *pod)
{
    json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind", "Eviction",
                          "metadata", "name", orc_json_str(pod, "metadata.name") ?: "", "namespace",
                          orc_json_str(pod, "metadata.namespace") ?: "");

    if (b && o->grace >= 0)
        json_object_set_new(b, "deleteOptions", json_pack("{s:I}", "gracePeriodSeconds", (json_int_t)o->grace));
    return b;
}

static bool past(uint64_t end) { return end && orc_time_mono_ms() >= end; }

/* One eviction, retried every 5 s while the server answers 429 (a
 * disruption budget, in Kubernetes), until `end`. */
static int evict_one(cli_ctx *x, const struct drain_opts *o, const json_t *pod, uint64_t end)
{
    const char *ns = orc_json_str(pod, "metadata.namespace"), *name = orc_json_str(pod, "metadata.name");
    struct orc_buf path = ORC_BUF_INIT;
    json_t *body = eviction_body(o, pod), *reply = NULL;
    int status = 0, rv = body ? cli_object_path(orc_kind_lookup("pods"), ns, name, "eviction", &path)
                              : ORC_ENOMEM;

    fprintf(x->out, "evicting pod %s/%s\n", ns, name);
    fflush(x->out);
    while (rv == 0) {
        json_decref(reply);
        reply = NULL;
        rv = cli_request_json(x, "POST", path.data, "application/json", body, &status, &reply);
        if (rv != 0 || status != 429 || past(end)) break;
        fprintf(x->err, "error when evicting pods/\"%s\" -n \"%s\" (will retry after 5s): %s\n", name, ns,
                orc_json_str(reply, "message") ?: "Too many requests");
        sleep(5);
    }
    if (rv == 0 && status != 200 && status != 201 && status != 404) {
        fprintf(x->err, "error when evicting pods/\"%s\" -n \"%s\": ", name, ns);
        fflush(x->err);
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(body);
    json_decref(reply);
    orc_buf_free(&path);
    return rv;
}

/* Gone: not found, or another pod (another uid) under the same name. */
static int wait_gone(cli_ctx *x, const json_t *pod, uint64_t end)
{
    const char *ns = orc_json_str(pod, "metadata.namespace"), *name = orc_json_str(pod, "metadata.name");
    const char *uid = orc_json_str(pod, "metadata.uid");
    struct orc_buf path = ORC_BUF_INIT;
    int status = 0, rv = cli_object_path(orc_kind_lookup("pods"), ns, name, NULL, &path);

    while (rv == 0) {
        json_t *reply = NULL;
        rv = cli_request_json(x, "GET", path.data, NULL, NULL, &status, &reply);
        const char *now = orc_json_str(reply, "metadata.uid");
        bool gone = rv == 0 && (status == 404 || (status == 200 && uid && now && strcmp(uid, now) != 0));
        json_decref(reply);
        if (rv != 0 || gone) break;
        if (past(end)) {
            fprintf(x->err, "error: timed out waiting for the eviction of pod %s/%s\n", ns, name);
            rv = ORC_ETIMEDOUT;
            break;
        }
        usleep(POLL_MS * 1000);
    }
    if (rv == 0) fprintf(x->out, "pod/%s evicted\n", name);
    fflush(x->out);
    orc_buf_free(&path);
    return rv;
}

static int drain_node(cli_ctx *x, const struct drain_opts *o, const char *node, uint64_t end)
{
    struct sorted s = {.evict = json_array()};
    char fields[300], *list_rv = NULL;
    json_t *items = NULL, *p;
    size_t i;
    int rv = set_unschedulable(x, node, true);

    snprintf(fields, sizeof fields, "spec.nodeName=%s", node);
    if (rv == 0) rv = s.evict ? cli_list(x, orc_kind_lookup("pods"), NULL, NULL, fields, &items, &list_rv) : ORC_ENOMEM;
    if (rv == 0) {
        json_array_foreach(items, i, p) sort_pod(o, p, &s);
        rv = report_sorted(x, o, &s, node);
    }
    json_array_foreach(s.evict, i, p) {
        if (rv == 0) rv = evict_one(x, o, p, end);
    }
    json_array_foreach(s.evict, i, p) {
        if (rv == 0) rv = wait_gone(x, p, end);
    }
    if (rv == 0) fprintf(x->out, "node/%s drained\n", node);
    fflush(x->out);
    free(list_rv);
    json_decref(items);
    json_decref(s.evict);
    orc_buf_free(&s.ds);
    orc_buf_free(&s.bare);
    orc_buf_free(&s.local);
    return rv;
}

int cli_cmd_drain(cli_ctx *x, int argc, char **argv)
{
    struct drain_opts o = {.grace = -1};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"ignore-daemonsets", 0, CLI_FLAG_BOOL, &o.ignore_ds, NULL, "Leave DaemonSet-managed pods"},
        {"delete-emptydir-data", 0, CLI_FLAG_BOOL, &o.delete_emptydir, NULL,
         "Evict pods with emptyDir volumes too (their data is lost)"},
        {"force", 0, CLI_FLAG_BOOL, &o.force, NULL, "Evict pods no controller manages too"},
        {"grace-period", 0, CLI_FLAG_INT, &o.grace, "SECONDS",
         "Grace period of the evicted pods (default: each pod's own)"},
        {"timeout", 0, CLI_FLAG_STRING, &o.timeout, "DURATION",
         "Give up after this long (default 0: wait for ever)"},
    };
    uint64_t ms = 0;
    bool failed = false;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n == 0) rv = cli_usage_error(x, "you must name the nodes to drain");
    else if (o.timeout && orc_duration_parse(o.timeout, &ms) != 0)
        rv = cli_usage_error(x, "invalid --timeout \"%s\": want a duration like 90s", o.timeout);
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    else {
        uint64_t end = ms ? orc_time_mono_ms() + ms : 0;
        for (size_t i = 0; i < pos.n; i++) {
            int one = drain_node(x, &o, pos.v[i], end);
            failed |= one != 0;
            if (cli_unreachable(one)) break;
        }
        rv = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    cli_strv_free(&pos);
    return rv;
}
