// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zramfsctl: list and set up zramfs devices, as zramctl(8) does for zram.
 *
 * A zramfs mount is a line of type fuse.zramfs in /proc/self/mountinfo.
 * Its devices are the directories MOUNTPOINT/control/zramN; a device is
 * named by its data file MOUNTPOINT/zramN (zramctl's /dev/zramN). All
 * values come from the control files, except two columns:
 *  - STREAMS is the daemon's worker thread count: the threads= option on
 *    the command line of the zramfs process serving the mount, else the
 *    number of online CPUs capped at 64, as the daemon computes it; "-"
 *    when no such process is found.
 *  - MOUNTPOINT is where the loop device backed by the data file is used
 *    (/sys/block/loopN/loop/backing_file): "[SWAP]" when it is listed in
 *    /proc/swaps (as zramctl shows a swap zram), else where it is mounted.
 *
 * Every function returns 0 or a negative errno and leaves the message to
 * its caller, except the actions run from main(), which print one line
 * "zramfsctl: ..." on stderr. Exit status: 0, or 1 on any error (zramctl's
 * EXIT_FAILURE).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zr_unescape.h"

#define PROG "zramfsctl"
#define FSTYPE "fuse.zramfs"
/* The daemon's cap on worker threads (MAX_THREADS in src/fuse/main.c). */
#define DAEMON_MAX_THREADS 64
#define ATTR_MAX 4096

/* ---- messages ---- */

static void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- columns ---- */

enum {
	COL_NAME,
	COL_DISKSIZE,
	COL_DATA,
	COL_COMPR,
	COL_ALGORITHM,
	COL_STREAMS,
	COL_ZEROPAGES,
	COL_TOTAL,
	COL_MEMLIMIT,
	COL_MEMUSED,
	COL_MIGRATED,
	COL_MOUNTPOINT,
	NCOLS
};

enum col_kind {
	KIND_TEXT,	/* a string */
	KIND_SIZE,	/* bytes: human-readable unless --bytes */
	KIND_COUNT,	/* a plain number */
};

struct colinfo {
	const char *name;
	enum col_kind kind;
	int right;		/* right-aligned in the table */
	const char *none;	/* shown when the value is unknown */
	const char *help;
};

static const struct colinfo infos[NCOLS] = {
	[COL_NAME] = { "NAME", KIND_TEXT, 0, "",
		"zramfs data file" },
	[COL_DISKSIZE] = { "DISKSIZE", KIND_SIZE, 1, "",
		"limit on the uncompressed amount of data" },
	[COL_DATA] = { "DATA", KIND_SIZE, 1, "",
		"uncompressed size of stored data" },
	[COL_COMPR] = { "COMPR", KIND_SIZE, 1, "",
		"compressed size of stored data" },
	[COL_ALGORITHM] = { "ALGORITHM", KIND_TEXT, 0, "",
		"the selected compression algorithm" },
	[COL_STREAMS] = { "STREAMS", KIND_COUNT, 1, "-",
		"worker threads of the zramfs daemon" },
	[COL_ZEROPAGES] = { "ZERO-PAGES", KIND_COUNT, 1, "",
		"empty pages with no allocated memory" },
	[COL_TOTAL] = { "TOTAL", KIND_SIZE, 1, "",
		"all memory including allocator fragmentation and metadata"
		" overhead" },
	[COL_MEMLIMIT] = { "MEM-LIMIT", KIND_SIZE, 1, "",
		"memory limit used to store compressed data" },
	[COL_MEMUSED] = { "MEM-USED", KIND_SIZE, 1, "",
		"most memory ever used to store compressed data" },
	[COL_MIGRATED] = { "MIGRATED", KIND_COUNT, 1, "",
		"number of objects migrated by compaction" },
	[COL_MOUNTPOINT] = { "MOUNTPOINT", KIND_TEXT, 0, "",
		"where the data file's loop device is mounted or [SWAP]" },
};

static const int default_columns[] = {
	COL_NAME, COL_ALGORITHM, COL_DISKSIZE, COL_DATA, COL_COMPR,
	COL_TOTAL, COL_STREAMS, COL_MOUNTPOINT,
};

#define MAX_COLUMNS (NCOLS * 2)

struct output {
	int columns[MAX_COLUMNS];
	int ncolumns;
	int bytes;		/* -b: sizes in bytes */
	int noheadings;		/* -n */
	int raw;		/* --raw */
	int json;		/* -J */
};

static int column_by_name(const char *name, size_t len)
{
	int i;

	for (i = 0; i < NCOLS; i++) {
		if (strlen(infos[i].name) == len &&
		    !strncasecmp(infos[i].name, name, len))
			return i;
	}
	return -1;
}

/* Parses "NAME,NAME..." (or "+NAME,..." to add to the default list). */
static int parse_columns(const char *list, struct output *out)
{
	const char *p = list, *end;
	int id;

	if (*p == '+') {
		if (!out->ncolumns) {
			memcpy(out->columns, default_columns,
			       sizeof(default_columns));
			out->ncolumns = sizeof(default_columns) /
					sizeof(default_columns[0]);
		}
		p++;
	} else {
		out->ncolumns = 0;
	}
	for (;;) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		id = column_by_name(p, (size_t)(end - p));
		if (id < 0) {
			errmsg("unknown column: %.*s", (int)(end - p), p);
			return -EINVAL;
		}
		if (out->ncolumns == MAX_COLUMNS) {
			errmsg("too many columns: %s", list);
			return -E2BIG;
		}
		out->columns[out->ncolumns++] = id;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* ---- sizes ---- */

/*
 * Formats like util-linux size_to_human_string(SIZE_SUFFIX_1LETTER): the
 * largest binary unit not above the value, one decimal rounded half up and
 * dropped when zero: 0B, 512B, 4G, 1.5M.
 */
static void human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char letters[] = "BKMGTPE";
	uint64_t whole, frac;
	int exp = 0;

	while (exp < 60 && bytes >= (UINT64_C(1) << (exp + 10)))
		exp += 10;
	whole = bytes >> exp;
	frac = exp ? bytes & ((UINT64_C(1) << exp) - 1) : 0;
	if (frac) {
		/* thousandths of the unit, then tenths rounded half up */
		if (frac >= UINT64_MAX / 1000)
			frac = ((frac >> 10) * 1000) >> (exp - 10);
		else
			frac = (frac * 1000) >> exp;
		frac = (frac + 50) / 100;
		if (frac == 10) {
			whole++;
			frac = 0;
		}
	}
	if (frac)
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", whole, frac,
			 letters[exp / 10]);
	else
		snprintf(buf, size, "%" PRIu64 "%c", whole,
			 letters[exp / 10]);
}

