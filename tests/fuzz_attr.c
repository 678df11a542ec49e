/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for src/core/attr.c: every control-file parser gets the
 * raw input, the key=value iterator is run to the end, and the formatters
 * are driven with values taken from the input. Any broken invariant aborts.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-o fuzz_attr tests/fuzz_attr.c src/core/attr.c
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zr_attr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void require(int cond)
{
	if (!cond)
		abort();
}

static inline int is_err(int ret)
{
	return ret == -EINVAL || ret == -ERANGE;
}

static inline int kv_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static size_t strip_nl(const char *buf, size_t len)
{
	return (len && buf[len - 1] == '\n') ? len - 1 : len;
}

static uint64_t take_u64(const uint8_t *data, size_t size, size_t at)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | (size ? data[(at + i) % size] : 0);
	return v;
}

static void fuzz_numbers(const char *buf, size_t len)
{
	uint64_t u = 0, s = 0, back = 0;
	int u_err, s_err, i_err, b_err, ival = 0, bval = 0, n;
	char text[64];

	u_err = zr_parse_u64(buf, len, &u);
	require(u_err == 0 || is_err(u_err));
	if (!u_err) {
		require(len > 0 && !memchr(buf, '\0', len));
		n = zr_format_u64(text, sizeof(text), u);
		require(n > 0 && (size_t)n < sizeof(text));
		require(zr_parse_u64(text, n, &back) == 0 && back == u);
		/* the formatted value is also a valid size */
		require(zr_parse_size(text, n, &back) == 0 && back == u);
	}

	s_err = zr_parse_size(buf, len, &s);
	require(s_err == 0 || s_err == -EINVAL);
	if (!s_err) {
		require(len > 0 && !memchr(buf, '\0', len));
		n = snprintf(text, sizeof(text), "%llu", (unsigned long long)s);
		require(zr_parse_size(text, n, &back) == 0 && back == s);
		if (!(s & 1023)) {
			n = snprintf(text, sizeof(text), "%lluK\n",
				     (unsigned long long)(s >> 10));
			require(zr_parse_size(text, n, &back) == 0 &&
				back == s);
		}
	}
	/* plain decimal without a leading 0 or '+' means the same to both */
	if (!u_err && buf[0] >= '1' && buf[0] <= '9')
		require(!s_err && s == u);

	i_err = zr_parse_int(buf, len, &ival);
	require(i_err == 0 || is_err(i_err));
	if (!i_err) {
		n = snprintf(text, sizeof(text), "%d\n", ival);
		require(zr_parse_int(text, n, &ival) == 0);
	}
	if (!u_err && u <= INT_MAX)
		require(!i_err && (uint64_t)ival == u);
	if (u_err == -ERANGE && buf[0] != '-')
		require(i_err == -ERANGE);

	b_err = zr_parse_bool_u64(buf, len, &bval);
	require(b_err == u_err);
	if (!b_err)
		require(bval == (u != 0));
}

static void fuzz_strings(const char *buf, size_t len)
{
	static char out[ZR_ATTR_MAX_WRITE + 1];
	size_t want = strip_nl(buf, len);
	int has_nul = len && memchr(buf, '\0', len);
	int ret;

	out[0] = 'X';
	ret = zr_attr_cstr(buf, len, out, sizeof(out));
	if (has_nul || want > ZR_ATTR_MAX_WRITE) {
		require(ret == -EINVAL && out[0] == 'X');
		if (has_nul)
			require(zr_streq(buf, len, "lz4") == 0);
		return;
	}
	require(ret == 0);
	require(strlen(out) == want && !memcmp(out, buf, want));
	require(zr_streq(buf, len, out) == 1);
	require(zr_streq(out, strlen(out), out) == 1);
	/* a write never equals a word that differs in its first byte */
	if (want) {
		char first = out[0];

		out[0] = first == 'a' ? 'b' : 'a';
		require(zr_streq(buf, len, out) == 0);
		out[0] = first;
	}
}

/* A separator inside a token must follow a double quote of that token
 * (the kernel's next_arg keeps quoted spaces). */
static void require_unquoted_sep_free(const char *buf, size_t token_start,
				      const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		require(s[i] != '\0' &&
			(!kv_sep(s[i]) ||
			 memchr(buf + token_start, '"',
				(size_t)(s + i - buf) - token_start)));
}

static void fuzz_kv(const char *buf, size_t len)
{
	const char *key, *val;
	size_t key_len, val_len, i, tokens = 0, prev_end = 0, start;
	struct zr_kv_iter it;
	int ret;

	zr_kv_init(&it, buf, len);
	for (;;) {
		ret = zr_kv_next(&it, &key, &key_len, &val, &val_len);
		if (ret != 1)
			break;
		tokens++;
		require(tokens <= len);
		require(key_len > 0);
		require(key >= buf + prev_end && key + key_len <= buf + len);
		/* where the token starts: at the key, or at its opening quote */
		start = key - buf;
		if (start > prev_end && buf[start - 1] == '"')
			start--;
		for (i = 0; i < key_len; i++)
			require(key[i] != '=');
		require_unquoted_sep_free(buf, start, key, key_len);
		if (val) {
			/* after the '=', and an opening quote if any */
			require((val == key + key_len + 1 && val[-1] == '=') ||
				(val == key + key_len + 2 && val[-1] == '"' &&
				 val[-2] == '='));
			require(val + val_len <= buf + len);
			require_unquoted_sep_free(buf, start, val, val_len);
			prev_end = val + val_len - buf;
		} else {
			require(val_len == 0);
			prev_end = key + key_len - buf;
		}
		/* a closing quote is not part of the key or value */
		if (prev_end < len && buf[prev_end] == '"')
			prev_end++;
		/* a token ends at a separator or at the end of the write */
		require(prev_end == len || kv_sep(buf[prev_end]));
	}
	if (ret == 0) {
		/* every non-separator byte was part of a token */
		require(!len || !memchr(buf, '\0', len));
		require(zr_kv_next(&it, &key, &key_len, &val, &val_len) == 0);
	} else {
		/* all or nothing, and errors repeat */
		require(ret == -EINVAL && tokens == 0);
		require(zr_kv_next(&it, &key, &key_len, &val, &val_len) ==
			-EINVAL);
	}
}

