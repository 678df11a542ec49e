// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE over io_uring (Linux 6.14 and later), asked for with -o io_uring.
 *
 * Classic FUSE costs every request a read() of /dev/fuse that sleeps until
 * the kernel wakes one worker, and a writev() for the reply. Over io_uring
 * the kernel keeps one queue per possible CPU; the daemon lends each queue
 * a few ring entries (a header block and a payload buffer), and one
 * io_uring command per entry both commits the reply to the last request
 * and fetches the next one. A request goes to the queue of the CPU that
 * submitted it. Each queue is served by RINGS_PER_QUEUE rings, an
 * io_uring and a thread each, so that the requests of one busy CPU are
 * served on several; the threads are left free to run on any CPU (pinned
 * to their queue's CPU they measured 15% slower here: the decompression
 * then waits for the loop worker that submitted the request to give up
 * that CPU).
 *
 * libfuse 3.14 knows nothing of it, so it is fitted around the library
 * with fuse_session_custom_io():
 *   - the read hook notes whether the kernel's INIT offers
 *     FUSE_OVER_IO_URING (flags2 bit 9: the kernel offers it only while
 *     /sys/module/fuse/parameters/enable_uring is Y);
 *   - the writev hook adds FUSE_OVER_IO_URING to libfuse's INIT reply and,
 *     once it is written, puts enable_uring back as it was (registration
 *     only needs the connection's flag) and lets the ring threads
 *     register their entries (the kernel refuses them before INIT);
 *   - a ring request is rebuilt in place into the /dev/fuse layout
 *     [fuse_in_header][operation header][payload]: the payload buffer
 *     starts ENTRY_GAP bytes into its allocation, so the two headers are
 *     copied in front of it and write data is never moved, and the whole
 *     goes to fuse_session_process_buf() like any other request;
 *   - zramfs replies to every request before its handler returns, on the
 *     serving thread, so the reply reaches the writev hook on that thread:
 *     a thread-local pointer names the entry being served, and the reply
 *     is copied into the entry instead of being written to /dev/fuse
 *     (a data read decompresses straight into the entry's payload,
 *     zramfs_uring_reply_buf(), so its reply needs no copy).
 * The classic workers keep serving /dev/fuse meanwhile: INIT, FORGET and
 * INTERRUPT always arrive there, and with no ring (kernel without it,
 * registration refused: the kernel then drops the ring for the connection)
 * every request does: -o io_uring then only costs a warning. Once INIT
 * is answered with the flag, the kernel holds every other request until
 * all queues have registered; so a ring that cannot be submitted (the
 * requests in its entries would never be answered), or a queue whose
 * rings lose all their entries while the ring is in use (its CPU's
 * requests would wait forever), ends the session with an error instead:
 * the daemon unmounts and exits rather than leave a swap device hanging.
 *
 * Swap safety is the classic workers': the ring threads are created before
 * serving, by the same code, with the same locked stacks, inherited
 * PR_SET_IO_FLUSHER and blocked signals; their rings and buffers are set up
 * and touched before INIT, so nothing is allocated once requests flow.
 * Memory: a payload of max_write (ZRAMFS_URING_MAX_IO, 256 KiB) per ring
 * entry, and about max_background entries in all (ring_depth()): 16 MiB
 * with the default 64; never fewer than 4 per ring, so 2 MiB per online
 * CPU beyond 8 CPUs. The queue of a possible but offline CPU gets one
 * ring of one entry (the kernel wants every queue).
 *
 * Ending: on unmount the kernel completes every entry it holds with
 * -ENOTCONN; a thread whose entries are all gone ends. When the daemon
 * stops first (a signal), zramfs_uring_stop() raises a flag that each
 * thread sees within STOP_POLL_MS (its wait for completions has that
 * timeout) before it closes its ring, which makes io_uring cancel the
 * commands still in the kernel.
 *
 * The kernel's structures (include/uapi/linux/fuse.h, protocol 7.42) are
 * defined here: the installed headers are older.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "zr_common.h"
#include "zramfs.h"

/* ---- the kernel's interface (uapi fuse.h 7.42) ------------------------ */

#define FUSE_OVER_IO_URING_FLAGS2 (1U << 9)	/* bit 41 of the 64 flags */

#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ 128

struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;	/* the request's unique */
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};

