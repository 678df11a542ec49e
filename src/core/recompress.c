// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recompression with secondary algorithms, as zram's recompress attribute.
 *
 * Pages are visited in bounded batches, each batch in its own read-side
 * section; a page is handled entirely under its slot lock (decompress,
 * try each allowed secondary algorithm in priority order, keep the first
 * result that is smaller, swap the object). Foreground I/O contends only
 * for the page being recompressed, and nothing blocks.
 *
 * Each slot records the priority of the algorithm that compressed it, so
 * reads decode mixed slots correctly. A huge page that no algorithm up to
 * the last configured one can compress is flagged incompressible and not
 * tried again (zram's ZRAM_INCOMPRESSIBLE); writeback's "incompressible"
 * mode selects those pages.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "device_internal.h"
#include "zr_arena.h"
#include "zr_common.h"

#define RECOMP_BATCH 64

struct recomp_run {
	const struct zr_recomp_request *req;
	int prio_max;		/* one past the last priority tried */
	int num_comps;		/* one past the last configured priority */
	uint64_t budget;	/* pages still allowed (max_pages) */
	uint64_t replaced;
};

/* Slot lock held: is the slot a candidate for this request? */
static int recomp_eligible(struct zr_slot *slot, const struct recomp_run *run)
{
	if (!zr_slot_pp_selected(slot, run->req->mode) ||
	    zr_slot_test(slot, ZR_SLOT_PP | ZR_SLOT_INCOMPRESSIBLE))
		return 0;
	if (run->req->threshold && zr_slot_size(slot) < run->req->threshold)
		return 0;
	/* Already compressed by the last algorithm allowed. */
	return zr_slot_prio(slot) + 1 < (unsigned int)run->prio_max;
}

/* Slot lock held: compresses zr_scratch_page with the first allowed
 * algorithm that beats the current size (and the threshold, when there is
 * one). Returns the new length (0: none did) and its priority in
 * *prio_out, or a negative errno. */
static int recomp_try(struct zr_meta *meta, struct zr_slot *slot,
		      const struct recomp_run *run, int *prio_out)
{
	unsigned int size = zr_slot_size(slot);
	unsigned int cap = size < meta->huge_size ? size : meta->huge_size;
	int prio = zr_slot_prio(slot) + 1;
	int ret;

	/* As zram: with a threshold, the new object must be under it too. */
	if (run->req->threshold && run->req->threshold < cap)
		cap = run->req->threshold;

	if (prio < run->req->prio_min)
		prio = run->req->prio_min;
	for (; prio < run->prio_max; prio++) {
		if (meta->comps[prio] == ZR_COMP_NONE)
			continue;
		ret = zr_comp_compress(meta->comps[prio], &meta->params[prio],
				       zr_scratch_page, ZR_PAGE_SIZE, zr_scratch_comp,
				       cap - 1);
		if (ret) {
			*prio_out = prio;
			return ret;
		}
	}
	return 0;
}

/* Slot lock held: recompresses one eligible slot. 1 if replaced, 0 if
 * kept, negative errno on failure (the slot is unchanged). */
static int recomp_slot(struct zr_device *dev, struct zr_meta *meta,
		       struct zr_slot *slot, const struct recomp_run *run)
{
	uint64_t state = zr_slot_state(slot), handle, limit, used;
	int huge = !!(state & ZR_SLOT_HUGE);
	unsigned int old_size = state & ZR_SLOT_SIZE_MASK;
	int ret, prio = 0;
	void *obj;

	obj = zr_arena_map(meta->arena, slot->handle);
	if (huge)
		memcpy(zr_scratch_page, obj, ZR_PAGE_SIZE);
	else
		ret = zr_slot_decompress(meta, slot, obj, old_size, zr_scratch_page);
	zr_arena_unmap(meta->arena, slot->handle);
	if (!huge && ret)
		return ret;
	/* As zram: a page looked at loses its idle mark, whatever comes of
	 * it, so that a writeback idle after the recompress does not pick
	 * it for having been idle before. */
	zr_slot_clear_flag(slot, ZR_SLOT_IDLE);

	ret = recomp_try(meta, slot, run, &prio);
	if (ret <= 0) {
		/* Every algorithm there is failed on a raw page: stop. */
		if (!ret && huge && run->prio_max >= run->num_comps)
			zr_slot_set_flag(slot, ZR_SLOT_INCOMPRESSIBLE);
		return ret;
	}
	handle = zr_arena_alloc(meta->arena, ret);
	if (!handle)
		return -ENOMEM;
	used = zr_arena_mem_used(meta->arena);
	zr_stat_max(&meta->stats.max_used_bytes, used);	/* as the write path */
	limit = __atomic_load_n(&dev->mem_limit, __ATOMIC_RELAXED);
	if (limit && used > limit) {
		zr_arena_free(meta->arena, handle);
		return -ENOSPC;
	}
	obj = zr_arena_map(meta->arena, handle);
	memcpy(obj, zr_scratch_comp, ret);
	zr_arena_unmap(meta->arena, handle);

	/* As zram: the page is stored anew (idle mark dropped), keeping
	 * only its access time. */
	state &= ~((1ULL << ZR_SLOT_TIME_SHIFT) - 1);
	zr_slot_release(meta, slot);
	slot->handle = handle;
	zr_slot_set_state(slot, state | (uint64_t)ret |
			  ((uint64_t)prio << ZR_SLOT_PRIO_SHIFT));
	zr_stat_inc(&meta->stats.pages_stored);
	zr_stat_add(&meta->stats.compr_data_size, ret);
	return 1;
}

/* One batch from *index on. Returns 0, -EIO after a reset, or an error
 * of recomp_slot (ENOMEM, ENOSPC) which ends the run. */
static int recomp_batch(struct zr_device *dev, uint64_t gen,
			struct recomp_run *run, uint64_t *index)
{
	struct zr_meta *meta = zr_meta_get(dev);
	int seen = 0, ret = 0;

	if (!meta || meta->gen != gen) {
		zr_meta_put();
		return -EIO;
	}
	for (; *index < meta->nr_pages && seen < RECOMP_BATCH && run->budget;
	     (*index)++, seen++) {
		struct zr_slot *slot = zr_slot_lookup(meta, *index);

		if (!slot) {
			*index |= ZR_CHUNK_SLOTS - 1;
			continue;
		}
		zr_slot_lock(slot);
		if (recomp_eligible(slot, run)) {
			run->budget--;
			ret = recomp_slot(dev, meta, slot, run);
			if (ret > 0)
				run->replaced++;
		}
		zr_slot_unlock(slot);
		if (ret < 0)
			break;
		ret = 0;
	}
	zr_meta_put();
	return ret;
}

int64_t zr_device_recompress(struct zr_device *dev,
			     const struct zr_recomp_request *req)
{
	struct recomp_run run = {
		.req = req,
		.budget = req->max_pages,
	};
	uint64_t gen = 0, nr_pages = 0, index = 0;
	int prio, usable = 0, ret = 0;
	struct zr_meta *meta;

	meta = zr_meta_get(dev);
	if (meta) {
		gen = meta->gen;
		nr_pages = meta->nr_pages;
		for (prio = 0; prio < ZR_MAX_PRIO; prio++)
			if (meta->comps[prio] != ZR_COMP_NONE)
				run.num_comps = prio + 1;
		run.prio_max = req->prio_max < run.num_comps ?
			req->prio_max : run.num_comps;
		/* At least one algorithm must exist in the range. */
		for (prio = req->prio_min < 1 ? 1 : req->prio_min;
		     prio < run.prio_max; prio++)
			usable |= meta->comps[prio] != ZR_COMP_NONE;
	}
	zr_meta_put();
	if (!meta || req->prio_min < 1 || !usable)
		return -EINVAL;
	if (__atomic_exchange_n(&dev->pp_busy, 1, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	while (!ret && index < nr_pages && run.budget)
		ret = recomp_batch(dev, gen, &run, &index);
	__atomic_store_n(&dev->pp_busy, 0, __ATOMIC_RELEASE);
	if (ret)
		return ret;
	if (run.replaced) {
		meta = zr_meta_get(dev);
		if (meta && meta->gen == gen)
			zr_arena_compact(meta->arena);
		zr_meta_put();
	}
	return (int64_t)run.replaced;
}
