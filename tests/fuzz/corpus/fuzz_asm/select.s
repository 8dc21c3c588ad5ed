# Selection unit. topk on [5 9 1 9 3 7] with k = 3: the two 9s (lower index first), then 7.
# topp on the first two rows of the SpargeAttn block-mask test vector (P x 10^4) with tau = 0.9
# (58982 / 65536): row 0 keeps {0, 1, 3}; row 1 keeps {1, 0}: the block whose cumulative sum
# first crosses tau is not included.
# Timing: n = 6 and n = 4 on 8 lanes: 2 + 1 x max(1, ceil(log2 n)) = 5 and 4 cycles.
# 7 addi + topk 5 + addi + topp 4 + 2 addi + topp 4 + halt 1 = 24
# expect: cycles 24
# expect: spad 0.0 0x300 i32 = 1 3 5
# expect: reg 0.0 r10 = 3
# expect: spad 0.0 0x400 i32 = 0 1 3
# expect: reg 0.0 r11 = 3
# expect: spad 0.0 0x500 i32 = 1 0
# expect: reg 0.0 r12 = 2
.core 0 0
.spad 0x100
.word 5 9 1 9 3 7
.spad 0x200
.word 4260 2437 1065 2238
.spad 0x220
.word 2504 4263 2256 976
	addi r1, r0, 0x100
	addi r2, r0, 0x300
	addi r3, r0, 3
	addi r4, r0, 6
	addi r5, r0, 0x200
	addi r6, r0, 0x400
	addi r7, r0, 58982
	topk.i32 r2, r1, r3, r4, r10
	addi r4, r0, 4
	topp.i32 r6, r5, r7, r4, r11
	addi r5, r0, 0x220
	addi r6, r0, 0x500
	topp.i32 r6, r5, r7, r4, r12
	halt
