#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A backing device that fails. The backing store is the data file of a
# second zramfs mount, STORE, which can be made to fail on demand: with
# mem_limit 1 it refuses every write (ENOSPC, a full store), and once its
# daemon is killed every read and write of it fails (ENOTCONN, which
# zramfs reports as EIO, as a block device would). Through all of it the
# device's daemon stays up, pages still in memory read back intact, a
# failed writeback leaves its pages in memory, a page the store cannot
# give back fails with EIO and counts in failed_reads (never garbage),
# writing such a page stores it in memory again, and reset detaches the
# dead store.

. "$(dirname "$0")/lib.sh"
require_fuse

PAGE=4096
make_tmpdir TMP
MNT=$TMP/mnt
STORE=$TMP/store
mkdir "$MNT" "$STORE" || fail "mkdir"
D=$MNT/control/zram0

wattr() { echo "$2" > "$1"; }
ok() { local out; out=$(wattr "$1" "$2" 2>&1) || fail "echo '$2' > $1: $out"; }
col() { awk -v c="$2" '{ print $c }' "$1"; }
# same PAGE NPAGES: those pages of the data file equal the reference copy.
same() {
	cmp -s <(dd if="$MNT/zram0" bs=$PAGE skip="$1" count="$2" \
		iflag=direct status=none) \
	       <(dd if="$TMP/data" bs=$PAGE skip="$1" count="$2" status=none)
}
# rewrite PAGE NPAGES: writes those pages again from the reference copy.
rewrite() {
	dd if="$TMP/data" of="$MNT/zram0" bs=$PAGE skip="$1" seek="$1" \
		count="$2" conv=notrunc status=none || fail "rewriting page $1"
}
# writeback_fails ERRTEXT: every page made idle, an idle writeback must
# fail with ERRTEXT and put no page on the store.
writeback_fails() {
	local before
	ok "$D/idle" all
	before=$(col "$D/bd_stat" 1)
	expect_error "$1" wattr "$D/writeback" idle
	[ "$(col "$D/bd_stat" 1)" = "$before" ] ||
		fail "bd_count went from $before to $(col "$D/bd_stat" 1)"
}
alive_daemon() {
	if ! [ -d "$D" ] || ! daemon_pid "$MNT" >/dev/null; then
		fail "the zramfs daemon of $MNT died"
	fi
}

mount_zramfs "$STORE" -o size=16M
mount_zramfs "$MNT" -o "size=16M,backing_dev=$STORE/zram0"
[ "$(cat "$D/backing_dev")" = "$STORE/zram0" ] || fail "backing_dev"
make_realistic_data "$TMP/data" 4
# The page probed on the dead store: random, so never a same-filled page,
# which writeback would leave in memory.
head -c $PAGE /dev/urandom | dd of="$TMP/data" bs=$PAGE seek=1023 \
	conv=notrunc status=none || fail "random page"
dd if="$TMP/data" of="$MNT/zram0" bs=1M conv=notrunc status=none ||
	fail "writing 4 MiB"
ok "$D/idle" all
ok "$D/writeback" idle
on_store=$(col "$D/bd_stat" 1)
[ "$on_store" -gt 512 ] || fail "writeback stored only $on_store pages"
same 0 1024 || fail "data differs after writeback"
pass "$on_store pages written back to a file on another zramfs mount"

# A full store: writeback fails with ENOSPC, its pages stay in memory.
ok "$STORE/control/zram0/mem_limit" 1
rewrite 0 256
writeback_fails "No space left on device"
same 0 1024 || fail "data differs after a writeback to a full store"
ok "$STORE/control/zram0/mem_limit" 0
pass "a full store: ENOSPC, the pages stay in memory"

# A dead store. Pages 0-255 are in memory, most of the rest on the store.
reads=$(col "$D/bd_stat" 2)
kill_daemon "$STORE"
failed=$(col "$D/io_stat" 1)
expect_error "Input/output error" dd if="$MNT/zram0" of=/dev/null bs=$PAGE \
	skip=1023 count=1 iflag=direct status=none
[ "$(col "$D/io_stat" 1)" -gt "$failed" ] || fail "failed_reads did not grow"
[ "$(col "$D/bd_stat" 2)" = "$reads" ] || fail "bd_reads counted a failed read"
alive_daemon
same 0 256 || fail "pages in memory differ with the store dead"
pass "a dead store: its pages fail with EIO and count in failed_reads"

writeback_fails "Input/output error"
same 0 256 || fail "pages in memory differ after a writeback to a dead store"
rewrite 1023 1
same 1023 1 || fail "a page written again does not read back"
alive_daemon
pass "writeback to a dead store: EIO, the pages stay; a page written again reads back"

ok "$D/reset" 1
[ "$(cat "$D/backing_dev")" = none ] || fail "reset kept the dead store"
ok "$D/disksize" 1M
dd if="$TMP/data" of="$MNT/zram0" bs=1M count=1 conv=notrunc status=none ||
	fail "writing after reset"
same 0 256 || fail "data differs after reset"
pass "reset detaches the dead store"
