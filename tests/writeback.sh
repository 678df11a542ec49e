#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Writeback to a backing store, as zram's (Documentation/admin-guide/
# blockdev/zram.rst, "writeback"), with zramfs's deliberate differences: the
# backing store may be a regular file and may be attached after init, once.
#
# On a 512 MiB device: writeback refused before init (EINVAL) and without a
# backing store (ENODEV); attaching a backing file after ~300 MiB of real
# data is stored, with ENOENT / EISDIR / EINVAL for bad paths and EEXIST for
# a second one, each failure changing nothing; idle writeback frees most of
# the memory and every byte reads back; huge writeback under
# writeback_limit writes exactly the budget then fails with EIO;
# page_index= / page_indexes= and their ERANGE / EINVAL; compressed
# writeback packs several pages per block; overwrite and discard give
# blocks back; reset refuses while the data file is open and then detaches;
# a loop block device as backing store; ENOSPC from a backing file on a
# full tmpfs, with no data lost and the rest written once there is room;
# the backing_dev= mount option.
#
# Informational figures: idle writeback MiB/s and the read latency of a
# written-back page against an in-memory one.

. "$(dirname "$0")/lib.sh"
require_fuse

PAGE=4096
DISK_MIB=512
DISK_PAGES=$((DISK_MIB << 8))
DATA_MIB=300

# ---- helpers ---------------------------------------------------------------

# wattr FILE VALUE: echo VALUE > FILE with bash's echo, whose error message
# carries the errno text (dash's echo says "I/O error" for everything).
wattr() {
	echo "$2" > "$1"
}

# ok FILE VALUE: the write must succeed.
ok() {
	local out
	out=$(wattr "$1" "$2" 2>&1) && return 0
	case $out in
	*"connection abort"* | *"not connected"*)
		out+=" (the zramfs daemon died)" ;;
	esac
	fail "echo '$2' > $1: $out"
}

# state DIR: what a failed control write must leave alone.
state() {
	local d=$1 a
	for a in initstate disksize backing_dev bd_stat writeback_limit \
		 writeback_limit_enable compressed_writeback; do
		printf '%s=%s;' "$a" "$(cat "$d/$a")"
	done
	awk '{ print "mm=" $1, $2, $6, $8 }' "$d/mm_stat"
}

# bad ERRTEXT FILE VALUE: the write must fail with ERRTEXT, changing nothing.
bad() {
	local want=$1 file=$2 value=$3 dir before after
	dir=$(dirname "$file")
	before=$(state "$dir") || exit 1
	expect_error "$want" wattr "$file" "$value"
	after=$(state "$dir") || exit 1
	[ "$before" = "$after" ] ||
		fail "failed '$value' > $file changed the state: $before -> $after"
}

# fails ERRTEXT FILE VALUE: the write must fail with ERRTEXT (partial
# progress allowed, as for writeback that runs out of budget or space).
fails() {
	expect_error "$1" wattr "$2" "$3"
}

# bd DIR N: bd_stat column N (1 bd_count, 2 bd_reads, 3 bd_writes).
bd() {
	awk -v c="$2" '{ print $c }' "$1/bd_stat"
}

# mm DIR N: mm_stat column N (1 orig_data_size, 3 mem_used_total,
# 6 same_pages, 8 huge_pages).
mm() {
	awk -v c="$2" '{ print $c }' "$1/mm_stat"
}

now_ns() {
	date +%s%N
}

# put DEV REF SRC SRC_PAGE DST_PAGE NPAGES: copies pages of SRC into the
# data file DEV and into its reference copy REF.
put() {
	local f
	for f in "$1" "$2"; do
		dd if="$3" of="$f" bs=$PAGE skip="$4" seek="$5" count="$6" \
			conv=notrunc iflag=fullblock status=none ||
			fail "writing $6 pages at page $5 of $f"
	done
}

# verify DEV REF WHAT: the whole data file must equal its reference copy.
verify() {
	cmp "$1" "$2" >/dev/null 2>&1 ||
		fail "$3: data differs from what was written ($(cmp "$1" "$2" 2>&1))"
}

