#!/bin/sh
# check_docs.sh HW_GEN DOC: each generated block of DOC (<!-- BEGIN hw_gen X --> .. <!-- END
# hw_gen X -->) must equal `HW_GEN X`.
set -eu
gen=$1
doc=$2
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
for sec in schema actions tech; do
	"$gen" "$sec" >"$want"
	sed -n "/^<!-- BEGIN hw_gen $sec -->\$/,/^<!-- END hw_gen $sec -->\$/p" "$doc" | sed '1d;$d' >"$have"
	if ! diff -u "$have" "$want"; then
		echo "docs/hwmodels.md is out of date: regenerate its '$sec' block with 'hw_gen $sec'" >&2
		exit 1
	fi
done
echo "3 passed, 0 failed"
