#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Command line and lifecycle of the daemon: --help and --version, one-line
# errors for bad options and bad mountpoints (with nothing left mounted),
# the tree a default mount and a devices=3,size=64M,algorithm=zstd mount
# present, the modes of the data file and of the control files (as sysfs
# shows zram's), and the ways a mount ends: fusermount3 -u, SIGTERM and
# SIGINT to the daemon, and -f keeping the daemon in the foreground.

. "$(dirname "$0")/lib.sh"
require_fuse

make_test_dirs TMP
# Whatever a step below leaves mounted by mistake is unmounted at exit.
at_exit "fusermount3 -u '$MNT' || umount -l '$MNT'"

# ---- helpers ---------------------------------------------------------------

is_mounted() {
	zramfs_mounted "$1"
}


# wait_gone MOUNTPOINT PID: the mount and the daemon are gone within 10 s.
wait_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		if ! is_mounted "$1" && ! alive "$2"; then
			return 0
		fi
		sleep 0.1
	done
	thread_states "$2"
	is_mounted "$1" && fail "$1 still mounted"
	fail "daemon $2 still running after its mount went away"
}

# thread_states PID: what each thread of PID is doing, for a failure report.
thread_states() {
	local task
	alive "$1" || { log "daemon $1 has exited"; return; }
	for task in /proc/"$1"/task/*; do
		log "thread ${task##*/} ($(cat "$task/comm" 2>/dev/null)):" \
		    "state $(awk '{ print $3 }' "$task/stat" 2>/dev/null)," \
		    "in $(cat "$task/wchan" 2>/dev/null)"
	done
}

# daemon_pids MOUNTPOINT: every zramfs process whose command line names
# MOUNTPOINT (lib.sh's daemon_pid stops at the first).
daemon_pids() {
	local pid
	for pid in $(pgrep -x zramfs); do
		if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null |
		   grep -q " ${1%/}/\?\( \|$\)"; then
			echo "$pid"
		fi
	done
}

# mounted_pid MOUNTPOINT: the daemon's PID, failing the test without one.
mounted_pid() {
	local pid
	pid=$(daemon_pid "$1") || fail "no zramfs process serves $1"
	echo "$pid"
}

# mode_is PATH MODE: PATH is a regular file with octal permissions MODE.
mode_is() {
	local got
	[ -f "$1" ] && [ ! -L "$1" ] || fail "$1 is not a regular file"
	got=$(stat -c %a "$1") || fail "stat $1"
	[ "$got" = "$2" ] || fail "$1 has mode $got, expected $2"
}

# listing DIR: the names in DIR, sorted, on one line.
listing() {
	# shellcheck disable=SC2012
	ls -A "$1" | sort | tr '\n' ' '
}

# bad_invocation KEYWORD ARGS...: zramfs ARGS must fail with exactly one
# line on stderr that contains KEYWORD, and leave nothing mounted at $MNT.
bad_invocation() {
	local keyword=$1 err rc lines
	shift
	err=$TMP/stderr
	timeout 20 "$ZRAMFS" "$@" > "$TMP/stdout" 2> "$err"
	rc=$?
	if is_mounted "$MNT" && [ "${FIRST_PID:-}" = "" ]; then
		fail "'zramfs $*' mounted $MNT (exit status $rc)"
	fi
	[ "$rc" -ne 0 ] || fail "'zramfs $*' exited with status 0"
	[ "$rc" -ne 124 ] || fail "'zramfs $*' did not return within 20 s"
	[ "$(daemon_pids "$MNT")" = "${FIRST_PID:-}" ] ||
		fail "'zramfs $*' left zramfs processes $(daemon_pids "$MNT" | tr '\n' ' ')for $MNT"
	lines=$(wc -l < "$err")
	[ "$lines" -eq 1 ] ||
		fail "'zramfs $*' printed $lines lines on stderr: $(cat "$err")"
	grep -qF -- "$keyword" "$err" ||
		fail "'zramfs $*' said '$(cat "$err")', which does not name '$keyword'"
	log "ok: zramfs $* -> $(cat "$err")"
}

# ---- --help, --version -----------------------------------------------------

out=$(timeout 10 "$ZRAMFS" --help 2>&1) || fail "--help exited with $?"
for word in usage MOUNTPOINT devices= size= algorithm= threads= -f; do
	case $out in
	*"$word"*) ;;
	*) fail "--help does not mention '$word': $out" ;;
	esac
done
[ "$(timeout 10 "$ZRAMFS" -h 2>&1)" = "$out" ] || fail "-h differs from --help"

