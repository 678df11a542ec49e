/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the Check programs: the runner and a seeded generator. */
#ifndef ZR_CHECK_HELPERS_H
#define ZR_CHECK_HELPERS_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

/* xorshift64: deterministic test data; each thread has its own state. */
static __thread uint64_t rng_state;

static inline uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Runs every test of s (each forked unless CK_FORK=no) and returns the
 * exit status: success only when none failed. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
