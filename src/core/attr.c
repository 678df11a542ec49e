/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of control-file writes and formatting of control-file reads.
 *
 * The parsers mirror the kernel helpers zram relies on (memparse, kstrtoull,
 * kstrtoint, sysfs_streq, next_arg) but work on length-delimited buffers,
 * refuse embedded NULs and refuse 64-bit overflow instead of wrapping. The
 * formatters produce zram's exact sysfs text with scnprintf semantics.
 * Nothing here allocates memory.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "zr_attr.h"

/* ---- small helpers ----------------------------------------------------- */

static inline bool zr_has_nul(const char *buf, size_t len)
{
	return len && memchr(buf, '\0', len);
}

/* Length without one trailing "\n", as kstrto* and sysfs_streq allow. */
static inline size_t zr_strip_nl(const char *buf, size_t len)
{
	if (len && buf[len - 1] == '\n')
		return len - 1;
	return len;
}

static inline bool zr_isspace(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline int zr_tolower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline bool zr_isxdigit(int c)
{
	c = zr_tolower(c);
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * The kernel's _parse_integer(): consumes digits of @base from @s, stops at
 * the first non-digit, and keeps consuming after an overflow so that the
 * caller can tell overflow (-ERANGE) from junk. Returns the number of
 * characters consumed.
 */
static size_t zr_parse_digits(const char *s, size_t len, unsigned int base,
			      uint64_t *res, bool *overflow)
{
	uint64_t acc = 0;
	size_t i;

	*overflow = false;
	for (i = 0; i < len; i++) {
		int c = zr_tolower((unsigned char)s[i]);
		unsigned int val;

		if (c >= '0' && c <= '9')
			val = c - '0';
		else if (c >= 'a' && c <= 'f')
			val = c - 'a' + 10;
		else
			break;
		if (val >= base)
			break;
		if (acc > (UINT64_MAX - val) / base)
			*overflow = true;
		acc = acc * base + val;
	}
	*res = acc;
	return i;
}

/*
 * The kernel's _kstrtoull() in base 10 after the optional '+': digits, then
 * an optional "\n", then the end. Overflow wins over junk, as in the kernel.
 */
static int zr_kstrtoull(const char *s, size_t len, uint64_t *res)
{
	bool overflow;
	uint64_t val;
	size_t n;

	n = zr_parse_digits(s, len, 10, &val, &overflow);
	if (overflow)
		return -ERANGE;
	if (n == 0)
		return -EINVAL;
	if (n < len && s[n] == '\n')
		n++;
	if (n != len)
		return -EINVAL;
	*res = val;
	return 0;
}

/* memparse() suffixes: binary multiples, either case. */
static inline unsigned int zr_size_shift(char c)
{
	switch (zr_tolower((unsigned char)c)) {
	case 'k':
		return 10;
	case 'm':
		return 20;
	case 'g':
		return 30;
	case 't':
		return 40;
	case 'p':
		return 50;
	case 'e':
		return 60;
	default:
		return 0;
	}
}

/* ---- parsers ----------------------------------------------------------- */

int zr_parse_size(const char *buf, size_t len, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	const char *s = buf;
	bool overflow;
	uint64_t val;
	size_t n;

	if (zr_has_nul(buf, len))
		return -EINVAL;

	/* _parse_integer_fixup_radix() with base 0 */
	if (len && s[0] == '0') {
		if (len >= 3 && zr_tolower((unsigned char)s[1]) == 'x' &&
		    zr_isxdigit((unsigned char)s[2])) {
			base = 16;
			s += 2;
			len -= 2;
		} else {
			base = 8;
		}
	}

	n = zr_parse_digits(s, len, base, &val, &overflow);
	if (n == 0 || overflow)
		return -EINVAL;

	if (n < len) {
		shift = zr_size_shift(s[n]);
		if (shift)
			n++;
	}
	/* memparse() stops at the suffix and zram ignores what follows;
	 * only white space may follow here ("1G \r\n" from a file with DOS
	 * line ends), so that "1GB" or "1Gi" fail instead of meaning 1G. */
	while (n < len && zr_isspace((unsigned char)s[n]))
		n++;
	if (n != len)
		return -EINVAL;
	if (shift && val > (UINT64_MAX >> shift))
		return -EINVAL;

	*out = val << shift;
	return 0;
}

int zr_parse_u64(const char *buf, size_t len, uint64_t *out)
{
	if (zr_has_nul(buf, len))
		return -EINVAL;
	if (len && buf[0] == '+') {
		buf++;
		len--;
	}
	return zr_kstrtoull(buf, len, out);
}

int zr_parse_int(const char *buf, size_t len, int *out)
{
	uint64_t mag;
	int err;

	if (zr_has_nul(buf, len))
		return -EINVAL;

	if (len && buf[0] == '-') {
		/* kstrtoll: no '+' after the '-' */
		err = zr_kstrtoull(buf + 1, len - 1, &mag);
		if (err)
			return err;
		if (mag > (uint64_t)INT_MAX + 1)
			return -ERANGE;
		*out = mag ? -(int)(mag - 1) - 1 : 0;
		return 0;
	}

	err = zr_parse_u64(buf, len, &mag);
	if (err)
		return err;
	if (mag > INT_MAX)
		return -ERANGE;
	*out = (int)mag;
	return 0;
}

int zr_parse_bool_u64(const char *buf, size_t len, int *out)
{
	uint64_t val;
	int err;

	err = zr_parse_u64(buf, len, &val);
	if (err)
		return err;
	*out = val != 0;
	return 0;
}

int zr_streq(const char *buf, size_t len, const char *word)
{
	size_t wlen = strlen(word);

	if (zr_has_nul(buf, len))
		return 0;
	if (len == wlen)
		return !len || !memcmp(buf, word, len);
	if (len == wlen + 1)
		return buf[wlen] == '\n' && (!wlen || !memcmp(buf, word, wlen));
	if (wlen == len + 1)
		return word[len] == '\n' && (!len || !memcmp(buf, word, len));
	return 0;
}

int zr_attr_cstr(const char *buf, size_t len, char *out, size_t cap)
{
	if (zr_has_nul(buf, len))
		return -EINVAL;
	len = zr_strip_nl(buf, len);
	if (cap == 0 || len > cap - 1)
		return -EINVAL;
	if (len)
		memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

/* ---- key=value tokenizer ----------------------------------------------- */

static inline bool zr_kv_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

struct zr_kv_token {
	const char *key, *val;
	size_t key_len, val_len;
};

/*
 * The kernel's next_arg() on buf[*pos..len): skips separators, then takes
 * one token, which ends at a separator outside double quotes. A token may
 * start with a quote, and a value may too ("dict=\"/my dicts/a\"" or
 * "\"dict=/my dicts/a\""): those quotes, and the one that closes them at
 * the token's end, are not part of the key or value. Returns 1 with *t
 * filled and *pos past the token, 0 at the end, -EINVAL on a NUL byte or
 * an empty key ("=x" or '""', which the kernel would take as a key "").
 */
static int zr_kv_scan(const char *buf, size_t len, size_t *pos,
		      struct zr_kv_token *t)
{
	bool in_quote = false, quoted = false, has_eq = false;
	size_t i = *pos, start, end, eq = 0;

	while (i < len && zr_kv_sep(buf[i]))
		i++;
	if (i >= len) {
		*pos = len;
		return 0;
	}
	if (buf[i] == '"') {
		in_quote = quoted = true;
		i++;
	}
	for (start = i; i < len; i++) {
		if (buf[i] == '\0')
			return -EINVAL;
		if (zr_kv_sep(buf[i]) && !in_quote)
			break;
		if (!has_eq && buf[i] == '=') {
			has_eq = true;
			eq = i;
		}
		if (buf[i] == '"')
			in_quote = !in_quote;
	}
	end = i;
	if (has_eq && eq == start)
		return -EINVAL;
	/* The closing quote of a quoted token or value, if there is one. */
	quoted = quoted && end > start && buf[end - 1] == '"';
	t->key = buf + start;
	if (has_eq) {
		t->key_len = eq - start;
		t->val = buf + eq + 1;
		t->val_len = end - eq - 1;
		if (t->val_len && t->val[0] == '"') {
			t->val++;
			t->val_len--;
			quoted = t->val_len && buf[end - 1] == '"';
		}
		if (quoted)
			t->val_len--;
	} else {
		t->key_len = end - start - quoted;
		t->val = NULL;
		t->val_len = 0;
	}
	if (!t->key_len)
		return -EINVAL;	/* only quotes: '"' or '""' */
	*pos = end;
	return 1;
}

void zr_kv_init(struct zr_kv_iter *it, const char *buf, size_t len)
{
	it->buf = buf;
	it->len = len;
	it->pos = 0;
}

/*
 * The first call checks the whole buffer, so that a bad write is refused
 * before any token: either every token is good or the first call fails.
 * Errors do not advance the iterator, so they repeat.
 */
int zr_kv_next(struct zr_kv_iter *it, const char **key, size_t *key_len,
	       const char **val, size_t *val_len)
{
	struct zr_kv_token t;
	size_t pos = 0;
	int ret;

	if (it->pos == 0) {
		while ((ret = zr_kv_scan(it->buf, it->len, &pos, &t)) > 0)
			;
		if (ret < 0)
			return ret;
	}
	pos = it->pos;
	ret = zr_kv_scan(it->buf, it->len, &pos, &t);
	if (ret <= 0) {
		if (ret == 0)
			it->pos = it->len;
		return ret;
	}
	*key = t.key;
	*key_len = t.key_len;
	*val = t.val;
	*val_len = t.val_len;
	it->pos = pos;
	return 1;
}

int zr_parse_range(const char *buf, size_t len, uint64_t *lo, uint64_t *hi)
{
	const char *dash;
	uint64_t a, b;
	size_t alen;

	if (zr_has_nul(buf, len))
		return -EINVAL;
	len = zr_strip_nl(buf, len);
	if (len == 0 || memchr(buf, '\n', len))
		return -EINVAL;
	dash = memchr(buf, '-', len);
	if (!dash)
		return -EINVAL;
	alen = dash - buf;
	if (zr_parse_u64(buf, alen, &a) ||
	    zr_parse_u64(dash + 1, len - alen - 1, &b))
		return -EINVAL;
	if (a > b)
		return -ERANGE;	/* zram's parse_page_indexes */
	*lo = a;
	*hi = b;
	return 0;
}

/* ---- formatters -------------------------------------------------------- */

/* Accumulates output the way sysfs_emit_at() chains do, scnprintf style. */
struct zr_emit {
	char *buf;
	size_t cap;
	size_t at;
};

static void zr_emit(struct zr_emit *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void zr_emit(struct zr_emit *e, const char *fmt, ...)
{
	size_t room;
	va_list ap;
	int n;

	if (e->at + 1 >= e->cap)
		return;
	room = e->cap - e->at;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->at, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		e->buf[e->at] = '\0';
		return;
	}
	e->at += (size_t)n < room ? (size_t)n : room - 1;
}

static inline void zr_emit_init(struct zr_emit *e, char *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->at = 0;
	if (cap)
		buf[0] = '\0';
}

static inline int zr_emit_done(const struct zr_emit *e)
{
	return e->at > INT_MAX ? INT_MAX : (int)e->at;
}

int zr_format_mm_stat(char *buf, size_t cap, const struct zr_mm_stat *s)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit(&e, "%8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu\n",
		(unsigned long long)s->orig_data_size,
		(unsigned long long)s->compr_data_size,
		(unsigned long long)s->mem_used_total,
		(unsigned long long)s->mem_limit,
		(unsigned long long)s->mem_used_max,
		(unsigned long long)s->same_pages,
		(unsigned long long)s->pages_compacted,
		(unsigned long long)s->huge_pages,
		(unsigned long long)s->huge_pages_since);
	return zr_emit_done(&e);
}

int zr_format_io_stat(char *buf, size_t cap, const struct zr_io_stat *s)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit(&e, "%8llu %8llu 0 %8llu\n",
		(unsigned long long)s->failed_reads,
		(unsigned long long)s->failed_writes,
		(unsigned long long)s->notify_free);
	return zr_emit_done(&e);
}

int zr_format_bd_stat(char *buf, size_t cap, const struct zr_bd_stat *s)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit(&e, "%8llu %8llu %8llu\n",
		(unsigned long long)s->bd_count,
		(unsigned long long)s->bd_reads,
		(unsigned long long)s->bd_writes);
	return zr_emit_done(&e);
}

