// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writeback: moving stored pages to a backing store and reading them back.
 *
 * Attaching. Unlike zram, a backing store may be attached after init, as
 * long as none is attached yet: it is opened, then published with
 * rcu_assign_pointer in dev->backing. I/O never waits for it. reset
 * unpublishes it, waits for a grace period and drops the device's
 * reference; readers that were fetching a block hold their own reference,
 * so the file stays open until they are done.
 *
 * Writing back runs in bounded batches of WB_BATCH pages, never holding a
 * device-wide lock and never doing I/O inside a read-side section:
 *   1. in one read-side section, each candidate slot is locked, marked
 *      ZR_SLOT_PP and its bytes copied out (the whole page, or with
 *      compressed writeback the compressed object);
 *   2. outside any section, blocks are allocated and written: one page per
 *      block, or with compressed writeback as many objects as fit, packed
 *      first-fit-decreasing within the batch;
 *   3. in a new section each slot is locked again and switched to the
 *      block only if it still carries ZR_SLOT_PP and the same object: any
 *      write, discard or reset in between cleared the mark, and then the
 *      slot's share of the block is simply given back.
 * A request that finds the device reset in between stops with -EIO.
 *
 * Reading back (zr_wb_ref_take / zr_wb_fetch / zr_wb_ref_current /
 * zr_wb_decode / zr_wb_ref_drop) follows the same pattern from device.c:
 * locate under the slot lock, read the raw block with only a backing
 * reference held, then confirm and decode under the slot lock in a new
 * read-side section (the decode needs the generation's dictionaries,
 * freed after a reset). The block is pinned (an extra share) from the
 * locate to after the confirm: otherwise the page could be rewritten and
 * written back into the same block, just freed, meanwhile, and the stale
 * copy read before would pass the confirm (same block, same length) and
 * be written over the new data by a partial write.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "zr_arena.h"
#include "zr_common.h"

#define WB_BATCH 32

/* A page picked for writeback in step 1. */
struct wb_item {
	uint64_t index;
	uint64_t handle;	/* the slot's arena handle when picked */
	uint64_t state;		/* the slot's state when picked */
	unsigned int len;	/* bytes to store: 4096 = raw page */
	unsigned int offset;	/* where they land in their block */
	int bin;		/* which of the batch's blocks */
	int64_t block;		/* -1 until written */
};

struct wb_batch {
	struct wb_item items[WB_BATCH];
	int count;
	unsigned char *data;	/* WB_BATCH pages: item i at i * 4096 */
	unsigned char *block;	/* one aligned block for packing */
};

int zr_device_attach_backing(struct zr_device *dev, const char *path)
{
	struct zr_backing *backing;
	int ret;

	pthread_mutex_lock(&dev->ctl_lock);
	ret = -EEXIST;
	if (dev->backing)
		goto out_unlock;
	ret = zr_backing_open(path, &backing);
	if (!ret)
		zr_rcu_assign_pointer(dev->backing, backing);
out_unlock:
	pthread_mutex_unlock(&dev->ctl_lock);
	return ret;
}

int zr_device_backing_show(struct zr_device *dev, char *buf, size_t cap)
{
	int ret;

	/* reset unpublishes under ctl_lock and frees after it: safe here. */
	pthread_mutex_lock(&dev->ctl_lock);
	if (dev->backing)
		ret = snprintf(buf, cap, "%s\n", zr_backing_path(dev->backing));
	else
		ret = snprintf(buf, cap, "none\n");
	pthread_mutex_unlock(&dev->ctl_lock);
	if (ret >= (int)cap)
		ret = cap ? (int)cap - 1 : 0;
	return ret;
}

int zr_device_has_backing(struct zr_device *dev)
{
	return __atomic_load_n(&dev->backing, __ATOMIC_ACQUIRE) != NULL;
}

void zr_device_set_compressed_writeback(struct zr_device *dev, int on)
{
	__atomic_store_n(&dev->compressed_writeback, !!on, __ATOMIC_RELAXED);
}

int zr_device_compressed_writeback(struct zr_device *dev)
{
	return __atomic_load_n(&dev->compressed_writeback, __ATOMIC_RELAXED);
}

/* ---- reading written-back pages ---- */

int zr_wb_ref_take(struct zr_meta *meta, struct zr_slot *slot,
		   struct zr_wb_ref *ref)
{
	struct zr_backing *backing = zr_rcu_dereference(meta->dev->backing);

