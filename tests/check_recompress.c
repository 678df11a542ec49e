// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of recompression and algorithm parameters: mixed-algorithm
 * slots, threshold and max_pages, incompressible pages, levels and
 * dictionaries, and the control files' errors.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zr_common.h"
#include "zr_control.h"
#include "zr_device.h"
#include "zr_host.h"

#include "check_helpers.h"

#define PAGE ZR_PAGE_SIZE
#define NPAGES 256

static const char *const vocabulary[] = {
	"struct page *page = alloc_page(GFP_KERNEL);\n",
	"\tif (!page)\n\t\treturn -ENOMEM;\n",
	"static int zram_read_page(struct zram *zram, u32 index)\n",
	"\tmutex_lock(&zram->init_lock);\n",
	"unsigned long flags;\n",
	"/* the compressed object of this slot */\n",
	"\treturn ret;\n}\n\n",
	"for (i = 0; i < nr_pages; i++) {\n",
};

/* Source-like text: lz4 compresses it 2-3x, zstd noticeably better. */
static void page_fill(unsigned char *page, uint64_t n, int raw)
{
	size_t pos = 0, i;

	rng_state = n * 0x9e3779b97f4a7c15ULL + 3;
	if (raw) {
		for (i = 0; i < PAGE; i++)
			page[i] = (unsigned char)(rng() >> 31);
		return;
	}
	while (pos < PAGE) {
		const char *w = vocabulary[rng() % 8];
		size_t len = strlen(w);

		if (len > PAGE - pos)
			len = PAGE - pos;
		memcpy(page + pos, w, len);
		pos += len;
		if (pos < PAGE && rng() % 3 == 0)
			page[pos++] = (unsigned char)('a' + rng() % 26);
	}
}

static struct zr_host *host;

static int ctl(const char *attr, const char *value)
{
	return zr_ctl_store(host, 0, 0, zr_ctl_attr_find(attr, strlen(attr)),
			    value, strlen(value));
}

static const char *show(const char *attr)
{
	static char buf[ZR_CTL_BUF_SIZE];
	int ret = zr_ctl_show(host, 0, 0, zr_ctl_attr_find(attr, strlen(attr)),
			      buf, sizeof(buf));

	ck_assert_int_ge(ret, 0);
	return buf;
}

static struct zr_device *dev0(void)
{
	return zr_host_get(host, 0);
}

static void setup(void)
{
	char buf[16];

	host = zr_host_create();
	ck_assert_int_eq(zr_ctl_hot_add(host, buf, sizeof(buf)), 2);
}

static void teardown(void)
{
	zr_host_destroy(host);
}

static void fill(void)
{
	unsigned char page[PAGE];
	uint64_t i;

	for (i = 0; i < NPAGES; i++) {
		page_fill(page, i, i % 16 == 15);
		ck_assert_int_eq(zr_device_write(dev0(), page, PAGE, i * PAGE),
				 PAGE);
	}
}

static void verify(void)
{
	unsigned char page[PAGE], out[PAGE];
	uint64_t i;

	for (i = 0; i < NPAGES; i++) {
		page_fill(page, i, i % 16 == 15);
		ck_assert_int_eq(zr_device_read(dev0(), out, PAGE, i * PAGE),
				 PAGE);
		ck_assert_mem_eq(out, page, PAGE);
	}
}

static uint64_t compr_size(void)
{
	struct zr_mm_stat mm;

	zr_device_mm_stat(dev0(), &mm);
	return mm.compr_data_size;
}

START_TEST(test_recomp_algorithm_attribute)
{
	ck_assert_str_eq(show("recomp_algorithm"), "");
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd"), 0);
	ck_assert_str_eq(show("recomp_algorithm"), "#1: lz4 lz4hc [zstd] \n");
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=lz4hc priority=2\n"),
			 0);
	ck_assert_str_eq(show("recomp_algorithm"),
			 "#1: lz4 lz4hc [zstd] \n#2: lz4 [lz4hc] zstd \n");
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=bogus"), -EINVAL);
	ck_assert_int_eq(ctl("recomp_algorithm", "priority=1"), -EINVAL);
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd priority=0"),
			 -EINVAL);
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd priority=4"),
			 -EINVAL);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd"), -EBUSY);
	/* reset forgets the secondary algorithms. */
	ck_assert_int_eq(ctl("reset", "1"), 0);
	ck_assert_str_eq(show("recomp_algorithm"), "");
}
END_TEST

