#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# From a fresh Debian machine to a full test run: installs dependencies,
# builds with -Werror and runs `make check` (unit and integration tests),
# then the unit tests and the daemon's data, io_uring, control,
# failing-backing-device and writeback-race tests again under
# AddressSanitizer and ThreadSanitizer,
# make distcheck (with the unit tests: the integration tests already ran
# on this build), and the parser fuzzer for a short while when clang can
# build it.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${ZRAMFS_BUILD:-"$src/build-test"}
"$src/contrib/install-deps.sh"

unit_tests="tests/check_attr tests/check_arena tests/check_core tests/check_writeback tests/check_recompress"
# The daemon itself under the sanitizers: every I/O path, both transports,
# every control file with its errors, and partial writes racing writeback.
daemon_tests="tests/data.sh tests/io-uring.sh tests/control.sh"
daemon_tests="$daemon_tests tests/backing-failure.sh tests/writeback-race.sh"

passed=0
failed=0
skipped=0

# run_check BUILDDIR [TESTS]: make check (all tests, or only TESTS),
# printing the logs of failures and adding up the results.
run_check() {
	local rc=0 trs
	if [ $# -gt 1 ]; then
		make -s -C "$1" check TESTS="$2" || rc=1
	else
		make -s -C "$1" check || rc=1
	fi
	for trs in "$1"/tests/*.trs; do
		case $(sed -n 's/^:test-result: //p' "$trs") in
		PASS) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*)
			failed=$((failed + 1))
			echo "==== ${trs%.trs}.log"
			tail -50 "${trs%.trs}.log"
			;;
		esac
	done
	return $rc
}

summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
}
trap summary EXIT

echo "== build (-Werror) and make check"
"$src/contrib/build.sh" "$out/plain" --enable-werror
run_check "$out/plain"

# A disksize far beyond memory must fail with ENOMEM (check_core): the
# sanitizers' allocators must return NULL then, as libc's does, not abort.
echo "== unit and daemon tests under AddressSanitizer"
"$src/contrib/build.sh" "$out/asan" --enable-sanitizer=address
export ASAN_OPTIONS="allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp print_suppressions=0"
run_check "$out/asan" "$unit_tests $daemon_tests"

echo "== unit and daemon tests under ThreadSanitizer"
"$src/contrib/build.sh" "$out/tsan" --enable-sanitizer=thread
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1"
run_check "$out/tsan" "$unit_tests $daemon_tests"

echo "== make distcheck (the tarball builds, installs and passes the unit tests)"
make -s -C "$out/plain" distcheck TESTS="$unit_tests" >"$out/distcheck.log" 2>&1 ||
	{ tail -40 "$out/distcheck.log"; exit 1; }
grep -A2 "archives ready" "$out/distcheck.log"

if command -v clang >/dev/null &&
   make -s -C "$out/plain" tests/fuzz_attr >/dev/null 2>&1; then
	echo "== parser fuzzer (30 s)"
	# A crash fails the run; a pipe into tail would hide its status.
	make -s -C "$out/plain" fuzz FUZZ_SECONDS=30 >"$out/fuzz.log" 2>&1 ||
		{ tail -40 "$out/fuzz.log"; exit 1; }
	tail -3 "$out/fuzz.log"
else
	echo "== parser fuzzer skipped: clang with libFuzzer not available"
fi
echo "all test stages passed"
