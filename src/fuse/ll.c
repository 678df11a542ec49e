// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The FUSE low-level operations: turn inodes and requests into core calls
 * and negative errnos into replies. Nothing else lives here.
 *
 * Inode numbers:
 *   1                     root
 *   2                     control/
 *   3, 4                  control/hot_add, control/hot_remove
 *   16 + 64 N             zramN (data file)
 *   16 + 64 N + 1         control/zramN/
 *   16 + 64 N + 2 + k     control/zramN/<attribute k>
 * Every attribute and entry has a zero timeout: st_size follows disksize
 * and devices come and go, so the kernel must always ask.
 *
 * Data files are opened with direct I/O; their file handle is the device,
 * which cannot go away while open (hot_remove refuses with EBUSY). Reads
 * and writes go straight to the core, which takes no device-wide lock.
 * Control files are opened with direct I/O too, so a read returns exactly
 * what the attribute shows. As in sysfs (seq_file), a read at offset 0
 * generates the text anew and a read further on continues the text of the
 * last read at 0, so that a monitor may keep mm_stat open and pread() it
 * from 0 again and again; each open file has a lock for its text, since
 * two threads may read through one descriptor at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zr_common.h"
#include "zr_control.h"
#include "zramfs.h"

#define INO_ROOT 1
#define INO_CONTROL 2
#define INO_HOT_ADD 3
#define INO_HOT_REMOVE 4
#define INO_DEV_BASE 16
#define INO_DEV_STRIDE 64
#define INO_DEV_DATA 0
#define INO_DEV_DIR 1
#define INO_DEV_ATTR 2

enum node_kind {
	NODE_NONE,
	NODE_ROOT,
	NODE_CONTROL,
	NODE_HOT_ADD,
	NODE_HOT_REMOVE,
	NODE_DATA,
	NODE_DEV_DIR,
	NODE_ATTR,
};

struct node {
	enum node_kind kind;
	int id;		/* device id for DATA, DEV_DIR, ATTR */
	int attr;	/* attribute index for ATTR */
};

/* An open control file: the text of its last read at offset 0. */
struct ctl_file {
	struct node node;
	uint64_t serial;	/* the device opened (zr_ctl_open()) */
	pthread_mutex_t lock;	/* guards filled, len and buf */
	int filled;
	int len;
	char buf[ZR_CTL_BUF_SIZE];
};

static __thread char *tls_io_buf;
static pthread_key_t io_buf_key;
static pthread_once_t io_buf_key_once = PTHREAD_ONCE_INIT;

static void io_buf_key_create(void)
{
	/* The destructor frees a worker's buffer when libfuse retires it. */
	if (pthread_key_create(&io_buf_key, free))
		zr_die("pthread_key_create");
}

/* The calling thread's read buffer, made by zramfs_thread_prepare() or
 * on its first read. */
static char *io_buf(void)
{
	if (!tls_io_buf) {
		pthread_once(&io_buf_key_once, io_buf_key_create);
		tls_io_buf = malloc(ZRAMFS_MAX_IO);
		if (tls_io_buf)
			pthread_setspecific(io_buf_key, tls_io_buf);
	}
	return tls_io_buf;
}

void zramfs_thread_prepare(size_t max_io)
{
	char *buf = max_io ? io_buf() : NULL;

	/* Resident (and locked, under mlockall) up to the largest request
	 * the kernel will send; the rest of the buffer is never used. */
	if (buf)
		memset(buf, 0, max_io < ZRAMFS_MAX_IO ? max_io : ZRAMFS_MAX_IO);
	zr_device_thread_prepare();
}