	if (!backing)
		return -EIO;	/* detached by a reset in progress */
	zr_backing_get(backing);
	/* The block cannot be freed and filled with another version of the
	 * page (or another page) until zr_wb_ref_drop(): a slot that still
	 * names it after the fetch still holds what was read. */
	zr_backing_pin(backing, slot->handle >> ZR_PAGE_SHIFT);
	ref->backing = backing;
	ref->handle = slot->handle;
	ref->state = zr_slot_state(slot);
	return 0;
}

int zr_wb_fetch(struct zr_wb_ref *ref, void *block)
{
	return zr_backing_read(ref->backing, ref->handle >> ZR_PAGE_SHIFT,
			       block);
}

void zr_wb_ref_drop(struct zr_wb_ref *ref)
{
	zr_backing_release(ref->backing, ref->handle >> ZR_PAGE_SHIFT);
	zr_backing_put(ref->backing);
	ref->backing = NULL;
}

int zr_wb_decode(struct zr_meta *meta, const struct zr_wb_ref *ref,
		 const void *block, void *page)
{
	unsigned int len = ref->state & ZR_SLOT_SIZE_MASK;
	unsigned int offset = ref->handle & (ZR_PAGE_SIZE - 1);
	unsigned int prio = (ref->state & ZR_SLOT_PRIO_MASK) >>
			    ZR_SLOT_PRIO_SHIFT;

	if (len == ZR_PAGE_SIZE) {
		memcpy(page, block, ZR_PAGE_SIZE);
		return 0;
	}
	/* The meta's parameters are only used here, under RCU. */
	return zr_comp_decompress(meta->comps[prio], &meta->params[prio],
				  (const unsigned char *)block + offset, len,
				  page, ZR_PAGE_SIZE);
}

int zr_wb_ref_current(struct zr_slot *slot, const struct zr_wb_ref *ref)
{
	uint64_t mask = ZR_SLOT_WB | ZR_SLOT_SIZE_MASK;

	return slot->handle == ref->handle &&
	       (zr_slot_state(slot) & mask) == (ref->state & mask);
}

/* ---- writing back ---- */

/*
 * Step 1: picks up to WB_BATCH eligible pages from *index on (< end),
 * copying their bytes into the batch. Advances *index. Returns 0, or -EIO
 * if the device was reset (generation changed).
 */
static int wb_collect(struct zr_device *dev, uint64_t gen,
		      enum zr_pp_mode mode, int packed, uint64_t *index,
		      uint64_t end, struct wb_batch *batch)
{
	struct zr_meta *meta = zr_meta_get(dev);
	int ret = 0;

	batch->count = 0;
	if (!meta || meta->gen != gen) {
		ret = -EIO;
		goto out;
	}
	for (; *index < end && batch->count < WB_BATCH; (*index)++) {
		struct zr_slot *slot = zr_slot_lookup(meta, *index);
		struct wb_item *item = &batch->items[batch->count];
		unsigned char *dst = batch->data +
				     (size_t)batch->count * ZR_PAGE_SIZE;
		unsigned int size;
		void *src;

		if (!slot) {
			/* A chunk never written: skip all of it. */
			*index |= ZR_CHUNK_SLOTS - 1;
			continue;
		}
		zr_slot_lock(slot);
		if (!zr_slot_pp_selected(slot, mode)) {
			zr_slot_unlock(slot);
			continue;
		}
		size = zr_slot_size(slot);
		src = zr_arena_map(meta->arena, slot->handle);
		if (packed || zr_slot_test(slot, ZR_SLOT_HUGE)) {
			memcpy(dst, src, size);
			item->len = size;
		} else {
			ret = zr_slot_decompress(meta, slot, src, size, dst);
			item->len = ZR_PAGE_SIZE;
		}
		zr_arena_unmap(meta->arena, slot->handle);
		if (!ret) {
			zr_slot_set_flag(slot, ZR_SLOT_PP);
			item->index = *index;
			item->handle = slot->handle;
			item->state = zr_slot_state(slot);
			item->block = -1;
			batch->count++;
		}
		zr_slot_unlock(slot);
		if (ret)
			break;	/* a page that does not decode: stop */
	}
out:
	zr_meta_put();
	return ret;
}

/* Gives back a unit charged for a block that was not written. */
static void wb_budget_refund(struct zr_device *dev)
{
	if (__atomic_load_n(&dev->wb_limit_enable, __ATOMIC_RELAXED))
		__atomic_fetch_add(&dev->wb_limit, 1, __ATOMIC_RELAXED);
}

