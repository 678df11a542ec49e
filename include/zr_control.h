/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control tree, independent of FUSE: MOUNTPOINT/control/{hot_add,
 * hot_remove} and MOUNTPOINT/control/zramN/<attribute>, with zram's sysfs
 * names, modes, read formats and errors.
 *
 * Reads produce at most ZR_CTL_BUF_SIZE - 1 bytes (sysfs: one page).
 * Writes return 0 or a negative errno and change nothing on error. Every
 * function takes the host lock itself.
 */
#ifndef ZR_CONTROL_H
#define ZR_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zr_host.h"

#define ZR_CTL_BUF_SIZE 4096

struct zr_ctl_attr {
	const char *name;
	mode_t mode;		/* permission bits, as sysfs shows them */
	/* Either may be NULL when the mode has no such permission. */
	int (*show)(struct zr_device *dev, char *buf, size_t cap);
	int (*store)(struct zr_device *dev, const char *buf, size_t len);
};

/* The attributes of control/zramN, in a fixed order. */
const struct zr_ctl_attr *zr_ctl_attr(int index);
int zr_ctl_attr_count(void);
/* Index of the attribute called name (len bytes), or -1. */
int zr_ctl_attr_find(const char *name, size_t len);

/* The serial (zr_host_serial()) of device id, for an attribute file being
 * opened: a later device with the same id has another. -ENODEV if there
 * is none. */
int zr_ctl_open(struct zr_host *host, int id, uint64_t *serial);
/*
 * Read and write of attribute index of device id. serial is what
 * zr_ctl_open() gave when the file was opened (-ENODEV once that device is
 * gone, as sysfs gives through a file kept open across hot_remove), or 0
 * for whichever device has the id now.
 */
/* Read: length, or -ENODEV/-EACCES. */
int zr_ctl_show(struct zr_host *host, int id, uint64_t serial, int index,
		char *buf, size_t cap);
/* Write: 0 or a negative errno. */
int zr_ctl_store(struct zr_host *host, int id, uint64_t serial, int index,
		 const char *buf, size_t len);

/* control/hot_add read: "N\n", or a negative errno. */
int zr_ctl_hot_add(struct zr_host *host, char *buf, size_t cap);
/* control/hot_remove write. */
int zr_ctl_hot_remove(struct zr_host *host, const char *buf, size_t len);

#endif
