// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the core without FUSE: pages, compression, byte-granular
 * I/O, discard and seek, limits, control attributes, and I/O racing with
 * reset.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zr_common.h"
#include "zr_control.h"
#include "zr_device.h"
#include "zr_host.h"

#include "check_helpers.h"

#define MIB (1024ULL * 1024)
#define PAGE ZR_PAGE_SIZE

static const char *const words[] = {
	"swap", "page", "memory", "kernel", "compress", "zram", "block",
	"device", "the", "of", "and", "struct", "return", "int", "static",
	"void", "if", "for", "while", "0x7fff", "NULL", "const", "char",
};

/* Text-like data that compresses about 2-4x, different for each seed. */
static void fill_text(unsigned char *buf, size_t len, uint64_t seed)
{
	size_t pos = 0;

	rng_state = seed * 2654435761ULL + 1;
	while (pos < len) {
		const char *w = words[rng() % (sizeof(words) / sizeof(*words))];
		size_t n = strlen(w);

		if (n > len - pos)
			n = len - pos;
		memcpy(buf + pos, w, n);
		pos += n;
		if (pos < len)
			buf[pos++] = (rng() % 31) ? ' ' : (unsigned char)rng();
	}
}

static void fill_random(unsigned char *buf, size_t len, uint64_t seed)
{
	size_t i;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 7;
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(rng() >> 24);
}

static struct zr_device *make_device(uint64_t size, enum zr_comp_id comp)
{
	struct zr_device *dev = zr_device_create(0);

	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(zr_device_set_algorithm(dev, comp), 0);
	ck_assert_int_eq(zr_device_init(dev, size), 0);
	return dev;
}

static int is_zero(const unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i])
			return 0;
	return 1;
}

START_TEST(test_roundtrip_each_algorithm)
{
	enum zr_comp_id comp = (enum zr_comp_id)_i;
	size_t len = 4 * MIB;
	unsigned char *in = malloc(len), *out = malloc(len);
	struct zr_device *dev = make_device(16 * MIB, comp);
	struct zr_mm_stat mm;

	fill_text(in, len, 42);
	ck_assert_int_eq(zr_device_write(dev, in, len, 8 * MIB), len);
	ck_assert_int_eq(zr_device_read(dev, out, len, 8 * MIB), len);
	ck_assert_mem_eq(in, out, len);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.orig_data_size, len);
	/* The synthetic text compresses to about half (lz4 51%). */
	ck_assert_uint_lt(mm.compr_data_size, len * 3 / 5);
	ck_assert_uint_gt(mm.mem_used_total, 0);
	ck_assert_uint_ge(mm.mem_used_max, mm.mem_used_total);
	ck_assert_uint_eq(mm.same_pages, 0);
	ck_assert_uint_eq(mm.huge_pages, 0);
	zr_device_destroy(dev);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_same_filled_pages)
{
	struct zr_device *dev = make_device(1 * MIB, ZR_COMP_LZ4);
	unsigned char page[PAGE], out[PAGE];
	struct zr_mm_stat mm;

	memset(page, 0, PAGE);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 0), PAGE);
	memset(page, 0xab, PAGE);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, PAGE), PAGE);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.same_pages, 2);
	ck_assert_uint_eq(mm.orig_data_size, 2 * PAGE);
	ck_assert_uint_eq(mm.compr_data_size, 0);
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, PAGE), PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, 0), PAGE);
	ck_assert(is_zero(out, PAGE));
	/* Overwriting a fill page with data drops the same_pages count. */
	fill_text(page, PAGE, 3);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 0), PAGE);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.same_pages, 1);
	ck_assert_uint_gt(mm.compr_data_size, 0);
	zr_device_destroy(dev);
}
END_TEST

/* A full page can come from any byte of the caller's buffer (a write at
 * an odd file offset): the same-filled check must not load misaligned
 * words (undefined behaviour, fatal under the sanitizer build). */
