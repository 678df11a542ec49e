// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device set of one mount. Entries are published with rcu_assign_pointer
 * so that a device is visible only once fully built; removal unpublishes
 * it, waits for a grace period and then frees it. All functions here are
 * control path and run under the host lock (see zr_host.h), so the only
 * concurrent readers of the array are RCU readers.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "zr_common.h"
#include "zr_host.h"
#include "zr_rcu.h"

struct zr_host {
	pthread_mutex_t lock;
	struct zr_device *devices[ZR_MAX_DEVICES];	/* RCU */
	/* Which device an id names: never reused, so that a control file
	 * opened before a hot_remove cannot reach a later device with the
	 * same id. */
	uint64_t serials[ZR_MAX_DEVICES];
	uint64_t next_serial;
	int opens_refused;	/* zr_host_refuse_opens() was called */
};

struct zr_host *zr_host_create(void)
{
	struct zr_host *host = calloc(1, sizeof(*host));

	if (host)
		pthread_mutex_init(&host->lock, NULL);
	return host;
}

void zr_host_destroy(struct zr_host *host)
{
	int id;

	for (id = 0; id < ZR_MAX_DEVICES; id++)
		if (host->devices[id])
			zr_device_destroy(host->devices[id]);
	pthread_mutex_destroy(&host->lock);
	free(host);
}

void zr_host_lock(struct zr_host *host)
{
	pthread_mutex_lock(&host->lock);
}

void zr_host_unlock(struct zr_host *host)
{
	pthread_mutex_unlock(&host->lock);
}

int zr_host_add(struct zr_host *host)
{
	struct zr_device *dev;
	int id;

	for (id = 0; id < ZR_MAX_DEVICES; id++)
		if (!host->devices[id])
			break;
	if (id == ZR_MAX_DEVICES)
		return -ENOSPC;
	dev = zr_device_create(id);
	if (!dev)
		return -ENOMEM;
	host->serials[id] = ++host->next_serial;
	zr_rcu_assign_pointer(host->devices[id], dev);
	return id;
}

int zr_host_remove(struct zr_host *host, int id)
{
	struct zr_device *dev;

	if (id < 0)
		return -EINVAL;
	if (id >= ZR_MAX_DEVICES || !host->devices[id])
		return -ENODEV;
	dev = host->devices[id];
	if (zr_device_busy(dev))
		return -EBUSY;
	zr_rcu_assign_pointer(host->devices[id], NULL);
	host->serials[id] = 0;
	/* No lock a reader takes is held here: readers never take ours. */
	zr_rcu_synchronize();
	zr_device_destroy(dev);
	return 0;
}

struct zr_device *zr_host_get(struct zr_host *host, int id)
{
	if (id < 0 || id >= ZR_MAX_DEVICES)
		return NULL;
	return host->devices[id];
}

uint64_t zr_host_serial(struct zr_host *host, int id)
{
	if (id < 0 || id >= ZR_MAX_DEVICES)
		return 0;
	return host->serials[id];
}

int zr_host_open(struct zr_host *host, int id, struct zr_device **dev)
{
	if (host->opens_refused)
		return -ENODEV;
	*dev = zr_host_get(host, id);
	if (!*dev)
		return -ENOENT;
	zr_device_open(*dev);
	return 0;
}

unsigned int zr_host_refuse_opens(struct zr_host *host)
{
	unsigned int open = 0;
	int id;

	host->opens_refused = 1;
	for (id = zr_host_next(host, 0); id >= 0;
	     id = zr_host_next(host, id + 1))
		open += zr_device_open_count(host->devices[id]);
	return open;
}

int zr_host_next(struct zr_host *host, int from)
{
	int id;

	for (id = from < 0 ? 0 : from; id < ZR_MAX_DEVICES; id++)
		if (host->devices[id])
			return id;
	return -1;
}
