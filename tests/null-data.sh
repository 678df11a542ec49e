#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/bench/zramfs-null, the benchmark's transport ceiling (zramfs-bench
# --ceiling): the daemon with a data path that stores nothing.
#
#   1. --version names the null data path; the real daemon's names none.
#   2. Mounted, it warns that it stores nothing; the real daemon does not.
#   3. Its data file takes writes and keeps nothing: reads return zeros,
#      mm_stat stays at 0, directly and through a loop device with
#      --direct-io=on (the benchmark's path); ranges are checked as the
#      core checks them: a write past the end fails with ENOSPC and
#      changes nothing, a read at the end returns nothing.
#   4. Unmounted, it exits 0.

. "$(dirname "$0")/lib.sh"
require_fuse
require_loop

NULL=${ZRAMFS_NULL:-$(dirname "$ZRAMFS")/../contrib/bench/zramfs-null}
[ -x "$NULL" ] || fail "zramfs-null not found at $NULL"
make_test_dirs TMP

# ---- 1. --version ----------------------------------------------------------
out=$(timeout 10 "$NULL" --version 2>&1) || fail "zramfs-null --version: $?"
[[ $out == "zramfs "*"data path: null"* ]] ||
	fail "zramfs-null --version says '$out'"
out=$(timeout 10 "$ZRAMFS" --version 2>&1) || fail "zramfs --version: $?"
[[ $out != *"data path"* ]] || fail "zramfs --version says '$out'"
pass "--version names the null data path, and only in zramfs-null"

# ---- 2. the warning --------------------------------------------------------
# start_fg VAR BINARY MOUNTPOINT LOG: BINARY -f in the background, mounted;
# its PID in VAR.
start_fg() {
	"$2" -f -o size=16M,algorithm=lz4 "$3" 2> "$4" &
	printf -v "$1" '%s' $!
	at_exit "if alive $!; then kill $!; wait_exit $! 5 || kill -9 $!; fi; fusermount3 -u '$3' 2>/dev/null"
	wait_mounted "$3" || fail "$3 did not come up: $(cat "$4")"
}
start_fg DAEMON "$NULL" "$MNT" "$TMP/null.log"
grep -q "data path: null (benchmark transport ceiling: stores nothing)" \
	"$TMP/null.log" || fail "no warning at start: $(cat "$TMP/null.log")"
mkdir "$TMP/real"
start_fg REAL "$ZRAMFS" "$TMP/real" "$TMP/real.log"
fusermount3 -u "$TMP/real" || fail "fusermount3 -u $TMP/real"
wait_clean_exit "$REAL" unmount
grep -q "data path" "$TMP/real.log" && fail "zramfs warns: $(cat "$TMP/real.log")"
pass "zramfs-null warns at start that it stores nothing"

# ---- 3. nothing kept, ranges checked ---------------------------------------
zeros_back() { # FILE MIB WHAT: the first MIB MiB of FILE read as zeros
	cmp -s -n $(($2 << 20)) "$1" /dev/zero ||
		fail "$3: not zeros: $(od -An -tx1 -N16 "$1")"
}
head -c 4M /dev/urandom > "$TMP/data"
dd if="$TMP/data" of="$MNT/zram0" bs=1M conv=notrunc status=none ||
	fail "writing 4 MiB to the data file"
zeros_back "$MNT/zram0" 4 "the data file after a write"
[ "$(mm_stat_field "$MNT" zram0 1)" = 0 ] ||
	fail "mm_stat after writes: $(cat "$MNT/control/zram0/mm_stat")"
expect_error "No space left on device" dd if="$TMP/data" of="$MNT/zram0" \
	bs=4k count=2 seek=4095 conv=notrunc status=none
[ "$(stat -c %s "$MNT/zram0")" = $((16 << 20)) ] ||
	fail "size after the refused write: $(stat -c %s "$MNT/zram0")"
n=$(dd if="$MNT/zram0" bs=4k skip=4096 count=1 status=none | wc -c)
[ "$n" = 0 ] || fail "read at the end returned $n bytes"
attach_loop LOOP "$MNT/zram0" --direct-io=on
dd if="$TMP/data" of="$LOOP" bs=1M oflag=direct status=none ||
	fail "writing 4 MiB through $LOOP"
dd if="$LOOP" of="$TMP/back" bs=1M count=4 iflag=direct status=none ||
	fail "reading 4 MiB through $LOOP"
zeros_back "$TMP/back" 4 "$LOOP after a write"
[ "$(mm_stat_field "$MNT" zram0 1)" = 0 ] ||
	fail "mm_stat after loop writes: $(cat "$MNT/control/zram0/mm_stat")"
losetup -d "$LOOP" || fail "losetup -d $LOOP"
pass "writes kept nothing (zeros back, mm_stat 0), directly and through loop; ranges checked"

# ---- 4. exit -----------------------------------------------------------------
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
wait_clean_exit "$DAEMON" unmount
pass "unmounted: zramfs-null exited 0"