static struct zramfs *zramfs_data(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static fuse_ino_t dev_ino(int id, int offset)
{
	return INO_DEV_BASE + (fuse_ino_t)id * INO_DEV_STRIDE + offset;
}

static struct node ino_node(fuse_ino_t ino)
{
	struct node node = { NODE_NONE, -1, -1 };
	fuse_ino_t rel;

	switch (ino) {
	case INO_ROOT:
		node.kind = NODE_ROOT;
		return node;
	case INO_CONTROL:
		node.kind = NODE_CONTROL;
		return node;
	case INO_HOT_ADD:
		node.kind = NODE_HOT_ADD;
		return node;
	case INO_HOT_REMOVE:
		node.kind = NODE_HOT_REMOVE;
		return node;
	}
	if (ino < INO_DEV_BASE ||
	    ino >= dev_ino(ZR_MAX_DEVICES, 0))
		return node;
	rel = ino - INO_DEV_BASE;
	node.id = rel / INO_DEV_STRIDE;
	rel %= INO_DEV_STRIDE;
	if (rel == INO_DEV_DATA) {
		node.kind = NODE_DATA;
	} else if (rel == INO_DEV_DIR) {
		node.kind = NODE_DEV_DIR;
	} else if (rel - INO_DEV_ATTR < (fuse_ino_t)zr_ctl_attr_count()) {
		node.kind = NODE_ATTR;
		node.attr = rel - INO_DEV_ATTR;
	}
	return node;
}

/* Parses "zramN" (no leading zeros, no sign); returns N or -1. */
static int parse_dev_name(const char *name)
{
	long id = 0;
	const char *p;

	if (strncmp(name, "zram", 4) || !name[4])
		return -1;
	if (name[4] == '0' && name[5])
		return -1;
	for (p = name + 4; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		id = id * 10 + (*p - '0');
		if (id >= ZR_MAX_DEVICES)
			return -1;
	}
	return (int)id;
}

/*
 * Fills st for ino. Returns 0 or -ENOENT. Takes the host lock for device
 * nodes, so that a device seen here exists.
 */
static int node_stat(struct zramfs *fs, fuse_ino_t ino, struct stat *st)
{
	struct node node = ino_node(ino);
	struct zr_device *dev = NULL;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = ZR_PAGE_SIZE;
	st->st_atim = st->st_mtim = st->st_ctim = fs->mount_time;
	st->st_nlink = 1;

	if (node.id >= 0) {
		zr_host_lock(fs->host);
		dev = zr_host_get(fs->host, node.id);
		if (!dev)
			ret = -ENOENT;
	}
	switch (node.kind) {
	case NODE_ROOT:
	case NODE_CONTROL:
	case NODE_DEV_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case NODE_HOT_ADD:
		st->st_mode = S_IFREG | 0400;
		st->st_size = ZR_CTL_BUF_SIZE;
		break;
	case NODE_HOT_REMOVE:
		st->st_mode = S_IFREG | 0200;
		st->st_size = ZR_CTL_BUF_SIZE;
		break;
	case NODE_DATA:
		st->st_mode = S_IFREG | 0600;
		if (dev) {
			struct zr_mm_stat mm;

			st->st_size = zr_device_disksize(dev);
			zr_device_mm_stat(dev, &mm);
			st->st_blocks = mm.orig_data_size / 512;
		}
		break;
	case NODE_ATTR:
		st->st_mode = S_IFREG | zr_ctl_attr(node.attr)->mode;
		st->st_size = ZR_CTL_BUF_SIZE;
		break;
	case NODE_NONE:
		ret = -ENOENT;
		break;
	}
	if (node.id >= 0)
		zr_host_unlock(fs->host);
	return ret;
}

static void reply_entry(fuse_req_t req, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	int ret;

	memset(&e, 0, sizeof(e));
	ret = node_stat(zramfs_data(req), ino, &e.attr);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	e.ino = ino;
	fuse_reply_entry(req, &e);
}

static void zramfs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct zramfs *fs = userdata;

	conn->max_write = fs->max_io;
	conn->max_read = fs->max_io;
	conn->max_readahead = 0;
	/* loop's direct I/O reaches us as background requests: the kernel
	 * keeps at most max_background of them in flight. Its congestion
	 * threshold keeps the kernel's own ratio, 9 of 12. */
	conn->max_background = fs->max_background;
	conn->congestion_threshold = fs->max_background * 3 / 4;
	if (!conn->congestion_threshold)
		conn->congestion_threshold = 1;
	/* No page cache copy of swap data, and echo > attr truncates in
	 * open rather than through a separate setattr. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

static void zramfs_ll_lookup(fuse_req_t req, fuse_ino_t parent,
			     const char *name)
{
	struct node dir = ino_node(parent);
	int id, attr;

	switch (dir.kind) {
	case NODE_ROOT:
		if (!strcmp(name, "control")) {
			reply_entry(req, INO_CONTROL);
			return;
		}
		id = parse_dev_name(name);
		if (id >= 0) {
			reply_entry(req, dev_ino(id, INO_DEV_DATA));
			return;
		}
		break;
	case NODE_CONTROL:
		if (!strcmp(name, "hot_add")) {
			reply_entry(req, INO_HOT_ADD);
			return;
		}
		if (!strcmp(name, "hot_remove")) {
			reply_entry(req, INO_HOT_REMOVE);
			return;
		}
		id = parse_dev_name(name);
		if (id >= 0) {
			reply_entry(req, dev_ino(id, INO_DEV_DIR));
			return;
		}
		break;
	case NODE_DEV_DIR:
		attr = zr_ctl_attr_find(name, strlen(name));
		if (attr >= 0) {
			reply_entry(req, dev_ino(dir.id, INO_DEV_ATTR + attr));
			return;
		}
		break;
	default:
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fuse_reply_err(req, ENOENT);
}

static void zramfs_ll_getattr(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	struct stat st;
	int ret = node_stat(zramfs_data(req), ino, &st);

	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, 0);
}

static void zramfs_ll_setattr(fuse_req_t req, fuse_ino_t ino,
			      struct stat *attr, int to_set,
			      struct fuse_file_info *fi)
{
	struct node node = ino_node(ino);
	struct stat st;
	int ret = node_stat(zramfs_data(req), ino, &st);

	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	/* Sizes are fixed: a data file is as large as its disksize, and
	 * truncating a control file (echo's O_TRUNC) means nothing. */
	if (to_set & ~FUSE_SET_ATTR_SIZE) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) && node.kind == NODE_DATA &&
	    attr->st_size != st.st_size) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) && node.kind != NODE_DATA &&
	    node.kind != NODE_ATTR && node.kind != NODE_HOT_REMOVE) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fuse_reply_attr(req, &st, 0);
}

