#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Memory: the daemon's RSS follows mem_used_total, punch hole + compact
# gives memory back, mem_limit refuses writes without losing data, and a
# huge disksize costs almost nothing until written (lazy slot table).
. "$(dirname "$0")/lib.sh"
require_fuse

make_test_dirs WORK
D=$MNT/control/zram0

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

mm() {
	mm_stat_field "$MNT" zram0 "$1"
}

# ---- RSS follows mem_used_total -------------------------------------------
mount_zramfs "$MNT" -o size=512M
PID=$(daemon_pid "$MNT") || fail "no daemon for $MNT"
DATA=$WORK/data
make_realistic_data "$DATA" 200
# Warm the worker threads and their buffers up before the baseline.
dd if="$DATA" of="$MNT/zram0" bs=1M count=1 conv=notrunc status=none
dd if="$MNT/zram0" of=/dev/null bs=1M count=1 status=none
echo 1 > "$D/reset" 2>/dev/null || true
echo 1 > "$D/reset" 2>/dev/null
echo 512M > "$D/disksize"
rss0=$(rss_kib "$PID")
dd if="$DATA" of="$MNT/zram0" bs=1M conv=notrunc status=none ||
	fail "writing the data"
rss1=$(rss_kib "$PID")
used=$(mm 3)
compr=$(mm 2)
growth=$(( (rss1 - rss0) * 1024 ))
log "200 MiB: compr_data_size $compr mem_used_total $used," \
	"RSS growth $growth"
[ "$used" -le $(( compr * 106 / 100 )) ] ||
	fail "mem_used_total $used is more than 6% over compr $compr"
# The slot table (16 bytes a page) is not in mem_used_total: allow it
# and 5% over the arena.
table=$(( (200 << 20) / 4096 * 16 ))
[ "$growth" -le $(( used * 105 / 100 + table + (2 << 20) )) ] ||
	fail "RSS grew $growth for mem_used_total $used"
cmp -n $((200 << 20)) "$DATA" "$MNT/zram0" || fail "data differs"
pass "RSS growth tracks mem_used_total"

# ---- punch hole + compact gives memory back -------------------------------
peak=$(mm 3)
rss_peak=$(rss_kib "$PID")
# Free three pages out of four, scattered, as swap's discards do.
python3 - "$MNT/zram0" <<'EOF' || fail "punching holes"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long,
                           ctypes.c_long]
PUNCH_HOLE_KEEP_SIZE = 0x02 | 0x01
fd = os.open(sys.argv[1], os.O_RDWR)
for off in range(0, 200 << 20, 16384):
    if libc.fallocate(fd, PUNCH_HOLE_KEEP_SIZE, off, 12288):
        sys.exit("fallocate: " + os.strerror(ctypes.get_errno()))
EOF
echo 1 > "$D/compact"
after=$(mm 3)
rss_after=$(rss_kib "$PID")
log "after freeing 75%: mem_used_total $peak -> $after," \
	"RSS ${rss_peak} KiB -> ${rss_after} KiB, pages_compacted $(mm 7)"
[ "$after" -le $(( peak * 35 / 100 )) ] ||
	fail "mem_used_total $after is over 35% of the peak $peak"
[ "$(( rss_peak - rss_after ))" -ge $(( (peak - after) / 1024 * 80 / 100 )) ] ||
	fail "RSS fell by $(( rss_peak - rss_after )) KiB only"
# What is left is intact: every fourth 4 KiB page.
python3 - "$DATA" "$MNT/zram0" <<'EOF' || fail "surviving pages differ"
import sys
with open(sys.argv[1], 'rb') as a, open(sys.argv[2], 'rb') as b:
    for off in range(12288, 200 << 20, 16384):
        a.seek(off); b.seek(off)
        if a.read(4096) != b.read(4096):
            sys.exit("page at %d differs" % off)
EOF
pass "punch hole + compact returns memory"

# ---- mem_limit ------------------------------------------------------------
echo 1 > "$D/reset"
echo 64M > "$D/disksize"
echo 2M > "$D/mem_limit"
head -c $((8 << 20)) /dev/urandom > "$WORK/random"
if dd if="$WORK/random" of="$MNT/zram0" bs=4096 conv=notrunc \
	status=none 2> "$WORK/dd.err"; then
	fail "8 MiB of random data fit in a 2 MiB mem_limit"
fi
grep -q "No space left on device" "$WORK/dd.err" ||
	fail "mem_limit error was: $(cat "$WORK/dd.err")"
failed=$(awk '{ print $2 }' "$D/io_stat")
[ "$failed" -ge 1 ] || fail "io_stat failed_writes is $failed"
stored=$(( $(mm 1) ))
[ "$stored" -gt 0 ] || fail "nothing stored before the limit"
cmp -n "$stored" "$WORK/random" "$MNT/zram0" ||
	fail "pages stored before the limit changed"
[ "$(mm 3)" -le $(( (2 << 20) * 101 / 100 )) ] ||
	fail "mem_used_total $(mm 3) is over the 2 MiB limit"
# Freeing pages makes room again, and the daemon still serves.
fallocate -p -o 0 -l "$stored" "$MNT/zram0"
dd if="$WORK/random" of="$MNT/zram0" bs=4096 count=16 conv=notrunc \
	status=none || fail "no room after freeing"
cmp -n 65536 "$WORK/random" "$MNT/zram0" || fail "rewrite differs"
pass "mem_limit: ENOSPC, failed_writes $failed, data intact, room after free"

# ---- a 1 TiB device written at three places -------------------------------
echo 1 > "$D/reset"
rss0=$(rss_kib "$PID")
echo 1T > "$D/disksize"
for off in 0 $((512 << 30)) $(((1 << 40) - 4096)); do
	head -c 4096 "$DATA" | dd of="$MNT/zram0" bs=4096 seek="$off" \
		oflag=seek_bytes conv=notrunc status=none ||
		fail "write at $off"
done
rss1=$(rss_kib "$PID")
log "1 TiB device, 3 pages: RSS ${rss0} KiB -> ${rss1} KiB"
[ $(( rss1 - rss0 )) -lt $((64 << 10)) ] ||
	fail "a 1 TiB device cost $(( rss1 - rss0 )) KiB"
pass "lazy slot table"
