# An endless loop stops at the cycle limit.
# set: max_cycles 1000
# expect: fault cycle limit of 1000 reached
.core 0 0
loop:
	jmp loop
