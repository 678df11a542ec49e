#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Stress: data I/O, control writes and statistics reads all at once on one
# mount (-o devices=2,size=64M), for STRESS_SECONDS (default 30) seconds.
#
#   data workers (4, two per device)  open zramN and hold it open
#       (exec {fd}<>), write a few pages of distinctive content at random
#       offsets of their own lane, read them back and compare, close. While
#       the file is open the device cannot be reset (EBUSY), so every page
#       read back during an open must be what was written during it. At the
#       start of the next open the pages of the previous one must read as
#       they were written or as zeros (a reset in between); nothing else.
#   control workers (2)  at random on zram0/zram1: reset (EBUSY allowed),
#       comp_algorithm lz4/zstd (EBUSY allowed), disksize 64M (EBUSY
#       allowed). After a successful reset the device is initialised again.
#   hot worker (1)  hot_add, disksize 16M, write and read back a page,
#       hot_remove while open (must be EBUSY), close, hot_remove (must
#       succeed), hot_remove again (must be ENODEV), open the removed
#       device's path (must be ENOENT).
#   stat readers (2)  read mm_stat, io_stat, bd_stat, debug_stat, disksize
#       of every device directory and check their exact formats; for a
#       hot-added device that vanishes under them ENOENT/ENODEV is allowed.
#
# Any other error (ENOTCONN, EIO, ...) or any data mismatch fails the test.
# Afterwards: the daemon is alive and answers, resets succeeded many times,
# no hot-added device is left, every device can be reset (no leaked open
# count) and its failed_reads/failed_writes are zero.

. "$(dirname "$0")/lib.sh"
require_fuse

DURATION=${STRESS_SECONDS:-30}
# Workers that are still running this long after DURATION are hung.
GRACE=60
PAGE=4096
DEV_MIB=64
HOT_MIB=16

make_test_dirs TMP
CTL=$MNT/control
ERRLOG=$TMP/errors
COUNTS=$TMP/counts
: > "$ERRLOG"
: > "$COUNTS"
head -c $PAGE /dev/zero > "$TMP/zero"

mount_zramfs "$MNT" -o devices=2,size=${DEV_MIB}M
PID=$(daemon_pid "$MNT") || fail "no zramfs process serves $MNT"

# Which of lz4/zstd this build offers (comp_algorithm lists them).
ALGOS=()
for a in lz4 zstd; do
	grep -qw "$a" "$CTL/zram0/comp_algorithm" && ALGOS+=("$a")
