// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's data path: reads and writes of data files go to the core
 * (see zramfs.h; contrib/bench/null-data.c is the benchmark's other one). */
#include "config.h"

#include "zramfs.h"

const char zramfs_data_path[] = "";	/* the one users run: not named */

ssize_t zramfs_data_read(struct zr_device *dev, void *buf, size_t len,
			 uint64_t off)
{
	return zr_device_read(dev, buf, len, off);
}

ssize_t zramfs_data_write(struct zr_device *dev, const void *buf,
			  size_t len, uint64_t off)
{
	return zr_device_write(dev, buf, len, off);
}
