#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The control tree: every attribute of MOUNTPOINT/control/zramN and
# control/{hot_add,hot_remove}, with zram's read formats byte for byte and
# zram's errno for every misuse (drivers/block/zram/zram_drv.c,
# Documentation/admin-guide/blockdev/zram.rst). A failed write must change
# nothing: every expected failure is checked against a snapshot of all
# readable attributes taken before it.
#
# Sections: read formats (compared with the running kernel's zram when it
# has one), disksize, comp_algorithm, algorithm_params, mem_limit and the
# mm_stat columns, mem_used_max, compact, idle, writeback attributes
# (backing_dev attachable before and after init, EEXIST on a second
# attach, detached by reset: design.md), recompression, reset,
# hot_add/hot_remove, access modes, permissions of an unprivileged user
# with and without allow_other, mount options.

. "$(dirname "$0")/lib.sh"
require_fuse

PAGE=4096
TEST_USER=zramfs-test-user

# ---- helpers ---------------------------------------------------------------

# wattr FILE VALUE: echo VALUE > FILE with bash's echo, whose error message
# carries the errno text ("write error: Device or resource busy"). lib.sh's
# write_attr goes through /bin/sh, and dash's echo reports every failed
# write as "I/O error", so it cannot tell EBUSY from EINVAL.
wattr() {
	echo "$2" > "$1"
}

# ok FILE VALUE: the write must succeed.
ok() {
	local out
	out=$(wattr "$1" "$2" 2>&1) || fail "echo '$2' > $1: $out"
}

# content FILE: the exact bytes of FILE (trailing newlines kept) in $REPLY.
content() {
	local out
	out=$(cat -- "$1" && printf x) || fail "cannot read $1"
	REPLY=${out%x}
}

# expect FILE WANT: FILE must read exactly WANT, byte for byte.
expect() {
	content "$1"
	[ "$REPLY" = "$2" ] ||
		fail "$1 reads $(printf %q "$REPLY"), expected $(printf %q "$2")"
}

# mm_line COL1..COL9: mm_stat as zram formats it.
mm_line() {
	printf '%8s %8s %8s %8s %8s %8s %8s %8s %8s\n' "$@"
}

# expect_fresh MM_STAT LIMIT: an initialised device that stores nothing.
# Its mem_used_total (and so mem_used_max) may count the allocator's
# bookkeeping, as zram's "includes allocator fragmentation and metadata
# overhead"; everything else is zero but the limit.
expect_fresh() {
	local mm
	content "$1"
	read -r -a mm <<< "$REPLY"
	[ "$REPLY" = "$(mm_line "${mm[@]}")"$'\n' ] ||
		fail "$1 is not in mm_stat's format: $(printf %q "$REPLY")"
	mm[2]=0 mm[4]=0
	[ "$(mm_line "${mm[@]}")" = "$(mm_line 0 0 0 "$2" 0 0 0 0 0)" ] ||
		fail "fresh device's $1 reads $(printf %q "$REPLY")"
}

# col FILE N: column N (1-based) of FILE.
col() {
	awk -v c="$2" '{ print $c }' "$1"
}