START_TEST(test_recompress_errors)
{
	ck_assert_int_eq(ctl("recompress", "type=idle"), -EINVAL);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	/* No secondary algorithm. */
	ck_assert_int_eq(ctl("recompress", "type=idle"), -EINVAL);
	ck_assert_int_eq(ctl("reset", "1"), 0);
	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	ck_assert_int_eq(ctl("recompress", "type=bogus"), -EINVAL);
	ck_assert_int_eq(ctl("recompress", "bogus=1"), -EINVAL);
	ck_assert_int_eq(ctl("recompress", "threshold=4000"), -EINVAL);
	ck_assert_int_eq(ctl("recompress", "threshold=3072"), 0);
	ck_assert_int_eq(ctl("recompress", "max_pages=x"), -EINVAL);
	ck_assert_int_eq(ctl("recompress", "priority=2"), -EINVAL);
	ck_assert_int_eq(ctl("recompress", "algo=lz4hc"), -EINVAL);
	ck_assert_int_eq(ctl("recompress", "algo=zstd"), 0);
	ck_assert_int_eq(ctl("recompress", "type=huge_idle priority=1"), 0);
}
END_TEST

START_TEST(test_recompress_mixed_slots)
{
	uint64_t before, after;
	int64_t replaced;
	struct zr_recomp_request req = {
		.mode = ZR_PP_ALL, .max_pages = UINT64_MAX,
		.prio_min = 1, .prio_max = 4,
	};

	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	before = compr_size();
	/* Only half the pages: the device then holds both kinds. */
	req.max_pages = NPAGES / 2;
	replaced = zr_device_recompress(dev0(), &req);
	ck_assert_int_gt(replaced, NPAGES / 4);
	ck_assert_int_le(replaced, NPAGES / 2);
	after = compr_size();
	ck_assert_uint_lt(after, before);
	verify();
	/* The rest; already recompressed pages are not tried again. */
	req.max_pages = UINT64_MAX;
	replaced = zr_device_recompress(dev0(), &req);
	ck_assert_int_gt(replaced, 0);
	ck_assert_uint_lt(compr_size(), after);
	ck_assert_int_eq(zr_device_recompress(dev0(), &req), 0);
	verify();
	/* Raw random pages beat nobody: flagged incompressible. */
	ck_assert_uint_eq(zr_device_incompressible_pages(dev0()), NPAGES / 16);
	printf("recompress lz4 -> zstd: compr_data_size %llu -> %llu\n",
	       (unsigned long long)before, (unsigned long long)compr_size());
}
END_TEST

START_TEST(test_recompress_threshold_and_idle)
{
	struct zr_recomp_request req = {
		.mode = ZR_PP_ALL, .max_pages = UINT64_MAX,
		.prio_min = 1, .prio_max = 2, .threshold = 3000,
	};
	unsigned char page[PAGE];

	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	/* Only objects of 3000 bytes or more: the raw pages, which do not
	 * compress with zstd either. */
	ck_assert_int_eq(zr_device_recompress(dev0(), &req), 0);
	ck_assert_uint_eq(zr_device_incompressible_pages(dev0()), NPAGES / 16);
	/* idle: only pages marked and not touched since. */
	req.threshold = 0;
	req.mode = ZR_PP_IDLE;
	ck_assert_int_eq(zr_device_mark_idle(dev0(), ZR_IDLE_ALL), 0);
	ck_assert_int_eq(zr_device_read(dev0(), page, PAGE, 0), PAGE);
	ck_assert_int_eq(zr_device_read(dev0(), page, PAGE, PAGE), PAGE);
	ck_assert_int_eq(zr_device_recompress(dev0(), &req),
			 NPAGES - NPAGES / 16 - 2);
	/* The incompressible pages were passed over and stay idle. */
	ck_assert_uint_eq(zr_device_idle_pages(dev0()), NPAGES / 16);
	verify();
}
END_TEST

/* zram's rules (recompress_slot(), recompress_store()): the threshold
 * bounds the new object too, a page tried loses its idle mark even when
 * it is kept, max_pages=0 tries nothing, priority=0 is the first
 * secondary algorithm. */