START_TEST(test_same_filled_unaligned_buffer)
{
	struct zr_device *dev = make_device(1 * MIB, ZR_COMP_LZ4);
	uint64_t aligned[PAGE / 8 + 1];
	unsigned char *src = (unsigned char *)aligned + 1, out[PAGE];
	struct zr_mm_stat mm;

	memset(aligned, 0x5a, sizeof(aligned));
	ck_assert_int_eq(zr_device_write(dev, src, PAGE, PAGE), PAGE);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.same_pages, 1);
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, PAGE), PAGE);
	ck_assert_mem_eq(out, src, PAGE);
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_incompressible_pages_stored_raw)
{
	struct zr_device *dev = make_device(1 * MIB, _i);
	unsigned char page[PAGE], out[PAGE];
	struct zr_mm_stat mm;

	fill_random(page, PAGE, 9);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 3 * PAGE), PAGE);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.huge_pages, 1);
	ck_assert_uint_eq(mm.huge_pages_since, 1);
	ck_assert_uint_eq(mm.compr_data_size, PAGE);
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, 3 * PAGE), PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	/* Replacing it frees the huge page but huge_pages_since stays. */
	fill_text(page, PAGE, 1);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 3 * PAGE), PAGE);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.huge_pages, 0);
	ck_assert_uint_eq(mm.huge_pages_since, 1);
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_unaligned_io)
{
	struct zr_device *dev = make_device(1 * MIB, ZR_COMP_LZ4);
	size_t size = 1 * MIB;
	unsigned char *model = calloc(1, size), *out = malloc(size);
	unsigned char chunk[20000];
	int i;

	/* Random writes at random offsets and lengths against a model. */
	for (i = 0; i < 400; i++) {
		size_t len = 1 + rng() % sizeof(chunk);
		uint64_t off = rng() % (size - len);

		if (i % 3)
			fill_text(chunk, len, i);
		else
			fill_random(chunk, len, i);
		ck_assert_int_eq(zr_device_write(dev, chunk, len, off), len);
		memcpy(model + off, chunk, len);
	}
	for (i = 0; i < 400; i++) {
		size_t len = 1 + rng() % sizeof(chunk);
		uint64_t off = rng() % (size - len);

		ck_assert_int_eq(zr_device_read(dev, out, len, off), len);
		ck_assert_mem_eq(out, model + off, len);
	}
	ck_assert_int_eq(zr_device_read(dev, out, size, 0), size);
	ck_assert_mem_eq(out, model, size);
	zr_device_destroy(dev);
	free(model);
	free(out);
}
END_TEST

