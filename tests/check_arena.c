// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests of the compressed-page arena: boundary sizes, a random workload
 * checked against a reference model, memory efficiency and release, an
 * empty arena's accounting, automatic compaction on free, allocation
 * failure, and concurrent use with compaction.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "zr_arena.h"
#include "zr_common.h"

#include "check_helpers.h"

#ifndef ZR_HAVE_UTIL
void zr_die_at(const char *file, const char *func, int line, const char *what)
{
	fprintf(stderr, "%s:%d: %s: fatal: %s\n", file, line, func, what);
	abort();
}
#endif

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
	__has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

/* ---- helpers ------------------------------------------------------------ */

static inline uint64_t rng_next(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rng_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(state) % (hi - lo + 1);
}

static void pattern_fill(unsigned char *p, size_t size, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + size;
	size_t i;

	for (i = 0; i < size; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = x >> 56;
	}
}

/* Returns the first differing offset, or -1 if the bytes match. */
static long pattern_check(const unsigned char *p, size_t size, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + size;
	size_t i;

	for (i = 0; i < size; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if (p[i] != (unsigned char)(x >> 56))
			return (long)i;
	}
	return -1;
}

struct obj {
	uint64_t handle;
	size_t size;
	uint64_t seed;
};

static uint64_t obj_alloc(struct zr_arena *arena, struct obj *o, size_t size,
			  uint64_t seed)
{
	void *p;

	o->handle = zr_arena_alloc(arena, size);
	ck_assert_msg(o->handle != 0, "alloc of %zu bytes failed", size);
	o->size = size;
	o->seed = seed;
	p = zr_arena_map(arena, o->handle);
	ck_assert_ptr_nonnull(p);
	pattern_fill(p, size, seed);
	zr_arena_unmap(arena, o->handle);
	return o->handle;
}

static void obj_verify(struct zr_arena *arena, const struct obj *o)
{
	const unsigned char *p = zr_arena_map(arena, o->handle);
	long bad = pattern_check(p, o->size, o->seed);

	zr_arena_unmap(arena, o->handle);
	ck_assert_msg(bad < 0, "object %#llx (%zu bytes) differs at %ld",
		      (unsigned long long)o->handle, o->size, bad);
}

static void objs_verify(struct zr_arena *arena, const struct obj *objs,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		obj_verify(arena, &objs[i]);
}

