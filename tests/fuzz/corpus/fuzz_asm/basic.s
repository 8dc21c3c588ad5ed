# basic.s: one core, every instruction class: a tiny KAN layer (2 inputs -> 8 outputs,
# uniform cubic splines on 8 basis functions per input) applied to 4 samples in a dbnz loop,
# followed by top-2 selection of the result.
#
# Scratchpad map (core t0.c0):
#   0x000 SBU descriptor (16 B)     0x040 basis LUT (64 x i8)     0x100 one sample (2 x i8)
#   0x180 MVM drive (16 x i8)       0x200 MVM result (8 x i32)    0x280 bias (8 x i8)
#   0x2c0 one requantised sample    0x300 y (8 x i8)              0x340 top-2 indices (2 x i32)
#   0x348 sum of y (i32)
# Tile memory (tile 0): 0x000 the samples x, 0x100 bias (from DRAM), 0x140 y copy.
# DRAM: 0x1000 bias, 0x2000 y copy.

.input  x   i8  [4,2] tilemem 0 0 0x0   0.0625
.output y   i8  [8]   spad    0 0 0x300 0.125
.output sel i32 [2]   spad    0 0 0x340 1

.dram 0x1000                    ; bias, 8 x i8
.byte 3, -2, 0, 5, 1, -4, 2, 0

.tmem 0 0x0                     ; the four samples of x
.byte 5, -3, 12, 40, -20, 7, 0, 33

.core 0 0
.spad 0x0                       ; SBU descriptor: t0, sh, k, nb, lut, reserved
.word -64
.byte 4, 3
.half 8
.word 0x40, 0
.spad 0x40                      ; N_r(u) x 127 for u = i/16, r = 0..3
.byte 21, 85, 21, 0, 17, 84, 25, 0, 14, 83, 30, 0, 11, 81, 35, 0
.byte 9, 78, 40, 0, 7, 74, 45, 1, 5, 70, 51, 1, 4, 66, 56, 2
.byte 3, 61, 61, 3, 2, 56, 66, 4, 1, 51, 70, 5, 1, 45, 74, 7
.byte 0, 40, 78, 9, 0, 35, 81, 11, 0, 30, 83, 14, 0, 25, 84, 17
.xbar 0 16 8 8                  ; [base | spline] weights: 2 inputs x 8 basis rows, 8 outputs
.row 37 -51 74 -104 -91 -80 59 -99
.row -19 -109 -84 94 86 -93 -5 -82
.row 89 -98 -65 -14 -97 75 -103 -15
.row -105 -60 20 86 -55 -68 29 -36
.row -76 -32 62 -79 -96 -98 -23 126
.row 90 32 110 104 57 25 -1 -36
.row -4 -87 25 125 47 101 19 -91
.row -68 86 -44 47 -51 122 87 -108
.row -89 32 46 51 126 105 -93 -81
.row 10 114 -95 -97 30 100 17 69
.row 49 -117 108 53 -42 -69 124 -98
.row -17 19 -62 -2 75 72 126 -87
.row -43 101 77 14 -58 92 14 84
.row 55 66 -10 -51 -86 -38 -51 -10
.row -9 -122 120 -35 6 16 -126 -54
.row 86 61 35 -64 -101 105 72 75

.layer setup
	addi r10, r0, 0x1000        # DRAM bias
	addi r11, r0, 0x100         # tile-memory bias
	addi r12, r0, 8             # vector length
	dld r11, r10, r12           # bias: DRAM -> tile memory, in the background
	addi r20, r0, 0x300
	vfill.i8 r20, r0, r12       # y = 0
	wait 0x10000                # DMA done
	addi r13, r0, 0x280
	tld r13, r11, r12           # bias: tile memory -> scratchpad
	addi r1, r0, 4              # samples
	addi r2, r0, 0              # tile-memory pointer
.endlayer
.layer kan1
loop:
	addi r3, r0, 0x100
	addi r4, r0, 2
	tld r3, r2, r4              # one sample
	addi r5, r0, 0x180
	addi r6, r0, 0
	sbu.i8.i8 r5, r3, r6, r4    # spline drive: 2 inputs x 8 basis values
	addi r7, r0, 0x200
	mvm.i8 r7, r5, 0, 8, gate   # row-gated MVM over the 16-row crossbar
	wait 0x1
	addi r8, r0, 0x2c0
	addi r9, r0, 1
	vrqs.i8.i32 r8, r7, r9, r12, 6
	vadd.i8 r8, r8, r13, r12    # + bias
	vrelu.i8 r8, r8, r12
	vmax.i8 r20, r20, r8, r12   # y = max over the samples
	addi r2, r2, 2
	dbnz r1, loop
.endlayer
.layer select
	addi r14, r0, 0x340
	addi r15, r0, 2
	topk.i8 r14, r20, r15, r12, r16
	vredsum.i8 r17, r20, r12
	sw r17, 0x348(r0)
	addi r18, r0, 0x140
	tst r20, r18, r12           # y -> tile memory
	addi r19, r0, 0x2000
	dst r18, r19, r12           # and on to DRAM
	wait 0x10000
	bar 0
	halt
.endlayer
