# expect: fault unaligned 4-byte access at 0x102
.core 0 0
	addi r1, r0, 0x100
	sw r1, 2(r1)
	halt