static int scale(uint64_t *x, unsigned int base, int power)
{
	while (power--) {
		if (*x > UINT64_MAX / base)
			return -ERANGE;
		*x *= base;
	}
	return 0;
}

/*
 * Parses a size as zramctl does: a number, optionally with a fraction,
 * followed by K, M, G, T, P or E (powers of 1024, optionally written KiB)
 * or KB, MB, ... (powers of 1000). A fraction needs a suffix.
 */
static int parse_size(const char *str, uint64_t *out)
{
	static const char suffixes[] = "KMGTPEZY";
	uint64_t x = 0, unit = 1, frac = 0, div = 1;
	const char *p = str, *s;
	unsigned int base = 1024;
	int power, ret;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (div < 1000000000) {	/* nine digits are plenty */
				frac = frac * 10 + (uint64_t)(*p - '0');
				div *= 10;
			}
		}
		if (!*p)
			return -EINVAL;		/* a fraction needs a unit */
	}
	if (!*p) {
		*out = x;
		return 0;
	}
	s = strchr(suffixes, toupper((unsigned char)*p));
	if (!s)
		return -EINVAL;
	power = (int)(s - suffixes) + 1;
	p++;
	if (!strcmp(p, "iB") || !strcmp(p, "ib"))
		base = 1024;
	else if (!strcmp(p, "B") || !strcmp(p, "b"))
		base = 1000;
	else if (*p)
		return -EINVAL;
	ret = scale(&unit, base, power);
	if (!ret)
		ret = scale(&x, base, power);
	if (ret)
		return ret;
	/* div <= 10^9 and frac < div: neither product overflows */
	frac = unit / div * frac + unit % div * frac / div;
	if (x > UINT64_MAX - frac)
		return -ERANGE;
	*out = x + frac;
	return 0;
}

/* ---- files ---- */

/* Reads a small file into buf, without its trailing newline. */
static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (len < 0)
		return -err;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	return 0;
}

/* Writes value in one write(), as echo does; a short write is EIO. */
static int write_file(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t done;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	done = write(fd, value, len);
	err = errno;
	if (close(fd) && done >= 0) {
		done = -1;
		err = errno;
	}
	if (done < 0)
		return -err;
	return (size_t)done == len ? 0 : -EIO;
}

static int join(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int join(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	return *end ? -EINVAL : 0;
}

/* ---- mounts ---- */

struct mount_entry {
	dev_t dev;		/* field 3, major:minor */
	char *target;		/* field 5, unescaped */
	char *fstype;		/* first field after " - " */
};

/* Splits one mountinfo line in place; -EINVAL if it is malformed. */
static int parse_mountinfo_line(char *line, struct mount_entry *m)
{
	char *field[6], *save, *tok;
	unsigned int major, minor;
	int i;

	tok = strtok_r(line, " \n", &save);
	for (i = 0; i < 6 && tok; i++) {
		field[i] = tok;
		tok = strtok_r(NULL, " \n", &save);
	}
	if (i < 6 || sscanf(field[2], "%u:%u", &major, &minor) != 2)
		return -EINVAL;
	while (tok && strcmp(tok, "-"))
		tok = strtok_r(NULL, " \n", &save);	/* optional fields */
	if (!tok)
		return -EINVAL;
	m->fstype = strtok_r(NULL, " \n", &save);
	if (!m->fstype)
		return -EINVAL;
	m->dev = makedev(major, minor);
	m->target = field[4];
	zr_unescape_octal(m->target);
	return 0;
}

/* Calls fn on every mount until it returns non-zero, which is returned. */
static int for_each_mount(int (*fn)(const struct mount_entry *, void *),
			  void *arg)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	struct mount_entry m;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!f)
		return -errno;
	while (!ret && getline(&line, &cap, f) > 0) {
		if (!parse_mountinfo_line(line, &m))
			ret = fn(&m, arg);
	}
	free(line);
	fclose(f);
	return ret;
}

struct strlist {
	char **v;
	size_t n;
};

static void strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strlist_add(struct strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n] = strdup(s);
	if (!v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int add_zramfs_mount(const struct mount_entry *m, void *arg)
{
	if (strcmp(m->fstype, FSTYPE))
		return 0;
	return strlist_add(arg, m->target);
}

/* Every zramfs mount point, in mount order. */
static int zramfs_mounts(struct strlist *mounts)
{
	return for_each_mount(add_zramfs_mount, mounts);
}

/* ---- devices ---- */

struct zdev {
	const char *mnt;	/* the mount point, from a struct strlist */
	int id;			/* N of zramN */
};

struct devlist {
	struct zdev *v;
	size_t n;
};

static int devlist_add(struct devlist *l, const char *mnt, int id)
{
	struct zdev *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n].mnt = mnt;
	v[l->n].id = id;
	l->n++;
	return 0;
}

static int dev_attr_path(const struct zdev *d, const char *attr, char *buf,
			 size_t size)
{
	return join(buf, size, "%s/control/zram%d/%s", d->mnt, d->id, attr);
}

static int dev_data_path(const struct zdev *d, char *buf, size_t size)
{
	return join(buf, size, "%s/zram%d", d->mnt, d->id);
}

