#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Data correctness of a device file (-o size=512M):
# - 300 MiB of realistic data written and read back byte for byte, with
#   orig_data_size exactly 300 MiB and compr_data_size below it;
# - writes at page-aligned and unaligned offsets with odd block sizes
#   (1000, 65537, ...), overwriting stored data and landing in fresh pages;
# - never-written ranges read as zeros;
# - reads at or past EOF return 0 bytes, a read across EOF stops there;
# - writes reaching past st_size fail with ENOSPC and change nothing;
# - O_DIRECT reads and writes;
# - mm_stat: same_pages counts zero- and 0xAB-filled pages, huge_pages
#   counts incompressible ones;
# - fallocate --punch-hole and --zero-range free pages and read as zeros;
# - SEEK_DATA / SEEK_HOLE report the stored pages.
# Every write also goes to a sparse shadow file on the local filesystem;
# at the end the whole device must equal the shadow.
# Prints the compression ratio and dd's speed (informational).

. "$(dirname "$0")/lib.sh"
require_fuse
command -v python3 >/dev/null || skip "no python3"
command -v fallocate >/dev/null || skip "no fallocate"

M=$((1024 * 1024))
PAGE=4096
SIZE=$((512 * M))
BULK=$((300 * M))

make_test_dirs TMP
DEV=$MNT/zram0
DATA=$TMP/data
SHADOW=$TMP/shadow

# ---- helpers ---------------------------------------------------------------

# mm COLUMN: one column of zram0's mm_stat (1 orig_data_size,
# 2 compr_data_size, 6 same_pages, 8 huge_pages).
mm() {
	mm_stat_field "$MNT" zram0 "$1"
}

# ddq ARGS...: dd, quiet unless it fails; bounded in time.
ddq() {
	timeout 60 dd status=none "$@" 2> "$TMP/dd.err" || {
		log "dd $*: $(cat "$TMP/dd.err")"
		return 1
	}
}

# put SRC_OFF DST_OFF LEN BS [DD_OUTPUT_FLAGS]: copies LEN bytes of $DATA
# at SRC_OFF to the device (and to the shadow) at DST_OFF, BS bytes per
# write.
put() {
	local src=$1 dst=$2 len=$3 bs=$4 flags=${5:-}
	ddq if="$DATA" of="$DEV" bs="$bs" iflag=skip_bytes,count_bytes \
		skip="$src" count="$len" seek="$dst" \
		oflag=seek_bytes${flags:+,$flags} conv=notrunc ||
		fail "writing $len bytes at $dst (bs=$bs${flags:+, $flags})"
	ddq if="$DATA" of="$SHADOW" bs="$bs" iflag=skip_bytes,count_bytes \
		skip="$src" count="$len" seek="$dst" oflag=seek_bytes \
		conv=notrunc || fail "writing the shadow"
}

# put_stream DST_OFF: stdin to the device and to the shadow at DST_OFF.
put_stream() {
	local dst=$1
	cat > "$TMP/piece" || fail "cat"
	ddq if="$TMP/piece" of="$DEV" bs=64K seek="$dst" oflag=seek_bytes \
		conv=notrunc || fail "writing $TMP/piece at $dst"
	ddq if="$TMP/piece" of="$SHADOW" bs=64K seek="$dst" oflag=seek_bytes \
		conv=notrunc || fail "writing the shadow"
}

# same_as DST_OFF SRC_OFF LEN: the device at DST_OFF holds $DATA's LEN
# bytes at SRC_OFF.
same_as() {
	local out
	out=$(timeout 60 cmp -i "$1:$2" -n "$3" "$DEV" "$DATA" 2>&1) ||
		fail "device [$1, +$3) differs from the data written: $out"
}

