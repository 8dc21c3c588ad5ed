# DMA: 64 bytes from DRAM into tile memory at 8 B/cycle (8 cycles) + 20 cycles latency. dld issues
# at 3, the engine is busy until 31, wait resumes at 32; addi (33); tld of 64 bytes: 2 + 4 = 6
# (39); halt (40).
# expect: cycles 40
# expect: spad 0.0 0x0 i32 = 10 20 30 40 50 60 70 80 90 100 110 120 130 140 150 160
# expect: count dram_byte = 64
.dram 0x0
.word 10 20 30 40 50 60 70 80 90 100 110 120 130 140 150 160
.core 0 0
	addi r1, r0, 0x80
	addi r2, r0, 0
	addi r3, r0, 64
	dld r1, r2, r3
	wait 0x10000
	addi r4, r0, 0
	tld r4, r1, r3
	halt
