/* shim.h — `orcd shim`: the small process that sits beside one container
 * for its whole life, so the container outlives agent restarts. It runs
 * the OCI runtime, copies the container's stdout/stderr into the
 * container's log file (CRI format, rotated), reaps the container and
 * records its exit status (and whether it was OOM-killed) in the
 * container's state directory. Started by the runtime (agent/rt_oci*.c). */
#ifndef ORC_AGENT_SHIM_H
#define ORC_AGENT_SHIM_H

/* Entry point of `orcd shim ...` (argv[0] is "shim"); returns the exit code. */
int agent_shim_main(int argc, char **argv);

#endif