static void fuzz_range(const char *buf, size_t len)
{
	uint64_t lo = 1, hi = 0;
	int ret;

	ret = zr_parse_range(buf, len, &lo, &hi);
	require(ret == 0 || ret == -EINVAL || ret == -ERANGE);
	if (ret)
		require(lo == 1 && hi == 0);
	else
		require(lo <= hi && memchr(buf, '-', len));
}

/* Checks a formatter's output against the untruncated text. */
static void check_trunc(const char *got, int n, size_t cap, const char *full)
{
	size_t flen = strlen(full);
	size_t want = cap ? (flen < cap ? flen : cap - 1) : 0;

	require(n >= 0 && (size_t)n == want);
	if (cap)
		require(got[n] == '\0' && !memcmp(got, full, want));
}

static void fuzz_formats(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"lzo", "lzo-rle", "lz4", "lz4hc", "zstd", "deflate", "842",
	};
	char full[512], buf[512];
	struct zr_mm_stat mm;
	struct zr_io_stat io;
	struct zr_bd_stat bd;
	size_t cap = size ? data[0] % 200 : 0;
	int n, i, count, sel, prio;
	uint64_t v = take_u64(data, size, 1);

	mm.orig_data_size = take_u64(data, size, 3);
	mm.compr_data_size = take_u64(data, size, 5) >> (v & 63);
	mm.mem_used_total = take_u64(data, size, 7);
	mm.mem_limit = take_u64(data, size, 11) >> 40;
	mm.mem_used_max = take_u64(data, size, 13);
	mm.same_pages = v & 0xffff;
	mm.pages_compacted = take_u64(data, size, 17);
	mm.huge_pages = take_u64(data, size, 19) >> 50;
	mm.huge_pages_since = take_u64(data, size, 23);
	snprintf(full, sizeof(full),
		 "%8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu\n",
		 (unsigned long long)mm.orig_data_size,
		 (unsigned long long)mm.compr_data_size,
		 (unsigned long long)mm.mem_used_total,
		 (unsigned long long)mm.mem_limit,
		 (unsigned long long)mm.mem_used_max,
		 (unsigned long long)mm.same_pages,
		 (unsigned long long)mm.pages_compacted,
		 (unsigned long long)mm.huge_pages,
		 (unsigned long long)mm.huge_pages_since);
	n = zr_format_mm_stat(cap ? buf : NULL, cap, &mm);
	check_trunc(buf, n, cap, full);

	io.failed_reads = v;
	io.failed_writes = v >> 33;
	io.notify_free = take_u64(data, size, 29);
	snprintf(full, sizeof(full), "%8llu %8llu 0 %8llu\n",
		 (unsigned long long)io.failed_reads,
		 (unsigned long long)io.failed_writes,
		 (unsigned long long)io.notify_free);
	n = zr_format_io_stat(cap ? buf : NULL, cap, &io);
	check_trunc(buf, n, cap, full);

	bd.bd_count = v >> 7;
	bd.bd_reads = take_u64(data, size, 31);
	bd.bd_writes = take_u64(data, size, 37) >> 20;
	snprintf(full, sizeof(full), "%8llu %8llu %8llu\n",
		 (unsigned long long)bd.bd_count,
		 (unsigned long long)bd.bd_reads,
		 (unsigned long long)bd.bd_writes);
	n = zr_format_bd_stat(cap ? buf : NULL, cap, &bd);
	check_trunc(buf, n, cap, full);

	snprintf(full, sizeof(full), "version: %d\n0 %8llu\n", 1,
		 (unsigned long long)v);
	n = zr_format_debug_stat(cap ? buf : NULL, cap, v);
	check_trunc(buf, n, cap, full);

	snprintf(full, sizeof(full), "%llu\n", (unsigned long long)v);
	n = zr_format_u64(cap ? buf : NULL, cap, v);
	check_trunc(buf, n, cap, full);

	count = (int)(v % 9) - 1;		/* -1 .. 7 */
	sel = (int)((v >> 8) % 10) - 1;		/* -1 .. 8 */
	prio = (int)(int32_t)(v >> 16);
	n = snprintf(full, sizeof(full), "#%d: ", prio);
	for (i = 0; i < count; i++)
		n += snprintf(full + n, sizeof(full) - n,
			      i == sel ? "[%s] " : "%s ", names[i]);
	snprintf(full + n, sizeof(full) - n, "\n");
	n = zr_format_algorithms_prio(cap ? buf : NULL, cap, prio, names,
				      count, sel);
	check_trunc(buf, n, cap, full);
	n = zr_format_algorithms(cap ? buf : NULL, cap, names, count, sel);
	check_trunc(buf, n, cap, strchr(full, ' ') + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	fuzz_numbers(buf, size);
	fuzz_strings(buf, size);
	fuzz_kv(buf, size);
	fuzz_range(buf, size);
	fuzz_formats(data, size);
	return 0;
}