# read_direct DEV PAGE NPAGES: reads pages with O_DIRECT, discarding them.
read_direct() {
	dd if="$1" of=/dev/null bs=$PAGE skip="$2" count="$3" iflag=direct \
		status=none || fail "reading $3 pages at page $2 of $1"
}

# on_backing DIR DEV PAGE NPAGES: how many of the pages are on the backing
# store, i.e. how many a read fetches from it (bd_reads counts pages).
on_backing() {
	local before
	before=$(bd "$1" 2)
	read_direct "$2" "$3" "$4"
	echo $(($(bd "$1" 2) - before))
}

# Data sources.
make_test_dirs TMP
chmod 0755 "$TMP"
DATA=$TMP/data.bin
make_realistic_data "$DATA" "$DATA_MIB"
# Compressible text without a single same-filled page.
TEXT=$TMP/text.bin
seq -f 'line %08g of the zramfs writeback test' 1 400000 > "$TEXT"
RAND=$TMP/random.bin
head -c $((8 << 20)) /dev/urandom > "$RAND"

# Backing stores. The loop device and the tmpfs are set up before any
# zramfs mount, so that at exit the daemons are gone before they are undone.
BACKING=$TMP/backing.img
truncate -s "${DISK_MIB}M" "$BACKING"
OTHER=$TMP/other.img
truncate -s 64M "$OTHER"
EMPTY=$TMP/empty.img
: > "$EMPTY"
mkdir "$TMP/dir"

LOOP=
if command -v losetup >/dev/null && losetup -f >/dev/null 2>&1; then
	truncate -s 128M "$TMP/loop.img"
	attach_loop LOOP "$TMP/loop.img"
fi

TINY=$TMP/tiny
mkdir "$TINY"
mount -t tmpfs -o size=1M,mode=0755 zramfs-wb-test "$TINY" ||
	fail "cannot mount a tmpfs on $TINY"
at_exit "umount '$TINY' || umount -l '$TINY'"

mount_zramfs "$MNT" -o size=${DISK_MIB}M
C=$MNT/control
D=$C/zram0
DEV=$MNT/zram0
REF=$TMP/ref.img
truncate -s "${DISK_MIB}M" "$REF"

# ---- before init, without a backing store ------------------------------------

[ "$(cat "$D/backing_dev")" = none ] || fail "backing_dev is not 'none' at start"
bad "No such device" "$D/writeback" idle
bad "No such device" "$D/writeback" huge
bad "No such device" "$D/writeback" page_index=0
[ "$(cat "$D/bd_stat")" = "$(printf '%8s %8s %8s' 0 0 0)" ] ||
	fail "bd_stat without a backing store: $(cat "$D/bd_stat")"

id=$(cat "$C/hot_add") || fail "hot_add"
at_exit "echo $id > '$C/hot_remove'"
U=$C/zram$id
[ "$(cat "$U/initstate")" = 0 ] || fail "zram$id is initialised"
bad "Invalid argument" "$U/writeback" idle
# As zram: attachable before init, and writeback is still EINVAL until then.
ok "$U/backing_dev" "$OTHER"
[ "$(cat "$U/backing_dev")" = "$OTHER" ] || fail "zram$id backing_dev"
bad "Invalid argument" "$U/writeback" idle
bad "Invalid argument" "$U/writeback" page_index=0
ok "$C/hot_remove" "$id"
pass "writeback: ENODEV without a backing store, EINVAL before init"

# ---- attaching after init, with data stored ---------------------------------------

put "$DEV" "$REF" "$DATA" 0 0 $((DATA_MIB << 8))
stored_pages=$(($(mm "$D" 1) / PAGE))
same_pages=$(mm "$D" 6)
[ "$stored_pages" -eq $((DATA_MIB << 8)) ] ||
	fail "orig_data_size is $stored_pages pages, expected $((DATA_MIB << 8))"

