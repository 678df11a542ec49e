#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Linux's own zram test suites, ported to zramfs: /sys/block/zramN becomes
# MNT/control/zramN, /dev/zramN the loop device of MNT/zramN (losetup
# --find --show --direct-io=on), "modprobe zram num_devices=N" a mount
# with -o devices=N, /sys/class/zram-control MNT/control. Each part says
# which original it ports:
#
#   1. kselftest tools/testing/selftests/zram/zram01.sh (+ zram_lib.sh)
#   2. kselftest tools/testing/selftests/zram/zram02.sh
#   3. LTP testcases/kernel/device-drivers/zram/zram01.sh (+ zram_lib.sh)
#   4. LTP testcases/kernel/device-drivers/zram/zram02.sh
#   5. LTP testcases/kernel/device-drivers/zram/zram03.c
#
# Deliberate differences, all marked where they happen: max_comp_streams
# (deprecated since Linux 4.7, absent from zramfs) is skipped as LTP skips
# it on new kernels; the kselftest's "lzo" becomes lz4hc; the kselftest's
# 2 MiB device becomes 64 MiB so that the fill moves real data; "fill
# until full" writes in 1 MiB blocks before the original 1 KiB appends so
# that it stays fast; a device is reset only after its loop device is
# detached (a loop device keeps the data file open, as an open /dev/zramN
# makes zram refuse reset). Every step the originals only log is asserted.

. "$(dirname "$0")/lib.sh"
require_fuse
require_loop

# ---- helpers ---------------------------------------------------------------

# wattr FILE VALUE: echo VALUE > FILE; bash's echo reports the errno text.
wattr() {
	echo "$2" > "$1"
}

ok() {
	local out
	out=$(wattr "$1" "$2" 2>&1) || fail "echo '$2' > $1: $out"
}

col() {
	awk -v c="$2" '{ print $c }' "$1"
}

# The backing file of loop device DEV, as the kernel reports it.
loop_backing() {
	cat "/sys/block/${1#/dev/}/loop/backing_file" 2>/dev/null
}

# loop_is DEV BACKING: DEV is still the loop device we attached to BACKING.
# Cleanup checks it so that it never touches a loop or swap device that
# someone else set up with the same name after we released ours.
loop_is() {
	[ -n "$2" ] && [ "$(loop_backing "$1")" = "$2" ]
}

