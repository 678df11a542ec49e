/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/core/attr.c: control-file parsers and formatters,
 * with normal input and the hostile input a user can echo into a file.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zr_attr.h"

#include "check_helpers.h"

#define CANARY_U64 0xdeadbeefcafef00dULL
#define CANARY_INT 0x5a5a5a5a

/* ---- helpers ----------------------------------------------------------- */

static int size_of(const char *s, uint64_t *out)
{
	return zr_parse_size(s, strlen(s), out);
}

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = CANARY_U64;

	ck_assert_msg(size_of(s, &v) == 0, "size \"%s\" rejected", s);
	ck_assert_msg(v == want, "size \"%s\": %llu != %llu", s,
		      (unsigned long long)v, (unsigned long long)want);
}

static void size_bad_len(const char *s, size_t len)
{
	uint64_t v = CANARY_U64;

	ck_assert_int_eq(zr_parse_size(s, len, &v), -EINVAL);
	ck_assert(v == CANARY_U64);
}

static void size_bad(const char *s)
{
	size_bad_len(s, strlen(s));
}

static void u64_ok(const char *s, uint64_t want)
{
	uint64_t v = CANARY_U64;

	ck_assert_msg(zr_parse_u64(s, strlen(s), &v) == 0,
		      "u64 \"%s\" rejected", s);
	ck_assert(v == want);
}

static void u64_err_len(const char *s, size_t len, int err)
{
	uint64_t v = CANARY_U64;

	ck_assert_int_eq(zr_parse_u64(s, len, &v), err);
	ck_assert(v == CANARY_U64);
}

static void u64_err(const char *s, int err)
{
	u64_err_len(s, strlen(s), err);
}

static void int_ok(const char *s, int want)
{
	int v = CANARY_INT;

	ck_assert_msg(zr_parse_int(s, strlen(s), &v) == 0,
		      "int \"%s\" rejected", s);
	ck_assert_int_eq(v, want);
}

static void int_err_len(const char *s, size_t len, int err)
{
	int v = CANARY_INT;

	ck_assert_int_eq(zr_parse_int(s, len, &v), err);
	ck_assert_int_eq(v, CANARY_INT);
}

static void int_err(const char *s, int err)
{
	int_err_len(s, strlen(s), err);
}

static void bool_ok(const char *s, int want)
{
	int v = CANARY_INT;

	ck_assert_int_eq(zr_parse_bool_u64(s, strlen(s), &v), 0);
	ck_assert_int_eq(v, want);
}

static void bool_err_len(const char *s, size_t len, int err)
{
	int v = CANARY_INT;

	ck_assert_int_eq(zr_parse_bool_u64(s, len, &v), err);
	ck_assert_int_eq(v, CANARY_INT);
}

static void bool_err(const char *s, int err)
{
	bool_err_len(s, strlen(s), err);
}

static int streq(const char *buf, const char *word)
{
	return zr_streq(buf, strlen(buf), word);
}

static void range_ok(const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t a = CANARY_U64, b = CANARY_U64;

	ck_assert_msg(zr_parse_range(s, strlen(s), &a, &b) == 0,
		      "range \"%s\" rejected", s);
	ck_assert(a == lo);
	ck_assert(b == hi);
}

static void range_err_len(const char *s, size_t len, int err)
{
	uint64_t a = CANARY_U64, b = CANARY_U64;

	ck_assert_int_eq(zr_parse_range(s, len, &a, &b), err);
	ck_assert(a == CANARY_U64);
	ck_assert(b == CANARY_U64);
}

static void range_bad_len(const char *s, size_t len)
{
	range_err_len(s, len, -EINVAL);
}

static void range_bad(const char *s)
{
	range_bad_len(s, strlen(s));
}

/* A 4096-byte write: fill with c, then put tail at the very end. */
static char *page_write(char c, const char *tail)
{
	static char page[ZR_ATTR_MAX_WRITE + 1];
	size_t tlen = strlen(tail);

	memset(page, c, ZR_ATTR_MAX_WRITE);
	memcpy(page + ZR_ATTR_MAX_WRITE - tlen, tail, tlen);
	page[ZR_ATTR_MAX_WRITE] = '\0';
	return page;
}

/* ---- zr_parse_size ----------------------------------------------------- */

START_TEST(test_size_plain)
{
	size_ok("0", 0);
	size_ok("1", 1);
	size_ok("4096", 4096);
	size_ok("4096\n", 4096);
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("18446744073709551615\n", UINT64_MAX);
}
END_TEST

START_TEST(test_size_suffixes)
{
	size_ok("1k", 1024);
	size_ok("1K", 1024);
	size_ok("1K\n", 1024);
	size_ok("2m", 2ULL << 20);
	size_ok("2M", 2ULL << 20);
	size_ok("1G", 1073741824ULL);
	size_ok("1g\n", 1073741824ULL);
	size_ok("3t", 3ULL << 40);
	size_ok("3T", 3ULL << 40);
	size_ok("5p", 5ULL << 50);
	size_ok("5P", 5ULL << 50);
	size_ok("1E", 1ULL << 60);
	size_ok("1e", 1ULL << 60);
	size_ok("15E", 15ULL << 60);
	size_ok("0K", 0);
	size_ok("16383P", 16383ULL << 50);
	size_ok("17179869183G", 17179869183ULL << 30);
}
END_TEST

