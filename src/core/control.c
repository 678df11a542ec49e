// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control tree: one show/store pair per zram attribute, in the order
 * and with the errno of drivers/block/zram/zram_drv.c. Parsing and
 * formatting live in attr.c; this file only decides what each attribute
 * means. Every entry point pins its device (hot_remove answers EBUSY
 * meanwhile) and runs without the host lock.
 *
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zr_arena.h"
#include "zr_attr.h"
#include "zr_common.h"
#include "zr_comp.h"
#include "zr_control.h"
#include "zr_device.h"
#include "zr_path.h"

static int show_disksize(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_format_u64(buf, cap, zr_device_disksize(dev));
}

static int store_disksize(struct zr_device *dev, const char *buf, size_t len)
{
	uint64_t size;
	int ret = zr_parse_size(buf, len, &size);

	if (ret)
		return ret;
	if (!size)
		return -EINVAL;
	return zr_device_init(dev, size);
}

/* The block device's generic "size": disksize in 512-byte sectors. */
static int show_size(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_format_u64(buf, cap, zr_device_disksize(dev) >> 9);
}

static int show_initstate(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_format_u64(buf, cap, zr_device_initialised(dev));
}

static int store_reset(struct zr_device *dev, const char *buf, size_t len)
{
	uint64_t value;
	int ret = zr_parse_u64(buf, len, &value);

	if (ret)
		return ret;
	if (value > 65535)	/* zram parses a u16 */
		return -ERANGE;
	if (!value)
		return -EINVAL;
	return zr_device_reset(dev);
}

static int show_comp_algorithm(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_format_algorithms(buf, cap, zr_comp_names(), ZR_COMP_COUNT,
				    zr_device_algorithm(dev));
}

/* zram's ZRAM_MAX_ALGO_NAME_SZ: a name this long, its newline included,
 * is refused with E2BIG before it is looked up. */
#define ZR_ALGO_NAME_MAX 128

/* The algorithm a comp_algorithm or recomp_algorithm write names. */
static int algorithm_named(const char *name, size_t len)
{
	if (len >= ZR_ALGO_NAME_MAX)
		return -E2BIG;
	return zr_comp_find(name, len);
}

static int store_comp_algorithm(struct zr_device *dev, const char *buf,
				size_t len)
{
	int comp = algorithm_named(buf, len);

	if (comp < 0)
		return comp;
	return zr_device_set_algorithm(dev, comp);
}

/* Largest dictionary accepted from algorithm_params dict=. */
#define ZR_DICT_MAX (1 << 20)

/* Reads a whole dictionary file into a new buffer. -EINVAL if it is not a
 * regular file (a FIFO would block the worker), cannot be read, is empty
 * or too large, or lies on zramfs's own mount. */