struct dir_listing {
	char *buf;
	size_t size;
	size_t used;
	off_t index;	/* entries before this one are skipped */
	off_t next;	/* running entry number */
};

/* Adds one entry unless it was already returned or the reply is full.
 * Returns 0 to continue, 1 when full. */
static int dir_add(fuse_req_t req, struct dir_listing *l, const char *name,
		   fuse_ino_t ino, mode_t mode)
{
	struct stat st = { .st_ino = ino, .st_mode = mode };
	size_t len;

	l->next++;
	if (l->next <= l->index)
		return 0;
	len = fuse_add_direntry(req, l->buf + l->used, l->size - l->used,
				name, &st, l->next);
	if (len > l->size - l->used)
		return 1;
	l->used += len;
	return 0;
}

static void list_dir(fuse_req_t req, struct zramfs *fs, struct node dir,
		     fuse_ino_t ino, struct dir_listing *l)
{
	char name[32];
	int id, i;

	if (dir_add(req, l, ".", ino, S_IFDIR) ||
	    dir_add(req, l, "..", INO_ROOT, S_IFDIR))
		return;
	switch (dir.kind) {
	case NODE_ROOT:
		if (dir_add(req, l, "control", INO_CONTROL, S_IFDIR))
			return;
		/* device entries follow in both directories */
		__attribute__((fallthrough));
	case NODE_CONTROL:
		if (dir.kind == NODE_CONTROL &&
		    (dir_add(req, l, "hot_add", INO_HOT_ADD, S_IFREG) ||
		     dir_add(req, l, "hot_remove", INO_HOT_REMOVE, S_IFREG)))
			return;
		zr_host_lock(fs->host);
		for (id = zr_host_next(fs->host, 0); id >= 0;
		     id = zr_host_next(fs->host, id + 1)) {
			snprintf(name, sizeof(name), "zram%d", id);
			if (dir_add(req, l, name,
				    dev_ino(id, dir.kind == NODE_ROOT ?
						INO_DEV_DATA : INO_DEV_DIR),
				    dir.kind == NODE_ROOT ? S_IFREG : S_IFDIR))
				break;
		}
		zr_host_unlock(fs->host);
		break;
	case NODE_DEV_DIR:
		for (i = 0; i < zr_ctl_attr_count(); i++)
			if (dir_add(req, l, zr_ctl_attr(i)->name,
				    dev_ino(dir.id, INO_DEV_ATTR + i), S_IFREG))
				return;
		break;
	default:
		break;
	}
}