START_TEST(test_size_radix)
{
	size_ok("0x10", 16);
	size_ok("0X10", 16);
	size_ok("0x10K", 16384);
	size_ok("0x10k\n", 16384);
	size_ok("0xffffffffffffffff", UINT64_MAX);
	size_ok("0xFFFFFFFFFFFFFFFF\n", UINT64_MAX);
	/* 'e' is a hex digit after 0x, as in the kernel */
	size_ok("0x1e", 30);
	size_ok("0x1G", 1ULL << 30);
	size_ok("010", 8);
	size_ok("010K", 8192);
	size_ok("00", 0);
	size_ok("0777", 0777);
	size_ok("01777777777777777777777", UINT64_MAX);
	/* "0x" without a hex digit is octal 0 followed by junk */
	size_bad("0x");
	size_bad("0xg");
	size_bad("0x\n");
	size_bad("08");
	size_bad("09K");
}
END_TEST

START_TEST(test_size_overflow)
{
	size_bad("18446744073709551616");
	size_bad("99999999999999999999");
	size_bad("99999999999999999999K");
	size_bad("16E");
	size_bad("16e\n");
	size_bad("16384P");
	size_bad("16777216T");
	size_bad("17179869184G");
	size_bad("17592186044416M");
	size_bad("18014398509481984K");
	size_bad("0x10000000000000000");
	size_bad("02000000000000000000000");
	size_bad("0xffffffffffffffffK");
}
END_TEST

START_TEST(test_size_hostile)
{
	size_bad("");
	size_bad("\n");
	size_bad("\n\n");
	size_bad(" 1");
	size_bad("\t1");
	size_bad("1 K");
	size_bad("1K x");
	size_bad("1\n1");
	size_bad("+1");
	size_bad("-1");
	size_bad("-1K");
	size_bad("1KB");
	size_bad("1KK");
	size_bad("1Ki");
	size_bad("K");
	size_bad("k\n");
	size_bad("1\nK");
	size_bad("1X");
	size_bad("abc");
	size_bad("1.5G");
	size_bad("1,000");
	/* NULs anywhere */
	size_bad_len("\0", 1);
	size_bad_len("1\0", 2);
	size_bad_len("1\0K", 3);
	size_bad_len("1K\0", 3);
	size_bad_len("1\n\0", 3);
	size_bad_len("\0" "1", 2);
	/* the bytes past len are never looked at */
	size_ok("1K", 1024);
	{
		uint64_t v = CANARY_U64;

		ck_assert_int_eq(zr_parse_size("12K", 1, &v), 0);
		ck_assert(v == 1);
		ck_assert_int_eq(zr_parse_size("12K", 0, &v), -EINVAL);
		ck_assert(v == 1);
	}
}
END_TEST

/* White space may follow, as from a file with DOS line ends; nothing else. */
START_TEST(test_size_trailing_space)
{
	size_ok("1 ", 1);
	size_ok("1\n\n", 1);
	size_ok("1G \n", 1073741824ULL);
	size_ok("1G\r\n", 1073741824ULL);
	size_ok("64M\t\n", 64ULL << 20);
	size_ok("0x10\v\f", 16);
	size_bad("1G\r\nx");
	size_bad_len("1G \0", 4);
}
END_TEST

START_TEST(test_size_page_write)
{
	/* leading zero: octal, which is still 1 */
	size_ok(page_write('0', "1K\n"), 1024);
	size_ok(page_write('0', "\n"), 0);
	size_bad(page_write('1', "\n"));
	size_bad(page_write('9', ""));
	size_bad(page_write('a', ""));
	size_bad(page_write(' ', "1"));
	size_ok(page_write('0', "\n\n"), 0);
	size_bad(page_write('0', "\nx"));
}
END_TEST

/* ---- zr_parse_u64 ------------------------------------------------------ */

START_TEST(test_u64_normal)
{
	u64_ok("0", 0);
	u64_ok("42", 42);
	u64_ok("42\n", 42);
	u64_ok("+42", 42);
	u64_ok("+42\n", 42);
	u64_ok("007", 7);
	u64_ok("18446744073709551615", UINT64_MAX);
	u64_ok("18446744073709551615\n", UINT64_MAX);
}
END_TEST

START_TEST(test_u64_overflow)
{
	u64_err("18446744073709551616", -ERANGE);
	u64_err("18446744073709551616\n", -ERANGE);
	u64_err("99999999999999999999", -ERANGE);
	u64_err("+99999999999999999999", -ERANGE);
	/* the kernel reports overflow before trailing junk */
	u64_err("99999999999999999999x", -ERANGE);
}
END_TEST