static int read_dict(const char *path, void **out, size_t *size)
{
	unsigned char *buf;
	struct statx st;
	size_t n = 0;
	ssize_t got = 0;
	int fd, path_fd;

	path_fd = zr_path_resolve(path, &st);
	if (path_fd < 0)
		return -EINVAL;
	fd = S_ISREG(st.stx_mode) ? zr_path_reopen(path_fd, O_RDONLY) : -EINVAL;
	close(path_fd);
	if (fd < 0)
		return -EINVAL;
	buf = malloc(ZR_DICT_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* Until the end, an error, or one byte past the largest size. */
	while (n <= ZR_DICT_MAX) {
		got = read(fd, buf + n, ZR_DICT_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (got < 0 || !n || n > ZR_DICT_MAX) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*size = n;
	return 0;
}

/* Is the token (len bytes, not NUL-terminated) exactly word? */
static int token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(tok, word, len);
}

/*
 * zram's post-processing modes: "idle", "huge", "huge_idle", and for
 * writeback only "incompressible". -EINVAL for anything else.
 */
static int pp_mode(const char *word, size_t len, int incompressible_ok,
		   enum zr_pp_mode *mode)
{
	if (token_is(word, len, "idle"))
		*mode = ZR_PP_IDLE;
	else if (token_is(word, len, "huge"))
		*mode = ZR_PP_HUGE;
	else if (token_is(word, len, "huge_idle"))
		*mode = ZR_PP_HUGE_IDLE;
	else if (incompressible_ok && token_is(word, len, "incompressible"))
		*mode = ZR_PP_INCOMPRESSIBLE;
	else
		return -EINVAL;
	return 0;
}

/* "algo=NAME": the priority whose algorithm that is, or -EINVAL. */
static int priority_of(struct zr_device *dev, const char *name, size_t len)
{
	int comp = zr_comp_find(name, len);

	return comp < 0 ? comp : zr_device_find_priority(dev, comp);
}

static int store_algorithm_params(struct zr_device *dev, const char *buf,
				  size_t len)
{
	int prio = 0, level = ZR_COMP_LEVEL_DEFAULT;
	const char *key, *val, *algo = NULL;
	size_t key_len, val_len, algo_len = 0;
	char dict_path[ZR_CTL_BUF_SIZE] = "";
	struct zr_kv_iter it;
	size_t dict_size = 0;
	void *dict = NULL;
	int more, ret = 0;

	zr_kv_init(&it, buf, len);
	while ((more = zr_kv_next(&it, &key, &key_len, &val, &val_len)) > 0) {
		if (!val || !val_len)
			return -EINVAL;
		if (token_is(key, key_len, "priority")) {
			ret = zr_parse_int(val, val_len, &prio);
		} else if (token_is(key, key_len, "level")) {
			ret = zr_parse_int(val, val_len, &level);
		} else if (token_is(key, key_len, "algo")) {
			algo = val;
			algo_len = val_len;
		} else if (token_is(key, key_len, "dict")) {
			ret = zr_attr_cstr(val, val_len, dict_path,
					   sizeof(dict_path));
		} else {
			ret = -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (more < 0)
		return more;
	if (algo)
		prio = priority_of(dev, algo, algo_len);
	if (prio < 0 || prio > 3)
		return -EINVAL;
	if (zr_device_initialised(dev))
		return -EBUSY;
	if (dict_path[0]) {
		ret = read_dict(dict_path, &dict, &dict_size);
		if (ret)
			return ret;
	}
	ret = zr_device_set_params(dev, prio, level, dict, dict_size);
	free(dict);
	return ret;
}

static int store_mem_limit(struct zr_device *dev, const char *buf, size_t len)
{
	uint64_t limit;
	int ret = zr_parse_size(buf, len, &limit);

	if (ret)
		return ret;
	zr_device_set_mem_limit(dev, limit);
	return 0;
}

static int store_mem_used_max(struct zr_device *dev, const char *buf,
			      size_t len)
{
	uint64_t value;

	if (zr_parse_u64(buf, len, &value))
		return -EINVAL;
	return zr_device_reset_mem_used_max(dev, value);
}

static int store_compact(struct zr_device *dev, const char *buf, size_t len)
{
	return zr_device_compact(dev);
}

static int store_idle(struct zr_device *dev, const char *buf, size_t len)
{
	uint64_t age = ZR_IDLE_ALL;

	/* An age in seconds, a u32 as zram's kstrtouint(); 0 marks every
	 * page not accessed in the current second. */
	if (!zr_streq(buf, len, "all") &&
	    (zr_parse_u64(buf, len, &age) || age > UINT32_MAX))
		return -EINVAL;
	return zr_device_mark_idle(dev, age);
}

static int show_backing_dev(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_device_backing_show(dev, buf, cap);
}

static int store_backing_dev(struct zr_device *dev, const char *buf,
			     size_t len)
{
	char path[ZR_CTL_BUF_SIZE];
	int ret = zr_attr_cstr(buf, len, path, sizeof(path));

	if (ret)
		return ret;
	if (!path[0])
		return -EINVAL;
	return zr_device_attach_backing(dev, path);
}

/* Longest list of requests one writeback write may carry. */
#define WB_MAX_REQUESTS 64

/* One writeback token: "MODE", "type=MODE", "page_index=N" or
 * "page_indexes=LO-HI". */
static int writeback_token(const char *key, size_t key_len, const char *val,
			   size_t val_len, struct zr_wb_request *req)
{
	memset(req, 0, sizeof(*req));
	if (!val || !val_len) {
		req->whole_device = 1;
		return pp_mode(key, key_len, 1, &req->mode);
	}
	if (token_is(key, key_len, "type")) {
		req->whole_device = 1;
		return pp_mode(val, val_len, 1, &req->mode);
	}
	req->mode = ZR_PP_ALL;
	if (token_is(key, key_len, "page_index")) {
		if (zr_parse_u64(val, val_len, &req->lo))
			return -EINVAL;
		req->hi = req->lo;
		return 0;
	}
	if (token_is(key, key_len, "page_indexes"))
		return zr_parse_range(val, val_len, &req->lo, &req->hi);
	return -EINVAL;
}

static int store_writeback(struct zr_device *dev, const char *buf, size_t len)
{
	struct zr_wb_request reqs[WB_MAX_REQUESTS];
	const char *key, *val;
	size_t key_len, val_len;
	struct zr_kv_iter it;
	int more, ret, count = 0;

	/* zram's order: not initialised, then no backing device. */
	if (!zr_device_initialised(dev))
		return -EINVAL;
	if (!zr_device_has_backing(dev))
		return -ENODEV;
	zr_kv_init(&it, buf, len);
	while ((more = zr_kv_next(&it, &key, &key_len, &val, &val_len)) > 0) {
		if (count == WB_MAX_REQUESTS)
			return -EINVAL;
		ret = writeback_token(key, key_len, val, val_len,
				      &reqs[count++]);
		if (ret)
			return ret;
	}
	if (more < 0 || !count)
		return -EINVAL;
	return zr_device_writeback(dev, reqs, count);
}

static int show_compressed_writeback(struct zr_device *dev, char *buf,
				     size_t cap)
{
	return zr_format_u64(buf, cap, zr_device_compressed_writeback(dev));
}

static int store_compressed_writeback(struct zr_device *dev, const char *buf,
				      size_t len)
{
	int on;

	if (zr_parse_bool_u64(buf, len, &on))
		return -EINVAL;
	zr_device_set_compressed_writeback(dev, on);
	return 0;
}

static int show_writeback_limit(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_format_u64(buf, cap, zr_device_wb_limit(dev));
}

static int store_writeback_limit(struct zr_device *dev, const char *buf,
				 size_t len)
{
	uint64_t value;

	if (zr_parse_u64(buf, len, &value))
		return -EINVAL;
	zr_device_set_wb_limit(dev, value);
	return 0;
}

static int show_writeback_limit_enable(struct zr_device *dev, char *buf,
				       size_t cap)
{
	return zr_format_u64(buf, cap, zr_device_wb_limit_enable(dev));
}

static int store_writeback_limit_enable(struct zr_device *dev,
					const char *buf, size_t len)
{
	uint64_t value;

	if (zr_parse_u64(buf, len, &value))
		return -EINVAL;
	zr_device_set_wb_limit_enable(dev, value != 0);
	return 0;
}

static int show_recomp_algorithm(struct zr_device *dev, char *buf,
				 size_t cap)
{
	int prio, comp, len = 0;

	if (cap)
		buf[0] = '\0';
	for (prio = 1; prio <= 3; prio++) {
		comp = zr_device_recomp_algorithm(dev, prio);
		if (comp < 0)
			continue;
		len += zr_format_algorithms_prio(buf + len, cap - len, prio,
						 zr_comp_names(), ZR_COMP_COUNT,
						 comp);
	}
	return len;
}

static int store_recomp_algorithm(struct zr_device *dev, const char *buf,
				  size_t len)
{
	const char *key, *val, *algo = NULL;
	size_t key_len, val_len, algo_len = 0;
	struct zr_kv_iter it;
	int more, ret, comp, prio = 1;

	zr_kv_init(&it, buf, len);
	while ((more = zr_kv_next(&it, &key, &key_len, &val, &val_len)) > 0) {
		if (!val || !val_len)
			return -EINVAL;
		if (token_is(key, key_len, "algo")) {
			algo = val;
			algo_len = val_len;
		} else if (token_is(key, key_len, "priority")) {
			ret = zr_parse_int(val, val_len, &prio);
			if (ret)
				return ret;
		}
	}
	if (more < 0 || !algo)
		return -EINVAL;
	if (prio < 1 || prio > 3)
		return -EINVAL;
	comp = algorithm_named(algo, algo_len);
	if (comp < 0)
		return comp;
	return zr_device_set_recomp_algorithm(dev, prio, comp);
}

static int store_recompress(struct zr_device *dev, const char *buf,
			    size_t len)
{
	struct zr_recomp_request req = {
		.mode = ZR_PP_ALL, .max_pages = UINT64_MAX,
		.prio_min = 1, .prio_max = 4,
	};
	const char *key, *val, *algo = NULL;
	size_t key_len, val_len, algo_len = 0;
	struct zr_kv_iter it;
	int64_t done;
	int more, ret = 0, prio;

	zr_kv_init(&it, buf, len);
	while ((more = zr_kv_next(&it, &key, &key_len, &val, &val_len)) > 0) {
		if (!val || !val_len)
			return -EINVAL;
		if (token_is(key, key_len, "type")) {
			ret = pp_mode(val, val_len, 0, &req.mode);
		} else if (token_is(key, key_len, "max_pages")) {
			ret = zr_parse_u64(val, val_len, &req.max_pages);
		} else if (token_is(key, key_len, "threshold")) {
			ret = zr_parse_u64(val, val_len, &req.threshold);
		} else if (token_is(key, key_len, "algo")) {
			algo = val;
			algo_len = val_len;
		} else if (token_is(key, key_len, "priority")) {
			ret = zr_parse_int(val, val_len, &prio);
			/* As zram, 0 (the primary) means the first secondary. */
			if (!ret && prio == 0)
				prio = 1;
			if (!ret && (prio < 1 || prio > 3))
				ret = -EINVAL;
			if (!ret) {
				req.prio_min = prio;
				req.prio_max = prio + 1;
			}
		} else {
			ret = -EINVAL;
		}
		if (ret)
			return -EINVAL;
	}
	if (more < 0 || req.threshold >= zr_arena_huge_size())
		return -EINVAL;
	if (!zr_device_initialised(dev))
		return -EINVAL;
	if (algo) {
		prio = priority_of(dev, algo, algo_len);
		if (prio < 1)
			return -EINVAL;
		req.prio_min = prio;
		req.prio_max = prio + 1;
	}
	done = zr_device_recompress(dev, &req);
	return done < 0 ? (int)done : 0;
}

static int show_mm_stat(struct zr_device *dev, char *buf, size_t cap)
{
	struct zr_mm_stat st;

	zr_device_mm_stat(dev, &st);
	return zr_format_mm_stat(buf, cap, &st);
}

static int show_io_stat(struct zr_device *dev, char *buf, size_t cap)
{
	struct zr_io_stat st;

	zr_device_io_stat(dev, &st);
	return zr_format_io_stat(buf, cap, &st);
}

static int show_bd_stat(struct zr_device *dev, char *buf, size_t cap)
{
	struct zr_bd_stat st;

	zr_device_bd_stat(dev, &st);
	return zr_format_bd_stat(buf, cap, &st);
}

static int show_debug_stat(struct zr_device *dev, char *buf, size_t cap)
{
	return zr_format_debug_stat(buf, cap, zr_device_miss_free(dev));
}

static const struct zr_ctl_attr attrs[] = {
	{ "disksize", 0644, show_disksize, store_disksize },
	{ "initstate", 0444, show_initstate, NULL },
	{ "reset", 0200, NULL, store_reset },
	{ "comp_algorithm", 0644, show_comp_algorithm, store_comp_algorithm },
	{ "algorithm_params", 0200, NULL, store_algorithm_params },
	{ "mem_limit", 0200, NULL, store_mem_limit },
	{ "mem_used_max", 0200, NULL, store_mem_used_max },
	{ "compact", 0200, NULL, store_compact },
	{ "idle", 0200, NULL, store_idle },
	{ "backing_dev", 0644, show_backing_dev, store_backing_dev },
	{ "writeback", 0200, NULL, store_writeback },
	{ "compressed_writeback", 0644, show_compressed_writeback,
	  store_compressed_writeback },
	{ "writeback_limit", 0644, show_writeback_limit,
	  store_writeback_limit },
	{ "writeback_limit_enable", 0644, show_writeback_limit_enable,
	  store_writeback_limit_enable },
	{ "recomp_algorithm", 0644, show_recomp_algorithm,
	  store_recomp_algorithm },
	{ "recompress", 0200, NULL, store_recompress },
	{ "mm_stat", 0444, show_mm_stat, NULL },
	{ "io_stat", 0444, show_io_stat, NULL },
	{ "bd_stat", 0444, show_bd_stat, NULL },
	{ "debug_stat", 0444, show_debug_stat, NULL },
	{ "size", 0444, show_size, NULL },
};

const struct zr_ctl_attr *zr_ctl_attr(int index)
{
	if (index < 0 || index >= zr_ctl_attr_count())
		return NULL;
	return &attrs[index];
}

int zr_ctl_attr_count(void)
{
	return (int)(sizeof(attrs) / sizeof(attrs[0]));
}

int zr_ctl_attr_find(const char *name, size_t len)
{
	int i;

	for (i = 0; i < zr_ctl_attr_count(); i++)
		if (token_is(name, len, attrs[i].name))
			return i;
	return -1;
}

/*
 * Looks device id up under the host lock and pins it against hot_remove,
 * so that the attribute runs without the host lock: a long writeback or
 * recompress must not stall the control files of other devices.
 */
static struct zr_device *ctl_device_get(struct zr_host *host, int id,
					 uint64_t serial)
{
	struct zr_device *dev;

	zr_host_lock(host);
	dev = zr_host_get(host, id);
	if (dev && serial && zr_host_serial(host, id) != serial)
		dev = NULL;
	if (dev)
		zr_device_pin(dev);
	zr_host_unlock(host);
	return dev;
}

int zr_ctl_open(struct zr_host *host, int id, uint64_t *serial)
{
	zr_host_lock(host);
	*serial = zr_host_serial(host, id);
	zr_host_unlock(host);
	return *serial ? 0 : -ENODEV;
}

int zr_ctl_show(struct zr_host *host, int id, uint64_t serial, int index,
		char *buf, size_t cap)
{
	const struct zr_ctl_attr *attr = zr_ctl_attr(index);
	struct zr_device *dev;
	int ret;

	if (!attr || !attr->show)
		return -EACCES;
	dev = ctl_device_get(host, id, serial);
	if (!dev)
		return -ENODEV;
	ret = attr->show(dev, buf, cap);
	zr_device_unpin(dev);
	return ret;
}

int zr_ctl_store(struct zr_host *host, int id, uint64_t serial, int index,
		 const char *buf, size_t len)
{
	const struct zr_ctl_attr *attr = zr_ctl_attr(index);
	struct zr_device *dev;
	int ret;

	if (!attr || !attr->store)
		return -EACCES;
	if (len > ZR_ATTR_MAX_WRITE)
		return -EINVAL;
	dev = ctl_device_get(host, id, serial);
	if (!dev)
		return -ENODEV;
	ret = attr->store(dev, buf, len);
	zr_device_unpin(dev);
	if (ret > 0)
		zr_die("attribute store returned a positive value");
	return ret;
}

int zr_ctl_hot_add(struct zr_host *host, char *buf, size_t cap)
{
	int id;

	zr_host_lock(host);
	id = zr_host_add(host);
	zr_host_unlock(host);
	if (id < 0)
		return id;
	return snprintf(buf, cap, "%d\n", id);
}

int zr_ctl_hot_remove(struct zr_host *host, const char *buf, size_t len)
{
	int id, ret = zr_parse_int(buf, len, &id);

	if (ret)
		return ret;
	if (id < 0)
		return -EINVAL;
	zr_host_lock(host);
	ret = zr_host_remove(host, id);
	zr_host_unlock(host);
	return ret;
}
