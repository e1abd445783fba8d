/* volume.h — a pod's volumes on the node's disk and the bind mounts that
 * give them to its containers (runtime.h's rt_mount). Synchronous file
 * system work: the agent calls these off its loop (uv_queue_work).
 *
 * Layout: pod_dir (the agent passes DATA/pods/<uid>) holds volumes/<name>;
 * a persistentVolumeClaim volume is the local path of the PersistentVolume
 * the claim is bound to (found through the lookup: kinds
 * "persistentvolumeclaims" and "persistentvolumes"), which outlives the
 * pod; without a lookup (lk NULL) it is claims_dir/<namespace>/<claimName>. errmsg: 256 bytes. Objects are borrowed during the
 * call only. Calls for one pod must not overlap (the agent serializes a
 * pod's work); different pods are independent. */
#ifndef ORC_AGENT_VOLUME_H
#define ORC_AGENT_VOLUME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/podspec.h"
#include "agent/runtime.h"

/* Creates every volume of spec.volumes:
 *  - emptyDir: a directory (mode 0777, as the kubelet's); medium Memory is
 *    a plain directory too (no tmpfs), so its content counts as disk.
 *  - hostPath: the host path itself is the mount source; type "" and
 *    DirectoryOrCreate create a missing directory (mkdir -p; for "" as
 *    Docker does for a bind source, since runc would fail instead),
 *    FileOrCreate an empty file (0644), Directory/File/Socket/CharDevice/
 *    BlockDevice are checked ("hostPath type check failed: P is not a
 *    directory": ORC_ENOENT when missing, ORC_EINVAL when another type).
 *  - configMap / secret: a file per key (data and binaryData; a Secret's
 *    decoded), or the `items` (key, path, mode) subset; defaultMode 0644.
 *    Secret files sit on the node's disk (the kubelet uses a tmpfs).
 *    Written as the kubelet's atomic writer does: a timestamped dir
 *    `..2026_01_02_15_04_05.XXXXXX` in the volume dir, a `..data` symlink
 *    to it replaced by rename(2), and per-name symlinks `key -> ..data/key`,
 *    so a container bind-mounting the volume dir sees updates at once. A
 *    missing object that is not optional: ORC_ENOENT, `configmap "x" not
 *    found` / `secret "x" not found`; optional: an empty directory.
 *  - persistentVolumeClaim: the claim must exist and be bound
 *    (`persistentvolumeclaim "x" not found` / `... is not bound`,
 *    ORC_ENOENT: the agent retries); its PV's hostPath is checked as a
 *    hostPath volume, except that DirectoryOrCreate (the local-path
 *    provisioner's) makes the directory 0777 so any container user may
 *    write; a local PV's path must exist. Without a lookup:
 *    claims_dir/<ns>/<claimName> (mkdir -p, 0777).
 * Other volume types: ORC_EINVAL naming the volume. Idempotent: content
 * is rewritten only when it differs; *changed (may be NULL) is set true
 * when any configMap/secret content was written (the first time too). */
int volume_setup(const char *pod_dir, const char *claims_dir, const json_t *pod,
                 const struct podspec_lookup *lk, bool *changed, char *errmsg);

/* The container's volumeMounts as rt_mount entries: source is the host
 * path of the volume or of its subPath (a missing subPath directory is
 * created in writable volumes, as the kubelet does; a subPath that leaves
 * the volume through a symlink is ORC_EINVAL); destination is mountPath;
 * readonly from readOnly, always for configMap and secret volumes and for
 * claims mounted read-only. ORC_EINVAL naming an unknown volume. lk as
 * for volume_setup (the same claims resolve to the same paths). *out is
 * malloc'd with its strings (NULL when *n is 0): free with
 * volume_mounts_free. Call after volume_setup. */
int volume_mounts(const char *pod_dir, const char *claims_dir, const json_t *pod,
                  const json_t *container, const struct podspec_lookup *lk,
                  struct rt_mount **out, size_t *n, char *errmsg);
void volume_mounts_free(struct rt_mount *m, size_t n);

/* Removes pod_dir recursively: never follows a symlink (so neither hostPath
 * targets nor claims are touched) and leaves whatever is mounted on another
 * file system inside it (ORC_EIO then). 0 when pod_dir is absent. */
int volume_teardown(const char *pod_dir);

#endif
