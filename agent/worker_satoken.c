/* worker_satoken.c — the ServiceAccount token of a pod's projected volume,
 * as the kubelet's token manager: asked for through the TokenRequest API,
 * bound to the pod, and asked for again at 80 % of its life (or after a
 * day, whichever comes first); the volume is rewritten with each new one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/worker_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define RETRY_S 5
#define MAX_REFRESH_S 86400

/* The first serviceAccountToken source of the pod's projected volumes. */
static const json_t *token_source(const json_t *pod)
{
    size_t i, j;
    json_t *v, *s;

    json_array_foreach (orc_json_get(pod, "spec.volumes"), i, v)
        json_array_foreach (orc_json_get(v, "projected.sources"), j, s) {
            const json_t *t = json_object_get(s, "serviceAccountToken");
            if (t) return t;
        }
    return NULL;
}

static void schedule(struct worker *w, int64_t at_wall_s)
{
    int64_t now = worker_wall_s(w);
    uint64_t in_ms = at_wall_s > now ? (uint64_t)(at_wall_s - now) * 1000 : 0;
    worker_sync_at(w, worker_now(w) + in_ms);
}

static void on_token(void *arg, int status, const json_t *body)
{
    struct worker *w = arg;
    const char *tok = orc_json_str(body, "status.token");
    const char *exp = orc_json_str(body, "status.expirationTimestamp");
    int64_t exp_s = 0, now = worker_wall_s(w);

    w->sa_busy = false;
    if (status / 100 == 2 && tok && exp && orc_time_parse(exp, &exp_s) == 0 && exp_s > now) {
        json_decref(w->sa_token);
        w->sa_token = json_pack("{s:s}", "token", tok);
        w->sa_refresh_s = now + (exp_s - now) * 8 / 10;
        if (w->sa_refresh_s - now > MAX_REFRESH_S) w->sa_refresh_s = now + MAX_REFRESH_S;
        w->sa_expiry_s = exp_s;
        log_debug(AGENT_LOG, "pod %s/%s: service account token until %s", w->ns, w->name, exp);
        if (!w->shut) worker_sync_soon(w); /* writes it, and plans the refresh */
    } else {
        log_warn(AGENT_LOG, "pod %s/%s: requesting its service account token: %s", w->ns, w->name,
                 orc_json_str(body, "message") ? orc_json_str(body, "message")
                                               : orc_strerror(status));
        w->sa_refresh_s = now + RETRY_S;
        if (!w->shut) schedule(w, w->sa_refresh_s);
    }
    worker_put(w);
}

static void request(struct worker *w, const json_t *src)
{
    const json_t *aud = json_object_get(src, "audience");
    const json_t *exp = json_object_get(src, "expirationSeconds");
    const char *sa = orc_json_str(w->pod, "spec.serviceAccountName");
    char path[512];
    json_t *body;

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/serviceaccounts/%s/token", w->ns,
             sa && *sa ? sa : "default");
    body = json_pack(
        "{s:s, s:s, s:{s:I, s:{s:s, s:s, s:s, s:s}}}", "apiVersion", "authentication.k8s.io/v1",
        "kind", "TokenRequest", "spec", "expirationSeconds",
        (json_int_t)(json_is_integer(exp) ? json_integer_value(exp) : 3600), "boundObjectRef",
        "kind", "Pod", "apiVersion", "v1", "name", w->name, "uid", w->uid);
    if (body && json_is_string(aud) && json_string_length(aud) > 0)
        orc_json_set(body, "spec.audiences", json_pack("[O]", aud));
    w->sa_busy = true;
    worker_hold(w);
    if (body == NULL
        || agent_api_call(w->a, "POST", path, "application/json", body, on_token, w) != 0) {
        w->sa_busy = false;
        worker_put(w);
        w->sa_refresh_s = worker_wall_s(w) + RETRY_S;
        schedule(w, w->sa_refresh_s);
    }
    json_decref(body);
}

const json_t *worker_sa_token(struct worker *w)
{
    const json_t *src = token_source(w->pod);
    int64_t now = worker_wall_s(w);

    if (src == NULL || w->shut || w->gone) return w->sa_token;
    if (!w->sa_busy && now >= w->sa_refresh_s) request(w, src);
    /* each sync plans the next ask (a sync planned sooner replaces it) */
    else if (!w->sa_busy)
        schedule(w, w->sa_refresh_s);
    /* an expired token is no use; one still valid serves until the next */
    return w->sa_token && now < w->sa_expiry_s ? w->sa_token : NULL;
}
