// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zramN: configuration, lifetime and I/O of one device.
 *
 * State. A device has two parts:
 * - struct zr_device, which lives from hot_add to hot_remove: the id, the
 *   configuration chosen before init (algorithm, level), the mem_limit,
 *   the open count, and an RCU-protected pointer to
 * - struct zr_meta, one initialised generation: disksize, the slot table,
 *   the arena, the statistics. disksize builds a complete meta and then
 *   publishes it with rcu_assign_pointer; reset unpublishes it with
 *   rcu_xchg_pointer, waits for a grace period and only then frees it. A
 *   meta is therefore seen fully built or not at all.
 *
 * Concurrency contract (who may run at the same time as whom):
 *
 *   operation            | takes          | may run concurrently with
 *   ---------------------+----------------+------------------------------
 *   read/write/discard/  | RCU read side, | everything, including reset,
 *   seek                 | slot locks     | init and each other
 *   init/reset/set_*     | ctl_lock       | all I/O; one another serialise
 *   open/release         | ctl_lock       | all I/O; serialise with reset
 *   stats, mark_idle,    | RCU read side, | everything
 *   compact              | slot locks     |
 *   destroy              | nothing        | nothing (caller guarantees)
 *
 * No device-wide lock is ever taken on the I/O path: each page of a request
 * is served in its own RCU read-side section, which dereferences the meta
 * and works on it; the only locks it takes are the per-slot bit locks
 * (zr_slot.h) and the arena's per-class locks. Nothing inside a read-side
 * section blocks: a page that was written back is located under its slot
 * lock, the section is left, the block is read with only a reference on
 * the backing store, and a new section checks that the slot still holds
 * that block before the data is used (else the page is retried). reset
 * calls synchronize_rcu after dropping ctl_lock, which readers never take.
 * A request that finds the device reset under it (generation changed)
 * fails with -EIO instead of touching the new generation.
 *
 * Pages. Each 4 KiB page is stored as a fill word (same_pages), as raw
 * bytes when its compressed form would cost a whole arena page anyway
 * (zr_arena_huge_size(), zram's huge_class_size; huge_pages), or
 * compressed. A full-page write compresses outside the slot lock and swaps
 * the new object in under it; a partial write holds the slot lock across
 * read-modify-write so concurrent partial writes to one page cannot lose
 * each other's bytes.
 *
 * Slot table. The table is two-level: an array of pointers to chunks of
 * ZR_CHUNK_SLOTS slots, each chunk allocated on the first write into it
 * (installed with compare-and-swap), so a huge disksize costs almost
 * nothing until written.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device_internal.h"
#include "zr_arena.h"
#include "zr_common.h"

/* Scratch buffers of the calling thread: bounded, never freed early. */
__thread unsigned char zr_scratch_page[ZR_PAGE_SIZE];
__thread unsigned char zr_scratch_comp[ZR_PAGE_SIZE];
/* A block fetched from the backing store: aligned for O_DIRECT. */
static __thread unsigned char tls_fetch[ZR_PAGE_SIZE]
	__attribute__((aligned(ZR_PAGE_SIZE)));

void zr_device_thread_prepare(void)
{
	if (!zr_rcu_registered)
		zr_rcu_register_slow();
	memset(zr_scratch_page, 0, sizeof(zr_scratch_page));
	memset(zr_scratch_comp, 0, sizeof(zr_scratch_comp));
	memset(tls_fetch, 0, sizeof(tls_fetch));
}

static uint32_t monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

uint32_t zr_meta_now(const struct zr_meta *meta)
{
	return monotonic_seconds() - (uint32_t)meta->born;
}

/* ctl_lock held (or dev private): the defaults zram restores on reset:
 * lz4 primary, no secondary algorithms, no parameters. */
static void config_default(struct zr_device *dev)
{
	int prio;

	for (prio = 0; prio < ZR_MAX_PRIO; prio++) {
		if (dev->comps[prio] != ZR_COMP_NONE)
			zr_comp_params_release(dev->comps[prio],
					       &dev->params[prio]);
		dev->comps[prio] = ZR_COMP_NONE;
		zr_comp_params_init(&dev->params[prio]);
	}
	dev->comps[0] = ZR_COMP_DEFAULT;
}

struct zr_device *zr_device_create(int id)
{
	struct zr_device *dev = calloc(1, sizeof(*dev));
	int prio;

	if (!dev)
		return NULL;
	dev->id = id;
	for (prio = 0; prio < ZR_MAX_PRIO; prio++)
		dev->comps[prio] = ZR_COMP_NONE;
	config_default(dev);
	pthread_mutex_init(&dev->ctl_lock, NULL);
	return dev;
}

int zr_device_id(const struct zr_device *dev)
{
	return dev->id;
}

/* ---- slot table ---- */

struct zr_slot *zr_slot_lookup(struct zr_meta *meta, uint64_t index)
{
	struct zr_slot *chunk;

	chunk = __atomic_load_n(&meta->chunks[index >> ZR_CHUNK_SHIFT],
				__ATOMIC_ACQUIRE);
	return chunk ? &chunk[index & (ZR_CHUNK_SLOTS - 1)] : NULL;
}

static struct zr_slot *slot_create(struct zr_meta *meta, uint64_t index)
{
	struct zr_slot **entry = &meta->chunks[index >> ZR_CHUNK_SHIFT];
	struct zr_slot *chunk, *expected = NULL;

	chunk = __atomic_load_n(entry, __ATOMIC_ACQUIRE);
	if (!chunk) {
		chunk = calloc(ZR_CHUNK_SLOTS, sizeof(*chunk));
		if (!chunk)
			return NULL;
		if (!__atomic_compare_exchange_n(entry, &expected, chunk, 0,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			free(chunk);
			chunk = expected;
		}
	}
	return &chunk[index & (ZR_CHUNK_SLOTS - 1)];
}

void zr_slot_release(struct zr_meta *meta, struct zr_slot *slot)
{
	uint64_t state = zr_slot_state(slot);
	unsigned int size = state & ZR_SLOT_SIZE_MASK;
	struct zr_backing *backing;

	if (state & ZR_SLOT_WB) {
		/* Gone with a reset in progress: the store goes too. */
		backing = zr_rcu_dereference(meta->dev->backing);
		if (backing)
			zr_backing_release(backing,
					   slot->handle >> ZR_PAGE_SHIFT);
		zr_stat_sub(&meta->stats.pages_stored, 1);
	} else if (state & ZR_SLOT_SAME) {
		zr_stat_sub(&meta->stats.same_pages, 1);
		zr_stat_sub(&meta->stats.pages_stored, 1);
	} else if (size) {
		if (state & ZR_SLOT_HUGE)
			zr_stat_sub(&meta->stats.huge_pages, 1);
		zr_stat_sub(&meta->stats.compr_data_size, size);
		zr_stat_sub(&meta->stats.pages_stored, 1);
		zr_arena_free(meta->arena, slot->handle);
	}
	slot->handle = 0;
	zr_slot_set_state(slot, 0);
}

/* ---- meta (one initialised generation) ---- */

static void meta_free(struct zr_meta *meta)
{
	uint64_t c;
	int prio;

	for (prio = 0; prio < ZR_MAX_PRIO; prio++)
		if (meta->comps[prio] != ZR_COMP_NONE)
			zr_comp_params_release(meta->comps[prio],
					       &meta->params[prio]);
	/* meta_alloc() may fail before the chunk table exists. */
	if (meta->chunks)
		for (c = 0; c < meta->nr_chunks; c++)
			free(meta->chunks[c]);
	free(meta->chunks);
	if (meta->arena)
		zr_arena_destroy(meta->arena);
	free(meta);
}

/*
 * The largest disksize there is memory for, as zram's: zram allocates the
 * slot table of the whole disksize at init and fails with ENOMEM beyond
 * memory. Ours is allocated as pages are written, but a table that could
 * never fit would only cost (its chunk directory is 8 bytes per 2 MiB, 4
 * GiB for 1 PiB, walked at reset and locked by mlockall) and fail later:
 * the bound is the disksize whose full slot table fills physical memory,
 * 256 times the RAM.
 */
static uint64_t max_disksize(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page_size <= 0)
		return UINT64_MAX;
	return (uint64_t)pages * (uint64_t)page_size /
	       sizeof(struct zr_slot) * ZR_PAGE_SIZE;
}

/* ctl_lock held. Returns 0 or a negative errno: -EINVAL when a compressor
 * refuses its parameters (a dictionary set for another algorithm), else
 * -ENOMEM. */
static int meta_alloc(struct zr_device *dev, uint64_t disksize,
		      struct zr_meta **out)
{
	struct zr_meta *meta;
	int prio;
	int ret = -ENOMEM;

	if (disksize > max_disksize())
		return -ENOMEM;
	meta = calloc(1, sizeof(*meta));
	if (!meta)
		return -ENOMEM;
	for (prio = 0; prio < ZR_MAX_PRIO; prio++)
		meta->comps[prio] = ZR_COMP_NONE;
	meta->dev = dev;
	meta->gen = ++dev->next_gen;
	meta->disksize = disksize;
	meta->nr_pages = disksize >> ZR_PAGE_SHIFT;
	meta->nr_chunks = (meta->nr_pages + ZR_CHUNK_SLOTS - 1) >>
			  ZR_CHUNK_SHIFT;
	for (prio = 0; prio < ZR_MAX_PRIO; prio++) {
		meta->comps[prio] = dev->comps[prio];
		zr_comp_params_init(&meta->params[prio]);
	}
	for (prio = 0; prio < ZR_MAX_PRIO; prio++) {
		if (meta->comps[prio] == ZR_COMP_NONE)
			continue;
		/* Each generation owns its parameters and dictionaries, so a
		 * reset can free them after the grace period. */
		ret = zr_comp_params_copy(&meta->params[prio],
					  &dev->params[prio]);
		if (!ret)
			ret = zr_comp_params_prepare(meta->comps[prio],
						     &meta->params[prio]);
		if (ret)
			goto err_free_meta;
	}
	ret = -ENOMEM;
	meta->born = monotonic_seconds();
	meta->huge_size = zr_arena_huge_size();
	if (meta->nr_chunks > SIZE_MAX / sizeof(*meta->chunks))
		goto err_free_meta;
	meta->chunks = calloc(meta->nr_chunks, sizeof(*meta->chunks));
	if (!meta->chunks)
		goto err_free_meta;
	meta->arena = zr_arena_create();
	if (!meta->arena)
		goto err_free_meta;
	*out = meta;
	return 0;

err_free_meta:
	meta_free(meta);
	return ret;
}

/* ---- control path ---- */

int zr_device_init(struct zr_device *dev, uint64_t disksize)
{
	struct zr_meta *meta;
	int ret = 0;

	if (disksize > UINT64_MAX - (ZR_PAGE_SIZE - 1))
		return -EINVAL;
	disksize = (disksize + ZR_PAGE_SIZE - 1) & ~(uint64_t)(ZR_PAGE_SIZE - 1);
	if (!disksize)
		return -EINVAL;

	pthread_mutex_lock(&dev->ctl_lock);
	if (dev->meta) {
		ret = -EBUSY;
		goto out_unlock;
	}
	ret = meta_alloc(dev, disksize, &meta);
	if (ret)
		goto out_unlock;
	zr_rcu_assign_pointer(dev->meta, meta);
out_unlock:
	pthread_mutex_unlock(&dev->ctl_lock);
	return ret;
}

int zr_device_reset(struct zr_device *dev)
{
	struct zr_backing *old_backing;
	struct zr_meta *old;

	pthread_mutex_lock(&dev->ctl_lock);
	if (dev->open_count) {
		pthread_mutex_unlock(&dev->ctl_lock);
		return -EBUSY;
	}
	old = zr_rcu_xchg_pointer(&dev->meta, NULL);
	old_backing = zr_rcu_xchg_pointer(&dev->backing, NULL);
	config_default(dev);
	__atomic_store_n(&dev->mem_limit, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->wb_limit, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->wb_limit_enable, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->compressed_writeback, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dev->ctl_lock);

	if (old || old_backing)
		zr_rcu_synchronize();
	if (old)
		meta_free(old);
	/* Readers of written-back pages may still hold references. */
	if (old_backing)
		zr_backing_put(old_backing);
	return 0;
}

void zr_device_destroy(struct zr_device *dev)
{
	int prio;

	for (prio = 0; prio < ZR_MAX_PRIO; prio++)
		if (dev->comps[prio] != ZR_COMP_NONE)
			zr_comp_params_release(dev->comps[prio],
					       &dev->params[prio]);
	if (dev->meta)
		meta_free(dev->meta);
	if (dev->backing)
		zr_backing_put(dev->backing);
	pthread_mutex_destroy(&dev->ctl_lock);
	free(dev);
}

int zr_device_initialised(struct zr_device *dev)
{
	/* A NULL test needs no read-side section (and registers nothing:
	 * mount options use this before the daemon forks). */
	return __atomic_load_n(&dev->meta, __ATOMIC_ACQUIRE) != NULL;
}

uint64_t zr_device_disksize(struct zr_device *dev)
{
	struct zr_meta *meta = zr_meta_get(dev);
	uint64_t size = meta ? meta->disksize : 0;

	zr_meta_put();
	return size;
}

int zr_device_set_algorithm(struct zr_device *dev, enum zr_comp_id comp)
{
	return zr_device_set_recomp_algorithm(dev, 0, comp);
}

enum zr_comp_id zr_device_algorithm(struct zr_device *dev)
{
	return zr_device_recomp_algorithm(dev, 0);
}

int zr_device_set_recomp_algorithm(struct zr_device *dev, int prio,
				   enum zr_comp_id comp)
{
	int ret = 0;

	if (prio < 0 || prio >= ZR_MAX_PRIO)
		return -EINVAL;
	pthread_mutex_lock(&dev->ctl_lock);
	if (dev->meta)
		ret = -EBUSY;
	else
		dev->comps[prio] = comp;
	pthread_mutex_unlock(&dev->ctl_lock);
	return ret;
}

int zr_device_recomp_algorithm(struct zr_device *dev, int prio)
{
	int comp;

	if (prio < 0 || prio >= ZR_MAX_PRIO)
		return ZR_COMP_NONE;
	pthread_mutex_lock(&dev->ctl_lock);
	comp = dev->comps[prio];
	pthread_mutex_unlock(&dev->ctl_lock);
	return comp;
}

int zr_device_find_priority(struct zr_device *dev, enum zr_comp_id comp)
{
	int prio, found = -EINVAL;

	pthread_mutex_lock(&dev->ctl_lock);
	for (prio = 0; prio < ZR_MAX_PRIO; prio++) {
		if (dev->comps[prio] == (int)comp) {
			found = prio;
			break;
		}
	}
	pthread_mutex_unlock(&dev->ctl_lock);
	return found;
}

int zr_device_set_params(struct zr_device *dev, int prio, int level,
			 const void *dict, size_t dict_size)
{
	struct zr_comp_params params, probe;
	int ret;

	if (prio < 0 || prio >= ZR_MAX_PRIO)
		return -EINVAL;
	zr_comp_params_init(&params);
	params.level = level;
	if (dict_size) {
		params.dict = malloc(dict_size);
		if (!params.dict)
			return -ENOMEM;
		memcpy(params.dict, dict, dict_size);
		params.dict_size = dict_size;
	}
	pthread_mutex_lock(&dev->ctl_lock);
	ret = -EBUSY;
	if (dev->meta)
		goto out_unlock;
	ret = -EINVAL;
	if (dev->comps[prio] == ZR_COMP_NONE)
		goto out_unlock;
	/* Reject a dictionary or level the backend cannot use now rather
	 * than at init. */
	ret = zr_comp_params_copy(&probe, &params);
	if (!ret) {
		ret = zr_comp_params_prepare(dev->comps[prio], &probe);
		zr_comp_params_release(dev->comps[prio], &probe);
	}
	if (ret)
		goto out_unlock;
	zr_comp_params_release(dev->comps[prio], &dev->params[prio]);
	dev->params[prio] = params;
	params.dict = NULL;
out_unlock:
	pthread_mutex_unlock(&dev->ctl_lock);
	free(params.dict);
	return ret;
}

void zr_device_set_mem_limit(struct zr_device *dev, uint64_t bytes)
{
	bytes = (bytes + ZR_PAGE_SIZE - 1) & ~(uint64_t)(ZR_PAGE_SIZE - 1);
	__atomic_store_n(&dev->mem_limit, bytes, __ATOMIC_RELAXED);
}

void zr_device_set_wb_limit(struct zr_device *dev, uint64_t pages)
{
	__atomic_store_n(&dev->wb_limit, pages, __ATOMIC_RELAXED);
}

uint64_t zr_device_wb_limit(struct zr_device *dev)
{
	return __atomic_load_n(&dev->wb_limit, __ATOMIC_RELAXED);
}

void zr_device_set_wb_limit_enable(struct zr_device *dev, int enable)
{
	__atomic_store_n(&dev->wb_limit_enable, !!enable, __ATOMIC_RELAXED);
}

int zr_device_wb_limit_enable(struct zr_device *dev)
{
	return __atomic_load_n(&dev->wb_limit_enable, __ATOMIC_RELAXED);
}

int zr_device_reset_mem_used_max(struct zr_device *dev, uint64_t value)
{
	struct zr_meta *meta;

	if (value != 0)
		return -EINVAL;
	meta = zr_meta_get(dev);
	if (meta)
		zr_stat_set(&meta->stats.max_used_bytes,
			    zr_arena_mem_used(meta->arena));
	zr_meta_put();
	return 0;
}

int zr_device_compact(struct zr_device *dev)
{
	struct zr_meta *meta = zr_meta_get(dev);

	if (meta)
		zr_arena_compact(meta->arena);
	zr_meta_put();
	return meta ? 0 : -EINVAL;
}

/* Calls fn on every allocated slot of every allocated chunk, slot locked.
 * Caller is inside a read-side section. */
static void for_each_stored_slot(struct zr_meta *meta,
				 void (*fn)(struct zr_meta *, struct zr_slot *,
					    void *),
				 void *arg)
{
	uint64_t c, i;

	for (c = 0; c < meta->nr_chunks; c++) {
		struct zr_slot *chunk = __atomic_load_n(&meta->chunks[c],
							__ATOMIC_ACQUIRE);

		if (!chunk)
			continue;
		for (i = 0; i < ZR_CHUNK_SLOTS; i++) {
			zr_slot_lock(&chunk[i]);
			if (zr_slot_allocated(&chunk[i]))
				fn(meta, &chunk[i], arg);
			zr_slot_unlock(&chunk[i]);
		}
	}
}

/* Stored pages last accessed before cutoff get the idle mark, the others
 * lose it (UINT64_MAX: every page is marked; 0: every mark cleared). */
static void mark_idle_slot(struct zr_meta *meta, struct zr_slot *slot,
			   void *opaque)
{
	const uint64_t *cutoff = opaque;

	/* As zram: same-filled pages cost no memory and written-back ones
	 * are already out. */
	if (zr_slot_test(slot, ZR_SLOT_SAME | ZR_SLOT_WB))
		return;
	/* As zram since 6.13, a page younger than the cutoff loses an older
	 * mark: "idle 28800" then "idle 14400" leaves only the pages idle
	 * for 4 hours marked. */
	if (zr_slot_atime(slot) < *cutoff)
		zr_slot_set_flag(slot, ZR_SLOT_IDLE);
	else
		zr_slot_clear_flag(slot, ZR_SLOT_IDLE);
}

/* Counts the stored pages carrying flag; arg points to a
 * struct flag_count. */
struct flag_count {
	uint64_t flag;
	uint64_t count;
};

static void count_flagged_slot(struct zr_meta *meta, struct zr_slot *slot,
			       void *opaque)
{
	struct flag_count *fc = opaque;

	fc->count += zr_slot_test(slot, fc->flag);
}

static uint64_t count_flagged(struct zr_device *dev, uint64_t flag)
{
	struct zr_meta *meta = zr_meta_get(dev);
	struct flag_count fc = { .flag = flag };

	if (meta)
		for_each_stored_slot(meta, count_flagged_slot, &fc);
	zr_meta_put();
	return fc.count;
}

int zr_device_mark_idle(struct zr_device *dev, uint64_t min_age)
{
	struct zr_meta *meta = zr_meta_get(dev);
	uint64_t cutoff = UINT64_MAX;

	if (meta) {
		uint32_t now = zr_meta_now(meta);

		/* Pages older than the device itself cannot exist. */
		if (min_age != ZR_IDLE_ALL)
			cutoff = min_age > now ? 0 : now - min_age;
		for_each_stored_slot(meta, mark_idle_slot, &cutoff);
	}
	zr_meta_put();
	return meta ? 0 : -EINVAL;
}

uint64_t zr_device_idle_pages(struct zr_device *dev)
{
	return count_flagged(dev, ZR_SLOT_IDLE);
}

uint64_t zr_device_incompressible_pages(struct zr_device *dev)
{
	return count_flagged(dev, ZR_SLOT_INCOMPRESSIBLE);
}

void zr_device_pin(struct zr_device *dev)
{
	__atomic_fetch_add(&dev->pins, 1, __ATOMIC_ACQUIRE);
}

void zr_device_unpin(struct zr_device *dev)
{
	__atomic_fetch_sub(&dev->pins, 1, __ATOMIC_RELEASE);
}

int zr_device_busy(struct zr_device *dev)
{
	return zr_device_open_count(dev) ||
	       __atomic_load_n(&dev->pins, __ATOMIC_ACQUIRE);
}

void zr_device_open(struct zr_device *dev)
{
	pthread_mutex_lock(&dev->ctl_lock);
	dev->open_count++;
	pthread_mutex_unlock(&dev->ctl_lock);
}

void zr_device_release(struct zr_device *dev)
{
	pthread_mutex_lock(&dev->ctl_lock);
	if (!dev->open_count)
		zr_die("release without open");
	dev->open_count--;
	pthread_mutex_unlock(&dev->ctl_lock);
}

unsigned int zr_device_open_count(struct zr_device *dev)
{
	unsigned int count;

	pthread_mutex_lock(&dev->ctl_lock);
	count = dev->open_count;
	pthread_mutex_unlock(&dev->ctl_lock);
	return count;
}

void zr_device_mm_stat(struct zr_device *dev, struct zr_mm_stat *st)
{
	struct zr_meta *meta = zr_meta_get(dev);

	memset(st, 0, sizeof(*st));
	st->mem_limit = __atomic_load_n(&dev->mem_limit, __ATOMIC_RELAXED);
	if (meta) {
		struct zr_stats *s = &meta->stats;

		st->orig_data_size = zr_stat_read(&s->pages_stored)
				     << ZR_PAGE_SHIFT;
		st->compr_data_size = zr_stat_read(&s->compr_data_size);
		st->mem_used_total = zr_arena_mem_used(meta->arena);
		st->mem_used_max = zr_stat_read(&s->max_used_bytes);
		st->same_pages = zr_stat_read(&s->same_pages);
		st->pages_compacted = zr_arena_pages_compacted(meta->arena);
		st->huge_pages = zr_stat_read(&s->huge_pages);
		st->huge_pages_since = zr_stat_read(&s->huge_pages_since);
	}
	zr_meta_put();
}

void zr_device_io_stat(struct zr_device *dev, struct zr_io_stat *st)
{
	struct zr_meta *meta = zr_meta_get(dev);

	memset(st, 0, sizeof(*st));
	if (meta) {
		st->failed_reads = zr_stat_read(&meta->stats.failed_reads);
		st->failed_writes = zr_stat_read(&meta->stats.failed_writes);
		st->notify_free = zr_stat_read(&meta->stats.notify_free);
	}
	zr_meta_put();
}

void zr_device_bd_stat(struct zr_device *dev, struct zr_bd_stat *st)
{
	struct zr_meta *meta = zr_meta_get(dev);
	struct zr_backing *backing = zr_rcu_dereference(dev->backing);

	memset(st, 0, sizeof(*st));
	if (meta) {
		st->bd_reads = zr_stat_read(&meta->stats.bd_reads);
		st->bd_writes = zr_stat_read(&meta->stats.bd_writes);
	}
	if (backing)
		st->bd_count = zr_backing_used(backing);
	zr_meta_put();
}

uint64_t zr_device_miss_free(struct zr_device *dev)
{
	struct zr_meta *meta = zr_meta_get(dev);
	uint64_t value = meta ? zr_stat_read(&meta->stats.miss_free) : 0;

	zr_meta_put();
	return value;
}

/* ---- pages ---- */

/* A page about to be installed in a slot. */
struct page_object {
	uint64_t handle;	/* arena handle, or the fill word */
	uint64_t state;		/* size and flags for the slot */
};

/* What slot_load found: the page is on the backing store (see ref). */
#define ZR_IN_BACKING 1

/* The page may sit at any byte of a caller's buffer (a write at an odd
 * file offset): words are loaded with memcpy, which compiles to plain
 * loads on x86 and is defined for unaligned addresses anywhere. */
static uint64_t load_word(const unsigned char *at)
{
	uint64_t word;

	memcpy(&word, at, sizeof(word));
	return word;
}

static int page_same_filled(const void *page, uint64_t *fill)
{
	const unsigned char *bytes = page;
	uint64_t first = load_word(bytes);
	size_t i;

	for (i = sizeof(first); i < ZR_PAGE_SIZE; i += sizeof(first))
		if (load_word(bytes + i) != first)
			return 0;
	*fill = first;
	return 1;
}

/*
 * Turns a page into an object ready to install: a fill word, or an arena
 * object holding the compressed (or raw) bytes. Fails with -ENOSPC at
 * mem_limit (unless past_limit: the zeroed edge of a hole punched, which
 * replaces a stored page, must not make a discard fail: zram's never
 * does), -ENOMEM, or the compressor's error; then nothing is held.
 */
static int page_object_make(struct zr_device *dev, struct zr_meta *meta,
			    const void *page, int past_limit,
			    struct page_object *obj)
{
	uint64_t limit, used;
	const void *bytes = zr_scratch_comp;
	size_t len;
	void *dst;
	int ret;

	if (page_same_filled(page, &obj->handle)) {
		obj->state = ZR_SLOT_SAME;
		return 0;
	}
	ret = zr_comp_compress(meta->comps[0], &meta->params[0], page,
			       ZR_PAGE_SIZE, zr_scratch_comp,
			       meta->huge_size - 1);
	if (ret < 0)
		return ret;
	len = ret;
	obj->state = len;
	if (!len) {
		bytes = page;
		len = ZR_PAGE_SIZE;
		obj->state = len | ZR_SLOT_HUGE;
	}
	obj->handle = zr_arena_alloc(meta->arena, len);
	if (!obj->handle)
		return -ENOMEM;
	/* As zram: the peak counts the allocation even when the limit then
	 * refuses it, so mem_used_max never reads below mem_used_total (the
	 * class may keep the emptied span as its spare). */
	used = zr_arena_mem_used(meta->arena);
	zr_stat_max(&meta->stats.max_used_bytes, used);
	limit = __atomic_load_n(&dev->mem_limit, __ATOMIC_RELAXED);
	if (limit && used > limit && !past_limit) {
		zr_arena_free(meta->arena, obj->handle);
		return -ENOSPC;
	}
	dst = zr_arena_map(meta->arena, obj->handle);
	memcpy(dst, bytes, len);
	zr_arena_unmap(meta->arena, obj->handle);
	return 0;
}

int zr_slot_decompress(struct zr_meta *meta, struct zr_slot *slot,
		       const void *src, unsigned int size, void *page)
{
	unsigned int prio = zr_slot_prio(slot);

	return zr_comp_decompress(meta->comps[prio], &meta->params[prio], src,
				  size, page, ZR_PAGE_SIZE);
}

/* Slot lock held: replaces the slot's content with obj. */
static void slot_install(struct zr_meta *meta, struct zr_slot *slot,
			 const struct page_object *obj)
{
	unsigned int size = obj->state & ZR_SLOT_SIZE_MASK;

	zr_slot_release(meta, slot);
	slot->handle = obj->handle;
	zr_slot_set_state(slot, obj->state);
	zr_slot_touch(slot, zr_meta_now(meta));
	zr_stat_inc(&meta->stats.pages_stored);
	if (obj->state & ZR_SLOT_SAME) {
		zr_stat_inc(&meta->stats.same_pages);
		return;
	}
	zr_stat_add(&meta->stats.compr_data_size, size);
	if (obj->state & ZR_SLOT_HUGE) {
		zr_stat_inc(&meta->stats.huge_pages);
		zr_stat_inc(&meta->stats.huge_pages_since);
	}
}

/*
 * Slot lock held (or slot NULL: never written): decodes an in-memory page
 * into page. For a written-back page fills ref instead and returns
 * ZR_IN_BACKING; the caller fetches it outside the read-side section.
 */
static int slot_load(struct zr_meta *meta, struct zr_slot *slot, void *page,
		     struct zr_wb_ref *ref)
{
	uint64_t state, fill;
	unsigned int size;
	void *src;
	size_t i;
	int ret = 0;

	if (!slot || !zr_slot_allocated(slot)) {
		memset(page, 0, ZR_PAGE_SIZE);
		return 0;
	}
	state = zr_slot_state(slot);
	size = state & ZR_SLOT_SIZE_MASK;
	if (state & ZR_SLOT_WB) {
		ret = zr_wb_ref_take(meta, slot, ref);
		return ret ? ret : ZR_IN_BACKING;
	}
	if (state & ZR_SLOT_SAME) {
		fill = slot->handle;
		for (i = 0; i < ZR_PAGE_SIZE / sizeof(fill); i++)
			((uint64_t *)page)[i] = fill;
	} else {
		src = zr_arena_map(meta->arena, slot->handle);
		if (state & ZR_SLOT_HUGE)
			memcpy(page, src, ZR_PAGE_SIZE);
		else
			ret = zr_slot_decompress(meta, slot, src, size, page);
		zr_arena_unmap(meta->arena, slot->handle);
	}
	if (ret)
		zr_stat_inc(&meta->stats.failed_reads);
	else
		zr_slot_touch(slot, zr_meta_now(meta));
	return ret;
}

/* Enters a read-side section on the meta of generation gen; NULL (and no
 * section held) if the device was reset since. */
static struct zr_meta *meta_get_gen(struct zr_device *dev, uint64_t gen)
{
	struct zr_meta *meta = zr_meta_get(dev);

	if (meta && meta->gen == gen)
		return meta;
	zr_meta_put();
	return NULL;
}

/*
 * Slot lock held, after a fetch from the backing store: if the slot still
 * holds the block that was read (ref), decodes it into page and accounts
 * the read. Returns 1 when page is the data, 0 when the slot changed
 * meanwhile (fetch again), or the fetch's or the decode's error.
 */
static int wb_decode_current(struct zr_meta *meta, struct zr_slot *slot,
			     const struct zr_wb_ref *ref, int fetch_ret,
			     void *page)
{
	int ret;

	if (!zr_wb_ref_current(slot, ref))
		return 0;
	ret = fetch_ret ? fetch_ret : zr_wb_decode(meta, ref, tls_fetch, page);
	if (ret) {
		zr_stat_inc(&meta->stats.failed_reads);
		return ret;
	}
	zr_stat_inc(&meta->stats.bd_reads);
	zr_slot_touch(slot, zr_meta_now(meta));
	return 1;
}

/* wb_decode_current in a new read-side section; -EIO after a reset. */
static int wb_fetch_confirm(struct zr_device *dev, uint64_t gen,
			    uint64_t index, const struct zr_wb_ref *ref,
			    int fetch_ret, void *page)
{
	struct zr_meta *meta = meta_get_gen(dev, gen);
	struct zr_slot *slot;
	int ret;

	if (!meta)
		return -EIO;
	slot = zr_slot_lookup(meta, index);
	zr_slot_lock(slot);
	ret = wb_decode_current(meta, slot, ref, fetch_ret, page);
	zr_slot_unlock(slot);
	zr_meta_put();
	return ret;
}

/* Reads page index of generation gen, fetching it from the backing store
 * (outside any read-side section) if it was written back. */
static int read_page(struct zr_device *dev, uint64_t gen, uint64_t index,
		     void *page)
{
	struct zr_wb_ref ref;
	struct zr_meta *meta;
	struct zr_slot *slot;
	int ret;

	for (;;) {
		meta = meta_get_gen(dev, gen);
		if (!meta)
			return -EIO;
		slot = zr_slot_lookup(meta, index);
		if (slot)
			zr_slot_lock(slot);
		ret = slot_load(meta, slot, page, &ref);
		if (slot)
			zr_slot_unlock(slot);
		zr_meta_put();
		if (ret != ZR_IN_BACKING)
			return ret;
		ret = zr_wb_fetch(&ref, tls_fetch);
		ret = wb_fetch_confirm(dev, gen, index, &ref, ret, page);
		zr_wb_ref_drop(&ref);
		if (ret)
			return ret == 1 ? 0 : ret;
		/* Rewritten meanwhile: read it again. */
	}
}

static int write_full_page(struct zr_device *dev, uint64_t gen,
			   uint64_t index, const void *page)
{
	struct zr_meta *meta = meta_get_gen(dev, gen);
	struct page_object obj;
	struct zr_slot *slot;
	int ret = -ENOMEM;

	if (!meta)
		return -EIO;
	slot = slot_create(meta, index);
	if (slot)
		ret = page_object_make(dev, meta, page, 0, &obj);
	if (ret) {
		zr_stat_inc(&meta->stats.failed_writes);
		goto out;
	}
	zr_slot_lock(slot);
	slot_install(meta, slot, &obj);
	zr_slot_unlock(slot);
out:
	zr_meta_put();
	return ret;
}

/*
 * Read-modify-write of part of a page under its slot lock. With src NULL
 * the range is zeroed, and a page left all zero is freed (discard). A
 * written-back page is first fetched outside the read-side section, then
 * modified only if the slot still holds what was fetched.
 */
static int write_partial_page(struct zr_device *dev, uint64_t gen,
			      uint64_t index, unsigned int in_page,
			      const void *src, size_t len)
{
	struct zr_wb_ref ref, fetched_ref;
	struct page_object obj;
	struct zr_meta *meta;
	struct zr_slot *slot;
	int fetched = 0;
	uint64_t fill;
	int ret;

retry:
	meta = meta_get_gen(dev, gen);
	if (!meta) {
		ret = -EIO;
		goto out;
	}
	slot = src ? slot_create(meta, index) : zr_slot_lookup(meta, index);
	if (!slot) {
		zr_meta_put();
		ret = src ? -ENOMEM : 0;
		goto out;
	}
	zr_slot_lock(slot);
	ret = 0;
	if (!src && !zr_slot_allocated(slot))
		goto out_unlock;
	if (fetched)
		ret = wb_decode_current(meta, slot, &fetched_ref, 0,
					zr_scratch_page);
	if (ret == 1)
		ret = 0;	/* the fetched page is still the slot's */
	else if (!ret)
		ret = slot_load(meta, slot, zr_scratch_page, &ref);
	if (ret == ZR_IN_BACKING) {
		zr_slot_unlock(slot);
		zr_meta_put();
		if (fetched)
			zr_wb_ref_drop(&fetched_ref);
		fetched_ref = ref;
		fetched = 1;
		ret = zr_wb_fetch(&fetched_ref, tls_fetch);
		if (ret)
			goto out;
		goto retry;
	}
	if (ret)
		goto out_unlock;
	if (src)
		memcpy(zr_scratch_page + in_page, src, len);
	else
		memset(zr_scratch_page + in_page, 0, len);
	if (!src && page_same_filled(zr_scratch_page, &fill) && !fill) {
		zr_slot_release(meta, slot);
		goto out_unlock;
	}
	ret = page_object_make(dev, meta, zr_scratch_page, !src, &obj);
	if (!ret)
		slot_install(meta, slot, &obj);
	else
		zr_stat_inc(&meta->stats.failed_writes);
out_unlock:
	zr_slot_unlock(slot);
	zr_meta_put();
out:
	if (fetched)
		zr_wb_ref_drop(&fetched_ref);
	return ret;
}

/*
 * Checks [off, off + *len) against the device. Reads (clamp) are cut at
 * the end and return 0 when nothing is left; writes and discards past the
 * end are refused whole with -ENOSPC. Otherwise returns the generation
 * (>= 1) the request belongs to.
 */
static int64_t range_check(struct zr_device *dev, uint64_t off,
			   uint64_t *len, int clamp)
{
	struct zr_meta *meta = zr_meta_get(dev);
	int64_t ret;

	if (!meta) {
		ret = clamp ? 0 : -ENOSPC;
	} else if (clamp) {
		ret = 0;
		if (off < meta->disksize) {
			if (*len > meta->disksize - off)
				*len = meta->disksize - off;
			ret = meta->gen;
		}
	} else if (off > meta->disksize || *len > meta->disksize - off) {
		ret = -ENOSPC;
	} else {
		ret = meta->gen;
	}
	zr_meta_put();
	return ret;
}

ssize_t zr_device_io_range(struct zr_device *dev, uint64_t off, size_t len,
			   int clamp)
{
	uint64_t total = len;
	int64_t gen = range_check(dev, off, &total, clamp);

	if (gen <= 0)
		return gen;
	return total;
}

ssize_t zr_device_read(struct zr_device *dev, void *buf, size_t len,
		       uint64_t off)
{
	unsigned char *dst = buf;
	uint64_t total = len;
	size_t done = 0;
	int64_t gen = range_check(dev, off, &total, 1);

	if (gen <= 0)
		return 0;
	while (done < total) {
		uint64_t pos = off + done;
		uint64_t index = pos >> ZR_PAGE_SHIFT;
		unsigned int in_page = pos & (ZR_PAGE_SIZE - 1);
		size_t chunk = ZR_PAGE_SIZE - in_page;
		int err;

		if (chunk > total - done)
			chunk = total - done;
		if (chunk == ZR_PAGE_SIZE) {
			err = read_page(dev, gen, index, dst + done);
		} else {
			err = read_page(dev, gen, index, zr_scratch_page);
			memcpy(dst + done, zr_scratch_page + in_page, chunk);
		}
		if (err)
			return err;
		done += chunk;
	}
	return done;
}

ssize_t zr_device_write(struct zr_device *dev, const void *buf, size_t len,
			uint64_t off)
{
	const unsigned char *src = buf;
	uint64_t total = len;
	size_t done = 0;
	int64_t gen = range_check(dev, off, &total, 0);

	if (gen < 0)
		return gen;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t index = pos >> ZR_PAGE_SHIFT;
		unsigned int in_page = pos & (ZR_PAGE_SIZE - 1);
		size_t chunk = ZR_PAGE_SIZE - in_page;
		int err;

		if (chunk > len - done)
			chunk = len - done;
		if (chunk == ZR_PAGE_SIZE)
			err = write_full_page(dev, gen, index, src + done);
		else
			err = write_partial_page(dev, gen, index, in_page,
						 src + done, chunk);
		if (err)
			return err;
		done += chunk;
	}
	return done;
}

