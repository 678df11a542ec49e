#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Swap safety under memory pressure (issue 7): zramfs as the swap device of
# a program squeezed by a memory cgroup, then with the daemon itself in the
# same squeezed cgroup.
#
# Set-up: mount -o size=768M, loop --direct-io=on (dio must be 1), mkswap,
# swapon --discard at the highest priority. A memory cgroup of our own
# (v1 memory.limit_in_bytes, or v2 memory.max) limited to 256 MiB.
#
#   (a) tests/swapper.c (compiled here) fills 448 MiB of realistic,
#       checksummed pages inside the cgroup, re-reads and rewrites random
#       pages and checks every page: zero corrupt pages, pswpout grew, our
#       device really held swapped pages, no OOM kill.
#   (b) the same with the zramfs daemon (all its threads) moved into the
#       squeezed cgroup too: it must finish within 240 s. A hang fails the
#       test; the FUSE connection is then aborted so that the machine
#       recovers. The daemon can only survive this with PR_SET_IO_FLUSHER
#       (its reclaim must not write to its own swap device), which needs
#       CAP_SYS_RESOURCE: without that capability (b) deadlocks by design,
#       so it is skipped with a message (SWAP_PRESSURE_FORCE=1 runs it
#       anyway, to watch the deadlock and the recovery).
#   (c) after each run, with discard on, mm_stat's orig_data_size falls
#       back to what swap still uses on the device (/proc/swaps: other
#       programs on the machine may swap to it too) plus a little, within
#       15 s.
#
# Another swap device at the same priority shares the load round-robin;
# the test only requires that ours takes a real part of it.

. "$(dirname "$0")/lib.sh"
require_fuse
require_loop

LIMIT_MIB=256
SWAPPER_MIB=448
DISK=768M
RUN_TIMEOUT=${SWAP_PRESSURE_TIMEOUT:-240}
SWAP_PRIO=32767
# orig_data_size may exceed the slots swap still uses by this much (KiB),
# plus an eighth of them, once the program is gone: clusters freed by
# others' swap-ins and not yet discarded.
LEFTOVER_KIB=$((16 * 1024))
RELEASE_SECONDS=15
# Our device must have held at least this much at the peak (KiB).
MIN_PEAK_KIB=$((32 * 1024))

for c in cc mkswap swapon swapoff timeout mountpoint; do
	command -v $c > /dev/null || skip "no $c"
done

# ---- memory cgroup ---------------------------------------------------------

CG_KIND='' CG_ROOT='' CG=''
if [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] &&
   [ -w /sys/fs/cgroup/memory/cgroup.procs ]; then
	CG_KIND=v1 CG_ROOT=/sys/fs/cgroup/memory
elif [ -e /sys/fs/cgroup/cgroup.controllers ] &&
     grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
	CG_KIND=v2 CG_ROOT=/sys/fs/cgroup
	grep -qw memory "$CG_ROOT/cgroup.subtree_control" ||
		skip "the v2 memory controller is not enabled for children of $CG_ROOT"
else
	skip "no memory cgroup controller (v1 or v2) to limit a program with"
fi

# The memory cgroup path of process PID, relative to CG_ROOT.
cg_of() {
	if [ "$CG_KIND" = v1 ]; then
		awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$1/cgroup"
	else
		awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup"
	fi
}

cg_oom_kills() {
	if [ "$CG_KIND" = v1 ]; then
		awk '/^oom_kill / { print $2 }' "$CG/memory.oom_control"
	else
		awk '/^oom_kill / { print $2 }' "$CG/memory.events"
	fi
}

# ---- set-up ----------------------------------------------------------------

make_test_dirs TMP
cc -O2 -Wall -o "$TMP/swapper" "$(dirname "$0")/swapper.c" ||
	fail "cannot build swapper.c"
mount_zramfs "$MNT" -o size=$DISK
PID=$(daemon_pid "$MNT") || fail "no zramfs process serves $MNT"
STAT=$MNT/control/zram0/mm_stat
DAEMON_CG=$(cg_of "$PID")
[ -n "$DAEMON_CG" ] || fail "cannot tell the memory cgroup of pid $PID"