# snapshot DIR: every readable attribute of device directory DIR, plus the
# st_size of its data file, in one string. Failed writes must not change it.
snapshot() {
	local dir=$1 attr id=${1##*/zram} s=""
	for attr in disksize initstate comp_algorithm backing_dev \
		    compressed_writeback writeback_limit \
		    writeback_limit_enable recomp_algorithm \
		    mm_stat io_stat bd_stat debug_stat; do
		content "$dir/$attr"
		s+="$attr=$REPLY;"
	done
	s+="size=$(stat -c %s "$MNT/zram$id")"
	printf '%s' "$s"
}

# wattr_bounded FILE VALUE: wattr in a child with a 10 s timeout, for writes
# that would hang a daemon waiting on itself: the test fails instead.
wattr_bounded() {
	timeout 10 bash -c 'echo "$2" > "$1"' bash "$1" "$2"
}

# bad ERRTEXT FILE VALUE: the write must fail with ERRTEXT and change nothing
# in the device directory of FILE (or in control/zram0 for hot_remove).
# WRITE=wattr_bounded bad ... writes with a timeout.
bad() {
	local want=$1 file=$2 value=$3 dir before after
	dir=$(dirname "$file")
	[ "${dir##*/}" = control ] && dir=$dir/zram0
	before=$(snapshot "$dir") || exit 1
	expect_error "$want" "${WRITE:-wattr}" "$file" "$value"
	after=$(snapshot "$dir") || exit 1
	[ "$before" = "$after" ] ||
		fail "failed write '$value' > $file changed the state:" \
		     "before $(printf %q "$before") after $(printf %q "$after")"
}

# same_format FILE PRINTF-FORMAT NFIELDS: FILE holds NFIELDS numbers and
# re-printing them with FORMAT reproduces FILE byte for byte.
same_format() {
	local file=$1 fmt=$2 n=$3 fields want
	content "$file"
	# shellcheck disable=SC2207
	fields=($(grep -o '[0-9]\+' <<< "$REPLY"))
	[ "${#fields[@]}" -eq "$n" ] ||
		fail "$file has ${#fields[@]} fields, expected $n: $(printf %q "$REPLY")"
	# shellcheck disable=SC2059
	want=$(printf "$fmt" "${fields[@]}"; printf x)
	[ "$REPLY" = "${want%x}" ] ||
		fail "$file is $(printf %q "$REPLY"), not in format $(printf %q "$fmt")"
}

# write_page FILE PAGE-INDEX SOURCE: one 4 KiB page from SOURCE into FILE.
write_page() {
	dd if="$3" of="$1" bs=$PAGE seek="$2" count=1 conv=notrunc \
		iflag=fullblock status=none || fail "writing page $2 of $1"
}

MM_FMT='%8s %8s %8s %8s %8s %8s %8s %8s %8s\n'
IO_FMT='%8s %8s %s %8s\n'
BD_FMT='%8s %8s %8s\n'
DEBUG_FMT='version: %s\n%s %8s\n'
ALGOS="[lz4] lz4hc zstd "$'\n'

make_test_dirs TMP
# The unprivileged user must be able to reach the mountpoints, so that what
# refuses it is zramfs and not mktemp's 0700.
chmod 0755 "$TMP"
mount_zramfs "$MNT"
C=$MNT/control
D=$C/zram0

# ---- layout and read formats ---------------------------------------------

[ -f "$MNT/zram0" ] || fail "no $MNT/zram0"
[ -d "$D" ] || fail "no $D"
[ "$(stat -c %a "$MNT/zram0")" = 600 ] || fail "zram0 mode is not 0600"
[ "$(stat -c %a "$C/hot_add")" = 400 ] || fail "hot_add mode is not 0400"
[ "$(stat -c %a "$C/hot_remove")" = 200 ] || fail "hot_remove mode is not 0200"
# Modes as zram's DEVICE_ATTR_RO/WO/RW declare them.
for m in disksize:644 initstate:444 reset:200 comp_algorithm:644 \
	 algorithm_params:200 mem_limit:200 mem_used_max:200 compact:200 \
	 idle:200 backing_dev:644 writeback:200 compressed_writeback:644 \
	 writeback_limit:644 \
	 writeback_limit_enable:644 recomp_algorithm:644 recompress:200 \
	 mm_stat:444 io_stat:444 bd_stat:444 debug_stat:444 size:444; do
	got=$(stat -c %a "$D/${m%:*}") || fail "no attribute ${m%:*}"
	[ "$got" = "${m#*:}" ] || fail "${m%:*} has mode $got, expected ${m#*:}"
done
[ "$(stat -c %s "$MNT/zram0")" = 0 ] || fail "uninitialised zram0 is not empty"

expect "$D/initstate" $'0\n'
expect "$D/disksize" $'0\n'
expect "$D/comp_algorithm" "$ALGOS"
expect "$D/mm_stat" "$(mm_line 0 0 0 0 0 0 0 0 0)"$'\n'
expect "$D/io_stat" "$(printf "$IO_FMT" 0 0 0 0)"$'\n'
expect "$D/bd_stat" "$(printf "$BD_FMT" 0 0 0)"$'\n'
expect "$D/debug_stat" $'version: 1\n0        0\n'
expect "$D/backing_dev" $'none\n'
expect "$D/writeback_limit" $'0\n'
expect "$D/writeback_limit_enable" $'0\n'
expect "$D/compressed_writeback" $'0\n'
expect "$D/recomp_algorithm" ""
expect "$D/size" $'0\n'
same_format "$D/mm_stat" "$MM_FMT" 9

# The formats above are zram's: check them against the running kernel's
# zram when it has one (read only; a device we did not create is never
# written to).
if [ -d /sys/block/zram0 ]; then
	Z=/sys/block/zram0
	[ -r $Z/mm_stat ] && same_format $Z/mm_stat "$MM_FMT" 9
	[ -r $Z/io_stat ] && same_format $Z/io_stat "$IO_FMT" 4
	[ -r $Z/bd_stat ] && same_format $Z/bd_stat "$BD_FMT" 3
	[ -r $Z/debug_stat ] && same_format $Z/debug_stat "$DEBUG_FMT" 3
	content $Z/initstate
	[[ $REPLY =~ ^[01]$'\n'$ ]] || fail "kernel initstate $(printf %q "$REPLY")"
	content $Z/disksize
	[[ $REPLY =~ ^[0-9]+$'\n'$ ]] || fail "kernel disksize $(printf %q "$REPLY")"
	# comp_algorithm: every name followed by one space, the selected one
	# bracketed, then "\n": the shape of ours.
	content $Z/comp_algorithm
	[[ $REPLY =~ ^(\[?[a-z0-9-]+\]?\ )+$'\n'$ ]] ||
		fail "kernel comp_algorithm $(printf %q "$REPLY")"
	[[ $ALGOS =~ ^(\[?[a-z0-9-]+\]?\ )+$'\n'$ ]] ||
		fail "zramfs comp_algorithm shape differs from the kernel's"
	log "read formats match the kernel's zram0"
fi
pass "layout, modes and read formats"

# The tree is fixed, as sysfs's: only hot_add and hot_remove change it.
expect_error "Operation not permitted" rm -f "$MNT/zram0"
expect_error "Operation not permitted" rmdir "$D"
expect_error "Operation not permitted" mkdir "$MNT/new"
expect_error "Operation not permitted" touch "$MNT/new"
expect_error "Operation not permitted" touch "$D/new"
expect_error "Operation not permitted" mknod "$MNT/new" p
expect_error "Operation not permitted" mv "$MNT/zram0" "$MNT/new"
expect_error "Operation not permitted" ln "$MNT/zram0" "$MNT/new"
expect_error "Operation not permitted" ln -s zram0 "$MNT/new"
[ "$(ls "$MNT")" = "$(printf 'control\nzram0')" ] ||
	fail "the tree changed: $(ls "$MNT")"
pass "creating, linking, renaming and removing: EPERM"

# ---- access modes: as sysfs, even root cannot read a write-only attribute
# or write a read-only one -----------------------------------------------------

for a in reset algorithm_params mem_limit mem_used_max compact idle \
	 writeback recompress; do
	expect_error "Permission denied" cat "$D/$a"
done
for a in initstate mm_stat io_stat bd_stat debug_stat; do
	bad "Permission denied" "$D/$a" 1
done
expect_error "Permission denied" cat "$C/hot_remove"
expect_error "Permission denied" wattr "$C/hot_add" 1
[ ! -e "$C/zram1" ] || fail "a refused hot_add write created a device"
pass "write-only and read-only attributes refuse the other access"

# ---- disksize ----------------------------------------------------------------

bad "Invalid argument" "$D/disksize" 0
bad "Invalid argument" "$D/disksize" abc
bad "Invalid argument" "$D/disksize" ""
ok "$D/disksize" 64M
expect "$D/initstate" $'1\n'
expect "$D/disksize" $'67108864\n'
expect "$D/size" $'131072\n'	# the block device's size, in sectors
[ "$(stat -c %s "$MNT/zram0")" = 67108864 ] || fail "zram0 st_size is not 64M"
bad "Device or resource busy" "$D/disksize" 32M
bad "Device or resource busy" "$D/disksize" 64M
bad "Invalid argument" "$D/disksize" 0
bad "Invalid argument" "$D/disksize" abc
ok "$D/reset" 1
# memparse suffixes, either case, and PAGE_ALIGN of the result.
for sz in 4096:4096 8K:8192 8k:8192 3M:3145728 2m:2097152 1G:1073741824 \
	  1g:1073741824 2T:2199023255552 5000:8192 1:4096 0x10000:65536; do
	ok "$D/disksize" "${sz%:*}"
	expect "$D/disksize" "${sz#*:}"$'\n'
	[ "$(stat -c %s "$MNT/zram0")" = "${sz#*:}" ] ||
		fail "disksize ${sz%:*}: st_size is not ${sz#*:}"
	ok "$D/reset" 1
done
# White space may follow the size (a file with DOS line ends), nothing
# else: zram would take "1GB" or "1 G" for 1G or 1 byte. (Not "1M\n" here:
# bash's echo writes each line with its own write.)
for sz in "1M " $'1M\r' $'1M\t'; do
	ok "$D/disksize" "$sz"
	expect "$D/disksize" $'1048576\n'
	ok "$D/reset" 1
done
for sz in 1MB 1Mi "1 M" 1M.; do
	bad "Invalid argument" "$D/disksize" "$sz"
done
pass "disksize"

# ---- comp_algorithm ----------------------------------------------------------

content "$D/comp_algorithm"
algos=$(printf '%s' "$REPLY" | tr -d '[]')
[ "$(echo $algos)" = "lz4 lz4hc zstd" ] || fail "algorithms: $algos"
for alg in $algos; do
	ok "$D/comp_algorithm" "$alg"
	content "$D/comp_algorithm"
	[[ $REPLY == *"[$alg] "* ]] || fail "$alg not selected: $REPLY"
	[ "$(printf '%s' "$REPLY" | tr -d '[]')" = "$(printf '%s' "$ALGOS" | tr -d '[]')" ] ||
		fail "comp_algorithm list changed: $REPLY"
done
bad "Invalid argument" "$D/comp_algorithm" bogus
bad "Invalid argument" "$D/comp_algorithm" ""
bad "Invalid argument" "$D/comp_algorithm" "lz4 zstd"
# zram's limit on a name: 128 bytes with the newline, E2BIG.
long=$(printf 'a%.0s' {1..127})
bad "Argument list too long" "$D/comp_algorithm" "$long"
bad "Invalid argument" "$D/comp_algorithm" "${long%a}"
bad "Argument list too long" "$D/recomp_algorithm" "algo=${long}a"
bad "Invalid argument" "$D/recomp_algorithm" "algo=${long}a priority=9"
ok "$D/comp_algorithm" lz4hc
ok "$D/disksize" 1M
expect "$D/comp_algorithm" $'lz4 [lz4hc] zstd \n'
bad "Device or resource busy" "$D/comp_algorithm" zstd
bad "Device or resource busy" "$D/comp_algorithm" lz4hc
# zram validates the name before it looks at the device state.
bad "Invalid argument" "$D/comp_algorithm" bogus
ok "$D/reset" 1
expect "$D/comp_algorithm" "$ALGOS"
pass "comp_algorithm"

# ---- algorithm_params --------------------------------------------------------

ok "$D/algorithm_params" "level=5"
ok "$D/algorithm_params" "algo=lz4 level=3"
bad "Invalid argument" "$D/algorithm_params" "foo=1"
bad "Invalid argument" "$D/algorithm_params" "level"
bad "Invalid argument" "$D/algorithm_params" "level="
bad "Invalid argument" "$D/algorithm_params" "algo=bogus level=1"
ok "$D/comp_algorithm" zstd
ok "$D/algorithm_params" "algo=zstd level=3"
ok "$D/disksize" 1M
bad "Device or resource busy" "$D/algorithm_params" "level=5"
ok "$D/reset" 1
pass "algorithm_params"

# ---- mem_limit and the mm_stat columns ----------------------------------------

ok "$D/mem_limit" 8M
expect "$D/mm_stat" "$(mm_line 0 0 0 8388608 0 0 0 0 0)"$'\n'
ok "$D/mem_limit" 5000
[ "$(col "$D/mm_stat" 4)" = 8192 ] || fail "mem_limit 5000 is not page aligned"
ok "$D/mem_limit" 1G
[ "$(col "$D/mm_stat" 4)" = 1073741824 ] || fail "mem_limit 1G"
ok "$D/mem_limit" 0
[ "$(col "$D/mm_stat" 4)" = 0 ] || fail "mem_limit 0"
bad "Invalid argument" "$D/mem_limit" abc
bad "Invalid argument" "$D/mem_limit" ""
ok "$D/mem_limit" 8M

make_tmpdir DATA
head -c $PAGE /dev/zero > "$DATA/zero"
head -c $PAGE /dev/urandom > "$DATA/random"
yes "zramfs control test: a compressible page of text" | head -c $PAGE > "$DATA/text"

ok "$D/disksize" 64M
expect_fresh "$D/mm_stat" 8388608
# Page 0: same-filled, no memory. Page 1: incompressible, stored raw
# (huge). Page 2: compressible.
write_page "$MNT/zram0" 0 "$DATA/zero"
write_page "$MNT/zram0" 1 "$DATA/random"
write_page "$MNT/zram0" 2 "$DATA/text"
same_format "$D/mm_stat" "$MM_FMT" 9
read -r orig compr used limit max same _ huge huge_since < "$D/mm_stat" ||
	fail "cannot read mm_stat"
[ "$orig" = $((3 * PAGE)) ] || fail "orig_data_size $orig after 3 pages"
[ "$same" = 1 ] || fail "same_pages $same"
[ "$huge" = 1 ] && [ "$huge_since" = 1 ] ||
	fail "huge_pages $huge huge_pages_since $huge_since"
[ "$compr" -gt $PAGE ] && [ "$compr" -lt $((PAGE + PAGE * 3 / 4)) ] ||
	fail "compr_data_size $compr: not one raw page plus one compressed"
[ "$used" -ge "$compr" ] || fail "mem_used_total $used < compr_data_size $compr"
[ "$limit" = 8388608 ] || fail "mem_limit column $limit"
[ "$max" -ge "$used" ] || fail "mem_used_max $max < mem_used_total $used"
cmp -s <(dd if="$MNT/zram0" bs=$PAGE skip=1 count=1 status=none) "$DATA/random" ||
	fail "page 1 reads back wrong"
# Discard the huge page: zram's notify_free counts it, huge_pages_since
# does not forget it.
fallocate -p -o $PAGE -l $PAGE "$MNT/zram0" || fail "punch hole"
read -r orig compr used limit max same _ huge huge_since < "$D/mm_stat" ||
	fail "cannot read mm_stat"
[ "$orig" = $((2 * PAGE)) ] && [ "$huge" = 0 ] && [ "$huge_since" = 1 ] ||
	fail "after discard: $(cat "$D/mm_stat")"
expect "$D/io_stat" "$(printf "$IO_FMT" 0 0 0 1)"$'\n'
pass "mem_limit and mm_stat columns"

# ---- mem_used_max ------------------------------------------------------------

bad "Invalid argument" "$D/mem_used_max" 5
bad "Invalid argument" "$D/mem_used_max" abc
bad "Invalid argument" "$D/mem_used_max" -1
ok "$D/mem_used_max" 0
[ "$(col "$D/mm_stat" 5)" = "$(col "$D/mm_stat" 3)" ] ||
	fail "mem_used_max 0 did not reset the peak to mem_used_total: $(cat "$D/mm_stat")"
pass "mem_used_max"

# ---- compact and idle, before and after init ------------------------------------

used=$(col "$D/mm_stat" 3)
ok "$D/compact" 1
read -r -a mm < "$D/mm_stat" || fail "cannot read mm_stat"
[ "${mm[2]}" -le "$used" ] || fail "compact grew mem_used_total: $used -> ${mm[2]}"
[ "${mm[6]}" -ge 0 ] && [ "${mm[0]}" = $((2 * PAGE)) ] ||
	fail "after compact: $(cat "$D/mm_stat")"
cmp -s <(dd if="$MNT/zram0" bs=$PAGE skip=2 count=1 status=none) "$DATA/text" ||
	fail "compact lost page 2"
ok "$D/idle" all
ok "$D/idle" 60
ok "$D/idle" 0
ok "$D/idle" 4294967295
bad "Invalid argument" "$D/idle" 4294967296
bad "Invalid argument" "$D/idle" abc
bad "Invalid argument" "$D/idle" ""

# ---- writeback attributes -------------------------------------------------------

# Without a backing device, zram answers ENODEV before it even parses the
# request (current zram_drv.c: init, then backing_dev, then the modes).
for v in idle huge huge_idle incompressible type=huge type=idle \
	 page_index=1 page_indexes=1-2 bogus; do
	bad "No such device" "$D/writeback" "$v"
done
expect "$D/backing_dev" $'none\n'
bad "No such file or directory" "$D/backing_dev" "$DATA/missing"
bad "Is a directory" "$D/backing_dev" "$DATA"
bad "Invalid argument" "$D/backing_dev" ""
ok "$D/writeback_limit" 1234
expect "$D/writeback_limit" $'1234\n'
bad "Invalid argument" "$D/writeback_limit" abc
bad "Invalid argument" "$D/writeback_limit" -1
expect "$D/writeback_limit" $'1234\n'
ok "$D/writeback_limit_enable" 1
expect "$D/writeback_limit_enable" $'1\n'
bad "Invalid argument" "$D/writeback_limit_enable" abc
expect "$D/writeback_limit_enable" $'1\n'
ok "$D/writeback_limit_enable" 0
expect "$D/writeback_limit_enable" $'0\n'
ok "$D/compressed_writeback" 1
expect "$D/compressed_writeback" $'1\n'
bad "Invalid argument" "$D/compressed_writeback" abc
ok "$D/compressed_writeback" 0
expect "$D/compressed_writeback" $'0\n'

# zramfs attaches a backing file after init too (design: the deliberate
# difference from zram); a second attach is EEXIST.
truncate -s 16M "$DATA/backing" || fail "truncate"
ok "$D/backing_dev" "$DATA/backing"
expect "$D/backing_dev" "$DATA/backing"$'\n'
bad "File exists" "$D/backing_dev" "$DATA/backing"
bad "File exists" "$D/backing_dev" "$DATA/zero"
bad "Invalid argument" "$D/writeback" bogus
bad "Invalid argument" "$D/writeback" type=bogus
bad "Invalid argument" "$D/writeback" ""
bad "Numerical result out of range" "$D/writeback" page_index=16384
# writeback_limit is a budget in pages: enabled and spent, writeback is EIO.
ok "$D/writeback_limit_enable" 1
ok "$D/writeback_limit" 0
bad "Input/output error" "$D/writeback" page_index=2
expect "$D/bd_stat" "$(printf "$BD_FMT" 0 0 0)"$'\n'
ok "$D/writeback_limit" 1
ok "$D/writeback" page_index=2
expect "$D/writeback_limit" $'0\n'
expect "$D/bd_stat" "$(printf "$BD_FMT" 1 0 1)"$'\n'
ok "$D/writeback_limit_enable" 0
cmp -s <(dd if="$MNT/zram0" bs=$PAGE skip=2 count=1 status=none) "$DATA/text" ||
	fail "page 2 reads back wrong from the backing file"
[ "$(col "$D/bd_stat" 2)" -ge 1 ] || fail "bd_reads after reading page 2: $(cat "$D/bd_stat")"
[ "$(col "$D/mm_stat" 1)" = $((2 * PAGE)) ] ||
	fail "orig_data_size changed by writeback: $(cat "$D/mm_stat")"
ok "$D/idle" all
ok "$D/writeback" idle
ok "$D/writeback" type=huge_idle

# ---- recompression ------------------------------------------------------------------

bad "Invalid argument" "$D/recompress" type=idle
bad "Invalid argument" "$D/recompress" type=huge
bad "Invalid argument" "$D/recompress" bogus
bad "Invalid argument" "$D/recomp_algorithm" algo=bogus
bad "Invalid argument" "$D/recomp_algorithm" zstd
expect "$D/recomp_algorithm" ""
pass "compact, idle, writeback, recompression after init"

# ---- reset -----------------------------------------------------------------------

bad "Invalid argument" "$D/reset" 0
bad "Invalid argument" "$D/reset" abc
bad "Numerical result out of range" "$D/reset" 70000
# While the data file is open (as zram refuses while /dev/zramN is open).
exec 9<> "$MNT/zram0" || fail "open zram0"
bad "Device or resource busy" "$D/reset" 1
cmp -s <(dd if="$MNT/zram0" bs=$PAGE skip=2 count=1 status=none) "$DATA/text" ||
	fail "refused reset lost data"
exec 9>&-
ok "$D/reset" 1
expect "$D/initstate" $'0\n'
expect "$D/disksize" $'0\n'
expect "$D/comp_algorithm" "$ALGOS"
expect "$D/mm_stat" "$(mm_line 0 0 0 0 0 0 0 0 0)"$'\n'
expect "$D/io_stat" "$(printf "$IO_FMT" 0 0 0 0)"$'\n'
expect "$D/bd_stat" "$(printf "$BD_FMT" 0 0 0)"$'\n'
expect "$D/backing_dev" $'none\n'
[ "$(stat -c %s "$MNT/zram0")" = 0 ] || fail "st_size after reset"
[ "$(head -c 1 "$MNT/zram0" | wc -c)" = 0 ] || fail "data readable after reset"
# reset of an uninitialised device is allowed and clears mem_limit.
ok "$D/mem_limit" 4M
ok "$D/reset" 1
[ "$(col "$D/mm_stat" 4)" = 0 ] || fail "reset kept mem_limit"
pass "reset"

# ---- uninitialised device: what needs init says EINVAL ---------------------

bad "Invalid argument" "$D/compact" 1
bad "Invalid argument" "$D/idle" all
bad "Invalid argument" "$D/idle" abc
bad "Invalid argument" "$D/writeback" idle
bad "Invalid argument" "$D/writeback" type=huge
bad "Invalid argument" "$D/writeback" page_index=1
bad "Invalid argument" "$D/recompress" type=idle
ok "$D/mem_used_max" 0
bad "Invalid argument" "$D/mem_used_max" 5
bad "Invalid argument" "$D/recomp_algorithm" "algo=zstd priority=9"
bad "Invalid argument" "$D/recomp_algorithm" "algo=zstd priority=0"
bad "Invalid argument" "$D/recomp_algorithm" algo=bogus
# Secondary algorithms are configured before init, shown per priority, and
# forgotten by reset (zram's defaults).
ok "$D/recomp_algorithm" algo=zstd
ok "$D/recomp_algorithm" "algo=lz4hc priority=2"
expect "$D/recomp_algorithm" $'#1: lz4 lz4hc [zstd] \n#2: lz4 [lz4hc] zstd \n'
ok "$D/algorithm_params" "algo=zstd level=9"
bad "Invalid argument" "$D/algorithm_params" "priority=3 level=9"
ok "$D/disksize" 1M
bad "Device or resource busy" "$D/recomp_algorithm" algo=zstd
bad "Device or resource busy" "$D/algorithm_params" "algo=zstd level=1"
ok "$D/recompress" "type=huge"
bad "Invalid argument" "$D/recompress" "priority=3"
ok "$D/reset" 1
expect "$D/recomp_algorithm" ""
# A backing device can be attached before init, as in zram; reset detaches
# it and releases the file.
ok "$D/backing_dev" "$DATA/backing"
expect "$D/backing_dev" "$DATA/backing"$'\n'
bad "File exists" "$D/backing_dev" "$DATA/backing"
ok "$D/reset" 1
expect "$D/backing_dev" $'none\n'
ok "$D/backing_dev" "$DATA/backing"
ok "$D/reset" 1
pass "attributes of an uninitialised device"

# ---- hot_add / hot_remove ------------------------------------------------------

expect "$C/hot_add" $'1\n'
[ -d "$C/zram1" ] && [ -f "$MNT/zram1" ] || fail "hot_add did not create zram1"
expect "$C/zram1/initstate" $'0\n'
expect "$C/zram1/comp_algorithm" "$ALGOS"
expect "$C/hot_add" $'2\n'
expect "$C/hot_add" $'3\n'
ls "$C" | grep -qx zram3 || fail "readdir of control does not list zram3"
ls "$MNT" | grep -qx zram3 || fail "readdir of the root does not list zram3"
ok "$C/hot_remove" 1
[ ! -e "$C/zram1" ] && [ ! -e "$MNT/zram1" ] || fail "zram1 still there"
ls "$MNT" | grep -qx zram1 && fail "readdir still lists zram1"
# Ids are reused lowest first, as zram's idr.
expect "$C/hot_add" $'1\n'
expect "$C/hot_add" $'4\n'
bad "No such device" "$C/hot_remove" 9
bad "No such device" "$C/hot_remove" 100000
bad "Invalid argument" "$C/hot_remove" -1
bad "Invalid argument" "$C/hot_remove" abc
bad "Invalid argument" "$C/hot_remove" ""
bad "Numerical result out of range" "$C/hot_remove" 99999999999
# An open device cannot be removed; an initialised, closed one can.
ok "$C/zram2/disksize" 1M
write_page "$MNT/zram2" 0 "$DATA/text"
exec 9<> "$MNT/zram2" || fail "open zram2"
expect_error "Device or resource busy" wattr "$C/hot_remove" 2
[ -d "$C/zram2" ] || fail "refused hot_remove removed zram2"
expect "$C/zram2/disksize" $'1048576\n'
exec 9>&-
ok "$C/hot_remove" 2
[ ! -e "$MNT/zram2" ] || fail "zram2 still there"
expect "$C/hot_add" $'2\n'
expect "$C/zram2/initstate" $'0\n'
expect "$C/zram2/mm_stat" "$(mm_line 0 0 0 0 0 0 0 0 0)"$'\n'
for id in 1 2 3 4; do
	ok "$C/hot_remove" $id
done
# A control file kept open across hot_remove reaches no later device with
# the same number (sysfs: the old file is dead). Through the descriptors
# themselves: /dev/fd/N would open the file anew.
write_fd8() { echo "$1" >&8; }
read_fd7() { cat <&7; }
expect "$C/hot_add" $'1\n'
exec 8> "$C/zram1/disksize" || fail "open zram1/disksize"
exec 7< "$C/zram1/mm_stat" || fail "open zram1/mm_stat"
ok "$C/hot_remove" 1
expect "$C/hot_add" $'1\n'
expect_error "No such device" write_fd8 1M
expect_error "No such device" read_fd7
exec 8>&- 7<&-
expect "$C/zram1/initstate" $'0\n'
ok "$C/hot_remove" 1
[ "$(ls "$C" | grep -c '^zram')" = 1 ] || fail "devices left: $(ls "$C")"
pass "hot_add and hot_remove; a file kept open across them gets ENODEV"

# ---- one open file read again from offset 0 ----------------------------------
# As sysfs: a read at offset 0 generates the text anew, a read further on
# continues the text of the last read at 0. A monitor keeps mm_stat open
# and preads it; every read of hot_add at 0 adds a device.
expect "$C/hot_add" $'1\n'
python3 - "$C" "$MNT/zram1" <<'EOF' || fail "re-reading open control files"
import os, sys, threading
c, data = sys.argv[1], sys.argv[2]
def check(what, got, want):
    if got != want:
        sys.exit(f"{what}: {got!r}, expected {want!r}")
init = os.open(f"{c}/zram1/initstate", os.O_RDONLY)
mm = os.open(f"{c}/zram1/mm_stat", os.O_RDONLY)
check("initstate before disksize", os.pread(init, 4096, 0), b"0\n")
before = os.pread(mm, 4096, 0)
with open(f"{c}/zram1/disksize", "w") as f:
    f.write("1M")
check("initstate after disksize, same descriptor", os.pread(init, 4096, 0),
      b"1\n")
fd = os.open(data, os.O_WRONLY)
os.pwrite(fd, b"zramfs re-read test\n" * 204 + b"\n" * 16, 0)
os.close(fd)
head = os.pread(mm, 20, 0)
rest = os.pread(mm, 4096, 20)
after = head + rest
check("mm_stat orig_data_size after one page, same descriptor",
      after.split()[0], b"4096")
if before.split()[0] != b"0":
    sys.exit(f"mm_stat before the write: {before!r}")
check("mm_stat read again from 0", os.pread(mm, 4096, 0), after)
# Two threads through the one descriptor (the daemon serves them at once):
# both make the same text, so this checks the per-file lock only under
# ThreadSanitizer, as contrib/test.sh runs it.
bad = []
def reread():
    for _ in range(200):
        t = os.pread(mm, 4096, 0) + os.pread(init, 1, 0)
        if t != after + b"1":
            bad.append(t)
threads = [threading.Thread(target=reread) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("concurrent re-reads through one descriptor", bad[:1], [])
os.close(init)
os.close(mm)
add = os.open(f"{c}/hot_add", os.O_RDONLY)
check("hot_add", os.pread(add, 4096, 0), b"2\n")
check("hot_add continued", os.pread(add, 4096, 2), b"")
check("hot_add read again from 0", os.pread(add, 4096, 0), b"3\n")
os.close(add)
EOF
for id in 1 2 3; do
	ok "$C/hot_remove" $id
done
pass "an open control file read again from offset 0 shows the current text"

# ---- files named in control writes ---------------------------------------------

# backing_dev and dict= name files that the daemon opens while it serves the
# write. One on zramfs's own mount would make it wait on itself (at once
# with threads=1): refused with EINVAL before anything on the mount is
# looked up, whether named directly, through a link or through a bind
# mount. A FIFO is refused without being opened (its open would block).
mkfifo "$DATA/fifo"
ln -s "$MNT/zram0" "$DATA/own-link"
mkdir "$DATA/bind"
mount --bind "$C" "$DATA/bind" || fail "bind mount of $C"
at_exit "umount '$DATA/bind' || umount -l '$DATA/bind'"
for target in "$MNT/zram0" "$D/mm_stat" "$MNT" "$DATA/own-link" \
	      "$DATA/bind/zram0/mm_stat" "$DATA/fifo"; do
	WRITE=wattr_bounded bad "Invalid argument" "$D/backing_dev" "$target"
	WRITE=wattr_bounded bad "Invalid argument" "$D/algorithm_params" \
		"dict=$target"
done
umount "$DATA/bind" || fail "umount $DATA/bind"
MNT1=$TMP/mnt-threads1
mkdir "$MNT1"
mount_zramfs "$MNT1" -o devices=2,threads=1
expect_error "Invalid argument" wattr_bounded \
	"$MNT1/control/zram0/backing_dev" "$MNT1/zram1"
expect "$MNT1/control/zram0/backing_dev" $'none\n'
fusermount3 -u "$MNT1" || fail "unmount $MNT1"
pass "backing_dev and dict=: paths on the mount itself and FIFOs refused"

# ---- permissions of an unprivileged user ----------------------------------------

# Created if missing, and then removed at exit (only by the run that made it:
# a concurrent run may have made it first).
if ! id -u "$TEST_USER" >/dev/null 2>&1; then
	if useradd -M -r -s /usr/sbin/nologin "$TEST_USER" 2>/dev/null; then
		at_exit "userdel '$TEST_USER'"
	else
		id -u "$TEST_USER" >/dev/null 2>&1 || fail "useradd $TEST_USER"
	fi
fi
TUID=$(id -u "$TEST_USER")
TGID=$(id -g "$TEST_USER")
as_user() {
	setpriv --reuid="$TUID" --regid="$TGID" --clear-groups -- "$@"
}
as_user_write() {
	as_user bash -c 'echo "$2" > "$1"' bash "$1" "$2"
}

# The user must reach the mountpoints: TMPDIR may be private.
PTMP=$TMP
if ! as_user test -x "$PTMP"; then
	PTMP=$(mktemp -d /tmp/zramfs-test.XXXXXX) || fail "mktemp"
	at_exit "rm -rf '$PTMP'"
	chmod 0755 "$PTMP"
	as_user test -x "$PTMP" || fail "$TEST_USER cannot reach $PTMP"
fi

MNTA=$PTMP/allow
mkdir "$MNTA"
mount_zramfs "$MNTA" -o allow_other,size=1M
as_user stat "$MNTA/control/zram0" >/dev/null ||
	fail "the user cannot see into an allow_other mount"
content "$MNTA/control/zram0/mm_stat"
[ "$(as_user cat "$MNTA/control/zram0/mm_stat")" = "${REPLY%$'\n'}" ] ||
	fail "the user cannot read mm_stat"
as_user cat "$MNTA/control/zram0/comp_algorithm" >/dev/null ||
	fail "the user cannot read comp_algorithm"
expect_error "Permission denied" as_user cat "$MNTA/zram0"
expect_error "Permission denied" as_user_write "$MNTA/zram0" x
expect_error "Permission denied" as_user_write "$MNTA/control/zram0/disksize" 2M
expect_error "Permission denied" as_user_write "$MNTA/control/zram0/reset" 1
expect_error "Permission denied" as_user_write "$MNTA/control/zram0/comp_algorithm" zstd
expect_error "Permission denied" as_user_write "$MNTA/control/hot_remove" 0
expect_error "Permission denied" as_user cat "$MNTA/control/hot_add"
expect "$MNTA/control/zram0/disksize" $'1048576\n'
expect "$MNTA/control/zram0/comp_algorithm" "$ALGOS"
[ -d "$MNTA/control/zram0" ] && [ ! -e "$MNTA/control/zram1" ] ||
	fail "the user's refused requests changed the devices"

MNTP=$PTMP/private
mkdir "$MNTP"
mount_zramfs "$MNTP"
as_user stat "$PTMP" >/dev/null || fail "the user cannot reach $PTMP"
expect_error "Permission denied" as_user ls "$MNTP"
expect_error "Permission denied" as_user stat "$MNTP/control/zram0/mm_stat"
expect_error "Permission denied" as_user cat "$MNTP/control/zram0/mm_stat"
pass "permissions of an unprivileged user"

# ---- mount options set the same state as control writes ---------------------------

MNTO=$TMP/options
mkdir "$MNTO"
mount_zramfs "$MNTO" -o devices=2,size=32M,algorithm=zstd,mem_limit=8M
for id in 0 1; do
	O=$MNTO/control/zram$id
	expect "$O/initstate" $'1\n'
	expect "$O/disksize" $'33554432\n'
	expect "$O/comp_algorithm" $'lz4 lz4hc [zstd] \n'
	expect_fresh "$O/mm_stat" 8388608
	[ "$(stat -c %s "$MNTO/zram$id")" = 33554432 ] || fail "zram$id st_size"
done
[ ! -e "$MNTO/zram2" ] || fail "devices=2 made a third device"
expect "$MNTO/control/hot_add" $'2\n'
O=$MNTO/control/zram2
ok "$O/comp_algorithm" zstd
ok "$O/mem_limit" 8M
ok "$O/disksize" 32M
MNT=$MNTO snapshot "$MNTO/control/zram0" > "$DATA/opt0"
MNT=$MNTO snapshot "$O" > "$DATA/opt2"
cmp -s "$DATA/opt0" "$DATA/opt2" ||
	fail "mount options and control writes differ: $(cat "$DATA/opt0") / $(cat "$DATA/opt2")"

# backing_dev= goes through the same attribute.
MNTW=$TMP/optbacking
mkdir "$MNTW"
truncate -s 4M "$DATA/backing2" || fail "truncate"
mount_zramfs "$MNTW" -o "size=8M,backing_dev=$DATA/backing2"
expect "$MNTW/control/zram0/backing_dev" "$DATA/backing2"$'\n'
expect "$MNTW/control/zram0/disksize" $'8388608\n'

# Bad option values: an error naming the problem, nothing mounted.
MNTB=$TMP/badopt
mkdir "$MNTB"
at_exit "fusermount3 -u '$MNTB'"
for opt in algorithm=bogus size=abc mem_limit=xyz devices=-1 size=0 \
	   "backing_dev=$DATA/missing" "backing_dev=$DATA"; do
	if err=$("$ZRAMFS" -o "$opt" "$MNTB" 2>&1); then
		fail "zramfs -o $opt succeeded"
	fi
	[ -n "$err" ] || fail "zramfs -o $opt failed silently"
	grep -qs " $MNTB " /proc/mounts && fail "zramfs -o $opt left a mount"
done
pass "mount options"

exit 0