bad "No such file or directory" "$D/backing_dev" "$TMP/missing.img"
bad "Is a directory" "$D/backing_dev" "$TMP/dir"
bad "Invalid argument" "$D/backing_dev" "$EMPTY"
[ "$(cat "$D/backing_dev")" = none ] || fail "a failed attach attached"
ok "$D/backing_dev" "$BACKING"
[ "$(cat "$D/backing_dev")" = "$BACKING" ] ||
	fail "backing_dev reads '$(cat "$D/backing_dev")', expected $BACKING"
bad "File exists" "$D/backing_dev" "$OTHER"
bad "File exists" "$D/backing_dev" "$BACKING"
bad "File exists" "$D/backing_dev" "$TMP/missing.img"
[ "$(cat "$D/bd_stat")" = "$(printf '%8s %8s %8s' 0 0 0)" ] ||
	fail "bd_stat after attaching: $(cat "$D/bd_stat")"
bad "Invalid argument" "$D/writeback" bogus
bad "Invalid argument" "$D/writeback" type=bogus
bad "Invalid argument" "$D/writeback" ""
pass "backing_dev: attached after init; ENOENT, EISDIR, EINVAL, EEXIST"

# ---- idle writeback --------------------------------------------------------------

# As zram: marking by an age no page has reached clears the older marks,
# so a writeback idle after it finds nothing.
ok "$D/idle" all
ok "$D/idle" 86400
ok "$D/writeback" idle
[ "$(bd "$D" 3)" -eq 0 ] ||
	fail "idle 86400 after idle all left marks: $(bd "$D" 3) pages written back"
pass "idle N clears the marks of pages younger than N seconds"

mem_before=$(mm "$D" 3)
ok "$D/idle" all
t0=$(now_ns)
ok "$D/writeback" idle
t1=$(now_ns)
mem_after=$(mm "$D" 3)
written=$((stored_pages - same_pages))
[ "$(bd "$D" 3)" -eq "$written" ] ||
	fail "idle writeback wrote $(bd "$D" 3) blocks, expected $written (every page not same-filled)"
[ "$(bd "$D" 1)" -eq "$written" ] ||
	fail "bd_count $(bd "$D" 1) after idle writeback, expected $written"
[ $(($(mm "$D" 1) / PAGE)) -eq "$stored_pages" ] ||
	fail "orig_data_size changed by writeback: $(mm "$D" 1)"
# Well over half: what is left is the slot table and the same-filled pages.
[ $((mem_after * 4)) -lt "$mem_before" ] ||
	fail "mem_used_total only went from $mem_before to $mem_after"
wb_ms=$(((t1 - t0) / 1000000))
wb_mibs=$(awk -v p="$written" -v ns=$((t1 - t0)) \
	'BEGIN { printf "%.0f", p * 4096 / 1048576 / (ns / 1e9) }')
log "idle writeback: $written pages ($((written >> 8)) MiB) in ${wb_ms} ms = $wb_mibs MiB/s;" \
    "mem_used_total $((mem_before >> 20)) MiB -> $((mem_after >> 20)) MiB"
# A second idle writeback finds nothing left to write.
ok "$D/writeback" idle
[ "$(bd "$D" 3)" -eq "$written" ] || fail "second idle writeback wrote again"

reads_before=$(bd "$D" 2)
verify "$DEV" "$REF" "after idle writeback"
[ $(($(bd "$D" 2) - reads_before)) -eq "$written" ] ||
	fail "reading everything back fetched $(($(bd "$D" 2) - reads_before)) pages, expected $written"
# Reading does not bring pages back into memory.
[ "$(bd "$D" 1)" -eq "$written" ] || fail "bd_count changed by reading"
pass "idle writeback: memory $((mem_before >> 20)) -> $((mem_after >> 20)) MiB, all data identical"

# ---- page_index / page_indexes ---------------------------------------------------

P=$((340 << 8))			# 64 pages of text at 340 MiB, in memory
put "$DEV" "$REF" "$TEXT" 0 "$P" 64
count0=$(bd "$D" 1) writes0=$(bd "$D" 3)
ok "$D/writeback" "page_index=$P"
[ "$(bd "$D" 3)" -eq $((writes0 + 1)) ] && [ "$(bd "$D" 1)" -eq $((count0 + 1)) ] ||
	fail "page_index=$P: bd_stat $(cat "$D/bd_stat"), expected one more block"