static void zramfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			      off_t off, struct fuse_file_info *fi)
{
	struct node dir = ino_node(ino);
	struct dir_listing l = { .size = size, .index = off };
	struct stat st;
	int ret;

	ret = node_stat(zramfs_data(req), ino, &st);
	if (!ret && !S_ISDIR(st.st_mode))
		ret = -ENOTDIR;
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	l.buf = malloc(size);
	if (!l.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	list_dir(req, zramfs_data(req), dir, ino, &l);
	fuse_reply_buf(req, l.buf, l.used);
	free(l.buf);
}

static int open_data(struct zramfs *fs, struct node node,
		     struct fuse_file_info *fi)
{
	struct zr_device *dev;
	int ret;

	/* -ENODEV once the daemon is stopping (workers.c) */
	zr_host_lock(fs->host);
	ret = zr_host_open(fs->host, node.id, &dev);
	zr_host_unlock(fs->host);
	if (ret)
		return ret;
	fi->fh = (uintptr_t)dev;
	fi->direct_io = 1;
	return 0;
}

static void ctl_file_free(struct ctl_file *file)
{
	pthread_mutex_destroy(&file->lock);
	free(file);
}

static int open_control(struct zramfs *fs, struct node node,
			struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	int can_read = 0, can_write = 0;
	struct ctl_file *file;
	uint64_t serial = 0;
	int ret;

	if (node.kind == NODE_HOT_ADD) {
		can_read = 1;
	} else if (node.kind == NODE_HOT_REMOVE) {
		can_write = 1;
	} else {
		can_read = zr_ctl_attr(node.attr)->show != NULL;
		can_write = zr_ctl_attr(node.attr)->store != NULL;
	}
	/* As sysfs: even root cannot read a write-only attribute. */
	if ((acc != O_WRONLY && !can_read) || (acc != O_RDONLY && !can_write))
		return -EACCES;
	if (node.kind == NODE_ATTR) {
		ret = zr_ctl_open(fs->host, node.id, &serial);
		if (ret)
			return ret;
	}
	file = calloc(1, sizeof(*file));
	if (!file)
		return -ENOMEM;
	file->node = node;
	file->serial = serial;
	pthread_mutex_init(&file->lock, NULL);
	fi->fh = (uintptr_t)file;
	fi->direct_io = 1;
	return 0;
}

/*
 * Replies to the open of a data file. Without FOPEN_PARALLEL_DIRECT_WRITES
 * the kernel serialises all direct writes to one inode on its lock, which
 * halves write throughput through loop. libfuse 3.14's fuse_file_info has
 * no field for the flag, so the reply is built from the kernel's own
 * struct fuse_open_out and sent with fuse_reply_buf, the same path
 * fuse_reply_open takes.
 */
static int reply_open_data(fuse_req_t req, struct fuse_file_info *fi)
{
	struct fuse_open_out out;

	memset(&out, 0, sizeof(out));
	out.fh = fi->fh;
	out.open_flags = FOPEN_DIRECT_IO;
	if (zramfs_data(req)->parallel_writes)
		out.open_flags |= FOPEN_PARALLEL_DIRECT_WRITES;
	return fuse_reply_buf(req, (const char *)&out, sizeof(out));
}

static void zramfs_ll_open(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct node node = ino_node(ino);
	struct stat st;
	int ret = node_stat(zramfs_data(req), ino, &st);

	if (!ret && S_ISDIR(st.st_mode))
		ret = -EISDIR;
	if (!ret)
		ret = node.kind == NODE_DATA ?
			open_data(zramfs_data(req), node, fi) :
			open_control(zramfs_data(req), node, fi);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	ret = node.kind == NODE_DATA ? reply_open_data(req, fi) :
				       fuse_reply_open(req, fi);
	/* The open was interrupted: no release will follow, undo it now. */
	if (ret && node.kind == NODE_DATA)
		zr_device_release((struct zr_device *)(uintptr_t)fi->fh);
	else if (ret)
		ctl_file_free((struct ctl_file *)(uintptr_t)fi->fh);
}

static void zramfs_ll_release(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	if (ino_node(ino).kind == NODE_DATA)
		zr_device_release((struct zr_device *)(uintptr_t)fi->fh);
	else
		ctl_file_free((struct ctl_file *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static int ctl_fill(struct zramfs *fs, struct ctl_file *file)
{
	int ret;

	if (file->node.kind == NODE_HOT_ADD)
		ret = zr_ctl_hot_add(fs->host, file->buf, sizeof(file->buf));
	else
		ret = zr_ctl_show(fs->host, file->node.id, file->serial,
				  file->node.attr, file->buf, sizeof(file->buf));
	if (ret < 0) {
		file->filled = 0;	/* buf may hold part of a text */
		return ret;
	}
	file->len = ret;
	file->filled = 1;
	return 0;
}

static void read_control(fuse_req_t req, struct ctl_file *file, size_t size,
			 off_t off)
{
	char text[ZR_CTL_BUF_SIZE];
	int ret = 0;

	pthread_mutex_lock(&file->lock);
	if (!file->filled || off == 0)
		ret = ctl_fill(zramfs_data(req), file);
	if (!ret && off < file->len) {
		if (size > (size_t)(file->len - off))
			size = file->len - off;
		memcpy(text, file->buf + off, size);
	} else {
		size = 0;
	}
	pthread_mutex_unlock(&file->lock);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, text, size);
}

static void zramfs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	struct zr_device *dev;
	ssize_t ret;
	size_t cap;
	char *buf;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (ino_node(ino).kind != NODE_DATA) {
		read_control(req, (struct ctl_file *)(uintptr_t)fi->fh, size,
			     off);
		return;
	}
	dev = (struct zr_device *)(uintptr_t)fi->fh;
	/* Over io_uring the page is decompressed straight into the ring
	 * entry's payload, where the reply goes: no copy of it. */
	buf = zramfs_uring_reply_buf(&cap);
	if (!buf) {
		buf = io_buf();
		cap = ZRAMFS_MAX_IO;
	}
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (size > cap)
		size = cap;
	ret = zramfs_data_read(dev, buf, size, off);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, ret);
}

static void zramfs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			    size_t size, off_t off, struct fuse_file_info *fi)
{
	struct node node = ino_node(ino);
	struct zramfs *fs = zramfs_data(req);
	struct ctl_file *file;
	ssize_t ret;

	if (node.kind == NODE_DATA) {
		ret = off < 0 ? -EINVAL :
			zramfs_data_write((struct zr_device *)(uintptr_t)fi->fh,
					  buf, size, off);
	} else {
		file = (struct ctl_file *)(uintptr_t)fi->fh;
		if (node.kind == NODE_HOT_REMOVE)
			ret = zr_ctl_hot_remove(fs->host, buf, size);
		else
			ret = zr_ctl_store(fs->host, node.id, file->serial,
					   node.attr, buf, size);
		/* A later read shows the new value. */
		pthread_mutex_lock(&file->lock);
		file->filled = 0;
		pthread_mutex_unlock(&file->lock);
		if (!ret)
			ret = size;
	}
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_write(req, ret);
}

