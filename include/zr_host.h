/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The set of devices of one mount: /sys/class/zram-control's hot_add and
 * hot_remove. Device pointers are published with RCU; the control path
 * (everything but data I/O) serialises on the host lock, which data I/O
 * never takes.
 */
#ifndef ZR_HOST_H
#define ZR_HOST_H

#include <stdint.h>

#include "zr_device.h"

#define ZR_MAX_DEVICES 1024

struct zr_host;

struct zr_host *zr_host_create(void);
/* Destroys every device; nothing else may be running. */
void zr_host_destroy(struct zr_host *host);

/* The control-path lock: held by every caller of the functions below. */
void zr_host_lock(struct zr_host *host);
void zr_host_unlock(struct zr_host *host);

/* hot_add: creates the lowest free id. Returns the id, -ENOMEM or
 * -ENOSPC when all ZR_MAX_DEVICES ids are in use. */
int zr_host_add(struct zr_host *host);
/* hot_remove: -EINVAL for a negative id, -ENODEV unknown, -EBUSY open or
 * busy with a control operation.
 * The device is unpublished, a grace period passes, then it is freed. */
int zr_host_remove(struct zr_host *host, int id);
/* NULL if there is no such device. */
struct zr_device *zr_host_get(struct zr_host *host, int id);
/* A number that names the device with this id and no other, ever: 0 if
 * there is no such device. */
uint64_t zr_host_serial(struct zr_host *host, int id);
/* The smallest existing id >= from, or -1. */
int zr_host_next(struct zr_host *host, int from);
/* Opens the data of device id (zr_device_open()) into *dev: 0, -ENOENT if
 * there is no such device, -ENODEV once opens are refused. */
int zr_host_open(struct zr_host *host, int id, struct zr_device **dev);
/* From now on zr_host_open() fails: the mount is stopping, and the number
 * of data files open, which this returns, can only fall. */
unsigned int zr_host_refuse_opens(struct zr_host *host);

#endif
