/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One zramN device: its configuration, its RCU-published state, and byte
 * granular I/O on top of 4 KiB compressed pages.
 *
 * Functions return 0 (or a byte count) on success and a negative errno on
 * failure; a failed call changes nothing. See device.c for the
 * concurrency contract.
 */
#ifndef ZR_DEVICE_H
#define ZR_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zr_attr.h"
#include "zr_comp.h"

struct zr_device;

struct zr_device *zr_device_create(int id);
/* No other call on dev may be running or follow. */
void zr_device_destroy(struct zr_device *dev);

/*
 * Readies the calling thread for I/O ahead of time: registers it with
 * liburcu and touches its scratch pages, so that (under mlockall) the
 * memory the I/O path uses per thread is resident and locked before the
 * first request rather than faulted in while serving one. Optional: the
 * I/O path does the same lazily.
 */
void zr_device_thread_prepare(void);
int zr_device_id(const struct zr_device *dev);

/* ---- control path (serialised per device, never blocks I/O) ---- */

/* disksize store: initialises the device. -EBUSY if initialised,
 * -EINVAL for 0, -ENOMEM. */
int zr_device_init(struct zr_device *dev, uint64_t disksize);
/* reset store: -EBUSY while open; frees all pages, restores defaults. */
int zr_device_reset(struct zr_device *dev);
int zr_device_initialised(struct zr_device *dev);
uint64_t zr_device_disksize(struct zr_device *dev);

/* comp_algorithm store: -EBUSY after init, -EINVAL unknown name. */
int zr_device_set_algorithm(struct zr_device *dev, enum zr_comp_id comp);
enum zr_comp_id zr_device_algorithm(struct zr_device *dev);
/* recomp_algorithm: the algorithm of priority prio (1..3; 0 is the
 * primary). -EBUSY after init, -EINVAL for a bad priority. */
int zr_device_set_recomp_algorithm(struct zr_device *dev, int prio,
				   enum zr_comp_id comp);
/* The algorithm of priority prio, or -1 when none is set. */
int zr_device_recomp_algorithm(struct zr_device *dev, int prio);
/* The priority whose algorithm is comp, or -EINVAL. */
int zr_device_find_priority(struct zr_device *dev, enum zr_comp_id comp);
/* algorithm_params: level and dictionary of priority prio, replacing what
 * was set (ZR_COMP_LEVEL_DEFAULT, no dictionary: defaults). -EBUSY after
 * init, -EINVAL when prio has no algorithm or the backend refuses the
 * dictionary. The dictionary is copied. */
int zr_device_set_params(struct zr_device *dev, int prio, int level,
			 const void *dict, size_t dict_size);

/* mem_limit store (bytes, 0 = none); allowed at any time. */
void zr_device_set_mem_limit(struct zr_device *dev, uint64_t bytes);
/* mem_used_max store: only 0 is accepted (-EINVAL otherwise). */
int zr_device_reset_mem_used_max(struct zr_device *dev, uint64_t value);
/* compact store: -EINVAL before init. Returns 0. */
int zr_device_compact(struct zr_device *dev);
/* min_age of zr_device_mark_idle(): every stored page ("all"). */
#define ZR_IDLE_ALL UINT64_MAX
/* idle store: as zram's mark_idle(), marks idle the stored pages not
 * accessed for more than min_age seconds and clears the mark of the
 * others (ZR_IDLE_ALL: marks them all). -EINVAL before init. */
int zr_device_mark_idle(struct zr_device *dev, uint64_t min_age);
/* Counts pages currently marked idle (for tests and debug). */
uint64_t zr_device_idle_pages(struct zr_device *dev);

/* writeback_limit (4 KiB units) and writeback_limit_enable values. */
void zr_device_set_wb_limit(struct zr_device *dev, uint64_t pages);
uint64_t zr_device_wb_limit(struct zr_device *dev);
void zr_device_set_wb_limit_enable(struct zr_device *dev, int enable);
int zr_device_wb_limit_enable(struct zr_device *dev);

/* ---- backing store and writeback (writeback.c) ---- */

/* backing_dev store: at any time while none is attached (-EEXIST). Errors
 * of zr_backing_open otherwise. Detached by reset. */
int zr_device_attach_backing(struct zr_device *dev, const char *path);
/* backing_dev show: "PATH\n" or "none\n"; returns the length. */
int zr_device_backing_show(struct zr_device *dev, char *buf, size_t cap);
int zr_device_has_backing(struct zr_device *dev);
/* compressed_writeback: store compressed bytes, packed, on writeback. */
void zr_device_set_compressed_writeback(struct zr_device *dev, int on);
int zr_device_compressed_writeback(struct zr_device *dev);

