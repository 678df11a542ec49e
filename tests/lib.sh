# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the integration tests; sourced, never run.
#
# Every resource a test creates is registered for cleanup and released by
# the EXIT trap in reverse order: swapoff, losetup -d, unmount, rm. Tests
# never touch mounts, loop or swap devices they did not create.

set -u

: "${ZRAMFS:=$(cd "$(dirname "$0")/.." && pwd)/src/zramfs}"
SKIP=77
CLEANUP=()

log() { printf '%s: %s\n' "${0##*/}" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit $SKIP; }
pass() { log "PASS: $*"; }

# Registers a shell command to run at exit (last registered runs first).
at_exit() { CLEANUP+=("$*"); }

run_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[i]}" >/dev/null 2>&1
	done
	exit $rc
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

# Skips unless this machine can mount FUSE as root.
require_fuse() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v fusermount3 >/dev/null || skip "no fusermount3"
	[ -x "$ZRAMFS" ] || fail "zramfs binary not found at $ZRAMFS"
}

# Skips unless loop devices can be set up.
require_loop() {
	command -v losetup >/dev/null || skip "no losetup"
	losetup -f >/dev/null 2>&1 || skip "no free loop device"
}

# make_tmpdir VAR: a fresh directory removed at exit.
make_tmpdir() {
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/zramfs-test.XXXXXX") ||
		fail "mktemp"
	at_exit "rm -rf '$dir'"
	printf -v "$1" '%s' "$dir"
}

# make_test_dirs VAR: make_tmpdir VAR, and an empty mountpoint in it, MNT.
make_test_dirs() {
	make_tmpdir "$1"
	MNT=${!1}/mnt
	mkdir "$MNT" || fail "mkdir $MNT"
}

# zramfs_mounted PATH: a zramfs mount is at PATH. /proc/mounts escapes
# white space and backslashes in a path as octal.
zramfs_mounted() {
	local m=${1//\\/\\134}
	m=${m// /\\040}
	m=${m//$'\t'/\\011}
	# Through the environment: awk -v would undo the escapes.
	M=${m//$'\n'/\\012} awk '$2 == ENVIRON["M"] && $3 == "fuse.zramfs" {
		f = 1 } END { exit !f }' /proc/mounts
}

# is_swap DEV: DEV is in use as swap.
is_swap() {
	awk -v d="$1" '$1 == d { f = 1 } END { exit !f }' /proc/swaps
}

# Waits until MOUNTPOINT is a zramfs mount (up to 10 s).
wait_mounted() {
	local i
	for ((i = 0; i < 100; i++)); do
		if zramfs_mounted "$1" && [ -d "$1/control" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# wait_clean_exit PID WHAT: PID, a child of this shell, exits within 10 s of
# WHAT, with status 0.
wait_clean_exit() {
	local rc
	wait_exit "$1" || fail "zramfs $1 still running 10 s after $2"
	wait "$1"
	rc=$?
	[ "$rc" = 0 ] || fail "zramfs $1 exited with status $rc after $2"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# wait_exit PID [SECONDS]: the process ends within SECONDS (default 10).
wait_exit() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# mount_zramfs MOUNTPOINT [zramfs args...]: mounts and registers unmount.
mount_zramfs() {
	local mnt=$1
	shift
	at_exit "fusermount3 -u '$mnt' || umount -l '$mnt'"
	"$ZRAMFS" "$@" "$mnt" || fail "zramfs $* $mnt failed"
	wait_mounted "$mnt" || fail "$mnt did not come up"
}

# ignores_signal PID SIGNUM: PID ignores the signal. A daemon keeps a
# signal ignored that it inherited ignored (as libfuse's handlers do): a
# test run in the background of a non-interactive shell ignores SIGINT,
# and one under nohup SIGHUP.
ignores_signal() {
	local mask
	mask=$(awk '/^SigIgn:/ { print $2 }' "/proc/$1/status") || return 1
	(( (16#$mask >> ($2 - 1)) & 1 ))
}

# The PID of the zramfs daemon serving MOUNTPOINT.
daemon_pid() {
	local pid
	for pid in $(pgrep -x zramfs); do
		if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q " $1\( \|$\)"; then
			echo "$pid"
			return 0
		fi
	done
	return 1
}

# kill_daemon MOUNTPOINT: SIGKILLs the daemon serving MOUNTPOINT and waits
# (up to 5 s) until the mount answers nothing (ENOTCONN): a dead mount,
# left for the test to unmount.
kill_daemon() {
	local pid i
	pid=$(daemon_pid "$1") || fail "no zramfs daemon serves $1"
	kill -KILL "$pid" || fail "kill $pid"
	for ((i = 0; i < 50; i++)); do
		[ -d "$1/control" ] || return 0
		sleep 0.1
	done
	fail "$1 still answers after its daemon was killed"
}

# attach_loop VAR FILE [losetup args...]: loop device detached at exit.
attach_loop() {
	local var=$1 file=$2 dev
	shift 2
	dev=$(losetup --find --show "$@" "$file") || fail "losetup $file"
	at_exit "losetup -d '$dev'"
	printf -v "$var" '%s' "$dev"
}

# enable_swap DEV [swapon args...]: swap turned off at exit.
enable_swap() {
	local dev=$1
	shift
	mkswap "$dev" >/dev/null || fail "mkswap $dev"
	at_exit "swapoff '$dev'"
	swapon "$@" "$dev" || fail "swapon $dev"
}

# mm_stat_field MOUNTPOINT DEV COLUMN (1-based): one mm_stat column.
mm_stat_field() {
	awk -v c="$3" '{ print $c }' "$1/control/$2/mm_stat"
}

# expect_errno EXPECTED-TEXT COMMAND...: the command must fail and print
# the strerror text (e.g. "Device or resource busy").
expect_error() {
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "'$*' succeeded, expected '$want'"
	fi
	case $out in
	*"$want"*) ;;
	*) fail "'$*' said '$out', expected '$want'" ;;
	esac
}

# write_attr FILE VALUE: echo VALUE > FILE, reporting the error text.
# bash, not sh: dash's echo reports every failed write as "I/O error".
write_attr() {
	bash -c 'echo "$2" > "$1"' bash "$1" "$2"
}

# Realistic test data: binaries, libraries and text from this system,
# concatenated to SIZE_MIB MiB (repeated if the system has too little).
make_realistic_data() {
	local out=$1 mib=$2
	find /usr/lib /usr/bin /usr/share/doc /usr/share/man -type f \
		-size +16k 2>/dev/null | sort | head -4000 |
		xargs cat 2>/dev/null | head -c $((mib << 20)) > "$out"
	while [ "$(stat -c %s "$out")" -lt $((mib << 20)) ]; do
		cat "$out" "$out" | head -c $((mib << 20)) > "$out.tmp"
		mv "$out.tmp" "$out"
	done
}
