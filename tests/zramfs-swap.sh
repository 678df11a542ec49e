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
zramfs_mounted "$MNT" && fail "$MNT still mounted after down"
is_swap "$dev" && fail "$dev still swap after down"
losetup "$dev" 2>/dev/null | grep -q "$MNT/zram0" &&
	fail "$dev still attached to $MNT/zram0 after down"
swapctl down -m "$REL" || fail "second down failed"
out=$(swapctl status -m "$REL" 2>&1) || fail "status after down: $out"
case $out in
*"not mounted at $MNT"*) ;;
*) fail "status after down said: $out" ;;
esac
pass "down: swap off, loop detached, unmounted; a second down is a no-op"

# ---- bad arguments: an error before anything is done -------------------------

expect_error "unexpected argument" swapctl up "$REL" -s 64M
expect_error "unexpected argument" swapctl up -s -m "$REL"
expect_error "bad priority" swapctl up -p 40000 -m "$REL"
touch "$TMP/file"
expect_error "cannot make directory" swapctl up -s 64M -m file
zramfs_mounted "$MNT" && fail "a refused up mounted $MNT"
[ -z "$(losetup -j "$MNT/zram0" -O NAME -n)" ] || fail "a refused up attached a loop device"
pass "stray arguments, a bad priority, a file as mountpoint: refused, nothing done"

# ---- a loop device on zram0 that is not swap is not wiped --------------------

mount_zramfs "$MNT" -o size=64M
# Detached at exit by the loop over $MNT/zram0's devices above.
other=$(losetup --find --show "$MNT/zram0") || fail "losetup $MNT/zram0"
expect_error "is not swap" swapctl up -m "$REL"
[ "$(losetup -j "$MNT/zram0" -O NAME -n)" = "$other" ] ||
	fail "up changed the loop devices of $MNT/zram0"
is_swap "$other" && fail "up made $other swap"
losetup -d "$other"
pass "up refuses a loop device on zram0 that is not swap"

# ---- down waits out a swapoff already running; a failed one keeps it all ----
# A stub swapoff plays a slow swapoff of the device started beside ours,
# as systemd's at shutdown: its first call starts the real one 0.6 s
# later, in the background, and until that has finished every call fails
# with EINVAL, as the kernel's second swapoff does. Or it fails as a
# swapoff short of memory does.

REAL_SWAPOFF=$(command -v swapoff)
mkdir "$TMP/stub"
cat > "$TMP/stub/swapoff" <<STUB
#!/bin/bash
case \$STUB_SWAPOFF in
busy)	echo >> "$TMP/stub/calls"
	if [ ! -e "$TMP/stub/pid" ]; then
		(sleep 0.6; "$REAL_SWAPOFF" "\$@") >/dev/null 2>&1 &
		echo \$! > "$TMP/stub/pid"
	fi
	if kill -0 "\$(cat "$TMP/stub/pid")" 2>/dev/null; then
		echo "swapoff: \$1: swapoff failed: Invalid argument" >&2
		exit 255
	fi ;;
nomem)	echo "swapoff: \$1: swapoff failed: Cannot allocate memory" >&2
	exit 255 ;;
esac
exec "$REAL_SWAPOFF" "\$@"
STUB
chmod +x "$TMP/stub/swapoff"
stubbed() { (export PATH=$TMP/stub:$PATH STUB_SWAPOFF=$1; shift; swapctl "$@"); }

swapctl up -m "$REL" >/dev/null || fail "up on the existing mount failed"
dev=$(losetup -j "$MNT/zram0" -O NAME -n)
out=$(stubbed nomem down -m "$REL" 2>&1) && fail "down succeeded with swapoff failing"
case $out in
*"Cannot allocate memory"*"stay as they were"*) ;;
*) fail "failed down said: $out" ;;
esac
is_swap "$dev" || fail "a failed down took $dev off swap"
[ "$(losetup -j "$MNT/zram0" -O NAME -n)" = "$dev" ] || fail "a failed down detached $dev"
[ -d "$MNT/control/zram0" ] || fail "a failed down unmounted $MNT"
pass "a failed swapoff: down fails and leaves swap, loop and mount"

out=$(stubbed busy down -m "$REL" 2>&1) || fail "down beside another swapoff: $out"
case $out in
*"waiting for another swapoff of $dev"*) ;;
*) fail "down beside another swapoff said: $out" ;;
esac
calls=$(wc -l < "$TMP/stub/calls")
[ "$calls" -ge 2 ] || fail "down called swapoff $calls times, expected retries"
# The stub's own swapoff must be over before $dev can be swap again.
wait_exit "$(cat "$TMP/stub/pid")" || fail "the stub's swapoff did not end"
zramfs_mounted "$MNT" && fail "$MNT still mounted"
[ -z "$(losetup -j "$MNT/zram0" -O NAME -n)" ] || fail "loop device left"
pass "down waits for a swapoff already running, then finishes"

# A stop signal put off while swap is on (an admin's kill, a shutdown's
# SIGTERM to every process): down still takes it all down and succeeds,
# though the daemon unmounts by itself as soon as the loop device is gone.
swapctl up -s 64M -m "$REL" >/dev/null || fail "up failed"
pid=$(daemon_pid "$MNT") || fail "no daemon for $MNT"
kill -TERM "$pid"
sleep 0.5
alive "$pid" || fail "SIGTERM with swap on the mount stopped the daemon"
out=$(swapctl down -m "$REL" 2>&1) || fail "down after a SIGTERM: $out"
wait_exit "$pid" || fail "the daemon did not exit after down"
zramfs_mounted "$MNT" && fail "$MNT still mounted"
pass "down after a put-off SIGTERM"

# ---- a mountpoint with a space; a daemon that died ----------------------------

SP="$TMP/sp ace"
at_exit "fusermount3 -u '$SP' 2>/dev/null || umount -l '$SP' 2>/dev/null"
at_exit "for d in \$(losetup -j '$SP/zram0' -O NAME -n); do swapoff \$d; losetup -d \$d; done"
swapctl up -s 64M -m "$SP" >/dev/null || fail "up at '$SP'"
out=$(swapctl up -m "$SP" 2>&1) || fail "second up at '$SP': $out"
case $out in *"already up"*) ;; *) fail "second up at '$SP' said: $out" ;; esac
out=$(swapctl status -m "$SP" 2>&1) || fail "status at '$SP': $out"
case $out in *"swap:"*) ;; *) fail "status at '$SP' said: $out" ;; esac
pass "a mountpoint with a space in it"

# Swap off first: pages swapped to a daemon about to die would be lost.
swapoff "$(losetup -j "$SP/zram0" -O NAME -n)" || fail "swapoff at '$SP'"
kill_daemon "$SP"
expect_error "daemon of $SP is gone" swapctl status -m "$SP"
expect_error "daemon of $SP is gone" swapctl up -m "$SP"
swapctl down -m "$SP" || fail "down of a dead mount failed"
zramfs_mounted "$SP" && fail "the dead mount is still there"
[ -z "$(losetup -j "$SP/zram0" -O NAME -n 2>/dev/null)" ] || fail "loop device left on the dead mount"
pass "a dead daemon: status and up fail and say so, down cleans up"