/* RssAnon of this process in bytes, or 0 if unknown. */
static uint64_t rss_anon(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* ---- tests -------------------------------------------------------------- */

/* Lengths of 3633 and up land in the first one-object-per-page class
 * (3648): storing them compressed saves nothing, so the device stores
 * such pages raw, as zram does with zs_huge_class_size. */
START_TEST(test_huge_size)
{
	struct zr_arena *arena = zr_arena_create();
	uint64_t h;

	ck_assert_uint_eq(zr_arena_huge_size(), 3633);
	/* One object below it shares a page-sized span with others. */
	h = zr_arena_alloc(arena, 3632);
	ck_assert_uint_ne(h, 0);
	ck_assert_uint_lt(zr_arena_mem_used(arena), 2 * ZR_PAGE_SIZE);
	zr_arena_free(arena, h);
	zr_arena_destroy(arena);
}
END_TEST

START_TEST(test_bad_sizes)
{
	struct zr_arena *arena = zr_arena_create();

	ck_assert_ptr_nonnull(arena);
	ck_assert_uint_eq(zr_arena_alloc(arena, 0), 0);
	ck_assert_uint_eq(zr_arena_alloc(arena, ZR_PAGE_SIZE + 1), 0);
	ck_assert_uint_eq(zr_arena_alloc(arena, 1 << 20), 0);
	ck_assert_uint_eq(zr_arena_alloc(arena, SIZE_MAX), 0);
	/* Refused requests allocate nothing. */
	ck_assert_uint_eq(zr_arena_mem_used(arena), 0);
	zr_arena_destroy(arena);
}
END_TEST

/*
 * An empty arena holds nothing (zram's mem_used_total of an empty pool).
 * One object of 1000 bytes costs its page in mem_used; its span
 * descriptor, region record and the class's handle table (one 1 KiB chunk
 * of 128 entries and a directory of 4 pointers, 48 bytes), which comes
 * with a class's first object, count in meta_used. Freeing it keeps the
 * span as the class's spare; compaction releases that, and only the
 * handle table (which never shrinks) is left: 1024 + 48 bytes, so at most
 * 1024 + 64 is asserted.
 */
START_TEST(test_empty)
{
	struct zr_arena *arena = zr_arena_create();
	uint64_t meta, one;
	struct obj o;

	ck_assert_ptr_nonnull(arena);
	ck_assert_uint_eq(zr_arena_mem_used(arena), 0);
	ck_assert_uint_eq(zr_arena_meta_used(arena), 0);
	ck_assert_uint_eq(zr_arena_compact(arena), 0);
	ck_assert_uint_eq(zr_arena_mem_used(arena), 0);
	ck_assert_uint_eq(zr_arena_pages_compacted(arena), 0);

	obj_alloc(arena, &o, 1000, 42);
	meta = zr_arena_meta_used(arena);
	printf("arena: empty 0, one object %llu + %llu of metadata",
	       (unsigned long long)zr_arena_mem_used(arena),
	       (unsigned long long)meta);
	ck_assert_uint_eq(zr_arena_mem_used(arena), ZR_PAGE_SIZE);
	ck_assert_uint_ge(meta, 1024 + 48);
	ck_assert_uint_le(meta, 1024 + 512);
	obj_verify(arena, &o);
	zr_arena_free(arena, o.handle);
	zr_arena_compact(arena);
	one = zr_arena_meta_used(arena);
	printf(", after free and compact %llu + %llu\n",
	       (unsigned long long)zr_arena_mem_used(arena),
	       (unsigned long long)one);
	ck_assert_uint_eq(zr_arena_mem_used(arena), 0);
	ck_assert_uint_ge(one, 1024 + 48);
	ck_assert_uint_le(one, 1024 + 64);

	/* Reuse of the class costs nothing more; a second class its own. */
	obj_alloc(arena, &o, 1000, 43);
	zr_arena_free(arena, o.handle);
	obj_alloc(arena, &o, 100, 44);
	zr_arena_free(arena, o.handle);
	zr_arena_compact(arena);
	ck_assert_uint_eq(zr_arena_mem_used(arena), 0);
	ck_assert_uint_eq(zr_arena_meta_used(arena), 2 * one);
	zr_arena_destroy(arena);
}
END_TEST

START_TEST(test_boundary_sizes)
{
	struct zr_arena *arena = zr_arena_create();
	size_t sizes[1024], n = 0, i, k, copies;
	struct obj *objs;
	uint64_t seed = 1;

	ck_assert_ptr_nonnull(arena);
	sizes[n++] = 1;
	sizes[n++] = 2;
	sizes[n++] = 15;
	for (k = 1; k <= ZR_PAGE_SIZE / 16; k++) {
		sizes[n++] = k * 16 - 1;
		sizes[n++] = k * 16;
		if (k * 16 + 1 <= ZR_PAGE_SIZE)
			sizes[n++] = k * 16 + 1;
	}
	/* Around the huge threshold and zram's 3/4-page cutoff. */
	sizes[n++] = zr_arena_huge_size() - 1;
	sizes[n++] = 3633;	/* first huge size rounds to 3648 */
	sizes[n++] = 3647;
	sizes[n++] = 3648;
	sizes[n++] = ZR_PAGE_SIZE - 1;

	/* Several objects of each size so spans fill and cross pages. */
	copies = 9;
	objs = calloc(n * copies, sizeof(*objs));
	ck_assert_ptr_nonnull(objs);
	for (i = 0; i < n * copies; i++)
		obj_alloc(arena, &objs[i], sizes[i % n], seed++);
	objs_verify(arena, objs, n * copies);

	/* Free every other object, compact, everything left must be intact. */
	for (i = 0; i < n * copies; i += 2)
		zr_arena_free(arena, objs[i].handle);
	zr_arena_compact(arena);
	for (i = 1; i < n * copies; i += 2)
		obj_verify(arena, &objs[i]);
	for (i = 1; i < n * copies; i += 2)
		zr_arena_free(arena, objs[i].handle);
	free(objs);
	zr_arena_destroy(arena);
}
END_TEST

/* One object per page for 4096 bytes, and sharing just below the huge
 * threshold. */
START_TEST(test_full_pages)
{
	struct zr_arena *arena = zr_arena_create();
	enum { N = 2000 };
	struct obj *objs = calloc(N, sizeof(*objs));
	uint64_t base, used, data = (uint64_t)N * ZR_PAGE_SIZE;
	size_t i;

	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(objs);
	base = zr_arena_mem_used(arena);
	for (i = 0; i < N; i++)
		obj_alloc(arena, &objs[i], ZR_PAGE_SIZE, i);
	used = zr_arena_mem_used(arena) - base;
	printf("arena: %d x 4096: mem %llu, ratio %.4f\n", N,
	       (unsigned long long)used, (double)used / data);
	ck_assert_uint_ge(used, data);
	ck_assert_uint_le(used, data + data / 50);
	objs_verify(arena, objs, N);
	for (i = 0; i < N; i++)
		zr_arena_free(arena, objs[i].handle);
	zr_arena_compact(arena);
	ck_assert_uint_lt(zr_arena_mem_used(arena), base + 64 * 1024);

	/* 3632 is the largest non-huge class: 9 objects in 8 pages. */
	base = zr_arena_mem_used(arena);
	for (i = 0; i < N; i++)
		obj_alloc(arena, &objs[i], 3632, i);
	used = zr_arena_mem_used(arena) - base;
	ck_assert_uint_lt(used, data - data / 20);
	objs_verify(arena, objs, N);
	for (i = 0; i < N; i++)
		zr_arena_free(arena, objs[i].handle);
	free(objs);
	zr_arena_destroy(arena);
}
END_TEST

/* A map window pins the object: compaction must not move it. */
START_TEST(test_pinned)
{
	struct zr_arena *arena = zr_arena_create();
	enum { N = 4000 };
	struct obj *objs = calloc(N, sizeof(*objs));
	unsigned char *p[8], *q;
	size_t i, k;

	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(objs);
	for (i = 0; i < N; i++)
		obj_alloc(arena, &objs[i], 1000, i);
	/* Leave sparse spans whose survivors compaction wants to move. */
	for (i = 0; i < N; i++)
		if (i % 8)
			zr_arena_free(arena, objs[i].handle);
	for (k = 0; k < 8; k++)
		p[k] = zr_arena_map(arena, objs[k * 8 * 61].handle);
	zr_arena_compact(arena);
	for (k = 0; k < 8; k++) {
		/* Nested map of a pinned object gives the same address. */
		q = zr_arena_map(arena, objs[k * 8 * 61].handle);
		ck_assert_ptr_eq(p[k], q);
		ck_assert_int_lt(pattern_check(q, 1000, k * 8 * 61), 0);
		zr_arena_unmap(arena, objs[k * 8 * 61].handle);
		zr_arena_unmap(arena, objs[k * 8 * 61].handle);
	}
	ck_assert_uint_gt(zr_arena_pages_compacted(arena), 0);
	for (i = 0; i < N; i += 8)
		obj_verify(arena, &objs[i]);
	/* Unpinned now: a second compaction may move them; still intact. */
	zr_arena_compact(arena);
	for (i = 0; i < N; i += 8) {
		obj_verify(arena, &objs[i]);
		zr_arena_free(arena, objs[i].handle);
	}
	free(objs);
	zr_arena_destroy(arena);
}
END_TEST

/*
 * Frees compact by themselves, but never move a mapped object: hold maps
 * while freeing the objects around them.
 */
START_TEST(test_auto_pinned)
{
	struct zr_arena *arena = zr_arena_create();
	enum { N = 4000, PINS = 8, STRIDE = 8 * 61 };
	struct obj *objs = calloc(N, sizeof(*objs));
	unsigned char *p[PINS], *q;
	uint64_t peak, used;
	size_t i, k;

	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(objs);
	for (i = 0; i < N; i++)
		obj_alloc(arena, &objs[i], 1000, i);
	peak = zr_arena_mem_used(arena);
	for (k = 0; k < PINS; k++)
		p[k] = zr_arena_map(arena, objs[k * STRIDE].handle);
	for (i = 0; i < N; i++)
		if (i % 8)
			zr_arena_free(arena, objs[i].handle);
	ck_assert_uint_gt(zr_arena_pages_compacted(arena), 0);
	for (k = 0; k < PINS; k++) {
		q = zr_arena_map(arena, objs[k * STRIDE].handle);
		ck_assert_ptr_eq(p[k], q);
		ck_assert_int_lt(pattern_check(q, 1000, k * STRIDE), 0);
		zr_arena_unmap(arena, objs[k * STRIDE].handle);
		zr_arena_unmap(arena, objs[k * STRIDE].handle);
	}
	for (i = 0; i < N; i += 8)
		obj_verify(arena, &objs[i]);
	/*
	 * An eighth is left: 500 objects of the 1024-byte class, 4 to a
	 * page; at 70% use that is 179 of the 1000 pages (17.9%), and the
	 * handle table (4000 entries, 0.8% of the peak) stays. Mapped
	 * objects only make compaction pick other spans.
	 */
	used = zr_arena_mem_used(arena);
	printf("arena: auto with pins: mem_used %.1f%% of peak, %llu pages "
	       "compacted\n", 100.0 * used / peak,
	       (unsigned long long)zr_arena_pages_compacted(arena));
	ck_assert_uint_le(used * 100, peak * 20);
	for (i = 0; i < N; i += 8)
		zr_arena_free(arena, objs[i].handle);
	free(objs);
	zr_arena_destroy(arena);
}
END_TEST

static size_t random_size(uint64_t *rng)
{
	uint64_t r = rng_next(rng) % 100;

	if (r < 40)
		return rng_range(rng, 500, 3072);
	if (r < 75)
		return rng_range(rng, 1, ZR_PAGE_SIZE);
	if (r < 85)
		return ZR_PAGE_SIZE;
	return rng_range(rng, 1, 256);
}

START_TEST(test_random_model)
{
	struct zr_arena *arena = zr_arena_create();
	enum { OPS = 60000, MAX_LIVE = 6000, COMPACT_EVERY = 3000 };
	struct obj *live = calloc(MAX_LIVE, sizeof(*live));
	uint64_t rng = 12345, seed = 1, compacted = 0;
	size_t nlive = 0, i, op, compactions = 0;
	unsigned int r;

	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(live);
	for (op = 0; op < OPS; op++) {
		r = rng_next(&rng) % 100;
		/* Phases of growth and shrinkage. */
		if ((op / 10000) % 2 == 0 ? r < 60 : r < 35) {
			if (nlive == MAX_LIVE)
				continue;
			obj_alloc(arena, &live[nlive++], random_size(&rng),
				  seed++);
		} else if (r < 90) {
			if (!nlive)
				continue;
			i = rng_next(&rng) % nlive;
			obj_verify(arena, &live[i]);
			zr_arena_free(arena, live[i].handle);
			live[i] = live[--nlive];
		} else if (nlive) {
			/* Rewrite an object in place with new contents. */
			unsigned char *p;

			i = rng_next(&rng) % nlive;
			live[i].seed = seed++;
			p = zr_arena_map(arena, live[i].handle);
			pattern_fill(p, live[i].size, live[i].seed);
			zr_arena_unmap(arena, live[i].handle);
		}
		if (op % COMPACT_EVERY == COMPACT_EVERY - 1) {
			compacted += zr_arena_compact(arena);
			compactions++;
			objs_verify(arena, live, nlive);
		}
	}
	/* Frees compact too: pages_compacted counts both. */
	ck_assert_uint_ge(zr_arena_pages_compacted(arena), compacted);
	ck_assert_uint_gt(compacted, 0);
	printf("arena: random model: %zu compactions, %llu pages compacted "
	       "by them, %llu in all, %zu live\n", compactions,
	       (unsigned long long)compacted,
	       (unsigned long long)zr_arena_pages_compacted(arena), nlive);
	for (i = 0; i < nlive; i++)
		zr_arena_free(arena, live[i].handle);
	zr_arena_compact(arena);
	/* Only handle tables are left. */
	ck_assert_uint_lt(zr_arena_mem_used(arena), 1024 * 1024);
	free(live);
	zr_arena_destroy(arena);
}
END_TEST

START_TEST(test_memory)
{
	struct zr_arena *arena = zr_arena_create();
	enum { N = 20000 };
	struct obj *objs = calloc(N, sizeof(*objs));
	uint64_t rng = 777, sum = 0, peak, freed, after, rss_peak, rss_after;
	uint64_t auto_pages;
	size_t i, j, nlive;
	struct obj tmp;

	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(objs);
	for (i = 0; i < N; i++) {
		obj_alloc(arena, &objs[i], rng_range(&rng, 500, 3072), i);
		sum += objs[i].size;
	}
	peak = zr_arena_mem_used(arena);
	rss_peak = rss_anon();
	printf("arena: %d objects of 500..3072: %llu bytes stored, "
	       "mem_used %llu, ratio %.4f\n", N, (unsigned long long)sum,
	       (unsigned long long)peak, (double)peak / sum);
	ck_assert_uint_le(peak, sum + sum / 20);
	ck_assert_uint_ge(peak, sum);

	/* Free 75% at random. */
	for (i = N - 1; i > 0; i--) {
		j = rng_next(&rng) % (i + 1);
		tmp = objs[i];
		objs[i] = objs[j];
		objs[j] = tmp;
	}
	nlive = N / 4;
	for (i = nlive; i < N; i++)
		zr_arena_free(arena, objs[i].handle);

	/*
	 * No zr_arena_compact() yet: the frees compacted by themselves.
	 * Without that, random frees leave most spans with a survivor and
	 * mem_used stays near 87% of the peak here. Fully compacted, the live
	 * quarter of the data takes about 27% of the peak (asserted below);
	 * automatic compaction keeps every class of 4+ spans at least 70%
	 * used, so about 27% / 0.7 = 39%; 45% leaves room for the partly used
	 * spans and the small classes it leaves alone.
	 */
	freed = zr_arena_mem_used(arena);
	auto_pages = zr_arena_pages_compacted(arena);
	printf("arena: after freeing 75%%: mem_used %llu, %.1f%% of peak, "
	       "%llu pages compacted by frees\n", (unsigned long long)freed,
	       100.0 * freed / peak, (unsigned long long)auto_pages);
	ck_assert_uint_le(freed * 100, peak * 45);
	ck_assert_uint_gt(auto_pages, 0);
	objs_verify(arena, objs, nlive);

	ck_assert_uint_gt(zr_arena_compact(arena), 0);
	ck_assert_uint_gt(zr_arena_pages_compacted(arena), auto_pages);
	after = zr_arena_mem_used(arena);
	rss_after = rss_anon();
	printf("arena: after compacting: mem_used %llu, "
	       "%.1f%% of peak, %llu pages compacted; RssAnon %llu -> %llu\n",
	       (unsigned long long)after, 100.0 * after / peak,
	       (unsigned long long)zr_arena_pages_compacted(arena),
	       (unsigned long long)rss_peak, (unsigned long long)rss_after);
	ck_assert_uint_le(after * 100, peak * 35);
	/* The 70% threshold: compacting fully gains less than 1 / 0.7. */
	ck_assert_uint_le(freed * 70, after * 100 + peak / 50);
	/* The pages really went back to the system. */
	if (rss_peak && !UNDER_SANITIZER)
		ck_assert_uint_le(rss_after + (peak - after) / 2, rss_peak);
	objs_verify(arena, objs, nlive);
	for (i = 0; i < nlive; i++)
		zr_arena_free(arena, objs[i].handle);
	free(objs);
	zr_arena_destroy(arena);
}
END_TEST

/* Address space limited: alloc must return 0, not abort, and recover. */
START_TEST(test_alloc_failure)
{
	struct zr_arena *arena = zr_arena_create();
	enum { MAX = 200000 };
	uint64_t *h = calloc(MAX, sizeof(*h));
	struct rlimit old, lim;
	unsigned long long vm_kb = 0;
	char line[256];
	size_t n = 0, i;
	FILE *f;

	ck_assert_ptr_nonnull(arena);
	ck_assert_ptr_nonnull(h);
	if (UNDER_SANITIZER) {
		/* Sanitizer runtimes need their address space. */
		free(h);
		zr_arena_destroy(arena);
		return;
	}
	f = fopen("/proc/self/status", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &vm_kb) == 1)
			break;
	fclose(f);
	ck_assert_uint_gt(vm_kb, 0);

	ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = (vm_kb + 96 * 1024) * 1024;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	while (n < MAX) {
		h[n] = zr_arena_alloc(arena, 100 + n % 3900);
		if (!h[n])
			break;
		n++;
	}
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
	ck_assert_uint_lt(n, MAX);
	ck_assert_uint_gt(n, 0);
	/* Still usable: free half, allocate again. */
	for (i = 0; i < n; i += 2)
		zr_arena_free(arena, h[i]);
	for (i = 0; i < n; i += 2) {
		h[i] = zr_arena_alloc(arena, 100 + i % 3900);
		ck_assert_uint_ne(h[i], 0);
	}
	for (i = 0; i < n; i++)
		zr_arena_free(arena, h[i]);
	free(h);
	zr_arena_destroy(arena);
}
END_TEST