START_TEST(test_out_of_range)
{
	struct zr_device *dev = make_device(1 * MIB, ZR_COMP_LZ4);
	unsigned char buf[3 * PAGE];
	struct zr_mm_stat mm;

	fill_text(buf, sizeof(buf), 5);
	/* Crossing the end: refused whole, nothing written. */
	ck_assert_int_eq(zr_device_write(dev, buf, 200, MIB - 100), -ENOSPC);
	ck_assert_int_eq(zr_device_write(dev, buf, 1, MIB), -ENOSPC);
	ck_assert_int_eq(zr_device_write(dev, buf, 1, UINT64_MAX), -ENOSPC);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.orig_data_size, 0);
	/* Exactly up to the end works. */
	ck_assert_int_eq(zr_device_write(dev, buf, 100, MIB - 100), 100);
	/* Reads stop at the end; past it they return 0 bytes. */
	ck_assert_int_eq(zr_device_read(dev, buf, 300, MIB - 100), 100);
	ck_assert_int_eq(zr_device_read(dev, buf, 300, MIB), 0);
	ck_assert_int_eq(zr_device_read(dev, buf, 300, UINT64_MAX), 0);
	ck_assert_int_eq(zr_device_discard(dev, MIB - PAGE, 2 * PAGE),
			 -ENOSPC);
	/* The same ranges, checked without I/O (zramfs-null's data path). */
	ck_assert_int_eq(zr_device_io_range(dev, MIB - 100, 200, 0), -ENOSPC);
	ck_assert_int_eq(zr_device_io_range(dev, UINT64_MAX, 1, 0), -ENOSPC);
	ck_assert_int_eq(zr_device_io_range(dev, MIB - 100, 100, 0), 100);
	ck_assert_int_eq(zr_device_io_range(dev, MIB - 100, 300, 1), 100);
	ck_assert_int_eq(zr_device_io_range(dev, MIB, 300, 1), 0);
	ck_assert_int_eq(zr_device_io_range(dev, UINT64_MAX, 300, 1), 0);
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_uninitialised_device)
{
	struct zr_device *dev = zr_device_create(0);
	unsigned char buf[PAGE] = { 1 };
	struct zr_mm_stat mm;

	ck_assert_int_eq(zr_device_initialised(dev), 0);
	ck_assert_uint_eq(zr_device_disksize(dev), 0);
	ck_assert_int_eq(zr_device_write(dev, buf, PAGE, 0), -ENOSPC);
	ck_assert_int_eq(zr_device_read(dev, buf, PAGE, 0), 0);
	ck_assert_int_eq(zr_device_compact(dev), -EINVAL);
	ck_assert_int_eq(zr_device_mark_idle(dev, ZR_IDLE_ALL), -EINVAL);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.mem_used_total, 0);
	ck_assert_int_eq(zr_device_init(dev, 0), -EINVAL);
	ck_assert_int_eq(zr_device_init(dev, UINT64_MAX), -EINVAL);
	/* disksize is rounded up to a page, like zram's PAGE_ALIGN. */
	ck_assert_int_eq(zr_device_init(dev, 5000), 0);
	ck_assert_uint_eq(zr_device_disksize(dev), 2 * PAGE);
	ck_assert_int_eq(zr_device_init(dev, MIB), -EBUSY);
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_discard_and_seek)
{
	struct zr_device *dev = make_device(4 * MIB, ZR_COMP_LZ4);
	unsigned char buf[8 * PAGE], out[8 * PAGE];
	struct zr_mm_stat mm;
	struct zr_io_stat io;

	fill_text(buf, sizeof(buf), 11);
	ck_assert_int_eq(zr_device_write(dev, buf, sizeof(buf), MIB),
			 sizeof(buf));
	ck_assert_int_eq(zr_device_seek(dev, 0, SEEK_DATA), MIB);
	ck_assert_int_eq(zr_device_seek(dev, MIB + 10, SEEK_DATA), MIB + 10);
	ck_assert_int_eq(zr_device_seek(dev, MIB, SEEK_HOLE),
			 MIB + sizeof(buf));
	ck_assert_int_eq(zr_device_seek(dev, 3 * MIB, SEEK_DATA), -ENXIO);
	ck_assert_int_eq(zr_device_seek(dev, 3 * MIB, SEEK_HOLE), 3 * MIB);
	ck_assert_int_eq(zr_device_seek(dev, 4 * MIB, SEEK_HOLE), -ENXIO);

	/* Punch pages 2..3 fully and half of page 5. */
	ck_assert_int_eq(zr_device_discard(dev, MIB + 2 * PAGE, 2 * PAGE), 0);
	ck_assert_int_eq(zr_device_discard(dev, MIB + 5 * PAGE + 100, 1000),
			 0);
	zr_device_mm_stat(dev, &mm);
	zr_device_io_stat(dev, &io);
	ck_assert_uint_eq(mm.orig_data_size, 6 * PAGE);
	ck_assert_uint_eq(io.notify_free, 2);
	/* As zram's discard, whole pages that held nothing count too. */
	ck_assert_int_eq(zr_device_discard(dev, 3 * MIB, 2 * PAGE), 0);
	zr_device_io_stat(dev, &io);
	ck_assert_uint_eq(io.notify_free, 4);
	memset(buf + 2 * PAGE, 0, 2 * PAGE);
	memset(buf + 5 * PAGE + 100, 0, 1000);
	ck_assert_int_eq(zr_device_read(dev, out, sizeof(out), MIB),
			 sizeof(out));
	ck_assert_mem_eq(buf, out, sizeof(buf));
	ck_assert_int_eq(zr_device_seek(dev, MIB, SEEK_HOLE), MIB + 2 * PAGE);
	ck_assert_int_eq(zr_device_seek(dev, MIB + 2 * PAGE, SEEK_DATA),
			 MIB + 4 * PAGE);

	/* A partial discard that leaves only zeros frees the page. */
	memset(buf, 0, PAGE);
	buf[10] = 1;
	ck_assert_int_eq(zr_device_write(dev, buf, PAGE, 0), PAGE);
	ck_assert_int_eq(zr_device_discard(dev, 10, 1), 0);
	ck_assert_int_eq(zr_device_seek(dev, 0, SEEK_DATA), MIB);
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_mem_limit)
{
	struct zr_device *dev = make_device(64 * MIB, ZR_COMP_LZ4);
	unsigned char page[PAGE], out[PAGE];
	struct zr_mm_stat mm;
	struct zr_io_stat io;
	uint64_t i, written = 0;
	ssize_t ret = 0;

	zr_device_set_mem_limit(dev, 1 * MIB);
	for (i = 0; i < 16 * MIB / PAGE; i++) {
		fill_random(page, PAGE, i);
		ret = zr_device_write(dev, page, PAGE, i * PAGE);
		if (ret != PAGE)
			break;
		written++;
	}
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_uint_gt(written, 0);
	zr_device_io_stat(dev, &io);
	ck_assert_uint_eq(io.failed_writes, 1);
	zr_device_mm_stat(dev, &mm);
	/* The limit bounds the arena; its handle table may add a little. */
	ck_assert_uint_le(mm.mem_used_total, 1 * MIB + 1 * MIB / 100);
	ck_assert_uint_eq(mm.mem_limit, 1 * MIB);
	/* The peak saw the refused allocation, as zram's does. */
	ck_assert_uint_ge(mm.mem_used_max, mm.mem_used_total);
	ck_assert_uint_gt(mm.mem_used_max, 1 * MIB);
	/* Everything stored before the refusal is intact. */
	for (i = 0; i < written; i++) {
		fill_random(page, PAGE, i);
		ck_assert_int_eq(zr_device_read(dev, out, PAGE, i * PAGE),
				 PAGE);
		ck_assert_mem_eq(page, out, PAGE);
	}
	/* The refused page still reads as zeros. */
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, written * PAGE), PAGE);
	ck_assert(is_zero(out, PAGE));
	/* A hole punched at the limit succeeds, partial edges included
	 * (their zeroed copy may pass the limit for a moment): a discard
	 * must not fail, as zram's never does. */
	ck_assert_int_eq(zr_device_discard(dev, 2048, 2 * PAGE), 0);
	zr_device_io_stat(dev, &io);
	ck_assert_uint_eq(io.failed_writes, 1);
	fill_random(page, PAGE, 0);
	memset(page + 2048, 0, PAGE - 2048);
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, 0), PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	fill_random(page, PAGE, 2);
	memset(page, 0, 2048);
	ck_assert_int_eq(zr_device_read(dev, out, PAGE, 2 * PAGE), PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	/* Freeing makes room again. */
	ck_assert_int_eq(zr_device_discard(dev, 0, written * PAGE / 2), 0);
	fill_random(page, PAGE, written);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, written * PAGE),
			 PAGE);
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_reset_and_defaults)
{
	struct zr_device *dev = make_device(1 * MIB, ZR_COMP_ZSTD);
	unsigned char page[PAGE];
	struct zr_mm_stat mm;

	fill_text(page, PAGE, 1);
	ck_assert_int_eq(zr_device_set_algorithm(dev, ZR_COMP_LZ4), -EBUSY);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 0), PAGE);
	zr_device_set_mem_limit(dev, 5000);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.mem_limit, 2 * PAGE);
	zr_device_open(dev);
	ck_assert_int_eq(zr_device_reset(dev), -EBUSY);
	ck_assert_int_eq(zr_device_initialised(dev), 1);
	zr_device_release(dev);
	ck_assert_int_eq(zr_device_reset(dev), 0);
	ck_assert_int_eq(zr_device_initialised(dev), 0);
	ck_assert_int_eq(zr_device_algorithm(dev), ZR_COMP_LZ4);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(mm.mem_limit, 0);
	ck_assert_uint_eq(mm.orig_data_size, 0);
	/* Re-initialised, the old data is gone. */
	ck_assert_int_eq(zr_device_init(dev, MIB), 0);
	ck_assert_int_eq(zr_device_read(dev, page, PAGE, 0), PAGE);
	ck_assert(is_zero(page, PAGE));
	zr_device_destroy(dev);
}
END_TEST

