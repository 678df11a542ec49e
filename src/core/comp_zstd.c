// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zstd backend: one compression and one decompression context per thread,
 * reused for every page (zstd's contexts are expensive to create). The
 * level defaults to zstd's default (3), as zram's backend does.
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

static int zstd_compress(void *opaque, const struct zr_comp_params *params,
			 const void *src, size_t src_len, void *dst,
			 size_t dst_cap)
{
	struct zstd_ctx *ctx = opaque;
	int level = params->level == ZR_COMP_LEVEL_DEFAULT ?
		ZSTD_CLEVEL_DEFAULT : params->level;
	size_t ret;

	ret = ZSTD_compressCCtx(ctx->cctx, dst, dst_cap, src, src_len, level);
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
	size_t ret = ZSTD_decompressDCtx(ctx->dctx, dst, dst_len, src, src_len);

	return !ZSTD_isError(ret) && ret == dst_len ? 0 : -EIO;
}

const struct zr_comp_ops zr_comp_zstd_ops = {
	.name = "zstd",
	.create_ctx = zstd_create_ctx,
	.destroy_ctx = zstd_destroy_ctx,
	.compress = zstd_compress,
	.decompress = zstd_decompress,
};
