/* events.h — Events about objects, as Kubernetes' event recorder writes them
 * (core/v1 Event: involvedObject, reason, message, type, source, count,
 * firstTimestamp/lastTimestamp). An event repeating (same object, type,
 * reason and message) within 10 minutes bumps the stored one's count and
 * lastTimestamp instead of adding another. Writes are best effort: a failure
 * is logged (rate-limited) and dropped; nothing waits on an event.
 *
 * Single-threaded, on the client's loop. */
#ifndef ORC_CLIENT_EVENTS_H
#define ORC_CLIENT_EVENTS_H

#include <jansson.h>

#include "client/http.h"
#include "lib/clock.h"

typedef struct event_recorder event_recorder;

/* component: source.component ("default-scheduler",
 * "replicaset-controller"); host: source.host, may be NULL. Both copied;
 * c and clk borrowed. 0, ORC_ENOMEM. */
int events_new(http_client *c, orc_clock *clk, const char *component, const char *host,
               event_recorder **out);

/* Records an event about `obj` (borrowed; its kind, apiVersion, namespace,
 * name, uid and resourceVersion fill involvedObject). type: "Normal" or
 * "Warning". The message is printf-formatted, cut at 1 KiB. */
void events_record(event_recorder *r, const json_t *obj, const char *type, const char *reason,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Frees the recorder; writes in flight finish without it. NULL ignored. */
void events_free(event_recorder *r);

#endif