static int dev_read(const struct zdev *d, const char *attr, char *buf,
		    size_t size)
{
	char path[PATH_MAX];
	int ret = dev_attr_path(d, attr, path, sizeof(path));

	return ret ? ret : read_file(path, buf, size);
}

static int dev_write(const struct zdev *d, const char *attr,
		     const char *value)
{
	char path[PATH_MAX];
	int ret = dev_attr_path(d, attr, path, sizeof(path));

	return ret ? ret : write_file(path, value);
}

static int dev_disksize(const struct zdev *d, uint64_t *size)
{
	char buf[64];
	int ret = dev_read(d, "disksize", buf, sizeof(buf));

	return ret ? ret : parse_u64(buf, size);
}

static int dev_initialised(const struct zdev *d)
{
	uint64_t size;

	return !dev_disksize(d, &size) && size > 0;
}

/* "zram12" -> 12; -1 for anything else. */
static int device_id(const char *name)
{
	char *end;
	long id;

	if (strncmp(name, "zram", 4) || !isdigit((unsigned char)name[4]))
		return -1;
	id = strtol(name + 4, &end, 10);
	if (*end || id > INT_MAX)
		return -1;
	return (int)id;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The device ids of a mount, ascending. */
static int mount_device_ids(const char *mnt, int **ids, size_t *n)
{
	char path[PATH_MAX];
	struct dirent *e;
	int *v = NULL, *grown, id, ret;
	size_t count = 0;
	DIR *dir;

	ret = join(path, sizeof(path), "%s/control", mnt);
	if (ret)
		return ret;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		id = device_id(e->d_name);
		if (id < 0)
			continue;
		grown = realloc(v, (count + 1) * sizeof(*v));
		if (!grown) {
			free(v);
			closedir(dir);
			return -ENOMEM;
		}
		v = grown;
		v[count++] = id;
	}
	closedir(dir);
	if (count)
		qsort(v, count, sizeof(*v), cmp_int);
	*ids = v;
	*n = count;
	return 0;
}

/* Appends the initialised devices of a mount (zramctl lists only those). */
static int add_mount_devices(struct devlist *l, const char *mnt)
{
	struct zdev d = { .mnt = mnt };
	size_t i, n;
	int *ids, ret;

	ret = mount_device_ids(mnt, &ids, &n);
	if (ret)
		return ret;
	for (i = 0; i < n && !ret; i++) {
		d.id = ids[i];
		if (dev_initialised(&d))
			ret = devlist_add(l, mnt, ids[i]);
	}
	free(ids);
	return ret;
}

static const char *find_mount_point(const struct strlist *mounts,
				    const char *path)
{
	size_t i;

	for (i = 0; i < mounts->n; i++) {
		if (!strcmp(mounts->v[i], path))
			return mounts->v[i];
	}
	return NULL;
}

/*
 * Resolves a command-line path against the zramfs mounts: a mount point
 * (*id = -1) or a data file MOUNTPOINT/zramN; *mnt points into mounts.
 * -ENODEV: the path exists but is neither.
 */
static int resolve_path(const char *arg, const struct strlist *mounts,
			const char **mnt, int *id)
{
	char real[PATH_MAX], *slash;

	if (!realpath(arg, real))
		return -errno;
	*id = -1;
	*mnt = find_mount_point(mounts, real);
	if (*mnt)
		return 0;
	slash = strrchr(real, '/');
	*id = device_id(slash + 1);
	if (*id < 0)
		return -ENODEV;
	*slash = '\0';
	*mnt = find_mount_point(mounts, slash == real ? "/" : real);
	return *mnt ? 0 : -ENODEV;
}

/* A data file argument: its device, or a message and an error. */
static int resolve_data_file(const char *arg, const struct strlist *mounts,
			     struct zdev *d)
{
	int ret = resolve_path(arg, mounts, &d->mnt, &d->id);

	if (!ret && d->id < 0)
		ret = -ENODEV;
	if (ret == -ENODEV)
		errmsg("%s: not a zramfs data file", arg);
	else if (ret)
		errmsg("%s: %s", arg, strerror(-ret));
	return ret;
}

/* ---- STREAMS: the daemon's worker threads ---- */

