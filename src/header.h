/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Header files: the few sectors of head and tail, kept in a small file. */

#include <stddef.h>
#include <stdint.h>

#define HEADER_FILE_MAX (UINT64_C(1) << 31) /* refuse to read anything larger */

/* Creates path with exactly len bytes of buf, atomically: a temporary file
 * in the same directory (O_TMPFILE where available), written, fsync'ed,
 * linked/renamed into place without replacing an existing file, then the
 * directory fsync'ed. Mode 0600. A missing parent directory is created
 * 0700 (one level). Never follows a symlink at path.
 * Returns: 0, -EEXIST if path exists already (nothing written), or -errno. */
int header_create(const char *path, const uint8_t *buf, size_t len);

/* Reads the whole header file without following a symlink at path.
 * Returns: 0 with *ret_buf (malloc'ed) and *ret_len; -ENOENT; -ELOOP (path
 * is a symlink); -EISDIR / -EINVAL (not a regular file); -EFBIG (larger than
 * HEADER_FILE_MAX); or -errno. */
int header_read(const char *path, uint8_t **ret_buf, size_t *ret_len);

/* Live grow's new header file: its path next to path (malloc'ed, NULL
 * on allocation failure); written there with exactly len bytes of buf,
 * mode 0600, fsync'ed, replacing a file a grow left at that name
 * (header_write_temp); renamed over path, the directory fsync'ed
 * (header_replace). Returns: 0, or -errno. */
char *header_grow_temp_path(const char *path);
int header_write_temp(const char *tmp, const uint8_t *buf, size_t len);
int header_replace(const char *tmp, const char *path);
/* Rewrites the first len bytes of tmp in place (its inode, which a loop
 * device may be bound to), fsync'ed. Returns: 0, or -errno. */
int header_overwrite(const char *tmp, const uint8_t *buf, size_t len);
