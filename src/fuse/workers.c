// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker pool: a fixed number of threads, all started before the
 * first request is served, each with a bounded stack that is touched at
 * start (so that, under mlockall, it is resident and locked before any
 * request needs it).
 *
 * libfuse's fuse_session_loop_mt starts workers lazily, as requests pile
 * up: creating a thread (mmap of its stack) then happens on the I/O path,
 * possibly while the kernel is reclaiming memory by swapping to us. So
 * zramfs runs its own loop with the low-level receive/process calls, the
 * way libfuse's loop does: every worker inherits the start-up thread's
 * PR_SET_IO_FLUSHER flag and has the termination signals blocked; the
 * main thread sleeps until the session ends (unmount: the device read
 * fails with ENODEV), then cancels the workers, which are cancellable only
 * while waiting for a request.
 *
 * A termination signal (SIGINT, SIGTERM, SIGHUP) only records itself
 * (zramfs_request_stop()); the main thread then refuses new opens of data
 * files (zr_host_refuse_opens()) and ends the session if none is open.
 * While one is (a loop device, swap on it), ending the daemon would fail
 * every I/O of the loop device and lose every page stored, so the stop
 * waits, with a warning, until the last one is closed (checked at each
 * SIGNAL_POLL_MS wake-up). Waiting, not refusing the signal: a close
 * reaches the daemon as an asynchronous RELEASE, so the usual "swapoff;
 * losetup -d; kill" may signal before the count drops. Refusing opens
 * first, under the lock opens take, means none slips in between the count
 * and the end of the session, and steady open-close traffic cannot put
 * the stop off for ever.
 *
 * With -o io_uring the io_uring ring threads (uring.c) are started the
 * same way, first, and serving begins only once every ring has its
 * buffers set up; at the end they are stopped (they notice within
 * their poll interval) and joined after the workers.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zr_common.h"
#include "zr_host.h"
#include "zramfs.h"

/* Stack of a worker: request handlers are shallow, buffers live in TLS
 * or on the heap. */
#define WORKER_STACK_SIZE (256 * 1024)
/* Touched at start so the stack is resident and locked up front. */
#define WORKER_STACK_TOUCH (128 * 1024)
/* How soon the main thread notices a signal that missed its wait. */
#define SIGNAL_POLL_MS 200

struct worker_pool {
	struct fuse_session *se;
	size_t max_io;		/* for zramfs_thread_prepare() */
	sem_t finished;		/* posted by each worker that stops */
	int error;		/* first receive error (not ENODEV), atomic */
};

static volatile sig_atomic_t stop_signal;

void zramfs_request_stop(int sig)
{
	stop_signal = sig;
}

/* Main thread: once a stop was asked for (*pending remembers it), refuses
 * new opens of data files and ends the session when none is open; warns
 * at the first signal that has to wait. */
static void take_stop_signal(struct fuse_session *se, struct zr_host *host,
			     int *pending)
{
	int sig = stop_signal, first = sig && !*pending;
	unsigned int open;

	if (sig)
		stop_signal = 0;	/* a later signal would stop all the same */
	*pending = *pending || sig;
	if (!*pending)
		return;
	zr_host_lock(host);
	open = zr_host_refuse_opens(host);
	zr_host_unlock(host);
	if (!open)
		fuse_session_exit(se);
	else if (first)
		fuse_log(FUSE_LOG_WARNING,
			 "zramfs: %s: stopping once no data file is open "
			 "(%u open: a loop device? swap on it?); new opens "
			 "fail\n",
			 strsignal(sig), open);
}

static void touch_stack(void)
{
	volatile char area[WORKER_STACK_TOUCH];

	memset((char *)area, 0, sizeof(area));
}

static void free_buf(void *opaque)
{
	struct fuse_buf *buf = opaque;

	free(buf->mem);
	buf->mem = NULL;
}

