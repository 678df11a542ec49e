#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# zramfsctl: the default listing and its columns, values against the
# control files (--bytes, human sizes, --raw, --noheadings, --output,
# --output-all, --json checked field by field), STREAMS and MOUNTPOINT,
# --find with a free device and with none (hot_add), -s on a given data
# file, --reset, and one-line errors with exit status 1 for bad input.

. "$(dirname "$0")/lib.sh"
require_fuse

: "${ZRAMFSCTL:=$(dirname "$ZRAMFS")/zramfsctl}"
[ -x "$ZRAMFSCTL" ] || fail "zramfsctl binary not found at $ZRAMFSCTL"

make_tmpdir TMP
MNT=$TMP/mnt
MNT2=$TMP/mnt2
mkdir "$MNT" "$MNT2" || fail "mkdir"

ctl() { "$ZRAMFSCTL" "$@"; }

# ctl_ok ARGS...: runs zramfsctl, which must succeed and say nothing on
# stderr; its output is left in $OUT.
ctl_ok() {
	local err=$TMP/stderr
	OUT=$(ctl "$@" 2>"$err") || fail "zramfsctl $* failed: $(cat "$err")"
	[ -s "$err" ] && fail "zramfsctl $* wrote to stderr: $(cat "$err")"
	return 0
}

# ctl_fails PATTERN ARGS...: zramfsctl must exit with 1, print nothing on
# stdout and exactly one line "zramfsctl: ...PATTERN..." on stderr.
ctl_fails() {
	local want=$1 rc=0 out err
	shift
	out=$(ctl "$@" 2>"$TMP/stderr") || rc=$?
	err=$(cat "$TMP/stderr")
	[ "$rc" = 1 ] || fail "zramfsctl $*: exit $rc, expected 1 ($err)"
	[ -z "$out" ] || fail "zramfsctl $*: printed '$out'"
	[ "$(wc -l < "$TMP/stderr")" = 1 ] ||
		fail "zramfsctl $*: expected one line on stderr, got '$err'"
	case $err in
	"zramfsctl: "*"$want"*) ;;
	*) fail "zramfsctl $*: said '$err', expected '$want'" ;;
	esac
}

attr() { cat "$1/control/$2/$3"; }

# words TEXT: TEXT with each run of blanks and newlines made one space.
words() { printf '%s' "$1" | tr -s ' \n' ' '; }

# ---- set up: two initialised devices with data and different sizes ------

mount_zramfs "$MNT" -o devices=2,size=64M,algorithm=zstd,threads=3
# zram0: real data and a run of zero pages; zram1: 1.5 MiB, 1.5 MiB limit.
make_realistic_data "$TMP/data" 4
dd if="$TMP/data" of="$MNT/zram0" bs=1M conv=notrunc status=none ||
	fail "writing zram0"
dd if=/dev/zero of="$MNT/zram0" bs=4k seek=4096 count=16 conv=notrunc \
	status=none || fail "writing zeros to zram0"
# (reset restores the default algorithm, as zram's does)
write_attr "$MNT/control/zram1/reset" 1 || fail "reset zram1"
write_attr "$MNT/control/zram1/comp_algorithm" zstd || fail "zram1 zstd"
write_attr "$MNT/control/zram1/disksize" 1536K || fail "disksize zram1"
write_attr "$MNT/control/zram1/mem_limit" 1536K || fail "mem_limit zram1"

# ---- the default listing ------------------------------------------------

ctl_ok "$MNT"
header=$(head -n1 <<< "$OUT")
[ "$(words "$header")" = \
  "NAME ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT" ] ||
	fail "default header: '$header'"
[ "$(wc -l <<< "$OUT")" = 3 ] || fail "expected 2 devices: '$OUT'"
row0=$(sed -n 2p <<< "$OUT")
row1=$(sed -n 3p <<< "$OUT")
[ "$(words "$row1")" = "$MNT/zram1 zstd 1.5M 0B 0B 0B 3" ] ||
	fail "zram1 row: '$row1'"
