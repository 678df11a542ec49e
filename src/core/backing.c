// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Backing store for writeback: 4 KiB blocks of a block device or a regular
 * file, a bitmap allocator and a reference count (see zr_backing.h).
 *
 * Allocation scans the bitmap from a rotating hint and claims a bit with
 * an atomic fetch-or, so concurrent allocations never hand out the same
 * block and need no lock. Blocks are never zeroed: a block is read only
 * through a slot that wrote it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zr_backing.h"
#include "zr_common.h"
#include "zr_path.h"

struct zr_backing {
	int fd;
	char *path;
	uint64_t nr_blocks;
	uint64_t nr_words;
	uint64_t *bitmap;	/* bit set = block in use; atomic ops */
	uint16_t *shares;	/* pages stored in each block; atomic */
	uint64_t hint;		/* word to start the next scan at */
	uint64_t used;		/* blocks in use, atomic */
	uint64_t refs;		/* atomic */
};

static int open_target(const char *path, int *fd_out, uint64_t *size_out)
{
	struct statx st;
	uint64_t size;
	int fd, path_fd, flags = O_RDWR | O_DIRECT;

	path_fd = zr_path_resolve(path, &st);
	if (path_fd < 0)
		return path_fd;
	if (S_ISBLK(st.stx_mode))
		flags |= O_EXCL;
	if (S_ISDIR(st.stx_mode)) {
		fd = -EISDIR;
	} else if (!S_ISBLK(st.stx_mode) && !S_ISREG(st.stx_mode)) {
		fd = -EINVAL;
	} else {
		fd = zr_path_reopen(path_fd, flags);
		/* Some file systems refuse O_DIRECT: use the page cache. */
		if (fd == -EINVAL)
			fd = zr_path_reopen(path_fd, flags & ~O_DIRECT);
	}
	close(path_fd);
	if (fd < 0)
		return fd;
	if (S_ISBLK(st.stx_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			goto err_close;
	} else {
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
		}
		size = st.stx_size;
	}
	*fd_out = fd;
	*size_out = size;
	return 0;

err_close:
	close(fd);
	return -EIO;
}

int zr_backing_open(const char *path, struct zr_backing **out)
{
	struct zr_backing *b;
	uint64_t size = 0;
	int ret, fd = -1;

	ret = open_target(path, &fd, &size);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (size < ZR_PAGE_SIZE)
		goto err_close;
	ret = -ENOMEM;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto err_close;
	b->fd = fd;
	b->refs = 1;
	b->nr_blocks = size >> ZR_PAGE_SHIFT;
	b->nr_words = (b->nr_blocks + 63) / 64;
	b->path = strdup(path);
	b->bitmap = calloc(b->nr_words, sizeof(*b->bitmap));
	b->shares = calloc(b->nr_blocks, sizeof(*b->shares));
	if (!b->path || !b->bitmap || !b->shares)
		goto err_free;
	/* Bits past the last block are permanently "in use". */
	if (b->nr_blocks % 64)
		b->bitmap[b->nr_words - 1] = ~0ULL << (b->nr_blocks % 64);
	*out = b;
	return 0;

err_free:
	free(b->path);
	free(b->bitmap);
	free(b->shares);
	free(b);
err_close:
	close(fd);
	return ret;
}

void zr_backing_get(struct zr_backing *b)
{
	__atomic_fetch_add(&b->refs, 1, __ATOMIC_RELAXED);
}

void zr_backing_put(struct zr_backing *b)
{
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		return;
	close(b->fd);
	free(b->bitmap);
	free(b->shares);
	free(b->path);
	free(b);
}

const char *zr_backing_path(const struct zr_backing *b)
{
	return b->path;
}

uint64_t zr_backing_blocks(const struct zr_backing *b)
{
	return b->nr_blocks;
}

uint64_t zr_backing_used(struct zr_backing *b)
{
	return __atomic_load_n(&b->used, __ATOMIC_RELAXED);
}

int64_t zr_backing_alloc(struct zr_backing *b, unsigned int objects)
{
	uint64_t start = __atomic_load_n(&b->hint, __ATOMIC_RELAXED);
	uint64_t i;

	for (i = 0; i < b->nr_words; i++) {
		uint64_t w = (start + i) % b->nr_words;
		uint64_t word = __atomic_load_n(&b->bitmap[w],
						__ATOMIC_RELAXED);

		while (word != ~0ULL) {
			int bit = __builtin_ctzll(~word);
			uint64_t mask = 1ULL << bit;

			word = __atomic_fetch_or(&b->bitmap[w], mask,
						 __ATOMIC_ACQUIRE);
			if (!(word & mask)) {
				uint64_t block = w * 64 + bit;

				__atomic_store_n(&b->shares[block], objects,
						 __ATOMIC_RELEASE);
				__atomic_store_n(&b->hint, w,
						 __ATOMIC_RELAXED);
				__atomic_fetch_add(&b->used, 1,
						   __ATOMIC_RELAXED);
				return (int64_t)block;
			}
			word |= mask;
		}
	}
	return -ENOSPC;
}

void zr_backing_pin(struct zr_backing *b, uint64_t block)
{
	if (block >= b->nr_blocks)
		zr_die("backing block out of range");
	__atomic_add_fetch(&b->shares[block], 1, __ATOMIC_ACQ_REL);
}

void zr_backing_release(struct zr_backing *b, uint64_t block)
{
	uint64_t mask = 1ULL << (block % 64);
	uint64_t old;

	if (block >= b->nr_blocks)
		zr_die("backing block out of range");
	if (__atomic_sub_fetch(&b->shares[block], 1, __ATOMIC_ACQ_REL))
		return;
	old = __atomic_fetch_and(&b->bitmap[block / 64], ~mask,
				 __ATOMIC_RELEASE);
	if (!(old & mask))
		zr_die("backing block freed twice");
	__atomic_fetch_sub(&b->used, 1, __ATOMIC_RELAXED);
}

/*
 * What a failed write reports, as a block device would: ENOSPC when the
 * store is full (a backing file on a full file system), EIO for anything
 * else. A failed read is always EIO. (A backing file on a FUSE mount whose
 * daemon died says ENOTCONN, which on our data file would read as
 * zramfs's own mount being gone.)
 */
static int write_error(int err)
{
	return err == ENOSPC || err == EDQUOT ? -ENOSPC : -EIO;
}

int zr_backing_read(struct zr_backing *b, uint64_t block, void *buf)
{
	ssize_t n;

	if (block >= b->nr_blocks)
		return -EINVAL;
	do {
		n = pread(b->fd, buf, ZR_PAGE_SIZE,
			  (off_t)(block << ZR_PAGE_SHIFT));
	} while (n < 0 && errno == EINTR);
	return n == ZR_PAGE_SIZE ? 0 : -EIO;
}

int zr_backing_write(struct zr_backing *b, uint64_t block, const void *buf)
{
	ssize_t n;

	if (block >= b->nr_blocks)
		return -EINVAL;
	do {
		n = pwrite(b->fd, buf, ZR_PAGE_SIZE,
			   (off_t)(block << ZR_PAGE_SHIFT));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return write_error(errno);
	return n == ZR_PAGE_SIZE ? 0 : -EIO;
}