struct fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ];	/* in/out header */
	char op_in[FUSE_URING_OP_IN_OUT_SZ];	/* first in argument */
	struct fuse_uring_ent_in_out ring_ent_in_out;
};

enum {
	FUSE_IO_URING_CMD_REGISTER = 1,
	FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
};

/* In the SQE's command area. */
struct fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

_Static_assert(sizeof(struct fuse_uring_req_header) == 288,
	       "fuse_uring_req_header layout");
_Static_assert(sizeof(struct fuse_uring_cmd_req) == 24,
	       "fuse_uring_cmd_req layout");

#define ENABLE_URING_PARAM "/sys/module/fuse/parameters/enable_uring"

/* ---- sizes ------------------------------------------------------------ */

/*
 * Ring entries each ring lends to its queue. The kernel keeps at most
 * max_background asynchronous requests (a loop device's I/O) in flight to
 * the daemon, so the rings of the online queues together lend about that
 * many: an entry more than that is never used, and an entry fewer leaves a
 * request waiting in the kernel. The more entries a ring has, the more
 * requests each wakeup of its thread brings: with 64 in flight on 2 CPUs,
 * 16 entries per ring instead of 4 halved the context switches per 4 KiB
 * I/O and gave +18% random writes and +34% random reads (medians of 5
 * interleaved runs); 32 per ring (twice max_background) gained nothing.
 * At least RING_ENTRIES_MIN each, so that a machine with many CPUs still
 * batches, and at most RING_ENTRIES_MAX.
 */
#define RING_ENTRIES_MIN 4
#define RING_ENTRIES_MAX 32
/*
 * Rings (threads) lending entries to each kernel queue. A queue gets the
 * requests of the tasks running on its CPU, and one submitter (a loop
 * device's worker) can fill one queue alone: with a single thread per
 * queue, 1 MiB writes were compressed on one CPU while the other idled
 * (0.82x of 2 rings' throughput for sequential writes, 0.6x for reads,
 * 2-CPU VM). The kernel hands a request to any free entry of the queue,
 * so two rings let two CPUs work on one queue's requests. The queue of
 * an offline CPU gets one ring of one entry: the kernel wants every
 * queue, and sends it nothing while the CPU is offline.
 */
#define RINGS_PER_QUEUE 2
/* Room in front of the payload for the rebuilt request headers. */
#define ENTRY_GAP 4096
#define SQE_SIZE 128		/* IORING_SETUP_SQE128 */
/* How soon a waiting ring thread notices zramfs_uring_stop(). */
#define STOP_POLL_MS 200

/* ---- state ------------------------------------------------------------ */

struct ring_entry {
	struct fuse_uring_req_header *hdr;
	char *payload;		/* ENTRY_GAP into buf */
	char *buf;
	struct iovec iov[2];	/* hdr, payload: what REGISTER lends */
	uint64_t unique;	/* request being served */
	int last_cmd;
	int replied;
};

struct queue_ring {
	struct zramfs_uring *uring;
	unsigned int qid;
	unsigned int ring_no;	/* among its queue's rings */
	int ring_fd;
	void *ring_map;
	size_t ring_map_len;
	void *sqe_map;
	size_t sqe_map_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned int sq_local_tail;
	struct fuse_uring_req_header *hdrs;
	unsigned int depth;	/* entries lent: ring_depth(), or 1 if CPU
				 * offline */
	struct ring_entry *entries;	/* depth of them */
	uint64_t served;	/* requests served, read at the end */
};

enum uring_state {
	URING_WAITING,		/* for INIT */
	URING_GO,		/* INIT answered with the flag: register */
	URING_ABORT,		/* no ring for this session */
};

struct zramfs_uring {
	struct fuse_session *se;
	int fuse_fd;
	size_t payload_size;
	unsigned int nqueues;	/* the kernel's: possible CPUs */
	unsigned int nrings;	/* RINGS_PER_QUEUE per online CPU's queue */
	unsigned int depth;	/* entries per ring of an online CPU */
	struct queue_ring *rings;
	unsigned int *queue_live;	/* entries still lent, per queue */

