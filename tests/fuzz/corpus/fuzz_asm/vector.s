# vadd.i8 over 20 elements on 8 lanes: 2 + ceil(20/8) = 5 cycles, saturating; vredsum adds
# ceil(log2(8)) = 3 for the reduction tree: 8 cycles. 4 + 5 + 8 + 1 = 18.
# expect: cycles 18
# expect: spad 0.0 0x300 i8 = 121 122 123 124 125 126 127 127 127 127 127 127 127 127 127 127 127 127 127 127
# expect: reg 0.0 r5 = 2519
# expect: count vfu_op = 40
.core 0 0
.spad 0x100
.byte 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
.spad 0x200
.byte 120 120 120 120 120 120 120 120 120 120 120 120 120 120 120 120 120 120 120 120
	addi r1, r0, 0x100
	addi r2, r0, 0x200
	addi r3, r0, 0x300
	addi r4, r0, 20
	vadd.i8 r3, r1, r2, r4
	vredsum.i8 r5, r3, r4
	halt
