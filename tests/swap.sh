#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Swap through a loop device on a zramfs file: mount -o size=256M,
# losetup --direct-io=on (and loop must really use direct I/O), mkswap,
# swapon --discard. A program limited to 64 MiB in a memory cgroup of its
# own fills 160 MiB with checksummed, moderately compressible pages,
# rewrites some and verifies every page twice. While its pages are out:
# pswpout grew, the device is in use in /proc/swaps, the program's VmSwap
# is non-zero and mm_stat shows stored data. When it exits, discard gives
# the memory back. Then swapoff, losetup -d and unmount, all cleanly.
#
# The daemon stays outside the cgroup. Only the loop and swap devices this
# test creates are touched: the cleanup checks a device still belongs to
# this test's file before turning it off or detaching it.

. "$(dirname "$0")/lib.sh"
require_fuse
require_loop
command -v python3 >/dev/null || skip "no python3"
command -v mkswap >/dev/null && command -v swapon >/dev/null || skip "no mkswap/swapon"

M=$((1024 * 1024))
LIMIT_MIB=64
FILL_MIB=160

make_test_dirs TMP
MNT=$(realpath "$MNT")
FILE=$MNT/zram0
LOOP=

# ---- the memory cgroup -------------------------------------------------------

CG_NAME=zramfs-test-$$
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	CG=/sys/fs/cgroup/memory/$CG_NAME
	CG_LIMIT=memory.limit_in_bytes
elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	CG=/sys/fs/cgroup/$CG_NAME
	CG_LIMIT=memory.max
else
	skip "no memory cgroup controller (v1 or v2) to limit the program"
fi

# cg_remove: lifts the limit (a program stuck in reclaim can then die, and
# swapoff can bring its pages back), kills what is left in our cgroup
# (only the test program is ever put there), waits for it to empty and
# removes it.
cg_remove() {
	local i pid pids
	[ -d "$CG" ] || return 0
	if [ "$CG_LIMIT" = memory.max ]; then
		echo max > "$CG/$CG_LIMIT"
	else
		echo -1 > "$CG/$CG_LIMIT"
	fi
	# (cgroup files have st_size 0: read them, test -s says nothing.)
	for ((i = 0; i < 300; i++)); do
		pids=$(cat "$CG/cgroup.procs")
		[ -n "$pids" ] || break
		for pid in $pids; do
			kill -KILL "$pid"
		done
		sleep 0.1
	done
	for ((i = 0; i < 50; i++)); do
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	log "cannot remove $CG: $(tr '\n' ' ' < "$CG/cgroup.procs")left in it"
	return 1
}

# stuck WHAT: fails, saying where the program hangs. Swap writes go
# round-robin to every swap device of the same priority, so a hung swap
# device of someone else's can block the program.
stuck() {
	local pid
	for pid in $(cat "$CG/cgroup.procs" 2>/dev/null); do
		log "program $pid: state $(awk '{ print $3 }' "/proc/$pid/stat")," \
			"waiting in $(cat "/proc/$pid/wchan" 2>/dev/null)"
	done
	log "swap devices: $(tail -n +2 /proc/swaps | awk '{ printf "%s (prio %s, %s KiB used) ", $1, $5, $4 }')"
	fail "$1: $(cat "$TMP/fill.out")"
}

# ---- loop and swap, owned by this test --------------------------------------