START_TEST(test_recompress_zram_rules)
{
	struct zr_recomp_request req = {
		.mode = ZR_PP_IDLE, .max_pages = 0,
		.prio_min = 1, .prio_max = 2,
	};
	uint64_t before;

	ck_assert_int_eq(ctl("recomp_algorithm", "algo=zstd"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	before = compr_size();
	ck_assert_int_eq(zr_device_mark_idle(dev0(), ZR_IDLE_ALL), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev0()), NPAGES);
	ck_assert_int_eq(zr_device_recompress(dev0(), &req), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev0()), NPAGES);
	ck_assert_int_eq(ctl("recompress", "max_pages=0"), 0);
	ck_assert_uint_eq(zr_device_idle_pages(dev0()), NPAGES);
	ck_assert_uint_eq(compr_size(), before);
	/* Every object is at least 1 byte and none comes under it. */
	req.max_pages = UINT64_MAX;
	req.threshold = 1;
	ck_assert_int_eq(zr_device_recompress(dev0(), &req), 0);
	ck_assert_uint_eq(compr_size(), before);
	ck_assert_uint_eq(zr_device_idle_pages(dev0()), 0);
	verify();
	ck_assert_int_eq(ctl("recompress", "priority=0"), 0);
	ck_assert_uint_lt(compr_size(), before);
	verify();
}
END_TEST

START_TEST(test_levels)
{
	uint64_t level_default, level_high;

	ck_assert_int_eq(ctl("comp_algorithm", "zstd"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	level_default = compr_size();
	ck_assert_int_eq(ctl("reset", "1"), 0);
	ck_assert_int_eq(ctl("comp_algorithm", "zstd"), 0);
	ck_assert_int_eq(ctl("algorithm_params", "algo=zstd level=12"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	level_high = compr_size();
	verify();
	ck_assert_uint_lt(level_high, level_default);
	printf("zstd level 3 -> 12: compr_data_size %llu -> %llu\n",
	       (unsigned long long)level_default,
	       (unsigned long long)level_high);
}
END_TEST

/* Writes a dictionary made of the vocabulary to a temporary file. */
static void make_dict(char *path, size_t cap)
{
	FILE *f;
	int fd, i, round;

	snprintf(path, cap, "/tmp/zramfs-dict-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	for (round = 0; round < 4; round++)
		for (i = 0; i < 8; i++)
			fputs(vocabulary[(i * 3 + round) % 8], f);
	fclose(f);
}

START_TEST(test_dictionaries)
{
	const char *algo = _i ? "lz4" : "zstd";
	char path[64], param[128];
	uint64_t plain, with_dict;

	make_dict(path, sizeof(path));
	ck_assert_int_eq(ctl("comp_algorithm", algo), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	plain = compr_size();
	ck_assert_int_eq(ctl("reset", "1"), 0);
	ck_assert_int_eq(ctl("comp_algorithm", algo), 0);
	snprintf(param, sizeof(param), "dict=%s\n", path);
	ck_assert_int_eq(ctl("algorithm_params", param), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	fill();
	with_dict = compr_size();
	verify();
	ck_assert_uint_lt(with_dict, plain);
	printf("%s dictionary: compr_data_size %llu -> %llu\n", algo,
	       (unsigned long long)plain, (unsigned long long)with_dict);
	unlink(path);
}
END_TEST

START_TEST(test_algorithm_params_errors)
{
	ck_assert_int_eq(ctl("algorithm_params", "level"), -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "level="), -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "level=x"), -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "bogus=1"), -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "priority=5 level=1"),
			 -EINVAL);
	/* A priority without an algorithm, an algorithm not configured. */
	ck_assert_int_eq(ctl("algorithm_params", "priority=1 level=1"),
			 -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "algo=zstd level=1"),
			 -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "dict=/nonexistent/d"),
			 -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "dict=/dev/null"), -EINVAL);
	ck_assert_int_eq(ctl("algorithm_params", "algo=lz4 level=2"), 0);
	ck_assert_int_eq(ctl("disksize", "1M"), 0);
	ck_assert_int_eq(ctl("algorithm_params", "level=3"), -EBUSY);
}
END_TEST

static Suite *recompress_suite(void)
{
	Suite *s = suite_create("recompress");
	TCase *tc = tcase_create("recompress");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_recomp_algorithm_attribute);
	tcase_add_test(tc, test_recompress_errors);
	tcase_add_test(tc, test_recompress_mixed_slots);
	tcase_add_test(tc, test_recompress_threshold_and_idle);
	tcase_add_test(tc, test_recompress_zram_rules);
	tcase_add_test(tc, test_levels);
	tcase_add_loop_test(tc, test_dictionaries, 0, 2);
	tcase_add_test(tc, test_algorithm_params_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(recompress_suite());
}