/* Checks and charges writeback_limit for one block. */
static int wb_budget_take(struct zr_device *dev)
{
	uint64_t left;

	if (!__atomic_load_n(&dev->wb_limit_enable, __ATOMIC_RELAXED))
		return 0;
	left = __atomic_load_n(&dev->wb_limit, __ATOMIC_RELAXED);
	do {
		if (!left)
			return -EIO;
	} while (!__atomic_compare_exchange_n(&dev->wb_limit, &left, left - 1,
					      1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return 0;
}

/* Writes one block holding the items whose bin is bin (offsets set). */
static int wb_write_block(struct zr_device *dev, struct zr_backing *backing,
			  struct wb_batch *batch, int bin,
			  uint64_t *blocks_written)
{
	unsigned int objects = 0;
	int64_t block;
	int i, ret;

	ret = wb_budget_take(dev);
	if (ret)
		return ret;
	memset(batch->block, 0, ZR_PAGE_SIZE);
	for (i = 0; i < batch->count; i++) {
		struct wb_item *item = &batch->items[i];

		if (item->bin != bin)
			continue;
		memcpy(batch->block + item->offset,
		       batch->data + (size_t)i * ZR_PAGE_SIZE, item->len);
		objects++;
	}
	block = zr_backing_alloc(backing, objects);
	if (block < 0) {
		wb_budget_refund(dev);
		return (int)block;
	}
	ret = zr_backing_write(backing, block, batch->block);
	if (ret) {
		wb_budget_refund(dev);
		while (objects--)
			zr_backing_release(backing, block);
		return ret;
	}
	for (i = 0; i < batch->count; i++)
		if (batch->items[i].bin == bin)
			batch->items[i].block = block;
	(*blocks_written)++;
	return 0;
}

/*
 * Assigns every item a bin (one block each) and an offset in it: first
 * fit, largest objects first, so compressed pages of 2-3 KiB pair up with
 * small ones instead of each taking a block. Returns the number of bins.
 */
static int wb_pack(struct wb_batch *batch)
{
	unsigned int fill[WB_BATCH];
	int order[WB_BATCH];
	int bins = 0, i, j, b;

	for (i = 0; i < batch->count; i++)
		order[i] = i;
	/* Insertion sort by decreasing length: at most WB_BATCH items. */
	for (i = 1; i < batch->count; i++) {
		int cur = order[i];

		for (j = i; j > 0 && batch->items[order[j - 1]].len <
					  batch->items[cur].len; j--)
			order[j] = order[j - 1];
		order[j] = cur;
	}
	for (i = 0; i < batch->count; i++) {
		struct wb_item *item = &batch->items[order[i]];

		for (b = 0; b < bins; b++)
			if (fill[b] + item->len <= ZR_PAGE_SIZE)
				break;
		if (b == bins)
			fill[bins++] = 0;
		item->bin = b;
		item->offset = fill[b];
		fill[b] += item->len;
	}
	return bins;
}

/* Step 2: writes the batch, packing objects when they are compressed. */
static int wb_write(struct zr_device *dev, struct zr_backing *backing,
		    struct wb_batch *batch, uint64_t *blocks_written)
{
	int bins = wb_pack(batch), bin, ret = 0;

	for (bin = 0; bin < bins && !ret; bin++)
		ret = wb_write_block(dev, backing, batch, bin, blocks_written);
	return ret;
}

/*
 * Step 3: switches every slot whose page was written to its block, if the
 * slot did not change meanwhile; otherwise gives the block share back.
 * Returns the number of pages switched.
 */
static uint64_t wb_install(struct zr_device *dev, uint64_t gen,
			   struct zr_backing *backing, struct wb_batch *batch)
{
	struct zr_meta *meta = zr_meta_get(dev);
	uint64_t done = 0;
	int i;

	for (i = 0; i < batch->count; i++) {
		struct wb_item *item = &batch->items[i];
		struct zr_slot *slot;
		uint64_t keep;

		slot = meta && meta->gen == gen ?
			zr_slot_lookup(meta, item->index) : NULL;
		if (!slot) {
			if (item->block >= 0)
				zr_backing_release(backing, item->block);
			continue;
		}
		zr_slot_lock(slot);
		if (!zr_slot_test(slot, ZR_SLOT_PP) ||
		    slot->handle != item->handle || item->block < 0) {
			/* Changed meanwhile, or not written: unpick it. */
			if (slot->handle == item->handle)
				zr_slot_clear_flag(slot, ZR_SLOT_PP);
			zr_slot_unlock(slot);
			if (item->block >= 0)
				zr_backing_release(backing, item->block);
			continue;
		}
		/* Keep the access time and, for compressed bytes, the
		 * algorithm; drop idle, pick and huge marks. */
		keep = zr_slot_state(slot) &
		       ~((1ULL << ZR_SLOT_TIME_SHIFT) - 1);
		if (item->len < ZR_PAGE_SIZE)
			keep |= item->state & ZR_SLOT_PRIO_MASK;
		zr_slot_release(meta, slot);
		slot->handle = ((uint64_t)item->block << ZR_PAGE_SHIFT) |
			       item->offset;
		zr_slot_set_state(slot, keep | ZR_SLOT_WB | item->len);
		zr_stat_inc(&meta->stats.pages_stored);
		zr_slot_unlock(slot);
		done++;
	}
	zr_meta_put();
	return done;
}

static void wb_batch_free(struct wb_batch *batch)
{
	free(batch->data);
	free(batch->block);
	free(batch);
}

static struct wb_batch *wb_batch_alloc(void)
{
	struct wb_batch *batch = calloc(1, sizeof(*batch));

	if (!batch)
		return NULL;
	if (posix_memalign((void **)&batch->data, ZR_PAGE_SIZE,
			   (size_t)WB_BATCH * ZR_PAGE_SIZE) ||
	    posix_memalign((void **)&batch->block, ZR_PAGE_SIZE,
			   ZR_PAGE_SIZE)) {
		wb_batch_free(batch);
		return NULL;
	}
	return batch;
}

static int wb_run(struct zr_device *dev, uint64_t gen,
		  struct zr_backing *backing, const struct zr_wb_request *req,
		  uint64_t nr_pages, struct wb_batch *batch)
{
	int packed = zr_device_compressed_writeback(dev);
	uint64_t index = req->whole_device ? 0 : req->lo;
	uint64_t end = req->whole_device ? nr_pages : req->hi + 1;
	uint64_t blocks = 0;
	int ret = 0;

	while (!ret && index < end) {
		ret = wb_collect(dev, gen, req->mode, packed, &index, end,
				 batch);
		if (!ret && batch->count)
			ret = wb_write(dev, backing, batch, &blocks);
		/* Whatever was written is installed, even after an error. */
		wb_install(dev, gen, backing, batch);
	}
	if (blocks) {
		struct zr_meta *meta = zr_meta_get(dev);

		if (meta && meta->gen == gen) {
			zr_stat_add(&meta->stats.bd_writes, blocks);
			/* Return the freed objects' memory to the system. */
			zr_arena_compact(meta->arena);
		}
		zr_meta_put();
	}
	return ret;
}

int zr_device_writeback(struct zr_device *dev,
			const struct zr_wb_request *reqs, int count)
{
	struct zr_backing *backing = NULL;
	struct wb_batch *batch = NULL;
	struct zr_meta *meta;
	uint64_t gen, nr_pages;
	int i, ret = 0;

	meta = zr_meta_get(dev);
	if (meta) {
		gen = meta->gen;
		nr_pages = meta->nr_pages;
	}
	zr_meta_put();
	if (!meta)
		return -EINVAL;
	if (__atomic_exchange_n(&dev->pp_busy, 1, __ATOMIC_ACQUIRE))
		return -EAGAIN;

	zr_rcu_read_lock();
	backing = zr_rcu_dereference(dev->backing);
	if (backing)
		zr_backing_get(backing);
	zr_rcu_read_unlock();
	ret = -ENODEV;
	if (!backing)
		goto out_idle;
	ret = -ERANGE;
	for (i = 0; i < count; i++)
		if (!reqs[i].whole_device &&
		    (reqs[i].lo > reqs[i].hi || reqs[i].hi >= nr_pages))
			goto out_put;
	ret = -ENOMEM;
	batch = wb_batch_alloc();
	if (!batch)
		goto out_put;
	ret = 0;
	for (i = 0; i < count && !ret; i++)
		ret = wb_run(dev, gen, backing, &reqs[i], nr_pages, batch);
	wb_batch_free(batch);
out_put:
	zr_backing_put(backing);
out_idle:
	__atomic_store_n(&dev->pp_busy, 0, __ATOMIC_RELEASE);
	return ret;
}
