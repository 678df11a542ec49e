#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# From a fresh Debian machine to a compressed swap: installs the
# dependencies, builds and installs zramfs, then brings up swap with
# zramfs-swap's defaults (see contrib/zramfs-swap --help).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/contrib/install-deps.sh"
"$src/contrib/build.sh" "$src/build" --prefix=/usr/local
make -s -C "$src/build" install
"$src/contrib/zramfs-swap" up "$@"
"$src/contrib/zramfs-swap" status
