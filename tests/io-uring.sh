#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# -o io_uring: FUSE requests served through io_uring queues (Linux 6.14+).
#
#   1. The daemon sets the fuse module's enable_uring to Y for its mount and
#      puts it back as it was once INIT is answered (that the kernel did
#      offer the ring shows in 3: requests went through it).
#   2. Through a loop device (--direct-io=on): realistic data written and
#      read back, random 4 KiB overwrites from parallel writers checked
#      against a model, fio --verify if fio is installed; control files,
#      hot_add, mkswap + swapon.
#   3. Unmount: the daemon exits 0 and says how many requests each queue
#      served; every queue served some, and most requests went through
#      the ring. Its rings had max_background (64) entries in all.
#   4. One CPU's requests are served by all the rings of its queue: fio
#      pinned to CPU 0 writes 1 MiB blocks at iodepth 16, and each of
#      queue 0's rings serves some of them (if fio is installed); with
#      max_background=200, rings of up to 32 entries.
#   5. SIGTERM while the ring is busy with a write: put off while a data
#      file is open, the write completes intact; once it is closed, a
#      clean exit, status 0; with max_background=4, rings of the least 4
#      entries.
#   6. Fallback: with a file of ours bind-mounted over enable_uring, the
#      daemon reads N from it and writes its Y into it, not into the
#      module, so the kernel does not offer the ring: the daemon warns and
#      serves through /dev/fuse, data intact.
#
# Skipped (with a message) where the kernel has no FUSE over io_uring.

. "$(dirname "$0")/lib.sh"
require_fuse
require_loop

PARAM=/sys/module/fuse/parameters/enable_uring
[ -e "$PARAM" ] ||
	skip "this kernel has no FUSE over io_uring ($PARAM missing: Linux < 6.14 or CONFIG_FUSE_IO_URING off)"
[ -w "$PARAM" ] || skip "$PARAM is not writable"

make_test_dirs TMP
PARAM_BEFORE=$(cat "$PARAM")
CPUS=$(getconf _NPROCESSORS_ONLN)
at_exit "echo '$PARAM_BEFORE' > '$PARAM'"

DATA_MIB=64
make_realistic_data "$TMP/data" $DATA_MIB

# start_daemon LOG OPTS: zramfs -f in the background; sets DAEMON.
start_daemon() {
	"$ZRAMFS" -f -o "$2" "$MNT" 2> "$1" &
	DAEMON=$!
	at_exit "if alive $DAEMON; then kill $DAEMON; wait_exit $DAEMON 5 || kill -9 $DAEMON; fi; fusermount3 -u '$MNT' || umount -l '$MNT'"
	wait_mounted "$MNT" || fail "$MNT did not come up: $(cat "$1")"
}

# stop_daemon HOW: unmount (or signal) and wait; the daemon must exit 0.
stop_daemon() {
	if [ "$1" = unmount ]; then
		fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
	else
		kill -TERM "$DAEMON"
	fi
	wait_clean_exit "$DAEMON" "$1"
}

# served LOG: requests served through the ring, from the exit message.
served() {
	sed -n 's/.*io_uring: \([0-9]*\) requests served through the ring.*/\1/p' "$1"
}

# check_depth LOG MAX_BACKGROUND: the exit message's entries per ring are
# max_background spread over the online CPUs' rings (2 each), 4 to 32.
check_depth() {
	local rings=$((CPUS * 2)) want got
	want=$((($2 + rings - 1) / rings))
	[ "$want" -lt 4 ] && want=4
	[ "$want" -gt 32 ] && want=32
	got=$(sed -n 's/.*; \([0-9]*\) entries per ring).*/\1/p' "$1")
	[ "$got" = "$want" ] ||
		fail "max_background=$2 on $CPUS CPUs: '$got' entries per ring, not $want: $(cat "$1")"
	pass "max_background=$2 on $CPUS CPUs: $got entries per ring"
}

# random_overwrites DEV MODEL: 4 writers, 200 random 4 KiB pages each,
# from the data file, applied to DEV and to MODEL alike; writer w only
# touches pages p with p % 4 == w, so the writers never overlap.
random_overwrites() {
	local dev=$1 model=$2 pages=$((DATA_MIB * 256)) w pids=() pid
	for w in 0 1 2 3; do
		(
			RANDOM=$((w + 7))
			for ((i = 0; i < 200; i++)); do
				p=$(((RANDOM * 32768 + RANDOM) % (pages / 4) * 4 + w))
				s=$(((RANDOM * 32768 + RANDOM) % pages))
				dd if="$TMP/data" of="$dev" bs=4096 skip=$s seek=$p \
					count=1 oflag=direct conv=notrunc status=none || exit 1
				dd if="$TMP/data" of="$model" bs=4096 skip=$s seek=$p \
					count=1 conv=notrunc status=none || exit 1
			done
		) &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || fail "a random writer failed"
	done
}

