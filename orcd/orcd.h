/* orcd.h — the orcd subcommands. Each returns the process exit code. */
#ifndef ORC_ORCD_H
#define ORC_ORCD_H

#include <stdbool.h>

int orcd_server_main(int argc, char **argv);
int orcd_agent_main(int argc, char **argv);
/* --network-backend's values: auto, host-gw, vxlan, none (agent.c). */
bool orcd_network_backend_ok(const char *s);

#endif