/* Collapses "//", "/./" and "/../" of an absolute path, in place. */
static void normalise_path(char *path)
{
	char *in = path, *out = path;

	while (*in) {
		while (*in == '/')
			in++;
		if (in[0] == '.' && (in[1] == '/' || !in[1])) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
			while (out > path && *--out != '/')
				;
			continue;
		}
		if (!*in)
			break;
		*out++ = '/';
		while (*in && *in != '/')
			*out++ = *in++;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/*
 * Whether the daemon's mountpoint argument names mnt (canonical, from
 * mountinfo). Symlinks are resolved in the parent directory only: the
 * mount point itself belongs to a daemon that may not answer.
 */
static int same_mountpoint(int pid, const char *arg, const char *mnt)
{
	char cwd[PATH_MAX], link[64], path[PATH_MAX * 2], real[PATH_MAX];
	char resolved[PATH_MAX * 2], *base;
	ssize_t len;

	if (arg[0] == '/') {
		snprintf(path, sizeof(path), "%s", arg);
	} else {
		snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
		len = readlink(link, cwd, sizeof(cwd) - 1);
		if (len <= 0)
			return 0;
		cwd[len] = '\0';
		snprintf(path, sizeof(path), "%s/%s", cwd, arg);
	}
	normalise_path(path);
	if (!strcmp(path, mnt))
		return 1;
	base = strrchr(path, '/');
	if (base == path)
		return 0;
	*base++ = '\0';
	if (!realpath(path, real))
		return 0;
	snprintf(resolved, sizeof(resolved), "%s/%s", real, base);
	normalise_path(resolved);
	return !strcmp(resolved, mnt);
}

/* The last threads=N in an -o list, kept in *threads. */
static void scan_threads_option(const char *opts, long *threads)
{
	const char *p = opts;
	char *end;
	long v;

	while (p) {
		if (!strncmp(p, "threads=", 8)) {
			v = strtol(p + 8, &end, 10);
			if (end != p + 8 && (*end == ',' || !*end))
				*threads = v;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
}

/*
 * Reads a zramfs command line ("zramfs [-f] [-o OPTS] [SOURCE] MOUNTPOINT"
 * as typed or as mount.fuse3 runs it): its last non-option argument and
 * its threads= option (0 if none).
 */
static int parse_daemon_cmdline(int pid, char *mp, size_t mp_size,
				long *threads)
{
	char path[64], buf[ATTR_MAX * 2], *arg, *end;
	int fd, expect_opts = 0, first = 1;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -EINVAL;
	buf[len] = '\0';
	*mp = '\0';
	*threads = 0;
	end = buf + len;
	for (arg = buf; arg < end; arg += strlen(arg) + 1) {
		if (first) {
			first = 0;	/* argv[0] */
		} else if (expect_opts) {
			scan_threads_option(arg, threads);
			expect_opts = 0;
		} else if (!strcmp(arg, "-o")) {
			expect_opts = 1;
		} else if (!strncmp(arg, "-o", 2)) {
			scan_threads_option(arg + 2, threads);
		} else if (arg[0] != '-') {
			snprintf(mp, mp_size, "%s", arg);
		}
	}
	return *mp ? 0 : -EINVAL;
}

static long default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > DAEMON_MAX_THREADS ? DAEMON_MAX_THREADS : n;
}

/* The worker thread count of the daemon serving mnt, or -ESRCH. */
static long daemon_threads(const char *mnt)
{
	char path[64], comm[32], mp[PATH_MAX];
	long threads, found = -ESRCH;
	struct dirent *e;
	DIR *proc;
	char *end;
	long pid;

	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (found < 0 && (e = readdir(proc))) {
		pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if (read_file(path, comm, sizeof(comm)) ||
		    strcmp(comm, "zramfs"))
			continue;
		if (parse_daemon_cmdline((int)pid, mp, sizeof(mp), &threads) ||
		    !same_mountpoint((int)pid, mp, mnt))
			continue;
		found = threads > 0 ? threads : default_threads();
	}
	closedir(proc);
	return found;
}

/* ---- MOUNTPOINT: where the loop device of a data file is used ---- */

static int is_swap(dev_t dev)
{
	FILE *f = fopen("/proc/swaps", "re");
	char *line = NULL, *name, *save;
	size_t cap = 0;
	struct stat st;
	int found = 0;

	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		name = strtok_r(line, " \t\n", &save);
		if (!name || name[0] != '/')
			continue;	/* the header */
		zr_unescape_octal(name);
		found = !stat(name, &st) && S_ISBLK(st.st_mode) &&
			st.st_rdev == dev;
	}
	free(line);
	fclose(f);
	return found;
}

struct mount_search {
	dev_t dev;
	char *out;
	size_t size;
};

static int match_mount_dev(const struct mount_entry *m, void *arg)
{
	struct mount_search *s = arg;

	if (m->dev != s->dev)
		return 0;
	snprintf(s->out, s->size, "%s", m->target);
	return 1;
}

/* "[SWAP]" or the mount point of block device dev; "" if unused. */
static void blockdev_usage(dev_t dev, char *out, size_t size)
{
	struct mount_search s = { dev, out, size };

	*out = '\0';
	if (is_swap(dev))
		snprintf(out, size, "[SWAP]");
	else
		for_each_mount(match_mount_dev, &s);
}

/* Where a loop device backed by datafile is used; "" if nowhere. */
static void loop_usage(const char *datafile, char *out, size_t size)
{
	char path[PATH_MAX], backing[PATH_MAX], devno[32];
	unsigned int major, minor;
	struct dirent *e;
	DIR *dir;

	*out = '\0';
	dir = opendir("/sys/block");
	if (!dir)
		return;
	while (!*out && (e = readdir(dir))) {
		if (strncmp(e->d_name, "loop", 4))
			continue;
		if (join(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 e->d_name) ||
		    read_file(path, backing, sizeof(backing)) ||
		    strcmp(backing, datafile))
			continue;
		if (join(path, sizeof(path), "/sys/block/%s/dev", e->d_name) ||
		    read_file(path, devno, sizeof(devno)) ||
		    sscanf(devno, "%u:%u", &major, &minor) != 2)
			continue;
		blockdev_usage(makedev(major, minor), out, size);
	}
	closedir(dir);
}

/* ---- table rows ---- */

enum {
	MM_ORIG_DATA_SIZE,
	MM_COMPR_DATA_SIZE,
	MM_MEM_USED_TOTAL,
	MM_MEM_LIMIT,
	MM_MEM_USED_MAX,
	MM_SAME_PAGES,
	MM_PAGES_COMPACTED,
	MM_FIELDS		/* the fields zramctl reads */
};

static int read_mm_stat(const struct zdev *d, uint64_t *v)
{
	char buf[ATTR_MAX], *p = buf, *end;
	int ret, i;

	ret = dev_read(d, "mm_stat", buf, sizeof(buf));
	if (ret)
		return ret;
	for (i = 0; i < MM_FIELDS; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (end == p || errno)
			return -EINVAL;
		p = end;
	}
	return 0;
}

/* "lz4 [zstd] lz4hc" -> "zstd" */
static int read_algorithm(const struct zdev *d, char *out, size_t size)
{
	char buf[ATTR_MAX], *open, *close;
	int ret = dev_read(d, "comp_algorithm", buf, sizeof(buf));

	if (ret)
		return ret;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close || close == open + 1)
		return -EINVAL;
	*close = '\0';
	snprintf(out, size, "%s", open + 1);
	return 0;
}

struct row_cache {
	uint64_t mm[MM_FIELDS];
	int mm_ret;		/* 1: not read yet */
	long threads;		/* 0: not looked up yet */
};

