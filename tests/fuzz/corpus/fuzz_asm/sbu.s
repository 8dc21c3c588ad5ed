# The spline basis unit against the Cox-de Boor recursion: G=5, k=3 on [-1,1] with inputs at
# scale 1/80, so the knot spacing is 32 input units (sh = 5) and the first knot t0 = -176. The
# table holds the closed-form cubic segments N_r(u) x 4096; the expected drive comes from the
# recursion in exact arithmetic (x = -1, -0.5, 0, 0.3, 1, 1.5, -1.7, -1.9, 2.2, -2.2, 0.9875).
# sbu: 2 + 11 x ceil(8/8) = 13 cycles; 5 addi + 13 + halt = 19.
# expect: cycles 19
# expect: spad 0.0 0x400 i16 = 683 2731 683 0 0 0 0 0 0 288 2507 1291 11 0 0 0 0 0 85 1963 1963 85 0 0 0 0 0 288 2507 1291 11 0 0 0 0 0 0 683 2731 683 0 0 0 0 0 0 288 2507 1291 11 0 0 0 0 0 0 288 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 749 2727 621
# expect: count sbu_op = 44
.core 0 0
.spad 0x100
.word 4294967120
.byte 5 3
.half 8
.word 0x1000 0
.spad 0x200
.half -80 -40 0 24 80 120 -136 -152 176 -176 79
.spad 0x1000
.half 683 2731 683 0 621 2727 749 0 563 2715 818 0 508 2696 891 1 457 2671 967 1 410 2638 1045 3 366 2600 1125 5 326 2556 1207 7 288 2507 1291 11 253 2452 1375 15 222 2393 1460 21 193 2330 1545 28 167 2263 1631 36 143 2192 1715 46 122 2118 1799 57 102 2042 1882 70 85 1963 1963 85 70 1882 2042 102 57 1799 2118 122 46 1715 2192 143 36 1631 2263 167 28 1545 2330 193 21 1460 2393 222 15 1375 2452 253 11 1291 2507 288 7 1207 2556 326 5 1125 2600 366 3 1045 2638 410 1 967 2671 457 1 891 2696 508 0 818 2715 563 0 749 2727 621
	addi r1, r0, 0x400
	addi r2, r0, 0x200
	addi r3, r0, 0x100
	addi r4, r0, 11
	nop
	sbu.i16.i16 r1, r2, r3, r4
	halt
