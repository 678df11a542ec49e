/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One page's slot: its arena handle (or fill word) and a state word that
 * packs the object size, the per-slot lock bit and the page flags, as
 * zram's zram_table_entry does.
 *
 * State word layout:
 *   bits  0..15  compressed size in bytes (0 = nothing in the arena)
 *   bit   16     ZR_SLOT_LOCK: held by whoever reads or changes the slot
 *   bits  17..23 page flags (ZR_SLOT_SAME ...)
 *   bits  24..25 priority of the algorithm that compressed the page
 *   bits  32..63 last access, seconds since the device was initialised
 *
 * Every accessor except zr_slot_lock() must be called with the slot lock
 * held. The lock is a bit spin lock: holders never block while holding it
 * (no I/O, no sleeping), they only copy, compress or decompress one page.
 */
#ifndef ZR_SLOT_H
#define ZR_SLOT_H

#include <sched.h>
#include <stdint.h>

struct zr_slot {
	uint64_t handle;	/* arena handle, or the fill word if SAME */
	uint64_t state;		/* see layout above */
};

#define ZR_SLOT_SIZE_MASK 0xffffULL
#define ZR_SLOT_LOCK (1ULL << 16)
#define ZR_SLOT_SAME (1ULL << 17)	/* page is one repeated word */
#define ZR_SLOT_HUGE (1ULL << 18)	/* stored raw: did not compress */
#define ZR_SLOT_IDLE (1ULL << 19)	/* marked idle, not accessed since */
#define ZR_SLOT_WB (1ULL << 20)		/* on the backing store; handle is
					 * block << 12 | offset, size is the
					 * stored length (4096 = raw page) */
#define ZR_SLOT_PP (1ULL << 21)		/* picked by writeback; any change
					 * to the slot clears it */
#define ZR_SLOT_INCOMPRESSIBLE (1ULL << 22) /* no algorithm compresses it */
#define ZR_SLOT_FLAGS_MASK (0x7fULL << 17)
#define ZR_SLOT_PRIO_SHIFT 24
#define ZR_SLOT_PRIO_MASK (3ULL << ZR_SLOT_PRIO_SHIFT)
#define ZR_SLOT_TIME_SHIFT 32

/* A polite busy-wait hint to the CPU. */
static inline void zr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline void zr_slot_lock(struct zr_slot *slot)
{
	unsigned int spins = 0;

	while (__atomic_fetch_or(&slot->state, ZR_SLOT_LOCK,
				 __ATOMIC_ACQUIRE) & ZR_SLOT_LOCK) {
		if (++spins < 64)
			zr_cpu_relax();
		else
			sched_yield();
	}
}

static inline void zr_slot_unlock(struct zr_slot *slot)
{
	__atomic_fetch_and(&slot->state, ~ZR_SLOT_LOCK, __ATOMIC_RELEASE);
}

/* Slot lock held. */
static inline uint64_t zr_slot_state(const struct zr_slot *slot)
{
	return __atomic_load_n(&slot->state, __ATOMIC_RELAXED);
}

/* Slot lock held: replaces everything but the lock bit. */
static inline void zr_slot_set_state(struct zr_slot *slot, uint64_t state)
{
	__atomic_store_n(&slot->state, (state & ~ZR_SLOT_LOCK) | ZR_SLOT_LOCK,
			 __ATOMIC_RELAXED);
}

/* Slot lock held. */
static inline unsigned int zr_slot_size(const struct zr_slot *slot)
{
	return zr_slot_state(slot) & ZR_SLOT_SIZE_MASK;
}

/* Slot lock held. */
static inline int zr_slot_test(const struct zr_slot *slot, uint64_t flag)
{
	return (zr_slot_state(slot) & flag) != 0;
}

/* Slot lock held. */
static inline void zr_slot_set_flag(struct zr_slot *slot, uint64_t flag)
{
	zr_slot_set_state(slot, zr_slot_state(slot) | flag);
}

/* Slot lock held. */
static inline void zr_slot_clear_flag(struct zr_slot *slot, uint64_t flag)
{
	zr_slot_set_state(slot, zr_slot_state(slot) & ~flag);
}

/* Slot lock held: true if the page holds data (compressed, raw, fill or
 * written back). */
static inline int zr_slot_allocated(const struct zr_slot *slot)
{
	return zr_slot_size(slot) != 0 ||
	       zr_slot_test(slot, ZR_SLOT_SAME | ZR_SLOT_WB);
}

/* Slot lock held: which algorithm (0 = primary) compressed the page. */
static inline unsigned int zr_slot_prio(const struct zr_slot *slot)
{
	return (zr_slot_state(slot) & ZR_SLOT_PRIO_MASK) >> ZR_SLOT_PRIO_SHIFT;
}

/* Slot lock held. */
static inline uint32_t zr_slot_atime(const struct zr_slot *slot)
{
	return (uint32_t)(zr_slot_state(slot) >> ZR_SLOT_TIME_SHIFT);
}

/* Slot lock held: records an access, which also ends idleness. */
static inline void zr_slot_touch(struct zr_slot *slot, uint32_t now)
{
	uint64_t state = zr_slot_state(slot) & ~ZR_SLOT_IDLE;

	state &= (1ULL << ZR_SLOT_TIME_SHIFT) - 1;
	zr_slot_set_state(slot, state | ((uint64_t)now << ZR_SLOT_TIME_SHIFT));
}

#endif
