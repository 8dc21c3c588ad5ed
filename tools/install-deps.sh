#!/bin/sh
# install-deps.sh: installs the Debian 12 packages kolmo needs, only those missing, non-interactively.
# Run as root (or with sudo available). Safe to run again: it does nothing when all are present.
set -eu

PKGS="cmake make gcc g++ pkg-config ca-certificates git binutils
verilator zlib1g-dev libelf-dev libgraphviz-dev check llvm-14-dev
libyaml-dev libjansson-dev libopenmpi-dev openmpi-bin gnuplot-nox
cppcheck protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata valgrind"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
