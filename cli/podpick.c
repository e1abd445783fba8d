/* podpick.c — the pod a command means by TYPE/NAME (pod/x, or a workload
 * or Service: one of its selector's pods), chosen as kubectl chooses
 * (GetFirstPod with ActivePods reversed: assigned, then Running, ready,
 * ready longest, fewest restarts, oldest). Shared by logs and
 * port-forward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

int cli_selector_text(const json_t *map, struct orc_buf *out)
{
    const char *k;
    json_t *v;
    int rv = 0;

    json_object_foreach((json_t *)map, k, v) if (rv == 0 && json_is_string(v))
        rv = orc_buf_printf(out, "%s%s=%s", out->len ? "," : "", k, json_string_value(v));
    return out->len ? rv : ORC_EINVAL;
}

static int phase_rank(const json_t *p)
{
    const char *ph = orc_json_str(p, "status.phase") ?: "";
    return strcmp(ph, "Running") == 0 ? 2 : strcmp(ph, "Unknown") == 0 ? 1 : 0;
}

/* Ready's condition: 1 and since when, or 0. */
static int ready(const json_t *p, int64_t *since)
{
    const json_t *c;
    size_t i;

    *since = 0;
    json_array_foreach(orc_json_get(p, "status.conditions"), i, c)
    {
        const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
        if (t && s && strcmp(t, "Ready") == 0 && strcmp(s, "True") == 0) {
            orc_time_parse(orc_json_str(c, "lastTransitionTime") ?: "", since);
            return 1;
        }
    }
    return 0;
}

static int64_t max_restarts(const json_t *p)
{
    const json_t *c;
    int64_t max = 0, n;
    size_t i;

    json_array_foreach(orc_json_get(p, "status.containerStatuses"), i, c)
        if (orc_json_int(c, "restartCount", &n) == 0 && n > max) max = n;
    return max;
}

/* <0 when a is the more active pod (it comes first). */
static int more_active(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    int64_t ra, rb, ca = 0, cb = 0;
    int x, y;

    x = orc_json_str(a, "spec.nodeName") != NULL;
    y = orc_json_str(b, "spec.nodeName") != NULL;
    if (x != y) return y - x;
    if ((x = phase_rank(a)) != (y = phase_rank(b))) return y - x;
    x = ready(a, &ra);
    y = ready(b, &rb);
    if (x != y) return y - x;
    if (x && ra != rb) return ra < rb ? -1 : 1; /* ready longer first */
    if ((ra = max_restarts(a)) != (rb = max_restarts(b))) return ra < rb ? -1 : 1;
    orc_time_parse(orc_json_str(a, "metadata.creationTimestamp") ?: "", &ca);
    orc_time_parse(orc_json_str(b, "metadata.creationTimestamp") ?: "", &cb);
    return ca < cb ? -1 : ca > cb;
}

void cli_sort_active_pods(const json_t **pods, size_t n)
{
    if (n > 1) qsort((void *)pods, n, sizeof *pods, more_active);
}

static json_t *pod_for_selector(cli_ctx *x, const json_t *map, const char *what, bool running)
{
    struct orc_buf sel = ORC_BUF_INIT;
    json_t *items = NULL, *p, *found = NULL;
    const json_t **v = NULL;
    char *rv = NULL;
    size_t i, n = 0;

    if (cli_selector_text(map, &sel) != 0) {
        fprintf(x->err, "error: %s has no selector to find a pod with\n", what);
        goto out;
    }
    if (cli_list(x, orc_kind_lookup("pods"), x->ns, sel.data, NULL, &items, &rv) != 0) goto out;
    if ((v = calloc(json_array_size(items) + 1, sizeof *v)) == NULL) goto out;
    json_array_foreach(items, i, p)
    {
        const char *phase = orc_json_str(p, "status.phase");
        if (orc_json_get(p, "metadata.deletionTimestamp")) continue;
        if (running && !(phase && strcmp(phase, "Running") == 0)) continue;
        v[n++] = p;
    }
    cli_sort_active_pods(v, n);
    if (n > 0) found = json_incref((json_t *)v[0]);
    else fprintf(x->err, "error: no %spod for %s\n", running ? "running " : "", what);
out:
    free((void *)v);
    free(rv);
    json_decref(items);
    orc_buf_free(&sel);
    return found;
}

json_t *cli_pod_for(cli_ctx *x, const char *target, bool running, json_t **svc)
{
    const char *slash = strchr(target, '/');
    char type[64], what[320];
    const struct orc_kind *k;
    json_t *obj = NULL, *pod;

    if (svc) *svc = NULL;
    snprintf(type, sizeof type, "%.*s", slash ? (int)(slash - target) : 3, slash ? target : "pod");
    if ((k = orc_kind_lookup(type)) == NULL || !k->namespaced) {
        fprintf(x->err, "error: the server doesn't have a resource type \"%s\"\n", type);
        return NULL;
    }
    if (cli_get_object(x, k, x->ns, slash ? slash + 1 : target, &obj) != 0 || obj == NULL) return NULL;
    if (strcmp(k->resource, "pods") == 0) return obj;
    snprintf(what, sizeof what, "%s/%s", k->singular, slash + 1);
    if (strcmp(k->resource, "services") == 0) {
        pod = pod_for_selector(x, orc_json_get(obj, "spec.selector"), what, running);
        if (svc) *svc = obj;
        else json_decref(obj);
        return pod;
    }
    pod = pod_for_selector(x, orc_json_get(obj, "spec.selector.matchLabels"), what, running);
    json_decref(obj);
    return pod;
}