static void zramfs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
				off_t off, off_t len,
				struct fuse_file_info *fi)
{
	struct zr_device *dev = (struct zr_device *)(uintptr_t)fi->fh;
	int ret;

	if (ino_node(ino).kind != NODE_DATA) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	/* Punching a hole and zeroing a range both free the pages: a freed
	 * page reads as zeros. Plain allocation cannot be promised. */
	if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) &&
	    mode != FALLOC_FL_ZERO_RANGE &&
	    mode != (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	ret = zr_device_discard(dev, off, len);
	fuse_reply_err(req, -ret);
}

static void zramfs_ll_lseek(fuse_req_t req, fuse_ino_t ino, off_t off,
			    int whence, struct fuse_file_info *fi)
{
	int64_t ret;

	if (ino_node(ino).kind != NODE_DATA || off < 0) {
		fuse_reply_err(req, ino_node(ino).kind != NODE_DATA ?
					    EOPNOTSUPP : ENXIO);
		return;
	}
	ret = zr_device_seek((struct zr_device *)(uintptr_t)fi->fh, off,
			     whence);
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else
		fuse_reply_lseek(req, ret);
}

static void zramfs_ll_flush(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

/* Data lives in memory only, as in zram: there is nothing to sync. */
static void zramfs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
			    struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void zramfs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct zramfs *fs = zramfs_data(req);
	struct statvfs sv;
	uint64_t total = 0, used = 0;
	int id;

	zr_host_lock(fs->host);
	for (id = zr_host_next(fs->host, 0); id >= 0;
	     id = zr_host_next(fs->host, id + 1)) {
		struct zr_device *dev = zr_host_get(fs->host, id);
		struct zr_mm_stat mm;

		total += zr_device_disksize(dev);
		zr_device_mm_stat(dev, &mm);
		used += mm.orig_data_size;
	}
	zr_host_unlock(fs->host);
	memset(&sv, 0, sizeof(sv));
	/* f_bsize is the discard granularity loop uses: one page. */
	sv.f_bsize = ZR_PAGE_SIZE;
	sv.f_frsize = ZR_PAGE_SIZE;
	sv.f_blocks = total / ZR_PAGE_SIZE;
	sv.f_bfree = (total - used) / ZR_PAGE_SIZE;
	sv.f_bavail = sv.f_bfree;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

/*
 * The tree is fixed, as sysfs's: files and directories are made and
 * removed only by hot_add and hot_remove. Every request to change it is
 * refused with EPERM (libfuse would answer ENOSYS, "Function not
 * implemented", which reads like a missing feature).
 */
static void zramfs_ll_mknod(fuse_req_t req, fuse_ino_t parent,
			    const char *name, mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, EPERM);
}

