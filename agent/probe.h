/* probe.h — Kubernetes container probes (exec, httpGet, tcpSocket) run on
 * the agent's loop: periodic attempts with timeouts, and a result that flips
 * after failureThreshold / successThreshold consecutive outcomes.
 *
 * Threading: every call happens on the loop given to probe_start; on_change
 * fires on it. As in libuv, on_change is never called when probe_start
 * returned an error, nor after probe_stop returned. */
#ifndef ORC_AGENT_PROBE_H
#define ORC_AGENT_PROBE_H

#include <jansson.h>
#include <uv.h>

#include "agent/rt_ops.h"
#include "lib/clock.h"

typedef struct probe probe;

enum probe_result { PROBE_UNKNOWN, PROBE_SUCCESS, PROBE_FAILURE };

/* What a probe checks. Read during probe_start only (strings are copied;
 * `r` must outlive the probe for exec probes). */
struct probe_target {
    const struct rt_handle *r; /* for exec probes (the handle is copied) */
    const char *container_id;
    const char *ip;          /* pod IP (or host IP for hostNetwork): the host of
                                httpGet/tcpSocket probes that set none */
    const json_t *container; /* the container spec, for named ports (ports[].name) */
};

/* Validates a probe object: exactly one of exec / httpGet / tcpSocket (grpc
 * is not supported), non-negative integer timings, a command, a port that
 * is a number in 1..65535 or the name of one of `container`'s ports (may be
 * NULL: then no name resolves), a path and headers without CR/LF, scheme
 * HTTP or HTTPS (HTTPS is not verified, as in Kubernetes), an IP literal
 * host. ORC_EINVAL with errmsg (256 bytes) naming the field; 0 otherwise. */
int probe_check(const json_t *spec, const json_t *container, char *errmsg);

/* Starts probing: the first attempt after initialDelaySeconds, then one every
 * periodSeconds (default 10, at least 1; a tick is skipped while an attempt
 * is still running); each attempt times out after timeoutSeconds (default
 * 1). The result starts UNKNOWN, becomes FAILURE after failureThreshold
 * (default 3) consecutive failures and SUCCESS after successThreshold
 * (default 1) consecutive successes; on_change fires on each flip with a
 * short message about the last failure ("" for SUCCESS): "HTTP probe failed
 * with statuscode: 500", "dial tcp 10.42.0.5:80: connect: connection
 * refused", "command exited with 1", "timeout". The message is valid during
 * the call. on_change may call probe_stop. The periods run on `clock`
 * (borrowed, must outlive the probe; NULL: libuv's time on `loop`), so a
 * fake clock drives them; HTTP/TCP attempts and their timeouts use `loop`.
 * spec and t are copied; *out is the caller's until probe_stop. ORC_EINVAL
 * (errmsg, 256 bytes) as probe_check, or when an httpGet/tcpSocket probe has
 * no host and t->ip is unset, or an exec probe has no runtime/container. */
int probe_start(uv_loop_t *loop, orc_clock *clock, const json_t *spec, const struct probe_target *t,
                void (*on_change)(void *arg, enum probe_result res, const char *msg), void *arg,
                probe **out, char *errmsg);

enum probe_result probe_result(const probe *p);

/* Stops probing; on_change is not called after it returns. An exec in
 * flight is left to finish (its result ignored); an HTTP/TCP attempt is
 * closed. p is freed once its handles closed (on a later loop iteration). */
void probe_stop(probe *p);

#endif