# zeros OFF LEN: the device reads LEN zero bytes at OFF.
zeros() {
	local out
	out=$(timeout 60 cmp -i "$1:0" -n "$2" "$DEV" /dev/zero 2>&1) ||
		fail "device [$1, +$2) should read as zeros: $out"
	# cmp stops early at EOF; make sure all LEN bytes were there.
	[ "$(timeout 60 dd if="$DEV" bs=1M iflag=skip_bytes,count_bytes \
		skip="$1" count="$2" status=none | wc -c)" = "$2" ] ||
		fail "device [$1, +$2) is short"
}

# shadow_zero OFF LEN: the shadow reads zeros at [OFF, +LEN).
shadow_zero() {
	ddq if=/dev/zero of="$SHADOW" bs=1M iflag=count_bytes count="$2" \
		seek="$1" oflag=seek_bytes conv=notrunc || fail "zeroing the shadow"
}

# now_ns: a monotonic-enough clock for the speed figures.
now_ns() {
	date +%s%N
}

# mib_per_s BYTES NS
mib_per_s() {
	awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }'
}

# ---- mount and the bulk write --------------------------------------------------

mount_zramfs "$MNT" -o size=512M
[ "$(stat -c %s "$DEV")" = $SIZE ] || fail "st_size is $(stat -c %s "$DEV")"

make_realistic_data "$DATA" $((BULK / M))
[ "$(stat -c %s "$DATA")" = $BULK ] || fail "make_realistic_data"
# Random data past the realistic bytes, for the incompressible pages.
head -c $((2 * M)) /dev/urandom >> "$DATA" || fail "urandom"
RANDOM_OFF=$BULK

# The shadow: what the device must hold at the end.
truncate -s $SIZE "$SHADOW" || fail "truncate $SHADOW"

t0=$(now_ns)
ddq if="$DATA" of="$DEV" bs=1M count=300 conv=notrunc || fail "bulk write"
t1=$(now_ns)
ddq if="$DATA" of="$SHADOW" bs=1M count=300 conv=notrunc || fail "shadow"
write_ns=$((t1 - t0))

t0=$(now_ns)
ddq if="$DEV" of=/dev/null bs=1M count=300 || fail "bulk read"
t1=$(now_ns)
read_ns=$((t1 - t0))
same_as 0 0 $BULK

orig=$(mm 1) compr=$(mm 2)
[ "$orig" = $BULK ] || fail "orig_data_size is $orig after writing $BULK bytes"
[ "$compr" -gt 0 ] && [ "$compr" -lt "$orig" ] ||
	fail "no compression: orig_data_size $orig, compr_data_size $compr"
log "info: 300 MiB realistic data: ratio $(awk -v o="$orig" -v c="$compr" \
	'BEGIN { printf "%.2f", o / c }') (orig $orig, compr $compr)," \
	"dd bs=1M write $(mib_per_s $BULK $write_ns) MiB/s," \
	"read $(mib_per_s $BULK $read_ns) MiB/s"
pass "300 MiB written and read back, orig_data_size $orig"

# ---- unaligned and odd-sized writes -----------------------------------------------
# Sources are offset from the destinations so that every overwrite changes
# the stored bytes.

# Over stored pages.
put $((17 * M)) 0 20000 1000
put $((23 * M + 5)) $((PAGE * 7 + 123)) $((65537 * 3)) 65537
put $((29 * M + 77)) $((M - 1)) $((M + 2)) 4096
put $((31 * M + 3)) $((200 * M + 511)) $((3 * M + 7)) 1M
put $((37 * M)) $((100 * M + 333)) 777 777
same_as 0 $((17 * M)) 20000
same_as $((PAGE * 7 + 123)) $((23 * M + 5)) $((65537 * 3))
same_as $((M - 1)) $((29 * M + 77)) $((M + 2))
same_as $((200 * M + 511)) $((31 * M + 3)) $((3 * M + 7))
same_as $((100 * M + 333)) $((37 * M)) 777
# Their neighbours kept the bulk data.
same_as 20000 20000 $((PAGE * 7 + 123 - 20000))
same_as $((PAGE * 7 + 123 + 65537 * 3)) $((PAGE * 7 + 123 + 65537 * 3)) 1000
same_as $((2 * M + 1)) $((2 * M + 1)) 5000
same_as $((200 * M)) $((200 * M)) 511
same_as $((203 * M + 518)) $((203 * M + 518)) 10000
same_as $((100 * M)) $((100 * M)) 333
same_as $((100 * M + 1110)) $((100 * M + 1110)) 3000