# ---- 1. enable_uring on for the mount, back as it was after -------------------

echo N > "$PARAM" || fail "cannot write $PARAM"
start_daemon "$TMP/zramfs.log" size=256M,io_uring
for ((i = 0; i < 50; i++)); do
	[ "$(cat "$PARAM")" = N ] && break
	sleep 0.1
done
[ "$(cat "$PARAM")" = N ] ||
	fail "enable_uring is still $(cat "$PARAM") 5 s after the mount (was N)"
pass "enable_uring back to N once the mount was made"

# Thread names: two rings per online CPU's queue, "zramfs-qQ.R", and the
# /dev/fuse workers, "zramfs-worker".
names=$(cat /proc/"$DAEMON"/task/*/comm)
rings=$(grep -c '^zramfs-q[0-9]*\.[01]$' <<< "$names")
[ "$rings" -ge $((CPUS * 2)) ] ||
	fail "$rings ring threads for $CPUS CPUs: $(echo $names)"
grep -qx 'zramfs-q0\.1' <<< "$names" || fail "no thread zramfs-q0.1: $(echo $names)"
grep -qx 'zramfs-worker' <<< "$names" || fail "no thread zramfs-worker: $(echo $names)"
pass "threads named: $rings zramfs-qQ.R ring threads, zramfs-worker"

# ---- 2. data, control files, swap --------------------------------------------

attach_loop LOOP "$MNT/zram0" --direct-io=on
[ "$(cat "/sys/block/${LOOP#/dev/}/loop/dio")" = 1 ] ||
	fail "$LOOP fell back to buffered I/O"
dd if="$TMP/data" of="$LOOP" bs=1M oflag=direct status=none ||
	fail "writing $DATA_MIB MiB through the ring"
cmp -n $((DATA_MIB << 20)) "$TMP/data" "$LOOP" ||
	fail "data read back through the ring differs"
cp "$TMP/data" "$TMP/model"
random_overwrites "$LOOP" "$TMP/model"
cmp -n $((DATA_MIB << 20)) "$TMP/model" "$LOOP" ||
	fail "random 4 KiB overwrites from 4 writers: device differs from the model"
pass "$DATA_MIB MiB and 800 random overwrites from 4 writers read back intact"

if command -v fio >/dev/null; then
	fio --name=verify --filename="$LOOP" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=32 --size=128M --offset=64M \
		--verify=crc32c --verify_fatal=1 --verify_state_save=0 \
		--buffer_compress_percentage=60 \
		--refill_buffers --output="$TMP/fio.out" ||
		fail "fio --verify=crc32c through the ring: $(tail -5 "$TMP/fio.out")"
	pass "fio: 128 MiB of 4 KiB random writes at iodepth 32 verified"
else
	log "fio not installed: the fio verify pass is left out"
fi

orig=$(mm_stat_field "$MNT" zram0 1)
[ "$orig" -gt 0 ] || fail "mm_stat orig_data_size is $orig after writing"
write_attr "$MNT/control/zram0/compact" 1 || fail "compact through the ring"
id=$(cat "$MNT/control/hot_add") || fail "hot_add through the ring"
[ "$id" = 1 ] || fail "hot_add returned '$id', expected 1"
[ -e "$MNT/zram1" ] || fail "zram1 missing after hot_add"
losetup -d "$LOOP"
attach_loop LOOP "$MNT/zram0" --direct-io=on
enable_swap "$LOOP"
grep -q "^$LOOP " /proc/swaps || fail "swapon $LOOP through the ring"
swapoff "$LOOP" || fail "swapoff $LOOP"
losetup -d "$LOOP"
pass "control files, hot_add, mkswap + swapon through the ring"

# ---- 3. unmount: counts ----------------------------------------------------------

stop_daemon unmount
n=$(served "$TMP/zramfs.log")
[ -n "$n" ] || fail "no 'served through the ring' line: $(cat "$TMP/zramfs.log")"
[ "$n" -gt 10000 ] ||
	fail "only $n requests went through the ring: $(cat "$TMP/zramfs.log")"
queues=$(grep -o 'queue [0-9]*: [0-9]*' "$TMP/zramfs.log" | wc -l)
[ "$queues" -ge 1 ] || fail "no per-queue counts: $(cat "$TMP/zramfs.log")"
grep -q "io_uring:.*not offer\|registration refused" "$TMP/zramfs.log" &&
	fail "the ring was refused: $(cat "$TMP/zramfs.log")"
log "$(grep -o 'io_uring: .*' "$TMP/zramfs.log")"
pass "unmount: exit 0, $n requests served through the ring by $queues queues"
check_depth "$TMP/zramfs.log" 64

# ---- 4. one queue, several rings ---------------------------------------------------

if command -v fio >/dev/null; then
	start_daemon "$TMP/rings.log" size=256M,io_uring,max_background=200
	fio --name=pinned --filename="$MNT/zram0" --direct=1 --ioengine=libaio \
		--rw=write --bs=1M --iodepth=16 --size=128M --cpus_allowed=0 \
		--buffer_compress_percentage=60 --refill_buffers \
		--output="$TMP/fio-pinned.out" ||
		fail "fio pinned to CPU 0: $(tail -5 "$TMP/fio-pinned.out")"
	stop_daemon unmount
	# "queue 0: N = a+b": every ring of queue 0 served some.
	rings=$(sed -n 's/.*(queue 0: [0-9]* = \([0-9+]*\).*/\1/p' "$TMP/rings.log")
	[ -n "$rings" ] || fail "no per-ring counts: $(cat "$TMP/rings.log")"
	case "+$rings+" in
	*+0+* | ++) fail "a ring of queue 0 served nothing ($rings): $(cat "$TMP/rings.log")" ;;
	esac
	[ "${rings//[0-9]/}" ] || fail "queue 0 has a single ring: $rings"
	pass "fio pinned to CPU 0: queue 0's rings served $rings requests"
	check_depth "$TMP/rings.log" 200