out=$(timeout 10 "$ZRAMFS" --version 2>&1) || fail "--version exited with $?"
[[ $out =~ ^zramfs\ [0-9]+\.[0-9]+ ]] ||
	fail "--version prints '$out', expected 'zramfs X.Y...'"
[ "$(timeout 10 "$ZRAMFS" -V 2>&1)" = "$out" ] || fail "-V differs from --version"
log "ok: --help, --version ($out)"

# ---- bad options and mountpoints -------------------------------------------

bad_invocation devices -o devices=abc "$MNT"
bad_invocation devices -o devices=-1 "$MNT"
bad_invocation size -o size=12Q "$MNT"
bad_invocation size -o size=0 "$MNT"
bad_invocation algorithm -o algorithm=bogus "$MNT"
bad_invocation threads -o threads=0 "$MNT"
bad_invocation max_background -o max_background=0 "$MNT"
bad_invocation max_background -o max_background=65536 "$MNT"
bad_invocation no_such_option -o no_such_option "$MNT"
bad_invocation no_such_option -o size=1M,no_such_option=1 "$MNT"
# zramfs's own FUSE options, and remount (mount -o remount runs us again).
bad_invocation subtype=foo -o subtype=foo "$MNT"
bad_invocation max_read=4096 -o max_read=4096 "$MNT"
bad_invocation remount -o remount,size=2M "$MNT"
bad_invocation "$TMP/missing" "$TMP/missing"
: > "$TMP/regular"
bad_invocation "$TMP/regular" "$TMP/regular"
is_mounted "$MNT" && fail "$MNT mounted after the bad invocations"

# A second zramfs on a mountpoint already served by a first one.
mount_zramfs "$MNT" -o size=1M
FIRST_PID=$(mounted_pid "$MNT")
bad_invocation "$MNT" "$MNT"
bad_invocation "$MNT" -o devices=2 "$MNT/"
[ "$(grep -c " $MNT " /proc/mounts)" -eq 1 ] ||
	fail "$MNT is mounted $(grep -c " $MNT " /proc/mounts) times"
[ "$(daemon_pids "$MNT")" = "$FIRST_PID" ] ||
	fail "daemons for $MNT: $(daemon_pids "$MNT" | tr '\n' ' '), expected only $FIRST_PID"
[ "$(cat "$MNT/control/zram0/disksize")" = 1048576 ] ||
	fail "the first mount stopped working after a second zramfs tried it"
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
wait_gone "$MNT" "$FIRST_PID"
FIRST_PID=
pass "bad options and mountpoints"

# fsname= names the mount (the first field of /proc/mounts); subtype=zramfs
# is zramfs's own and harmless.
mount_zramfs "$MNT" -o 'fsname=my\,swap,subtype=zramfs'
grep -qsF "my,swap $MNT fuse.zramfs " /proc/mounts ||
	fail "fsname= not shown: $(grep -F " $MNT " /proc/mounts)"
pid=$(mounted_pid "$MNT")
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
wait_gone "$MNT" "$pid"
pass "fsname= names the mount"

# ---- defaults ---------------------------------------------------------------

mount_zramfs "$MNT"
[ "$(listing "$MNT")" = "control zram0 " ] ||
	fail "default mount holds '$(listing "$MNT")'"
[ "$(listing "$MNT/control")" = "hot_add hot_remove zram0 " ] ||
	fail "control/ holds '$(listing "$MNT/control")'"
[ -d "$MNT/control/zram0" ] || fail "control/zram0 is not a directory"
[ "$(stat -c %s "$MNT/zram0")" = 0 ] ||
	fail "uninitialised zram0 has st_size $(stat -c %s "$MNT/zram0")"
[ "$(cat "$MNT/control/zram0/initstate")" = 0 ] ||
	fail "initstate is $(cat "$MNT/control/zram0/initstate"), expected 0"
[ "$(cat "$MNT/control/zram0/disksize")" = 0 ] ||
	fail "disksize is $(cat "$MNT/control/zram0/disksize"), expected 0"
[ "$(cat "$MNT/control/zram0/comp_algorithm")" = "[lz4] lz4hc zstd " ] ||
	fail "default comp_algorithm is '$(cat "$MNT/control/zram0/comp_algorithm")'"
n=$(timeout 10 head -c 4096 "$MNT/zram0" | wc -c)
[ "$n" = 0 ] || fail "reading uninitialised zram0 returned $n bytes"
[ ! -e "$MNT/zram1" ] || fail "zram1 exists on a default mount"

