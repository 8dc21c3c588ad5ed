# A message from tile 0 to tile 3 across the 2x2 mesh (X then Y: two links, 2 cycles per hop).
# 16 bytes = 1 + ceil(128/32) = 5 flits. send issues at 3, injects at 4: link 1 at 4, link 2 at
# 6, head arrives at 8, delivered at 8 + 5 = 13. Tile 3's core blocks in recv from cycle 0 and
# resumes at 14; 3 addi (17); tld of 16 bytes: 2 + ceil(16/16) = 3 (20); halt (21).
# expect: cycles 21
# expect: core 0.0 cycles 5
# expect: spad 3.0 0x0 i32 = 1 2 3 4
# expect: tmem 3 0x40 i32 = 1 2 3 4
# expect: count noc_flit_hop = 10
.tmem 0 0x0
.word 1 2 3 4
.core 0 0
	addi r1, r0, 0
	addi r2, r0, 0x40
	addi r3, r0, 16
	send r1, r2, r3, 3, 7
	halt
.core 3 0
	recv 0, 7
	addi r1, r0, 0x40
	addi r2, r0, 0
	addi r3, r0, 16
	tld r2, r1, r3
	halt