START_TEST(test_idle_marking)
{
	struct zr_device *dev = make_device(1 * MIB, ZR_COMP_LZ4);
	unsigned char page[PAGE];
	int i;

	for (i = 0; i < 10; i++) {
		fill_text(page, PAGE, i);
		ck_assert_int_eq(zr_device_write(dev, page, PAGE, i * PAGE),
				 PAGE);
	}
	memset(page, 0, PAGE);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 10 * PAGE), PAGE);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 0);
	/* Pages just written are not 1000 s old. */
	ck_assert_int_eq(zr_device_mark_idle(dev, 1000), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 0);
	/* "all" marks every stored page except same-filled ones. */
	ck_assert_int_eq(zr_device_mark_idle(dev, ZR_IDLE_ALL), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 10);
	/* An access clears the mark. */
	ck_assert_int_eq(zr_device_read(dev, page, 10, 3 * PAGE + 5), 10);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 9);
	/* As zram: an age the pages have not reached clears older marks,
	 * as does an age beyond the device's own. */
	ck_assert_int_eq(zr_device_mark_idle(dev, 1000), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 0);
	ck_assert_int_eq(zr_device_mark_idle(dev, ZR_IDLE_ALL), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 10);
	ck_assert_int_eq(zr_device_mark_idle(dev, UINT32_MAX), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 0);
	zr_device_destroy(dev);
}
END_TEST

