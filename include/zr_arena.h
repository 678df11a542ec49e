/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The compressed-page arena: a zsmalloc-like allocator for objects of
 * 1 .. ZR_PAGE_SIZE bytes.
 *
 * Objects are named by opaque non-zero handles, never by pointers, so the
 * arena may move them (compaction). Contract with callers:
 * - a given handle is used by one thread at a time (the caller holds the
 *   lock of the page slot that owns the handle); different handles may be
 *   used concurrently from any number of threads;
 * - a pointer from zr_arena_map() stays valid and unmoved until the
 *   matching zr_arena_unmap(); keep the window short (no blocking);
 * - zr_arena_compact() may run concurrently with everything else.
 */
#ifndef ZR_ARENA_H
#define ZR_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct zr_arena;

struct zr_arena *zr_arena_create(void);
/* Frees everything; no other call may be running. */
void zr_arena_destroy(struct zr_arena *arena);

/* Returns a handle for size bytes (1 .. ZR_PAGE_SIZE), or 0 when memory
 * cannot be had. */
uint64_t zr_arena_alloc(struct zr_arena *arena, size_t size);
void zr_arena_free(struct zr_arena *arena, uint64_t handle);

/* Direct access to an object's bytes (contiguous) until unmap. */
void *zr_arena_map(struct zr_arena *arena, uint64_t handle);
void zr_arena_unmap(struct zr_arena *arena, uint64_t handle);

/*
 * The smallest object length that costs a whole page (zsmalloc's
 * zs_huge_class_size): storing anything that long compressed saves
 * nothing, so zram stores such pages raw.
 */
size_t zr_arena_huge_size(void);

/*
 * Bytes of span pages the arena holds from the system now: what zram's
 * mem_used_total counts (zsmalloc's pool pages) and what mem_limit limits.
 */
uint64_t zr_arena_mem_used(struct zr_arena *arena);
/*
 * Bytes of the arena's own bookkeeping, outside mem_used as zsmalloc's
 * handle and zspage caches are outside zram's: span descriptors with their
 * reverse maps, region records, handle tables.
 */
uint64_t zr_arena_meta_used(struct zr_arena *arena);

/* Moves objects out of sparse spans and returns emptied spans to the
 * system. Returns the number of pages freed by this call. */
uint64_t zr_arena_compact(struct zr_arena *arena);
/* Pages freed by compaction since creation (mm_stat pages_compacted). */
uint64_t zr_arena_pages_compacted(struct zr_arena *arena);

#endif