/* ---- concurrency ---------------------------------------------------- */

struct worker {
	pthread_t thread;
	struct zr_arena *arena;
	uint64_t rng;
	unsigned int ops;
	unsigned int verified;
	long failures;
};

static int stop_compactor;
static uint64_t compactor_rounds;

static void *compactor_main(void *arg)
{
	struct zr_arena *arena = arg;

	while (!__atomic_load_n(&stop_compactor, __ATOMIC_ACQUIRE)) {
		zr_arena_compact(arena);
		__atomic_fetch_add(&compactor_rounds, 1, __ATOMIC_RELAXED);
		/*
		 * Let the workers make fragmentation to compact: spinning
		 * here moves no more objects (the pages compacted stay about
		 * the same) but makes the test's time depend on how many
		 * CPUs are free.
		 */
		sched_yield();
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	enum { SLOTS = 512 };
	struct obj objs[SLOTS];
	unsigned char *p;
	unsigned int op, i, r;
	uint64_t seed = w->rng << 20;

	memset(objs, 0, sizeof(objs));
	for (op = 0; op < w->ops; op++) {
		i = rng_next(&w->rng) % SLOTS;
		r = rng_next(&w->rng) % 100;
		if (!objs[i].handle) {
			size_t size = random_size(&w->rng);

			objs[i].handle = zr_arena_alloc(w->arena, size);
			if (!objs[i].handle) {
				w->failures++;
				continue;
			}
			objs[i].size = size;
			objs[i].seed = seed++;
			p = zr_arena_map(w->arena, objs[i].handle);
			pattern_fill(p, size, objs[i].seed);
			zr_arena_unmap(w->arena, objs[i].handle);
		} else if (r < 45) {
			p = zr_arena_map(w->arena, objs[i].handle);
			if (pattern_check(p, objs[i].size, objs[i].seed) >= 0)
				w->failures++;
			/* Sometimes hold the mapping a little while. */
			if (r < 5)
				sched_yield();
			zr_arena_unmap(w->arena, objs[i].handle);
			w->verified++;
		} else if (r < 55) {
			p = zr_arena_map(w->arena, objs[i].handle);
			objs[i].seed = seed++;
			pattern_fill(p, objs[i].size, objs[i].seed);
			zr_arena_unmap(w->arena, objs[i].handle);
		} else {
			p = zr_arena_map(w->arena, objs[i].handle);
			if (pattern_check(p, objs[i].size, objs[i].seed) >= 0)
				w->failures++;
			zr_arena_unmap(w->arena, objs[i].handle);
			w->verified++;
			zr_arena_free(w->arena, objs[i].handle);
			objs[i].handle = 0;
		}
	}
	for (i = 0; i < SLOTS; i++) {
		if (!objs[i].handle)
			continue;
		p = zr_arena_map(w->arena, objs[i].handle);
		if (pattern_check(p, objs[i].size, objs[i].seed) >= 0)
			w->failures++;
		zr_arena_unmap(w->arena, objs[i].handle);
		w->verified++;
		zr_arena_free(w->arena, objs[i].handle);
	}
	return NULL;
}

/*
 * Automatic compaction under concurrency, with no compactor thread: each
 * worker fills objects into the same classes, then frees three quarters
 * at random while mapping the survivors (sometimes across one of its own
 * frees), so the frees of every thread move objects the others map.
 */
struct auto_worker {
	pthread_t thread;
	struct zr_arena *arena;
	uint64_t rng;
	unsigned int n;
	long failures;
};

static void *auto_worker_main(void *arg)
{
	struct auto_worker *w = arg;
	struct obj *objs = calloc(w->n, sizeof(*objs));
	unsigned int i, j, keep = w->n / 4;
	uint64_t seed = w->rng << 24;
	unsigned char *p, *q;
	struct obj tmp;
	size_t size;

	if (!objs) {
		w->failures++;
		return NULL;
	}
	for (i = 0; i < w->n; i++) {
		size = rng_range(&w->rng, 500, 1500);
		objs[i].handle = zr_arena_alloc(w->arena, size);
		if (!objs[i].handle) {
			w->failures++;
			w->n = i;
			break;
		}
		objs[i].size = size;
		objs[i].seed = seed++;
		p = zr_arena_map(w->arena, objs[i].handle);
		pattern_fill(p, size, objs[i].seed);
		zr_arena_unmap(w->arena, objs[i].handle);
	}
	for (i = w->n; i > 1; i--) {
		j = rng_next(&w->rng) % i;
		tmp = objs[i - 1];
		objs[i - 1] = objs[j];
		objs[j] = tmp;
	}
	for (i = keep; i < w->n; i++) {
		j = rng_next(&w->rng) % keep;
		p = zr_arena_map(w->arena, objs[j].handle);
		zr_arena_free(w->arena, objs[i].handle);
		if (pattern_check(p, objs[j].size, objs[j].seed) >= 0)
			w->failures++;
		/* Still pinned: the free's compaction left it in place. */
		q = zr_arena_map(w->arena, objs[j].handle);
		if (q != p)
			w->failures++;
		zr_arena_unmap(w->arena, objs[j].handle);
		zr_arena_unmap(w->arena, objs[j].handle);
		if (i % 64 == 0)
			sched_yield();
	}
	for (i = 0; i < keep; i++) {
		p = zr_arena_map(w->arena, objs[i].handle);
		if (pattern_check(p, objs[i].size, objs[i].seed) >= 0)
			w->failures++;
		zr_arena_unmap(w->arena, objs[i].handle);
		zr_arena_free(w->arena, objs[i].handle);
	}
	free(objs);
	return NULL;
}

START_TEST(test_threads_auto)
{
	struct zr_arena *arena = zr_arena_create();
	enum { WORKERS = 4 };
	struct auto_worker w[WORKERS];
	unsigned int i;

	ck_assert_ptr_nonnull(arena);
	for (i = 0; i < WORKERS; i++) {
		w[i].arena = arena;
		w[i].rng = 2000 + i;
		w[i].n = UNDER_TSAN ? 4000 : 10000;
		w[i].failures = 0;
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL,
						auto_worker_main, &w[i]), 0);
	}
	for (i = 0; i < WORKERS; i++)
		pthread_join(w[i].thread, NULL);
	printf("arena: threads, automatic: %llu pages compacted\n",
	       (unsigned long long)zr_arena_pages_compacted(arena));
	for (i = 0; i < WORKERS; i++)
		ck_assert_int_eq(w[i].failures, 0);
	ck_assert_uint_gt(zr_arena_pages_compacted(arena), 0);
	zr_arena_compact(arena);
	ck_assert_uint_lt(zr_arena_mem_used(arena), 1024 * 1024);
	zr_arena_destroy(arena);
}
END_TEST

