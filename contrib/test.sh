#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# From a fresh Debian machine to a full test run: installs dependencies,
# builds with -Werror and runs `make check` (unit and integration tests),
# then the unit tests again under AddressSanitizer and ThreadSanitizer, and
# the parser fuzzer for a short while when clang can build it.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${ZRAMFS_BUILD:-"$src/build-test"}
"$src/contrib/install-deps.sh"

unit_tests="tests/check_attr tests/check_arena tests/check_core tests/check_writeback tests/check_recompress"

run_check() {
	# $1: build dir, $2: what to run (TESTS=... or empty for all)
	if ! make -s -C "$1" check $2; then
		for log in "$1"/tests/*.log; do
			case $log in *test-suite.log) continue ;; esac
			grep -q '^FAIL\|^ERROR' "${log%.log}.trs" 2>/dev/null &&
				{ echo "==== $log"; tail -50 "$log"; }
		done
		return 1
	fi
}

echo "== build (-Werror) and make check"
"$src/contrib/build.sh" "$out/plain" --enable-werror
run_check "$out/plain" ""

echo "== unit tests under AddressSanitizer"
"$src/contrib/build.sh" "$out/asan" --enable-sanitizer=address
run_check "$out/asan" "TESTS=$unit_tests"

echo "== unit tests under ThreadSanitizer"
"$src/contrib/build.sh" "$out/tsan" --enable-sanitizer=thread
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	run_check "$out/tsan" "TESTS=$unit_tests"

if command -v clang >/dev/null &&
   make -s -C "$out/plain" tests/fuzz_attr >/dev/null 2>&1; then
	echo "== parser fuzzer (30 s)"
	make -s -C "$out/plain" fuzz FUZZ_SECONDS=30 2>&1 | tail -3
else
	echo "== parser fuzzer skipped: clang with libFuzzer not available"
fi
echo "all test stages passed"