# Aborts the FUSE connection of our mount (a hung daemon). Nothing here
# may stat the mount: that would wait for the daemon too. The connection
# is named by the mount's device number (mountinfo, field 3); without
# fusectl, a forced unmount aborts it (fuse_umount_begin).
fuse_abort() {
	local dev conn
	dev=$(awk -v m="$MNT" '$5 == m { print $3 }' /proc/self/mountinfo)
	[ -n "$dev" ] || return 0
	conn=$(( (${dev%:*} << 20) | ${dev#*:} ))
	log "aborting the FUSE connection of $MNT ($dev)"
	if [ -w "/sys/fs/fuse/connections/$conn/abort" ]; then
		echo 1 > "/sys/fs/fuse/connections/$conn/abort"
	else
		umount -f -c -i "$MNT" 2>/dev/null
	fi
	sleep 1
}

attach_loop LOOP "$MNT/zram0" --direct-io=on
LOOPNAME=${LOOP#/dev/}
[ "$(cat "/sys/block/$LOOPNAME/loop/dio")" = 1 ] ||
	fail "$LOOP fell back to buffered I/O (loop/dio is not 1)"
enable_swap "$LOOP" --discard -p $SWAP_PRIO
# Other programs' pages may sit on our device at exit, and swapping them
# back in can fail for a moment (their own cgroup limits): retry before
# lib.sh's single swapoff.
swapoff_retry() {
	local i
	for ((i = 0; i < 10; i++)); do
		grep -q "^$LOOP " /proc/swaps || return 0
		swapoff "$LOOP" && return 0
		sleep 1
	done
}
at_exit swapoff_retry
grep -q "^$LOOP " /proc/swaps || fail "$LOOP is not in /proc/swaps"
others=$(awk -v me="$LOOP" 'NR > 1 && $1 != me { printf "%s(prio %s) ", $1, $5 }' /proc/swaps)
[ -n "$others" ] && log "other swap devices active: $others"

CG=$CG_ROOT/zramfs-test-pressure-$$
mkdir "$CG" || fail "cannot create cgroup $CG"
# Removes CG: the daemon goes back where it was, anything else in it (only
# ever our swapper) is killed.
cg_remove() {
	local p i
	[ -d "$CG" ] || return 0
	for ((i = 0; i < 100; i++)); do
		for p in $(cat "$CG/cgroup.procs"); do
			if [ "$p" = "$PID" ]; then
				echo "$p" > "$CG_ROOT$DAEMON_CG/cgroup.procs"
			else
				kill -KILL "$p"
			fi
		done
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
}
at_exit cg_remove
if [ "$CG_KIND" = v1 ]; then
	echo $((LIMIT_MIB << 20)) > "$CG/memory.limit_in_bytes" ||
		fail "cannot limit $CG"
	echo 60 > "$CG/memory.swappiness"
else
	echo $((LIMIT_MIB << 20)) > "$CG/memory.max" || fail "cannot limit $CG"
	echo max > "$CG/memory.swap.max" 2>/dev/null
fi

# ---- helpers ---------------------------------------------------------------

orig_kib() { echo $(($(mm_stat_field "$MNT" zram0 1) / 1024)); }
swap_used_kib() { awk -v me="$LOOP" '$1 == me { print $4 }' /proc/swaps; }
pswpout() { awk '$1 == "pswpout" { print $2 }' /proc/vmstat; }

SAMPLER=
# Largest orig_data_size / mem_used_total while the program runs.
start_sampler() {
	: > "$TMP/peak"
	(
		peak=0 mem=0
		while :; do
			read -r o c m _ < "$STAT" || exit 0
			((o > peak)) && peak=$o
			((m > mem)) && mem=$m
			echo "$((peak / 1024)) $((mem / 1024))" > "$TMP/peak.new"
			mv "$TMP/peak.new" "$TMP/peak"
			sleep 0.2
		done
	) &
	SAMPLER=$!
	disown "$SAMPLER"	# no "Killed" notice when it is stopped
}
# Never blocks: a sampler stuck in a request to a hung daemon is left to
# the abort.
stop_sampler() {
	local i
	[ -n "$SAMPLER" ] || return 0
	kill -KILL "$SAMPLER" 2>/dev/null
	for ((i = 0; i < 20; i++)); do
		kill -0 "$SAMPLER" 2>/dev/null || break
		sleep 0.1
	done
	SAMPLER=
}
at_exit stop_sampler

# run_swapper LABEL: the program in the cgroup, bounded; checks (a).
run_swapper() {
	local label=$1 out=$TMP/$1.out rc t0 t1 before after peak mem
	before=$(pswpout)
	start_sampler
	t0=$(date +%s.%N)
	timeout -k 10 "$RUN_TIMEOUT" sh -c \
		'echo $$ > "$1/cgroup.procs" && exec "$2" "$3"' sh \
		"$CG" "$TMP/swapper" $SWAPPER_MIB > "$out" 2> "$out.err"
	rc=$?
	t1=$(date +%s.%N)
	# timeout: 124, or 137 when it had to SIGKILL (itself included).
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		log "$label: still running after ${RUN_TIMEOUT}s; daemon threads:"
		ps -L -o tid,stat,wchan:32,comm -p "$PID"
		for t in /proc/"$PID"/task/*; do
			echo "  thread ${t##*/}:"
			sed 's/^/    /' "$t/stack" 2>/dev/null | head -24
		done
		fuse_abort
		stop_sampler
		fail "$label: swap workload hung (killed after ${RUN_TIMEOUT}s)"
	fi
	stop_sampler
	after=$(pswpout)
	read -r peak mem < "$TMP/peak"
	log "$label: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s wall," \
		"phases: $(awk '$1 ~ /^(fill|verify|random|final|total)$/ { printf "%s %ss ", $1, $2 }' "$out")"
	log "$label: VmSwap peak $(awk '/^swapped_kib/ { print $2 }' "$out") KiB," \
		"pswpout +$((after - before)) pages, our device peak" \
		"orig_data_size ${peak:-0} KiB, mem_used_total ${mem:-0} KiB"
	[ -s "$out.err" ] && sed 's/^/    /' "$out.err"
	[ "$(cg_oom_kills)" = 0 ] ||
		fail "$label: the OOM killer struck in the cgroup (rc $rc)"
	[ "$rc" = 0 ] && grep -q '^OK$' "$out" && grep -q '^corrupt 0$' "$out" ||
		fail "$label: swap workload failed (rc $rc, $(grep '^corrupt' "$out"))"
	[ "$after" -gt "$before" ] || fail "$label: pswpout did not grow"
	[ "$(awk '/^swapped_kib/ { print $2 }' "$out")" -ge $((64 * 1024)) ] ||
		fail "$label: the program hardly swapped"
	[ "${peak:-0}" -ge $MIN_PEAK_KIB ] ||
		fail "$label: our device held only ${peak:-0} KiB at most"
	kill -0 "$PID" 2>/dev/null || fail "$label: the daemon died"
}

# check_released LABEL: (c) discard gave the memory back.
check_released() {
	local label=$1 i orig used ok=0
	for ((i = 0; i <= RELEASE_SECONDS * 5; i++)); do
		orig=$(orig_kib) used=$(swap_used_kib)
		[ -n "$orig" ] && [ -n "$used" ] ||
			fail "$label: cannot read mm_stat or /proc/swaps"
		if ((orig <= used + used / 8 + LEFTOVER_KIB)); then
			ok=1
			break
		fi
		sleep 0.2
	done
	log "$label: after exit orig_data_size $orig KiB, swap still in use" \
		"$used KiB (after $((i / 5)).$((i % 5 * 2))s)"
	[ $ok = 1 ] ||
		fail "$label: orig_data_size stays at $orig KiB with $used KiB of swap in use: discard does not free pages"
}

# ---- (a) the program in the cgroup ----------------------------------------

log "cgroup $CG_KIND $CG limited to ${LIMIT_MIB} MiB; swapper ${SWAPPER_MIB} MiB; swap on $LOOP"
run_swapper a-program-squeezed
check_released a-program-squeezed

# ---- (b) the daemon in the same cgroup -------------------------------------

# CAP_SYS_RESOURCE (bit 24) of the daemon decides whether PR_SET_IO_FLUSHER
# could work.
cap_eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$PID/status")
if ((((0x$cap_eff >> 24) & 1) == 0)) && [ "${SWAP_PRESSURE_FORCE:-0}" != 1 ]; then
	log "SKIP (b) only: the daemon lacks CAP_SYS_RESOURCE (CapEff $cap_eff)," \
		"so PR_SET_IO_FLUSHER failed and its reclaim swaps to its own device:" \
		"with the daemon in the squeezed cgroup that deadlocks by design" \
		"(SWAP_PRESSURE_FORCE=1 runs it anyway)"
	pass "(a) and (c): no corrupt page with the program squeezed; discard freed the memory; (b) skipped"
	exit 0
fi

echo "$PID" > "$CG/cgroup.procs" || fail "cannot move the daemon into $CG"
if [ "$CG_KIND" = v1 ]; then
	for t in /proc/"$PID"/task/*; do
		[ "$(cg_of "$PID/task/${t##*/}")" = "/${CG##*/}" ] ||
			echo "${t##*/}" > "$CG/tasks" ||
			fail "cannot move thread ${t##*/} into $CG"
	done
fi
for t in /proc/"$PID"/task/*; do
	[ "$(cg_of "$PID/task/${t##*/}")" = "/${CG##*/}" ] ||
		fail "daemon thread ${t##*/} is not in $CG"
done
log "daemon $PID ($(ls /proc/"$PID"/task | wc -l) threads) moved into $CG"
run_swapper b-daemon-squeezed-too
echo "$PID" > "$CG_ROOT$DAEMON_CG/cgroup.procs" ||
	fail "cannot move the daemon back to $DAEMON_CG"
check_released b-daemon-squeezed-too

pass "no corrupt page with the program squeezed, nor with the daemon squeezed too; discard freed the memory"
