// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of writeback with a backing file: attaching, idle marking,
 * each mode, the limit, a full store, block reuse, compressed (packed)
 * writeback, and writeback racing with writers.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zr_common.h"
#include "zr_device.h"
#include "zr_path.h"

#include "check_helpers.h"

#define PAGE ZR_PAGE_SIZE
#define NPAGES 256

static char backing_path[64];

/* Page n's content: text-like (compresses ~3x) or, if raw, random. */
static void page_fill(unsigned char *page, uint64_t n, int raw)
{
	static const char *const words[] = {
		"writeback ", "backing ", "idle ", "page ", "zram ", "slot ",
	};
	size_t pos = 0, i;

	rng_state = n * 0x9e3779b97f4a7c15ULL + 1;
	if (raw) {
		for (i = 0; i < PAGE; i++)
			page[i] = (unsigned char)(rng() >> 29);
		return;
	}
	while (pos < PAGE) {
		const char *w = words[rng() % 6];
		size_t len = strlen(w);

		if (len > PAGE - pos)
			len = PAGE - pos;
		memcpy(page + pos, w, len);
		pos += len;
	}
	memcpy(page, &n, sizeof(n));
}

/* A fresh backing file of blocks 4 KiB blocks. */
static const char *make_backing(uint64_t blocks)
{
	int fd;

	snprintf(backing_path, sizeof(backing_path),
		 "/tmp/zramfs-wb-XXXXXX");
	fd = mkstemp(backing_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, blocks * PAGE), 0);
	close(fd);
	return backing_path;
}

static void drop_backing(void)
{
	unlink(backing_path);
}

/* A device with NPAGES pages: even pages text, every 8th page raw. */
static struct zr_device *filled_device(enum zr_comp_id comp)
{
	struct zr_device *dev = zr_device_create(0);
	unsigned char page[PAGE];
	uint64_t i;

	ck_assert_int_eq(zr_device_set_algorithm(dev, comp), 0);
	ck_assert_int_eq(zr_device_init(dev, NPAGES * PAGE), 0);
	for (i = 0; i < NPAGES; i++) {
		page_fill(page, i, i % 8 == 7);
		ck_assert_int_eq(zr_device_write(dev, page, PAGE, i * PAGE),
				 PAGE);
	}
	return dev;
}

static void verify_all(struct zr_device *dev)
{
	unsigned char page[PAGE], out[PAGE];
	uint64_t i;

	for (i = 0; i < NPAGES; i++) {
		page_fill(page, i, i % 8 == 7);
		ck_assert_int_eq(zr_device_read(dev, out, PAGE, i * PAGE),
				 PAGE);
		ck_assert_mem_eq(out, page, PAGE);
	}
}

static int writeback(struct zr_device *dev, enum zr_pp_mode mode,
		     uint64_t lo, uint64_t hi, int whole)
{
	struct zr_wb_request req = {
		.mode = mode, .lo = lo, .hi = hi, .whole_device = whole,
	};

	return zr_device_writeback(dev, &req, 1);
}