int zr_format_debug_stat(char *buf, size_t cap, uint64_t miss_free)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit(&e, "version: %d\n0 %8llu\n", 1,
		(unsigned long long)miss_free);
	return zr_emit_done(&e);
}

int zr_format_u64(char *buf, size_t cap, uint64_t value)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit(&e, "%llu\n", (unsigned long long)value);
	return zr_emit_done(&e);
}

/* zcomp_available_show(); NULL entries are skipped. */
static void zr_emit_algorithms(struct zr_emit *e, const char *const *names,
			       int count, int selected)
{
	int i;

	for (i = 0; names && i < count; i++) {
		if (!names[i])
			continue;
		if (i == selected)
			zr_emit(e, "[%s] ", names[i]);
		else
			zr_emit(e, "%s ", names[i]);
	}
	zr_emit(e, "\n");
}

int zr_format_algorithms(char *buf, size_t cap, const char *const *names,
			 int count, int selected)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit_algorithms(&e, names, count, selected);
	return zr_emit_done(&e);
}

int zr_format_algorithms_prio(char *buf, size_t cap, int prio,
			      const char *const *names, int count,
			      int selected)
{
	struct zr_emit e;

	zr_emit_init(&e, buf, cap);
	zr_emit(&e, "#%d: ", prio);
	zr_emit_algorithms(&e, names, count, selected);
	return zr_emit_done(&e);
}