done
[ ${#ALGOS[@]} -gt 0 ] || fail "comp_algorithm offers neither lz4 nor zstd"

# The FUSE connection of MOUNTPOINT, to abort it if the daemon hangs.
fuse_abort() {
	local conn
	conn=$(mountpoint -d "$1" 2>/dev/null) || return 0
	conn=${conn#*:}
	[ -w "/sys/fs/fuse/connections/$conn/abort" ] &&
		echo 1 > "/sys/fs/fuse/connections/$conn/abort"
}

WORKERS=()
kill_workers() {
	local p alive=0
	for p in "${WORKERS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${WORKERS[@]}"; do
		kill -0 "$p" 2>/dev/null && alive=1
	done
	# A worker stuck in a FUSE request cannot be killed: free it.
	[ $alive = 1 ] && fuse_abort "$MNT"
	wait 2>/dev/null
}
at_exit kill_workers

# ---- helpers run inside the workers -----------------------------------------

# bad TEXT: records an unexpected error or mismatch (one line, appended).
bad() {
	printf '%s\n' "$*" >> "$ERRLOG"
}

# The strerror text in bash's message for a failed redirection or echo.
errtext() {
	local msg=$1
	msg=${msg%%$'\n'*}
	printf '%s' "${msg##*: }"
}

# try_write FILE VALUE ERRFILE: echo VALUE > FILE; on failure sets ERR to
# the error text and returns 1.
try_write() {
	ERR=
	{ echo "$2" > "$1"; } 2> "$3" && return 0
	ERR=$(errtext "$(< "$3")")
	[ -n "$ERR" ] || ERR="failed without a message"
	return 1
}

# make_page FILE TEXT: a 4 KiB page made of TEXT repeated.
make_page() {
	local buf=$2
	while ((${#buf} < PAGE)); do
		buf+=$buf
	done
	printf '%s' "${buf:0:PAGE}" > "$1"
}

# put DATAFILE PAGE SRC ERRFILE / get DATAFILE PAGE DST ERRFILE: one page
# through a separate open of the data file (dd), never truncating.
put() {
	dd if="$3" of="$1" bs=$PAGE seek="$2" count=1 conv=notrunc \
		status=none 2> "$4"
}
get() {
	dd if="$1" of="$3" bs=$PAGE skip="$2" count=1 status=none 2> "$4" &&
		[ "$(stat -c %s "$3")" = $PAGE ]
}

# count NAME KEY VALUE: adds to the totals printed at the end.
count() {
	printf '%s %s %s\n' "$1" "$2" "$3" >> "$COUNTS"
}

# ---- workers ---------------------------------------------------------------

# check_open_pages VERB WRONG: data_worker's pages of this open (cur)
# must read back as written (want); each failure is reported with VERB
# (the read failed) or WRONG (other data). True when all of them did.
# Uses data_worker's locals.
check_open_pages() {
	local p ok=0
	for p in "${cur[@]}"; do
		if ! get "$file" "$p" "$rd" "$e"; then
			bad "$name: $1 $dev page $p: $(< "$e")"
			ok=1
		elif ! cmp -s "$rd" "${want[$p]}"; then
			bad "$name: $dev page $p $2"
			ok=1
		fi
	done
	return $ok
}

# data_worker NAME DEV LANE LANES: pages LANE, LANE+LANES, ... of DEV.
data_worker() {
	local name=$1 dev=$2 lane=$3 lanes=$4
	local file=$MNT/$dev e=$TMP/$name.err src=$TMP/$name.src
	local rd=$TMP/$name.rd fd ds p i n=0 opens=0 uninit=0 pages=0
	local zeroed=0 kept=0
	local -a prev=() cur=()
	local -A want=()
	local lane_pages=$(((DEV_MIB << 20) / PAGE / lanes))

	while ((SECONDS < END)); do
		if ! exec {fd}<>"$file" 2> "$e"; then
			bad "$name: open $file: $(< "$e")"
			sleep 0.1
			continue
		fi
		((opens++))
		# Held open from here: the device cannot be reset under us.
		if ! read -r ds < "$CTL/$dev/disksize" 2> "$e"; then
			bad "$name: read $dev/disksize: $(< "$e")"
		elif [ "$ds" = 0 ]; then
			((uninit++))
		elif [ "$ds" != $((DEV_MIB << 20)) ]; then
			bad "$name: $dev/disksize is '$ds' while open"
		else
			# The previous open's pages: as written, or zeros after
			# a reset in between.
			for p in "${prev[@]}"; do
				if ! get "$file" "$p" "$rd" "$e"; then
					bad "$name: read $dev page $p: $(< "$e")"
				elif cmp -s "$rd" "${want[$p]}"; then
					((kept++))
				elif cmp -s "$rd" "$TMP/zero"; then
					((zeroed++))
				else
					bad "$name: $dev page $p changed between opens" \
						"(neither written content nor zeros)"
				fi
			done
			# Two sets of content files: this open's and the last's.
			cur=()
			for ((i = 0; i < 3; i++)); do
				p=$(((RANDOM * 32768 + RANDOM) % lane_pages * lanes + lane))
				[[ " ${cur[*]} " == *" $p "* ]] && continue
				((n++))
				want[$p]=$src.$((opens % 2)).$i
				make_page "${want[$p]}" \
					"zramfs stress $name open $opens write $n page $p $RANDOM$RANDOM "
				if ! put "$file" "$p" "${want[$p]}" "$e"; then
					bad "$name: write $dev page $p: $(< "$e")"
					continue
				fi
				cur+=("$p")
			done
			check_open_pages "read back" "reads back different data while the file is open" &&
				((pages += ${#cur[@]}))
			# Once more, after the others: still ours while open.
			check_open_pages re-read "changed while the file is open"
			prev=("${cur[@]}")
		fi
		exec {fd}>&-
		# Leave gaps in which nobody holds the device open, so that
		# resets get their chance.
		sleep 0.$((RANDOM % 20 + 5))
	done
	count "$name" opens "$opens"
	count "$name" uninitialised "$uninit"
	count "$name" pages_verified "$pages"
	count "$name" kept_between_opens "$kept"
	count "$name" zeroed_between_opens "$zeroed"
}

# control_worker NAME: reset / comp_algorithm / disksize at random.
control_worker() {
	local name=$1 e=$TMP/$1.err dev op algo
	local resets=0 reset_busy=0 algos=0 algo_busy=0 inits=0 init_busy=0

	while ((SECONDS < END)); do
		dev=zram$((RANDOM % 2))
		op=$((RANDOM % 4))
		if [ $op -le 1 ]; then
			if try_write "$CTL/$dev/reset" 1 "$e"; then
				((resets++))
				# Initialise it again (someone else may be first).
				algo=${ALGOS[RANDOM % ${#ALGOS[@]}]}
				try_write "$CTL/$dev/comp_algorithm" "$algo" "$e" ||
					[ "$ERR" = "Device or resource busy" ] ||
					bad "$name: echo $algo > $dev/comp_algorithm after reset: $ERR"
				try_write "$CTL/$dev/disksize" ${DEV_MIB}M "$e" ||
					[ "$ERR" = "Device or resource busy" ] ||
					bad "$name: echo ${DEV_MIB}M > $dev/disksize after reset: $ERR"
			elif [ "$ERR" = "Device or resource busy" ]; then
				((reset_busy++))
			else
				bad "$name: echo 1 > $dev/reset: $ERR"
			fi
		elif [ $op = 2 ]; then
			algo=${ALGOS[RANDOM % ${#ALGOS[@]}]}
			if try_write "$CTL/$dev/comp_algorithm" "$algo" "$e"; then
				((algos++))
			elif [ "$ERR" = "Device or resource busy" ]; then
				((algo_busy++))
			else
				bad "$name: echo $algo > $dev/comp_algorithm: $ERR"
			fi
		else
			if try_write "$CTL/$dev/disksize" ${DEV_MIB}M "$e"; then
				((inits++))
			elif [ "$ERR" = "Device or resource busy" ]; then
				((init_busy++))
			else
				bad "$name: echo ${DEV_MIB}M > $dev/disksize: $ERR"
			fi
		fi
	done
	count "$name" resets "$resets"
	count "$name" reset_ebusy "$reset_busy"
	count "$name" comp_algorithm_set "$algos"
	count "$name" comp_algorithm_ebusy "$algo_busy"
	count "$name" disksize_set "$inits"
	count "$name" disksize_ebusy "$init_busy"
}

# hot_worker NAME: the only one adding and removing devices, so every
# outcome is deterministic.
hot_worker() {
	local name=$1 e=$TMP/$1.err src=$TMP/$1.src rd=$TMP/$1.rd
	local id fd file cycles=0 p

	while ((SECONDS < END)); do
		if ! read -r id < "$CTL/hot_add" 2> "$e"; then
			bad "$name: read hot_add: $(< "$e")"
			sleep 0.1
			continue
		fi
		case $id in
		'' | *[!0-9]*) bad "$name: hot_add returned '$id'"; continue ;;
		esac
		[ "$id" -ge 2 ] || bad "$name: hot_add returned $id, in use"
		file=$MNT/zram$id
		[ -d "$CTL/zram$id" ] && [ -f "$file" ] ||
			bad "$name: zram$id missing right after hot_add"
		try_write "$CTL/zram$id/disksize" ${HOT_MIB}M "$e" ||
			bad "$name: echo ${HOT_MIB}M > zram$id/disksize: $ERR"
		if exec {fd}<>"$file" 2> "$e"; then
			p=$((RANDOM % ((HOT_MIB << 20) / PAGE)))
			make_page "$src" "hot-added zram$id cycle $cycles $RANDOM "
			if ! put "$file" "$p" "$src" "$e"; then
				bad "$name: write zram$id page $p: $(< "$e")"
			elif ! get "$file" "$p" "$rd" "$e"; then
				bad "$name: read zram$id page $p: $(< "$e")"
			elif ! cmp -s "$rd" "$src"; then
				bad "$name: zram$id page $p reads back different data"
			fi
			if try_write "$CTL/hot_remove" "$id" "$e"; then
				bad "$name: hot_remove $id succeeded while open"
			elif [ "$ERR" != "Device or resource busy" ]; then
				bad "$name: hot_remove $id while open: $ERR"
			fi
			exec {fd}>&-
		else
			bad "$name: open $file: $(< "$e")"
		fi
		# The release of the dd opens and of ours is asynchronous:
		# EBUSY for a moment after close is zram's answer too.
		for ((p = 0; p < 100; p++)); do
			try_write "$CTL/hot_remove" "$id" "$e" && break
			[ "$ERR" = "Device or resource busy" ] || break
			sleep 0.02
		done
		if [ -n "$ERR" ]; then
			bad "$name: hot_remove $id: $ERR"
			continue
		fi
		((cycles++))
		if try_write "$CTL/hot_remove" "$id" "$e"; then
			bad "$name: hot_remove $id succeeded twice"
		elif [ "$ERR" != "No such device" ]; then
			bad "$name: second hot_remove $id: $ERR (expected No such device)"
		fi
		if exec {fd}<"$file" 2> "$e"; then
			exec {fd}<&-
			bad "$name: $file still opens after hot_remove"
		else
			ERR=$(errtext "$(< "$e")")
			[ "$ERR" = "No such file or directory" ] ||
				bad "$name: open of removed $file: $ERR"
		fi
	done
	count "$name" hot_add_remove_cycles "$cycles"
}

# check_stat NAME FILE KIND CONTENT: exact zram formats.
check_stat() {
	local name=$1 file=$2 kind=$3 s=$4 f
	read -r -a f <<< "$s"
	case $kind in
	mm_stat)
		[ ${#f[@]} = 9 ] &&
		[ "$s" = "$(printf '%8s %8s %8s %8s %8s %8s %8s %8s %8s' "${f[@]}")"$'\n' ] &&
		[[ "${f[*]}" =~ ^[0-9\ ]+$ ]] && ((f[0] % PAGE == 0)) ||
			bad "$name: $file: bad mm_stat $(printf %q "$s")"
		;;
	io_stat)
		[ ${#f[@]} = 4 ] && [ "${f[2]}" = 0 ] &&
		[ "$s" = "$(printf '%8s %8s 0 %8s' "${f[0]}" "${f[1]}" "${f[3]}")"$'\n' ] &&
		[[ "${f[*]}" =~ ^[0-9\ ]+$ ]] ||
			bad "$name: $file: bad io_stat $(printf %q "$s")"
		;;
	bd_stat)
		[ ${#f[@]} = 3 ] &&
		[ "$s" = "$(printf '%8s %8s %8s' "${f[@]}")"$'\n' ] &&
		[[ "${f[*]}" =~ ^[0-9\ ]+$ ]] ||
			bad "$name: $file: bad bd_stat $(printf %q "$s")"
		;;
	debug_stat)
		[[ "$s" =~ ^version:\ 1$'\n'0\ +([0-9]+)$'\n'$ ]] &&
		[ "$s" = "$(printf 'version: 1\n0 %8s' "${BASH_REMATCH[1]}")"$'\n' ] ||
			bad "$name: $file: bad debug_stat $(printf %q "$s")"
		;;
	disksize)
		case $file in
		*/zram[01]/disksize) [[ "$s" =~ ^(0|$((DEV_MIB << 20)))$'\n'$ ]] ;;
		*) [[ "$s" =~ ^(0|$((HOT_MIB << 20)))$'\n'$ ]] ;;
		esac || bad "$name: $file: unexpected disksize $(printf %q "$s")"
		;;
	esac
}

stat_reader() {
	local name=$1 e=$TMP/$1.err dir file kind s reads=0 vanished=0

	while ((SECONDS < END)); do
		for dir in "$CTL"/zram*; do
			for kind in mm_stat io_stat bd_stat debug_stat disksize; do
				file=$dir/$kind
				s=
				if { IFS= read -r -d '' s < "$file"; } 2> "$e" ||
				   [ ! -s "$e" ]; then
					check_stat "$name" "$file" "$kind" "$s"
					((reads++))
					continue
				fi
				ERR=$(errtext "$(< "$e")")
				case ${dir##*/}:$ERR in
				zram[01]:*)
					bad "$name: read $file: $ERR" ;;
				*:"No such file or directory" | *:"No such device")
					((vanished++)) ;;
				*)
					bad "$name: read $file: $ERR" ;;
				esac
			done
		done
		sleep 0.01
	done
	count "$name" stat_reads "$reads"
	count "$name" vanished_devices "$vanished"
}

# ---- run -------------------------------------------------------------------

log "stressing $MNT for ${DURATION}s (daemon $PID)"
START=$SECONDS
END=$((SECONDS + DURATION))
data_worker data0 zram0 0 2 & WORKERS+=($!)
data_worker data1 zram0 1 2 & WORKERS+=($!)
data_worker data2 zram1 0 2 & WORKERS+=($!)
data_worker data3 zram1 1 2 & WORKERS+=($!)
control_worker ctl0 & WORKERS+=($!)
control_worker ctl1 & WORKERS+=($!)
hot_worker hot & WORKERS+=($!)
stat_reader stat0 & WORKERS+=($!)
stat_reader stat1 & WORKERS+=($!)

# Bounded: workers stop by themselves at END; still running at END+GRACE
# means something hangs.
while ((SECONDS < END + GRACE)); do
	alive=0
	for p in "${WORKERS[@]}"; do
		kill -0 "$p" 2>/dev/null && alive=1
	done
	[ $alive = 0 ] && break
	sleep 0.5
done
if [ $alive = 1 ]; then
	ps -o pid,stat,wchan:32,cmd -p "$(IFS=,; echo "${WORKERS[*]}")" 2>/dev/null
	fail "workers still running ${GRACE}s after the end: daemon hung?"
fi
for p in "${WORKERS[@]}"; do
	wait "$p" || bad "worker $p exited with status $?"
done
log "workers done after $((SECONDS - START))s"

# Totals per counter, over all workers.
awk '{ sum[$2] += $3 } END { for (k in sum) printf "  %-24s %d\n", k, sum[k] }' \
	"$COUNTS" | sort
total() {
	awk -v k="$1" '$2 == k { s += $3 } END { print s + 0 }' "$COUNTS"
}

if [ -s "$ERRLOG" ]; then
	log "$(wc -l < "$ERRLOG") unexpected errors; the first ones:"
	head -20 "$ERRLOG"
	fail "unexpected errors or data mismatches under stress"
fi

# The daemon is alive and answers.
kill -0 "$PID" 2>/dev/null || fail "the daemon (pid $PID) is gone"
[ "$(daemon_pid "$MNT")" = "$PID" ] || fail "the daemon serving $MNT changed"
stat "$MNT/zram0" > /dev/null || fail "stat $MNT/zram0 fails after stress"
read -r s < "$CTL/zram0/initstate" || fail "cannot read zram0/initstate"

# Enough of everything really happened.
resets=$(total resets)
[ "$resets" -ge 10 ] || fail "only $resets successful resets"
[ "$(total pages_verified)" -ge 100 ] ||
	fail "only $(total pages_verified) pages verified"
[ "$(total hot_add_remove_cycles)" -ge 5 ] ||
	fail "only $(total hot_add_remove_cycles) hot_add/hot_remove cycles"
[ "$(total stat_reads)" -ge 100 ] ||
	fail "only $(total stat_reads) statistics read"

# No hot-added device left behind, none missing.
entries=$(cd "$CTL" && echo *)
[ "$entries" = "hot_add hot_remove zram0 zram1" ] ||
	fail "control/ holds '$entries' after stress"
entries=$(cd "$MNT" && echo *)
[ "$entries" = "control zram0 zram1" ] ||
	fail "$MNT holds '$entries' after stress"

# No open count leaked: every device can be reset now (the last releases
# are asynchronous, so allow them a moment), and no I/O failed.
for dev in zram0 zram1; do
	for ((i = 0; i < 50; i++)); do
		try_write "$CTL/$dev/reset" 1 "$TMP/final.err" && break
		[ "$ERR" = "Device or resource busy" ] ||
			fail "echo 1 > $dev/reset after stress: $ERR"
		sleep 0.1
	done
	[ -z "$ERR" ] || fail "$dev stays busy after every opener closed it"
	try_write "$CTL/$dev/disksize" ${DEV_MIB}M "$TMP/final.err" ||
		fail "echo ${DEV_MIB}M > $dev/disksize after reset: $ERR"
	dd if="$MNT/$dev" bs=1M count=1 status=none | cmp -s - <(head -c 1M /dev/zero) ||
		fail "$dev does not read zeros after reset"
done
kill -0 "$PID" 2>/dev/null || fail "the daemon (pid $PID) died at the end"

pass "$(total opens) opens, $resets resets, $(total pages_verified) pages verified, $(total hot_add_remove_cycles) hot_add/remove cycles, $(total stat_reads) stat reads in $((SECONDS - START))s"