# attach VAR FILE: the loop device of FILE with direct I/O, as the design's
# recipe sets it up; detached at exit if it is still ours.
attach() {
	local dev back
	dev=$(losetup --find --show --direct-io=on "$2") ||
		fail "losetup --direct-io=on $2"
	back=$(loop_backing "$dev")
	at_exit "loop_is '$dev' '$back' && losetup -d '$dev'"
	[ "$(cat "/sys/block/${dev#/dev/}/loop/dio")" = 1 ] ||
		fail "$dev fell back to buffered I/O: $2 refused O_DIRECT"
	printf -v "$1" '%s' "$dev"
}

# detach DEV: releases the loop device now (zram's "close /dev/zramN").
detach() {
	losetup -d "$1" || fail "losetup -d $1"
	local i
	for ((i = 0; i < 50; i++)); do
		[ -z "$(loop_backing "$1")" ] && return 0
		sleep 0.1
	done
	fail "$1 still attached"
}

# swap_on DEV: mkswap + swapon; swapped off at exit if still ours.
swap_on() {
	local back
	back=$(loop_backing "$1")
	mkswap "$1" >/dev/null || fail "mkswap $1"
	at_exit "loop_is '$1' '$back' && grep -q '^$1 ' /proc/swaps && swapoff '$1'"
	swapon "$1" || fail "swapon $1"
	grep -q "^$1 " /proc/swaps || fail "$1 not in /proc/swaps after swapon"
}

swap_off() {
	swapoff "$1" || fail "swapoff $1"
	grep -q "^$1 " /proc/swaps && fail "$1 still in /proc/swaps"
}

# mount_fs DEV DIR: mounts a filesystem, unmounted at exit.
mount_fs() {
	at_exit "umount '$2'"
	mount "$1" "$2" || fail "mount $1 $2"
}

# fill_fs DIR: zram_fill_fs's "dd 1 KiB appends until the first failure",
# preceded by one dd in 1 MiB blocks that stops at ENOSPC (the original
# forks one dd per KiB: minutes for a device of tens of MiB). Prints the
# KiB written, which is what the original's counter b ends at.
fill_fs() {
	local file=$1/file n=0
	dd if=/dev/zero of="$file" bs=1M status=none 2>/dev/null
	while dd conv=notrunc if=/dev/zero of="$file" oflag=append count=1 \
		 bs=1024 status=none >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -lt 100000 ] || fail "$file never fills"
	done
	sync -f "$file" || sync
	echo $(($(stat -c %s "$file") / 1024))
}

# mkfs_for FS DEV: zram_makefs (kselftest: fall back to ext2 when mkfs.FS
# is missing).
mkfs_for() {
	local fs=$1
	command -v "mkfs.$fs" >/dev/null || fs=ext2
	"mkfs.$fs" "$2" >"$TMP/mkfs.log" 2>&1 ||
		fail "mkfs.$fs $2: $(cat "$TMP/mkfs.log")"
}

# reset_dev MNT ID: zram_cleanup's "echo 1 > reset", then what reset must
# have done.
reset_dev() {
	local d=$1/control/zram$2
	ok "$d/reset" 1
	[ "$(cat "$d/initstate")" = 0 ] || fail "zram$2 initialised after reset"
	[ "$(cat "$d/disksize")" = 0 ] || fail "zram$2 disksize after reset"
	[ "$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' \
	      "$d/mm_stat")" = 0 ] || fail "zram$2 mm_stat after reset: $(cat "$d/mm_stat")"
	[ "$(stat -c %s "$1/zram$2")" = 0 ] || fail "zram$2 st_size after reset"
}

# zram_load MNT N: "modprobe zram num_devices=N", then the LTP check that
# exactly N devices exist.
zram_load() {
	mkdir "$1"
	mount_zramfs "$1" -o devices="$2"
	local n
	n=$(find "$1" -maxdepth 1 -name 'zram*' | wc -l)
	[ "$n" = "$2" ] || fail "unexpected num of devices: $n, expected $2"
}

# algorithms MNT: the names comp_algorithm lists, brackets removed (LTP:
# sed 's/[][]//g' /sys/block/zram0/comp_algorithm).
algorithms() {
	sed 's/[][]//g' "$1/control/zram0/comp_algorithm"
}

# ratio V: V/100 as "N.NN".
ratio() {
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# selected FILE: the bracketed name of a comp_algorithm file.
selected() {
	sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1"
}

make_tmpdir TMP

# ---- 1. kselftest zram01.sh ------------------------------------------------
# "Test creates several zram devices with different filesystems on them. It
# fills each device with zeros and checks that compression works."
# dev_num=1, zram_algs="lzo" (zramfs offers lz4 lz4hc zstd: lz4hc takes
# lzo's place as the non-default choice), zram_sizes="2097152" and
# zram_mem_limits="2M" scaled to 64 MiB, zram_filesystems="ext4".

M1=$TMP/kself01
zram_load "$M1" 1
# zram_max_streams: max_comp_streams was deprecated in Linux 4.7 and does
# nothing since; zramfs has no such attribute. Skipped, as LTP does.
# zram_compress_alg
ok "$M1/control/zram0/comp_algorithm" lz4hc
[ "$(selected "$M1/control/zram0/comp_algorithm")" = lz4hc ] ||
	fail "comp_algorithm is not lz4hc: $(cat "$M1/control/zram0/comp_algorithm")"
# zram_set_disksizes (in bytes, as the original insists)
ok "$M1/control/zram0/disksize" 67108864
[ "$(cat "$M1/control/zram0/disksize")" = 67108864 ] || fail "disksize"
# zram_set_memlimit
ok "$M1/control/zram0/mem_limit" 64M
[ "$(col "$M1/control/zram0/mm_stat" 4)" = 67108864 ] || fail "mem_limit"
# zram_makefs
attach DEV1 "$M1/zram0"
mkfs_for ext4 "$DEV1"
# zram_mount
mkdir "$TMP/kself01-fs"
mount_fs "$DEV1" "$TMP/kself01-fs"
# zram_fill_fs: current upstream computes the ratio from mm_stat,
# 100 * 1024 * b / mem_used_total, and fails below 100 (1:1).
b=$(fill_fs "$TMP/kself01-fs")
[ "$b" -gt $((32 * 1024)) ] || fail "zram0 could only be filled with $b KB"
read -r orig compr used _ < "$M1/control/zram0/mm_stat" ||
	fail "cannot read mm_stat"
[ "$used" -gt 0 ] || fail "mem_used_total is 0 after filling: $(cat "$M1/control/zram0/mm_stat")"
v=$((100 * 1024 * b / used))
[ "$v" -ge 100 ] || fail "compression ratio: 0.$v:1"
log "kselftest zram01: zram0 can be filled with '$b' KB, compression ratio $(ratio $v):1"
# The same from mm_stat alone: orig_data_size / mem_used_total.
[ "$orig" -ge "$used" ] ||
	fail "orig_data_size $orig < mem_used_total $used"
[ "$orig" -ge $((b * 1024)) ] ||
	fail "orig_data_size $orig < the $b KB written"
# zram_cleanup: umount, (close /dev/zram0), reset.
umount "$TMP/kself01-fs" || fail "umount"
detach "$DEV1"
reset_dev "$M1" 0
pass "kselftest zram01.sh: ext4 on zram0 filled, ratio $(ratio $v):1"

# ---- 2. kselftest zram02.sh ------------------------------------------------
# "Test checks that we can create swap zram device." dev_num=1,
# zram_sizes="1048576", zram_mem_limits="1M".

M2=$TMP/kself02
zram_load "$M2" 1
# zram_max_streams: skipped (see above).
ok "$M2/control/zram0/disksize" 1048576
ok "$M2/control/zram0/mem_limit" 1M
[ "$(col "$M2/control/zram0/mm_stat" 4)" = 1048576 ] || fail "mem_limit"
attach DEV2 "$M2/zram0"
# zram_makeswap
swap_on "$DEV2"
# zram_swapoff
swap_off "$DEV2"
# zram_cleanup
detach "$DEV2"
reset_dev "$M2" 0
pass "kselftest zram02.sh: 1 MiB swap on, off"

# ---- 3. LTP zram01.sh ------------------------------------------------------
# "Test creates several zram devices with different filesystems on them.
# It fills each device with zeros and checks that compression works."
# One device per supported filesystem (tst_supported_fs: mkfs.FS present
# and the kernel knows FS; btrfs, xfs and the rest need hundreds of MiB
# and are left out). LTP gives each 26214400 bytes and a 25M limit; here
# the sizes differ (25, 33, 41 MiB) and each device ends up with its own
# algorithm, so that devices are seen to be independent.

fss=()
for fs in ext2 ext3 ext4; do
	command -v "mkfs.$fs" >/dev/null &&
	grep -qw "$fs" /proc/filesystems && fss+=("$fs")
done
[ ${#fss[@]} -gt 0 ] || fail "no ext2/3/4 support for LTP zram01"
sizes=() limits=()
for ((i = 0; i < ${#fss[@]}; i++)); do
	mib=$((25 + 8 * i))		# 25, 33, 41 MiB
	sizes+=($((mib << 20)))
	limits+=("${mib}M")
done
M3=$TMP/ltp01
dev_num=${#fss[@]}
zram_load "$M3" "$dev_num"
# zram_compress_alg: every algorithm comp_algorithm lists, on every device.
algs=$(algorithms "$M3")
[ -n "$algs" ] || fail "no algorithms listed"
for ((i = 0; i < dev_num; i++)); do
	for alg in $algs; do
		ok "$M3/control/zram$i/comp_algorithm" "$alg"
		[ "$(selected "$M3/control/zram$i/comp_algorithm")" = "$alg" ] ||
			fail "zram$i: '$alg' not selected"
	done
done
# ... then one per device (kselftest zram_lib's per-device zram_algs).
read -r -a alglist <<< "$(echo $algs)"
nalgs=${#alglist[@]}
for ((i = 0; i < dev_num; i++)); do
	dev_alg[i]=${alglist[(nalgs - 1 - i % nalgs)]}
	ok "$M3/control/zram$i/comp_algorithm" "${dev_alg[i]}"
done
# zram_set_disksizes, zram_set_memlimit
for ((i = 0; i < dev_num; i++)); do
	ok "$M3/control/zram$i/disksize" "${sizes[i]}"
	ok "$M3/control/zram$i/mem_limit" "${limits[i]}"
done
for ((i = 0; i < dev_num; i++)); do
	d=$M3/control/zram$i
	[ "$(cat "$d/disksize")" = "${sizes[i]}" ] || fail "zram$i disksize"
	[ "$(stat -c %s "$M3/zram$i")" = "${sizes[i]}" ] || fail "zram$i st_size"
	[ "$(col "$d/mm_stat" 4)" = "${sizes[i]}" ] || fail "zram$i mem_limit"
	[ "$(selected "$d/comp_algorithm")" = "${dev_alg[i]}" ] ||
		fail "zram$i algorithm $(cat "$d/comp_algorithm"), expected ${dev_alg[i]}"
done
# zram_makefs
for ((i = 0; i < dev_num; i++)); do
	attach "LDEV$i" "$M3/zram$i"
	dev_var=LDEV$i
	mkfs_for "${fss[i]}" "${!dev_var}"
done
# zram_mount
for ((i = 0; i < dev_num; i++)); do
	dev_var=LDEV$i
	mkdir "$TMP/ltp01-zram$i"
	mount_fs "${!dev_var}" "$TMP/ltp01-zram$i"
done
# zram_fill_fs: ratio 100 * 1024 * b / compr_data_size (mm_stat column 2).
for ((i = 0; i < dev_num; i++)); do
	b=$(fill_fs "$TMP/ltp01-zram$i")
	[ "$b" -gt 0 ] || fail "cannot fill zram $i"
	compr=$(col "$M3/control/zram$i/mm_stat" 2)
	[ "$compr" -gt 0 ] || fail "zram$i compr_data_size is 0"
	v=$((100 * 1024 * b / compr))
	[ "$v" -ge 100 ] || fail "zram$i compression ratio: 0.$v:1"
	log "LTP zram01: zram$i (${fss[i]}, ${dev_alg[i]}) was filled with '$b' KB, compression ratio $(ratio $v):1"
done
# zram_cleanup
for ((i = 0; i < dev_num; i++)); do
	dev_var=LDEV$i
	umount "$TMP/ltp01-zram$i" || fail "umount zram$i"
	detach "${!dev_var}"
	reset_dev "$M3" $i
done
pass "LTP zram01.sh: ${fss[*]} on $dev_num devices, $nalgs algorithms"

# ---- 4. LTP zram02.sh ------------------------------------------------------
# "Test checks that we can create swap zram device." zram_sizes=
# "107374182400" (100GB), zram_mem_limits="1M": the slot table is lazy, so
# the disksize costs nothing until written.

M4=$TMP/ltp02
zram_load "$M4" 1
# zram_compress_alg
for alg in $(algorithms "$M4"); do
	ok "$M4/control/zram0/comp_algorithm" "$alg"
done
# zram_set_disksizes, zram_set_memlimit
ok "$M4/control/zram0/disksize" 107374182400
ok "$M4/control/zram0/mem_limit" 1M
[ "$(stat -c %s "$M4/zram0")" = 107374182400 ] || fail "st_size of 100G"
attach DEV4 "$M4/zram0"
[ "$(blockdev --getsize64 "$DEV4")" = 107374182400 ] ||
	fail "$DEV4 is not 100G"
# zram_makeswap
swap_on "$DEV4"
kb=$(awk -v d="$DEV4" '$1 == d { print $3 }' /proc/swaps)
[ "$kb" -ge $((100 * 1024 * 1024 - 4)) ] || fail "swap size $kb KiB, not 100G"
[ "$(col "$M4/control/zram0/mm_stat" 3)" -le 1048576 ] ||
	fail "mem_used_total over the 1M limit: $(cat "$M4/control/zram0/mm_stat")"
# zram_swapoff
swap_off "$DEV4"
detach "$DEV4"
reset_dev "$M4" 0
pass "LTP zram02.sh: 100G swap with a 1M limit on, off"

# ---- 5. LTP zram03.c -------------------------------------------------------
# "This case check whether data read from zram device is consistent with
# those are written." With the control interface present, the device
# comes from hot_add and goes with hot_remove. SIZE = 512 MiB, written
# through a shared mapping of the device: 'a' everywhere, '\0' last.

M5=$TMP/ltp03
zram_load "$M5" 1
dev_num=$(cat "$M5/control/hot_add") || fail "read hot_add"
[ "$dev_num" = 1 ] || fail "hot_add gave $dev_num, expected 1"
at_exit "echo $dev_num > '$M5/control/hot_remove'"
B5=$M5/control/zram$dev_num
[ -d "$B5" ] && [ -f "$M5/zram$dev_num" ] || fail "hot_add made no zram$dev_num"
SIZE=$((512 * 1024 * 1024))
# set_disksize
ok "$B5/disksize" $SIZE
attach DEV5 "$M5/zram$dev_num"
if command -v python3 >/dev/null && python3 -c 'import mmap' 2>/dev/null; then
	# write_device and verify_device, as zram03.c does them.
	how="through mmap"
	python3 - "$DEV5" $SIZE <<'EOF' || fail "zram03 write/verify through mmap"
import mmap, os, sys
path, size = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR)
s = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
step = 1 << 20
for off in range(0, size, step):
    n = min(step, size - 1 - off)
    s[off:off + n] = b'a' * n
s[size - 1] = 0
s.flush()
s.close()
os.fsync(fd)
os.close(fd)
# Drop the cached copy so that verification reads what zramfs stored.
fd = os.open(path, os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
s = mmap.mmap(fd, size, mmap.MAP_PRIVATE, mmap.PROT_READ)
nul = s.find(b'\0', 0, size - 1)
fails = 0
for off in range(0, size - 1, step):
    chunk = s[off:min(off + step, size - 1)]
    fails += len(chunk) - chunk.count(b'a')
if nul != -1:
    sys.exit("expect size: %d, actual size: %d." % (size - 1, nul))
if s[size - 1] != 0:
    sys.exit("zram device seems not null terminated")
if fails:
    sys.exit("%d failed bytes found" % fails)
s.close()
os.close(fd)
EOF
else
	# No python3: the same bytes written and compared with dd.
	how="with dd: no python3 for mmap"
	pattern() { head -c $((SIZE - 1)) /dev/zero | tr '\0' a; printf '\0'; }
	pattern | dd of="$DEV5" bs=1M iflag=fullblock oflag=direct status=none ||
		fail "zram03 write"
	cmp <(pattern) <(dd if="$DEV5" bs=1M iflag=direct status=none) ||
		fail "data read from zram device differs from what was written"
fi
# dump_info: initstate, disksize, mm_stat (orig, compr, mem, same pages).
[ "$(cat "$B5/initstate")" = 1 ] || fail "initstate after write"
[ "$(cat "$B5/disksize")" = $SIZE ] || fail "disksize after write"
read -r orig compr used _ _ same _ < "$B5/mm_stat" ||
	fail "cannot read mm_stat"
log "LTP zram03: orig_data_size $orig compr_data_size $compr mem_used_total $used same_pages $same"
[ "$orig" = $SIZE ] || fail "orig_data_size $orig, expected $SIZE"
[ "$same" = $((SIZE / 4096 - 1)) ] || fail "same_pages $same, expected $((SIZE / 4096 - 1))"
[ "$compr" -gt 0 ] && [ "$compr" -lt 4096 ] || fail "compr_data_size $compr for one page"
# reset (after close), dump_info
detach "$DEV5"
reset_dev "$M5" "$dev_num"
# cleanup: hot_remove
ok "$M5/control/hot_remove" "$dev_num"
[ ! -e "$B5" ] && [ ! -e "$M5/zram$dev_num" ] || fail "hot_remove left zram$dev_num"
pass "LTP zram03.c: 512 MiB written and verified ($how)"

exit 0
