/* api_flags.c — the API port's limit flags of `orcd server`, and the
 * process setup those limits rely on. */
#include "orcd/api_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "lib/quantity.h"
#include "lib/timeutil.h"

int orcd_flag_bad(const char *name, const char *value, const char *want)
{
    fprintf(stderr, "orcd server: invalid value \"%s\" for --%s: want %s\n", value, name, want);
    return -1;
}

static int count(const char *name, const char *value, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(value, &end, 10);

    if (*value == '\0' || *end != '\0' || v == 0 || v > 10000000) return orcd_flag_bad(name, value, "a number from 1");
    *out = (unsigned)v;
    return 0;
}

int orcd_flag_duration(const char *name, const char *value, unsigned min_ms, const char *want,
                       unsigned *out)
{
    uint64_t ms;

    if (orc_duration_parse(value, &ms) != 0 || ms < min_ms || ms > 86400000)
        return orcd_flag_bad(name, value, want);
    *out = (unsigned)ms;
    return 0;
}

static int duration(const char *name, const char *value, unsigned *out)
{
    return orcd_flag_duration(name, value, 100, "a duration from 100ms to 24h, like 10s", out);
}

static int size(const char *name, const char *value, size_t *out)
{
    int64_t milli;

    if (orc_quantity_parse(value, &milli) != 0 || milli < 4096 * 1000LL || milli / 1000 > (int64_t)(64ULL << 30))
        return orcd_flag_bad(name, value, "a size from 4Ki to 64Gi, like 4Mi");
    *out = (size_t)(milli / 1000);
    return 0;
}

static int path(const char *name, const char *value, const char **out)
{
    if (*value == '\0') return orcd_flag_bad(name, value, "a file name");
    *out = value;
    return 0;
}

/* 0 to max (0 means "no limit" for these flags, as in Kubernetes). */
static int number(const char *name, const char *value, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(value, &end, 10);

    if (*value == '\0' || *value == '-' || *end != '\0' || v > max)
        return orcd_flag_bad(name, value, "a whole number from 0");
    *out = (unsigned)v;
    return 0;
}

int orcd_api_limit_flag(const char *name, const char *value, struct orcd_api_limits *out)
{
    if (strcmp(name, "max-connections") == 0) return count(name, value, &out->max_connections);
    if (strcmp(name, "max-connections-per-client") == 0)
        return count(name, value, &out->max_connections_per_client);
    if (strcmp(name, "header-timeout") == 0) return duration(name, value, &out->header_timeout_ms);
    if (strcmp(name, "idle-timeout") == 0) return duration(name, value, &out->idle_timeout_ms);
    if (strcmp(name, "watch-queue") == 0) return size(name, value, &out->watch_queue);
    if (strcmp(name, "watch-memory") == 0) return size(name, value, &out->watch_memory);
    if (strcmp(name, "watch-bookmark-interval") == 0)
        return duration(name, value, &out->watch_bookmark_ms);
    if (strcmp(name, "event-ttl") == 0) {
        unsigned ms;
        if (orcd_flag_duration(name, value, 1000, "a duration from 1s to 24h, like 1h", &ms) != 0) return -1;
        out->event_ttl_s = ms / 1000;
        return 0;
    }
    if (strcmp(name, "api-audiences") == 0) {
        if (*value == '\0' || value[strspn(value, ",")] == '\0')
            return orcd_flag_bad(name, value, "audiences, comma-separated");
        out->api_audiences = value;
        return 0;
    }
    if (strcmp(name, "service-account-min-token-expiration") == 0) {
        unsigned ms;
        if (orcd_flag_duration(name, value, 1000, "a duration from 1s to 24h, like 10m", &ms) != 0)
            return -1;
        out->sa_min_expiration = ms / 1000;
        return 0;
    }
    if (strcmp(name, "node-cert-ttl") == 0) {
        uint64_t ms;
        if (orc_duration_parse(value, &ms) != 0 || ms < 30000 || ms > 10ULL * 365 * 86400000)
            return orcd_flag_bad(name, value, "a duration from 30s to 87600h, like 720h");
        out->node_cert_ttl_s = (unsigned)(ms / 1000);
        return 0;
    }
    if (strcmp(name, "audit-log-path") == 0) return path(name, value, &out->audit.log_path);
    if (strcmp(name, "audit-policy-file") == 0) return path(name, value, &out->audit.policy_file);
    if (strcmp(name, "audit-log-maxsize") == 0) return number(name, value, 1u << 20, &out->audit.max_size_mb);
    if (strcmp(name, "audit-log-maxbackup") == 0) return number(name, value, 100000, &out->audit.max_backup);
    if (strcmp(name, "audit-log-maxage") == 0) return number(name, value, 100000, &out->audit.max_age_days);
    if (strcmp(name, "metric-resolution") == 0) {
        out->metrics_off = strcmp(value, "0") == 0;
        return out->metrics_off ? 0
                                : orcd_flag_duration(name, value, 1000, "0 (off) or a duration from 1s to 24h, like 15s",
                                                     &out->metric_resolution_ms);
    }
    return orcd_flag_bad(name, value, "a known flag");
}

void orcd_api_limits_apply(const struct orcd_api_limits *l, struct api_config *cfg)
{
    cfg->max_connections = l->max_connections;
    cfg->max_connections_per_client = l->max_connections_per_client;
    cfg->header_timeout_ms = l->header_timeout_ms;
    cfg->idle_timeout_ms = l->idle_timeout_ms;
    cfg->watch_queue_bytes = l->watch_queue;
    cfg->watch_memory_bytes = l->watch_memory;
    cfg->watch_bookmark_ms = l->watch_bookmark_ms;
    cfg->event_ttl_s = l->event_ttl_s;
    cfg->api_audiences = l->api_audiences;
    cfg->sa_min_expiration = l->sa_min_expiration;
    cfg->node_cert_ttl_s = l->node_cert_ttl_s;
    cfg->audit = l->audit;
    cfg->metric_resolution_ms = l->metric_resolution_ms;
    cfg->metrics_off = l->metrics_off;
}

void orcd_process_setup(void)
{
    struct rlimit rl;

    orc_mem_setup();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("orcd", "cannot raise the open-file limit from %llu", (unsigned long long)was);
    }
}
