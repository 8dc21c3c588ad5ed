# Falling off the end of the code.
# expect: fault pc 1 is outside the program (1 instructions)
.core 0 0
	nop