/*
 * Which stored pages a writeback or recompress request selects (zram's
 * post-processing modes). Recompress takes all but INCOMPRESSIBLE.
 */
enum zr_pp_mode {
	ZR_PP_ALL,		/* any page (writeback page_index=, ...) */
	ZR_PP_IDLE,
	ZR_PP_HUGE,
	ZR_PP_HUGE_IDLE,
	ZR_PP_INCOMPRESSIBLE,
};

struct zr_wb_request {
	enum zr_pp_mode mode;
	uint64_t lo;		/* first page index */
	uint64_t hi;		/* last page index, inclusive */
	int whole_device;	/* lo and hi ignored: every page */
};

/*
 * writeback store: writes the pages the requests select to the backing
 * store and frees their memory. -EINVAL before init, -EAGAIN while another
 * writeback runs, -ENODEV without a backing store, -ERANGE for an index
 * past the end (nothing done), -EIO when writeback_limit is exhausted,
 * -ENOSPC when the store is full (pages not written stay in memory).
 */
int zr_device_writeback(struct zr_device *dev,
			const struct zr_wb_request *reqs, int count);

struct zr_recomp_request {
	enum zr_pp_mode mode;	/* not ZR_PP_INCOMPRESSIBLE */
	uint64_t threshold;	/* only objects of at least this size, and
				 * new ones only under it; 0 all */
	uint64_t max_pages;	/* pages tried at most (UINT64_MAX: all) */
	int prio_min;		/* first priority to try (>= 1) */
	int prio_max;		/* one past the last priority to try */
};

/*
 * recompress store: recompresses the selected pages with the secondary
 * algorithms prio_min .. prio_max - 1 in turn, keeping a result only when
 * it is smaller. -EINVAL before init or when no such algorithm is set,
 * -EAGAIN while writeback or another recompress runs. On success returns
 * the number of pages replaced.
 */
int64_t zr_device_recompress(struct zr_device *dev,
			     const struct zr_recomp_request *req);
/* Pages currently flagged incompressible (tests and debug). */
uint64_t zr_device_incompressible_pages(struct zr_device *dev);

/* Pins taken by control-file operations in progress: hot_remove refuses a
 * pinned device with EBUSY. */
void zr_device_pin(struct zr_device *dev);
void zr_device_unpin(struct zr_device *dev);
/* True while the device is open or pinned. */
int zr_device_busy(struct zr_device *dev);

/* Open accounting for the data file: reset and removal refuse while > 0. */
void zr_device_open(struct zr_device *dev);
void zr_device_release(struct zr_device *dev);
unsigned int zr_device_open_count(struct zr_device *dev);

void zr_device_mm_stat(struct zr_device *dev, struct zr_mm_stat *st);
void zr_device_io_stat(struct zr_device *dev, struct zr_io_stat *st);
void zr_device_bd_stat(struct zr_device *dev, struct zr_bd_stat *st);
uint64_t zr_device_miss_free(struct zr_device *dev);

/* ---- I/O path (lock-free with respect to the device) ---- */

/* Reads up to len bytes at off; returns bytes read (0 at or past the end)
 * or -EIO. Never-written pages read as zeros. */
ssize_t zr_device_read(struct zr_device *dev, void *buf, size_t len,
		       uint64_t off);
/* Writes len bytes at off: all or nothing for range errors (-ENOSPC past
 * the end); returns len, or a negative errno (-ENOSPC at mem_limit,
 * -ENOMEM, -EIO) after which pages before the failing one are written. */
ssize_t zr_device_write(struct zr_device *dev, const void *buf, size_t len,
			uint64_t off);
/* The range a read (clamp) or a write of len bytes at off covers, as
 * zr_device_read() and zr_device_write() check it, without doing it: the
 * bytes a read would return (0 at or past the end), len for a write, or
 * -ENOSPC for a write past the end. For contrib/bench/null-data.c. */
ssize_t zr_device_io_range(struct zr_device *dev, uint64_t off, size_t len,
			   int clamp);
/* Frees the pages in [off, off + len); partial pages at the edges are
 * zeroed. -ENOSPC if the range passes the end. */
int zr_device_discard(struct zr_device *dev, uint64_t off, uint64_t len);
/* SEEK_DATA / SEEK_HOLE over stored pages; -ENXIO as lseek(2). */
int64_t zr_device_seek(struct zr_device *dev, uint64_t off, int whence);

#endif