START_TEST(test_threads)
{
	struct zr_arena *arena = zr_arena_create();
	enum { WORKERS = 4 };
	struct worker w[WORKERS];
	pthread_t compactor;
	unsigned int i, ops;

	ops = UNDER_TSAN ? 60000 : 300000;
	ck_assert_ptr_nonnull(arena);
	stop_compactor = 0;
	compactor_rounds = 0;
	ck_assert_int_eq(pthread_create(&compactor, NULL, compactor_main,
					arena), 0);
	for (i = 0; i < WORKERS; i++) {
		w[i].arena = arena;
		w[i].rng = 1000 + i;
		w[i].ops = ops;
		w[i].verified = 0;
		w[i].failures = 0;
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL,
						worker_main, &w[i]), 0);
	}
	for (i = 0; i < WORKERS; i++)
		pthread_join(w[i].thread, NULL);
	__atomic_store_n(&stop_compactor, 1, __ATOMIC_RELEASE);
	pthread_join(compactor, NULL);

	printf("arena: threads: %llu compaction rounds, %llu pages "
	       "compacted\n",
	       (unsigned long long)compactor_rounds,
	       (unsigned long long)zr_arena_pages_compacted(arena));
	for (i = 0; i < WORKERS; i++) {
		ck_assert_int_eq(w[i].failures, 0);
		ck_assert_uint_gt(w[i].verified, ops / 4);
	}
	ck_assert_uint_gt(compactor_rounds, 0);
	zr_arena_compact(arena);
	ck_assert_uint_lt(zr_arena_mem_used(arena), 1024 * 1024);
	zr_arena_destroy(arena);
}
END_TEST

