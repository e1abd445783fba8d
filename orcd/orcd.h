/* orcd.h — the orcd subcommands. Each returns the process exit code. */
#ifndef ORC_ORCD_H
#define ORC_ORCD_H

int orcd_server_main(int argc, char **argv);
int orcd_agent_main(int argc, char **argv);

#endif
