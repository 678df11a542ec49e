#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The daemon's swap-safety settings, as the running process shows them:
#
#   - every thread (the main one and every libfuse worker, after I/O has
#     made them start) carries PF_MEMALLOC_NOIO (0x00080000) and
#     PF_LOCAL_THROTTLE (0x00100000), i.e. PR_SET_IO_FLUSHER was set before
#     the workers were created (the flags field of /proc/PID/task/TID/stat,
#     ublksrv's check);
#   - VmLck is non-zero (mlockall);
#   - oom_score_adj is -1000 by default;
#   - -o nomlock leaves VmLck at 0;
#   - -o oom_score_adj=500 sets 500 (raising needs no privilege).
#
# PR_SET_IO_FLUSHER and lowering oom_score_adj need CAP_SYS_RESOURCE. On a
# machine that does not grant it (CapEff bit 24), those two checks are
# skipped with a message, and the test checks instead that the daemon said
# so on stderr and kept serving.

. "$(dirname "$0")/lib.sh"
require_fuse

PF_MEMALLOC_NOIO=0x00080000
PF_LOCAL_THROTTLE=0x00100000

cap_eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
HAVE_SYS_RESOURCE=$(( (0x$cap_eff >> 24) & 1 ))

make_test_dirs TMP

# thread_flags PID TID: the flags field (9th) of the thread's stat. The
# comm in parentheses may hold spaces and parentheses: cut after the last
# ") ", then flags is the 7th field (state ppid pgrp session tty_nr tpgid
# flags).
thread_flags() {
	local line rest f
	line=$(cat "/proc/$1/task/$2/stat" 2>/dev/null) || return 1
	rest=${line##*) }
	read -r -a f <<< "$rest"
	[[ "${f[6]:-}" =~ ^[0-9]+$ ]] || return 1
	echo "${f[6]}"
}

status_kib() { # PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# io MOUNTPOINT: parallel direct writes and reads, so that libfuse starts
# its workers (it creates them lazily, when all are busy).
io() {
	local mnt=$1 i pids=()
	for ((i = 0; i < 8; i++)); do
		dd if=/dev/urandom of="$mnt/zram0" bs=1M count=4 seek=$((i * 4)) \
			conv=notrunc oflag=direct status=none &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "parallel write to $mnt/zram0 failed"
	done
	for ((i = 0; i < 8; i++)); do
		dd if="$mnt/zram0" of=/dev/null bs=1M count=4 skip=$((i * 4)) \
			iflag=direct status=none &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "parallel read of $mnt/zram0 failed"
	done
}

# check_threads PID: every thread carries both flags.
check_threads() {
	local pid=$1 t tid flags n=0 bad=()
	for t in /proc/"$pid"/task/*; do
		tid=${t##*/}
		flags=$(thread_flags "$pid" "$tid") ||
			fail "cannot read the flags of thread $tid of $pid"
		((n++))
		if ! ((flags & PF_MEMALLOC_NOIO)) ||
		   ! ((flags & PF_LOCAL_THROTTLE)); then
			bad+=("$tid($(printf '%#x' "$flags"))")
		fi
	done
	[ $n -ge 2 ] || fail "daemon $pid has $n thread(s) after parallel I/O: no workers?"
	[ ${#bad[@]} = 0 ] ||
		fail "threads without PF_MEMALLOC_NOIO|PF_LOCAL_THROTTLE (PR_SET_IO_FLUSHER): ${bad[*]} of $n"
	log "all $n threads of $pid carry PF_MEMALLOC_NOIO and PF_LOCAL_THROTTLE"
}

# ---- default mount -----------------------------------------------------------

mount_zramfs "$MNT" -o size=64M
PID=$(daemon_pid "$MNT") || fail "no zramfs process serves $MNT"
io "$MNT"
log "daemon $PID: $(ls "/proc/$PID/task" | wc -l) threads after parallel I/O"

if [ "$HAVE_SYS_RESOURCE" = 1 ]; then
	check_threads "$PID"
	# Workers started later, by more I/O, inherit it too.
	io "$MNT"
	check_threads "$PID"
else
	log "SKIP thread flags check: no CAP_SYS_RESOURCE here (CapEff $cap_eff)," \
		"so PR_SET_IO_FLUSHER cannot succeed on this machine"
fi

lck=$(status_kib "$PID" VmLck)
[ -n "$lck" ] || fail "no VmLck in /proc/$PID/status"
[ "$lck" -gt 0 ] || fail "VmLck is 0 kB: the daemon did not mlockall"
log "VmLck $lck kB"

adj=$(cat "/proc/$PID/oom_score_adj")
if [ "$HAVE_SYS_RESOURCE" = 1 ]; then
	[ "$adj" = -1000 ] || fail "oom_score_adj is $adj, expected -1000"
	log "oom_score_adj -1000"
else
	log "SKIP oom_score_adj -1000 check: no CAP_SYS_RESOURCE to lower it" \
		"(it is $adj, as inherited: $(cat /proc/self/oom_score_adj))"
	[ "$adj" = "$(cat /proc/self/oom_score_adj)" ] ||
		fail "oom_score_adj is $adj: neither -1000 nor the inherited value"
fi

# ---- without the capability: the daemon says so and keeps serving ----------

if [ "$HAVE_SYS_RESOURCE" = 0 ]; then
	FG=$TMP/fg
	mkdir "$FG" || fail "mkdir $FG"
	at_exit "fusermount3 -u '$FG' || umount -l '$FG'"
	"$ZRAMFS" -f -o size=64M "$FG" 2> "$TMP/fg.err" &
	FGPID=$!
	at_exit "kill $FGPID"
	wait_mounted "$FG" || fail "zramfs -f did not come up: $(cat "$TMP/fg.err")"
	io "$FG"
	grep -q 'PR_SET_IO_FLUSHER: Operation not permitted' "$TMP/fg.err" ||
		fail "no PR_SET_IO_FLUSHER warning on stderr without CAP_SYS_RESOURCE: $(cat "$TMP/fg.err")"
	grep -q 'oom_score_adj -1000: Permission denied' "$TMP/fg.err" ||
		fail "no oom_score_adj warning on stderr without CAP_SYS_RESOURCE: $(cat "$TMP/fg.err")"
	kill -0 "$FGPID" 2>/dev/null || fail "zramfs -f exited after its warnings"
	log "without CAP_SYS_RESOURCE the daemon warns and serves:"
	sed 's/^/    /' "$TMP/fg.err"
fi

# ---- -o nomlock -------------------------------------------------------------

NOLOCK=$TMP/nomlock
mkdir "$NOLOCK" || fail "mkdir $NOLOCK"
mount_zramfs "$NOLOCK" -o size=64M,nomlock
PID2=$(daemon_pid "$NOLOCK") || fail "no zramfs process serves $NOLOCK"
io "$NOLOCK"
lck=$(status_kib "$PID2" VmLck)
[ "$lck" = 0 ] || fail "-o nomlock: VmLck is $lck kB, expected 0"
log "-o nomlock: VmLck 0 kB"

# ---- -o oom_score_adj=500 ---------------------------------------------------

ADJ=$TMP/adj
mkdir "$ADJ" || fail "mkdir $ADJ"
if [ "$(cat /proc/self/oom_score_adj)" -gt 500 ] && [ "$HAVE_SYS_RESOURCE" = 0 ]; then
	log "SKIP -o oom_score_adj=500: ours is already above 500 and lowering" \
		"needs CAP_SYS_RESOURCE"
else
	mount_zramfs "$ADJ" -o size=64M,oom_score_adj=500
	PID3=$(daemon_pid "$ADJ") || fail "no zramfs process serves $ADJ"
	adj=$(cat "/proc/$PID3/oom_score_adj")
	[ "$adj" = 500 ] || fail "-o oom_score_adj=500: oom_score_adj is $adj"
	[ "$(status_kib "$PID3" VmLck)" -gt 0 ] ||
		fail "-o oom_score_adj=500: VmLck is 0 kB"
	log "-o oom_score_adj=500: oom_score_adj 500"
fi

if [ "$HAVE_SYS_RESOURCE" = 1 ]; then
	pass "IO_FLUSHER flags on every thread, memory locked, oom_score_adj -1000; nomlock and oom_score_adj= honoured"
else
	pass "memory locked; nomlock and oom_score_adj=500 honoured; warnings without CAP_SYS_RESOURCE (flags and -1000 checks skipped)"
fi
