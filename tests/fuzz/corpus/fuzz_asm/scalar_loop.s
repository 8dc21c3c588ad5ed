# A counted loop: 2 set-up instructions, 10 iterations of (addi, dbnz); dbnz taken costs 2 cycles
# (1 + BRANCH_PENALTY), not taken 1; halt 1. 2 + 10 + 9*2 + 1 + 1 = 32.
# expect: cycles 32
# expect: reg 0.0 r2 = 30
# expect: reg 0.0 r1 = 0
# expect: count scalar_op = 22
.core 0 0
	addi r1, r0, 10
	addi r2, r0, 0
loop:
	addi r2, r2, 3
	dbnz r1, loop
	halt