# Modes, as sysfs shows zram's attributes.
mode_is "$MNT/zram0" 600
mode_is "$MNT/control/hot_add" 400
mode_is "$MNT/control/hot_remove" 200
mode_is "$MNT/control/zram0/mm_stat" 444
mode_is "$MNT/control/zram0/initstate" 444
mode_is "$MNT/control/zram0/reset" 200
mode_is "$MNT/control/zram0/disksize" 644
mode_is "$MNT/control/zram0/comp_algorithm" 644
[ "$(stat -c %F "$MNT/control")" = directory ] || fail "control is not a directory"
pass "default mount: zram0 uninitialised, control/ as expected, modes"

# fusermount3 -u unmounts and the daemon exits.
pid=$(mounted_pid "$MNT")
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
wait_gone "$MNT" "$pid"
pass "fusermount3 -u: unmounted, daemon $pid exited"

# ---- devices=3,size=64M,algorithm=zstd ---------------------------------------

mount_zramfs "$MNT" -o devices=3,size=64M,algorithm=zstd
[ "$(listing "$MNT")" = "control zram0 zram1 zram2 " ] ||
	fail "devices=3 mount holds '$(listing "$MNT")'"
[ "$(listing "$MNT/control")" = "hot_add hot_remove zram0 zram1 zram2 " ] ||
	fail "devices=3 control/ holds '$(listing "$MNT/control")'"
for i in 0 1 2; do
	f=$MNT/zram$i c=$MNT/control/zram$i
	[ "$(stat -c %s "$f")" = 67108864 ] ||
		fail "$f has st_size $(stat -c %s "$f"), expected 67108864"
	[ "$(cat "$c/disksize")" = 67108864 ] ||
		fail "$c/disksize is $(cat "$c/disksize")"
	[ "$(cat "$c/initstate")" = 1 ] || fail "$c/initstate is $(cat "$c/initstate")"
	# Exactly zram's format: every name followed by a space, then \n.
	got=$(cat "$c/comp_algorithm" && printf x)
	[ "$got" = $'lz4 lz4hc [zstd] \nx' ] ||
		fail "$c/comp_algorithm reads $(printf %q "${got%x}")"
	mode_is "$f" 600
done
[ ! -e "$MNT/zram3" ] && [ ! -e "$MNT/control/zram3" ] ||
	fail "zram3 exists with devices=3"
pass "devices=3,size=64M,algorithm=zstd"

# ---- signals -----------------------------------------------------------------

pid=$(mounted_pid "$MNT")
kill -TERM "$pid" || fail "kill -TERM $pid"
wait_gone "$MNT" "$pid"
pass "SIGTERM: unmounted, daemon $pid exited"

mount_zramfs "$MNT" -o size=1M
pid=$(mounted_pid "$MNT")
if ignores_signal "$pid" 2; then
	# Inherited: this test runs with SIGINT ignored. It must stay so.
	kill -INT "$pid" || fail "kill -INT $pid"
	sleep 0.5
	alive "$pid" && is_mounted "$MNT" ||
		fail "SIGINT, ignored when the daemon started, stopped it"
	kill -TERM "$pid" || fail "kill -TERM $pid"
	wait_gone "$MNT" "$pid"
	pass "SIGINT: ignored here from the start (a background job), and so by the daemon"
else
	kill -INT "$pid" || fail "kill -INT $pid"
	wait_gone "$MNT" "$pid"
	pass "SIGINT: unmounted, daemon $pid exited"
fi

# A relative mountpoint: the daemon serves from /, so it must unmount by
# the absolute path.
(cd "$TMP" && "$ZRAMFS" -o size=1M "${MNT##*/}") ||
	fail "zramfs ${MNT##*/} (relative) failed"
wait_mounted "$MNT" || fail "relative mountpoint ${MNT##*/} did not come up"
pid=$(mounted_pid "${MNT##*/}")
kill -TERM "$pid" || fail "kill -TERM $pid"
wait_gone "$MNT" "$pid"
pass "relative mountpoint: SIGTERM unmounted it, daemon $pid exited"

# ---- max_background reaches the kernel ---------------------------------------

# The connection's attributes are in the fusectl filesystem, named by the
# mount's device number (its minor: FUSE mounts have major 0).
FUSECTL=/sys/fs/fuse/connections
if ! grep -qs " $FUSECTL fusectl " /proc/mounts; then
	mount -t fusectl fusectl "$FUSECTL" ||
		fail "cannot mount fusectl at $FUSECTL"
	at_exit "umount '$FUSECTL'"