# Into never-written pages past the bulk data.
P5_OFF=$((BULK + 12345)) P5_LEN=200000
P6_OFF=$((350 * M + 511)) P6_LEN=$((3 * M + 7))
put $((41 * M)) $P5_OFF $P5_LEN 1000
put $((43 * M + 1)) $P6_OFF $P6_LEN 65537
same_as $P5_OFF $((41 * M)) $P5_LEN
same_as $P6_OFF $((43 * M + 1)) $P6_LEN
# The rest of the pages they touched, and the pages around, are zeros.
zeros $BULK 12345
zeros $((P5_OFF + P5_LEN)) $((320 * M - P5_OFF - P5_LEN))
zeros $((350 * M)) 511
zeros $((P6_OFF + P6_LEN)) $((400 * M - P6_OFF - P6_LEN))
zeros $((460 * M)) $((50 * M))
pass "unaligned writes (bs 1000, 65537, 4096, 1M, 777) read back; unwritten ranges read zeros"

# ---- EOF ---------------------------------------------------------------------

# A write that ends exactly at EOF works.
put $((47 * M)) $((SIZE - 5000)) 5000 1000
same_as $((SIZE - 5000)) $((47 * M)) 5000

cat > "$TMP/eof.py" <<'EOF'
import errno, os, sys
path, size = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR)
def check(what, cond):
    if not cond:
        sys.exit("FAIL: " + what)
check("read at EOF returns 0 bytes", os.pread(fd, 4096, size) == b"")
check("read past EOF returns 0 bytes", os.pread(fd, 4096, size + 12345) == b"")
check("read far past EOF returns 0 bytes", os.pread(fd, 1 << 20, 1 << 40) == b"")
check("read across EOF stops at EOF", len(os.pread(fd, 8192, size - 1000)) == 1000)
before = os.pread(fd, 8192, size - 8192)
for off, length in ((size - 1000, 5000), (size - 1, 2), (size, 1),
                    (size, 4096), (size + 4096, 4096), (size - 4096, 1 << 20)):
    try:
        n = os.pwrite(fd, b"\x5a" * length, off)
        sys.exit("FAIL: pwrite(%d bytes at %d) wrote %d bytes past EOF" %
                 (length, off, n))
    except OSError as e:
        check("pwrite(%d bytes at %d) fails with ENOSPC, not %s" %
              (length, off, e.strerror), e.errno == errno.ENOSPC)
check("failed writes changed nothing", os.pread(fd, 8192, size - 8192) == before)
check("st_size unchanged", os.fstat(fd).st_size == size)
os.close(fd)
EOF
out=$(timeout 60 python3 "$TMP/eof.py" "$DEV" $SIZE 2>&1) || fail "$out"
expect_error "No space left on device" \
	dd if="$DATA" of="$DEV" bs=4096 count=2 seek=$((SIZE - 1000)) \
	oflag=seek_bytes conv=notrunc status=none
same_as $((SIZE - 5000)) $((47 * M)) 5000
[ "$(stat -c %s "$DEV")" = $SIZE ] || fail "st_size changed to $(stat -c %s "$DEV")"
pass "reads at/past EOF return 0 bytes; writes past EOF fail with ENOSPC and change nothing"

# ---- O_DIRECT ----------------------------------------------------------------