ok "$D/writeback" "page_indexes=$((P + 1))-$((P + 10))"
[ "$(bd "$D" 3)" -eq $((writes0 + 11)) ] && [ "$(bd "$D" 1)" -eq $((count0 + 11)) ] ||
	fail "page_indexes=$((P + 1))-$((P + 10)): bd_stat $(cat "$D/bd_stat"), expected 10 more blocks"
# Already written back, never written, same-filled: nothing to do.
ok "$D/writeback" "page_indexes=$P-$((P + 5))"
ok "$D/writeback" "page_index=$((DISK_PAGES - 1))"
ok "$D/writeback" "page_indexes=0-63"
[ "$(bd "$D" 3)" -eq $((writes0 + 11)) ] ||
	fail "writeback of pages not in memory wrote blocks: $(cat "$D/bd_stat")"
# Several requests in one write.
ok "$D/writeback" "page_index=$((P + 20)) page_index=$((P + 22))"
[ "$(bd "$D" 3)" -eq $((writes0 + 13)) ] ||
	fail "two page_index requests: bd_stat $(cat "$D/bd_stat")"
[ "$(on_backing "$D" "$DEV" "$P" 64)" -eq 13 ] ||
	fail "page_index/page_indexes did not write back exactly the 13 pages asked for"
bad "Numerical result out of range" "$D/writeback" "page_index=$DISK_PAGES"
bad "Numerical result out of range" "$D/writeback" "page_index=18446744073709551615"
bad "Numerical result out of range" "$D/writeback" "page_indexes=$((P + 30))-$DISK_PAGES"
bad "Numerical result out of range" "$D/writeback" "page_indexes=$DISK_PAGES-$((DISK_PAGES + 1))"
# As zram's parse_page_indexes: LO > HI is out of range too.
bad "Numerical result out of range" "$D/writeback" "page_indexes=$((P + 40))-$((P + 30))"
bad "Invalid argument" "$D/writeback" "page_index=abc"
bad "Invalid argument" "$D/writeback" "page_index="
bad "Invalid argument" "$D/writeback" "page_indexes=$((P + 30))"
bad "Invalid argument" "$D/writeback" "page_indexes=x-y"
bad "Invalid argument" "$D/writeback" "page_number=$P"
pass "page_index, page_indexes, ERANGE past the end, EINVAL for bad requests"

# ---- read latency: written back against in memory ------------------------------

