// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zstd backend: one compression and one decompression context per thread,
 * reused for every page (zstd's contexts are expensive to create). The
 * level defaults to zstd's default (3), as zram's backend does. A
 * dictionary is digested once per device into a CDict (at the device's
 * level) and a DDict, shared read-only by every thread.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "zr_comp.h"

struct zstd_ctx {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
};

static void zstd_destroy_ctx(void *opaque)
{
	struct zstd_ctx *ctx = opaque;

	ZSTD_freeCCtx(ctx->cctx);
	ZSTD_freeDCtx(ctx->dctx);
	free(ctx);
}

static void *zstd_create_ctx(void)
{
	struct zstd_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->cctx = ZSTD_createCCtx();
	ctx->dctx = ZSTD_createDCtx();
	if (!ctx->cctx || !ctx->dctx) {
		zstd_destroy_ctx(ctx);
		return NULL;
	}
	return ctx;
}

static int zstd_level(const struct zr_comp_params *params)
{
	return params->level == ZR_COMP_LEVEL_DEFAULT ? ZSTD_CLEVEL_DEFAULT :
							 params->level;
}

static void zstd_unprepare(struct zr_comp_params *params)
{
	ZSTD_freeCDict(params->prepared);
	ZSTD_freeDDict(params->prepared_dec);
	params->prepared = NULL;
	params->prepared_dec = NULL;
}

static int zstd_prepare(struct zr_comp_params *params)
{
	if (!params->dict)
		return 0;
	params->prepared = ZSTD_createCDict(params->dict, params->dict_size,
					    zstd_level(params));
	params->prepared_dec = ZSTD_createDDict(params->dict,
						params->dict_size);
	if (!params->prepared || !params->prepared_dec) {
		zstd_unprepare(params);
		return -EINVAL;
	}
	return 0;
}

static int zstd_compress(void *opaque, const struct zr_comp_params *params,
			 const void *src, size_t src_len, void *dst,
			 size_t dst_cap)
{
	struct zstd_ctx *ctx = opaque;
	size_t ret;

	if (params->prepared)
		ret = ZSTD_compress_usingCDict(ctx->cctx, dst, dst_cap, src,
					       src_len, params->prepared);
	else
		ret = ZSTD_compressCCtx(ctx->cctx, dst, dst_cap, src, src_len,
					zstd_level(params));
	if (ZSTD_isError(ret)) {
		if (ZSTD_getErrorCode(ret) == ZSTD_error_dstSize_tooSmall)
			return 0;
		return -EINVAL;
	}
	return (int)ret;
}

static int zstd_decompress(void *opaque, const struct zr_comp_params *params,
			   const void *src, size_t src_len, void *dst,
			   size_t dst_len)
{
	struct zstd_ctx *ctx = opaque;
	size_t ret;

	if (params->prepared_dec)
		ret = ZSTD_decompress_usingDDict(ctx->dctx, dst, dst_len, src,
						 src_len, params->prepared_dec);
	else
		ret = ZSTD_decompressDCtx(ctx->dctx, dst, dst_len, src,
					  src_len);

	return !ZSTD_isError(ret) && ret == dst_len ? 0 : -EIO;
}

const struct zr_comp_ops zr_comp_zstd_ops = {
	.name = "zstd",
	.prepare = zstd_prepare,
	.unprepare = zstd_unprepare,
	.create_ctx = zstd_create_ctx,
	.destroy_ctx = zstd_destroy_ctx,
	.compress = zstd_compress,
	.decompress = zstd_decompress,
};
