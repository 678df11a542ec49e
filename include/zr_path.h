/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening files named in control writes without ever looking a name up on
 * zramfs's own mount, which would deadlock the daemon (see path.c).
 */
#ifndef ZR_PATH_H
#define ZR_PATH_H

#include <fcntl.h>
#include <sys/stat.h>

/* The device number of the daemon's own mount: paths that reach it are
 * refused from then on. Set once, after mounting. */
void zr_path_forbid_dev(unsigned int major, unsigned int minor);

/*
 * Walks path (relative paths from the working directory), following
 * symbolic links, and returns an O_PATH descriptor of the file it names,
 * with its statx in stx, or a negative errno: -EINVAL if the walk reaches
 * the forbidden mount, -ELOOP, -ENOTDIR, -ENAMETOOLONG, or the errno of a
 * step. Nothing but directories and links is looked up on the way.
 */
int zr_path_resolve(const char *path, struct statx *stx);

/* Opens the file behind an O_PATH descriptor with flags (O_CLOEXEC added);
 * a descriptor or a negative errno. */
int zr_path_reopen(int path_fd, int flags);

#endif
