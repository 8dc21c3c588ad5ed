# Tile 1 waits for a message nobody sends.
# expect: fault deadlock: 1 core(s) blocked forever (tile.core@pc: 1.0@1)
.core 0 0
	halt
.core 1 0
	nop
	recv 2, 0
	halt
