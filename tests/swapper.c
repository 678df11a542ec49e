// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * swapper: the checked swap workload of tests/swap-pressure.sh, compiled
 * by the test itself (cc -O2 -o swapper swapper.c).
 *
 *   swapper MIB [OPS]
 *   swapper --dump MIB     writes the initial pages to stdout (to measure
 *                          how they compress)
 *
 * Fills MIB MiB of anonymous memory with realistic 4 KiB pages, then does
 * OPS (default: one per page) random operations, each checking one page
 * and, every other time, rewriting it as a new version; then checks every
 * page once more. Run it in a memory cgroup limited below MIB: the pages
 * go out to swap and come back, and every one of them must come back as
 * it was last written.
 *
 * Page contents, chosen per page by a hash of its index:
 *   5 %  all zero                     (zram: same_pages)
 *   3 %  one repeated 64-bit word     (zram: same_pages)
 *  10 %  a quarter random bytes, text (compresses poorly)
 *  37 %  log lines with varying numbers
 *  45 %  text from a list of words and phrases
 * which lz4 stores at about a third of the size, 4 KiB page by 4 KiB page.
 * Non-same pages start with a header: index ^ MAGIC, the version, a hash
 * of index and version; they end with a 64-bit checksum of the rest.
 * A page is checked against a regenerated copy (exact bytes); a wrong one
 * is classified (zeros, another page's index, an older version, garbled)
 * so that a report says what went wrong.
 *
 * Output: one "PHASE SECONDS" line per phase, "swapped_kib N" (largest
 * VmSwap seen), "corrupt N" and "OK" or "FAILED". Exit status 0 when
 * every page was intact, 1 when some were not, 2 on a setup error.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096
#define WORDS (PAGE / 8)
#define MAGIC 0x7a72616d66732e32ull /* "zramfs.2" */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t next(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	return mix(*s);
}

static uint64_t checksum(const uint64_t *w, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return mix(h);
}

enum kind { K_ZERO, K_SAME, K_MIXED, K_LOG, K_TEXT };

static enum kind page_kind(size_t idx)
{
	unsigned v = (unsigned)(mix(idx ^ MAGIC) % 100);

	if (v < 5)
		return K_ZERO;
	if (v < 8)
		return K_SAME;
	if (v < 18)
		return K_MIXED;
	if (v < 55)
		return K_LOG;
	return K_TEXT;
}

static const char *const words[64] = {
	"the", "of", "and", "to", "in", "is", "that", "for", "it", "as",
	"was", "with", "be", "by", "on", "not", "0", "1", "42", "4096",
	"memory", "page", "swap", "device", "compress", "kernel", "write",
	"read", "buffer", "return", "static", "struct", "const", "unsigned",
	"int", "char", "void", "if", "else", "while", "error", "value",
	"size", "offset", "length", "data", "file", "user", "system", "time",
	"function", "pointer", "list", "node", "table", "index", "count",
	"lock", "thread", "queue", "request", "reply", "status", "zramfs",
};
static const char *const phrases[32] = {
	"\n\treturn 0;\n}\n", "if (ret < 0)\n\t\tgoto out;",
	"error: failed to open file", "for (i = 0; i < n; i++) {",
	"static const char *", "<div class=\"row\">",
	"</span></td></tr>\n", "\"name\": \"", "\", \"value\": ",
	"INFO  [main] request ", "completed in ", " ms\n",
	"#include <stdio.h>\n", "the quick brown fox ",
	"Content-Type: text/html\r\n", "SELECT * FROM users WHERE id = ",
	"/usr/lib/x86_64-linux-gnu/", "def __init__(self, ", "self.",
	"import os\nimport sys\n", "    }\n\n    public void ",
	"std::vector<std::string> ", "0x00007f3a", "null, ", "true, ",
	"false, ", "undefined", "GET /index.html HTTP/1.1\r\n",
	"-rw-r--r-- 1 root root ", "user@example.com", "\n\n", "\t",
};
static char wordbuf[64][16], phrasebuf[32][32];
static unsigned char wordlen[64], phraselen[32];

/* Words and phrases, about three phrases to a word. */
static void fill_text(unsigned char *p, size_t n, uint64_t *s)
{
	size_t o = 0;

	while (o + 4 * 33 <= n) {
		uint64_t x = next(s);

		for (int i = 0; i < 4; i++, x >>= 16) {
			unsigned sel = x & 63;

			if ((x >> 6) & 3) {
				memcpy(p + o, phrasebuf[sel & 31], 32);
				o += phraselen[sel & 31];
			} else {
				memcpy(p + o, wordbuf[sel], 16);
				o += wordlen[sel];
				p[o++] = ((x >> 8) & 7) == 0 ? '\n' : ' ';
			}
		}
	}
	memset(p + o, ' ', n - o);
}

static const char *const events[8] = {
	"request completed", "request queued", "page written",
	"page read", "slot freed", "cache miss", "retrying", "ok",
};

/* Syslog-like lines: a shared prefix, small varying numbers. */
static void fill_log(unsigned char *p, size_t n, uint64_t *s, size_t idx)
{
	char line[160];
	size_t o = 0;
	unsigned sec = (unsigned)(idx % 86400);

	for (;;) {
		uint64_t x = next(s);
		int len;

		sec += (unsigned)(x & 3);
		len = snprintf(line, sizeof(line),
			       "Nov 22 %02u:%02u:%02u host zramfs[%u]: zram%u:"
			       " %s offset %u length 4096 status %u\n",
			       sec / 3600 % 24, sec / 60 % 60, sec % 60,
			       1000 + (unsigned)(idx % 7), (unsigned)(x >> 2) & 1,
			       events[(x >> 3) & 7],
			       (unsigned)((x >> 6) & 0x3ff) * 4096,
			       (unsigned)(x >> 40) % 3);
		if (len <= 0 || o + (size_t)len > n)
			break;
		memcpy(p + o, line, (size_t)len);
		o += (size_t)len;
	}
	memset(p + o, ' ', n - o);
}

