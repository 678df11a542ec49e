// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lz4 and lz4hc backends. Each keeps its stream state per thread and starts
 * every page with the *_resetStream_fast entry points followed by a
 * *_continue compression: that skips the full table initialisation
 * (16 KiB for lz4, 256 KiB for lz4hc) that the extState calls repeat on
 * every page, and is the exported equivalent of
 * LZ4_compress_fast_extState_fastReset, which Debian's shared liblz4 does
 * not export. Both decode with LZ4_decompress_safe, which needs the exact
 * compressed length. A dictionary is loaded into the stream before each
 * page (LZ4_loadDict / LZ4_loadDictHC) and passed to
 * LZ4_decompress_safe_usingDict; both are cheap for the small dictionaries
 * pages use.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <lz4.h>
#include <lz4hc.h>

#include "zr_comp.h"

static void *lz4_create_ctx(void)
{
	LZ4_stream_t *stream = malloc(sizeof(*stream));

	if (stream && !LZ4_initStream(stream, sizeof(*stream))) {
		free(stream);
		return NULL;
	}
	return stream;
}

static void lz4_destroy_ctx(void *ctx)
{
	free(ctx);
}

static int lz4_compress(void *ctx, const struct zr_comp_params *params,
			const void *src, size_t src_len, void *dst,
			size_t dst_cap)
{
	/* zram's lz4 "level" is LZ4's acceleration. */
	int accel = params->level == ZR_COMP_LEVEL_DEFAULT ? 1 : params->level;

	LZ4_resetStream_fast(ctx);
	if (params->dict)
		LZ4_loadDict(ctx, params->dict, (int)params->dict_size);
	return LZ4_compress_fast_continue(ctx, src, dst, (int)src_len,
					  (int)dst_cap, accel);
}

static int lz4_decompress(void *ctx, const struct zr_comp_params *params,
			  const void *src, size_t src_len, void *dst,
			  size_t dst_len)
{
	int ret;

	if (params->dict)
		ret = LZ4_decompress_safe_usingDict(src, dst, (int)src_len,
						    (int)dst_len, params->dict,
						    (int)params->dict_size);
	else
		ret = LZ4_decompress_safe(src, dst, (int)src_len,
					  (int)dst_len);

	return ret == (int)dst_len ? 0 : -EIO;
}

const struct zr_comp_ops zr_comp_lz4_ops = {
	.name = "lz4",
	.create_ctx = lz4_create_ctx,
	.destroy_ctx = lz4_destroy_ctx,
	.compress = lz4_compress,
	.decompress = lz4_decompress,
};

static void *lz4hc_create_ctx(void)
{
	LZ4_streamHC_t *stream = malloc(sizeof(*stream));

	if (stream && !LZ4_initStreamHC(stream, sizeof(*stream))) {
		free(stream);
		return NULL;
	}
	return stream;
}

static int lz4hc_compress(void *ctx, const struct zr_comp_params *params,
			  const void *src, size_t src_len, void *dst,
			  size_t dst_cap)
{
	int level = params->level == ZR_COMP_LEVEL_DEFAULT ?
		LZ4HC_CLEVEL_DEFAULT : params->level;

	LZ4_resetStreamHC_fast(ctx, level);
	if (params->dict)
		LZ4_loadDictHC(ctx, params->dict, (int)params->dict_size);
	return LZ4_compress_HC_continue(ctx, src, dst, (int)src_len,
					(int)dst_cap);
}

const struct zr_comp_ops zr_comp_lz4hc_ops = {
	.name = "lz4hc",
	.create_ctx = lz4hc_create_ctx,
	.destroy_ctx = lz4_destroy_ctx,
	.compress = lz4hc_compress,
	.decompress = lz4_decompress,
};