static char *size_cell(uint64_t v, const struct output *out)
{
	char buf[64];

	if (out->bytes)
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
	else
		human_size(v, buf, sizeof(buf));
	return strdup(buf);
}

static char *mm_cell(const struct zdev *d, struct row_cache *c, int field,
		     int kind, const struct output *out)
{
	char buf[32];

	if (c->mm_ret == 1)
		c->mm_ret = read_mm_stat(d, c->mm);
	if (c->mm_ret)
		return NULL;
	if (kind == KIND_SIZE)
		return size_cell(c->mm[field], out);
	snprintf(buf, sizeof(buf), "%" PRIu64, c->mm[field]);
	return strdup(buf);
}

/* One cell's text, or NULL when the value is unknown. */
static char *fill_cell(const struct zdev *d, int col, struct row_cache *c,
		       const struct output *out)
{
	char buf[PATH_MAX], where[PATH_MAX];
	uint64_t size;

	switch (col) {
	case COL_NAME:
		return dev_data_path(d, buf, sizeof(buf)) ? NULL : strdup(buf);
	case COL_DISKSIZE:
		return dev_disksize(d, &size) ? NULL : size_cell(size, out);
	case COL_DATA:
		return mm_cell(d, c, MM_ORIG_DATA_SIZE, KIND_SIZE, out);
	case COL_COMPR:
		return mm_cell(d, c, MM_COMPR_DATA_SIZE, KIND_SIZE, out);
	case COL_ALGORITHM:
		return read_algorithm(d, buf, sizeof(buf)) ? NULL : strdup(buf);
	case COL_STREAMS:
		if (!c->threads)
			c->threads = daemon_threads(d->mnt);
		if (c->threads < 0)
			return NULL;
		snprintf(buf, sizeof(buf), "%ld", c->threads);
		return strdup(buf);
	case COL_ZEROPAGES:
		return mm_cell(d, c, MM_SAME_PAGES, KIND_COUNT, out);
	case COL_TOTAL:
		return mm_cell(d, c, MM_MEM_USED_TOTAL, KIND_SIZE, out);
	case COL_MEMLIMIT:
		return mm_cell(d, c, MM_MEM_LIMIT, KIND_SIZE, out);
	case COL_MEMUSED:
		return mm_cell(d, c, MM_MEM_USED_MAX, KIND_SIZE, out);
	case COL_MIGRATED:
		return mm_cell(d, c, MM_PAGES_COMPACTED, KIND_COUNT, out);
	case COL_MOUNTPOINT:
		if (dev_data_path(d, buf, sizeof(buf)))
			return NULL;
		loop_usage(buf, where, sizeof(where));
		return *where ? strdup(where) : NULL;
	}
	return NULL;
}

struct table {
	const struct output *out;
	char **cells;		/* nrows x out->ncolumns, NULL = unknown */
	size_t nrows;
};

static void table_free(struct table *t)
{
	size_t i, n = t->nrows * (size_t)t->out->ncolumns;

	for (i = 0; i < n; i++)
		free(t->cells[i]);
	free(t->cells);
}

/*
 * Fills one row per device. The STREAMS lookup is shared by the devices
 * of one mount: it scans /proc.
 */
static int table_fill(struct table *t, const struct devlist *devs)
{
	const struct output *out = t->out;
	struct row_cache c = { .threads = 0 };
	const char *last_mnt = NULL;
	size_t i, ncols = (size_t)out->ncolumns;
	int j;

	t->cells = calloc(devs->n * ncols + 1, sizeof(*t->cells));
	if (!t->cells)
		return -ENOMEM;
	t->nrows = devs->n;
	for (i = 0; i < devs->n; i++) {
		c.mm_ret = 1;
		if (devs->v[i].mnt != last_mnt)
			c.threads = 0;
		last_mnt = devs->v[i].mnt;
		for (j = 0; j < out->ncolumns; j++)
			t->cells[i * ncols + (size_t)j] =
				fill_cell(&devs->v[i], out->columns[j], &c, out);
	}
	return 0;
}

/* ---- output ---- */

enum escape {
	ESC_TABLE,	/* control characters as \xNN */
	ESC_RAW,	/* also blanks and backslashes: one word per cell */
	ESC_JSON,	/* a JSON string body */
};

/* Prints s escaped (when out is not NULL); returns the printed width. */
static size_t put_escaped(FILE *out, const char *s, enum escape esc)
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[8];
	size_t width = 0;

	for (; *p; p++) {
		if (esc == ESC_JSON && (*p == '"' || *p == '\\'))
			snprintf(buf, sizeof(buf), "\\%c", *p);
		else if (esc == ESC_JSON && *p < 0x20)
			snprintf(buf, sizeof(buf), "\\u%04x", *p);
		else if (esc != ESC_JSON &&
			 (*p < 0x20 || *p == 0x7f ||
			  (esc == ESC_RAW && (*p == ' ' || *p == '\\'))))
			snprintf(buf, sizeof(buf), "\\x%02x", *p);
		else
			snprintf(buf, sizeof(buf), "%c", *p);
		if (out)
			fputs(buf, out);
		width += strlen(buf);
	}
	return width;
}

static const char *cell_text(const struct table *t, size_t row, int col)
{
	const char *s = t->cells[row * (size_t)t->out->ncolumns + (size_t)col];

	return s ? s : infos[t->out->columns[col]].none;
}

/*
 * Prints one table line. Padding is held back until more text follows, so
 * that a line never ends in blanks (an empty last cell, for one).
 */
static void print_table_line(const struct table *t, const size_t *width,
			     size_t row, int header)
{
	const struct output *out = t->out;
	const struct colinfo *ci;
	size_t w, blanks = 0;
	const char *s;
	int j;

	for (j = 0; j < out->ncolumns; j++) {
		ci = &infos[out->columns[j]];
		s = header ? ci->name : cell_text(t, row, j);
		w = put_escaped(NULL, s, ESC_TABLE);
		blanks += (j ? 1 : 0) + (ci->right ? width[j] - w : 0);
		if (w) {
			printf("%*s", (int)blanks, "");
			put_escaped(stdout, s, ESC_TABLE);
			blanks = 0;
		}
		if (!ci->right)
			blanks += width[j] - w;
	}
	putchar('\n');
}

