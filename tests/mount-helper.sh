#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# zramfs through mount(8) and mount.fuse3, as the installed binary is used:
#   mount -t fuse.zramfs zramfs MNT -o size=64M,algorithm=zstd
#   an fstab line, through mount -T FSTAB MNT
# and a bad option through mount(8): an error, nothing mounted.
#
# mount(8) runs its helpers without PATH, so mount.fuse3's /bin/sh finds
# "zramfs" only on its built-in default path (/usr/local/sbin first). The
# test therefore runs in a private mount namespace in which a directory
# holding zramfs is bind-mounted over /usr/local/sbin: nothing outside the
# namespace sees it, and the mounts made inside die with it.

. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --in-namespace ]; then
	require_fuse
	command -v mount.fuse3 >/dev/null ||
		[ -x /sbin/mount.fuse3 ] || [ -x /usr/sbin/mount.fuse3 ] ||
		skip "no mount.fuse3"
	command -v unshare >/dev/null || fail "unshare (util-linux) missing"
	ZRAMFS=$(cd "$(dirname "$ZRAMFS")" && pwd)/${ZRAMFS##*/}
	export ZRAMFS
	trap - EXIT
	exec unshare --mount --propagation private -- \
		"$BASH" "$0" --in-namespace
fi

DEFAULT_PATH_DIR=/usr/local/sbin
[ -d "$DEFAULT_PATH_DIR" ] || fail "$DEFAULT_PATH_DIR missing"

make_tmpdir TMP
MNT=$TMP/mnt
mkdir "$MNT" "$TMP/sbin" || fail "mkdir"
# A copy, not a symlink: $ZRAMFS itself may live under the directory that
# is about to be covered.
cp "$ZRAMFS" "$TMP/sbin/zramfs" || fail "cp $ZRAMFS"
mount --bind "$TMP/sbin" "$DEFAULT_PATH_DIR" ||
	fail "bind mount over $DEFAULT_PATH_DIR"
at_exit "umount -l '$DEFAULT_PATH_DIR'"
at_exit "fusermount3 -u '$MNT' || umount -l '$MNT'"
found=$(env -i /bin/sh -c 'command -v zramfs')
[ "$found" = "$DEFAULT_PATH_DIR/zramfs" ] ||
	fail "/bin/sh without PATH finds '$found', not our zramfs"

is_mounted() { zramfs_mounted "$1"; }
attr() { cat "$MNT/control/$1/$2"; }

# check_daemon BINARY: the daemon serving MNT runs BINARY.
check_daemon() {
	local pid
	pid=$(daemon_pid "$MNT") || fail "no zramfs process serves $MNT"
	[ "/proc/$pid/exe" -ef "$1" ] ||
		fail "$MNT is served by $(readlink "/proc/$pid/exe"), not $1"
}

# Data written through the mount reads back.
check_data() {
	head -c 1M /dev/urandom > "$TMP/data"
	dd if="$TMP/data" of="$MNT/zram0" bs=64k conv=notrunc status=none ||
		fail "write $MNT/zram0"
	cmp -n 1048576 "$TMP/data" "$MNT/zram0" || fail "read back differs"
}

# umount(8) ends the daemon too.
check_umount() {
	local pid
	pid=$(daemon_pid "$MNT")
	umount "$MNT" || fail "umount $MNT"
	is_mounted "$MNT" && fail "$MNT still mounted after umount"
	wait_exit "$pid" || fail "daemon $pid still running after umount"
}

# ---- mount -t fuse.zramfs ----------------------------------------------

mount -t fuse.zramfs zramfs "$MNT" -o size=64M,algorithm=zstd ||
	fail "mount -t fuse.zramfs failed"
wait_mounted "$MNT" || fail "$MNT did not come up"
[ "$(attr zram0 disksize)" = 67108864 ] ||
	fail "disksize $(attr zram0 disksize)"
[[ $(attr zram0 comp_algorithm) == *"[zstd]"* ]] ||
	fail "algorithm: $(attr zram0 comp_algorithm)"
[ "$(stat -c %s "$MNT/zram0")" = 67108864 ] || fail "zram0 st_size"
check_daemon "$TMP/sbin/zramfs"
check_data
check_umount
pass "mount -t fuse.zramfs zramfs MNT -o size=64M,algorithm=zstd"

# ---- an fstab line -------------------------------------------------------

# Options for mount(8) and systemd only (defaults, nofail, x-*) are not
# passed to the daemon.
opts=defaults,nofail,x-systemd.requires=foo.service
opts+=,devices=2,size=32M,algorithm=lz4hc,noatime
printf 'zramfs %s fuse.zramfs %s 0 0\n' "$MNT" "$opts" > "$TMP/fstab"
mount -T "$TMP/fstab" "$MNT" || fail "mount -T fstab failed"
wait_mounted "$MNT" || fail "$MNT did not come up"
[ -e "$MNT/zram1" ] || fail "devices=2 not applied"
for dev in zram0 zram1; do
	[ "$(attr $dev disksize)" = 33554432 ] || fail "$dev disksize"
	[[ $(attr $dev comp_algorithm) == *"[lz4hc]"* ]] ||
		fail "$dev algorithm: $(attr $dev comp_algorithm)"
done
grep -qs " $MNT fuse.zramfs [^ ]*noatime" /proc/mounts ||
	fail "noatime not applied: $(grep " $MNT " /proc/mounts)"
check_daemon "$TMP/sbin/zramfs"
check_data
check_umount
pass "fstab line through mount -T"

# ---- a bad option --------------------------------------------------------

if err=$(mount -t fuse.zramfs zramfs "$MNT" -o size=64M,algorithm=lzo 2>&1)
then
	fail "mount with algorithm=lzo succeeded"
fi
case $err in
*"algorithm"*) ;;
*) fail "mount with algorithm=lzo said '$err'" ;;
esac
is_mounted "$MNT" && fail "$MNT mounted after a failed mount"
pass "a bad option fails through mount(8), nothing mounted"
