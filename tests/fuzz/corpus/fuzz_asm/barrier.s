# Barrier: core 1.0 arrives at 1 and waits; core 1.1 arrives last at 4; both resume at 5 and halt
# at 6.
# expect: cycles 6
# expect: core 1.0 cycles 6
# expect: core 1.1 cycles 6
# expect: reg 1.0 r1 = 5
.core 1 0
	addi r1, r0, 5
	bar 0
	halt
.core 1 1
	addi r1, r0, 1
	addi r1, r0, 2
	addi r1, r0, 3
	addi r1, r0, 4
	bar 0
	halt