static int ctl(struct zr_host *host, const char *attr, const char *value)
{
	return zr_ctl_store(host, 0, 0, zr_ctl_attr_find(attr, strlen(attr)),
			    value, strlen(value));
}

static const char *show(struct zr_host *host, const char *attr)
{
	static char buf[ZR_CTL_BUF_SIZE];
	int ret = zr_ctl_show(host, 0, 0, zr_ctl_attr_find(attr, strlen(attr)),
			      buf, sizeof(buf));

	ck_assert_int_ge(ret, 0);
	return buf;
}

START_TEST(test_control_attributes)
{
	struct zr_host *host = zr_host_create();
	char buf[64];

	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "0\n");
	ck_assert_str_eq(show(host, "initstate"), "0\n");
	ck_assert_str_eq(show(host, "comp_algorithm"), "[lz4] lz4hc zstd \n");
	ck_assert_int_eq(ctl(host, "comp_algorithm", "lzo\n"), -EINVAL);
	ck_assert_int_eq(ctl(host, "comp_algorithm", "zstd\n"), 0);
	ck_assert_str_eq(show(host, "comp_algorithm"), "lz4 lz4hc [zstd] \n");
	ck_assert_int_eq(ctl(host, "disksize", "abc"), -EINVAL);
	ck_assert_int_eq(ctl(host, "disksize", "0"), -EINVAL);
	ck_assert_int_eq(ctl(host, "algorithm_params", "level=9"), 0);
	ck_assert_int_eq(ctl(host, "algorithm_params", "bogus=1"), -EINVAL);
	ck_assert_int_eq(ctl(host, "disksize", "64M\n"), 0);
	ck_assert_str_eq(show(host, "disksize"), "67108864\n");
	ck_assert_str_eq(show(host, "initstate"), "1\n");
	ck_assert_int_eq(ctl(host, "disksize", "1G"), -EBUSY);
	ck_assert_int_eq(ctl(host, "comp_algorithm", "lz4"), -EBUSY);
	ck_assert_int_eq(ctl(host, "algorithm_params", "level=1"), -EBUSY);
	ck_assert_str_eq(show(host, "disksize"), "67108864\n");
	ck_assert_int_eq(ctl(host, "mem_limit", "1M"), 0);
	ck_assert_int_eq(ctl(host, "mem_used_max", "5"), -EINVAL);
	ck_assert_int_eq(ctl(host, "mem_used_max", "0"), 0);
	ck_assert_int_eq(ctl(host, "idle", "all"), 0);
	ck_assert_int_eq(ctl(host, "idle", "abc"), -EINVAL);
	ck_assert_int_eq(ctl(host, "compact", "1"), 0);
	ck_assert_int_eq(ctl(host, "writeback", "idle"), -ENODEV);
	/* zram checks for a backing device before parsing. */
	ck_assert_int_eq(ctl(host, "writeback", "bogus"), -ENODEV);
	ck_assert_int_eq(ctl(host, "backing_dev", "/nonexistent/zramfs"),
			 -ENOENT);
	ck_assert_str_eq(show(host, "backing_dev"), "none\n");
	ck_assert_int_eq(ctl(host, "writeback_limit", "100"), 0);
	ck_assert_str_eq(show(host, "writeback_limit"), "100\n");
	ck_assert_int_eq(ctl(host, "writeback_limit_enable", "1"), 0);
	ck_assert_str_eq(show(host, "writeback_limit_enable"), "1\n");
	ck_assert_int_eq(ctl(host, "recomp_algorithm", "algo=bogus"), -EINVAL);
	ck_assert_int_eq(ctl(host, "recompress", "type=idle"), -EINVAL);
	ck_assert_str_eq(show(host, "mm_stat"),
			 "       0        0        0  1048576        0        0"
			 "        0        0        0\n");
	ck_assert_str_eq(show(host, "io_stat"),
			 "       0        0 0        0\n");
	ck_assert_str_eq(show(host, "debug_stat"), "version: 1\n0        0\n");
	ck_assert_int_eq(ctl(host, "reset", "0"), -EINVAL);
	ck_assert_int_eq(ctl(host, "reset", "1"), 0);
	ck_assert_str_eq(show(host, "initstate"), "0\n");
	ck_assert_str_eq(show(host, "comp_algorithm"), "[lz4] lz4hc zstd \n");
	ck_assert_str_eq(show(host, "writeback_limit_enable"), "0\n");
	ck_assert_int_eq(zr_ctl_show(host, 0, 0, zr_ctl_attr_find("reset", 5),
				     buf, sizeof(buf)), -EACCES);

	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "1\n");
	ck_assert_int_eq(zr_ctl_hot_remove(host, "-1", 2), -EINVAL);
	ck_assert_int_eq(zr_ctl_hot_remove(host, "7", 1), -ENODEV);
	ck_assert_int_eq(zr_ctl_hot_remove(host, "x", 1), -EINVAL);
	zr_device_open(zr_host_get(host, 1));
	ck_assert_int_eq(zr_ctl_hot_remove(host, "1\n", 2), -EBUSY);
	zr_device_release(zr_host_get(host, 1));
	ck_assert_int_eq(zr_ctl_hot_remove(host, "1\n", 2), 0);
	ck_assert_ptr_null(zr_host_get(host, 1));
	zr_host_destroy(host);
}
END_TEST

