/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * liburcu glue. zramfs uses the memb flavour. Threads we do not create
 * (libfuse's workers, test threads) register lazily: every core entry
 * point that reads RCU-protected state calls zr_rcu_read_lock(), which
 * registers the calling thread on its first use and arranges for it to
 * unregister at thread exit.
 */
#ifndef ZR_RCU_H
#define ZR_RCU_H

#include <urcu/pointer.h>
#include <urcu/urcu-memb.h>

#if defined(__SANITIZE_THREAD__)
#define ZR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZR_TSAN 1
#endif
#endif

#ifdef ZR_TSAN
/*
 * ThreadSanitizer does not see liburcu 0.13's volatile accesses and
 * explicit barriers as synchronisation, nor a grace period as ordering a
 * reader's critical section before the writer's free. Under TSan the
 * pointer operations are spelled with the equivalent compiler atomics
 * (what liburcu >= 0.14 does with its atomic-builtins option), and every
 * read_unlock releases, and every grace period acquires, one sync token.
 */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char zr_rcu_tsan_token;
#define zr_rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define zr_rcu_assign_pointer(p, v) \
	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define zr_rcu_xchg_pointer(p, v) \
	__atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
static inline void zr_rcu_tsan_release(void)
{
	__tsan_release(&zr_rcu_tsan_token);
}

static inline void zr_rcu_tsan_acquire(void)
{
	__tsan_acquire(&zr_rcu_tsan_token);
}
#else
#define zr_rcu_dereference(p) rcu_dereference(p)
#define zr_rcu_assign_pointer(p, v) rcu_assign_pointer(p, v)
#define zr_rcu_xchg_pointer(p, v) rcu_xchg_pointer(p, v)
static inline void zr_rcu_tsan_release(void)
{
}

static inline void zr_rcu_tsan_acquire(void)
{
}
#endif

/* Registers the calling thread with liburcu unless it already is. */
void zr_rcu_register_slow(void);

extern __thread int zr_rcu_registered;

static inline void zr_rcu_read_lock(void)
{
	if (!zr_rcu_registered)
		zr_rcu_register_slow();
	urcu_memb_read_lock();
}

static inline void zr_rcu_read_unlock(void)
{
	zr_rcu_tsan_release();
	urcu_memb_read_unlock();
}

/* Waits for a grace period. Never call inside a read-side section or
 * while holding a lock that a reader may wait for. */
static inline void zr_rcu_synchronize(void)
{
	if (!zr_rcu_registered)
		zr_rcu_register_slow();
	urcu_memb_synchronize_rcu();
	zr_rcu_tsan_acquire();
}

#endif