fi
connection_attr() {
	local minor
	minor=$(mountpoint -d "$1") || fail "mountpoint -d $1"
	cat "$FUSECTL/${minor#*:}/$2"
}
for bg in default 20; do
	if [ "$bg" = default ]; then
		mount_zramfs "$MNT" -o size=1M
		want=64
	else
		mount_zramfs "$MNT" -o size=1M,max_background=$bg
		want=$bg
	fi
	got=$(connection_attr "$MNT" max_background)
	[ "$got" = "$want" ] ||
		fail "max_background ($bg) is $got in the kernel, expected $want"
	got=$(connection_attr "$MNT" congestion_threshold)
	[ "$got" = $((want * 3 / 4)) ] ||
		fail "congestion_threshold ($bg) is $got, expected $((want * 3 / 4))"
	pid=$(mounted_pid "$MNT")
	fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
	wait_gone "$MNT" "$pid"
done
pass "max_background: 64 by default, the option's value otherwise"

# ---- -f: foreground ----------------------------------------------------------

# fg_start: zramfs -f in the background of this shell; sets FG_PID.
fg_start() {
	"$ZRAMFS" -f -o size=1M "$MNT" 2> "$TMP/fg.err" &
	FG_PID=$!
	# If a step below fails, the daemon is stopped (if it is still ours).
	at_exit "[ -d /proc/$FG_PID ] && grep -q zramfs /proc/$FG_PID/cmdline && kill $FG_PID"
	wait_mounted "$MNT" || fail "zramfs -f did not mount $MNT"
	[ "$(daemon_pid "$MNT")" = "$FG_PID" ] ||
		fail "$MNT is served by '$(daemon_pid "$MNT")', not by the zramfs -f we started ($FG_PID)"
}

# fg_stopped WHAT: the zramfs -f started last ends within 10 s of WHAT,
# with status 0 (a clean stop), and its mount is gone.
fg_stopped() {
	wait_clean_exit "$FG_PID" "$1"
	wait_gone "$MNT" "$FG_PID"
}

fg_start
sleep 1
alive "$FG_PID" || fail "zramfs -f is no longer running while mounted"
[ "$(awk '{ print $4 }' "/proc/$FG_PID/stat")" = $$ ] ||
	fail "zramfs -f forked away from this shell"
[ "$(cat "$MNT/control/zram0/disksize")" = 1048576 ] || fail "-f mount does not serve"
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
wait_exit "$FG_PID" ||
	fail "zramfs -f still running 10 s after fusermount3 -u"
wait "$FG_PID"
rc=$?
[ "$rc" = 0 ] || fail "zramfs -f exited with status $rc after fusermount3 -u: $(cat "$TMP/fg.err")"
is_mounted "$MNT" && fail "$MNT still mounted"
pass "-f: stays in the foreground, exits 0 when unmounted"

# SIGTERM is how service managers stop a foreground daemon: a clean stop,
# but not while a data file is open (a loop device, swap): the stored
# pages would be lost. The stop then waits, with a warning, for the last
# data file to be closed, as umount -l waits for the last user.
WARNING='stopping once no data file is open (1 open'
fg_start
exec 9<> "$MNT/zram0" || fail "open $MNT/zram0"
warned=0
for sig in TERM HUP INT; do
	# A signal inherited ignored stays ignored (see the SIGINT test).
	ignores_signal "$FG_PID" "$(kill -l "$sig")" && continue
	kill -"$sig" "$FG_PID"
	sleep 0.5
	alive "$FG_PID" && is_mounted "$MNT" ||
		fail "SIG$sig with a data file open stopped the daemon: $(cat "$TMP/fg.err")"
	warned=1
done
[ "$warned" = 0 ] || grep -q "$WARNING" "$TMP/fg.err" ||
	fail "no warning for the stop put off: $(cat "$TMP/fg.err")"
printf 'still here' >&9 || fail "writing while the stop is put off"
# Read back through the descriptor held: a new open is refused now, so
# that the number of open files can only fall; control files still work.
[ "$(python3 -c 'import os; print(os.pread(9, 10, 0).decode())')" = \
  "still here" ] || fail "data lost while the stop is put off"
if [ "$warned" = 1 ]; then
	expect_error "No such device" head -c 1 "$MNT/zram0"
	[ "$(cat "$MNT/control/zram0/initstate")" = 1 ] ||
		fail "control files stopped working while the stop is put off"
fi
exec 9>&-
fg_stopped "its last data file was closed"
pass "-f: a stop signal waits while a data file is open, then exits 0"

fg_start
kill -TERM "$FG_PID"
fg_stopped SIGTERM
pass "-f: SIGTERM unmounts and exits 0"

exit 0
