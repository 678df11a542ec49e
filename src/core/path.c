// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening a file named in a control write (backing_dev, algorithm_params
 * dict=) without deadlocking on our own mount.
 *
 * The daemon serves its mount. A control write is handled by a worker that
 * holds locks (the device's ctl_lock at least); if the path it opens lies
 * on zramfs's own mount, the kernel sends that lookup or open back to the
 * daemon, and the worker that must answer it waits for the locks the first
 * worker holds, or is the first worker itself (threads=1, or io_uring's
 * ring of that CPU). So such paths are refused, and refused before any
 * name on the mount is looked up:
 *   - the path is walked one component at a time with O_PATH | O_NOFOLLOW
 *     opens, each relative to the descriptor of the directory before it;
 *   - after each step statx(AT_STATX_DONT_SYNC) gives the device of what
 *     was reached. FUSE answers it from its cache, without a request, and
 *     crossing onto the mount's root sends none either, so the walk stops
 *     with -EINVAL at the mount's root, the first place on our mount it
 *     reaches;
 *   - symbolic links are read (readlinkat on the O_PATH descriptor) and
 *     their targets walked the same way, at most ZR_PATH_MAX_LINKS of them
 *     (-ELOOP after that, as the kernel's own walk);
 *   - the caller checks the file's type from that statx before opening
 *     anything, so a FIFO is never opened (its open would block), and then
 *     reopens the very inode it checked through /proc/self/fd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zr_path.h"

/* The kernel's limit on symbolic links followed in one walk. */
#define ZR_PATH_MAX_LINKS 40

static unsigned int forbidden_major, forbidden_minor;
static int forbidden_set;

void zr_path_forbid_dev(unsigned int major, unsigned int minor)
{
	forbidden_major = major;
	forbidden_minor = minor;
	__atomic_store_n(&forbidden_set, 1, __ATOMIC_RELEASE);
}

static int stat_step(int fd, struct statx *stx)
{
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE, stx))
		return -errno;
	if (__atomic_load_n(&forbidden_set, __ATOMIC_ACQUIRE) &&
	    stx->stx_dev_major == forbidden_major &&
	    stx->stx_dev_minor == forbidden_minor)
		return -EINVAL;
	return 0;
}

/*
 * The remaining path is kept in buf as "component/component/...". A link's
 * target is put in front of what is left after the link.
 */
static int splice_link(int link_fd, char *buf, size_t cap, const char *rest)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(link_fd, "", target, sizeof(target) - 1);
	size_t rest_len = strlen(rest);

	if (n < 0)
		return -errno;
	if (!n)
		return -ENOENT;
	target[n] = '\0';
	if ((size_t)n + 1 + rest_len + 1 > cap)
		return -ENAMETOOLONG;
	/* rest may point into buf: move it before writing the target. */
	memmove(buf + n + 1, rest, rest_len + 1);
	memcpy(buf, target, (size_t)n);
	buf[n] = '/';
	return 0;
}

int zr_path_resolve(const char *path, struct statx *stx)
{
	char buf[2 * PATH_MAX];
	char *cur = buf;
	int links = 0, dir_fd, ret;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(buf, path);
	/* A relative path starts at the working directory, an absolute one
	 * at the root (the loop skips its slashes: nothing to reopen). */
	dir_fd = open(*cur == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	while (*cur == '/')
		cur++;
	ret = stat_step(dir_fd, stx);
	while (!ret) {
		char *name, *end;
		int fd;

		if (*cur == '/') {
			/* An absolute link target restarts from the root. */
			close(dir_fd);
			dir_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dir_fd < 0)
				return -errno;
			while (*cur == '/')
				cur++;
			ret = stat_step(dir_fd, stx);
			continue;
		}
		if (!*cur)
			return dir_fd;	/* stx describes dir_fd */
		name = cur;
		end = strchr(name, '/');
		if (end) {
			*end = '\0';
			cur = end + 1;
			while (*cur == '/')
				cur++;
		} else {
			cur = name + strlen(name);
		}
		fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			break;
		}
		ret = stat_step(fd, stx);
		if (!ret && S_ISLNK(stx->stx_mode)) {
			if (++links > ZR_PATH_MAX_LINKS)
				ret = -ELOOP;
			else
				ret = splice_link(fd, buf, sizeof(buf), cur);
			close(fd);
			cur = buf;
			/* A relative target goes on from the link's directory;
			 * dir_fd's own statx is still the last one checked. */
			continue;
		}
		if (!ret && *cur && !S_ISDIR(stx->stx_mode))
			ret = -ENOTDIR;
		close(dir_fd);
		dir_fd = fd;
	}
	close(dir_fd);
	return ret;
}

int zr_path_reopen(int path_fd, int flags)
{
	char proc[64];
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
	fd = open(proc, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
