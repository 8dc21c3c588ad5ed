# DRAM far from the program's data (the simulator allocates DRAM as it is touched): four words
# from DRAM 0 go to the last 16 bytes of the 1 MiB DRAM and back into tile memory 0x100; the
# untouched middle of DRAM reads as zeros over the tile-memory words at 0x200.
# expect: tmem 0 0x100 i32 = 7 8 9 10
# expect: tmem 0 0x200 i32 = 0 0 0 0
# expect: count dram_byte = 64
.dram 0x0
.word 7 8 9 10
.tmem 0 0x200
.word 1 2 3 4
.core 0 0
	addi r1, r0, 0
	addi r2, r0, 0
	addi r3, r0, 16
	dld r1, r2, r3
	wait 0x10000
	addi r4, r0, 0xffff0
	dst r1, r4, r3
	wait 0x10000
	addi r5, r0, 0x100
	dld r5, r4, r3
	wait 0x10000
	addi r6, r0, 0x200
	addi r7, r0, 0x80000
	dld r6, r7, r3
	wait 0x10000
	halt
