/* file.h — whole-file reads and crash-safe writes (temp file, fsync,
 * rename), for the small state and credential files orc keeps. */
#ifndef ORC_FILE_H
#define ORC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

/* Reads the whole file into out (NUL-terminated). ORC_ENOENT when missing,
 * ORC_EIO otherwise; ORC_ETOOBIG past max bytes. */
int orc_file_read(const char *path, size_t max, struct orc_buf *out);
/* Replaces path atomically with data, created with `mode` (e.g. 0600 for
 * files holding tokens). */
int orc_file_write(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p with `mode` for the directories it creates. */
int orc_mkdirs(const char *path, mode_t mode);
/* Makes dir private to its owner, whatever it was before: the directory
 * 0700 and every regular file directly in it 0600 (subdirectories and
 * symlinks are left alone). ORC_EIO when one could not be changed. */
int orc_file_private_dir(const char *dir);
/* write(2) until all of data is written (EINTR retried); ORC_EIO on error. */
int orc_write_all(int fd, const void *data, size_t len);

#endif
