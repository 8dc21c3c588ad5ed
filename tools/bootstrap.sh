#!/bin/sh
# bootstrap.sh: from a fresh checkout to a built kolmo: installs missing Debian packages, then
# configures and builds into ./build (or $KOLMO_BUILD). Safe to run again; rebuilds incrementally.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
build=${KOLMO_BUILD:-build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$jobs"
