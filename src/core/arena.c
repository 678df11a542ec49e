// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The compressed-page arena, modelled on Linux's zsmalloc.
 *
 * Size classes
 *   Requests of 1 .. ZR_PAGE_SIZE bytes are rounded up to a multiple of
 *   16; each of those 256 sizes has a geometry: a span of 1 ..
 *   ZR_SPAN_MAX_PAGES contiguous pages holding objs = pages * 4096 / size
 *   objects, packed back to back (an object may cross a page boundary).
 *   The span length is zsmalloc's calculate_zspage_chain_size(): the length
 *   leaving the fewest bytes unused at the end of the span, the shortest on
 *   ties, one page for powers of two. As in zsmalloc, neighbouring sizes
 *   with the same geometry share one class (the largest size), so there are
 *   about 120 real classes; every size from 3648 up is a "huge" size with
 *   one object per one-page span, and 4096 is exactly one page, no waste.
 *   ZR_SPAN_MAX_PAGES is 8, zsmalloc's default CONFIG_ZSMALLOC_CHAIN_SIZE:
 *   with 4 pages the packing loss alone for sizes 2048 .. 3072 is up to
 *   14% (about 5% over 500 .. 3072), with 8 it is under 2%.
 *
 * Regions and spans
 *   Span memory comes from per-class regions: one 2 MiB anonymous mmap
 *   (THP disabled) cut into 512 / pages span slots. An emptied span gives
 *   its pages back with madvise(MADV_DONTNEED), which drops them from RSS
 *   at once (under mlockall the range is unlocked around it and relocked
 *   on fault: pages_discard); a region is munmap()ed when its last span
 *   goes. Mapping each
 *   span separately would cost one VMA per hole once spans are freed in
 *   random order, and a large device would run into vm.max_map_count
 *   (65530), where even munmap() starts failing.
 *   Each span has a malloc()ed descriptor (struct zr_span) with a reverse
 *   map: one u32 per object slot holding the handle index of the object
 *   stored there, or, for a free slot, the next free slot. Slots are handed
 *   out from the free list first, then from the never-used tail (hwm), so
 *   the pages past the high-water mark were never touched and hold no
 *   memory: only touched pages are counted in mem_used. A fresh span that
 *   holds two objects costs one page, not eight.
 *
 * Handles
 *   handle = class index << 32 | (handle index + 1). Each class has its
 *   own handle table: 1 KiB chunks of 128 u64 entries, found through a
 *   directory that doubles when full (old directories are kept until
 *   destroy, so a lock-free reader holding an old one still reads valid
 *   chunk pointers), and a free list threaded through the free entries.
 *   The directory (4 entries at first) and the first chunk are allocated
 *   on the class's first allocation, under the class lock; a failure
 *   makes that zr_arena_alloc() return 0. Handle tables never shrink, so
 *   a class that was used keeps at least 1072 bytes (one chunk and its
 *   directory).
 *   An entry packs the location and the pin state of one object:
 *     bits 63..16  pointer to the struct zr_span (must be < 2^48)
 *     bits 15..5   slot within the span (0x7ff: the entry is free, and
 *                  bits 63..16 then hold the next free index + 1)
 *     bits  4..1   pin count (nested maps of one handle)
 *     bit   0      MOVING: compaction is copying the object
 *   Per-object overhead: 8 bytes of handle entry, 4 bytes of reverse map,
 *   plus the span descriptor (48 bytes) shared by the span's objects.
 *
 * Accounting
 *   mem_used counts span pages only, touched ones, as zram's
 *   mem_used_total counts zsmalloc's pool pages: it is what mem_limit
 *   limits and what mm_stat shows, and a new arena reports 0. The
 *   bookkeeping (span descriptors and reverse maps, region records, handle
 *   tables: about 12 bytes per object) is counted apart in meta_used, as
 *   zsmalloc's handle and zspage caches and zram's slot table are outside
 *   zram's figure; both show in the daemon's RSS.
 *
 * Fullness groups
 *   A class keeps its spans on ZR_GROUPS lists: ten by inuse / objs
 *   (0-9%, 10-19%, ... 90-99%) and one for full spans, like zsmalloc's
 *   ZS_INUSE_RATIO_* lists. Allocation takes the fullest partial span,
 *   then the class's spare span, then a new one. A span whose last object
 *   is freed becomes the class's spare if it has none (so a class at a
 *   span boundary does not map and unmap repeatedly) and is released
 *   otherwise; zr_arena_compact() releases the spares too.
 *
 * Compaction
 *   A compaction step empties the sparsest span of a class: each of its
 *   objects moves into the fullest other partial span, and the emptied
 *   source span is released and its pages counted in pages_compacted. A
 *   span holding a mapped object is passed over for the next sparsest
 *   (looking at no more than COMPACT_SCAN_SPANS). A step runs under the
 *   class lock and copies at most one span (32 KiB).
 *   Objects move only within their class, which is why handle tables can
 *   be per class. zr_arena_compact() runs steps per class while the free
 *   slots of the class's spans add up to at least one span (so moving can
 *   free one), dropping the class lock between steps, so allocation in the
 *   class never waits long; it then releases the class's spare span.
 *
 * Automatic compaction
 *   zsmalloc is also compacted by the kernel's shrinker without anyone
 *   asking. Here there is no background thread: zr_arena_free() itself
 *   runs one step for its class, still under the class lock, when the
 *   class is fragmented: at least AUTO_MIN_SPANS (4) spans on its lists
 *   and fewer than AUTO_RATIO_PCT (70) % of their slots in use.
 *   - With 4 spans below 70%, the free slots exceed 0.3 * 4 = 1.2 spans,
 *     so the step can always empty a span (mapped objects aside); 4 is
 *     the smallest count for which that holds. Smaller classes hold at
 *     most 3 spans (24 pages) each and are left to zr_arena_compact(),
 *     as are classes of one object per span, where moving frees nothing.
 *   - Each step lifts the class back over 70%, so a shrinking class keeps
 *     at most 1 / 0.7 = 1.43 times the spans its objects need (freeing
 *     75% of 20000 objects at random leaves 38% of the peak instead of
 *     87%; zr_arena_compact() then gets to 27%), and the source, no fuller
 *     than the average, is under 70% full: a span is freed by copying
 *     less than 0.7 of one. A lower threshold would let more memory sit
 *     idle, a higher one would copy nearly a span per span freed.
 *   - One free does at most one step: bounded work (one span of copies)
 *     for the one class, whatever the fragmentation.
 *   Each class has a compact_lock, held by whoever compacts it:
 *   zr_arena_compact() takes it (blocking) for its pass over the class,
 *   while a free only try-locks it and skips the step when it is taken
 *   (the running compaction does that work), so a free never waits for
 *   another thread's compaction beyond the one step that may hold the
 *   class lock, and two compactions never interleave in a class. Lock
 *   order: compact_lock, then the class lock; the try-lock taken under
 *   the class lock never waits, so it cannot deadlock.
 *
 * Locking and concurrency
 *   Each class has a mutex protecting its span lists, span descriptors,
 *   regions and handle table layout; alloc, free (with its compaction step)
 *   and each compaction step take it; compact_lock only keeps compactions of
 *   a class apart. There is no arena-wide lock: mem_used, meta_used and
 *   pages_compacted are relaxed atomics. zr_arena_map() and
 *   zr_arena_unmap() take no lock:
 *   map loads the handle entry and, if MOVING is clear, adds a pin with a
 *   compare-and-swap (acquire); if MOVING is set it spins (then yields)
 *   until the copy is done. unmap drops the pin with a release fetch_sub. To
 *   move an object the compactor (holding the class lock) compare-and-swaps
 *   the entry from "unpinned" to "unpinned | MOVING" (acquire: it sees
 *   everything the last mapper wrote), copies the bytes, and publishes the
 *   new location with a release store, which a later map's acquire pairs
 *   with. A pinned object is never moved: compaction passes over spans
 *   holding one, and leaves a span for now if a pin appears while it is
 *   being emptied. map only dereferences the span descriptor after its pin
 *   is in place, when the object (and so its span) cannot move or go away;
 *   the descriptor fields it reads (base, size) never change after the span
 *   is published. free() must not be called on a mapped handle, and a handle
 *   is used by one thread at a time (the header's contract); violations are
 *   fatal.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zr_arena.h"
#include "zr_common.h"

#define ZR_SIZE_SHIFT		4
#define ZR_SIZE_STEP		(1U << ZR_SIZE_SHIFT)
#define ZR_SIZE_STEPS		(ZR_PAGE_SIZE / ZR_SIZE_STEP)
#define ZR_SPAN_MAX_PAGES	8
#define ZR_REGION_PAGES		512
#define ZR_REGION_WORDS		(ZR_REGION_PAGES / 64)

/* Ten partial groups by usage ratio, then the full group. */
#define ZR_PARTIAL_GROUPS	10
#define ZR_GROUP_FULL		ZR_PARTIAL_GROUPS
#define ZR_GROUPS		(ZR_PARTIAL_GROUPS + 1)
#define ZR_GROUP_NONE		0xff

/* Handle entry layout, see the comment at the top. */
#define ENTRY_MOVING		1ULL
#define ENTRY_PIN_SHIFT		1
#define ENTRY_PIN_ONE		(1ULL << ENTRY_PIN_SHIFT)
#define ENTRY_PIN_MASK		(0xfULL << ENTRY_PIN_SHIFT)
#define ENTRY_SLOT_SHIFT	5
#define ENTRY_SLOT_MASK		0x7ffU
#define ENTRY_SLOT_FREE		ENTRY_SLOT_MASK
#define ENTRY_PTR_SHIFT		16
#define ENTRY_PTR_LIMIT		(1ULL << (64 - ENTRY_PTR_SHIFT))

#define HCHUNK_SHIFT		7
#define HCHUNK_ENTRIES		(1U << HCHUNK_SHIFT)
#define HDIR_INITIAL		4
/* Handle indexes stay below 2^31: the reverse map tags free slots. */
#define HANDLE_INDEX_LIMIT	0x7fffffffU

/* Reverse map: a free slot holds SLOT_FREE | next free slot. */
#define SLOT_FREE		0x80000000U
#define SLOT_NONE		0xffffU

/* Compaction gives up on a class after this many pinned source spans. */
#define COMPACT_BUSY_TRIES	4
/* A compaction step looks at most this many spans for an unmapped one. */
#define COMPACT_SCAN_SPANS	16

/* A free compacts its class when it has at least AUTO_MIN_SPANS spans and
 * less than AUTO_RATIO_PCT% of their slots in use; see the top. */
#define AUTO_MIN_SPANS		4
#define AUTO_RATIO_PCT		70

struct zr_link {
	struct zr_link *prev;
	struct zr_link *next;
};

struct zr_region {
	struct zr_link link;		/* class's avail or full list */
	unsigned char *base;
	uint16_t nslots;
	uint16_t nfree;
	uint64_t used[ZR_REGION_WORDS];	/* span slots in use */
};

struct zr_span {
	struct zr_link link;		/* class's fullness group list */
	struct zr_region *region;
	unsigned char *base;		/* immutable once published */
	uint32_t size;			/* class size, immutable */
	uint16_t inuse;
	uint16_t hwm;			/* slots below it have been used */
	uint16_t free_head;		/* first free slot below hwm */
	uint8_t group;
	uint32_t slot[];		/* reverse map, one per object slot */
};

struct zr_hdir {
	struct zr_hdir *retired;	/* the directory this one replaced */
	uint32_t cap;
	uint64_t *chunk[];
};

struct zr_class {
	pthread_mutex_t lock;
	pthread_mutex_t compact_lock;	/* held by whoever compacts */
	uint32_t size;
	uint16_t objs;			/* objects per span */
	uint16_t pages;			/* pages per span */
	uint32_t index;
	struct zr_link groups[ZR_GROUPS];
	struct zr_span *spare;
	uint64_t nspans;		/* spans on the group lists */
	uint64_t inuse;			/* objects stored */
	struct zr_link regions_avail;	/* regions with a free span slot */
	struct zr_link regions_full;
	struct zr_hdir *dir;		/* atomic: read by map without lock;
					 * NULL until the first alloc */
	uint32_t nchunks;
	uint32_t hnext;			/* next never-used handle index */
	uint32_t hfree;			/* free handle list: index + 1, or 0 */
} __attribute__((aligned(64)));

struct zr_arena {
	uint64_t mem_used;	/* span pages: mm_stat mem_used_total */
	uint64_t meta_used;	/* descriptors, regions, handle tables */
	uint64_t pages_compacted;
	unsigned int nclasses;
	struct zr_class *classes;
	uint8_t size_class[ZR_SIZE_STEPS];
};

/* ---- intrusive circular lists ---------------------------------------- */

static inline void link_init(struct zr_link *head)
{
	head->prev = head;
	head->next = head;
}

static inline int link_empty(const struct zr_link *head)
{
	return head->next == head;
}

static inline void link_add_tail(struct zr_link *head, struct zr_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void link_add_head(struct zr_link *head, struct zr_link *l)
{
	l->prev = head;
	l->next = head->next;
	head->next->prev = l;
	head->next = l;
}

static inline void link_del(struct zr_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l;
	l->next = l;
}

static inline struct zr_span *span_of(struct zr_link *l)
{
	return (struct zr_span *)((char *)l - offsetof(struct zr_span, link));
}

static inline struct zr_region *region_of(struct zr_link *l)
{
	return (struct zr_region *)((char *)l -
				    offsetof(struct zr_region, link));
}

/* ---- memory accounting ------------------------------------------------ */

static inline void mem_add(struct zr_arena *arena, uint64_t bytes)
{
	zr_stat_add(&arena->mem_used, bytes);
}

static inline void mem_sub(struct zr_arena *arena, uint64_t bytes)
{
	zr_stat_sub(&arena->mem_used, bytes);
}

static inline void meta_add(struct zr_arena *arena, uint64_t bytes)
{
	zr_stat_add(&arena->meta_used, bytes);
}

static inline void meta_sub(struct zr_arena *arena, uint64_t bytes)
{
	zr_stat_sub(&arena->meta_used, bytes);
}

static inline size_t span_meta_size(const struct zr_class *cls)
{
	return sizeof(struct zr_span) + cls->objs * sizeof(uint32_t);
}

static inline size_t hdir_size(uint32_t cap)
{
	return sizeof(struct zr_hdir) + cap * sizeof(uint64_t *);
}

/* Pages of a span that hold or held objects: the rest were never used. */
static inline unsigned int span_touched_pages(const struct zr_class *cls,
					      unsigned int hwm)
{
	uint64_t bytes = (uint64_t)hwm * cls->size;
	unsigned int pages = (bytes + ZR_PAGE_SIZE - 1) >> ZR_PAGE_SHIFT;

	return pages < cls->pages ? pages : cls->pages;
}

/* ---- handle entries --------------------------------------------------- */

static inline uint64_t entry_make(const struct zr_span *span,
				  unsigned int slot)
{
	return ((uint64_t)(uintptr_t)span << ENTRY_PTR_SHIFT) |
	       ((uint64_t)slot << ENTRY_SLOT_SHIFT);
}

static inline uint64_t entry_make_free(uint32_t next_plus1)
{
	return ((uint64_t)next_plus1 << ENTRY_PTR_SHIFT) |
	       ((uint64_t)ENTRY_SLOT_FREE << ENTRY_SLOT_SHIFT);
}

static inline struct zr_span *entry_span(uint64_t e)
{
	return (struct zr_span *)(uintptr_t)(e >> ENTRY_PTR_SHIFT);
}

static inline unsigned int entry_slot(uint64_t e)
{
	return (e >> ENTRY_SLOT_SHIFT) & ENTRY_SLOT_MASK;
}

static inline unsigned int entry_pins(uint64_t e)
{
	return (e & ENTRY_PIN_MASK) >> ENTRY_PIN_SHIFT;
}

static inline uint32_t handle_index(uint64_t handle)
{
	return (uint32_t)handle - 1;
}

static inline struct zr_class *handle_class(struct zr_arena *arena,
					    uint64_t handle)
{
	uint64_t idx = handle >> 32;

	if (idx >= arena->nclasses || (uint32_t)handle == 0)
		zr_die("arena: bad handle");
	return &arena->classes[idx];
}

/* Lock-free: the caller got the handle after its chunk was published. */
static inline uint64_t *handle_entry(struct zr_class *cls, uint32_t hidx)
{
	struct zr_hdir *dir = __atomic_load_n(&cls->dir, __ATOMIC_ACQUIRE);
	uint64_t *chunk;

	if (!dir)
		zr_die("arena: handle of a class never used");
	chunk = __atomic_load_n(&dir->chunk[hidx >> HCHUNK_SHIFT],
				__ATOMIC_ACQUIRE);
	return &chunk[hidx & (HCHUNK_ENTRIES - 1)];
}

static inline uint64_t entry_load(const uint64_t *e)
{
	return __atomic_load_n(e, __ATOMIC_RELAXED);
}

static inline void entry_store(uint64_t *e, uint64_t value)
{
	__atomic_store_n(e, value, __ATOMIC_RELEASE);
}

/* Class lock held. The first call also creates the directory. */
static int hchunk_add(struct zr_arena *arena, struct zr_class *cls)
{
	struct zr_hdir *dir = cls->dir, *bigger;
	uint32_t i, cap = dir ? dir->cap * 2 : HDIR_INITIAL;
	uint64_t *chunk;

	if (!dir || cls->nchunks == dir->cap) {
		bigger = malloc(hdir_size(cap));
		if (!bigger)
			return -ENOMEM;
		bigger->retired = dir;
		bigger->cap = cap;
		for (i = 0; i < cap; i++)
			bigger->chunk[i] = i < cls->nchunks ?
				__atomic_load_n(&dir->chunk[i],
						__ATOMIC_RELAXED) : NULL;
		meta_add(arena, hdir_size(cap));
		__atomic_store_n(&cls->dir, bigger, __ATOMIC_RELEASE);
		dir = bigger;
	}
	chunk = malloc(HCHUNK_ENTRIES * sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	meta_add(arena, HCHUNK_ENTRIES * sizeof(*chunk));
	__atomic_store_n(&dir->chunk[cls->nchunks], chunk, __ATOMIC_RELEASE);
	cls->nchunks++;
	return 0;
}

/* Class lock held. Returns 0 and the index, or a negative errno. */
static int handle_get(struct zr_arena *arena, struct zr_class *cls,
		      uint32_t *hidx)
{
	uint64_t e;
	int ret;

	if (cls->hfree) {
		*hidx = cls->hfree - 1;
		e = entry_load(handle_entry(cls, *hidx));
		if (entry_slot(e) != ENTRY_SLOT_FREE)
			zr_die("arena: handle free list corrupt");
		cls->hfree = e >> ENTRY_PTR_SHIFT;
		return 0;
	}
	if (cls->hnext >= HANDLE_INDEX_LIMIT)
		return -ENOSPC;
	if ((cls->hnext >> HCHUNK_SHIFT) == cls->nchunks) {
		ret = hchunk_add(arena, cls);
		if (ret)
			return ret;
	}
	*hidx = cls->hnext++;
	return 0;
}

/* Class lock held. */
static void handle_put(struct zr_class *cls, uint32_t hidx)
{
	entry_store(handle_entry(cls, hidx), entry_make_free(cls->hfree));
	cls->hfree = hidx + 1;
}

/* ---- regions ---------------------------------------------------------- */

/* Class lock held. */
static struct zr_region *region_create(struct zr_arena *arena,
				       struct zr_class *cls)
{
	size_t len = (size_t)ZR_REGION_PAGES << ZR_PAGE_SHIFT;
	struct zr_region *region;
	void *base;

	region = calloc(1, sizeof(*region));
	if (!region)
		return NULL;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		free(region);
		return NULL;
	}
#ifdef MADV_NOHUGEPAGE
	/* A huge page would make one small span cost 2 MiB. Best effort. */
	madvise(base, len, MADV_NOHUGEPAGE);
#endif
	region->base = base;
	region->nslots = ZR_REGION_PAGES / cls->pages;
	region->nfree = region->nslots;
	link_add_tail(&cls->regions_avail, &region->link);
	meta_add(arena, sizeof(*region));
	return region;
}

/* Class lock held; every span slot of the region is free. */
static void region_destroy(struct zr_arena *arena, struct zr_region *region)
{
	size_t len = (size_t)ZR_REGION_PAGES << ZR_PAGE_SHIFT;

	/* munmap can fail (ENOMEM past vm.max_map_count): keep the region,
	 * its pages were already given back. */
	if (munmap(region->base, len))
		return;
	link_del(&region->link);
	meta_sub(arena, sizeof(*region));
	free(region);
}

/* Class lock held. Returns the index of a free span slot in region. */
static unsigned int region_take_slot(struct zr_class *cls,
				     struct zr_region *region)
{
	unsigned int w, bit;

	for (w = 0; w < ZR_REGION_WORDS; w++) {
		if (region->used[w] == ~0ULL)
			continue;
		bit = __builtin_ctzll(~region->used[w]);
		if (w * 64 + bit >= region->nslots)
			break;
		region->used[w] |= 1ULL << bit;
		if (--region->nfree == 0) {
			link_del(&region->link);
			link_add_tail(&cls->regions_full, &region->link);
		}
		return w * 64 + bit;
	}
	zr_die("arena: region free count wrong");
}

/* ---- spans ------------------------------------------------------------ */

/* Class lock held. A new empty span on no list, or NULL. */
static struct zr_span *span_create(struct zr_arena *arena,
				   struct zr_class *cls)
{
	struct zr_region *region;
	struct zr_span *span;
	unsigned int rslot;

	span = malloc(span_meta_size(cls));
	if (!span)
		return NULL;
	/* The handle entry keeps 48 bits of the descriptor's address. */
	if ((uint64_t)(uintptr_t)span >= ENTRY_PTR_LIMIT) {
		free(span);
		return NULL;
	}
	if (link_empty(&cls->regions_avail)) {
		if (!region_create(arena, cls)) {
			free(span);
			return NULL;
		}
	}
	region = region_of(cls->regions_avail.next);
	rslot = region_take_slot(cls, region);

	link_init(&span->link);
	span->region = region;
	span->base = region->base +
		     ((size_t)rslot * cls->pages << ZR_PAGE_SHIFT);
	span->size = cls->size;
	span->inuse = 0;
	span->hwm = 0;
	span->free_head = SLOT_NONE;
	span->group = ZR_GROUP_NONE;
	meta_add(arena, span_meta_size(cls));
	return span;
}

/*
 * Gives the pages of [addr, addr + len) back to the system. madvise
 * refuses locked pages with EINVAL, and the daemon runs under mlockall
 * (future mappings locked on fault): then the range is unlocked, dropped,
 * and locked on fault again, so the pages the span takes later are locked
 * as they are touched. The unlock splits the mapping and the relock merges
 * it back, so no VMA is left behind.
 */
static int pages_discard(void *addr, size_t len)
{
	if (!madvise(addr, len, MADV_DONTNEED))
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (munlock(addr, len) || madvise(addr, len, MADV_DONTNEED))
		return -errno;
	/* Without the relock the pages would be swappable: onto ourselves. */
	if (mlock2(addr, len, MLOCK_ONFAULT))
		return -errno;
	return 0;
}

/*
 * Class lock held; the span is empty and on no list. Gives its pages back
 * and returns how many were held.
 */
static unsigned int span_release(struct zr_arena *arena,
				 struct zr_class *cls, struct zr_span *span)
{
	struct zr_region *region = span->region;
	unsigned int pages = span_touched_pages(cls, span->hwm);
	size_t rslot;

	if (span->inuse)
		zr_die("arena: releasing a span in use");
	if (pages) {
		if (pages_discard(span->base, (size_t)pages << ZR_PAGE_SHIFT))
			zr_die("arena: cannot give span pages back");
		mem_sub(arena, (uint64_t)pages << ZR_PAGE_SHIFT);
	}
	rslot = ((size_t)(span->base - region->base) >> ZR_PAGE_SHIFT) /
		cls->pages;
	region->used[rslot / 64] &= ~(1ULL << (rslot % 64));
	if (region->nfree++ == 0) {
		link_del(&region->link);
		link_add_tail(&cls->regions_avail, &region->link);
	}
	if (region->nfree == region->nslots)
		region_destroy(arena, region);
	meta_sub(arena, span_meta_size(cls));
	free(span);
	return pages;
}

/* Class lock held; span->inuse < objs. */
static unsigned int span_take_slot(struct zr_arena *arena,
				   struct zr_class *cls, struct zr_span *span)
{
	unsigned int slot, before, after;

	if (span->free_head != SLOT_NONE) {
		slot = span->free_head;
		span->free_head = span->slot[slot] & ~SLOT_FREE;
	} else {
		if (span->hwm >= cls->objs)
			zr_die("arena: span has no free slot");
		slot = span->hwm++;
		before = span_touched_pages(cls, slot);
		after = span_touched_pages(cls, span->hwm);
		if (after != before)
			mem_add(arena, (uint64_t)(after - before) <<
				ZR_PAGE_SHIFT);
	}
	span->inuse++;
	return slot;
}

/* Class lock held. */
static void span_put_slot(struct zr_span *span, unsigned int slot)
{
	span->slot[slot] = SLOT_FREE | span->free_head;
	span->free_head = slot;
	span->inuse--;
}

static inline unsigned int span_group(const struct zr_class *cls,
				      const struct zr_span *span)
{
	if (span->inuse == cls->objs)
		return ZR_GROUP_FULL;
	return span->inuse * ZR_PARTIAL_GROUPS / cls->objs;
}

/* Class lock held; span->inuse > 0. Puts the span on its group list. */
static void span_regroup(struct zr_class *cls, struct zr_span *span)
{
	unsigned int group = span_group(cls, span);

	if (group == span->group)
		return;
	if (span->group == ZR_GROUP_NONE)
		cls->nspans++;
	else
		link_del(&span->link);
	link_add_head(&cls->groups[group], &span->link);
	span->group = group;
}

/* Class lock held: the fullest partial span other than skip, or NULL. */
static struct zr_span *class_fullest(struct zr_class *cls,
				     const struct zr_span *skip)
{
	struct zr_link *head, *l;
	int g;

	for (g = ZR_PARTIAL_GROUPS - 1; g >= 0; g--) {
		head = &cls->groups[g];
		for (l = head->next; l != head; l = l->next)
			if (span_of(l) != skip)
				return span_of(l);
	}
	return NULL;
}

/* Class lock held: a span with a free slot, or NULL. */
static struct zr_span *class_alloc_span(struct zr_arena *arena,
					struct zr_class *cls)
{
	struct zr_span *span = class_fullest(cls, NULL);

	if (span)
		return span;
	if (cls->spare) {
		span = cls->spare;
		cls->spare = NULL;
		return span;
	}
	return span_create(arena, cls);
}

/* Class lock held; span has just become empty and is on a group list. */
static void class_span_emptied(struct zr_arena *arena, struct zr_class *cls,
			       struct zr_span *span)
{
	link_del(&span->link);
	span->group = ZR_GROUP_NONE;
	cls->nspans--;
	if (!cls->spare)
		cls->spare = span;
	else
		span_release(arena, cls, span);
}

/* ---- compaction ------------------------------------------------------ */

/*
 * Class lock held. Moves the object in src's slot into dst, unless it is
 * mapped: then -EBUSY and nothing changes.
 */
static int migrate_object(struct zr_arena *arena, struct zr_class *cls,
			  struct zr_span *src, unsigned int sslot,
			  struct zr_span *dst)
{
	uint32_t hidx = src->slot[sslot];
	uint64_t *e = handle_entry(cls, hidx);
	uint64_t value = entry_load(e);
	unsigned int dslot;

	if (entry_span(value) != src || entry_slot(value) != sslot)
		zr_die("arena: reverse map mismatch");
	if (value & ENTRY_PIN_MASK)
		return -EBUSY;
	/* Acquire: the last mapper's writes are visible to the copy. */
	if (!__atomic_compare_exchange_n(e, &value, value | ENTRY_MOVING, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	dslot = span_take_slot(arena, cls, dst);
	dst->slot[dslot] = hidx;
	memcpy(dst->base + (size_t)dslot * cls->size,
	       src->base + (size_t)sslot * cls->size, cls->size);
	/* Release: a later map sees the copied bytes at the new place. */
	entry_store(e, entry_make(dst, dslot));
	span_put_slot(src, sslot);
	return 0;
}

/* Class lock held: can moving objects empty at least one span? */
static inline int class_compactable(const struct zr_class *cls)
{
	return cls->objs > 1 &&
	       cls->nspans * cls->objs - cls->inuse >= cls->objs;
}

/* Class lock held: is an object of the span mapped? */
static int span_pinned(struct zr_class *cls, const struct zr_span *span)
{
	unsigned int slot;

	for (slot = 0; slot < span->hwm; slot++)
		if (!(span->slot[slot] & SLOT_FREE) &&
		    (entry_load(handle_entry(cls, span->slot[slot])) &
		     ENTRY_PIN_MASK))
			return 1;
	return 0;
}

/*
 * Class lock held: the sparsest partial span with no mapped object, among
 * the first COMPACT_SCAN_SPANS from the sparsest; NULL if there is none,
 * with *busy set if that is because of mapped objects. Maps are short and
 * few (about one per I/O thread), so this rarely looks past the first.
 */
static struct zr_span *class_source(struct zr_class *cls, int *busy)
{
	struct zr_link *head, *l;
	unsigned int seen = 0;
	int g;

	for (g = 0; g < ZR_PARTIAL_GROUPS; g++) {
		head = &cls->groups[g];
		for (l = head->next; l != head; l = l->next) {
			if (!span_pinned(cls, span_of(l)))
				return span_of(l);
			*busy = 1;
			if (++seen == COMPACT_SCAN_SPANS)
				return NULL;
		}
	}
	return NULL;
}

/*
 * Class lock held. Empties the sparsest unmapped span into the fullest
 * ones. Returns the pages released, or -EBUSY if mapped objects left
 * nothing to move or one was mapped meanwhile and stayed behind (the span
 * then goes to the back of its group list).
 */
static long compact_one_span(struct zr_arena *arena, struct zr_class *cls)
{
	struct zr_span *src, *dst;
	unsigned int slot;
	int busy = 0;

	src = class_source(cls, &busy);
	if (!src)
		return busy ? -EBUSY : 0;
	for (slot = 0; slot < src->hwm && src->inuse; slot++) {
		if (src->slot[slot] & SLOT_FREE)
			continue;
		dst = class_fullest(cls, src);
		if (!dst)
			break;
		if (migrate_object(arena, cls, src, slot, dst)) {
			span_regroup(cls, src);
			link_del(&src->link);
			link_add_tail(&cls->groups[src->group], &src->link);
			return -EBUSY;
		}
		span_regroup(cls, dst);
	}
	if (src->inuse) {
		/* Cannot happen while class_compactable() held. */
		span_regroup(cls, src);
		return 0;
	}
	link_del(&src->link);
	src->group = ZR_GROUP_NONE;
	cls->nspans--;
	return span_release(arena, cls, src);
}

/* Class lock held: is the class fragmented enough for a free to compact? */
static inline int class_auto_due(const struct zr_class *cls)
{
	uint64_t slots = cls->nspans * cls->objs;

	return cls->objs > 1 && cls->nspans >= AUTO_MIN_SPANS &&
	       cls->inuse * 100 < slots * AUTO_RATIO_PCT;
}

/*
 * Class lock held, by zr_arena_free(). One bounded compaction step, unless
 * another thread is compacting the class: then it is left to that one.
 */
static void class_auto_compact(struct zr_arena *arena, struct zr_class *cls)
{
	long ret;

	if (pthread_mutex_trylock(&cls->compact_lock))
		return;
	/* Holds whenever class_auto_due() does; see the top. */
	ret = class_compactable(cls) ? compact_one_span(arena, cls) : 0;
	pthread_mutex_unlock(&cls->compact_lock);
	if (ret > 0)
		zr_stat_add(&arena->pages_compacted, ret);
}

/* ---- class geometry ----------------------------------------------------- */

/* zsmalloc's calculate_zspage_chain_size(). */
static unsigned int span_pages_for(unsigned int size)
{
	unsigned int pages, best = 1, waste, min_waste = UINT_MAX;

	if (!(size & (size - 1)))
		return 1;
	for (pages = 1; pages <= ZR_SPAN_MAX_PAGES; pages++) {
		waste = (pages << ZR_PAGE_SHIFT) % size;
		if (waste < min_waste) {
			min_waste = waste;
			best = pages;
		}
	}
	return best;
}

static void class_init(struct zr_class *cls, unsigned int index,
		       unsigned int size, unsigned int pages)
{
	int g;

	cls->index = index;
	cls->size = size;
	cls->pages = pages;
	cls->objs = (pages << ZR_PAGE_SHIFT) / size;
	if (cls->objs >= ENTRY_SLOT_FREE || cls->objs >= SLOT_NONE ||
	    ZR_REGION_PAGES / pages > ZR_REGION_WORDS * 64)
		zr_die("arena: class geometry out of range");
	for (g = 0; g < ZR_GROUPS; g++)
		link_init(&cls->groups[g]);
	link_init(&cls->regions_avail);
	link_init(&cls->regions_full);
}

/*
 * Fills size_class[] and returns the number of real classes; with classes
 * non-NULL also initialises them. Sizes are walked from the largest down,
 * a size joining the class above when the geometry is the same.
 */
static unsigned int classes_layout(struct zr_arena *arena,
				   struct zr_class *classes)
{
	unsigned int step, size, pages, objs, n = 0;
	unsigned int prev_pages = 0, prev_objs = 0;
	unsigned int count = 0, i;

	/* First pass counts, second pass numbers from the smallest. */
	for (step = ZR_SIZE_STEPS; step > 0; step--) {
		size = step << ZR_SIZE_SHIFT;
		pages = span_pages_for(size);
		objs = (pages << ZR_PAGE_SHIFT) / size;
		if (pages != prev_pages || objs != prev_objs)
			count++;
		prev_pages = pages;
		prev_objs = objs;
	}
	if (!classes)
		return count;

	prev_pages = 0;
	prev_objs = 0;
	for (step = ZR_SIZE_STEPS; step > 0; step--) {
		size = step << ZR_SIZE_SHIFT;
		pages = span_pages_for(size);
		objs = (pages << ZR_PAGE_SHIFT) / size;
		if (pages != prev_pages || objs != prev_objs) {
			n++;
			i = count - n;
			class_init(&classes[i], i, size, pages);
		}
		arena->size_class[step - 1] = count - n;
		prev_pages = pages;
		prev_objs = objs;
	}
	return count;
}

/* ---- public interface ------------------------------------------------- */

size_t zr_arena_huge_size(void)
{
	static unsigned int huge;	/* computed once; same every time */
	unsigned int step, cached = __atomic_load_n(&huge, __ATOMIC_RELAXED);

	if (cached)
		return cached;
	/* Walk down while sizes still get a one-object, one-page span. */
	for (step = ZR_SIZE_STEPS; step > 1; step--) {
		unsigned int size = (step - 1) << ZR_SIZE_SHIFT;

		if (span_pages_for(size) != 1 ||
		    (1U << ZR_PAGE_SHIFT) / size != 1)
			break;
	}
	/* Lengths above the next smaller size land in the first huge class. */
	cached = ((step - 1) << ZR_SIZE_SHIFT) + 1;
	__atomic_store_n(&huge, cached, __ATOMIC_RELAXED);
	return cached;
}

struct zr_arena *zr_arena_create(void)
{
	struct zr_arena *arena;
	struct zr_class *classes;
	unsigned int n, i;

	arena = calloc(1, sizeof(*arena));
	if (!arena)
		return NULL;
	n = classes_layout(arena, NULL);
	classes = aligned_alloc(64, n * sizeof(*classes));
	if (!classes)
		goto fail_arena;
	memset(classes, 0, n * sizeof(*classes));
	classes_layout(arena, classes);

	/* Handle directories come with each class's first allocation. */
	for (i = 0; i < n; i++) {
		if (pthread_mutex_init(&classes[i].lock, NULL))
			goto fail_classes;
		if (pthread_mutex_init(&classes[i].compact_lock, NULL)) {
			pthread_mutex_destroy(&classes[i].lock);
			goto fail_classes;
		}
	}
	arena->classes = classes;
	arena->nclasses = n;
	return arena;

fail_classes:
	while (i--) {
		pthread_mutex_destroy(&classes[i].compact_lock);
		pthread_mutex_destroy(&classes[i].lock);
	}
	free(classes);
fail_arena:
	free(arena);
	return NULL;
}

static void class_destroy(struct zr_class *cls)
{
	size_t len = (size_t)ZR_REGION_PAGES << ZR_PAGE_SHIFT;
	struct zr_hdir *dir, *older;
	struct zr_link *head, *l;
	uint32_t i;
	int g;

	for (g = 0; g < ZR_GROUPS; g++) {
		head = &cls->groups[g];
		while (!link_empty(head)) {
			l = head->next;
			link_del(l);
			free(span_of(l));
		}
	}
	free(cls->spare);
	while (!link_empty(&cls->regions_avail)) {
		l = cls->regions_avail.next;
		link_del(l);
		munmap(region_of(l)->base, len);
		free(region_of(l));
	}
	while (!link_empty(&cls->regions_full)) {
		l = cls->regions_full.next;
		link_del(l);
		munmap(region_of(l)->base, len);
		free(region_of(l));
	}
	for (i = 0; i < cls->nchunks; i++)
		free(cls->dir->chunk[i]);
	for (dir = cls->dir; dir; dir = older) {
		older = dir->retired;
		free(dir);
	}
	pthread_mutex_destroy(&cls->compact_lock);
	pthread_mutex_destroy(&cls->lock);
}

void zr_arena_destroy(struct zr_arena *arena)
{
	unsigned int i;

	if (!arena)
		return;
	for (i = 0; i < arena->nclasses; i++)
		class_destroy(&arena->classes[i]);
	free(arena->classes);
	free(arena);
}

uint64_t zr_arena_alloc(struct zr_arena *arena, size_t size)
{
	struct zr_class *cls;
	struct zr_span *span;
	unsigned int slot;
	uint32_t hidx;

	if (size == 0 || size > ZR_PAGE_SIZE)
		return 0;
	cls = &arena->classes[arena->size_class[(size - 1) >> ZR_SIZE_SHIFT]];

	pthread_mutex_lock(&cls->lock);
	if (handle_get(arena, cls, &hidx))
		goto fail;
	span = class_alloc_span(arena, cls);
	if (!span) {
		handle_put(cls, hidx);
		goto fail;
	}
	slot = span_take_slot(arena, cls, span);
	span->slot[slot] = hidx;
	entry_store(handle_entry(cls, hidx), entry_make(span, slot));
	span_regroup(cls, span);
	cls->inuse++;
	pthread_mutex_unlock(&cls->lock);
	return ((uint64_t)cls->index << 32) | (hidx + 1);

fail:
	pthread_mutex_unlock(&cls->lock);
	return 0;
}

void zr_arena_free(struct zr_arena *arena, uint64_t handle)
{
	struct zr_class *cls = handle_class(arena, handle);
	uint32_t hidx = handle_index(handle);
	struct zr_span *span;
	uint64_t *e, value;
	unsigned int slot;

	pthread_mutex_lock(&cls->lock);
	if (hidx >= cls->hnext)
		zr_die("arena: free of a handle never allocated");
	e = handle_entry(cls, hidx);
	value = entry_load(e);
	if (entry_slot(value) == ENTRY_SLOT_FREE)
		zr_die("arena: double free");
	if (value & (ENTRY_PIN_MASK | ENTRY_MOVING))
		zr_die("arena: free of a mapped handle");
	span = entry_span(value);
	slot = entry_slot(value);
	if (span->slot[slot] != hidx)
		zr_die("arena: reverse map mismatch");
	span_put_slot(span, slot);
	handle_put(cls, hidx);
	cls->inuse--;
	if (span->inuse == 0)
		class_span_emptied(arena, cls, span);
	else
		span_regroup(cls, span);
	if (class_auto_due(cls))
		class_auto_compact(arena, cls);
	pthread_mutex_unlock(&cls->lock);
}

static inline void cpu_relax(unsigned int spins)
{
	if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield" ::: "memory");
#endif
		return;
	}
	sched_yield();
}

void *zr_arena_map(struct zr_arena *arena, uint64_t handle)
{
	struct zr_class *cls = handle_class(arena, handle);
	uint64_t *e = handle_entry(cls, handle_index(handle));
	struct zr_span *span;
	unsigned int spins = 0;
	uint64_t value;

	value = entry_load(e);
	for (;;) {
		if (value & ENTRY_MOVING) {
			cpu_relax(spins++);
			value = entry_load(e);
			continue;
		}
		if (entry_slot(value) == ENTRY_SLOT_FREE)
			zr_die("arena: map of a free handle");
		if ((value & ENTRY_PIN_MASK) == ENTRY_PIN_MASK)
			zr_die("arena: too many nested maps");
		if (__atomic_compare_exchange_n(e, &value,
						value + ENTRY_PIN_ONE, 1,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
	span = entry_span(value);
	return span->base + (size_t)entry_slot(value) * span->size;
}

void zr_arena_unmap(struct zr_arena *arena, uint64_t handle)
{
	struct zr_class *cls = handle_class(arena, handle);
	uint64_t *e = handle_entry(cls, handle_index(handle));
	uint64_t old;

	old = __atomic_fetch_sub(e, ENTRY_PIN_ONE, __ATOMIC_RELEASE);
	if (!entry_pins(old))
		zr_die("arena: unmap without map");
}

uint64_t zr_arena_mem_used(struct zr_arena *arena)
{
	return zr_stat_read(&arena->mem_used);
}

uint64_t zr_arena_meta_used(struct zr_arena *arena)
{
	return zr_stat_read(&arena->meta_used);
}

uint64_t zr_arena_pages_compacted(struct zr_arena *arena)
{
	return zr_stat_read(&arena->pages_compacted);
}

static uint64_t compact_class(struct zr_arena *arena, struct zr_class *cls)
{
	unsigned int busy = 0;
	uint64_t freed = 0;
	long ret;

	pthread_mutex_lock(&cls->compact_lock);
	while (busy < COMPACT_BUSY_TRIES) {
		pthread_mutex_lock(&cls->lock);
		if (!class_compactable(cls)) {
			pthread_mutex_unlock(&cls->lock);
			break;
		}
		ret = compact_one_span(arena, cls);
		pthread_mutex_unlock(&cls->lock);
		if (ret == -EBUSY) {
			busy++;
			continue;
		}
		if (ret == 0)
			break;
		freed += ret;
	}

	pthread_mutex_lock(&cls->lock);
	if (cls->spare) {
		freed += span_release(arena, cls, cls->spare);
		cls->spare = NULL;
	}
	pthread_mutex_unlock(&cls->lock);
	pthread_mutex_unlock(&cls->compact_lock);
	return freed;
}

uint64_t zr_arena_compact(struct zr_arena *arena)
{
	uint64_t freed = 0;
	unsigned int i;

	for (i = 0; i < arena->nclasses; i++)
		freed += compact_class(arena, &arena->classes[i]);
	zr_stat_add(&arena->pages_compacted, freed);
	return freed;
}