if command -v python3 >/dev/null; then
	python3 - "$DEV" $((P + 1)) $((P + 30)) <<-'EOF' | while read -r line; do log "$line"; done
	import mmap, os, sys, time
	dev, wb_page, mem_page = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
	buf = mmap.mmap(-1, 4096)
	def sample(page, n=300):
	    ts = []
	    for _ in range(n):
	        t = time.perf_counter_ns()
	        if os.preadv(fd, [buf], page * 4096) != 4096:
	            raise SystemExit("short read")
	        ts.append(time.perf_counter_ns() - t)
	    ts.sort()
	    return ts[len(ts) // 2] / 1000, ts[len(ts) * 9 // 10] / 1000
	for _ in range(2):	# warm up both paths
	    sample(wb_page, 20), sample(mem_page, 20)
	wb, mem = sample(wb_page), sample(mem_page)
	print("4 KiB O_DIRECT read latency: written back median %.1f us (p90 %.1f),"
	      " in memory median %.1f us (p90 %.1f)" % (wb + mem))
	EOF
else
	log "no python3: read latency not measured"
fi

# ---- huge writeback under writeback_limit ----------------------------------------

H=$((320 << 8))			# 1024 incompressible pages at 320 MiB
put "$DEV" "$REF" "$RAND" 0 "$H" 1024
huge0=$(mm "$D" 8)
[ "$huge0" -eq 1024 ] || fail "huge_pages is $huge0 after 1024 random pages"
count0=$(bd "$D" 1) writes0=$(bd "$D" 3)
ok "$D/writeback_limit" 100
ok "$D/writeback_limit_enable" 1
fails "Input/output error" "$D/writeback" huge
[ "$(bd "$D" 3)" -eq $((writes0 + 100)) ] && [ "$(bd "$D" 1)" -eq $((count0 + 100)) ] ||
	fail "huge writeback with a budget of 100: bd_stat $(cat "$D/bd_stat"), expected 100 blocks more than $count0 / $writes0"
[ "$(cat "$D/writeback_limit")" = 0 ] ||
	fail "writeback_limit reads $(cat "$D/writeback_limit") after using up the budget"
[ "$(mm "$D" 8)" -eq $((huge0 - 100)) ] ||
	fail "huge_pages $(mm "$D" 8) after writing 100 back, expected $((huge0 - 100))"
# Budget exhausted: fails at once, writes nothing.
bad "Input/output error" "$D/writeback" huge
bad "Input/output error" "$D/writeback" "page_index=$((P + 40))"
ok "$D/writeback_limit" 24
fails "Input/output error" "$D/writeback" huge
[ "$(bd "$D" 3)" -eq $((writes0 + 124)) ] ||
	fail "a budget of 24 more wrote $(($(bd "$D" 3) - writes0 - 100)) blocks"
ok "$D/writeback_limit_enable" 0
[ "$(on_backing "$D" "$DEV" "$H" 1024)" -eq 124 ] ||
	fail "huge writeback did not leave exactly 124 pages on the backing store"
pass "huge writeback: writeback_limit 100 wrote exactly 100 pages, then EIO"

# ---- compressed writeback ---------------------------------------------------------

Z=$((360 << 8))			# 16 MiB of real data at 360 MiB
ZN=4096
[ "$(cat "$D/compressed_writeback")" = 0 ] || fail "compressed_writeback not 0 by default"
ok "$D/compressed_writeback" 1
[ "$(cat "$D/compressed_writeback")" = 1 ] || fail "compressed_writeback does not read 1"
bad "Invalid argument" "$D/compressed_writeback" maybe
put "$DEV" "$REF" "$DATA" $((100 << 8)) "$Z" "$ZN"
count0=$(bd "$D" 1) writes0=$(bd "$D" 3)
ok "$D/writeback" "page_indexes=$Z-$((Z + ZN - 1))"
zblocks=$(($(bd "$D" 1) - count0))
[ "$(bd "$D" 3)" -eq $((writes0 + zblocks)) ] ||
	fail "compressed writeback: bd_writes grew by $(($(bd "$D" 3) - writes0)), bd_count by $zblocks"
zpages=$(on_backing "$D" "$DEV" "$Z" "$ZN")
[ "$zpages" -gt $((ZN / 2)) ] ||
	fail "compressed writeback wrote only $zpages of $ZN pages back"
[ "$zblocks" -lt "$zpages" ] ||
	fail "compressed writeback used $zblocks blocks for $zpages pages"
verify "$DEV" "$REF" "after compressed writeback"
log "compressed writeback: $zpages pages in $zblocks blocks ($(awk -v b="$zblocks" -v p="$zpages" 'BEGIN { printf "%.2f", b / p }') blocks per page)"
ok "$D/compressed_writeback" 0
pass "compressed writeback: $zpages pages in $zblocks blocks, data identical"

# ---- overwrite and discard give blocks back ------------------------------------

O=$((10 << 8))			# 1 MiB at 10 MiB, written back above
n=$(on_backing "$D" "$DEV" "$O" 256)
[ "$n" -gt 0 ] || fail "no page at $O is on the backing store"
count0=$(bd "$D" 1)
put "$DEV" "$REF" "$TEXT" 256 "$O" 256
[ "$(bd "$D" 1)" -eq $((count0 - n)) ] ||
	fail "overwriting $n written-back pages: bd_count $count0 -> $(bd "$D" 1)"
[ "$(on_backing "$D" "$DEV" "$O" 256)" -eq 0 ] ||
	fail "overwritten pages still read from the backing store"

X=$((20 << 8))			# 1 MiB at 20 MiB
n=$(on_backing "$D" "$DEV" "$X" 256)
[ "$n" -gt 0 ] || fail "no page at $X is on the backing store"
count0=$(bd "$D" 1)
fallocate -p -o $((X * PAGE)) -l $((256 * PAGE)) "$DEV" || fail "fallocate -p on $DEV"
fallocate -p -o $((X * PAGE)) -l $((256 * PAGE)) "$REF" || fail "fallocate -p on $REF"
[ "$(bd "$D" 1)" -eq $((count0 - n)) ] ||
	fail "discarding $n written-back pages: bd_count $count0 -> $(bd "$D" 1)"
cmp -s <(dd if="$DEV" bs=$PAGE skip="$X" count=256 status=none) \
       <(head -c $((256 * PAGE)) /dev/zero) || fail "discarded pages do not read as zeros"

# Packed blocks come back when all their pages are gone.
count0=$(bd "$D" 1)
fallocate -p -o $((Z * PAGE)) -l $((ZN * PAGE)) "$DEV" || fail "fallocate -p on $DEV"
fallocate -p -o $((Z * PAGE)) -l $((ZN * PAGE)) "$REF" || fail "fallocate -p on $REF"
[ "$(bd "$D" 1)" -eq $((count0 - zblocks)) ] ||
	fail "discarding the compressed-writeback pages: bd_count $count0 -> $(bd "$D" 1), expected -$zblocks"
verify "$DEV" "$REF" "after overwrite and discard"
pass "overwrite and discard give backing blocks back"

# ---- reset detaches -------------------------------------------------------------

exec 3< "$DEV"
bad "Device or resource busy" "$D/reset" 1
exec 3<&-
ok "$D/reset" 1
[ "$(cat "$D/backing_dev")" = none ] ||
	fail "backing_dev reads '$(cat "$D/backing_dev")' after reset"
[ "$(cat "$D/bd_stat")" = "$(printf '%8s %8s %8s' 0 0 0)" ] ||
	fail "bd_stat after reset: $(cat "$D/bd_stat")"
[ "$(cat "$D/compressed_writeback")" = 0 ] || fail "reset kept compressed_writeback"
bad "Invalid argument" "$D/writeback" idle
# The daemon no longer holds the file: it can be taken again.
flock -n "$BACKING" true || fail "$BACKING still locked after reset"
if pid=$(daemon_pid "$MNT"); then
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd")" != "$BACKING" ] ||
			fail "the daemon still has $BACKING open after reset"
	done