START_TEST(test_u64_hostile)
{
	u64_err("", -EINVAL);
	u64_err("\n", -EINVAL);
	u64_err("\n\n", -EINVAL);
	u64_err("42\n\n", -EINVAL);
	u64_err(" 42", -EINVAL);
	u64_err("42 ", -EINVAL);
	u64_err("4 2", -EINVAL);
	u64_err("-1", -EINVAL);
	u64_err("-0", -EINVAL);
	u64_err("+", -EINVAL);
	u64_err("+\n", -EINVAL);
	u64_err("++1", -EINVAL);
	u64_err("+-1", -EINVAL);
	u64_err("0x10", -EINVAL);
	u64_err("1K", -EINVAL);
	u64_err("1e3", -EINVAL);
	u64_err("abc", -EINVAL);
	u64_err("\r\n", -EINVAL);
	u64_err("4\r\n", -EINVAL);
	u64_err_len("\0", 1, -EINVAL);
	u64_err_len("4\0", 2, -EINVAL);
	u64_err_len("4\n\0", 3, -EINVAL);
	u64_err_len("\0" "4", 2, -EINVAL);
	u64_err_len("99999999999999999999\0", 21, -EINVAL);
	u64_err_len("12", 0, -EINVAL);
}
END_TEST

START_TEST(test_u64_page_write)
{
	u64_ok(page_write('0', "7"), 7);
	u64_ok(page_write('0', "\n"), 0);
	u64_ok(page_write('0', "18446744073709551615\n"), UINT64_MAX);
	u64_err(page_write('9', ""), -ERANGE);
	u64_err(page_write('x', ""), -EINVAL);
	u64_err(page_write('\n', ""), -EINVAL);
}
END_TEST

/* ---- zr_parse_int ------------------------------------------------------ */

START_TEST(test_int_normal)
{
	int_ok("0", 0);
	int_ok("-0", 0);
	int_ok("+0", 0);
	int_ok("5", 5);
	int_ok("+5", 5);
	int_ok("-5", -5);
	int_ok("-5\n", -5);
	int_ok("2147483647", INT_MAX);
	int_ok("2147483647\n", INT_MAX);
	int_ok("-2147483648", INT_MIN);
	int_ok("-2147483648\n", INT_MIN);
}
END_TEST

START_TEST(test_int_range)
{
	int_err("2147483648", -ERANGE);
	int_err("+2147483648", -ERANGE);
	int_err("-2147483649", -ERANGE);
	int_err("4294967296", -ERANGE);
	int_err("9223372036854775807", -ERANGE);
	int_err("9223372036854775808", -ERANGE);
	int_err("-9223372036854775808", -ERANGE);
	int_err("18446744073709551615", -ERANGE);
	int_err("-18446744073709551615", -ERANGE);
	int_err("99999999999999999999", -ERANGE);
	int_err("-99999999999999999999", -ERANGE);
}
END_TEST

START_TEST(test_int_hostile)
{
	int_err("", -EINVAL);
	int_err("\n", -EINVAL);
	int_err("\n\n", -EINVAL);
	int_err("1\n\n", -EINVAL);
	int_err("-", -EINVAL);
	int_err("+", -EINVAL);
	int_err("-\n", -EINVAL);
	int_err("--5", -EINVAL);
	int_err("-+5", -EINVAL);
	int_err("+-5", -EINVAL);
	int_err(" 5", -EINVAL);
	int_err("5 ", -EINVAL);
	int_err("- 5", -EINVAL);
	int_err("0x5", -EINVAL);
	int_err("5k", -EINVAL);
	int_err_len("\0", 1, -EINVAL);
	int_err_len("5\0", 2, -EINVAL);
	int_err_len("-\0" "5", 3, -EINVAL);
	int_err_len("-5", 1, -EINVAL);
	int_err(page_write('7', ""), -ERANGE);
	int_err(page_write('a', ""), -EINVAL);
	/* the sign must come first */
	int_err(page_write('0', "-1\n"), -EINVAL);
}
END_TEST

START_TEST(test_int_page_write)
{
	static char page[ZR_ATTR_MAX_WRITE + 1];

	/* "-000...0001\n": one sign, zeros, digit, newline: 4096 bytes */
	memset(page, '0', ZR_ATTR_MAX_WRITE);
	page[0] = '-';
	page[ZR_ATTR_MAX_WRITE - 2] = '1';
	page[ZR_ATTR_MAX_WRITE - 1] = '\n';
	page[ZR_ATTR_MAX_WRITE] = '\0';
	int_ok(page, -1);
	int_ok(page_write('0', "42"), 42);
}
END_TEST

/* ---- zr_parse_bool_u64 ------------------------------------------------- */

START_TEST(test_bool)
{
	bool_ok("0", 0);
	bool_ok("0\n", 0);
	bool_ok("1", 1);
	bool_ok("1\n", 1);
	bool_ok("2", 1);
	bool_ok("+7", 1);
	bool_ok("18446744073709551615", 1);
	bool_ok(page_write('0', "\n"), 0);
	bool_ok(page_write('0', "1"), 1);
	bool_err("", -EINVAL);
	bool_err("\n", -EINVAL);
	bool_err("\n\n", -EINVAL);
	bool_err("y", -EINVAL);
	bool_err("true", -EINVAL);
	bool_err("on", -EINVAL);
	bool_err("-1", -EINVAL);
	bool_err(" 1", -EINVAL);
	bool_err("1 ", -EINVAL);
	bool_err("18446744073709551616", -ERANGE);
	bool_err_len("1\0", 2, -EINVAL);
	bool_err_len("\0", 1, -EINVAL);
}
END_TEST

/* ---- zr_streq ---------------------------------------------------------- */