read -r -a f <<< "$row0"
[ "${f[0]} ${f[1]} ${f[2]} ${f[6]}" = "$MNT/zram0 zstd 64M 3" ] ||
	fail "zram0 row: '$row0'"
for v in "${f[3]}" "${f[4]}" "${f[5]}"; do
	[[ $v =~ ^[0-9]+(\.[0-9])?[BKMGTPE]$ ]] ||
		fail "not a human size: '$v' in '$row0'"
done
[ "${f[3]}" != 0B ] || fail "zram0 DATA is 0B after writing 4 MiB"
# Sizes are right-aligned under their header.
end=$(($(awk '{ print index($0, "DISKSIZE") }' <<< "$header") + 7))
if [ "${row0:end-3:4}" != "64M " ] || [ "${row1:end-4:5}" != "1.5M " ]; then
	fail "DISKSIZE not aligned under its header: '$OUT'"
fi
pass "default listing"

# Without arguments every zramfs mount is listed, ours among them. Other
# mounts on this machine are not ours: one whose daemon hangs would hang
# any reader (as ls would), so that alone is not a failure.
if OUT=$(timeout 30 "$ZRAMFSCTL" 2>&1); then
	grep -q "^$MNT/zram0 " <<< "$OUT" || fail "$MNT/zram0 not in '$OUT'"
	grep -q "^$MNT/zram1 " <<< "$OUT" || fail "$MNT/zram1 not in '$OUT'"
	pass "listing of all mounts"
elif [ $? = 124 ]; then
	log "listing all mounts timed out: another zramfs mount hangs"
else
	fail "zramfsctl without arguments: $OUT"
fi

# ---- values against the control files (--bytes --raw --output-all) ------

ALL="NAME DISKSIZE DATA COMPR ALGORITHM STREAMS ZERO-PAGES TOTAL"
ALL+=" MEM-LIMIT MEM-USED MIGRATED MOUNTPOINT"

# check_bytes DEV: one raw --bytes row against disksize and mm_stat, read
# again if the daemon changed mm_stat in between.
check_bytes() {
	local dev=$1 line mm before m want _
	for _ in 1 2 3; do
		before=$(attr "$MNT" "$dev" mm_stat)
		ctl_ok --raw --noheadings --bytes --output-all "$MNT/$dev"
		line=$OUT
		mm=$(attr "$MNT" "$dev" mm_stat)
		[ "$before" = "$mm" ] && break
	done
	read -r -a m <<< "$mm"
	want="$MNT/$dev $(attr "$MNT" "$dev" disksize) ${m[0]} ${m[1]}"
	want+=" zstd 3 ${m[5]} ${m[2]} ${m[3]} ${m[4]} ${m[6]} "
	[ "$line" = "$want" ] ||
		fail "$dev --bytes: '$line', control files say '$want'"
}
ctl_ok --raw --output-all "$MNT"
[ "$(head -n1 <<< "$OUT")" = "$ALL" ] ||
	fail "--output-all header: '$(head -n1 <<< "$OUT")'"
check_bytes zram0
check_bytes zram1
ctl_ok --raw --noheadings -o ZERO-PAGES "$MNT/zram0"
[ "$OUT" -ge 16 ] || fail "ZERO-PAGES below the 16 zero pages written: $OUT"
pass "--bytes --raw --output-all match disksize and mm_stat"

# Human sizes: 1.5M (fraction), 64M, 0B, and the limit.
ctl_ok --raw --noheadings -o DISKSIZE,DATA,MEM-LIMIT,TOTAL "$MNT/zram1"
[ "$OUT" = "1.5M 0B 1.5M 0B" ] || fail "zram1 human sizes: '$OUT'"
pass "human sizes"

# ---- --raw, --noheadings, --output -------------------------------------

