/* ingress_flags.h — the Ingress proxy's flags, shared by `orcd agent` and
 * `orcd server` (for its embedded agent): --ingress on|off,
 * --ingress-http-port N, --ingress-https-port N (0 turns one off). */
#ifndef ORCD_INGRESS_FLAGS_H
#define ORCD_INGRESS_FLAGS_H

#include <stdbool.h>

/* Parses one flag's value: "ingress" sets *off; a port flag sets *port
 * (1..65535, or -1 for 0: off). 0, or -1 with a message on stderr naming
 * `prog`. */
int orcd_ingress_flag(const char *prog, const char *flag, const char *value, bool *off,
                      long *port);

/* The agent_config ports (0: default, negative: off) from the flags. */
void orcd_ingress_ports(bool off, long http, long https, int *cfg_http, int *cfg_https);

#endif
