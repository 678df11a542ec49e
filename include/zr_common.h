/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Definitions shared by every zramfs module: the page geometry, the single
 * abort path for broken invariants, and relaxed atomic counter helpers.
 */
#ifndef ZR_COMMON_H
#define ZR_COMMON_H

#include <stdint.h>
#include <stddef.h>

#define ZR_PAGE_SHIFT 12
#define ZR_PAGE_SIZE (1U << ZR_PAGE_SHIFT)

/* Aborts the daemon: only for a broken internal invariant, never for input. */
void zr_die_at(const char *file, const char *func, int line, const char *what)
	__attribute__((noreturn));
#define zr_die(what) zr_die_at(__FILE__, __func__, __LINE__, (what))

/* Statistics counters: relaxed atomics, readers tolerate momentary skew. */
static inline void zr_stat_add(uint64_t *counter, uint64_t value)
{
	__atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

static inline void zr_stat_sub(uint64_t *counter, uint64_t value)
{
	__atomic_fetch_sub(counter, value, __ATOMIC_RELAXED);
}

static inline void zr_stat_inc(uint64_t *counter)
{
	zr_stat_add(counter, 1);
}

static inline uint64_t zr_stat_read(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static inline void zr_stat_set(uint64_t *counter, uint64_t value)
{
	__atomic_store_n(counter, value, __ATOMIC_RELAXED);
}

/* Raises *max to value if value is larger (lock-free). */
static inline void zr_stat_max(uint64_t *max, uint64_t value)
{
	uint64_t cur = zr_stat_read(max);

	while (value > cur &&
	       !__atomic_compare_exchange_n(max, &cur, value, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

#endif
