/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The writeback target of a device: a block device or a regular file cut
 * into 4 KiB blocks, with a bitmap allocator.
 *
 * A backing store is reference counted: the device holds one reference
 * while attached, and every user that does I/O outside an RCU read-side
 * section (readers of written-back pages, writeback) holds its own, so
 * detaching (reset) never closes the file under an I/O in flight.
 * Allocation and free are lock-free (atomic bit operations and per-block
 * share counts).
 */
#ifndef ZR_BACKING_H
#define ZR_BACKING_H

#include <stddef.h>
#include <stdint.h>

struct zr_backing;

/*
 * Opens path read-write, with O_DIRECT where the target supports it, and
 * exclusively (O_EXCL for block devices, an flock for files). Errors:
 * -ENOENT, -EISDIR, -EINVAL (not a block device or regular file, or
 * smaller than one block), -EBUSY (in use), or open's errno.
 */
int zr_backing_open(const char *path, struct zr_backing **out);
void zr_backing_get(struct zr_backing *b);
/* Drops a reference; the last one closes the target and frees b. */
void zr_backing_put(struct zr_backing *b);

const char *zr_backing_path(const struct zr_backing *b);
uint64_t zr_backing_blocks(const struct zr_backing *b);

/*
 * Allocates a block shared by objects pages (compressed writeback packs
 * several pages into one block). Returns its index or -ENOSPC.
 */
int64_t zr_backing_alloc(struct zr_backing *b, unsigned int objects);
/* Gives back one page's share of block; the last share frees it. */
void zr_backing_release(struct zr_backing *b, uint64_t block);
/*
 * Adds a share to a block in use (the caller knows a share is held, e.g.
 * under the lock of a slot that stores the block), so that it is not
 * freed, and so not reused, before a matching zr_backing_release().
 */
void zr_backing_pin(struct zr_backing *b, uint64_t block);
/* Blocks currently allocated. */
uint64_t zr_backing_used(struct zr_backing *b);

/* Whole-block I/O; buf must be aligned to ZR_PAGE_SIZE. 0 or -errno
 * (-EIO for a short transfer). */
int zr_backing_read(struct zr_backing *b, uint64_t block, void *buf);
int zr_backing_write(struct zr_backing *b, uint64_t block, const void *buf);

#endif