static void *worker_main(void *opaque)
{
	struct worker_pool *pool = opaque;
	struct fuse_buf buf;
	int res, zero = 0;

	pthread_setname_np(pthread_self(), "zramfs-worker");
	touch_stack();
	zramfs_thread_prepare(pool->max_io);
	memset(&buf, 0, sizeof(buf));
	pthread_cleanup_push(free_buf, &buf);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	while (!fuse_session_exited(pool->se)) {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = fuse_session_receive_buf(pool->se, &buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0) {
			/* ENODEV: unmounted, the normal end. */
			if (res < 0 && res != -ENODEV)
				__atomic_compare_exchange_n(&pool->error, &zero,
							    res, 0,
							    __ATOMIC_RELAXED,
							    __ATOMIC_RELAXED);
			fuse_session_exit(pool->se);
			break;
		}
		fuse_session_process_buf(pool->se, &buf);
	}
	pthread_cleanup_pop(1);
	sem_post(&pool->finished);
	return NULL;
}

static void wait_finished(sem_t *finished)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += SIGNAL_POLL_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	sem_timedwait(finished, &until);
}

/* Blocks the signals that end the daemon: only the main thread takes
 * them, so that its wait is interrupted. */
static void block_exit_signals(int how, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(how, &set, old);
}

/* Starts count threads running fn(arg(i)); returns how many started. */
static unsigned int start_threads(pthread_t *threads, unsigned int count,
				  void *(*fn)(void *),
				  void *(*arg)(void *, unsigned int),
				  void *ctx)
{
	pthread_attr_t attr;
	unsigned int started = 0;
	sigset_t old;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
	block_exit_signals(SIG_BLOCK, &old);
	for (; started < count; started++)
		if (pthread_create(&threads[started], &attr, fn,
				   arg(ctx, started)))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return started;
}

static void *pool_arg(void *pool, unsigned int i)
{
	(void)i;
	return pool;
}

static void *ring_arg(void *uring, unsigned int i)
{
	return zramfs_uring_ring(uring, i);
}

/* Ring threads are readied as the workers are, without a read buffer:
 * they read into their ring entries. */
static void *ring_main(void *ring)
{
	touch_stack();
	zramfs_thread_prepare(0);
	return zramfs_uring_thread(ring);
}

int zramfs_serve(struct fuse_session *se, struct zr_host *host,
		 unsigned int nthreads, struct zramfs_uring *uring,
		 size_t max_io)
{
	struct worker_pool pool = { .se = se, .max_io = max_io };
	int stop_pending = 0;
	unsigned int nrings = uring ? zramfs_uring_rings(uring) : 0;
	pthread_t *threads = calloc(nthreads, sizeof(*threads));
	pthread_t *rings = calloc(nrings ? nrings : 1, sizeof(*rings));
	unsigned int started = 0, rings_started = 0, i;
	int ret = 0;

	if (!threads || !rings) {
		free(threads);
		free(rings);
		return -ENOMEM;
	}
	sem_init(&pool.finished, 0, 0);
	/* Rings first, set up (rings, buffers touched) before the
	 * first request, INIT, is read. */
	if (uring) {
		rings_started = start_threads(rings, nrings, ring_main,
					      ring_arg, uring);
		if (rings_started < nrings)
			zramfs_uring_stop(uring);
		zramfs_uring_wait_set_up(uring, rings_started);
	}
	if (rings_started == nrings)
		started = start_threads(threads, nthreads, worker_main,
					pool_arg, &pool);
	if (started < nthreads)
		fuse_session_exit(se);

	/* Until a worker saw the end, or a stop signal was taken. The
	 * signal interrupts the wait, but may land just before it: the wait
	 * is bounded so that such a signal is seen within SIGNAL_POLL_MS. */
	while (!fuse_session_exited(se)) {
		wait_finished(&pool.finished);
		take_stop_signal(se, host, &stop_pending);
	}

	for (i = 0; i < started; i++)
		pthread_cancel(threads[i]);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (uring)
		zramfs_uring_stop(uring);
	for (i = 0; i < rings_started; i++)
		pthread_join(rings[i], NULL);
	sem_destroy(&pool.finished);
	free(threads);
	free(rings);
	if (started < nthreads)
		ret = -EAGAIN;
	return ret ? ret : pool.error;
}