/* ---- I/O racing with reset and re-initialisation ---- */

#define RACE_PAGES 64

struct race {
	struct zr_device *dev;
	int stop;
	int thread;		/* each worker owns pages thread, thread+4.. */
	unsigned long resets;
	unsigned long bad;
};

/* Worker: writes a page tagged with (thread, counter), reads it back. A
 * read must return the last value this thread wrote or zeros (the device
 * was reset in between), never anything else. */
static void *race_worker(void *opaque)
{
	struct race *r = opaque;
	unsigned char page[PAGE], out[PAGE];
	uint64_t n = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint64_t index = (r->thread + 4 * (n % (RACE_PAGES / 4)));

		fill_text(page, PAGE, n * 16 + r->thread);
		memcpy(page, &n, sizeof(n));
		if (zr_device_write(r->dev, page, PAGE, index * PAGE) != PAGE) {
			n++;
			continue;	/* between reset and init */
		}
		if (zr_device_read(r->dev, out, PAGE, index * PAGE) == PAGE &&
		    memcmp(out, page, PAGE) && !is_zero(out, PAGE))
			__atomic_fetch_add(&r->bad, 1, __ATOMIC_RELAXED);
		n++;
	}
	return NULL;
}

START_TEST(test_io_races_reset)
{
	struct zr_device *dev = make_device(RACE_PAGES * PAGE, ZR_COMP_LZ4);
	struct race r[4];
	pthread_t threads[4];
	unsigned long bad = 0;
	int i, resets;

	for (i = 0; i < 4; i++) {
		r[i] = (struct race){ .dev = dev, .thread = i };
		pthread_create(&threads[i], NULL, race_worker, &r[i]);
	}
	for (resets = 0; resets < 2000; resets++) {
		ck_assert_int_eq(zr_device_reset(dev), 0);
		ck_assert_int_eq(zr_device_set_algorithm(dev, resets % 3), 0);
		ck_assert_int_eq(zr_device_init(dev, RACE_PAGES * PAGE), 0);
	}
	for (i = 0; i < 4; i++) {
		__atomic_store_n(&r[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(threads[i], NULL);
		bad += r[i].bad;
	}
	ck_assert_uint_eq(bad, 0);
	zr_device_destroy(dev);
}
END_TEST

/* A failed initialisation leaves the device as it was: uninitialised,
 * with its settings, ready for a size that fits. */
START_TEST(test_init_failures)
{
	struct zr_host *host = zr_host_create();
	char dict_path[] = "/tmp/zramfs-dict-XXXXXX";
	/* zstd's dictionary magic, then nothing zstd can load. */
	static const unsigned char bad_dict[16] = { 0x37, 0xa4, 0x30, 0xec, 1 };
	char buf[64], req[64];
	int fd;

	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	/* 2^51 pages: a slot-chunk table of 32 TiB, more than any address
	 * space; calloc fails and nothing is held. */
	ck_assert_int_eq(ctl(host, "disksize", "8E"), -ENOMEM);
	/* Above 256 x RAM the full slot table could never fit (zram's
	 * table allocation fails there): refused up front. */
	if ((uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) <
	    (1ULL << 50) / 256)
		ck_assert_int_eq(ctl(host, "disksize", "1P"), -ENOMEM);
	ck_assert_str_eq(show(host, "initstate"), "0\n");
	ck_assert_str_eq(show(host, "disksize"), "0\n");

	/* Parameters are checked against the algorithm of their time: lz4
	 * takes any content, zstd then refuses it at initialisation. */
	fd = mkstemp(dict_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bad_dict, sizeof(bad_dict)),
			 sizeof(bad_dict));
	close(fd);
	snprintf(req, sizeof(req), "dict=%s", dict_path);
	ck_assert_int_eq(ctl(host, "algorithm_params", req), 0);
	ck_assert_int_eq(ctl(host, "comp_algorithm", "zstd"), 0);
	ck_assert_int_eq(ctl(host, "disksize", "1M"), -EINVAL);
	ck_assert_str_eq(show(host, "initstate"), "0\n");
	ck_assert_str_eq(show(host, "comp_algorithm"), "lz4 lz4hc [zstd] \n");
	ck_assert_int_eq(ctl(host, "algorithm_params", "level=3"), 0);
	ck_assert_int_eq(ctl(host, "disksize", "1M"), 0);
	ck_assert_str_eq(show(host, "initstate"), "1\n");
	unlink(dict_path);
	zr_host_destroy(host);
}
END_TEST

/* A control file opened before a hot_remove never reaches the device that
 * a later hot_add gives the same number. */
START_TEST(test_control_file_outlives_device)
{
	int disksize = zr_ctl_attr_find("disksize", 8);
	struct zr_host *host = zr_host_create();
	uint64_t old_serial, new_serial;
	char buf[64];

	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "1\n");
	ck_assert_int_eq(zr_ctl_open(host, 1, &old_serial), 0);
	ck_assert_int_eq(zr_ctl_store(host, 1, old_serial, disksize, "1M", 2),
			 0);
	ck_assert_int_eq(zr_ctl_hot_remove(host, "1", 1), 0);
	ck_assert_int_eq(zr_ctl_open(host, 1, &new_serial), -ENODEV);
	ck_assert_int_eq(zr_ctl_store(host, 1, old_serial, disksize, "1M", 2),
			 -ENODEV);

	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "1\n");
	ck_assert_int_eq(zr_ctl_open(host, 1, &new_serial), 0);
	ck_assert_uint_ne(new_serial, old_serial);
	ck_assert_int_eq(zr_ctl_store(host, 1, old_serial, disksize, "2M", 2),
			 -ENODEV);
	ck_assert_int_eq(zr_ctl_show(host, 1, old_serial, disksize, buf,
				     sizeof(buf)), -ENODEV);
	ck_assert_int_eq(zr_ctl_show(host, 1, new_serial, disksize, buf,
				     sizeof(buf)), 2);
	ck_assert_str_eq(buf, "0\n");
	ck_assert_int_eq(zr_ctl_store(host, 1, new_serial, disksize, "2M", 2),
			 0);
	zr_host_destroy(host);
}
END_TEST

