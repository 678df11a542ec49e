/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of control-file writes and formatting of control-file reads.
 *
 * Every parser takes the bytes exactly as write(2) delivered them: not
 * NUL-terminated, possibly containing NULs, possibly ending in one "\n"
 * (as echo adds). They follow the kernel helpers zram uses (memparse,
 * kstrtoull, kstrtoint, sysfs_streq, next_arg) and return 0 or a negative
 * errno; on error the output arguments are left untouched. Formatters
 * write zram's exact text into buf, NUL-terminate it and return its length
 * (like scnprintf: never more than cap - 1).
 */
#ifndef ZR_ATTR_H
#define ZR_ATTR_H

#include <stddef.h>
#include <stdint.h>

/* Longest control write accepted, like sysfs (one page). */
#define ZR_ATTR_MAX_WRITE 4096

/*
 * memparse(): a number in C notation (decimal, 0x hex, 0 octal) followed by
 * an optional K/M/G/T/P/E suffix (either case, binary multiples), then
 * optional white space ("\n", "\r\n", blanks). -EINVAL: empty, not a
 * number, anything else after it, overflow of 64 bits (the kernel ignores
 * what follows the suffix and wraps silently; we refuse both).
 */
int zr_parse_size(const char *buf, size_t len, uint64_t *out);

/* kstrtoull(buf, 10): decimal digits, optional leading '+', optional "\n".
 * -EINVAL on junk or empty, -ERANGE on overflow. */
int zr_parse_u64(const char *buf, size_t len, uint64_t *out);

/* kstrtoint(buf, 10): optional sign. -EINVAL on junk, -ERANGE outside int. */
int zr_parse_int(const char *buf, size_t len, int *out);

/* kstrtobool-free zram style: a u64 where any non-zero value means true. */
int zr_parse_bool_u64(const char *buf, size_t len, int *out);

/* sysfs_streq(): equal if they match exactly, ignoring one trailing "\n"
 * on either side. Returns 1 or 0. */
int zr_streq(const char *buf, size_t len, const char *word);

/*
 * Copies a write into a NUL-terminated string with one trailing "\n"
 * removed, for parsers that need C strings. -EINVAL if the input contains
 * a NUL byte or is longer than cap - 1 after stripping.
 */
int zr_attr_cstr(const char *buf, size_t len, char *out, size_t cap);

/*
 * Tokenizer over "key=value key2=value2 word" (the kernel's next_arg):
 * tokens are separated by spaces, tabs or newlines outside double quotes;
 * quotes around a token or a value are dropped (dict="/my dicts/a").
 * Returns 1 and fills key/val (val NULL, val_len 0 when the token has no
 * '='), 0 at the end, -EINVAL on a NUL byte or an empty key ("=x"), for
 * any token, on the first call.
 */
struct zr_kv_iter {
	const char *buf;
	size_t len;
	size_t pos;
};

void zr_kv_init(struct zr_kv_iter *it, const char *buf, size_t len);
int zr_kv_next(struct zr_kv_iter *it, const char **key, size_t *key_len,
	       const char **val, size_t *val_len);

/* "LO-HI" (decimal, inclusive), as writeback page_indexes=. -ERANGE when
 * LO > HI (as zram), -EINVAL for anything malformed. */
int zr_parse_range(const char *buf, size_t len, uint64_t *lo, uint64_t *hi);

/* The values behind the read-only statistics files. */
struct zr_mm_stat {
	uint64_t orig_data_size;	/* bytes: pages stored x page size */
	uint64_t compr_data_size;	/* bytes of compressed data */
	uint64_t mem_used_total;	/* bytes the arena holds */
	uint64_t mem_limit;		/* bytes, 0 = none */
	uint64_t mem_used_max;		/* bytes, peak of mem_used_total */
	uint64_t same_pages;		/* pages stored as a fill word */
	uint64_t pages_compacted;	/* pages freed by compaction */
	uint64_t huge_pages;		/* pages stored raw now */
	uint64_t huge_pages_since;	/* pages ever stored raw */
};

struct zr_io_stat {
	uint64_t failed_reads;
	uint64_t failed_writes;
	uint64_t notify_free;		/* pages freed by discard */
};

struct zr_bd_stat {
	uint64_t bd_count;		/* pages on the backing device now */
	uint64_t bd_reads;		/* pages read from it */
	uint64_t bd_writes;		/* pages written to it */
};

/* "%8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu\n" */
int zr_format_mm_stat(char *buf, size_t cap, const struct zr_mm_stat *s);
/* "%8llu %8llu 0 %8llu\n" (zram's invalid_io column is always 0 now) */
int zr_format_io_stat(char *buf, size_t cap, const struct zr_io_stat *s);
/* "%8llu %8llu %8llu\n", in 4 KiB units */
int zr_format_bd_stat(char *buf, size_t cap, const struct zr_bd_stat *s);
/* "version: 1\n0 %8llu\n" with miss_free */
int zr_format_debug_stat(char *buf, size_t cap, uint64_t miss_free);
/* "%llu\n" */
int zr_format_u64(char *buf, size_t cap, uint64_t value);

/*
 * comp_algorithm read: every name in names[0..count) separated by spaces,
 * the one at index selected in brackets, a trailing space then "\n", exactly
 * as zcomp_available_show ("lzo-rle [lz4] zstd \n" has the form
 * "name [sel] name \n"). recomp_algorithm prefixes each priority line with
 * "#N: " (zr_format_algorithms_prio).
 */
int zr_format_algorithms(char *buf, size_t cap, const char *const *names,
			 int count, int selected);
int zr_format_algorithms_prio(char *buf, size_t cap, int prio,
			      const char *const *names, int count,
			      int selected);

#endif
