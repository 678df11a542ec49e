/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the FUSE operations (ll.c) and start-up (main.c). */
#ifndef ZRAMFS_H
#define ZRAMFS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "zr_host.h"

/* Largest read or write request, set in conn and as mount options. */
#define ZRAMFS_MAX_IO (1U << 20)
/* The same over io_uring, where every ring entry holds a buffer this
 * large: about max_background of them (uring.c). */
#define ZRAMFS_URING_MAX_IO (256U << 10)

struct zramfs_uring;

struct zramfs {
	struct zr_host *host;
	uid_t uid;		/* owner shown for every inode */
	gid_t gid;
	struct timespec mount_time;
	int parallel_writes;	/* FOPEN_PARALLEL_DIRECT_WRITES on opens */
	unsigned int max_background;	/* async requests in flight */
	size_t max_io;			/* max_read and max_write */
	struct zramfs_uring *uring;	/* -o io_uring, else NULL */
};

extern const struct fuse_lowlevel_ops zramfs_ll_ops;

/*
 * The data path: what a read or a write of a data file does, with
 * zr_device_read()'s and zr_device_write()'s contract. The daemon links
 * data.c, which is the core; contrib/bench/zramfs-null links
 * contrib/bench/null-data.c instead, which keeps nothing (reads return
 * zeros), so that the benchmark can measure what FUSE and loop alone
 * cost. zramfs_data_path names the one linked for --version: empty for
 * the core.
 */
extern const char zramfs_data_path[];
ssize_t zramfs_data_read(struct zr_device *dev, void *buf, size_t len,
			 uint64_t off);
ssize_t zramfs_data_write(struct zr_device *dev, const void *buf,
			  size_t len, uint64_t off);

/* Serves se with nthreads workers, all started before serving, and the
 * io_uring ring threads of uring if not NULL, until unmounted or stopped
 * by a signal (once none of host's data files is open); each thread is
 * readied for requests of up to max_io bytes first. 0, or a negative
 * errno. */
int zramfs_serve(struct fuse_session *se, struct zr_host *host,
		 unsigned int nthreads, struct zramfs_uring *uring,
		 size_t max_io);
/* Async-signal-safe: a stop signal arrived (see workers.c). */
void zramfs_request_stop(int sig);

/* Readies the calling thread for I/O (ll.c): its read buffer touched up
 * to max_io (none for 0: io_uring threads read into their ring entries),
 * the core's per-thread state (zr_device_thread_prepare). */
void zramfs_thread_prepare(size_t max_io);

/*
 * FUSE over io_uring (uring.c). prepare() before mounting (it sets the
 * fuse module's enable_uring to Y if it was N, until the queues have
 * registered), attach() once mounted (installs the I/O hooks); then
 * zramfs_serve() runs zramfs_uring_thread() for each of the
 * zramfs_uring_rings() rings (a few per kernel queue), waits for them to
 * be set up, and stops them with zramfs_uring_stop() when the session
 * ends. The rings lend about max_background entries in all, each with a
 * payload buffer of payload_size bytes.
 */
int zramfs_uring_prepare(struct zramfs_uring **uring, size_t payload_size,
			 unsigned int max_background);
int zramfs_uring_attach(struct zramfs_uring *uring, struct fuse_session *se);
unsigned int zramfs_uring_rings(const struct zramfs_uring *uring);
void *zramfs_uring_ring(struct zramfs_uring *uring, unsigned int i);
void *zramfs_uring_thread(void *ring);
void zramfs_uring_wait_set_up(struct zramfs_uring *uring,
			      unsigned int started);
void zramfs_uring_stop(struct zramfs_uring *uring);
/* On an io_uring ring thread serving a request: the payload buffer its
 * reply goes to, and its size in *cap; NULL on any other thread. */
char *zramfs_uring_reply_buf(size_t *cap);
/* How many requests each queue, and each of its rings, served, as text
 * to free(); once the threads are joined. NULL if out of memory. */
char *zramfs_uring_served(const struct zramfs_uring *uring);
void zramfs_uring_destroy(struct zramfs_uring *uring);

#endif