static void zramfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent,
			    const char *name, mode_t mode)
{
	fuse_reply_err(req, EPERM);
}

static void zramfs_ll_remove(fuse_req_t req, fuse_ino_t parent,
			     const char *name)
{
	fuse_reply_err(req, EPERM);	/* unlink and rmdir */
}

static void zramfs_ll_symlink(fuse_req_t req, const char *link,
			      fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EPERM);
}

static void zramfs_ll_rename(fuse_req_t req, fuse_ino_t parent,
			     const char *name, fuse_ino_t newparent,
			     const char *newname, unsigned int flags)
{
	fuse_reply_err(req, EPERM);
}

static void zramfs_ll_link(fuse_req_t req, fuse_ino_t ino,
			   fuse_ino_t newparent, const char *newname)
{
	fuse_reply_err(req, EPERM);
}

static void zramfs_ll_create(fuse_req_t req, fuse_ino_t parent,
			     const char *name, mode_t mode,
			     struct fuse_file_info *fi)
{
	fuse_reply_err(req, EPERM);
}

const struct fuse_lowlevel_ops zramfs_ll_ops = {
	.init = zramfs_ll_init,
	.lookup = zramfs_ll_lookup,
	.getattr = zramfs_ll_getattr,
	.setattr = zramfs_ll_setattr,
	.readdir = zramfs_ll_readdir,
	.open = zramfs_ll_open,
	.release = zramfs_ll_release,
	.read = zramfs_ll_read,
	.write = zramfs_ll_write,
	.flush = zramfs_ll_flush,
	.fsync = zramfs_ll_fsync,
	.fallocate = zramfs_ll_fallocate,
	.lseek = zramfs_ll_lseek,
	.statfs = zramfs_ll_statfs,
	.mknod = zramfs_ll_mknod,
	.mkdir = zramfs_ll_mkdir,
	.unlink = zramfs_ll_remove,
	.rmdir = zramfs_ll_remove,
	.symlink = zramfs_ll_symlink,
	.rename = zramfs_ll_rename,
	.link = zramfs_ll_link,
	.create = zramfs_ll_create,
};
