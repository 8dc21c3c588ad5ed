# The same mvm with 4-bit ADCs: partial sums need 6 bits, so each conversion drops 2 bits
# (round half up, clip at 15 << 2). Expected output from an independent bit-level model.
# set: mvmu.adc_bits 4
# expect: cycles 38
# expect: spad 0.0 0x200 i32 = 2760 7624 22812 7180 -12648 -1596 16404 -5932
.core 0 0
.xbar 0 16 8 8
.row 103 110 103 -31 -34 115 -33 -80
.row 100 27 -56 -82 -107 74 103 -48
.row -121 -96 -98 -110 -31 -5 -113 109
.row 39 97 -28 -9 22 127 -126 -85
.row 106 14 80 -86 2 33 -11 19
.row -113 -93 -73 77 -73 20 69 -94
.row -120 -128 -19 -21 -102 112 64 75
.row 86 -91 -27 10 44 -84 31 42
.row -121 81 -68 -60 -2 -77 -123 -98
.row 110 121 -38 -32 101 -31 -61 86
.row 68 -69 74 87 -20 -128 10 27
.row -118 -21 -33 73 -77 -107 -54 -19
.row 98 4 -124 40 23 69 -91 -90
.row -82 -22 -4 -121 60 62 104 -63
.row 119 -59 69 -35 -50 31 -12 -1
.row -31 -47 -28 70 119 -88 87 -104
.spad 0x100
.byte -75 0 -109 2 0 72 3 0 123 22 0 -93 -64 0 117 -91
	addi r1, r0, 0x100
	addi r3, r0, 0x200
	mvm.i8 r3, r1, 0, 8, gate
	wait 0x1
	halt
