/* volume_int.h — internals of agent/volume*.c: the files of a configMap or
 * secret volume, the kubelet-style atomic writer, rm -rf without symlinks. */
#ifndef ORC_AGENT_VOLUME_INT_H
#define ORC_AGENT_VOLUME_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agent/podspec.h"
#include "lib/buf.h"

#define VOL_ERRLEN 256

struct vol_file {
    char *path;           /* relative, validated: no "..", not absolute */
    struct orc_buf data;
    mode_t mode;
};

struct vol_payload {
    struct vol_file *f;
    size_t n, cap;
};

/* A relative path that stays below its directory, as the kubelet's
 * validatePath: not absolute, no "." or ".." element, no leading "..". */
bool vol_path_ok(const char *path);

/* The files a configMap/secret volume source `src` projects from obj (NULL:
 * optional and missing, so none). ORC_ENOENT for a missing key that is not
 * optional, ORC_EINVAL for a bad path or base64; errmsg says which. */
int vol_payload_build(const json_t *src, bool secret, const json_t *obj, struct vol_payload *p,
                      char *errmsg);
void vol_payload_free(struct vol_payload *p);
/* One more file (empty data) at path, or NULL when out of memory. */
struct vol_file *vol_payload_add(struct vol_payload *p, const char *path, mode_t mode);

/* The files of a projected volume source: its configMap, secret,
 * downwardAPI (metadata.name, namespace, uid, labels, annotations,
 * spec.nodeName, spec.serviceAccountName) and serviceAccountToken sources
 * in one payload. ORC_ENOENT while an object or the token is missing. */
int vol_projected_build(const json_t *src, const json_t *pod, const struct podspec_lookup *lk,
                        const char *ns, struct vol_payload *p, char *errmsg);

/* Makes dir (existing) hold exactly p, atomically as seen through its
 * per-name symlinks; *changed true when it wrote. */
int vol_write_atomic(const char *dir, const struct vol_payload *p, bool *changed, char *errmsg);

/* rm -rf of name under the directory pfd, not following symlinks and not
 * descending into other file systems (ORC_EIO then). 0 when absent. */
int vol_rmtree_at(int pfd, const char *name);

#endif
