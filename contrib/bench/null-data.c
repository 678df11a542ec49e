// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data path of contrib/bench/zramfs-null, the benchmark's transport
 * ceiling: the whole daemon (options, control files, worker threads,
 * FUSE over io_uring) with reads and writes of data files that store
 * nothing. A write checks its range and is dropped; a read checks its
 * range and returns zeros. zramfs-bench --ceiling runs its fio jobs
 * through it: what it measures is what the kernel's FUSE and loop paths
 * and one copy of the data cost on this machine, the most any daemon
 * serving through them could reach. Never a place to keep data: it keeps
 * none, and says so in --version.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "zramfs.h"

const char zramfs_data_path[] = "null (benchmark transport ceiling: stores nothing)";

/* The ranges as zr_device_read() and zr_device_write() check them. */
ssize_t zramfs_data_read(struct zr_device *dev, void *buf, size_t len,
			 uint64_t off)
{
	uint64_t disksize = zr_device_disksize(dev);

	if (off >= disksize)
		return 0;
	if (len > disksize - off)
		len = disksize - off;
	memset(buf, 0, len);
	return len;
}

ssize_t zramfs_data_write(struct zr_device *dev, const void *buf,
			  size_t len, uint64_t off)
{
	uint64_t disksize = zr_device_disksize(dev);

	(void)buf;
	if (off > disksize || len > disksize - off)
		return -ENOSPC;
	return len;
}