	pthread_mutex_t lock;
	pthread_cond_t changed;
	enum uring_state state;	/* under lock */
	unsigned int set_up;	/* rings ready to register, under lock */

	uint64_t init_unique;	/* atomics from here on */
	int offered;
	int init_answered;
	int stop;
	int restore_param;	/* enable_uring was N: set it back */
};

static __thread struct ring_entry *tls_entry;

static void set_state(struct zramfs_uring *u, enum uring_state state)
{
	pthread_mutex_lock(&u->lock);
	if (u->state == URING_WAITING)
		u->state = state;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
}

/* ---- the enable_uring module parameter ------------------------------- */

static int param_read(void)
{
	char c = 0;
	int fd = open(ENABLE_URING_PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == 'y' || c == '1';
}

static int param_write(int on)
{
	int fd = open(ENABLE_URING_PARAM, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, on ? "Y" : "N", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* Once INIT is answered, or on the way out. */
static void param_restore(struct zramfs_uring *u)
{
	if (__atomic_exchange_n(&u->restore_param, 0, __ATOMIC_ACQ_REL))
		param_write(0);
}

/* ---- the raw io_uring calls -------------------------------------------- */

static int ring_create(struct queue_ring *q)
{
	struct io_uring_params p;
	char *ring;
	size_t cq_len;
	int fd;

	memset(&p, 0, sizeof(p));
	/* One thread submits and reaps; task work (the kernel's completion
	 * of a commit) runs when that thread enters the ring anyway. */
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE |
		  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = 2 * q->depth;
	fd = (int)syscall(__NR_io_uring_setup, q->depth, &p);
	if (fd < 0)
		return -errno;
	q->ring_fd = fd;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		return -EOPNOTSUPP;	/* Linux < 5.4: no FUSE ring anyway */
	q->ring_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (cq_len > q->ring_map_len)
		q->ring_map_len = cq_len;
	ring = mmap(NULL, q->ring_map_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	if (ring == MAP_FAILED)
		return -errno;
	q->ring_map = ring;
	q->sqe_map_len = (size_t)p.sq_entries * SQE_SIZE;
	q->sqe_map = mmap(NULL, q->sqe_map_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (q->sqe_map == MAP_FAILED) {
		q->sqe_map = NULL;
		return -errno;
	}
	q->sq_head = (unsigned int *)(ring + p.sq_off.head);
	q->sq_tail = (unsigned int *)(ring + p.sq_off.tail);
	q->sq_mask = (unsigned int *)(ring + p.sq_off.ring_mask);
	q->sq_array = (unsigned int *)(ring + p.sq_off.array);
	q->cq_head = (unsigned int *)(ring + p.cq_off.head);
	q->cq_tail = (unsigned int *)(ring + p.cq_off.tail);
	q->cq_mask = (unsigned int *)(ring + p.cq_off.ring_mask);
	q->cqes = (struct io_uring_cqe *)(ring + p.cq_off.cqes);
	q->sq_local_tail = *q->sq_tail;
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_FILES,
		    &q->uring->fuse_fd, 1) < 0)
		return -errno;
	return 0;
}

/* Queues a FUSE command for entry e. At most one command per entry is
 * outstanding, so the depth submission slots never overflow. */
static void queue_cmd(struct queue_ring *q, struct ring_entry *e, int cmd)
{
	unsigned int idx = q->sq_local_tail++ & *q->sq_mask;
	struct io_uring_sqe *sqe =
		(struct io_uring_sqe *)((char *)q->sqe_map + idx * SQE_SIZE);
	struct fuse_uring_cmd_req *req;

	memset(sqe, 0, SQE_SIZE);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0;		/* registered file 0: /dev/fuse */
	sqe->cmd_op = (uint32_t)cmd;
	sqe->user_data = (uint64_t)(uintptr_t)e;
	req = (struct fuse_uring_cmd_req *)sqe->cmd;
	req->qid = (uint16_t)q->qid;
	if (cmd == FUSE_IO_URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	} else {
		req->commit_id = e->unique;
	}
	q->sq_array[idx] = idx;
	e->last_cmd = cmd;
}

/*
 * Submits what was queued (counted from the kernel's head, so that what
 * a partial submission left is submitted next time) and waits up to
 * STOP_POLL_MS for completions. Transient failures return 0 for a retry.
 */
static int ring_enter(struct queue_ring *q)
{
	struct __kernel_timespec ts = { 0, STOP_POLL_MS * 1000000L };
	struct io_uring_getevents_arg arg;
	unsigned int to_submit;
	long ret;

	memset(&arg, 0, sizeof(arg));
	arg.ts = (uint64_t)(uintptr_t)&ts;
	__atomic_store_n(q->sq_tail, q->sq_local_tail, __ATOMIC_RELEASE);
	to_submit = q->sq_local_tail - __atomic_load_n(q->sq_head,
						       __ATOMIC_ACQUIRE);
	ret = syscall(__NR_io_uring_enter, q->ring_fd, to_submit, 1,
		      IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
		      sizeof(arg));
	if (ret >= 0)
		return 0;
	switch (errno) {
	case EINTR:
	case ETIME:
		return 0;
	case EAGAIN:
	case EBUSY:
	case ENOMEM:
		usleep(1000);	/* the kernel is short of something: retry */
		return 0;
	default:
		return -errno;
	}
}

/* ---- serving ----------------------------------------------------------- */

/*
 * Serves the request in e through libfuse, then queues its commit (which
 * also fetches the next request into e).
 */
static void serve_entry(struct queue_ring *q, struct ring_entry *e)
{
	struct fuse_uring_req_header *h = e->hdr;
	struct fuse_in_header in;
	struct fuse_out_header *out;
	uint32_t payload_len = h->ring_ent_in_out.payload_sz;
	size_t op_len = 0;
	struct fuse_buf buf;
	int well_formed;
	char *start;

	memcpy(&in, h->in_out, sizeof(in));
	e->unique = h->ring_ent_in_out.commit_id;
	e->replied = 0;
	/* The first argument is in op_in, the rest in the payload; so the
	 * operation header's length is whatever the two leave of in.len. */
	well_formed = in.len >= sizeof(in) + (uint64_t)payload_len &&
		      payload_len <= q->uring->payload_size;
	if (well_formed) {
		op_len = in.len - sizeof(in) - payload_len;
		well_formed = op_len <= FUSE_URING_OP_IN_OUT_SZ;
	}
	if (well_formed) {
		start = e->payload - op_len - sizeof(in);
		memcpy(start, &in, sizeof(in));
		memcpy(start + sizeof(in), h->op_in, op_len);
		memset(&buf, 0, sizeof(buf));
		buf.mem = start;
		buf.size = in.len;
		tls_entry = e;
		fuse_session_process_buf(q->uring->se, &buf);
		tls_entry = NULL;
		q->served++;
	}
	if (!e->replied) {
		/* Malformed, or a handler that did not reply: an error, so
		 * that the entry goes back to the kernel all the same. */
		out = (struct fuse_out_header *)h->in_out;
		memset(out, 0, sizeof(*out));
		out->len = sizeof(*out);
		out->error = -EIO;
		out->unique = e->unique;
		h->ring_ent_in_out.payload_sz = 0;
	}
	queue_cmd(q, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
}

char *zramfs_uring_reply_buf(size_t *cap)
{
	struct ring_entry *e = tls_entry;

	if (!e)
		return NULL;
	*cap = e->iov[1].iov_len;
	return e->payload;
}

/* The writev hook's half for ring requests: the reply goes into e's
 * payload (the buffer lent to the kernel). Returns as writev(2) does. */
static ssize_t reply_into_entry(struct ring_entry *e, const struct iovec *iov,
				int count)
{
	struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_uring_req_header *h = e->hdr;
	size_t cap = e->iov[1].iov_len, len = 0;
	int i;

	for (i = 1; i < count; i++) {
		if (len + iov[i].iov_len > cap) {
			/* libfuse reports it; serve_entry() answers EIO. */
			errno = EINVAL;
			return -1;
		}
		if (iov[i].iov_base != e->payload + len)
			memmove(e->payload + len, iov[i].iov_base,
				iov[i].iov_len);
		len += iov[i].iov_len;
	}
	memcpy(h->in_out, out, sizeof(*out));
	h->ring_ent_in_out.payload_sz = (uint32_t)len;
	e->replied = 1;
	return out->len;
}

static void ring_release(struct queue_ring *q)
{
	unsigned int i;

	if (q->ring_fd >= 0)
		close(q->ring_fd);	/* cancels commands still queued */
	q->ring_fd = -1;
	if (q->sqe_map)
		munmap(q->sqe_map, q->sqe_map_len);
	if (q->ring_map)
		munmap(q->ring_map, q->ring_map_len);
	q->sqe_map = q->ring_map = NULL;
	if (q->entries) {
		for (i = 0; i < q->depth; i++)
			free(q->entries[i].buf);
		free(q->entries);
		q->entries = NULL;
	}
	free(q->hdrs);
	q->hdrs = NULL;
}

/* Ring, headers and payloads, all touched (resident and locked). */
static int ring_set_up(struct queue_ring *q)
{
	size_t buf_len = ENTRY_GAP + q->uring->payload_size;
	unsigned int i;
	int ret;

	ret = ring_create(q);
	if (ret)
		return ret;
	q->entries = calloc(q->depth, sizeof(*q->entries));
	if (!q->entries)
		return -ENOMEM;
	if (posix_memalign((void **)&q->hdrs, 4096,
			   q->depth * sizeof(*q->hdrs)))
		return -ENOMEM;
	memset(q->hdrs, 0, q->depth * sizeof(*q->hdrs));
	for (i = 0; i < q->depth; i++) {
		struct ring_entry *e = &q->entries[i];

		if (posix_memalign((void **)&e->buf, 4096, buf_len))
			return -ENOMEM;
		memset(e->buf, 0, buf_len);
		e->payload = e->buf + ENTRY_GAP;
		e->hdr = &q->hdrs[i];
		e->iov[0].iov_base = e->hdr;
		e->iov[0].iov_len = sizeof(*e->hdr);
		e->iov[1].iov_base = e->payload;
		e->iov[1].iov_len = q->uring->payload_size;
	}
	return 0;
}

/* Waits until INIT decided; 1 to go on, 0 when there is no ring. */
static int wait_for_init(struct zramfs_uring *u)
{
	int go;

	pthread_mutex_lock(&u->lock);
	u->set_up++;
	pthread_cond_broadcast(&u->changed);
	while (u->state == URING_WAITING)
		pthread_cond_wait(&u->changed, &u->lock);
	go = u->state == URING_GO;
	pthread_mutex_unlock(&u->lock);
	return go;
}

/*
 * Requests the kernel goes on sending can no longer be answered: a ring
 * that cannot submit holds the requests of its entries, and a queue
 * whose rings have lost every entry takes its CPU's requests to no one.
 * They would wait forever: end the session (the daemon unmounts and
 * exits) rather than leave the device hanging.
 */
static void stop_serving(struct queue_ring *q, const char *what, int err)
{
	fuse_log(FUSE_LOG_ERR, "zramfs: io_uring queue %u, ring %u: %s%s%s: "
		 "stopping, as its CPU's requests could not be served\n",
		 q->qid, q->ring_no, what, err ? ": " : "",
		 err ? strerror(-err) : "");
	fuse_session_exit(q->uring->se);
}

/* One of q's entries is gone for good (not by unmounting). */
static void entry_lost(struct queue_ring *q)
{
	if (__atomic_sub_fetch(&q->uring->queue_live[q->qid], 1,
			       __ATOMIC_ACQ_REL) == 0)
		stop_serving(q, "the queue's last entry is gone", 0);
}

void *zramfs_uring_thread(void *opaque)
{
	struct queue_ring *q = opaque;
	struct zramfs_uring *u = q->uring;
	unsigned int live = 0, i, head, tail;
	char name[16];
	int ret;

	/* "zramfs-q1.0": queue 1's first ring, in ps -L and top -H. */
	snprintf(name, sizeof(name), "zramfs-q%u.%u", q->qid, q->ring_no);
	pthread_setname_np(pthread_self(), name);
	ret = ring_set_up(q);
	if (ret) {
		fuse_log(FUSE_LOG_WARNING, "zramfs: io_uring queue %u, ring %u: "
			 "%s: serving through /dev/fuse\n", q->qid,
			 q->ring_no, strerror(-ret));
		set_state(u, URING_ABORT);
	}
	if (!wait_for_init(u) || ret) {
		ring_release(q);
		return NULL;
	}
	for (i = 0; i < q->depth; i++)
		queue_cmd(q, &q->entries[i], FUSE_IO_URING_CMD_REGISTER);
	live = q->depth;
	while (live && !__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		ret = ring_enter(q);
		if (ret) {
			stop_serving(q, "cannot submit", ret);
			break;
		}
		head = *q->cq_head;
		tail = __atomic_load_n(q->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *cqe = &q->cqes[head & *q->cq_mask];
			struct ring_entry *e =
				(struct ring_entry *)(uintptr_t)cqe->user_data;

			if (cqe->res == 0) {
				serve_entry(q, e);
			} else if (cqe->res == -EAGAIN || cqe->res == -EINTR) {
				queue_cmd(q, e, e->last_cmd);
			} else if (cqe->res == -ENOTCONN) {
				live--;	/* the connection is gone */
			} else if (e->last_cmd == FUSE_IO_URING_CMD_REGISTER) {
				/* The kernel drops the ring for the
				 * connection: /dev/fuse serves. */
				fuse_log(FUSE_LOG_WARNING,
					 "zramfs: io_uring queue %u, ring %u: "
					 "registration refused: %s\n",
					 q->qid, q->ring_no,
					 strerror(-cqe->res));
				live--;
			} else {
				fuse_log(FUSE_LOG_ERR,
					 "zramfs: io_uring queue %u, ring %u: "
					 "commit: %s\n", q->qid, q->ring_no,
					 strerror(-cqe->res));
				live--;
				entry_lost(q);
			}
		}
		__atomic_store_n(q->cq_head, head, __ATOMIC_RELEASE);
	}
	ring_release(q);
	return NULL;
}

/* ---- the custom I/O hooks --------------------------------------------- */

static ssize_t hook_read(int fd, void *buf, size_t len, void *userdata)
{
	struct zramfs_uring *u = ((struct zramfs *)userdata)->uring;
	const struct fuse_in_header *in = buf;
	const struct fuse_init_in *init;
	ssize_t n = read(fd, buf, len);

	if (n < (ssize_t)(sizeof(*in) + sizeof(*init)) ||
	    in->opcode != FUSE_INIT)
		return n;
	init = (const struct fuse_init_in *)(in + 1);
	__atomic_store_n(&u->offered, (init->flags & FUSE_INIT_EXT) &&
			 (init->flags2 & FUSE_OVER_IO_URING_FLAGS2),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&u->init_unique, in->unique, __ATOMIC_RELEASE);
	return n;
}

static ssize_t hook_writev(int fd, struct iovec *iov, int count,
			   void *userdata)
{
	struct zramfs_uring *u = ((struct zramfs *)userdata)->uring;
	const struct fuse_out_header *out = iov[0].iov_base;
	struct ring_entry *e = tls_entry;
	struct fuse_init_out *init;
	int is_init, offered, usable;
	ssize_t n;

	if (e && out->unique == e->unique)
		return reply_into_entry(e, iov, count);
	is_init = !__atomic_load_n(&u->init_answered, __ATOMIC_ACQUIRE) &&
		  out->unique == __atomic_load_n(&u->init_unique,
						 __ATOMIC_ACQUIRE);
	if (!is_init)
		return writev(fd, iov, count);

	offered = __atomic_load_n(&u->offered, __ATOMIC_RELAXED);
	if (out->error || count < 2 ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, unused))
		offered = 0;
	pthread_mutex_lock(&u->lock);
	usable = u->state != URING_ABORT;	/* every ring set up */
	pthread_mutex_unlock(&u->lock);
	if (offered && usable) {
		init = iov[1].iov_base;
		init->flags |= FUSE_INIT_EXT;
		init->flags2 |= FUSE_OVER_IO_URING_FLAGS2;
	}
	n = writev(fd, iov, count);
	__atomic_store_n(&u->init_answered, 1, __ATOMIC_RELEASE);
	/* Registration only needs the connection's own io_uring flag,
	 * set by this reply: enable_uring goes back at once. */
	param_restore(u);
	if (!offered)
		fuse_log(FUSE_LOG_WARNING, "zramfs: io_uring: the kernel does "
			 "not offer FUSE over io_uring (Linux 6.14 or later "
			 "with CONFIG_FUSE_IO_URING): serving through "
			 "/dev/fuse\n");
	set_state(u, n >= 0 && offered && usable ? URING_GO : URING_ABORT);
	return n;
}

static const struct fuse_custom_io hooks = {
	.read = hook_read,
	.writev = hook_writev,
};

/* ---- life cycle ---------------------------------------------------------- */

/*
 * Reads a CPU list such as "0-3,8" (sysfs format) into set[0..cap) and
 * returns how many CPUs it names, or -1.
 */
static int cpu_list_read(const char *path, unsigned char *set,
			 unsigned int cap)
{
	FILE *f = fopen(path, "re");
	unsigned int lo, hi, cpu;
	int count = 0, n;
	char sep;

	if (!f)
		return -1;
	for (;;) {
		n = fscanf(f, "%u%c", &lo, &sep);
		if (n < 1)
			break;
		hi = lo;
		if (n == 2 && sep == '-' && fscanf(f, "%u%c", &hi, &sep) < 1)
			break;
		for (cpu = lo; cpu <= hi && cpu < cap; cpu++) {
			count += !set[cpu];
			set[cpu] = 1;
		}
		if (n < 2 || sep != ',')
			break;
	}
	fclose(f);
	return count ? count : -1;
}

#define MAX_CPUS 8192

/* Entries per ring of an online CPU's queue, for max_background requests
 * in flight spread over the online queues' rings. */
static unsigned int ring_depth(unsigned int max_background,
			       unsigned int online_queues)
{
	unsigned int rings = online_queues * RINGS_PER_QUEUE;
	unsigned int depth = (max_background + rings - 1) / rings;

	if (depth < RING_ENTRIES_MIN)
		return RING_ENTRIES_MIN;
	if (depth > RING_ENTRIES_MAX)
		return RING_ENTRIES_MAX;
	return depth;
}

/*
 * One queue per possible CPU, as the kernel counts them
 * (num_possible_cpus()): an online CPU's is served by RINGS_PER_QUEUE
 * rings of ring_depth() entries, an offline CPU's by one ring of one
 * entry. Rings are laid out queue by queue. 0, or -ENOMEM.
 */
static int rings_size(struct zramfs_uring *u, unsigned int max_background)
{
	unsigned char *possible = calloc(MAX_CPUS, 1);
	unsigned char *online = calloc(MAX_CPUS, 1);
	unsigned int qid, r, nr, i = 0;
	int n, on, ret = -ENOMEM;
	long conf;

	if (!possible || !online)
		goto out;
	n = cpu_list_read("/sys/devices/system/cpu/possible", possible,
			  MAX_CPUS);
	on = cpu_list_read("/sys/devices/system/cpu/online", online,
			   MAX_CPUS);
	if (n < 0) {
		conf = sysconf(_SC_NPROCESSORS_CONF);
		n = conf > 0 ? (int)conf : 1;
	}
	u->nqueues = (unsigned int)n;
	u->nrings = u->nqueues * RINGS_PER_QUEUE;	/* at most */
	u->rings = calloc(u->nrings, sizeof(*u->rings));
	u->queue_live = calloc(u->nqueues, sizeof(*u->queue_live));
	if (!u->rings || !u->queue_live)
		goto out;
	/* cpu_list_read() counted the online CPUs; all are when it could
	 * not. */
	u->depth = ring_depth(max_background, on > 0 && on < n ? on : n);
	for (qid = 0; qid < u->nqueues; qid++) {
		int is_online = on < 0 || qid >= MAX_CPUS || online[qid];

		nr = is_online ? RINGS_PER_QUEUE : 1;
		for (r = 0; r < nr; r++, i++) {
			u->rings[i].uring = u;
			u->rings[i].qid = qid;
			u->rings[i].ring_no = r;
			u->rings[i].ring_fd = -1;
			u->rings[i].depth = is_online ? u->depth : 1;
			u->queue_live[qid] += u->rings[i].depth;
		}
	}
	u->nrings = i;
	ret = 0;
out:
	free(possible);
	free(online);
	return ret;
}

int zramfs_uring_prepare(struct zramfs_uring **out, size_t payload_size,
			 unsigned int max_background)
{
	struct zramfs_uring *u = calloc(1, sizeof(*u));
	int on;

	if (!u)
		return -ENOMEM;
	u->payload_size = payload_size;
	if (rings_size(u, max_background)) {
		free(u->rings);
		free(u->queue_live);
		free(u);
		return -ENOMEM;
	}
	u->fuse_fd = -1;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->changed, NULL);
	/* The kernel offers the ring in INIT only while enable_uring is Y:
	 * Y from before the mount until INIT is answered, then as it was. */
	on = param_read();
	if (on == 0) {
		if (param_write(1) == 0)
			u->restore_param = 1;
	}
	*out = u;
	return 0;
}

int zramfs_uring_attach(struct zramfs_uring *u, struct fuse_session *se)
{
	u->se = se;
	u->fuse_fd = fuse_session_fd(se);
	if (fuse_session_custom_io(se, &hooks, u->fuse_fd))
		return -EINVAL;
	return 0;
}

unsigned int zramfs_uring_rings(const struct zramfs_uring *u)
{
	return u->nrings;
}

void *zramfs_uring_ring(struct zramfs_uring *u, unsigned int i)
{
	return &u->rings[i];
}

void zramfs_uring_wait_set_up(struct zramfs_uring *u, unsigned int started)
{
	pthread_mutex_lock(&u->lock);
	while (u->set_up < started)
		pthread_cond_wait(&u->changed, &u->lock);
	pthread_mutex_unlock(&u->lock);
}

void zramfs_uring_stop(struct zramfs_uring *u)
{
	__atomic_store_n(&u->stop, 1, __ATOMIC_RELEASE);
	set_state(u, URING_ABORT);
	param_restore(u);
}

/* "N requests served through the ring (queue 0: n = a+b, ...; D entries
 * per ring)": the count of each queue, and of each of its rings (laid out
 * queue by queue), and an online CPU's ring depth. */
char *zramfs_uring_served(const struct zramfs_uring *u)
{
	uint64_t sum = 0, queue_sum;
	unsigned int i, j;
	size_t len;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (i = 0; i < u->nrings; i++)
		sum += u->rings[i].served;
	fprintf(f, "%llu requests served through the ring (",
		(unsigned long long)sum);
	for (i = 0; i < u->nrings; i = j) {
		queue_sum = 0;
		for (j = i; j < u->nrings && u->rings[j].qid == u->rings[i].qid;
		     j++)
			queue_sum += u->rings[j].served;
		fprintf(f, "%squeue %u: %llu =", i ? ", " : "",
			u->rings[i].qid, (unsigned long long)queue_sum);
		for (j = i; j < u->nrings && u->rings[j].qid == u->rings[i].qid;
		     j++)
			fprintf(f, "%s%llu", j == i ? " " : "+",
				(unsigned long long)u->rings[j].served);
	}
	fprintf(f, "; %u entries per ring)", u->depth);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

void zramfs_uring_destroy(struct zramfs_uring *u)
{
	if (!u)
		return;
	param_restore(u);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->changed);
	free(u->rings);
	free(u->queue_live);
	free(u);
}
