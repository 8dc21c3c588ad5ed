# kolmo assembly, ISA version 1
.arch sim-test 0x54e3aa06c596fc8e
.input x i8 [1,4] spad 0 0 0x0 0.0078707633056039877
.output y i16 [1,2] spad 0 0 0x80 6.1623610004272886e-05

.core 0 0
.spad 0x40
.byte 0xa5, 0x21, 0xba, 0x7f, 0xa5, 0x21, 0xba, 0x7f, 0x30, 0xe1, 0xa2, 0x4c
.spad 0x50
.byte 0x4e, 0x06, 0x00, 0x00, 0x65, 0xf3, 0xff, 0xff, 0x41, 0x05, 0x00, 0x00
.spad 0xb0
.byte 0x0e, 0x86, 0x02, 0x41, 0x0e, 0x86, 0x02, 0x41
.xbar 0 4 3 8
.row 64 -127 64
.row -32 95 42
.row 16 32 -21
.row 127 -64 127
.xbar 1 3 2 8
.row 127 -64
.row -127 32
.row 64 127
.layer r
	addi r1, r0, 112
	addi r2, r0, 0
	mvm.i8 r1, r2, 0, 8, gate
	wait 0x1
	addi r1, r0, 96
	addi r2, r0, 112
	addi r4, r0, 3
	vmov.i32.i32 r1, r2, r4
	addi r2, r0, 96
	addi r3, r0, 80
	vadd.i32 r1, r2, r3, r4
	addi r1, r0, 16
	addi r3, r0, 64
	vrq.i8.i32 r1, r2, r3, r4, 39
	addi r2, r0, 16
	vrelu.i8 r1, r2, r4
.endlayer
.layer y
	addi r1, r0, 208
	mvm.i8 r1, r2, 1, 8, gate
	wait 0x2
	addi r1, r0, 192
	addi r2, r0, 208
	addi r4, r0, 2
	vmov.i32.i32 r1, r2, r4
	addi r1, r0, 128
	addi r2, r0, 192
	addi r3, r0, 176
	vrq.i16.i32 r1, r2, r3, r4, 29
.endlayer
	halt
