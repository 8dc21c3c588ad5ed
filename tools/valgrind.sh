#!/bin/sh
# valgrind.sh: valgrind memcheck over a fast, representative subset of the Check suites (IR,
# binary format, assembler, ISA, simulator, hardware models, limits, interpreter, compiler).
# Any memcheck error or leak fails it. .ci/run calls it after the README's test command.
#
#   sh tools/valgrind.sh [BUILD_DIR]      (default: build; the suites must be built there)
#
# Check runs in-process (CK_FORK=no) so that memcheck sees the tests themselves; a suite entry
# NAME:CASE runs only Check test case CASE of it (test_cc's small models; its large-model case
# takes minutes under memcheck). Two suites at a time; each log goes to BUILD_DIR/valgrind/.
# Suppressions for third-party code, if ever needed, go in tools/valgrind.supp.
set -eu
cd "$(dirname "$0")/.."

# run_one BUILD NAME[:CASE]: one suite; its status is memcheck's (1 on any error or definite or
# possible leak)
run_one() {
	name=${2%%:*}
	log="$1/valgrind/$name.log"
	set -- "$1" "$2" env CK_FORK=no
	case $2 in
	*:*)
		log="$1/valgrind/$name-${2#*:}.log"
		set -- "$@" CK_RUN_CASE="${2#*:}"
		;;
	esac
	build=$1 suite=$2
	shift 2
	if "$@" valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite,possible --suppressions=tools/valgrind.supp \
		"$build/tests/$name" >"$log" 2>&1; then
		echo "valgrind: $suite: ok"
	else
		echo "valgrind: $suite: FAILED (log: $log)"
		cat "$log"
		return 1
	fi
}

if [ "${1:-}" = "--one" ]; then
	run_one "$2" "$3"
	exit $?
fi
build=${1:-build}
suites="test_interp test_cc:compiler test_ir test_isa test_kelf test_kasm test_sim test_hw_arch
test_hw_energy test_hw_calib test_limits"
command -v valgrind >/dev/null || { echo "valgrind: not installed (tools/install-deps.sh)"; exit 1; }
for s in $suites; do
	[ -x "$build/tests/${s%%:*}" ] || { echo "valgrind: $build/tests/${s%%:*} is not built"; exit 1; }
done
mkdir -p "$build/valgrind"
start=$(date +%s)
# shellcheck disable=SC2086
if printf '%s\n' $suites | xargs -P 2 -I{} sh "$0" --one "$build" {}; then
	echo "valgrind: $(echo $suites | wc -w) suites clean in $(($(date +%s) - start)) s"
else
	echo "valgrind: errors (logs in $build/valgrind/)"
	exit 1
fi