fi
pass "reset: EBUSY while open, then detaches"

# ---- a loop block device as backing store ------------------------------------

if [ -n "$LOOP" ]; then
	ok "$D/disksize" ${DISK_MIB}M
	ok "$D/backing_dev" "$LOOP"
	[ "$(cat "$D/backing_dev")" = "$LOOP" ] || fail "backing_dev is not $LOOP"
	truncate -s 0 "$REF" && truncate -s "${DISK_MIB}M" "$REF"
	put "$DEV" "$REF" "$DATA" $((50 << 8)) 0 $((32 << 8))
	n=$(($(mm "$D" 1) / PAGE - $(mm "$D" 6)))
	ok "$D/idle" all
	ok "$D/writeback" idle
	[ "$(bd "$D" 1)" -eq "$n" ] && [ "$(bd "$D" 3)" -eq "$n" ] ||
		fail "writeback to $LOOP: bd_stat $(cat "$D/bd_stat"), expected $n blocks"
	verify "$DEV" "$REF" "after writeback to $LOOP"
	[ "$(bd "$D" 2)" -eq "$n" ] || fail "bd_reads $(bd "$D" 2) after reading $n pages back from $LOOP"
	ok "$D/reset" 1
	pass "loop block device $LOOP as backing store"
else
	log "no loop device: block device backing store not tested"
fi

# ---- ENOSPC on a full tmpfs -------------------------------------------------------