START_TEST(test_streq)
{
	ck_assert_int_eq(streq("lz4", "lz4"), 1);
	ck_assert_int_eq(streq("lz4\n", "lz4"), 1);
	ck_assert_int_eq(streq("lz4", "lz4\n"), 1);
	ck_assert_int_eq(streq("lz4\n", "lz4\n"), 1);
	ck_assert_int_eq(streq("", ""), 1);
	ck_assert_int_eq(streq("\n", ""), 1);
	ck_assert_int_eq(streq("", "\n"), 1);
	ck_assert_int_eq(streq("lz4\n\n", "lz4"), 0);
	ck_assert_int_eq(streq("\n\n", ""), 0);
	ck_assert_int_eq(streq("lz", "lz4"), 0);
	ck_assert_int_eq(streq("lz4hc", "lz4"), 0);
	ck_assert_int_eq(streq("lz4", "lz4hc"), 0);
	ck_assert_int_eq(streq("LZ4", "lz4"), 0);
	ck_assert_int_eq(streq(" lz4", "lz4"), 0);
	ck_assert_int_eq(streq("lz4 ", "lz4"), 0);
	ck_assert_int_eq(streq("lz4\r\n", "lz4"), 0);
	ck_assert_int_eq(streq("", "lz4"), 0);
	ck_assert_int_eq(streq("lz4", ""), 0);
	ck_assert_int_eq(streq("lz5", "lz4"), 0);
	ck_assert_int_eq(streq("lz5\n", "lz4"), 0);
	/* only len bytes count */
	ck_assert_int_eq(zr_streq("lz4hc", 3, "lz4"), 1);
	ck_assert_int_eq(zr_streq("lz4\nhc", 4, "lz4"), 1);
	/* embedded NULs never match */
	ck_assert_int_eq(zr_streq("lz4\0", 4, "lz4"), 0);
	ck_assert_int_eq(zr_streq("lz4\0\n", 5, "lz4"), 0);
	ck_assert_int_eq(zr_streq("\0", 1, ""), 0);
	ck_assert_int_eq(zr_streq("l\0" "4", 3, "lz4"), 0);
	ck_assert_int_eq(streq(page_write('a', "\n"), "lz4"), 0);
	ck_assert_int_eq(streq(page_write('a', "\n"),
			       page_write('a', "")), 1);
}
END_TEST

/* ---- zr_attr_cstr ------------------------------------------------------ */

START_TEST(test_cstr)
{
	char out[8];

	ck_assert_int_eq(zr_attr_cstr("lz4\n", 4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "lz4");
	ck_assert_int_eq(zr_attr_cstr("zstd", 4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "zstd");
	ck_assert_int_eq(zr_attr_cstr("", 0, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(zr_attr_cstr("\n", 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(zr_attr_cstr("\n\n", 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\n");
	ck_assert_int_eq(zr_attr_cstr(" a b \n", 6, out, sizeof(out)), 0);
	ck_assert_str_eq(out, " a b ");
	/* exactly cap - 1 characters fit, with or without the newline */
	ck_assert_int_eq(zr_attr_cstr("1234567", 7, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1234567");
	ck_assert_int_eq(zr_attr_cstr("abcdefg\n", 8, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "abcdefg");
}
END_TEST

START_TEST(test_cstr_hostile)
{
	char out[8];

	strcpy(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("12345678", 8, out, sizeof(out)),
			 -EINVAL);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("1234567\n\n", 9, out, sizeof(out)),
			 -EINVAL);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("lz\0" "4", 4, out, sizeof(out)),
			 -EINVAL);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("lz4\n\0", 5, out, sizeof(out)),
			 -EINVAL);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("\0", 1, out, sizeof(out)), -EINVAL);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("", 0, out, 0), -EINVAL);
	ck_assert_int_eq(zr_attr_cstr("a", 1, out, 1), -EINVAL);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(zr_attr_cstr("\n", 1, out, 1), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_cstr_page_write)
{
	static char out[ZR_ATTR_MAX_WRITE + 1];
	const char *page = page_write('q', "");

	ck_assert_int_eq(zr_attr_cstr(page, ZR_ATTR_MAX_WRITE, out,
				      sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), ZR_ATTR_MAX_WRITE);
	ck_assert_int_eq(memcmp(out, page, ZR_ATTR_MAX_WRITE), 0);

	strcpy(out, "keep");
	ck_assert_int_eq(zr_attr_cstr(page, ZR_ATTR_MAX_WRITE, out,
				      ZR_ATTR_MAX_WRITE), -EINVAL);
	ck_assert_str_eq(out, "keep");

	page = page_write('q', "\n");
	ck_assert_int_eq(zr_attr_cstr(page, ZR_ATTR_MAX_WRITE, out,
				      ZR_ATTR_MAX_WRITE), 0);
	ck_assert_uint_eq(strlen(out), ZR_ATTR_MAX_WRITE - 1);
	ck_assert_int_eq(out[0], 'q');
}
END_TEST

/* ---- zr_kv_* ----------------------------------------------------------- */

struct kv_tok {
	const char *key;
	const char *val;	/* NULL: no '=' */
};

/* Runs the iterator over buf[0..len) and compares with want[0..n). */
static void kv_expect(const char *buf, size_t len, const struct kv_tok *want,
		      int n)
{
	const char *key = NULL, *val = NULL;
	size_t key_len = 0, val_len = 0;
	struct zr_kv_iter it;
	int i;

	zr_kv_init(&it, buf, len);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val,
					    &val_len), 1);
		ck_assert(key >= buf && key + key_len <= buf + len);
		ck_assert_uint_eq(key_len, strlen(want[i].key));
		ck_assert_int_eq(memcmp(key, want[i].key, key_len), 0);
		if (!want[i].val) {
			ck_assert_ptr_null(val);
			ck_assert_uint_eq(val_len, 0);
		} else {
			ck_assert_ptr_nonnull(val);
			/* past the "=", and a quote if there is one */
			ck_assert(val == key + key_len + 1 ||
				  val == key + key_len + 2);
			ck_assert(val + val_len <= buf + len);
			ck_assert_uint_eq(val_len, strlen(want[i].val));
			ck_assert_int_eq(memcmp(val, want[i].val, val_len), 0);
		}
	}
	ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val, &val_len), 0);
	/* the end is sticky */
	ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val, &val_len), 0);
}

