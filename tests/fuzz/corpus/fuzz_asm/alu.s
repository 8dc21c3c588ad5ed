# Scalar semantics: wrap-around, shifts, comparisons, memory round trip.
# expect: cycles 19
# expect: reg 0.0 r3 = -2147483648
# expect: reg 0.0 r4 = -1
# expect: reg 0.0 r5 = 2147483647
# expect: reg 0.0 r6 = 1
# expect: reg 0.0 r7 = -7
# expect: reg 0.0 r8 = 12
# expect: reg 0.0 r9 = -128
# expect: reg 0.0 r0 = 0
.core 0 0
	addi r1, r0, 0x7fffffff
	addi r2, r0, 1
	add r3, r1, r2        # wraps to INT32_MIN
	sra r4, r3, r31       # r31 = 0: no shift... then srai below
	srai r4, r3, 31       # -1
	srl r5, r4, r2        # 0x7fffffff
	slt r6, r3, r1        # 1
	addi r7, r0, -7
	max r8, r7, r0        # 0
	addi r8, r8, 12
	addi r10, r0, 0x80
	sw r7, 4(r10)
	lw r7, 4(r10)
	addi r11, r0, 0x180   # 0x80 as a byte at 0x80+8: sign-extended by lb
	sb r11, 8(r10)
	lb r9, 8(r10)
	addi r0, r0, 5        # writes to r0 are ignored
	nop
	halt
