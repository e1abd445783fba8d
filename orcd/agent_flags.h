/* agent_flags.h — node agent flags parsed alike by `orcd agent` and
 * `orcd server` (for its embedded agent): the on|off switches
 * (--cluster-dns, --service-proxy, --ingress) and the Ingress proxy's
 * ports (--ingress-http-port N, --ingress-https-port N; 0 turns one off). */
#ifndef ORCD_AGENT_FLAGS_H
#define ORCD_AGENT_FLAGS_H

#include <stdbool.h>

/* --FLAG on|off: sets *off. 0, or -1 with a message on stderr naming
 * `prog`. */
int orcd_onoff_flag(const char *prog, const char *flag, const char *value, bool *off);

/* Parses one flag's value: "ingress" sets *off; a port flag sets *port
 * (1..65535, or -1 for 0: off). 0, or -1 with a message on stderr naming
 * `prog`. */
int orcd_ingress_flag(const char *prog, const char *flag, const char *value, bool *off,
                      long *port);

/* The agent_config ports (0: default, negative: off) from the flags. */
void orcd_ingress_ports(bool off, long http, long https, int *cfg_http, int *cfg_https);

#endif