static void kv_expect_str(const char *buf, const struct kv_tok *want, int n)
{
	kv_expect(buf, strlen(buf), want, n);
}

START_TEST(test_kv_normal)
{
	static const struct kv_tok t1[] = { { "type", "idle" } };
	static const struct kv_tok t2[] = {
		{ "algo", "zstd" }, { "priority", "1" },
	};
	static const struct kv_tok t3[] = {
		{ "a", "1" }, { "b", "2" }, { "c", NULL }, { "d", "" },
		{ "e", "x=y" },
	};
	static const struct kv_tok t4[] = {
		{ "huge", NULL }, { "idle", NULL },
	};
	static const struct kv_tok t5[] = { { "page_indexes", "1-10" } };

	kv_expect_str("type=idle", t1, 1);
	kv_expect_str("type=idle\n", t1, 1);
	kv_expect_str("  type=idle  \n", t1, 1);
	kv_expect_str("algo=zstd priority=1\n", t2, 2);
	kv_expect_str("algo=zstd\tpriority=1", t2, 2);
	kv_expect_str("algo=zstd\npriority=1\n\n", t2, 2);
	kv_expect_str("a=1 b=2\tc\nd= e=x=y", t3, 5);
	kv_expect_str("huge idle", t4, 2);
	kv_expect_str("page_indexes=1-10\n", t5, 1);
	/* only len bytes count */
	kv_expect("type=idle algo=zstd", 9, t1, 1);
}
END_TEST

/* Double quotes as the kernel's next_arg() takes them. */
START_TEST(test_kv_quotes)
{
	static const struct kv_tok t1[] = {
		{ "dict", "/my dicts/a" }, { "level", "3" },
	};
	static const struct kv_tok t2[] = { { "level", "1" } };
	static const struct kv_tok t3[] = { { "huge", NULL } };
	static const struct kv_tok t4[] = { { "dict", "/a b" } };
	static const struct kv_tok t5[] = { { "a", "x\"y" } };
	static const struct kv_tok t6[] = { { "a", "" } };

	kv_expect_str("dict=\"/my dicts/a\" level=3\n", t1, 2);
	kv_expect_str("level=\"1\"", t2, 1);
	kv_expect_str("\"level=1\"\n", t2, 1);
	kv_expect_str("\"huge\"", t3, 1);
	/* an unclosed quote runs to the end */
	kv_expect_str("dict=\"/a b", t4, 1);
	kv_expect_str("a=x\"y", t5, 1);
	kv_expect_str("a=\"", t6, 1);
	kv_expect_str("a=\"\"", t6, 1);
}
END_TEST

START_TEST(test_kv_empty)
{
	kv_expect_str("", NULL, 0);
	kv_expect_str("\n", NULL, 0);
	kv_expect_str("\n\n", NULL, 0);
	kv_expect_str(" \t \n ", NULL, 0);
	kv_expect(NULL, 0, NULL, 0);
}
END_TEST

static void kv_bad(const char *buf, size_t len)
{
	const char *key = "k", *val = "v";
	size_t key_len = 77, val_len = 88;
	struct zr_kv_iter it;

	zr_kv_init(&it, buf, len);
	ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val, &val_len),
			 -EINVAL);
	/* errors repeat and outputs stay untouched */
	ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val, &val_len),
			 -EINVAL);
	ck_assert_str_eq(key, "k");
	ck_assert_str_eq(val, "v");
	ck_assert_uint_eq(key_len, 77);
	ck_assert_uint_eq(val_len, 88);
}

START_TEST(test_kv_hostile)
{
	kv_bad("=x", 2);
	kv_bad("=", 1);
	kv_bad("==", 2);
	kv_bad(" =x\n", 4);
	/* a key of quotes only is empty too */
	kv_bad("\"", 1);
	kv_bad("\"\"", 2);
	kv_bad("a=1 \"\"", 6);
	/* a bad token anywhere refuses the whole write up front */
	kv_bad("a=1 =x", 6);
	kv_bad("a=1\n=", 5);
	kv_bad("\0", 1);
	kv_bad("a\0=1", 4);
	kv_bad("a=1\0", 4);
	kv_bad("a=1 b=2 \0", 9);
	kv_bad("a=1\n\0", 5);
}
END_TEST