ctl_ok --raw -o NAME,MOUNTPOINT,DISKSIZE "$MNT"
[ "$OUT" = "NAME MOUNTPOINT DISKSIZE
$MNT/zram0  64M
$MNT/zram1  1.5M" ] || fail "--raw: '$OUT'"
ctl_ok --noheadings "$MNT"
[ "$(wc -l <<< "$OUT")" = 2 ] || fail "--noheadings: '$OUT'"
[[ $OUT == "$MNT/zram0 "* ]] || fail "--noheadings first line: '$OUT'"
ctl_ok --output NAME,DISKSIZE "$MNT"
[ "$(words "$OUT")" = "NAME DISKSIZE $MNT/zram0 64M $MNT/zram1 1.5M" ] ||
	fail "--output NAME,DISKSIZE: '$OUT'"
ctl_ok -o name,disksize -b "$MNT/zram0"
[ "$(words "$OUT")" = "NAME DISKSIZE $MNT/zram0 67108864" ] ||
	fail "-o name,disksize -b on a data file: '$OUT'"
ctl_ok -n -o +ZERO-PAGES "$MNT/zram1"
[ "$(words "$OUT")" = "$MNT/zram1 zstd 1.5M 0B 0B 0B 3 0" ] ||
	fail "-o +ZERO-PAGES: '$OUT'"
pass "--raw, --noheadings, --output"

# ---- --json --------------------------------------------------------------

if command -v python3 >/dev/null; then
	ctl_ok --json --output-all "$MNT"
	python3 -m json.tool <<< "$OUT" >/dev/null || fail "invalid JSON: $OUT"
	# One line per device: every key and value, as python sees them.
	got=$(python3 -c '
import json, sys
for d in json.load(sys.stdin)["zramdevices"]:
    print(" ".join("%s=%s" % (k, json.dumps(v)) for k, v in d.items()))
' <<< "$OUT") || fail "reading JSON"
	want='name="'$MNT'/zram1" disksize="1.5M" data="0B" compr="0B"'
	want+=' algorithm="zstd" streams=3 zero-pages=0 total="0B"'
	want+=' mem-limit="1.5M" mem-used="0B" migrated=0 mountpoint=null'
	[ "$(sed -n 2p <<< "$got")" = "$want" ] ||
		fail "JSON zram1: '$(sed -n 2p <<< "$got")', want '$want'"

	ctl_ok -J -b --output-all "$MNT/zram0"
	read -r -a m <<< "$(attr "$MNT" zram0 mm_stat)"
	python3 -c '
import json, sys
want = dict(zip(sys.argv[1::2], sys.argv[2::2]))
[d] = json.load(sys.stdin)["zramdevices"]
for k, v in want.items():
    v = None if v == "null" else v if not v.isdigit() else int(v)
    if d[k] != v:
        sys.exit("JSON %s: %r, control files say %r" % (k, d[k], v))
if sorted(d) != sorted(want):
    sys.exit("JSON keys: %s" % sorted(d))
' name "$MNT/zram0" disksize "$(attr "$MNT" zram0 disksize)" \
	  data "${m[0]}" compr "${m[1]}" algorithm zstd streams 3 \
	  zero-pages "${m[5]}" total "${m[2]}" mem-limit "${m[3]}" \
	  mem-used "${m[4]}" migrated "${m[6]}" mountpoint null \
	  <<< "$OUT" || fail "JSON --bytes zram0 (above)"
	pass "--json"
else
	log "python3 missing: --json not checked"
fi

# ---- MOUNTPOINT: the loop device of the data file ----------------------

if command -v losetup >/dev/null && losetup -f >/dev/null 2>&1; then
	# reset also lifts mem_limit, as zram's does
	write_attr "$MNT/control/zram1/reset" 1 || fail "reset zram1"
	write_attr "$MNT/control/zram1/disksize" 16M || fail "zram1 16M"
	attach_loop LOOP "$MNT/zram1"
	enable_swap "$LOOP"
	ctl_ok --raw --noheadings -o NAME,MOUNTPOINT "$MNT"
	[ "$(sed -n 2p <<< "$OUT")" = "$MNT/zram1 [SWAP]" ] ||
		fail "swap MOUNTPOINT: '$OUT'"
	swapoff "$LOOP" || fail "swapoff $LOOP"
	if command -v mkfs.ext2 >/dev/null; then
		mkfs.ext2 -q "$LOOP" || fail "mkfs.ext2 $LOOP"
		mkdir "$TMP/ext2"
		at_exit "umount '$TMP/ext2'"
		mount "$LOOP" "$TMP/ext2" || fail "mount $LOOP"
		ctl_ok --raw --noheadings -o MOUNTPOINT "$MNT/zram1"
		[ "$OUT" = "$TMP/ext2" ] || fail "mounted MOUNTPOINT: '$OUT'"
		umount "$TMP/ext2" || fail "umount $TMP/ext2"
	fi
	ctl_fails "failed to reset: Device or resource busy" \
		--reset "$MNT/zram1"
	losetup -d "$LOOP" || fail "losetup -d $LOOP"
	pass "MOUNTPOINT column ([SWAP] and mounted)"
else
	log "no loop device: MOUNTPOINT column not checked"
fi

# ---- --find, -s on a data file, --reset ----------------------------------

mount_zramfs "$MNT2" -o devices=2

ctl_ok --json "$MNT2"
[ "$(words "$OUT")" = '{ "zramdevices": [] }' ] || fail "empty JSON: '$OUT'"
ctl_ok "$MNT2"
[ -z "$OUT" ] || fail "no initialised device, yet printed '$OUT'"

ctl_ok --find --size 64M --algorithm zstd "$MNT2"
[ "$OUT" = "$MNT2/zram0" ] || fail "--find printed '$OUT'"
[ "$(attr "$MNT2" zram0 disksize)" = 67108864 ] || fail "zram0 disksize"
[[ $(attr "$MNT2" zram0 comp_algorithm) == *"[zstd]"* ]] ||
	fail "zram0 algorithm: $(attr "$MNT2" zram0 comp_algorithm)"
[ "$(stat -c %s "$MNT2/zram0")" = 67108864 ] || fail "zram0 st_size"

ctl_ok -f -s 1.5M -a lz4hc "$MNT2"
[ "$OUT" = "$MNT2/zram1" ] || fail "second --find printed '$OUT'"
[ "$(attr "$MNT2" zram1 disksize)" = 1572864 ] || fail "zram1 disksize"
[[ $(attr "$MNT2" zram1 comp_algorithm) == *"[lz4hc]"* ]] ||
	fail "zram1 algorithm"
pass "--find picks the first free device"

# Every device initialised: --find hot-adds one.
ctl_ok --find --size 32M --algorithm zstd --algorithm-params level=3 "$MNT2"
[ "$OUT" = "$MNT2/zram2" ] || fail "--find with no free device: '$OUT'"
[ -d "$MNT2/control/zram2" ] || fail "zram2 was not added"
[ "$(attr "$MNT2" zram2 disksize)" = 33554432 ] || fail "zram2 disksize"
[[ $(attr "$MNT2" zram2 comp_algorithm) == *"[zstd]"* ]] ||
	fail "zram2 algorithm"
ctl_ok -f "$MNT2"
[ "$OUT" = "$MNT2/zram3" ] || fail "--find without --size: '$OUT'"
[ "$(attr "$MNT2" zram3 disksize)" = 0 ] || fail "zram3 was initialised"
pass "--find hot-adds a device when none is free"

# -s on a given data file re-initialises that device.
ctl_ok -s 8M -a lz4 "$MNT2/zram1"
[ -z "$OUT" ] || fail "-s FILE printed '$OUT'"
[ "$(attr "$MNT2" zram1 disksize)" = 8388608 ] || fail "zram1 not 8M"
[[ $(attr "$MNT2" zram1 comp_algorithm) == *"[lz4]"* ]] ||
	fail "zram1 not lz4"
# A size of 0 or an unknown algorithm fails before the reset: the device
# keeps its data.
head -c 4096 "$TMP/data" > "$TMP/page"
dd if="$TMP/page" of="$MNT2/zram1" conv=notrunc status=none || fail "page"
ctl_fails "failed to set disksize (0 bytes): Invalid argument" \
	-s 0 "$MNT2/zram1"
ctl_fails "failed to set algorithm lzo: Invalid argument" \
	-s 1M -a lzo "$MNT2/zram1"
[ "$(attr "$MNT2" zram1 disksize)" = 8388608 ] || fail "zram1 was reset"
cmp -n 4096 "$TMP/page" "$MNT2/zram1" || fail "zram1 lost its page"
pass "-s SIZE FILE"

ctl_ok --reset "$MNT2/zram1" "$MNT2/zram2"
[ -z "$OUT" ] || fail "--reset printed '$OUT'"
[ "$(attr "$MNT2" zram1 disksize)" = 0 ] || fail "zram1 not reset"
[ "$(attr "$MNT2" zram2 disksize)" = 0 ] || fail "zram2 not reset"
[ "$(attr "$MNT2" zram0 disksize)" = 67108864 ] || fail "zram0 was reset"
# A data file that is open cannot be reset; the other files still are.
write_attr "$MNT2/control/zram1/disksize" 4M || fail "zram1 4M"
exec 9<"$MNT2/zram0"
ctl_fails "$MNT2/zram0: failed to reset: Device or resource busy" \
	-r "$MNT2/zram0"
exec 9<&-
ctl_fails "$MNT2/nonexistent: No such file or directory" \
	-r "$MNT2/zram1" "$MNT2/nonexistent"
[ "$(attr "$MNT2" zram1 disksize)" = 0 ] || fail "zram1 not reset"
pass "--reset"

# ---- bad input: exit 1 and one line on stderr ---------------------------

ctl_fails "unknown column: SPEED" -o NAME,SPEED "$MNT"
ctl_fails "unknown column" --output "" "$MNT"
ctl_fails "failed to parse size: '12X'" --find --size 12X "$MNT2"
ctl_fails "failed to parse size: '1.5'" -f -s 1.5 "$MNT2"
ctl_fails "failed to parse size: '-1M'" -f -s -1M "$MNT2"
ctl_fails "failed to parse size: '99999E'" -f -s 99999E "$MNT2"
ctl_fails "$TMP/missing: No such file or directory" "$TMP/missing"
ctl_fails "$TMP/missing: No such file or directory" -f -s 1M "$TMP/missing"
ctl_fails "$TMP: not a zramfs mount point or data file" "$TMP"
ctl_fails "$TMP: not a zramfs mount point" --find "$TMP"
ctl_fails "not a zramfs data file" --reset "$MNT2"
ctl_fails "no data file specified" --reset
ctl_fails "failed to set algorithm lzo: Invalid argument" \
	-f -s 1M -a lzo "$MNT2"
ctl_fails "must be combined with --size" -a zstd "$MNT"
ctl_fails "mutually exclusive" -f -o NAME "$MNT2"
ctl_fails "mutually exclusive" -r -s 1M "$MNT2/zram1"
ctl_fails "unrecognized option '--frobnicate'" --frobnicate
ctl_fails "invalid option -- 'x'" -x
ctl_fails "requires an argument" --size
ctl_fails "--streams is not supported" -t 4 "$MNT"
pass "bad input: exit 1, one line"

# A mount whose daemon died is reported; the other paths are listed.
ctl_ok -n -o NAME "$MNT"
want=$OUT
kill_daemon "$MNT2"
rc=0
OUT=$(ctl -n -o NAME "$MNT2" "$MNT" 2>"$TMP/stderr") || rc=$?
[ "$rc" = 1 ] || fail "listing a dead mount: exit $rc"
[ "$OUT" = "$want" ] || fail "the live mount's devices: '$OUT', expected '$want'"
grep -q "^zramfsctl: $MNT2: " "$TMP/stderr" ||
	fail "the dead mount was not reported: $(cat "$TMP/stderr")"
fusermount3 -u "$MNT2" 2>/dev/null || umount -l "$MNT2"
pass "a dead mount is reported, the others listed"

ctl_ok --help
grep -q "^Usage:" <<< "$OUT" || fail "--help: '$OUT'"
grep -q "MEM-LIMIT" <<< "$OUT" || fail "--help lists no columns"
ctl_ok -V
[[ $OUT == "zramfsctl from zramfs "* ]] || fail "-V: '$OUT'"
pass "--help, --version"
