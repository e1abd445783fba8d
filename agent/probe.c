/* probe.c — a running probe: the period timer, exec attempts through the
 * runtime, and the thresholds that turn attempts into a result. HTTP and
 * TCP attempts are in probe_net.c, the probe object's parsing in
 * probe_spec.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/probe_int.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define ERRLEN 256

static void probe_free(probe *p)
{
    probe_net_free(p);
    probe_cfg_free(&p->cfg);
    orc_clock_free(p->own_clock);
    free(p->cid);
    free(p);
}

void probe_release(probe *p)
{
    if (--p->pending == 0 && p->stopped) probe_free(p);
}

void probe_record(probe *p, bool ok, const char *msg)
{
    if (p->stopped) return;
    if (ok) {
        p->n_fail = 0;
        if (++p->n_ok < p->cfg.success_threshold || p->res == PROBE_SUCCESS) return;
        p->res = PROBE_SUCCESS;
        p->on_change(p->arg, p->res, "");
    } else {
        p->n_ok = 0;
        if (++p->n_fail < p->cfg.failure_threshold || p->res == PROBE_FAILURE) return;
        p->res = PROBE_FAILURE;
        p->on_change(p->arg, p->res, msg);
    }
}

/* ---- exec ---- */

static void on_exec(void *arg, int err, int code, const char *out, size_t out_len,
                    const char *errout, size_t err_len)
{
    probe *p = arg;
    char msg[64];

    (void)out, (void)out_len, (void)errout, (void)err_len;
    p->exec_busy = false;
    if (err == 0) snprintf(msg, sizeof msg, "command exited with %d", code);
    else snprintf(msg, sizeof msg, "%s", err == ORC_ETIMEDOUT ? "timeout" : "container is not running");
    if (err != ORC_ECANCELED) probe_record(p, err == 0 && code == 0, msg);
    probe_release(p);
}

static void exec_attempt(probe *p)
{
    unsigned timeout = p->cfg.timeout_ms > UINT32_MAX ? UINT32_MAX : (unsigned)p->cfg.timeout_ms;
    int rv = rth_exec(&p->r, p->cid, p->cfg.argv, timeout, on_exec, p);

    if (rv == 0) {
        p->exec_busy = true;
        p->pending++;
    } else if (rv != ORC_ESHUTDOWN) {
        probe_record(p, false, rv == ORC_ENOENT ? "container is not running" : orc_strerror(rv));
    }
}

/* ---- scheduling ---- */

/* on_change may stop the probe during an attempt: p stays until the tick ends. */
static void on_tick(void *arg)
{
    probe *p = arg;

    orc_timer_start(p->timer, p->cfg.period_ms);
    if (p->exec_busy || p->cur) return; /* the last attempt still runs */
    p->pending++;
    if (p->cfg.kind == PROBE_EXEC) exec_attempt(p);
    else probe_net_attempt(p);
    probe_release(p);
}

static int setup(probe *p, const json_t *spec, const struct probe_target *t, char *errmsg)
{
    int rv = probe_cfg_parse(spec, t->container, &p->cfg, errmsg);

    if (rv != 0) return rv;
    if (p->cfg.kind == PROBE_EXEC) {
        if (t->r == NULL || t->container_id == NULL || *t->container_id == '\0')
            return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "exec probe: no container to run it in");
        p->r = *t->r;
        if ((p->cid = strdup(t->container_id)) == NULL) return orc_errf(errmsg, ERRLEN, ORC_ENOMEM, "out of memory");
        return 0;
    }
    return probe_net_prepare(p, t->ip, errmsg);
}

int probe_start(uv_loop_t *loop, orc_clock *clock, const json_t *spec, const struct probe_target *t,
                void (*on_change)(void *arg, enum probe_result res, const char *msg), void *arg,
                probe **out, char *errmsg)
{
    probe *p = calloc(1, sizeof *p);
    int rv;

    if (p == NULL) return orc_errf(errmsg, ERRLEN, ORC_ENOMEM, "out of memory");
    p->loop = loop;
    p->clock = clock;
    p->on_change = on_change;
    p->arg = arg;
    if (t == NULL || on_change == NULL) rv = orc_errf(errmsg, ERRLEN, ORC_EINVAL, "no target or callback");
    else rv = setup(p, spec, t, errmsg);
    if (rv == 0 && clock == NULL && (p->clock = p->own_clock = orc_clock_real(loop)) == NULL)
        rv = orc_errf(errmsg, ERRLEN, ORC_ENOMEM, "out of memory");
    if (rv == 0 && orc_timer_new(p->clock, on_tick, p, &p->timer) != 0)
        rv = orc_errf(errmsg, ERRLEN, ORC_ENOMEM, "out of memory");
    if (rv != 0) {
        probe_free(p);
        return rv;
    }
    p->pending = 1; /* the timer */
    orc_timer_start(p->timer, p->cfg.initial_delay_ms);
    *out = p;
    return 0;
}

enum probe_result probe_result(const probe *p) { return p->res; }

void probe_stop(probe *p)
{
    if (p == NULL || p->stopped) return;
    p->stopped = true;
    probe_net_abort(p);
    orc_timer_close(p->timer);
    p->timer = NULL;
    probe_release(p); /* the timer's */
}
