#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Bootstraps and builds zramfs out of tree: contrib/build.sh BUILDDIR
# [configure options...]. Prints nothing but errors unless V=1.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$src/build"}
[ $# -gt 0 ] && shift
[ -x "$src/configure" ] || "$src/autogen.sh" >/dev/null 2>&1
mkdir -p "$build"
cd "$build"
"$src/configure" -q "$@"
make -s -j"$(nproc)" >/dev/null
