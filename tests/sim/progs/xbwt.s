# Bitline-transpose write: xbwt writes the two 3-element vectors at 0x100 as columns 0 and 1 of a
# programmed 3x2 MVMU, so W = [[1, 4], [2, 5], [3, -6]] (token-major K rows land as K^T), then
# mvm with input [1, -1, 2] gives [1 - 2 + 6, 4 - 5 - 12] = [5, -13]. Two column writes x 5 cycles;
# timing as for xbw (tests/sim/progs/xbw.s) with 3 rows: issue 3, busy to 13; mvm issues at 14,
# busy 13 + 26 -> 39; wait resumes at 40; halt 41.
# expect: cycles 41
# expect: spad 0.0 0x200 i32 = 5 -13
# expect: count xbar_write_col = 8
# expect: count xbar_write_row = 0
.core 0 0
.xbar 1 3 2 8
.row 0 0
.row 0 0
.row 0 0
.spad 0x100
.byte 1 2 3 4 5 -6
.spad 0x180
.byte 1 -1 2
	addi r1, r0, 0x100
	addi r2, r0, 2
	addi r3, r0, 0
	xbwt.i8 r3, r1, r2, 1
	addi r4, r0, 0x180
	addi r5, r0, 0x200
	mvm.i8 r5, r4, 1, 8
	wait 0x2
	halt
