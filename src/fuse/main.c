// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zramfs start-up: command line, devices, mount, swap safety, serve.
 *
 * Order matters:
 * 1. Parse and validate everything and build the devices with the mount
 *    options applied through the same code as the control files. Nothing
 *    here touches liburcu's runtime (publishing a pointer is only a store),
 *    so forking later is safe. Errors go to stderr, exit status 1, nothing
 *    mounted.
 * 2. Check the mountpoint (exists, a directory, not already a mount point)
 *    and mount; note the mount's device number, so that control writes
 *    naming a file on it are refused (zr_path.h).
 * 3. Daemonize unless -f/-d; from then on messages go to syslog.
 * 4. Swap safety, in the thread that will create every worker so that
 *    workers inherit it: PR_SET_IO_FLUSHER, mlockall (current mappings
 *    now, future ones on fault), oom_score_adj.
 * 5. Serve with a fixed number of worker threads, all started first
 *    (workers.c), until unmounted or signalled (SIGINT, SIGTERM, SIGHUP:
 *    put off while a data file is open), then unmount and free.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "zr_attr.h"
#include "zr_comp.h"
#include "zr_control.h"
#include "zr_path.h"
#include "zr_unescape.h"
#include "zramfs.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

#define MAX_THREADS 64
/* FUSE requests the kernel keeps in flight for asynchronous I/O (loop's
 * direct I/O): its default of 12 leaves 4 KiB random I/O waiting on the
 * queue; 64 measured 1.6x the IOPS (README, Speed). The field is 16 bits. */
#define DEFAULT_MAX_BACKGROUND 64
#define MAX_MAX_BACKGROUND 65535

struct options {
	char *devices;
	char *size;
	char *algorithm;
	char *mem_limit;
	char *backing_dev;
	char *threads;
	char *oom_score_adj;
	char *max_background;
	int nomlock;
	int noparallel_writes;
	int io_uring;
	int foreground;
	int help;
	int version;
	int fsname;	/* the user named the mount (fsname=) */
	char *source;
	char *mountpoint;
};

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_FOREGROUND,
	KEY_DEBUG,
	KEY_FSNAME,
	KEY_FIXED,
	KEY_REMOUNT,
};

#define ZRAMFS_OPT(t, p) { t, offsetof(struct options, p), 1 }