START_TEST(test_attach_errors)
{
	struct zr_device *dev = zr_device_create(0);
	char buf[128];
	int fd;

	ck_assert_int_eq(zr_device_attach_backing(dev, "/nonexistent/x"),
			 -ENOENT);
	ck_assert_int_eq(zr_device_attach_backing(dev, "/tmp"), -EISDIR);
	make_backing(0);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path),
			 -EINVAL);
	drop_backing();
	ck_assert_int_eq(zr_device_backing_show(dev, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "none\n");
	/* Before init, as zram allows. */
	make_backing(64);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path),
			 -EEXIST);
	zr_device_backing_show(dev, buf, sizeof(buf));
	ck_assert_int_eq(strncmp(buf, backing_path, strlen(backing_path)), 0);
	ck_assert_str_eq(buf + strlen(backing_path), "\n");
	/* A second device cannot take the same file: it is locked. */
	{
		struct zr_device *other = zr_device_create(1);

		ck_assert_int_eq(zr_device_attach_backing(other, backing_path),
				 -EBUSY);
		zr_device_destroy(other);
	}
	/* reset detaches. */
	ck_assert_int_eq(zr_device_reset(dev), 0);
	zr_device_backing_show(dev, buf, sizeof(buf));
	ck_assert_str_eq(buf, "none\n");
	fd = open(backing_path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	close(fd);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

/*
 * Paths are walked without looking anything up on the daemon's own mount
 * (zr_path.h). Links are followed, relative and absolute; a FIFO is
 * refused without being opened (the open would block); a walk that
 * reaches the forbidden device stops there. The directory of the test
 * stands in for the mount: its device is forbidden at the end.
 */
START_TEST(test_backing_paths)
{
	char dir[] = "/tmp/zramfs-paths-XXXXXX";
	char path[256], link_path[256], fifo[256], loop[256];
	struct zr_device *dev = zr_device_create(0);
	struct statx stx;
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store", dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * PAGE), 0);
	close(fd);

	/* dir/rel -> store, dir/abs -> dir/sub/../rel (through a link
	 * chain, a "..", doubled slashes) */
	snprintf(link_path, sizeof(link_path), "%s/sub", dir);
	ck_assert_int_eq(mkdir(link_path, 0700), 0);
	snprintf(link_path, sizeof(link_path), "%s/rel", dir);
	ck_assert_int_eq(symlink("store", link_path), 0);
	snprintf(path, sizeof(path), "%s//sub/../rel", dir);
	snprintf(link_path, sizeof(link_path), "%s/abs", dir);
	ck_assert_int_eq(symlink(path, link_path), 0);
	fd = zr_path_resolve(link_path, &stx);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/store", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(stx.stx_mode));
	ck_assert_uint_eq(stx.stx_ino, st.st_ino);
	ck_assert_uint_eq(stx.stx_size, 64 * PAGE);
	ck_assert_int_eq(zr_device_attach_backing(dev, link_path), 0);
	ck_assert_int_eq(zr_device_reset(dev), 0);

	/* A path through a regular file, and a link loop. */
	snprintf(path, sizeof(path), "%s/store/x", dir);
	ck_assert_int_eq(zr_device_attach_backing(dev, path), -ENOTDIR);
	snprintf(loop, sizeof(loop), "%s/loop", dir);
	ck_assert_int_eq(symlink("loop", loop), 0);
	ck_assert_int_eq(zr_device_attach_backing(dev, loop), -ELOOP);

	/* A FIFO nobody writes to: refused at once. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(zr_device_attach_backing(dev, fifo), -EINVAL);

	/* The forbidden device: refused, through the link as well. */
	zr_path_forbid_dev(major(st.st_dev), minor(st.st_dev));
	snprintf(path, sizeof(path), "%s/store", dir);
	ck_assert_int_eq(zr_path_resolve(path, &stx), -EINVAL);
	ck_assert_int_eq(zr_device_attach_backing(dev, link_path), -EINVAL);
	zr_path_forbid_dev(0, 0);	/* no file system has device 0:0 */
	ck_assert_int_eq(zr_device_attach_backing(dev, path), 0);

	zr_device_destroy(dev);
	unlink(fifo);
	unlink(loop);
	unlink(link_path);
	snprintf(path, sizeof(path), "%s/rel", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_writeback_errors)
{
	struct zr_device *dev = zr_device_create(0);

	ck_assert_int_eq(writeback(dev, ZR_PP_IDLE, 0, 0, 1), -EINVAL);
	ck_assert_int_eq(zr_device_init(dev, NPAGES * PAGE), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_IDLE, 0, 0, 1), -ENODEV);
	make_backing(16);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, NPAGES, NPAGES, 0),
			 -ERANGE);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 3, 2, 0), -ERANGE);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0), 0);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

