/* podlogs.h — the kubelet's container log layout on a node, which log
 * shippers (fluent-bit, Vector, promtail) expect:
 *   POD_DIR/<ns>_<pod>_<uid>/<container>/<restartCount>.log   CRI format
 *   CTR_DIR/<pod>_<ns>_<container>-<containerID>.log -> that file
 * A log rotated away keeps its name with a suffix, as the kubelet's:
 *   <n>.log.<YYYYmmdd-HHMMSS>[-<k>][.gz]  (-<k> when one second saw
 * several; .gz once the agent compressed it, podlogs_compress).
 * Paths are written into caller buffers; every function returns 0 or a
 * negative ORC_E* (ORC_EINVAL when a path does not fit). */
#ifndef ORC_AGENT_PODLOGS_H
#define ORC_AGENT_PODLOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

int podlogs_pod_dir(const char *pod_dir, const char *ns, const char *pod, const char *uid, char *out,
                    size_t n);
int podlogs_file(const char *pod_dir, const char *ns, const char *pod, const char *uid,
                 const char *container, int run, char *out, size_t n);
int podlogs_link_path(const char *ctr_dir, const char *ns, const char *pod, const char *container,
                      const char *id, char *out, size_t n);

/* Points the link at target (replacing one that is there). */
int podlogs_link(const char *link, const char *target);

/* Removes a log and its rotated files. */
void podlogs_remove_log(const char *log);

/* Removes the pod's log directory and every link in ctr_dir into it. */
void podlogs_remove_pod(const char *pod_dir, const char *ctr_dir, const char *ns, const char *pod,
                        const char *uid);
/* The same for a pod known only by its uid (directories left by a pod
 * that went while the agent was down). */
void podlogs_remove_uid(const char *pod_dir, const char *ctr_dir, const char *uid);

/* The rotated files of log, oldest first (malloc'd paths; the caller
 * frees each and the array with podlogs_strv_free). with_gz: compressed
 * ones too. */
int podlogs_rotated(const char *log, bool with_gz, char ***out, size_t *n);
void podlogs_strv_free(char **v, size_t n);

/* The name for log rotated at `now` that no file has yet. */
int podlogs_rotate_name(const char *log, time_t now, char *out, size_t n);

/* Whether name (a file name without directory) is a rotated file of the
 * log named base; *gz says it is compressed. */
bool podlogs_is_rotated(const char *base, const char *name, bool *gz);

/* Compresses every rotated file of log but the newest into NAME.gz (the
 * kubelet's rule: the newest rotated file stays plain). Needs zlib, so it
 * lives in the agent (podlogs_gz.c), not in the shim. */
int podlogs_compress(const char *log);

#endif