/* Columns as wide as their widest cell, one space apart, as zramctl. */
static void print_table(const struct table *t)
{
	const struct output *out = t->out;
	size_t width[MAX_COLUMNS], w, i;
	int j;

	for (j = 0; j < out->ncolumns; j++) {
		width[j] = out->noheadings ? 0 :
			   strlen(infos[out->columns[j]].name);
		for (i = 0; i < t->nrows; i++) {
			w = put_escaped(NULL, cell_text(t, i, j), ESC_TABLE);
			if (w > width[j])
				width[j] = w;
		}
	}
	if (!out->noheadings)
		print_table_line(t, width, 0, 1);
	for (i = 0; i < t->nrows; i++)
		print_table_line(t, width, i, 0);
}

static void print_raw(const struct table *t)
{
	const struct output *out = t->out;
	size_t i;
	int j;

	if (!out->noheadings) {
		for (j = 0; j < out->ncolumns; j++)
			printf("%s%s", j ? " " : "",
			       infos[out->columns[j]].name);
		putchar('\n');
	}
	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < out->ncolumns; j++) {
			if (j)
				putchar(' ');
			put_escaped(stdout, cell_text(t, i, j), ESC_RAW);
		}
		putchar('\n');
	}
}

static int is_json_number(int col, const struct output *out)
{
	return infos[col].kind == KIND_COUNT ||
	       (infos[col].kind == KIND_SIZE && out->bytes);
}

static void print_json_value(const char *s, int number)
{
	if (!s) {
		fputs("null", stdout);
	} else if (number) {
		fputs(s, stdout);
	} else {
		putchar('"');
		put_escaped(stdout, s, ESC_JSON);
		putchar('"');
	}
}

/* As util-linux's --json: keys are the lower-case column names. */
static void print_json(const struct table *t)
{
	const struct output *out = t->out;
	const char *name;
	size_t i;
	int j, col;

	printf("{\n   \"zramdevices\": [");
	for (i = 0; i < t->nrows; i++) {
		printf("%s\n      {", i ? "," : "");
		for (j = 0; j < out->ncolumns; j++) {
			col = out->columns[j];
			printf("%s\n         \"", j ? "," : "");
			for (name = infos[col].name; *name; name++)
				putchar(tolower((unsigned char)*name));
			printf("\": ");
			print_json_value(t->cells[i * (size_t)out->ncolumns +
						  (size_t)j],
					 is_json_number(col, out));
		}
		printf("\n      }");
	}
	printf("%s]\n}\n", t->nrows ? "\n   " : "");
}

static int print_devices(const struct devlist *devs, const struct output *out)
{
	struct table t = { .out = out };
	int ret = table_fill(&t, devs);

	if (ret) {
		errmsg("%s", strerror(-ret));
		return ret;
	}
	if (out->json)
		print_json(&t);
	else if (!t.nrows)
		;	/* zramctl prints nothing, not even a header */
	else if (out->raw)
		print_raw(&t);
	else
		print_table(&t);
	table_free(&t);
	return 0;
}

/* ---- actions ---- */

/*
 * Lists the devices of every zramfs mount, or of the given paths. A mount
 * or path that cannot be read (its daemon died, say) is reported and
 * skipped, and the others are listed: the exit status is then 1.
 */
static int do_status(char **paths, int npaths, const struct strlist *mounts,
		     const struct output *out)
{
	struct devlist devs = { NULL, 0 };
	int i, id, ret = 0, failed = 0;
	const char *mnt;
	size_t m;

	for (m = 0; !npaths && m < mounts->n && ret != -ENOMEM; m++) {
		ret = add_mount_devices(&devs, mounts->v[m]);
		if (ret) {
			errmsg("%s: %s", mounts->v[m], strerror(-ret));
			failed = 1;
		}
	}
	if (ret != -ENOMEM)
		ret = 0;
	for (i = 0; i < npaths && ret != -ENOMEM; i++) {
		ret = resolve_path(paths[i], mounts, &mnt, &id);
		if (!ret)
			ret = id < 0 ? add_mount_devices(&devs, mnt) :
				       devlist_add(&devs, mnt, id);
		if (ret == -ENODEV)
			errmsg("%s: not a zramfs mount point or data file",
			       paths[i]);
		else if (ret)
			errmsg("%s: %s", paths[i], strerror(-ret));
		if (ret)
			failed = 1;
	}
	if (ret != -ENOMEM)
		ret = 0;
	if (!ret)
		ret = print_devices(&devs, out);
	free(devs.v);
	return ret || failed ? -1 : 0;
}

