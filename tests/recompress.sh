#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Recompression and algorithm parameters on a mounted zramfs: lz4 primary
# with zstd secondary, idle recompression of a few hundred MiB of real
# data must cut compr_data_size by at least 15% with every byte intact;
# zstd at level 9 and zstd with a trained dictionary must each beat zstd
# at its default level on the same data.
. "$(dirname "$0")/lib.sh"
require_fuse

make_test_dirs WORK
D=$MNT/control/zram0
DATA=$WORK/data
MIB=256

make_realistic_data "$DATA" "$MIB"
mount_zramfs "$MNT"

compr() {
	mm_stat_field "$MNT" zram0 2
}

# fill: write the data and check it reads back identical.
fill() {
	dd if="$DATA" of="$MNT/zram0" bs=1M conv=notrunc status=none ||
		fail "writing the data"
	cmp -n $((MIB << 20)) "$DATA" "$MNT/zram0" || fail "data differs"
}

# ---- lz4, then idle pages recompressed with zstd --------------------------
echo lz4 > "$D/comp_algorithm"
echo "algo=zstd priority=1" > "$D/recomp_algorithm"
[ "$(cat "$D/recomp_algorithm")" = "#1: lz4 lz4hc [zstd] " ] ||
	fail "recomp_algorithm reads '$(cat "$D/recomp_algorithm")'"
echo 512M > "$D/disksize"
fill
before=$(compr)
echo all > "$D/idle"
echo type=idle > "$D/recompress" || fail "recompress type=idle"
after=$(compr)
cmp -n $((MIB << 20)) "$DATA" "$MNT/zram0" ||
	fail "data differs after recompression"
log "lz4 -> zstd recompression: compr_data_size $before -> $after" \
	"($(( (before - after) * 100 / before ))% smaller)"
[ "$after" -le $(( before * 85 / 100 )) ] ||
	fail "recompression saved less than 15%"
# The pages were read since: no longer idle, nothing left to do.
echo all > "$D/idle"
echo type=idle > "$D/recompress"
[ "$(compr)" -le "$after" ] || fail "a second pass grew the data"
pass "idle recompression lz4 -> zstd, data intact"

# ---- zstd levels and a dictionary ------------------------------------------
# size_with PARAMS...: compr_data_size of the data under zstd with the
# given algorithm_params writes (none: defaults).
size_with() {
	local p
	echo 1 > "$D/reset"
	echo zstd > "$D/comp_algorithm"
	for p in "$@"; do
		echo "$p" > "$D/algorithm_params" ||
			fail "algorithm_params $p"
	done
	echo 512M > "$D/disksize"
	fill
	compr
}

default=$(size_with)
level9=$(size_with 'algo=zstd level="9"')
# A dictionary trained on part of the data, as zramfs(8) describes, in a
# directory whose name has a space (quoted, as for zram).
mkdir "$WORK/my dicts" || fail "mkdir"
dict="$WORK/my dicts/dict"
if command -v zstd >/dev/null; then
	mkdir "$WORK/pages"
	head -c $((32 << 20)) "$DATA" | split -b 4096 -a 5 - "$WORK/pages/p"
	zstd -q --train "$WORK/pages"/* --maxdict=65536 -o "$dict" ||
		fail "zstd --train"
	rm -r "$WORK/pages"
	withdict=$(size_with "algo=zstd dict=\"$dict\"")
	log "zstd: default level $default, level 9 $level9, dictionary $withdict"
	[ "$withdict" -lt "$default" ] ||
		fail "the dictionary did not improve the ratio"
else
	log "zstd: default level $default, level 9 $level9" \
		"(no zstd tool: dictionary part skipped)"
fi
[ "$level9" -lt "$default" ] || fail "level 9 did not improve the ratio"
pass "zstd level 9 and a dictionary beat the default level"
