#!/bin/sh
# check_docs.sh OPS_DEF IR_MD: every IR_OP(name, ...) row of ops.def has a "### `name`" section
# in docs/ir.md.
ops=$(sed -n 's/^IR_OP(\([a-z_0-9]*\),.*/\1/p' "$1")
[ -n "$ops" ] || { echo "no ops found in $1"; exit 1; }
st=0
for op in $ops; do
	grep -q "^### \`$op\`" "$2" || { echo "docs/ir.md: op '$op' is not documented"; st=1; }
done
exit $st
