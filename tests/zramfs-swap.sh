#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/zramfs-swap, the script behind quickstart.sh and the systemd
# unit: "up" mounts zramfs, attaches a loop device with direct I/O and
# turns swap on with the priority asked; a second "up" changes nothing;
# "status" shows it; "down" undoes all of it, and a second "down" is a
# no-op. The mountpoint is given relative to the working directory, as
# /proc/mounts never shows one.

. "$(dirname "$0")/lib.sh"
require_fuse
require_loop
command -v mkswap >/dev/null && command -v swapon >/dev/null ||
	skip "no mkswap/swapon"

SWAPCTL=${top_srcdir:-$(dirname "$0")/..}/contrib/zramfs-swap
make_test_dirs TMP
MNT=$(realpath "$MNT")
REL=${MNT##*/}
# A failing step leaves nothing behind: only devices on our data file.
at_exit "fusermount3 -u '$MNT' || umount -l '$MNT'"
at_exit "for d in \$(losetup -j '$MNT/zram0' -O NAME -n); do swapoff \$d; losetup -d \$d; done"

# swapctl ARGS...: zramfs-swap run from $TMP with our daemon.
swapctl() {
	(cd "$TMP" && ZRAMFS=$ZRAMFS bash "$SWAPCTL" "$@")
}

out=$(swapctl up -s 64M -p 77 -m "$REL" 2>&1) || fail "up: $out"
dev=$(losetup -j "$MNT/zram0" -O NAME -n)
[ -n "$dev" ] || fail "up attached no loop device to $MNT/zram0"
[ "$(awk -v d="$dev" '$1 == d { print $5 }' /proc/swaps)" = 77 ] ||
	fail "$dev is not swap with priority 77: $(cat /proc/swaps)"
[ "$(cat "/sys/block/${dev#/dev/}/loop/dio")" = 1 ] ||
	fail "$dev does not use direct I/O"
[ "$(cat "$MNT/control/zram0/disksize")" = 67108864 ] ||
	fail "disksize is $(cat "$MNT/control/zram0/disksize"), not 64 MiB"
case $out in
*"swap on $dev"*"backed by $MNT/zram0"*) ;;
*) fail "up said: $out" ;;
esac
pass "up: mounted, $dev with direct I/O, swap with priority 77"

out=$(swapctl up -m "$REL" 2>&1) || fail "second up: $out"
case $out in
*"already up at $MNT"*) ;;
*) fail "second up said: $out" ;;
esac
[ "$(losetup -j "$MNT/zram0" -O NAME -n)" = "$dev" ] ||
	fail "second up changed the loop devices"
out=$(swapctl status -m "$REL/" 2>&1) || fail "status: $out"
case $out in
*"mountpoint: $MNT"*"loop:       $dev (dio 1)"*"swap:       $dev"*) ;;
*) fail "status said: $out" ;;
esac
pass "second up changes nothing; status shows the mount, loop and swap"

swapctl down -m "$REL" || fail "down failed"
grep -qs " $MNT fuse.zramfs " /proc/mounts && fail "$MNT still mounted after down"
awk -v d="$dev" '$1 == d { exit 1 }' /proc/swaps || fail "$dev still swap after down"
losetup "$dev" 2>/dev/null | grep -q "$MNT/zram0" &&
	fail "$dev still attached to $MNT/zram0 after down"
swapctl down -m "$REL" || fail "second down failed"
out=$(swapctl status -m "$REL" 2>&1) || fail "status after down: $out"
case $out in
*"not mounted at $MNT"*) ;;
*) fail "status after down said: $out" ;;
esac
pass "down: swap off, loop detached, unmounted; a second down is a no-op"
