/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the FUSE operations (ll.c) and start-up (main.c). */
#ifndef ZRAMFS_H
#define ZRAMFS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "zr_host.h"

/* Largest read or write request, set in conn and as mount options. */
#define ZRAMFS_MAX_IO (1U << 20)

struct zramfs {
	struct zr_host *host;
	uid_t uid;		/* owner shown for every inode */
	gid_t gid;
	struct timespec mount_time;
	int parallel_writes;	/* FOPEN_PARALLEL_DIRECT_WRITES on opens */
	unsigned int max_background;	/* async requests in flight */
};

extern const struct fuse_lowlevel_ops zramfs_ll_ops;

/* Serves se with nthreads workers, all started before serving, until
 * unmounted or signalled. 0, or a negative errno. */
int zramfs_serve(struct fuse_session *se, unsigned int nthreads);

#endif