START_TEST(test_kv_page_write)
{
	static char page[ZR_ATTR_MAX_WRITE + 1];
	const char *key, *val;
	size_t key_len, val_len;
	struct zr_kv_iter it;
	int i, n = 0;

	/* 2048 one-letter words separated by spaces: "a a a ... a " */
	for (i = 0; i < ZR_ATTR_MAX_WRITE; i += 2) {
		page[i] = 'a';
		page[i + 1] = ' ';
	}
	zr_kv_init(&it, page, ZR_ATTR_MAX_WRITE);
	while (zr_kv_next(&it, &key, &key_len, &val, &val_len) == 1) {
		ck_assert_uint_eq(key_len, 1);
		ck_assert_ptr_null(val);
		n++;
	}
	ck_assert_int_eq(n, ZR_ATTR_MAX_WRITE / 2);

	/* one 4096-byte token: "k=vvv...v\n" */
	memset(page, 'v', ZR_ATTR_MAX_WRITE);
	page[0] = 'k';
	page[1] = '=';
	page[ZR_ATTR_MAX_WRITE - 1] = '\n';
	zr_kv_init(&it, page, ZR_ATTR_MAX_WRITE);
	ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val, &val_len), 1);
	ck_assert_uint_eq(key_len, 1);
	ck_assert_ptr_eq(val, page + 2);
	ck_assert_uint_eq(val_len, ZR_ATTR_MAX_WRITE - 3);
	ck_assert_int_eq(zr_kv_next(&it, &key, &key_len, &val, &val_len), 0);

	/* NUL in the last byte of a page */
	page[ZR_ATTR_MAX_WRITE - 1] = '\0';
	kv_bad(page, ZR_ATTR_MAX_WRITE);
}
END_TEST

/* ---- zr_parse_range ---------------------------------------------------- */

START_TEST(test_range_normal)
{
	range_ok("1-5", 1, 5);
	range_ok("1-5\n", 1, 5);
	range_ok("0-0", 0, 0);
	range_ok("5-5", 5, 5);
	range_ok("0-18446744073709551615", 0, UINT64_MAX);
	range_ok("18446744073709551615-18446744073709551615", UINT64_MAX,
		 UINT64_MAX);
	range_ok("007-010", 7, 10);
	/* kstrtoul() on each half, as zram does, takes a '+' */
	range_ok("+1-+5", 1, 5);
}
END_TEST

START_TEST(test_range_hostile)
{
	range_bad("");
	range_bad("\n");
	range_bad("\n\n");
	range_bad("-");
	range_bad("1");
	range_bad("1-");
	range_bad("-5");
	range_bad("1--5");
	range_bad("1-5-6");
	range_err_len("5-1", 3, -ERANGE);
	range_err_len("18446744073709551615-0", 22, -ERANGE);
	range_bad(" 1-5");
	range_bad("1 -5");
	range_bad("1- 5");
	range_bad("1-5 ");
	range_bad("1\n-5");
	range_bad("1-5\n\n");
	range_bad("1-\n");
	range_bad("1-18446744073709551616");
	range_bad("99999999999999999999-1");
	range_bad("a-b");
	range_bad("0x1-0x2");
	range_bad("1K-2K");
	range_bad("1:5");
	range_bad_len("1-5\0", 4);
	range_bad_len("1\0-5", 4);
	range_bad_len("\0", 1);
	range_bad_len("1-5", 2);
	range_bad(page_write('1', "-2"));
	range_ok(page_write('0', "1-2\n"), 1, 2);
}
END_TEST

/* ---- formatters -------------------------------------------------------- */

typedef int (*fmt_fn)(char *buf, size_t cap, const void *arg);

/*
 * Checks fn against the expected full text at every capacity from 0 to
 * beyond the end: scnprintf semantics, NUL termination, no overrun.
 */
static void check_format(fmt_fn fn, const void *arg, const char *want)
{
	size_t wlen = strlen(want), cap;
	char buf[1024];

	ck_assert(wlen + 8 < sizeof(buf));

	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(fn(buf, sizeof(buf), arg), (int)wlen);
	ck_assert_str_eq(buf, want);

	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(fn(buf, 0, arg), 0);
	ck_assert_int_eq(buf[0], '#');
	ck_assert_int_eq(fn(NULL, 0, arg), 0);

	for (cap = 1; cap <= wlen + 4; cap++) {
		size_t got = wlen < cap ? wlen : cap - 1;

		memset(buf, '#', sizeof(buf));
		ck_assert_int_eq(fn(buf, cap, arg), (int)got);
		ck_assert_int_eq(buf[got], '\0');
		ck_assert_int_eq(memcmp(buf, want, got), 0);
		ck_assert_int_eq(buf[cap], '#');
	}
}

static int fmt_mm(char *buf, size_t cap, const void *arg)
{
	return zr_format_mm_stat(buf, cap, arg);
}

static int fmt_io(char *buf, size_t cap, const void *arg)
{
	return zr_format_io_stat(buf, cap, arg);
}

static int fmt_bd(char *buf, size_t cap, const void *arg)
{
	return zr_format_bd_stat(buf, cap, arg);
}

static int fmt_debug(char *buf, size_t cap, const void *arg)
{
	return zr_format_debug_stat(buf, cap, *(const uint64_t *)arg);
}

static int fmt_u64(char *buf, size_t cap, const void *arg)
{
	return zr_format_u64(buf, cap, *(const uint64_t *)arg);
}

