// SPDX-License-Identifier: GPL-2.0-or-later
/* The abort path for broken invariants and lazy liburcu registration. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "zr_common.h"
#include "zr_rcu.h"

void zr_die_at(const char *file, const char *func, int line, const char *what)
{
	fprintf(stderr, "zramfs: fatal: %s at %s:%s:%d\n", what, file, func,
		line);
	abort();
}

__thread int zr_rcu_registered;
#ifdef ZR_TSAN
char zr_rcu_tsan_token;
#endif
static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;

static void rcu_key_destructor(void *unused)
{
	if (zr_rcu_registered) {
		urcu_memb_unregister_thread();
		zr_rcu_registered = 0;
	}
}

static void rcu_key_create(void)
{
	if (pthread_key_create(&rcu_key, rcu_key_destructor))
		zr_die("pthread_key_create");
}

void zr_rcu_register_slow(void)
{
	pthread_once(&rcu_key_once, rcu_key_create);
	urcu_memb_register_thread();
	zr_rcu_registered = 1;
	/* Any non-NULL value makes the destructor run at thread exit. */
	pthread_setspecific(rcu_key, &zr_rcu_registered);
}
