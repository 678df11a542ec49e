#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what zramfs needs to build, run and test on Debian (as root).
set -eu

packages="build-essential autoconf automake libtool pkg-config \
	libfuse3-dev fuse3 liblz4-dev libzstd-dev liburcu-dev check \
	util-linux e2fsprogs python3 procps kmod zstd"
# Optional: clang and its fuzzer runtime for `make fuzz`; fio for the
# benchmark.
optional="clang libclang-rt-dev libclang-rt-14-dev fio"

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
for p in $optional; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "ok installed" && continue
	apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
		true
done
