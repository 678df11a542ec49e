#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Partial writes racing with writeback (tests/partial_race.c): four writers
# each rewrite their own 512-byte sector of one page and read it back while
# the page is written back in a loop to a backing file of one block, so the
# block is freed and taken again all the time. A partial write of a
# written-back page reads the block, then rewrites the page if the slot
# still names that block; before the block was pinned in between, another
# writer's version written back into the same block passed for the one
# read, and a sector that had been written was lost (hundreds in 15 s).
# WRITEBACK_RACE_SECONDS (default 10) bounds the run.

. "$(dirname "$0")/lib.sh"
require_fuse

SECONDS_RUN=${WRITEBACK_RACE_SECONDS:-10}
make_test_dirs TMP
cc -O2 -Wall -pthread -o "$TMP/partial_race" \
	"$(dirname "$0")/partial_race.c" || fail "cannot build partial_race.c"

mount_zramfs "$MNT" -o size=1M
D=$MNT/control/zram0
truncate -s 4096 "$TMP/store" || fail "truncate"
echo "$TMP/store" > "$D/backing_dev" || fail "cannot attach $TMP/store"

out=$("$TMP/partial_race" "$MNT/zram0" "$D/writeback" "$SECONDS_RUN" 3)
rc=$?
log "$out; bd_stat $(cat "$D/bd_stat")"
[ "$rc" = 0 ] || fail "partial writes lost against writeback: $out"
read -r _ reads writes < "$D/bd_stat"
[ "$writes" -gt 100 ] && [ "$reads" -gt 100 ] ||
	fail "the page hardly went to the backing store and back: bd_stat $(cat "$D/bd_stat")"
failed=$(awk '{ print $1 + $2 }' "$D/io_stat")
[ "$failed" = 0 ] || fail "failed reads or writes: $(cat "$D/io_stat")"
pass "partial writes against writeback of the same page: nothing lost"
