# expect: fault tile 0 core 0 pc 1 cycle 1 `lw r2, 4(r1)`: load: scratchpad access [0x10000, 0x10004) out of range
.core 0 0
	addi r1, r0, 0xfffc
	lw r2, 4(r1)
	halt