static void discard_full_page(struct zr_device *dev, uint64_t gen,
			      uint64_t index)
{
	struct zr_meta *meta = meta_get_gen(dev, gen);
	struct zr_slot *slot;

	if (!meta)
		return;
	slot = zr_slot_lookup(meta, index);
	if (slot) {
		zr_slot_lock(slot);
		if (zr_slot_allocated(slot))
			zr_slot_release(meta, slot);
		zr_slot_unlock(slot);
	}
	/* As zram_bio_discard(): every whole page of the range counts, held
	 * data or not. */
	zr_stat_inc(&meta->stats.notify_free);
	zr_meta_put();
}

int zr_device_discard(struct zr_device *dev, uint64_t off, uint64_t len)
{
	uint64_t total = len, done = 0;
	int64_t gen = range_check(dev, off, &total, 0);
	int ret;

	if (gen < 0)
		return gen;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t index = pos >> ZR_PAGE_SHIFT;
		unsigned int in_page = pos & (ZR_PAGE_SIZE - 1);
		uint64_t chunk = ZR_PAGE_SIZE - in_page;

		if (chunk > len - done)
			chunk = len - done;
		if (chunk < ZR_PAGE_SIZE) {
			ret = write_partial_page(dev, gen, index, in_page,
						 NULL, chunk);
			if (ret)
				return ret;
		} else {
			discard_full_page(dev, gen, index);
		}
		done += chunk;
	}
	return 0;
}