# ours: $LOOP is still the loop device of this test's file.
ours() {
	[ -n "$LOOP" ] &&
	[ "$(cat "/sys/block/${LOOP#/dev/}/loop/backing_file" 2>/dev/null)" = "$FILE" ]
}

swap_active() {
	awk -v d="$LOOP" '$1 == d { found = 1 } END { exit !found }' /proc/swaps
}

# swap_used: KiB of our swap device in use.
swap_used() {
	awk -v d="$LOOP" '$1 == d { print $4 }' /proc/swaps
}

# cleanup_swap: swapoff fails (ENOMEM) while a page it must bring back
# cannot be charged; retry for a while.
cleanup_swap() {
	local i
	for ((i = 0; i < 30; i++)); do
		ours && swap_active || return 0
		timeout 60 swapoff "$LOOP" && return 0
		sleep 1
	done
	return 1
}

cleanup_loop() {
	ours && losetup -d "$LOOP"
}

pswpout() {
	awk '$1 == "pswpout" { print $2 }' /proc/vmstat
}

orig_data_size() {
	mm_stat_field "$MNT" zram0 1
}

# ---- set up -------------------------------------------------------------------

mount_zramfs "$MNT" -o size=256M
DAEMON=$(daemon_pid "$MNT") || fail "no daemon for $MNT"

at_exit cleanup_loop
LOOP=$(losetup --find --show --direct-io=on "$FILE") || fail "losetup $FILE"
ours || fail "$LOOP does not show $FILE as its backing file"
dio=$(cat "/sys/block/${LOOP#/dev/}/loop/dio")
[ "$dio" = 1 ] || fail "$LOOP fell back to buffered I/O (loop/dio = $dio)"

mkswap "$LOOP" > /dev/null || fail "mkswap $LOOP"
at_exit cleanup_swap
# The highest priority, so that our device takes the program's pages
# before any other swap device this machine may have.
swapon --discard --priority 32767 "$LOOP" || fail "swapon --discard $LOOP"
swap_active || fail "$LOOP is not in /proc/swaps after swapon"
log "swap on $LOOP (dio=1, --discard) backed by $FILE"
others=$(awk -v d="$LOOP" 'NR > 1 && $1 != d && $5 >= 32767 { printf "%s ", $1 }' /proc/swaps)
[ -z "$others" ] ||
	log "note: swap devices not ours with the same priority share the pages: $others"

at_exit cg_remove
mkdir "$CG" || fail "mkdir $CG"
echo $((LIMIT_MIB * M)) > "$CG/$CG_LIMIT" || fail "setting $CG/$CG_LIMIT"
[ "$CG_LIMIT" = memory.limit_in_bytes ] &&
	{ echo 60 > "$CG/memory.swappiness"; } 2>/dev/null

# ---- the program -----------------------------------------------------------------

cat > "$TMP/fill.py" <<'EOF'
# Fills SIZE MiB with 4 KiB pages: a pseudo-random part, repeated text
# and a sha256 of both (compresses about 2-3x). Waits for GO to exist,
# then verifies every page, rewrites every 7th and verifies all again
# in a shuffled order.
import hashlib, mmap, os, random, sys, time
size_mib, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PAGE = 4096
n = size_mib * 1024 * 1024 // PAGE

def make_page(i, version):
    rnd = random.Random(i * 3 + version).randbytes(1184)
    text = (b"zramfs swap page %08d v%d: the quick brown fox jumps over "
            b"the lazy dog. " % (i, version))
    body = (rnd[:592] + text * 40)[:PAGE - 32 - 592] + rnd[592:]
    body = body[:PAGE - 32]
    return body + hashlib.sha256(b"%d:" % i + body).digest()

def verify(order, versions, what):
    bad = 0
    for i in order:
        page = mem[i * PAGE:(i + 1) * PAGE]
        body, digest = page[:PAGE - 32], page[PAGE - 32:]
        if (hashlib.sha256(b"%d:" % i + body).digest() != digest or
                page != make_page(i, versions[i])):
            bad += 1
            if bad <= 5:
                print("page %d corrupt (%s)" % (i, what), flush=True)
    if bad:
        sys.exit("%d of %d pages corrupt (%s)" % (bad, n, what))

mem = mmap.mmap(-1, n * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
versions = [0] * n
for i in range(n):
    mem[i * PAGE:(i + 1) * PAGE] = make_page(i, 0)
with open(ready, "w") as f:
    f.write("%d\n" % n)
deadline = time.time() + 60
while not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("no go")
    time.sleep(0.05)
verify(range(n), versions, "first pass")
for i in range(0, n, 7):
    versions[i] = 1
    mem[i * PAGE:(i + 1) * PAGE] = make_page(i, 1)
order = list(range(n))
random.Random(1).shuffle(order)
verify(order, versions, "second pass")
print("verified %d pages twice" % n, flush=True)
EOF

pswpout0=$(pswpout)
t0=$(date +%s%N)
# The child joins the cgroup before it becomes python; this shell and the
# daemon stay outside.
timeout 100 sh -c 'echo $$ > "$1/cgroup.procs" && exec python3 "$2" "$3" "$4" "$5"' \
	sh "$CG" "$TMP/fill.py" $FILL_MIB "$TMP/ready" "$TMP/go" > "$TMP/fill.out" 2>&1 &
PROG=$!

for ((i = 0; i < 450; i++)); do
	[ -s "$TMP/ready" ] && break
	kill -0 "$PROG" 2>/dev/null || break
	sleep 0.1
done
if [ ! -s "$TMP/ready" ]; then
	kill -0 "$PROG" 2>/dev/null && stuck "the program did not fill its memory within 45 s"
	wait "$PROG"
	fail "the program failed to fill its memory (status $?): $(cat "$TMP/fill.out")"
fi
t1=$(date +%s%N)

# ---- while its pages are out --------------------------------------------------------

PY=$(cat "$CG/cgroup.procs")
[ -n "$PY" ] || fail "the program is not in $CG"
for pid in $PY; do
	[ "$(cat "/proc/$pid/comm")" = python3 ] || fail "$CG holds a '$(cat "/proc/$pid/comm")'"
done
grep -qx "$DAEMON" "$CG/cgroup.procs" && fail "the daemon is in $CG"
grep -q "$CG_NAME" "/proc/$DAEMON/cgroup" && fail "the daemon is in $CG_NAME"

vmswap=$(awk '$1 == "VmSwap:" { print $2 }' "/proc/$PY/status")
used=$(swap_used)
mm_peak=$(cat "$MNT/control/zram0/mm_stat")
orig_peak=$(awk '{ print $1 }' <<< "$mm_peak")
out=$(($(pswpout) - pswpout0))
log "after filling $FILL_MIB MiB under a $LIMIT_MIB MiB limit: program VmSwap" \
	"${vmswap} KiB, $LOOP used ${used} KiB, pswpout +$out pages, mm_stat:" \
	"$mm_peak"
[ "$out" -gt 0 ] || fail "pswpout did not grow"
[ "${vmswap:-0}" -gt $(((FILL_MIB - LIMIT_MIB) * 1024 / 2)) ] ||
	fail "the program has only ${vmswap:-0} KiB swapped out"
[ "${used:-0}" -gt 0 ] || fail "$LOOP holds no pages"
[ "$orig_peak" -gt 0 ] || fail "mm_stat orig_data_size is 0 while pages are swapped out"

: > "$TMP/go"
wait_exit "$PROG" 60 || stuck "the program did not verify its memory within 60 s"
wait "$PROG"
rc=$?
t2=$(date +%s%N)
[ "$rc" = 0 ] || fail "the program failed (status $rc): $(cat "$TMP/fill.out")"
grep -q "^verified $((FILL_MIB * 256)) pages twice$" "$TMP/fill.out" ||
	fail "the program did not verify every page: $(cat "$TMP/fill.out")"
log "info: fill $(((t1 - t0) / 1000000)) ms, verify+rewrite+verify" \
	"$(((t2 - t1) / 1000000)) ms, pswpout +$(($(pswpout) - pswpout0)) pages," \
	"compression while swapped $(awk '{ if ($2) printf "%.2f", $1 / $2 }' <<< "$mm_peak")x"
pass "$((FILL_MIB * 256)) pages verified twice through swap on $LOOP"

# ---- discard gives the memory back ----------------------------------------------------

# The program's exit freed its swap slots; with --discard the kernel
# discards them, loop punches holes, the daemon frees the pages. Other
# programs on this machine may be swapping onto our device too (same
# priority, or a lower one of theirs): their pages are in use and stay,
# so what the daemon may still hold is what swap uses plus a little.
for ((i = 0; i < 100; i++)); do
	used=$(swap_used) orig_after=$(orig_data_size)
	[ "$orig_after" -le $((used * 1024 + orig_peak / 4 + M)) ] && break
	sleep 0.1
done
log "orig_data_size: $orig_peak while swapped, $orig_after after exit" \
	"($LOOP uses ${used} KiB)"
[ "$orig_after" -le $((used * 1024 + orig_peak / 4 + M)) ] ||
	fail "swap discard did not free the pages: orig_data_size $orig_peak -> $orig_after while swap uses $used KiB"
pass "discard after exit freed the pages"

# ---- tear down --------------------------------------------------------------------------

cg_remove || fail "cannot remove $CG"
[ ! -d "$CG" ] || fail "$CG still exists"
timeout 60 swapoff "$LOOP" || fail "swapoff $LOOP"
swap_active && fail "$LOOP still in /proc/swaps after swapoff"
losetup -d "$LOOP" || fail "losetup -d $LOOP"
for ((i = 0; i < 50; i++)); do
	ours || break
	sleep 0.1
done
ours && fail "$LOOP still attached to $FILE"
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
grep -qs " $MNT " /proc/mounts && fail "$MNT still mounted"
for ((i = 0; i < 100; i++)); do
	[ -d "/proc/$DAEMON" ] && [ "$(awk '{ print $3 }' "/proc/$DAEMON/stat" 2>/dev/null)" != Z ] ||
		break
	sleep 0.1
done
[ -d "/proc/$DAEMON" ] && [ "$(awk '{ print $3 }' "/proc/$DAEMON/stat" 2>/dev/null)" != Z ] &&
	fail "daemon $DAEMON still running after unmount"
pass "swapoff, losetup -d, unmount: clean"
exit 0