/*
 * The daemon runs under mlockall, where madvise(MADV_DONTNEED) refuses
 * locked pages: releasing spans must still work and give the memory back,
 * and memory taken afterwards must be locked again. The test runs in its
 * own forked child, so the lock ends with it.
 */
START_TEST(test_release_under_mlock)
{
	struct zr_arena *arena;
	uint64_t handles[4000], rss_full, rss_freed;
	unsigned char *p;
	int i;

	if (mlockall(MCL_CURRENT) || mlockall(MCL_FUTURE | MCL_ONFAULT)) {
		printf("test_release_under_mlock: mlockall refused, skipped\n");
		return;
	}
	arena = zr_arena_create();
	for (i = 0; i < 4000; i++) {
		handles[i] = zr_arena_alloc(arena, 1000 + i % 2000);
		ck_assert_uint_ne(handles[i], 0);
		p = zr_arena_map(arena, handles[i]);
		memset(p, i & 0xff, 1000 + i % 2000);
		zr_arena_unmap(arena, handles[i]);
	}
	rss_full = rss_anon();
	for (i = 0; i < 4000; i++)
		if (i % 8)
			zr_arena_free(arena, handles[i]);
	zr_arena_compact(arena);
	rss_freed = rss_anon();
	ck_assert_uint_gt(zr_arena_pages_compacted(arena), 0);
	if (rss_full && !UNDER_SANITIZER)
		ck_assert_uint_lt(rss_freed, rss_full - 4 * 1024 * 1024);
	/* The survivors are intact, and new objects can be stored. */
	for (i = 0; i < 4000; i += 8) {
		p = zr_arena_map(arena, handles[i]);
		ck_assert_uint_eq(p[0], i & 0xff);
		ck_assert_uint_eq(p[999 + i % 2000], i & 0xff);
		zr_arena_unmap(arena, handles[i]);
	}
	for (i = 0; i < 4000; i++)
		if (i % 8) {
			handles[i] = zr_arena_alloc(arena, 1500);
			ck_assert_uint_ne(handles[i], 0);
			p = zr_arena_map(arena, handles[i]);
			memset(p, 0x5a, 1500);
			zr_arena_unmap(arena, handles[i]);
		}
	zr_arena_destroy(arena);
	munlockall();
}
END_TEST

static Suite *arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc;

	tc = tcase_create("basic");
	tcase_add_test(tc, test_bad_sizes);
	tcase_add_test(tc, test_huge_size);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_boundary_sizes);
	tcase_add_test(tc, test_full_pages);
	tcase_add_test(tc, test_pinned);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, test_random_model);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_test(tc, test_memory);
	tcase_add_test(tc, test_auto_pinned);
	tcase_add_test(tc, test_alloc_failure);
	tcase_add_test(tc, test_release_under_mlock);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_threads_auto);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(arena_suite());
}
