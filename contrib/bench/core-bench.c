// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * core-bench: the core's I/O path alone, without FUSE or a block device.
 *
 *   core-bench FILE [ALGORITHM [ROUNDS]]
 *
 * Stores FILE (whole 4 KiB pages of it) in a zramfs device one page at a
 * time, as a 4 KiB write request would, then reads every page back in a
 * random order and checks it; ROUNDS times (default 3), the device reset
 * in between. Prints the best round's nanoseconds per page for writes and
 * reads, and mm_stat's sizes. Exit status 1 if a page reads back wrong.
 *
 * It tells what zramfs costs per page before any transport cost, which is
 * the floor for the FUSE path, and it is the program to run under
 * valgrind --tool=callgrind (instruction counts do not depend on the
 * machine's load):
 *
 *   valgrind --tool=callgrind contrib/bench/core-bench data lz4 1
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zr_attr.h"
#include "zr_comp.h"
#include "zr_device.h"

#define PAGE 4096

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char *read_file(const char *path, size_t *pages)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= PAGE &&
	    fseek(f, 0, SEEK_SET) == 0) {
		*pages = (size_t)size / PAGE;
		data = malloc(*pages * PAGE);
		if (data && fread(data, PAGE, *pages, f) != *pages) {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

/* A random permutation of 0..n-1 (xorshift: the same order every run). */
static size_t *shuffled(size_t n)
{
	size_t *order = malloc(n * sizeof(*order));
	uint64_t x = 88172645463325252ULL;
	size_t i, j, t;

	if (!order)
		return NULL;
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	return order;
}

int main(int argc, char **argv)
{
	const char *alg = argc > 2 ? argv[2] : "lz4";
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	double best_write = 0, best_read = 0, t0, t;
	size_t pages = 0, i, *order;
	struct zr_device *dev;
	struct zr_mm_stat st;
	char page[PAGE];
	char *data;
	int comp, r;

	if (argc < 2 || rounds < 1) {
		fprintf(stderr, "usage: core-bench FILE [ALGORITHM [ROUNDS]]\n");
		return 2;
	}
	data = read_file(argv[1], &pages);
	if (!data) {
		fprintf(stderr, "core-bench: %s: cannot read a whole page of it\n",
			argv[1]);
		return 2;
	}
	comp = zr_comp_find(alg, strlen(alg));
	order = shuffled(pages);
	dev = zr_device_create(0);
	if (comp < 0 || !order || !dev) {
		fprintf(stderr, "core-bench: cannot set up a device with %s\n",
			alg);
		return 2;
	}
	zr_device_thread_prepare();
	for (r = 0; r < rounds; r++) {
		/* As in zram, reset puts the default algorithm back. */
		if (zr_device_set_algorithm(dev, (enum zr_comp_id)comp) ||
		    zr_device_init(dev, (uint64_t)pages * PAGE)) {
			fprintf(stderr, "core-bench: setting up %s failed\n",
				alg);
			return 2;
		}
		t0 = now_ns();
		for (i = 0; i < pages; i++)
			if (zr_device_write(dev, data + i * PAGE, PAGE,
					    (uint64_t)i * PAGE) != PAGE) {
				fprintf(stderr, "core-bench: write of page %zu "
					"failed\n", i);
				return 1;
			}
		t = (now_ns() - t0) / (double)pages;
		best_write = r && best_write < t ? best_write : t;
		t0 = now_ns();
		for (i = 0; i < pages; i++) {
			size_t p = order[i];

			if (zr_device_read(dev, page, PAGE, (uint64_t)p * PAGE)
			    != PAGE || memcmp(page, data + p * PAGE, PAGE)) {
				fprintf(stderr, "core-bench: page %zu reads "
					"back wrong\n", p);
				return 1;
			}
		}
		t = (now_ns() - t0) / (double)pages;
		best_read = r && best_read < t ? best_read : t;
		zr_device_mm_stat(dev, &st);
		if (r + 1 < rounds && zr_device_reset(dev)) {
			fprintf(stderr, "core-bench: reset failed\n");
			return 2;
		}
	}
	printf("%s: %zu pages, best of %d: write %.0f ns/page, "
	       "read (random order, checked) %.0f ns/page\n", alg, pages,
	       rounds, best_write, best_read);
	printf("orig_data_size %llu compr_data_size %llu mem_used_total %llu "
	       "huge_pages %llu\n", (unsigned long long)st.orig_data_size,
	       (unsigned long long)st.compr_data_size,
	       (unsigned long long)st.mem_used_total,
	       (unsigned long long)st.huge_pages);
	zr_device_destroy(dev);
	free(order);
	free(data);
	return 0;
}