/* A stopping mount refuses new opens; the open files stay counted. */
START_TEST(test_refused_opens)
{
	struct zr_host *host = zr_host_create();
	struct zr_device *dev = NULL, *again = NULL;
	char buf[64];

	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
	zr_host_lock(host);
	ck_assert_int_eq(zr_host_open(host, 5, &dev), -ENOENT);
	ck_assert_int_eq(zr_host_open(host, 0, &dev), 0);
	ck_assert_uint_eq(zr_host_refuse_opens(host), 1);
	ck_assert_int_eq(zr_host_open(host, 0, &again), -ENODEV);
	ck_assert_ptr_null(again);
	zr_device_release(dev);
	ck_assert_uint_eq(zr_host_refuse_opens(host), 0);
	zr_host_unlock(host);
	zr_host_destroy(host);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("pages");

	tcase_add_loop_test(tc, test_roundtrip_each_algorithm, 0,
			    ZR_COMP_COUNT);
	tcase_add_test(tc, test_same_filled_pages);
	tcase_add_test(tc, test_same_filled_unaligned_buffer);
	tcase_add_loop_test(tc, test_incompressible_pages_stored_raw, 0,
			    ZR_COMP_COUNT);
	tcase_add_test(tc, test_unaligned_io);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_uninitialised_device);
	tcase_add_test(tc, test_discard_and_seek);
	tcase_add_test(tc, test_mem_limit);
	tcase_add_test(tc, test_reset_and_defaults);
	tcase_add_test(tc, test_idle_marking);
	suite_add_tcase(s, tc);

	tc = tcase_create("control");
	tcase_add_test(tc, test_control_attributes);
	tcase_add_test(tc, test_init_failures);
	tcase_add_test(tc, test_control_file_outlives_device);
	tcase_add_test(tc, test_refused_opens);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_io_races_reset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(core_suite());
}