struct algo_arg {
	const char *const *names;
	int count;
	int selected;
	int use_prio;	/* 0: comp_algorithm, 1: recomp_algorithm */
	int prio;
};

static int fmt_algo(char *buf, size_t cap, const void *arg)
{
	const struct algo_arg *a = arg;

	if (!a->use_prio)
		return zr_format_algorithms(buf, cap, a->names, a->count,
					    a->selected);
	return zr_format_algorithms_prio(buf, cap, a->prio, a->names,
					 a->count, a->selected);
}

static const uint64_t sample_values[] = {
	0, 1, 7, 4096, 99999999, 100000000, 123456789012ULL,
	(uint64_t)INT64_MAX, UINT64_MAX,
};

#define NR_SAMPLES (sizeof(sample_values) / sizeof(sample_values[0]))

static uint64_t sample(size_t i)
{
	return sample_values[i % NR_SAMPLES];
}

START_TEST(test_format_mm_stat)
{
	char want[512];
	size_t i;

	for (i = 0; i < NR_SAMPLES; i++) {
		struct zr_mm_stat s = {
			.orig_data_size = sample(i),
			.compr_data_size = sample(i + 1),
			.mem_used_total = sample(i + 2),
			.mem_limit = sample(i + 3),
			.mem_used_max = sample(i + 4),
			.same_pages = sample(i + 5),
			.pages_compacted = sample(i + 6),
			.huge_pages = sample(i + 7),
			.huge_pages_since = sample(i + 8),
		};

		snprintf(want, sizeof(want),
			 "%8llu %8llu %8llu %8llu %8llu "
			 "%8llu %8llu %8llu %8llu\n",
			 (unsigned long long)s.orig_data_size,
			 (unsigned long long)s.compr_data_size,
			 (unsigned long long)s.mem_used_total,
			 (unsigned long long)s.mem_limit,
			 (unsigned long long)s.mem_used_max,
			 (unsigned long long)s.same_pages,
			 (unsigned long long)s.pages_compacted,
			 (unsigned long long)s.huge_pages,
			 (unsigned long long)s.huge_pages_since);
		check_format(fmt_mm, &s, want);
	}
}
END_TEST

START_TEST(test_format_mm_stat_literal)
{
	struct zr_mm_stat s = {
		.orig_data_size = 4096, .compr_data_size = 74,
		.mem_used_total = 12288, .mem_limit = 0,
		.mem_used_max = 12288, .same_pages = 1,
		.pages_compacted = 0, .huge_pages = 0,
		.huge_pages_since = 2,
	};
	struct zr_mm_stat zero = { 0 };

	check_format(fmt_mm, &s, "    4096       74    12288        0    "
		     "12288        1        0        0        2\n");
	check_format(fmt_mm, &zero, "       0        0        0        0 "
		     "       0        0        0        0        0\n");
}
END_TEST

START_TEST(test_format_io_stat)
{
	char want[256];
	size_t i;

	for (i = 0; i < NR_SAMPLES; i++) {
		struct zr_io_stat s = {
			.failed_reads = sample(i),
			.failed_writes = sample(i + 3),
			.notify_free = sample(i + 5),
		};

		snprintf(want, sizeof(want), "%8llu %8llu 0 %8llu\n",
			 (unsigned long long)s.failed_reads,
			 (unsigned long long)s.failed_writes,
			 (unsigned long long)s.notify_free);
		check_format(fmt_io, &s, want);
	}
	{
		struct zr_io_stat s = { 1, 2, 3 };

		check_format(fmt_io, &s,
			     "       1        2 0        3\n");
	}
}
END_TEST

START_TEST(test_format_bd_stat)
{
	char want[256];
	size_t i;

	for (i = 0; i < NR_SAMPLES; i++) {
		struct zr_bd_stat s = {
			.bd_count = sample(i),
			.bd_reads = sample(i + 4),
			.bd_writes = sample(i + 7),
		};

		snprintf(want, sizeof(want), "%8llu %8llu %8llu\n",
			 (unsigned long long)s.bd_count,
			 (unsigned long long)s.bd_reads,
			 (unsigned long long)s.bd_writes);
		check_format(fmt_bd, &s, want);
	}
	{
		struct zr_bd_stat s = { 10, 0, 123456789 };

		check_format(fmt_bd, &s, "      10        0 123456789\n");
	}
}
END_TEST

START_TEST(test_format_debug_stat)
{
	char want[256];
	size_t i;

	for (i = 0; i < NR_SAMPLES; i++) {
		uint64_t v = sample(i);

		snprintf(want, sizeof(want), "version: %d\n0 %8llu\n", 1,
			 (unsigned long long)v);
		check_format(fmt_debug, &v, want);
	}
	{
		uint64_t v = 5;

		check_format(fmt_debug, &v, "version: 1\n0        5\n");
	}
}
END_TEST

START_TEST(test_format_u64)
{
	char want[64];
	size_t i;

	for (i = 0; i < NR_SAMPLES; i++) {
		uint64_t v = sample(i), back = CANARY_U64;
		char buf[64];
		int n;

		snprintf(want, sizeof(want), "%llu\n", (unsigned long long)v);
		check_format(fmt_u64, &v, want);

		/* a read parses back through the write parser */
		n = zr_format_u64(buf, sizeof(buf), v);
		ck_assert_int_eq(zr_parse_u64(buf, n, &back), 0);
		ck_assert(back == v);
	}
	{
		uint64_t v = UINT64_MAX;

		check_format(fmt_u64, &v, "18446744073709551615\n");
	}
}
END_TEST

