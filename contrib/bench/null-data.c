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

#include <string.h>

#include "zramfs.h"

const char zramfs_data_path[] = "null (benchmark transport ceiling: stores nothing)";

/* The ranges are the core's own. */
ssize_t zramfs_data_read(struct zr_device *dev, void *buf, size_t len,
			 uint64_t off)
{
	ssize_t ret = zr_device_io_range(dev, off, len, 1);

	if (ret > 0)
		memset(buf, 0, ret);
	return ret;
}

ssize_t zramfs_data_write(struct zr_device *dev, const void *buf,
			  size_t len, uint64_t off)
{
	(void)buf;
	return zr_device_io_range(dev, off, len, 0);
}
