# Dynamic operands: xbw writes 2 rows into a programmed 2x2 MVMU (2 x 5 cycles = 10 on the unit),
# then mvm uses them. xbw issues at 3 (busy to 13); mvm stalls until 13, issues (14), busy 13 + L
# with L = 8 input cycles x max(3, ceil(2/2) x 1) + 2 = 26 -> 39; wait resumes at 40; halt 41.
# Weights [[1, -2], [3, 4]], input [5, -6]: out = [1*5 + 3*-6, -2*5 + 4*-6] = [-13, -34].
# expect: cycles 41
# expect: spad 0.0 0x200 i32 = -13 -34
# expect: count xbar_write_row = 8
.core 0 0
.xbar 1 2 2 8
.row 0 0
.row 0 0
.spad 0x100
.byte 1 -2 3 4
.spad 0x180
.byte 5 -6
	addi r1, r0, 0x100
	addi r2, r0, 2
	addi r3, r0, 0
	xbw.i8 r3, r1, r2, 1
	addi r4, r0, 0x180
	addi r5, r0, 0x200
	mvm.i8 r5, r4, 1, 8
	wait 0x2
	halt