else
	log "fio not installed: the pinned-writer pass is left out"
fi

# ---- 5. SIGTERM while busy ----------------------------------------------------------

start_daemon "$TMP/term.log" size=256M,io_uring,max_background=4
# Held open throughout: the writer may be done before the signal lands.
exec 9<> "$MNT/zram0" || fail "open $MNT/zram0"
dd if="$TMP/data" of="$MNT/zram0" bs=1M oflag=direct status=none &
writer=$!
sleep 0.3
kill -TERM "$DAEMON"
wait "$writer" || fail "the write failed after a SIGTERM: $(cat "$TMP/term.log")"
# Through the descriptor held: a new open is refused once a stop is pending.
cmp -n $((DATA_MIB << 20)) "$TMP/data" - <&9 ||
	fail "data written across the put-off SIGTERM differs"
alive "$DAEMON" || fail "SIGTERM with a data file open stopped the daemon"
grep -q "stopping once no data file is open" "$TMP/term.log" ||
	fail "no warning for the put-off SIGTERM: $(cat "$TMP/term.log")"
exec 9>&-
wait_clean_exit "$DAEMON" "a put-off SIGTERM, once its last data file was closed"
[ "$(cat "$PARAM")" = N ] || fail "enable_uring is $(cat "$PARAM") after SIGTERM"
pass "SIGTERM while writing: put off, data intact; exit 0 once closed, enable_uring back to N"
check_depth "$TMP/term.log" 4

# ---- 6. fallback: the kernel does not offer the ring ---------------------------

echo N > "$TMP/param"
mount --bind "$TMP/param" "$PARAM" || fail "cannot bind-mount over $PARAM"
at_exit "umount '$PARAM'"
start_daemon "$TMP/fallback.log" size=256M,io_uring
dd if="$TMP/data" of="$MNT/zram0" bs=1M oflag=direct status=none ||
	fail "writing through /dev/fuse after the fallback"
cmp -n $((DATA_MIB << 20)) "$TMP/data" "$MNT/zram0" ||
	fail "data read back after the fallback differs"
stop_daemon unmount
umount "$PARAM" || fail "umount $PARAM"
grep -q "does not offer FUSE over io_uring" "$TMP/fallback.log" ||
	fail "no fallback warning: $(cat "$TMP/fallback.log")"
[ "$(served "$TMP/fallback.log")" = 0 ] ||
	fail "requests went through a ring the kernel did not offer: $(cat "$TMP/fallback.log")"
pass "without the kernel's offer: a warning, /dev/fuse, data intact"

exit 0