START_TEST(test_idle_writeback_after_init)
{
	struct zr_device *dev = filled_device(ZR_COMP_LZ4);
	struct zr_mm_stat before, after;
	struct zr_bd_stat bd;
	unsigned char page[PAGE];

	zr_device_mm_stat(dev, &before);
	/* Attached after init and after data is stored. */
	make_backing(NPAGES);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	ck_assert_int_eq(zr_device_mark_idle(dev, ZR_IDLE_ALL), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), NPAGES);
	/* Touch two pages: no longer idle, so they stay in memory. */
	ck_assert_int_eq(zr_device_read(dev, page, 10, 5 * PAGE), 10);
	ck_assert_int_eq(zr_device_read(dev, page, 10, 6 * PAGE), 10);
	ck_assert_int_eq(writeback(dev, ZR_PP_IDLE, 0, 0, 1), 0);
	zr_device_mm_stat(dev, &after);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, NPAGES - 2);
	ck_assert_uint_eq(bd.bd_writes, NPAGES - 2);
	ck_assert_uint_eq(after.orig_data_size, before.orig_data_size);
	ck_assert_uint_lt(after.compr_data_size, before.compr_data_size / 20);
	ck_assert_uint_lt(after.mem_used_total, before.mem_used_total / 4);
	ck_assert_uint_eq(after.huge_pages, 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 0);
	verify_all(dev);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_reads, NPAGES - 2);
	/* Idle marking skips written-back pages; writeback again: none. */
	ck_assert_int_eq(zr_device_mark_idle(dev, ZR_IDLE_ALL), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev), 2);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

START_TEST(test_huge_and_index_modes)
{
	struct zr_device *dev = filled_device(ZR_COMP_ZSTD);
	struct zr_bd_stat bd;
	struct zr_mm_stat mm;

	make_backing(NPAGES);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	/* huge_idle: nothing is idle yet. */
	ck_assert_int_eq(writeback(dev, ZR_PP_HUGE_IDLE, 0, 0, 1), 0);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_HUGE, 0, 0, 1), 0);
	zr_device_bd_stat(dev, &bd);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(bd.bd_count, NPAGES / 8);
	ck_assert_uint_eq(mm.huge_pages, 0);
	ck_assert_uint_eq(mm.huge_pages_since, NPAGES / 8);
	/* incompressible: only pages recompression flagged; none here. */
	ck_assert_int_eq(writeback(dev, ZR_PP_INCOMPRESSIBLE, 0, 0, 1), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, 0, 0), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 16, 19, 0), 0);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, NPAGES / 8 + 1 + 4);
	verify_all(dev);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

START_TEST(test_limit)
{
	struct zr_device *dev = filled_device(ZR_COMP_LZ4);
	struct zr_bd_stat bd;

	make_backing(NPAGES);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	zr_device_set_wb_limit(dev, 3);
	zr_device_set_wb_limit_enable(dev, 1);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0), -EIO);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 3);
	ck_assert_uint_eq(zr_device_wb_limit(dev), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0), -EIO);
	/* Disabled, the limit no longer applies. */
	zr_device_set_wb_limit_enable(dev, 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0), 0);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, NPAGES);
	verify_all(dev);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

START_TEST(test_store_full_keeps_pages)
{
	struct zr_device *dev = filled_device(ZR_COMP_LZ4);
	struct zr_bd_stat bd;
	struct zr_mm_stat mm;

	make_backing(10);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0),
			 -ENOSPC);
	zr_device_bd_stat(dev, &bd);
	zr_device_mm_stat(dev, &mm);
	ck_assert_uint_eq(bd.bd_count, 10);
	ck_assert_uint_eq(mm.orig_data_size, (uint64_t)NPAGES * PAGE);
	verify_all(dev);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

