#!/bin/sh
# check_docs.sh ISA_GEN DOC: the generated block of DOC must equal `ISA_GEN markdown`.
set -eu
gen=$1
doc=$2
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
"$gen" markdown >"$want"
sed -n '/^<!-- BEGIN isa_gen -->$/,/^<!-- END isa_gen -->$/p' "$doc" | sed '1d;$d' >"$have"
if ! diff -u "$have" "$want"; then
	echo "docs/isa.md is out of date: regenerate its table with 'isa_gen markdown'" >&2
	exit 1
fi
echo "1 passed, 0 failed"