ok "$D/disksize" ${DISK_MIB}M
dd if=/dev/zero of="$TINY/fill" bs=$PAGE status=none 2>/dev/null
[ "$(df --output=avail -B1 "$TINY" | tail -1)" -lt $PAGE ] || fail "$TINY is not full"
# Give back 16 pages: some writeback succeeds before the store is full.
truncate -s $(($(stat -c %s "$TINY/fill") - 16 * PAGE)) "$TINY/fill"
truncate -s 64M "$TINY/backing.img"
ok "$D/backing_dev" "$TINY/backing.img"
truncate -s 0 "$REF" && truncate -s "${DISK_MIB}M" "$REF"
put "$DEV" "$REF" "$DATA" $((150 << 8)) 0 $((8 << 8))
n=$(($(mm "$D" 1) / PAGE - $(mm "$D" 6)))
orig0=$(mm "$D" 1)
ok "$D/idle" all
fails "No space left on device" "$D/writeback" idle
partial=$(bd "$D" 1)
[ "$partial" -ge 1 ] && [ "$partial" -le 16 ] && [ "$(bd "$D" 3)" -eq "$partial" ] ||
	fail "writeback onto 16 free pages: bd_stat $(cat "$D/bd_stat")"
[ "$(mm "$D" 1)" -eq "$orig0" ] || fail "ENOSPC changed orig_data_size"
# The pages not written keep their idle marks: still full, the same
# request fails again and writes nothing.
fails "No space left on device" "$D/writeback" idle
[ "$(bd "$D" 1)" -eq "$partial" ] && [ "$(bd "$D" 3)" -eq "$partial" ] ||
	fail "a second writeback onto a full store: bd_stat $(cat "$D/bd_stat")"
verify "$DEV" "$REF" "after writeback failed with ENOSPC"
[ "$(bd "$D" 2)" -eq "$partial" ] ||
	fail "bd_reads $(bd "$D" 2) after ENOSPC, expected $partial pages read back"
# With room, the rest is written (reading cleared the idle marks, as
# zram's reads do: mark again).
mount -o remount,size=128M "$TINY" || fail "remount $TINY"
ok "$D/writeback" idle
[ "$(bd "$D" 1)" -eq "$partial" ] || fail "pages read since 'idle' were written back as idle"
ok "$D/idle" all
ok "$D/writeback" idle
[ "$(bd "$D" 1)" -eq "$n" ] ||
	fail "writeback after making room: bd_count $(bd "$D" 1), expected $n"
verify "$DEV" "$REF" "after writeback completed on $TINY"
ok "$D/reset" 1
log "ENOSPC after $partial of $n pages"
pass "full backing store: ENOSPC, no data lost, the rest written once there is room"

# ---- backing_dev= mount option ---------------------------------------------------

MNT2=$TMP/mnt2
mkdir "$MNT2"
mount_zramfs "$MNT2" -o size=64M,backing_dev="$OTHER"
D2=$MNT2/control/zram0
[ "$(cat "$D2/backing_dev")" = "$OTHER" ] ||
	fail "-o backing_dev: backing_dev reads '$(cat "$D2/backing_dev")'"
REF2=$TMP/ref2.img
truncate -s 64M "$REF2"
put "$MNT2/zram0" "$REF2" "$DATA" $((200 << 8)) 0 $((8 << 8))
n=$(($(mm "$D2" 1) / PAGE - $(mm "$D2" 6)))
ok "$D2/idle" all
ok "$D2/writeback" idle
[ "$(bd "$D2" 1)" -eq "$n" ] || fail "-o backing_dev: bd_stat $(cat "$D2/bd_stat"), expected $n"
verify "$MNT2/zram0" "$REF2" "with -o backing_dev"
bad "File exists" "$D2/backing_dev" "$BACKING"

# A backing store that cannot be opened: the mount fails, naming it.
MNT3=$TMP/mnt3
mkdir "$MNT3"
at_exit "fusermount3 -u '$MNT3' || umount -l '$MNT3'"
if out=$("$ZRAMFS" -o size=64M,backing_dev="$TMP/missing.img" "$MNT3" 2>&1); then
	fail "-o backing_dev=$TMP/missing.img mounted"
fi
case $out in
*"No such file or directory"*) ;;
*) fail "-o backing_dev=$TMP/missing.img said '$out'" ;;
esac
! grep -qs " $MNT3 " /proc/mounts || fail "$MNT3 left mounted"
pass "-o backing_dev attaches at mount"

exit 0
