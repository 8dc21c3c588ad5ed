# Inputs must fit in the mvm's bit width.
# expect: fault mvm input 1 = 9 does not fit in 4 bits
.core 0 0
.xbar 0 2 2 8
.row 1 2
.row 3 4
.spad 0x100
.byte 1 9
	addi r1, r0, 0x100
	mvm.i8 r1, r1, 0, 4
	halt
