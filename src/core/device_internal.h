/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device internals shared by device.c (lifetime, I/O) and writeback.c
 * (backing store, idle writeback). Not part of the core's interface.
 * The concurrency contract is in device.c's header comment.
 */
#ifndef ZR_DEVICE_INTERNAL_H
#define ZR_DEVICE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "zr_backing.h"
#include "zr_common.h"
#include "zr_comp.h"
#include "zr_device.h"
#include "zr_rcu.h"
#include "zr_slot.h"

/* Primary algorithm plus up to three for recompression, as zram. */
#define ZR_MAX_PRIO 4
#define ZR_COMP_NONE (-1)

#define ZR_CHUNK_SHIFT 9
#define ZR_CHUNK_SLOTS (1U << ZR_CHUNK_SHIFT)

/* Per-generation statistics, all relaxed atomics. */
struct zr_stats {
	uint64_t compr_data_size;	/* bytes of compressed objects */
	uint64_t pages_stored;		/* pages holding data, any kind */
	uint64_t same_pages;		/* pages stored as a fill word */
	uint64_t huge_pages;		/* pages stored raw */
	uint64_t huge_pages_since;	/* pages ever stored raw */
	uint64_t max_used_bytes;	/* peak arena size */
	uint64_t failed_reads;		/* reads that failed to decode */
	uint64_t failed_writes;		/* writes refused: limit, memory */
	uint64_t notify_free;		/* pages freed by discard */
	uint64_t miss_free;		/* always 0: no slot free notify */
	uint64_t bd_reads;		/* 4 KiB blocks read from backing */
	uint64_t bd_writes;		/* 4 KiB blocks written to it */
};

struct zr_meta {
	struct zr_device *dev;		/* owner, for its backing store */
	uint64_t gen;			/* unique per initialisation */
	uint64_t disksize;
	uint64_t nr_pages;
	uint64_t nr_chunks;
	struct zr_slot **chunks;	/* entries installed with CAS */
	struct zr_arena *arena;
	int comps[ZR_MAX_PRIO];		/* zr_comp_id, or ZR_COMP_NONE */
	struct zr_comp_params params[ZR_MAX_PRIO];	/* prepared */
	time_t born;			/* CLOCK_MONOTONIC seconds at init */
	unsigned int huge_size;		/* zr_arena_huge_size(): store raw */
	struct zr_stats stats;
};

struct zr_device {
	int id;
	struct zr_meta *meta;		/* RCU; NULL while uninitialised */
	struct zr_backing *backing;	/* RCU; NULL when none attached */
	pthread_mutex_t ctl_lock;	/* control path only */
	unsigned int open_count;	/* under ctl_lock */
	unsigned int pins;		/* atomic: control ops in progress */
	uint64_t next_gen;		/* under ctl_lock */
	int comps[ZR_MAX_PRIO];		/* under ctl_lock: for the next init */
	struct zr_comp_params params[ZR_MAX_PRIO];	/* under ctl_lock */
	uint64_t mem_limit;		/* bytes, atomic: read on I/O path */
	uint64_t wb_limit;		/* 4 KiB units, atomic */
	int wb_limit_enable;		/* atomic */
	int compressed_writeback;	/* atomic */
	int pp_busy;			/* atomic: writeback or recompress */
};

/*
 * Per-thread scratch pages of the I/O and post-processing paths (one page
 * being modified, one compressed result). Used only with a slot lock held
 * or between two page operations, never across a call that uses them.
 */
extern __thread unsigned char zr_scratch_page[ZR_PAGE_SIZE];
extern __thread unsigned char zr_scratch_comp[ZR_PAGE_SIZE];

/* Enters a read-side section and returns the published meta (or NULL). */
static inline struct zr_meta *zr_meta_get(struct zr_device *dev)
{
	zr_rcu_read_lock();
	return zr_rcu_dereference(dev->meta);
}

static inline void zr_meta_put(void)
{
	zr_rcu_read_unlock();
}

/*
 * Slot lock held: does mode select the slot? Only pages held compressed
 * or raw in the arena qualify (not same-filled, not written back).
 */
static inline int zr_slot_pp_selected(const struct zr_slot *slot,
				      enum zr_pp_mode mode)
{
	uint64_t state = zr_slot_state(slot);
	uint64_t need = 0;

	if (!(state & ZR_SLOT_SIZE_MASK) ||
	    (state & (ZR_SLOT_WB | ZR_SLOT_SAME)))
		return 0;
	switch (mode) {
	case ZR_PP_ALL:
		break;
	case ZR_PP_IDLE:
		need = ZR_SLOT_IDLE;
		break;
	case ZR_PP_HUGE:
		need = ZR_SLOT_HUGE;
		break;
	case ZR_PP_HUGE_IDLE:
		need = ZR_SLOT_HUGE | ZR_SLOT_IDLE;
		break;
	case ZR_PP_INCOMPRESSIBLE:
		need = ZR_SLOT_INCOMPRESSIBLE;
		break;
	}
	return (state & need) == need;
}

/* The slot of index, or NULL if its chunk was never written. RCU held. */
struct zr_slot *zr_slot_lookup(struct zr_meta *meta, uint64_t index);

/* Seconds since the meta was initialised (slot access times). */
uint32_t zr_meta_now(const struct zr_meta *meta);

/*
 * Where a written-back page lives, captured under its slot lock so it can
 * be read after the lock and the read-side section are dropped.
 */
struct zr_wb_ref {
	struct zr_backing *backing;	/* referenced; zr_backing_put it */
	uint64_t handle;		/* block << 12 | offset */
	uint64_t state;			/* the slot's state word */
};

/* Slot lock and RCU held: drops whatever the slot holds and counts it;
 * a written-back page gives its block (share) back. */
void zr_slot_release(struct zr_meta *meta, struct zr_slot *slot);

/*
 * Slot lock and RCU held: for a written-back slot, fills ref and takes a
 * backing reference and a pin on the block (zr_wb_ref_drop() gives both
 * back). -EIO when no backing store is attached any more.
 */
int zr_wb_ref_take(struct zr_meta *meta, struct zr_slot *slot,
		   struct zr_wb_ref *ref);
/* No lock, no RCU: reads the block ref points to into block (aligned).
 * 0 or -errno. */
int zr_wb_fetch(struct zr_wb_ref *ref, void *block);
/* After the fetch has been confirmed (zr_wb_ref_current) or given up:
 * unpins the block and drops the backing reference. No lock needed. */
void zr_wb_ref_drop(struct zr_wb_ref *ref);
/* Slot lock held: true if the slot still holds what ref captured. */
int zr_wb_ref_current(struct zr_slot *slot, const struct zr_wb_ref *ref);
/* RCU held, ref current: decodes the fetched block into page. */
int zr_wb_decode(struct zr_meta *meta, const struct zr_wb_ref *ref,
		 const void *block, void *page);

/* Slot lock held: decompresses an arena object of the slot's priority. */
int zr_slot_decompress(struct zr_meta *meta, struct zr_slot *slot,
		       const void *src, unsigned int size, void *page);

#endif
