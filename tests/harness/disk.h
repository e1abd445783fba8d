/* disk.h — what a disk does to a member, for fault tests: a byte flipped in
 * its newest Raft segment, and a small tmpfs (root only) that the test
 * fills and frees. Everything mounted is unmounted when the case ends. */
#ifndef ORC_TEST_DISK_H
#define ORC_TEST_DISK_H

#include <stdbool.h>
#include <stddef.h>

/* The segment holding the newest entries in raft_dir: the open segment
 * with data, else the closed one with the highest first index. */
void disk_newest_segment(const char *raft_dir, char *out, size_t n);
/* Flips one bit in the middle of the file's data; returns the offset. */
size_t disk_flip_middle(const char *path);
/* Offset just past the last non-zero byte of the file. */
size_t disk_data_end(const char *path);
/* Directories in dir whose name starts with prefix. */
int disk_count_dirs(const char *dir, const char *prefix);

/* A tmpfs of size_mb at dir (created), unmounted when the case ends.
 * Returns false (and says why) when mounting is not allowed here. */
bool disk_tmpfs(const char *dir, unsigned size_mb);
/* Fills the file system of dir up to the last byte (a file named
 * .filler), and frees it again. */
void disk_fill(const char *dir);
void disk_unfill(const char *dir);

#endif