DIO_OFF=$((320 * M)) DIO_LEN=$((4 * M))
put $((53 * M)) $DIO_OFF $((2 * M)) 4096 direct
put $((57 * M)) $((DIO_OFF + 2 * M)) $((2 * M)) 1M direct
ddq if="$DEV" of="$TMP/dio.got" bs=4096 iflag=direct,skip_bytes,count_bytes \
	skip=$DIO_OFF count=$DIO_LEN || fail "dd iflag=direct bs=4096"
ddq if="$DEV" of="$TMP/dio.got1m" bs=1M iflag=direct,skip_bytes,count_bytes \
	skip=$DIO_OFF count=$DIO_LEN || fail "dd iflag=direct bs=1M"
{ ddq if="$DATA" bs=1M iflag=skip_bytes,count_bytes skip=$((53 * M)) count=$((2 * M)) &&
  ddq if="$DATA" bs=1M iflag=skip_bytes,count_bytes skip=$((57 * M)) count=$((2 * M))
} > "$TMP/dio.want" || fail "dd"
cmp "$TMP/dio.got" "$TMP/dio.want" || fail "O_DIRECT read (bs 4096) differs"
cmp "$TMP/dio.got1m" "$TMP/dio.want" || fail "O_DIRECT read (bs 1M) differs"
out=$(timeout 60 dd if="$DEV" of=/dev/null bs=1M iflag=direct count=16 \
	skip=100 2>&1) || fail "dd iflag=direct bs=1M: $out"
pass "O_DIRECT reads and writes (bs 4096 and 1M)"

# ---- same_pages, huge_pages ---------------------------------------------------

same0=$(mm 6) orig0=$(mm 1) compr0=$(mm 2)
head -c $((16 * PAGE)) /dev/zero | put_stream $((400 * M))
head -c $((16 * PAGE)) /dev/zero | tr '\0' '\253' | put_stream $((400 * M + 16 * PAGE))
same1=$(mm 6) orig1=$(mm 1) compr1=$(mm 2)
[ $((same1 - same0)) = 32 ] ||
	fail "same_pages went from $same0 to $same1 after 32 same-filled pages"
[ $((orig1 - orig0)) = $((32 * PAGE)) ] ||
	fail "orig_data_size went from $orig0 to $orig1 after 32 new pages"
[ "$compr1" = "$compr0" ] ||
	fail "compr_data_size went from $compr0 to $compr1 for same-filled pages"
same_as_bytes=$(timeout 60 dd if="$DEV" bs=4096 skip=$((400 * M / PAGE + 16)) \
	count=16 status=none | tr -d '\253' | wc -c)
[ "$same_as_bytes" = 0 ] || fail "0xAB pages read back wrong"
zeros $((400 * M)) $((16 * PAGE))

huge0=$(mm 8)
put $RANDOM_OFF $((450 * M)) $((M)) 1M
huge1=$(mm 8)
[ $((huge1 - huge0)) = 256 ] ||
	fail "huge_pages went from $huge0 to $huge1 after 256 random pages"
same_as $((450 * M)) $RANDOM_OFF $M
pass "mm_stat: same_pages +32, huge_pages +256"

# ---- discard: punch hole, zero range --------------------------------------------

orig0=$(mm 1)
timeout 60 fallocate -p -o 0 -l $((16 * M)) "$DEV" || fail "fallocate -p on the device"
shadow_zero 0 $((16 * M))
orig1=$(mm 1)
[ $((orig0 - orig1)) = $((16 * M)) ] ||
	fail "orig_data_size went from $orig0 to $orig1 punching 16 MiB of stored pages"
zeros 0 $((16 * M))
same_as $((16 * M)) $((16 * M)) 12345

timeout 60 fallocate -z -o $((32 * M)) -l $((8 * M)) "$DEV" ||
	fail "fallocate -z on the device"
shadow_zero $((32 * M)) $((8 * M))
orig2=$(mm 1)
[ $((orig1 - orig2)) = $((8 * M)) ] ||
	fail "orig_data_size went from $orig1 to $orig2 zeroing 8 MiB of stored pages"
