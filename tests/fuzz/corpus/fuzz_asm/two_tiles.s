# two_tiles.s: a 64 -> 4 matrix-vector product split over two tiles along the input
# (K-split): tile 0 computes the partial sum over x[0..32), sends it to tile 1, which adds its
# own partial sum over x[32..64) and leaves y in its tile memory.
#
# DRAM: 0x0 x (64 x i8). Tile memory: 0x0 x half, 0x100 partial sums (4 x i32), 0x200 y.
# Scratchpad: 0x0 x half (32 x i8), 0x100 partial (4 x i32), 0x180 received partial.

.input  x i8  [64] dram    0 0 0x0   0.05
.output y i32 [4]  tilemem 1 0 0x200 0.0005

.dram 0x0
.byte 2, 0, -74, 23, 62, 2, -85, -52, -83, -47, 12, -59, -72, -13, 53, -87
.byte -74, -100, 45, -62, 37, -75, -7, 57, -94, -82, -47, 57, -4, -62, 62, -36
.byte -12, 54, -7, 21, -69, -71, 24, 19, 22, 23, -21, -79, -64, -74, 91, -13
.byte 89, -33, 22, 77, -59, 32, -95, -48, 35, -8, -63, 76, 39, -94, 94, 35

.core 0 0
.xbar 0 32 4 8                  ; W[0..32)
.row 24 -82 5 59
.row -43 54 -14 40
.row -14 -29 -6 77
.row -12 -26 124 54
.row -114 -114 15 113
.row 4 -29 48 100
.row 50 58 -87 -16
.row -76 -12 112 -28
.row 44 -24 119 -128
.row 117 48 -85 -67
.row 70 -26 116 -37
.row 94 42 -84 74
.row 109 77 -85 -47
.row -41 -63 -114 -51
.row 110 -54 114 51
.row -49 -61 -118 -121
.row -76 -57 94 -29
.row -20 -114 0 -20
.row 21 -5 38 4
.row 86 -61 -97 53
.row 106 87 -62 -51
.row -119 97 -35 -126
.row -52 -40 -56 114
.row -67 -97 38 119
.row -74 -99 -1 -31
.row 13 -107 -78 103
.row -114 -96 98 38
.row -26 13 103 116
.row -2 4 -25 101
.row -58 85 -66 72
.row 98 33 -91 -5
.row 91 -91 -20 27
.layer fc_part0
	addi r1, r0, 0x0            # tile memory / DRAM / scratchpad base of x[0..32)
	addi r2, r0, 32
	dld r1, r1, r2              # x[0..32): DRAM 0x0 -> tile memory 0x0
	wait 0x10000
	tld r1, r1, r2              # -> scratchpad 0x0
	addi r3, r0, 0x100
	mvm.i8 r3, r1, 0, 8
	wait 0x1
	addi r4, r0, 16
	tst r3, r3, r4              # partial -> tile memory 0x100
	send r3, r3, r4, 1, 0       # -> tile 1's memory 0x100, channel 0
	halt
.endlayer

.core 1 0
.xbar 0 32 4 8                  ; W[32..64)
.row -66 -49 59 -55
.row 1 -58 111 -16
.row -80 75 121 -45
.row -14 -46 92 78
.row 45 87 -28 54
.row 35 -81 59 -119
.row 45 106 97 -119
.row 68 41 23 -96
.row -71 -11 -75 -85
.row 7 11 -108 -36
.row 10 -62 88 4
.row 79 -52 125 39
.row -83 14 -99 -35
.row 89 -91 9 -120
.row -83 5 -86 -15
.row -94 7 -66 104
.row -123 45 85 9
.row -62 -106 -6 -72
.row -46 6 -103 -36
.row -25 31 28 -23
.row 20 100 -37 10
.row 49 -119 0 -110
.row -121 -119 -31 115
.row -3 100 -74 93
.row 125 73 29 -18
.row -11 47 -27 -57
.row 79 49 -101 -62
.row -121 -92 2 92
.row -45 -100 -85 67
.row 16 -4 22 -105
.row 107 -34 -48 9
.row 100 -127 6 58
.layer fc_part1
	addi r1, r0, 0x0
	addi r5, r0, 32             # DRAM address of x[32..64)
	addi r2, r0, 32
	dld r1, r5, r2              # DRAM 0x20 -> tile memory 0x0
	wait 0x10000
	tld r1, r1, r2
	addi r3, r0, 0x100
	mvm.i8 r3, r1, 0, 8
	recv 0, 0                   # partial from tile 0 is in tile memory 0x100
	addi r4, r0, 16
	addi r6, r0, 0x180
	tld r6, r3, r4              # received partial -> scratchpad 0x180
	wait 0x1
	addi r7, r0, 4
	vadd.i32 r3, r3, r6, r7     # y = own partial + received partial
	addi r8, r0, 0x200
	tst r3, r8, r4              # y -> tile memory 0x200
	halt
.endlayer
