/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compressor backends behind one ops table, as zram's zcomp.
 *
 * Each backend compresses one page into a caller buffer and decompresses
 * it back given the exact compressed length. Contexts are per thread: the
 * first call from a thread creates that thread's context for the backend,
 * and the thread's exit frees it, so the I/O path never shares compressor
 * state and never takes a lock to get one. Tunables that may differ per
 * device (level) travel in struct zr_comp_params.
 */
#ifndef ZR_COMP_H
#define ZR_COMP_H

#include <stddef.h>

enum zr_comp_id {
	ZR_COMP_LZ4,
	ZR_COMP_LZ4HC,
	ZR_COMP_ZSTD,
	ZR_COMP_COUNT,
};

#define ZR_COMP_DEFAULT ZR_COMP_LZ4
/* zram's "level not set": the backend picks its default. */
#define ZR_COMP_LEVEL_DEFAULT (-1000)

/*
 * Per-device tuning of one algorithm (zram's algorithm_params). The
 * dictionary bytes and whatever the backend derives from them (zstd's
 * CDict/DDict) are shared read-only by all threads once prepared.
 */
struct zr_comp_params {
	int level;
	void *dict;		/* owned: malloc'd copy, or NULL */
	size_t dict_size;
	void *prepared;		/* backend's digested dictionary, or NULL */
	void *prepared_dec;	/* its decompression side, or NULL */
};

struct zr_comp_ops {
	const char *name;
	/* Digests params->dict for use by every thread (optional). */
	int (*prepare)(struct zr_comp_params *params);
	void (*unprepare)(struct zr_comp_params *params);
	void *(*create_ctx)(void);
	void (*destroy_ctx)(void *ctx);
	/*
	 * Returns the compressed length (1 .. dst_cap), 0 if the result does
	 * not fit in dst_cap, or a negative errno.
	 */
	int (*compress)(void *ctx, const struct zr_comp_params *params,
			const void *src, size_t src_len, void *dst,
			size_t dst_cap);
	/* Returns 0 when exactly dst_len bytes were produced, else -EIO. */
	int (*decompress)(void *ctx, const struct zr_comp_params *params,
			  const void *src, size_t src_len, void *dst,
			  size_t dst_len);
};

extern const struct zr_comp_ops zr_comp_lz4_ops;
extern const struct zr_comp_ops zr_comp_lz4hc_ops;
extern const struct zr_comp_ops zr_comp_zstd_ops;

/* Backend names in id order, for comp_algorithm. */
const char *const *zr_comp_names(void);
const char *zr_comp_name(enum zr_comp_id id);

/* Looks a name up as sysfs_streq does (one trailing "\n" ignored).
 * Returns the id or -EINVAL. */
int zr_comp_find(const char *name, size_t len);

/* Page compression through the calling thread's context for id.
 * Same return values as the ops; -ENOMEM if no context can be made. */
int zr_comp_compress(enum zr_comp_id id, const struct zr_comp_params *params,
		     const void *src, size_t src_len, void *dst,
		     size_t dst_cap);
int zr_comp_decompress(enum zr_comp_id id,
		       const struct zr_comp_params *params, const void *src,
		       size_t src_len, void *dst, size_t dst_len);

/* Sets params to defaults (no level, no dictionary). */
void zr_comp_params_init(struct zr_comp_params *params);
/* Deep copy of src's level and dictionary (not prepared). 0 or -ENOMEM. */
int zr_comp_params_copy(struct zr_comp_params *dst,
			const struct zr_comp_params *src);
/* Prepares a copy for compressing with id (dictionary digestion). */
int zr_comp_params_prepare(enum zr_comp_id id, struct zr_comp_params *params);
/* Frees what params owns (dictionary, prepared forms) and resets it. */
void zr_comp_params_release(enum zr_comp_id id, struct zr_comp_params *params);

/* Frees the calling thread's contexts now (also done at thread exit). */
void zr_comp_thread_release(void);

#endif