static int do_reset(char **files, int nfiles, const struct strlist *mounts)
{
	struct zdev d;
	int i, ret, failed = 0;

	if (!nfiles) {
		errmsg("no data file specified");
		return -1;
	}
	for (i = 0; i < nfiles; i++) {
		if (resolve_data_file(files[i], mounts, &d)) {
			failed = 1;
			continue;
		}
		ret = dev_write(&d, "reset", "1");
		if (ret) {
			errmsg("%s: failed to reset: %s", files[i],
			       strerror(-ret));
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

/* The mount point argument of --find: given, or the only zramfs mount. */
static int find_mount(char **paths, int npaths, const struct strlist *mounts,
		      const char **mnt)
{
	int id, ret;

	if (npaths > 1) {
		errmsg("only one mount point at a time is allowed");
		return -1;
	}
	if (!npaths) {
		if (mounts->n == 1) {
			*mnt = mounts->v[0];
			return 0;
		}
		errmsg("--find needs a mount point (%zu zramfs mounts)",
		       mounts->n);
		return -1;
	}
	ret = resolve_path(paths[0], mounts, mnt, &id);
	if (!ret && id >= 0)
		ret = -ENODEV;
	if (ret == -ENODEV)
		errmsg("%s: not a zramfs mount point", paths[0]);
	else if (ret)
		errmsg("%s: %s", paths[0], strerror(-ret));
	return ret ? -1 : 0;
}

/* The first uninitialised device of mnt, hot-adding one if there is none. */
static int find_free_device(const char *mnt, struct zdev *d)
{
	char path[PATH_MAX], buf[32];
	uint64_t id;
	int *ids, ret;
	size_t i, n;

	d->mnt = mnt;
	ret = mount_device_ids(mnt, &ids, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		d->id = ids[i];
		if (!dev_initialised(d)) {
			free(ids);
			return 0;
		}
	}
	free(ids);
	ret = join(path, sizeof(path), "%s/control/hot_add", mnt);
	if (!ret)
		ret = read_file(path, buf, sizeof(buf));
	if (!ret)
		ret = parse_u64(buf, &id);
	if (ret)
		return ret;
	if (id > INT_MAX)
		return -ERANGE;
	d->id = (int)id;
	return 0;
}

struct setup {
	uint64_t size;
	const char *algorithm;
	const char *params;
};

/* Is name one of the algorithms the device's comp_algorithm lists? When
 * the list cannot be read, yes: the write will say what is wrong. */
static int algorithm_offered(const struct zdev *d, const char *name)
{
	char buf[ATTR_MAX], *tok, *save;

	if (dev_read(d, "comp_algorithm", buf, sizeof(buf)))
		return 1;
	for (tok = strtok_r(buf, " []\n", &save); tok;
	     tok = strtok_r(NULL, " []\n", &save))
		if (!strcmp(tok, name))
			return 1;
	return 0;
}

/*
 * As zramctl: reset, then algorithm (and its parameters), then disksize.
 * A size of 0 or an algorithm the device does not offer is refused before
 * the reset, which would otherwise lose the device's data for nothing.
 */
static int setup_device(const struct zdev *d, const char *name,
			const struct setup *s)
{
	char size[32];
	int ret;

	if (!s->size) {
		errmsg("%s: failed to set disksize (0 bytes): %s", name,
		       strerror(EINVAL));
		return -EINVAL;
	}
	if (s->algorithm && !algorithm_offered(d, s->algorithm)) {
		errmsg("%s: failed to set algorithm %s: %s", name,
		       s->algorithm, strerror(EINVAL));
		return -EINVAL;
	}
	ret = dev_write(d, "reset", "1");
	if (ret) {
		errmsg("%s: failed to reset: %s", name, strerror(-ret));
		return ret;
	}
	if (s->algorithm) {
		ret = dev_write(d, "comp_algorithm", s->algorithm);
		if (ret) {
			errmsg("%s: failed to set algorithm %s: %s", name,
			       s->algorithm, strerror(-ret));
			return ret;
		}
	}
	if (s->params) {
		ret = dev_write(d, "algorithm_params", s->params);
		if (ret) {
			errmsg("%s: failed to set algorithm params '%s': %s",
			       name, s->params, strerror(-ret));
			return ret;
		}
	}
	snprintf(size, sizeof(size), "%" PRIu64, s->size);
	ret = dev_write(d, "disksize", size);
	if (ret)
		errmsg("%s: failed to set disksize (%s bytes): %s", name, size,
		       strerror(-ret));
	return ret;
}

static int do_find(char **paths, int npaths, const struct strlist *mounts,
		   const struct setup *s)
{
	char name[PATH_MAX];
	const char *mnt;
	struct zdev d;
	int ret;

	if (find_mount(paths, npaths, mounts, &mnt))
		return -1;
	ret = find_free_device(mnt, &d);
	if (!ret)
		ret = dev_data_path(&d, name, sizeof(name));
	if (ret) {
		errmsg("%s: no free zramfs device found: %s", mnt,
		       strerror(-ret));
		return -1;
	}
	if (s && setup_device(&d, name, s))
		return -1;
	printf("%s\n", name);
	return 0;
}

static int do_create(char **files, int nfiles, const struct strlist *mounts,
		     const struct setup *s)
{
	struct zdev d;

	if (nfiles != 1) {
		errmsg(nfiles ? "only one data file at a time is allowed" :
				"no data file specified");
		return -1;
	}
	if (resolve_data_file(files[0], mounts, &d))
		return -1;
	return setup_device(&d, files[0], s) ? -1 : 0;
}

/* ---- command line ---- */

static void usage(void)
{
	int i;

	printf("Usage:\n"
	       " " PROG " [options] [MOUNTPOINT|FILE...]\n"
	       " " PROG " -r FILE...\n"
	       " " PROG " [options] -f [MOUNTPOINT] | FILE -s SIZE\n"
	       "\n"
	       "List and set up the devices of zramfs mounts, as zramctl"
	       " does for zram.\n"
	       "A device is named by its data file, MOUNTPOINT/zramN.\n"
	       "\n"
	       "Options:\n"
	       " -a, --algorithm ALG          compression algorithm to use\n"
	       " -p, --algorithm-params PARAMS\n"
	       "                              algorithm parameters to use\n"
	       " -b, --bytes                  print sizes in bytes rather"
	       " than in human readable format\n"
	       " -f, --find                   find a free device, adding"
	       " one if needed\n"
	       " -J, --json                   use JSON output format\n"
	       " -n, --noheadings             don't print headings\n"
	       " -o, --output LIST            columns to use for status"
	       " output\n"
	       "     --output-all             output all columns\n"
	       "     --raw                    use raw status output format\n"
	       " -r, --reset                  reset all specified devices\n"
	       " -s, --size SIZE              device size\n"
	       "\n"
	       " -h, --help                   display this help\n"
	       " -V, --version                display version\n"
	       "\n"
	       "Arguments:\n"
	       " SIZE may be followed by K, M, G, T, P or E (KiB, MiB, ...:"
	       " powers of 1024)\n"
	       "   or KB, MB, GB, ... (powers of 1000)\n"
	       " ALG is lz4, lz4hc or zstd\n"
	       "\n"
	       "Available output columns:\n");
	for (i = 0; i < NCOLS; i++)
		printf(" %11s  %s\n", infos[i].name, infos[i].help);
	printf("\nFor more details see zramfsctl(8).\n");
}

enum {
	OPT_RAW = CHAR_MAX + 1,
	OPT_OUTPUT_ALL,
};

static const struct option longopts[] = {
	{ "algorithm", required_argument, NULL, 'a' },
	{ "algorithm-params", required_argument, NULL, 'p' },
	{ "bytes", no_argument, NULL, 'b' },
	{ "find", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "output-all", no_argument, NULL, OPT_OUTPUT_ALL },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "reset", no_argument, NULL, 'r' },
	{ "size", required_argument, NULL, 's' },
	{ "streams", required_argument, NULL, 't' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

struct cmdline {
	struct output out;
	struct setup setup;
	int find, reset, size, output;
};

/* Whether --arg abbreviates more than one long option. */
static int ambiguous(const char *arg)
{
	size_t len = strcspn(arg + 2, "=");
	const struct option *o;
	int matches = 0;

	for (o = longopts; o->name; o++)
		matches += !strncmp(o->name, arg + 2, len);
	return matches > 1;
}

/* getopt's own message would take two lines: say it in one. */
static void bad_option(int c, int short_opt, const char *arg)
{
	int is_long = !strncmp(arg, "--", 2);

	if (c == '?' && is_long && ambiguous(arg))
		errmsg("option '%s' is ambiguous (see --help)", arg);
	else if (c == ':' && is_long)
		errmsg("option '%s' requires an argument (see --help)", arg);
	else if (c == ':')
		errmsg("option requires an argument -- '%c' (see --help)",
		       short_opt);
	else if (is_long || !short_opt)
		errmsg("unrecognized option '%s' (see --help)", arg);
	else
		errmsg("invalid option -- '%c' (see --help)", short_opt);
}

/* zramctl's exclusive sets: -f -o -r, and -o -r -s. */
static int check_exclusive(const struct cmdline *cl)
{
	if (cl->find + cl->output + cl->reset > 1 ||
	    cl->output + cl->reset + cl->size > 1) {
		errmsg("mutually exclusive arguments:%s%s%s%s",
		       cl->find ? " --find" : "", cl->output ? " --output" : "",
		       cl->reset ? " --reset" : "", cl->size ? " --size" : "");
		return -1;
	}
	if ((cl->setup.algorithm || cl->setup.params) && !cl->size) {
		errmsg("options --algorithm and --algorithm-params must be"
		       " combined with --size");
		return -1;
	}
	return 0;
}

/* Returns 0 to go on, 1 when done (help, version), -1 on error. */
static int parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":a:bfhJno:p:rs:t:V", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'a':
			cl->setup.algorithm = optarg;
			break;
		case 'p':
			cl->setup.params = optarg;
			break;
		case 'b':
			cl->out.bytes = 1;
			break;
		case 'f':
			cl->find = 1;
			break;
		case 'J':
			cl->out.json = 1;
			break;
		case 'n':
			cl->out.noheadings = 1;
			break;
		case 'o':
			cl->output = 1;
			if (parse_columns(optarg, &cl->out))
				return -1;
			break;
		case OPT_OUTPUT_ALL:
			cl->output = 1;
			for (cl->out.ncolumns = 0; cl->out.ncolumns < NCOLS;
			     cl->out.ncolumns++)
				cl->out.columns[cl->out.ncolumns] =
					cl->out.ncolumns;
			break;
		case OPT_RAW:
			cl->out.raw = 1;
			break;
		case 'r':
			cl->reset = 1;
			break;
		case 's':
			cl->size = 1;
			ret = parse_size(optarg, &cl->setup.size);
			if (ret == -EINVAL) {
				errmsg("failed to parse size: '%s'", optarg);
				return -1;
			} else if (ret) {
				errmsg("failed to parse size: '%s': %s",
				       optarg, strerror(-ret));
				return -1;
			}
			break;
		case 't':
			errmsg("--streams is not supported: zramfs compresses"
			       " in its worker threads (mount option"
			       " threads=N)");
			return -1;
		case 'V':
			printf(PROG " from " PACKAGE_NAME " " PACKAGE_VERSION
			       "\n");
			return 1;
		case 'h':
			usage();
			return 1;
		default:
			bad_option(c, optopt, argv[optind - 1]);
			return -1;
		}
	}
	return check_exclusive(cl);
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .out = { .ncolumns = 0 } };
	struct strlist mounts = { NULL, 0 };
	char **args;
	int nargs, ret;

	ret = parse_cmdline(argc, argv, &cl);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	args = argv + optind;
	nargs = argc - optind;
	ret = zramfs_mounts(&mounts);
	if (ret) {
		errmsg("/proc/self/mountinfo: %s", strerror(-ret));
		strlist_free(&mounts);
		return EXIT_FAILURE;
	}
	if (!cl.out.ncolumns) {
		memcpy(cl.out.columns, default_columns,
		       sizeof(default_columns));
		cl.out.ncolumns = sizeof(default_columns) /
				  sizeof(default_columns[0]);
	}
	if (cl.reset)
		ret = do_reset(args, nargs, &mounts);
	else if (cl.find)
		ret = do_find(args, nargs, &mounts,
			      cl.size ? &cl.setup : NULL);
	else if (cl.size)
		ret = do_create(args, nargs, &mounts, &cl.setup);
	else
		ret = do_status(args, nargs, &mounts, &cl.out);
	strlist_free(&mounts);
	if (fflush(stdout) || ferror(stdout)) {
		errmsg("write error: %s", strerror(errno));
		ret = -1;
	}
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
