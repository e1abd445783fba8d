/* agent_flags.c — parsing of the node agent's flags (agent_flags.h). */
#include "orcd/agent_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/quantity.h"

int orcd_onoff_flag(const char *prog, const char *flag, const char *value, bool *off)
{
    if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
        fprintf(stderr, "%s: --%s takes on or off, not \"%s\"\n", prog, flag, value);
        return -1;
    }
    *off = strcmp(value, "off") == 0;
    return 0;
}

int orcd_ingress_flag(const char *prog, const char *flag, const char *value, bool *off,
                      long *port)
{
    char *end;
    long v;

    if (strcmp(flag, "ingress") == 0) return orcd_onoff_flag(prog, flag, value, off);
    v = strtol(value, &end, 10);
    if (!value[0] || *end || v < 0 || v > 65535) {
        fprintf(stderr, "%s: --%s takes a port 0-65535 (0 turns it off), not \"%s\"\n", prog,
                flag, value);
        return -1;
    }
    *port = v == 0 ? -1 : v;
    return 0;
}

void orcd_ingress_ports(bool off, long http, long https, int *cfg_http, int *cfg_https)
{
    *cfg_http = off ? -1 : (int)http;
    *cfg_https = off ? -1 : (int)https;
}

int orcd_log_flag(const char *prog, const char *flag, const char *value, struct orcd_log_flags *out)
{
    char *end;
    int64_t q;
    long v;

    if (strcmp(flag, "pod-log-dir") == 0 || strcmp(flag, "container-log-dir") == 0) {
        if (value[0] != '/') {
            fprintf(stderr, "%s: --%s takes an absolute directory, not \"%s\"\n", prog, flag, value);
            return -1;
        }
        *(flag[0] == 'p' ? &out->pod_log_dir : &out->container_log_dir) = value;
        return 0;
    }
    if (strcmp(flag, "container-log-max-size") == 0) {
        if (orc_quantity_parse(value, &q) != 0 || q < 4096000) { /* thousandths */
            fprintf(stderr, "%s: --%s takes a size of at least 4Ki, like 10Mi, not \"%s\"\n", prog,
                    flag, value);
            return -1;
        }
        out->max_bytes = q / 1000;
        return 0;
    }
    v = strtol(value, &end, 10);
    if (!value[0] || *end || v < 2 || v > 1000) {
        fprintf(stderr, "%s: --%s takes a number from 2 to 1000, not \"%s\"\n", prog, flag, value);
        return -1;
    }
    out->max_files = (unsigned)v;
    return 0;
}