static const struct fuse_opt option_spec[] = {
	ZRAMFS_OPT("devices=%s", devices),
	ZRAMFS_OPT("size=%s", size),
	ZRAMFS_OPT("algorithm=%s", algorithm),
	ZRAMFS_OPT("mem_limit=%s", mem_limit),
	ZRAMFS_OPT("backing_dev=%s", backing_dev),
	ZRAMFS_OPT("threads=%s", threads),
	ZRAMFS_OPT("oom_score_adj=%s", oom_score_adj),
	ZRAMFS_OPT("max_background=%s", max_background),
	ZRAMFS_OPT("nomlock", nomlock),
	ZRAMFS_OPT("noparallel_writes", noparallel_writes),
	ZRAMFS_OPT("io_uring", io_uring),
	/* mount(8) passes these generic flags; they mean nothing here. */
	FUSE_OPT_KEY("relatime", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("strictatime", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("lazytime", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nodiratime", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("diratime", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("mand", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nomand", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("silent", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("loud", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("iversion", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noiversion", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nosymfollow", FUSE_OPT_KEY_DISCARD),
	/* Tools find zramfs mounts by type fuse.zramfs, and max_read follows
	 * the transport: these are zramfs's own. fsname= is the user's. */
	FUSE_OPT_KEY("fsname=", KEY_FSNAME),
	FUSE_OPT_KEY("subtype=", KEY_FIXED),
	FUSE_OPT_KEY("max_read=", KEY_FIXED),
	FUSE_OPT_KEY("remount", KEY_REMOUNT),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_END
};

static int use_syslog;

static void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		fputs("zramfs: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void fuse_log_to_syslog(enum fuse_log_level level, const char *fmt,
			       va_list ap)
{
	vsyslog(level, fmt, ap);
}

static void usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT\n"
	       "\n"
	       "zramfs options:\n"
	       "    -o devices=N           devices at mount: zram0..zram(N-1)"
	       " (default 1)\n"
	       "    -o size=SIZE           initialise every device with this"
	       " disksize (K/M/G/T)\n"
	       "    -o algorithm=NAME      lz4 (default), lz4hc or zstd\n"
	       "    -o mem_limit=SIZE      per-device memory limit (0 = none)\n"
	       "    -o backing_dev=PATH    writeback target\n"
	       "    -o threads=N           FUSE worker threads (default: CPUs)\n"
	       "    -o oom_score_adj=N     daemon's OOM score adjustment"
	       " (default -1000)\n"
	       "    -o max_background=N    asynchronous FUSE requests in"
	       " flight (default 64)\n"
	       "    -o nomlock             do not lock memory (unsafe for"
	       " swap)\n"
	       "    -o noparallel_writes   let the kernel serialise writes to"
	       " a file\n"
	       "    -o io_uring            serve FUSE requests over io_uring"
	       " (Linux 6.14+)\n"
	       "    -f                     stay in the foreground\n"
	       "    -d                     debug output (implies -f)\n"
	       "    -h, --help             this help\n"
	       "    -V, --version          version\n"
	       "\n"
	       "Unmount with: fusermount3 -u MOUNTPOINT\n"
	       "\n"
	       "FUSE options:\n", prog);
	fuse_lowlevel_help();
}

static int option_proc(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct options *opts = data;

	switch (key) {
	case KEY_HELP:
		opts->help = 1;
		return 0;
	case KEY_VERSION:
		opts->version = 1;
		return 0;
	case KEY_FOREGROUND:
		opts->foreground = 1;
		return 0;
	case KEY_DEBUG:
		opts->foreground = 1;
		return 1;	/* libfuse prints requests with -d */
	case KEY_FSNAME:
		opts->fsname = 1;
		return 1;	/* to libfuse, as given */
	case KEY_FIXED:
		if (!strcmp(arg, "subtype=zramfs"))
			return 0;
		log_msg(LOG_ERR, "option %s: zramfs sets it itself", arg);
		return -1;
	case KEY_REMOUNT:
		log_msg(LOG_ERR, "remount is not supported: change a device's"
			" settings through MOUNTPOINT/control (zramfs(8))");
		return -1;
	case FUSE_OPT_KEY_NONOPT:
		/* mount(8) passes "SOURCE MOUNTPOINT"; the source is a name. */
		if (!opts->mountpoint) {
			opts->mountpoint = strdup(arg);
		} else if (!opts->source) {
			opts->source = opts->mountpoint;
			opts->mountpoint = strdup(arg);
		} else {
			log_msg(LOG_ERR, "unexpected argument '%s'", arg);
			return -1;
		}
		return 0;
	default:
		return 1;
	}
}

/* Parses a decimal option value in [min, max] into *out. */
static int option_number(const char *name, const char *value, long min,
			 long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (!*value || *end || errno || v < min || v > max) {
		log_msg(LOG_ERR, "bad value for %s=: '%s' (expected a number"
			" from %ld to %ld)", name, value, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Applies one mount option to device id through its control file. */
static int apply_attr(struct zr_host *host, int id, const char *option,
		      const char *attr, const char *value)
{
	int ret = zr_ctl_store(host, id, 0, zr_ctl_attr_find(attr, strlen(attr)),
			       value, strlen(value));

	if (ret) {
		log_msg(LOG_ERR, "bad value for %s=: '%s': %s", option, value,
			strerror(-ret));
		return -1;
	}
	return 0;
}

static struct zr_host *build_devices(const struct options *opts)
{
	struct zr_host *host = zr_host_create();
	long count = 1, i;
	int id;

	if (!host) {
		log_msg(LOG_ERR, "out of memory");
		return NULL;
	}
	if (opts->devices &&
	    option_number("devices", opts->devices, 0, ZR_MAX_DEVICES, &count))
		goto err_destroy;
	for (i = 0; i < count; i++) {
		zr_host_lock(host);
		id = zr_host_add(host);
		zr_host_unlock(host);
		if (id < 0) {
			log_msg(LOG_ERR, "cannot create zram%ld: %s", i,
				strerror(-id));
			goto err_destroy;
		}
		if (opts->algorithm &&
		    apply_attr(host, id, "algorithm", "comp_algorithm",
			       opts->algorithm))
			goto err_destroy;
		if (opts->mem_limit &&
		    apply_attr(host, id, "mem_limit", "mem_limit",
			       opts->mem_limit))
			goto err_destroy;
		if (opts->backing_dev &&
		    apply_attr(host, id, "backing_dev", "backing_dev",
			       opts->backing_dev))
			goto err_destroy;
		if (opts->size &&
		    apply_attr(host, id, "size", "disksize", opts->size))
			goto err_destroy;
	}
	return host;

err_destroy:
	zr_host_destroy(host);
	return NULL;
}

static int is_mount_point(const char *path)
{
	char *line = NULL, *field, *save;
	size_t cap = 0;
	int i, found = 0;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		field = strtok_r(line, " ", &save);
		for (i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		zr_unescape_octal(field);
		found = !strcmp(field, path);
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * Checks the mountpoint and replaces *mountpoint with its absolute, resolved
 * form: the daemon moves to / before serving, and libfuse unmounts by the
 * path it mounted, so a relative one would never be unmounted.
 */
static int check_mountpoint(char **mountpoint_arg)
{
	const char *mountpoint = *mountpoint_arg;
	char resolved[PATH_MAX], *copy;
	struct stat st;

	if (stat(mountpoint, &st)) {
		log_msg(LOG_ERR, "mountpoint %s: %s", mountpoint,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_msg(LOG_ERR, "mountpoint %s: %s", mountpoint,
			strerror(ENOTDIR));
		return -1;
	}
	if (!realpath(mountpoint, resolved)) {
		log_msg(LOG_ERR, "mountpoint %s: %s", mountpoint,
			strerror(errno));
		return -1;
	}
	if (is_mount_point(resolved)) {
		log_msg(LOG_ERR, "mountpoint %s: already mounted", mountpoint);
		return -1;
	}
	copy = strdup(resolved);
	if (!copy) {
		log_msg(LOG_ERR, "mountpoint %s: %s", mountpoint,
			strerror(ENOMEM));
		return -1;
	}
	free(*mountpoint_arg);
	*mountpoint_arg = copy;
	return 0;
}

static void on_stop_signal(int sig)
{
	zramfs_request_stop(sig);
}

/*
 * SIGINT, SIGTERM and SIGHUP stop the daemon once no data file is open
 * (workers.c); as with libfuse's handlers, a signal that whoever started us
 * ignores stays ignored, and SIGPIPE is ignored.
 */
static int set_stop_signals(void)
{
	static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		if (sigaction(stop_signals[i], NULL, &old))
			goto err;
		if (old.sa_handler == SIG_IGN)
			continue;
		sa.sa_handler = on_stop_signal;
		if (sigaction(stop_signals[i], &sa, NULL))
			goto err;
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		goto err;
	return 0;
err:
	log_msg(LOG_ERR, "signal handlers: %s", strerror(errno));
	return -1;
}

/* Control writes must not name files on our own mount (zr_path.h). The
 * stat is answered from FUSE's cache: nothing waits for the daemon, which
 * is not serving yet. */
static void forbid_own_mount(const char *mountpoint)
{
	struct statx stx;

	if (statx(AT_FDCWD, mountpoint, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
		  STATX_TYPE, &stx)) {
		log_msg(LOG_WARNING, "mountpoint %s: %s: paths on it are not "
			"refused as backing_dev or dict", mountpoint,
			strerror(errno));
		return;
	}
	zr_path_forbid_dev(stx.stx_dev_major, stx.stx_dev_minor);
}

/* Memory locking must work for swap: check before forking, where the
 * error can still reach the terminal. */
static int prepare_mlock(const struct options *opts)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (opts->nomlock)
		return 0;
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	if (mlockall(MCL_CURRENT)) {
		log_msg(LOG_ERR, "cannot lock memory (mlockall: %s); run as"
			" root, raise RLIMIT_MEMLOCK, or use -o nomlock"
			" (unsafe for swap)", strerror(errno));
		return -1;
	}
	munlockall();
	return 0;
}

/* Runs in the thread that creates all workers: they inherit the flag. */
static int make_swap_safe(const struct options *opts)
{
	const char *adj = opts->oom_score_adj ? opts->oom_score_adj : "-1000";
	FILE *f;

	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0))
		log_msg(LOG_WARNING, "PR_SET_IO_FLUSHER: %s: reclaim may"
			" recurse into this daemon", strerror(errno));
	/*
	 * Everything mapped now is faulted in and locked at once; what is
	 * mapped later (arena regions, worker stacks) is locked page by page
	 * as it is touched (MCL_ONFAULT), so reserving address space costs no
	 * memory and the arena's RSS follows what it stores.
	 */
	if (!opts->nomlock && (mlockall(MCL_CURRENT) ||
			       mlockall(MCL_FUTURE | MCL_ONFAULT))) {
		log_msg(LOG_ERR, "mlockall: %s", strerror(errno));
		return -1;
	}
	f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fprintf(f, "%s\n", adj);
		if (fclose(f))
			f = NULL;
	}
	if (!f)
		log_msg(LOG_WARNING, "oom_score_adj %s: %s: the OOM killer may"
			" pick this daemon", adj, strerror(errno));
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opts = { 0 };
	struct fuse_session *se;
	struct zramfs fs = { 0 };
	long threads, adj, max_background = DEFAULT_MAX_BACKGROUND;
	char max_read[32];
	int ret = 1;

	if (fuse_opt_parse(&args, &opts, option_spec, option_proc))
		goto out_free_args;
	if (opts.help) {
		usage(argv[0]);
		ret = 0;
		goto out_free_args;
	}
	if (opts.version) {
		printf("zramfs %s (libfuse %s%s%s)\n", PACKAGE_VERSION,
		       fuse_pkgversion(), *zramfs_data_path ? "; data path: " : "",
		       zramfs_data_path);
		ret = 0;
		goto out_free_args;
	}
	if (!opts.mountpoint) {
		log_msg(LOG_ERR, "no mountpoint given (see --help)");
		goto out_free_args;
	}
	threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if (opts.threads &&
	    option_number("threads", opts.threads, 1, MAX_THREADS, &threads))
		goto out_free_args;
	if (opts.oom_score_adj &&
	    option_number("oom_score_adj", opts.oom_score_adj, -1000, 1000,
			  &adj))
		goto out_free_args;
	if (opts.max_background &&
	    option_number("max_background", opts.max_background, 1,
			  MAX_MAX_BACKGROUND, &max_background))
		goto out_free_args;
	/* Checked here too: with devices=0 no device would refuse it. */
	if (opts.algorithm &&
	    zr_comp_find(opts.algorithm, strlen(opts.algorithm)) < 0) {
		char known[ZR_CTL_BUF_SIZE];
		int n;

		/* comp_algorithm's list, without its " \n" ending. */
		n = zr_format_algorithms(known, sizeof(known), zr_comp_names(),
					 ZR_COMP_COUNT, -1);
		while (n > 0 && (known[n - 1] == '\n' || known[n - 1] == ' '))
			known[--n] = '\0';
		log_msg(LOG_ERR, "bad value for algorithm=: '%s' (known: %s)",
			opts.algorithm, known);
		goto out_free_args;
	}
	fs.host = build_devices(&opts);
	if (!fs.host)
		goto out_free_args;
	if (check_mountpoint(&opts.mountpoint) || prepare_mlock(&opts))
		goto out_destroy_host;

	fs.parallel_writes = !opts.noparallel_writes;
	fs.max_background = max_background;
	fs.max_io = opts.io_uring ? ZRAMFS_URING_MAX_IO : ZRAMFS_MAX_IO;
	fs.uid = getuid();
	fs.gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs.mount_time);
	snprintf(max_read, sizeof(max_read), "-omax_read=%zu", fs.max_io);
	if (fuse_opt_add_arg(&args, "-odefault_permissions") ||
	    (!opts.fsname && fuse_opt_add_arg(&args, "-ofsname=zramfs")) ||
	    fuse_opt_add_arg(&args, "-osubtype=zramfs") ||
	    fuse_opt_add_arg(&args, max_read)) {
		log_msg(LOG_ERR, "out of memory");
		goto out_destroy_host;
	}
	if (opts.io_uring) {
		int err = zramfs_uring_prepare(&fs.uring, fs.max_io,
					       fs.max_background);

		if (err) {
			log_msg(LOG_ERR, "io_uring: %s", strerror(-err));
			goto out_destroy_host;
		}
	}
	se = fuse_session_new(&args, &zramfs_ll_ops, sizeof(zramfs_ll_ops),
			      &fs);
	if (!se)
		goto out_destroy_host;	/* libfuse said why */
	if (set_stop_signals())
		goto out_destroy_session;
	if (fuse_session_mount(se, opts.mountpoint))
		goto out_destroy_session;
	forbid_own_mount(opts.mountpoint);
	if (fs.uring && zramfs_uring_attach(fs.uring, se)) {
		log_msg(LOG_ERR, "io_uring: cannot install the I/O hooks");
		goto out_unmount;
	}
	if (fuse_daemonize(opts.foreground))
		goto out_unmount;
	if (!opts.foreground) {
		openlog("zramfs", LOG_PID, LOG_DAEMON);
		use_syslog = 1;
		fuse_set_log_func(fuse_log_to_syslog);
	}
	if (make_swap_safe(&opts))
		goto out_unmount;
	if (*zramfs_data_path)
		log_msg(LOG_WARNING, "data path: %s", zramfs_data_path);

	/* Every worker is started (and inherits the swap-safety flags)
	 * before the first request is served. */
	ret = zramfs_serve(se, fs.host, threads, fs.uring, fs.max_io);
	if (ret)
		log_msg(LOG_ERR, "serving: %s", strerror(-ret));
	ret = ret ? 1 : 0;
	if (fs.uring) {
		char *served = zramfs_uring_served(fs.uring);

		if (served)
			log_msg(LOG_INFO, "io_uring: %s", served);
		free(served);
	}

out_unmount:
	fuse_session_unmount(se);
out_destroy_session:
	fuse_session_destroy(se);
out_destroy_host:
	zramfs_uring_destroy(fs.uring);
	zr_host_destroy(fs.host);
out_free_args:
	fuse_opt_free_args(&args);
	free(opts.mountpoint);
	free(opts.source);
	return ret;
}