START_TEST(test_block_reuse)
{
	struct zr_device *dev = filled_device(ZR_COMP_LZ4);
	unsigned char page[PAGE], out[PAGE];
	struct zr_bd_stat bd;
	struct zr_io_stat io;

	make_backing(4);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, 3, 0), 0);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 4);
	/* Overwrite page 0 and discard page 1: their blocks are free. */
	page_fill(page, 1000, 0);
	ck_assert_int_eq(zr_device_write(dev, page, PAGE, 0), PAGE);
	ck_assert_int_eq(zr_device_discard(dev, PAGE, PAGE), 0);
	zr_device_io_stat(dev, &io);
	ck_assert_uint_eq(io.notify_free, 1);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 2);
	/* A partial write into a written-back page is a read-modify-write. */
	memset(page, 0x5a, 100);
	ck_assert_int_eq(zr_device_write(dev, page, 100, 2 * PAGE + 50),
			 100);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 1);
	page_fill(out, 2, 0);
	memset(out + 50, 0x5a, 100);
	ck_assert_int_eq(zr_device_read(dev, page, PAGE, 2 * PAGE), PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	/* The freed blocks take new pages. */
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 4, 6, 0), 0);
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 4);
	ck_assert_int_eq(zr_device_read(dev, page, PAGE, PAGE), PAGE);
	memset(out, 0, PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	page_fill(out, 1000, 0);
	ck_assert_int_eq(zr_device_read(dev, page, PAGE, 0), PAGE);
	ck_assert_mem_eq(page, out, PAGE);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

START_TEST(test_compressed_writeback)
{
	struct zr_device *dev = filled_device(_i ? ZR_COMP_ZSTD : ZR_COMP_LZ4);
	unsigned char page[PAGE];
	struct zr_bd_stat bd;
	uint64_t i;

	make_backing(NPAGES);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	zr_device_set_compressed_writeback(dev, 1);
	ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0), 0);
	zr_device_bd_stat(dev, &bd);
	/* Raw pages take a block each; text pages pack several per block. */
	ck_assert_uint_gt(bd.bd_count, NPAGES / 8);
	ck_assert_uint_lt(bd.bd_count, NPAGES * 3 / 4);
	ck_assert_uint_eq(bd.bd_writes, bd.bd_count);
	verify_all(dev);
	/* Rewrite every page of the store: all blocks come back. */
	for (i = 0; i < NPAGES; i++) {
		page_fill(page, i, i % 8 == 7);
		ck_assert_int_eq(zr_device_write(dev, page, PAGE, i * PAGE),
				 PAGE);
	}
	zr_device_bd_stat(dev, &bd);
	ck_assert_uint_eq(bd.bd_count, 0);
	verify_all(dev);
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

struct race {
	struct zr_device *dev;
	int stop;
	int thread;
	uint64_t version[NPAGES];	/* last version written per page */
};

/* Each writer owns the pages p with p % 2 == thread and rewrites them;
 * its page content encodes (page, version). */
static void *race_writer(void *opaque)
{
	struct race *r = opaque;
	unsigned char page[PAGE];
	uint64_t n = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint64_t p = (n * 2 + r->thread) % NPAGES;

		page_fill(page, p * 100000 + n, 0);
		if (zr_device_write(r->dev, page, PAGE, p * PAGE) == PAGE)
			r->version[p] = p * 100000 + n;
		n++;
	}
	return NULL;
}

START_TEST(test_writeback_races_writers)
{
	struct zr_device *dev = filled_device(ZR_COMP_LZ4);
	struct race r[2];
	pthread_t threads[2];
	unsigned char page[PAGE], out[PAGE];
	int i, rounds;
	uint64_t p;

	make_backing(NPAGES * 2);
	ck_assert_int_eq(zr_device_attach_backing(dev, backing_path), 0);
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].dev = dev;
		r[i].thread = i;
		for (p = 0; p < NPAGES; p++)
			r[i].version[p] = p;
		pthread_create(&threads[i], NULL, race_writer, &r[i]);
	}
	for (rounds = 0; rounds < 200; rounds++) {
		zr_device_set_compressed_writeback(dev, rounds % 2);
		ck_assert_int_eq(writeback(dev, ZR_PP_ALL, 0, NPAGES - 1, 0),
				 0);
	}
	for (i = 0; i < 2; i++) {
		__atomic_store_n(&r[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(threads[i], NULL);
	}
	for (p = 0; p < NPAGES; p++) {
		uint64_t v = r[p % 2].version[p];

		page_fill(page, v, v == p && p % 8 == 7);
		ck_assert_int_eq(zr_device_read(dev, out, PAGE, p * PAGE),
				 PAGE);
		ck_assert_mem_eq(out, page, PAGE);
	}
	zr_device_destroy(dev);
	drop_backing();
}
END_TEST

static Suite *writeback_suite(void)
{
	Suite *s = suite_create("writeback");
	TCase *tc = tcase_create("writeback");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_attach_errors);
	tcase_add_test(tc, test_backing_paths);
	tcase_add_test(tc, test_writeback_errors);
	tcase_add_test(tc, test_idle_writeback_after_init);
	tcase_add_test(tc, test_huge_and_index_modes);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_store_full_keeps_pages);
	tcase_add_test(tc, test_block_reuse);
	tcase_add_loop_test(tc, test_compressed_writeback, 0, 2);
	tcase_add_test(tc, test_writeback_races_writers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(writeback_suite());
}
