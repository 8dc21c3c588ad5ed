# A message nobody receives is an error, not silently dropped.
# expect: fault a message from tile 0 to tile 1 on channel 3 was sent but never received
.core 0 0
	addi r1, r0, 4
	send r0, r0, r1, 1, 3
	halt