/* The exact content of page idx at version ver. */
static void make_page(unsigned char *p, size_t idx, uint32_t ver)
{
	uint64_t *w = (uint64_t *)p;
	uint64_t s = mix(idx * 0x100000001b3ull + ver);

	switch (page_kind(idx)) {
	case K_ZERO:
		memset(p, 0, PAGE);
		return;
	case K_SAME: {
		uint64_t v = mix(idx + ((uint64_t)ver << 40)) | 1;

		for (size_t i = 0; i < WORDS; i++)
			w[i] = v;
		return;
	}
	case K_MIXED:
		for (size_t i = 3; i < WORDS / 4; i++)
			w[i] = next(&s);
		fill_text(p + PAGE / 4, 3 * PAGE / 4 - 8, &s);
		break;
	case K_LOG:
		fill_log(p + 24, PAGE - 32, &s, idx);
		break;
	case K_TEXT:
		fill_text(p + 24, PAGE - 32, &s);
		break;
	}
	w[0] = idx ^ MAGIC;
	w[1] = ver;
	w[2] = mix(idx ^ ((uint64_t)ver << 32));
	w[WORDS - 1] = checksum(w, WORDS - 1);
}

static size_t npages, corrupt;
static uint32_t *version;
static unsigned char expect[PAGE];

static int all_zero(const unsigned char *p)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Checks page idx; reports the first few bad pages with a diagnosis. */
static int check_page(const unsigned char *p, size_t idx, const char *phase)
{
	const uint64_t *w = (const uint64_t *)p;
	const char *what;

	make_page(expect, idx, version[idx]);
	if (!memcmp(p, expect, PAGE))
		return 0;
	if (all_zero(p))
		what = "reads as zeros";
	else if (w[0] != (idx ^ MAGIC) && (w[0] ^ MAGIC) < npages)
		what = "holds another page";
	else if (w[0] == (idx ^ MAGIC) && w[1] != version[idx] &&
		 w[WORDS - 1] == checksum(w, WORDS - 1))
		what = "holds another (older?) version";
	else
		what = "is garbled";
	if (corrupt++ < 20)
		fprintf(stderr, "swapper: %s: page %zu (version %u) %s"
			" (first words %016llx %016llx)\n", phase, idx,
			version[idx], what, (unsigned long long)w[0],
			(unsigned long long)w[1]);
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_swap_kib;

static void note_swap(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %ld", &v) == 1 && v > max_swap_kib)
			max_swap_kib = v;
	fclose(f);
}

int main(int argc, char **argv)
{
	unsigned char *buf;
	size_t ops, i, idx;
	uint64_t rng = 0x5eed;
	double t0, t;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: swapper MIB [OPS] | --dump MIB\n");
		return 2;
	}
	for (i = 0; i < 64; i++) {
		wordlen[i] = (unsigned char)strlen(words[i]);
		memcpy(wordbuf[i], words[i], wordlen[i]);
	}
	for (i = 0; i < 32; i++) {
		phraselen[i] = (unsigned char)strlen(phrases[i]);
		memcpy(phrasebuf[i], phrases[i], phraselen[i]);
	}
	if (!strcmp(argv[1], "--dump")) {
		npages = strtoul(argv[2], NULL, 0) * (1024 * 1024 / PAGE);
		for (i = 0; i < npages; i++) {
			make_page(expect, i, 0);
			if (fwrite(expect, PAGE, 1, stdout) != 1)
				return 2;
		}
		return fflush(stdout) ? 2 : 0;
	}
	npages = strtoul(argv[1], NULL, 0) * (1024 * 1024 / PAGE);
	ops = argc > 2 ? strtoul(argv[2], NULL, 0) : npages;
	if (!npages) {
		fprintf(stderr, "swapper: bad size\n");
		return 2;
	}
	version = calloc(npages, sizeof(*version));
	buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!version || buf == MAP_FAILED) {
		perror("swapper: allocating");
		return 2;
	}
	/* 4 KiB pages, as swap stores them. */
	madvise(buf, npages * PAGE, MADV_NOHUGEPAGE);
	setvbuf(stdout, NULL, _IOLBF, 0);

	t0 = t = now();
	for (i = 0; i < npages; i++)
		make_page(buf + i * PAGE, i, 0);
	note_swap();
	printf("fill %.2f\n", now() - t);

	t = now();
	for (i = 0; i < npages; i++)
		check_page(buf + i * PAGE, i, "verify");
	note_swap();
	printf("verify %.2f\n", now() - t);

	t = now();
	for (i = 0; i < ops; i++) {
		uint64_t x = next(&rng);

		idx = x % npages;
		if (check_page(buf + idx * PAGE, idx, "random"))
			continue;
		if (x >> 63) {
			version[idx]++;
			make_page(buf + idx * PAGE, idx, version[idx]);
		}
		if (i % 16384 == 0)
			note_swap();
	}
	note_swap();
	printf("random %.2f\n", now() - t);

	t = now();
	for (i = 0; i < npages; i++)
		check_page(buf + i * PAGE, i, "final");
	printf("final %.2f\n", now() - t);
	printf("total %.2f\n", now() - t0);
	printf("swapped_kib %ld\n", max_swap_kib);
	printf("corrupt %zu\n", corrupt);
	if (corrupt) {
		printf("FAILED\n");
		return 1;
	}
	printf("OK\n");
	return 0;
}
