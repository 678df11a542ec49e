// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Backend registry and per-thread compression contexts.
 *
 * A thread's contexts live in a thread-local array indexed by backend id.
 * They are created on the thread's first use of a backend and destroyed by
 * a pthread key destructor when the thread exits, so the number of
 * contexts is bounded by threads x backends and the I/O path never
 * allocates after a thread's first request.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "zr_attr.h"
#include "zr_comp.h"
#include "zr_common.h"

static const struct zr_comp_ops *const backends[ZR_COMP_COUNT] = {
	[ZR_COMP_LZ4] = &zr_comp_lz4_ops,
	[ZR_COMP_LZ4HC] = &zr_comp_lz4hc_ops,
	[ZR_COMP_ZSTD] = &zr_comp_zstd_ops,
};

static const char *const backend_names[ZR_COMP_COUNT] = {
	[ZR_COMP_LZ4] = "lz4",
	[ZR_COMP_LZ4HC] = "lz4hc",
	[ZR_COMP_ZSTD] = "zstd",
};

static __thread void *thread_ctx[ZR_COMP_COUNT];
static pthread_key_t ctx_key;
static pthread_once_t ctx_key_once = PTHREAD_ONCE_INIT;

const char *const *zr_comp_names(void)
{
	return backend_names;
}

const char *zr_comp_name(enum zr_comp_id id)
{
	return backend_names[id];
}

int zr_comp_find(const char *name, size_t len)
{
	int id;

	for (id = 0; id < ZR_COMP_COUNT; id++)
		if (zr_streq(name, len, backend_names[id]))
			return id;
	return -EINVAL;
}

void zr_comp_params_init(struct zr_comp_params *params)
{
	memset(params, 0, sizeof(*params));
	params->level = ZR_COMP_LEVEL_DEFAULT;
}

int zr_comp_params_copy(struct zr_comp_params *dst,
			const struct zr_comp_params *src)
{
	zr_comp_params_init(dst);
	dst->level = src->level;
	if (!src->dict)
		return 0;
	dst->dict = malloc(src->dict_size);
	if (!dst->dict)
		return -ENOMEM;
	memcpy(dst->dict, src->dict, src->dict_size);
	dst->dict_size = src->dict_size;
	return 0;
}

int zr_comp_params_prepare(enum zr_comp_id id, struct zr_comp_params *params)
{
	if (!backends[id]->prepare)
		return 0;
	return backends[id]->prepare(params);
}

void zr_comp_params_release(enum zr_comp_id id, struct zr_comp_params *params)
{
	if (backends[id]->unprepare)
		backends[id]->unprepare(params);
	free(params->dict);
	zr_comp_params_init(params);
}

void zr_comp_thread_release(void)
{
	int id;

	for (id = 0; id < ZR_COMP_COUNT; id++) {
		if (thread_ctx[id]) {
			backends[id]->destroy_ctx(thread_ctx[id]);
			thread_ctx[id] = NULL;
		}
	}
}

static void ctx_key_destructor(void *unused)
{
	zr_comp_thread_release();
}

static void ctx_key_create(void)
{
	if (pthread_key_create(&ctx_key, ctx_key_destructor))
		zr_die("pthread_key_create");
}

static void *thread_ctx_get(enum zr_comp_id id)
{
	void *ctx = thread_ctx[id];

	if (ctx)
		return ctx;
	ctx = backends[id]->create_ctx();
	if (!ctx)
		return NULL;
	pthread_once(&ctx_key_once, ctx_key_create);
	/* Any non-NULL value makes the destructor run at thread exit. */
	pthread_setspecific(ctx_key, thread_ctx);
	thread_ctx[id] = ctx;
	return ctx;
}

int zr_comp_compress(enum zr_comp_id id, const struct zr_comp_params *params,
		     const void *src, size_t src_len, void *dst, size_t dst_cap)
{
	void *ctx = thread_ctx_get(id);

	if (!ctx)
		return -ENOMEM;
	return backends[id]->compress(ctx, params, src, src_len, dst, dst_cap);
}

int zr_comp_decompress(enum zr_comp_id id,
		       const struct zr_comp_params *params, const void *src,
		       size_t src_len, void *dst, size_t dst_len)
{
	void *ctx = thread_ctx_get(id);

	if (!ctx)
		return -ENOMEM;
	return backends[id]->decompress(ctx, params, src, src_len, dst,
					dst_len);
}