START_TEST(test_format_algorithms)
{
	static const char *const names[] = {
		"lzo", "lzo-rle", "lz4", "lz4hc", "zstd", "deflate", "842",
	};
	static const char *const holes[] = { "lz4", NULL, "zstd", "842" };
	struct algo_arg a = { names, 7, 2, 0, 0 };

	check_format(fmt_algo, &a,
		     "lzo lzo-rle [lz4] lz4hc zstd deflate 842 \n");
	a.selected = 0;
	check_format(fmt_algo, &a,
		     "[lzo] lzo-rle lz4 lz4hc zstd deflate 842 \n");
	a.selected = 6;
	check_format(fmt_algo, &a,
		     "lzo lzo-rle lz4 lz4hc zstd deflate [842] \n");
	/* no valid selection: no brackets */
	a.selected = -1;
	check_format(fmt_algo, &a,
		     "lzo lzo-rle lz4 lz4hc zstd deflate 842 \n");
	a.selected = 7;
	check_format(fmt_algo, &a,
		     "lzo lzo-rle lz4 lz4hc zstd deflate 842 \n");
	a.names = names + 1;
	a.count = 3;
	a.selected = 1;
	check_format(fmt_algo, &a, "lzo-rle [lz4] lz4hc \n");
	a.count = 1;
	a.selected = 0;
	check_format(fmt_algo, &a, "[lzo-rle] \n");
	a.count = 0;
	check_format(fmt_algo, &a, "\n");
	a.count = -3;
	check_format(fmt_algo, &a, "\n");
	/* NULL entries (unavailable algorithms) are skipped */
	a.names = holes;
	a.count = 4;
	a.selected = 2;
	check_format(fmt_algo, &a, "lz4 [zstd] 842 \n");
	a.selected = 1;
	check_format(fmt_algo, &a, "lz4 zstd 842 \n");
}
END_TEST

START_TEST(test_format_algorithms_prio)
{
	static const char *const names[] = { "lz4", "lz4hc", "zstd" };
	struct algo_arg a = { names, 3, 2, 1, 1 };
	char want[128];

	check_format(fmt_algo, &a, "#1: lz4 lz4hc [zstd] \n");
	a.prio = 3;
	a.selected = 0;
	check_format(fmt_algo, &a, "#3: [lz4] lz4hc zstd \n");
	a.prio = 0;
	a.selected = -1;
	check_format(fmt_algo, &a, "#0: lz4 lz4hc zstd \n");
	a.prio = INT_MAX;
	a.count = 0;
	snprintf(want, sizeof(want), "#%d: \n", INT_MAX);
	check_format(fmt_algo, &a, want);
	a.prio = INT_MIN;
	snprintf(want, sizeof(want), "#%d: \n", INT_MIN);
	check_format(fmt_algo, &a, want);
}
END_TEST

/* ---- runner ------------------------------------------------------------ */

static Suite *attr_suite(void)
{
	Suite *s = suite_create("attr");
	TCase *tc;

	tc = tcase_create("parse_size");
	tcase_add_test(tc, test_size_plain);
	tcase_add_test(tc, test_size_suffixes);
	tcase_add_test(tc, test_size_radix);
	tcase_add_test(tc, test_size_overflow);
	tcase_add_test(tc, test_size_hostile);
	tcase_add_test(tc, test_size_trailing_space);
	tcase_add_test(tc, test_size_page_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_u64");
	tcase_add_test(tc, test_u64_normal);
	tcase_add_test(tc, test_u64_overflow);
	tcase_add_test(tc, test_u64_hostile);
	tcase_add_test(tc, test_u64_page_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_int");
	tcase_add_test(tc, test_int_normal);
	tcase_add_test(tc, test_int_range);
	tcase_add_test(tc, test_int_hostile);
	tcase_add_test(tc, test_int_page_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_bool_u64");
	tcase_add_test(tc, test_bool);
	suite_add_tcase(s, tc);

	tc = tcase_create("streq");
	tcase_add_test(tc, test_streq);
	suite_add_tcase(s, tc);

	tc = tcase_create("attr_cstr");
	tcase_add_test(tc, test_cstr);
	tcase_add_test(tc, test_cstr_hostile);
	tcase_add_test(tc, test_cstr_page_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("kv");
	tcase_add_test(tc, test_kv_normal);
	tcase_add_test(tc, test_kv_quotes);
	tcase_add_test(tc, test_kv_empty);
	tcase_add_test(tc, test_kv_hostile);
	tcase_add_test(tc, test_kv_page_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_range");
	tcase_add_test(tc, test_range_normal);
	tcase_add_test(tc, test_range_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format_mm_stat);
	tcase_add_test(tc, test_format_mm_stat_literal);
	tcase_add_test(tc, test_format_io_stat);
	tcase_add_test(tc, test_format_bd_stat);
	tcase_add_test(tc, test_format_debug_stat);
	tcase_add_test(tc, test_format_u64);
	tcase_add_test(tc, test_format_algorithms);
	tcase_add_test(tc, test_format_algorithms_prio);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return run_suite(attr_suite());
}
