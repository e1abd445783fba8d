/* shim.h — the shim (`orc-shim`, or `orcd shim` when orc-shim is not
 * installed beside orcd): the small process that sits beside one container
 * for its whole life, so the container outlives agent restarts. It runs
 * the OCI runtime, copies the container's stdout/stderr into the
 * container's log file (CRI format, rotated), reaps the container and
 * records its exit status (and whether it was OOM-killed) in the
 * container's state directory. Started by the runtime (agent/rt_container.c):
 *
 *   orcd shim --id ID --dir DATA/containers/ID --runtime PATH --root DIR
 *             --log FILE --cgroup /orc-TAG/pod-UID/ID
 *             [--log-max-bytes N] [--log-max-files N]
 *             [--stdin 0|1] [--stdin-once 0|1] [--tty 0|1]
 *
 * It forks once and its first process exits, so the agent reaps it at once
 * and the shim lives on in its own session as a child subreaper. Its stdout
 * carries one line to the agent: "ok PID STARTED_NS" once the container
 * runs (`runtime run --detach`; state.json written first), or "error
 * MESSAGE" with the OCI runtime's own words. Then it copies the container's
 * stdout/stderr into FILE as CRI records (lines over 16 KiB split into "P"
 * records), rotating past N bytes (FILE -> FILE.1 ...), drops output it
 * cannot write, reaps the container's init, reads the cgroup's OOM-kill
 * count, runs `runtime delete --force`, and writes exit.json last
 * (atomically): {exitCode (128 + signal), oomKilled, finishedAt, ...}.
 * Its own trouble goes to DIR/shim.log.
 *
 * --stdin 1 makes the FIFO DIR/stdin that attaches write to: the process
 * reads it directly (held open here, so it never ends), or with
 * --stdin-once 1 through a pipe closed when the first writer leaves.
 * --tty 1 runs the process on a terminal (runc's --console-socket): the
 * shim holds the master, logs its output as stdout, writes DIR/stdin into
 * it and sizes it from "COLS ROWS" records in the FIFO DIR/resize
 * (agent/shim_io.c). */
#ifndef ORC_AGENT_SHIM_H
#define ORC_AGENT_SHIM_H

/* Entry point of `orcd shim ...` (argv[0] is "shim"); returns the exit code. */
int agent_shim_main(int argc, char **argv);

#endif
