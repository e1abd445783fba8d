/* probe_int.h — what probe.c, probe_spec.c and probe_net.c share: the
 * parsed probe object and the running probe. Internal to agent/. */
#ifndef ORC_AGENT_PROBE_INT_H
#define ORC_AGENT_PROBE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "agent/probe.h"
#include "lib/buf.h"

#define PROBE_MSG_LEN 256

enum probe_kind { PROBE_EXEC, PROBE_HTTP, PROBE_TCP };

/* A validated probe object; every pointer is owned (probe_cfg_free). */
struct probe_cfg {
    enum probe_kind kind;
    uint64_t initial_delay_ms, period_ms, timeout_ms;
    unsigned failure_threshold, success_threshold;
    char **argv;              /* exec: NULL-terminated */
    char *host;               /* httpGet/tcpSocket host, NULL: the target's IP */
    int port;                 /* resolved from a name when needed */
    char *path;               /* httpGet: "/..." */
    bool https;
    struct orc_buf headers;   /* httpGet: "Name: value\r\n" lines */
    bool set_host, set_agent, set_accept; /* headers that replace our defaults */
};

int probe_cfg_parse(const json_t *spec, const json_t *container, struct probe_cfg *cfg, char *errmsg);
void probe_cfg_free(struct probe_cfg *cfg);

struct probe_attempt;
struct orc_tls_ctx;

struct probe {
    uv_loop_t *loop;
    struct probe_cfg cfg;
    struct rt_handle r;
    char *cid;
    struct sockaddr_storage addr; /* httpGet/tcpSocket destination */
    char host[48];                /* the IP probed */
    char hostport[64];            /* "10.42.0.5:80", "[fd00::5]:80" */
    char *url;                    /* httpGet: for messages */
    struct orc_buf request;       /* httpGet: the request bytes */
    struct orc_tls_ctx *tls;      /* HTTPS: trusts anything */
    orc_clock *clock;
    orc_clock *own_clock;         /* when probe_start was given none */
    orc_timer *timer;             /* the period */
    struct probe_attempt *cur;    /* HTTP/TCP attempt in flight */
    bool exec_busy;
    bool stopped;
    int pending;                  /* open handles and calls in flight */
    enum probe_result res;
    unsigned n_ok, n_fail;
    void (*on_change)(void *arg, enum probe_result res, const char *msg);
    void *arg;
};

/* One attempt's outcome: counts it and fires on_change on a flip. */
void probe_record(probe *p, bool ok, const char *msg);
/* Drops one of p->pending; frees a stopped probe at zero. */
void probe_release(probe *p);

/* HTTP/TCP (probe_net.c): the destination and request, made once. */
int probe_net_prepare(probe *p, const char *target_ip, char *errmsg);
void probe_net_attempt(probe *p);
void probe_net_abort(probe *p);
void probe_net_free(probe *p);

#endif
