#!/bin/sh
# run.sh: static analysis of kolmo's C sources with cppcheck (docs/hardening.md). Exits non-zero on
# any finding. Enabled: warning, style, performance, portability (error is always on); the
# suppressions, each with its reason, are in tools/cppcheck/suppressions.txt.
# One job: cppcheck's whole-program (ctu) checks run only then, so results do not depend on -j.
# Usage: sh tools/cppcheck/run.sh
set -eu
cd "$(dirname "$0")/../.."
command -v cppcheck >/dev/null || { echo "run.sh: cppcheck is not installed" >&2; exit 1; }
dirs="ir hwmodels compiler sim roofline dse tools"
inc=""
for d in $dirs rtl; do inc="$inc -I$d"; done
# shellcheck disable=SC2086
exec cppcheck --std=c11 --enable=warning,style,performance,portability --inline-suppr \
	--suppressions-list=tools/cppcheck/suppressions.txt --error-exitcode=1 --quiet \
	-D_POSIX_C_SOURCE=200809L $inc \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' $dirs rtl/*.c