zeros $((32 * M)) $((8 * M))
same_as $((40 * M)) $((40 * M)) 12345
same_as $((32 * M - 12345)) $((32 * M - 12345)) 12345

# Unaligned: the partial pages at both ends keep their other bytes.
PU_OFF=$((64 * M + 100)) PU_LEN=$((M))
timeout 60 fallocate -p -o $PU_OFF -l $PU_LEN "$DEV" || fail "unaligned fallocate -p"
shadow_zero $PU_OFF $PU_LEN
orig3=$(mm 1)
freed=$(((orig2 - orig3) / PAGE))
[ "$freed" -ge 255 ] && [ "$freed" -le 257 ] ||
	fail "orig_data_size went from $orig2 to $orig3 punching [$PU_OFF, +$PU_LEN)"
zeros $PU_OFF $PU_LEN
same_as $((64 * M)) $((64 * M)) 100
same_as $((PU_OFF + PU_LEN)) $((PU_OFF + PU_LEN)) 5000
pass "fallocate -p and -z free pages (orig_data_size -16 MiB, -8 MiB) and read zeros"

# ---- SEEK_DATA / SEEK_HOLE -----------------------------------------------------

cat > "$TMP/seek.py" <<'EOF'
import errno, os, sys
path = sys.argv[1]
M, PAGE = 1 << 20, 4096
size, p5_off, p5_end, p6_off = (int(a) for a in sys.argv[2:6])
up = lambda x: (x + PAGE - 1) // PAGE * PAGE
down = lambda x: x // PAGE * PAGE
fd = os.open(path, os.O_RDONLY)
bad = []
def expect(whence, off, want):
    name = "SEEK_DATA" if whence == os.SEEK_DATA else "SEEK_HOLE"
    try:
        got = os.lseek(fd, off, whence)
    except OSError as e:
        got = errno.errorcode[e.errno]
    if got != want:
        bad.append("%s(%d) = %s, expected %s" % (name, off, got, want))
D, H = os.SEEK_DATA, os.SEEK_HOLE
expect(D, 0, 16 * M)                 # punched [0, 16M)
expect(H, 0, 0)
expect(H, 16 * M, 32 * M)            # zeroed [32M, 40M)
expect(D, 32 * M, 40 * M)
expect(D, 40 * M + 5, 40 * M + 5)    # inside a stored page: the offset itself
expect(H, 300 * M - PAGE, 300 * M)   # the bulk data ends at 300M
expect(D, 300 * M, down(p5_off))
expect(H, down(p5_off), up(p5_end))
expect(D, up(p5_end), 320 * M)       # the O_DIRECT range [320M, 324M)
expect(H, 320 * M, 324 * M)
expect(D, 324 * M, down(p6_off))
expect(D, 360 * M, 400 * M)          # same-filled pages [400M, +128K)
expect(H, 400 * M, 400 * M + 32 * PAGE)
expect(D, 400 * M + 32 * PAGE, 450 * M)   # random pages [450M, 451M)
expect(H, 450 * M, 451 * M)
expect(D, 451 * M, down(size - 5000))     # the last piece, to EOF
expect(H, down(size - 5000), size)
expect(D, size - 100, size - 100)
expect(D, size, "ENXIO")
expect(H, size, "ENXIO")
os.close(fd)
if bad:
    sys.exit("FAIL: " + "; ".join(bad))
EOF
out=$(timeout 60 python3 "$TMP/seek.py" "$DEV" $SIZE $P5_OFF \
	$((P5_OFF + P5_LEN)) $P6_OFF 2>&1) || fail "$out"
pass "SEEK_DATA / SEEK_HOLE report the stored pages"

# ---- everything, once more -------------------------------------------------------

out=$(timeout 90 cmp "$DEV" "$SHADOW" 2>&1) ||
	fail "device differs from the shadow file: $out"
pass "all 512 MiB equal the shadow"
exit 0