static int slot_holds_data(struct zr_meta *meta, uint64_t index)
{
	struct zr_slot *slot = zr_slot_lookup(meta, index);
	int ret;

	if (!slot)
		return 0;
	zr_slot_lock(slot);
	ret = zr_slot_allocated(slot);
	zr_slot_unlock(slot);
	return ret;
}

int64_t zr_device_seek(struct zr_device *dev, uint64_t off, int whence)
{
	struct zr_meta *meta = zr_meta_get(dev);
	int want_data = whence == SEEK_DATA;
	uint64_t index;
	int64_t ret = -ENXIO;

	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		ret = -EINVAL;
		goto out;
	}
	if (!meta || off >= meta->disksize)
		goto out;
	for (index = off >> ZR_PAGE_SHIFT; index < meta->nr_pages; index++) {
		/* A chunk never allocated is one long hole. */
		if (!__atomic_load_n(&meta->chunks[index >> ZR_CHUNK_SHIFT],
				     __ATOMIC_ACQUIRE)) {
			if (!want_data)
				break;
			index |= ZR_CHUNK_SLOTS - 1;
			continue;
		}
		if (slot_holds_data(meta, index) == want_data)
			break;
	}
	if (index < meta->nr_pages) {
		uint64_t pos = index << ZR_PAGE_SHIFT;

		ret = pos > off ? pos : off;
	} else if (!want_data) {
		ret = meta->disksize;	/* the virtual hole at the end */
	}
out:
	zr_meta_put();
	return ret;
}
